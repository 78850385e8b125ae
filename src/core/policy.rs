//! When to refresh, decided in one place: margins, deadlines and back-off after failures.
//! Pure arithmetic over an injected "now"; no clocks or timers here.

/// The most the margin may be: one minute.
const MAX_DEFAULT_MARGIN_MS: f64 = 60_000.0;
/// First back-off after a failed refresh; doubles per failure up to `MAX_BACKOFF_MS`.
const BASE_BACKOFF_MS: f64 = 1_000.0;
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// Refresh margin: `min(60 s, lifetime / 4)` by default; a configured margin is capped below half
/// the lifetime so a short token is never refreshed the moment it arrives.
pub fn margin_ms(lifetime_ms: f64, configured_secs: Option<f64>) -> f64 {
    let lifetime = lifetime_ms.max(0.0);
    match configured_secs {
        // Not `f64::clamp`: its panic message for a NaN bound links all of float formatting.
        Some(secs) => (secs * 1000.0).max(0.0).min(lifetime * 0.49),
        None => MAX_DEFAULT_MARGIN_MS.min(lifetime / 4.0),
    }
}

/// What a caller must do with the current token before sending a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Use it.
    Fresh,
    /// Use it, and start a background refresh (inside the margin).
    Expiring,
    /// Do not use it: refresh first, or fail with `token_expired`.
    Expired,
}

pub fn token_state(now_ms: f64, deadline_ms: f64, margin_ms: f64) -> TokenState {
    if now_ms >= deadline_ms {
        TokenState::Expired
    } else if now_ms >= deadline_ms - margin_ms {
        TokenState::Expiring
    } else {
        TokenState::Fresh
    }
}

/// Back-off after `failures` consecutive failed refreshes, with jitter in [50 %, 100 %].
/// `random` is in [0, 1).
pub fn backoff_ms(failures: u32, random: f64) -> f64 {
    let exp = failures.saturating_sub(1).min(16);
    let base = (BASE_BACKOFF_MS * f64::from(1u32 << exp)).min(MAX_BACKOFF_MS);
    base * (0.5 + 0.5 * random.clamp(0.0, 1.0))
}

/// Delay before retry `attempt` (1-based) of an idempotent request after a network error or a
/// 502/503/504: 300 ms, 900 ms, with jitter.
pub fn retry_delay_ms(attempt: u32, random: f64) -> f64 {
    let base = 300.0 * f64::from(3u32.pow(attempt.saturating_sub(1).min(5)));
    base * (0.75 + 0.5 * random.clamp(0.0, 1.0))
}

/// Longest a `Retry-After` is honoured automatically.
pub const MAX_RETRY_AFTER_SECS: u32 = 60;
/// 429 retries for GETs.
pub const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// Network / 5xx retries for GETs.
pub const MAX_TRANSIENT_RETRIES: u32 = 2;
/// How long the host's refresh callback may take.
pub const HOST_TIMEOUT_MS: f64 = 15_000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins() {
        assert_eq!(margin_ms(900_000.0, None), 60_000.0);
        assert_eq!(margin_ms(60_000.0, None), 15_000.0);
        assert_eq!(margin_ms(4_000.0, None), 1_000.0);
        assert_eq!(margin_ms(60_000.0, Some(50.0)), 60_000.0 * 0.49);
        assert_eq!(margin_ms(900_000.0, Some(30.0)), 30_000.0);
        assert_eq!(margin_ms(-5.0, None), 0.0);
    }

    #[test]
    fn states() {
        assert_eq!(token_state(0.0, 100.0, 10.0), TokenState::Fresh);
        assert_eq!(token_state(90.0, 100.0, 10.0), TokenState::Expiring);
        assert_eq!(token_state(100.0, 100.0, 10.0), TokenState::Expired);
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        assert_eq!(backoff_ms(1, 1.0), 1_000.0);
        assert_eq!(backoff_ms(1, 0.0), 500.0);
        assert_eq!(backoff_ms(3, 1.0), 4_000.0);
        assert_eq!(backoff_ms(40, 1.0), 30_000.0);
    }
}
