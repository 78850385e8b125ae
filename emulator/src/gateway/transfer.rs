//! `POST /files/transfer/download` (a tar.gz of paths) and `POST /files/transfer/upload?dest=`
//! (a tar.gz extracted into the tree). Archive member names are relative: a directory given to
//! download contributes its contents (`src/main.rs`, as `tar -czf - -C DIR .` would), a file
//! its name. Uploads refuse absolute names and `..`; symlinks, hard links and devices are
//! skipped. Bounds: the upload body is the gateway's body limit (8 MiB by default); what it
//! expands to, the workspace quota (`files::MAX_TREE_BYTES`), at most [`MAX_MEMBERS`] members.

use super::browse::is_ignored;
use super::files::{self, ExtractEntry, FsOp, Node};
use super::fs;
use super::{fs_error, Target};
use crate::body::{query_map, JsonBody};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::Deserialize;
use serde_json::{json, Value};
use std::io::Read;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/files/transfer/download", post(download))
        .route("/files/transfer/upload", post(upload))
}

/// Most members an uploaded archive may have.
pub const MAX_MEMBERS: usize = 20_000;

#[derive(Deserialize)]
struct DownloadBody {
    paths: Vec<String>,
    #[serde(default)]
    exclude_patterns: Vec<String>,
}

/// One member to archive: relative name, and content (`None` for a directory).
type Member = (String, Option<Vec<u8>>, u64);

fn collect(
    tree: &files::FileTree,
    paths: &[String],
    exclude: &[String],
) -> Result<Vec<Member>, ApiError> {
    let mut members = Vec::new();
    for raw in paths {
        let path = files::normalize(raw).map_err(|e| fs_error(e, raw))?;
        match tree.get(&path) {
            None => return Err(fs_error(files::FsError::NotFound, raw)),
            Some(Node::File {
                content,
                modified_ms,
            }) => {
                let name = files::name_of(&path).to_string();
                if !is_ignored(&name, exclude) {
                    members.push((name, Some(content.clone()), *modified_ms));
                }
            }
            Some(Node::Dir { .. }) => {
                let base = if path == "/" { 0 } else { path.len() };
                for (p, node) in tree.walk(&path) {
                    let (relative, is_root) = if p == path {
                        (".".to_string(), true)
                    } else {
                        (p[base + 1..].to_string(), false)
                    };
                    if !is_root && is_ignored(&relative, exclude) {
                        continue;
                    }
                    match node {
                        Node::Dir { modified_ms } => members.push((relative, None, *modified_ms)),
                        Node::File {
                            content,
                            modified_ms,
                        } => members.push((relative, Some(content.clone()), *modified_ms)),
                    }
                }
            }
        }
    }
    Ok(members)
}

fn build_archive(members: Vec<Member>) -> std::io::Result<Vec<u8>> {
    let encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    builder.mode(tar::HeaderMode::Deterministic);
    for (name, content, modified_ms) in members {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(modified_ms / 1000);
        header.set_uid(0);
        header.set_gid(0);
        match content {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                let name = if name == "." {
                    "./".to_string()
                } else {
                    format!("{name}/")
                };
                builder.append_data(&mut header, name, std::io::empty())?;
            }
            Some(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, name, data.as_slice())?;
            }
        }
    }
    builder.into_inner()?.finish()
}

/// `POST /files/transfer/download {paths, exclude_patterns?}` → `application/gzip`.
async fn download(
    State(state): State<AppState>,
    Target(id): Target,
    body: Result<JsonBody<DownloadBody>, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    if body.paths.is_empty() {
        return Err(ApiError::validation("paths", "must be a non-empty array"));
    }
    let members = super::with_files(&state, &id, |t| {
        collect(t, &body.paths, &body.exclude_patterns)
    })??;
    let archive = tokio::task::spawn_blocking(move || build_archive(members))
        .await
        .map_err(|_| server_error())?
        .map_err(|_| server_error())?;
    let mut response = Response::new(axum::body::Body::from(archive));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"download.tar.gz\""),
    );
    Ok(response)
}

fn server_error() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "Could not build the archive",
    )
}

fn bad_archive(message: impl Into<String>) -> ApiError {
    ApiError::validation("body", message.into())
}

