//! Canonical hashing, parallel parsing and the OBO → OWL translation, checked against
//! other parsers and other orders (docs/architecture.md, "Validation").

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_validate::{Normalize, Options, Outcome, Status, validate};
use std::fmt::Write as _;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn options(dir: &Path, stem: &str, formats: &[&str], threads: usize, second_pass: bool) -> Options {
    Options {
        normalize: Some(Normalize {
            dir: dir.join("normalized"),
            stem: stem.into(),
            formats: formats.iter().map(|f| f.to_string()).collect(),
            rdfc_max_component: 100_000,
            sort_memory_bytes: 64 << 10,
            second_pass,
            terms: false,
            fused: false,
            lowercase_language_tags: false,
        }),
        threads,
    }
}

fn ok(o: Outcome) -> Outcome {
    assert_eq!(o.status, Status::Ok, "{o:?}");
    o
}

/// A graph without blank nodes, with literals that need escaping.
const NT: &str = r#"<http://x.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "tab\there \"quoted\" back\\slash"@en .
<http://x.org/a> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <http://x.org/b> .
<http://x.org/b> <http://www.w3.org/2000/01/rdf-schema#label> "line\nbreak é ü 中" .
<http://x.org/b> <http://x.org/n> "42"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://x.org/c> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .
"#;

const TTL: &str = r#"@prefix : <http://x.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
:c a owl:Class .
:b rdfs:label """line
break é ü 中""" ; :n 42 .
:a rdfs:subClassOf :b ;
   rdfs:label "tab\there \"quoted\" back\\slash"@en .
"#;

const RDFXML: &str = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:x="http://x.org/">
  <rdf:Description rdf:about="http://x.org/b">
    <x:n rdf:datatype="http://www.w3.org/2001/XMLSchema#integer">42</x:n>
    <rdfs:label>line
break é ü 中</rdfs:label>
  </rdf:Description>
  <rdf:Description rdf:about="http://x.org/a">
    <rdfs:subClassOf rdf:resource="http://x.org/b"/>
    <rdfs:label xml:lang="en">tab	here "quoted" back\slash</rdfs:label>
  </rdf:Description>
  <rdf:Description rdf:about="http://x.org/c"><rdf:type rdf:resource="http://www.w3.org/2002/07/owl#Class"/></rdf:Description>
</rdf:RDF>
"#;

#[test]
fn the_sorted_hash_is_the_same_for_every_order_and_syntax_and_equals_rdfc() {
    let d = tempfile::tempdir().unwrap();
    let mut shuffled: Vec<&str> = NT.lines().collect();
    shuffled.reverse();
    shuffled.push(shuffled[1]); // a duplicate triple is the same graph
    let shuffled = shuffled.join("\n") + "\n";
    let mut hashes = Vec::new();
    for (name, text) in [("a.nt", NT), ("b.nt", shuffled.as_str()), ("c.ttl", TTL), ("d.rdf", RDFXML)] {
        for threads in [1, 3] {
            let o = ok(validate(&write(d.path(), name, text), &options(d.path(), name, &["ttl"], threads, false)));
            assert_eq!(o.normalization.as_deref(), Some("sorted-ntriples"), "{name}: {o:?}");
            assert_eq!((o.statements >= 5, o.terms), (true, 3), "{name}");
            hashes.push(o.normalized_sha256.unwrap());
        }
    }
    // The RDFC-1.0 job on the same graph agrees: without blank nodes, sorted lines are it.
    let rdfc = ok(validate(&d.path().join("a.nt"), &options(d.path(), "rdfc", &[], 1, true)));
    assert_eq!(rdfc.normalization.as_deref(), Some("rdfc-1.0"));
    hashes.push(rdfc.normalized_sha256.unwrap());
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    // The Turtle rendering is the same graph again.
    let ttl = d.path().join("normalized/c.ttl.ttl");
    let again = ok(validate(&ttl, &options(d.path(), "again", &[], 2, false)));
    assert_eq!(again.normalized_sha256.as_ref(), hashes.first());
}

