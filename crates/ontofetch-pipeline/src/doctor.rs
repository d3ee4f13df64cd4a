//! `doctor`: is this machine ready to pull? Directories, free space, the configuration,
//! credentials, a self-test that the configured policy still refuses the classic SSRF
//! targets, and store ↔ catalog consistency. With `fix`, missing directories are created,
//! staging left by killed pulls is removed, and orphans on either side are retired so the
//! two agree again (the catalog is the record: an unrecorded directory never became a
//! version anyone could see).

use crate::backends::{Backends, Open};
pub use crate::checkup::*;
use crate::error::PipelineError;
use ontofetch_config::{ConfigError, DataDirs, Settings};
use ontofetch_policy::{Coded, Gates, Policy, TargetHost, url_gate};
use ontofetch_provenance::SigningKey;
use std::path::Path;

/// The SSRF targets every policy must refuse (an explicit allowlist entry for an address
/// is the operator's decision, except for the cloud metadata endpoint).
pub const SELF_TEST: &[&str] = &[
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://localhost/",
    "file:///etc/passwd",
];

/// What doctor found (its `--json` document).
pub type Report = Checkup;

#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    notes: Vec<String>,
    fixes: Vec<String>,
}

/// Free-space threshold: min(total, max(10 GB, 10% of total)), as DocsToKG's doctor.
fn disk_threshold(total: u64) -> u64 {
    total.min((10u64 * 1_000_000_000).max(total / 10))
}

/// How much room there is: whether the storage gate still admits writes (its reserve),
/// whether one download of the size cap still fits, whether free space is below the
/// recommended threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Room {
    writable: bool,
    cap_fits: bool,
    low: bool,
}

fn judge_disk(total: u64, free: u64, reserve: u64, download_cap: u64) -> Room {
    Room { writable: free >= reserve, cap_fits: free >= download_cap.min(total), low: free < disk_threshold(total) }
}

fn nearest_existing(path: &Path) -> &Path {
    let mut p = path;
    while !p.exists() {
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    p
}

fn writable(p: &Path) -> bool {
    rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok()
}

fn directory(name: &str, path: &Path, fix: bool, f: &mut Findings) -> Directory {
    let mut exists = path.is_dir();
    if !exists && fix && std::fs::create_dir_all(path).is_ok() {
        f.fixes.push(format!("created {}", path.display()));
        exists = true;
    }
    let is_writable = exists && writable(path);
    if exists && !is_writable {
        f.problems.push(format!("directory {name} ({}) is not writable", path.display()));
    } else if !exists && writable(nearest_existing(path)) {
        f.notes.push(format!("directory {name} ({}) will be created on first use (or now with --fix)", path.display()));
    } else if !exists {
        f.problems.push(format!("directory {name} ({}) is missing and cannot be created", path.display()));
    }
    Directory { path: path.to_path_buf(), exists, writable: is_writable }
}

/// Free space is a problem only below the storage gate's reserve, where every write is
/// refused (`E_DISK_SPACE`); below one download of the size cap, or below the DocsToKG
/// threshold, it is a note: a busy disk at 9 % free still works.
fn disk(root: &Path, reserve: u64, download_cap: u64, f: &mut Findings) -> Disk {
    let probe = nearest_existing(root);
    match rustix::fs::statvfs(probe) {
        Ok(s) => {
            let (total, free) = (s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize);
            let threshold = disk_threshold(total);
            let room = judge_disk(total, free, reserve, download_cap);
            let at = probe.display();
            if !room.writable {
                f.problems.push(format!(
                    "only {free} bytes free under {at}, under the storage reserve of {reserve} bytes: every write \
                     will be refused (E_DISK_SPACE); free space"
                ));
            } else if !room.cap_fits {
                f.notes.push(format!(
                    "only {free} bytes free under {at}: a download of the size cap ({download_cap} bytes, \
                     defaults.http.max_uncompressed_size_gb) would not fit"
                ));
            } else if room.low {
                f.notes.push(format!("only {free} bytes free under {at} (recommended {threshold})"));
            }
            Disk::Measured {
                path: probe.to_path_buf(),
                ok: room.writable,
                low: room.low,
                total_bytes: total,
                free_bytes: free,
                threshold_bytes: threshold,
                reserve_bytes: reserve,
                download_cap_bytes: download_cap,
            }
        }
        Err(e) => {
            f.problems.push(format!("cannot read free space of {}: {e}", probe.display()));
            Disk::Unknown { path: probe.to_path_buf(), ok: false, error: e.to_string() }
        }
    }
}

fn self_test(policy: &Policy, gates: &Gates<'_>, f: &mut Findings) -> Vec<Probe> {
    SELF_TEST
        .iter()
        .map(|probe| {
            let refused = gates.url(probe).err();
            let listed = url_gate::check_url(&policy.net, probe)
                .ok()
                .and_then(|a| match a.host {
                    TargetHost::Ip(ip) => Some(ip),
                    TargetHost::Domain(_) => None,
                })
                .is_some_and(|ip| policy.net.allowed_hosts.iter().any(|r| r.matches_ip(ip)));
            if refused.is_none() && listed && !probe.contains("169.254.169.254") {
                f.notes.push(format!("{probe} is reachable because allowed_hosts lists its address explicitly"));
            } else if refused.is_none() {
                f.problems
                    .push(format!("the configured policy lets {probe} through; check defaults.http.allowed_hosts"));
            }
            Probe { url: probe, refused: refused.is_some(), code: refused.map(|e| e.code()) }
        })
        .collect()
}

/// What doctor is asked to do beyond looking.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// Repair what can be repaired.
    pub fix: bool,
    /// Re-hash every stored artifact.
    pub verify: bool,
}

