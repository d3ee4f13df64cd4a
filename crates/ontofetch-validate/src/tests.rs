use super::*;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const RDFXML: &str = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:owl="http://www.w3.org/2002/07/owl#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <owl:Ontology rdf:about="http://x.org/o">
    <owl:versionIRI rdf:resource="http://x.org/o/2024-01-01/o.owl"/>
    <owl:imports rdf:resource="http://x.org/other"/>
  </owl:Ontology>
  <owl:Class rdf:about="http://x.org/A"><rdfs:label>A</rdfs:label></owl:Class>
</rdf:RDF>"#;

#[test]
fn formats_are_sniffed_from_content() {
    assert_eq!(sniff(RDFXML.as_bytes(), "x.bin"), Detected::RdfXml);
    assert_eq!(sniff(b"@prefix : <http://x.org/> .", "x"), Detected::Turtle);
    assert_eq!(sniff(b"<http://a> <http://b> <http://c> .", "x.nt"), Detected::NTriples);
    assert_eq!(
        sniff(b"format-version: 1.2\ndata-version: 2024", "x.owl"),
        Detected::Obo,
        "OBO is not RDF, whatever the name"
    );
    assert_eq!(sniff(b"Prefix(:=<http://x.org/>)\nOntology(<http://x.org/o>)", "x"), Detected::Ofn);
    assert_eq!(sniff(b"  <!DOCTYPE HTML><html>", "x.owl"), Detected::Html);
    assert_eq!(sniff(b"\n\n", "x.owl"), Detected::Empty);
    assert_eq!(sniff(b"{\"@context\": {}}", "x"), Detected::JsonLd);
}

#[test]
fn rdf_is_counted_with_imports_and_version() {
    let d = tempfile::tempdir().unwrap();
    let o = validate(&write(d.path(), "o.owl", RDFXML), &Options::default());
    assert_eq!(o.status, Status::Ok, "{o:?}");
    assert_eq!(o.validator, "rdf");
    assert_eq!(o.statements, 5);
    assert_eq!(o.imports, ["http://x.org/other"]);
    assert_eq!(o.version_iri.as_deref(), Some("http://x.org/o/2024-01-01/o.owl"));
    assert_eq!(o.ontology_iri.as_deref(), Some("http://x.org/o"));
}

/// Terms are named entities: a class with a restriction and an annotated axiom is one
/// term (plus the ontology), however many blank nodes carry its structure (issue 22).
#[test]
fn terms_count_named_entities_not_blank_nodes() {
    let d = tempfile::tempdir().unwrap();
    let ttl = "@prefix : <http://x.org/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n\
               @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\
               :o a owl:Ontology .\n\
               :A a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] .\n\
               [] a owl:Axiom ; owl:annotatedSource :A ; owl:annotatedProperty rdfs:subClassOf ; owl:annotatedTarget :B .\n\
               :A :list ( :x :y ) .\n";
    let o = validate(&write(d.path(), "o.ttl", ttl), &Options::default());
    assert_eq!(o.status, Status::Ok, "{o:?}");
    assert!(o.blank_nodes);
    assert_eq!(o.terms, 2, "the ontology and :A; restrictions, axioms and list cells are not terms");
    assert_eq!(o.ontology_iri.as_deref(), Some("http://x.org/o"));
}

#[test]
fn html_empty_zero_triples_and_broken_files_fail() {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("a.owl", "<!DOCTYPE html><html></html>"),
        ("b.owl", ""),
        ("c.ttl", "@prefix : <http://x.org/> .\n"),
        ("d.ttl", "@prefix : <http://x.org/> .\n:a :b"),
    ] {
        let o = validate(&write(d.path(), name, text), &Options::default());
        assert_eq!(o.status, Status::Failed, "{name}: {o:?}");
        assert!(o.message.is_some());
    }
}

