//! `runtime.files` (js/views.js `RuntimeFiles`): list, read, stat, write, mkdir and delete are
//! rows of the endpoint table (`core::endpoint`); `stream` is here.

use super::stream::{self, Format};
use super::target::Target;
use crate::bindings::convert::Options;
use crate::bindings::error::to_js;
use crate::core::endpoint;
use alloc::rc::Rc;
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
/**
 * `runtime.files`.
 */
export class RuntimeFiles {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Deletes a file or a directory tree.
     */
    delete(options: PathOptions): Promise<PathResult>;
    /**
     * Lists a directory (`nested: true` for every descendant).
     */
    list(options: ListFilesOptions): Promise<FileList>;
    /**
     * Creates a directory and its missing parents.
     */
    mkdir(options: PathOptions): Promise<PathResult>;
    /**
     * Reads a text file, or a range of its lines (`startLine`, `endLine`, `withLineNumbers`).
     */
    read(options: ReadFileOptions): Promise<FileContent>;
    /**
     * A file's or directory's metadata.
     */
    stat(options: PathOptions): Promise<FileEntry>;
    /**
     * A directory's entries one by one, as the gateway finds them (NDJSON), read only as fast as
     * they are iterated.
     */
    stream(options: StreamFilesOptions): FileStream;
    /**
     * Writes (or appends to) a text file; `createDirs` creates missing parents.
     */
    write(options: WriteFileOptions): Promise<FileWriteResult>;
}
"#;

/// `files.stream(options)`: a directory's entries one by one (NDJSON), read only as fast as they
/// are iterated; the error is thrown.
pub fn stream(target: &Rc<Target>, options: JsValue) -> Result<JsValue, JsValue> {
    let open = || {
        let options = Options::required(options, endpoint::FILES_STREAM.call)?;
        let base = &target.session().gateway_url;
        let (request, _) = options.request(&endpoint::FILES_STREAM, base)?;
        let stream = stream::open(target, Format::Lines, Some(request), None, &options)?;
        Ok(stream.into())
    };
    open().map_err(to_js)
}
