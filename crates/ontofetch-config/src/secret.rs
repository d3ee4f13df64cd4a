//! Secrets redacted by type (docs/architecture.md, "Secrets"): a URL that may carry a
//! credential is a [`SecretUrl`], whose `Display`, `Debug` and `Serialize` all render the
//! redacted form, so text, JSON, logs, error messages and HTTP bodies cannot show the
//! password however the value reaches them. Only [`SecretUrl::expose`] gives the real
//! string, to the one place that connects.
//!
//! A PostgreSQL connection string is read with the driver's own parser
//! (`tokio_postgres::Config`) and shown as `postgresql://user@host:port/db` only: the
//! password can sit in the userinfo, in a `?password=` query parameter or in a
//! `password=` key of the key=value form, and every other option is dropped too.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// What stands where a secret was.
pub const MASK: &str = "***";

/// A URL or connection string that may hold a credential.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> SecretUrl {
        SecretUrl(value.into())
    }

    /// The real value, for the code that connects with it (never for rendering).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The redacted form.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretUrl({:?})", self.redacted())
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SecretUrl)
    }
}

fn is_postgres(value: &str) -> bool {
    let lower = value.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://")
        || lower.starts_with("postgresql://")
        || (!lower.contains("://") && !lower.starts_with("sqlite:") && lower.contains('='))
}

/// A PostgreSQL connection string as `postgresql://user@host:port,host:port/db`, read by
/// the driver's parser; nothing of it when the driver cannot read it.
fn redact_postgres(value: &str) -> String {
    let Ok(config) = value.parse::<tokio_postgres::Config>() else {
        return "postgresql://(unreadable connection string; hidden)".into();
    };
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }
        })
        .collect();
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let db = config.get_dbname().unwrap_or_default();
    format!("postgresql://{user}{}/{db}", hosts.join(","))
}

/// Any other URL: the password (and a secret-named query value) masked; something that does
/// not parse is hidden whole, since its parts cannot be told apart.
fn redact_other(value: &str) -> String {
    if value.starts_with("sqlite:") || value.starts_with('/') || !value.contains("://") {
        return value.to_string();
    }
    let Ok(mut url) = url::Url::parse(value) else {
        // `scheme://` then anything up to the host: keep the scheme only.
        let scheme = value.split("://").next().unwrap_or("url");
        return format!("{scheme}://(unreadable URL; hidden)");
    };
    if url.password().is_some() {
        let _ = url.set_password(Some(MASK));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if crate::redact::is_secret_key(&k) { MASK.to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// The redacted form of a URL or connection string (see the module docs).
pub fn redact_url(value: &str) -> String {
    if is_postgres(value) { redact_postgres(value) } else { redact_other(value) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "Hunter2-planted";

    #[test]
    fn a_postgres_password_is_hidden_wherever_it_is_written() {
        for raw in [
            format!("postgresql://app:{PW}@db.internal:5433/mirror"),
            format!("postgresql://app@db.internal:5433/mirror?password={PW}&sslmode=disable"),
            format!("postgres://app:{}@db.internal:5433/mirror", PW.replace('-', "%2D")),
            format!("host=db.internal port=5433 user=app password={PW} dbname=mirror"),
            format!("host=db.internal port=5433 user=app password='{PW}' dbname=mirror"),
            format!("postgresql://app:{PW}@db.internal:5433,db2.internal:5434/mirror"),
        ] {
            let shown = redact_url(&raw);
            assert!(!shown.contains(PW) && !shown.contains("Hunter2"), "{raw} -> {shown}");
            assert!(shown.contains("app@db.internal:5433") && shown.ends_with("/mirror"), "{raw} -> {shown}");
            let secret = SecretUrl::new(raw.clone());
            for rendered in [secret.to_string(), format!("{secret:?}"), serde_json::to_string(&secret).unwrap()] {
                assert!(!rendered.contains("Hunter2"), "{rendered}");
            }
            assert_eq!(secret.expose(), raw);
        }
    }

    #[test]
    fn unreadable_strings_are_hidden_whole_and_others_keep_their_shape() {
        let bad_port = format!("postgresql://app:{PW}@db:notaport/mirror");
        assert!(!redact_url(&bad_port).contains("Hunter2"), "{}", redact_url(&bad_port));
        let odd = format!("postgresql://app:{PW}@[::1/mirror");
        assert!(!redact_url(&odd).contains("Hunter2"), "{}", redact_url(&odd));
        let s3 = format!("http://minio:{PW}@127.0.0.1:9000/?X-Amz-Signature=abc&token={PW}&region=eu");
        let shown = redact_url(&s3);
        assert!(
            !shown.contains("Hunter2") && shown.contains("127.0.0.1:9000") && shown.contains("region=eu"),
            "{shown}"
        );
        assert_eq!(redact_url("sqlite:/data/catalog.sqlite"), "sqlite:/data/catalog.sqlite");
        assert_eq!(redact_url("s3://bucket/prefix"), "s3://bucket/prefix");
    }
}