#[test]
fn owl_functional_and_owl_xml_are_parsed_by_horned_owl() {
    let d = tempfile::tempdir().unwrap();
    let ofn = "Prefix(:=<http://x.org/>)\nOntology(<http://x.org/o> <http://x.org/o/1.0>\nImport(<http://x.org/other>)\nDeclaration(Class(:A))\nDeclaration(Class(:B))\nSubClassOf(:A :B)\n)";
    let o = validate(&write(d.path(), "o.ofn", ofn), &Options::default());
    assert_eq!((o.status, o.validator.as_str()), (Status::Ok, "owl"), "{o:?}");
    assert_eq!(o.terms, 2);
    assert_eq!(o.imports, ["http://x.org/other"]);
    assert_eq!(o.version_iri.as_deref(), Some("http://x.org/o/1.0"));
    assert_eq!(o.ontology_iri.as_deref(), Some("http://x.org/o"));
    let owx = r#"<?xml version="1.0"?>
<Ontology xmlns="http://www.w3.org/2002/07/owl#" ontologyIRI="http://x.org/o">
  <Declaration><Class IRI="http://x.org/A"/></Declaration>
  <SubClassOf><Class IRI="http://x.org/A"/><Class IRI="http://x.org/B"/></SubClassOf>
</Ontology>"#;
    let o = validate(&write(d.path(), "o.owx", owx), &Options::default());
    assert_eq!(o.format, Detected::OwlXml);
    assert_eq!((o.status, o.terms), (Status::Ok, 1), "{o:?}");
    let broken = validate(
        &write(d.path(), "b.ofn", "Prefix(:=<http://x.org/>)\nOntology(<http://x.org/o>\nSubClassOf(:A"),
        &Options::default(),
    );
    assert_eq!(broken.status, Status::Failed);
}

#[test]
fn unknown_formats_are_skipped_not_ok() {
    let d = tempfile::tempdir().unwrap();
    let o = validate(&write(d.path(), "o.bin", "hello world, not an ontology"), &Options::default());
    assert_eq!(o.status, Status::Skipped);
}

#[test]
fn obo_is_parsed_as_obo() {
    let d = tempfile::tempdir().unwrap();
    let text = "format-version: 1.2\ndata-version: releases/2024-05-01\nontology: x\nimport: http://x.org/y.owl\n\n[Term]\nid: X:0000001\nname: thing\n\n[Term]\nid: X:0000002\nname: other\nis_a: X:0000001\n";
    let o = validate(&write(d.path(), "x.obo", text), &Options::default());
    assert_eq!(o.status, Status::Ok, "{o:?}");
    assert_eq!((o.validator.as_str(), o.terms), ("obo", 2));
    assert_eq!(o.data_version.as_deref(), Some("releases/2024-05-01"));
    assert_eq!(o.imports.len(), 1);
    let bad =
        validate(&write(d.path(), "bad.obo", "format-version: 1.2\n\n[Term]\nname: no id\n"), &Options::default());
    assert_eq!(bad.status, Status::Failed);
}

fn normalize(dir: &Path, stem: &str, second_pass: bool) -> Options {
    Options {
        normalize: Some(Normalize {
            dir: dir.join("normalized"),
            stem: stem.into(),
            formats: vec!["ttl".into()],
            rdfc_max_component: 100_000,
            sort_memory_bytes: 1 << 20,
            second_pass,
            terms: false,
            fused: false,
            lowercase_language_tags: false,
        }),
        threads: 2,
    }
}

/// Validation first; a graph with blank nodes then needs the RDFC job.
fn canonical(dir: &Path, name: &str, text: &str) -> Outcome {
    let file = write(dir, name, text);
    let stem = name.replace('.', "_");
    let first = validate(&file, &normalize(dir, &stem, false));
    assert_eq!(first.status, Status::Ok, "{first:?}");
    if first.needs_second_pass { validate(&file, &normalize(dir, &stem, true)) } else { first }
}

