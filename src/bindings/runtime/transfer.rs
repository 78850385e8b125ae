//! `runtime.transfer`: folders as tar.gz. `download` reads the archive's body chunk by chunk
//! (progress from the bytes read, `Content-Length` for the total when sent) into a `Blob`;
//! `upload` sends a `Blob`/`ArrayBuffer`/`Uint8Array` with `XMLHttpRequest`, the one browser API
//! that reports upload progress (browsers cannot stream a request body over HTTP/1.1).

use super::exec_stream::DEFAULT_IDLE_MS;
use super::Target;
use crate::bindings::abort::Aborted;
use crate::bindings::body::{self, ReadEnd, StreamSignals};
use crate::bindings::convert::{get, invalid, json_object, parse_json, set, Options};
use crate::bindings::error::promise;
use crate::bindings::fetch::Signals;
use crate::bindings::platform::timer_delay;
use crate::core::api;
use crate::core::error::{codes, ClientError};
use crate::core::flight::race;
use crate::core::request::{into_result, send_authorised, HttpResponse, Retries};
use crate::core::runtime::{LocalFuture, TransportError};
use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use js_sys::{Array, ArrayBuffer, Function, Object, Promise, Uint8Array};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::Waker;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, Blob, BlobPropertyBag, XmlHttpRequest};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface TransferProgress {
  phase: "upload" | "download";
  loadedBytes: number;
  /** When the size is known (`Content-Length`, or the upload's length). */
  totalBytes?: number;
  /** 0–100, when `totalBytes` is known. */
  percent?: number;
}

export interface TransferOptions extends CallOptions {
  onProgress?: (progress: TransferProgress) => void;
  /** Until the response headers arrive (download), or longest silence while sending (upload). Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Download: longest silence of the wire while reading. Default 60000; 0: none. */
  idleTimeoutMs?: number;
}

export interface DownloadParams {
  /** Files and folders to pack; paths in the archive are relative to each. */
  paths: string[];
  excludePatterns?: string[];
}

export interface UploadParams {
  /** The folder to extract into. Default `"/"`. */
  dest?: string;
  /** A tar.gz archive. */
  body: Blob | ArrayBuffer | Uint8Array;
}

export interface UploadResult {
  success: true;
  dest: string;
  files_extracted: number;
}
"#;

/// `runtime.transfer`.
#[wasm_bindgen]
pub struct RuntimeTransfer {
    target: Rc<Target>,
}

impl RuntimeTransfer {
    pub fn new(target: Rc<Target>) -> Self {
        RuntimeTransfer { target }
    }
}

/// Calls `onProgress` (a throwing callback is the host's bug, not ours).
fn progress(callback: Option<&Function>, phase: &str, loaded: f64, total: Option<f64>) {
    let Some(callback) = callback else {
        return;
    };
    let event = Object::new();
    set(&event, "phase", &JsValue::from_str(phase));
    set(&event, "loadedBytes", &JsValue::from_f64(loaded));
    if let Some(total) = total.filter(|t| *t > 0.0) {
        set(&event, "totalBytes", &JsValue::from_f64(total));
        let percent = (loaded / total * 100.0).min(100.0);
        set(&event, "percent", &JsValue::from_f64(percent));
    }
    let _ = callback.call1(&JsValue::NULL, &event);
}

fn on_progress(options: &Options) -> Result<Option<Function>, ClientError> {
    let value = options.get("onProgress");
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .dyn_into::<Function>()
        .map(Some)
        .map_err(|_| options.fail("onProgress", "a function"))
}

