//! Token decoding with the browser's `JSON.parse` (keeps serde_json out of the wasm), and
//! `TokenInfo` objects for JS.

use crate::core::error::{codes, ClientError};
use crate::core::policy;
use crate::core::token::{self, Claims, HeldToken, RawClaims};
use js_sys::{Date, Object, Reflect, JSON};
use wasm_bindgen::prelude::*;

fn claims_of(token: &str) -> Result<RawClaims, ClientError> {
    let bytes = token::payload_bytes(token)?;
    let invalid = |m: &str| ClientError::new(codes::INVALID_TOKEN, m);
    let text = String::from_utf8(bytes).map_err(|_| invalid("The token's payload is not UTF-8"))?;
    let value = JSON::parse(&text).map_err(|_| invalid("The token's payload is not JSON"))?;
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(invalid("The token's payload is not a JSON object"));
    }
    // Read the few claims by hand: serde here would pull float formatting into the wasm (~20 KB).
    let wrong = || invalid("The token's claims have the wrong types");
    let number = |key: &str| -> Result<Option<f64>, ClientError> {
        let v = Reflect::get(&value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            v.as_f64().map(Some).ok_or_else(wrong)
        }
    };
    let text = |key: &str| -> Result<Option<String>, ClientError> {
        let v = Reflect::get(&value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            v.as_string().map(Some).ok_or_else(wrong)
        }
    };
    Ok(RawClaims {
        exp: number("exp")?,
        iat: number("iat")?,
        scope: text("scope")?,
        namespace: text("namespace")?,
        workspace_id: text("workspaceId")?,
        label: text("label")?,
    })
}

/// A scoped session token (namespace or workspace scope).
pub fn decode_session(token: &str) -> Result<Claims, ClientError> {
    token::session_claims(claims_of(token)?)
}

/// A gateway token (only `exp` is required).
pub fn decode_gateway(token: &str) -> Result<Claims, ClientError> {
    token::gateway_claims(claims_of(token)?)
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `{ scope, namespace?, workspaceId?, label?, issuedAt?, expiresAt, expiresIn, lifetimeSeconds,
/// refreshAt }`; `margin_secs` is the configured refresh margin (default when `None`).
pub fn token_info(held: &HeldToken, now_ms: f64, margin_secs: Option<f64>) -> JsValue {
    let info = Object::new();
    let claims = &held.claims;
    set(&info, "scope", &JsValue::from_str(claims.scope.as_str()));
    if let Some(ns) = &claims.namespace {
        set(&info, "namespace", &JsValue::from_str(ns));
    }
    if let Some(ws) = &claims.workspace_id {
        set(&info, "workspaceId", &JsValue::from_str(ws));
    }
    if let Some(label) = &claims.label {
        set(&info, "label", &JsValue::from_str(label));
    }
    if let Some(iat) = claims.iat {
        set(
            &info,
            "issuedAt",
            &Date::new(&JsValue::from_f64(iat * 1000.0)),
        );
    }
    set(
        &info,
        "expiresAt",
        &Date::new(&JsValue::from_f64(held.expires_at_ms())),
    );
    set(
        &info,
        "expiresIn",
        &JsValue::from_f64(held.expires_in_secs(now_ms)),
    );
    let lifetime = held.lifetime_ms();
    set(
        &info,
        "lifetimeSeconds",
        &JsValue::from_f64((lifetime / 1000.0).floor()),
    );
    let refresh_at = held.deadline_ms - policy::margin_ms(lifetime, margin_secs);
    set(
        &info,
        "refreshAt",
        &Date::new(&JsValue::from_f64(refresh_at)),
    );
    info.into()
}
