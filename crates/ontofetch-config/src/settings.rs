//! The settings layer: one call, [`Settings::resolve`], turns command-line flags, the
//! environment snapshot and the files (`sources.yaml`, the API key file) into everything a
//! command needs: data directories, the configuration and its policy, registry endpoints,
//! secrets, storage backends, logging, and the resolver chain of every ontology.

use crate::dirs::DataDirs;
use crate::env::Env;
use crate::error::ConfigError;
use crate::load::{BUILTIN_SOURCES, Loaded, Origin, Overrides, load};
use crate::schema::OntologySpec;
use ontofetch_policy::GateObserver;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The command-line layer.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--spec FILE`.
    pub spec: Option<PathBuf>,
    /// `--data-root DIR`.
    pub data_root: Option<PathBuf>,
    /// Use only the built-in defaults (`config show --defaults`).
    pub builtin_only: bool,
    /// Flags that override configuration values.
    pub overrides: Overrides,
}

/// Registry endpoints (overridable for mirrors and for tests on loopback; every URL built
/// from them still passes the gates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    /// OBO PURL base.
    pub obo: String,
    /// OLS4 base.
    pub ols: String,
    /// BioPortal API base.
    pub bioportal: String,
    /// Linked Open Vocabularies base.
    pub lov: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            obo: "https://purl.obolibrary.org/obo".into(),
            ols: "https://www.ebi.ac.uk/ols4".into(),
            bioportal: "https://data.bioontology.org".into(),
            lov: "https://lov.linkeddata.es/dataset/lov".into(),
        }
    }
}

impl Endpoints {
    /// Defaults, overridden by `ONTOFETCH_{OBO,OLS,BIOPORTAL,LOV}_BASE_URL`.
    pub fn from_env(env: &Env) -> Self {
        let d = Endpoints::default();
        let get = |k: &str, default: String| env.get(k).map(|v| v.trim_end_matches('/').to_string()).unwrap_or(default);
        Endpoints {
            obo: get("ONTOFETCH_OBO_BASE_URL", d.obo),
            ols: get("ONTOFETCH_OLS_BASE_URL", d.ols),
            bioportal: get("ONTOFETCH_BIOPORTAL_BASE_URL", d.bioportal),
            lov: get("ONTOFETCH_LOV_BASE_URL", d.lov),
        }
    }
}

/// Secrets resolvers may use. Never serialised in clear: `Serialize` masks them.
#[derive(Clone, Default)]
pub struct Secrets {
    /// BioPortal API key.
    pub bioportal_api_key: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets").field("bioportal_api_key", &self.bioportal_api_key.as_ref().map(|_| "***")).finish()
    }
}

impl Serialize for Secrets {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("bioportal_api_key", &self.bioportal_api_key.as_ref().map(|_| "***"))?;
        m.end()
    }
}

impl Secrets {
    /// `BIOPORTAL_API_KEY`, else `<configs>/bioportal_api_key.txt`.
    pub fn resolve(env: &Env, dirs: &DataDirs) -> Self {
        let file = std::fs::read_to_string(dirs.configs.join("bioportal_api_key.txt"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Secrets { bioportal_api_key: env.get("BIOPORTAL_API_KEY").map(str::to_string).or(file) }
    }
}

/// How to reach object storage: the standard `AWS_*` variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ObjectStoreEnv {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY` (never shown).
    pub secret_access_key: Option<String>,
    /// `AWS_SESSION_TOKEN` (never shown).
    pub session_token: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL` (its userinfo is never shown).
    pub endpoint: Option<crate::secret::SecretUrl>,
    /// `AWS_ALLOW_HTTP`.
    pub allow_http: bool,
}

impl std::fmt::Debug for ObjectStoreEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreEnv")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("allow_http", &self.allow_http)
            .finish_non_exhaustive()
    }
}

impl Serialize for ObjectStoreEnv {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mask = |v: &Option<String>| v.as_ref().map(|_| "***");
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("access_key_id", &self.access_key_id)?;
        m.serialize_entry("secret_access_key", &mask(&self.secret_access_key))?;
        m.serialize_entry("session_token", &mask(&self.session_token))?;
        m.serialize_entry("region", &self.region)?;
        m.serialize_entry("endpoint", &self.endpoint)?;
        m.serialize_entry("allow_http", &self.allow_http)?;
        m.end()
    }
}

impl ObjectStoreEnv {
    fn from_env(env: &Env) -> Self {
        let get = |k: &str| env.get(k).map(str::to_string);
        ObjectStoreEnv {
            access_key_id: get("AWS_ACCESS_KEY_ID"),
            secret_access_key: get("AWS_SECRET_ACCESS_KEY"),
            session_token: get("AWS_SESSION_TOKEN"),
            region: get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")),
            endpoint: get("AWS_ENDPOINT_URL").map(crate::secret::SecretUrl::new),
            allow_http: env.get("AWS_ALLOW_HTTP").and_then(crate::load::parse_bool).unwrap_or(false),
        }
    }
}

/// Where the catalog and the artifacts live (`None`: the embedded defaults under the data
/// root, which the store's layout names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Storage {
    /// `sqlite:PATH` or `postgresql://user@host:port/db`.
    pub catalog_url: Option<crate::secret::SecretUrl>,
    /// `file://DIR` or `s3://bucket/prefix`.
    pub store_url: Option<String>,
    /// How long one object-storage call keeps retrying.
    pub retry_budget: std::time::Duration,
    /// This worker's name in metrics and leases.
    pub worker_id: String,
    /// Object storage access.
    pub s3: ObjectStoreEnv,
}

