//! HS256 JWTs: scoped tokens (`POST /tokens`), 30-day workspace tokens and gateway tokens.
//! Validation is signature + expiry only, as the Scoped Tokens page says: no state is kept.

use crate::util::{now_secs, random_hex};
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const ISSUER: &str = "oblien-emulator";

/// `typ` of a token minted by `POST /tokens`.
pub const TYP_SCOPED: &str = "scoped";
/// `typ` of the 30-day token from `…/internal-api-access/workspace`.
pub const TYP_WORKSPACE_ACCESS: &str = "workspace_access";
/// `typ` of a gateway token (enable / rotate / reconnect).
pub const TYP_GATEWAY: &str = "gateway";

/// Claims of a token the API accepts as `Authorization: Bearer`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScopedClaims {
    pub iat: u64,
    pub exp: u64,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(
        rename = "workspaceId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub workspace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub jti: String,
    pub iss: String,
    pub typ: String,
}

/// Claims of a gateway token: routes to one workspace; `gen` ties it to the workspace's current
/// connection token, so rotating that token revokes every earlier gateway token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GatewayClaims {
    pub iat: u64,
    pub exp: u64,
    #[serde(rename = "workspaceId")]
    pub workspace_id: String,
    pub gen: u64,
    pub jti: String,
    pub iss: String,
    pub typ: String,
}

/// Why a token was refused; each maps to its own 401 `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts with JSON header and payload, or missing claims.
    Malformed,
    /// `alg` other than HS256 (`none` included).
    Algorithm,
    /// The signature does not match (changed payload, wrong key).
    Signature,
    /// `exp` is in the past.
    Expired,
}

impl TokenError {
    pub fn code(self) -> &'static str {
        match self {
            TokenError::Malformed => "invalid_token",
            TokenError::Algorithm => "invalid_token_algorithm",
            TokenError::Signature => "invalid_signature",
            TokenError::Expired => "token_expired",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            TokenError::Malformed => "The bearer token is not a well-formed JWT",
            TokenError::Algorithm => "The bearer token's algorithm is not allowed (HS256 only)",
            TokenError::Signature => "The bearer token's signature is invalid",
            TokenError::Expired => "The bearer token has expired",
        }
    }
}

pub fn sign<T: Serialize>(claims: &T, key: &[u8]) -> String {
    // HS256 over serde_json output cannot fail for these plain structs; an empty string would be
    // refused by every verifier, so there is no unsafe fallback.
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap_or_default()
}

pub fn verify<T: DeserializeOwned>(token: &str, key: &[u8]) -> Result<T, TokenError> {
    // Read `alg` ourselves first: jsonwebtoken cannot even parse `"alg":"none"`, and we want
    // that case reported as an algorithm refusal, not as garbage.
    let header_b64 = token.split('.').next().unwrap_or("");
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header_b64.trim_end_matches('='))
        .map_err(|_| TokenError::Malformed)?;
    let header: serde_json::Value =
        serde_json::from_slice(&header).map_err(|_| TokenError::Malformed)?;
    match header.get("alg").and_then(|a| a.as_str()) {
        Some("HS256") => {}
        Some(_) => return Err(TokenError::Algorithm),
        None => return Err(TokenError::Malformed),
    }
    if token.split('.').count() != 3 {
        return Err(TokenError::Malformed);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<T>(token, &DecodingKey::from_secret(key), &validation)
        .map(|data| data.claims)
        .map_err(|err| match err.kind() {
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidAlgorithm | ErrorKind::UnsupportedAlgorithm => TokenError::Algorithm,
            _ => TokenError::Malformed,
        })
}

/// A fresh `jti`.
pub fn new_jti() -> String {
    random_hex(12)
}

/// Mints a gateway token (~1 hour) for `workspace_id` at connection generation `gen`.
pub fn gateway_token(workspace_id: &str, gen: u64, ttl_secs: u64, key: &[u8]) -> String {
    let iat = now_secs();
    sign(
        &GatewayClaims {
            iat,
            exp: iat + ttl_secs,
            workspace_id: workspace_id.to_string(),
            gen,
            jti: new_jti(),
            iss: ISSUER.to_string(),
            typ: TYP_GATEWAY.to_string(),
        },
        key,
    )
}
