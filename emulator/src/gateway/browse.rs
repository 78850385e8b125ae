//! Reading the tree: `GET /files` (list), `GET /files/stream` (NDJSON) and `GET /files/read`
//! (with line ranges).

use super::files::{extension_of, name_of, FileTree, Node};
use super::{fs_error, required_path, Target};
use crate::body::{query_map, query_u32};
use crate::error::ApiError;
use crate::state::AppState;
use crate::stream;
use crate::util::{glob_match, split_list};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/files", get(list))
        .route("/files/stream", get(stream_list))
        .route("/files/read", get(read))
}

/// Entries per NDJSON chunk.
const STREAM_BATCH: usize = 200;
/// Default and largest `max_content_budget` (bytes of `content` in one listing).
const CONTENT_BUDGET: u32 = 4 * 1024 * 1024;

/// A boolean query parameter: `true`/`1`/`false`/`0`/absent.
pub fn query_bool(query: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match query.get(name).map(|v| v.trim()) {
        None | Some("") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(_) => Err(ApiError::validation(name, "must be true or false")),
    }
}

/// File extensions counted as code by `code_files_only`.
const CODE_EXTENSIONS: &[&str] = &[
    "rs", "js", "mjs", "cjs", "jsx", "ts", "tsx", "py", "go", "java", "kt", "c", "h", "cc", "cpp",
    "hpp", "cs", "rb", "php", "swift", "scala", "sh", "bash", "html", "css", "scss", "vue",
    "svelte", "json", "toml", "yaml", "yml", "sql", "md", "lua", "dart", "zig",
];

/// The listing options shared by `/files` and `/files/stream`.
struct ListOptions {
    path: String,
    max_depth: Option<usize>,
    include_content: bool,
    light: bool,
    code_files_only: bool,
    path_filter: Option<String>,
    include_ext: Vec<String>,
    ignore: Vec<String>,
    content_budget: usize,
}