/// A Turtle file written to trip the parallel cutter: multi-line literals whose lines end
/// with `.` and start like a prefixed name, and a prefix declared mid-file. Every thread
/// count gives the sequential result.
#[test]
fn parallel_parsing_agrees_with_sequential_parsing() {
    let d = tempfile::tempdir().unwrap();
    let mut ttl =
        String::from("@prefix : <http://x.org/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n");
    for i in 0..20_000 {
        let _ = write!(ttl, ":t{i} rdfs:label \"term {i}\" ;\n    :p :t{} .\n", i / 2);
        if i % 1000 == 7 {
            let _ = write!(ttl, ":t{i} rdfs:comment \"\"\"A note.\nrdfs:seeAlso the rest.\nend\"\"\" .\n");
        }
    }
    let plain = write(d.path(), "plain.ttl", &ttl);
    ttl.push_str("@prefix late: <http://late.org/> .\nlate:x late:y late:z .\n");
    let late = write(d.path(), "late.ttl", &ttl);
    let nt: String =
        (0..30_000).map(|i| format!("<http://x.org/s{}> <http://x.org/p> \"{i}\" .\n", i % 7000)).collect();
    let nt = write(d.path(), "many.nt", &nt);
    for file in [plain, late, nt] {
        let results: Vec<Outcome> = [1, 2, 4]
            .iter()
            .map(|t| ok(validate(&file, &options(d.path(), &format!("x{t}"), &[], *t, false))))
            .collect();
        for r in &results[1..] {
            assert_eq!(
                (r.statements, r.terms, &r.normalized_sha256),
                (results[0].statements, results[0].terms, &results[0].normalized_sha256),
                "{}",
                file.display()
            );
        }
    }
    // A real error is reported with its true line whatever the threads.
    let mut broken = String::new();
    for i in 0..5000 {
        let _ = writeln!(broken, "<http://x.org/s{i}> <http://x.org/p> \"{i}\" .");
    }
    broken.push_str("<http://x.org/bad> <http://x.org/p> \"unterminated .\n");
    let broken = write(d.path(), "broken.nt", &broken);
    for threads in [1, 4] {
        let o = validate(&broken, &Options { normalize: None, threads });
        assert_eq!(o.status, Status::Failed);
        assert!(o.message.as_deref().unwrap().contains("line 5001"), "{o:?}");
    }
}

#[test]
fn a_component_past_the_rdfc_cap_skips_the_hash_and_says_why() {
    let d = tempfile::tempdir().unwrap();
    let file = write(d.path(), "b.ttl", "@prefix : <http://x.org/> .\n:a :p [ :q [ :r 1 ] ] .\n");
    let mut opts = options(d.path(), "b", &["ttl"], 2, false);
    let o = ok(validate(&file, &opts));
    assert!(o.blank_nodes && o.needs_second_pass, "blank nodes: the bounded RDFC-1.0 job, whatever the size");
    opts.normalize.as_mut().unwrap().rdfc_max_component = 1;
    opts.normalize.as_mut().unwrap().second_pass = true;
    let o = validate(&file, &opts);
    assert_eq!(o.status, ontofetch_validate::Status::Ok, "the validation stands: {o:?}");
    assert_eq!(o.normalization.as_deref(), Some("skipped"));
    let why = o.normalization_skipped.unwrap();
    assert!(why.contains("component of 2 blank nodes (cap 1)"), "{why}");
    assert_eq!(o.normalized_sha256, None);
    assert!(!d.path().join("normalized/b.nt").exists(), "no half-canonical file");
}

const OBO: &str = "format-version: 1.2
data-version: x/releases/2026-01-01
ontology: x
subsetdef: core \"Core\"
synonymtypedef: layperson \"layperson term\"

[Term]
id: X:0000001
name: root thing
def: \"The top.\" [PMID:1, ORCID:0000-0001-0000-0000]
synonym: \"top\" EXACT layperson [PMID:2]
xref: UMLS:C0000001
subset: core

[Term]
id: X:0000002
name: part
is_a: X:0000001 ! root thing
relationship: part_of X:0000001 ! root thing

[Term]
id: X:0000003
name: old
is_obsolete: true
replaced_by: X:0000002

[Typedef]
id: part_of
name: part of
xref: BFO:0000050
is_transitive: true
";

/// Validation, then the translation in its second pass.
fn obo_owl(dir: &Path, text: &str, threads: usize) -> Outcome {
    let file = write(dir, "x.obo", text);
    let first = ok(validate(&file, &options(dir, &format!("x{threads}"), &["ttl", "owl"], threads, false)));
    assert!(first.needs_second_pass && first.outputs.is_empty(), "validation alone translates nothing");
    ok(validate(&file, &options(dir, &format!("x{threads}"), &["ttl", "owl"], threads, true)))
}

