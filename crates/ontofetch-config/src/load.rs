//! Loading: YAML → schema (unknown keys named) → `ONTOFETCH_*` environment → command-line
//! flags → config gate on every value → the [`Policy`] the other gates use.

use crate::env::Env;
use crate::error::ConfigError;
use crate::locate::line_of;
pub use crate::origin::Origin;
use crate::schema::{OntologySpec, SourcesFile};
use ontofetch_policy::config_gate as cg;
use ontofetch_policy::{Gate, GateObserver, NetPolicy, Policy, PolicyError, observed, url_gate};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// The embedded default spec (a few small OBO ontologies).
pub const BUILTIN_SOURCES: &str = include_str!("default_sources.yaml");
/// The example `ontofetch init` writes.
pub const TEMPLATE_SOURCES: &str = include_str!("template_sources.yaml");

/// Resolver names DocsToKG knows (the `prefer_source` / `resolver` vocabulary).
pub const RESOLVERS: &[&str] =
    &["obo", "bioregistry", "ols", "bioportal", "skos", "xbrl", "lov", "ontobee", "direct", "mirror"];

/// Formats accepted in `normalize_to` / `target_formats`.
pub const FORMATS: &[&str] = &[
    "owl",
    "obo",
    "ttl",
    "rdf",
    "rdfxml",
    "nt",
    "nq",
    "jsonld",
    "json",
    "obographs",
    "ofn",
    "owx",
    "omn",
    "skos",
    "xbrl",
];

/// Flags given on the command line: the last word in precedence.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--max-retries`.
    pub max_retries: Option<u32>,
    /// `--timeout-sec`.
    pub timeout_sec: Option<f64>,
    /// `--concurrent-downloads`.
    pub concurrent_downloads: Option<u32>,
    /// `--allowed-hosts` (appended, de-duplicated, order kept).
    pub allowed_hosts: Vec<String>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--target-formats` (replaces every spec's formats).
    pub target_formats: Option<Vec<String>>,
}

/// A loaded, validated configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Loaded {
    /// Where it came from.
    pub origin: Origin,
    /// The effective settings after every layer.
    pub config: SourcesFile,
    /// `ONTOFETCH_*` variables that were applied, with the key each set.
    pub env_overrides: BTreeMap<String, String>,
    /// Keys set by command-line flags.
    pub cli_overrides: Vec<String>,
    /// The policy for the gates.
    #[serde(skip)]
    pub policy: Policy,
}

impl Loaded {
    /// The formats to download, in order of preference: the spec's `target_formats`, else
    /// the formats it is normalised to (DocsToKG took a spec's formats from `normalize_to`).
    pub fn target_formats(&self, spec: &OntologySpec) -> Vec<String> {
        spec.target_formats.clone().unwrap_or_else(|| self.normalize_to(spec))
    }

    /// The renderings to write for one spec: its `normalize_to`, else
    /// `defaults.normalize_to`. A download preference (`target_formats`) never changes them,
    /// so `target_formats: [obo]` on one entry keeps the defaults' Turtle and canonical hash.
    pub fn normalize_to(&self, spec: &OntologySpec) -> Vec<String> {
        spec.normalize_to.clone().unwrap_or_else(|| self.config.defaults.normalize_to.clone())
    }

    /// The resolver for one spec: its own, else its `prefer_source[0]`, else the defaults'.
    pub fn resolver(&self, spec: &OntologySpec) -> String {
        spec.resolver
            .clone()
            .or_else(|| spec.prefer_source.as_ref().and_then(|p| p.first().cloned()))
            .or_else(|| self.config.defaults.prefer_source.first().cloned())
            .unwrap_or_else(|| "obo".into())
    }
}

/// "unknown field `max_retrie`; did you mean `max_retries`?" instead of serde's list of
/// every key the section has; the list stays when nothing is close.
fn unknown_field(field: &str, message: &str) -> String {
    let expected: Vec<&str> = message
        .split_once("expected one of ")
        .or_else(|| message.split_once("expected "))
        .map(|(_, list)| list.split(", ").map(|k| k.trim_matches('`')).filter(|k| !k.is_empty()).collect())
        .unwrap_or_default();
    let closest =
        expected.iter().map(|k| (strsim::levenshtein(field, k), *k)).filter(|(d, k)| *d <= 2.max(k.len() / 4)).min();
    match (closest, message.split_once("unknown field `")) {
        (Some((_, k)), Some((before, _))) => format!("{before}unknown field `{field}`; did you mean `{k}`?"),
        _ => message.to_string(),
    }
}

