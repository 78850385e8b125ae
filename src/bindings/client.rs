//! `OblienUserClient`: the JS class on top of the shared [`Session`]: reads the options, exposes
//! the token's info, `setToken`, `workspaces` and `dispose`.

use super::convert::{get, invalid, token_info, Options};
use super::error::to_js;
use super::mint;
use super::session::{Config, Session};
use super::views;
use super::workspaces::{self, Workspaces};
use crate::core::error::{codes, ClientError};
use crate::prelude::*;
use alloc::rc::Rc;
use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;

pub const DEFAULT_BASE_URL: &str = "https://api.oblien.com";
pub const DEFAULT_GATEWAY_URL: &str = "https://workspace.oblien.com";
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;
const CALL: &str = "new OblienUserClient(options)";

/// An API key's name, in any ASCII case (compared in place: no lowered copy).
fn is_secret_key(key: &str) -> bool {
    let key = key.as_bytes();
    [
        "clientid",
        "clientsecret",
        "client_id",
        "client_secret",
        "apisecret",
    ]
    .iter()
    .any(|name| key.eq_ignore_ascii_case(name.as_bytes()))
        || key
            .get(..9)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"x-client-"))
}

/// An API key anywhere in the options (top level or a `headers` object) is refused outright.
fn refuse_secrets(options: &JsValue) -> Result<(), ClientError> {
    let headers = get(options, "headers");
    for source in [options, &headers] {
        if !source.is_object() {
            continue;
        }
        for key in Object::keys(source.unchecked_ref::<Object>()).iter() {
            if key.as_string().is_some_and(|k| is_secret_key(&k)) {
                return Err(ClientError::new(
                    codes::SECRET_NOT_ALLOWED,
                    "API keys (clientId / clientSecret / X-Client-*) must never reach the browser: mint a scoped token on your backend with POST /tokens",
                ));
            }
        }
    }
    Ok(())
}

fn function(options: &Options, key: &str) -> Result<Option<Function>, ClientError> {
    let value = options.get(key);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .dyn_into::<Function>()
        .map(Some)
        .map_err(|_| options.fail(key, "a function"))
}

fn url(options: &Options, key: &str, default: &str) -> Result<String, ClientError> {
    match options.string(key) {
        Ok(None) => Ok(default.to_string()),
        Ok(Some(url))
            if (url.starts_with("https://") || url.starts_with("http://")) && url.len() > 8 =>
        {
            Ok(url.trim_end_matches('/').to_string())
        }
        _ => Err(options.fail(key, "an http(s) URL string")),
    }
}

fn config(value: JsValue) -> Result<Config, ClientError> {
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err(invalid(CALL, "options", "an object with a `token`"));
    }
    refuse_secrets(&value)?;
    let options = Options::checked(value, CALL);
    let token = options.get("token").as_string().ok_or_else(|| {
        ClientError::new(
            codes::INVALID_TOKEN,
            "options.token must be the scoped JWT string minted by your backend",
        )
    })?;
    let margin = options.get("refreshMarginSeconds");
    let refresh_margin_secs = match margin.as_f64() {
        _ if margin.is_undefined() || margin.is_null() => None,
        Some(n) if n.is_finite() && n >= 0.0 => Some(n),
        _ => return Err(options.fail("refreshMarginSeconds", "a number of seconds ≥ 0")),
    };
    let cross_tab = match options.get("crossTab") {
        v if v.is_undefined() || v.is_null() || v.as_bool() == Some(false) => None,
        v if v.as_bool() == Some(true) => Some(String::from("default")),
        v if v.is_object() => {
            let group = Options::required(v, CALL)
                .and_then(|o| o.string("name"))
                .map_err(|_| options.fail("crossTab", "a boolean or { name?: string }"))?;
            Some(group.unwrap_or_else(|| String::from("default")))
        }
        _ => return Err(options.fail("crossTab", "a boolean or { name?: string }")),
    };
    Ok(Config {
        cross_tab,
        token,
        base_url: url(&options, "baseUrl", DEFAULT_BASE_URL)?,
        gateway_url: url(&options, "gatewayUrl", DEFAULT_GATEWAY_URL)?,
        refresh: function(&options, "refresh")?,
        refresh_margin_secs,
        timeout_ms: options.positive("timeoutMs")?.unwrap_or(DEFAULT_TIMEOUT_MS),
        on_token_change: function(&options, "onTokenChange")?,
        on_refresh_error: function(&options, "onRefreshError")?,
    })
}

