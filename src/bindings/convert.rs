//! Every conversion between JS values and Rust in one place: reading option objects (each error
//! names the call, the option and the rule broken), `TokenInfo` objects, and result bodies.

use crate::core::endpoint::{self, Endpoint, Seen};
use crate::core::error::{codes, ClientError};
use crate::core::policy;
use crate::core::runtime::HttpRequest;
use crate::core::token::{HeldToken, TokenScope};
use crate::prelude::*;
use js_sys::{Date, Object, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

pub fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// What a wrong value is, for messages: `number`, `string`, `array`, …
fn kind(value: &JsValue) -> String {
    if js_sys::Array::is_array(value) {
        return "an array".into();
    }
    let mut kind = String::from("a ");
    kind.push_str(&value.js_typeof().as_string().unwrap_or_default());
    kind
}

pub use crate::core::endpoint::invalid;

/// An options object of a call (`undefined`/`null` count as `{}`).
pub struct Options {
    object: JsValue,
    call: &'static str,
}

impl Options {
    /// Optional options: absent, or an object.
    pub fn read(value: Option<JsValue>, call: &'static str) -> Result<Self, ClientError> {
        let object = value.unwrap_or(JsValue::UNDEFINED);
        if !absent(&object) && (!object.is_object() || js_sys::Array::is_array(&object)) {
            let mut rule = String::from("an object, not ");
            rule.push_str(&kind(&object));
            return Err(invalid(call, "options", &rule));
        }
        Ok(Options { object, call })
    }

    /// Options already checked to be an object (the constructor's, which says so its own way).
    pub fn checked(object: JsValue, call: &'static str) -> Self {
        Options { object, call }
    }

    /// Required options (`{ path, … }`): an object.
    pub fn required(value: JsValue, call: &'static str) -> Result<Self, ClientError> {
        if absent(&value) {
            return Err(invalid(call, "options", "an object"));
        }
        Self::read(Some(value), call)
    }

    pub fn get(&self, key: &str) -> JsValue {
        if absent(&self.object) {
            JsValue::UNDEFINED
        } else {
            get(&self.object, key)
        }
    }

    /// The object itself (`undefined` when absent).
    pub fn value(&self) -> &JsValue {
        &self.object
    }

    pub fn fail(&self, key: &str, rule: &str) -> ClientError {
        let mut subject = String::from("options.");
        subject.push_str(key);
        invalid(self.call, &subject, rule)
    }

    pub fn signal(&self) -> Result<Option<AbortSignal>, ClientError> {
        let value = self.get("signal");
        if absent(&value) {
            return Ok(None);
        }
        value
            .dyn_into::<AbortSignal>()
            .map(Some)
            .map_err(|_| self.fail("signal", "an AbortSignal"))
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, ClientError> {
        let value = self.get(key);
        if absent(&value) {
            return Ok(None);
        }
        value
            .as_string()
            .map(Some)
            .ok_or_else(|| self.fail(key, "a string"))
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ClientError> {
        let value = self.get(key);
        if absent(&value) {
            return Ok(None);
        }
        value
            .as_bool()
            .map(Some)
            .ok_or_else(|| self.fail(key, "a boolean"))
    }

    /// A finite number > 0.
    pub fn positive(&self, key: &str) -> Result<Option<f64>, ClientError> {
        let value = self.get(key);
        if absent(&value) {
            return Ok(None);
        }
        match value.as_f64() {
            Some(n) if n.is_finite() && n > 0.0 => Ok(Some(n)),
            _ => Err(self.fail(key, "a positive number")),
        }
    }
}

/// A workspace id argument.
pub fn workspace_id(value: &JsValue, call: &str) -> Result<String, ClientError> {
    value
        .as_string()
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or_else(|| invalid(call, "id", "a workspace id string"))
}

/// A JSON text the core already validated, as a JS value.
pub fn parse_json(text: &str) -> Result<JsValue, ClientError> {
    JSON::parse(text).map_err(|_| ClientError::new(codes::SERVER_ERROR, "The response is not JSON"))
}

/// `value` as JSON text (a request body built from the caller's object).
pub fn stringify(value: &JsValue, call: &str) -> Result<String, ClientError> {
    JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| invalid(call, "params", "JSON-serialisable"))
}

/// A JSON object text from `(key, value)` pairs (`undefined` values are left out, as
/// `JSON.stringify` does).
pub fn json_object(pairs: &[(&str, JsValue)], call: &str) -> Result<String, ClientError> {
    let body = Object::new();
    for (key, value) in pairs {
        set(&body, key, value);
    }
    stringify(&body, call)
}

fn date(ms: f64) -> JsValue {
    Date::new(&JsValue::from_f64(ms)).into()
}

/// `TokenInfo` (session) or `GatewayTokenInfo`: what a token says, never the token. `margin_secs`
/// is the configured refresh margin (`None`: the default).
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
        set(&info, "issuedAt", &date(iat * 1000.0));
    }
    set(&info, "expiresAt", &date(held.expires_at_ms()));
    set(
        &info,
        "expiresIn",
        &JsValue::from_f64(held.expires_in_secs(now_ms)),
    );
    let lifetime = held.lifetime_ms();
    set(
        &info,
        "lifetimeSeconds",
        &JsValue::from_f64(crate::core::float::floor(lifetime / 1000.0)),
    );
    let refresh_at = held.deadline_ms - policy::margin_ms(lifetime, margin_secs);
    set(&info, "refreshAt", &date(refresh_at));
    if claims.scope != TokenScope::Gateway {
        set(&info, "source", &JsValue::from_str(held.source.as_str()));
    }
    info.into()
}

/// The request of a row of the endpoint table (`core::endpoint`) from a call's options, and the
/// call's signal: the options object checked as the row says, each option read once, in order.
pub fn prepare(
    endpoint: &Endpoint,
    base: &str,
    options: Option<JsValue>,
) -> Result<(HttpRequest, Option<AbortSignal>), ClientError> {
    let options = if endpoint.required {
        Options::required(options.unwrap_or(JsValue::UNDEFINED), endpoint.call)?
    } else {
        Options::read(options, endpoint.call)?
    };
    options.request(endpoint, base)
}

impl Options {
    /// [`prepare`] with options already read (`files.stream` keeps them for the stream).
    pub fn request(
        &self,
        endpoint: &Endpoint,
        base: &str,
    ) -> Result<(HttpRequest, Option<AbortSignal>), ClientError> {
        let mut signal = None;
        let mut read = |field: &endpoint::Field| {
            let value = self.get(field.option);
            if absent(&value) {
                Seen::Absent
            } else if field.kind == endpoint::Kind::Signal {
                match value.dyn_into::<AbortSignal>() {
                    Ok(found) => {
                        signal = Some(found);
                        Seen::Absent
                    }
                    Err(_) => Seen::Other,
                }
            } else if let Some(b) = value.as_bool() {
                Seen::Bool(b)
            } else if let Some(n) = value.as_f64() {
                Seen::Number(n)
            } else if let Some(s) = value.as_string() {
                Seen::Text(s)
            } else {
                Seen::Other
            }
        };
        let request = endpoint::build(endpoint, base, &mut read)?;
        Ok((request, signal))
    }
}

/// `string | Uint8Array` as bytes (stdin for `exec.input` and an exec stream's `write`).
pub fn input_bytes(data: &JsValue, call: &str) -> Result<Vec<u8>, ClientError> {
    if let Some(text) = data.as_string() {
        return Ok(text.into_bytes());
    }
    data.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| invalid(call, "data", "a string or a Uint8Array"))
}
