//! The resolvers, one module each behind [`Resolver`]: each turns an ontology spec into one
//! candidate download (a URL the planner then puts through the url gate, a version and a
//! licence when the registry publishes them). Registry output is untrusted input.

mod bioportal;
mod direct;
mod lov;
pub mod mirror;
mod obo;
mod ols;

use ontofetch_config::{Endpoints, Secrets, SpecInput};
use ontofetch_net::{Fetcher, HostCredential, NetError};
use ontofetch_policy::{Code, Coded};
use serde_json::Value;
use std::collections::BTreeMap;

/// A resolver a spec can name (`resolver:` and `prefer_source` in `sources.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// The OBO Foundry PURL (`purl.obolibrary.org/obo/{id}.owl|obo`), or the registry
    /// snapshot's download for a prefix outside the Foundry.
    Obo,
    /// `obo` that refuses an id the registry snapshot does not know (DocsToKG's alias).
    Bioregistry,
    /// Ontobee, which serves the OBO PURLs.
    Ontobee,
    /// EBI OLS4 (`config.fileLocation`; the licence from its V2 API).
    Ols,
    /// BioPortal's latest submission (needs an API key).
    Bioportal,
    /// A URL the spec names itself (`extras.url`).
    Direct,
    /// A SKOS vocabulary at `extras.url`.
    Skos,
    /// An XBRL taxonomy archive at `extras.url`.
    Xbrl,
    /// Linked Open Vocabularies' latest issued version.
    Lov,
    /// Another ontofetch mirror (`extras.url`), verified under its key (`extras.key`).
    Mirror,
}

impl Resolver {
    /// Every resolver.
    pub const ALL: [Resolver; 10] = [
        Resolver::Obo,
        Resolver::Bioregistry,
        Resolver::Ols,
        Resolver::Bioportal,
        Resolver::Skos,
        Resolver::Xbrl,
        Resolver::Lov,
        Resolver::Ontobee,
        Resolver::Direct,
        Resolver::Mirror,
    ];

    /// The resolver a configuration names.
    pub fn parse(name: &str) -> Option<Resolver> {
        Resolver::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Its name in `sources.yaml`, lockfiles and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Resolver::Obo => "obo",
            Resolver::Bioregistry => "bioregistry",
            Resolver::Ontobee => "ontobee",
            Resolver::Ols => "ols",
            Resolver::Bioportal => "bioportal",
            Resolver::Direct => "direct",
            Resolver::Skos => "skos",
            Resolver::Xbrl => "xbrl",
            Resolver::Lov => "lov",
            Resolver::Mirror => "mirror",
        }
    }

    /// Whether it answers from the registry snapshot (plans record which snapshot).
    pub fn reads_registry(self) -> bool {
        matches!(self, Resolver::Obo | Resolver::Bioregistry | Resolver::Ontobee)
    }

    /// Its candidate for `spec`.
    pub(crate) async fn candidate<'r>(
        self,
        spec: &SpecInput,
        fetcher: &Fetcher,
        ep: &Endpoints,
        secrets: &Secrets,
        registry: &(dyn Fn() -> &'r crate::registry::Registry + Sync),
    ) -> Result<Candidate, Failure> {
        match self {
            Resolver::Obo | Resolver::Bioregistry | Resolver::Ontobee => obo::candidate(self, spec, ep, registry()),
            Resolver::Ols => ols::candidate(spec, fetcher, ep).await,
            Resolver::Bioportal => bioportal::candidate(spec, fetcher, ep, secrets).await,
            Resolver::Direct | Resolver::Skos | Resolver::Xbrl => direct::candidate(self, spec, ep, secrets),
            Resolver::Lov => lov::candidate(spec, fetcher, ep).await,
            Resolver::Mirror => mirror::candidate(spec, fetcher).await,
        }
    }
}

/// What a single resolver returns.
pub(crate) struct Candidate {
    pub url: String,
    pub version: Option<String>,
    pub license: Option<String>,
    pub media_type: Option<String>,
    pub service: &'static str,
    pub credential: Option<HostCredential>,
    /// A file name the registry's metadata implies (BioPortal's ontology language).
    pub filename: Option<String>,
}

/// Why a resolver (or the planner's checks on its candidate) failed.
pub(crate) struct Failure {
    pub code: Code,
    pub message: String,
    pub url: Option<String>,
}

impl From<NetError> for Failure {
    fn from(e: NetError) -> Self {
        Failure { code: e.code(), message: e.to_string(), url: None }
    }
}

pub(crate) fn fail(code: Code, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into(), url: None }
}

/// A non-empty string of the spec's `extras`.
pub(crate) fn extra_str<'a>(extras: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    extras.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A non-empty string at a JSON pointer of a registry's document.
pub(crate) fn str_at<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
    doc.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::Resolver;

    #[test]
    fn every_configurable_resolver_is_implemented() {
        for name in ontofetch_config::load::RESOLVERS {
            assert_eq!(Resolver::parse(name).map(Resolver::name), Some(*name));
        }
        assert_eq!(Resolver::ALL.len(), ontofetch_config::load::RESOLVERS.len());
        assert_eq!(Resolver::parse("nope"), None);
    }
}
