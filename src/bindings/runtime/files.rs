//! `runtime.files`: list, stream, read, stat, write, mkdir, delete over the gateway.

use super::stream::{Format, Stream};
use super::target::{gateway_call, path_options, Target};
use crate::bindings::convert::{json_object, query, Kind, Options};
use crate::bindings::error::to_js;
use crate::core::api;
use crate::core::error::ClientError;
use crate::core::runtime::HttpRequest;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

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

    fn get_path(&self, endpoint: &'static str, call: &'static str, options: JsValue) -> Promise {
        let prepared = Options::required(options, call)
            .and_then(|o| path_options(&o))
            .map(|(path, signal)| {
                let url = self.target.url(endpoint, &[("path", Some(path))]);
                (api::get(url), signal)
            });
        gateway_call(&self.target, prepared, None)
    }

    fn post_path(&self, endpoint: &'static str, call: &'static str, options: JsValue) -> Promise {
        let prepared = Options::required(options, call)
            .and_then(|o| path_options(&o))
            .and_then(|(path, signal)| {
                let body = json_object(&[("path", JsValue::from_str(&path))], call)?;
                Ok((api::post(self.target.url(endpoint, &[]), body), signal))
            });
        gateway_call(&self.target, prepared, None)
    }

    /// `endpoint?path=…&…` with the options of `table`.
    fn listing(
        &self,
        endpoint: &str,
        options: &Options,
        table: &[(&'static str, &'static str, Kind)],
    ) -> Result<(HttpRequest, Option<AbortSignal>), ClientError> {
        let (path, signal) = path_options(options)?;
        let mut pairs = vec![("path", Some(path))];
        pairs.extend(query(options, table)?);
        Ok((api::get(self.target.url(endpoint, &pairs)), signal))
    }
}

/// The options of `GET /files` and `GET /files/stream` (wire §3.2).
const LIST_QUERY: &[(&str, &str, Kind)] = &[
    ("nested", "nested", Kind::Bool),
    ("flatten", "flatten", Kind::Bool),
    ("light", "light", Kind::Bool),
    ("includeHash", "include_hash", Kind::Bool),
    ("includeContent", "include_content", Kind::Bool),
    ("includeExtensions", "include_extensions", Kind::Bool),
    ("codeFilesOnly", "code_files_only", Kind::Bool),
    ("useGitignore", "use_gitignore", Kind::Bool),
    ("maxDepth", "max_depth", Kind::Count),
    ("pathFilter", "path_filter", Kind::Text),
    ("includeExt", "include_ext", Kind::Text),
    ("ignorePatterns", "ignore_patterns", Kind::Text),
    ("maxContentBudget", "max_content_budget", Kind::Count),
];

const READ_QUERY: &[(&str, &str, Kind)] = &[
    ("startLine", "start_line", Kind::Count),
    ("endLine", "end_line", Kind::Count),
    ("withLineNumbers", "with_line_numbers", Kind::Bool),
];

#[wasm_bindgen]
impl RuntimeFiles {
    /// Lists a directory (`nested: true` for every descendant).
    #[wasm_bindgen(unchecked_return_type = "Promise<FileList>")]
    pub fn list(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ListFilesOptions")] options: JsValue,
    ) -> Promise {
        const CALL: &str = "files.list(options)";
        let prepared = Options::required(options, CALL)
            .and_then(|options| self.listing("/files", &options, LIST_QUERY));
        gateway_call(&self.target, prepared, None)
    }

    /// A directory's entries one by one, as the gateway finds them (NDJSON), read only as fast as
    /// they are iterated.
    #[wasm_bindgen(unchecked_return_type = "FileStream")]
    pub fn stream(
        &self,
        #[wasm_bindgen(unchecked_param_type = "StreamFilesOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        const CALL: &str = "files.stream(options)";
        let open = || {
            let options = Options::required(options, CALL)?;
            let (request, _) = self.listing("/files/stream", &options, LIST_QUERY)?;
            let stream = Stream::open(&self.target, Format::Lines, Some(request), None, &options)?;
            Ok(stream.into_js())
        };
        open().map_err(to_js)
    }

    /// Reads a text file, or a range of its lines (`startLine`, `endLine`, `withLineNumbers`).
    #[wasm_bindgen(unchecked_return_type = "Promise<FileContent>")]
    pub fn read(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ReadFileOptions")] options: JsValue,
    ) -> Promise {
        const CALL: &str = "files.read(options)";
        let prepared = Options::required(options, CALL)
            .and_then(|options| self.listing("/files/read", &options, READ_QUERY));
        gateway_call(&self.target, prepared, None)
    }

    /// A file's or directory's metadata.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileEntry>")]
    pub fn stat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.get_path("/files/stat", "files.stat(options)", options)
    }

    /// Writes (or appends to) a text file; `createDirs` creates missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<FileWriteResult>")]
    pub fn write(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WriteFileOptions")] options: JsValue,
    ) -> Promise {
        const CALL: &str = "files.write(options)";
        let prepared = Options::required(options, CALL).and_then(|options| {
            let (path, signal) = path_options(&options)?;
            let content = options
                .string("content")?
                .ok_or_else(|| options.fail("content", "a string"))?;
            let body = json_object(
                &[
                    ("path", JsValue::from_str(&path)),
                    ("content", JsValue::from_str(&content)),
                    (
                        "create_dirs",
                        JsValue::from_bool(options.bool("createDirs")?.unwrap_or(false)),
                    ),
                    (
                        "append",
                        JsValue::from_bool(options.bool("append")?.unwrap_or(false)),
                    ),
                ],
                CALL,
            )?;
            Ok((
                api::post(self.target.url("/files/write", &[]), body),
                signal,
            ))
        });
        gateway_call(&self.target, prepared, None)
    }

    /// Creates a directory and its missing parents.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn mkdir(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.post_path("/files/mkdir", "files.mkdir(options)", options)
    }

    /// Deletes a file or a directory tree.
    #[wasm_bindgen(unchecked_return_type = "Promise<PathResult>")]
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PathOptions")] options: JsValue,
    ) -> Promise {
        self.post_path("/files/delete", "files.delete(options)", options)
    }
}
