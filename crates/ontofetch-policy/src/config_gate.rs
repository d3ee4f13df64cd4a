//! The config gate: each configuration value is judged where it is read, with the key path
//! in the message so the user can find it.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::host::HostRule;

fn refuse(key: &str, message: String) -> Refusal {
    Refusal::new(Gate::Config, Code::ConfigInvalid, format!("{key}: {message}"))
}

/// A number within inclusive bounds.
pub fn check_range(key: &str, value: f64, min: f64, max: f64) -> Result<(), Refusal> {
    if value.is_nan() || value < min || value > max {
        return Err(refuse(key, format!("{value} is outside {min}..={max}")));
    }
    Ok(())
}

/// One of a closed set of names.
pub fn check_one_of(key: &str, value: &str, allowed: &[&str]) -> Result<(), Refusal> {
    if !allowed.contains(&value) {
        return Err(refuse(key, format!("{value:?} is not one of {}", allowed.join(", "))));
    }
    Ok(())
}

/// Parses a DocsToKG rate limit (`4/second`, `0.5/s`, `60/minute`, `100/h`) into requests/s.
pub fn parse_rate_limit(key: &str, value: &str) -> Result<f64, Refusal> {
    let bad = || refuse(key, format!("{value:?} is not a rate like \"4/second\", \"60/minute\" or \"100/hour\""));
    let (n, unit) = value.trim().split_once('/').ok_or_else(bad)?;
    let n: f64 = n.trim().parse().map_err(|_| bad())?;
    let per = match unit.trim() {
        "second" | "sec" | "s" => 1.0,
        "minute" | "min" | "m" => 60.0,
        "hour" | "h" => 3600.0,
        _ => return Err(bad()),
    };
    if !(n.is_finite() && n > 0.0) {
        return Err(bad());
    }
    Ok(n / per)
}

/// One `allowed_hosts` entry.
pub fn check_host_entry(key: &str, value: &str) -> Result<HostRule, Refusal> {
    HostRule::parse(value).map_err(|m| refuse(key, m.to_string()))
}

/// An ontology id: used as a directory name and a metric label, so `[A-Za-z0-9._-]{1,64}`
/// without a leading dot.
pub fn check_ontology_id(key: &str, value: &str) -> Result<(), Refusal> {
    if value.len() > 64 || !crate::path::is_safe_segment(value) {
        return Err(refuse(
            key,
            format!("ontology id {value:?} must be 1-64 characters of [A-Za-z0-9._-], not starting with '.'"),
        ));
    }
    Ok(())
}

/// A failed structural check found by the loader (unknown key, wrong type, duplicate id).
pub fn structural(key: &str, message: impl Into<String>) -> Result<(), Refusal> {
    Err(refuse(key, message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_parse_like_docstokg() {
        assert_eq!(parse_rate_limit("k", "4/second").unwrap(), 4.0);
        assert_eq!(parse_rate_limit("k", "60/minute").unwrap(), 1.0);
        assert_eq!(parse_rate_limit("k", "0.5/s").unwrap(), 0.5);
        for bad in ["4", "4/day", "-1/s", "0/s", "x/s"] {
            assert!(parse_rate_limit("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_name_the_key() {
        let e = check_range("defaults.http.max_retries", 99.0, 0.0, 20.0).unwrap_err();
        assert!(e.message.starts_with("defaults.http.max_retries:"), "{}", e.message);
        assert!(check_ontology_id("ontologies[0].id", "../x").is_err());
        assert!(check_ontology_id("ontologies[0].id", "NCBITaxon").is_ok());
    }
}
