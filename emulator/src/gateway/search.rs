//! Search (`/files/search…`): what the workspace's ripgrep answers, over the in-memory tree.
//! Plain text or a regex (the `regex` crate's syntax), case-insensitive unless
//! `case_sensitive=true`, `whole_word`, `max_results` (matches; default 1000, at most 10000),
//! `context_lines`, `file_types`, `include_hidden`, `ignore_patterns`. Binary files (a NUL byte
//! in the first 8 KiB) are skipped, as ripgrep does.

use super::browse::{is_ignored, query_bool};
use super::files::{extension_of, FileTree, Node};
use super::{fs_error, Target};
use crate::body::{query_map, query_u32};
use crate::error::ApiError;
use crate::state::AppState;
use crate::util::{glob_match, split_list};
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use regex::{Regex, RegexBuilder};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/files/search", get(content))
        .route("/files/search/files", get(files))
        .route("/files/search/init", get(init).post(init))
}

const DEFAULT_MAX_RESULTS: u32 = 1000;
const MAX_RESULTS: u32 = 10_000;
const MAX_CONTEXT: u32 = 10;

/// What ripgrep's `-t` names cover, for `file_types`; anything else is an extension.
fn type_extensions(name: &str) -> Vec<String> {
    let list: &[&str] = match name {
        "js" => &["js", "mjs", "cjs", "jsx"],
        "ts" => &["ts", "tsx", "mts", "cts"],
        "rust" => &["rs"],
        "py" | "python" => &["py", "pyi"],
        "md" | "markdown" => &["md", "markdown"],
        "yaml" => &["yaml", "yml"],
        "cpp" => &["cpp", "cc", "cxx", "hpp", "hh", "h"],
        "c" => &["c", "h"],
        "go" => &["go"],
        "html" => &["html", "htm"],
        _ => &[],
    };
    if list.is_empty() {
        vec![name.trim_start_matches('.').to_ascii_lowercase()]
    } else {
        list.iter().map(|s| s.to_string()).collect()
    }
}

/// A file to search: its path and content.
type Searched<'t> = (&'t str, &'t [u8]);

struct Scope {
    query: String,
    path: String,
    case_sensitive: bool,
    include_hidden: bool,
    ignore: Vec<String>,
    extensions: Vec<String>,
    max_results: usize,
}

impl Scope {
    fn from_query(query: &HashMap<String, String>) -> Result<Scope, ApiError> {
        let q = query
            .get("q")
            .filter(|q| !q.is_empty())
            .cloned()
            .ok_or_else(|| ApiError::validation("q", "is required"))?;
        Ok(Scope {
            query: q,
            path: query
                .get("path")
                .filter(|p| !p.is_empty())
                .cloned()
                .unwrap_or_else(|| "/".to_string()),
            case_sensitive: query_bool(query, "case_sensitive")?,
            include_hidden: query_bool(query, "include_hidden")?,
            ignore: query
                .get("ignore_patterns")
                .map(|s| split_list(s))
                .unwrap_or_default(),
            extensions: query
                .get("file_types")
                .map(|s| {
                    split_list(s)
                        .iter()
                        .flat_map(|t| type_extensions(t))
                        .collect()
                })
                .unwrap_or_default(),
            max_results: query_u32(query, "max_results", 1, MAX_RESULTS)?
                .unwrap_or(DEFAULT_MAX_RESULTS) as usize,
        })
    }

    /// The files searched: `(path, content)` in path order. `root` may be a file.
    fn files<'t>(&self, tree: &'t FileTree) -> Result<(String, Vec<Searched<'t>>), ApiError> {
        let root = super::files::normalize(&self.path).map_err(|e| fs_error(e, &self.path))?;
        if tree.get(&root).is_none() {
            return Err(fs_error(super::files::FsError::NotFound, &self.path));
        }
        let base = if root == "/" { 0 } else { root.len() };
        let mut out = Vec::new();
        for (path, node) in tree.walk(&root) {
            let Node::File { content, .. } = node else {
                continue;
            };
            let relative = if path.len() > base + 1 {
                &path[base + 1..]
            } else {
                super::files::name_of(path)
            };
            if !self.include_hidden && relative.split('/').any(|c| c.starts_with('.')) {
                continue;
            }
            if is_ignored(relative, &self.ignore) {
                continue;
            }
            if !self.extensions.is_empty()
                && !extension_of(path)
                    .is_some_and(|e| self.extensions.contains(&e.to_ascii_lowercase()))
            {
                continue;
            }
            out.push((path, content.as_slice()));
        }
        Ok((root, out))
    }
}

