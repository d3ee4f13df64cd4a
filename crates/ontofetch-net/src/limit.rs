//! Request rates: `defaults.http.rate_limits` per service (ols, bioportal, lov…) and
//! `per_host_rate_limit` per host, each a GCRA limiter from governor. A request waits for
//! its service's budget (when one is configured) and for its host's.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rate limits by service and by host.
#[derive(Clone, Default)]
pub struct Limits {
    services: HashMap<String, f64>,
    per_host: Option<f64>,
    limiters: Arc<Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>>,
}

fn quota(per_second: f64) -> Quota {
    if per_second >= 1.0 {
        Quota::per_second(NonZeroU32::new(per_second.round().max(1.0) as u32).expect("non-zero"))
    } else {
        Quota::with_period(Duration::from_secs_f64(1.0 / per_second.max(1e-6))).expect("non-zero period")
    }
}

impl Limits {
    /// `services`: requests per second by service; `per_host`: requests per second to any
    /// one host.
    pub fn new(services: HashMap<String, f64>, per_host: Option<f64>) -> Self {
        Limits { services, per_host, limiters: Arc::default() }
    }

    fn limiter(&self, key: String, rate: f64) -> Arc<DefaultDirectRateLimiter> {
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_insert_with(|| Arc::new(RateLimiter::direct(quota(rate)))).clone()
    }

    fn applicable(&self, service: &str, host: &str) -> Vec<Arc<DefaultDirectRateLimiter>> {
        let mut out = Vec::new();
        if let Some(rate) = self.services.get(service) {
            out.push(self.limiter(format!("service:{service}"), *rate));
        }
        if let (Some(rate), false) = (self.per_host, host.is_empty()) {
            out.push(self.limiter(format!("host:{}", host.to_ascii_lowercase()), rate));
        }
        out
    }

    /// Waits until one more request to `host` for `service` is within every budget.
    pub async fn wait(&self, service: &str, host: &str) {
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
    fn services_and_hosts_have_their_own_budgets() {
        let limits = Limits::new([("lov".to_string(), 2.0), ("ols".to_string(), 0.5)].into(), None);
        assert!(limits.try_acquire("lov", "a.org"));
        assert!(limits.try_acquire("lov", "b.org"));
        assert!(!limits.try_acquire("lov", "c.org"), "a third lov request within the second must wait, any host");
        assert!(limits.try_acquire("ols", "a.org"), "another service is not affected");
        assert!(!limits.try_acquire("ols", "a.org"), "0.5/s allows one request per two seconds");
        assert!((0..100).all(|_| limits.try_acquire("direct", "x.org")), "no limit configured");
        let per_host = Limits::new(HashMap::new(), Some(1.0));
        assert!(per_host.try_acquire("direct", "x.org"));
        assert!(!per_host.try_acquire("obo", "X.org"), "one budget per host, whatever the service");
        assert!(per_host.try_acquire("direct", "y.org"), "another host has its own");
    }
}