async fn download(
    target: Rc<Target>,
    params: JsValue,
    options: Option<JsValue>,
) -> Result<JsValue, ClientError> {
    const CALL: &str = "transfer.download(params, options)";
    let params = Options::required(params, CALL)?;
    let paths = params.get("paths");
    let valid = paths
        .dyn_ref::<Array>()
        .is_some_and(|a| a.length() > 0 && a.iter().all(|p| p.is_string()));
    if !valid {
        return Err(params.fail("paths", "a non-empty array of strings"));
    }
    let mut pairs = vec![("paths", paths)];
    let exclude = params.get("excludePatterns");
    if !exclude.is_undefined() && !exclude.is_null() {
        if !exclude
            .dyn_ref::<Array>()
            .is_some_and(|a| a.iter().all(|p| p.is_string()))
        {
            return Err(params.fail("excludePatterns", "an array of strings"));
        }
        pairs.push(("exclude_patterns", exclude));
    }
    let body = json_object(&pairs, CALL)?;
    let options = Options::read(options, CALL)?;
    let callback = on_progress(&options)?;
    let signal = options.signal()?;
    let handshake = options
        .positive("timeoutMs")?
        .unwrap_or_else(|| target.session().timeout_ms());
    let idle = match options.get("idleTimeoutMs").as_f64() {
        Some(0.0) => 0.0,
        _ => options
            .positive("idleTimeoutMs")?
            .unwrap_or(DEFAULT_IDLE_MS),
    };
    let close = AbortController::new().map_err(|_| ClientError::disposed())?;
    let signals = StreamSignals::new(&target, signal.as_ref(), &close);
    let request = api::post(target.url("/files/transfer/download", &[]), body);
    let session = target.session().clone();
    let read = async {
        let conn = body::open(
            &target,
            &request,
            Retries::UNAUTHORIZED_ONLY,
            &signals,
            handshake,
        )
        .await?;
        let headers = conn.response.headers();
        let total = headers
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|n| n as f64);
        let kind = headers
            .get("content-type")
            .ok()
            .flatten()
            .unwrap_or_else(|| String::from("application/gzip"));
        let chunks = Array::new();
        let mut loaded = 0.0;
        loop {
            match conn.read(idle).await {
                Ok(Some(chunk)) => {
                    loaded += f64::from(chunk.length());
                    chunks.push(&chunk);
                    progress(callback.as_ref(), "download", loaded, total);
                }
                Ok(None) => break,
                Err(ReadEnd::Idle) => {
                    return Err(ClientError::new(
                        codes::TIMEOUT,
                        "transfer.download: nothing arrived within idleTimeoutMs",
                    ))
                }
                Err(ReadEnd::Failed) => {
                    return Err(ClientError::new(
                        codes::NETWORK_ERROR,
                        "transfer.download: the connection broke",
                    ))
                }
            }
        }
        let bag = BlobPropertyBag::new();
        bag.set_type(&kind);
        Blob::new_with_u8_array_sequence_and_options(&chunks, &bag)
            .map(JsValue::from)
            .map_err(|_| ClientError::new(codes::SERVER_ERROR, "The archive could not be kept"))
    };
    session.guarded(signal, read).await
}