/// How logs are written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Logging {
    /// DEBUG, INFO, WARNING or ERROR.
    pub level: String,
    /// `text` or `json` on stderr.
    pub format: String,
    /// Directory of the rotating JSON-lines log file, when one is written.
    pub file_dir: Option<PathBuf>,
    /// Days of log files kept.
    pub retention_days: u64,
    /// `NO_COLOR` is set: logs carry no colour even on a terminal.
    pub no_color: bool,
}

/// What to plan for one ontology: its spec after the configuration's defaults were
/// applied, with the resolver chain decided.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecInput {
    /// Ontology id.
    pub id: String,
    /// Resolvers to try, in order.
    pub chain: Vec<String>,
    /// Resolver settings (`url`, `acronym`, `checksum`, `checksum_url`, `version`, `license`…).
    pub extras: BTreeMap<String, Value>,
    /// Formats to download, in order of preference (which file a registry is asked for).
    pub target_formats: Vec<String>,
    /// Renderings to write after validation (`normalize_to`: Turtle, N-Triples, OWL…).
    pub normalize_to: Vec<String>,
}

/// Resolvers that take their URL from `extras.url`: the entry names its source itself (a
/// mirror entry never falls back to the registries: a mirror that fails verification must
/// fail the pull, not send it elsewhere).
const URL_RESOLVERS: &[&str] = &["direct", "skos", "xbrl", "mirror"];

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Data directories.
    pub dirs: DataDirs,
    /// The configuration after every layer, and the policy built from it.
    pub loaded: Loaded,
    /// Registry endpoints.
    pub endpoints: Endpoints,
    /// Credentials.
    pub secrets: Secrets,
    /// Storage backends.
    pub storage: Storage,
    /// Logging.
    pub logging: Logging,
    /// The User-Agent sent with every request.
    pub user_agent: String,
}

impl Settings {
    /// Where the signing key is: `defaults.signing.key_file` (relative to the data root),
    /// else `<data root>/keys/signing.key`. Only a file that exists signs.
    pub fn signing_key_file(&self) -> PathBuf {
        match &self.defaults().signing.key_file {
            Some(f) => self.dirs.root.join(f),
            None => self.dirs.root.join("keys").join("signing.key"),
        }
    }

    /// The `defaults` section after every layer (file, environment, flags): what the
    /// pipeline's steps read their behaviour from.
    pub fn defaults(&self) -> &crate::schema::Defaults {
        &self.loaded.config.defaults
    }

