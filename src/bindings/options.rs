//! Reading the constructor's options object: types checked, secrets refused.

use super::error::{invalid_options, to_js};
use crate::core::error::{codes, ClientError};
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

pub const DEFAULT_BASE_URL: &str = "https://api.oblien.com";
pub const DEFAULT_GATEWAY_URL: &str = "https://workspace.oblien.com";
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;

pub struct Options {
    pub token: String,
    pub base_url: String,
    pub gateway_url: String,
    pub refresh: Option<Function>,
    pub refresh_margin_secs: Option<f64>,
    pub timeout_ms: f64,
    pub on_token_change: Option<Function>,
    pub on_refresh_error: Option<Function>,
}

pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key == "clientid"
        || key == "clientsecret"
        || key == "client_id"
        || key == "client_secret"
        || key == "apisecret"
        || key.starts_with("x-client-")
}

/// An API key anywhere in the options (top level or a `headers` object) is refused outright.
fn refuse_secrets(options: &JsValue) -> Result<(), JsValue> {
    let secret = ClientError::new(
        codes::SECRET_NOT_ALLOWED,
        "API keys (clientId / clientSecret / X-Client-*) must never reach the browser: mint a scoped token on your backend with POST /tokens",
    );
    let headers = get(options, "headers");
    for source in [options, &headers] {
        if !source.is_object() {
            continue;
        }
        for key in Object::keys(source.unchecked_ref::<Object>()).iter() {
            if key.as_string().is_some_and(|k| is_secret_key(&k)) {
                return Err(to_js(secret.clone()));
            }
        }
    }
    Ok(())
}

fn optional_function(options: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    let value = get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .dyn_into::<Function>()
        .map(Some)
        .map_err(|_| invalid_options(&format!("options.{key} must be a function")))
}

fn optional_number(
    options: &JsValue,
    key: &str,
    valid: impl Fn(f64) -> bool,
    rule: &str,
) -> Result<Option<f64>, JsValue> {
    let value = get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(n) if n.is_finite() && valid(n) => Ok(Some(n)),
        _ => Err(invalid_options(&format!("options.{key} must be {rule}"))),
    }
}

fn optional_url(options: &JsValue, key: &str, default: &str) -> Result<String, JsValue> {
    let value = get(options, key);
    if value.is_undefined() || value.is_null() {
        return Ok(default.to_string());
    }
    match value.as_string() {
        Some(url)
            if (url.starts_with("https://") || url.starts_with("http://")) && url.len() > 8 =>
        {
            Ok(url.trim_end_matches('/').to_string())
        }
        _ => Err(invalid_options(&format!(
            "options.{key} must be an http(s) URL string"
        ))),
    }
}

pub fn parse(options: &JsValue) -> Result<Options, JsValue> {
    if !options.is_object() {
        return Err(invalid_options(
            "new OblienUserClient(options): options must be an object with a `token`",
        ));
    }
    refuse_secrets(options)?;
    let token = get(options, "token").as_string().ok_or_else(|| {
        to_js(ClientError::new(
            codes::INVALID_TOKEN,
            "options.token must be the scoped JWT string minted by your backend",
        ))
    })?;
    Ok(Options {
        token,
        base_url: optional_url(options, "baseUrl", DEFAULT_BASE_URL)?,
        gateway_url: optional_url(options, "gatewayUrl", DEFAULT_GATEWAY_URL)?,
        refresh: optional_function(options, "refresh")?,
        refresh_margin_secs: optional_number(
            options,
            "refreshMarginSeconds",
            |n| n >= 0.0,
            "a number of seconds ≥ 0",
        )?,
        timeout_ms: optional_number(
            options,
            "timeoutMs",
            |n| n > 0.0,
            "a number of milliseconds > 0",
        )?
        .unwrap_or(DEFAULT_TIMEOUT_MS),
        on_token_change: optional_function(options, "onTokenChange")?,
        on_refresh_error: optional_function(options, "onRefreshError")?,
    })
}

/// `{ signal? }` of a call: `undefined`/`null` or an object whose `signal` is an AbortSignal.
pub fn signal_of(options: &JsValue) -> Result<Option<AbortSignal>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if !options.is_object() {
        return Err(invalid_options("call options must be an object"));
    }
    let signal = get(options, "signal");
    if signal.is_undefined() || signal.is_null() {
        return Ok(None);
    }
    signal
        .dyn_into::<AbortSignal>()
        .map(Some)
        .map_err(|_| invalid_options("options.signal must be an AbortSignal"))
}
