//! Loading sources.yaml end to end: compatibility, precedence, and errors that say where.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_config::{BUILTIN_SOURCES, ConfigError, Env, Origin, Overrides, TEMPLATE_SOURCES, load};
use ontofetch_policy::NoObserver;
use std::path::PathBuf;

fn origin() -> Origin {
    Origin::File(PathBuf::from("/cfg/sources.yaml"))
}

fn no_env() -> Env {
    Env::default()
}

fn try_load(text: &str) -> Result<ontofetch_config::Loaded, ConfigError> {
    load(origin(), text, &no_env(), &Overrides::default(), &NoObserver)
}

fn err(text: &str) -> (Option<usize>, String, String) {
    match try_load(text).unwrap_err() {
        ConfigError::Invalid { line, key, message, file } | ConfigError::Refused { line, key, message, file, .. } => {
            assert_eq!(file, "/cfg/sources.yaml");
            (line, key, message)
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn builtin_default_and_template_load() {
    let builtin = load(Origin::Builtin, BUILTIN_SOURCES, &no_env(), &Overrides::default(), &NoObserver).unwrap();
    let ids: Vec<_> = builtin.config.ontologies.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["bfo", "ro", "pato"]);
    assert_eq!(builtin.config.defaults.http.max_retries, 5, "built-in default");
    assert_eq!(builtin.resolver(&builtin.config.ontologies[0]), "obo");
    let template = try_load(TEMPLATE_SOURCES).unwrap();
    assert!(template.config.ontologies.len() >= 2);
}

#[test]
fn docstokg_shaped_file_is_accepted() {
    let text = "\
defaults:
  accept_licenses: [CC-BY-4.0]
  normalize_to: [ttl, obographs]
  prefer_source: [ols, obo]
  continue_on_error: false
  resolver_fallback_enabled: true
  http:
    max_retries: 3
    per_host_rate_limit: 2/second
    rate_limits: {ols: 1/second}
    allowed_hosts: [purl.obolibrary.org, '*.ebi.ac.uk', '127.0.0.1:8080']
    allowed_ports: [8443]
  planner:
    probing_enabled: false
    head_precheck_hosts: [.ebi.ac.uk]
  validation:
    parser_timeout_sec: 120
  logging:
    level: debug
ontologies:
  - id: hp
    resolver: ols
    extras: {acronym: HP}
  - id: go
    prefer_source: [obo]
    normalize_to: [ttl]
";
    let l = try_load(text).unwrap();
    assert_eq!(l.config.defaults.http.max_retries, 3);
    assert_eq!(l.config.defaults.logging.level, "DEBUG", "level is case-insensitive");
    assert_eq!(l.policy.net.allowed_hosts.len(), 3);
    assert_eq!(l.policy.net.extra_ports, vec![8443]);
    assert_eq!(l.resolver(&l.config.ontologies[1]), "obo");
    assert_eq!(l.target_formats(&l.config.ontologies[0]), ["ttl", "obographs"]);
    assert_eq!(l.target_formats(&l.config.ontologies[1]), ["ttl"]);
}

#[test]
fn unknown_keys_are_named_with_their_line() {
    let (line, key, message) = err("defaults:\n  http:\n    max_retriez: 3\nontologies: []\n");
    assert_eq!(key, "defaults.http.max_retriez");
    assert_eq!(line, Some(3));
    assert!(message.contains("unknown field `max_retriez`"), "{message}");
    let (_, key, _) = err("ontologies: []\nspecs: []\n");
    assert_eq!(key, "specs");
    let (line, key, _) = err("ontologies:\n  - id: hp\n    colour: blue\n");
    assert_eq!(key, "ontologies[0].colour");
    assert_eq!(line, Some(3));
    // the original's db/storage keys are rejected as before
    let (_, key, _) = err("defaults:\n  db: {path: x}\nontologies: []\n");
    assert_eq!(key, "defaults.db");
}

#[test]
fn wrong_types_and_missing_keys_say_where() {
    let (line, key, message) = err("defaults:\n  http:\n    max_retries: many\nontologies: []\n");
    assert_eq!((line, key.as_str()), (Some(3), "defaults.http.max_retries"));
    assert!(message.contains("invalid"), "{message}");
    let (_, key, message) = err("defaults: {}\n");
    assert!(message.contains("missing field `ontologies`"), "{key}: {message}");
}

#[test]
fn values_out_of_bounds_name_key_and_line() {
    let (line, key, message) = err("defaults:\n  http:\n    timeout_sec: 3\n    max_retries: 99\nontologies: []\n");
    assert_eq!((line, key.as_str()), (Some(4), "defaults.http.max_retries"));
    assert!(message.contains("99") && message.contains("0..=20"), "{message}");
    let (line, key, _) = err("defaults:\n  http:\n    per_host_rate_limit: fast\nontologies: []\n");
    assert_eq!((line, key.as_str()), (Some(3), "defaults.http.per_host_rate_limit"));
    let (_, key, _) = err("defaults:\n  logging:\n    level: LOUD\nontologies: []\n");
    assert_eq!(key, "defaults.logging.level");
    let (_, key, _) = err("defaults:\n  prefer_source: [obo, pypi]\nontologies: []\n");
    assert_eq!(key, "defaults.prefer_source[1]");
    let (line, key, _) =
        err("defaults:\n  http:\n    allowed_hosts:\n      - ok.org\n      - 'api.*.example.com'\nontologies: []\n");
    assert_eq!(key, "defaults.http.allowed_hosts[1]");
    assert_eq!(line, Some(5), "the offending list item itself");
}

#[test]
fn ontology_entries_are_gated() {
    let (line, key, _) = err("ontologies:\n  - id: bfo\n  - id: ../../etc\n");
    assert_eq!((line, key.as_str()), (Some(3), "ontologies[1].id"));
    let (_, key, message) = err("ontologies:\n  - id: bfo\n  - id: bfo\n");
    assert_eq!(key, "ontologies[1].id");
    assert!(message.contains("duplicate"));
    let (_, key, _) = err("ontologies:\n  - id: bfo\n    resolver: pypi\n");
    assert_eq!(key, "ontologies[0].resolver");
    let (_, key, _) = err("ontologies:\n  - id: bfo\n    target_formats: [owl, docx]\n");
    assert_eq!(key, "ontologies[0].target_formats[1]");
    let (line, key, message) = err(
        "ontologies:\n  - id: meta\n    resolver: direct\n    extras:\n      url: http://169.254.169.254/latest/\n",
    );
    assert_eq!(key, "ontologies[0].extras.url");
    assert_eq!(line, Some(5));
    assert!(message.contains("E_PRIVATE_IP"), "{message}");
}

#[test]
fn precedence_defaults_then_file_then_env_then_flags() {
    let text = "defaults:\n  http:\n    max_retries: 7\n    timeout_sec: 40\nontologies: []\n";
    let env_fn = Env::from_pairs([
        ("ONTOFETCH_MAX_RETRIES", "9"),
        ("ONTOFETCH_TIMEOUT_SEC", ""),
        ("ONTOFETCH_LOG_LEVEL", "warning"),
    ]);
    let file_only = try_load(text).unwrap();
    assert_eq!(file_only.config.defaults.http.max_retries, 7, "file beats default 5");
    let with_env = load(origin(), text, &env_fn, &Overrides::default(), &NoObserver).unwrap();
    assert_eq!(with_env.config.defaults.http.max_retries, 9, "env beats file");
    assert_eq!(with_env.config.defaults.http.timeout_sec, 40.0, "empty env value is unset");
    assert_eq!(with_env.config.defaults.logging.level, "WARNING");
    assert_eq!(
        with_env.env_overrides.get("ONTOFETCH_MAX_RETRIES").map(String::as_str),
        Some("defaults.http.max_retries")
    );
    let flags = Overrides { max_retries: Some(11), ..Overrides::default() };
    let with_flags = load(origin(), text, &env_fn, &flags, &NoObserver).unwrap();
    assert_eq!(with_flags.config.defaults.http.max_retries, 11, "flags beat env");
    assert_eq!(with_flags.cli_overrides, ["defaults.http.max_retries"]);
}

#[test]
fn env_errors_name_the_variable_and_env_values_are_gated() {
    let bad = Env::from_pairs([("ONTOFETCH_MAX_RETRIES", "lots")]);
    match load(origin(), "ontologies: []\n", &bad, &Overrides::default(), &NoObserver).unwrap_err() {
        ConfigError::Invalid { key, .. } => assert_eq!(key, "ONTOFETCH_MAX_RETRIES"),
        other => panic!("{other:?}"),
    }
    let high = Env::from_pairs([("ONTOFETCH_MAX_RETRIES", "500")]);
    let e = load(origin(), "ontologies: []\n", &high, &Overrides::default(), &NoObserver).unwrap_err();
    assert!(e.to_string().contains("defaults.http.max_retries"), "{e}");
}

#[test]
fn cas_mirror_and_target_formats_are_settable() {
    let l =
        try_load("defaults:\n  enable_cas_mirror: true\nontologies:\n  - id: bfo\n    target_formats: [owl, obo]\n")
            .unwrap();
    assert!(l.config.defaults.enable_cas_mirror);
    assert_eq!(l.target_formats(&l.config.ontologies[0]), ["owl", "obo"]);
    let env = Env::from_pairs([("ONTOFETCH_ENABLE_CAS_MIRROR", "false")]);
    let l = load(
        origin(),
        "defaults:\n  enable_cas_mirror: true\nontologies: []\n",
        &env,
        &Overrides::default(),
        &NoObserver,
    )
    .unwrap();
    assert!(!l.config.defaults.enable_cas_mirror);
    let flags = Overrides {
        target_formats: Some(vec!["ttl".into()]),
        allowed_hosts: vec!["127.0.0.1:9".into()],
        ..Overrides::default()
    };
    let l = load(origin(), "ontologies:\n  - id: bfo\n    target_formats: [owl]\n", &no_env(), &flags, &NoObserver)
        .unwrap();
    assert_eq!(l.target_formats(&l.config.ontologies[0]), ["ttl"]);
    assert_eq!(l.policy.net.allowed_hosts.len(), 1);
}

/// Every wrong value of a file is reported at once, each with its line and key, not only
/// the first; the first decides the code.
#[test]
fn every_error_in_a_file_is_reported() {
    let text = "defaults:\n  http:\n    max_retries: 99\n    timeout_sec: 0\n  logging:\n    format: xml\nontologies:\n  - id: 'bad id'\n";
    match try_load(text).unwrap_err() {
        ConfigError::Several(all) => {
            let keys: Vec<String> = all
                .iter()
                .map(|e| match e {
                    ConfigError::Invalid { key, line, .. } => {
                        assert!(line.is_some(), "{e}");
                        key.clone()
                    }
                    other => panic!("unexpected {other:?}"),
                })
                .collect();
            assert_eq!(
                keys,
                [
                    "defaults.http.max_retries",
                    "defaults.http.timeout_sec",
                    "defaults.logging.format",
                    "ontologies[0].id"
                ]
            );
            let shown = ConfigError::Several(all).to_string();
            assert!(shown.starts_with("4 errors:") && shown.contains("/cfg/sources.yaml:3:"), "{shown}");
        }
        other => panic!("expected several errors, got {other:?}"),
    }
}
