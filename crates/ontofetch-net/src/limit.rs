//! Per-service request rates (`defaults.http.rate_limits`, `per_host_rate_limit`): a GCRA
//! limiter per service from governor; unknown services share the default rate, one
//! limiter per service name.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Rate limits by service.
#[derive(Clone, Default)]
pub struct Limits {
    rates: HashMap<String, f64>,
    default_rate: Option<f64>,
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
    /// `rates` are requests per second by service; `default_rate` applies to the rest.
    pub fn new(rates: HashMap<String, f64>, default_rate: Option<f64>) -> Self {
        Limits { rates, default_rate, limiters: Arc::default() }
    }

    fn limiter(&self, service: &str) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rate = self.rates.get(service).copied().or(self.default_rate)?;
        let mut map = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        Some(map.entry(service.to_string()).or_insert_with(|| Arc::new(RateLimiter::direct(quota(rate)))).clone())
    }

    /// Waits until the service may send one more request.
    pub async fn wait(&self, service: &str) {
        if let Some(l) = self.limiter(service) {
            l.until_ready().await;
        }
    }

    /// Takes a request slot now if one is free (`true` when the service is unlimited).
    pub fn try_acquire(&self, service: &str) -> bool {
        self.limiter(service).is_none_or(|l| l.check().is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_has_its_own_budget() {
        let limits = Limits::new([("lov".to_string(), 2.0), ("ols".to_string(), 0.5)].into(), None);
        assert!(limits.try_acquire("lov"));
        assert!(limits.try_acquire("lov"));
        assert!(!limits.try_acquire("lov"), "a third request within the second must wait");
        assert!(limits.try_acquire("ols"), "another service is not affected");
        assert!(!limits.try_acquire("ols"), "0.5/s allows one request per two seconds");
        assert!((0..100).all(|_| limits.try_acquire("direct")), "no limit configured");
        let with_default = Limits::new(HashMap::new(), Some(1.0));
        assert!(with_default.try_acquire("x"));
        assert!(!with_default.try_acquire("x"));
        assert!(with_default.try_acquire("y"), "the default applies per service");
    }
}
