//! The import closure (`defaults.follow_imports`, `pull --with-imports`): after a pull,
//! every `owl:imports` / OBO `import:` IRI of each stored version is resolved and pulled
//! like any ontology — an OBO PURL as that ontology's `obo` entry (the one in
//! `sources.yaml` when it is there), any other IRI as a `direct` source named after it —
//! so every gate sees it. Each import is recorded as an edge in the catalog with what
//! became of it; a depth and a count cap bound the walk, and an IRI seen before (a cycle,
//! an ontology imported twice) is linked, never fetched again.

use crate::Pipeline;
use crate::PullObserver;
use crate::pull::pull_all;
use crate::result::PullResult;
use ontofetch_catalog::{ImportEdge, ImportStatus};
use ontofetch_config::{ConfigError, SpecInput};
use ontofetch_policy::{Code, CodeKind};
use std::collections::{BTreeMap, HashMap, HashSet};

/// `http(s)://purl.obolibrary.org/obo/{id}.owl|obo` names OBO Foundry ontology `id`.
pub fn obo_id(iri: &str) -> Option<(String, &'static str)> {
    let rest = iri.strip_prefix("http://").or_else(|| iri.strip_prefix("https://"))?;
    let file = rest.strip_prefix("purl.obolibrary.org/obo/")?;
    let (id, ext) = file.rsplit_once('.')?;
    let ext = match ext {
        "owl" => "owl",
        "obo" => "obo",
        _ => return None,
    };
    // The same rule as every configured id (1-64 characters): a longer PURL id is stored
    // like any other IRI, under a short id made from it.
    (!id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| (id.to_ascii_lowercase(), ext))
        .filter(|(id, _)| ontofetch_policy::config_gate::check_ontology_id("import", id).is_ok())
}

/// An IRI as it is recorded and shown: without userinfo (an import that names credentials
/// is refused by the url gate, and its edge never repeats them).
fn shown_iri(iri: &str) -> String {
    match url::Url::parse(iri) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => iri.to_string(),
    }
}

/// The id an import that is not an OBO PURL is stored under: its last path segment's stem
/// and 8 hex digits of the IRI's SHA-256 (`core-1a2b3c4d`), a safe id that two IRIs with
/// the same file name do not share.
pub fn import_id(iri: &str) -> String {
    let last = iri.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let stem = last.split(['.', '?', '#']).next().unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .take(40)
        .collect();
    let hash = &ontofetch_fsutil::sha256_bytes(iri.as_bytes())[..8];
    let clean = clean.trim_matches('-');
    if clean.is_empty() { format!("import-{hash}") } else { format!("{clean}-{hash}") }
}

/// A stored version on the walk: the names it answers to (the URL it came from, its own
/// IRI) and the IRIs it imports, read from the catalog once.
struct Stored {
    id: String,
    version: String,
    names: Vec<String>,
    imports: Vec<String>,
}

impl Stored {
    async fn read(p: &Pipeline, id: String, version: String) -> Stored {
        let mut names = Vec::new();
        if let Ok(Some(row)) = p.backends.catalog.version(&id, &version).await {
            names.push(row.url);
        }
        let mut imports: Vec<String> = Vec::new();
        for row in p.backends.catalog.validations(&id, &version).await.unwrap_or_default() {
            let details: serde_json::Value = serde_json::from_str(&row.details).unwrap_or_default();
            names.extend(details["ontology_iri"].as_str().map(str::to_string));
            for iri in details["imports"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
                if !imports.iter().any(|o| o == iri) {
                    imports.push(iri.to_string());
                }
            }
        }
        Stored { id, version, names, imports }
    }
}

/// The source that owns an IRI, whoever claims it: the OBO id of a PURL, or the configured
/// entry pulled from that URL.
fn owner(p: &Pipeline, iri: &str) -> Option<String> {
    crate::export::purl_owner(iri).or_else(|| {
        p.settings
            .loaded
            .config
            .ontologies
            .iter()
            .find(|o| o.extras.get("url").and_then(|u| u.as_str()) == Some(iri))
            .map(|o| o.id.clone())
    })
}

/// What an import IRI becomes: the spec that fetches it.
fn spec_for(p: &Pipeline, iri: &str) -> Result<SpecInput, ConfigError> {
    if let Some((id, ext)) = obo_id(iri) {
        if p.settings.loaded.config.ontologies.iter().any(|s| s.id == id) {
            let mut spec = p.settings.spec_inputs(std::slice::from_ref(&id), None)?;
            if let Some(spec) = spec.pop() {
                return Ok(spec);
            }
        }
        // Not configured: its OBO PURL, in the format the import names, whatever the
        // defaults' resolver preference says.
        return Ok(SpecInput {
            id,
            chain: vec!["obo".into()],
            extras: Default::default(),
            target_formats: vec![ext.to_string()],
            normalize_to: p.settings.defaults().normalize_to.clone(),
        });
    }
    p.settings.url_spec(&import_id(iri), iri)
}

