//! Retrying with exponential backoff and jitter: the plain function `with_retry(coro_fn,
//! max_attempts=3, base_delay=1.0)` (not a decorator) of the article
//! "Python异步编程:掌握asyncio构建高性能应用" (Python asynchronous programming: mastering asyncio to
//! build high-performance applications), section "带重试的错误处理" (error handling with retries).
//!
//! Attempt, and on a *retryable* failure wait `base × 2^attempt` (capped at `max_delay`),
//! scaled by a random factor in [0.5, 1.0] ("equal jitter"), so that many clients failing at
//! once do not retry in lock-step and hammer the server together. What is retryable by
//! default: timeouts, connection failures, a connection closed before the response, and 5xx
//! statuses (when the attempt turns them into `Error::Status` with `error_for_status`).
//!
//! A server that says *when* to come back is believed: a 429 or 503 with `Retry-After`
//! (RFC 9110 §10.2.3: delay-seconds, or an HTTP-date) becomes `Error::RetryAfter` in
//! `error_for_status`, and the wait before the next attempt is then the server's delay — not
//! the backoff, and without jitter — capped by `max_retry_after`, so a server asking for an
//! hour cannot stall a program that allows a minute. A date is read against the wall clock
//! (`SystemTime`), since that is what it names; the wait itself is a loop timer, so a virtual
//! clock skips it like any other sleep.

use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::http::date::parse_http_date;
use crate::http::error::Error;
use crate::http::headers::Headers;

/// When and how often [`with_retry`] tries again.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 3).
    pub max_attempts: u32,
    /// The delay before the first retry, before jitter (default 100 ms).
    pub base_delay: Duration,
    /// The longest delay between attempts (default 10 s).
    pub max_delay: Duration,
    /// Which errors are worth another attempt (default [`RetryPolicy::is_retryable`]).
    pub retry_if: fn(&Error) -> bool,
    /// Seed for the jitter, for runs that must repeat exactly (a virtual-clock test, a
    /// reproducible demo); `None` (the default) draws it from a per-thread generator seeded
    /// from the system clock, so that separate processes do not retry in lock-step.
    pub jitter_seed: Option<u64>,
    /// The longest wait a server's `Retry-After` may impose (default 60 s); a longer one is
    /// cut to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            retry_if: RetryPolicy::is_retryable,
            jitter_seed: None,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Transient failures: timeouts, connection errors, a closed connection, I/O errors,
    /// truncated responses and 5xx statuses. Protocol violations and 4xx are not: trying
    /// again would get the same answer.
    pub fn is_retryable(error: &Error) -> bool {
        match error {
            Error::Status(code) => *code >= 500,
            // The server asked to be tried again later: a 429 as much as a 503.
            Error::RetryAfter { .. } => true,
            Error::Timeout(_) | Error::Connect { .. } | Error::Closed | Error::Io(_) | Error::Truncated { .. } => true,
            // A proxy's 5xx, close or stall; not its 407 or 403.
            #[cfg(feature = "tls")]
            Error::Tunnel(tunnel) => tunnel.is_transient(),
            _ => false,
        }
    }

    /// The delay after failed attempt `attempt` (0-based), before jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Runs `attempt(n)` for n = 0, 1, … until it succeeds, fails with a non-retryable error, or
