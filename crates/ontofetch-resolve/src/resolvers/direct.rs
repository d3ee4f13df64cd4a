//! A URL the spec names itself (`direct`, and `skos` / `xbrl` with their default media
//! types): `extras.url`, with the version, licence, media type and file name the spec
//! gives. A lockfile entry of a registry that needs a key names its credential binding.

use super::{Candidate, Failure, Resolver, extra_str, fail};
use crate::license;
use ontofetch_config::{Endpoints, Secrets, SpecInput};
use ontofetch_policy::Code;

pub(super) fn candidate(
    resolver: Resolver,
    spec: &SpecInput,
    ep: &Endpoints,
    secrets: &Secrets,
) -> Result<Candidate, Failure> {
    let name = resolver.name();
    let url = extra_str(&spec.extras, "url")
        .ok_or_else(|| fail(Code::ConfigInvalid, format!("the {name} resolver needs extras.url")))?;
    // The key comes from the secrets again and only ever goes to that registry's host.
    let credential = match extra_str(&spec.extras, "credential") {
        Some("bioportal") => Some(super::bioportal::credential(ep, secrets)?),
        Some(other) => {
            return Err(fail(Code::ConfigInvalid, format!("unknown credential binding {other:?} (known: bioportal)")));
        }
        None => None,
    };
    let (service, default_media) = match resolver {
        Resolver::Skos => ("skos", Some("application/rdf+xml")),
        Resolver::Xbrl => ("xbrl", Some("application/zip")),
        _ => ("direct", None),
    };
    Ok(Candidate {
        url: url.to_string(),
        version: extra_str(&spec.extras, "version").map(str::to_string),
        license: extra_str(&spec.extras, "license").map(license::normalize),
        media_type: extra_str(&spec.extras, "media_type").or(default_media).map(str::to_string),
        service,
        credential,
        filename: extra_str(&spec.extras, "filename").map(str::to_string),
    })
}
