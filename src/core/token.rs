//! Reading a JWT without trusting it: the client never verifies signatures (it has no key), it
//! only needs `exp`, `iat` and the scope claims to schedule refreshes and fail fast locally.

use super::base64url;
use super::error::{codes, ClientError};
use super::json::{self, Value};
use crate::prelude::*;

/// Longest token accepted; real ones are under 1 KiB.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The payload fields the client reads (`null` counts as absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawClaims {
    pub exp: Option<f64>,
    pub iat: Option<f64>,
    pub scope: Option<String>,
    pub namespace: Option<String>,
    pub workspace_id: Option<String>,
    pub label: Option<String>,
}

/// Reads the claims from a decoded payload. A claim of the wrong JSON type, or named twice (which
/// `JSON.parse` and serde would each resolve differently), makes the token invalid.
pub fn read_claims(payload: &[u8]) -> Result<RawClaims, ClientError> {
    let text =
        core::str::from_utf8(payload).map_err(|_| invalid("The token's payload is not UTF-8"))?;
    let members =
        json::object(text).ok_or_else(|| invalid("The token's payload is not a JSON object"))?;
    let mut raw = RawClaims::default();
    let mut seen: [bool; 6] = [false; 6];
    for (key, value) in &members {
        let key = key.decode();
        let slot = match key.as_ref() {
            "exp" => 0,
            "iat" => 1,
            "scope" => 2,
            "namespace" => 3,
            "workspaceId" => 4,
            "label" => 5,
            _ => continue,
        };
        if core::mem::replace(&mut seen[slot], true) {
            return Err(invalid("The token's payload names a claim twice"));
        }
        let wrong = || invalid("The token's claims have the wrong types");
        match (slot, value) {
            (_, Value::Null) => {}
            (0, Value::Number(n)) => raw.exp = Some(*n),
            (1, Value::Number(n)) => raw.iat = Some(*n),
            (2..=5, Value::String(s)) => {
                let text = Some(s.decode().into_owned());
                match slot {
                    2 => raw.scope = text,
                    3 => raw.namespace = text,
                    4 => raw.workspace_id = text,
                    _ => raw.label = text,
                }
            }
            _ => return Err(wrong()),
        }
    }
    Ok(raw)
}

/// A scoped session token (namespace or workspace scope): the one decoder every entry point uses.
pub fn decode_session(token: &str) -> Result<Claims, ClientError> {
    session_claims(read_claims(&payload_bytes(token)?)?)
}