/// A member name made safe, or why not: relative, no `..`, `./` and trailing `/` dropped.
fn member_name(raw: &[u8]) -> Result<Option<String>, ApiError> {
    let name =
        std::str::from_utf8(raw).map_err(|_| bad_archive("an archive member name is not UTF-8"))?;
    if name.starts_with('/') || name.contains('\0') || name.contains('\\') {
        return Err(bad_archive(format!(
            "archive member '{name}' has an absolute or invalid name"
        )));
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(bad_archive(format!(
                    "archive member '{name}' escapes the destination (..)"
                )))
            }
            p => parts.push(p),
        }
    }
    Ok(if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    })
}

/// Reads every member (bounded), refusing traversal.
fn read_archive(bytes: &[u8]) -> Result<Vec<ExtractEntry>, ApiError> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    let entries = archive
        .entries()
        .map_err(|_| bad_archive("not a tar.gz archive"))?;
    let mut out = Vec::new();
    let mut total = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(|_| bad_archive("not a valid tar.gz archive"))?;
        if out.len() >= MAX_MEMBERS {
            return Err(bad_archive(format!(
                "the archive has more than {MAX_MEMBERS} members"
            )));
        }
        let name = member_name(&entry.path_bytes())?;
        let kind = entry.header().entry_type();
        let Some(name) = name else {
            continue;
        };
        if kind.is_dir() {
            out.push(ExtractEntry::Dir(name));
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            let room = files::MAX_TREE_BYTES.saturating_sub(total);
            let mut content = Vec::new();
            (&mut entry)
                .take(room as u64 + 1)
                .read_to_end(&mut content)
                .map_err(|_| bad_archive("not a valid tar.gz archive"))?;
            if content.len() > room {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "The archive expands beyond the workspace's quota",
                ));
            }
            total += content.len();
            out.push(ExtractEntry::File(name, content));
        }
        // Symlinks, hard links, devices, FIFOs: skipped.
    }
    Ok(out)
}

/// `POST /files/transfer/upload?dest=DIR` with a raw tar.gz body.
async fn upload(
    State(state): State<AppState>,
    Target(id): Target,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body.map_err(|rejection| {
        crate::body::unreadable(rejection, bad_archive("could not be read"))
    })?;
    let query = query_map(raw.as_deref());
    let dest_raw = query
        .get("dest")
        .filter(|d| !d.is_empty())
        .cloned()
        .unwrap_or_else(|| "/".to_string());
    let dest = files::normalize(&dest_raw)
        .map_err(|_| ApiError::validation("dest", "must be an absolute path"))?;
    if body.is_empty() {
        return Err(bad_archive("a tar.gz body is required"));
    }
    let entries = tokio::task::spawn_blocking(move || read_archive(&body))
        .await
        .map_err(|_| server_error())??;
    let done = fs::mutate(
        &state,
        &id,
        FsOp::Extract {
            dest: &dest,
            entries: &entries,
        },
    )
    .map_err(|e| fs_error(e, &dest))?;
    Ok(Json(json!({
        "success": true,
        "dest": done.path,
        "files_extracted": done.files,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert_eq!(
            member_name(b"./a/b.txt").unwrap().as_deref(),
            Some("a/b.txt")
        );
        assert_eq!(member_name(b"./").unwrap(), None);
        assert_eq!(member_name(b"dir/").unwrap().as_deref(), Some("dir"));
        assert!(member_name(b"../x").is_err());
        assert!(member_name(b"a/../../x").is_err());
        assert!(member_name(b"/etc/passwd").is_err());
        assert!(member_name(b"\xff").is_err());
    }

    #[test]
    fn archive_round_trip() {
        let members = vec![
            (".".to_string(), None, 0),
            ("a.txt".to_string(), Some(b"A".to_vec()), 0),
            ("d".to_string(), None, 0),
            ("d/b.bin".to_string(), Some(vec![0, 1, 2, 255]), 0),
        ];
        let archive = build_archive(members).unwrap();
        let entries = read_archive(&archive).unwrap();
        let names: Vec<String> = entries
            .iter()
            .map(|e| match e {
                ExtractEntry::Dir(n) => format!("{n}/"),
                ExtractEntry::File(n, c) => format!("{n}:{}", c.len()),
            })
            .collect();
        assert_eq!(names, ["a.txt:1", "d/", "d/b.bin:4"]);
        assert!(read_archive(b"not gzip").is_err());
    }
}