    /// How many ontologies a batch pulls at once (at least one).
    pub fn concurrent_downloads(&self) -> usize {
        self.defaults().http.concurrent_downloads.max(1) as usize
    }

    /// Only the data directories: `--data-root`, else `$PYSTOW_HOME/ontology-fetcher`, else
    /// `~/.data/ontology-fetcher`, made absolute against `cwd`.
    pub fn dirs(flags: &Flags, env: &Env, cwd: &Path) -> DataDirs {
        DataDirs::resolve(flags.data_root.as_deref(), env.get("PYSTOW_HOME"), env.get("HOME"), cwd)
    }

    /// Resolves every layer. The configuration is `--spec`, else `<configs>/sources.yaml`
    /// when present, else the built-in default spec; it passes the config gate (reported
    /// to `observer`).
    pub fn resolve(flags: &Flags, env: &Env, cwd: &Path, observer: &dyn GateObserver) -> Result<Settings, ConfigError> {
        let dirs = Settings::dirs(flags, env, cwd);
        let (origin, text) = source(flags, &dirs, cwd)?;
        let loaded = load(origin, &text, env, &flags.overrides, observer)?;
        let d = &loaded.config.defaults;
        let storage = Storage {
            catalog_url: d.storage.catalog_url.clone(),
            store_url: d.storage.store_url.clone(),
            retry_budget: std::time::Duration::from_secs_f64(d.storage.retry_budget_sec),
            worker_id: env
                .get("ONTOFETCH_WORKER_ID")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}-{}", env.get("HOSTNAME").unwrap_or("localhost"), std::process::id())),
            s3: ObjectStoreEnv::from_env(env),
        };
        let logging = Logging {
            level: d.logging.level.clone(),
            format: d.logging.format.clone(),
            file_dir: d
                .logging
                .file
                .then(|| env.get("ONTOFETCH_LOG_DIR").map(PathBuf::from).unwrap_or(dirs.logs.clone())),
            retention_days: d.logging.retention_days,
            no_color: env.get("NO_COLOR").is_some(),
        };
        let user_agent = user_agent(d.http.contact.as_deref());
        Ok(Settings {
            endpoints: Endpoints::from_env(env),
            secrets: Secrets::resolve(env, &dirs),
            storage,
            logging,
            user_agent,
            dirs,
            loaded,
        })
    }

    /// Headers sent with every request: `polite_headers`, with a User-Agent (and `From`
    /// for an e-mail contact) unless the configuration sets them itself.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        let http = &self.loaded.config.defaults.http;
        let mut headers: Vec<(String, String)> =
            http.polite_headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let has = |h: &[(String, String)], name: &str| h.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
        if !has(&headers, "user-agent") {
            headers.push(("User-Agent".into(), self.user_agent.clone()));
        }
        if let Some(email) = http.contact.as_deref().map(|c| c.trim_start_matches("mailto:"))
            && email.contains('@')
            && !email.contains('/')
            && !has(&headers, "from")
        {
            headers.push(("From".into(), email.to_string()));
        }
        headers
    }

    /// The planner input for `ids` (every configured ontology when empty). The chain is the
    /// entry's resolver, then (with fallback enabled) `defaults.prefer_source`. An entry
    /// that names its own URL (`direct`, `skos`, `xbrl` with `extras.url`) falls back only
    /// to resolvers it lists in its own `prefer_source`: the global chain would try
    /// unrelated registries by id and bury the real failure under theirs.
    pub fn spec_inputs(&self, ids: &[String], resolver_override: Option<&str>) -> Result<Vec<SpecInput>, ConfigError> {
        let loaded = &self.loaded;
        if ids.is_empty() {
            return Ok(loaded
                .config
                .ontologies
                .iter()
                .map(|s| self.spec_input(&s.id, Some(s), resolver_override))
                .collect());
        }
        ids.iter()
            .map(|id| {
                ontofetch_policy::config_gate::check_ontology_id("ontology id", id).map_err(|r| {
                    ConfigError::Invalid {
                        file: "<command line>".into(),
                        line: None,
                        key: "ids".into(),
                        message: r.message,
                    }
                })?;
                let spec = loaded.config.ontologies.iter().find(|s| &s.id == id);
                let first = resolver_override
                    .map(str::to_string)
                    .or_else(|| spec.map(|s| loaded.resolver(s)))
                    .or_else(|| loaded.config.defaults.prefer_source.first().cloned());
                if spec.is_none() && first.as_deref().is_some_and(|r| URL_RESOLVERS.contains(&r)) {
                    let known: Vec<&str> = loaded.config.ontologies.iter().map(|s| s.id.as_str()).collect();
                    return Err(ConfigError::Invalid {
                        file: "<command line>".into(),
                        line: None,
                        key: "ids".into(),
                        message: format!(
                            "{id:?} is not in {} (known: {}); add it there with its extras.url",
                            loaded.origin.label(),
                            if known.is_empty() { "none".to_string() } else { known.join(", ") }
                        ),
                    });
                }
                Ok(self.spec_input(id, spec, resolver_override))
            })
            .collect()
    }

    /// An ontology that is only a URL (Python's `ensure_url`, pystow's `ensure(key, url=…)`):
    /// the `direct` resolver with `extras.url`, the configured formats, no fallback. The
    /// URL passes every gate when it is planned and fetched, like any other.
    pub fn url_spec(&self, id: &str, url: &str) -> Result<SpecInput, ConfigError> {
        ontofetch_policy::config_gate::check_ontology_id("name", id).map_err(|r| ConfigError::Invalid {
            file: "<call>".into(),
            line: None,
            key: "name".into(),
            message: r.message,
        })?;
        Ok(SpecInput {
            id: id.to_string(),
            chain: vec!["direct".into()],
            extras: BTreeMap::from([("url".to_string(), serde_json::Value::String(url.to_string()))]),
            target_formats: self.defaults().normalize_to.clone(),
            normalize_to: self.defaults().normalize_to.clone(),
        })
    }

    /// An entry pulling `id` from another ontofetch mirror at `url`, verified under its
    /// verifier key `key` (Python's `ensure(id, mirror=…, key=…)`).
    pub fn mirror_spec(&self, id: &str, url: &str, key: &str) -> Result<SpecInput, ConfigError> {
        let mut spec = self.url_spec(id, url)?;
        spec.chain = vec!["mirror".into()];
        spec.extras.insert("key".into(), serde_json::Value::String(key.to_string()));
        Ok(spec)
    }

    fn spec_input(&self, id: &str, spec: Option<&OntologySpec>, resolver_override: Option<&str>) -> SpecInput {
        let loaded = &self.loaded;
        let d = &loaded.config.defaults;
        let first = resolver_override.map(str::to_string).unwrap_or_else(|| match spec {
            Some(s) => loaded.resolver(s),
            None => d.prefer_source.first().cloned().unwrap_or_else(|| "obo".into()),
        });
        let names_own_url =
            URL_RESOLVERS.contains(&first.as_str()) && spec.is_some_and(|s| s.extras.contains_key("url"));
        let fallbacks: Vec<String> = match (names_own_url, spec.and_then(|s| s.prefer_source.clone())) {
            _ if !d.resolver_fallback_enabled || resolver_override.is_some() => vec![],
            (true, own) => own.unwrap_or_default(),
            (false, _) => d.prefer_source.clone(),
        };
        let mut chain = vec![first];
        for r in fallbacks {
            if !chain.contains(&r) {
                chain.push(r);
            }
        }
        SpecInput {
            id: id.to_string(),
            chain,
            extras: spec.map(|s| s.extras.clone()).unwrap_or_default(),
            target_formats: spec.map(|s| loaded.target_formats(s)).unwrap_or_else(|| d.normalize_to.clone()),
            normalize_to: spec.map(|s| loaded.normalize_to(s)).unwrap_or_else(|| d.normalize_to.clone()),
        }
    }
}

