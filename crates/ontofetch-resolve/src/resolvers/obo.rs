//! OBO Foundry PURLs and the registry snapshot (`bioregistry`, DocsToKG's name for the same
//! resolver; Ontobee serves the PURLs). The id is looked up in the snapshot in any
//! spelling Bioregistry accepts (`HP`, `NCBITaxon`, `apollo_sv`, a synonym): it resolves to
//! the registry's download for the first wanted format it has (what the `bioregistry`
//! package's getters answer), with the registry's licence; a download that is an OBO PURL
//! (named by the OBO Foundry id, `apollo_sv.owl`) is fetched from the `obo` endpoint. An id the
//! snapshot does not know still gets its PURL from `obo` (the Foundry adds ontologies
//! faster than snapshots are cut); `bioregistry` refuses it, naming the closest prefixes.

use super::{Candidate, Failure, Resolver, fail};
use crate::registry::{Registry, Route, obo_purl, purl_extension};
use ontofetch_config::{Endpoints, SpecInput};
use ontofetch_policy::Code;

fn media_type(format: &str) -> &'static str {
    match format {
        "obo" => "text/obo",
        "json" => "application/json",
        _ => "application/rdf+xml",
    }
}

pub(super) fn candidate(
    resolver: Resolver,
    spec: &SpecInput,
    ep: &Endpoints,
    registry: &Registry,
) -> Result<Candidate, Failure> {
    let ext = purl_extension(&spec.target_formats);
    if resolver == Resolver::Ontobee && !spec.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return Err(fail(
            Code::ConfigInvalid,
            format!("ontobee needs an id starting with a letter, not {:?}", spec.id),
        ));
    }
    let entry = registry.lookup(&spec.id);
    let purl = |url: String, format: &str, license: Option<String>| Candidate {
        url,
        version: None,
        license,
        media_type: Some(media_type(format).into()),
        service: if resolver == Resolver::Ontobee { "ontobee" } else { "obo" },
        credential: None,
        filename: None,
    };
    match entry {
        // Ontobee serves every ontology under its OBO Foundry id.
        Some(e) if resolver == Resolver::Ontobee => {
            Ok(purl(obo_purl(&ep.obo, e.obo_id(), &spec.target_formats), ext, e.license.clone()))
        }
        Some(e) => match e.route(&spec.target_formats) {
            route @ Route::Purl { format, .. } => {
                Ok(purl(route.url(&ep.obo).unwrap_or_default(), format, e.license.clone()))
            }
            Route::Download { format, url } => Ok(Candidate {
                url: url.to_string(),
                version: None,
                license: e.license.clone(),
                media_type: Some(media_type(format).into()),
                service: "direct",
                credential: None,
                filename: None,
            }),
            Route::Nothing => Err(fail(
                Code::Resolve,
                format!(
                    "{} ({}) is in the registry snapshot but publishes no download; try `resolver: ols` or `direct` with extras.url",
                    spec.id,
                    e.name.as_deref().unwrap_or(&e.prefix)
                ),
            )),
        },
        None if resolver == Resolver::Bioregistry => {
            let close = registry.closest(&spec.id, 3);
            let hint = if close.is_empty() { String::new() } else { format!(" (closest: {})", close.join(", ")) };
            Err(fail(
                Code::Resolve,
                format!(
                    "{:?} is not a prefix in the registry snapshot ({}){hint}; `ontofetch registry search` finds prefixes",
                    spec.id, registry.source.label
                ),
            ))
        }
        None => Ok(purl(obo_purl(&ep.obo, &spec.id.to_ascii_lowercase(), &spec.target_formats), ext, None)),
    }
}
