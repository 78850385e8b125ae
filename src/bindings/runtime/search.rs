//! `runtime.search` (js/views.js `RuntimeSearch`): file contents (`GET /files/search`) and names
//! (`GET /files/search/files`), rows of the endpoint table (`core::endpoint`). Only types here.

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
/**
 * `runtime.search`.
 */
export class RuntimeSearch {
    private constructor();
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Lines matching `query` in the files under `path` (plain text, or `regex`).
     */
    content(options: SearchContentOptions): Promise<SearchContentResult>;
    /**
     * Paths under `path` whose name matches `query`.
     */
    files(options: SearchFilesOptions): Promise<SearchFilesResult>;
}
"#;