#[test]
fn canonical_hash_ignores_blank_node_labels_and_syntax() {
    let d = tempfile::tempdir().unwrap();
    let a = "@prefix : <http://x.org/> .\n:s :p _:b1 .\n_:b1 :q \"v\"@en .\n_:b2 :q :o .\n";
    let b = "<http://x.org/s> <http://x.org/p> _:zz .\n_:yy <http://x.org/q> <http://x.org/o> .\n_:zz <http://x.org/q> \"v\"@en .\n";
    let oa = canonical(d.path(), "a.ttl", a);
    let ob = canonical(d.path(), "b.nt", b);
    assert_eq!(oa.normalization.as_deref(), Some("rdfc-1.0"), "{oa:?}");
    assert_eq!(oa.normalized_sha256, ob.normalized_sha256, "same graph, same hash");
    assert!(std::fs::read_to_string(oa.normalized_path.as_ref().unwrap()).unwrap().contains("_:c14n"));
    let c = "@prefix : <http://x.org/> .\n:s :p _:b1 .\n_:b1 :q \"w\"@en .\n_:b2 :q :o .\n";
    let oc = canonical(d.path(), "c.ttl", c);
    assert_ne!(oa.normalized_sha256, oc.normalized_sha256, "a changed literal changes the hash");
}

#[test]
fn html_after_a_sea_of_newlines_is_html_not_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.owl");
    std::fs::write(&p, format!("\u{feff}{}<!DOCTYPE html><html><body>maintenance</body></html>", "\n".repeat(70_000)))
        .unwrap();
    assert_eq!(crate::sniff_file(&p).unwrap(), crate::Detected::Html);
    std::fs::write(&p, "\n".repeat(70_000)).unwrap();
    assert_eq!(crate::sniff_file(&p).unwrap(), crate::Detected::Empty);
}

/// The OBO header states its ontology (as its PURL) and its licence in either form.
#[test]
fn obo_headers_give_the_ontology_iri_and_the_licence() {
    let d = tempfile::tempdir().unwrap();
    for (name, clause) in [
        ("a.obo", "license: http://creativecommons.org/licenses/by/4.0/"),
        ("b.obo", "property_value: http://purl.org/dc/terms/license http://creativecommons.org/licenses/by/4.0/"),
    ] {
        let text = format!("format-version: 1.2\nontology: x\n{clause}\n\n[Term]\nid: X:1\nname: one\n");
        let o = validate(&write(d.path(), name, &text), &Options::default());
        assert_eq!(o.status, Status::Ok, "{name}: {o:?}");
        assert_eq!(o.license.as_deref(), Some("http://creativecommons.org/licenses/by/4.0/"), "{name}");
        assert_eq!(o.ontology_iri.as_deref(), Some("http://purl.obolibrary.org/obo/x.owl"));
    }
}

/// A file that declares more imports than [`MAX_IMPORTS`] keeps the first ones and says how
/// many it declared: each kept import becomes a catalog edge, and 200,000 of them would make
/// every page that lists them huge.
#[test]
fn imports_are_bounded_and_counted() {
    let d = tempfile::tempdir().unwrap();
    let imports: String =
        (0..MAX_IMPORTS + 500).map(|i| format!("<owl:imports rdf:resource=\"http://x.org/i{i}\"/>\n")).collect();
    let text = RDFXML.replace("<owl:imports rdf:resource=\"http://x.org/other\"/>", &imports);
    let o = validate(&write(d.path(), "o.owl", &text), &Options::default());
    assert_eq!(o.status, Status::Ok, "{o:?}");
    assert_eq!(o.imports.len(), MAX_IMPORTS);
    assert_eq!(o.imports_total, Some((MAX_IMPORTS + 500) as u64));
    let small = validate(&write(d.path(), "p.owl", RDFXML), &Options::default());
    assert_eq!((small.imports.len(), small.imports_total), (1, None));
}

