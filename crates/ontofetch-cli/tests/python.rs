//! The Python package (issue: "where its users live"): the wheel maturin builds installs
//! into a fresh virtualenv without an index and gives the `ontofetch` command and module,
//! and the pytest suite (`python/tests`, its own registry on 127.0.0.1) passes against it.
//! `.ci/run` creates `target/py-venv` with maturin and pytest from PyPI.

use ontofetch_testsupport::servers::{Need, available};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn ok(what: &str, out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_its_pytest_suite_passes() {
    if !available("the_wheel_installs_into_a_fresh_venv_and_its_pytest_suite_passes", &[Need::PythonTools]) {
        return;
    }
    let root = root();
    let venv = root.join("target/py-venv");
    let tools = venv.join("bin/python");
    let ready = Command::new(&tools).args(["-c", "import maturin, pytest"]).output().is_ok_and(|o| o.status.success());
    assert!(ready, "{} needs maturin and pytest: run .ci/run, which creates it from PyPI", venv.display());
    let dir = tempfile::tempdir().unwrap();
    let wheels = dir.path().join("wheels");
    ok(
        "maturin build",
        Command::new(venv.join("bin/maturin"))
            .args(["build", "--profile", "dev", "--strip", "--out"])
            .arg(&wheels)
            .current_dir(&root)
            .output()
            .unwrap(),
    );
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .expect("a wheel");
    assert!(wheel.file_name().unwrap().to_string_lossy().contains("abi3"), "one wheel for every CPython >= 3.9");

    // a fresh virtualenv, the wheel alone, no index
    let fresh = dir.path().join("fresh");
    ok("venv", Command::new(&tools).args(["-m", "venv"]).arg(&fresh).output().unwrap());
    ok(
        "pip install",
        Command::new(fresh.join("bin/pip")).args(["install", "--quiet", "--no-index"]).arg(&wheel).output().unwrap(),
    );
    let printed = ok(
        "import",
        Command::new(fresh.join("bin/python"))
            .args(["-c", "import ontofetch; print(ontofetch.check_url('http://169.254.169.254/'))"])
            .current_dir(dir.path())
            .output()
            .unwrap(),
    );
    assert!(printed.contains("'allowed': False") && printed.contains("E_PRIVATE_IP"), "{printed}");
    let version =
        ok("ontofetch --version", Command::new(fresh.join("bin/ontofetch")).arg("--version").output().unwrap());
    assert!(version.contains(env!("CARGO_PKG_VERSION")), "{version}");

    // the pytest suite against the same wheel
    ok(
        "pip install into the test venv",
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--no-index", "--no-deps", "--force-reinstall"])
            .arg(&wheel)
            .output()
            .unwrap(),
    );
    let report = ok(
        "pytest",
        Command::new(&tools)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(root.join("python/tests"))
            .current_dir(dir.path())
            .env_remove("PYSTOW_HOME")
            .output()
            .unwrap(),
    );
    assert!(report.contains("passed") && !report.contains("failed"), "{report}");
}
