//! One contract, every backend: the same behaviour from the embedded SQLite catalog and
//! from PostgreSQL (a throwaway cluster started by the test).

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_catalog::{
    ArtifactKind, ArtifactRow, Catalog, DiffRow, ImportEdge, LOG_LEASE, LogEntry, PgCatalog, PullEvent, Recorded,
    SqliteCatalog, ValidationRow, Verdict, VersionRow,
};
use ontofetch_policy::Coded;
use ontofetch_testsupport::pg::Cluster;
use ontofetch_testsupport::servers::{Need, available};
use std::time::Duration;

const MIGRATIONS_LEN: i64 = ontofetch_catalog::migrations::MIGRATIONS.len() as i64;

fn row(id: &str, version: &str, sha: &str, at: &str) -> VersionRow {
    VersionRow {
        ontology: id.into(),
        version: version.into(),
        resolver: "obo".into(),
        url: "https://purl.obolibrary.org/obo/x.owl".into(),
        sha256: sha.into(),
        bytes: 10,
        filename: "x.owl".into(),
        relpath: format!("ontologies/{id}/{version}"),
        content_type: Some("application/rdf+xml".into()),
        etag: Some("\"e\"".into()),
        last_modified: None,
        license: None,
        downloaded_at: at.into(),
        verdict: Default::default(),
    }
}

