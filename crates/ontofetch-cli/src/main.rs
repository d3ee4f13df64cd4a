//! The `ontofetch` binary (all of it lives in the library, so the Python package can run
//! the same command line).

fn main() -> std::process::ExitCode {
    tune_allocator();
    ontofetch_cli::main()
}

/// glibc serves blocks above 128 KiB as fresh mmaps and gives freed heap back to the system
/// past 128 KiB, until its dynamic thresholds have grown. A download's body arrives in
/// hyper's reads of a few hundred KiB, freed on the writer's threads, so every byte was
/// received into newly faulted, zeroed pages: ~17,000 page faults for 200 MiB, a tenth of
/// a pull's CPU. Starting from values within what glibc's own adjustment reaches (its
/// mmap threshold grows to 32 MiB) keeps those buffers on the heap. Only the binary does
/// this: the Python package must not change its host's allocator.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    #[allow(unsafe_code)]
    // SAFETY: mallopt only sets malloc's parameters; it runs first in main, before any
    // other thread exists, and takes no pointers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
