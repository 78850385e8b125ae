//! `runtime.files`: list, stream, read, stat, write, mkdir, delete over the gateway.

use super::stream::{self, Format};
use super::target::{table_call, Target};
use crate::bindings::convert::Options;
use crate::bindings::error::to_js;
use crate::core::endpoint::{self, Endpoint};
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** Options of `files.stream(options)` (the wire's `GET /files/stream` query). */
export interface StreamFilesOptions extends PathOptions {
  nested?: boolean;
  /** How deep `nested` goes. */
  maxDepth?: number;
  flatten?: boolean;
  light?: boolean;
  includeHash?: boolean;
  includeContent?: boolean;
  includeExtensions?: boolean;
  codeFilesOnly?: boolean;
  useGitignore?: boolean;
  pathFilter?: string;
  includeExt?: string;
  ignorePatterns?: string;
  maxContentBudget?: number;
  /** Until the response headers arrive. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Longest silence of the wire while an entry is awaited (0: none). Default 60000. */
  idleTimeoutMs?: number;
}

/** Options of `files.read(options)`: a line range, optionally numbered. */
export interface ReadFileOptions extends PathOptions {
  /** First line, 1-based. */
  startLine?: number;
  /** Last line, inclusive. */
  endLine?: number;
  withLineNumbers?: boolean;
}

/** `files.stream()`: the entries one by one, as the gateway finds them (`for await`). */
export interface FileStream extends AsyncIterable<FileEntry> {
  next(): Promise<IteratorResult<FileEntry, undefined>>;
  /** Ends the iteration early (`break`): closes the connection. */
  return(): Promise<IteratorResult<FileEntry, undefined>>;
  /** Stops reading and closes the connection. */
  close(): void;
}
"#;

/// `runtime.files`.
#[wasm_bindgen]
pub struct RuntimeFiles {
    target: Rc<Target>,
}

impl RuntimeFiles {
    pub fn new(target: Rc<Target>) -> Self {
        RuntimeFiles { target }
    }

    fn call(&self, endpoint: &'static Endpoint, options: JsValue) -> Promise {
        table_call(&self.target, endpoint, Some(options))
    }
}

#[wasm_bindgen]
impl RuntimeFiles {
    /// Lists a directory (`nested: true` for every descendant).
    #[wasm_bindgen(unchecked_return_type = "Promise<FileList>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListFilesOptions")] options: JsValue,
    ) -> Promise {
        self.call(&endpoint::FILES_LIST, options)
    }

    /// A directory's entries one by one, as the gateway finds them (NDJSON), read only as fast as
    /// they are iterated.
    #[wasm_bindgen(unchecked_return_type = "FileStream")]
    pub fn stream(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StreamFilesOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let open = || {
            let options = Options::required(options, endpoint::FILES_STREAM.call)?;
            let base = &self.target.session().gateway_url;
            let (request, _) = options.request(&endpoint::FILES_STREAM, base)?;
            let stream = stream::open(&self.target, Format::Lines, Some(request), None, &options)?;
            Ok(stream.into())
        };
        open().map_err(to_js)
    }

    /// Reads a text file, or a range of its lines (`startLine`, `endLine`, `withLineNumbers`).
    #[wasm_bindgen(unchecked_return_type = "Promise<FileContent>")]
    pub fn read(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadFileOptions")] options: JsValue,
    ) -> Promise {
        self.call(&endpoint::FILES_READ, options)
    }

    /// A file's or directory's metadata.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileEntry>")]
    pub fn stat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.call(&endpoint::FILES_STAT, options)
    }

    /// Writes (or appends to) a text file; `createDirs` creates missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileWriteResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WriteFileOptions")] options: JsValue,
    ) -> Promise {
        self.call(&endpoint::FILES_WRITE, options)
    }

    /// Creates a directory and its missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn mkdir(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.call(&endpoint::FILES_MKDIR, options)
    }

    /// Deletes a file or a directory tree.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.call(&endpoint::FILES_DELETE, options)
    }
}