/// Parses YAML text into the schema; errors carry the file, line and key.
pub fn parse(origin: &Origin, text: &str) -> Result<SourcesFile, ConfigError> {
    let de = serde_norway::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, SourcesFile>(de).map_err(|e| {
        let mut key = e.path().to_string();
        let inner = e.inner();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        let mut message = message;
        if let Some(field) = message.split_once("unknown field `").and_then(|(_, r)| r.split('`').next()) {
            let field = field.to_string();
            if !key.ends_with(&field) {
                key = if key == "." || key.is_empty() { field.clone() } else { format!("{key}.{field}") };
            }
            message = unknown_field(&field, &message);
        }
        if key == "." {
            key = "(top level)".into();
        }
        let line = inner.location().map(|l| l.line()).or_else(|| line_of(text, &key));
        ConfigError::invalid(origin, line, key, message)
    })
}

/// Applies the `ONTOFETCH_*` variables of an environment snapshot (so tests never touch
/// the process environment); empty values count as unset.
pub fn apply_env(config: &mut SourcesFile, env: &Env) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut applied = BTreeMap::new();
    let origin = Origin::File(PathBuf::from("<environment>"));
    let bad = |var: &str, value: &str, what: &str| {
        ConfigError::invalid(&origin, None, var.to_string(), format!("{value:?} is not {what}"))
    };
    let http = &mut config.defaults.http;
    macro_rules! num {
        ($var:literal, $field:expr, $key:literal, $ty:ty) => {
            if let Some(v) = env.get($var) {
                $field = v.parse::<$ty>().map_err(|_| bad($var, v, "a number"))?;
                applied.insert($var.to_string(), $key.to_string());
            }
        };
    }
    num!("ONTOFETCH_MAX_RETRIES", http.max_retries, "defaults.http.max_retries", u32);
    num!("ONTOFETCH_TIMEOUT_SEC", http.timeout_sec, "defaults.http.timeout_sec", f64);
    num!("ONTOFETCH_DOWNLOAD_TIMEOUT_SEC", http.download_timeout_sec, "defaults.http.download_timeout_sec", f64);
    num!("ONTOFETCH_BACKOFF_FACTOR", http.backoff_factor, "defaults.http.backoff_factor", f64);
    num!(
        "ONTOFETCH_MAX_UNCOMPRESSED_SIZE_GB",
        http.max_uncompressed_size_gb,
        "defaults.http.max_uncompressed_size_gb",
        f64
    );
    num!("ONTOFETCH_CONCURRENT_DOWNLOADS", http.concurrent_downloads, "defaults.http.concurrent_downloads", u32);
    num!("ONTOFETCH_MAX_REDIRECTS", http.max_redirects, "defaults.http.max_redirects", u32);
    if let Some(v) = env.get("ONTOFETCH_PER_HOST_RATE_LIMIT") {
        http.per_host_rate_limit = v.to_string();
        applied.insert("ONTOFETCH_PER_HOST_RATE_LIMIT".into(), "defaults.http.per_host_rate_limit".into());
    }
    if let Some(v) = env.get("ONTOFETCH_SHARED_RATE_LIMIT_DIR") {
        http.shared_rate_limit_dir = Some(v.to_string());
        applied.insert("ONTOFETCH_SHARED_RATE_LIMIT_DIR".into(), "defaults.http.shared_rate_limit_dir".into());
    }
    if let Some(v) = env.get("ONTOFETCH_ALLOWED_HOSTS") {
        let list = http.allowed_hosts.get_or_insert_with(Vec::new);
        for h in v.split(',').map(str::trim).filter(|h| !h.is_empty()) {
            if !list.iter().any(|x| x == h) {
                list.push(h.to_string());
            }
        }
        applied.insert("ONTOFETCH_ALLOWED_HOSTS".into(), "defaults.http.allowed_hosts".into());
    }
    if let Some(v) = env.get("ONTOFETCH_CONTACT") {
        http.contact = Some(v.to_string());
        applied.insert("ONTOFETCH_CONTACT".into(), "defaults.http.contact".into());
    }
    if let Some(v) = env.get("ONTOFETCH_LOG_FORMAT") {
        config.defaults.logging.format = v.to_string();
        applied.insert("ONTOFETCH_LOG_FORMAT".into(), "defaults.logging.format".into());
    }
    if env.get("ONTOFETCH_LOG_DIR").is_some() {
        config.defaults.logging.file = true;
        applied.insert("ONTOFETCH_LOG_DIR".into(), "defaults.logging.file".into());
    }
    if let Some(v) = env.get("ONTOFETCH_CATALOG_URL") {
        config.defaults.storage.catalog_url = Some(crate::secret::SecretUrl::new(v));
        applied.insert("ONTOFETCH_CATALOG_URL".into(), "defaults.storage.catalog_url".into());
    }
    if let Some(v) = env.get("ONTOFETCH_SIGNING_KEY_FILE") {
        config.defaults.signing.key_file = Some(v.to_string());
        applied.insert("ONTOFETCH_SIGNING_KEY_FILE".into(), "defaults.signing.key_file".into());
    }
    if let Some(v) = env.get("ONTOFETCH_STORE_URL") {
        config.defaults.storage.store_url = Some(v.to_string());
        applied.insert("ONTOFETCH_STORE_URL".into(), "defaults.storage.store_url".into());
    }
    if let Some(v) = env.get("ONTOFETCH_STORE_RETRY_BUDGET_SEC") {
        config.defaults.storage.retry_budget_sec =
            v.trim().parse().map_err(|_| bad("ONTOFETCH_STORE_RETRY_BUDGET_SEC", v, "a number of seconds"))?;
        applied.insert("ONTOFETCH_STORE_RETRY_BUDGET_SEC".into(), "defaults.storage.retry_budget_sec".into());
    }
    if let Some(v) = env.get("ONTOFETCH_LOG_LEVEL") {
        config.defaults.logging.level = v.to_string();
        applied.insert("ONTOFETCH_LOG_LEVEL".into(), "defaults.logging.level".into());
    }
    if let Some(v) = env.get("ONTOFETCH_ENABLE_CAS_MIRROR") {
        config.defaults.enable_cas_mirror =
            parse_bool(v).ok_or_else(|| bad("ONTOFETCH_ENABLE_CAS_MIRROR", v, "a boolean (true/false)"))?;
        applied.insert("ONTOFETCH_ENABLE_CAS_MIRROR".into(), "defaults.enable_cas_mirror".into());
    }
    Ok(applied)
}