/// Runs every check; `progress` hears how far the re-hashing got (bytes done, in all).
pub async fn run(
    dirs: &DataDirs,
    settings: Result<&Settings, &ConfigError>,
    gates: Gates<'_>,
    mode: Mode,
    progress: crate::integrity::Progress<'_>,
) -> Report {
    let fix = mode.fix;
    let mut f = Findings::default();
    let directories = Directories {
        root: directory("root", &dirs.root, fix, &mut f),
        configs: directory("configs", &dirs.configs, fix, &mut f),
        cache: directory("cache", &dirs.cache, fix, &mut f),
        logs: directory("logs", &dirs.logs, fix, &mut f),
        ontologies: directory("ontologies", &dirs.ontologies, fix, &mut f),
    };
    let cap = settings.map_or(10.0, |s| s.defaults().http.max_uncompressed_size_gb);
    let reserve = settings
        .map_or(ontofetch_policy::StoragePolicy::default().reserve_bytes, |s| s.loaded.policy.storage.reserve_bytes);
    let disk = disk(&dirs.root, reserve, (cap * 1024.0 * 1024.0 * 1024.0) as u64, &mut f);
    let config = match settings {
        Ok(s) => {
            let path = match &s.loaded.origin {
                ontofetch_config::Origin::Builtin => None,
                ontofetch_config::Origin::File(p) => Some(p.clone()),
            };
            ConfigCheck::Valid { ok: true, path, ontologies: s.loaded.config.ontologies.len() }
        }
        Err(e) => {
            f.problems.push(e.to_string());
            ConfigCheck::Invalid { ok: false, error: e.to_string(), code: e.code() }
        }
    };
    let key_file = dirs.configs.join("bioportal_api_key.txt");
    let file_key = std::fs::read_to_string(&key_file).map(|v| !v.trim().is_empty()).unwrap_or(false);
    let configured = settings.is_ok_and(|s| s.secrets.bioportal_api_key.is_some());
    let credentials =
        Credentials { bioportal_api_key: ApiKey { file: key_file, file_configured: file_key, configured } };
    let self_test = match settings {
        Ok(s) => self_test(&s.loaded.policy, &gates, &mut f),
        Err(_) => vec![],
    };
    let (signing, key) = match settings {
        Ok(s) => {
            let (report, key) = signing(s, &mut f);
            (Some(report), key)
        }
        Err(_) => (None, None),
    };
    let store = match settings {
        Ok(s) => Some(reconcile(s, &gates, mode, key.as_ref(), progress, &mut f).await),
        Err(_) => None,
    };
    Checkup {
        ok: f.problems.is_empty(),
        version: env!("CARGO_PKG_VERSION"),
        directories,
        disk,
        config,
        credentials,
        gate_self_test: self_test,
        signing,
        store,
        problems: f.problems,
        notes: f.notes,
        fixes: f.fixes,
    }
}

