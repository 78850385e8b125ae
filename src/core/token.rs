//! Reading a JWT without trusting it: the client never verifies signatures (it has no key), it
//! only needs `exp`, `iat` and the scope claims to schedule refreshes and fail fast locally.

use super::base64url;
use super::error::{codes, ClientError};
use serde::Deserialize;

/// Longest token accepted; real ones are under 1 KiB.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The payload fields the client reads. Wrong JSON types fail deserialisation (→ `invalid_token`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawClaims {
    pub exp: Option<f64>,
    pub iat: Option<f64>,
    pub scope: Option<String>,
    pub namespace: Option<String>,
    #[serde(rename = "workspaceId")]
    pub workspace_id: Option<String>,
    pub label: Option<String>,
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
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
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
    let payload = base64url::decode(payload)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| invalid("The token's payload is not base64url"))?;
    // RFC 7519 §7.2: the claims set is a JSON object (serde would also take a positional array).
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(invalid("The token's payload is not a JSON object"));
    }
    Ok(payload)
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

/// A token as held by the client: its claims and a deadline on the local clock.
#[derive(Debug, Clone)]
pub struct HeldToken {
    /// The JWT itself. Only ever placed in an `Authorization` header.
    pub secret: String,
    pub claims: Claims,
    /// Local wall-clock ms when the token was received.
    pub received_ms: f64,
    /// Local wall-clock ms after which the token is treated as expired.
    pub deadline_ms: f64,
}

impl HeldToken {
    /// Deadline = received + (exp − iat) when `iat` is present, so a wrong device clock cannot
    /// make a fresh token look expired (refresh storm) or an old one look eternal.
    pub fn new(secret: String, claims: Claims, now_ms: f64) -> Self {
        let lifetime = claims
            .lifetime_ms()
            .unwrap_or(claims.exp * 1000.0 - now_ms)
            .max(0.0);
        HeldToken {
            secret,
            claims,
            received_ms: now_ms,
            deadline_ms: now_ms + lifetime,
        }
    }

    pub fn lifetime_ms(&self) -> f64 {
        self.deadline_ms - self.received_ms
    }

    /// Marks the token as already past its deadline.
    pub fn expire_now(&mut self, now_ms: f64) {
        self.deadline_ms = self.deadline_ms.min(now_ms);
    }

    pub fn is_expired(&self, now_ms: f64) -> bool {
        now_ms >= self.deadline_ms
    }

    /// Whole seconds left before the local deadline (0 once expired).
    pub fn expires_in_secs(&self, now_ms: f64) -> f64 {
        ((self.deadline_ms - now_ms) / 1000.0).max(0.0).floor()
    }

    /// The local deadline expressed on the device's wall clock: what `expiresAt` shows.
    pub fn expires_at_ms(&self) -> f64 {
        self.deadline_ms
    }
}

/// Whether the server's own `exp` has passed by the device clock (used only for tokens the host
/// hands over explicitly, to report `token_expired` at once).
pub fn expired_by_wall_clock(claims: &Claims, now_ms: f64) -> bool {
    claims.exp * 1000.0 <= now_ms
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
        let raw: RawClaims = serde_json::from_slice(&bytes)?;
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
        let held = HeldToken::new("t".into(), claims, 1000.0 * 1000.0 + 7_200_000.0);
        assert_eq!(held.lifetime_ms(), 900_000.0);
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
