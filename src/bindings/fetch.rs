//! The core's `Transport` over `fetch`: bearer header only, CORS mode, no cookies, a timeout,
//! the caller's signal and the client's dispose signal. Bodies are read as text and parsed here so
//! an HTML or empty body still yields a clear error.

use super::abort::LinkedController;
use super::runtime::{clear_timeout, set_timeout};
use crate::core::runtime::{
    Envelope, HttpRequest, HttpResponse, LocalFuture, Transport, TransportError,
};
use js_sys::{Function, Promise, Reflect, JSON};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestCredentials, RequestInit, RequestMode, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Promise;
}

/// One call's transport: the client's settings plus this call's own signal.
pub struct FetchTransport {
    pub timeout_ms: f64,
    pub dispose_signal: AbortSignal,
    pub caller_signal: Option<AbortSignal>,
}

impl Transport<JsValue> for FetchTransport {
    fn send(
        &self,
        request: &HttpRequest,
        bearer: &str,
    ) -> LocalFuture<Result<HttpResponse<JsValue>, TransportError>> {
        let timeout_ms = self.timeout_ms;
        let dispose = self.dispose_signal.clone();
        let caller = self.caller_signal.clone();
        let request = request.clone();
        let authorization = format!("Bearer {bearer}");
        Box::pin(async move {
            let mut signals = vec![&dispose];
            if let Some(caller) = &caller {
                signals.push(caller);
            }
            let link = LinkedController::new(&signals).ok_or(TransportError::Network)?;
            let timed_out = Rc::new(Cell::new(false));
            let flag = timed_out.clone();
            let controller = link.controller.clone();
            let on_timeout = Closure::once(move || {
                flag.set(true);
                controller.abort();
            });
            let timer = set_timeout(on_timeout.as_ref().unchecked_ref::<Function>(), timeout_ms);
            let classify = |_: JsValue| {
                if dispose.aborted() {
                    TransportError::Disposed
                } else if caller.as_ref().is_some_and(|c| c.aborted()) {
                    TransportError::Aborted
                } else if timed_out.get() {
                    TransportError::Timeout
                } else {
                    TransportError::Network
                }
            };
            let result = async {
                let init = build_init(&request, &authorization, &link.signal())
                    .map_err(|_| TransportError::Network)?;
                let response: Response = JsFuture::from(global_fetch(&request.url, &init))
                    .await
                    .map_err(classify)?
                    .unchecked_into();
                let text_promise = response.text().map_err(|_| TransportError::Network)?;
                let text = JsFuture::from(text_promise)
                    .await
                    .map_err(classify)?
                    .as_string()
                    .unwrap_or_default();
                Ok(read_response(&response, &text))
            }
            .await;
            clear_timeout(&timer);
            drop(on_timeout);
            result
        })
    }
}

fn build_init(
    request: &HttpRequest,
    authorization: &str,
    signal: &AbortSignal,
) -> Result<RequestInit, JsValue> {
    let headers = Headers::new()?;
    headers.set("Authorization", authorization)?;
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_signal(Some(signal));
    if let Some(body) = &request.body {
        headers.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    Ok(init)
}

fn read_response(response: &Response, text: &str) -> HttpResponse<JsValue> {
    let headers = response.headers();
    let parsed = if text.trim().is_empty() {
        None
    } else {
        JSON::parse(text).ok()
    };
    let mut envelope = Envelope {
        is_json: parsed.is_some(),
        ..Envelope::default()
    };
    if let Some(body) = parsed.as_ref().filter(|b| b.is_object()) {
        envelope.success = Reflect::get(body, &"success".into())
            .ok()
            .and_then(|v| v.as_bool());
        let code = Reflect::get(body, &"code".into())
            .ok()
            .and_then(|v| v.as_string());
        envelope.code = code.or_else(|| {
            Reflect::get(body, &"error".into())
                .ok()
                .and_then(|v| v.as_string())
        });
        envelope.message = Reflect::get(body, &"message".into())
            .ok()
            .and_then(|v| v.as_string());
    }
    HttpResponse {
        status: response.status(),
        retry_after: headers.get("retry-after").ok().flatten(),
        request_id: headers.get("x-request-id").ok().flatten(),
        envelope,
        body: parsed,
    }
}
