//! `keys generate|show` and `verify`, for every front end: the mirror's signing key, and
//! the check a consumer runs on what it got (docs/provenance.md).

use crate::context::Context;
use crate::error::AppError;
use crate::mirror::{check_id, open, stored_id, version_or_latest};
use crate::report::{Report, safe};
use ontofetch_pipeline::PipelineError;
use ontofetch_pipeline::provenance::{Checked, VerifiedVersion};
use ontofetch_pipeline::tlog::{self, Inclusion};
use ontofetch_policy::Code;
use ontofetch_provenance::{SigningKey, VerifierKey};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The mirror's key: where it is and the verifier key consumers trust.
#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    /// Always true.
    pub ok: bool,
    /// The signing key's file (0600).
    pub path: PathBuf,
    /// The verifier key, in the C2SP signed-note form.
    pub verifier_key: String,
    /// The raw Ed25519 public key, hex (for tools that take one).
    pub public_key_hex: String,
    /// Whether `keys generate` made it now.
    pub generated: bool,
}

impl Report for KeyReport {
    fn human(&self) -> String {
        let made = if self.generated { "wrote" } else { "signing key" };
        format!(
            "{}\n{made} {} (0600: keep it secret; consumers trust the line above)",
            self.verifier_key,
            self.path.display()
        )
    }
}

fn report(key: &SigningKey, path: PathBuf, generated: bool) -> KeyReport {
    let v = key.verifier();
    KeyReport { ok: true, path, verifier_key: v.as_str().to_string(), public_key_hex: v.public_hex(), generated }
}

/// `keys generate [--name ORIGIN]`: a new Ed25519 signing key at the configured path
/// (never over an existing one). The default name is this host's.
pub fn generate(ctx: &Context, name: Option<&str>) -> Result<KeyReport, AppError> {
    let path = ctx.settings()?.signing_key_file();
    if path.exists() {
        return Err(AppError::usage(format!(
            "{} already exists; `ontofetch keys show` prints its verifier key (a new key would make every \
             attestation signed with it unverifiable for consumers who trust it)",
            path.display()
        )));
    }
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "localhost".into());
    let name = name.map(str::to_string).unwrap_or(format!("{host}/ontofetch"));
    let key = SigningKey::generate(&name).map_err(|e| AppError::usage(format!("--name: {e}")))?;
    key.write_new(&path)?;
    Ok(report(&key, path, true))
}

/// `keys show`: the verifier key of the configured signing key.
pub fn show(ctx: &Context) -> Result<KeyReport, AppError> {
    let settings = ctx.settings()?;
    let path = settings.signing_key_file();
    match ontofetch_pipeline::signing_key(settings)? {
        Some(key) => Ok(report(&key, path, false)),
        None => Err(AppError::usage(format!(
            "no signing key at {}; `ontofetch keys generate` makes one (versions are stored unsigned until then)",
            path.display()
        ))),
    }
}

/// The transparency log as `log show` and `log publish` report it.
#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    /// Always true.
    pub ok: bool,
    /// The log's origin (the signing key's name).
    pub origin: String,
    /// Entries under the published checkpoint (0 before the first).
    pub size: u64,
    /// The checkpoint's root hash, base64 (`None` before the first).
    pub root: Option<String>,
    /// Entries the catalog holds (more than `size` only between an append and its
    /// checkpoint: a publication that was interrupted).
    pub catalog_entries: u64,
    /// Attestations waiting to be appended.
    pub pending: u64,
    /// Entries this command appended.
    pub appended: u64,
    /// Entries it restored into the catalog from the store's bundles.
    pub restored: u64,
}

