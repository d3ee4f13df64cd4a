//! Every environment variable ontofetch reads, declared in this one place. No other crate
//! reads the environment: the binary takes a snapshot with [`Env::from_process`] and hands
//! it to [`crate::Settings::resolve`]; tests build one with [`Env::from_pairs`].

use std::collections::BTreeMap;

/// One declared variable.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// What it sets (shown by `ontofetch config show` and in the docs).
    pub sets: &'static str,
}

const fn var(name: &'static str, sets: &'static str) -> EnvVar {
    EnvVar { name, sets }
}

/// Every variable the tool reads.
pub const VARS: &[EnvVar] = &[
    var("PYSTOW_HOME", "data root parent: $PYSTOW_HOME/ontology-fetcher (pystow, DocsToKG)"),
    var("HOME", "default data root parent: ~/.data/ontology-fetcher"),
    var("ONTOFETCH_MAX_RETRIES", "defaults.http.max_retries"),
    var("ONTOFETCH_TIMEOUT_SEC", "defaults.http.timeout_sec"),
    var("ONTOFETCH_DOWNLOAD_TIMEOUT_SEC", "defaults.http.download_timeout_sec"),
    var("ONTOFETCH_PER_HOST_RATE_LIMIT", "defaults.http.per_host_rate_limit"),
    var("ONTOFETCH_BACKOFF_FACTOR", "defaults.http.backoff_factor"),
    var("ONTOFETCH_SHARED_RATE_LIMIT_DIR", "defaults.http.shared_rate_limit_dir"),
    var("ONTOFETCH_MAX_UNCOMPRESSED_SIZE_GB", "defaults.http.max_uncompressed_size_gb"),
    var("ONTOFETCH_CONCURRENT_DOWNLOADS", "defaults.http.concurrent_downloads"),
    var("ONTOFETCH_MAX_REDIRECTS", "defaults.http.max_redirects"),
    var("ONTOFETCH_ALLOWED_HOSTS", "defaults.http.allowed_hosts (comma-separated, appended)"),
    var("ONTOFETCH_CONTACT", "defaults.http.contact (sent in User-Agent and From)"),
    var("ONTOFETCH_LOG_LEVEL", "defaults.logging.level"),
    var("ONTOFETCH_LOG_FORMAT", "defaults.logging.format (text or json)"),
    var("ONTOFETCH_LOG_DIR", "log file directory (turns the rotating log file on)"),
    var("ONTOFETCH_ENABLE_CAS_MIRROR", "defaults.enable_cas_mirror"),
    var("ONTOFETCH_CATALOG_URL", "defaults.storage.catalog_url (sqlite path or postgresql://…)"),
    var("ONTOFETCH_STORE_URL", "defaults.storage.store_url (file://DIR or s3://bucket/prefix)"),
    var("ONTOFETCH_STORE_RETRY_BUDGET_SEC", "defaults.storage.retry_budget_sec (object storage retries, seconds)"),
    var("ONTOFETCH_WORKER_ID", "this worker's name in metrics and leases (default: host name and pid)"),
    var("ONTOFETCH_SIGNING_KEY_FILE", "defaults.signing.key_file (the attestations' Ed25519 signing key)"),
    var("ONTOFETCH_OBO_BASE_URL", "OBO PURL base (mirrors, tests)"),
    var("ONTOFETCH_OLS_BASE_URL", "OLS4 base (mirrors, tests)"),
    var("ONTOFETCH_BIOPORTAL_BASE_URL", "BioPortal API base (mirrors, tests)"),
    var("ONTOFETCH_LOV_BASE_URL", "Linked Open Vocabularies base (mirrors, tests)"),
    var("BIOPORTAL_API_KEY", "the BioPortal API key (else configs/bioportal_api_key.txt)"),
    var("AWS_ACCESS_KEY_ID", "object storage access key"),
    var("AWS_SECRET_ACCESS_KEY", "object storage secret key"),
    var("AWS_SESSION_TOKEN", "object storage session token"),
    var("AWS_REGION", "object storage region"),
    var("AWS_DEFAULT_REGION", "object storage region (fallback)"),
    var("AWS_ENDPOINT_URL", "object storage endpoint (S3-compatible servers)"),
    var("AWS_ALLOW_HTTP", "allow a plain-http object storage endpoint"),
    var("HOSTNAME", "part of the default worker id"),
    var("NO_COLOR", "any value: no colour in logs, even on a terminal (no-color.org)"),
];

/// A snapshot of the declared variables (empty values count as unset).
#[derive(Debug, Clone, Default)]
pub struct Env {
    values: BTreeMap<&'static str, String>,
}

fn declared(name: &str) -> Option<&'static str> {
    VARS.iter().find(|v| v.name == name).map(|v| v.name)
}

impl Env {
    /// Reads every declared variable from the process environment.
    pub fn from_process() -> Self {
        Env::from_pairs(VARS.iter().filter_map(|v| Some((v.name, std::env::var(v.name).ok()?))))
    }

    /// An environment made of these pairs (tests, embedders). Undeclared names are a bug in
    /// the caller and panic, so the registry above stays complete.
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut values = BTreeMap::new();
        for (k, v) in pairs {
            let name = declared(k.as_ref()).unwrap_or_else(|| {
                panic!("environment variable {} is not declared in ontofetch-config's env.rs", k.as_ref())
            });
            let v: String = v.into();
            if !v.trim().is_empty() {
                values.insert(name, v.trim().to_string());
            }
        }
        Env { values }
    }

    /// A declared variable's value (trimmed, never empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        debug_assert!(declared(name).is_some(), "{name} is not declared in env.rs");
        self.values.get(name).map(String::as_str)
    }

    /// The names that are set, for reports (values are never printed: some are secrets).
    pub fn set_names(&self) -> Vec<&'static str> {
        self.values.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_declared_names_and_blank_means_unset() {
        let env = Env::from_pairs([("ONTOFETCH_MAX_RETRIES", " 3 "), ("HOME", "  ")]);
        assert_eq!(env.get("ONTOFETCH_MAX_RETRIES"), Some("3"));
        assert_eq!(env.get("HOME"), None);
        assert_eq!(env.set_names(), ["ONTOFETCH_MAX_RETRIES"]);
        let names: std::collections::HashSet<_> = VARS.iter().map(|v| v.name).collect();
        assert_eq!(names.len(), VARS.len(), "each variable declared once");
    }

    #[test]
    #[should_panic(expected = "not declared")]
    fn undeclared_names_are_refused() {
        let _ = Env::from_pairs([("SOMETHING_ELSE", "x")]);
    }
}
