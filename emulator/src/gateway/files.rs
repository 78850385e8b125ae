//! A workspace's file system, in memory: absolute paths, directories and files (bytes; the JSON
//! endpoints read and write UTF-8 text, transfer and the shell any bytes).
//!
//! **Every mutation goes through [`mutate`]** (the gateway's files endpoints, the shell's
//! `mkdir`/`rm`/`touch`/redirections, archive uploads): the tree's mutating methods are private.
//! Each mutation journals what it changed ([`FsChange`]); `mutate` hands the journal to
//! [`notify_changes`], the one place to hook file watchers on.

use crate::util::{iso8601, now_millis};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Largest file the tree holds, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Largest total of file bytes per workspace (the "disk").
pub const MAX_TREE_BYTES: usize = 64 * 1024 * 1024;
/// Most files and directories per workspace.
pub const MAX_NODES: usize = 100_000;

#[derive(Debug, Clone)]
pub enum Node {
    Dir { modified_ms: u64 },
    File { content: Vec<u8>, modified_ms: u64 },
}

/// What a mutation did to one path (file-watcher vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Write,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsChange {
    pub path: String,
    pub kind: ChangeKind,
    /// True when `path` is (was) a directory.
    pub is_dir: bool,
}

/// A node found by a walk: its path and the node.
pub type Found<'a> = (&'a str, &'a Node);

/// Paths are normalised (`/a/b`, root `/`); a BTreeMap keeps children next to their parent.
#[derive(Debug, Clone)]
pub struct FileTree {
    nodes: BTreeMap<String, Node>,
    /// Sum of file sizes.
    bytes: usize,
    /// Changes since the last [`FileTree::take_changes`].
    journal: Vec<FsChange>,
}