/// The signing key: where it is and its verifier key, or a note that versions are stored
/// unsigned; a key that cannot be used is a problem.
fn signing(s: &Settings, f: &mut Findings) -> (Signing, Option<SigningKey>) {
    let key_file = s.signing_key_file();
    match crate::signing_key(s) {
        Ok(Some(key)) => {
            (Signing::Key { key_file, verifier_key: Some(key.verifier().as_str().to_string()) }, Some(key))
        }
        Ok(None) => {
            f.notes.push(format!(
                "no signing key at {}: versions are stored unsigned (`ontofetch keys generate` makes one)",
                key_file.display()
            ));
            (Signing::Key { key_file, verifier_key: None }, None)
        }
        Err(e) => {
            f.problems.push(format!("signing key: {e}"));
            (Signing::Broken { key_file, error: e.message }, None)
        }
    }
}

/// With `--verify` and a signing key: every stored attestation verifies under it, and the
/// files it names are the ones the catalog records (whose bytes the audit re-hashed).
async fn attestations(b: &Backends, survey: &crate::survey::Survey, key: &SigningKey, f: &mut Findings) {
    for (id, files) in &survey.artifacts {
        for (version, a) in files.iter().filter(|(_, a)| a.kind == ontofetch_catalog::ArtifactKind::Attestation) {
            let checked = match b.store.read(&a.relpath).await {
                Ok(bytes) => crate::provenance::open(&bytes, key.verifier()).and_then(|st| {
                    let prefix = format!("{}/", ontofetch_store::layout::version_key(id, version));
                    files.iter().filter(|(v, x)| v == version && crate::pull::attest::attested(x.kind)).try_for_each(
                        |(_, x)| {
                            let name = x.relpath.strip_prefix(&prefix).unwrap_or(&x.relpath);
                            st.check(name, &x.sha256).map_err(PipelineError::from_coded)
                        },
                    )
                }),
                Err(e) => Err(e.into()),
            };
            if let Err(e) = checked {
                f.problems.push(format!("{}: the attestation of {id}/{version} does not hold: {}", e.code, e.message));
            }
        }
    }
}

