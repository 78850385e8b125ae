//! The core's decisions behind `workspaces.start|stop|restart|stats` and
//! `workspaces.apiAccess.*`: gateway tokens handed back by the API go into the live cell and never
//! into a result; the app's `disable` is never undone by a mint (not even one racing it) until its
//! `enable`; a stopped workspace's 503 `workspace_not_running` is answered at once, not retried.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use oblien_user_client::core::cell::TokenCell;
use oblien_user_client::core::error::{codes, ClientError};
use oblien_user_client::core::gateway::{Access, Registry};
use oblien_user_client::core::request::{self, Retries};
use oblien_user_client::core::runtime::TransportError;
use oblien_user_client::core::workspace::Call;
use oblien_user_client::core::{api, json};
use std::cell::RefCell;
use std::rc::Rc;
use support::*;

const WS: &str = "ws_1";
const BASE: &str = "https://api.test";
const GATEWAY: &str = "https://gw.test/health";

/// The server side of one workspace: its internal server's state and connection token
/// generation (a rotation bumps it and kills every earlier gateway token).
#[derive(Default)]
struct Server {
    enabled: bool,
    generation: u32,
    running: bool,
    /// The gateway tokens issued for the current connection token.
    valid: Vec<String>,
    /// Statuses the next requests to these paths get instead of the normal answer.
    refuse: Vec<(&'static str, u16)>,
}

struct Lab {
    env: Env,
    registry: Rc<Registry>,
    server: Rc<RefCell<Server>>,
}

fn gateway_jwt(workspace: &str, generation: u32, iat_s: f64) -> String {
    jwt(&format!(
        r#"{{"workspaceId":"{workspace}","gen":{generation},"iat":{iat_s},"exp":{}}}"#,
        iat_s + 3600.0
    ))
}

impl Lab {
    fn new(enabled: bool) -> Self {
        let env = Env::default();
        let registry = Registry::new(env.rt.clone(), env.api(), BASE.into());
        let server = Rc::new(RefCell::new(Server {
            enabled,
            running: true,
            ..Server::default()
        }));
        let lab = Lab {
            env,
            registry,
            server,
        };
        lab.serve();
        lab
    }

