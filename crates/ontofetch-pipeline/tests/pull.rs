//! The pipeline in-process, against the loopback server: no binary, no child processes.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_config::{Env, Flags, Overrides, Settings};
use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_pipeline::{InProcess, Pipeline, PullObserver, PullResult, PullStatus, ValidationSummary, pull};
use ontofetch_policy::{Code, NoObserver};
use ontofetch_store::Manifest;
use ontofetch_testsupport::{Reply, TestServer};
use std::sync::{Arc, Mutex};

use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};

struct Fixture {
    dir: tempfile::TempDir,
    server: TestServer,
}

impl Fixture {
    fn new() -> Self {
        Fixture { dir: tempfile::tempdir().unwrap(), server: TestServer::start() }
    }

    fn settings(&self, spec: &str) -> Settings {
        let path = self.dir.path().join("sources.yaml");
        std::fs::write(&path, spec).unwrap();
        let flags = Flags {
            spec: Some(path),
            data_root: Some(self.dir.path().join("root")),
            overrides: Overrides { allowed_hosts: vec![self.server.allow_entry()], ..Overrides::default() },
            ..Flags::default()
        };
        let env = Env::from_pairs([
            ("ONTOFETCH_OBO_BASE_URL", self.server.url("/obo")),
            ("ONTOFETCH_OLS_BASE_URL", self.server.url("/ols")),
            ("ONTOFETCH_BACKOFF_FACTOR", "0.1".to_string()),
            ("ONTOFETCH_MAX_RETRIES", "2".to_string()),
        ]);
        Settings::resolve(&flags, &env, self.dir.path(), &NoObserver).unwrap()
    }

