//! The registry snapshot: what Bioregistry (CC0) says about every prefix a user may name —
//! its canonical prefix and synonyms, name, licence (SPDX), OBO Foundry membership and its
//! downloads per format. DocsToKG's `obo` resolver asked the Bioregistry package for
//! downloads; ontofetch ships a compact snapshot of the same data
//! (`data/bioregistry.json`, embedded at build time, made by `scripts/bioregistry-snapshot.sh`
//! from a pinned release) and reads a newer one from the data root when `registry update`
//! fetched it. Registry data is input like any other: every URL in it still passes the
//! gates when it is planned.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The snapshot built into the binary.
const EMBEDDED: &[u8] = include_bytes!("../data/bioregistry.json");

/// Where `registry update` keeps a fetched snapshot, under the data root.
pub const STORED: &str = "registry/bioregistry.json";

/// The compact format's name and version (first field of the file).
pub const FORMAT: &str = "ontofetch-registry/2";

/// Where a snapshot came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `bioregistry 0.15.6 (PyPI)`, or the URL a team's copy was fetched from.
    pub label: String,
    /// SHA-256 of the Bioregistry JSON the snapshot was derived from.
    pub sha256: String,
    /// Prefixes in it.
    pub prefixes: usize,
    /// The snapshot this one overlays (the built-in one), when it is an overlay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

/// One prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The canonical (Bioregistry) prefix, lower case, as users write it (`3dmet`).
    pub prefix: String,
    /// Bioregistry's own key when it is spelled otherwise (`_3dmet`: keys that would start
    /// with a digit), so a user can find the record there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bioregistry_prefix: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The spelling its community prefers (`NCBITaxon`, `EFO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_prefix: Option<String>,
    /// Other names users write for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// SPDX id where one fits, else the registry's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Which record stated the licence: `bioregistry` (its own curation) or the
    /// metaregistry it fell back to (`obofoundry`, `prefixcommons`, `bartoc`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_source: Option<String>,
    /// Listed by the OBO Foundry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub obo_foundry: bool,
    /// The OBO Foundry's id for it, which its PURLs are named by (`apollo_sv` for
    /// Bioregistry's `apollosv`, `kisao` for `biomodels.kisao`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obo_prefix: Option<String>,
    /// The OBO Foundry's status (`active`, `inactive`, `orphaned`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obo_status: Option<String>,
    /// Deprecated as the package's `is_deprecated` says: marked so by Bioregistry, else
    /// `deprecated` or `inactive` in a metaregistry.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deprecated: bool,
    /// Download URL by format (`owl`, `obo`, `rdf`, `skos`, `json`): what the package's
    /// `get_owl_download`, `get_obo_download`, `get_rdf_download`, `get_skos_download` and
    /// `get_json_download` answer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub downloads: BTreeMap<String, String>,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The version a registry last saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The snapshot this record came from when it is an overlay's (a team's curated file
    /// over the built-in snapshot); none for the built-in snapshot's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// The file an OBO PURL names for these wanted formats: `obo` when OBO comes first, else
/// `owl`.
pub fn purl_extension(wanted: &[String]) -> &'static str {
    if wanted.first().map(String::as_str) == Some("obo") { "obo" } else { "owl" }
}

/// The OBO PURL of `id` under `base` (the endpoint, a mirror in tests).
pub fn obo_purl(base: &str, id: &str, wanted: &[String]) -> String {
    format!("{base}/{id}.{}", purl_extension(wanted))
}

/// The file a PURL names under the OBO PURL base (`apollo_sv.owl`), on http or https.
fn purl_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"))?;
    rest.strip_prefix(&OBO_PURL_BASE["http://".len()..]).filter(|f| !f.is_empty() && !f.contains(['?', '#']))
}

/// What the `obo`/`bioregistry` resolvers fetch for a prefix the snapshot knows; the
/// resolver and `registry show` both ask this, so they cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// An OBO PURL: the registry's download is under the PURL base, so it is fetched from
    /// the configured `obo` endpoint (a mirror, or the PURL service itself).
    Purl {
        /// `owl`, `obo` or `json`.
        format: &'a str,
        /// The file under the base, named by the OBO Foundry id (`apollo_sv.owl`).
        file: &'a str,
    },
    /// The registry's download, in this format.
    Download {
        /// `owl`, `obo`, `rdf`, `skos` or `json`.
        format: &'a str,
        /// Where.
        url: &'a str,
    },
    /// Known, but no download to take.
    Nothing,
}