fn build_regex(scope: &Scope, regex: bool, whole_word: bool) -> Result<Regex, ApiError> {
    let mut pattern = if regex {
        scope.query.clone()
    } else {
        regex::escape(&scope.query)
    };
    if whole_word {
        pattern = format!(r"\b(?:{pattern})\b");
    }
    RegexBuilder::new(&pattern)
        .case_insensitive(!scope.case_sensitive)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or("invalid regex").trim();
            ApiError::validation("q", format!("invalid regular expression: {last}"))
        })
}

fn is_binary(content: &[u8]) -> bool {
    content.iter().take(8192).any(|&b| b == 0)
}

/// `GET /files/search`: matches grouped by file.
async fn content(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = query_map(raw.as_deref());
    let scope = Scope::from_query(&query)?;
    let regex = build_regex(
        &scope,
        query_bool(&query, "regex")?,
        query_bool(&query, "whole_word")?,
    )?;
    let context = query_u32(&query, "context_lines", 0, MAX_CONTEXT)?.unwrap_or(0) as usize;
    // Accepted, not used: `timeout`, `no_gitignore`.
    let (root, results, total_matches, capped) = super::with_files(&state, &id, |tree| {
        let (root, files) = scope.files(tree)?;
        let mut results = Map::new();
        let mut total = 0usize;
        let mut capped = false;
        'files: for (path, content) in files {
            if is_binary(content) {
                continue;
            }
            let text = String::from_utf8_lossy(content);
            let lines: Vec<&str> = text.lines().collect();
            let mut hits = Vec::new();
            for (index, line) in lines.iter().enumerate() {
                for found in regex.find_iter(line) {
                    if total >= scope.max_results {
                        capped = true;
                        if !hits.is_empty() {
                            results.insert(path.to_string(), Value::Array(hits));
                        }
                        break 'files;
                    }
                    total += 1;
                    let column = line[..found.start()].chars().count() + 1;
                    let mut hit = json!({
                        "line": index + 1,
                        "column": column,
                        "text": line.trim_end_matches('\r'),
                    });
                    if context > 0 {
                        if let Some(obj) = hit.as_object_mut() {
                            let before = &lines[index.saturating_sub(context)..index];
                            let after = &lines[(index + 1).min(lines.len())
                                ..(index + 1 + context).min(lines.len())];
                            obj.insert("context_before".into(), json!(before));
                            obj.insert("context_after".into(), json!(after));
                        }
                    }
                    hits.push(hit);
                }
            }
            if !hits.is_empty() {
                results.insert(path.to_string(), Value::Array(hits));
            }
        }
        Ok::<_, ApiError>((root, results, total, capped))
    })??;
    Ok(Json(json!({
        "success": true,
        "query": scope.query,
        "path": root,
        "results": results,
        "total_matches": total_matches,
        "total_files": results.len(),
        "capped": capped,
    })))
}

/// `GET /files/search/files`: files whose path (below `path`) contains `q`, or whose name or
/// relative path matches it as a glob when it holds `*` or `?`.
async fn files(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = query_map(raw.as_deref());
    let scope = Scope::from_query(&query)?;
    let (root, found, capped) = super::with_files(&state, &id, |tree| {
        let (root, files) = scope.files(tree)?;
        let base = if root == "/" { 0 } else { root.len() };
        let needle = if scope.case_sensitive {
            scope.query.clone()
        } else {
            scope.query.to_lowercase()
        };
        let glob = needle.contains(['*', '?']);
        let mut found = Vec::new();
        let mut capped = false;
        for (path, _) in files {
            let relative = path.get(base + 1..).unwrap_or(path);
            let hay = if scope.case_sensitive {
                relative.to_string()
            } else {
                relative.to_lowercase()
            };
            let name = hay.rsplit('/').next().unwrap_or(&hay);
            let hit = if glob {
                glob_match(&needle, name) || glob_match(&needle, &hay)
            } else {
                hay.contains(&needle)
            };
            if hit {
                if found.len() >= scope.max_results {
                    capped = true;
                    break;
                }
                found.push(path.to_string());
            }
        }
        Ok::<_, ApiError>((root, found, capped))
    })??;
    Ok(Json(json!({
        "success": true,
        "query": scope.query,
        "path": root,
        "total_files": found.len(),
        "files": found,
        "capped": capped,
    })))
}

/// `GET`/`POST /files/search/init`: ripgrep is always "installed".
async fn init(Target(_): Target) -> Json<Value> {
    Json(json!({
        "success": true,
        "installed": true,
        "path": "/usr/bin/rg",
        "version": "14.1.1",
    }))
}