fn edge(
    ontology: &str,
    version: &str,
    iri: &str,
    target: Option<String>,
    status: ImportStatus,
    code: Option<Code>,
) -> ImportEdge {
    ImportEdge {
        ontology: ontology.to_string(),
        version: version.to_string(),
        iri: shown_iri(iri),
        target,
        status,
        code,
    }
}

/// An edge to `target`, stored unless its pull fails (decided once the level is pulled).
fn pending(ontology: &str, version: &str, iri: &str, target: String) -> ImportEdge {
    edge(ontology, version, iri, Some(target), ImportStatus::Stored, None)
}

/// How an import that was not stored is recorded.
fn status_of(code: Code) -> ImportStatus {
    if code.kind() == CodeKind::Refusal { ImportStatus::Refused } else { ImportStatus::Failed }
}

/// The stored versions among `results`, read for the walk; every name they answer to
/// joins `by_name`.
async fn stored(p: &Pipeline, results: &[PullResult], by_name: &mut HashMap<String, String>) -> Vec<Stored> {
    let mut out = Vec::new();
    for r in results.iter().filter(|r| !r.is_failure()) {
        let Some(version) = r.version.clone() else { continue };
        let s = Stored::read(p, r.id.clone(), version).await;
        for name in &s.names {
            // An import IRI resolves to what the spec, the registry or the PURL says it is,
            // never to whichever stored file claims it: a claim on another source's IRI (an
            // `owl:Ontology rdf:about` that is the BFO PURL) is not a mapping.
            if let Some(owner) = owner(p, name).filter(|o| !o.eq_ignore_ascii_case(&s.id)) {
                tracing::warn!(ontology = %s.id, iri = %name, owner = %owner, "claims an IRI another source owns; not linked");
                continue;
            }
            by_name.entry(name.clone()).or_insert_with(|| s.id.clone());
        }
        out.push(s);
    }
    out
}

/// Pulls `specs` and, when `defaults.follow_imports` (or `with_imports`) says so, their
/// import closure; the imported ontologies' results follow the asked ones.
pub async fn pull_with_imports(
    p: &Pipeline,
    specs: &[SpecInput],
    observer: &dyn PullObserver,
    concurrency: usize,
    with_imports: bool,
) -> Vec<PullResult> {
    let mut results = pull_all(p, specs, observer, concurrency).await;
    if with_imports || p.settings.defaults().follow_imports {
        follow(p, &mut results, observer, concurrency).await;
    }
    results
}

async fn follow(p: &Pipeline, results: &mut Vec<PullResult>, observer: &dyn PullObserver, concurrency: usize) {
    let d = p.settings.defaults();
    let (max_depth, max_count) = (d.max_import_depth, d.max_imports as usize);
    let mut taken: HashSet<String> = results.iter().map(|r| r.id.clone()).collect();
    let mut by_name: HashMap<String, String> = HashMap::new();
    let mut frontier = stored(p, results, &mut by_name).await;
    let asked: Vec<String> = results.iter().map(|r| r.id.clone()).collect();
    let mut closure = brought_in(p, &asked).await;
    let mut depth = 0u32;
    // Every ontology of the run that failed: an edge to it says so, whoever pulled it.
    let mut failed: HashMap<String, Code> =
        results.iter().filter_map(|r| Some((r.id.clone(), r.error.as_ref()?.code))).collect();
    while !frontier.is_empty() {
        depth += 1;
        let mut wanted: Vec<SpecInput> = Vec::new();
        let mut edges: BTreeMap<(String, String), Vec<ImportEdge>> = BTreeMap::new();
        for Stored { id, version, imports, .. } in &frontier {
            let list = edges.entry((id.clone(), version.clone())).or_default();
            for iri in imports {
                if let Some(target) = by_name.get(iri) {
                    // Seen before: linked, never fetched again; its fate is the first pull's.
                    list.push(pending(id, version, iri, target.clone()));
                    continue;
                }
                if depth > max_depth {
                    list.push(edge(id, version, iri, None, ImportStatus::Skipped, Some(Code::ImportLimit)));
                    continue;
                }
                match spec_for(p, iri) {
                    // `max_imports` bounds the closure: every ontology the asked ones ever
                    // brought in counts, so a release that names new imports on every run
                    // cannot grow the mirror past it run by run.
                    Ok(spec) if !closure.contains(&spec.id) && closure.len() >= max_count => {
                        list.push(edge(id, version, iri, None, ImportStatus::Skipped, Some(Code::ImportLimit)));
                    }
                    Ok(spec) => {
                        by_name.insert(iri.clone(), spec.id.clone());
                        list.push(pending(id, version, iri, spec.id.clone()));
                        closure.insert(spec.id.clone());
                        if taken.insert(spec.id.clone()) {
                            wanted.push(spec);
                        }
                    }
                    Err(why) => {
                        tracing::warn!(ontology = %id, iri = %iri, error = %why, "import not followed");
                        list.push(edge(id, version, iri, None, ImportStatus::Refused, Some(Code::ConfigInvalid)));
                    }
                }
            }
        }
        let pulled = if wanted.is_empty() { vec![] } else { pull_all(p, &wanted, observer, concurrency).await };
        failed.extend(pulled.iter().filter_map(|r| Some((r.id.clone(), r.error.as_ref()?.code))));
        for ((id, version), mut list) in edges {
            // An edge without a code is one whose fate is its target's pull.
            for e in list.iter_mut().filter(|e| e.code.is_none()) {
                if let Some(code) = e.target.as_deref().and_then(|t| failed.get(t)) {
                    e.status = status_of(*code);
                    e.code = Some(*code);
                }
            }
            if let Err(err) = p.backends.catalog.record_imports(&id, &version, &list).await {
                tracing::warn!(ontology = %id, version = %version, error = %err, "import edges not recorded");
            }
        }
        frontier = stored(p, &pulled, &mut by_name).await;
        results.extend(pulled.into_iter().map(|mut r| {
            r.notes.push(format!("pulled as an import (depth {depth})"));
            r
        }));
    }
}