/// `1/true/yes/on` or `0/false/no/off`, any case.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Applies command-line flags; returns the keys they set.
pub fn apply_overrides(config: &mut SourcesFile, o: &Overrides) -> Vec<String> {
    let mut set = Vec::new();
    let http = &mut config.defaults.http;
    if let Some(v) = o.max_retries {
        http.max_retries = v;
        set.push("defaults.http.max_retries".into());
    }
    if let Some(v) = o.timeout_sec {
        http.timeout_sec = v;
        set.push("defaults.http.timeout_sec".into());
    }
    if let Some(v) = o.concurrent_downloads {
        http.concurrent_downloads = v;
        set.push("defaults.http.concurrent_downloads".into());
    }
    if !o.allowed_hosts.is_empty() {
        let list = http.allowed_hosts.get_or_insert_with(Vec::new);
        for h in &o.allowed_hosts {
            if !list.contains(h) {
                list.push(h.clone());
            }
        }
        set.push("defaults.http.allowed_hosts".into());
    }
    if let Some(v) = &o.log_level {
        config.defaults.logging.level = v.clone();
        set.push("defaults.logging.level".into());
    }
    if let Some(f) = &o.target_formats {
        for spec in &mut config.ontologies {
            spec.target_formats = Some(f.clone());
        }
        set.push("ontologies[*].target_formats".into());
    }
    set
}

