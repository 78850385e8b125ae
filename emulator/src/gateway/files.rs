//! A workspace's file system, in memory: absolute paths, directories and UTF-8 text files.
//!
//! **Every change to the tree goes through [`FileTree::insert_node`] / [`FileTree::remove_node`]**,
//! which report it to the workspace's watchers ([`crate::live::Live::file_changed`]): REST file
//! calls, exec, terminals and uploads alike. Code that changes the tree must use them (or the
//! public methods built on them), never `nodes` directly.

use crate::live::{ChangeOp, Live};
use crate::util::{iso8601, now_millis};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Node {
    Dir { modified_ms: u64 },
    File { content: String, modified_ms: u64 },
}

/// Paths are normalised (`/a/b`, root `/`); a BTreeMap keeps children next to their parent.
#[derive(Debug, Clone)]
pub struct FileTree {
    nodes: BTreeMap<String, Node>,
    /// Told of every change (the workspace's watchers); `None` for a detached tree.
    observer: Option<Arc<Live>>,
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
        }
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

fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

impl FileTree {
    /// What a fresh workspace image holds.
    pub fn seeded() -> Self {
        let now = now_millis();
        let mut tree = FileTree {
            nodes: BTreeMap::new(),
            observer: None,
        };
        for dir in ["/", "/app", "/tmp", "/home"] {
            tree.nodes
                .insert(dir.to_string(), Node::Dir { modified_ms: now });
        }
        tree.nodes.insert(
            "/app/README.md".to_string(),
            Node::File {
                content: "# Workspace\n\nThis workspace runs in the Oblien emulator.\n".to_string(),
                modified_ms: now,
            },
        );
        tree
    }

    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Reports every later change of this tree to `live` (its watchers).
    pub fn observe(&mut self, live: Arc<Live>) {
        self.observer = Some(live);
    }

    fn emit(&self, path: &str, op: ChangeOp) {
        if let Some(live) = &self.observer {
            live.file_changed(path, op);
        }
    }

    /// Inserts or replaces a node at a normalised path, and reports it: `create` for a new path,
    /// `write` for a file replaced or changed. (A directory that already exists stays silent.)
    pub fn insert_node(&mut self, path: String, node: Node) {
        let op = match (self.nodes.get(&path), &node) {
            (None, _) => Some(ChangeOp::Create),
            (Some(Node::Dir { .. }), Node::Dir { .. }) => None,
            _ => Some(ChangeOp::Write),
        };
        self.nodes.insert(path.clone(), node);
        if let Some(op) = op {
            self.emit(&path, op);
        }
    }

    /// Removes a node (not its children) at a normalised path, and reports `remove`.
    pub fn remove_node(&mut self, path: &str) -> Option<Node> {
        let node = self.nodes.remove(path)?;
        self.emit(path, ChangeOp::Remove);
        Some(node)
    }

