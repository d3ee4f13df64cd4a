//! Many processes, one data root: cron, `serve --refresh` and a person pulling at once.

use ontofetch_testsupport::cli::{Sandbox, Watched, wait_all};
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use ontofetch_testsupport::{Fault, Reply};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IDS: &[&str] = &["a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8"];

/// The shared harness, with slow bodies for every id and a spec naming them all; each
/// command's stdout is captured, its stderr dropped.
struct Env(Sandbox);

impl Env {
    fn new(delay: Duration, size: usize) -> Self {
        let s = Sandbox::new(crate::BIN);
        for id in IDS {
            // Unversioned content: the version comes from the bytes, the race to watch.
            let body = owl(None, &format!("{id} {}", "x".repeat(size)));
            s.server
                .route(&format!("/obo/{id}.owl"), vec![Reply::ok(body, OWL).fault(Fault::Slow { chunk: 8192, delay })]);
        }
        let text: String = IDS.iter().map(|id| format!("  - id: {id}\n")).collect();
        s.spec(&format!("defaults:\n  resolver_fallback_enabled: false\nontologies:\n{text}"));
        Env(s)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.0.command(args);
        cmd.arg("--spec").arg(self.path("sources.yaml")).stdout(Stdio::piped()).stderr(Stdio::null());
        cmd
    }

    fn pull(&self, ids: &[&str]) -> Child {
        let mut args = vec!["pull", "--json", "--no-lock", "--concurrent-downloads", "2"];
        args.extend_from_slice(ids);
        self.command(&args).spawn().unwrap()
    }

    /// A pull whose stderr the test reads while it runs.
    fn watched(&self, ids: &[&str]) -> Watched {
        let mut args = vec!["pull", "--json", "--no-lock", "--concurrent-downloads", "2"];
        args.extend_from_slice(ids);
        Watched::spawn(self.command(&args))
    }

    fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self.command(args).output().unwrap();
        (out.status.code().unwrap(), serde_json::from_slice(&out.stdout).unwrap())
    }
}

impl std::ops::Deref for Env {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

/// Six processes on one new root, overlapping sets: no migration race, no duplicate
/// version, no E_EXISTS, every body downloaded once, doctor clean.
#[test]
fn six_processes_on_one_root_store_each_version_once() {
    let env = Env::new(Duration::from_millis(15), 20_000);
    let sets: [&[&str]; 6] = [
        &["a1", "b2", "c3", "d4"],
        &["c3", "d4", "e5", "f6"],
        &["e5", "f6", "g7", "h8"],
        &["g7", "h8", "a1", "b2"],
        &["a1", "c3", "e5", "g7"],
        &["b2", "d4", "f6", "h8"],
    ];
    let children: Vec<Child> = sets.iter().map(|ids| env.pull(ids)).collect();
    let outcomes = wait_all(children, Duration::from_secs(180));
    for (i, (code, results, _)) in outcomes.iter().enumerate() {
        assert_eq!(*code, 0, "process {i} failed: {results}");
        for r in results.as_array().unwrap() {
            assert!(matches!(r["status"].as_str(), Some("fresh" | "cached")), "process {i}: {r}");
        }
    }
    for id in IDS {
        assert_eq!(env.version_dirs(id).len(), 1, "{id}: one version for one content");
        assert_eq!(env.server.hits(&format!("/obo/{id}.owl")), 1, "{id}: the body was downloaded once");
    }
    let (_, versions) = env.json(&["db", "versions", "--json", "--limit", "100"]);
    assert_eq!(versions["count"], IDS.len());
    let (code, doctor) = env.json(&["doctor", "--json"]);
    assert_eq!(code, 0, "{doctor}");
}

/// A process killed (-9) while it holds an ontology's lease: the kernel releases the lock,
/// another process takes the ontology over, and doctor --fix leaves the root clean.
#[test]
fn kill_minus_nine_while_holding_a_lease_does_not_block_the_others() {
    // ~25 chunks of 8 KiB, 200 ms apart: the victim holds a1's lease for seconds.
    let env = Env::new(Duration::from_millis(200), 200_000);
    let mut victim = env.pull(&["a1"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.server.hits("/obo/a1.owl") == 0 {
        assert!(Instant::now() < deadline, "the victim never started downloading");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut others = vec![env.watched(&["a1", "b2"]), env.watched(&["b2", "a1"])];
    // One of them is queued behind the victim's lease (it says so; the other may be busy
    // with b2) before anything is judged: the check below cannot pass because nobody had
    // got there yet, and the victim is still downloading.
    let queued = ["waiting for another worker's lease", r#""ontology":"a1""#];
    Watched::wait_for_any(&mut others, &queued, Duration::from_secs(60));
    assert_eq!(env.server.hits("/obo/a1.owl"), 1, "nobody else fetches a1 while the victim holds it");
    victim.kill().unwrap();
    victim.wait().unwrap();
    for o in others {
        let (code, results, stderr) = o.finish(Duration::from_secs(180));
        assert_eq!(code, 0, "{results} {stderr}");
    }
    assert_eq!(env.version_dirs("a1").len(), 1);
    assert_eq!(env.version_dirs("b2").len(), 1);
    assert_eq!(env.server.hits("/obo/a1.owl"), 2, "one survivor took a1 over after the kill");
    let (code, fixed) = env.json(&["doctor", "--json", "--fix"]);
    assert_eq!(code, 0, "{fixed}");
    let (code, clean) = env.json(&["doctor", "--json"]);
    assert_eq!(code, 0, "{clean}");
    assert!(clean["store"]["stale_staging"].as_array().unwrap().is_empty());
}
