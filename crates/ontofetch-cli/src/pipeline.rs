//! The pull pipeline (DESIGN.md §1): plan → gated download into staging → version →
//! manifest → storage gate + atomic promote → CAS → catalog through the db_boundary →
//! `latest`. A version becomes visible only at the end; any failure leaves the store and
//! catalog as they were.

use crate::progress::Progress;
use ontofetch_catalog::{ArtifactRow, Catalog, VersionRow};
use ontofetch_config::{DataDirs, Loaded};
use ontofetch_metrics::{DownloadLabels, Metrics, OntologyLabels};
use ontofetch_net::{Download, Fetched, Fetcher, NetConfig, Validators};
use ontofetch_policy::Gates;
use ontofetch_resolve::{Endpoints, Plan, Secrets, SpecInput};
use ontofetch_store::{Store, sanitize_version, sha256_file};
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The result of one ontology's pull (DocsToKG `results_to_dict` fields plus `version`,
/// `error` and `notes`).
#[derive(Debug, Clone, Serialize)]
pub struct PullResult {
    /// Ontology id.
    pub id: String,
    /// Resolver used.
    pub resolver: Option<String>,
    /// `fresh`, `updated`, `cached` or `failed`.
    pub status: String,
    /// Version directory.
    pub version: Option<String>,
    /// SHA-256 of the original.
    pub sha256: Option<String>,
    /// Absolute path of the original.
    pub path: Option<String>,
    /// Response Content-Type.
    pub content_type: Option<String>,
    /// Bytes.
    pub content_length: Option<u64>,
    /// Response ETag.
    pub etag: Option<String>,
    /// Response Last-Modified.
    pub last_modified: Option<String>,
    /// `hit` (304 or identical bytes) or `miss`.
    pub cache_status: Option<String>,
    /// `sha256:HEX` when one was expected.
    pub expected_checksum: Option<String>,
    /// `{code, message}` when failed.
    pub error: Option<Value>,
    /// Things the user should know (e.g. upstream changed bytes without a new version).
    pub notes: Vec<String>,
    /// The plan behind it (for the lockfile).
    #[serde(skip)]
    pub plan: Option<Value>,
}

impl PullResult {
    fn failed(id: &str, resolver: Option<String>, code: &str, message: String) -> Self {
        PullResult {
            id: id.to_string(),
            resolver,
            status: "failed".into(),
            version: None,
            sha256: None,
            path: None,
            content_type: None,
            content_length: None,
            etag: None,
            last_modified: None,
            cache_status: None,
            expected_checksum: None,
            error: Some(json!({"code": code, "message": message})),
            notes: vec![],
            plan: None,
        }
    }

    /// Whether it failed.
    pub fn is_failure(&self) -> bool {
        self.status == "failed"
    }
}

/// UTC now as RFC 3339 (`2026-11-25T15:00:00Z`).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Builds the network settings from the configuration.
pub fn net_config(loaded: &Loaded) -> NetConfig {
    let h = &loaded.config.defaults.http;
    NetConfig {
        max_attempts: h.max_retries.max(1),
        read_timeout: Duration::from_secs_f64(h.timeout_sec),
        connect_timeout: Duration::from_secs_f64(h.connect_timeout_sec),
        attempt_deadline: Duration::from_secs_f64(h.download_timeout_sec),
        backoff_base: Duration::from_secs_f64(h.backoff_factor),
        max_retry_after: Duration::from_secs(120),
        max_bytes: (h.max_uncompressed_size_gb * (1u64 << 30) as f64) as u64,
        headers: h.polite_headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        // Rates were validated by the config gate; a bad one cannot reach here.
        limits: ontofetch_net::limit::Limits::new(
            h.rate_limits
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), ontofetch_policy::config_gate::parse_rate_limit(k, v).ok()?)))
                .collect(),
            ontofetch_policy::config_gate::parse_rate_limit("per_host_rate_limit", &h.per_host_rate_limit).ok(),
        ),
    }
}

