//! Secret masking for anything printed: values whose key looks like a credential.

use serde_json::Value;

/// Key fragments that mark a secret (case-insensitive), as in DocsToKG plus `authorization`.
const SECRET_KEYS: &[&str] = &["token", "key", "secret", "password", "credential", "authorization"];

/// Is this key a secret's name?
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k.contains(s))
}

/// Replaces every secret value in the tree with `***`; returns how many were masked.
pub fn redact(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => map
            .iter_mut()
            .map(|(k, v)| {
                if is_secret_key(k) && !v.is_null() && !v.is_object() && !v.is_array() {
                    *v = Value::String("***".into());
                    1
                } else {
                    redact(v)
                }
            })
            .sum(),
        Value::Array(items) => items.iter_mut().map(redact).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_nested_secrets_only() {
        let mut v = serde_json::json!({
            "extras": {"api_key": "abc", "acronym": "NCIT"},
            "polite_headers": {"Authorization": "Bearer x", "User-Agent": "ua"},
            "list": [{"ols_token": "t"}]
        });
        assert_eq!(redact(&mut v), 3);
        assert_eq!(v["extras"]["api_key"], "***");
        assert_eq!(v["extras"]["acronym"], "NCIT");
        assert_eq!(v["polite_headers"]["User-Agent"], "ua");
        assert_eq!(v["list"][0]["ols_token"], "***");
    }
}