/// `ontofetch/VERSION`, with the operator's contact when configured. It names no web page
/// of its own: there is none to name.
pub fn user_agent(contact: Option<&str>) -> String {
    let base = format!("ontofetch/{}", env!("CARGO_PKG_VERSION"));
    match contact.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => format!("{base} (+{c})"),
        None => base,
    }
}

fn source(flags: &Flags, dirs: &DataDirs, cwd: &Path) -> Result<(Origin, String), ConfigError> {
    let path = if flags.builtin_only {
        None
    } else {
        // `--spec`, else `./sources.yaml` (where `ontofetch init` writes it), else the data
        // root's `configs/sources.yaml` (DocsToKG's place), else the built-in spec.
        flags
            .spec
            .clone()
            .or_else(|| Some(cwd.join("sources.yaml")).filter(|p| p.is_file()))
            .or_else(|| Some(dirs.default_sources()).filter(|p| p.is_file()))
    };
    match path {
        None => Ok((Origin::Builtin, BUILTIN_SOURCES.to_string())),
        Some(p) => {
            let text = std::fs::read_to_string(&p).map_err(|e| ConfigError::Read {
                file: p.display().to_string(),
                message: format!("{e} (create one with `ontofetch init {}`)", p.display()),
            })?;
            Ok((Origin::File(p), text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_policy::NoObserver;

    fn settings(spec: &str, env: Env) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sources.yaml");
        std::fs::write(&p, spec).unwrap();
        let flags = Flags { spec: Some(p), data_root: Some(dir.path().join("root")), ..Flags::default() };
        Settings::resolve(&flags, &env, dir.path(), &NoObserver).unwrap()
    }

    #[test]
    fn chains_follow_the_entry() {
        let s = settings(
            "defaults:\n  prefer_source: [obo, ols]\nontologies:\n  - id: a\n  - id: b\n    resolver: direct\n    extras: {url: 'https://x.org/b.owl'}\n  - id: c\n    resolver: direct\n    prefer_source: [direct, ols]\n    extras: {url: 'https://x.org/c.owl'}\n  - id: d\n    resolver: bioportal\n",
            Env::default(),
        );
        let specs = s.spec_inputs(&[], None).unwrap();
        let chains: Vec<_> = specs.iter().map(|s| s.chain.join(",")).collect();
        assert_eq!(chains, ["obo,ols", "direct", "direct,ols", "bioportal,obo,ols"]);
        let one = s.spec_inputs(&["zzz".into()], Some("ols")).unwrap();
        assert_eq!(one[0].chain, ["ols"], "--resolver disables fallback");
        assert!(s.spec_inputs(&["../x".into()], None).is_err());
    }

    #[test]
    fn storage_endpoints_secrets_and_user_agent() {
        let s = settings(
            "defaults:\n  http:\n    contact: ops@example.org\nontologies: []\n",
            Env::from_pairs([
                ("ONTOFETCH_OLS_BASE_URL", "http://127.0.0.1:9/ols/"),
                ("BIOPORTAL_API_KEY", "k"),
                ("ONTOFETCH_STORE_URL", "s3://bucket/prefix"),
            ]),
        );
        assert_eq!(s.endpoints.ols, "http://127.0.0.1:9/ols");
        assert_eq!(s.endpoints.obo, Endpoints::default().obo);
        assert_eq!(s.storage.catalog_url, None, "the embedded default");
        assert_eq!(s.storage.store_url.as_deref(), Some("s3://bucket/prefix"));
        assert_eq!(serde_json::to_value(&s.secrets).unwrap()["bioportal_api_key"], "***");
        assert_eq!(format!("{:?}", s.secrets), "Secrets { bioportal_api_key: Some(\"***\") }");
        let headers = s.request_headers();
        assert!(
            headers.contains(&(
                "User-Agent".into(),
                format!("ontofetch/{} (+ops@example.org)", env!("CARGO_PKG_VERSION"))
            ))
        );
        assert!(headers.contains(&("From".into(), "ops@example.org".into())));
        assert_eq!(user_agent(None), format!("ontofetch/{}", env!("CARGO_PKG_VERSION")));
    }
}