/// Every ontology the `asked` ones brought in as imports, in any stored version, and what
/// those brought in (their recorded edges, followed to the end; each ontology read once).
async fn brought_in(p: &Pipeline, asked: &[String]) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut visited = HashSet::new();
    let mut queue: Vec<String> = asked.to_vec();
    while let Some(id) = queue.pop() {
        if !visited.insert(id.clone()) {
            continue;
        }
        for row in p.backends.catalog.versions(Some(&id), u32::MAX).await.unwrap_or_default() {
            for e in p.backends.catalog.imports(&id, &row.version).await.unwrap_or_default() {
                if let Some(t) = e.target.filter(|t| e.status == ImportStatus::Stored && !asked.contains(t))
                    && found.insert(t.clone())
                {
                    queue.push(t);
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_iris_become_safe_ids() {
        assert_eq!(obo_id("http://purl.obolibrary.org/obo/BFO.owl"), Some(("bfo".into(), "owl")));
        assert_eq!(obo_id("https://purl.obolibrary.org/obo/ro.obo"), Some(("ro".into(), "obo")));
        assert_eq!(obo_id("http://purl.obolibrary.org/obo/go/extensions/x.owl"), None);
        assert_eq!(obo_id("http://example.org/obo/bfo.owl"), None);
        let a = import_id("http://example.org/onto/core.owl");
        assert!(a.starts_with("core-") && a.len() == 13, "{a}");
        assert_ne!(a, import_id("http://example.net/core.owl"), "same file name, other IRI");
        assert!(import_id("http://example.org/").starts_with("example-"), "{}", import_id("http://example.org/"));
        for iri in ["http://x.org/a b/../..", "http://x.org/%2e%2e", "urn:x:y"] {
            let id = import_id(iri);
            assert!(ontofetch_policy::config_gate::check_ontology_id("id", &id).is_ok(), "{iri} -> {id}");
        }
    }

    /// Every id obeys the 1-64 character rule however it was made: an OBO PURL whose id is
    /// longer is no OBO id, and the id made for it instead passes the rule.
    #[test]
    fn an_over_long_purl_id_gets_a_short_one() {
        let iri = format!("http://purl.obolibrary.org/obo/{}.owl", "a".repeat(100));
        assert_eq!(obo_id(&iri), None);
        let id = import_id(&iri);
        assert!(ontofetch_policy::config_gate::check_ontology_id("id", &id).is_ok(), "{id}");
        let at_limit = format!("http://purl.obolibrary.org/obo/{}.owl", "b".repeat(64));
        assert_eq!(obo_id(&at_limit).map(|(id, _)| id.len()), Some(64));
    }

    /// An import IRI's userinfo is never recorded or shown.
    #[test]
    fn recorded_import_iris_carry_no_userinfo() {
        let e =
            edge("x", "v1", "http://user:pw@example.org/o.owl", None, ImportStatus::Refused, Some(Code::UrlInvalid));
        assert_eq!(e.iri, "http://example.org/o.owl");
        assert_eq!(shown_iri("http://example.org/o.owl#x"), "http://example.org/o.owl#x");
        assert_eq!(shown_iri("urn:x:y"), "urn:x:y");
    }
}
