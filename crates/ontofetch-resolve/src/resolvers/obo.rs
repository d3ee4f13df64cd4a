//! OBO Foundry PURLs (and Ontobee, which serves them; `bioregistry` is DocsToKG's alias):
//! the PURL of the id, `.obo` when OBO is the first wanted format, else `.owl`.

use super::{Candidate, Failure, Resolver, fail};
use ontofetch_config::{Endpoints, SpecInput};
use ontofetch_policy::Code;

fn wants_obo(formats: &[String]) -> bool {
    formats.first().map(String::as_str) == Some("obo")
}

pub(super) fn candidate(resolver: Resolver, spec: &SpecInput, ep: &Endpoints) -> Result<Candidate, Failure> {
    let ext = if wants_obo(&spec.target_formats) { "obo" } else { "owl" };
    if resolver == Resolver::Ontobee && !spec.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return Err(fail(
            Code::ConfigInvalid,
            format!("ontobee needs an id starting with a letter, not {:?}", spec.id),
        ));
    }
    let id = spec.id.to_ascii_lowercase();
    Ok(Candidate {
        url: format!("{}/{id}.{ext}", ep.obo),
        version: None,
        license: None,
        media_type: Some(if ext == "obo" { "text/obo" } else { "application/rdf+xml" }.into()),
        service: if resolver == Resolver::Ontobee { "ontobee" } else { "obo" },
        credential: None,
        filename: None,
    })
}