/// Store ↔ catalog consistency: version directories without rows, rows without files,
/// staging left by killed pulls, then every invariant of docs/architecture.md that the
/// stored bytes can show (`integrity::audit`).
async fn reconcile(
    settings: &Settings,
    gates: &Gates<'_>,
    mode: Mode,
    key: Option<&SigningKey>,
    progress: crate::integrity::Progress<'_>,
    f: &mut Findings,
) -> StoreCheck {
    let fix = mode.fix;
    let failed = |catalog: Option<String>, store: Option<String>, error: String| StoreCheck::Failed {
        ok: false,
        catalog,
        store,
        error,
    };
    let b = match Backends::find(settings, Open::Existing).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            let e = PipelineError::new(ontofetch_policy::Code::NotFound, crate::backends::no_catalog_yet(settings));
            // No catalog: fine, unless versions were stored without one (a catalog lost to a
            // disk accident, or a DocsToKG tree adopted). The store is the record of last
            // resort: `--fix` makes a catalog and adopts every version that proves itself.
            use ontofetch_store::ArtifactStore;
            let local = ontofetch_store::LocalStore::new(&settings.dirs.root);
            let dirs = local.version_dirs().await.unwrap_or_default();
            if dirs.is_empty() {
                return StoreCheck::NoCatalog { catalog: None, version_dirs: 0, note: e.message };
            }
            if !fix {
                f.problems.push(format!(
                    "{} version directories but {}; `ontofetch doctor --fix` rebuilds the catalog from them",
                    dirs.len(),
                    e.message
                ));
                return StoreCheck::NoCatalog { catalog: None, version_dirs: dirs.len(), note: e.message };
            }
            match Backends::open(settings, Open::Create).await {
                Ok(b) => {
                    f.fixes.push(format!(
                        "created a catalog at {} to adopt {} version directories",
                        b.catalog.url(),
                        dirs.len()
                    ));
                    b
                }
                Err(e) => {
                    f.problems.push(format!("catalog: {e}"));
                    return failed(None, None, e.message);
                }
            }
        }
        Err(e) => {
            f.problems.push(format!("catalog: {e}"));
            return failed(None, None, e.message);
        }
    };
    // Links planted where the tool keeps real files: reported, never followed nor removed
    // (nothing that deletes or writes goes through one; a person decides what they are).
    let mut planted = crate::links::find(&settings.dirs.root);
    if b.store.local_root() != settings.dirs.root.as_path() {
        planted.extend(crate::links::find(b.store.local_root()));
    }
    for l in &planted {
        f.problems.push(format!(
            "a symbolic link is planted at {} (-> {}): the tool neither follows nor removes it; check who made it, \
             then remove it (`rm {}`) or move the real directory back",
            l.key, l.target, l.key
        ));
    }
    let stale_dirs = b.store.stale_staging();
    let stale: Vec<String> = stale_dirs.iter().map(|p| p.display().to_string()).collect();
    for (p, dir) in stale.iter().zip(&stale_dirs) {
        if fix && b.store.remove_staging(dir).is_ok() {
            f.fixes.push(format!("removed interrupted staging {p}"));
        } else {
            f.problems.push(format!("interrupted pull left staging {p}; run `ontofetch doctor --fix`"));
        }
    }
    let survey = match crate::survey::Survey::take(&b).await {
        Ok(s) => s,
        Err(e) => {
            f.problems.push(format!("reading {} and {}: {e}", b.store.url(), b.catalog.url()));
            return failed(Some(b.catalog.url()), Some(b.store.url()), e.message);
        }
    };
    let found = match crate::reconcile::run(&b, gates, fix, &survey).await {
        Ok(found) => found,
        Err(e) => {
            f.problems.push(format!("comparing {} with {}: {e}", b.store.url(), b.catalog.url()));
            return failed(Some(b.catalog.url()), Some(b.store.url()), e.message);
        }
    };
    for o in &found.dirs_without_rows {
        match &o.reclaimed {
            Some(crate::adopt::Reclaimed::Adopted { verdict }) => {
                f.fixes.push(format!("adopted {} from its manifest and bytes (verdict {})", o.key, verdict.as_str()))
            }
            Some(crate::adopt::Reclaimed::Quarantined { to, why }) => {
                f.fixes.push(format!("moved {} to {to}: it could not be adopted ({why})", o.key));
                f.notes.push(format!("{to} is kept for you to inspect; delete it yourself once you have"));
            }
            None => f.problems.push(format!(
                "{} (`ontofetch doctor --fix` adopts it from its manifest, or moves it to {}/ when it cannot be)",
                o.problem,
                ontofetch_store::layout::QUARANTINE
            )),
        }
    }
    for o in &found.rows_without_files {
        if o.fixed {
            f.fixes.push(format!("removed {}: {}", o.key, o.problem));
        } else {
            f.problems.push(format!("{} (`ontofetch doctor --fix` retires it)", o.problem));
        }
    }
    let options = crate::integrity::AuditOptions { verify: mode.verify, fix };
    let audit = match crate::integrity::audit(&b, gates, options, progress, &survey).await {
        Ok(a) => a,
        Err(e) => {
            f.problems.push(format!("auditing {}: {e}", b.store.url()));
            crate::integrity::Audit::default()
        }
    };
    if let Some(key) = key.filter(|_| mode.verify) {
        attestations(&b, &survey, key, f).await;
    }
    if let Some(key) = key {
        match crate::tlog::audit(&b, key, mode.verify).await {
            Ok(log) => {
                f.problems.extend(log.problems.into_iter().map(|p| format!("log: {p}")));
                f.notes.extend(log.notes.into_iter().map(|n| format!("log: {n}")));
            }
            Err(e) => f.problems.push(format!("log: {}: {}", e.code, e.message)),
        }
    }
    for finding in &audit.findings {
        if finding.fixed {
            f.fixes.push(format!("{}: {}", finding.key, finding.problem));
        } else {
            f.problems.push(format!("{}: {}; {}", finding.code, finding.problem, finding.remedy.describe()));
        }
    }
    for id in &found.busy {
        f.notes.push(format!("{id} is being pulled by another worker; not checked this time"));
    }
    // What the store holds outside the layout, or CAS copies no row records: listed,
    // never deleted (they are not the mirror's to judge).
    let cas: std::collections::BTreeSet<String> = survey
        .artifacts
        .values()
        .flatten()
        .filter(|(_, a)| a.kind == ontofetch_catalog::ArtifactKind::Cas)
        .map(|(_, a)| a.relpath.clone())
        .collect();
    let strays = match crate::strays::find(&b, &cas).await {
        Ok(strays) => strays,
        Err(e) => {
            f.notes.push(format!("the store could not be listed for strays: {e}"));
            vec![]
        }
    };
    if !strays.is_empty() {
        let shown: Vec<&str> = strays.iter().take(20).map(String::as_str).collect();
        f.notes.push(format!(
            "{} name(s) in the store that ontofetch does not recognise (left alone; remove them yourself if they are \
             not wanted): {}{}",
            strays.len(),
            shown.join(", "),
            if strays.len() > shown.len() { ", …" } else { "" }
        ));
    }
    let uploads = incomplete_uploads(&b, fix, f).await;
    let lost_uploads = token_uploads(&b, fix, f).await;
    let keys = |v: &[crate::reconcile::Orphan]| v.iter().map(|o| o.key.clone()).collect::<Vec<_>>();
    StoreCheck::Checked(Box::new(StoreReport {
        catalog: b.catalog.url(),
        store: b.store.url(),
        schema_version: b.catalog.schema_version().await.ok(),
        versions: found.rows,
        version_dirs: found.dirs,
        dirs_without_rows: keys(&found.dirs_without_rows),
        rows_without_files: keys(&found.rows_without_files),
        busy: found.busy,
        stale_staging: stale,
        planted_links: planted,
        strays,
        integrity: audit,
        incomplete_uploads: uploads,
        lost_lease_uploads: lost_uploads,
    }))
}

