//! `token_decode`: `base64url::decode`, `token::payload_bytes`, then the claims checks
//! (`session_claims`, `gateway_claims`) and the local deadline of a held token.
//!
//! The input is tried twice: as the token itself, and base64url-encoded as the payload of an
//! otherwise valid JWT, so the fuzzer reaches the JSON and claims checks with arbitrary bytes.

use oblien_user_client::core::base64url;
use oblien_user_client::core::error::{codes, ClientError};
use oblien_user_client::core::token::{self, Arrival, Claims, HeldToken, RawClaims, TokenScope};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// `{"typ":"JWT","alg":"HS256"}` and a signature, as the emulator mints them.
const HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";
const SIGNATURE: &str = "khyTql0r1SYTC58f38gXi1VJ2n1742jOg2UTjbWeJXg";
/// The longest token `payload_bytes` accepts.
const MAX_TOKEN_LEN: usize = 16 * 1024;

pub fn run(data: &[u8]) {
    let text = super::text(data);
    base64url_decode(&text);
    base64url_round_trip(data);
    decode_token(&text);
    decode_token(&format!("{HEADER}.{}.{SIGNATURE}", encode(data)));
}

/// Unpadded base64url, written independently of the core's decoder.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Accepted exactly when every character (after trailing `=`) is in the alphabet and the length
/// is possible; what it returns re-encodes to the input, up to the unused low bits of the last
/// character.
fn base64url_decode(text: &str) {
    let trimmed = text.trim_end_matches('=');
    let valid = trimmed.len() % 4 != 1 && trimmed.bytes().all(|b| ALPHABET.contains(&b));
    let decoded = base64url::decode(text);
    assert_eq!(decoded.is_some(), valid, "base64url::decode({text:?})");
    let Some(decoded) = decoded else { return };
    assert_eq!(decoded.len(), trimmed.len() * 3 / 4, "{text:?}");
    let again = encode(&decoded);
    assert_eq!(again.len(), trimmed.len(), "{text:?}");
    let exact = trimmed.len() % 4 == 0;
    let same = if exact {
        trimmed.len()
    } else {
        trimmed.len() - 1
    };
    assert_eq!(again[..same], trimmed[..same], "{text:?}");
    assert_eq!(base64url::decode(&again), Some(decoded), "{text:?}");
}

fn base64url_round_trip(data: &[u8]) {
    assert_eq!(base64url::decode(&encode(data)).as_deref(), Some(data));
    assert_eq!(
        base64url::decode(&format!("{}==", encode(data))).as_deref(),
        Some(data)
    );
}

/// The decoding path the browser runs too (`payload_bytes` → `read_claims` → the claims checks),
/// with serde_json as an independent oracle for the claims it reads.
fn decode_token(token: &str) {
    // No error message may echo the token: no segment long enough to be recognisable as one
    // (only base64url characters; the messages hold no run of 16 of those).
    let segments: Vec<&str> = token
        .split('.')
        .filter(|s| s.len() >= 16 && s.bytes().all(|b| ALPHABET.contains(&b)))
        .collect();
    let check_error = |error: &ClientError| {
        assert_eq!(error.code, codes::INVALID_TOKEN, "{error:?}");
        assert!(error.status.is_none() && error.retry_after.is_none());
        assert!(!error.message.is_empty());
        for segment in &segments {
            assert!(
                !error.message.contains(segment),
                "{error:?} echoes the token"
            );
        }
    };
    let bytes = match token::payload_bytes(token) {
        Ok(bytes) => bytes,
        Err(error) => return check_error(&error),
    };
    assert!(token.len() <= MAX_TOKEN_LEN);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token:?}");
    assert!(!parts[0].is_empty() && !parts[2].is_empty(), "{token:?}");
    assert!(base64url::decode(parts[0]).is_some() && base64url::decode(parts[2]).is_some());
    assert_eq!(base64url::decode(parts[1]).as_deref(), Some(&bytes[..]));

    let raw = match token::read_claims(&bytes) {
        Ok(raw) => raw,
        Err(error) => return check_error(&error),
    };
    check_against_oracle(&raw, &bytes);
    let session = token::session_claims(raw.clone());
    let gateway = token::gateway_claims(raw.clone());
    match &session {
        Ok(claims) => {
            check_claims(claims, &raw);
            assert!(gateway.is_ok(), "a session token that is no gateway token");
        }
        Err(error) => check_error(error),
    }
    match &gateway {
        Ok(claims) => {
            check_claims(claims, &raw);
            assert_eq!(claims.scope, TokenScope::Gateway);
        }
        Err(error) => check_error(error),
    }
}

