//! OWL/XML (streamed) and OWL functional syntax through horned-owl: counts axioms, class
//! declarations, imports and the version IRI.

use crate::{Detected, Outcome, Status};
use horned_owl::io::ParserConfiguration;
use horned_owl::model::{AnnotatedComponent, ArcStr, Component};
use std::io::BufReader;
use std::path::Path;

fn tally(out: &mut Outcome, c: &Component<ArcStr>) {
    out.statements += 1;
    match c {
        Component::DeclareClass(_) => out.terms += 1,
        Component::Import(i) => out.imports.push(i.0.to_string()),
        Component::OntologyID(id) => {
            out.version_iri = id.viri.as_ref().map(|v| v.to_string());
            out.ontology_iri = id.iri.as_ref().map(|v| v.to_string());
        }
        _ => {}
    }
}

pub(crate) fn validate(path: &Path, detected: Detected) -> Outcome {
    let mut out = Outcome::new("owl", detected, Status::Ok, None);
    if detected == Detected::OwlXml
        && let Err(why) =
            std::fs::File::open(path).map_err(|e| e.to_string()).and_then(|f| crate::xmlguard::check(BufReader::new(f)))
    {
        out.status = Status::Failed;
        out.message = Some(why);
        return out;
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => BufReader::new(f),
        Err(e) => {
            out.status = Status::Failed;
            out.message = Some(e.to_string());
            return out;
        }
    };
    let result: Result<(), String> = match detected {
        Detected::OwlXml => {
            let config: ParserConfiguration<ArcStr> = ParserConfiguration::default();
            let mut err = None;
            for item in horned_owl::io::owx::reader::read_to_stream(file, config) {
                match item {
                    Ok(horned_owl::io::StreamComponent::Component(AnnotatedComponent { component, .. })) => {
                        tally(&mut out, &component)
                    }
                    Ok(_) => {}
                    Err(e) => {
                        err = Some(format!("OWL/XML parse error: {e}"));
                        break;
                    }
                }
            }
            err.map_or(Ok(()), Err)
        }
        _ => {
            let config: ParserConfiguration<ArcStr> = ParserConfiguration::default();
            let mut reader = file;
            match horned_owl::io::ofn::reader::read::<ArcStr, _, horned_owl::ontology::set::SetOntology<ArcStr>, _>(
                &mut reader,
                config,
            ) {
                Ok((ont, _)) => {
                    for ac in ont.iter() {
                        tally(&mut out, &ac.component);
                    }
                    Ok(())
                }
                Err(e) => Err(format!("OWL functional syntax parse error: {e}")),
            }
        }
    };
    if let Err(m) = result {
        out.status = Status::Failed;
        out.message = Some(m);
    } else if out.statements == 0 {
        out.status = Status::Failed;
        out.message = Some("no axioms".into());
    }
    out
}
