//! The mirror's signing key and the verifier key consumers trust, in the C2SP signed-note
//! encodings Go's `golang.org/x/mod/sumdb/note` reads and writes:
//! `PRIVATE+KEY+<name>+<8-hex key id>+<base64(0x01 || seed)>` and
//! `<name>+<8-hex key id>+<base64(0x01 || public key)>`, the key id being the first four
//! bytes of SHA-256(name || "\n" || 0x01 || public key). The signing key is a secret: it is
//! never shown (`Debug` prints its verifier key only), and its file is created 0600, never
//! over an existing one.

use crate::ProvenanceError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use signed_note::{Signer as _, StandardSigner, StandardVerifier, Verifier as _};
use std::path::Path;

/// The signing key (a secret).
#[derive(Clone)]
pub struct SigningKey {
    text: String,
    signer: StandardSigner,
    verifier: VerifierKey,
}

/// A verifier key: a name, a key id and an Ed25519 public key.
#[derive(Clone)]
pub struct VerifierKey {
    text: String,
    name: String,
    id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl std::fmt::Debug for SigningKey {
    /// The secret is never rendered, only whose it is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({} [redacted])", self.verifier.text)
    }
}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifierKey({})", self.text)
    }
}

/// The 32 key bytes an encoded key carries after `fields` '+'-separated fields (the base64
/// may hold '+' itself, so the fields before it are counted) and its algorithm byte.
fn key_bytes(text: &str, fields: usize, what: &str) -> Result<[u8; 32], ProvenanceError> {
    let encoded = text.splitn(fields + 1, '+').nth(fields).unwrap_or_default();
    let bytes = STANDARD.decode(encoded).map_err(|_| ProvenanceError::Key(format!("{what}'s key is not base64")))?;
    match bytes.split_first() {
        Some((1, key)) => key.try_into().map_err(|_| ProvenanceError::Key(format!("{what} is not an Ed25519 key"))),
        _ => Err(ProvenanceError::Key(format!("{what} is not an Ed25519 key (algorithm 1)"))),
    }
}

/// Whether `name` may name a key (signed-note: non-empty, no Unicode space, no `+`).
pub fn valid_name(name: &str) -> bool {
    signed_note::is_key_name_valid(name)
}

impl SigningKey {
    /// A new key named `name` (the log's origin: a host and path, such as
    /// `mirror.example.org/ontologies`).
    pub fn generate(name: &str) -> Result<SigningKey, ProvenanceError> {
        if !valid_name(name) {
            return Err(ProvenanceError::Key(format!(
                "{name:?} cannot name a key: give a non-empty name without spaces or '+' (a host and path)"
            )));
        }
        let (skey, _) = signed_note::generate_key(&mut rand_core::OsRng, name);
        SigningKey::parse(&skey)
    }

    /// A key from its encoded text.
    pub fn parse(text: &str) -> Result<SigningKey, ProvenanceError> {
        let text = text.trim();
        let signer = StandardSigner::new(text)
            .map_err(|e| ProvenanceError::Key(format!("not a signing key (PRIVATE+KEY+name+id+key): {e}")))?;
        // The public half, from the seed the encoding carries (after 4 '+'-separated fields).
        let seed = key_bytes(text, 4, "a signing key")?;
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
        let verifier = VerifierKey::parse(&signed_note::new_ed25519_verifier_key(signer.name(), &public))?;
        Ok(SigningKey { text: text.to_string(), signer, verifier })
    }

