//! Who may use the collector: the bearer token, compared in constant time, and a per-client
//! rate limit (a token bucket for each client address).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;

/// Checks `Authorization: Bearer <token>`; the error says what was wrong, never the token.
pub fn check_bearer(headers: &HeaderMap, token: &str) -> Result<(), &'static str> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err("no Authorization header");
    };
    let Some(given) = value
        .as_bytes()
        .strip_prefix(b"Bearer ")
        .or_else(|| value.as_bytes().strip_prefix(b"bearer "))
    else {
        return Err("the Authorization header is not a bearer token");
    };
    if constant_time_eq(given, token.as_bytes()) {
        Ok(())
    } else {
        Err("wrong token")
    }
}

/// Whether two byte strings are equal, in a time that depends on their lengths only, so that
/// timing answers tell nothing of how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A path as it may be logged: what would act on a terminal or hide in a line (controls,
/// bidirectional overrides, zero-width characters) escaped, at most 200 characters.
pub fn shown(path: &str) -> String {
    path.chars()
        .take(200)
        .flat_map(|c| {
            if c.is_control() || crate::model::text::is_hidden_in_a_line(c) {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Requests a second per client address, with bursts of twice as many.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Past this many clients, buckets full again (idle clients) are forgotten.
const MAX_CLIENTS: usize = 10_000;

impl RateLimiter {
    /// A limiter letting each address make `per_second` requests a second; 0: no limit.
    pub fn new(per_second: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second),
            burst: f64::from(per_second) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's token for `ip`; else how long until there is one.
    pub fn take(&self, ip: IpAddr) -> Result<(), Duration> {
        self.take_at(ip, Instant::now())
    }

    /// [`RateLimiter::take`] at the moment `now`.
    fn take_at(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_second <= 0.0 {
            return Ok(());
        }
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > MAX_CLIENTS {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(
                Duration::try_from_secs_f64((1.0 - bucket.tokens) / self.per_second)
                    .unwrap_or(Duration::from_secs(1)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        let mut headers = HeaderMap::new();
        assert!(check_bearer(&headers, "t").is_err());
        headers.insert(AUTHORIZATION, "Bearer t".parse().unwrap());
        assert!(check_bearer(&headers, "t").is_ok());
        assert_eq!(check_bearer(&headers, "u"), Err("wrong token"));
    }

    #[test]
    fn a_client_past_its_burst_waits() {
        // All at one moment: a thread paused for 200 ms between two takes (a loaded machine)
        // would see a token come back, and no wait.
        let now = Instant::now();
        let limiter = RateLimiter::new(5);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..10 {
            assert!(limiter.take_at(ip, now).is_ok());
        }
        let wait = limiter.take_at(ip, now).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(200));
        assert!(limiter.take_at("10.0.0.2".parse().unwrap(), now).is_ok());
        // A token back a fifth of a second later.
        let later = now + Duration::from_millis(250);
        assert!(limiter.take_at(ip, later).is_ok());
        assert!(limiter.take_at(ip, later).is_err());
        assert!(RateLimiter::new(0).take(ip).is_ok());
    }
}
