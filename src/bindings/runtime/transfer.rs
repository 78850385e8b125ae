//! `runtime.transfer`: folders as tar.gz. `download` reads the archive's body chunk by chunk
//! into a `Blob` (js/fetch.js `download`: progress from the bytes read, `Content-Length` for the
//! total when sent); `upload` sends a `Blob`/`ArrayBuffer`/`Uint8Array` as the body of one raw
//! request (js/fetch.js `raw`; `fetch` reports no upload progress).

use super::stream::{self, timeouts, Format};
use super::target::Target;
use crate::bindings::call;
use crate::bindings::convert::{invalid, json_object, Options};
use crate::bindings::error::or_rejected;
use crate::bindings::fetch::Outgoing;
use crate::core::api;
use crate::core::error::ClientError;
use crate::prelude::*;
use alloc::rc::Rc;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/fetch.js")]
extern "C" {
    /// The size of an upload's body, or -1 when it is not one (js/fetch.js).
    #[wasm_bindgen(js_name = bodySize)]
    fn body_size(body: &JsValue) -> f64;
}

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
/**
 * `runtime.transfer`.
 */
export class RuntimeTransfer {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * `paths` packed as one tar.gz, as a `Blob` (`POST /files/transfer/download`).
     */
    download(params: DownloadParams, options?: TransferOptions): Promise<Blob>;
    /**
     * Extracts a tar.gz into `dest` (`POST /files/transfer/upload?dest=`); progress as the
     * browser reports it.
     */
    upload(params: UploadParams, options?: TransferOptions): Promise<UploadResult>;
}
"#;

/// `onProgress`: a function, or `undefined` when not given.
fn on_progress(options: &Options) -> Result<JsValue, ClientError> {
    let value = options.get("onProgress");
    if value.is_undefined() || value.is_null() {
        return Ok(JsValue::UNDEFINED);
    }
    if !value.is_function() {
        return Err(options.fail("onProgress", "a function"));
    }
    Ok(value)
}

/// `transfer.download`: a stream of the archive kept as a `Blob` (`Format::Blob`).
fn download_blob(
    target: &Rc<Target>,
    params: JsValue,
    options: Option<JsValue>,
) -> Result<Promise, ClientError> {
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
    let format = Format::Blob(on_progress(&options)?);
    let start = api::post(target.url("/files/transfer/download", &[]), body);
    let stream = stream::open(target, format, Some(start), None, &options)?;
    Ok(stream.wait())
}

/// `transfer.upload`: the archive as the body of one `fetch` (no streaming request bodies over
/// HTTP/1.1, and `fetch` reports no upload progress: `onProgress` gets the whole size once sent).
fn send_archive(
    target: &Rc<Target>,
    params: JsValue,
    options: Option<JsValue>,
) -> Result<Promise, ClientError> {
    const CALL: &str = "transfer.upload(params, options)";
    let params = Options::required(params, CALL)?;
    let dest = params.string("dest")?.unwrap_or_else(|| String::from("/"));
    let body = params.get("body");
    let size = body_size(&body);
    if size < 0.0 {
        return Err(invalid(
            CALL,
            "params.body",
            "a Blob, an ArrayBuffer or a Uint8Array",
        ));
    }
    let options = Options::read(options, CALL)?;
    let callback = on_progress(&options)?;
    let (handshake_ms, _) = timeouts(target, &options)?;
    let url = target.url("/files/transfer/upload", &[("dest", Some(dest))]);
    let outgoing = Outgoing::with("POST", &url, body, Some("application/gzip"));
    let signal = options.signal()?;
    let (session, cell) = (target.session(), target.cell());
    call::upload(
        session,
        cell,
        outgoing,
        signal,
        handshake_ms,
        callback,
        size,
    )
}

/// `transfer.download(params, options)` (js/views.js `RuntimeTransfer`).
pub fn download(target: &Rc<Target>, params: JsValue, options: Option<JsValue>) -> Promise {
    or_rejected(download_blob(target, params, options))
}

/// `transfer.upload(params, options)` (js/views.js `RuntimeTransfer`).
pub fn upload(target: &Rc<Target>, params: JsValue, options: Option<JsValue>) -> Promise {
    or_rejected(send_archive(target, params, options))
}
