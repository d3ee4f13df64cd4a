//! Response documents of the registries as they really answer, trimmed to the fields a
//! resolver reads (plus a few it must ignore), each with its source. `{file}` is replaced
//! by the download URL the test serves.

/// OLS4 V1 `GET /api/ontologies/{id}`. Shape from EBISPOT/ols4
/// `testcases_expected_output_api/hierarchical-properties/ontologies.json` (the `config`
/// object of an ontology) and OLS4's `OntologyConfig` fields: `fileLocation` (the
/// download), `versionIri`, `version` (owl:versionInfo, often `null`). There is **no
/// licence** in V1.
pub const OLS_V1: &str = r#"{
  "_links": {"self": {"href": "<base>/api/ontologies/efo?lang=en"}},
  "config": {
    "allowDownload": true,
    "baseUris": [],
    "description": "The Experimental Factor Ontology (EFO) provides a systematic description of many experimental variables available in EBI databases.",
    "fileLocation": "{file}",
    "id": "efo",
    "isSkos": false,
    "oboSlims": false,
    "preferredPrefix": "EFO",
    "title": "Experimental Factor Ontology",
    "version": null,
    "versionIri": "http://www.ebi.ac.uk/efo/releases/v3.62.0/efo.owl"
  },
  "lang": "en",
  "loaded": "2024-01-01T00:00:00.000+0000",
  "numberOfTerms": 26,
  "ontologyId": "efo",
  "status": "LOADED"
}"#;

/// OLS4 V2 `GET /api/v2/ontologies/{id}`. Shape from EBISPOT/ols4
/// `testcases_expected_output_api/hierarchical-properties/v2/ontologies.json` (flat
/// fields, numbers as strings) with the `license: {label, url, logo}` object OLS4 returns
/// for ontologies whose configuration names one.
pub const OLS_V2: &str = r#"{
  "_links": {"self": {"href": "<base>/api/v2/ontologies/efo"}},
  "iri": "http://www.ebi.ac.uk/efo/efo.owl",
  "isObsolete": "false",
  "license": {
    "label": "Apache License, Version 2.0",
    "logo": "http://www.apache.org/img/asf_logo.png",
    "url": "http://www.apache.org/licenses/LICENSE-2.0"
  },
  "numberOfClasses": "26",
  "ontologyId": "efo",
  "preferredPrefix": "EFO",
  "title": "Experimental Factor Ontology",
  "type": ["ontology"]
}"#;

/// BioPortal `GET /ontologies/{ACR}/latest_submission?display=…`. Fields from
/// ncbo/ontologies_linked_data `ontology_submission.rb` (`hasLicense` and
/// `hasOntologyLanguage` only appear when `display` asks for them); the download is
/// `/ontologies/{ACR}/download`, not a field of this document.
pub const BIOPORTAL_SUBMISSION: &str = r#"{
  "@id": "https://data.bioontology.org/ontologies/NCIT/submissions/128",
  "@type": "http://data.bioontology.org/metadata/OntologySubmission",
  "submissionId": 128,
  "version": "24.01d",
  "released": "2024-01-29T00:00:00-08:00",
  "hasLicense": "https://creativecommons.org/licenses/by/4.0/",
  "hasOntologyLanguage": "OWL",
  "@context": {"@vocab": "http://data.bioontology.org/metadata/"}
}"#;

/// LOV `GET /dataset/lov/api/v2/vocabulary/info?vocab=foaf`. Shape from
/// pyvandenbussche/lov `app/controllers/vocabularies.js`: `prefix`, `titles`, `tags`,
/// `versions[]` (`name`, `issued`, `fileURL`) oldest first; no version, licence or
/// download key at the top.
pub const LOV_INFO: &str = r#"{
  "prefix": "foaf",
  "uri": "http://xmlns.com/foaf/0.1/",
  "nsp": "http://xmlns.com/foaf/0.1/",
  "titles": [{"value": "Friend of a Friend vocabulary", "lang": "en"}],
  "tags": ["People", "W3C Rec"],
  "versions": [
    {"name": "v0.98", "issued": "2010-08-09", "fileURL": "{old}"},
    {"name": "v0.99", "issued": "2014-01-14", "fileURL": "{file}"}
  ]
}"#;

/// A fixture with its placeholders filled.
pub fn fill(fixture: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(fixture.to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
}
