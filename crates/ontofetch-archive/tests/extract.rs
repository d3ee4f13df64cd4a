//! Extraction against generated archives: every malicious one refused with its code and
//! nothing left anywhere (not inside the destination, not outside it); good ones extracted
//! byte for byte.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_archive::{Report, extract};
use ontofetch_policy::{Coded, ExtractionPolicy, Gates, NoObserver, Policy};
use ontofetch_testsupport::archives::{RawEntry, TarEntry, bz2, gz, tar, xz, zip, zip_quoted_overlap, zst};
use std::path::{Path, PathBuf};
use tar::EntryType;

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(root).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

fn run(
    file: &str,
    bytes: &[u8],
    policy: &Policy,
) -> (tempfile::TempDir, Result<Report, ontofetch_archive::ArchiveError>) {
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("in")).unwrap();
    std::fs::create_dir(work.path().join("out")).unwrap();
    let archive = work.path().join("in").join(file);
    std::fs::write(&archive, bytes).unwrap();
    let gates = Gates::new(policy, &NoObserver);
    let r = extract(&archive, &work.path().join("out/x"), &gates);
    (work, r)
}

fn zeros(n: usize) -> Vec<u8> {
    vec![0u8; n]
}

struct Case {
    id: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    expect: &'static str,
    policy: Policy,
}

fn case(id: &'static str, file: &'static str, bytes: Vec<u8>, expect: &'static str) -> Case {
    Case { id, file, bytes, expect, policy: Policy::default() }
}

fn with(mut c: Case, f: impl FnOnce(&mut ExtractionPolicy)) -> Case {
    f(&mut c.policy.extraction);
    c
}

