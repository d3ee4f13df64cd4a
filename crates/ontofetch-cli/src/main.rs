//! The `ontofetch` binary (all of it lives in the library, so the Python package can run
//! the same command line).

fn main() -> std::process::ExitCode {
    ontofetch_cli::main()
}