/// The translation read back by two parsers that had no part in writing it: oxttl for the
/// Turtle (triples), horned-owl's RDF/XML reader for the RDF/XML (OWL axioms).
#[test]
fn obo_is_translated_to_owl_per_the_obo_1_4_mapping() {
    use oxrdf::{NamedNodeRef as N, TermRef};
    let d = tempfile::tempdir().unwrap();
    let o = obo_owl(d.path(), OBO, 2);
    assert_eq!((o.validator.as_str(), o.terms, o.typedefs, o.obsolete), ("obo", 3, Some(1), Some(1)));
    assert_eq!(o.normalization.as_deref(), Some("obo-owl"));
    let ttl = o.outputs.iter().find(|f| f.format == "ttl").expect("a Turtle file");
    assert_eq!(o.normalized_sha256.as_ref(), Some(&ttl.sha256));
    let text = std::fs::read_to_string(&ttl.path).unwrap();
    let triples: Vec<oxrdf::Triple> = oxttl::TurtleParser::new().for_slice(&text).map(Result::unwrap).collect();
    let has = |s: &str, p: &str, o: TermRef<'_>| {
        triples
            .iter()
            .any(|t| t.subject.to_string() == format!("<{s}>") && t.predicate.as_str() == p && t.object.as_ref() == o)
    };
    let obo = |id: &str| format!("http://purl.obolibrary.org/obo/{id}");
    let (rdf_type, owl_class) =
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2002/07/owl#Class");
    for id in ["X_0000001", "X_0000002", "X_0000003"] {
        let classes = triples
            .iter()
            .filter(|t| {
                t.subject.to_string() == format!("<{}>", obo(id))
                    && t.predicate.as_str() == rdf_type
                    && t.object.to_string() == format!("<{owl_class}>")
            })
            .count();
        assert!(classes >= 1, "{id} is an owl:Class:\n{text}");
    }
    let label = oxrdf::Literal::new_simple_literal("root thing");
    assert!(has(&obo("X_0000001"), "http://www.w3.org/2000/01/rdf-schema#label", label.as_ref().into()));
    let def = oxrdf::Literal::new_simple_literal("The top.");
    assert!(has(&obo("X_0000001"), &obo("IAO_0000115"), def.as_ref().into()), "definition");
    let syn = oxrdf::Literal::new_simple_literal("top");
    assert!(has(
        &obo("X_0000001"),
        "http://www.geneontology.org/formats/oboInOwl#hasExactSynonym",
        syn.as_ref().into()
    ));
    let xref = oxrdf::Literal::new_simple_literal("UMLS:C0000001");
    assert!(has(&obo("X_0000001"), "http://www.geneontology.org/formats/oboInOwl#hasDbXref", xref.as_ref().into()));
    let parent = obo("X_0000001");
    assert!(has(&obo("X_0000002"), "http://www.w3.org/2000/01/rdf-schema#subClassOf", N::new(&parent).unwrap().into()));
    let yes = oxrdf::Literal::new_typed_literal("true", N::new("http://www.w3.org/2001/XMLSchema#boolean").unwrap());
    assert!(has(&obo("X_0000003"), "http://www.w3.org/2002/07/owl#deprecated", yes.as_ref().into()), "obsolete");
    let version = obo("x/releases/2026-01-01/x.owl");
    assert!(has(&obo("x.owl"), "http://www.w3.org/2002/07/owl#versionIRI", N::new(&version).unwrap().into()), "{text}");
    // The relationship is an existential restriction on BFO:0000050 (part_of's xref).
    let on_part_of = triples.iter().any(|t| {
        t.predicate.as_str() == "http://www.w3.org/2002/07/owl#onProperty"
            && t.object.to_string() == format!("<{}>", obo("BFO_0000050"))
    });
    assert!(on_part_of, "relationship: part_of → some BFO_0000050:\n{text}");

    // OWL-level reading of the RDF/XML rendering.
    use horned_owl::model::{ClassExpression, Component, RcStr};
    let owl = o.outputs.iter().find(|f| f.format == "owl").expect("an RDF/XML file");
    let mut reader = std::io::BufReader::new(std::fs::File::open(&owl.path).unwrap());
    let (ont, _) =
        horned_owl::io::rdf::reader::read::<RcStr, std::rc::Rc<horned_owl::model::AnnotatedComponent<RcStr>>, _, _>(
            &mut reader,
            Default::default(),
        )
        .expect("horned-owl reads the RDF/XML");
    let comps: Vec<Component<RcStr>> = ont.i().iter().map(|c| c.component.clone()).collect();
    let declared: Vec<String> = comps
        .iter()
        .filter_map(|c| match c {
            Component::DeclareClass(d) => Some(d.0.0.to_string()),
            _ => None,
        })
        .collect();
    for id in ["X_0000001", "X_0000002", "X_0000003"] {
        assert_eq!(declared.iter().filter(|d| **d == obo(id)).count(), 1, "{id} declared once");
    }
    let some = comps.iter().any(
        |c| matches!(c, Component::SubClassOf(s) if matches!(&s.sup, ClassExpression::ObjectSomeValuesFrom { .. })),
    );
    assert!(some, "part_of became SubClassOf(X_0000002 ObjectSomeValuesFrom(BFO_0000050 X_0000001))");
}