fn malicious() -> Vec<Case> {
    let owl = b"<rdf:RDF/>".to_vec();
    let mut link = RawEntry::file("x", b"/etc");
    link.unix_mode = Some(0o120777);
    let mut link_rel = RawEntry::file("d/up", b"../..");
    link_rel.unix_mode = Some(0o120777);
    let mut fifo = RawEntry::file("pipe", b"");
    fifo.unix_mode = Some(0o010644);
    let mut chr = RawEntry::file("tty", b"");
    chr.unix_mode = Some(0o020644);
    let mut enc = RawEntry::file("secret.owl", b"xxxx");
    enc.flags = 1;
    let mut lzma = RawEntry::file("odd.owl", b"xxxx");
    lzma.method = Some(14);
    let mut mismatch = RawEntry::file("good.owl", &owl);
    mismatch.local_name = b"evil.sh".to_vec();
    let mut liar = RawEntry::deflated("small.owl", &zeros(2 << 20));
    liar.declared_size = Some(1000);
    let bomb_kernel = RawEntry::deflated("kernel.owl", &zeros(4 << 20));
    let deep: String = (0..40).map(|i| format!("d{i}/")).collect::<String>() + "x.owl";
    let long = format!("{}.owl", "a".repeat(300));
    let inner = zip(&[RawEntry::file("in.owl", &owl)], &[]);
    let middle = zip(&[RawEntry::file("inner.zip", &inner)], &[]);
    let outer = zip(&[RawEntry::file("middle.zip", &middle)], &[]);
    let many: Vec<RawEntry> = (0..60).map(|i| RawEntry::file(&format!("f{i}.owl"), b"x")).collect();
    let gz_bomb = gz(&zeros(30 << 20));
    let tar_bomb = gz(&tar(&[TarEntry::file("big.owl", &zeros(30 << 20))]));
    vec![
        case(
            "ARC-01 zip slip",
            "a.zip",
            zip(&[RawEntry::file("../../etc/cron.d/x", b"* * * * * root sh")], &[]),
            "E_TRAVERSAL",
        ),
        case("ARC-01 zip dotdot in the middle", "a.zip", zip(&[RawEntry::file("a/../../x", b"x")], &[]), "E_TRAVERSAL"),
        case("ARC-01 backslash slip", "a.zip", zip(&[RawEntry::file("..\\..\\x", b"x")], &[]), "E_TRAVERSAL"),
        case("ARC-02 absolute", "a.zip", zip(&[RawEntry::file("/etc/passwd", b"x")], &[]), "E_ABSOLUTE_PATH"),
        case("ARC-02 drive letter", "a.zip", zip(&[RawEntry::file("C:\\Windows\\x", b"x")], &[]), "E_ABSOLUTE_PATH"),
        case("ARC-02 UNC", "a.zip", zip(&[RawEntry::file("\\\\host\\share\\x", b"x")], &[]), "E_ABSOLUTE_PATH"),
        case("ARC-03 long component", "a.zip", zip(&[RawEntry::file(&long, b"x")], &[]), "E_PATH_LENGTH"),
        case("ARC-03 deep path", "a.zip", zip(&[RawEntry::file(&deep, b"x")], &[]), "E_PATH_DEPTH"),
        case("ARC-04 reserved name", "a.zip", zip(&[RawEntry::file("CON.owl", b"x")], &[]), "E_RESERVED_NAME"),
        case(
            "ARC-04 NTFS stream",
            "a.zip",
            zip(&[RawEntry::file("a.owl:Zone.Identifier", b"x")], &[]),
            "E_RESERVED_NAME",
        ),
        case(
            "ARC-05 case collision",
            "a.zip",
            zip(&[RawEntry::file("A.owl", &owl), RawEntry::file("a.owl", &owl)], &[]),
            "E_CASE_COLLISION",
        ),
        case("ARC-06 zip symlink", "a.zip", zip(&[link, RawEntry::file("x/passwd", b"x")], &[]), "E_LINK"),
        case(
            "ARC-07 zip relative symlink escape",
            "a.zip",
            zip(&[link_rel, RawEntry::file("d/up/pwned", b"x")], &[]),
            "E_LINK",
        ),
        case("ARC-11 zip fifo", "a.zip", zip(&[fifo], &[]), "E_SPECIAL_FILE"),
        case("ARC-11 zip char device", "a.zip", zip(&[chr], &[]), "E_SPECIAL_FILE"),
        case(
            "ARC-13 duplicate names",
            "a.zip",
            zip(&[RawEntry::file("a.owl", &owl), RawEntry::file("a.owl", b"evil")], &[]),
            "E_DUPLICATE_ENTRY",
        ),
        case(
            "ARC-14 overlapping entries (zbsm)",
            "a.zip",
            zip(&[bomb_kernel], &[("k2.owl", 0, 0), ("k3.owl", 0, 0)]),
            "E_OVERLAP",
        ),
        case("ARC-15 quoted overlap", "a.zip", zip_quoted_overlap(), "E_OVERLAP"),
        case("ARC-16 local/central name mismatch", "a.zip", zip(&[mismatch], &[]), "E_OVERLAP"),
        case("ARC-17 declared size lie", "a.zip", zip(&[liar], &[]), "E_ENTRY_SIZE"),
        case("ARC-18 zip ratio bomb", "a.zip", zip(&[RawEntry::deflated("z.owl", &zeros(20 << 20))], &[]), "E_RATIO"),
        case("ARC-19 nested archives", "a.zip", outer, "E_NESTING"),
        with(case("ARC-20 entry count", "a.zip", zip(&many, &[]), "E_ENTRY_COUNT"), |p| p.max_entries = 50),
        case("ARC-23 encrypted entry", "a.zip", zip(&[enc], &[]), "E_UNSUPPORTED"),
        case("ARC-23 unsupported method", "a.zip", zip(&[lzma], &[]), "E_UNSUPPORTED"),
        with(
            case(
                "ARC-17 entry over cap",
                "a.zip",
                zip(&[RawEntry::file("big.owl", &zeros(3 << 20))], &[]),
                "E_ENTRY_SIZE",
            ),
            |p| p.max_entry_bytes = 1 << 20,
        ),
        case("ARC-01 tar slip", "a.tar", tar(&[TarEntry::file("../../x", b"x")]), "E_TRAVERSAL"),
        case("ARC-02 tar absolute", "a.tar", tar(&[TarEntry::file("/tmp/evil", b"x")]), "E_ABSOLUTE_PATH"),
        case(
            "ARC-06 tar symlink then write through",
            "a.tar",
            tar(&[TarEntry::special("x", EntryType::Symlink, Some("/etc")), TarEntry::file("x/passwd", b"x")]),
            "E_LINK",
        ),
        case(
            "ARC-08 tar two-hop chain",
            "a.tar",
            tar(&[
                TarEntry::special("d/up", EntryType::Symlink, Some("..")),
                TarEntry::special("d/up/up2", EntryType::Symlink, Some("..")),
                TarEntry::file("d/up/up2/pwned", b"x"),
            ]),
            "E_LINK",
        ),
        case(
            "ARC-09 tar hardlink",
            "a.tar",
            tar(&[TarEntry::special("h", EntryType::Link, Some("/etc/shadow"))]),
            "E_LINK",
        ),
        case(
            "ARC-11 tar char device",
            "a.tar",
            tar(&[TarEntry::special("null", EntryType::Char, None)]),
            "E_SPECIAL_FILE",
        ),
        case(
            "ARC-11 tar block device",
            "a.tar",
            tar(&[TarEntry::special("sda", EntryType::Block, None)]),
            "E_SPECIAL_FILE",
        ),
        case("ARC-11 tar fifo", "a.tar", tar(&[TarEntry::special("fifo", EntryType::Fifo, None)]), "E_SPECIAL_FILE"),
        case(
            "ARC-13 tar duplicate",
            "a.tar",
            tar(&[TarEntry::file("a.owl", b"1"), TarEntry::file("a.owl", b"2")]),
            "E_DUPLICATE_ENTRY",
        ),
        case(
            "ARC-05 tar case collision",
            "a.tar",
            tar(&[TarEntry::file("Dir/a.owl", b"1"), TarEntry::file("dir/b.owl", b"2")]),
            "E_CASE_COLLISION",
        ),
        case("ARC-18 gz bomb", "a.owl.gz", gz_bomb, "E_RATIO"),
        case("ARC-18 xz bomb", "a.owl.xz", xz(&zeros(30 << 20)), "E_RATIO"),
        case("ARC-18 zst bomb", "a.owl.zst", zst(&zeros(30 << 20)), "E_RATIO"),
        case("ARC-18 bz2 bomb", "a.owl.bz2", bz2(&zeros(30 << 20)), "E_RATIO"),
        case("ARC-18 tar.gz bomb", "a.tar.gz", tar_bomb, "E_RATIO"),
        case("ARC-01 tar.gz slip", "a.tar.gz", gz(&tar(&[TarEntry::file("../x.owl", b"x")])), "E_TRAVERSAL"),
        case(
            "damaged zip entry (CRC)",
            "a.zip",
            {
                let mut z = zip(&[RawEntry::file("a.owl", b"hello world")], &[]);
                z[30 + 5] ^= 0xff; // first data byte
                z
            },
            "E_ARCHIVE_CORRUPT",
        ),
        case("ARC-01 tar.xz slip", "a.tar.xz", xz(&tar(&[TarEntry::file("../x.owl", b"x")])), "E_TRAVERSAL"),
    ]
}