impl ListOptions {
    fn from_query(raw: Option<&str>) -> Result<ListOptions, ApiError> {
        let query = query_map(raw);
        let path = query
            .get("path")
            .filter(|p| !p.is_empty())
            .cloned()
            .unwrap_or_else(|| "/".to_string());
        let nested = query_bool(&query, "nested")?;
        let max_depth = query_u32(&query, "max_depth", 1, 1000)?;
        let max_depth = match (max_depth, nested) {
            (Some(d), _) => Some(d as usize),
            (None, true) => None,
            (None, false) => Some(1),
        };
        // Accepted and ignored: `flatten` (entries are always a flat list), `include_hash`,
        // `include_extensions` (files always carry `extension`), `use_gitignore`.
        for name in [
            "flatten",
            "include_hash",
            "include_extensions",
            "use_gitignore",
        ] {
            query_bool(&query, name)?;
        }
        Ok(ListOptions {
            path,
            max_depth,
            include_content: query_bool(&query, "include_content")?,
            light: query_bool(&query, "light")?,
            code_files_only: query_bool(&query, "code_files_only")?,
            path_filter: query.get("path_filter").filter(|p| !p.is_empty()).cloned(),
            include_ext: query
                .get("include_ext")
                .map(|s| {
                    split_list(s)
                        .into_iter()
                        .map(|e| e.trim_start_matches('.').to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
            ignore: query
                .get("ignore_patterns")
                .map(|s| split_list(s))
                .unwrap_or_default(),
            content_budget: query_u32(&query, "max_content_budget", 0, CONTENT_BUDGET)?
                .unwrap_or(CONTENT_BUDGET) as usize,
        })
    }

    /// The entries, in path order (a directory before its children).
    fn entries(&self, tree: &FileTree) -> Result<(String, Vec<Value>), super::files::FsError> {
        let (root, found) = tree.descendants(&self.path, self.max_depth)?;
        let base = if root == "/" { 0 } else { root.len() };
        let mut budget = self.content_budget;
        let mut entries = Vec::new();
        for (path, node) in found {
            let relative = &path[base + 1..];
            if is_ignored(relative, &self.ignore) {
                continue;
            }
            let is_file = matches!(node, Node::File { .. });
            if is_file {
                let ext = extension_of(path).map(str::to_ascii_lowercase);
                if !self.include_ext.is_empty()
                    && !ext.as_ref().is_some_and(|e| self.include_ext.contains(e))
                {
                    continue;
                }
                if self.code_files_only
                    && !ext.as_deref().is_some_and(|e| CODE_EXTENSIONS.contains(&e))
                {
                    continue;
                }
            }
            if let Some(filter) = &self.path_filter {
                let hit = if filter.contains(['*', '?']) {
                    glob_match(filter, relative) || glob_match(filter, name_of(path))
                } else {
                    path.contains(filter.as_str())
                };
                if !hit {
                    continue;
                }
            }
            let mut entry = if self.light {
                json!({
                    "name": name_of(path),
                    "path": path,
                    "type": if is_file { "file" } else { "directory" },
                })
            } else {
                tree.entry_json(path, node)
            };
            if let (true, Node::File { content, .. }, Some(obj)) =
                (self.include_content, node, entry.as_object_mut())
            {
                if content.len() <= budget {
                    budget -= content.len();
                    obj.insert(
                        "content".into(),
                        Value::from(String::from_utf8_lossy(content).into_owned()),
                    );
                }
            }
            entries.push(entry);
        }
        Ok((root, entries))
    }
}

/// True when a component of `relative` (or the whole of it) matches one of `patterns`.
pub fn is_ignored(relative: &str, patterns: &[String]) -> bool {
    patterns.iter().any(|pattern| {
        let pattern = pattern.trim_end_matches('/');
        glob_match(pattern, relative) || relative.split('/').any(|c| glob_match(pattern, c))
    })
}

async fn list(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let options = ListOptions::from_query(raw.as_deref())?;
    let (path, entries) = super::with_files(&state, &id, |t| options.entries(t))?
        .map_err(|e| fs_error(e, &options.path))?;
    Ok(Json(
        json!({ "success": true, "path": path, "count": entries.len(), "entries": entries }),
    ))
}

/// `GET /files/stream`: NDJSON, `{"event":"start","path"}`, one entry per line,
/// `{"event":"done","count"}`. Errors before the first byte are the usual JSON errors.
async fn stream_list(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let options = ListOptions::from_query(raw.as_deref())?;
    let (path, entries) = super::with_files(&state, &id, |t| options.entries(t))?
        .map_err(|e| fs_error(e, &options.path))?;
    let (tx, body) = stream::channel(4);
    tokio::spawn(async move {
        let mut chunk = format!("{}\n", json!({ "event": "start", "path": path }));
        let count = entries.len();
        for (i, entry) in entries.into_iter().enumerate() {
            chunk.push_str(&entry.to_string());
            chunk.push('\n');
            if (i + 1) % STREAM_BATCH == 0
                && tx
                    .send(Bytes::from(std::mem::take(&mut chunk)))
                    .await
                    .is_err()
            {
                return;
            }
        }
        chunk.push_str(&json!({ "event": "done", "count": count }).to_string());
        chunk.push('\n');
        let _ = tx.send(Bytes::from(chunk)).await;
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(response)
}

/// Splits text into lines, each with its `\n` if it had one.
fn split_lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// `GET /files/read?path&start_line&end_line&with_line_numbers`.
async fn read(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let query = query_map(raw.as_deref());
    let path = required_path(raw)?;
    let start_line = query_u32(&query, "start_line", 1, u32::MAX)?;
    let end_line = query_u32(&query, "end_line", 1, u32::MAX)?;
    let numbered = query_bool(&query, "with_line_numbers")?;
    if let (Some(start), Some(end)) = (start_line, end_line) {
        if end < start {
            return Err(ApiError::validation(
                "end_line",
                "must not be before start_line",
            ));
        }
    }
    let (normalized, content) = super::with_files(&state, &id, |t| {
        t.read(&path)
            .map(|(p, c)| (p, String::from_utf8_lossy(c).into_owned()))
    })?
    .map_err(|e| fs_error(e, &path))?;
    let size = content.len();
    let lines = split_lines(&content);
    let total = lines.len();
    let first = start_line.map_or(1, |s| s as usize);
    let last = end_line.map_or(total, |e| (e as usize).min(total));
    let selected = if first > total || first > last {
        &[][..]
    } else {
        &lines[first - 1..last]
    };
    let text = if numbered {
        selected
            .iter()
            .enumerate()
            .map(|(i, line)| format!("{:>6}\t{line}", first + i))
            .collect::<String>()
    } else if start_line.is_none() && end_line.is_none() {
        content.clone()
    } else {
        selected.concat()
    };
    let mut body = json!({
        "success": true,
        "path": normalized,
        "content": text,
        "size": size,
        "lines": total,
    });
    if let Some(obj) = body.as_object_mut() {
        if let Some(ext) = extension_of(&normalized) {
            obj.insert("extension".into(), Value::from(ext));
        }
        if start_line.is_some() || end_line.is_some() {
            obj.insert("start_line".into(), Value::from(first));
            obj.insert("end_line".into(), Value::from(last));
        }
    }
    Ok(Json(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignore_patterns_match_components() {
        let patterns = vec!["node_modules".to_string(), "*.log".to_string()];
        assert!(is_ignored("a/node_modules/x.js", &patterns));
        assert!(is_ignored("debug.log", &patterns));
        assert!(!is_ignored("src/main.rs", &patterns));
        assert_eq!(split_lines("a\nb"), ["a\n", "b"]);
        assert!(split_lines("").is_empty());
    }
}