    /// Number of directories at and under `path` (normalised), skipping those `skip` rejects.
    pub fn count_dirs(&self, path: &str, skip: impl Fn(&str) -> bool) -> usize {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let own =
            usize::from(matches!(self.nodes.get(path), Some(Node::Dir { .. })) && !skip(path));
        own + self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, n)| p.as_str() != path && matches!(n, Node::Dir { .. }) && !skip(p))
            .count()
    }

    fn entry_json(&self, path: &str, node: &Node) -> Value {
        let (kind, size, modified) = match node {
            Node::Dir { modified_ms } => ("directory", 0, *modified_ms),
            Node::File {
                content,
                modified_ms,
            } => ("file", content.len(), *modified_ms),
        };
        json!({
            "name": if path == "/" { "/" } else { name_of(path) },
            "path": path,
            "type": kind,
            "size": size,
            "modified": iso8601(modified),
        })
    }

    pub fn stat(&self, path: &str) -> Result<Value, FsError> {
        let path = normalize(path)?;
        let node = self.nodes.get(&path).ok_or(FsError::NotFound)?;
        Ok(self.entry_json(&path, node))
    }

    /// Direct children of a directory, or every descendant with `nested`.
    pub fn list(&self, path: &str, nested: bool) -> Result<(String, Vec<Value>), FsError> {
        let path = normalize(path)?;
        match self.nodes.get(&path) {
            None => return Err(FsError::NotFound),
            Some(Node::File { .. }) => return Err(FsError::NotADirectory),
            Some(Node::Dir { .. }) => {}
        }
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        let entries = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter(|(p, _)| nested || !p[prefix.len()..].contains('/'))
            .filter(|(p, _)| p.as_str() != "/")
            .map(|(p, n)| self.entry_json(p, n))
            .collect();
        Ok((path, entries))
    }

    pub fn read(&self, path: &str) -> Result<(String, &str), FsError> {
        let path = normalize(path)?;
        match self.nodes.get(&path) {
            None => Err(FsError::NotFound),
            Some(Node::Dir { .. }) => Err(FsError::IsADirectory),
            Some(Node::File { content, .. }) => Ok((path, content.as_str())),
        }
    }

    /// Writes (or appends to) a file; returns its normalised path and new size.
    pub fn write(
        &mut self,
        path: &str,
        content: &str,
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
            None if create_dirs => self.mkdir(&parent_path)?,
            None => return Err(FsError::ParentMissing),
        }
        let now = now_millis();
        let size = match self.nodes.get_mut(&path) {
            Some(Node::Dir { .. }) => return Err(FsError::IsADirectory),
            Some(Node::File {
                content: existing,
                modified_ms,
            }) => {
                if append {
                    existing.push_str(content);
                } else {
                    *existing = content.to_string();
                }
                *modified_ms = now;
                let size = existing.len();
                self.emit(&path, ChangeOp::Write);
                size
            }
            None => {
                self.insert_node(
                    path.clone(),
                    Node::File {
                        content: content.to_string(),
                        modified_ms: now,
                    },
                );
                content.len()
            }
        };
        Ok((path, size))
    }

    /// `mkdir -p`.
    pub fn mkdir(&mut self, path: &str) -> Result<(), FsError> {
        let path = normalize(path)?;
        let now = now_millis();
        let mut current = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            current.push('/');
            current.push_str(part);
            match self.nodes.get(&current) {
                Some(Node::Dir { .. }) => {}
                Some(Node::File { .. }) => return Err(FsError::AlreadyExists),
                None => self.insert_node(current.clone(), Node::Dir { modified_ms: now }),
            }
        }
        Ok(())
    }

    /// `rm -r`.
    pub fn delete(&mut self, path: &str) -> Result<String, FsError> {
        let path = normalize(path)?;
        if path == "/" {
            return Err(FsError::RootProtected);
        }
        if !self.nodes.contains_key(&path) {
            return Err(FsError::NotFound);
        }
        // Children first, deepest first (as `rm -r` removes them), then the path itself.
        let prefix = format!("{path}/");
        let children: Vec<String> = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect();
        for child in children.iter().rev() {
            self.remove_node(child);
        }
        self.remove_node(&path);
        Ok(path)
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
            t.write("/app/x/y.txt", "hi", false, false),
            Err(FsError::ParentMissing)
        );
        assert_eq!(
            t.write("/app/x/y.txt", "hi", true, false),
            Ok(("/app/x/y.txt".into(), 2))
        );
        assert_eq!(
            t.write("/app/x/y.txt", "!", false, true),
            Ok(("/app/x/y.txt".into(), 3))
        );
        assert_eq!(
            t.read("/app/x/y.txt").map(|r| r.1.to_string()),
            Ok("hi!".to_string())
        );
        let (_, entries) = t.list("/app", false).unwrap();
        let names: Vec<_> = entries
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["README.md", "x"]);
        assert_eq!(t.list("/app", true).unwrap().1.len(), 3);
        assert!(t.delete("/app/x").is_ok());
        assert_eq!(t.read("/app/x/y.txt"), Err(FsError::NotFound));
        assert_eq!(t.delete("/"), Err(FsError::RootProtected));
    }
}
