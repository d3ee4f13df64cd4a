//! A pull (docs/architecture.md, "A pull"): for each ontology, plan → gated download into
//! staging → extract → validate → choose the version → commit (manifest, promote, CAS,
//! catalog, `latest`). A version becomes visible only at the end; any failure leaves the
//! store and catalog as they were. Each step is a module returning `Result<_, PipelineError>`.

pub mod attest;
mod commit;
mod download;
mod extract;
mod lease;
mod outcome;
mod upstream;
mod validate;
mod version;

use crate::Pipeline;
use crate::error::PipelineError;
use crate::observer::PullObserver;
use crate::result::{PullResult, PullStatus};
use futures_util::StreamExt;
use ontofetch_config::SpecInput;
use ontofetch_metrics::OntologyLabels;
use ontofetch_resolve::Plan;
use outcome::{cached, count};
use std::time::SystemTime;

pub(crate) use commit::relocate;
pub(crate) use lease::claim;
pub use validate::{check, validate_file};

/// Pulls specs with at most `concurrency` at once; results in spec order. Ontologies
/// another worker is pulling are deferred to the end instead of waited for.
pub async fn pull_all(
    p: &Pipeline,
    specs: &[SpecInput],
    observer: &dyn PullObserver,
    concurrency: usize,
) -> Vec<PullResult> {
    let run_started = crate::now_rfc3339();
    let run = run_started.as_str();
    let first: Vec<Result<(usize, PullResult), usize>> = futures_util::stream::iter(specs.iter().enumerate())
        .map(|(i, s)| async move {
            match lease::try_claim(p, &s.id).await {
                Ok(Some(lease)) => Ok((i, pull_leased(p, s, observer, run, lease).await)),
                Ok(None) => Err(i),
                Err(e) => Ok((i, finish(p, s, observer, PullResult::failed(&s.id, None, e)).await)),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let (mut done, deferred): (Vec<_>, Vec<_>) = first.into_iter().partition(Result::is_ok);
    let later: Vec<(usize, PullResult)> = futures_util::stream::iter(deferred.into_iter().filter_map(Result::err))
        .map(|i| async move { (i, pull_in(p, &specs[i], observer, run).await) })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    done.extend(later.into_iter().map(Ok));
    let mut results: Vec<(usize, PullResult)> = done.into_iter().filter_map(Result::ok).collect();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Pulls one spec end to end, waiting for its lease. Never panics on bad input: every
/// failure is a result.
pub async fn pull_one(p: &Pipeline, spec: &SpecInput, observer: &dyn PullObserver) -> PullResult {
    pull_in(p, spec, observer, &crate::now_rfc3339()).await
}

async fn pull_in(p: &Pipeline, spec: &SpecInput, observer: &dyn PullObserver, run_started: &str) -> PullResult {
    match lease::claim(p, &spec.id).await {
        Ok(lease) => pull_leased(p, spec, observer, run_started, lease).await,
        Err(e) => finish(p, spec, observer, PullResult::failed(&spec.id, None, e)).await,
    }
}

/// Pulls a spec whose lease this worker holds (released when this returns).
async fn pull_leased(
    p: &Pipeline,
    spec: &SpecInput,
    observer: &dyn PullObserver,
    run_started: &str,
    lease: ontofetch_catalog::Lease,
) -> PullResult {
    observer.started(&spec.id);
    reclaim_staging(p, &spec.id);
    // What promotions under earlier tokens uploaded (their leases can never record).
    match p.backends.store.sweep_uploads(&spec.id, lease.token()).await {
        Ok(removed) if !removed.is_empty() => {
            tracing::info!(id = %spec.id, removed = removed.len(), "removed uploads of earlier, lost leases");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(id = %spec.id, error = %e, "uploads of earlier leases not swept"),
    }
    let meanwhile = if p.force { Ok(None) } else { lease::stored_meanwhile(p, &spec.id, run_started).await };
    let failed = match meanwhile {
        Ok(None) if !p.force => lease::failed_meanwhile(p, &spec.id, run_started).await,
        _ => Ok(None),
    };
    let result = match (meanwhile, failed) {
        (Ok(Some(row)), _) => outcome::stored(p, &row, vec!["stored by another worker during this run".into()]),
        (Ok(None), Ok(Some(e))) => PullResult::failed(&spec.id, None, e),
        (Ok(None), _) => match with_fallback(p, spec, observer, lease.token()).await {
            Ok(r) => r,
            Err((resolver, e)) => PullResult::failed(&spec.id, resolver, e),
        },
        (Err(e), _) => PullResult::failed(&spec.id, None, e),
    };
    // The outcome is recorded before the lease goes: a worker that takes it next sees it.
    let result = finish(p, spec, observer, result).await;
    drop(lease);
    result
}

/// Removes staging this ontology's earlier, killed pulls left on this machine (their
/// process is gone; we hold the lease, so no live pull of it owns one).
fn reclaim_staging(p: &Pipeline, id: &str) {
    for dir in p.backends.store.stale_staging() {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let ours = name.strip_prefix(id).and_then(|r| r.strip_prefix('-')).is_some_and(|rest| {
            rest.split_once('-').is_some_and(|(pid, nanos)| {
                !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) && nanos.bytes().all(|b| b.is_ascii_digit())
            })
        });
        if ours && p.backends.store.remove_staging(&dir).is_ok() {
            tracing::info!(id, staging = %dir.display(), "removed staging left by an interrupted pull");
        }
    }
}

/// Counts, records (the status page's history) and reports a finished pull.
async fn finish(p: &Pipeline, spec: &SpecInput, observer: &dyn PullObserver, result: PullResult) -> PullResult {
    if result.is_failure() {
        count(p, result.resolver.as_deref().unwrap_or("none"), "failed");
    } else {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        p.metrics.ontology_last_success.get_or_create(&OntologyLabels { ontology: spec.id.clone() }).set(now);
    }
    let event = ontofetch_catalog::PullEvent {
        ontology: spec.id.clone(),
        at: crate::now_rfc3339(),
        status: result.status,
        code: result.error.as_ref().map(|e| e.code),
        message: result.error.as_ref().map(|e| e.message.clone()),
        worker: Some(p.settings.storage.worker_id.clone()),
    };
    if let Err(e) = p.backends.catalog.record_event(&event).await {
        tracing::warn!(id = %spec.id, error = %e, "pull event not recorded");
    }
    tracing::debug!(id = %spec.id, status = result.status.as_str(), version = ?result.version, "pull finished");
    observer.finished(&result);
    result
}

/// Walks the resolver chain: when a planned candidate fails to download, the next
/// resolver is tried (moving PURLs are the common case). The failure reported is the
/// primary resolver's, once; the others follow in brackets.
async fn with_fallback(
    p: &Pipeline,
    spec: &SpecInput,
    observer: &dyn PullObserver,
    token: u64,
) -> Result<PullResult, (Option<String>, PipelineError)> {
    let mut chain = crate::chain::ResolverChain::new(p, spec);
    while let Some(plan) = chain.next().await {
        match fetch(p, &plan, observer, token).await {
            Ok(r) => return Ok(r),
            Err(e) => chain.reject(&plan, e),
        }
    }
    Err(summarize(chain.failures()))
}

/// The primary failure with its code, and the other resolvers' failures after it.
fn summarize(failures: &[(String, PipelineError)]) -> (Option<String>, PipelineError) {
    let Some(((resolver, first), others)) = failures.split_first() else {
        return (None, PipelineError::new(ontofetch_policy::Code::Resolve, "no resolver to try"));
    };
    let others: Vec<String> = others.iter().map(|(r, e)| format!("{r}: {e}")).collect();
    let mut message = format!("{resolver}: {first}");
    if !others.is_empty() {
        message.push_str(&format!(" (also tried {})", others.join("; ")));
    }
    (Some(resolver.clone()), PipelineError::new(first.code, message))
}

/// What the new version changed against the previous one. A diff that cannot be made
/// (the previous version was an archive, its facts are gone) never fails the pull.
async fn changes(
    p: &Pipeline,
    previous: &ontofetch_catalog::VersionRow,
    staging: &ontofetch_store::Staging,
    validation: &validate::Validated,
) -> Option<commit::Changes> {
    let new = crate::diff::staged_facts(staging, &validation.outputs)?;
    let scratch = p.backends.store.begin(&p.gates(), &previous.ontology).ok()?;
    let made = async {
        let old = crate::diff::facts(p, previous, &scratch).await?;
        crate::diff::join(old, new, crate::diff::STORED_EXAMPLES).await
    };
    match made.await {
        Ok(diff) => Some(commit::Changes { previous: previous.version.clone(), diff }),
        Err(e) => {
            tracing::warn!(id = %previous.ontology, error = %e, "no diff against the previous version");
            None
        }
    }
}

/// One planned candidate, through every step.
async fn fetch(
    p: &Pipeline,
    plan: &Plan,
    observer: &dyn PullObserver,
    token: u64,
) -> Result<PullResult, PipelineError> {
    if plan.license_unknown {
        tracing::warn!(id = %plan.id, resolver = %plan.resolver, "licence unknown while accept_licenses is set; fetching (set defaults.reject_unknown_licenses to refuse)");
        p.metrics.license_unknown.get_or_create(&OntologyLabels { ontology: plan.id.clone() }).inc();
    }
    let gates = p.gates();
    // `latest` (what validated) is what a new version is compared with; the newest stored
    // version, whatever its verdict, is where the conditional request starts, unless its
    // files are gone (then it is fetched again, not called cached).
    let previous = p.backends.catalog.latest(&plan.id).await?;
    let newest = p.backends.catalog.newest(&plan.id).await?;
    let mut notes = Vec::new();
    notes.extend(license_outside_open(p, plan, None));
    let basis = match newest {
        Some(row) if crate::integrity::original_intact(&p.backends, &gates, &row).await? => Some(row),
        Some(row) => {
            notes.push(format!("the stored original of {} was missing or truncated; fetched again", row.version));
            None
        }
        None => None,
    };
    let staging = p.backends.store.begin(&gates, &plan.id)?;
    let fetched = match download::run(p, plan, &staging, basis.as_ref(), observer).await? {
        download::Outcome::NotModified(row) => {
            count(p, &plan.resolver, "not_modified");
            return Ok(cached(p, plan, &row, notes).await);
        }
        download::Outcome::Downloaded(f) => f,
    };
    if let Some(mirror) = &plan.mirror {
        upstream::verify(p, plan, mirror, &fetched, &staging).await?;
    }
    if let Some(row) = p.backends.catalog.find_by_sha(&plan.id, &fetched.info.sha256).await? {
        if crate::integrity::original_intact(&p.backends, &gates, &row).await? {
            // `--force` is what doctor names for a stored copy whose bytes no longer hash to
            // the record (a flipped byte keeps the size): it re-hashes them, and the fresh
            // bytes, which hash to the record, replace every damaged copy.
            if p.force {
                let repaired = crate::integrity::repair_copies(&p.backends, &gates, &row, &fetched.dest).await?;
                if !repaired.is_empty() {
                    notes.push(format!(
                        "repaired {}: {} did not hash to the record and were replaced by the fetched bytes",
                        row.version,
                        repaired.join(", ")
                    ));
                }
            }
            count(p, &plan.resolver, "not_modified");
            notes.push("identical bytes already stored; no new version".into());
            return Ok(cached(p, plan, &row, notes).await);
        }
        // The same bytes are recorded but the store lost them: the broken version goes
        // (rows first) and the fresh bytes are stored in its place.
        crate::retire::retire_version(&p.backends, &gates, &row.ontology, &row.version).await?;
        notes.push(format!("repaired {}: its stored files were lost and were fetched again", row.version));
    }
    let extracted = extract::run(p, &gates, &staging, &fetched)?;
    let validation = validate::run(p, plan, &staging, &fetched, extracted.as_ref(), observer).await?;
    if let Some(refused) = header_license_refused(p, plan, &validation) {
        return Err(refused);
    }
    if plan.license.is_none() {
        notes.extend(license_outside_open(p, plan, validation.license.as_deref()));
    }
    let version = version::choose(p, plan, &fetched, &validation, token).await?;
    let status = if newest_exists(p, &plan.id).await? { PullStatus::Updated } else { PullStatus::Fresh };
    let verdict = validation.verdict(p.promote_invalid);
    let diff = match previous.as_ref() {
        Some(prev) if verdict.validated() && prev.verdict.validated() => changes(p, prev, &staging, &validation).await,
        _ => None,
    };
    if p.settings.defaults().http.validate_media_type {
        notes.extend(commit::media_type_note(plan, &fetched.info));
    }
    // `obo` still tries the PURL of an id the registry snapshot does not know: say so, since
    // nothing then vouches for the id or names a licence.
    if ontofetch_resolve::Resolver::parse(&plan.resolver).is_some_and(ontofetch_resolve::Resolver::reads_registry)
        && p.registry().lookup(&plan.id).is_none()
    {
        notes.push(format!(
            "{} is not in the registry snapshot ({}): fetched from its OBO PURL as named; \
             `ontofetch registry search` finds known prefixes",
            plan.id,
            p.registry().source.label
        ));
    }
    let done =
        commit::Commit { plan, staging, fetched, extracted, validation, version, status, diff, verdict, notes, token };
    commit::run(p, &gates, done).await
}

/// With no `accept_licenses` of the user's there is no licence policy: a source under a
/// licence outside the open list ([`ontofetch_resolve::license::OPEN`]) is fetched, with a
/// warning and this note. `stated`: the file's own licence when the source published none.
fn license_outside_open(p: &Pipeline, plan: &Plan, stated: Option<&str>) -> Option<String> {
    use ontofetch_resolve::license::{Verdict, judge};
    let license = plan.license.as_deref().or(stated)?;
    let d = p.settings.defaults();
    if judge(&plan.id, Some(license), &d.accept_licenses, &plan.entry_licenses, false).verdict != Verdict::Warned {
        return None;
    }
    tracing::warn!(id = %plan.id, license, "the licence is outside the open-licence list; fetched (no accept_licenses is set)");
    Some(format!(
        "licence {} is outside the open-licence list; fetched because no accept_licenses is set \
         (set defaults.accept_licenses to make a policy that refuses it)",
        ontofetch_resolve::license::described(license)
    ))
}

/// The source published no licence but the file states one in its header: that one is
/// the version's licence, and `accept_licenses` judges it as it would a registry's (the
/// download in staging is then dropped, nothing stored).
fn header_license_refused(p: &Pipeline, plan: &Plan, validation: &validate::Validated) -> Option<PipelineError> {
    use ontofetch_resolve::license::{Verdict, judge};
    let stated = validation.license.as_deref().filter(|_| plan.license.is_none())?;
    let judged = judge(&plan.id, Some(stated), &p.settings.defaults().accept_licenses, &plan.entry_licenses, false);
    (judged.verdict == Verdict::Refused).then(|| {
        PipelineError::new(
            ontofetch_policy::Code::License,
            format!("{}: the file's header states a licence: {}", plan.id, judged.why),
        )
    })
}

/// Whether any version of the ontology is recorded (`updated` rather than `fresh`).
async fn newest_exists(p: &Pipeline, id: &str) -> Result<bool, PipelineError> {
    Ok(p.backends.catalog.newest(id).await?.is_some())
}