impl Report for LogReport {
    fn human(&self) -> String {
        let mut out = format!(
            "log {}: {} entries under its checkpoint{}\n",
            safe(&self.origin),
            self.size,
            self.root.as_deref().map(|r| format!(" (root {r})")).unwrap_or_default()
        );
        if self.appended > 0 || self.restored > 0 {
            out.push_str(&format!("appended {}, restored {}\n", self.appended, self.restored));
        }
        if self.pending > 0 || self.catalog_entries != self.size {
            out.push_str(&format!(
                "{} attestation(s) wait to be appended; the catalog holds {} entries (`ontofetch log publish`)\n",
                self.pending, self.catalog_entries
            ));
        }
        out
    }
}

async fn log_state(ctx: &Context, appended: u64, restored: u64) -> Result<LogReport, AppError> {
    let settings = ctx.settings()?;
    let key = ontofetch_pipeline::signing_key(settings)?.ok_or_else(|| {
        AppError::usage("this mirror does not sign (no signing key), so it keeps no log: `ontofetch keys generate`")
    })?;
    let b = open(ctx).await?;
    let checkpoint = tlog::stored_checkpoint(&b, key.verifier()).await?;
    Ok(LogReport {
        ok: true,
        origin: key.verifier().name().to_string(),
        size: checkpoint.as_ref().map_or(0, |c| c.size()),
        root: checkpoint.as_ref().map(|c| c.hash().to_string()),
        catalog_entries: b.catalog.log_entries(0).await?.len() as u64,
        pending: b.catalog.log_pending().await?.len() as u64,
        appended,
        restored,
    })
}

/// `log show`.
pub async fn log_show(ctx: &Context) -> Result<LogReport, AppError> {
    log_state(ctx, 0, 0).await
}

/// `log publish`.
pub async fn log_publish(ctx: &Context) -> Result<LogReport, AppError> {
    let p = ctx.pipeline(false).await?;
    let published = tlog::publish_signed(&p).await.ok_or_else(|| {
        AppError::usage("this mirror does not sign (no signing key), so it keeps no log: `ontofetch keys generate`")
    })??;
    log_state(ctx, published.appended, published.restored).await
}

/// What `verify` checks.
#[derive(Debug, Clone)]
pub enum Target {
    /// A stored version (latest when `version` is `None`).
    Stored {
        /// Ontology id.
        id: String,
        /// Version.
        version: Option<String>,
    },
    /// A local file and the attestation it came with (default: the version directory's,
    /// two levels up from `original/<file>`).
    File {
        /// The file.
        path: PathBuf,
        /// The attestation.
        attestation: Option<PathBuf>,
        /// The mirror's transparency log to prove the attestation is in: a served mirror's
        /// `…/log` URL or a directory holding a copy. Without it only the signature and
        /// the bytes are checked.
        log: Option<String>,
    },
}

/// A check that held.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// Always true (a check that fails is an error, exit 3).
    pub ok: bool,
    /// The ontology and version the statement is about.
    pub id: String,
    /// See `id`.
    pub version: String,
    /// The trusted key the signature verified under.
    pub key: String,
    /// Every file checked, with its SHA-256.
    pub files: Vec<Checked>,
    /// Where the bytes came from (the statement's plan URL).
    pub url: String,
    /// The attestation's place in the mirror's transparency log, proven under a checkpoint
    /// signed by the same key and consistent with the last one seen of that log (`None`
    /// for a file checked without `--log`).
    pub log: Option<Inclusion>,
}

impl Report for Verified {
    fn human(&self) -> String {
        let mut out = format!(
            "verified {}/{} under {}: {} file(s) are the attested bytes (from {})\n",
            safe(&self.id),
            safe(&self.version),
            safe(&self.key),
            self.files.len(),
            safe(&self.url)
        );
        for f in &self.files {
            out.push_str(&format!("  {}  {}\n", f.sha256, safe(&f.name)));
        }
        match &self.log {
            Some(l) => out.push_str(&format!(
                "in the log {} at index {} under its checkpoint of {} entries{}\n",
                safe(&l.origin),
                l.log_index,
                l.checkpoint_size,
                match l.consistent_with {
                    Some(n) => format!(", which extends the one of {n} seen before"),
                    None => ", the first seen of it (remembered)".into(),
                }
            )),
            None => out.push_str("not checked against a transparency log (give --log)\n"),
        }
        out
    }
}