/// What serde_json reads of the same payload must be what the core read (duplicates aside: the
/// core refused those, and a lone surrogate: serde_json refuses that).
fn check_against_oracle(raw: &RawClaims, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let map = match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(other) => panic!("the core read claims from {other:?}: {text:?}"),
        Err(error) => {
            assert!(
                super::json::oracle_gap(&text, &error),
                "the core read claims from a payload serde_json refuses: {text:?}"
            );
            return;
        }
    };
    let number = |key: &str| map.get(key).and_then(serde_json::Value::as_f64);
    let string = |key: &str| map.get(key).and_then(|v| v.as_str().map(str::to_string));
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => a == b || ((a - b) / b).abs() < 1e-12,
        (a, b) => a == b,
    };
    assert!(close(raw.exp, number("exp")), "exp of {text:?}");
    assert!(close(raw.iat, number("iat")), "iat of {text:?}");
    assert_eq!(raw.scope, string("scope"), "{text:?}");
    assert_eq!(raw.namespace, string("namespace"), "{text:?}");
    assert_eq!(raw.workspace_id, string("workspaceId"), "{text:?}");
    assert_eq!(raw.label, string("label"), "{text:?}");
}

fn check_claims(claims: &Claims, raw: &RawClaims) {
    assert!(claims.exp.is_finite() && claims.exp > 0.0, "{claims:?}");
    assert_eq!(Some(claims.exp), raw.exp);
    if let Some(iat) = claims.iat {
        assert!(iat.is_finite() && claims.exp > iat, "{claims:?}");
        let lifetime = claims.lifetime_ms().unwrap_or(f64::NAN);
        assert!(lifetime > 0.0, "{claims:?}: lifetime {lifetime}");
    }
    match claims.scope {
        TokenScope::Namespace => assert!(claims.namespace.is_some()),
        TokenScope::Workspace => assert!(claims.workspace_id.is_some()),
        TokenScope::Gateway => assert!(claims.namespace.is_none() && claims.label.is_none()),
    }
    assert!(claims.same_identity(claims));
    // Whatever the device clock, the local deadline is a number at or after receipt.
    let nows = [
        0.0,
        -1.0e12,
        super::DEFAULT_NOW_MS,
        claims.exp * 1000.0,
        1.0e300,
    ];
    for now in nows.into_iter().filter(|now| now.is_finite()) {
        let at = Arrival {
            wall_ms: now,
            mono_ms: 0.0,
        };
        let held = HeldToken::new(String::new(), claims.clone(), at);
        assert_eq!(held.received_ms, now);
        assert!(held.deadline_ms >= now, "{claims:?} at {now}: {held:?}");
        assert!(held.lifetime_ms() >= 0.0, "{claims:?} at {now}: {held:?}");
        let left = held.expires_in_secs(now);
        assert!(
            left >= 0.0 && left == left.floor(),
            "{claims:?} at {now}: {left}"
        );
        assert_eq!(held.is_expired(now), held.lifetime_ms() == 0.0);
        // A token with `iat` is admitted whatever the device clock says.
        let admitted = token::admit(claims, None, at);
        if claims.iat.is_some() {
            assert_eq!(admitted, Ok(()), "{claims:?} at {now}");
        }
        assert_eq!(
            token::admit(claims, Some(&held), at),
            admitted,
            "{claims:?}"
        );
    }
}