/// `max_attempts` is reached; sleeps with jittered exponential backoff in between. Returns the
/// last error.
///
/// # Errors
/// The last attempt's error.
///
/// # Cancel safety
/// Dropping the future abandons the current attempt (as its own docs say) and any retries.
pub async fn with_retry<T, F, Fut>(policy: RetryPolicy, mut attempt: F) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut n = 0;
    let mut seeded = policy.jitter_seed.map(|seed| seed | 1);
    loop {
        match attempt(n).await {
            Ok(value) => return Ok(value),
            Err(error) if n + 1 < policy.max_attempts && (policy.retry_if)(&error) => {
                let random = match &mut seeded {
                    Some(state) => next_unit(state),
                    None => RNG.with(|state| {
                        let mut x = state.get();
                        let r = next_unit(&mut x);
                        state.set(x);
                        r
                    }),
                };
                // `mul_f64` would panic where the product rounds past `Duration::MAX`.
                let backoff = policy.backoff(n);
                let delay = match &error {
                    Error::RetryAfter { delay, .. } => (*delay).min(policy.max_retry_after),
                    _ => Duration::try_from_secs_f64(backoff.as_secs_f64() * (0.5 + 0.5 * random)).unwrap_or(backoff),
                };
                log::debug!(target: "evloop::http", "attempt {} failed ({error}); retrying in {delay:?}", n + 1);
                crate::time::sleep(delay).await;
                n += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The delay a 429 or 503 response asks for in `Retry-After` (RFC 9110 §10.2.3), if it has
/// one that parses: whole seconds, or an HTTP-date (a date in the past is "now"). Other
/// statuses give `None`: `Retry-After` on a 3xx is about redirects, not retries.
pub(crate) fn retry_after(status: u16, headers: &Headers) -> Option<Duration> {
    if status != 429 && status != 503 {
        return None;
    }
    let value = headers.get("retry-after")?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

thread_local! {
    /// xorshift64* state for jitter: randomness of no cryptographic value, seeded from the
    /// clock and the thread-local's own address, so that processes started together diverge.
    static RNG: Cell<u64> = Cell::new({
        let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let addr = &time as *const u64 as u64;
        (time ^ addr.rotate_left(32)) | 1
    });
}

/// Steps an xorshift64* generator and returns a number in [0, 1).
fn next_unit(x: &mut u64) -> f64 {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..Default::default()
        };
        let delays: Vec<u128> = (0..6).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(
            policy.backoff(100),
            Duration::from_secs(1),
            "no overflow for huge attempt counts"
        );
    }

    #[test]
    fn jitter_stays_in_range_and_varies() {
        let mut state = 12345u64;
        let samples: Vec<f64> = (0..1000).map(|_| next_unit(&mut state)).collect();
        assert!(samples.iter().all(|j| (0.0..1.0).contains(j)));
        let distinct = samples
            .iter()
            .map(|j| (j * 100.0) as u32)
            .collect::<std::collections::HashSet<_>>();
        assert!(distinct.len() > 50, "jitter spreads over the range");
    }

    #[test]
    fn a_seeded_policy_waits_the_same_delays_on_every_run() {
        let delays = || {
            let rt = crate::Runtime::builder().virtual_clock().build().unwrap();
            rt.block_on(async {
                let policy = RetryPolicy {
                    max_attempts: 5,
                    jitter_seed: Some(7),
                    ..Default::default()
                };
                let start = crate::time::now();
                let mut at = Vec::new();
                let result: Result<(), Error> = with_retry(policy, |_| {
                    at.push((crate::time::now() - start).as_micros());
                    async { Err(Error::Closed) }
                })
                .await;
                assert!(matches!(result, Err(Error::Closed)), "the last error comes back");
                at
            })
        };
        let first = delays();
        assert_eq!(first.len(), 5, "five attempts");
        assert_eq!(first, delays());
        // Each wait is between half and all of the doubling backoff (100, 200, 400, 800 ms).
        for (k, pair) in first.windows(2).enumerate() {
            let waited = (pair[1] - pair[0]) as f64 / 1000.0;
            let full = 100.0 * 2f64.powi(k as i32);
            assert!(
                waited >= full / 2.0 - 1.0 && waited <= full + 1.0,
                "wait {k}: {waited} ms"
            );
        }
    }

    #[test]
    fn a_non_retryable_error_stops_at_once() {
        let rt = crate::Runtime::builder().virtual_clock().build().unwrap();
        let attempts = rt.block_on(async {
            let mut attempts = 0;
            let _ = with_retry(RetryPolicy::default(), |_| {
                attempts += 1;
                async { Err::<(), _>(Error::Status(404)) }
            })
            .await;
            attempts
        });
        assert_eq!(attempts, 1);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_for_429_and_503_only() {
        let with = |value: &str| -> Headers { [("Retry-After", value)].into_iter().collect() };
        assert_eq!(retry_after(503, &with("120")), Some(Duration::from_secs(120)));
        assert_eq!(retry_after(429, &with(" 0 ")), Some(Duration::ZERO));
        assert_eq!(
            retry_after(503, &with("Thu, 01 Jan 1970 00:00:00 GMT")),
            Some(Duration::ZERO),
            "past: now"
        );
        let later = retry_after(503, &with("Fri, 31 Dec 9999 23:59:59 GMT")).unwrap();
        assert!(later > Duration::from_secs(3600 * 24 * 365 * 1000), "{later:?}");
        assert_eq!(retry_after(503, &with("-5")), None);
        assert_eq!(retry_after(503, &with("soon")), None);
        assert_eq!(retry_after(503, &Headers::new()), None);
        assert_eq!(retry_after(500, &with("5")), None, "only 429 and 503");
    }

    #[test]
    fn a_retry_after_delay_replaces_the_backoff_up_to_the_cap() {
        let rt = crate::Runtime::builder().virtual_clock().build().unwrap();
        let waits = rt.block_on(async {
            let policy = RetryPolicy {
                max_attempts: 3,
                max_retry_after: Duration::from_secs(30),
                ..Default::default()
            };
            let start = crate::time::now();
            let mut at = Vec::new();
            let _ = with_retry(policy, |n| {
                at.push((crate::time::now() - start).as_secs());
                let delay = Duration::from_secs(if n == 0 { 7 } else { 3600 });
                async move { Err::<(), _>(Error::RetryAfter { status: 503, delay }) }
            })
            .await;
            at
        });
        assert_eq!(waits, [0, 7, 37], "7 s as asked, then an hour cut to 30 s");
    }

    #[test]
    fn only_transient_errors_are_retried() {
        assert!(RetryPolicy::is_retryable(&Error::Status(503)));
        assert!(!RetryPolicy::is_retryable(&Error::Status(404)));
        assert!(RetryPolicy::is_retryable(&Error::Closed));
        assert!(!RetryPolicy::is_retryable(&Error::TooManyRedirects { limit: 10 }));
    }
}