/// A gateway token (only `exp` is required).
pub fn decode_gateway(token: &str) -> Result<Claims, ClientError> {
    gateway_claims(read_claims(&payload_bytes(token)?)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    Namespace,
    Workspace,
    /// A gateway token: no scope claim, bound to one workspace by the gateway.
    Gateway,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Namespace => "namespace",
            TokenScope::Workspace => "workspace",
            TokenScope::Gateway => "gateway",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    pub scope: TokenScope,
    pub namespace: Option<String>,
    pub workspace_id: Option<String>,
    pub label: Option<String>,
    /// Seconds since the epoch (server clock).
    pub iat: Option<f64>,
    pub exp: f64,
}

impl Claims {
    /// Same tenant and scope: cached gateway tokens stay valid across a swap between these.
    pub fn same_identity(&self, other: &Claims) -> bool {
        self.scope == other.scope
            && self.namespace == other.namespace
            && self.workspace_id == other.workspace_id
    }

    /// Who the token is for: scope, namespace or workspace, and label (tabs share tokens only
    /// within one of these).
    pub fn identity(&self) -> String {
        let mut key = String::from(self.scope.as_str());
        for part in [&self.namespace, &self.workspace_id, &self.label] {
            key.push('|');
            if let Some(part) = part {
                key.push_str(part);
            }
        }
        key
    }

    /// Token lifetime in ms per the server's own clock (`exp − iat`), when `iat` is present.
    pub fn lifetime_ms(&self) -> Option<f64> {
        self.iat.map(|iat| (self.exp - iat) * 1000.0)
    }
}

fn invalid(message: &str) -> ClientError {
    ClientError::new(codes::INVALID_TOKEN, message)
}

/// Splits a compact JWT and base64url-decodes its payload (the bytes of a JSON object, not yet
/// parsed).
pub fn payload_bytes(token: &str) -> Result<Vec<u8>, ClientError> {
    if token.is_empty() {
        return Err(invalid("The token is empty"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid("The token is too long to be a scoped JWT"));
    }
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(
            "This is a raw connection token, not a scoped JWT: mint one with POST /tokens",
        ));
    }
    // The dots found with `scan::find` (not `split_once`: core's searcher and memchr stay out of
    // the wasm); every part is sliced at an ASCII dot, so `get` never refuses a boundary.
    let dot = |from: usize| {
        let rest = token.as_bytes().get(from..)?;
        super::scan::find(rest, b'.', b'.', 0).map(|at| from + at)
    };
    let three = dot(0).and_then(|first| {
        let second = dot(first + 1)?;
        if dot(second + 1).is_some() {
            return None;
        }
        Some((
            token.get(..first)?,
            token.get(first + 1..second)?,
            token.get(second + 1..)?,
        ))
    });
    let Some((header, payload, signature)) = three else {
        return Err(invalid("The token is not a JWT (header.payload.signature)"));
    };
    if signature.is_empty() {
        return Err(invalid("The token is unsigned"));
    }
    // Checked although never verified: a stray character (a newline, say) would otherwise only
    // surface as a failed `fetch`, reported as a network error.
    if base64url::decode(signature).is_none() {
        return Err(invalid("The token's signature is not base64url"));
    }
    if header.is_empty() || base64url::decode(header).is_none() {
        return Err(invalid("The token's header is not base64url"));
    }
    base64url::decode(payload)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid("The token's payload is not base64url"))
}

/// Checks the claims of a session token: a numeric `exp`, and a namespace or workspace scope.
pub fn session_claims(raw: RawClaims) -> Result<Claims, ClientError> {
    let exp = numeric_exp(&raw)?;
    let scope =
        match raw.scope.as_deref() {
            Some("namespace") if raw.namespace.is_some() => TokenScope::Namespace,
            Some("workspace") if raw.workspace_id.is_some() => TokenScope::Workspace,
            Some("namespace") | Some("workspace") => {
                return Err(invalid(
                    "The token's scope claim names no namespace or workspace",
                ))
            }
            _ => return Err(invalid(
                "The token has no 'namespace' or 'workspace' scope claim: is it a scoped token?",
            )),
        };
    Ok(Claims {
        scope,
        namespace: raw.namespace,
        workspace_id: raw.workspace_id,
        label: raw.label,
        iat: raw.iat.filter(|v| v.is_finite()),
        exp,
    })
}

/// Checks the claims of a gateway token: only `exp` matters.
pub fn gateway_claims(raw: RawClaims) -> Result<Claims, ClientError> {
    let exp = numeric_exp(&raw)?;
    Ok(Claims {
        scope: TokenScope::Gateway,
        namespace: None,
        workspace_id: raw.workspace_id,
        label: None,
        iat: raw.iat.filter(|v| v.is_finite()),
        exp,
    })
}

fn numeric_exp(raw: &RawClaims) -> Result<f64, ClientError> {
    let exp = raw
        .exp
        .filter(|e| e.is_finite() && *e > 0.0)
        .ok_or_else(|| invalid("The token has no numeric 'exp' claim"))?;
    if let Some(iat) = raw.iat.filter(|v| v.is_finite()) {
        if exp <= iat {
            return Err(invalid("The token's 'exp' is not after its 'iat'"));
        }
    }
    Ok(exp)
}

/// Which path brought a held token (`TokenInfo.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The constructor's token.
    Initial,
    /// This tab's refresh callback.
    Refresh,
    SetToken,
    /// Another tab of the group refreshed it (`crossTab`).
    Tab,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Initial => "initial",
            Source::Refresh => "refresh",
            Source::SetToken => "setToken",
            Source::Tab => "tab",
        }
    }
}