/// An upload older than this was left by a worker that died: a live one completes or fails
/// (and aborts) within its retry budget, far sooner.
const STALE_UPLOAD: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Objects promotions uploaded under their lease's token (`.uploads/<id>/<token>/`): those
/// of a token older than the ontology's current one can never be recorded (their lease was
/// lost), whatever any clock says; they are problems and `--fix` removes them under the
/// ontology's lease. The current token's are a promotion in progress.
async fn token_uploads(b: &Backends, fix: bool, f: &mut Findings) -> Option<Vec<LostUploads>> {
    let listed = match b.store.list(&format!("{}/", ontofetch_store::layout::UPLOADS)).await {
        Ok(l) => l,
        Err(e) => {
            f.notes.push(format!("uploads in progress could not be listed: {e}"));
            return None;
        }
    };
    let mut by_id: std::collections::BTreeMap<String, std::collections::BTreeSet<u64>> = Default::default();
    for (key, _) in &listed {
        if let Some((id, token)) = ontofetch_store::layout::upload_token(key) {
            by_id.entry(id.to_string()).or_default().insert(token);
        }
    }
    let mut stale = Vec::new();
    for (id, tokens) in by_id {
        let Ok(current) = b.catalog.fence_token(&id).await else { continue };
        let lost: Vec<u64> = tokens.iter().copied().filter(|t| *t < current).collect();
        if lost.is_empty() {
            f.notes.push(format!("an upload of {id} is in progress (token {current})"));
            continue;
        }
        let fixed = match (fix, b.catalog.try_lease(&id).await) {
            (true, Ok(Some(lease))) => b.store.sweep_uploads(&id, lease.token()).await.is_ok(),
            _ => false,
        };
        if fixed {
            f.fixes.push(format!("removed what lost leases of {id} (tokens {lost:?}) had uploaded"));
        } else {
            f.problems.push(format!(
                "objects uploaded under lost leases of {id} (tokens {lost:?}, the current one is {current}) are in \
                 {}/{id}/; `ontofetch doctor --fix` removes them",
                ontofetch_store::layout::UPLOADS
            ));
        }
        stale.push(LostUploads { id, tokens: lost, current, removed: fixed });
    }
    Some(stale)
}

/// Incomplete multipart uploads in the bucket: the stale ones are problems (`--fix` aborts
/// them), the recent ones are noted as in progress. One under a lease's token is stale when
/// that token is no longer the ontology's current one (a server's clock cannot make a live
/// worker's upload look old); any other by its age.
async fn incomplete_uploads(b: &Backends, fix: bool, f: &mut Findings) -> Option<Uploads> {
    let all = match b.store.open_uploads().await {
        Ok(Some(all)) => all,
        Ok(None) => return None,
        Err(e) => {
            f.notes.push(format!("incomplete multipart uploads could not be listed: {e}"));
            return None;
        }
    };
    let mut fenced = Vec::new();
    let mut undecided = Vec::new();
    for u in all {
        let current = match ontofetch_store::layout::upload_token(&u.key) {
            Some((id, _)) => b.catalog.fence_token(id).await.ok(),
            None => None,
        };
        match upload_fate(&u.key, current) {
            UploadFate::Fenced => fenced.push(u),
            UploadFate::Live => {}
            UploadFate::ByAge => undecided.push(u),
        }
    }
    let (mut stale, recent) = split_stale(undecided, std::time::SystemTime::now(), STALE_UPLOAD);
    stale.extend(fenced);
    for u in &stale {
        if fix && b.store.abort_upload(u).await.is_ok() {
            f.fixes.push(format!("aborted the incomplete upload of {} (started {})", u.key, u.initiated));
        } else {
            f.problems.push(format!(
                "an incomplete multipart upload of {} (started {}; its worker died during it) holds parts in the \
                 bucket; `ontofetch doctor --fix` aborts it",
                u.key, u.initiated
            ));
        }
    }
    if !recent.is_empty() {
        f.notes.push(format!("{} multipart upload(s) in progress", recent.len()));
    }
    Some(Uploads { stale, in_progress: recent.len() })
}