/// Runs every value through the config gate (and resolver URLs through the url gate),
/// and builds the policy. The first refusal becomes a [`ConfigError`] with its line.
pub fn validate(
    origin: &Origin,
    text: &str,
    config: &mut SourcesFile,
    observer: &dyn GateObserver,
) -> Result<Policy, ConfigError> {
    let fail = |key: &str, e: PolicyError| {
        let message = match &e {
            PolicyError::Refused(r) => r.message.strip_prefix(&format!("{key}: ")).unwrap_or(&r.message).to_string(),
            PolicyError::GateFailed { .. } => e.to_string(),
        };
        ConfigError::invalid(origin, line_of(text, key), key.to_string(), message)
    };
    // Every wrong value is collected, not only the first: `config validate` reports them
    // all, so a file is fixed in one round.
    let errors: std::cell::RefCell<Vec<ConfigError>> = std::cell::RefCell::new(Vec::new());
    let gate = |key: &str, f: &dyn Fn() -> Result<(), ontofetch_policy::Refusal>| {
        if let Err(e) = observed(observer, Gate::Config, f) {
            errors.borrow_mut().push(fail(key, e));
        }
        Ok::<(), ConfigError>(())
    };
    let range = |key: &str, v: f64, lo: f64, hi: f64| gate(key, &|| cg::check_range(key, v, lo, hi));

    let d = &mut config.defaults;
    let h = &d.http;
    range("defaults.http.max_retries", h.max_retries as f64, 0.0, 20.0)?;
    range("defaults.http.timeout_sec", h.timeout_sec, 1.0, 300.0)?;
    range("defaults.http.download_timeout_sec", h.download_timeout_sec, 1.0, 3600.0)?;
    range("defaults.http.connect_timeout_sec", h.connect_timeout_sec, 0.1, 300.0)?;
    range("defaults.storage.retry_budget_sec", d.storage.retry_budget_sec, 0.0, 600.0)?;
    range("defaults.http.pool_timeout_sec", h.pool_timeout_sec, 0.1, 300.0)?;
    range("defaults.http.backoff_factor", h.backoff_factor, 0.1, 10.0)?;
    range("defaults.http.max_httpx_connections", h.max_httpx_connections as f64, 1.0, 1024.0)?;
    range("defaults.http.max_keepalive_connections", h.max_keepalive_connections as f64, 0.0, 1024.0)?;
    range("defaults.http.keepalive_expiry_sec", h.keepalive_expiry_sec, 0.0, 3600.0)?;
    range("defaults.http.max_uncompressed_size_gb", h.max_uncompressed_size_gb, 1e-6, 200.0)?;
    range("defaults.http.max_checksum_response_bytes", h.max_checksum_response_bytes as f64, 1024.0, 8.0 * 1048576.0)?;
    range("defaults.http.concurrent_downloads", h.concurrent_downloads as f64, 1.0, 10.0)?;
    range("defaults.http.concurrent_plans", h.concurrent_plans as f64, 1.0, 32.0)?;
    range("defaults.http.progress_log_percent_step", h.progress_log_percent_step, 0.001, 1.0)?;
    range("defaults.http.max_redirects", h.max_redirects as f64, 0.0, 20.0)?;
    range("defaults.http.checksum_mismatch_retries", h.checksum_mismatch_retries as f64, 0.0, 10.0)?;
    gate("defaults.http.per_host_rate_limit", &|| {
        cg::parse_rate_limit("defaults.http.per_host_rate_limit", &h.per_host_rate_limit).map(drop)
    })?;
    for (service, rate) in &h.rate_limits {
        let key = format!("defaults.http.rate_limits.{service}");
        gate(&key, &|| cg::parse_rate_limit(&key, rate).map(drop))?;
    }
    gate("defaults.http.rate_limiter", &|| {
        cg::check_one_of("defaults.http.rate_limiter", &h.rate_limiter, &["pyrate"])
    })?;
    let mut rules = Vec::new();
    for (i, entry) in h.allowed_hosts.iter().flatten().enumerate() {
        let key = format!("defaults.http.allowed_hosts[{i}]");
        match observed(observer, Gate::Config, || cg::check_host_entry(&key, entry)) {
            Ok(rule) => rules.push(rule),
            Err(e) => errors.borrow_mut().push(fail(&key, e)),
        }
    }
    for (i, port) in h.allowed_ports.iter().flatten().enumerate() {
        range(&format!("defaults.http.allowed_ports[{i}]"), *port as f64, 1.0, 65535.0)?;
    }
    for (i, server) in h.dns_servers.iter().enumerate() {
        let key = format!("defaults.http.dns_servers[{i}]");
        gate(&key, &|| match server.parse::<std::net::SocketAddr>() {
            Ok(_) => Ok(()),
            Err(_) => cg::structural(&key, format!("{server:?} is not an address like 10.0.0.53:53")),
        })?;
    }
    for (i, entry) in d.planner.head_precheck_hosts.iter().enumerate() {
        let key = format!("defaults.planner.head_precheck_hosts[{i}]");
        gate(&key, &|| cg::check_host_entry(&key, entry).map(drop))?;
    }
    let v = &d.validation;
    range("defaults.validation.parser_timeout_sec", v.parser_timeout_sec as f64, 1.0, 3600.0)?;
    range("defaults.validation.max_memory_mb", v.max_memory_mb as f64, 64.0, 1048576.0)?;
    range("defaults.validation.max_concurrent_validators", v.max_concurrent_validators as f64, 1.0, 8.0)?;
    range("defaults.validation.rdfc_max_mb", v.rdfc_max_mb as f64, 0.0, 65536.0)?;
    range("defaults.validation.rdfc_max_component", v.rdfc_max_component as f64, 1.0, 10_000_000.0)?;
    let level = d.logging.level.to_ascii_uppercase();
    gate("defaults.logging.level", &|| {
        cg::check_one_of("defaults.logging.level", &level, &["DEBUG", "INFO", "WARNING", "ERROR"])
    })?;
    d.logging.level = level;
    let format = d.logging.format.to_ascii_lowercase();
    gate("defaults.logging.format", &|| cg::check_one_of("defaults.logging.format", &format, &["text", "json"]))?;
    d.logging.format = format;
    range("defaults.logging.max_log_size_mb", d.logging.max_log_size_mb as f64, 1.0, 1048576.0)?;
    range("defaults.logging.retention_days", d.logging.retention_days as f64, 1.0, 3650.0)?;
    check_names(&gate, "defaults.prefer_source", &d.prefer_source, RESOLVERS)?;
    check_names(&gate, "defaults.normalize_to", &d.normalize_to, FORMATS)?;

    let net = NetPolicy {
        allowed_hosts: rules,
        allow_private_for_allowlist: h.allow_private_networks_for_host_allowlist,
        allow_plain_http_for_allowlist: h.allow_plain_http_for_host_allowlist,
        extra_ports: h.allowed_ports.clone().unwrap_or_default(),
        max_redirects: h.max_redirects as usize,
        ..NetPolicy::default()
    };

    let mut seen = HashSet::new();
    for (i, spec) in config.ontologies.iter().enumerate() {
        let key = format!("ontologies[{i}].id");
        gate(&key, &|| cg::check_ontology_id(&key, &spec.id))?;
        if !seen.insert(spec.id.clone()) {
            gate(&key, &|| cg::structural(&key, format!("duplicate ontology id {:?}", spec.id)))?;
        }
        if let Some(r) = &spec.resolver {
            let key = format!("ontologies[{i}].resolver");
            gate(&key, &|| cg::check_one_of(&key, r, RESOLVERS))?;
            // A resolver that downloads what the entry names needs the name.
            if matches!(r.as_str(), "direct" | "skos" | "xbrl") && !spec.extras.contains_key("url") {
                let key = format!("ontologies[{i}].extras.url");
                let why =
                    format!("the {r} resolver downloads extras.url; add `extras: {{url: https://…}}` to {:?}", spec.id);
                gate(&key, &|| cg::structural(&key, why.clone()))?;
            }
        }
        if let Some(list) = &spec.prefer_source {
            check_names(&gate, &format!("ontologies[{i}].prefer_source"), list, RESOLVERS)?;
        }
        for field in ["normalize_to", "target_formats"] {
            let list = if field == "normalize_to" { &spec.normalize_to } else { &spec.target_formats };
            if let Some(list) = list {
                check_names(&gate, &format!("ontologies[{i}].{field}"), list, FORMATS)?;
            }
        }
        for field in ["url", "checksum_url"] {
            if let Some(value) = spec.extras.get(field) {
                let key = format!("ontologies[{i}].extras.{field}");
                let Some(url) = value.as_str() else {
                    let e = ConfigError::invalid(origin, line_of(text, &key), key, "must be a string URL".into());
                    errors.borrow_mut().push(e);
                    continue;
                };
                if let Err(e) = observed(observer, Gate::Url, || url_gate::check_url(&net, url)) {
                    let code = ontofetch_policy::Coded::code(&e);
                    errors.borrow_mut().push(ConfigError::Refused {
                        file: origin.label(),
                        line: line_of(text, &key),
                        key: key.clone(),
                        message: format!("{url} is refused by the url gate ({code}): {e}"),
                        code,
                    });
                }
            }
        }
    }
    let mut errors = errors.into_inner();
    match errors.len() {
        0 => Ok(Policy { net, ..Policy::default() }),
        1 => Err(errors.remove(0)),
        _ => Err(ConfigError::Several(errors)),
    }
}

