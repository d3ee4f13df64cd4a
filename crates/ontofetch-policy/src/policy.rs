//! The policy values gates decide against. Built from configuration by `ontofetch-config`;
//! the defaults here are the safe ones a user gets with no configuration at all.

use crate::host::HostRule;

/// Everything the gates need to decide. Cheap to share by reference.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// URL, IP and redirect rules.
    pub net: NetPolicy,
    /// Archive entry rules.
    pub extraction: ExtractionPolicy,
    /// Path rules shared by the filesystem and extraction gates.
    pub paths: PathPolicy,
    /// Store write rules.
    pub storage: StoragePolicy,
}

/// Network egress rules (docs/architecture.md, "Network rules").
#[derive(Debug, Clone)]
pub struct NetPolicy {
    /// Allowlist; empty means every public host.
    pub allowed_hosts: Vec<HostRule>,
    /// Allowlisted *domains* may resolve to private addresses (IP/CIDR entries always may).
    pub allow_private_for_allowlist: bool,
    /// Allowlisted *domains* may be fetched over plain http (IP/CIDR entries always may).
    pub allow_plain_http_for_allowlist: bool,
    /// Ports allowed besides 80 and 443.
    pub extra_ports: Vec<u16>,
    /// Maximum redirect hops followed.
    pub max_redirects: usize,
    /// URLs longer than this are refused before parsing.
    pub max_url_len: usize,
    /// Documentation ranges (192.0.2/24, 2001:db8::/32, …) are refused unless this is set.
    pub allow_documentation_ranges: bool,
    /// Who set the allowlist (`/etc/ontofetch/sources.yaml`, `ONTOFETCH_ALLOWED_HOSTS`,
    /// `--allowed-hosts`): a refusal names it, so a user finds the list that refused them.
    pub allowed_hosts_from: Option<String>,
}

impl NetPolicy {
    /// ` (defaults.http.allowed_hosts, set by …)` for a refusal message.
    pub fn allowlist_origin(&self) -> String {
        match &self.allowed_hosts_from {
            Some(from) => format!(" (defaults.http.allowed_hosts, set by {from})"),
            None => String::new(),
        }
    }
}

impl Default for NetPolicy {
    fn default() -> Self {
        NetPolicy {
            allowed_hosts: Vec::new(),
            allow_private_for_allowlist: false,
            allow_plain_http_for_allowlist: false,
            extra_ports: Vec::new(),
            max_redirects: 5,
            max_url_len: 8192,
            allow_documentation_ranges: false,
            allowed_hosts_from: None,
        }
    }
}

impl NetPolicy {
    /// Whether an allowlisted domain may resolve to internal addresses on this port (the
    /// resolver needs this for each name it is asked about, without re-running the url gate).
    pub fn domain_allows_internal(&self, domain: &str, port: Option<u16>) -> bool {
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        self.allow_private_for_allowlist
            && self.allowed_hosts.iter().any(|r| r.matches_domain(domain) && r.port().is_none_or(|p| port == Some(p)))
    }

    /// The ports a host may be reached on: without an allowlist entry for it, 80, 443 and
    /// `allowed_ports`; with entries, the union over them: an entry with a port allows that
    /// port only, an entry without one the defaults.
    pub fn ports_for(&self, matching: &[&crate::host::HostRule]) -> Vec<u16> {
        let defaults = || [80, 443].into_iter().chain(self.extra_ports.iter().copied());
        if matching.is_empty() {
            return defaults().collect();
        }
        let mut ports: Vec<u16> = Vec::new();
        for r in matching {
            match r.port() {
                Some(p) => ports.push(p),
                None => ports.extend(defaults()),
            }
        }
        ports.sort_unstable();
        ports.dedup();
        ports
    }
}

/// Path shape rules (lexical; the caller supplies symlink facts).
#[derive(Debug, Clone)]
pub struct PathPolicy {
    /// Maximum bytes in the whole relative path.
    pub max_path_bytes: usize,
    /// Maximum bytes in one component (most filesystems: 255).
    pub max_component_bytes: usize,
    /// Maximum number of components.
    pub max_depth: usize,
}

impl Default for PathPolicy {
    fn default() -> Self {
        PathPolicy { max_path_bytes: 4096, max_component_bytes: 255, max_depth: 32 }
    }
}

/// Archive extraction caps (docs/architecture.md, "Archive rules").
#[derive(Debug, Clone)]
pub struct ExtractionPolicy {
    /// Maximum entries per archive.
    pub max_entries: u64,
    /// Maximum bytes one entry may produce.
    pub max_entry_bytes: u64,
    /// Maximum bytes all entries together may produce.
    pub max_total_bytes: u64,
    /// Maximum produced/compressed ratio, per entry and overall.
    pub max_ratio: f64,
    /// Ratios are only judged once an entry produced this many bytes (tiny files compress oddly).
    pub ratio_floor_bytes: u64,
    /// Maximum nesting depth (0 = no archive inside an archive).
    pub max_nesting: u32,
    /// Symlinks that stay inside the root are accepted when set (refused by default).
    pub allow_internal_symlinks: bool,
}

impl Default for ExtractionPolicy {
    fn default() -> Self {
        ExtractionPolicy {
            max_entries: 10_000,
            max_entry_bytes: 5 << 30,
            max_total_bytes: 10 << 30,
            max_ratio: 100.0,
            ratio_floor_bytes: 1 << 20,
            max_nesting: 1,
            allow_internal_symlinks: false,
        }
    }
}

/// Store write rules.
#[derive(Debug, Clone)]
pub struct StoragePolicy {
    /// Free bytes that must remain after a write.
    pub reserve_bytes: u64,
    /// Maximum length of an ontology id or version used as a directory name.
    pub max_segment_len: usize,
}

impl Default for StoragePolicy {
    fn default() -> Self {
        StoragePolicy { reserve_bytes: 64 << 20, max_segment_len: 128 }
    }
}
