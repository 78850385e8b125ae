//! The calls on one workspace (`workspaces.get|delete|start|stop|restart|stats` and
//! `workspaces.apiAccess.*`): the request of each, what it resolves with, and what it means for
//! the client's gateway tokens. One path for all of them, so the binding needs one async helper.

use super::api;
use super::error::ClientError;
use super::gateway::{Access, ApiCall, Registry};
use super::request::field_object;
use super::runtime::HttpRequest;
use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `GET /workspace/{id}` → the `workspace` object.
    Get,
    /// `DELETE /workspace/{id}` → the body as sent; the workspace's gateway token is forgotten.
    Delete,
    /// `POST /workspace/{id}/start|stop|restart` → the `workspace` object.
    Start,
    Stop,
    Restart,
    /// `GET /workspace/{id}/stats` → the body as sent.
    Stats,
    /// `…/runtime-api-access…` → the body as sent, without its `token` ([`Registry::access`]).
    Access(Access),
}

impl Call {
    pub fn request(self, base_url: &str, workspace_id: &str) -> HttpRequest {
        let (rest, post) = match self {
            Call::Access(access) => return access.request(base_url, workspace_id),
            Call::Get | Call::Delete => ("", false),
            Call::Start => ("/start", true),
            Call::Stop => ("/stop", true),
            Call::Restart => ("/restart", true),
            Call::Stats => ("/stats", false),
        };
        let url = api::url(base_url, &api::workspace_path(workspace_id, rest), &[]);
        match self {
            Call::Delete => api::delete(url),
            _ if post => api::post(url, String::from("{}")),
            _ => api::get(url),
        }
    }
}

impl Registry {
    /// Runs `call` on the workspace with `api` (the session token and the caller's signal): the
    /// JSON text the call resolves with. [`Registry::begin`], the request, [`Registry::finish`]
    /// (the browser sends in between from js/fetch.js).
    pub async fn run(
        &self,
        api: &dyn ApiCall,
        workspace_id: &str,
        call: Call,
    ) -> Result<String, ClientError> {
        let (request, begun) = self.begin(workspace_id, call);
        let result = api.call(request).await;
        self.finish(workspace_id, call, begun, result)
    }

    /// The request of `call`, after what must happen before it is sent
    /// ([`Registry::access_begin`]); the flag goes to [`Registry::finish`].
    pub fn begin(&self, workspace_id: &str, call: Call) -> (HttpRequest, bool) {
        let begun = match call {
            Call::Access(access) => self.access_begin(workspace_id, access),
            _ => false,
        };
        (call.request(self.base_url(), workspace_id), begun)
    }

    /// What the call's outcome means for the gateway tokens (a deleted workspace's is forgotten;
    /// [`Registry::access_finish`]), and the JSON text it resolves with.
    pub fn finish(
        &self,
        workspace_id: &str,
        call: Call,
        begun: bool,
        result: Result<String, ClientError>,
    ) -> Result<String, ClientError> {
        if let Call::Access(access) = call {
            return self.access_finish(workspace_id, access, begun, result);
        }
        if call == Call::Delete
            && result
                .as_ref()
                .map_or_else(|e| e.status == Some(404), |_| true)
        {
            self.forget(workspace_id);
        }
        let text = result?;
        match call {
            Call::Get | Call::Start | Call::Stop | Call::Restart => {
                field_object(&text, "workspace")
            }
            _ => Ok(text),
        }
    }
}