/// Turns config specs into planner input (resolver chain = own resolver + prefer_source).
pub fn spec_inputs(loaded: &Loaded, ids: &[String], resolver_override: Option<&str>) -> Result<Vec<SpecInput>, String> {
    let d = &loaded.config.defaults;
    let mut out = Vec::new();
    let build = |id: &str, spec: Option<&ontofetch_config::OntologySpec>| {
        let first = resolver_override.map(str::to_string).unwrap_or_else(|| match spec {
            Some(s) => loaded.resolver(s),
            None => d.prefer_source.first().cloned().unwrap_or_else(|| "obo".into()),
        });
        let mut chain = vec![first];
        if d.resolver_fallback_enabled && resolver_override.is_none() {
            for r in &d.prefer_source {
                if !chain.contains(r) {
                    chain.push(r.clone());
                }
            }
        }
        SpecInput {
            id: id.to_string(),
            chain,
            extras: spec.map(|s| s.extras.clone()).unwrap_or_default(),
            target_formats: spec.map(|s| loaded.target_formats(s)).unwrap_or_else(|| d.normalize_to.clone()),
        }
    };
    if ids.is_empty() {
        for s in &loaded.config.ontologies {
            out.push(build(&s.id, Some(s)));
        }
    } else {
        for id in ids {
            ontofetch_policy::config_gate::check_ontology_id("ontology id", id).map_err(|r| r.message)?;
            let spec = loaded.config.ontologies.iter().find(|s| &s.id == id);
            out.push(build(id, spec));
        }
    }
    Ok(out)
}

/// The API key for BioPortal: `BIOPORTAL_API_KEY`, else `configs/bioportal_api_key.txt`.
pub fn secrets(dirs: &DataDirs) -> Secrets {
    let env = std::env::var("BIOPORTAL_API_KEY").ok().filter(|v| !v.trim().is_empty());
    let file = std::fs::read_to_string(dirs.configs.join("bioportal_api_key.txt"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Secrets { bioportal_api_key: env.or(file).map(|k| k.trim().to_string()) }
}

/// Everything a pull needs, shared by concurrent downloads.
pub struct Pipeline {
    /// Loaded configuration.
    pub loaded: Loaded,
    /// Data directories.
    pub dirs: DataDirs,
    /// The store.
    pub store: Store,
    /// The catalog (one connection; held only between awaits).
    pub catalog: Mutex<Catalog>,
    /// The HTTP client.
    pub fetcher: Fetcher,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Registry endpoints.
    pub endpoints: Endpoints,
    /// Credentials.
    pub secrets: Secrets,
    /// Skip conditional requests.
    pub force: bool,
}

fn lock<'a>(m: &'a Mutex<Catalog>) -> std::sync::MutexGuard<'a, Catalog> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn read_prefix(path: &std::path::Path, n: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(n as u64).read_to_end(&mut buf);
    }
    buf
}

/// The catalog file.
pub fn catalog_path(dirs: &DataDirs) -> std::path::PathBuf {
    dirs.root.join("catalog.sqlite")
}

