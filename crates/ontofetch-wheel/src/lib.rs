//! `ontofetch._native`, the extension module behind `pip install ontofetch`: the Python API
//! (`ontofetch-py`, over the application layer) and the command line (`run_cli`, behind the
//! `ontofetch` console script and the validator workers), assembled here and nowhere else,
//! as the binary's `main` assembles the command line alone. Neither front end depends on the
//! other.

// PyO3's #[pyfunction] and #[pymodule] expand to FFI glue with unsafe blocks.
#![allow(unsafe_code)]

use pyo3::prelude::*;
use std::ffi::OsString;

/// Runs the `ontofetch` command line (argv[0] included); returns its exit status.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> PyResult<u8> {
    let worker = ontofetch_py::worker(py)?;
    let args: Vec<OsString> = argv.into_iter().map(OsString::from).collect();
    Ok(py.detach(move || ontofetch_cli::run_args_status(args, worker)))
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    ontofetch_py::register(m)
}