/// The trusted key: `--key` (the verifier key itself, or a file holding it), else the
/// mirror's own signing key's.
fn trusted(ctx: &Context, key: Option<&str>) -> Result<VerifierKey, AppError> {
    let text = match key {
        Some(k) if Path::new(k).is_file() => {
            std::fs::read_to_string(k).map_err(|e| AppError::io(format!("reading the key {k}"), e))?
        }
        Some(k) => k.to_string(),
        None => match ontofetch_pipeline::signing_key(ctx.settings()?)? {
            Some(key) => return Ok(key.verifier().clone()),
            None => {
                return Err(AppError::usage(
                    "no key to trust: give --key with the mirror's verifier key (`ontofetch keys show` on the mirror)",
                ));
            }
        },
    };
    VerifierKey::parse(&text).map_err(|e| AppError::usage(format!("--key: {e}")))
}

/// Checks `target` against its attestation under the trusted key, and the attestation's
/// inclusion in the mirror's transparency log.
pub async fn verify(ctx: &Context, target: &Target, key: Option<&str>) -> Result<Verified, AppError> {
    let trusted = trusted(ctx, key)?;
    let checked = check(ctx, target, &trusted).await;
    let (VerifiedVersion { key, files, statement, .. }, log) = checked.map_err(|e| {
        ctx.metrics.attestation_verify_failures.inc();
        let refused = matches!(e.code, Code::Attestation | Code::LogInconsistent);
        AppError { refused, ..AppError::from(e) }
    })?;
    let p = statement.predicate;
    Ok(Verified { ok: true, id: p.ontology, version: p.version, key, files, url: p.url, log })
}

async fn check(
    ctx: &Context,
    target: &Target,
    trusted: &VerifierKey,
) -> Result<(VerifiedVersion, Option<Inclusion>), PipelineError> {
    let settings = ctx.settings().map_err(|e| PipelineError::new(e.code, e.message.clone()))?;
    let trust_dir = settings.dirs.root.join(ontofetch_store::layout::TRUST);
    match target {
        Target::Stored { id, version } => {
            let app = |e: AppError| PipelineError::new(e.code, e.message);
            check_id(id).map_err(app)?;
            let b = open(ctx).await.map_err(app)?;
            let id = stored_id(ctx, &b, id).await.map_err(app)?;
            let version = version_or_latest(b.catalog.as_ref(), &id, version.as_deref()).await.map_err(app)?;
            let verified = ontofetch_pipeline::provenance::verify_version(&b, &id, &version, trusted).await?;
            let included = tlog::prove_version(&b, &id, &version, &verified.envelope, trusted, &trust_dir).await?;
            Ok((verified, Some(included)))
        }
        Target::File { path, attestation, log } => {
            let envelope = attestation
                .clone()
                .or_else(|| Some(path.parent()?.parent()?.join(ontofetch_store::layout::ATTESTATION)))
                .ok_or_else(|| PipelineError::new(Code::Usage, "give --attestation"))?;
            let bytes = std::fs::read(&envelope)
                .map_err(ontofetch_pipeline::error::io(format!("reading the attestation {}", envelope.display())))?;
            let verified = ontofetch_pipeline::provenance::verify_file(path, &bytes, trusted)?;
            let included = match log.as_deref() {
                None => None,
                Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                    let fetcher = ontofetch_pipeline::Pipeline::fetcher_for(settings, ctx.metrics.clone())?;
                    let src = tlog::HttpLog { fetcher: &fetcher, base: url.trim_end_matches('/').to_string() };
                    Some(tlog::prove_in(&src, &bytes, trusted, &trust_dir).await?)
                }
                Some(dir) => {
                    let src = tlog::DirLog(PathBuf::from(dir));
                    Some(tlog::prove_in(&src, &bytes, trusted, &trust_dir).await?)
                }
            };
            Ok((verified, included))
        }
    }
}