    fn serve(&self) {
        let rt = self.env.rt.clone();
        let server = self.server.clone();
        self.env.transport.respond(move |sent| {
            let now_s = (T0_MS + rt.mono_ms()) / 1000.0;
            let mut s = server.borrow_mut();
            let path = sent
                .url
                .trim_start_matches(BASE)
                .trim_start_matches("/workspace/ws_1");
            if let Some(i) = s.refuse.iter().position(|(p, _)| *p == path) {
                let (_, status) = s.refuse.remove(i);
                return Reply::error(status, "not_found", "refused");
            }
            let token = |s: &mut Server| {
                let token = gateway_jwt(WS, s.generation, now_s);
                s.valid.push(token.clone());
                Reply::text(
                    200,
                    &format!(r#"{{"success":true,"enabled":true,"token":"{token}"}}"#),
                )
            };
            let disabled = || Reply::error(409, codes::INTERNAL_API_DISABLED, "disabled");
            match (sent.method, path) {
                ("GET", "/runtime-api-access") => Reply::text(
                    200,
                    &format!(
                        r#"{{"success":true,"enabled":{},"running":true}}"#,
                        s.enabled
                    ),
                ),
                ("POST", "/runtime-api-access/enable") => {
                    s.enabled = true;
                    token(&mut s)
                }
                ("POST", "/runtime-api-access/disable") => {
                    s.enabled = false;
                    Reply::text(200, r#"{"success":true,"enabled":false}"#)
                }
                ("GET", "/runtime-api-access/token") if s.enabled => token(&mut s),
                ("POST", "/runtime-api-access/token" | "/runtime-api-access/reconnect")
                    if s.enabled =>
                {
                    s.generation += 1;
                    s.valid.clear();
                    token(&mut s)
                }
                (_, "/runtime-api-access/token" | "/runtime-api-access/reconnect") => disabled(),
                ("GET", "https://gw.test/health") => {
                    let current = s.valid.contains(&sent.bearer);
                    if !s.enabled {
                        Reply::error(403, codes::INTERNAL_API_DISABLED, "disabled")
                    } else if !s.running {
                        Reply::error(503, codes::WORKSPACE_NOT_RUNNING, "stopped").retry_after("1")
                    } else if current {
                        Reply::text(200, r#"{"status":"ok"}"#)
                    } else {
                        Reply::error(401, "token_revoked", "rotated")
                    }
                }
                _ => Reply::error(404, "not_found", "unexpected"),
            }
        });
    }

    /// A gateway call with the workspace's live cell (what a runtime handle does per call).
    fn gateway_call(&self) -> Result<String, ClientError> {
        let cell = self.registry.cell(WS);
        let (rt, transport) = (self.env.rt.clone(), self.env.transport.clone());
        let outcome = self.env.spawn(async move {
            let request = api::get(GATEWAY.into());
            let send = |bearer: &str| transport.send(&request, bearer);
            let response =
                request::send_authorised(&cell, &*rt, Retries::for_method("GET"), &send).await?;
            request::into_result(response)
        });
        self.env.settle();
        outcome.result()
    }

    fn access(&self, call: Access) -> Result<String, ClientError> {
        let outcome = self.spawn_access(call);
        self.env.settle();
        outcome.result()
    }

    fn spawn_access(&self, call: Access) -> Outcome {
        let (registry, api) = (self.registry.clone(), self.env.api());
        self.env
            .spawn(async move { registry.access(&*api, WS, call).await })
    }

    fn acquire(&self, cell: &Rc<TokenCell>) -> Result<String, ClientError> {
        let cell = cell.clone();
        let outcome = self
            .env
            .spawn(async move { cell.acquire().await.map(|lease| lease.secret) });
        self.env.settle();
        outcome.result()
    }

    /// "METHOD path" of every request since the `from`-th.
    fn sent_since(&self, from: usize) -> Vec<String> {
        self.env.transport.log()[from..]
            .iter()
            .map(|s| {
                let path = s
                    .url
                    .trim_start_matches(BASE)
                    .replace("/workspace/ws_1", "");
                format!("{} {path}", s.method)
            })
            .collect()
    }
}

fn has_token(text: &str) -> bool {
    json::object(text).is_some_and(|members| json::last(&members, "token").is_some())
}

// ---------------------------------------------------------------------------------------------
// Requests

#[test]
fn access_calls_use_the_sdk_paths() {
    let shown = |call: Access| {
        let r = call.request(BASE, "ws 1");
        format!("{} {}", r.method, r.url)
    };
    assert_eq!(
        shown(Access::Status),
        "GET https://api.test/workspace/ws%201/runtime-api-access"
    );
    assert_eq!(
        shown(Access::Enable),
        "POST https://api.test/workspace/ws%201/runtime-api-access/enable"
    );
    assert_eq!(
        shown(Access::Disable),
        "POST https://api.test/workspace/ws%201/runtime-api-access/disable"
    );
    assert_eq!(
        shown(Access::RotateToken),
        "POST https://api.test/workspace/ws%201/runtime-api-access/token"
    );
    assert_eq!(
        shown(Access::Reconnect),
        "POST https://api.test/workspace/ws%201/runtime-api-access/reconnect"
    );
}

#[test]
fn workspace_calls_use_their_paths_and_hand_back_the_workspace_or_the_body() {
    let shown = |call: Call| {
        let r = call.request(BASE, "ws/1");
        let body = r.body.map(|_| " {}").unwrap_or_default();
        format!("{} {}{body}", r.method, r.url)
    };
    let calls = [
        Call::Get,
        Call::Delete,
        Call::Start,
        Call::Stop,
        Call::Restart,
        Call::Stats,
    ];
    assert_eq!(
        calls.map(shown),
        [
            "GET https://api.test/workspace/ws%2F1",
            "DELETE https://api.test/workspace/ws%2F1",
            "POST https://api.test/workspace/ws%2F1/start {}",
            "POST https://api.test/workspace/ws%2F1/stop {}",
            "POST https://api.test/workspace/ws%2F1/restart {}",
            "GET https://api.test/workspace/ws%2F1/stats",
        ]
    );

    let lab = Lab::new(true);
    lab.env.transport.respond(|sent| {
        if sent.url.ends_with("/stats") {
            Reply::text(200, r#"{"success":true,"stats":{"running":false}}"#)
        } else {
            Reply::text(
                200,
                r#"{"success":true,"workspace":{"id":"ws_1","status":"stopped"}}"#,
            )
        }
    });
    let run = |call: Call| {
        let (registry, api) = (lab.registry.clone(), lab.env.api());
        let outcome = lab
            .env
            .spawn(async move { registry.run(&*api, WS, call).await });
        lab.env.settle();
        outcome.result()
    };
    for call in [Call::Get, Call::Start, Call::Stop, Call::Restart] {
        assert_eq!(
            run(call),
            Ok(r#"{"id":"ws_1","status":"stopped"}"#.to_string()),
            "{call:?}"
        );
    }
    assert_eq!(
        run(Call::Stats),
        Ok(r#"{"success":true,"stats":{"running":false}}"#.to_string())
    );
    lab.env
        .transport
        .respond(|_| Reply::text(200, r#"{"success":true}"#));
    assert_eq!(
        run(Call::Stop).err().map(|e| e.code),
        Some(codes::SERVER_ERROR.to_string()),
        "a stop answer without its workspace"
    );
}

#[test]
fn delete_forgets_the_token_when_the_workspace_is_gone_and_only_then() {
    let lab = Lab::new(true);
    let cell = lab.registry.cell(WS);
    let run = |call: Call| {
        let (registry, api) = (lab.registry.clone(), lab.env.api());
        let outcome = lab
            .env
            .spawn(async move { registry.run(&*api, WS, call).await });
        lab.env.settle();
        outcome.result()
    };
    let held = |cell: &Rc<TokenCell>| {
        assert!(lab.acquire(cell).is_ok());
        assert!(cell.token().is_some());
    };
    held(&cell);
    lab.env
        .transport
        .respond(|_| Reply::error(500, "server_error", "down"));
    assert!(run(Call::Delete).is_err());
    assert!(cell.token().is_some(), "forgotten after a failed delete");
    lab.env
        .transport
        .respond(|_| Reply::error(404, "not_found", "gone"));
    assert!(run(Call::Delete).is_err());
    assert!(cell.token().is_none(), "kept for a workspace that is gone");
    // The entry went with it: a handle's next call takes a new cell (`Target::cell`).
    assert!(lab.registry.is_empty());
    let cell = lab.registry.cell(WS);
    lab.serve();
    held(&cell);
    lab.env
        .transport
        .respond(|_| Reply::text(200, r#"{"success":true,"deleted":true}"#));
    assert_eq!(
        run(Call::Delete),
        Ok(r#"{"success":true,"deleted":true}"#.to_string())
    );
    assert!(cell.token().is_none());
}

// ---------------------------------------------------------------------------------------------
// Gateway tokens stay inside the client

#[test]
fn rotate_and_reconnect_hand_back_no_token_and_the_live_cell_takes_the_new_one_at_once() {
    let lab = Lab::new(true);
    let cell = lab.registry.cell(WS);
    assert_eq!(lab.gateway_call(), Ok(r#"{"status":"ok"}"#.to_string()));
    let first = cell.token().map(|t| t.secret);
    for call in [Access::RotateToken, Access::Reconnect] {
        let before = lab.env.transport.sent();
        let result = lab.access(call);
        assert_eq!(result, Ok(r#"{"success":true,"enabled":true}"#.to_string()));
        assert!(!has_token(&result.unwrap_or_default()));
        let held = cell.token().map(|t| t.secret);
        assert!(
            held.is_some() && held != first,
            "{call:?}: the cell took the new token"
        );
        // The next gateway call uses it: no 401, no mint.
        assert_eq!(lab.gateway_call(), Ok(r#"{"status":"ok"}"#.to_string()));
        let sent = lab.sent_since(before);
        assert_eq!(sent.len(), 2, "{call:?}: {sent:?}");
        assert_eq!(sent[1], "GET https://gw.test/health");
    }
}

#[test]
fn enable_hands_back_no_token_and_a_live_cell_takes_it_without_a_mint() {
    let lab = Lab::new(false);
    let cell = lab.registry.cell(WS);
    let result = lab.access(Access::Enable);
    assert_eq!(result, Ok(r#"{"success":true,"enabled":true}"#.to_string()));
    assert!(cell.token().is_some());
    let before = lab.env.transport.sent();
    assert!(lab.acquire(&cell).is_ok());
    assert_eq!(lab.env.transport.sent(), before, "a mint after enable");
}

#[test]
fn a_token_with_no_live_cell_is_dropped_and_one_for_another_workspace_is_never_held() {
    let lab = Lab::new(true);
    assert!(lab.access(Access::RotateToken).is_ok());
    assert!(lab.registry.is_empty(), "an entry nobody holds");
    // A server that hands over another workspace's token: not taken.
    let cell = lab.registry.cell(WS);
    let now_s = T0_MS / 1000.0;
    let other = format!(
        r#"{{"success":true,"token":"{}"}}"#,
        gateway_jwt("ws_2", 9, now_s)
    );
    lab.env.transport.respond(move |_| Reply::text(200, &other));
    assert_eq!(
        lab.access(Access::RotateToken),
        Ok(r#"{"success":true}"#.into())
    );
    assert!(cell.token().is_none());
}

#[test]
fn status_and_disable_results_are_as_sent() {
    let lab = Lab::new(true);
    assert_eq!(
        lab.access(Access::Status),
        Ok(r#"{"success":true,"enabled":true,"running":true}"#.into())
    );
    assert_eq!(
        lab.access(Access::Disable),
        Ok(r#"{"success":true,"enabled":false}"#.into())
    );
}

// ---------------------------------------------------------------------------------------------
// The app's disable

#[test]
fn after_disable_every_call_rejects_internal_api_disabled_without_a_request_until_enable() {
    let lab = Lab::new(true);
    let cell = lab.registry.cell(WS);
    assert!(lab.gateway_call().is_ok());
    assert!(lab.access(Access::Disable).is_ok());
    assert!(lab.registry.is_disabled(WS));
    assert!(
        cell.token().is_none(),
        "the token is dropped with the disable"
    );

    let before = lab.env.transport.sent();
    for _ in 0..5 {
        let error = lab.gateway_call().err();
        assert_eq!(
            error.map(|e| (e.code, e.status)),
            Some((codes::INTERNAL_API_DISABLED.to_string(), Some(403)))
        );
        lab.env.advance(45.0 * SECOND_MS);
    }
    // What `workspaces.runtime(id)` does (a mint through a cell), here from a new cell after the
    // old one is gone, and ten hours later: no request either.
    drop(cell);
    lab.env.advance(10.0 * HOUR_MS);
    let fresh = lab.registry.cell(WS);
    assert_eq!(
        lab.acquire(&fresh).err().map(|e| e.code),
        Some(codes::INTERNAL_API_DISABLED.to_string())
    );
    assert_eq!(lab.sent_since(before), Vec::<String>::new());
    assert!(!lab.server.borrow().enabled, "the server was enabled again");

    // enable: one request, and the handle works at once with the token it returned.
    assert!(lab.access(Access::Enable).is_ok());
    assert!(!lab.registry.is_disabled(WS));
    assert!(lab.gateway_call().is_ok());
    assert_eq!(
        lab.sent_since(before),
        [
            "POST /runtime-api-access/enable",
            "GET https://gw.test/health"
        ]
    );
}

#[test]
fn enable_ends_the_back_off_even_when_it_hands_over_no_usable_token() {
    let lab = Lab::new(true);
    let cell = lab.registry.cell(WS);
    assert!(lab.access(Access::Disable).is_ok());
    for _ in 0..8 {
        assert!(lab.gateway_call().is_err());
        lab.env.advance(31.0 * SECOND_MS);
    }
    let server = lab.server.clone();
    lab.env.transport.respond(move |_| {
        server.borrow_mut().enabled = true;
        Reply::text(200, r#"{"success":true,"enabled":true}"#)
    });
    assert!(lab.access(Access::Enable).is_ok());
    lab.serve();
    let before = lab.env.transport.sent();
    assert!(lab.acquire(&cell).is_ok(), "refused after enable");
    assert_eq!(
        lab.sent_since(before),
        ["GET /runtime-api-access", "GET /runtime-api-access/token"]
    );
}

#[test]
fn a_mint_racing_the_disable_never_enables_the_server() {
    let lab = Lab::new(false);
    let cell = lab.registry.cell(WS);
    // The mint's status call is slow: it reads "disabled" after the app's disable was sent.
    let server = lab.server.clone();
    let served = Rc::new(RefCell::new(0));
    let count = served.clone();
    let rt = lab.env.rt.clone();
    lab.env.transport.respond(move |sent| {
        *count.borrow_mut() += 1;
        let path = sent
            .url
            .trim_start_matches("https://api.test/workspace/ws_1");
        match (sent.method, path) {
            ("GET", "/runtime-api-access") => {
                Reply::text(200, r#"{"success":true,"enabled":false}"#).delayed(1_000.0)
            }
            ("POST", "/runtime-api-access/disable") => {
                server.borrow_mut().enabled = false;
                Reply::text(200, r#"{"success":true,"enabled":false}"#)
            }
            ("POST", "/runtime-api-access/enable") => {
                server.borrow_mut().enabled = true;
                let now_s = (T0_MS + rt.mono_ms()) / 1000.0;
                Reply::text(
                    200,
                    &format!(
                        r#"{{"success":true,"token":"{}"}}"#,
                        gateway_jwt(WS, 0, now_s)
                    ),
                )
            }
            _ => Reply::error(404, "not_found", "unexpected"),
        }
    });
    let waiter = {
        let cell = cell.clone();
        lab.env
            .spawn(async move { cell.acquire().await.map(|lease| lease.secret) })
    };
    lab.env.settle();
    let disabled = lab.spawn_access(Access::Disable);
    lab.env.advance(2_000.0);
    assert!(disabled.result().is_ok());
    assert_eq!(
        waiter.err().code,
        codes::INTERNAL_API_DISABLED,
        "the waiting call"
    );
    assert_eq!(
        lab.sent_since(0),
        [
            "GET /runtime-api-access",
            "POST /runtime-api-access/disable"
        ]
    );
    assert!(!lab.server.borrow().enabled);
}

#[test]
fn a_disable_the_server_refuses_is_undone_and_an_unknown_outcome_is_kept() {
    let lab = Lab::new(true);
    lab.server
        .borrow_mut()
        .refuse
        .push(("/runtime-api-access/disable", 404));
    let refused = lab.access(Access::Disable).err();
    assert_eq!(refused.map(|e| e.status), Some(Some(404)));
    assert!(!lab.registry.is_disabled(WS), "kept after the server's no");
    assert!(lab.gateway_call().is_ok());

    lab.env
        .transport
        .respond(|_| Reply::failed(TransportError::Network));
    let lost = lab.access(Access::Disable).err();
    assert_eq!(lost.map(|e| e.code), Some(codes::NETWORK_ERROR.to_string()));
    assert!(lab.registry.is_disabled(WS), "an unknown outcome undid it");
}

#[test]
fn the_apps_disable_outlives_a_new_identity_and_ends_with_the_workspace() {
    let lab = Lab::new(true);
    let _cell = lab.registry.cell(WS);
    assert!(lab.access(Access::Disable).is_ok());
    lab.registry.forget_all();
    assert!(
        lab.registry.is_disabled(WS),
        "a token swap is not the app's enable"
    );
    lab.registry.forget(WS);
    assert!(
        !lab.registry.is_disabled(WS),
        "kept after the workspace's delete"
    );
}

#[test]
fn a_rotation_while_disabled_is_refused_by_the_server_and_installs_nothing() {
    let lab = Lab::new(true);
    let cell = lab.registry.cell(WS);
    assert!(lab.access(Access::Disable).is_ok());
    let error = lab.access(Access::RotateToken).err();
    assert_eq!(
        error.map(|e| (e.code, e.status)),
        Some((codes::INTERNAL_API_DISABLED.to_string(), Some(409)))
    );
    assert!(cell.token().is_none());
}

// ---------------------------------------------------------------------------------------------
// A stopped workspace

#[test]
fn workspace_not_running_is_answered_at_once_other_503s_are_retried() {
    let lab = Lab::new(true);
    let _handle = lab.registry.cell(WS);
    assert!(lab.gateway_call().is_ok());
    lab.server.borrow_mut().running = false;
    let before = lab.env.transport.sent();
    let error = lab.gateway_call().err();
    assert_eq!(
        error.map(|e| (e.code, e.status, e.retry_after)),
        Some((codes::WORKSPACE_NOT_RUNNING.to_string(), Some(503), Some(1)))
    );
    assert_eq!(
        lab.sent_since(before),
        ["GET https://gw.test/health"],
        "a retry"
    );
    lab.server.borrow_mut().running = true;
    assert!(
        lab.gateway_call().is_ok(),
        "started again: the same token works"
    );

    // Any other 503 of a GET is still retried twice.
    let env = Env::default();
    env.transport.queue(vec![
        Reply::error(503, "maintenance", "down"),
        Reply::error(503, "maintenance", "down"),
        Reply::error(503, "maintenance", "down"),
    ]);
    let outcome = env.spawn_get();
    env.advance(5_000.0);
    assert_eq!(outcome.err().code, "maintenance");
    assert_eq!(env.transport.sent(), 3);
}
