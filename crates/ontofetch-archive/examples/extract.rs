//! `cargo run --release -p ontofetch-archive --example extract -- ARCHIVE DEST`: extracts one
//! archive with the default policy (used by bench/extract.sh to compare with bsdtar).

use ontofetch_policy::{Gates, NoObserver, Policy};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: extract ARCHIVE DEST");
        std::process::exit(2);
    }
    let policy = Policy::default();
    let gates = Gates::new(&policy, &NoObserver);
    match ontofetch_archive::extract(std::path::Path::new(&args[1]), std::path::Path::new(&args[2]), &gates) {
        Ok(r) => println!("{} files, {} bytes, ratio {:.1}", r.files.len(), r.total_bytes, r.ratio()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
