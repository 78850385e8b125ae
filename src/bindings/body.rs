//! Response bodies read as streams: the handshake (an authorised request whose `timeoutMs` runs
//! until the headers are in; a refusal read whole and mapped to an `OblienError`), then the body
//! pulled one chunk per `read()`, only when a consumer asks (back-pressure: an unread body is not
//! read), with an idle timeout that is armed only while waiting on the wire. Each connection has
//! its own `AbortController`: dropping the [`Conn`] aborts the fetch and releases the socket.

use super::abort::any;
use super::fetch::{self, Outgoing, RawResponse, Reply, Signals};
use super::runtime::target::Target;
use crate::core::error::ClientError;
use crate::core::request::{into_result, send_authorised, Retries};
use js_sys::Uint8Array;
use std::cell::OnceCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, ReadableStreamDefaultReader, Response};

/// Why a read gave no chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadEnd {
    /// Nothing arrived for the idle timeout while the client was waiting.
    Idle,
    /// The read failed: a network error, or one of the connection's signals aborted it.
    Failed,
}

/// One open response body.
pub struct Conn {
    /// Taken on the first `read()` (until then `response.text()` works too).
    reader: OnceCell<ReadableStreamDefaultReader>,
    abort: AbortController,
    pub response: Response,
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Ends the fetch and its socket; a pending read rejects (and is observed by its future).
        self.abort.abort();
    }
}

#[wasm_bindgen(module = "/js/stream.js")]
extern "C" {
    /// The next chunk: a `Uint8Array`, `null` at the end, `false` after `idle_ms` of silence;
    /// rejects when the read fails.
    #[wasm_bindgen(js_name = readChunk)]
    fn read_chunk(reader: &ReadableStreamDefaultReader, idle_ms: f64) -> js_sys::Promise;
}

impl Conn {
    /// The next chunk of the body; `Ok(None)` at its end. Reads nothing until called.
    pub async fn read(&self, idle_ms: f64) -> Result<Option<Uint8Array>, ReadEnd> {
        let body = self.response.body().ok_or(ReadEnd::Failed)?;
        let reader = self.reader.get_or_init(|| {
            body.get_reader()
                .unchecked_into::<ReadableStreamDefaultReader>()
        });
        let read = JsFuture::from(read_chunk(reader, idle_ms)).await;
        match read.map_err(|_| ReadEnd::Failed)? {
            chunk if chunk.is_null() => Ok(None),
            chunk if chunk.as_bool() == Some(false) => Err(ReadEnd::Idle),
            chunk => chunk.dyn_into().map(Some).map_err(|_| ReadEnd::Failed),
        }
    }
}

/// The signals one stream's connections listen to: the session's dispose, and `stop` (the
/// caller's signal and the stream's own `close()`, combined).
pub struct StreamSignals {
    pub signals: Signals,
}

impl StreamSignals {
    /// `caller` may be `None`; `close` is the stream's own controller.
    pub fn new(target: &Target, caller: Option<&AbortSignal>, close: &AbortController) -> Self {
        let close = close.signal();
        let stop = match caller {
            Some(caller) => any(&[caller, &close]),
            None => close,
        };
        StreamSignals {
            signals: target.session().signals(Some(stop)),
        }
    }
}

/// Opens `request` as a stream with the workspace's gateway token: a success's body, or the
/// gateway's refusal as an error. `handshake_ms` bounds the wait for the headers only.
pub async fn open(
    target: &Target,
    outgoing: Outgoing,
    retries: Retries,
    stop: &StreamSignals,
    handshake_ms: f64,
) -> Result<Conn, ClientError> {
    let mut signals = stop.signals.clone();
    signals.timeout_ms = handshake_ms;
    let session = target.session();
    let cell = target.cell();
    let send = move |bearer: &str| fetch::send_raw(&outgoing, bearer, &signals, false);
    let RawResponse(reply, _) = send_authorised(&cell, &*session.platform, retries, &send).await?;
    let response = reply.response();
    if !response.ok() {
        return Err(refusal(&response, session.now_ms()).await);
    }
    Ok(Conn {
        reader: OnceCell::new(),
        abort: reply.abort(),
        response,
    })
}

/// A non-2xx answer read whole: the gateway's code and message.
pub async fn refusal(response: &Response, now_ms: f64) -> ClientError {
    let answer = fetch::read_whole(response).await.map(Reply::into_response);
    match answer.map(|answer| into_result(answer, now_ms)) {
        Some(Err(error)) => error,
        _ => ClientError::new("server_error", "The gateway refused the stream"),
    }
}