/// Wakes the upload's future when the request ends.
#[derive(Default)]
struct Ended {
    done: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// One attempt of an upload: `POST url` with the body, as a JSON call's answer.
fn xhr_attempt(
    url: String,
    bearer: &str,
    body: JsValue,
    callback: Option<Function>,
    signals: Signals,
) -> LocalFuture<Result<HttpResponse, TransportError>> {
    let mut authorization = String::from("Bearer ");
    authorization.push_str(bearer);
    Box::pin(async move {
        let xhr = XmlHttpRequest::new().map_err(|_| TransportError::Network)?;
        let opened = xhr.open("POST", &url).is_ok()
            && xhr
                .set_request_header("Authorization", &authorization)
                .is_ok()
            && xhr
                .set_request_header("Content-Type", "application/gzip")
                .is_ok();
        if !opened {
            return Err(TransportError::Network);
        }
        let ended = Rc::new(Ended::default());
        let timed_out = Rc::new(Cell::new(false));
        // An idle deadline: `timeoutMs` without progress (sending, then waiting for the answer).
        let deadline: Rc<RefCell<Option<Timeout>>> = Rc::default();
        let arm = {
            let (ended, timed_out, deadline) = (ended.clone(), timed_out.clone(), deadline.clone());
            let ms = signals.timeout_ms;
            move || {
                let (ended, timed_out) = (ended.clone(), timed_out.clone());
                // Only flags and wakes: the request is aborted by the future, outside any callback.
                let timer = Timeout::new(timer_delay(ms), move || {
                    timed_out.set(true);
                    if let Some(waker) = ended.waker.borrow_mut().take() {
                        waker.wake();
                    }
                });
                deadline.replace(Some(timer));
            }
        };
        let wake = ended.clone();
        let _end = EventListener::new(&xhr, "loadend", move |_| {
            wake.done.set(true);
            if let Some(waker) = wake.waker.borrow_mut().take() {
                waker.wake();
            }
        });
        let upload = xhr.upload().map_err(|_| TransportError::Network)?;
        let rearm = arm.clone();
        let _progress = EventListener::new(&upload, "progress", move |event| {
            rearm();
            let total = get(event, "lengthComputable")
                .is_truthy()
                .then(|| get(event, "total").as_f64().unwrap_or(0.0));
            let loaded = get(event, "loaded").as_f64().unwrap_or(0.0);
            progress(callback.as_ref(), "upload", loaded, total);
        });
        let rearm = arm.clone();
        let _sent = EventListener::new(&upload, "load", move |_| rearm());
        arm();
        // `send(body)` with a Blob or a BufferSource, through one untyped call.
        get(&xhr, "send")
            .unchecked_into::<Function>()
            .call1(&xhr, &body)
            .map_err(|_| TransportError::Network)?;
        let finished = std::future::poll_fn(|cx| {
            if ended.done.get() || timed_out.get() {
                return std::task::Poll::Ready(Ok(()));
            }
            *ended.waker.borrow_mut() = Some(cx.waker().clone());
            std::task::Poll::Pending
        });
        let disposed = async {
            Aborted::new(&signals.dispose).await;
            Err(TransportError::Disposed)
        };
        let aborted = async {
            match &signals.caller {
                Some(caller) => {
                    Aborted::new(caller).await;
                    Err(TransportError::Aborted)
                }
                None => std::future::pending().await,
            }
        };
        let outcome = race(finished, race(disposed, aborted)).await;
        deadline.replace(None);
        let outcome = match outcome {
            Ok(()) if timed_out.get() && !ended.done.get() => Err(TransportError::Timeout),
            other => other,
        };
        if let Err(error) = outcome {
            let _ = xhr.abort();
            return Err(error);
        }
        let status = xhr.status().unwrap_or(0);
        if status == 0 {
            return Err(TransportError::Network);
        }
        let header = |name: &str| xhr.get_response_header(name).ok().flatten();
        Ok(HttpResponse {
            status,
            retry_after: header("retry-after"),
            request_id: header("x-request-id"),
            text: xhr.response_text().ok().flatten().unwrap_or_default(),
        })
    })
}

async fn upload(
    target: Rc<Target>,
    params: JsValue,
    options: Option<JsValue>,
) -> Result<JsValue, ClientError> {
    const CALL: &str = "transfer.upload(params, options)";
    let params = Options::required(params, CALL)?;
    let dest = params.string("dest")?.unwrap_or_else(|| String::from("/"));
    let body = params.get("body");
    if !(body.is_instance_of::<Blob>()
        || body.is_instance_of::<ArrayBuffer>()
        || body.is_instance_of::<Uint8Array>())
    {
        return Err(invalid(
            CALL,
            "params.body",
            "a Blob, an ArrayBuffer or a Uint8Array",
        ));
    }
    let options = Options::read(options, CALL)?;
    let callback = on_progress(&options)?;
    let signal = options.signal()?;
    let session = target.session().clone();
    let mut signals = session.signals(signal.clone());
    if let Some(ms) = options.positive("timeoutMs")? {
        signals.timeout_ms = ms;
    }
    let url = target.url("/files/transfer/upload", &[("dest", Some(dest))]);
    let cell = target.cell();
    let send = move |bearer: &str| {
        xhr_attempt(
            url.clone(),
            bearer,
            body.clone(),
            callback.clone(),
            signals.clone(),
        )
    };
    let sent = send_authorised(&cell, &*session.platform, Retries::UNAUTHORIZED_ONLY, &send);
    let response = session.guarded(signal, sent).await?;
    parse_json(&into_result(response, session.now_ms())?)
}

#[wasm_bindgen]
impl RuntimeTransfer {
    /// `paths` packed as one tar.gz, as a `Blob` (`POST /files/transfer/download`).
    #[wasm_bindgen(unchecked_return_type = "Promise<Blob>")]
    pub fn download(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DownloadParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TransferOptions")] options: Option<JsValue>,
    ) -> Promise {
        promise(download(self.target.clone(), params, options))
    }

    /// Extracts a tar.gz into `dest` (`POST /files/transfer/upload?dest=`); progress as the
    /// browser reports it.
    #[wasm_bindgen(unchecked_return_type = "Promise<UploadResult>")]
    pub fn upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UploadParams")] params: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TransferOptions")] options: Option<JsValue>,
    ) -> Promise {
        promise(upload(self.target.clone(), params, options))
    }
}
