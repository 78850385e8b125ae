//! Who is calling: an API key (`X-Client-ID` + `X-Client-Secret`) or a bearer JWT, and what that
//! credential may reach. The enforcement tables of the Scoped Tokens page live here.

use crate::error::ApiError;
use crate::jwt::{self, ScopedClaims, TYP_SCOPED, TYP_WORKSPACE_ACCESS};
use crate::state::{Scope, Shared, Workspace};
use crate::util::secure_eq;
use axum::http::{header, HeaderMap, StatusCode};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub scope: Scope,
}

/// Authenticates the request's credentials against the store.
pub fn authenticate(state: &Shared, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let client_id = header_str(headers, "x-client-id");
    let client_secret = header_str(headers, "x-client-secret");
    if client_id.is_some() || client_secret.is_some() {
        let (Some(id), Some(secret)) = (client_id, client_secret) else {
            return Err(ApiError::invalid_credentials(
                "X-Client-ID and X-Client-Secret must be sent together",
            ));
        };
        let scope = match state.store().key(id) {
            Some(key) if secure_eq(&key.client_secret, secret) => key.scope.clone(),
            _ => return Err(ApiError::invalid_credentials("Invalid API key")),
        };
        return principal_for(state, scope);
    }
    let Some(authorization) = header_str(headers, header::AUTHORIZATION.as_str()) else {
        return Err(ApiError::missing_credentials());
    };
    let token = bearer_token(authorization)
        .ok_or_else(|| ApiError::invalid_credentials("Authorization must be 'Bearer <token>'"))?;
    let claims: ScopedClaims = jwt::verify(token, &state.keys.api)
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.message()))?;
    let malformed = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The bearer token's claims are not a scoped token's",
        )
    };
    if claims.typ != TYP_SCOPED && claims.typ != TYP_WORKSPACE_ACCESS {
        return Err(malformed());
    }
    let scope = match (claims.scope.as_str(), claims.namespace, claims.workspace_id) {
        ("namespace", Some(ns), _) => Scope::Namespace(ns),
        ("workspace", _, Some(ws)) => Scope::Workspace(ws),
        _ => return Err(malformed()),
    };
    principal_for(state, scope)
}

/// Scoped keys and stateless tokens both outlive their namespace: a deleted tenant's credential
/// reaches nothing.
fn principal_for(state: &Shared, scope: Scope) -> Result<Principal, ApiError> {
    if let Scope::Namespace(ns) = &scope {
        if state.store().namespace(ns).is_none() {
            return Err(ApiError::scope_denied(
                "The credential's namespace no longer exists",
            ));
        }
    }
    Ok(Principal { scope })
}

/// `Bearer <token>` (scheme case-insensitive) → the token.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

impl Principal {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.scope {
            Scope::Admin => Ok(()),
            _ => Err(ApiError::scope_denied(format!(
                "This endpoint requires an admin-scoped API key; this credential is {}-scoped",
                self.scope.name()
            ))),
        }
    }

    /// For `GET /workspace`: `None` lists everything, `Some(ns)` filters to one namespace.
    pub fn list_filter(&self) -> Result<Option<&str>, ApiError> {
        match &self.scope {
            Scope::Admin => Ok(None),
            Scope::Namespace(ns) => Ok(Some(ns)),
            Scope::Workspace(_) => Err(ApiError::scope_denied(
                "A workspace-scoped credential cannot list workspaces",
            )),
            Scope::Billing => Err(ApiError::scope_denied(
                "A billing-scoped credential can only access credits and billing",
            )),
        }
    }

    /// For `POST /workspace`: the namespace the workspace is forced into (`None` = caller's choice).
    pub fn create_namespace(&self) -> Result<Option<&str>, ApiError> {
        match &self.scope {
            Scope::Admin => Ok(None),
            Scope::Namespace(ns) => Ok(Some(ns)),
            Scope::Workspace(_) => Err(ApiError::scope_denied(
                "A workspace-scoped credential cannot create workspaces",
            )),
            Scope::Billing => Err(ApiError::scope_denied(
                "A billing-scoped credential can only access credits and billing",
            )),
        }
    }

    /// Checked before the workspace is looked up: a workspace credential reaches only its own id.
    pub fn precheck_workspace(&self, id: &str) -> Result<(), ApiError> {
        match &self.scope {
            Scope::Workspace(bound) if bound != id => Err(ApiError::scope_denied(
                "This credential is bound to another workspace",
            )),
            Scope::Billing => Err(ApiError::scope_denied(
                "A billing-scoped credential can only access credits and billing",
            )),
            _ => Ok(()),
        }
    }

    /// Checked once the workspace is found: a namespace credential reaches its namespace only.
    pub fn check_workspace(&self, workspace: &Workspace) -> Result<(), ApiError> {
        self.precheck_workspace(&workspace.id)?;
        match &self.scope {
            Scope::Namespace(ns) if workspace.namespace.as_deref() != Some(ns.as_str()) => Err(
                ApiError::scope_denied("This workspace belongs to another namespace"),
            ),
            _ => Ok(()),
        }
    }

    /// Non-workspace services (pages, CDN, domains, …): admin only.
    pub fn require_other_services(&self) -> Result<(), ApiError> {
        match self.scope {
            Scope::Admin => Ok(()),
            _ => Err(ApiError::scope_denied(format!(
                "A {}-scoped credential cannot access this service",
                self.scope.name()
            ))),
        }
    }
}
