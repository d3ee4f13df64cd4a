//! `keys generate|show` and `verify`, for every front end: the mirror's signing key, and
//! the check a consumer runs on what it got (docs/provenance.md).

use crate::context::Context;
use crate::error::AppError;
use crate::mirror::{check_id, open, stored_id, version_or_latest};
use crate::report::{Report, safe};
use ontofetch_pipeline::provenance::{Checked, VerifiedVersion};
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

/// Checks `target` against its attestation under the trusted key.
pub async fn verify(ctx: &Context, target: &Target, key: Option<&str>) -> Result<Verified, AppError> {
    let trusted = trusted(ctx, key)?;
    let checked = match target {
        Target::Stored { id, version } => {
            check_id(id)?;
            let b = open(ctx).await?;
            let id = stored_id(ctx, &b, id).await?;
            let version = version_or_latest(b.catalog.as_ref(), &id, version.as_deref()).await?;
            ontofetch_pipeline::provenance::verify_version(&b, &id, &version, &trusted).await
        }
        Target::File { path, attestation } => {
            let envelope = attestation
                .clone()
                .or_else(|| Some(path.parent()?.parent()?.join(ontofetch_store::layout::ATTESTATION)))
                .ok_or_else(|| AppError::usage("give --attestation"))?;
            let bytes = std::fs::read(&envelope)
                .map_err(|e| AppError::io(format!("reading the attestation {}", envelope.display()), e))?;
            ontofetch_pipeline::provenance::verify_file(path, &bytes, &trusted)
        }
    };
    let VerifiedVersion { key, files, statement } = checked.map_err(|e| {
        ctx.metrics.attestation_verify_failures.inc();
        let refused = e.code == Code::Attestation;
        AppError { refused, ..AppError::from(e) }
    })?;
    let p = statement.predicate;
    Ok(Verified { ok: true, id: p.ontology, version: p.version, key, files, url: p.url })
}
