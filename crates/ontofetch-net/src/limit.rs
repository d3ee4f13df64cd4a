//! Request rates: `defaults.http.rate_limits` per service (ols, bioportal, lov…) and
//! `per_host_rate_limit` per host. A request waits for its service's budget (when one is
//! configured) and for its host's. In one process the budgets are governor's GCRA
//! limiters; across processes and machines they are slots reserved in shared state
//! ([`SharedRates`]: files under `shared_rate_limit_dir`, or the PostgreSQL catalog), so
//! N workers stay as polite to a registry as one.

use async_trait::async_trait;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Request slots shared by several processes: reserving the next slot of a key returns
/// how long to wait for it (GCRA on a theoretical arrival time kept in shared state).
#[async_trait]
pub trait SharedRates: Send + Sync {
    /// Reserves the next slot of `key` at `per_second`; the wait before using it.
    async fn reserve(&self, key: &str, per_second: f64) -> std::io::Result<Duration>;
}

/// Slots kept in one small file per key under a directory, each updated under `flock`:
/// every process on the machine (or on a shared filesystem with working locks) paces
/// together.
pub struct FileRates {
    dir: PathBuf,
}

impl FileRates {
    /// Slots under `dir` (created when missing).
    pub fn new(dir: PathBuf) -> Self {
        FileRates { dir }
    }
}

/// One reservation on a theoretical arrival time: the new TAT and the wait.
pub fn gcra(tat: f64, now: f64, per_second: f64) -> (f64, f64) {
    let interval = 1.0 / per_second.max(1e-6);
    let start = tat.max(now);
    (start + interval, start - now)
}

#[async_trait]
impl SharedRates for FileRates {
    async fn reserve(&self, key: &str, per_second: f64) -> std::io::Result<Duration> {
        let name: String =
            key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
        let file = format!("{name}.gcra");
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::{Read, Seek, Write};
            // The slot file is opened with no link on the way: a link planted at
            // `rate-limits/<key>.gcra` (or at the directory) is refused, never truncated and
            // written through (docs/architecture.md, "Filesystem rule").
            let (parent, last) = match (dir.parent(), dir.file_name()) {
                (Some(p), Some(n)) => (p.to_path_buf(), n.to_string_lossy().into_owned()),
                _ => (dir.clone(), String::new()),
            };
            std::fs::create_dir_all(&parent)?;
            let mut f = ontofetch_fsutil::beneath::open_file(&parent, &format!("{last}/{file}"))?;
            rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
            let mut text = String::new();
            f.read_to_string(&mut text)?;
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
            let (tat, wait) = gcra(text.trim().parse().unwrap_or(0.0), now, per_second);
            f.rewind()?;
            f.set_len(0)?;
            write!(f, "{tat:.6}")?;
            // The lock goes with the file.
            Ok(Duration::from_secs_f64(wait.max(0.0)))
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

/// Rate limits by service and by host.
#[derive(Clone, Default)]
pub struct RateLimits {
    services: HashMap<String, f64>,
    per_host: Option<f64>,
    limiters: Arc<Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>>,
    shared: Option<Arc<dyn SharedRates>>,
}

fn quota(per_second: f64) -> Quota {
    if per_second >= 1.0 {
        Quota::per_second(NonZeroU32::new(per_second.round().max(1.0) as u32).expect("non-zero"))
    } else {
        Quota::with_period(Duration::from_secs_f64(1.0 / per_second.max(1e-6))).expect("non-zero period")
    }
}

impl RateLimits {
    /// `services`: requests per second by service; `per_host`: requests per second to any
    /// one host.
    pub fn new(services: HashMap<String, f64>, per_host: Option<f64>) -> Self {
        RateLimits { services, per_host, limiters: Arc::default(), shared: None }
    }

    /// The same limits, paced through shared state instead of this process's memory.
    pub fn shared(self, rates: Arc<dyn SharedRates>) -> Self {
        RateLimits { shared: Some(rates), ..self }
    }

    fn keys(&self, service: &str, host: &str) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        if let Some(rate) = self.services.get(service) {
            out.push((format!("service:{service}"), *rate));
        }
        if let (Some(rate), false) = (self.per_host, host.is_empty()) {
            out.push((format!("host:{}", host.to_ascii_lowercase()), rate));
        }
        out
    }

    fn limiter(&self, key: String, rate: f64) -> Arc<DefaultDirectRateLimiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_insert_with(|| Arc::new(RateLimiter::direct(quota(rate)))).clone()
    }

