//! What a protected route requires: a bearer token or HTTP basic credentials, read from a
//! file (never from the command line, where `ps` shows it), compared in constant time.

use crate::error::ServerError;
use base64::Engine;
use std::path::Path;

/// Required credentials.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic <base64(user:password)>`.
    Basic(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Bearer(_) => "Auth::Bearer(***)",
            Auth::Basic(_) => "Auth::Basic(***)",
        })
    }
}

impl Auth {
    /// Reads a token or `user:password` from a file (trimmed; must not be empty).
    pub fn from_files(bearer: Option<&Path>, basic: Option<&Path>) -> Result<Option<Auth>, ServerError> {
        let read = |p: &Path| {
            let s = std::fs::read_to_string(p).map_err(|e| ServerError::setup(format!("{}: {e}", p.display())))?;
            let s = s.trim().to_string();
            if s.is_empty() {
                return Err(ServerError::setup(format!("{} is empty", p.display())));
            }
            Ok(s)
        };
        match (bearer, basic) {
            (Some(p), _) => Ok(Some(Auth::Bearer(read(p)?))),
            (None, Some(p)) => {
                let creds = read(p)?;
                if !creds.contains(':') {
                    return Err(ServerError::setup(format!("{} must hold user:password", p.display())));
                }
                Ok(Some(Auth::Basic(base64::engine::general_purpose::STANDARD.encode(creds))))
            }
            (None, None) => Ok(None),
        }
    }

    /// The scheme and the credential it must carry.
    fn expected(&self) -> (&'static str, &str) {
        match self {
            Auth::Bearer(t) => ("bearer", t),
            Auth::Basic(b) => ("basic", b),
        }
    }

    /// The `WWW-Authenticate` challenge.
    pub fn challenge(&self) -> &'static str {
        match self {
            Auth::Bearer(_) => "Bearer realm=\"ontofetch\"",
            Auth::Basic(_) => "Basic realm=\"ontofetch\"",
        }
    }

    /// Whether an `Authorization` header value is the expected one.
    /// The scheme is case-insensitive (RFC 9110 §11.1); the credential is compared in
    /// constant time.
    pub fn accepts(&self, given: &[u8]) -> bool {
        let (scheme, credential) = self.expected();
        let Some(space) = given.iter().position(|b| *b == b' ') else { return false };
        let (given_scheme, rest) = given.split_at(space);
        let given_credential = rest.iter().position(|b| *b != b' ').map_or(&rest[rest.len()..], |i| &rest[i..]);
        given_scheme.eq_ignore_ascii_case(scheme.as_bytes()) & same(given_credential, credential.as_bytes())
    }
}

/// Constant-time comparison, so a token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("t");
        std::fs::write(&token, "s3cret\n").unwrap();
        let a = Auth::from_files(Some(&token), None).unwrap().unwrap();
        assert!(a.accepts(b"Bearer s3cret"));
        assert!(!a.accepts(b"Bearer s3cre"));
        assert!(a.accepts(b"bearer s3cret") && a.accepts(b"BEARER s3cret"), "the scheme is case-insensitive");
        assert!(!a.accepts(b"Bearer S3CRET") && !a.accepts(b"Basic s3cret") && !a.accepts(b"s3cret"));
        assert_eq!(format!("{a:?}"), "Auth::Bearer(***)");
        let basic = dir.path().join("b");
        std::fs::write(&basic, "nocolon").unwrap();
        assert!(Auth::from_files(None, Some(&basic)).is_err());
        std::fs::write(&basic, "u:p").unwrap();
        assert!(Auth::from_files(None, Some(&basic)).unwrap().unwrap().accepts(b"Basic dTpw"));
        std::fs::write(&token, "  ").unwrap();
        assert!(Auth::from_files(Some(&token), None).is_err());
        assert!(Auth::from_files(None, None).unwrap().is_none());
    }
}