/// One mutation of a workspace's tree. Paths are absolute (normalised here).
#[derive(Debug, Clone)]
pub enum FsOp<'a> {
    /// Write or append; `create_dirs` makes missing parents (`mkdir -p`).
    Write {
        path: &'a str,
        content: &'a [u8],
        create_dirs: bool,
        append: bool,
    },
    /// `mkdir -p` when `parents`, else `mkdir` (the parent must exist, the path must not).
    Mkdir { path: &'a str, parents: bool },
    /// `rm -r` when `recursive`, else `rm` (files only: a directory is `IsADirectory`).
    Delete { path: &'a str, recursive: bool },
    /// `touch`: creates an empty file (parent must exist) or updates the modification time.
    Touch { path: &'a str },
    /// Creates directories and writes files under `dest` (an archive upload), all or nothing on
    /// quota: paths in `entries` are relative and already checked.
    Extract {
        dest: &'a str,
        entries: &'a [ExtractEntry],
    },
}

/// One member of an archive being extracted.
#[derive(Debug, Clone)]
pub enum ExtractEntry {
    Dir(String),
    File(String, Vec<u8>),
}

/// What [`mutate`] reports: the normalised path, the file's new size (writes), how many files
/// were written (extract).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsDone {
    pub path: String,
    pub size: usize,
    pub files: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FsError {
    InvalidPath,
    NotFound,
    NotADirectory,
    IsADirectory,
    AlreadyExists,
    ParentMissing,
    RootProtected,
    /// Over [`MAX_FILE_BYTES`], [`MAX_TREE_BYTES`] or [`MAX_NODES`].
    NoSpace,
    /// The workspace was deleted meanwhile.
    WorkspaceGone,
}

impl FsError {
    pub fn describe(&self) -> (u16, &'static str, &'static str) {
        match self {
            FsError::InvalidPath => (400, "validation_error", "path must be an absolute path"),
            FsError::NotFound => (404, "not_found", "No such file or directory"),
            FsError::NotADirectory => (400, "not_a_directory", "Not a directory"),
            FsError::IsADirectory => (400, "is_a_directory", "Is a directory"),
            FsError::AlreadyExists => (409, "conflict", "A file with that name already exists"),
            FsError::ParentMissing => (
                404,
                "not_found",
                "The parent directory does not exist (use create_dirs)",
            ),
            FsError::RootProtected => (
                400,
                "validation_error",
                "The root directory cannot be deleted",
            ),
            FsError::NoSpace => (
                507,
                "insufficient_storage",
                "No space left on device (the emulator's per-workspace quota)",
            ),
            FsError::WorkspaceGone => {
                (404, "workspace_not_found", "The workspace no longer exists")
            }
        }
    }

    /// The message a shell command prints for it (`No such file or directory`, …).
    pub fn strerror(&self) -> &'static str {
        match self {
            FsError::InvalidPath | FsError::NotFound | FsError::ParentMissing => {
                "No such file or directory"
            }
            FsError::NotADirectory => "Not a directory",
            FsError::IsADirectory => "Is a directory",
            FsError::AlreadyExists => "File exists",
            FsError::RootProtected => "Operation not permitted",
            FsError::NoSpace => "No space left on device",
            FsError::WorkspaceGone => "Input/output error",
        }
    }
}

/// The parent directory of a normalised path (`None` for the root).
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// The last component of a normalised path (`/` for the root).
pub fn name_of(path: &str) -> &str {
    if path == "/" {
        return "/";
    }
    path.rsplit('/').next().unwrap_or("")
}

/// `base` joined with a relative or absolute `path`, normalised.
pub fn resolve(base: &str, path: &str) -> Result<String, FsError> {
    if path.starts_with('/') {
        normalize(path)
    } else if base == "/" {
        normalize(&format!("/{path}"))
    } else {
        normalize(&format!("{base}/{path}"))
    }
}

/// A file's extension without the dot (`rs` for `/a/b.rs`), if it has one.
pub fn extension_of(path: &str) -> Option<&str> {
    let name = name_of(path);
    match name.rfind('.') {
        Some(0) | None => None,
        Some(i) if i + 1 < name.len() => Some(&name[i + 1..]),
        _ => None,
    }
}

/// `/a/./b//c/../d` → `/a/b/d`; relative paths and `..` above the root are refused.
pub fn normalize(path: &str) -> Result<String, FsError> {
    if !path.starts_with('/') || path.contains('\0') {
        return Err(FsError::InvalidPath);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(FsError::InvalidPath)?;
            }
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

impl FileTree {
    /// What a fresh workspace image holds.
    pub fn seeded() -> Self {
        let now = now_millis();
        let mut tree = FileTree {
            nodes: BTreeMap::new(),
            bytes: 0,
            journal: Vec::new(),
        };
        for dir in ["/", "/app", "/home", "/root", "/tmp"] {
            tree.nodes
                .insert(dir.to_string(), Node::Dir { modified_ms: now });
        }
        let readme = b"# Workspace\n\nThis workspace runs in the Oblien emulator.\n".to_vec();
        tree.bytes = readme.len();
        tree.nodes.insert(
            "/app/README.md".to_string(),
            Node::File {
                content: readme,
                modified_ms: now,
            },
        );
        tree
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Total bytes of all files.
    #[cfg(test)]
    pub fn total_bytes(&self) -> usize {
        self.bytes
    }

    /// `(path, node)` for `path` and everything under it, in path order (a directory before its
    /// children). `path` must be normalised.
    pub fn walk<'a>(&'a self, path: &str) -> impl Iterator<Item = (&'a str, &'a Node)> + 'a {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let this = self.nodes.get_key_value(path);
        this.into_iter()
            .chain(
                self.nodes
                    .range(prefix.clone()..)
                    .take_while(move |(p, _)| p.starts_with(&prefix))
                    .filter(|(p, _)| p.as_str() != "/"),
            )
            .map(|(p, n)| (p.as_str(), n))
    }

    pub fn entry_json(&self, path: &str, node: &Node) -> Value {
        let (kind, size, modified) = match node {
            Node::Dir { modified_ms } => ("directory", 0, *modified_ms),
            Node::File {
                content,
                modified_ms,
            } => ("file", content.len(), *modified_ms),
        };
        let mut entry = json!({
            "name": name_of(path),
            "path": path,
            "type": kind,
            "size": size,
            "modified": iso8601(modified),
        });
        if let (Node::File { .. }, Some(ext), Some(obj)) =
            (node, extension_of(path), entry.as_object_mut())
        {
            obj.insert("extension".into(), Value::from(ext));
        }
        entry
    }

    pub fn stat(&self, path: &str) -> Result<Value, FsError> {
        let path = normalize(path)?;
        let node = self.nodes.get(&path).ok_or(FsError::NotFound)?;
        Ok(self.entry_json(&path, node))
    }

    /// Direct children of a directory, or every descendant with `nested`.
    #[cfg(test)]
    pub fn list(&self, path: &str, nested: bool) -> Result<(String, Vec<Value>), FsError> {
        let depth = if nested { None } else { Some(1) };
        let (path, found) = self.descendants(path, depth)?;
        let entries = found
            .into_iter()
            .map(|(p, n)| self.entry_json(p, n))
            .collect();
        Ok((path, entries))
    }

    /// Descendants of a directory down to `max_depth` levels (1 = direct children; `None` = all).
    pub fn descendants(
        &self,
        path: &str,
        max_depth: Option<usize>,
    ) -> Result<(String, Vec<Found<'_>>), FsError> {
        let path = normalize(path)?;
        match self.nodes.get(&path) {
            None => return Err(FsError::NotFound),
            Some(Node::File { .. }) => return Err(FsError::NotADirectory),
            Some(Node::Dir { .. }) => {}
        }
        let base = if path == "/" { 0 } else { path.len() };
        let found = self
            .walk(&path)
            .filter(|(p, _)| *p != path)
            .filter(|(p, _)| max_depth.is_none_or(|d| p[base + 1..].matches('/').count() < d))
            .collect();
        Ok((path, found))
    }

    pub fn read(&self, path: &str) -> Result<(String, &[u8]), FsError> {
        let path = normalize(path)?;
        match self.nodes.get(&path) {
            None => Err(FsError::NotFound),
            Some(Node::Dir { .. }) => Err(FsError::IsADirectory),
            Some(Node::File { content, .. }) => Ok((path, content.as_slice())),
        }
    }

    /// What changed since the last call.
    pub(super) fn take_changes(&mut self) -> Vec<FsChange> {
        std::mem::take(&mut self.journal)
    }

    fn record(&mut self, path: &str, kind: ChangeKind, is_dir: bool) {
        self.journal.push(FsChange {
            path: path.to_string(),
            kind,
            is_dir,
        });
    }

    pub(super) fn apply(&mut self, op: FsOp<'_>) -> Result<FsDone, FsError> {
        match op {
            FsOp::Write {
                path,
                content,
                create_dirs,
                append,
            } => self
                .write(path, content, create_dirs, append)
                .map(|(path, size)| FsDone {
                    path,
                    size,
                    files: 1,
                }),
            FsOp::Mkdir { path, parents } => {
                let path = normalize(path)?;
                if parents {
                    self.mkdir_p(&path)?;
                } else {
                    self.mkdir_one(&path)?;
                }
                Ok(FsDone {
                    path,
                    ..FsDone::default()
                })
            }
            FsOp::Delete { path, recursive } => self.delete(path, recursive).map(|path| FsDone {
                path,
                ..FsDone::default()
            }),
            FsOp::Touch { path } => self.touch(path).map(|path| FsDone {
                path,
                ..FsDone::default()
            }),
            FsOp::Extract { dest, entries } => self.extract(dest, entries),
        }
    }

    /// Room for `extra` more bytes in one file of `new_size` bytes, `new_nodes` more nodes.
    fn check_space(&self, new_size: usize, extra: usize, new_nodes: usize) -> Result<(), FsError> {
        if new_size > MAX_FILE_BYTES
            || self.bytes.saturating_add(extra) > MAX_TREE_BYTES
            || self.nodes.len().saturating_add(new_nodes) > MAX_NODES
        {
            return Err(FsError::NoSpace);
        }
        Ok(())
    }

    /// Writes (or appends to) a file; returns its normalised path and new size.
    fn write(
        &mut self,
        path: &str,
        content: &[u8],
        create_dirs: bool,
        append: bool,
    ) -> Result<(String, usize), FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::IsADirectory);
        }
        let parent_path = parent(&path).unwrap_or("/").to_string();
        match self.nodes.get(&parent_path) {
            Some(Node::Dir { .. }) => {}
            Some(Node::File { .. }) => return Err(FsError::NotADirectory),
            None if create_dirs => self.mkdir_p(&parent_path)?,
            None => return Err(FsError::ParentMissing),
        }
        let now = now_millis();
        let (old, exists) = match self.nodes.get(&path) {
            Some(Node::Dir { .. }) => return Err(FsError::IsADirectory),
            Some(Node::File { content, .. }) => (content.len(), true),
            None => (0, false),
        };
        let new_size = if append {
            old.saturating_add(content.len())
        } else {
            content.len()
        };
        self.check_space(new_size, new_size.saturating_sub(old), usize::from(!exists))?;
        match self.nodes.get_mut(&path) {
            Some(Node::File {
                content: existing,
                modified_ms,
            }) => {
                if append {
                    existing.extend_from_slice(content);
                } else {
                    existing.clear();
                    existing.extend_from_slice(content);
                }
                *modified_ms = now;
            }
            _ => {
                self.nodes.insert(
                    path.clone(),
                    Node::File {
                        content: content.to_vec(),
                        modified_ms: now,
                    },
                );
            }
        }
        self.bytes = self.bytes - old + new_size;
        if !exists {
            self.record(&path, ChangeKind::Create, false);
        }
        self.record(&path, ChangeKind::Write, false);
        Ok((path, new_size))
    }

    /// `mkdir -p` of a normalised path.
    fn mkdir_p(&mut self, path: &str) -> Result<(), FsError> {
        let now = now_millis();
        let mut current = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            current.push('/');
            current.push_str(part);
            match self.nodes.get(&current) {
                Some(Node::Dir { .. }) => {}
                Some(Node::File { .. }) => return Err(FsError::AlreadyExists),
                None => {
                    self.check_space(0, 0, 1)?;
                    self.nodes
                        .insert(current.clone(), Node::Dir { modified_ms: now });
                    let created = current.clone();
                    self.record(&created, ChangeKind::Create, true);
                }
            }
        }
        Ok(())
    }

    /// `mkdir` (no `-p`) of a normalised path.
    fn mkdir_one(&mut self, path: &str) -> Result<(), FsError> {
        if self.nodes.contains_key(path) {
            return Err(FsError::AlreadyExists);
        }
        match parent(path).and_then(|p| self.nodes.get(p)) {
            Some(Node::Dir { .. }) => {}
            Some(Node::File { .. }) => return Err(FsError::NotADirectory),
            None => return Err(FsError::ParentMissing),
        }
        self.check_space(0, 0, 1)?;
        self.nodes.insert(
            path.to_string(),
            Node::Dir {
                modified_ms: now_millis(),
            },
        );
        self.record(path, ChangeKind::Create, true);
        Ok(())
    }

    /// `rm -r` (`recursive`) or `rm`.
    fn delete(&mut self, path: &str, recursive: bool) -> Result<String, FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::RootProtected);
        }
        let is_dir = match self.nodes.get(&path) {
            None => return Err(FsError::NotFound),
            Some(Node::Dir { .. }) => true,
            Some(Node::File { .. }) => false,
        };
        if is_dir && !recursive {
            return Err(FsError::IsADirectory);
        }
        // Children first (deepest paths last in order, so reverse), then the node itself.
        let removed: Vec<(String, bool)> = self
            .walk(&path)
            .map(|(p, n)| (p.to_string(), matches!(n, Node::Dir { .. })))
            .collect();
        for (p, dir) in removed.iter().rev() {
            if let Some(Node::File { content, .. }) = self.nodes.remove(p) {
                self.bytes -= content.len();
            }
            self.record(p, ChangeKind::Remove, *dir);
        }
        Ok(path)
    }

    fn touch(&mut self, path: &str) -> Result<String, FsError> {
        let path = normalize(path)?;
        match self.nodes.get_mut(&path) {
            Some(Node::Dir { modified_ms } | Node::File { modified_ms, .. }) => {
                *modified_ms = now_millis();
                Ok(path)
            }
            None => self.write(&path, b"", false, true).map(|(p, _)| p),
        }
    }

    fn extract(&mut self, dest: &str, entries: &[ExtractEntry]) -> Result<FsDone, FsError> {
        let dest = normalize(dest)?;
        // Quota for the whole archive first: all or nothing.
        let mut extra = 0usize;
        for entry in entries {
            if let ExtractEntry::File(_, content) = entry {
                if content.len() > MAX_FILE_BYTES {
                    return Err(FsError::NoSpace);
                }
                extra = extra.saturating_add(content.len());
            }
        }
        self.check_space(0, extra, entries.len())?;
        self.mkdir_p(&dest)?;
        let mut files = 0;
        for entry in entries {
            match entry {
                ExtractEntry::Dir(rel) => {
                    self.mkdir_p(&resolve(&dest, rel)?)?;
                }
                ExtractEntry::File(rel, content) => {
                    self.write(&resolve(&dest, rel)?, content, true, false)?;
                    files += 1;
                }
            }
        }
        Ok(FsDone {
            path: dest,
            size: 0,
            files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths() {
        assert_eq!(normalize("/a/./b//c/../d").as_deref(), Ok("/a/b/d"));
        assert_eq!(normalize("/").as_deref(), Ok("/"));
        assert_eq!(normalize("a/b"), Err(FsError::InvalidPath));
        assert_eq!(normalize("/.."), Err(FsError::InvalidPath));
    }

    #[test]
    fn write_list_read_delete() {
        let mut t = FileTree::seeded();
        assert_eq!(
            t.write("/app/x/y.txt", b"hi", false, false),
            Err(FsError::ParentMissing)
        );
        assert_eq!(
            t.write("/app/x/y.txt", b"hi", true, false),
            Ok(("/app/x/y.txt".into(), 2))
        );
        assert_eq!(
            t.write("/app/x/y.txt", b"!", false, true),
            Ok(("/app/x/y.txt".into(), 3))
        );
        assert_eq!(
            t.read("/app/x/y.txt").map(|r| r.1.to_vec()),
            Ok(b"hi!".to_vec())
        );
        let (_, entries) = t.list("/app", false).unwrap();
        let names: Vec<_> = entries
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["README.md", "x"]);
        assert_eq!(t.list("/app", true).unwrap().1.len(), 3);
        assert_eq!(t.delete("/app/x", false), Err(FsError::IsADirectory));
        assert!(t.delete("/app/x", true).is_ok());
        assert_eq!(t.read("/app/x/y.txt"), Err(FsError::NotFound));
        assert_eq!(t.delete("/", true), Err(FsError::RootProtected));
    }

    #[test]
    fn journal_and_quota() {
        let mut t = FileTree::seeded();
        let before = t.total_bytes();
        t.apply(FsOp::Write {
            path: "/a/b/c.txt",
            content: b"abc",
            create_dirs: true,
            append: false,
        })
        .unwrap();
        let kinds: Vec<_> = t
            .take_changes()
            .into_iter()
            .map(|c| (c.path, c.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                ("/a".to_string(), ChangeKind::Create),
                ("/a/b".to_string(), ChangeKind::Create),
                ("/a/b/c.txt".to_string(), ChangeKind::Create),
                ("/a/b/c.txt".to_string(), ChangeKind::Write),
            ]
        );
        assert_eq!(t.total_bytes(), before + 3);
        t.apply(FsOp::Delete {
            path: "/a",
            recursive: true,
        })
        .unwrap();
        let removed: Vec<_> = t.take_changes().into_iter().map(|c| c.path).collect();
        assert_eq!(removed, ["/a/b/c.txt", "/a/b", "/a"]);
        assert_eq!(t.total_bytes(), before);
        let big = vec![b'x'; MAX_FILE_BYTES + 1];
        assert_eq!(
            t.write("/tmp/big", &big, false, false),
            Err(FsError::NoSpace)
        );
        assert_eq!(t.mkdir_one("/tmp/x/y"), Err(FsError::ParentMissing));
        assert_eq!(t.mkdir_one("/tmp"), Err(FsError::AlreadyExists));
    }

    #[test]
    fn depth_and_helpers() {
        let mut t = FileTree::seeded();
        t.write("/app/a/b/c.txt", b"", true, false).unwrap();
        let (_, one) = t.descendants("/app", Some(1)).unwrap();
        assert_eq!(one.len(), 2);
        let (_, two) = t.descendants("/app", Some(2)).unwrap();
        assert_eq!(two.len(), 3);
        assert_eq!(t.descendants("/app", None).unwrap().1.len(), 4);
        assert_eq!(resolve("/app", "../tmp/x").as_deref(), Ok("/tmp/x"));
        assert_eq!(resolve("/", "x").as_deref(), Ok("/x"));
        assert_eq!(extension_of("/a/b.tar.gz"), Some("gz"));
        assert_eq!(extension_of("/a/.bashrc"), None);
        assert_eq!(name_of("/"), "/");
    }
}