async fn contract(cat: &dyn Catalog) {
    assert_eq!(cat.schema_version().await.unwrap(), MIGRATIONS_LEN);
    let art = |rel: &str| ArtifactRow {
        relpath: rel.into(),
        sha256: "a".into(),
        bytes: 7,
        kind: ontofetch_catalog::ArtifactKind::Original,
    };
    assert_eq!(
        cat.record(
            &row("bfo", "zzz-old", "a", "2024-01-01T00:00:00.000Z"),
            &[art("ontologies/bfo/zzz-old/original/x.owl")],
            true,
            None
        )
        .await
        .unwrap(),
        Recorded::Inserted
    );
    cat.record(&row("bfo", "aaa-new", "b", "2025-01-01T00:00:00.000Z"), &[], true, None).await.unwrap();
    cat.record(&row("ro", "v1", "c", "2020-01-01T00:00:00.000Z"), &[], true, None).await.unwrap();
    assert_eq!(cat.latest("bfo").await.unwrap().unwrap().version, "aaa-new", "by download time, not by name");
    let latest: Vec<String> = cat.latest_all().await.unwrap().into_iter().map(|r| r.version).collect();
    assert_eq!(latest, ["aaa-new", "v1"]);
    assert_eq!(cat.find_by_sha("bfo", "a").await.unwrap().unwrap().version, "zzz-old");
    assert_eq!(cat.versions(Some("bfo"), 10).await.unwrap().len(), 2);
    assert_eq!(cat.versions(None, 2).await.unwrap().len(), 2, "limit");
    // idempotent for the same bytes, a conflict for others, never a duplicate
    assert_eq!(cat.record(&row("ro", "v1", "c", "t"), &[], true, None).await.unwrap(), Recorded::AlreadyPresent);
    assert_eq!(
        cat.record(&row("ro", "v1", "other", "t"), &[], true, None).await.unwrap_err().code().as_str(),
        "E_EXISTS"
    );
    // the boundary
    assert_eq!(cat.record(&row("go", "v1", "d", "t"), &[], false, None).await.unwrap_err().code().as_str(), "E_DB_TXN");
    let mut bad = row("go", "v2", "d", "t");
    bad.relpath = "/etc/passwd".into();
    assert_eq!(cat.record(&bad, &[], true, None).await.unwrap_err().code().as_str(), "E_ABSOLUTE_PATH");
    // files, validations, stats, removal
    assert_eq!(cat.artifacts("bfo", "zzz-old").await.unwrap().len(), 1);
    let v = ValidationRow {
        validator: "rdf".into(),
        result: ontofetch_catalog::ValidationResult::Ok,
        details: "{}".into(),
        run_at: "t".into(),
    };
    cat.record_validations("bfo", "zzz-old", &[v.clone(), v]).await.unwrap();
    assert_eq!(cat.validations("bfo", "zzz-old").await.unwrap().len(), 1);
    let s = cat.stats().await.unwrap();
    assert_eq!((s.ontologies, s.versions, s.artifacts, s.bytes), (2, 3, 1, 7));
    cat.remove_version("bfo", "zzz-old").await.unwrap();
    assert!(cat.validations("bfo", "zzz-old").await.unwrap().is_empty());
    assert_eq!(cat.stats().await.unwrap().artifacts, 0);
    // untrusted strings are data
    let mut odd = row("x", "v1", "e", "t");
    odd.etag = Some("'; DROP TABLE versions; --".into());
    cat.record(&odd, &[], true, None).await.unwrap();
    assert_eq!(cat.latest("x").await.unwrap().unwrap().etag, odd.etag);
    // pull events: newest first, by ontology or all, and older than the retention dropped
    let ev = |id: &str, at: &str, status: &str, code: Option<&str>| PullEvent {
        ontology: id.into(),
        at: at.into(),
        status: ontofetch_catalog::PullStatus::parse(status),
        code: code.map(|c| ontofetch_policy::Code::parse(c).unwrap()),
        message: code.map(|c| format!("refused: {c}")),
        worker: Some("w1".into()),
    };
    let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    cat.record_event(&ev("bfo", "2001-01-01T00:00:00.000Z", "failed", Some("E_NETWORK"))).await.unwrap();
    cat.record_event(&ev("bfo", &now, "failed", Some("E_PRIVATE_IP"))).await.unwrap();
    cat.record_event(&ev("ro", &now, "cached", None)).await.unwrap();
    let all = cat.events(None, Some("2000-01-01T00:00:00.000Z"), 10).await.unwrap();
    assert_eq!(all.len(), 2, "the 2001 event fell out of the retention window: {all:?}");
    let bfo = cat.events(Some("bfo"), Some("2000-01-01T00:00:00.000Z"), 10).await.unwrap();
    assert_eq!(bfo, [ev("bfo", &now, "failed", Some("E_PRIVATE_IP"))]);
    assert!(cat.events(None, Some("2999-01-01T00:00:00.000Z"), 10).await.unwrap().is_empty(), "since");
    assert_eq!(cat.events(None, None, 10).await.unwrap().len(), 2, "no lower bound: every event kept");
    // diffs: one per version, replaced on re-record, gone with the version
    let d = |summary: &str| DiffRow {
        ontology: "bfo".into(),
        version: "aaa-new".into(),
        previous: "zzz-old".into(),
        summary: summary.into(),
    };
    cat.record_diff(&d("{\"added\":1}")).await.unwrap();
    cat.record_diff(&d("{\"added\":2}")).await.unwrap();
    assert_eq!(cat.diff("bfo", "aaa-new").await.unwrap(), Some(d("{\"added\":2}")));
    assert_eq!(cat.diff("bfo", "zzz-old").await.unwrap(), None);
    // verdicts: a version that failed validation is recorded, never latest; revised, it is
    let mut bad = row("bfo", "bbb-broken", "f", "2026-01-01T00:00:00.000Z");
    bad.verdict = Verdict::Invalid;
    cat.record(&bad, &[], true, None).await.unwrap();
    assert_eq!(cat.latest("bfo").await.unwrap().unwrap().version, "aaa-new", "an invalid version is never latest");
    assert_eq!(cat.newest("bfo").await.unwrap().unwrap().version, "bbb-broken", "but it is the newest");
    assert!(cat.latest_all().await.unwrap().iter().all(|r| r.version != "bbb-broken"));
    assert_eq!(cat.version("bfo", "bbb-broken").await.unwrap().unwrap().verdict, Verdict::Invalid);
    assert!(cat.version("bfo", "nope").await.unwrap().is_none());
    let manifest = ArtifactRow {
        relpath: "ontologies/bfo/bbb-broken/manifest.json".into(),
        sha256: "m2".into(),
        bytes: 9,
        kind: ontofetch_catalog::ArtifactKind::Manifest,
    };
    cat.revise("bfo", "bbb-broken", Verdict::Valid, std::slice::from_ref(&manifest), &[]).await.unwrap();
    assert_eq!(cat.latest("bfo").await.unwrap().unwrap().version, "bbb-broken", "revised valid, it is latest");
    assert_eq!(cat.artifacts("bfo", "bbb-broken").await.unwrap(), std::slice::from_ref(&manifest));
    assert!(cat.ontology_artifacts("bfo").await.unwrap().contains(&("bbb-broken".to_string(), manifest.clone())));
    let every = cat.all_artifacts().await.unwrap();
    assert!(every.contains(&("bfo".to_string(), "bbb-broken".to_string(), manifest.clone())));
    assert_eq!(
        every.iter().filter(|(o, _, _)| o == "bfo").count(),
        cat.ontology_artifacts("bfo").await.unwrap().len(),
        "the whole catalog's files are each ontology's files"
    );
    let checked = ValidationRow {
        validator: "rdf".into(),
        result: ontofetch_catalog::ValidationResult::Ok,
        details: "{}".into(),
        run_at: "t".into(),
    };
    cat.record_validations("bfo", "bbb-broken", std::slice::from_ref(&checked)).await.unwrap();
    cat.record_validations(
        "bfo",
        "aaa-new",
        &[ValidationRow { result: ontofetch_catalog::ValidationResult::Failed, ..checked.clone() }],
    )
    .await
    .unwrap();
    let latest = cat.latest_validations().await.unwrap();
    assert_eq!(latest, [("bfo".to_string(), checked)], "only latest versions' results, in one statement");
    assert_eq!(cat.revise("bfo", "nope", Verdict::Valid, &[], &[]).await.unwrap_err().code().as_str(), "E_DB");
    // the same bytes under another name are never a second version
    assert_eq!(
        cat.record(&row("bfo", "ccc-twin", "f", "2026-02-01T00:00:00.000Z"), &[], true, None).await.unwrap(),
        Recorded::Duplicate("bbb-broken".into())
    );
    assert!(cat.version("bfo", "ccc-twin").await.unwrap().is_none());
    // import edges: recorded per version, replaced as a whole, gone with the version
    let edge = |iri: &str, target: Option<&str>, status: &str, code: Option<&str>| ImportEdge {
        ontology: "bfo".into(),
        version: "bbb-broken".into(),
        iri: iri.into(),
        target: target.map(str::to_string),
        status: ontofetch_catalog::ImportStatus::parse(status),
        code: code.map(|c| ontofetch_policy::Code::parse(c).unwrap()),
    };
    let first = [
        edge("http://x/b", Some("b"), "stored", None),
        edge("http://10.0.0.1/p", None, "refused", Some("E_PRIVATE_IP")),
    ];
    cat.record_imports("bfo", "bbb-broken", &first).await.unwrap();
    assert_eq!(cat.imports("bfo", "bbb-broken").await.unwrap(), [first[1].clone(), first[0].clone()], "by IRI");
    cat.record_imports("bfo", "bbb-broken", &first[..1]).await.unwrap();
    assert_eq!(cat.imports("bfo", "bbb-broken").await.unwrap(), first[..1], "replaced, not appended");
    assert!(cat.imports("bfo", "aaa-new").await.unwrap().is_empty());
    assert_eq!(cat.latest_imports().await.unwrap(), first[..1], "bbb-broken is latest now");
    cat.record(&row("bfo", "ddd-gone", "g", "2025-01-01T00:00:00.000Z"), &[], true, None).await.unwrap();
    cat.record_imports("bfo", "ddd-gone", &[ImportEdge { version: "ddd-gone".into(), ..first[0].clone() }])
        .await
        .unwrap();
    cat.remove_version("bfo", "ddd-gone").await.unwrap();
    assert!(cat.imports("bfo", "ddd-gone").await.unwrap().is_empty(), "removed with its version");
    // leases exclude until dropped
    let held = cat.try_lease("bfo").await.unwrap().expect("free");
    assert!(cat.try_lease("bfo").await.unwrap().is_none());
    assert!(cat.try_lease("ro").await.unwrap().is_some());
    drop(held);
    assert!(cat.lease("bfo", Duration::from_secs(5)).await.unwrap().is_some(), "released on drop");
}