/// The OWL translation of an OBO file carries `owl:versionIRI` from `data-version`, and the
/// report names it (it was `null` while the Turtle had it).
#[test]
fn the_obo_translation_reports_its_version_iri() {
    let d = tempfile::tempdir().unwrap();
    let text =
        "format-version: 1.2\ndata-version: releases/2024-05-01\nontology: x\n\n[Term]\nid: X:0000001\nname: thing\n";
    let o = validate(&write(d.path(), "x.obo", text), &normalize(d.path(), "x", true));
    assert_eq!(o.normalization.as_deref(), Some("obo-owl"), "{o:?}");
    let viri = "http://purl.obolibrary.org/obo/x/releases/2024-05-01/x.owl";
    assert_eq!(o.version_iri.as_deref(), Some(viri));
    // The Turtle writes it as a prefixed name (slashes escaped in the local part).
    let ttl = std::fs::read_to_string(d.path().join("normalized/x.ttl")).unwrap().replace("\\/", "/");
    assert!(ttl.contains("owl:versionIRI obo:x/releases/2024-05-01/x.owl"), "{ttl}");
}

/// One statement of a random ontology, as N-Triples (`kind` picks what it states).
fn statement(class: u8, kind: u8, target: u8, lang: u8) -> String {
    let c = |i: u8| format!("<http://x.org/C{i}>");
    let tag = ["", "@en", "@en-GB", "@fr"][lang as usize % 4];
    match kind {
        0 => format!("{} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .", c(class)),
        1 => format!("{} <http://www.w3.org/2000/01/rdf-schema#label> \"label {target}\"{tag} .", c(class)),
        2 => format!("{} <http://www.w3.org/2000/01/rdf-schema#subClassOf> {} .", c(class), c(target)),
        3 => format!("{} <http://www.w3.org/2002/07/owl#deprecated> \"true\" .", c(class)),
        4 => format!(
            "{} <http://www.w3.org/2000/01/rdf-schema#subClassOf> _:r{target} .\n_:r{target} <http://www.w3.org/2002/07/owl#someValuesFrom> {} .",
            c(class),
            c(target)
        ),
        5 => format!("{} <http://purl.obolibrary.org/obo/IAO_0000115> \"def {target}\" .", c(class)),
        6 => format!("<http://x.org/o> <http://www.w3.org/2002/07/owl#imports> <http://x.org/dep{target}> ."),
        _ => "<http://x.org/o> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Ontology> .".into(),
    }
}

/// The options of a pull's job: canonical N-Triples, the Turtle rendering, term facts.
fn job_options(dir: &Path, fused: bool, second_pass: bool) -> Options {
    Options {
        normalize: Some(Normalize {
            dir: dir.to_path_buf(),
            stem: "o".into(),
            formats: vec!["ttl".into()],
            rdfc_max_component: 100_000,
            sort_memory_bytes: 1 << 20,
            second_pass,
            terms: true,
            fused,
            lowercase_language_tags: false,
        }),
        threads: 2,
    }
}

