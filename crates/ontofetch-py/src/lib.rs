//! The Python API of `pip install ontofetch` (the functions of `ontofetch._native`, which
//! the wheel crate assembles with the command line): pull, ensure, plan, show,
//! validate_file, check_url over the application layer's [`Context`], so settings resolve
//! exactly as for the command (`PYSTOW_HOME`, `--spec`, `--data-root`). Work runs with the
//! GIL released; validators run in child processes (`python -m ontofetch validate-worker`)
//! under the same limits as the binary's. Results cross into Python as JSON text, which the
//! Python layer turns into dicts.

// PyO3's #[pyfunction] and #[pymodule] expand to FFI glue with unsafe blocks.
#![allow(unsafe_code)]

mod pylog;

use ontofetch_app::events::Event;
use ontofetch_app::pull::{PullRequest, Wanted};
use ontofetch_app::{AppError, Context, Options};
use ontofetch_config::Overrides;
use ontofetch_pipeline::{PullObserver, PullResult, Subprocess, ValidationSummary};
use ontofetch_policy::{Code, CodeKind};
use pyo3::prelude::*;
use std::path::PathBuf;

/// A coded failure as the matching exception of `ontofetch.errors` (pure Python, so it
/// pickles as `ontofetch.RefusedError` and crosses process pools), with `.code` set.
fn raise(py: Python<'_>, code: Code, message: &str) -> PyErr {
    let class = match code {
        Code::Usage | Code::ConfigInvalid => "ConfigError",
        Code::NotFound => "NotFoundError",
        Code::Validation | Code::CheckFailed => "ValidationError",
        Code::Dns => "DownloadError",
        c if c.kind() == CodeKind::Refusal => "RefusedError",
        Code::Network | Code::HttpStatus | Code::Timeout | Code::Resolve => "DownloadError",
        _ => "OntofetchError",
    };
    let made = py
        .import("ontofetch.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1((message, code.as_str())));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn app_err(py: Python<'_>, e: AppError) -> PyErr {
    raise(py, e.code, &e.message)
}

/// Ends a context without the GIL: its runtime's threads may be logging into Python (which
/// takes the GIL) while they stop, and waiting for them with the GIL held would deadlock.
fn release(py: Python<'_>, ctx: Context) {
    py.detach(move || drop(ctx));
}

/// How validator workers are started from Python: this interpreter, `-m ontofetch`.
pub fn worker(py: Python<'_>) -> PyResult<Subprocess> {
    let exe: String = py.import("sys")?.getattr("executable")?.extract()?;
    Ok(Subprocess { program: PathBuf::from(exe), args: vec!["-m".into(), "ontofetch".into()] })
}

/// The command context for a call: the settings resolved as the command resolves them,
/// validator workers started from this interpreter.
fn context(
    py: Python<'_>,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
) -> PyResult<Context> {
    pylog::install(py);
    let worker = worker(py)?;
    let options = Options { json: true, spec, data_root, allowed_hosts, ..Options::default() };
    Context::new(options, Overrides::default(), false, worker).map_err(|e| app_err(py, e))
}

/// Progress events to a Python callable (`{"event": "pull.bytes", "id": …}`), with the GIL
/// taken only for the call; a callback that raises is ignored (progress never fails a pull).
struct Progress(Option<Py<PyAny>>);

impl Progress {
    fn send(&self, text: String) {
        if let Some(cb) = &self.0 {
            Python::attach(|py| {
                let Ok(dict) = py.import("json").and_then(|j| j.call_method1("loads", (text,))) else { return };
                let _ = cb.call1(py, (dict,));
            });
        }
    }
}

impl PullObserver for Progress {
    fn started(&self, id: &str) {
        self.send(Event::Start { id }.to_json());
    }
    fn bytes(&self, id: &str, received: u64, total: Option<u64>) {
        self.send(Event::Bytes { id, received, total }.to_json());
    }
    fn validated(&self, id: &str, summary: &ValidationSummary) {
        self.send(Event::Validated { id, validation: summary }.to_json());
    }
    fn finished(&self, result: &PullResult) {
        self.send(Event::done(result).to_json());
    }
}

/// The url gate's decision on `url` as JSON (never raises for a refusal: it is the answer).
#[pyfunction]
#[pyo3(signature = (url, spec=None, data_root=None, allowed_hosts=vec![]))]
fn check_url(
    py: Python<'_>,
    url: &str,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
) -> PyResult<String> {
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    let gates = ctx.gates().map_err(|e| app_err(py, e))?;
    let verdict = ontofetch_app::check::url(&gates, url, false);
    Ok(serde_json::to_string(&verdict).unwrap_or_default())
}

/// Where the worker thread leaves the work's result, and how it says it did.
type Outcome<T> = (std::sync::Mutex<Option<Result<T, AppError>>>, std::sync::Condvar);

/// Runs the work `make` builds on a thread of its own (on the context's runtime), while this
/// thread waits without the GIL and checks for signals every 100 ms: Ctrl-C raises
/// `KeyboardInterrupt` within about that, and the work is cancelled (its futures are
/// dropped, so its staging is removed; a validator still running dies with nothing
/// promoted). The caller then ends the context with `shutdown_background`, which does not
/// wait for blocking work that a cancel abandoned.
fn interruptible<T, F, Fut>(py: Python<'_>, ctx: &Context, make: F) -> PyResult<Result<T, AppError>>
where
    T: Send,
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    use std::sync::{Arc, Condvar, Mutex};
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let slot: Arc<Outcome<T>> = Arc::new((Mutex::new(None), Condvar::new()));
    std::thread::scope(|scope| {
        let done = slot.clone();
        scope.spawn(move || {
            let out = ctx.block_on(async move {
                tokio::select! {
                    r = make() => r,
                    _ = cancelled => Err(AppError::new(Code::Io, "interrupted")),
                }
            });
            let (lock, ready) = &*done;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
            ready.notify_all();
        });
        let mut cancel = Some(cancel);
        loop {
            let waited = py.detach(|| {
                let (lock, ready) = &*slot;
                let guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                let (mut guard, _) = ready
                    .wait_timeout_while(guard, std::time::Duration::from_millis(100), |r| r.is_none())
                    .unwrap_or_else(|p| p.into_inner());
                guard.take()
            });
            if let Some(out) = waited {
                return Ok(out);
            }
            if let Err(signal) = py.check_signals() {
                if let Some(c) = cancel.take() {
                    let _ = c.send(());
                }
                // The scope joins the worker, which stops at once on the cancel.
                return Err(signal);
            }
        }
    })
}

/// Pulls `ids` (default: every configured ontology, or every entry of `lock`), as `pull`
/// does: the same request, the same lockfile handling (`lock_output` records the pull;
/// with `lock`, missing pins are filled in), the same report (a JSON array, each entry with
/// its `exit_code`).
#[pyfunction]
#[pyo3(signature = (ids=vec![], spec=None, data_root=None, force=false, allowed_hosts=vec![], progress=None, lock=None, with_imports=false, lock_output=None))]
#[allow(clippy::too_many_arguments)]
fn pull(
    py: Python<'_>,
    ids: Vec<String>,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    force: bool,
    allowed_hosts: Vec<String>,
    progress: Option<Py<PyAny>>,
    lock: Option<PathBuf>,
    with_imports: bool,
    lock_output: Option<PathBuf>,
) -> PyResult<String> {
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    let observer = Progress(progress);
    let req = PullRequest { ids, lock, force, with_imports, write_lock: lock_output, ..PullRequest::default() };
    let c = &ctx;
    let out = interruptible(py, c, move || async move { ontofetch_app::pull::pull(c, &req, &observer).await });
    ctx.shutdown_background();
    let report = out?.map_err(|e| app_err(py, e))?;
    Ok(serde_json::to_string(&report).unwrap_or_default())
}

/// Plans `ids` (no download), as `plan` does: each plan or failure as JSON; the lockfile is
/// written to `lock_output` when given.
#[pyfunction]
#[pyo3(signature = (ids=vec![], spec=None, data_root=None, allowed_hosts=vec![], lock_output=None))]
fn plan(
    py: Python<'_>,
    ids: Vec<String>,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
    lock_output: Option<PathBuf>,
) -> PyResult<String> {
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    let out = py.detach(|| {
        let specs = ctx.specs(&ids, None)?;
        ctx.block_on(ontofetch_app::plan::plan(&ctx, &specs, lock_output.as_deref()))
    });
    release(py, ctx);
    Ok(serde_json::to_string(&out.map_err(|e| app_err(py, e))?).unwrap_or_default())
}

/// The latest manifest of `id` (JSON), or `NotFoundError`.
#[pyfunction]
#[pyo3(signature = (id, spec=None, data_root=None, allowed_hosts=vec![]))]
fn show(
    py: Python<'_>,
    id: &str,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
) -> PyResult<String> {
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    let out = py.detach(|| ctx.block_on(ontofetch_app::mirror::latest_manifest(&ctx, id)));
    release(py, ctx);
    Ok(out.map_err(|e| app_err(py, e))?.to_string())
}

/// [`ontofetch_app::pull::ensure`] under Ctrl-C's watch; the path as text.
fn ensure_interruptibly(py: Python<'_>, ctx: Context, wanted: Wanted, force: bool) -> PyResult<String> {
    let c = &ctx;
    let out = interruptible(py, c, move || ontofetch_app::pull::ensure(c, wanted, force));
    ctx.shutdown_background();
    Ok(out?.map_err(|e| app_err(py, e))?.display().to_string())
}

/// The local path of the latest stored original of `id`, pulling it first when absent or
/// when `force` (pystow's `ensure`). The path names the version: a newer release is stored
/// beside it, never over it.
#[pyfunction]
#[pyo3(signature = (id, spec=None, data_root=None, allowed_hosts=vec![], force=false, mirror=None, key=None))]
#[allow(clippy::too_many_arguments)]
fn ensure(
    py: Python<'_>,
    id: &str,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
    force: bool,
    mirror: Option<String>,
    key: Option<String>,
) -> PyResult<String> {
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    let wanted = match (mirror, key) {
        (Some(url), Some(key)) => Wanted::Mirror { id: id.to_string(), url, key },
        (None, None) => Wanted::Id(id.to_string()),
        _ => return Err(raise(py, Code::Usage, "give mirror= and key= together (the mirror's verifier key)")),
    };
    ensure_interruptibly(py, ctx, wanted, force)
}

/// Fetches an arbitrary URL into the mirror under `name` (pystow's `ensure(key, url=…)`),
/// through every gate, validated and recorded like any ontology (licence and version
/// unknown unless the file says); the local path of the stored original.
#[pyfunction]
#[pyo3(signature = (url, name, spec=None, data_root=None, allowed_hosts=vec![], force=false))]
#[allow(clippy::too_many_arguments)]
fn ensure_url(
    py: Python<'_>,
    url: &str,
    name: &str,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
    force: bool,
) -> PyResult<String> {
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    ensure_interruptibly(py, ctx, Wanted::Url { name: name.to_string(), url: url.to_string() }, force)
}

/// Validates a local file with the same worker, limits, normalisation and report as a pull
/// and as `ontofetch validate --file` (JSON); the normalised files are kept in `output_dir`
/// when given.
#[pyfunction]
#[pyo3(signature = (path, spec=None, output_dir=None))]
fn validate_file(
    py: Python<'_>,
    path: PathBuf,
    spec: Option<PathBuf>,
    output_dir: Option<PathBuf>,
) -> PyResult<String> {
    let ctx = context(py, spec, None, vec![])?;
    let out = py.detach(|| ontofetch_app::validate::file(&ctx, &path, output_dir.as_deref()));
    release(py, ctx);
    Ok(serde_json::to_string(&out.map_err(|e| app_err(py, e))?).unwrap_or_default())
}

/// Checks a stored version or a local file against its signed attestation (JSON), as
/// `ontofetch verify`; `E_ATTESTATION` (`RefusedError`) when it does not hold.
#[pyfunction]
#[pyo3(signature = (id=None, version=None, file=None, attestation=None, key=None, spec=None, data_root=None, allowed_hosts=vec![], log=None))]
#[allow(clippy::too_many_arguments)]
fn verify(
    py: Python<'_>,
    id: Option<String>,
    version: Option<String>,
    file: Option<PathBuf>,
    attestation: Option<PathBuf>,
    key: Option<String>,
    spec: Option<PathBuf>,
    data_root: Option<PathBuf>,
    allowed_hosts: Vec<String>,
    log: Option<String>,
) -> PyResult<String> {
    use ontofetch_app::provenance::Target;
    let ctx = context(py, spec, data_root, allowed_hosts)?;
    let target = match (file, id) {
        (Some(path), _) => Target::File { path, attestation, log },
        (None, Some(id)) => Target::Stored { id, version },
        (None, None) => return Err(raise(py, Code::Usage, "give an ontology id or file=")),
    };
    let out = py.detach(|| ctx.block_on(ontofetch_app::provenance::verify(&ctx, &target, key.as_deref())));
    release(py, ctx);
    Ok(serde_json::to_string(&out.map_err(|e| app_err(py, e))?).unwrap_or_default())
}

/// Adds the API's functions to the module the wheel builds (`ontofetch._native`).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(check_url, m)?)?;
    m.add_function(wrap_pyfunction!(pull, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(show, m)?)?;
    m.add_function(wrap_pyfunction!(ensure, m)?)?;
    m.add_function(wrap_pyfunction!(ensure_url, m)?)?;
    m.add_function(wrap_pyfunction!(validate_file, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
