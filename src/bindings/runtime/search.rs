//! `runtime.search`: file contents (`GET /files/search`) and names (`GET /files/search/files`).

use super::target::{gateway_call, Target};
use crate::bindings::convert::{query, Kind, Options};
use crate::core::api;
use js_sys::Promise;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
export interface SearchContentOptions extends CallOptions {
  query: string;
  /** Folder to search (default: the workspace's home). */
  path?: string;
  caseSensitive?: boolean;
  /** `query` is a regular expression. */
  regex?: boolean;
  wholeWord?: boolean;
  maxResults?: number;
  /** Lines of context around each match. */
  contextLines?: number;
  /** The server's time limit (passed as `timeout`). */
  timeout?: number;
  fileTypes?: string;
  includeHidden?: boolean;
  noGitignore?: boolean;
  ignorePatterns?: string;
}

export interface SearchMatch {
  line: number;
  column?: number;
  text: string;
  context_before?: string[];
  context_after?: string[];
}

export interface SearchContentResult {
  success: true;
  query: string;
  path: string;
  /** Matches by file path. */
  results: Record<string, SearchMatch[]>;
  total_matches: number;
  total_files: number;
  capped: boolean;
}

export interface SearchFilesOptions extends CallOptions {
  query: string;
  path?: string;
  caseSensitive?: boolean;
  includeHidden?: boolean;
  maxResults?: number;
  ignorePatterns?: string;
}

export interface SearchFilesResult {
  success: true;
  query: string;
  path: string;
  files: string[];
  total_files: number;
}
"#;

const CONTENT: &[(&str, &str, Kind)] = &[
    ("path", "path", Kind::Text),
    ("caseSensitive", "case_sensitive", Kind::Bool),
    ("regex", "regex", Kind::Bool),
    ("wholeWord", "whole_word", Kind::Bool),
    ("maxResults", "max_results", Kind::Count),
    ("timeout", "timeout", Kind::Count),
    ("contextLines", "context_lines", Kind::Count),
    ("fileTypes", "file_types", Kind::Text),
    ("includeHidden", "include_hidden", Kind::Bool),
    ("noGitignore", "no_gitignore", Kind::Bool),
    ("ignorePatterns", "ignore_patterns", Kind::Text),
];

const FILES: &[(&str, &str, Kind)] = &[
    ("path", "path", Kind::Text),
    ("caseSensitive", "case_sensitive", Kind::Bool),
    ("includeHidden", "include_hidden", Kind::Bool),
    ("maxResults", "max_results", Kind::Count),
    ("ignorePatterns", "ignore_patterns", Kind::Text),
];

/// `runtime.search`.
#[wasm_bindgen]
pub struct RuntimeSearch {
    target: Rc<Target>,
}

impl RuntimeSearch {
    pub fn new(target: Rc<Target>) -> Self {
        RuntimeSearch { target }
    }

    fn search(
        &self,
        endpoint: &str,
        options: JsValue,
        table: &[(&'static str, &'static str, Kind)],
        call: &'static str,
    ) -> Promise {
        let prepared = Options::required(options, call).and_then(|options| {
            let mut pairs = vec![("q", Some(options.text("query")?))];
            pairs.extend(query(&options, table)?);
            let url = self.target.url(endpoint, &pairs);
            Ok((api::get(url), options.signal()?))
        });
        gateway_call(&self.target, prepared, None)
    }
}

#[wasm_bindgen]
impl RuntimeSearch {
    /// Lines matching `query` in the files under `path` (plain text, or `regex`).
    #[wasm_bindgen(unchecked_return_type = "Promise<SearchContentResult>")]
    pub fn content(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SearchContentOptions")] options: JsValue,
    ) -> Promise {
        self.search("/files/search", options, CONTENT, "search.content(options)")
    }

    /// Paths under `path` whose name matches `query`.
    #[wasm_bindgen(unchecked_return_type = "Promise<SearchFilesResult>")]
    pub fn files(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SearchFilesOptions")] options: JsValue,
    ) -> Promise {
        self.search(
            "/files/search/files",
            options,
            FILES,
            "search.files(options)",
        )
    }
}