    /// Reads a key file; refuses one that others may read (it is a secret).
    pub fn read(path: &Path) -> Result<SigningKey, ProvenanceError> {
        use std::os::unix::fs::PermissionsExt;
        let io = |e| ProvenanceError::Io { what: format!("reading the signing key {}", path.display()), source: e };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(ProvenanceError::Key(format!(
                "the signing key {} is readable by others (mode {:o}): `chmod 600` it",
                path.display(),
                mode & 0o777
            )));
        }
        SigningKey::parse(&std::fs::read_to_string(path).map_err(io)?)
    }

    /// Writes the key to a new file, 0600; an existing file is never replaced.
    pub fn write_new(&self, path: &Path) -> Result<(), ProvenanceError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let io = |e| ProvenanceError::Io { what: format!("writing the signing key {}", path.display()), source: e };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(io)?;
        f.write_all(format!("{}\n", self.text).as_bytes()).and_then(|()| f.sync_all()).map_err(io)
    }

    /// The verifier key consumers trust.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }

    /// The signer of signed notes (checkpoints).
    pub fn signer(&self) -> &dyn signed_note::Signer {
        &self.signer
    }

    /// An Ed25519 signature of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ProvenanceError> {
        self.signer.sign(msg).map_err(|e| ProvenanceError::Signature(format!("signing failed: {e}")))
    }
}

impl VerifierKey {
    /// A verifier key from its encoded text (`name+id+base64`).
    pub fn parse(text: &str) -> Result<VerifierKey, ProvenanceError> {
        let text = text.trim();
        let verifier = StandardVerifier::new(text)
            .map_err(|e| ProvenanceError::Key(format!("not a verifier key (name+id+key): {e}")))?;
        let public = key_bytes(text, 2, "a verifier key")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
            .map_err(|_| ProvenanceError::Key("a verifier key is not an Ed25519 point".into()))?;
        Ok(VerifierKey { text: text.to_string(), name: verifier.name().to_string(), id: verifier.key_id(), key })
    }

    /// The verifier of signed notes (checkpoints) signed by this key.
    pub fn note_verifier(&self) -> StandardVerifier {
        StandardVerifier::new(&self.text).expect("a parsed verifier key parses again")
    }

    /// The encoded text, as consumers are given it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key's name (the log's origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name+8-hex id`: how signatures name the key (DSSE's `keyid`, a note's signature line).
    pub fn key_id(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// The raw Ed25519 public key, hex (what other tools take).
    pub fn public_hex(&self) -> String {
        hex::encode(self.key.to_bytes())
    }

    /// Whether `sig` is this key's signature of `msg`.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else { return false };
        self.key.verify_strict(msg, &sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated key round-trips through its encodings; its verifier key has the
    /// signed-note shape and id, and `signed_note`'s own verifier accepts its signatures.
    #[test]
    fn keys_are_signed_note_keys() {
        let k = SigningKey::generate("mirror.example.org/ontologies").unwrap();
        let v = k.verifier();
        let parts: Vec<&str> = v.as_str().splitn(3, '+').collect();
        assert_eq!(parts.len(), 3, "{}", v.as_str());
        assert_eq!(parts[0], "mirror.example.org/ontologies");
        assert_eq!(parts[1].len(), 8);
        let sig = k.sign(b"hello").unwrap();
        assert!(v.verify(b"hello", &sig));
        assert!(!v.verify(b"hellO", &sig), "another message");
        let theirs = StandardVerifier::new(v.as_str()).unwrap();
        assert!(theirs.verify(b"hello", &sig), "signed_note's verifier agrees");
        assert_eq!(SigningKey::parse(&k.text).unwrap().verifier().as_str(), v.as_str());
        assert!(!format!("{k:?}").contains(&k.text), "the secret is never rendered");
        assert!(SigningKey::generate("two words").is_err());
        assert!(VerifierKey::parse("nope").is_err());
    }

    /// The key file is 0600 and never replaced; one that others may read is refused.
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("keys/signing.key");
        let k = SigningKey::generate("m").unwrap();
        k.write_new(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(k.write_new(&p).is_err(), "never over an existing key");
        assert_eq!(SigningKey::read(&p).unwrap().verifier().as_str(), k.verifier().as_str());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(SigningKey::read(&p).unwrap_err().to_string().contains("chmod 600"));
    }
}
