//! Which of the real servers the integration tests start this machine has (PostgreSQL,
//! s3s-fs, Prometheus, Alertmanager, Chromium, the Python build tools). A test that needs
//! one asks [`available`] first: on a laptop without it, the test says what it skipped and
//! why, and passes; under CI (`.ci/run` sets `ONTOFETCH_REQUIRE_SERVERS=1`; `CI` counts
//! too) a missing server fails the test, so nothing is skipped silently where it counts.

use std::path::{Path, PathBuf};

/// A server (or tool) a test needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// PostgreSQL's server binaries (`initdb`, `pg_ctl`).
    Postgres,
    /// The `s3s-fs` S3 server.
    S3,
    /// `prometheus` and `promtool`.
    Prometheus,
    /// `prometheus-alertmanager` and `amtool`.
    Alertmanager,
    /// Headless Chromium.
    Chromium,
    /// `target/py-venv` with maturin and pytest.
    PythonTools,
    /// libxml2's `xmlcatalog` (an OASIS catalog resolver nobody here wrote).
    XmlCatalog,
    /// The reference implementations from PyPI in `target/py-venv`: `bioregistry` (the
    /// release the embedded registry snapshot was cut from), `pyld` (RDFC-1.0) and
    /// `securesystemslib` (DSSE, with `cryptography` for Ed25519).
    PythonReferences,
    /// Go with golang.org/x/mod's `sumdb/note` and `sumdb/tlog` (Debian's golang-go and
    /// golang-golang-x-mod-dev): the independent C2SP verifier of the transparency log.
    GoTlog,
}

/// Where Debian's golang-golang-x-mod-dev puts its sources (a GOPATH).
pub const GOPATH: &str = "/usr/share/gocode";

/// An executable on `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The workspace root (tests run with their crate's directory as the working directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why `need` is missing here, or `None` when it is present.
pub fn missing(need: Need) -> Option<String> {
    let absent = |what: &str, fix: &str| Some(format!("{what} is not installed ({fix}; .ci/run does this)"));
    match need {
        Need::Postgres => crate::pg::find_bin_dir()
            .is_none()
            .then(|| "PostgreSQL's server binaries are not under /usr/lib/postgresql (apt-get install postgresql; .ci/run does this)".into()),
        Need::S3 => crate::s3::find().is_none().then(|| {
            "s3s-fs is not built (cargo install s3s-fs@0.14.1 --features binary --locked --root target/test-tools; .ci/run does this)"
                .into()
        }),
        Need::Prometheus if on_path("prometheus").is_none() || on_path("promtool").is_none() => {
            absent("prometheus", "apt-get install prometheus")
        }
        Need::Alertmanager if on_path("prometheus-alertmanager").is_none() || on_path("amtool").is_none() => {
            absent("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
        }
        Need::Chromium if on_path("chromium").is_none() && on_path("chromium-browser").is_none() => {
            absent("chromium", "apt-get install chromium")
        }
        Need::XmlCatalog if on_path("xmlcatalog").is_none() => absent("xmlcatalog", "apt-get install libxml2-utils"),
        Need::GoTlog if on_path("go").is_none() || !Path::new(GOPATH).join("src/golang.org/x/mod/sumdb/tlog").is_dir() => {
            absent("go with golang.org/x/mod", "apt-get install golang-go golang-golang-x-mod-dev")
        }
        Need::PythonTools => venv_lacks("maturin, pytest", "maturin pytest"),
        Need::PythonReferences => venv_lacks(
            "bioregistry, pyld, securesystemslib, cryptography",
            "bioregistry==0.15.6 pyld==3.3.0 'securesystemslib[crypto]==1.3.0'",
        ),
        _ => None,
    }
}

/// Why `target/py-venv` cannot import `modules` (what to install: `packages`), or `None`.
fn venv_lacks(modules: &str, packages: &str) -> Option<String> {
    let python = workspace_root().join("target/py-venv/bin/python");
    let ready = std::process::Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    (!ready).then(|| {
        format!(
            "{} cannot import {modules} (python3 -m venv target/py-venv && target/py-venv/bin/pip install {packages}; \
             .ci/run does this)",
            python.display()
        )
    })
}

/// Whether missing servers fail the test instead of skipping it.
fn required() -> bool {
    ["ONTOFETCH_REQUIRE_SERVERS", "CI"].iter().any(|v| std::env::var(v).is_ok_and(|x| !x.is_empty() && x != "0"))
}

/// Whether a test that needs `needs` can run here. Missing one: under CI the test fails
/// with what to install; elsewhere it prints `skipped: …` and the test returns early.
pub fn available(test: &str, needs: &[Need]) -> bool {
    let reasons: Vec<String> = needs.iter().filter_map(|n| missing(*n)).collect();
    if reasons.is_empty() {
        return true;
    }
    assert!(!required(), "{test}: {}", reasons.join("; "));
    // Straight to the process's stderr: the test harness captures `eprintln!` of a test
    // that passes, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {}", reasons.join("; "));
    false
}
