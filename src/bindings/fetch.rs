//! The transport over `fetch`: bearer header only, CORS mode, no cookies, a deadline, the caller's
//! signal and the client's dispose signal. JSON calls read the body as text for the core; raw
//! calls hand back the `Response` once its headers are in.

use super::abort::{any, Deadline};
use super::platform::timer_delay;
use crate::core::error::codes;
use crate::core::request::{envelope, Answer, HttpResponse};
use crate::core::runtime::{Body, HttpRequest, LocalFuture, TransportError};
use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, Headers, Request, RequestCredentials, RequestInit, RequestMode, Response,
};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = fetch)]
    fn fetch_with_request(input: &Request) -> Promise;
}

/// The signals every attempt of one call listens to.
#[derive(Clone)]
pub struct Signals {
    pub dispose: AbortSignal,
    pub caller: Option<AbortSignal>,
    /// Per attempt, until the answer is in (JSON calls: the whole body; raw: the headers).
    pub timeout_ms: f64,
}

impl Signals {
    /// What ended an attempt that failed with `_error`.
    fn classify(&self, deadline: &Deadline) -> TransportError {
        if self.dispose.aborted() {
            TransportError::Disposed
        } else if self.caller.as_ref().is_some_and(AbortSignal::aborted) {
            TransportError::Aborted
        } else if deadline.passed() {
            TransportError::Timeout
        } else {
            TransportError::Network
        }
    }

    fn combined(&self, deadline: &Deadline) -> AbortSignal {
        let timeout = deadline.signal();
        match &self.caller {
            Some(caller) => any(&[&self.dispose, caller, &timeout]),
            None => any(&[&self.dispose, &timeout]),
        }
    }
}

fn authorization(bearer: &str) -> String {
    let mut value = String::from("Bearer ");
    value.push_str(bearer);
    value
}

fn build(request: &HttpRequest, bearer: &str, signal: &AbortSignal) -> Result<Request, JsValue> {
    let headers = Headers::new()?;
    headers.set("Authorization", &authorization(bearer))?;
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_mode(RequestMode::Cors);
    init.set_credentials(RequestCredentials::Omit);
    init.set_signal(Some(signal));
    match &request.body {
        Some(Body::Json(text)) => {
            headers.set("Content-Type", "application/json")?;
            init.set_body(&JsValue::from_str(text));
        }
        Some(Body::Bytes(bytes)) => {
            headers.set("Content-Type", "application/octet-stream")?;
            init.set_body(&Uint8Array::from(bytes.as_slice()));
        }
        None => {}
    }
    init.set_headers(&headers);
    Request::new_with_str_and_init(&request.url, &init)
}

/// What a raw call sends, once per attempt: a request built anew (a text or bytes body), or a
/// template cloned (any body; a clone tees the body, which costs Chromium a millisecond or more).
pub enum Outgoing {
    Built(HttpRequest),
    Template(Request),
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// What one attempt of a JSON call answered (js/fetch.js).
    pub type Reply;
    #[wasm_bindgen(method, getter)]
    fn status(this: &Reply) -> u16;
    #[wasm_bindgen(method, getter, js_name = retryAfter)]
    fn retry_after(this: &Reply) -> Option<String>;
    #[wasm_bindgen(method, getter, js_name = requestId)]
    fn request_id(this: &Reply) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn text(this: &Reply) -> String;
    /// The browser's `JSON.parse` of the body succeeded (asked for with `parse`).
    #[wasm_bindgen(method, getter)]
    pub fn parsed(this: &Reply) -> bool;
    #[wasm_bindgen(method, getter)]
    pub fn value(this: &Reply) -> JsValue;
    /// The body's top-level `success`, when it is a boolean.
    #[wasm_bindgen(method, getter)]
    pub fn success(this: &Reply) -> Option<bool>;

    /// One attempt: resolves with a [`Reply`], rejects with a number (js/fetch.js).
    #[wasm_bindgen(js_name = send)]
    #[allow(clippy::too_many_arguments)]
    fn send_attempt(
        method: &str,
        url: &str,
        bearer: &str,
        body: &JsValue,
        content_type: Option<&str>,
        dispose: &AbortSignal,
        caller: Option<AbortSignal>,
        ms: u32,
        parse: bool,
    ) -> Promise;
}