impl Route<'_> {
    /// The URL it fetches, with PURLs under `obo_base`.
    pub fn url(&self, obo_base: &str) -> Option<String> {
        match self {
            Route::Purl { file, .. } => Some(format!("{}/{file}", obo_base.trim_end_matches('/'))),
            Route::Download { url, .. } => Some(url.to_string()),
            Route::Nothing => None,
        }
    }

    /// How `registry show` names it.
    pub fn name(&self) -> &'static str {
        match self {
            Route::Purl { .. } => "obo-purl",
            Route::Download { .. } | Route::Nothing => "registry-download",
        }
    }
}

impl Entry {
    /// The route for these wanted formats: the download for the first of them the
    /// registry has, fetched through the `obo` endpoint when it is an OBO PURL.
    pub fn route(&self, wanted: &[String]) -> Route<'_> {
        match self.download_for(wanted) {
            Some((format, url)) => match purl_file(url) {
                Some(file) => Route::Purl { format, file },
                None => Route::Download { format, url },
            },
            None => Route::Nothing,
        }
    }

    /// The names Bioregistry resolves to it: its prefix, its key, its synonyms.
    fn names(&self) -> impl Iterator<Item = &String> {
        std::iter::once(&self.prefix).chain(self.bioregistry_prefix.iter()).chain(self.synonyms.iter())
    }

    /// The id OBO PURLs and Ontobee name it by: the OBO Foundry's id, else the prefix.
    pub fn obo_id(&self) -> &str {
        self.obo_prefix.as_deref().unwrap_or(&self.prefix)
    }

    /// The download for the first wanted format it has, else the first of owl, obo, rdf,
    /// skos, json: (format, URL).
    pub fn download_for(&self, wanted: &[String]) -> Option<(&str, &str)> {
        let order = wanted.iter().map(String::as_str).chain(["owl", "obo", "rdf", "skos", "json"]);
        for f in order {
            let key = if matches!(f, "rdfxml" | "ttl" | "nt") { "rdf" } else { f };
            if let Some((k, url)) = self.downloads.get_key_value(key) {
                return Some((k.as_str(), url.as_str()));
            }
        }
        None
    }
}

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// Not a Bioregistry JSON object, nor a compact snapshot.
    #[error("not a registry snapshot: {0}")]
    Invalid(String),
}