/// Big enough for several batches: every thread count gives the same Turtle, and a
/// syntax error deep in the file is reported at its own line.
#[test]
fn obo_batches_are_written_in_order_and_errors_keep_their_lines() {
    let d = tempfile::tempdir().unwrap();
    let mut text = String::from("format-version: 1.2\nontology: x\n");
    let mut line = 2;
    for i in 0..30_000 {
        let _ = write!(text, "\n[Term]\nid: X:{i:07}\nname: term number {i}\nis_a: X:{:07}\n", i / 2);
        line += 5;
    }
    let outcomes: Vec<Outcome> = [1, 2, 3].iter().map(|t| obo_owl(d.path(), &text, *t)).collect();
    let hashes: Vec<Option<String>> = outcomes.iter().map(|o| o.normalized_sha256.clone()).collect();
    assert!(
        hashes.iter().all(Option::is_some),
        "{:?}",
        outcomes.iter().map(|o| &o.normalization_skipped).collect::<Vec<_>>()
    );
    assert!(hashes[0].is_some() && hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    let counted = obo_owl(d.path(), &text, 2);
    assert_eq!(counted.terms, 30_000);
    text.push_str("\n[Term]\nid: X:9999999\nname: broken\nis_a X:0000001\n");
    let bad_line = line + 5;
    let file = write(d.path(), "bad.obo", &text);
    for threads in [1, 2] {
        let o = validate(&file, &Options { normalize: None, threads });
        assert_eq!(o.status, Status::Failed);
        assert!(o.message.as_deref().unwrap().contains(&format!("line {bad_line}")), "{o:?}");
    }
}

/// RDF/XML cut between top-level elements, with what each piece needs from the prologue:
/// DOCTYPE entities, namespaces, xml:base.
#[test]
fn rdfxml_in_pieces_equals_rdfxml_in_one_piece() {
    let d = tempfile::tempdir().unwrap();
    let mut xml = String::from(
        r#"<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY obo "http://purl.obolibrary.org/obo/" > ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xml:base="http://x.org/base/">
"#,
    );
    for i in 0..6000 {
        let _ = writeln!(
            xml,
            r#"  <rdf:Description rdf:about="&obo;X_{i}"><rdfs:label>term {i}</rdfs:label><rdfs:seeAlso rdf:resource="rel{i}"/></rdf:Description>"#
        );
        if i % 500 == 0 {
            let _ = writeln!(xml, "  <!-- a comment between elements -->\n  <rdf:Description rdf:about=\"empty{i}\"/>");
        }
    }
    xml.push_str("</rdf:RDF>\n");
    let file = write(d.path(), "p.rdf", &xml);
    let one = ok(validate(&file, &options(d.path(), "one", &[], 1, false)));
    let many = ok(validate(&file, &options(d.path(), "many", &[], 4, false)));
    assert!(many.parallel && !one.parallel);
    assert_eq!((one.statements, one.terms), (12_000, 6000));
    assert_eq!(
        (many.statements, many.terms, &many.normalized_sha256),
        (one.statements, one.terms, &one.normalized_sha256)
    );
    let nt = std::fs::read_to_string(d.path().join("normalized/one.nt")).unwrap();
    assert!(nt.contains(
        "<http://purl.obolibrary.org/obo/X_17> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <http://x.org/base/rel17>"
    ));
    // A piece that does not parse sends the whole document to the sequential parser, which
    // names the real error.
    let broken = write(
        d.path(),
        "broken.rdf",
        &xml.replace("<rdfs:label>term 5000</rdfs:label>", "<rdfs:label>term 5000</rdfs:lab>"),
    );
    let o = validate(&broken, &options(d.path(), "broken", &[], 4, false));
    assert_eq!(o.status, Status::Failed, "{o:?}");
}