impl Pipeline {
    fn gates(&self) -> Gates<'_> {
        Gates::new(&self.loaded.policy, self.metrics.as_ref())
    }

    fn count(&self, resolver: &str, result: &'static str) {
        self.metrics.downloads.get_or_create(&DownloadLabels { resolver: resolver.to_string(), result }).inc();
    }

    /// Plans one spec.
    pub async fn plan(&self, spec: &SpecInput) -> Result<Plan, ontofetch_resolve::ResolveError> {
        ontofetch_resolve::plan(
            spec,
            &self.fetcher,
            &self.endpoints,
            &self.secrets,
            &self.loaded.config.defaults.accept_licenses,
        )
        .await
    }

    /// Pulls one spec end to end; never panics on bad input, reports failures as results.
    pub async fn pull(&self, spec: &SpecInput, progress: &Progress) -> PullResult {
        progress.start(&spec.id);
        // Fallback covers downloads too: when a planned candidate fails to download, the
        // chain continues with the next resolver. The reported code is the first failure's
        // (the primary resolver's), since later resolvers often just do not apply.
        let mut start = 0;
        let mut failures: Vec<String> = Vec::new();
        let mut first: Option<(Option<String>, String)> = None;
        let result = loop {
            let rest = SpecInput { chain: spec.chain[start..].to_vec(), ..spec.clone() };
            let (r, used) = match self.plan(&rest).await {
                Ok(plan) => {
                    // Resolvers the planner skipped on the way count as failures too.
                    for a in plan.resolver_attempts.iter().filter(|a| a.status == "failed") {
                        let msg = a.error.clone().unwrap_or_default();
                        let code = a.code.clone().unwrap_or_else(|| "E_RESOLVE".into());
                        first.get_or_insert((Some(a.resolver.clone()), code));
                        failures.push(format!("{}: {msg}", a.resolver));
                    }
                    let used = start + spec.chain[start..].iter().position(|r| r == &plan.resolver).unwrap_or(0);
                    (self.fetch_plan(&plan, progress).await, used)
                }
                Err(e) => (PullResult::failed(&spec.id, None, e.code(), e.to_string()), spec.chain.len()),
            };
            let Some(err) = r.error.clone() else { break r };
            let code = err["code"].as_str().unwrap_or("E_UNKNOWN").to_string();
            first.get_or_insert((r.resolver.clone(), code));
            failures.push(format!(
                "{}: {}",
                r.resolver.clone().unwrap_or_else(|| "planner".into()),
                err["message"].as_str().unwrap_or("")
            ));
            if used + 1 >= spec.chain.len() {
                let (resolver, code) = first.clone().expect("recorded above");
                break PullResult::failed(&spec.id, resolver, &code, failures.join("; "));
            }
            start = used + 1;
        };
        if result.is_failure() {
            self.count(result.resolver.as_deref().unwrap_or("none"), "failed");
        } else {
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
            self.metrics.ontology_last_success.get_or_create(&OntologyLabels { ontology: spec.id.clone() }).set(now);
        }
        progress.finish(&result);
        result
    }

    async fn fetch_plan(&self, plan: &Plan, progress: &Progress) -> PullResult {
        let fail = |code: &str, msg: String| PullResult::failed(&plan.id, Some(plan.resolver.clone()), code, msg);
        let previous = match lock(&self.catalog).latest(&plan.id) {
            Ok(p) => p,
            Err(e) => return fail(e.code(), e.to_string()),
        };
        let gates = self.gates();
        let staging = match self.store.begin(&gates, &plan.id) {
            Ok(s) => s,
            Err(e) => return fail(&e.code(), e.to_string()),
        };
        let dest = match staging.original(&plan.filename) {
            Ok(d) => d,
            Err(e) => return fail(&e.code(), e.to_string()),
        };
        let conditional = previous
            .as_ref()
            .filter(|p| !self.force && p.url == plan.url)
            .map(|p| Validators { etag: p.etag.clone(), last_modified: p.last_modified.clone() });
        let bar = progress.bar(&plan.id);
        let on_progress = move |got: u64, total: Option<u64>| bar(got, total);
        let download = Download {
            url: &plan.url,
            service: &plan.service,
            dest: &dest,
            conditional,
            expected_sha256: plan.expected_checksum.as_ref().map(|c| c.value.clone()),
            credential: plan.credential.clone(),
            progress: Some(&on_progress),
        };
        let expected = plan.expected_checksum.as_ref().map(|c| format!("sha256:{}", c.value));
        let info = match self.fetcher.download(&download).await {
            Ok(Fetched::Downloaded(info)) => info,
            Ok(Fetched::NotModified { .. }) => {
                self.count(&plan.resolver, "not_modified");
                let p = previous.expect("a conditional request implies a previous version");
                return self.cached(plan, &p, expected, vec![]);
            }
            Err(e) => return fail(&e.code(), e.to_string()),
        };
        let existing = match lock(&self.catalog).find_by_sha(&plan.id, &info.sha256) {
            Ok(x) => x,
            Err(e) => return fail(e.code(), e.to_string()),
        };
        if let Some(row) = existing {
            self.count(&plan.resolver, "not_modified");
            return self.cached(plan, &row, expected, vec!["identical bytes already stored; no new version".into()]);
        }
        // Archives are extracted inside staging, through the extraction and filesystem
        // gates; a refused entry fails the pull and the staging (with everything
        // extracted so far) is discarded.
        let filename = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stem = ontofetch_store::file_stem(&filename);
        let extracted = if ontofetch_archive::is_archive(&dest) {
            let into = staging.dir().join("original").join(format!("{stem}_extracted"));
            match ontofetch_archive::extract(&dest, &into, &gates) {
                Ok(report) => {
                    self.metrics.extracted_bytes.inc_by(report.total_bytes);
                    self.metrics.archive_expansion_ratio.observe(report.ratio());
                    let audit =
                        json!({"archive": filename, "sha256": info.sha256, "report": report, "ratio": report.ratio()});
                    if let Err(e) = staging.write_json(&format!("original/{stem}_extracted.audit.json"), &audit) {
                        return fail(&e.code(), e.to_string());
                    }
                    Some(report)
                }
                Err(e) => return fail(&e.code(), format!("extracting {filename}: {e}")),
            }
        } else {
            None
        };
        // Validators run on the original (or on each extracted file) in staging, each in a
        // resource-limited child process; strict mode turns a failure into a failed pull.
        let limits = crate::validation::Limits::from_config(&self.loaded);
        let targets: Vec<(String, std::path::PathBuf)> = match &extracted {
            None => vec![(String::new(), dest.clone())],
            Some(r) => r
                .files
                .iter()
                .take(50)
                .map(|f| {
                    (f.path.clone(), staging.dir().join("original").join(format!("{stem}_extracted")).join(&f.path))
                })
                .collect(),
        };
        let normalized_dir = staging.dir().join("normalized");
        if let Err(e) = std::fs::create_dir_all(&normalized_dir) {
            return fail("E_IO", format!("creating {}: {e}", normalized_dir.display()));
        }
        let mut validation = serde_json::Map::new();
        let mut validation_rows = Vec::new();
        let mut normalized_sha256 = None;
        for (rel, file) in &targets {
            let base = if rel.is_empty() { stem.clone() } else { ontofetch_store::sanitize_filename(rel) };
            let nt = normalized_dir.join(format!("{base}.nt"));
            let outcome = crate::validation::run_isolated(file, Some(&nt), limits, &self.metrics);
            let validator = outcome["validator"].as_str().unwrap_or("rdf").to_string();
            let key = if rel.is_empty() { validator.clone() } else { format!("{validator}:{rel}") };
            let status = outcome["status"].as_str().unwrap_or("failed").to_string();
            if rel.is_empty() {
                normalized_sha256 = outcome["normalized_sha256"].as_str().map(str::to_string);
            }
            let outputs: Vec<String> = if nt.exists() { vec![format!("normalized/{base}.nt")] } else { vec![] };
            validation.insert(
                key.clone(),
                json!({"ok": status == "ok", "status": status, "details": outcome, "output_files": outputs}),
            );
            validation_rows.push(ontofetch_catalog::ValidationRow {
                validator: key,
                result: status,
                details: outcome.to_string(),
                run_at: now_rfc3339(),
            });
        }
        let report = Value::Object(validation.clone());
        if let Err(e) = staging.write_json("validation/report.json", &report) {
            return fail(&e.code(), e.to_string());
        }
        if !self.loaded.config.defaults.continue_on_error
            && let Some(bad) = validation_rows.iter().find(|r| r.result == "failed")
        {
            let msg = validation[&bad.validator]["details"]["message"].as_str().unwrap_or("").to_string();
            return fail(
                "E_VALIDATION",
                format!("{} failed validation (strict mode keeps the last good version): {msg}", bad.validator),
            );
        }
        let downloaded_at = now_rfc3339();
        let mut notes = vec![];
        let base_version = plan
            .version
            .clone()
            .or_else(|| ontofetch_resolve::version::sniff(&read_prefix(&dest, 256 * 1024)))
            .unwrap_or_else(|| ontofetch_resolve::version::from_content(&info.sha256, &downloaded_at[..10]));
        let mut version = sanitize_version(&base_version);
        let clash = lock(&self.catalog)
            .versions(Some(&plan.id), 10_000)
            .map(|v| v.iter().any(|r| r.version == version))
            .unwrap_or(false);
        if clash || self.store.version_dir(&plan.id, &version).exists() {
            notes.push(format!(
                "upstream published new bytes under the same version {version:?}; stored as a separate version"
            ));
            version = format!("{version}-sha256-{}", &info.sha256[..12]);
        }
        let status = if previous.is_some() { "updated" } else { "fresh" };
        let final_dir = self.store.version_dir(&plan.id, &version);
        let mut artifacts_abs = vec![final_dir.join("original").join(&filename).display().to_string()];
        let extracted_rel: Vec<(String, &ontofetch_archive::ExtractedFile)> = extracted
            .iter()
            .flat_map(|r| r.files.iter())
            .map(|f| (format!("original/{stem}_extracted/{}", f.path), f))
            .collect();
        artifacts_abs.extend(extracted_rel.iter().map(|(rel, _)| final_dir.join(rel).display().to_string()));
        let cas_key = if self.loaded.config.defaults.enable_cas_mirror {
            let key = format!("by-sha256/{}/{}/{}", &info.sha256[..2], &info.sha256[2..4], info.sha256);
            artifacts_abs.push(self.store.root().join(&key).display().to_string());
            Some(key)
        } else {
            None
        };
        let mut manifest = manifest(plan, &version, status, &info, &filename, &downloaded_at, &artifacts_abs);
        manifest["validation"] = Value::Object(validation);
        manifest["normalized_sha256"] = json!(normalized_sha256);
        if let Err(e) = staging.write_json("manifest.json", &manifest) {
            return fail(&e.code(), e.to_string());
        }
        let promoted = match self.store.promote(&gates, staging, &plan.id, &version) {
            Ok(p) => p,
            Err(e) => return fail(&e.code(), e.to_string()),
        };
        let original_rel = format!("{}/original/{filename}", promoted.relpath);
        let mut artifacts = vec![ArtifactRow {
            relpath: original_rel.clone(),
            sha256: info.sha256.clone(),
            bytes: info.bytes,
            kind: "original".into(),
        }];
        if let Some(key) = &cas_key {
            match self.store.cas_put(&gates, &info.sha256, &promoted.dir.join("original").join(&filename)) {
                Ok(k) => artifacts.push(ArtifactRow {
                    relpath: k,
                    sha256: info.sha256.clone(),
                    bytes: info.bytes,
                    kind: "cas".into(),
                }),
                Err(e) => notes.push(format!("CAS copy {key} failed: {e}")),
            }
        }
        for (rel, f) in &extracted_rel {
            artifacts.push(ArtifactRow {
                relpath: format!("{}/{rel}", promoted.relpath),
                sha256: f.sha256.clone(),
                bytes: f.bytes,
                kind: "extracted".into(),
            });
        }
        let manifest_path = promoted.dir.join("manifest.json");
        if let Ok(sha) = sha256_file(&manifest_path) {
            let bytes = std::fs::metadata(&manifest_path).map(|m| m.len()).unwrap_or(0);
            artifacts.push(ArtifactRow {
                relpath: format!("{}/manifest.json", promoted.relpath),
                sha256: sha,
                bytes,
                kind: "manifest".into(),
            });
        }
        let row = VersionRow {
            ontology: plan.id.clone(),
            version: version.clone(),
            resolver: plan.resolver.clone(),
            // The plan's URL, not the redirect target: next time's conditional GET starts there.
            url: plan.url.clone(),
            sha256: info.sha256.clone(),
            bytes: info.bytes,
            filename: filename.clone(),
            relpath: promoted.relpath.clone(),
            content_type: info.content_type.clone(),
            etag: info.etag.clone(),
            last_modified: info.last_modified.clone(),
            license: plan.license.clone(),
            downloaded_at,
        };
        if let Err(e) = lock(&self.catalog).record(&row, &artifacts, true) {
            let _ = self.store.remove_version(&gates, &plan.id, &version);
            return fail(e.code(), format!("{e}; the promoted files were rolled back"));
        }
        if let Err(e) = lock(&self.catalog).record_validations(&plan.id, &version, &validation_rows) {
            notes.push(format!("validation results not recorded: {e}"));
        }
        if let Err(e) = self.store.set_latest(&plan.id, &version) {
            notes.push(format!("could not update the latest link: {e}"));
        }
        self.count(&plan.resolver, "fetched");
        PullResult {
            id: plan.id.clone(),
            resolver: Some(plan.resolver.clone()),
            status: status.into(),
            version: Some(version),
            sha256: Some(info.sha256.clone()),
            path: Some(self.store.root().join(&original_rel).display().to_string()),
            content_type: info.content_type,
            content_length: Some(info.bytes),
            etag: info.etag,
            last_modified: info.last_modified,
            cache_status: Some("miss".into()),
            expected_checksum: expected,
            error: None,
            notes,
            plan: Some(ontofetch_resolve::plan_to_value(plan)),
        }
    }

    fn cached(&self, plan: &Plan, row: &VersionRow, expected: Option<String>, notes: Vec<String>) -> PullResult {
        let _ = self.store.set_latest(&plan.id, &row.version);
        PullResult {
            id: plan.id.clone(),
            resolver: Some(plan.resolver.clone()),
            status: "cached".into(),
            version: Some(row.version.clone()),
            sha256: Some(row.sha256.clone()),
            path: Some(
                self.store.root().join(format!("{}/original/{}", row.relpath, row.filename)).display().to_string(),
            ),
            content_type: row.content_type.clone(),
            content_length: Some(row.bytes),
            etag: row.etag.clone(),
            last_modified: row.last_modified.clone(),
            cache_status: Some("hit".into()),
            expected_checksum: expected,
            error: None,
            notes,
            plan: Some(ontofetch_resolve::plan_to_value(plan)),
        }
    }
}