/// A token as held by the client: its claims and a deadline on the local clock.
#[derive(Debug, Clone)]
pub struct HeldToken {
    /// Which path brought it.
    pub source: Source,
    /// The JWT itself. Only ever placed in an `Authorization` header.
    pub secret: String,
    pub claims: Claims,
    /// Local wall-clock ms when the token was received.
    pub received_ms: f64,
    /// Monotonic ms when the token was received (immune to wall-clock changes).
    pub received_mono_ms: f64,
    /// Local wall-clock ms after which the token is treated as expired.
    pub deadline_ms: f64,
}

/// When a token arrives, on both local clocks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    pub wall_ms: f64,
    pub mono_ms: f64,
}

impl HeldToken {
    /// Deadline = received + (exp − iat) when `iat` is present, so a wrong device clock cannot
    /// make a fresh token look expired (refresh storm) or an old one look eternal.
    pub fn new(secret: String, claims: Claims, at: Arrival) -> Self {
        let lifetime = claims
            .lifetime_ms()
            .unwrap_or(claims.exp * 1000.0 - at.wall_ms)
            .max(0.0);
        HeldToken {
            source: Source::Initial,
            secret,
            claims,
            received_ms: at.wall_ms,
            received_mono_ms: at.mono_ms,
            deadline_ms: at.wall_ms + lifetime,
        }
    }

    pub fn lifetime_ms(&self) -> f64 {
        self.deadline_ms - self.received_ms
    }

    pub fn is_expired(&self, now_ms: f64) -> bool {
        now_ms >= self.deadline_ms
    }

    /// Whole seconds left before the local deadline (0 once expired).
    pub fn expires_in_secs(&self, now_ms: f64) -> f64 {
        super::float::floor(((self.deadline_ms - now_ms) / 1000.0).max(0.0))
    }

    /// The local deadline expressed on the device's wall clock: what `expiresAt` shows.
    pub fn expires_at_ms(&self) -> f64 {
        self.deadline_ms
    }
}

/// The constructor's token: decoded, admitted by the rule every entry point shares, held.
pub fn first_token(
    secret: String,
    at: Arrival,
    refreshable: bool,
) -> Result<HeldToken, ClientError> {
    let claims = decode_session(&secret)?;
    admit(&claims, None, at)?;
    Ok(handed_over(secret, claims, at, refreshable))
}

/// A token the host hands over (constructor, `setToken`), already admitted. When the device clock
/// says it has expired, either it has or the clock is wrong: with a refresh callback, the first
/// call asks the host before using it (one host call, never a loop: what a refresh returns is
/// judged by the server alone); without one, it is sent and the server judges.
pub fn handed_over(secret: String, claims: Claims, at: Arrival, refreshable: bool) -> HeldToken {
    let looks_expired = claims.exp * 1000.0 <= at.wall_ms;
    let mut held = HeldToken::new(secret, claims, at);
    if refreshable && looks_expired {
        held.deadline_ms = at.wall_ms;
    }
    held
}

