//! The workspace WebSocket's decisions: its states, what a close means, how long to wait before
//! the next attempt, and what a failed attempt's `/health` probe says. The binding owns the socket,
//! timers and listeners; it asks here what to do.

use super::error::{codes, ClientError};

/// `rt.connection.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No terminal or watcher needs a socket.
    Idle,
    /// The first attempt.
    Connecting,
    Open,
    /// Waiting for or making another attempt after a close nobody asked for.
    Reconnecting,
    /// Another client took the workspace's one socket; `reconnect()` takes it back.
    Replaced,
    /// Disposed, freed, or the workspace is gone, stopped or its API server disabled.
    Closed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::Open => "open",
            State::Reconnecting => "reconnecting",
            State::Replaced => "replaced",
            State::Closed => "closed",
        }
    }
}

/// The gateway closes the older socket with this code when a newer one takes over (the
/// emulator's choice: Oblien's code is not documented).
pub const CLOSE_REPLACED: u16 = 4000;
/// The emulator's code for "the gateway token was rotated" (`POST …/token`, `…/reconnect`).
pub const CLOSE_TOKEN_ROTATED: u16 = 4001;
/// The emulator's code for "the internal API server was disabled".
pub const CLOSE_DISABLED: u16 = 4003;
/// A close the client asks for.
pub const CLOSE_NORMAL: u16 = 1000;

/// What to do after the socket closed without the client asking.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterClose {
    /// Try again; `fresh_token`: the held gateway token is known to be dead (rotated).
    Reconnect { fresh_token: bool },
    /// Another client holds the socket: stop until `reconnect()`.
    Replaced,
}

pub fn after_close(code: u16) -> AfterClose {
    match code {
        CLOSE_REPLACED => AfterClose::Replaced,
        CLOSE_TOKEN_ROTATED => AfterClose::Reconnect { fresh_token: true },
        _ => AfterClose::Reconnect { fresh_token: false },
    }
}

/// Delay before attempt `attempt` (1-based) of a reconnect: the first within 0.5 s, then doubling
/// to 30 s, each with jitter in [50 %, 100 %]. `random` is in [0, 1).
pub fn retry_delay_ms(attempt: u32, random: f64) -> f64 {
    let base = (500.0 * f64::from(1u32 << attempt.saturating_sub(1).min(6))).min(30_000.0);
    base * (0.5 + 0.5 * random.clamp(0.0, 1.0))
}

/// Before a reconnect the client asks `GET /health` with the same rules as any gateway call (a
/// 401 re-mints the token): a socket that does not open tells the page nothing (browsers hide the
/// handshake's status). The answer decides: `Err` the workspace cannot be reached this way (the
/// socket ends with that error); `Ok(Some(error))` a passing failure (retry later); `Ok(None)` go.
pub fn after_probe(probe: Result<(), ClientError>) -> Result<Option<ClientError>, ClientError> {
    match probe {
        Ok(()) => Ok(None),
        Err(error) if is_final(&error) => Err(error),
        Err(error) => Ok(Some(error)),
    }
}

/// Errors after which no reconnect can succeed until the app acts.
pub fn is_final(error: &ClientError) -> bool {
    error.is(codes::DISPOSED)
        || error.is("workspace_not_running")
        || error.is("internal_api_disabled")
        || matches!(error.status, Some(403 | 404))
}

/// A socket that was open this long before it closed counts as a success: the next attempt starts
/// from the first delay again.
pub const STABLE_MS: f64 = 5_000.0;

/// A page whose timers stopped this long slept (laptop lid, frozen tab): its socket may be dead
/// while it still says open, so the client replaces it (catching up from the scrollback).
pub const SLEEP_GAP_MS: f64 = 10_000.0;
/// How often the open socket's timer looks for such a gap.
pub const HEARTBEAT_MS: f64 = 2_500.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes() {
        assert_eq!(after_close(4000), AfterClose::Replaced);
        assert_eq!(
            after_close(4001),
            AfterClose::Reconnect { fresh_token: true }
        );
        assert_eq!(
            after_close(1006),
            AfterClose::Reconnect { fresh_token: false }
        );
        assert_eq!(
            after_close(1001),
            AfterClose::Reconnect { fresh_token: false }
        );
    }

    #[test]
    fn delays() {
        assert!(retry_delay_ms(1, 0.999) <= 500.0);
        assert_eq!(retry_delay_ms(1, 0.0), 250.0);
        assert_eq!(retry_delay_ms(2, 0.999_999).round(), 1000.0);
        assert_eq!(retry_delay_ms(30, 0.999_999).round(), 30_000.0);
    }

    #[test]
    fn probes() {
        let stopped = ClientError::new("workspace_not_running", "m").with_status(503);
        assert!(after_probe(Err(stopped)).is_err());
        let network = ClientError::new("network_error", "m");
        assert_eq!(after_probe(Err(network.clone())), Ok(Some(network)));
        let bad_gateway = ClientError::new("bad_gateway", "m").with_status(502);
        assert_eq!(after_probe(Err(bad_gateway.clone())), Ok(Some(bad_gateway)));
        assert_eq!(after_probe(Ok(())), Ok(None));
    }
}
