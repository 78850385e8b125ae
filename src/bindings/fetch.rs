//! The transport over `fetch`: bearer header only, CORS mode, no cookies, a deadline, the caller's
//! signal and the client's dispose signal. JSON calls read the body as text for the core; raw
//! calls hand back the `Response` once its headers are in.

use super::abort::{any, Deadline};
use crate::core::request::{Answer, HttpResponse};
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

/// One attempt of a JSON call: the whole body as text, within the deadline.
pub fn send_text(
    request: &HttpRequest,
    bearer: &str,
    signals: &Signals,
) -> LocalFuture<Result<HttpResponse, TransportError>> {
    let request = request.clone();
    let bearer = bearer.to_string();
    let signals = signals.clone();
    Box::pin(async move {
        let deadline = Deadline::new(signals.timeout_ms).map_err(|_| TransportError::Network)?;
        let signal = signals.combined(&deadline);
        let fetch = build(&request, &bearer, &signal).map_err(|_| TransportError::Network)?;
        let response: Response = JsFuture::from(fetch_with_request(&fetch))
            .await
            .map_err(|_| signals.classify(&deadline))?
            .unchecked_into();
        let text = response.text().map_err(|_| TransportError::Network)?;
        let text = JsFuture::from(text)
            .await
            .map_err(|_| signals.classify(&deadline))?
            .as_string()
            .unwrap_or_default();
        Ok(HttpResponse {
            status: response.status(),
            retry_after: header(&response, "retry-after"),
            request_id: header(&response, "x-request-id"),
            text,
        })
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