/// Whether a token handed to the client (constructor, `setToken`, a refresh) may be held: one rule
/// for every entry point. The server is the judge of expiry and the device clock may be hours
/// wrong, so the device's wall clock never refuses a token that has an `iat`. The held token can
/// prove a candidate expired with server time alone: it was issued at `iat` (server clock) no
/// later than its receipt, so the server now reads at least `iat + monotonic time since receipt`.
/// A token without `iat` can only be timed by the device clock (`exp` already past: refused).
pub fn admit(candidate: &Claims, held: Option<&HeldToken>, at: Arrival) -> Result<(), ClientError> {
    let exp_ms = candidate.exp * 1000.0;
    let server_now_at_least = held.and_then(|h| {
        h.claims
            .iat
            .map(|iat| iat * 1000.0 + (at.mono_ms - h.received_mono_ms).max(0.0))
    });
    let proven_expired = server_now_at_least.is_some_and(|server_now| exp_ms <= server_now);
    let untimed_and_past = candidate.iat.is_none() && exp_ms <= at.wall_ms;
    if proven_expired || untimed_and_past {
        return Err(ClientError::new(
            codes::TOKEN_EXPIRED,
            "The token has already expired",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn b64(s: &str) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, &c)| acc | (u32::from(c) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn jwt(payload: &str) -> String {
        format!("{}.{}.sig", b64(r#"{"alg":"HS256"}"#), b64(payload))
    }

    #[test]
    fn decodes_a_scoped_token() -> Result<(), Box<dyn std::error::Error>> {
        let bytes = payload_bytes(&jwt(
            r#"{"exp":2000,"iat":1100,"scope":"namespace","namespace":"t"}"#,
        ))
        .map_err(|e| e.message)?;
        let raw = read_claims(&bytes).map_err(|e| e.message)?;
        let claims = session_claims(raw).map_err(|e| e.message)?;
        assert_eq!(claims.scope, TokenScope::Namespace);
        assert_eq!(claims.lifetime_ms(), Some(900_000.0));
        Ok(())
    }

    #[test]
    fn local_deadline_ignores_device_clock() {
        let claims = Claims {
            scope: TokenScope::Namespace,
            namespace: Some("t".into()),
            workspace_id: None,
            label: None,
            iat: Some(1000.0),
            exp: 1900.0,
        };
        // Device clock two hours ahead of the server: the deadline is still 900 s after receipt.
        let at = Arrival {
            wall_ms: 1000.0 * 1000.0 + 7_200_000.0,
            mono_ms: 5.0,
        };
        let held = HeldToken::new("t".into(), claims, at);
        assert_eq!(held.lifetime_ms(), 900_000.0);
    }

    #[test]
    fn a_claim_named_twice_or_of_the_wrong_type_is_invalid() {
        for payload in [
            r#"{"exp":2000,"scope":"namespace","namespace":"a","namespace":"b"}"#,
            r#"{"exp":2000,"exp":3000,"scope":"namespace","namespace":"a"}"#,
            r#"{"exp":"2000","scope":"namespace","namespace":"a"}"#,
            r#"{"exp":2000,"scope":"namespace","namespace":7}"#,
        ] {
            assert!(decode_session(&jwt(payload)).is_err(), "{payload}");
        }
        let claims = decode_session(&jwt(
            r#"{"exp":2000,"scope":"namespace","namespace":"a\ud800","label":null,"x":1,"x":2}"#,
        ));
        assert_eq!(
            claims.map(|c| c.namespace),
            Ok(Some("a\u{FFFD}".to_string()))
        );
    }

    #[test]
    fn admission_never_asks_the_device_clock() {
        let claims = |iat: f64, exp: f64| Claims {
            scope: TokenScope::Namespace,
            namespace: Some("t".into()),
            workspace_id: None,
            label: None,
            iat: Some(iat),
            exp,
        };
        // The device clock says 2033: a token of 1970 with an `iat` is still admitted.
        let now = Arrival {
            wall_ms: 2e12,
            mono_ms: 0.0,
        };
        assert_eq!(admit(&claims(1000.0, 1900.0), None, now), Ok(()));
        let held = HeldToken::new("t".into(), claims(5000.0, 5900.0), now);
        // 100 s (monotonic) after receipt the server reads at least 5100.
        let later = Arrival {
            wall_ms: 0.0,
            mono_ms: 100_000.0,
        };
        assert_eq!(admit(&claims(4900.0, 5800.0), Some(&held), later), Ok(()));
        assert!(admit(&claims(4000.0, 5100.0), Some(&held), later).is_err());
        // Without `iat` only the device clock can tell.
        let mut untimed = claims(0.0, 1900.0);
        untimed.iat = None;
        assert!(admit(&untimed, None, now).is_err());
    }

    #[test]
    fn refuses_malformed_shapes() {
        let hex = "a".repeat(64);
        for bad in [
            "", "abc", "a.b", "a.b.c.d", ".x.y", &hex, "eyJ.eyJ.", "é.é.é",
        ] {
            assert!(payload_bytes(bad).is_err(), "{bad:?}");
        }
    }
}