    async fn pipeline(&self, spec: &str) -> Pipeline {
        let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
        Pipeline::new(self.settings(spec), metrics, Arc::new(InProcess), false).await.unwrap()
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl PullObserver for Recorder {
    fn started(&self, id: &str) {
        self.0.lock().unwrap().push(format!("started {id}"));
    }
    fn bytes(&self, id: &str, received: u64, _: Option<u64>) {
        let mut v = self.0.lock().unwrap();
        if !v.iter().any(|e| e.starts_with(&format!("bytes {id}"))) {
            v.push(format!("bytes {id} {}", received > 0));
        }
    }
    fn validated(&self, id: &str, s: &ValidationSummary) {
        self.0.lock().unwrap().push(format!("validated {id} {}", s.status));
    }
    fn finished(&self, r: &PullResult) {
        self.0.lock().unwrap().push(format!("finished {} {}", r.id, r.status.as_str()));
    }
}

async fn pull_spec(p: &Pipeline, ids: &[&str]) -> Vec<PullResult> {
    let ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    let specs = p.settings.spec_inputs(&ids, None).unwrap();
    pull::pull_all(p, &specs, &ontofetch_pipeline::Silent, 2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_stores_validates_and_tells_the_observer() {
    let f = Fixture::new();
    f.server.route(
        "/obo/bfo.owl",
        vec![
            Reply::ok(owl(Some("http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl"), "bfo"), OWL)
                .header("ETag", "\"e1\""),
        ],
    );
    let p = f.pipeline("ontologies:\n  - id: bfo\n").await;
    let rec = Recorder::default();
    let specs = p.settings.spec_inputs(&[], None).unwrap();
    let results = pull::pull_all(&p, &specs, &rec, 1).await;
    let r = &results[0];
    assert_eq!((r.status, r.version.as_deref()), (PullStatus::Fresh, Some("2019-08-26")), "{r:?}");
    let summary = r.validation.as_ref().unwrap();
    assert_eq!(summary.status, ontofetch_validate::Status::Ok);
    assert_eq!(summary.validators[0].statements, 2);
    assert_eq!(
        *rec.0.lock().unwrap(),
        ["started bfo", "bytes bfo true", "validated bfo ok", "finished bfo fresh"],
        "every event, in order"
    );
    let manifest_path = f.dir.path().join("root/ontologies/bfo/2019-08-26/manifest.json");
    let m = Manifest::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    assert_eq!((m.sha256.as_str(), m.status.as_str()), (r.sha256.as_deref().unwrap(), "fresh"));
    assert!(m.validation["rdf"].ok);
    assert_eq!(p.backends.catalog.latest("bfo").await.unwrap().unwrap().version, "2019-08-26");
    // the second pull is a conditional GET answered 304: cached, nothing new
    let again = pull_spec(&p, &["bfo"]).await;
    assert_eq!(again[0].status, PullStatus::Cached);
    let last = f.server.seen().into_iter().rfind(|s| s.path == "/obo/bfo.owl").unwrap();
    assert_eq!(last.headers.get("if-none-match").map(String::as_str), Some("\"e1\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_entry_reports_its_own_failure_once() {
    let f = Fixture::new();
    f.server.route("/files/x.owl", vec![Reply::status(404)]);
    let spec = format!(
        "defaults:\n  prefer_source: [obo, ols]\nontologies:\n  - id: x\n    resolver: direct\n    extras: {{url: '{}'}}\n",
        f.server.url("/files/x.owl")
    );
    let p = f.pipeline(&spec).await;
    let r = &pull_spec(&p, &["x"]).await[0];
    let e = r.error.as_ref().unwrap();
    assert_eq!(e.code, Code::HttpStatus);
    assert!(e.message.starts_with("direct: "), "{}", e.message);
    assert!(!e.message.contains("obo") && !e.message.contains("ols"), "no unrelated resolvers: {}", e.message);
    assert_eq!(e.message.matches("answered 404").count(), 1, "the failure once: {}", e.message);
    assert!(!e.message.contains("E_HTTP_STATUS"), "the code is not repeated in the message: {}", e.message);
    // an entry that asks for fallbacks gets them, the primary failure first
    f.server.route("/obo/y.owl", vec![Reply::status(410)]);
    let spec = format!(
        "ontologies:\n  - id: y\n    resolver: direct\n    prefer_source: [direct, obo]\n    extras: {{url: '{}'}}\n",
        f.server.url("/files/x.owl")
    );
    let p = f.pipeline(&spec).await;
    let e = pull_spec(&p, &["y"]).await[0].error.clone().unwrap();
    assert!(e.message.starts_with("direct: ") && e.message.contains("(also tried obo: "), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_validation_keeps_the_last_good_version_and_leaves_no_staging() {
    let f = Fixture::new();
    f.server.route("/obo/ro.owl", vec![Reply::ok(owl(Some("http://x.org/ro/v1/ro.owl"), "good"), OWL)]);
    let spec = "defaults:\n  continue_on_error: false\nontologies:\n  - id: ro\n";
    let p = f.pipeline(spec).await;
    assert_eq!(pull_spec(&p, &["ro"]).await[0].status, PullStatus::Fresh);
    f.server.route(
        "/obo/ro.owl",
        vec![Reply::ok(
            "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><broken",
            OWL,
        )],
    );
    let r = &pull_spec(&p, &["ro"]).await[0];
    assert_eq!(r.error.as_ref().unwrap().code, Code::Validation, "{r:?}");
    let versions: Vec<String> =
        p.backends.catalog.versions(Some("ro"), 10).await.unwrap().into_iter().map(|r| r.version).collect();
    assert_eq!(versions, ["v1"]);
    let staging = f.dir.path().join("root/.staging");
    assert!(std::fs::read_dir(staging).map(|mut d| d.next().is_none()).unwrap_or(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_retires_through_the_catalog_and_moves_latest() {
    use ontofetch_pipeline::prune::{PruneRequest, prune};
    let f = Fixture::new();
    let p = f.pipeline("ontologies:\n  - id: go\n").await;
    for v in ["v1", "v2", "v3"] {
        f.server.route("/obo/go.owl", vec![Reply::ok(owl(Some(&format!("http://x.org/go/{v}/go.owl")), v), OWL)]);
        let mut forced = pull_spec(&p, &["go"]).await;
        assert!(!forced.remove(0).is_failure());
    }
    let req = PruneRequest { keep: 1, ..PruneRequest::default() };
    let report = prune(&p.backends, &p.gates(), &req).await.unwrap();
    assert_eq!(report.ontologies[0].retained, ["v3"]);
    assert_eq!(report.total_deleted, 2);
    assert!(!f.dir.path().join("root/ontologies/go/v1").exists());
    assert_eq!(std::fs::read_link(f.dir.path().join("root/ontologies/go/latest")).unwrap().to_str(), Some("v3"));
}
