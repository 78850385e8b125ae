//! `runtime.proxy(port, host?)`: the target a proxied request names, checked before any request,
//! and which 401 answers are the gateway's own (so only those re-mint the gateway token and
//! replay; a 401 of the app behind the proxy is the app's answer, returned as it is).

use super::decimal::push_u64;
use super::error::{codes, ClientError};
use super::request::envelope;
use crate::prelude::*;

/// `X-Oblien-Proxy-Target`: `"<port>"`, or `"<host>:<port>"`; the port an integer 1–65535.
pub fn target(port: Option<f64>, host: Option<&str>) -> Result<String, ClientError> {
    let port = port
        .filter(|p| super::float::is_whole(*p) && (1.0..=65535.0).contains(p))
        .ok_or_else(|| {
            ClientError::new(
                codes::INVALID_OPTIONS,
                "proxy(port): port must be an integer from 1 to 65535",
            )
        })? as u16;
    let mut target = String::new();
    if let Some(host) = host {
        if host.is_empty() || host.bytes().any(|b| b <= b' ' || b == b'/' || b == 0x7f) {
            return Err(ClientError::new(
                codes::INVALID_OPTIONS,
                "proxy(port, host): host must be a host name or address",
            ));
        }
        target.push_str(host);
        target.push(':');
    }
    push_u64(&mut target, port.into());
    Ok(target)
}

/// Codes the gateway answers a refused gateway token with.
const GATEWAY_401: [&str; 7] = [
    "token_revoked",
    "token_expired",
    "invalid_signature",
    "invalid_token",
    "invalid_token_algorithm",
    "invalid_credentials",
    "missing_credentials",
];

/// Whether a 401 body is the gateway refusing its token (not the proxied app's own 401).
pub fn is_gateway_refusal(body: &str) -> bool {
    let envelope = envelope(body);
    envelope
        .code
        .is_some_and(|code| GATEWAY_401.contains(&code.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(target(Some(3000.0), None), Ok("3000".into()));
        assert_eq!(
            target(Some(1.0), Some("127.0.0.1")),
            Ok("127.0.0.1:1".into())
        );
        assert_eq!(target(Some(65535.0), None), Ok("65535".into()));
        for bad in [
            Some(0.0),
            Some(65536.0),
            Some(3000.5),
            Some(-1.0),
            Some(f64::NAN),
            None,
        ] {
            let err = target(bad, None).err().map(|e| e.code);
            assert_eq!(err, Some("invalid_options".into()), "{bad:?}");
        }
        assert!(target(Some(80.0), Some("")).is_err());
        assert!(target(Some(80.0), Some("a b")).is_err());
    }

    #[test]
    fn refusals() {
        assert!(is_gateway_refusal(
            r#"{"success":false,"code":"token_revoked","message":"rotated"}"#
        ));
        assert!(!is_gateway_refusal(r#"{"error":"login required"}"#));
        assert!(!is_gateway_refusal("Unauthorized"));
    }
}