#[test]
fn every_malicious_archive_is_refused_and_leaves_nothing() {
    let cases = malicious();
    assert!(cases.len() >= 30, "the issue asks for at least 30 malicious archives, have {}", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let (work, result) = run(c.file, &c.bytes, &c.policy);
        let got = match &result {
            Ok(r) => format!("ALLOW ({} files)", r.files.len()),
            Err(e) => e.code().to_string(),
        };
        if got != c.expect {
            failures.push(format!(
                "{}: expected {}, got {got} ({:?})",
                c.id,
                c.expect,
                result.err().map(|e| e.to_string())
            ));
            continue;
        }
        let left = files_under(work.path());
        let expected = vec![PathBuf::from("in"), PathBuf::from(format!("in/{}", c.file)), PathBuf::from("out")];
        if left != expected {
            failures.push(format!("{}: left behind {left:?}", c.id));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (archive file name, bytes, expected (path, content) pairs).
type GoodCase = (&'static str, Vec<u8>, Vec<(&'static str, Vec<u8>)>);

#[test]
fn good_archives_extract_byte_for_byte() {
    let owl = b"<?xml version=\"1.0\"?><rdf:RDF></rdf:RDF>\n".to_vec();
    let obo = b"format-version: 1.2\nontology: x\n".repeat(1000);
    let zip_bytes = zip(
        &[
            RawEntry::file("onto/", b""),
            RawEntry::deflated("onto/x.owl", &owl),
            RawEntry::file("onto/x.obo", &obo),
            RawEntry::deflated("caf\u{65}\u{301}.ttl", b"@prefix : <x> ."),
        ],
        &[],
    );
    let mut setuid = TarEntry::file("bin/tool.owl", &owl);
    setuid.mode = 0o4777;
    // Over several chunks, and not one repeated byte: each chunk's buffer is reused for the
    // next, so stale bytes from an earlier chunk would show in the content or the digest.
    let big = ontofetch_testsupport::fixtures::noise((1 << 20) + 7, 37);
    let tar_bytes = tar(&[
        TarEntry::special("onto/", EntryType::Directory, None),
        TarEntry::file("onto/big.ttl", &big),
        TarEntry::file("onto/x.owl", &owl),
        setuid,
    ]);
    let inner = zip(&[RawEntry::file("in.owl", &owl)], &[]);
    let nested = zip(&[RawEntry::file("inner.zip", &inner)], &[]);
    let cases: Vec<GoodCase> = vec![
        (
            "a.zip",
            zip_bytes,
            vec![
                ("onto/x.owl", owl.clone()),
                ("onto/x.obo", obo.clone()),
                ("caf\u{e9}.ttl", b"@prefix : <x> .".to_vec()),
            ],
        ),
        (
            "a.tar",
            tar_bytes.clone(),
            vec![("onto/big.ttl", big.clone()), ("onto/x.owl", owl.clone()), ("bin/tool.owl", owl.clone())],
        ),
        ("a.tar.gz", gz(&tar_bytes), vec![("onto/big.ttl", big.clone()), ("onto/x.owl", owl.clone())]),
        ("a.tar.xz", xz(&tar_bytes), vec![("onto/x.owl", owl.clone())]),
        ("a.tar.zst", zst(&tar_bytes), vec![("onto/x.owl", owl.clone())]),
        ("a.tar.bz2", bz2(&tar_bytes), vec![("onto/x.owl", owl.clone())]),
        ("hp.obo.gz", gz(&obo), vec![("hp.obo", obo.clone())]),
        ("hp.owl.xz", xz(&owl), vec![("hp.owl", owl.clone())]),
        ("n.zip", nested, vec![("inner.zip.d/in.owl", owl.clone())]),
    ];
    for (file, bytes, expected) in cases {
        let (work, result) = run(file, &bytes, &Policy::default());
        let report = result.unwrap_or_else(|e| panic!("{file}: {e}"));
        for (path, content) in expected {
            let got =
                std::fs::read(work.path().join("out/x").join(path)).unwrap_or_else(|e| panic!("{file}: {path}: {e}"));
            assert_eq!(got, content, "{file}: {path}");
            let listed = report.files.iter().find(|f| f.path == path);
            let listed = listed.unwrap_or_else(|| panic!("{file}: report lists {path}: {:?}", report.files));
            assert_eq!(listed.bytes, content.len() as u64, "{file}: {path}");
            assert_eq!(
                listed.sha256,
                ontofetch_fsutil::sha256_bytes(&content),
                "{file}: {path}: the digest of its bytes"
            );
        }
        assert!(report.total_bytes > 0 && report.compressed_bytes > 0);
    }
    // modes from the archive are never applied: no setuid
    let (work, r) = run("s.tar", &tar_bytes, &Policy::default());
    r.unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(work.path().join("out/x/bin/tool.owl")).unwrap().permissions().mode();
    assert_eq!(mode & 0o7000, 0, "setuid/setgid/sticky dropped: {mode:o}");
}

#[test]
fn an_existing_destination_is_never_reused() {
    let (work, _) = run("a.zip", &zip(&[RawEntry::file("a.owl", b"x")], &[]), &Policy::default());
    // second extraction into the same (now existing) directory is refused, old content untouched
    let policy = Policy::default();
    let gates = Gates::new(&policy, &NoObserver);
    let e = extract(&work.path().join("in/a.zip"), &work.path().join("out/x"), &gates).unwrap_err();
    assert_eq!(e.code().as_str(), "E_IO");
    assert_eq!(std::fs::read(work.path().join("out/x/a.owl")).unwrap(), b"x");
}