    fn applicable(&self, service: &str, host: &str) -> Vec<Arc<DefaultDirectRateLimiter>> {
        self.keys(service, host).into_iter().map(|(k, rate)| self.limiter(k, rate)).collect()
    }

    /// Waits until one more request to `host` for `service` is within every budget. When
    /// the shared state cannot be reached, this process paces on its own.
    pub async fn wait(&self, service: &str, host: &str) {
        if let Some(shared) = &self.shared {
            for (key, rate) in self.keys(service, host) {
                match shared.reserve(&key, rate).await {
                    Ok(d) => tokio::time::sleep(d).await,
                    Err(e) => {
                        tracing::warn!(key = %key, error = %e, "shared rate state unavailable; pacing locally");
                        self.limiter(key, rate).until_ready().await;
                    }
                }
            }
            return;
        }
        for l in self.applicable(service, host) {
            l.until_ready().await;
        }
    }

    /// Takes a request slot now if every budget has one (`true` when unlimited).
    pub fn try_acquire(&self, service: &str, host: &str) -> bool {
        self.applicable(service, host).iter().all(|l| l.check().is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcra_spaces_reservations_by_the_interval() {
        let (tat, wait) = gcra(0.0, 100.0, 2.0);
        assert_eq!((tat, wait), (100.5, 0.0), "an idle key is free now");
        let (tat, wait) = gcra(tat, 100.1, 2.0);
        assert!((tat - 101.0).abs() < 1e-9 && (wait - 0.4).abs() < 1e-9, "{tat} {wait}");
        assert_eq!(gcra(50.0, 100.0, 1.0).1, 0.0, "time past an old TAT is not owed");
    }

    /// Two processes (two `FileRates` on one directory) pace together.
    #[tokio::test]
    async fn processes_sharing_a_directory_share_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let rates = FileRates::new(dir.path().into());
        let mut waits = Vec::new();
        for _ in 0..4 {
            waits.push(rates.reserve("host:registry.example.org", 2.0).await.unwrap().as_secs_f64());
        }
        assert!(waits[0] < 0.1 && waits[3] > 1.3, "four slots at 2/s span 1.5 s: {waits:?}");
        // another process (another FileRates on the same directory) queues behind them
        assert!(
            FileRates::new(dir.path().into()).reserve("host:registry.example.org", 2.0).await.unwrap().as_secs_f64()
                > 1.5
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "one file per key");
    }

    #[test]
    fn services_and_hosts_have_their_own_budgets() {
        let limits = RateLimits::new([("lov".to_string(), 2.0), ("ols".to_string(), 0.5)].into(), None);
        assert!(limits.try_acquire("lov", "a.org"));
        assert!(limits.try_acquire("lov", "b.org"));
        assert!(!limits.try_acquire("lov", "c.org"), "a third lov request within the second must wait, any host");
        assert!(limits.try_acquire("ols", "a.org"), "another service is not affected");
        assert!(!limits.try_acquire("ols", "a.org"), "0.5/s allows one request per two seconds");
        assert!((0..100).all(|_| limits.try_acquire("direct", "x.org")), "no limit configured");
        let per_host = RateLimits::new(HashMap::new(), Some(1.0));
        assert!(per_host.try_acquire("direct", "x.org"));
        assert!(!per_host.try_acquire("obo", "X.org"), "one budget per host, whatever the service");
        assert!(per_host.try_acquire("direct", "y.org"), "another host has its own");
    }
}