/// Each taking of a lease issues a larger fencing token; a record carrying a token that is
/// no longer the current one is refused (E_FENCED) and writes nothing, in the same
/// transaction that would have written the rows.
async fn fencing(cat: &dyn Catalog) {
    let first = cat.try_lease("fenced").await.unwrap().expect("free");
    let t1 = first.token();
    assert_eq!(cat.fence_token("fenced").await.unwrap(), t1);
    drop(first);
    // Another worker takes the lease (as after a restart ended the first one's session).
    let second = cat.lease("fenced", Duration::from_secs(5)).await.unwrap().expect("free again");
    let t2 = second.token();
    assert!(t2 > t1, "tokens grow: {t1} then {t2}");
    // The version, its files and its validation results are one transaction: refused
    // together, written together (a reader never finds a version without its results).
    let checked = ValidationRow {
        validator: "rdf".into(),
        result: ontofetch_catalog::ValidationResult::Ok,
        details: r#"{"imports":["http://x/dep.owl"]}"#.into(),
        run_at: "2025-01-01T00:00:00.000Z".into(),
    };
    let v1 = row("fenced", "v1", "s1", "2025-01-01T00:00:00.000Z");
    let stale = cat.record_with(&v1, &[], std::slice::from_ref(&checked), true, Some(t1)).await;
    assert_eq!(stale.unwrap_err().code().as_str(), "E_FENCED");
    assert!(cat.version("fenced", "v1").await.unwrap().is_none(), "a fenced record wrote nothing");
    assert!(cat.validations("fenced", "v1").await.unwrap().is_empty(), "nor any validation");
    let live = cat.record_with(&v1, &[], std::slice::from_ref(&checked), true, Some(t2)).await;
    assert_eq!(live.unwrap(), Recorded::Inserted);
    assert_eq!(cat.validations("fenced", "v1").await.unwrap(), [checked]);
    // tokens are per ontology
    assert_eq!(cat.fence_token("never-leased").await.unwrap(), 0);
}

