"""The Python API against a registry the tests run on 127.0.0.1 (nothing reaches the
internet): pull, ensure, refusals raising with their code, a hostile archive, validate_file,
PYSTOW_HOME, and the `ontofetch` command the wheel installs."""

from __future__ import annotations

import http.server
import io
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile

import pytest

import ontofetch

OWL = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"
         xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Ontology rdf:about="http://purl.obolibrary.org/obo/bfo.owl"/>
  <owl:Class rdf:about="http://purl.obolibrary.org/obo/BFO_0000001">
    <rdfs:label>entity</rdfs:label>
  </owl:Class>
</rdf:RDF>
"""

OBO = "format-version: 1.2\nontology: tiny\n\n[Term]\nid: TINY:1\nname: one\n\n[Term]\nid: TINY:2\nname: two\nis_a: TINY:1\n"


def hostile_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ok.owl", OWL)
        z.writestr("../../escape.owl", b"outside")
    return buf.getvalue()


class Registry(http.server.BaseHTTPRequestHandler):
    routes: dict = {}
    hits: dict = {}

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        Registry.hits[self.path] = Registry.hits.get(self.path, 0) + 1
        route = Registry.routes.get(self.path)
        if route is None:
            self.send_response(404)
            self.end_headers()
            return
        status, headers, body = route[:3]
        pause = route[3] if len(route) > 3 else 0.0
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not pause:
            self.wfile.write(body)
            return
        import time

        try:
            for i in range(0, len(body), 64):
                self.wfile.write(body[i:i + 64])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def registry():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    Registry.hits = {}
    Registry.routes = {
        "/obo/bfo.owl": (200, {"Content-Type": "application/rdf+xml"}, OWL),
        "/files/tiny.obo": (200, {"Content-Type": "text/plain"}, OBO.encode()),
        "/evil.owl": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/files/slip.zip": (200, {"Content-Type": "application/zip"}, hostile_zip()),
        # 64 bytes every 0.1 s: about 40 s for the whole file
        "/files/slow.owl": (200, {"Content-Type": "application/rdf+xml"}, OWL * 80, 0.1),
    }
    yield base, f"127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def mirror(tmp_path, registry, monkeypatch):
    base, allow = registry
    monkeypatch.setenv("ONTOFETCH_OBO_BASE_URL", f"{base}/obo")
    monkeypatch.setenv("PYSTOW_HOME", str(tmp_path / "pystow"))
    spec = tmp_path / "sources.yaml"
    spec.write_text(
        "defaults:\n  resolver_fallback_enabled: false\nontologies:\n"
        "  - id: bfo\n"
        f"  - id: tiny\n    resolver: direct\n    extras: {{url: '{base}/files/tiny.obo'}}\n"
        f"  - id: evil\n    resolver: direct\n    extras: {{url: '{base}/evil.owl'}}\n"
        f"  - id: slip\n    resolver: direct\n    extras: {{url: '{base}/files/slip.zip'}}\n"
        f"  - id: slow\n    resolver: direct\n    extras: {{url: '{base}/files/slow.owl'}}\n"
    )
    return {"spec": spec, "allowed_hosts": [allow], "root": tmp_path / "pystow" / "ontology-fetcher"}


def test_check_url_is_the_gate_decision():
    refused = ontofetch.check_url("http://169.254.169.254/")
    assert refused["allowed"] is False and refused["code"] == "E_PRIVATE_IP" and refused["gate"] == "url"
    assert ontofetch.check_url("https://purl.obolibrary.org/obo/bfo.owl")["allowed"] is True
    assert ontofetch.check_url("file:///etc/passwd")["code"] == "E_SCHEME"


def test_pull_stores_under_pystow_home_and_reports_progress(mirror):
    events = []
    results = ontofetch.pull(["bfo", "tiny"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"],
                             progress=events.append)
    by_id = {r["id"]: r for r in results}
    assert by_id["bfo"]["status"] == "fresh" and by_id["tiny"]["status"] == "fresh", results
    path = pathlib.Path(by_id["bfo"]["path"])
    assert path.read_bytes() == OWL
    assert mirror["root"] in path.parents, "PYSTOW_HOME decides the data root, as for the command"
    kinds = {e["event"] for e in events}
    assert {"pull.start", "pull.validated", "pull.done"} <= kinds, events
    again = ontofetch.pull(["bfo"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert again[0]["status"] == "cached"
    manifest = ontofetch.show("bfo", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert manifest["schema_version"] == "1.0" and manifest["sha256"] == by_id["bfo"]["sha256"]


def test_ensure_pulls_once_then_returns_the_stored_file(mirror, registry):
    path = ontofetch.ensure("bfo", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert isinstance(path, pathlib.Path) and path.read_bytes() == OWL
    assert ontofetch.ensure("bfo", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"]) == path
    assert Registry.hits["/obo/bfo.owl"] == 1, "the second ensure needs no request"


def test_a_refused_url_raises_with_its_code(mirror):
    with pytest.raises(ontofetch.RefusedError) as err:
        ontofetch.ensure("evil", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert err.value.code == "E_PRIVATE_IP"
    assert isinstance(err.value, ontofetch.OntofetchError)
    results = ontofetch.pull(["evil"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert results[0]["status"] == "failed" and results[0]["error"]["code"] == "E_PRIVATE_IP"


def test_a_hostile_archive_is_refused_whole(mirror):
    results = ontofetch.pull(["slip"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert results[0]["status"] == "failed" and results[0]["error"]["code"] == "E_TRAVERSAL", results
    assert not (mirror["root"] / "ontologies" / "slip").exists() or not any(
        p.name != "latest" for p in (mirror["root"] / "ontologies" / "slip").iterdir()
    )
    assert not any(mirror["root"].parent.rglob("escape.owl"))


def test_validate_file_reads_obo_and_turtle(tmp_path):
    obo = tmp_path / "x.obo"
    obo.write_text(OBO)
    report = ontofetch.validate_file(obo)
    assert (report["validator"], report["status"], report["terms"]) == ("obo", "ok", 2)
    ttl = tmp_path / "x.ttl"
    ttl.write_text("@prefix : <http://x.org/> .\n:a :p :b .\n:b :p :c .\n")
    report = ontofetch.validate_file(ttl)
    assert (report["validator"], report["status"], report["statements"]) == ("rdf", "ok", 2)
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix : <http://x.org/> .\n:a :p \"open .\n")
    assert ontofetch.validate_file(bad)["status"] == "failed"
    with pytest.raises(ontofetch.ConfigError) as err:
        ontofetch.validate_file(tmp_path / "missing.owl")
    assert err.value.code == "E_USAGE"


def test_validate_file_is_the_command_s_report(tmp_path):
    obo = tmp_path / "x.obo"
    obo.write_text(OBO)
    ours = ontofetch.validate_file(obo, output_dir=tmp_path / "out")
    ran = subprocess.run(
        [sys.executable, "-m", "ontofetch", "validate", "--file", str(obo), "--output-dir", str(tmp_path / "cli"), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(ran.stdout)
    assert ours["normalized_sha256"] and ours["normalized_sha256"] == theirs["normalized_sha256"], (ours, theirs)
    same = lambda r: {k: v for k, v in r.items() if k not in ("normalized_path", "outputs")}
    assert same(ours) == same(theirs)
    assert sorted(o["sha256"] for o in ours["outputs"]) == sorted(o["sha256"] for o in theirs["outputs"])
    assert all((tmp_path / "out" / pathlib.Path(o["path"]).name).is_file() for o in ours["outputs"])


def test_a_bad_configuration_raises_config_error(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("defaults:\n  http:\n    timeout_sec: -1\nontologies: []\n")
    with pytest.raises(ontofetch.ConfigError) as err:
        ontofetch.pull(spec=spec)
    assert err.value.code == "E_CONFIG_INVALID"
    assert str(spec) in str(err.value)


def test_the_installed_command_is_the_cli(tmp_path):
    exe = shutil.which("ontofetch", path=os.path.dirname(sys.executable))
    assert exe, "the wheel puts `ontofetch` next to the interpreter"
    out = subprocess.run([exe, "--json", "policy", "check-url", "http://169.254.169.254/"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 3, out.stderr
    assert json.loads(out.stdout)["code"] == "E_PRIVATE_IP"
    out = subprocess.run([sys.executable, "-m", "ontofetch", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and ontofetch.__version__ in out.stdout


def _refused_in_a_child(spec: str) -> None:
    ontofetch.pull(spec=spec)


def test_errors_live_in_ontofetch_and_cross_process_pools(tmp_path):
    import concurrent.futures
    import pickle

    err = ontofetch.RefusedError("refused", "E_PRIVATE_IP")
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.code, str(back)) == (ontofetch.RefusedError, "E_PRIVATE_IP", "refused")
    assert ontofetch.RefusedError.__module__ == "ontofetch"
    spec = tmp_path / "evil.yaml"
    spec.write_text("ontologies:\n  - id: evil\n    resolver: direct\n    extras:\n      url: http://169.254.169.254/x.owl\n")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(ontofetch.RefusedError) as raised:
            pool.submit(_refused_in_a_child, str(spec)).result(timeout=120)
    assert raised.value.code == "E_PRIVATE_IP"
    assert isinstance(raised.value, ontofetch.OntofetchError)


def test_ctrl_c_interrupts_a_pull_and_leaves_nothing_behind(mirror):
    import signal
    import time

    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            ontofetch.pull(["slow"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    finally:
        timer.cancel()
    # the download takes about 40 s; the interrupt arrives within a second of the signal
    assert time.monotonic() - started < 15
    root = mirror["root"]
    stored = root / "ontologies" / "slow"
    assert not stored.exists() or not any(p.name != "latest" for p in stored.iterdir())
    staging = root / ".staging"
    assert not staging.exists() or not any(staging.iterdir()), list(staging.iterdir())


def test_a_spec_built_in_python_is_read_like_sources_yaml(mirror, registry):
    base, _ = registry
    entries = [{"id": "tiny", "resolver": "direct", "extras": {"url": f"{base}/files/tiny.obo"}}]
    results = ontofetch.pull("tiny", spec=entries, allowed_hosts=mirror["allowed_hosts"])
    assert results[0]["status"] == "fresh", results
    doc = {"defaults": {"resolver_fallback_enabled": False}, "ontologies": entries}
    assert ontofetch.show("tiny", spec=doc, allowed_hosts=mirror["allowed_hosts"])["id"] == "tiny"
    with pytest.raises(ontofetch.ConfigError) as err:
        ontofetch.pull("tiny", spec={"ontologies": [{"id": "tiny", "resolver": "nope"}]})
    assert err.value.code in ("E_CONFIG_INVALID", "E_USAGE"), err.value


def test_plan_writes_a_lockfile_that_pull_replays(mirror, tmp_path):
    lock = tmp_path / "team.lock.json"
    plans = ontofetch.plan("tiny", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"], lock_output=lock)
    assert plans[0]["id"] == "tiny" and lock.is_file()
    assert [e["id"] for e in json.loads(lock.read_text())["entries"]] == ["tiny"]
    results = ontofetch.pull(["tiny"], lock=lock, allowed_hosts=mirror["allowed_hosts"])
    assert [(r["id"], r["status"]) for r in results] == [("tiny", "fresh")], results
    with pytest.raises(ontofetch.ConfigError):
        ontofetch.pull(["bfo"], lock=lock, allowed_hosts=mirror["allowed_hosts"])


def test_ensure_force_fetches_again_and_ensure_url_takes_any_allowed_url(mirror, registry):
    base, _ = registry
    first = ontofetch.ensure("tiny", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    hits = Registry.hits.get("/files/tiny.obo", 0)
    assert ontofetch.ensure("tiny", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"]) == first
    assert Registry.hits.get("/files/tiny.obo", 0) == hits, "present: not fetched again"
    again = ontofetch.ensure("tiny", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"], force=True)
    assert Registry.hits.get("/files/tiny.obo", 0) == hits + 1, "force fetches again"
    assert again == first, "the same bytes are the same version"
    path = ontofetch.ensure_url(f"{base}/obo/bfo.owl", name="my-bfo", spec=mirror["spec"],
                                allowed_hosts=mirror["allowed_hosts"])
    assert path.read_bytes() == OWL and "my-bfo" in path.parts
    with pytest.raises(ontofetch.RefusedError) as err:
        ontofetch.ensure_url(f"{base}/evil.owl", name="evil2", spec=mirror["spec"],
                             allowed_hosts=mirror["allowed_hosts"])
    assert err.value.code == "E_PRIVATE_IP", err.value
    with pytest.raises(ontofetch.ConfigError):
        ontofetch.ensure_url(f"{base}/obo/bfo.owl", name="../up", spec=mirror["spec"],
                             allowed_hosts=mirror["allowed_hosts"])


def test_logs_go_to_python_logging_without_colour(mirror, tmp_path, caplog):
    import logging

    spec = tmp_path / "inert.yaml"
    spec.write_text(mirror["spec"].read_text().replace("defaults:\n", "defaults:\n  http:\n    strict_dns: true\n"))
    caplog.set_level(logging.INFO, logger="ontofetch")
    ontofetch.plan("tiny", spec=spec, allowed_hosts=mirror["allowed_hosts"])
    ours = [r for r in caplog.records if r.name == "ontofetch"]
    assert any("strict_dns" in r.getMessage() and r.levelno == logging.WARNING for r in ours), ours
    assert all("\x1b[" not in r.getMessage() for r in ours)


def test_the_module_shows_its_api_and_its_name(tmp_path):
    shown = dir(ontofetch)
    assert {"pull", "ensure", "plan", "ConfigError"} <= set(shown)
    assert not {"json", "os", "tempfile", "Any", "Callable"} & set(shown), shown
    ran = subprocess.run([sys.executable, "-m", "ontofetch", "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "Usage: ontofetch" in ran.stdout and "__main__" not in ran.stdout, ran.stdout


def test_a_config_error_in_a_dict_spec_names_the_entry_not_a_temporary_file(tmp_path):
    with pytest.raises(ontofetch.ConfigError) as err:
        ontofetch.plan(spec={"ontologies": [{"id": "bad id"}]}, data_root=tmp_path)
    message = str(err.value)
    assert "ontologies[0].id" in message and "the spec given as a dict" in message, message
    assert "ontofetch-spec-" not in message, message


def test_the_docs_examples_run_as_written(tmp_path, registry, monkeypatch):
    """docs/python.md's API block, executed as written against a loopback PURL service (its
    one plain URL, https://example.org/x.ttl, is pointed at the same server)."""
    base, allow = registry
    docs = pathlib.Path(__file__).resolve().parents[2] / "docs" / "python.md"
    text = docs.read_text()
    block = text.split("## The API", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    for id in ("go", "hp", "chebi"):
        Registry.routes[f"/obo/{id}.owl"] = (200, {"Content-Type": "application/rdf+xml"},
                                              OWL.replace(b"bfo.owl", f"{id}.owl".encode()))
    Registry.routes["/x.ttl"] = (200, {"Content-Type": "text/turtle"}, b"<http://x.org/a> <http://x.org/p> <http://x.org/b> .\n")
    Registry.routes["/obo/suspicious.owl"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    for var in ("OBO", "OLS", "BIOPORTAL", "LOV"):
        monkeypatch.setenv(f"ONTOFETCH_{var}_BASE_URL", f"{base}/{var.lower()}")
    monkeypatch.setenv("ONTOFETCH_ALLOWED_HOSTS", allow)
    monkeypatch.setenv("PYSTOW_HOME", str(tmp_path / "pystow"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my.obo").write_text(OBO)
    scope = {}
    exec(compile(block.replace("https://example.org", base), str(docs), "exec"), scope)
    assert {r["id"]: r["status"] for r in scope["results"]}["hp"] in ("fresh", "updated", "cached"), scope["results"]
    assert scope["path"].is_file() and scope["manifest"]["id"] == "bfo"
    assert scope["report"]["status"] == "ok" and scope["decision"]["allowed"] is False


def _generate_key(name: str) -> dict:
    """`ontofetch keys generate --name NAME --json` under the test's PYSTOW_HOME."""
    exe = shutil.which("ontofetch", path=os.path.dirname(sys.executable))
    made = subprocess.run([exe, "--json", "keys", "generate", "--name", name], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)


def test_a_signed_mirror_verifies_and_refuses_a_flipped_byte(mirror):
    vkey = _generate_key("lab.example/ontofetch")["verifier_key"]
    results = ontofetch.pull(["bfo"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    ok = ontofetch.verify("bfo", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"], key=vkey)
    assert ok["ok"] and any(f["name"] == "original/bfo.owl" for f in ok["files"]), ok
    stored = pathlib.Path(results[0]["path"])
    assert ontofetch.verify(file=stored, key=vkey)["files"][0]["name"] == "original/bfo.owl"
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x20
    stored.write_bytes(bytes(data))
    with pytest.raises(ontofetch.RefusedError) as err:
        ontofetch.verify("bfo", spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"], key=vkey)
    assert err.value.code == "E_ATTESTATION", err.value


def test_securesystemslib_verifies_the_attestation_a_pull_signed(mirror):
    """A DSSE/in-toto implementation not written here (securesystemslib, PyPI) verifies the
    attestation of a version pulled through this API, and refuses a forged payload."""
    try:
        from securesystemslib.dsse import Envelope
        from securesystemslib.exceptions import VerificationError
        from securesystemslib.signer import SSlibKey
    except ImportError:
        if os.environ.get("ONTOFETCH_REQUIRE_SERVERS"):
            raise
        pytest.skip("securesystemslib is not installed (.ci/run installs it into target/py-venv)")
    import base64
    import hashlib
    shown = _generate_key("lab.example/ontofetch")
    name, key_id, _ = shown["verifier_key"].split("+", 2)
    key = SSlibKey(f"{name}+{key_id}", "ed25519", "ed25519", {"public": shown["public_key_hex"]})
    results = ontofetch.pull(["bfo"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    stored = pathlib.Path(results[0]["path"])
    text = (stored.parent.parent / "attestation.dsse.json").read_text()
    envelope = Envelope.from_dict(json.loads(text))
    assert sorted(envelope.verify([key], 1)) == [f"{name}+{key_id}"]
    statement = json.loads(envelope.payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects["original/bfo.owl"] == hashlib.sha256(stored.read_bytes()).hexdigest(), subjects
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    document = json.loads(text)  # from_dict takes the dict apart: a fresh one to forge
    document["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(VerificationError):
        Envelope.from_dict(document).verify([key], 1)


def test_ensure_from_a_team_mirror_verifies_its_attestation_and_log(mirror, tmp_path):
    exe = shutil.which("ontofetch", path=os.path.dirname(sys.executable))
    vkey = _generate_key("team.example/ontofetch")["verifier_key"]
    results = ontofetch.pull(["bfo"], spec=mirror["spec"], allowed_hosts=mirror["allowed_hosts"])
    assert results[0]["status"] == "fresh", results
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    serve = subprocess.Popen([exe, "serve", "--port", str(port), "--spec", str(mirror["spec"]),
                              "--allowed-hosts", mirror["allowed_hosts"][0]],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        team = f"http://127.0.0.1:{port}"
        laptop = tmp_path / "laptop"
        path = ontofetch.ensure("bfo", mirror=team, key=vkey, data_root=laptop, allowed_hosts=[f"127.0.0.1:{port}"])
        assert path.read_bytes() == OWL
        kept = path.parent.parent / "upstream.attestation.dsse.json"
        assert kept.read_bytes() == (pathlib.Path(results[0]["path"]).parent.parent / "attestation.dsse.json").read_bytes()
        # The team's stored bytes flipped: a fresh laptop refuses them, storing nothing.
        stored = pathlib.Path(results[0]["path"])
        data = bytearray(stored.read_bytes())
        data[len(data) // 2] ^= 0x20
        stored.write_bytes(bytes(data))
        with pytest.raises(ontofetch.RefusedError) as err:
            ontofetch.ensure("bfo", mirror=team, key=vkey, data_root=tmp_path / "other",
                             allowed_hosts=[f"127.0.0.1:{port}"])
        assert err.value.code == "E_ATTESTATION", err.value
        assert not list((tmp_path / "other").glob("ontologies/bfo/*/original/*"))
    finally:
        serve.terminate()
        serve.wait(timeout=30)