/// The bytes of the output of `format`, if there is one.
fn output(o: &Outcome, format: &str) -> Option<Vec<u8>> {
    o.outputs.iter().find(|f| f.format == format).map(|f| std::fs::read(&f.path).unwrap())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// The fused job (one parse for the tally, the facts and RDFC-1.0) reports what the
    /// separate jobs report — counts, versions, imports, the hash and its mode, the facts
    /// file and the canonical file byte for byte — on random graphs with and without blank
    /// nodes, duplicates and language tags.
    #[test]
    fn the_fused_job_equals_the_separate_jobs(
        statements in proptest::collection::vec((0u8..6, 0u8..8, 0u8..6, 0u8..4), 1..60),
    ) {
        let d = tempfile::tempdir().unwrap();
        let text: String = statements.iter().map(|(c, k, t, l)| statement(*c, *k, *t, *l) + "\n").collect();
        let file = write(d.path(), "o.nt", &text);
        let mut separate = validate(&file, &job_options(&d.path().join("sep"), false, false));
        if separate.needs_second_pass {
            let second = validate(&file, &job_options(&d.path().join("sep2"), false, true));
            separate.normalization = second.normalization.clone();
            separate.normalized_sha256 = second.normalized_sha256.clone();
            separate.outputs.retain(|f| f.format == "terms");
            separate.outputs.extend(second.outputs.iter().filter(|f| f.format != "terms").cloned());
        }
        let fused = validate(&file, &job_options(&d.path().join("fused"), true, false));
        proptest::prop_assert_eq!(fused.status, separate.status);
        proptest::prop_assert_eq!(
            (fused.statements, fused.terms, fused.blank_nodes),
            (separate.statements, separate.terms, separate.blank_nodes)
        );
        proptest::prop_assert_eq!(&fused.imports, &separate.imports);
        proptest::prop_assert_eq!(&fused.ontology_iri, &separate.ontology_iri);
        proptest::prop_assert_eq!(&fused.normalization, &separate.normalization);
        proptest::prop_assert_eq!(&fused.normalized_sha256, &separate.normalized_sha256);
        proptest::prop_assert!(fused.normalized_sha256.is_some());
        proptest::prop_assert_eq!(output(&fused, "terms"), output(&separate, "terms"));
        proptest::prop_assert_eq!(output(&fused, "nt"), output(&separate, "nt"));
        proptest::prop_assert_eq!(output(&fused, "ttl"), output(&separate, "ttl"));
    }
}

/// An OWL document in RDF/XML big enough to be cut into pieces: classes with labels (some
/// tagged `en-GB`), restrictions and axiom annotations (anonymous blank nodes), and
/// `rdf:nodeID` nodes that one class defines and classes far away in the file refer to.
fn owl_in_pieces(classes: usize) -> String {
    let mut x = String::from(concat!(
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" ",
        "xmlns:rdfs=\"http://www.w3.org/2000/01/rdf-schema#\" xmlns:owl=\"http://www.w3.org/2002/07/owl#\" ",
        "xmlns:obo=\"http://purl.obolibrary.org/obo/\" xml:base=\"http://x.org/\">\n",
        "<owl:Ontology rdf:about=\"http://x.org/o\"><owl:imports rdf:resource=\"http://x.org/dep\"/></owl:Ontology>\n"
    ));
    for i in 0..classes {
        let lang = if i % 3 == 0 { " xml:lang=\"en-GB\"" } else { "" };
        x.push_str(&format!(
            "<owl:Class rdf:about=\"http://x.org/C{i}\"><rdfs:label{lang}>class {i}</rdfs:label>\
             <obo:IAO_0000115>A class, number {i}, defined at length to make the file long.</obo:IAO_0000115>\
             <rdfs:subClassOf rdf:resource=\"http://x.org/C{}\"/>\
             <rdfs:subClassOf><owl:Restriction><owl:onProperty rdf:resource=\"http://x.org/part_of\"/>\
             <owl:someValuesFrom rdf:resource=\"http://x.org/C{}\"/></owl:Restriction></rdfs:subClassOf>\
             <rdfs:seeAlso rdf:nodeID=\"shared{}\"/></owl:Class>\n",
            i / 2,
            (i * 7) % classes,
            i % 17
        ));
        if i % 50 == 0 {
            x.push_str(&format!(
                "<owl:Axiom><owl:annotatedSource rdf:resource=\"http://x.org/C{i}\"/>\
                 <owl:annotatedProperty rdf:resource=\"http://www.w3.org/2000/01/rdf-schema#label\"/>\
                 <owl:annotatedTarget>class {i}</owl:annotatedTarget><rdfs:comment>axiom {i}</rdfs:comment></owl:Axiom>\n"
            ));
        }
        if i % 101 == 0 {
            // The nodes the classes refer to, defined here and there through the file.
            x.push_str(&format!(
                "<rdf:Description rdf:nodeID=\"shared{}\"><rdfs:comment>shared node</rdfs:comment></rdf:Description>\n",
                (i / 101) % 17
            ));
        }
    }
    x.push_str("</rdf:RDF>\n");
    x
}