/// One config-gate check, run and reported under its key.
type GateFn<'a> = dyn Fn(&str, &dyn Fn() -> Result<(), ontofetch_policy::Refusal>) -> Result<(), ConfigError> + 'a;

fn check_names(gate: &GateFn<'_>, key: &str, names: &[String], allowed: &[&str]) -> Result<(), ConfigError> {
    for (i, name) in names.iter().enumerate() {
        let k = format!("{key}[{i}]");
        gate(&k, &|| cg::check_one_of(&k, name, allowed))?;
    }
    Ok(())
}

/// The whole load: parse, environment, flags, validation. `text` is the file content
/// (or [`BUILTIN_SOURCES`]).
pub fn load(
    origin: Origin,
    text: &str,
    env: &Env,
    overrides: &Overrides,
    observer: &dyn GateObserver,
) -> Result<Loaded, ConfigError> {
    let mut config = parse(&origin, text)?;
    let from_file = config.defaults.http.allowed_hosts.as_ref().is_some_and(|l| !l.is_empty());
    let env_overrides = apply_env(&mut config, env)?;
    let cli_overrides = apply_overrides(&mut config, overrides);
    let mut policy = validate(&origin, text, &mut config, observer)?;
    // Who set the allowlist, for the refusals it causes.
    let key = "defaults.http.allowed_hosts";
    let setters: Vec<String> = [
        from_file.then(|| match &origin {
            Origin::File(p) => p.display().to_string(),
            Origin::Builtin => "the built-in spec".to_string(),
        }),
        env_overrides.iter().find(|(_, k)| k.as_str() == key).map(|(var, _)| var.clone()),
        cli_overrides.iter().any(|k| k == key).then(|| "--allowed-hosts".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    policy.net.allowed_hosts_from = (!setters.is_empty()).then(|| setters.join(" and "));
    Ok(Loaded { origin, config, env_overrides, cli_overrides, policy })
}
