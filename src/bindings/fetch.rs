//! The transport over `fetch`: bearer header only, CORS mode, no cookies, a deadline, the caller's
//! signal and the client's dispose signal. JSON calls read the body as text for the core; raw
//! calls hand back the `Response` once its headers are in.

use crate::core::error::codes;
use crate::core::request::{envelope, Answer, HttpResponse};
use crate::core::runtime::{Body, HttpRequest};
use crate::prelude::*;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Response};

/// The signals every attempt of one call listens to.
#[derive(Clone)]
pub struct Signals {
    pub dispose: AbortSignal,
    pub caller: Option<AbortSignal>,
    /// Per attempt, until the answer is in (JSON calls: the whole body; raw: the headers).
    pub timeout_ms: f64,
}

/// A request body as `fetch` takes it, and its `Content-Type`.
fn body_of(request: &HttpRequest) -> (JsValue, Option<&'static str>) {
    match &request.body {
        Some(Body::Json(text)) => (JsValue::from_str(text), Some("application/json")),
        Some(Body::Bytes(bytes)) => (
            Uint8Array::from(bytes.as_slice()).into(),
            Some("application/octet-stream"),
        ),
        None => (JsValue::UNDEFINED, None),
    }
}

/// What a raw call sends, once per attempt (js/fetch.js `raw`): a template cloned (any body; a
/// clone tees the body, which costs Chromium a millisecond or more), or a request built anew
/// from a URL, a method and a body that can be sent again.
pub struct Outgoing {
    pub(crate) input: JsValue,
    pub(crate) method: &'static str,
    pub(crate) body: JsValue,
    pub(crate) content_type: Option<&'static str>,
}

impl Outgoing {
    /// A `Request` made by js/fetch.js `template`.
    pub fn template(request: JsValue) -> Self {
        Outgoing {
            input: request,
            method: "",
            body: JsValue::UNDEFINED,
            content_type: None,
        }
    }

    /// `request` built anew per attempt.
    pub fn built(request: &HttpRequest) -> Self {
        let (body, content_type) = body_of(request);
        Outgoing::with(request.method, &request.url, body, content_type)
    }

    /// `method url` with `body` (any body `fetch` takes that can be sent again) of `content_type`.
    pub fn with(
        method: &'static str,
        url: &str,
        body: JsValue,
        content_type: Option<&'static str>,
    ) -> Self {
        Outgoing {
            input: JsValue::from_str(url),
            method,
            body,
            content_type,
        }
    }
}

#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// What one attempt of a JSON call answered (js/fetch.js).
    pub type Reply;
    #[wasm_bindgen(method, getter)]
    pub fn status(this: &Reply) -> u16;
    #[wasm_bindgen(method, getter, js_name = retryAfter)]
    fn retry_after(this: &Reply) -> Option<String>;
    #[wasm_bindgen(method, getter, js_name = requestId)]
    fn request_id(this: &Reply) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    pub fn text(this: &Reply) -> String;
    /// The browser's `JSON.parse` of the body succeeded (asked for with `parse`).
    #[wasm_bindgen(method, getter)]
    pub fn parsed(this: &Reply) -> bool;
    #[wasm_bindgen(method, getter)]
    pub fn value(this: &Reply) -> JsValue;
    /// The body's top-level `success`, when it is a boolean.
    #[wasm_bindgen(method, getter)]
    pub fn success(this: &Reply) -> Option<bool>;

    /// A raw answer's `Response` (js/fetch.js `reply`).
    #[wasm_bindgen(method, getter)]
    pub fn response(this: &Reply) -> Response;

    /// A raw call's template: `new Request(url, init)`, with the proxy's target header; throws
    /// when `init` is not valid (js/fetch.js).
    #[wasm_bindgen(catch)]
    pub fn template(url: &str, init: &JsValue, proxy: Option<&str>) -> Result<JsValue, JsValue>;

    /// `transfer`'s `onProgress`, when given, with `{ phase, loadedBytes, totalBytes?,
    /// percent? }`.
    pub fn progress(callback: &JsValue, phase: &str, loaded: f64, total: Option<f64>);
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

/// An attempt's answer, JSON or raw: one type, so the core's retry loop is one instance in the
/// wasm. The flag: a proxied app's own 401 (not the gateway's), which no token refresh fixes.
pub struct RawResponse(pub Reply, pub bool);

impl Answer for RawResponse {
    fn status(&self) -> u16 {
        match self.0.status() {
            401 if self.1 => 200,
            status => status,
        }
    }

    fn retry_after(&self) -> Option<String> {
        self.0.retry_after()
    }

    fn not_running(&self) -> bool {
        // Only a 503's body is read into the wasm (a raw call's text is empty then: never).
        self.0.status() == 503
            && envelope(&self.0.text()).code.as_deref() == Some(codes::WORKSPACE_NOT_RUNNING)
    }
}