/// The transparency log's entries: attestations of recorded versions wait to be appended in
/// record order; an append lands only at the log's end, under the current lease of the
/// log, and an entry outlives its version.
async fn log(cat: &dyn Catalog) {
    let attestation = |id: &str, v: &str, sha: &str| ArtifactRow {
        relpath: format!("ontologies/{id}/{v}/attestation.dsse.json"),
        sha256: sha.into(),
        bytes: 10,
        kind: ArtifactKind::Attestation,
    };
    let logged = |id: &str, v: &str, sha: &str| LogEntry {
        index: 0,
        ontology: id.into(),
        version: v.into(),
        relpath: format!("ontologies/{id}/{v}/attestation.dsse.json"),
        sha256: sha.into(),
        entry: format!("{{\"{id}\":\"{v}\"}}"),
        logged_at: "2026-01-01T00:00:00.000Z".into(),
    };
    // Recorded out of download order: pending follows download time.
    let later = row("logged", "v2", "l2", "2026-01-02T00:00:00.000Z");
    let earlier = row("logged", "v1", "l1", "2026-01-01T00:00:00.000Z");
    cat.record(&later, &[attestation("logged", "v2", "a2")], true, None).await.unwrap();
    cat.record(&earlier, &[attestation("logged", "v1", "a1")], true, None).await.unwrap();
    let pending = cat.log_pending().await.unwrap();
    let names: Vec<&str> = pending.iter().map(|(_, v, _)| v.as_str()).collect();
    assert_eq!(names, ["v1", "v2"]);
    let lease = cat.try_lease(LOG_LEASE).await.unwrap().expect("the log's lease is free");
    let batch = [logged("logged", "v1", "a1"), logged("logged", "v2", "a2")];
    // Not at the log's end: refused, nothing written.
    let moved = cat.log_append(1, &batch, lease.token()).await.unwrap_err();
    assert_eq!(moved.code(), ontofetch_policy::Code::LogInconsistent, "{moved}");
    assert!(cat.log_entries(0).await.unwrap().is_empty());
    cat.log_append(0, &batch, lease.token()).await.unwrap();
    assert!(cat.log_pending().await.unwrap().is_empty());
    assert_eq!(cat.log_size().await.unwrap(), 2);
    let entries = cat.log_entries(0).await.unwrap();
    assert_eq!(entries.iter().map(|e| (e.index, e.version.as_str())).collect::<Vec<_>>(), [(0, "v1"), (1, "v2")]);
    assert_eq!(entries[1].entry, batch[1].entry, "the bytes as given");
    assert_eq!(cat.log_entries(1).await.unwrap().len(), 1);
    // Appending the same entries again is refused (the log moved on).
    assert!(cat.log_append(0, &batch, lease.token()).await.is_err());
    // A re-signed attestation (new bytes, same file) is pending again; the version's index
    // is its newest entry.
    cat.revise("logged", "v1", Verdict::Valid, &[attestation("logged", "v1", "a1-resigned")], &[]).await.unwrap();
    assert_eq!(cat.log_pending().await.unwrap().len(), 1);
    drop(lease);
    // A worker that lost the log's lease appends nothing.
    let stale = cat.lease(LOG_LEASE, Duration::from_secs(5)).await.unwrap().unwrap();
    let token = stale.token();
    drop(stale);
    let current = cat.lease(LOG_LEASE, Duration::from_secs(5)).await.unwrap().unwrap();
    let fenced = cat.log_append(2, &[logged("logged", "v1", "a1-resigned")], token).await.unwrap_err();
    assert_eq!(fenced.code().as_str(), "E_FENCED");
    cat.log_append(2, &[logged("logged", "v1", "a1-resigned")], current.token()).await.unwrap();
    assert_eq!(cat.log_index("logged", "v1").await.unwrap(), Some(2));
    assert_eq!(cat.log_index("logged", "v2").await.unwrap(), Some(1));
    assert_eq!(cat.log_index("logged", "none").await.unwrap(), None);
    // Entries outlive their versions: the log is append-only.
    cat.remove_version("logged", "v2").await.unwrap();
    assert_eq!(cat.log_entries(0).await.unwrap().len(), 3);
    assert_eq!(cat.log_index("logged", "v2").await.unwrap(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let cat = SqliteCatalog::open(&dir.path().join("c.sqlite")).unwrap();
    contract(&cat).await;
    fencing(&cat).await;
    log(&cat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_the_contract_and_survives_a_restart() {
    if !available("postgres_keeps_the_contract_and_survives_a_restart", &[Need::Postgres]) {
        return;
    }
    let cluster = Cluster::start();
    let url = cluster.database("contract");
    let cat = PgCatalog::connect(&url).await.unwrap_or_else(|e| panic!("{e}\n{}", cluster.log()));
    contract(&cat).await;
    // a second worker connecting at the same time does not migrate again
    let other = PgCatalog::connect(&url).await.unwrap();
    assert_eq!(other.schema_version().await.unwrap(), MIGRATIONS_LEN);
    // a lease dies with its holder's session: another worker takes it
    let held = cat.try_lease("go").await.unwrap().unwrap();
    assert!(other.try_lease("go").await.unwrap().is_none(), "held across connections");
    drop(held);
    assert!(other.lease("go", Duration::from_secs(10)).await.unwrap().is_some());
    // a lease's session is kept for the next one: leases in turn are held by one session,
    // not a new server process each
    let (probe, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let holders = || async {
        let rows = probe.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted", &[]).await.unwrap();
        rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<i32>>()
    };
    let mut pids = std::collections::BTreeSet::new();
    for i in 0..5 {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // Let go of, and its session kept for the next lease (both happen after the drop).
        while !holders().await.is_empty() || (i > 0 && cat.idle_lease_sessions() == 0) {
            assert!(std::time::Instant::now() < deadline, "an earlier lease was never let go");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let lease = cat.try_lease(&format!("turn{i}")).await.unwrap().expect("free");
        let held_by = holders().await;
        assert_eq!(held_by.len(), 1, "{held_by:?}");
        pids.insert(held_by[0]);
        drop(lease);
    }
    assert_eq!(pids.len(), 1, "one session held every lease in turn: {pids:?}");
    fencing(&cat).await;
    // shared request slots: timed by the database, spaced by the interval
    let waits: Vec<f64> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            v.push(cat.reserve_rate("host:registry.example.org", 2.0).await.unwrap().unwrap().as_secs_f64());
        }
        v
    };
    assert!(waits[0] < 0.2 && waits[3] > 1.2, "{waits:?}");
    // the server restarts under a live catalog: the next statements reconnect
    cluster.restart();
    assert_eq!(cat.stats().await.unwrap().versions, 5, "bfo aaa-new and bbb-broken, ro, x, fenced");
    // kept lease sessions died with the old server: leases still work, on new sessions
    for i in 0..3 {
        assert!(cat.try_lease(&format!("after{i}")).await.unwrap().is_some(), "a lease after the restart");
    }
    // credentials never appear in what the catalog reports about itself
    assert!(!cat.url().contains("secret"));
    let refused = ontofetch_catalog::PgCatalog::connect("postgresql://u:secret@127.0.0.1:1/x?password=secret")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(!refused.contains("secret") && refused.contains("postgresql://u@127.0.0.1:1/x"), "{refused}");
    log(&cat).await;
}
