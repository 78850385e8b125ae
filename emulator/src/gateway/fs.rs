//! The only way to change a workspace's files ([`mutate`], under the store lock, telling the
//! file watchers what changed) and to read them in place ([`view`]). Kept apart from the tree
//! itself (`files.rs`) so that the tree does not depend on the state that holds it.

use super::files::{ChangeKind, FileTree, FsChange, FsDone, FsError, FsOp};
use crate::live::{ChangeOp, Live};
use crate::state::Shared;

/// Applies `op` to the workspace's tree under the store lock and passes what changed to
/// [`notify_changes`] (still under the lock, so watchers see changes in the order they were
/// made). The only way to change a workspace's files.
pub fn mutate(state: &Shared, workspace_id: &str, op: FsOp<'_>) -> Result<FsDone, FsError> {
    let mut store = state.store();
    let workspace = store
        .workspace_mut(workspace_id)
        .ok_or(FsError::WorkspaceGone)?;
    let result = workspace.files.apply(op);
    let changes = workspace.files.take_changes();
    if !changes.is_empty() {
        notify_changes(&workspace.live, &changes);
    }
    result
}

/// Called after every mutation with what it changed, in order: the workspace's file watchers
/// (`crate::live`) queue a `change` event for each path under their root. Runs under the store
/// lock; it takes only the workspace's `Live` lock (the documented lock order).
pub fn notify_changes(live: &Live, changes: &[FsChange]) {
    for change in changes {
        let op = match change.kind {
            ChangeKind::Create => ChangeOp::Create,
            ChangeKind::Write => ChangeOp::Write,
            ChangeKind::Remove => ChangeOp::Remove,
        };
        live.file_changed(&change.path, op);
    }
}

/// Runs `f` on the workspace's tree (read-only) under the store lock: keep `f` short.
pub fn view<R>(
    state: &Shared,
    workspace_id: &str,
    f: impl FnOnce(&FileTree) -> R,
) -> Result<R, FsError> {
    let store = state.store();
    let workspace = store
        .workspace(workspace_id)
        .ok_or(FsError::WorkspaceGone)?;
    Ok(f(&workspace.files))
}