/// manifest.json, schema 1.0, DocsToKG's fields (sorted keys come from serde_json's map).
fn manifest(
    plan: &Plan,
    version: &str,
    status: &str,
    info: &ontofetch_net::DownloadInfo,
    filename: &str,
    downloaded_at: &str,
    artifacts: &[String],
) -> Value {
    let mut formats = plan.target_formats.clone();
    formats.sort();
    // DocsToKG's fingerprint: content basis | prefix hash | normalisation mode | formats.
    let fingerprint =
        ontofetch_store::sha256_bytes(format!("1.0|{}||none|{}", info.sha256, formats.join(",")).as_bytes());
    json!({
        "schema_version": "1.0",
        "id": plan.id,
        "resolver": plan.resolver,
        "url": info.final_url,
        "filename": filename,
        "version": version,
        "license": plan.license,
        "status": status,
        "sha256": info.sha256,
        "normalized_sha256": null,
        "fingerprint": fingerprint,
        "etag": info.etag,
        "last_modified": info.last_modified,
        "content_type": info.content_type,
        "content_length": info.bytes,
        "source_media_type_label": null,
        "streaming_prefix_sha256": null,
        "streaming_content_sha256": null,
        "expected_checksum": plan.expected_checksum,
        "downloaded_at": downloaded_at,
        "target_formats": plan.target_formats,
        "validation": {},
        "artifacts": artifacts,
        "resolver_attempts": plan.resolver_attempts,
    })
}