/// The fused job parses an RDF/XML file in pieces on two threads, and reports what one
/// thread parsing it whole reports: counts, imports, the hash, the facts, the canonical
/// N-Triples and the Turtle byte for byte, with blank nodes named across pieces; a file
/// that breaks in its middle is refused, leaving no output.
#[test]
fn the_fused_job_in_pieces_equals_one_thread_parsing_it_whole() {
    let d = tempfile::tempdir().unwrap();
    let text = owl_in_pieces(3_000);
    assert!(text.len() > 1 << 20, "{} bytes: several pieces", text.len());
    let file = write(d.path(), "o.owl", &text);
    let options = |dir: &str, threads: usize| Options { threads, ..job_options(&d.path().join(dir), true, false) };
    let whole = validate(&file, &options("whole", 1));
    let pieces = validate(&file, &options("pieces", 2));
    assert_eq!((whole.status, pieces.status), (Status::Ok, Status::Ok), "{:?} {:?}", whole.message, pieces.message);
    assert!(pieces.parallel && !whole.parallel, "two threads parse pieces, one parses the whole");
    assert!(whole.blank_nodes && whole.normalized_sha256.is_some());
    assert_eq!(
        (pieces.statements, pieces.terms, pieces.blank_nodes, &pieces.imports),
        (whole.statements, whole.terms, whole.blank_nodes, &whole.imports)
    );
    assert_eq!(pieces.normalized_sha256, whole.normalized_sha256);
    assert_eq!(pieces.normalization, whole.normalization);
    for format in ["terms", "nt", "ttl"] {
        assert!(output(&whole, format).is_some(), "{format}");
        assert_eq!(output(&pieces, format), output(&whole, format), "{format}");
    }
    // The language tags are kept as written, in every piece.
    assert!(String::from_utf8(output(&pieces, "nt").unwrap()).unwrap().contains("\"class 3\"@en-GB"));

    // Broken past its first pieces: the pieces fail, the whole parse finds the error.
    let broken = text.replacen(
        "<owl:Class rdf:about=\"http://x.org/C2000\">",
        "<owl:Class rdf:about=\"http://x.org/C2000\"><oops>",
        1,
    );
    let file = write(d.path(), "broken.owl", &broken);
    let refused = validate(&file, &options("broken", 2));
    assert_eq!(refused.status, Status::Failed, "{refused:?}");
    assert!(refused.outputs.is_empty() && refused.normalized_sha256.is_none());
    let left: Vec<_> = std::fs::read_dir(d.path().join("broken"))
        .map(|r| r.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

/// An OWL document nested to the guard's limit is read, mapped to RDF and canonicalised
/// when validated from a 2 MiB thread (a tokio blocking thread's, where an embedder
/// validates), and one level more is refused as hostile before any parser sees it, in
/// both syntaxes.
#[test]
fn owl_nested_to_the_limit_parses_on_a_small_stack_and_deeper_is_refused() {
    let ofn = |levels: usize| {
        format!(
            "Prefix(:=<http://e.org/>)\nOntology(<http://e.org/o>\nDeclaration(Class(:A))\nSubClassOf(:A {}:C{})\n)\n",
            "ObjectIntersectionOf(:B ".repeat(levels),
            ")".repeat(levels)
        )
    };
    let owx = |levels: usize| {
        format!(
            "<?xml version=\"1.0\"?>\n<Ontology xmlns=\"http://www.w3.org/2002/07/owl#\" ontologyIRI=\"http://e.org/o\">\
             <Declaration><Class IRI=\"http://e.org/A\"/></Declaration><SubClassOf><Class IRI=\"http://e.org/A\"/>{}\
             <Class IRI=\"http://e.org/C\"/>{}</SubClassOf></Ontology>",
            "<ObjectIntersectionOf><Class IRI=\"http://e.org/B\"/>".repeat(levels),
            "</ObjectIntersectionOf>".repeat(levels)
        )
    };
    let d = tempfile::tempdir().unwrap();
    // Two levels are the document's own (Ontology, SubClassOf).
    let deepest = crate::nesting::MAX_NESTING - 2;
    let cases = [
        (write(d.path(), "ok.ofn", &ofn(deepest)), write(d.path(), "deep.ofn", &ofn(deepest + 1))),
        (write(d.path(), "ok.owx", &owx(deepest)), write(d.path(), "deep.owx", &owx(deepest + 1))),
    ];
    for (ok, deep) in cases {
        let opts = job_options(&d.path().join("norm"), false, false);
        let outcome = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || (validate(&ok, &opts), validate(&deep, &opts)))
            .unwrap()
            .join()
            .expect("no stack overflow at the limit");
        let (ok, deep) = outcome;
        assert_eq!(ok.status, Status::Ok, "{ok:?}");
        assert!(ok.normalized_sha256.is_some(), "mapped to RDF and canonicalised: {ok:?}");
        assert_eq!(deep.status, Status::Failed);
        assert!(deep.message.as_deref().unwrap().contains("levels deep"), "{deep:?}");
    }
}

/// The term facts an OBO job takes from its batches, on every thread, are the facts a
/// separate read of the file extracts, byte for byte (frames cut across batches included).
#[test]
fn obo_facts_from_the_batches_equal_a_separate_extraction() {
    let d = tempfile::tempdir().unwrap();
    let mut obo = String::from("format-version: 1.2\nontology: x\n\n");
    for i in 0..20_000 {
        obo.push_str(&format!(
            "[Term]\nid: X:{i:07}\nname: term {i} ! a comment\ndef: \"a \\\"quoted\\\" def {i}\" [X:ref]\n\
             is_a: X:{:07} {{source=\"x\"}} ! parent\n{}\n",
            i / 2,
            if i % 7 == 0 { "is_obsolete: true\n" } else { "" }
        ));
    }
    obo.push_str("[Typedef]\nid: part_of\nname: part of\n");
    let file = write(d.path(), "x.obo", &obo);
    assert!(obo.len() > 2 * super::obo::BATCH_BYTES, "several batches");
    let separate = terms::extract(&file, Detected::Obo, &d.path().join("separate.tsv"), 1 << 20).unwrap();
    for (threads, second_pass) in [(1, false), (3, false), (2, true)] {
        let mut opts = job_options(&d.path().join(format!("n{threads}")), false, second_pass);
        opts.threads = threads;
        // The batches' path alone (`validate` would extract the facts itself without them).
        let o = super::obo::run(&file, opts.normalize.as_ref(), threads);
        assert_eq!(o.status, Status::Ok, "{o:?}");
        assert_eq!(o.terms, 20_000);
        assert_eq!(
            output(&o, "terms"),
            Some(std::fs::read(&separate.path).unwrap()),
            "threads {threads}, second pass {second_pass}"
        );
    }
}

/// A parser error that quotes its line stays short when the document is one long line.
#[test]
fn a_parse_error_on_a_megabyte_line_makes_a_short_message() {
    let d = tempfile::tempdir().unwrap();
    let axioms = "Declaration(Class(<http://e.org/A>)) ".repeat(30_000);
    let file =
        write(d.path(), "o.ofn", &format!("Prefix(:=<http://e.org/>) Ontology(<http://e.org/o> {axioms} Broken(("));
    let o = validate(&file, &Options::default());
    assert_eq!(o.status, Status::Failed);
    let m = o.message.unwrap();
    assert!(m.starts_with("OWL functional syntax parse error"), "{}", &m[..80]);
    assert!(m.len() < MAX_MESSAGE_BYTES + 40 && m.ends_with("more bytes)"), "{} bytes", m.len());
}