/// A browser client acting for one end-user with a short-lived scoped token.
///
/// The token is the only credential it holds: API keys are refused. It keeps the session alive
/// through the `refresh` callback, and never stores, logs or puts the token in a URL.
#[wasm_bindgen]
pub struct OblienUserClient {
    session: Rc<Session>,
}

#[wasm_bindgen]
impl OblienUserClient {
    /// Creates a client from a scoped JWT minted by your backend (`POST /tokens`).
    ///
    /// @throws {OblienError} `secret_not_allowed`, `invalid_token`, `token_expired`, `invalid_options`
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "OblienUserClientOptions")] options: JsValue,
    ) -> Result<OblienUserClient, JsValue> {
        let session = config(options)
            .and_then(|c| Session::new(c, mint::session_minter))
            .map_err(to_js)?;
        Ok(OblienUserClient { session })
    }

    /// What the current token says (never the token itself).
    ///
    /// @throws {OblienError} `disposed`
    #[wasm_bindgen(getter = tokenInfo, unchecked_return_type = "TokenInfo")]
    pub fn token_info(&self) -> Result<JsValue, JsValue> {
        match self.session.cell.token() {
            Some(held) if !self.session.is_disposed() => Ok(token_info(
                &held,
                self.session.now_ms(),
                self.session.margin_secs,
            )),
            _ => Err(to_js(ClientError::disposed())),
        }
    }

    /// Swaps in a new scoped token: later calls use it, calls in flight finish with theirs,
    /// gateway tokens of another identity are dropped, the refresh timer is re-armed and
    /// `onTokenChange` fires.
    ///
    /// @throws {OblienError} `invalid_token`, `token_expired`, `disposed`
    #[wasm_bindgen(js_name = setToken, unchecked_return_type = "TokenInfo")]
    pub fn set_token(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
    ) -> Result<JsValue, JsValue> {
        let secret = token.as_string().ok_or_else(|| {
            to_js(ClientError::new(
                codes::INVALID_TOKEN,
                "setToken(token): token must be a JWT string",
            ))
        })?;
        let held = self.session.set_token(secret).map_err(to_js)?;
        Ok(token_info(
            &held,
            self.session.now_ms(),
            self.session.margin_secs,
        ))
    }

    /// `"active"` when this client shares refreshes with the other tabs of its identity,
    /// `"unsupported"` when `crossTab` was asked for but the browser lacks Web Locks or
    /// BroadcastChannel (the client then works alone), `"off"` otherwise.
    #[wasm_bindgen(getter = crossTab, unchecked_return_type = "\"off\" | \"active\" | \"unsupported\"")]
    pub fn cross_tab(&self) -> String {
        self.session.cross_tab_mode.as_str().to_string()
    }

    /// Workspaces in the token's namespace.
    #[wasm_bindgen(getter = workspaces, unchecked_return_type = "Workspaces")]
    pub fn workspaces_view(&self) -> JsValue {
        views::view(0, self.session.clone(), workspaces::run)
    }

    /// Stops everything: timers cleared, listeners removed, calls and streams in flight rejected
    /// with `disposed`, and the refresh callback never called again. Handles taken from this
    /// client (`workspaces`, runtimes) end with it.
    pub fn dispose(&self) {
        self.session.dispose();
    }

    /// Disposes the client (as `dispose()`) and releases its memory; `[Symbol.dispose]` too. A
    /// client the garbage collector reclaims is not disposed while its handles live on.
    pub fn free(self) {
        self.session.dispose();
    }

    /// `JSON.stringify(client)` shows the token's claims, never the token.
    #[wasm_bindgen(js_name = toJSON, unchecked_return_type = "TokenInfo | null")]
    pub fn to_json(&self) -> JsValue {
        self.token_info().unwrap_or(JsValue::NULL)
    }
}

impl OblienUserClient {
    /// `client.workspaces` on the Rust side (`tests/bindings.rs`).
    pub fn workspaces(&self) -> Workspaces {
        Workspaces::new(self.session.clone())
    }
}