/// One name, one record: a record that names another's prefix (`"prefix": "go"` under
/// another key), synonym or preferred spelling would silently take its lookups, so it
/// refuses the snapshot (Bioregistry's own loader refuses the same collisions).
fn one_record_per_name<'a>(keyed: impl Iterator<Item = (&'a str, &'a Entry)>) -> Result<(), RegistryError> {
    let mut claimed: HashMap<String, &str> = HashMap::new();
    for (key, e) in keyed {
        for name in e.names().chain(e.preferred_prefix.iter()) {
            match claimed.insert(fold(name), key) {
                Some(other) if other != key => {
                    return Err(RegistryError::Invalid(format!(
                        "records {other:?} and {key:?} both claim the name {name:?}; a snapshot where one record \
                         could take another's lookups is refused"
                    )));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

impl ontofetch_policy::Coded for RegistryError {
    fn code(&self) -> ontofetch_policy::Code {
        // A snapshot that does not read is bad input, as a bad sources.yaml is.
        ontofetch_policy::Code::ConfigInvalid
    }
}

/// A loaded snapshot, indexed by every spelling of every prefix.
#[derive(Debug, Clone)]
pub struct Registry {
    /// Where it came from.
    pub source: Source,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

#[derive(Deserialize)]
struct Compact {
    format: String,
    source: Source,
    entries: Vec<Entry>,
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The metaregistries Bioregistry's getters fall back to, in its order
/// (`DEFAULT_METAPREFIX_PRIORITY`, written as the JSON keys the records use).
const METAREGISTRIES: [&str; 24] = [
    "obofoundry",
    "ols",
    "miriam",
    "wikidata.property",
    "go.resource",
    "ncbi.resource",
    "bioportal",
    "agroportal",
    "ecoportal",
    "n2t",
    "cellosaurus.resource",
    "cropoct",
    "cheminf",
    "edam.data",
    "prefixcommons",
    "rrid.resource",
    "bartoc",
    "lov",
    "tib.ts",
    "integbio",
    "aberowl",
    "re3data",
    "uniprot.resource",
    "biodivportal",
];

/// `first` ahead of the rest of [`METAREGISTRIES`] (the package's
/// `_get_prioritized_metaprefixes`).
fn prioritised<'a>(first: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    first.iter().copied().chain(METAREGISTRIES.iter().copied().filter(move |m| !first.contains(m)))
}

/// Where OBO Foundry PURLs live; a download under it is the PURL route.
pub const OBO_PURL_BASE: &str = "http://purl.obolibrary.org/obo/";

/// The URL of the first artifact of `kind` in a metaregistry record's `artifacts` list
/// (the package's `_get_download`).
fn artifact(record: &Value, kind: &str) -> Option<String> {
    record
        .get("artifacts")?
        .as_array()?
        .iter()
        .find(|a| a.get("type").and_then(Value::as_str) == Some(kind))
        .and_then(|a| a.get("url").and_then(Value::as_str).map(str::trim).filter(|u| !u.is_empty()).map(str::to_string))
}

/// A download the record itself states, as a URL or an annotated `{"url": …}`.
fn own_download(v: &Value, field: &str) -> Option<String> {
    text(v, &format!("/{field}")).or_else(|| text(v, &format!("/{field}/url")))
}

/// The package's download getters (`get_download_owl`, `…_obo`, `…_rdf`, `…_skos`,
/// `…_obograph`): the record's own field, else the first artifact of that kind in the
/// metaregistries, in the order that getter uses.
fn downloads_of(v: &Value) -> BTreeMap<String, String> {
    let from = |own: &str, first: &[&str], kind: &str| {
        own_download(v, own).or_else(|| prioritised(first).find_map(|m| v.get(m).and_then(|r| artifact(r, kind))))
    };
    let owl = from("download_owl", &["obofoundry", "ols", "cropoct", "aberowl", "tib.ts"], "owl")
        .or_else(|| v.pointer("/ols/version.iri").and_then(Value::as_str).map(str::to_string));
    let all = [
        ("owl", owl),
        ("obo", from("download_obo", &["obofoundry", "ols", "aberowl"], "obo")),
        ("rdf", from("download_rdf", &["ols", "tib.ts"], "rdf")),
        ("skos", own_download(v, "download_skos")),
        ("json", from("download_json", &["obofoundry"], "obograph_json")),
    ];
    // Kept as the registry states them, `ftp://` included: the URL gate refuses what
    // ontofetch does not fetch, with its code, rather than the route hiding it.
    all.into_iter().filter_map(|(f, url)| url.map(|u| (f.into(), u))).collect()
}

/// The package's `get_prefix_key` for a text field: the record's own, else the first
/// metaregistry's.
fn field_of(v: &Value, field: &str) -> Option<String> {
    text(v, &format!("/{field}"))
        .or_else(|| METAREGISTRIES.iter().find_map(|m| text(v, &format!("/{m}/{field}"))))
        .map(|s| s.replace("\r\n", "\n"))
}

/// The package's `get_license`: the record's own licence as written, else the first
/// metaregistry's, standardised with Bioregistry's table (an SPDX id a record states wins);
/// then as SPDX where one fits. Also says where it came from.
fn license_of(v: &Value) -> Option<(String, String)> {
    if let Some(own) = text(v, "/license") {
        return Some((crate::license::normalize(&own), "bioregistry".into()));
    }
    METAREGISTRIES.iter().find_map(|m| {
        let found = match v.get(*m)?.get("license")? {
            Value::String(s) => crate::license::standardize(s),
            Value::Object(o) => match o.get("spdx").and_then(Value::as_str) {
                Some(spdx) => Some(spdx.to_string()),
                None => o.get("name").and_then(Value::as_str).and_then(crate::license::standardize),
            },
            _ => None,
        }?;
        Some((crate::license::normalize(&found), (*m).to_string()))
    })
}

/// The package's `is_deprecated`: the record's own mark when it has one, else any
/// metaregistry whose status is `deprecated` or `inactive`.
fn deprecated_of(v: &Value) -> bool {
    match v.get("deprecated").and_then(Value::as_bool) {
        Some(own) => own,
        None => METAREGISTRIES.iter().any(|m| {
            matches!(v.pointer(&format!("/{m}/status")).and_then(Value::as_str), Some("deprecated" | "inactive"))
        }),
    }
}

/// One Bioregistry record (the package's `bioregistry.json` value) as an entry, read as the
/// package's own getters read it (`get_name`, `get_license`, `is_deprecated`,
/// `get_owl_download`…): the resource's field, else the metaregistries in the package's order.
fn entry_of(key: &str, v: &Value) -> Entry {
    // Keys that would start with a digit are written `_3dmet` in the file.
    let prefix = text(v, "/prefix").unwrap_or_else(|| {
        key.strip_prefix('_').filter(|k| k.starts_with(|c: char| c.is_ascii_digit())).unwrap_or(key).to_string()
    });
    let obo = v.get("obofoundry");
    let license = license_of(v);
    Entry {
        bioregistry_prefix: (key != prefix).then(|| key.to_string()),
        prefix: prefix.to_ascii_lowercase(),
        name: field_of(v, "name"),
        preferred_prefix: text(v, "/preferred_prefix"),
        synonyms: v
            .get("synonyms")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default(),
        license_source: license.as_ref().map(|(_, from)| from.clone()),
        license: license.map(|(l, _)| l),
        obo_foundry: obo.is_some(),
        obo_prefix: obo.and_then(|o| text(o, "/prefix")),
        obo_status: obo.and_then(|o| text(o, "/status")),
        deprecated: deprecated_of(v),
        downloads: downloads_of(v),
        homepage: field_of(v, "homepage"),
        version: field_of(v, "version"),
        origin: None,
    }
}

/// Bioregistry's lexical key (`_norm`): lower case, without spaces, `-`, `_`, `.` or `/`,
/// so `APOLLO-SV`, `apollo_sv` and `nif_cell` find their records as the package finds them.
pub fn fold(s: &str) -> String {
    s.trim().to_lowercase().chars().filter(|c| !matches!(c, ' ' | '-' | '_' | '.' | '/')).collect()
}

impl Registry {
    fn new(source: Source, mut entries: Vec<Entry>) -> Registry {
        entries.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        let mut index = HashMap::new();
        // The names Bioregistry itself resolves (its key and curated synonyms) win over the
        // spellings other registries use (preferred prefix, OBO Foundry id).
        for (i, e) in entries.iter().enumerate() {
            for name in e.names() {
                index.entry(fold(name)).or_insert(i);
            }
        }
        for (i, e) in entries.iter().enumerate() {
            for name in e.preferred_prefix.iter().chain(e.obo_prefix.iter()) {
                index.entry(fold(name)).or_insert(i);
            }
        }
        Registry { source, entries, index }
    }

    /// The snapshot shipped in the binary.
    pub fn embedded() -> Registry {
        // Checked by a test at build time of the tests; a broken file is a build bug.
        Registry::from_compact(EMBEDDED).unwrap_or_else(|_| {
            Registry::new(Source { label: "empty".into(), sha256: String::new(), prefixes: 0, base: None }, vec![])
        })
    }

    /// Reads a compact snapshot (what this module writes).
    pub fn from_compact(bytes: &[u8]) -> Result<Registry, RegistryError> {
        let c: Compact = serde_json::from_slice(bytes).map_err(|e| RegistryError::Invalid(e.to_string()))?;
        if c.format != FORMAT {
            return Err(RegistryError::Invalid(format!(
                "format {:?}, expected {FORMAT} (cut by another ontofetch release; run `ontofetch registry update` again)",
                c.format
            )));
        }
        Ok(Registry::new(c.source, c.entries))
    }

    /// Derives a snapshot from Bioregistry's own published format: the JSON object keyed
    /// by prefix that the package ships as `bioregistry/data/bioregistry.json`. `label`
    /// says where it came from.
    pub fn from_bioregistry(bytes: &[u8], label: &str) -> Result<Registry, RegistryError> {
        let doc: Value = serde_json::from_slice(bytes).map_err(|e| RegistryError::Invalid(format!("not JSON: {e}")))?;
        let obj =
            doc.as_object().ok_or_else(|| RegistryError::Invalid("expected a JSON object keyed by prefix".into()))?;
        let keyed: Vec<(&String, Entry)> =
            obj.iter().filter(|(_, v)| v.is_object()).map(|(k, v)| (k, entry_of(k, v))).collect();
        one_record_per_name(keyed.iter().map(|(k, e)| (k.as_str(), e)))?;
        let entries: Vec<Entry> = keyed.into_iter().map(|(_, e)| e).collect();
        if entries.is_empty() {
            return Err(RegistryError::Invalid("no prefixes in it".into()));
        }
        if !entries.iter().any(|e| !e.downloads.is_empty() || e.name.is_some()) {
            return Err(RegistryError::Invalid("no record has a name or a download: not Bioregistry's format".into()));
        }
        let source = Source {
            label: label.to_string(),
            sha256: ontofetch_fsutil::sha256_bytes(bytes),
            prefixes: entries.len(),
            base: None,
        };
        Ok(Registry::new(source, entries))
    }

    /// This snapshot over `base`: its records win, `base`'s other prefixes stay, each
    /// record of this one says where it came from. A record here that claims a name of one
    /// of `base`'s other records refuses the overlay.
    pub fn over(self, base: &Registry) -> Result<Registry, RegistryError> {
        let label = self.source.label.clone();
        let mine: std::collections::HashSet<String> = self.entries.iter().map(|e| e.prefix.clone()).collect();
        let mut entries: Vec<Entry> =
            self.entries.into_iter().map(|e| Entry { origin: Some(label.clone()), ..e }).collect();
        entries.extend(base.entries.iter().filter(|e| !mine.contains(&e.prefix)).cloned());
        one_record_per_name(entries.iter().map(|e| (e.prefix.as_str(), e)))?;
        let source = Source {
            label,
            sha256: self.source.sha256,
            prefixes: entries.len(),
            base: Some(base.source.label.clone()),
        };
        Ok(Registry::new(source, entries))
    }

    /// The label of the snapshot that answers for `entry`: its overlay's, else this one's
    /// base (the built-in snapshot's, or a full replacement's).
    pub fn answered_by<'a>(&'a self, entry: &'a Entry) -> &'a str {
        entry.origin.as_deref().or(self.source.base.as_deref()).unwrap_or(&self.source.label)
    }

    /// The compact form (what `registry update` stores and the repo embeds): one JSON
    /// document with one entry per line, so a snapshot update reads as a diff of the
    /// prefixes that changed.
    pub fn to_compact(&self) -> Vec<u8> {
        let head = serde_json::json!({"format": FORMAT, "source": self.source});
        let mut out = serde_json::to_vec(&head).unwrap_or_default();
        out.pop(); // the closing brace: the entries follow
        out.extend_from_slice(b",\"entries\":[\n");
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b",\n");
            }
            out.extend_from_slice(&serde_json::to_vec(e).unwrap_or_default());
        }
        out.extend_from_slice(b"\n]}\n");
        out
    }

    /// The snapshot in the data root when `registry update` stored one and it reads, else
    /// the embedded one.
    pub fn load(path: &Path) -> Registry {
        match std::fs::read(path) {
            Ok(bytes) => Registry::from_compact(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "the stored registry snapshot does not read; using the built-in one");
                Registry::embedded()
            }),
            Err(_) => Registry::embedded(),
        }
    }

    /// The entry of an id in any spelling: the prefix, the preferred prefix or a synonym,
    /// in any case.
    pub fn lookup(&self, id: &str) -> Option<&Entry> {
        self.index.get(&fold(id)).map(|i| &self.entries[*i])
    }

    /// Up to `n` known prefixes closest to an unknown id.
    pub fn closest(&self, id: &str, n: usize) -> Vec<&str> {
        let id = fold(id);
        let mut scored: Vec<(f64, &str)> = self
            .index
            .iter()
            .map(|(k, i)| (strsim::jaro_winkler(&id, k), self.entries[*i].prefix.as_str()))
            .filter(|(s, _)| *s > 0.8)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let mut out: Vec<&str> = Vec::new();
        for (_, p) in scored {
            if !out.contains(&p) {
                out.push(p);
            }
            if out.len() == n {
                break;
            }
        }
        out
    }

    /// Entries whose names or title contain `text`, compared as Bioregistry compares
    /// prefixes (any case, without separators): the entry `text` names first, then those
    /// whose prefix or synonyms contain it, then those whose name does.
    pub fn search(&self, text: &str) -> Vec<&Entry> {
        let t = fold(text);
        let named = self.lookup(text);
        let mut hits: Vec<(u8, &Entry)> = self
            .entries
            .iter()
            .filter_map(|e| {
                let rank = if named.is_some_and(|hit| std::ptr::eq(hit, e)) {
                    0
                } else if e.names().chain(e.obo_prefix.iter()).any(|s| fold(s).contains(&t)) {
                    1
                } else if e.name.as_deref().is_some_and(|n| fold(n).contains(&t)) {
                    2
                } else {
                    return None;
                };
                Some((rank, e))
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.prefix.cmp(&b.1.prefix)));
        hits.into_iter().map(|(_, e)| e).collect()
    }

    /// Every entry, by prefix.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Registry {
        let raw = serde_json::json!({
            "efo": {"download_owl": "http://www.ebi.ac.uk/efo/efo.owl", "license": "Apache-2.0",
                    "preferred_prefix": "EFO", "ols": {"name": "Experimental Factor Ontology", "version": "3.95.0"}},
            "ncbitaxon": {"name": "NCBI Taxonomy", "synonyms": ["NCBITaxon", "taxon"], "license": "CC0-1.0",
                          "obofoundry": {"status": "active", "artifacts": [{"type": "owl", "url": "http://purl.obolibrary.org/obo/ncbitaxon.owl"}]}},
            "pato": {"obofoundry": {"name": "PATO", "license": {"name": "CC BY 3.0", "url": "http://creativecommons.org/licenses/by/3.0/"}}},
            "_3dmet": {"name": "3D Metabolite"},
        });
        Registry::from_bioregistry(raw.to_string().as_bytes(), "test").expect("derives")
    }

    /// A record that names another's prefix, preferred spelling or synonym refuses the
    /// snapshot, naming both records (it would otherwise take `go`'s lookups, and with them
    /// its download and licence); the embedded snapshot has no such collision.
    #[test]
    fn records_that_claim_another_records_name_refuse_the_snapshot() {
        let go = serde_json::json!({"name": "Gene Ontology", "license": "CC-BY-4.0", "synonyms": ["GO"]});
        for squatter in [
            serde_json::json!({"prefix": "go", "name": "squat", "license": "CC0-1.0", "download_owl": "http://evil.example/go.owl"}),
            serde_json::json!({"name": "squat", "preferred_prefix": "GO"}),
            serde_json::json!({"name": "squat", "synonyms": ["Go"]}),
        ] {
            let raw = serde_json::json!({"go": go, "aaa": squatter});
            let e = Registry::from_bioregistry(raw.to_string().as_bytes(), "test").map(|_| ()).unwrap_err().to_string();
            assert!(e.contains("\"aaa\"") && e.contains("\"go\"") && e.contains("both claim"), "{e}");
        }
        // a record may spell its own prefix again
        let own =
            serde_json::json!({"go": {"name": "Gene Ontology", "preferred_prefix": "GO", "synonyms": ["go", "GO"]}});
        assert!(Registry::from_bioregistry(own.to_string().as_bytes(), "test").is_ok());
        assert!(Registry::embedded().source.prefixes > 2000);
    }

    #[test]
    fn ids_resolve_in_any_spelling_and_unknown_ones_get_the_closest() {
        let r = sample();
        assert_eq!(r.lookup("NCBITaxon").map(|e| e.prefix.as_str()), Some("ncbitaxon"));
        assert_eq!(r.lookup("taxon").map(|e| e.prefix.as_str()), Some("ncbitaxon"));
        assert_eq!(r.lookup("EFO").map(|e| e.prefix.as_str()), Some("efo"));
        assert_eq!(r.lookup("3dmet").map(|e| e.prefix.as_str()), Some("3dmet"));
        assert!(r.lookup("nosuch").is_none());
        assert_eq!(r.closest("ncbitaxn", 3), ["ncbitaxon"]);
    }

    #[test]
    fn fields_fall_back_to_the_metaregistry_records() {
        let r = sample();
        let efo = r.lookup("efo").expect("efo");
        assert_eq!(
            (efo.name.as_deref(), efo.license.as_deref()),
            (Some("Experimental Factor Ontology"), Some("Apache-2.0"))
        );
        assert_eq!(efo.download_for(&["obo".into()]), Some(("owl", "http://www.ebi.ac.uk/efo/efo.owl")));
        assert!(!efo.obo_foundry);
        let pato = r.lookup("pato").expect("pato");
        assert_eq!((pato.license.as_deref(), pato.obo_foundry), (Some("CC-BY-3.0"), true));
        assert_eq!(r.search("taxonomy")[0].prefix, "ncbitaxon");
    }

    #[test]
    fn a_compact_snapshot_round_trips_and_the_embedded_one_reads() {
        let r = sample();
        let back = Registry::from_compact(&r.to_compact()).expect("reads");
        assert_eq!(back.entries(), r.entries());
        assert_eq!(back.source, r.source);
        let embedded = Registry::from_compact(EMBEDDED).expect("the shipped snapshot reads");
        assert!(embedded.source.prefixes > 1000, "{:?}", embedded.source);
        assert!(embedded.lookup("efo").is_some_and(|e| e.downloads.contains_key("owl")));
        assert!(Registry::from_bioregistry(b"[1,2]", "x").is_err());
        assert!(Registry::from_bioregistry(br#"{"a": {"x": 1}}"#, "x").is_err());
    }
}
