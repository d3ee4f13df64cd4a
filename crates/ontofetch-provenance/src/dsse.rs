//! DSSE envelopes (github.com/secure-systems-lab/dsse, v1): the payload and its type,
//! signed over the pre-authentication encoding `PAE(type, body)` =
//! `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, so a signature can never be
//! taken for one over another type or a shorter body.

use crate::ProvenanceError;
use crate::keys::{SigningKey, VerifierKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// The payload type of an in-toto statement.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// What the payload is.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload, base64.
    pub payload: String,
    /// Its signatures.
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// Which key (`name+8-hex id`, the signed-note key id).
    pub keyid: String,
    /// The Ed25519 signature of the PAE, base64.
    pub sig: String,
}

/// The pre-authentication encoding DSSE signs.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

impl Envelope {
    /// `body` of `payload_type`, signed with `key`.
    pub fn sign(payload_type: &str, body: &[u8], key: &SigningKey) -> Result<Envelope, ProvenanceError> {
        let sig = key.sign(&pae(payload_type, body))?;
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload: STANDARD.encode(body),
            signatures: vec![Signature { keyid: key.verifier().key_id(), sig: STANDARD.encode(sig) }],
        })
    }

    /// The payload, once a signature by `key` verifies over it.
    pub fn verify(&self, key: &VerifierKey) -> Result<Vec<u8>, ProvenanceError> {
        let body = STANDARD
            .decode(&self.payload)
            .map_err(|_| ProvenanceError::Format("the envelope's payload is not base64".into()))?;
        let message = pae(&self.payload_type, &body);
        let signed =
            self.signatures.iter().filter_map(|s| STANDARD.decode(&s.sig).ok()).any(|sig| key.verify(&message, &sig));
        if !signed {
            return Err(ProvenanceError::Signature(format!(
                "no signature of the attestation verifies under the trusted key {} (signed by: {})",
                key.key_id(),
                self.signatures.iter().map(|s| s.keyid.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(body)
    }

    /// The envelope from its JSON.
    pub fn from_json(bytes: &[u8]) -> Result<Envelope, ProvenanceError> {
        serde_json::from_slice(bytes).map_err(|e| ProvenanceError::Format(format!("not a DSSE envelope: {e}")))
    }

    /// The envelope as stored: pretty JSON and a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PAE of the DSSE specification's own example.
    #[test]
    fn pae_is_the_specifications() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    /// A signed envelope verifies under its key, not under another, and not once its
    /// payload or its type changed.
    #[test]
    fn envelopes_verify_only_as_signed() {
        let k = SigningKey::generate("m").unwrap();
        let e = Envelope::sign(IN_TOTO, b"{\"a\":1}", &k).unwrap();
        assert_eq!(e.verify(k.verifier()).unwrap(), b"{\"a\":1}");
        let other = SigningKey::generate("m").unwrap();
        assert!(e.verify(other.verifier()).is_err());
        let mut changed = e.clone();
        changed.payload = STANDARD.encode(b"{\"a\":2}");
        assert!(changed.verify(k.verifier()).is_err());
        let mut retyped = e.clone();
        retyped.payload_type = "text/plain".into();
        assert!(retyped.verify(k.verifier()).is_err());
        assert_eq!(Envelope::from_json(&e.to_json()).unwrap(), e);
    }
}