/// How an incomplete multipart upload is judged.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UploadFate {
    /// Under a token older than the ontology's current one: its lease can never record.
    Fenced,
    /// Under the current token (or one the catalog could not be asked about): left alone.
    Live,
    /// Not under a token (an older layout): judged by its age.
    ByAge,
}

/// The fate of an upload to `key`, given its ontology's current token (`None`: unknown).
pub(crate) fn upload_fate(key: &str, current: Option<u64>) -> UploadFate {
    match (ontofetch_store::layout::upload_token(key), current) {
        (Some((_, token)), Some(current)) if token < current => UploadFate::Fenced,
        (Some(_), _) => UploadFate::Live,
        (None, _) => UploadFate::ByAge,
    }
}

/// Uploads started more than `age` before `now`, and the rest. One whose start cannot be
/// read is never called stale (nothing is aborted on a guess).
pub(crate) fn split_stale(
    uploads: Vec<ontofetch_store::OpenUpload>,
    now: std::time::SystemTime,
    age: std::time::Duration,
) -> (Vec<ontofetch_store::OpenUpload>, Vec<ontofetch_store::OpenUpload>) {
    uploads.into_iter().partition(|u| {
        humantime::parse_rfc3339_weak(&u.initiated).is_ok_and(|t| now.duration_since(t).is_ok_and(|d| d > age))
    })
}

#[cfg(test)]
mod tests {
    use super::{Room, judge_disk};
    const GB: u64 = 1_000_000_000;

    #[test]
    fn only_a_disk_below_the_storage_reserve_is_a_problem() {
        let (reserve, cap) = (64 << 20, 10 << 30);
        let room = |total, free| judge_disk(total, free, reserve, cap);
        // 270 GB disk, 23 GB free (CI): below the 10 % recommendation, fine
        assert_eq!(room(270 * GB, 23 * GB), Room { writable: true, cap_fits: true, low: true });
        // 5 GB free: a 10 GiB download would not fit, but writes work
        assert_eq!(room(270 * GB, 5 * GB), Room { writable: true, cap_fits: false, low: true });
        // under the reserve: every write is refused
        assert_eq!(room(270 * GB, 10 << 20), Room { writable: false, cap_fits: false, low: true });
        // plenty of room
        assert_eq!(room(100 * GB, 60 * GB), Room { writable: true, cap_fits: true, low: false });
    }
}

#[cfg(test)]
mod upload_tests {
    use super::{UploadFate, split_stale, upload_fate};

    /// An upload under a lease's token is judged by the token, never by a clock: a server
    /// that reports every upload as started in 2010 cannot make a live worker's look stale.
    #[test]
    fn uploads_under_a_token_are_judged_by_the_token() {
        let key = ".uploads/go/7/2025-01-01/original/go.owl";
        assert_eq!(upload_fate(key, Some(8)), UploadFate::Fenced);
        assert_eq!(upload_fate(key, Some(7)), UploadFate::Live);
        assert_eq!(upload_fate(key, None), UploadFate::Live, "unknown token: left alone");
        assert_eq!(upload_fate("ontologies/go/2025-01-01/original/go.owl", Some(8)), UploadFate::ByAge);
        assert_eq!(upload_fate(".uploads/go/x/v/f", Some(8)), UploadFate::ByAge, "not a token");
    }
    use ontofetch_store::OpenUpload;
    use std::time::Duration;

    #[test]
    fn only_uploads_older_than_a_day_are_stale_and_an_unreadable_date_never_is() {
        let up = |at: &str| OpenUpload { key: "k".into(), upload_id: at.into(), initiated: at.into() };
        let now = humantime::parse_rfc3339("2026-11-30T12:00:00Z").unwrap();
        let (stale, recent) = split_stale(
            vec![up("2026-11-28T12:00:00.000Z"), up("2026-11-30T11:00:00.000Z"), up("yesterday")],
            now,
            Duration::from_secs(24 * 3600),
        );
        assert_eq!(stale.iter().map(|u| u.upload_id.as_str()).collect::<Vec<_>>(), ["2026-11-28T12:00:00.000Z"]);
        assert_eq!(recent.len(), 2);
    }
}
