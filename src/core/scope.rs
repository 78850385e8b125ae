//! What a session token may call, refused locally before any request. The server enforces the
//! same rules (the Scoped Tokens page); refusing here saves a round trip and names the rule.

use super::error::{codes, ClientError};
use super::token::{Claims, TokenScope};
use crate::prelude::*;

fn denied(message: &str) -> ClientError {
    ClientError::new(codes::SCOPE_DENIED, message).with_status(403)
}

/// Listing and creating workspaces need a namespace-scoped token.
pub fn may_manage_namespace(claims: &Claims, action: &str) -> Result<(), ClientError> {
    match claims.scope {
        TokenScope::Workspace => {
            let mut message = String::from("A workspace-scoped token cannot ");
            message.push_str(action);
            Err(denied(&message))
        }
        _ => Ok(()),
    }
}

/// A workspace-scoped token reaches only its own workspace (and all its sub-resources); a
/// namespace token any workspace of its namespace, which only the server can tell.
pub fn may_reach(claims: &Claims, workspace_id: &str) -> Result<(), ClientError> {
    match (claims.scope, claims.workspace_id.as_deref()) {
        (TokenScope::Workspace, Some(bound)) if bound != workspace_id => Err(denied(
            "This workspace-scoped token is bound to another workspace",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(scope: TokenScope, workspace: Option<&str>) -> Claims {
        Claims {
            scope,
            namespace: Some("ns".into()),
            workspace_id: workspace.map(String::from),
            label: None,
            iat: None,
            exp: 1.0,
        }
    }

    #[test]
    fn workspace_tokens_reach_only_their_workspace() {
        let ws = claims(TokenScope::Workspace, Some("ws_a"));
        assert!(may_reach(&ws, "ws_a").is_ok());
        let refused = may_reach(&ws, "ws_b").err();
        assert_eq!(
            refused.map(|e| (e.code, e.status)),
            Some(("scope_denied".to_string(), Some(403)))
        );
        assert!(may_manage_namespace(&ws, "list workspaces").is_err());
        let ns = claims(TokenScope::Namespace, None);
        assert!(may_reach(&ns, "anything").is_ok());
        assert!(may_manage_namespace(&ns, "list workspaces").is_ok());
    }
}
