//! Checking what was stored against its attestation (`verify`, `doctor --verify`): the
//! envelope's signature under a trusted verifier key, then every attested file's bytes,
//! streamed from the store and hashed, against the statement's subjects. Anything else —
//! no attestation, another key, another version's statement, a byte flipped — is refused
//! with `E_ATTESTATION` (docs/provenance.md).

use crate::backends::Backends;
use crate::error::PipelineError;
use crate::pull::attest::attested;
use ontofetch_policy::Code;
use ontofetch_provenance::{Envelope, Statement, VerifierKey};
use ontofetch_store::layout;
use serde::Serialize;

/// A file the check found to be the attested bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Its name in the statement (its path inside the version directory).
    pub name: String,
    /// Its SHA-256, as hashed now.
    pub sha256: String,
}

/// What a successful check established.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedVersion {
    /// The key the signature verified under (`name+id`).
    pub key: String,
    /// Every attested file, hashed.
    pub files: Vec<Checked>,
    /// The statement.
    pub statement: Statement,
    /// The envelope's bytes as checked (what the transparency log holds).
    #[serde(skip)]
    pub envelope: Vec<u8>,
}

fn refused(message: impl Into<String>) -> PipelineError {
    PipelineError::new(Code::Attestation, message)
}

/// The statement an envelope carries, once its signature verifies under `key`.
pub fn open(envelope: &[u8], key: &VerifierKey) -> Result<Statement, PipelineError> {
    let envelope = Envelope::from_json(envelope).map_err(PipelineError::from_coded)?;
    let payload = envelope.verify(key).map_err(PipelineError::from_coded)?;
    Statement::from_json(&payload).map_err(PipelineError::from_coded)
}

/// Checks stored version `id`/`version` against its attestation under `key`.
pub async fn verify_version(
    b: &Backends,
    id: &str,
    version: &str,
    key: &VerifierKey,
) -> Result<VerifiedVersion, PipelineError> {
    let vkey = layout::version_key(id, version);
    let bytes = match b.store.read(&format!("{vkey}/{}", layout::ATTESTATION)).await {
        Ok(bytes) => bytes,
        Err(ontofetch_store::StoreError::NotFound(_)) => {
            return Err(refused(format!(
                "{id}/{version} has no attestation: it was stored unsigned (`ontofetch keys generate`, then pull again)"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let statement = open(&bytes, key)?;
    let p = &statement.predicate;
    if p.ontology != id || p.version != version {
        return Err(refused(format!(
            "the attestation stored with {id}/{version} is about {}/{}",
            p.ontology, p.version
        )));
    }
    let prefix = format!("{vkey}/");
    let mut files = Vec::new();
    let rows = b.catalog.artifacts(id, version).await?;
    for row in rows.iter().filter(|a| attested(a.kind)) {
        let name = row.relpath.strip_prefix(&prefix).unwrap_or(&row.relpath);
        let sha256 = crate::integrity::stored_sha256(b, &row.relpath, row.bytes, |_| {}).await?;
        statement.check(name, &sha256).map_err(PipelineError::from_coded)?;
        files.push(Checked { name: name.to_string(), sha256 });
    }
    for s in &statement.subject {
        if !files.iter().any(|f| f.name == s.name) {
            return Err(refused(format!("the attestation names {}, which {id}/{version} does not hold", s.name)));
        }
    }
    Ok(VerifiedVersion { key: key.key_id(), files, statement, envelope: bytes })
}

/// Checks a local file against an attestation: the statement must name a file of that
/// name (its path inside the version, or its file name) with these bytes.
pub fn verify_file(
    path: &std::path::Path,
    envelope: &[u8],
    key: &VerifierKey,
) -> Result<VerifiedVersion, PipelineError> {
    let statement = open(envelope, key)?;
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let named: Vec<&str> = statement
        .subject
        .iter()
        .map(|s| s.name.as_str())
        .filter(|n| *n == file || n.ends_with(&format!("/{file}")))
        .collect();
    let sha256 = ontofetch_provenance::sha256_file(path).map_err(PipelineError::from_coded)?;
    let name = match named.as_slice() {
        [] => {
            return Err(refused(format!(
                "the attestation does not name {file} (it names {})",
                statement.subject.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        // The same file name in two directories: the bytes decide which one it is.
        many => many.iter().find(|n| statement.sha256_of(n) == Some(sha256.as_str())).unwrap_or(&many[0]).to_string(),
    };
    statement.check(&name, &sha256).map_err(PipelineError::from_coded)?;
    Ok(VerifiedVersion {
        key: key.key_id(),
        files: vec![Checked { name, sha256 }],
        statement,
        envelope: envelope.to_vec(),
    })
}

/// After files of a signed version were rewritten (`validate` renders its normalised files
/// again): the attestation, re-signed with the new files' digests, written over the old
/// one, and its row, to record with the rewritten files. `None` when nothing changed, the
/// mirror has no key or the version was stored unsigned (it is not signed afterwards: an
/// attestation says what a pull fetched).
pub async fn reattest(
    p: &crate::Pipeline,
    id: &str,
    version: &str,
    rewritten: &[ontofetch_catalog::ArtifactRow],
) -> Result<Option<ontofetch_catalog::ArtifactRow>, PipelineError> {
    let Some(signer) = &p.signer else { return Ok(None) };
    let b = &p.backends;
    let vkey = layout::version_key(id, version);
    let key = format!("{vkey}/{}", layout::ATTESTATION);
    let bytes = match b.store.read(&key).await {
        Ok(bytes) => bytes,
        Err(ontofetch_store::StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut statement = open(&bytes, signer.verifier())?;
    let prefix = format!("{vkey}/");
    let mut changed = false;
    for row in rewritten.iter().filter(|a| attested(a.kind)) {
        let name = row.relpath.strip_prefix(&prefix).unwrap_or(&row.relpath).to_string();
        match statement.subject.iter_mut().find(|s| s.name == name) {
            Some(s) if s.digest.get("sha256") == Some(&row.sha256) => {}
            Some(s) => {
                s.digest.insert("sha256".into(), row.sha256.clone());
                changed = true;
            }
            None => {
                let digest = std::collections::BTreeMap::from([("sha256".to_string(), row.sha256.clone())]);
                statement.subject.push(ontofetch_provenance::Subject { name, digest });
                changed = true;
            }
        }
    }
    if !changed {
        return Ok(None);
    }
    let envelope = Envelope::sign(ontofetch_provenance::dsse::IN_TOTO, &statement.to_json(), signer)
        .map_err(PipelineError::from_coded)?;
    let text = envelope.to_json();
    b.store.write(&key, &text).await?;
    Ok(Some(ontofetch_catalog::ArtifactRow {
        relpath: key,
        sha256: ontofetch_fsutil::sha256_bytes(&text),
        bytes: text.len() as u64,
        kind: ontofetch_catalog::ArtifactKind::Attestation,
    }))
}