impl Reply {
    /// The answer as the core reads it (the body copied into the wasm).
    pub fn into_response(self) -> HttpResponse {
        HttpResponse {
            status: self.status(),
            retry_after: self.retry_after(),
            request_id: self.request_id(),
            text: self.text(),
        }
    }
}

impl Answer for Reply {
    fn status(&self) -> u16 {
        Reply::status(self)
    }

    fn retry_after(&self) -> Option<String> {
        Reply::retry_after(self)
    }

    fn not_running(&self) -> bool {
        // Only a 503's body is read into the wasm.
        Reply::status(self) == 503
            && envelope(&self.text()).code.as_deref() == Some(codes::WORKSPACE_NOT_RUNNING)
    }
}

/// One attempt of a JSON call: the whole body within the deadline, parsed by the browser when
/// `parse` (the caller then takes the value without copying the body into the wasm).
pub fn send_json(
    request: &HttpRequest,
    bearer: &str,
    signals: &Signals,
    parse: bool,
) -> LocalFuture<Result<Reply, TransportError>> {
    let (body, content_type) = match &request.body {
        Some(Body::Json(text)) => (JsValue::from_str(text), Some("application/json")),
        Some(Body::Bytes(bytes)) => (
            Uint8Array::from(bytes.as_slice()).into(),
            Some("application/octet-stream"),
        ),
        None => (JsValue::UNDEFINED, None),
    };
    let sent = send_attempt(
        request.method,
        &request.url,
        bearer,
        &body,
        content_type,
        &signals.dispose,
        signals.caller.clone(),
        timer_delay(signals.timeout_ms),
        parse,
    );
    Box::pin(async move {
        match JsFuture::from(sent).await {
            Ok(reply) => Ok(reply.unchecked_into()),
            Err(why) => Err(match why.as_f64() {
                Some(1.0) => TransportError::Disposed,
                Some(2.0) => TransportError::Aborted,
                Some(3.0) => TransportError::Timeout,
                _ => TransportError::Network,
            }),
        }
    })
}

/// A `Response` as the retry rules see it; `.1`: a 401 in it is not the gateway's own (the app
/// behind `/proxy` answered it), so it is not retried.
pub struct RawResponse(pub Response, pub bool);

impl Answer for RawResponse {
    fn status(&self) -> u16 {
        match self.0.status() {
            401 if self.1 => 200,
            status => status,
        }
    }

    fn retry_after(&self) -> Option<String> {
        header(&self.0, "retry-after")
    }
}

/// A template's clone with the bearer and the attempt's signal.
fn resend(copy: &Request, bearer: &str, signal: &AbortSignal) -> Result<Request, JsValue> {
    let init = RequestInit::new();
    init.set_signal(Some(signal));
    let request = Request::new_with_request_and_init(copy, &init)?;
    request
        .headers()
        .set("Authorization", &authorization(bearer))?;
    Ok(request)
}

/// One attempt of a raw call: `outgoing` (built or cloned, so it can be sent again) with the
/// bearer, the `Response` back once its headers are in. Its body stays tied to the caller's and
/// the client's signals, not to the deadline.
pub fn send_raw(
    outgoing: &Outgoing,
    bearer: &str,
    signals: &Signals,
) -> LocalFuture<Result<RawResponse, TransportError>> {
    let (built, copy) = match outgoing {
        Outgoing::Built(request) => (Some(request.clone()), None),
        Outgoing::Template(template) => (None, Some(template.clone())),
    };
    let bearer = bearer.to_string();
    let signals = signals.clone();
    Box::pin(async move {
        let deadline = Deadline::new(signals.timeout_ms).map_err(|_| TransportError::Network)?;
        let signal = signals.combined(&deadline);
        let request = match (built, copy) {
            (Some(built), _) => build(&built, &bearer, &signal),
            (_, Some(Ok(copy))) => resend(&copy, &bearer, &signal),
            _ => Err(JsValue::NULL),
        }
        .map_err(|_| TransportError::Network)?;
        let response = JsFuture::from(fetch_with_request(&request))
            .await
            .map_err(|_| signals.classify(&deadline))?;
        Ok(RawResponse(response.unchecked_into(), false))
    })
}
