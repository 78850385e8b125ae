//! Decisions that used to live only in the binding, now in the core and tested natively: the
//! admission of tokens at every entry point whatever the device clock, the gateway mint protocol,
//! the gateway registry's lifetimes (no background request, forget on delete, refusal or a new
//! identity), the provisioning wait, and the retry rules of raw calls.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use oblien_user_client::core::cell::{CellEvent, Observer, TokenCell};
use oblien_user_client::core::error::codes;
use oblien_user_client::core::gateway::{self, Registry};
use oblien_user_client::core::request::{self, Retries};
use oblien_user_client::core::runtime::Runtime;
use oblien_user_client::core::token;
use std::rc::Rc;
use support::*;

const MINUTE_S: f64 = 60.0;

fn session_jwt(iat_s: f64, ttl_s: f64) -> String {
    jwt(&format!(
        r#"{{"scope":"namespace","namespace":"ns","iat":{iat_s},"exp":{}}}"#,
        iat_s + ttl_s
    ))
}

fn gateway_jwt(workspace: &str, iat_s: f64, ttl_s: f64) -> String {
    jwt(&format!(
        r#"{{"workspaceId":"{workspace}","iat":{iat_s},"exp":{}}}"#,
        iat_s + ttl_s
    ))
}

// ---------------------------------------------------------------------------------------------
// One admission rule, whatever the device clock

#[test]
fn a_device_clock_twenty_minutes_fast_admits_fresh_tokens_at_every_entry_point() {
    let env = Env::default();
    env.jump_wall(20.0 * MINUTE_MS);
    let server_now = env.host.server_now_s();
    // The constructor.
    let first = token::first_token(
        session_jwt(server_now, 15.0 * MINUTE_S),
        env.rt.arrival(),
        false,
    );
    let first = first.map_err(|e| e.code);
    assert!(
        first.is_ok(),
        "constructor refused a fresh token: {first:?}"
    );
    assert_eq!(
        first.map(|held| held.deadline_ms - held.received_ms),
        Ok(15.0 * MINUTE_MS)
    );
    // setToken.
    let secret = session_jwt(server_now, 15.0 * MINUTE_S);
    let claims = token::decode_session(&secret);
    let set = claims.and_then(|claims| env.cell.set_checked(secret, claims));
    assert!(set.is_ok(), "setToken refused a fresh token: {set:?}");
    // A refresh.
    env.host.always(HostStep::token());
    env.advance(15.0 * MINUTE_MS);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 1);
    assert!(env.refresh_errors().is_empty());
}

#[test]
fn a_device_clock_hours_slow_or_fast_never_refuses_a_constructor_token() {
    let env = Env::default();
    for jump in [-3.0 * HOUR_MS, 3.0 * HOUR_MS, 48.0 * HOUR_MS] {
        env.jump_wall(jump);
        let server_now = env.host.server_now_s();
        let held = token::first_token(session_jwt(server_now, 900.0), env.rt.arrival(), true);
        assert!(held.is_ok(), "refused at a jump of {jump} ms");
        env.jump_wall(-jump);
    }
}

#[test]
fn set_token_refuses_a_token_the_held_one_proves_expired() {
    let env = Env::default();
    env.advance(10.0 * MINUTE_MS);
    // Issued 30 min ago for 15 min: expired before tok-0 (held for 10 min) was even received.
    let stale_iat = env.host.server_now_s() - 30.0 * MINUTE_S;
    let secret = session_jwt(stale_iat, 15.0 * MINUTE_S);
    let claims = token::decode_session(&secret);
    let refused = claims.and_then(|claims| env.cell.set_checked(secret, claims));
    assert_eq!(
        refused.err().map(|e| e.code),
        Some(codes::TOKEN_EXPIRED.to_string())
    );
    assert_eq!(env.secret().as_deref(), Some("tok-0"));
}

// ---------------------------------------------------------------------------------------------
// The gateway registry

struct Gateway {
    env: Env,
    registry: Rc<Registry>,
}

const WS: &str = "ws_1";

impl Gateway {
    fn new() -> Self {
        let env = Env::default();
        let registry = Registry::new(env.rt.clone(), env.api(), "https://api.test".into());
        Gateway { env, registry }
    }

    /// Answers the mint protocol: status → enabled or not; enable / token → a gateway JWT.
    fn serve_mint(&self, enabled: bool, status_for_status: u16) {
        let rt = self.env.rt.clone();
        self.env.transport.respond(move |sent| {
            let now_s = (T0_MS + rt.mono_ms()) / 1000.0;
            let path = sent.url.trim_start_matches("https://api.test");
            match (sent.method, path) {
                ("GET", "/workspace/ws_1/runtime-api-access") if status_for_status != 200 => {
                    Reply::error(status_for_status, "not_found", "No such workspace")
                }
                ("GET", "/workspace/ws_1/runtime-api-access") => {
                    Reply::text(200, &format!(r#"{{"success":true,"enabled":{enabled}}}"#))
                }
                ("GET", "/workspace/ws_1/runtime-api-access/token")
                | ("POST", "/workspace/ws_1/runtime-api-access/enable") => Reply::text(
                    200,
                    &format!(
                        r#"{{"success":true,"token":"{}"}}"#,
                        gateway_jwt(WS, now_s, 3600.0)
                    ),
                ),
                _ => Reply::error(404, "not_found", "unexpected"),
            }
        });
    }

    fn acquire(&self, cell: &Rc<TokenCell>) -> Outcome {
        let cell = cell.clone();
        let outcome = self
            .env
            .spawn(async move { cell.acquire().await.map(|lease| lease.secret) });
        self.env.settle();
        outcome
    }

    fn paths(&self) -> Vec<String> {
        self.env
            .transport
            .log()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s.method,
                    s.url.trim_start_matches("https://api.test")
                )
            })
            .collect()
    }
}

#[test]
fn mint_enables_a_disabled_server_else_reads_the_current_token() {
    let g = Gateway::new();
    g.serve_mint(false, 200);
    let cell = g.registry.cell(WS);
    assert!(g.acquire(&cell).ok().starts_with("eyJ"));
    assert_eq!(
        g.paths(),
        [
            "GET /workspace/ws_1/runtime-api-access",
            "POST /workspace/ws_1/runtime-api-access/enable"
        ]
    );
    assert!(g.env.transport.bearers().iter().all(|b| b == "tok-0"));

    let g = Gateway::new();
    g.serve_mint(true, 200);
    let cell = g.registry.cell(WS);
    assert!(g.acquire(&cell).ok().starts_with("eyJ"));
    assert_eq!(
        g.paths(),
        [
            "GET /workspace/ws_1/runtime-api-access",
            "GET /workspace/ws_1/runtime-api-access/token"
        ]
    );
}

#[test]
fn gateway_tokens_are_renewed_only_when_a_call_needs_one() {
    let g = Gateway::new();
    g.serve_mint(true, 200);
    let cell = g.registry.cell(WS);
    g.acquire(&cell).ok();
    let sent = g.env.transport.sent();
    // Ten hours with a live cell and nobody calling: no request at all (and the session token,
    // which has no timer in this harness, is not asked either).
    g.env.advance(10.0 * HOUR_MS);
    assert_eq!(g.env.transport.sent(), sent, "a background request");
    // The next call finds the gateway token expired and mints once, first.
    g.env.host.always(HostStep::token());
    let secret = g.acquire(&cell).ok();
    assert!(secret.starts_with("eyJ"));
    assert_eq!(g.env.transport.sent(), sent + 2);
}

#[test]
fn a_cell_nobody_holds_is_gone_from_the_registry() {
    let g = Gateway::new();
    g.serve_mint(true, 200);
    let cell = g.registry.cell(WS);
    assert_eq!(g.registry.len(), 1);
    assert!(
        Rc::ptr_eq(&cell, &g.registry.cell(WS)),
        "one cell per workspace"
    );
    drop(cell);
    assert!(g.registry.is_empty());
}

#[test]
fn forget_drops_the_token_and_the_next_call_mints_again() {
    let g = Gateway::new();
    g.serve_mint(true, 200);
    let cell = g.registry.cell(WS);
    g.acquire(&cell).ok();
    g.registry.forget(WS);
    assert!(cell.token().is_none());
    assert!(g.registry.is_empty());
    g.env.advance(HOUR_MS);
    assert_eq!(g.env.transport.sent(), 2, "a request after the delete");
    let again = g.registry.cell(WS);
    assert!(!Rc::ptr_eq(&cell, &again));
    g.acquire(&again).ok();
    assert_eq!(g.env.transport.sent(), 4);
}

#[test]
fn a_mint_refused_with_404_forgets_the_workspace_and_asks_nothing_later() {
    let g = Gateway::new();
    g.serve_mint(true, 404);
    let cell = g.registry.cell(WS);
    let error = g.acquire(&cell).err();
    assert_eq!(
        (error.code.as_str(), error.status),
        ("not_found", Some(404))
    );
    assert!(
        g.registry.is_empty(),
        "the refused workspace is still registered"
    );
    g.env.advance(10.0 * HOUR_MS);
    assert_eq!(
        g.env.transport.sent(),
        1,
        "a background retry of a refused mint"
    );
}

#[test]
fn a_new_identity_forgets_every_gateway_token_and_waiters_mint_under_it() {
    let g = Gateway::new();
    g.serve_mint(true, 200);
    let cell = g.registry.cell(WS);
    let first = g.acquire(&cell).ok();
    // A mint in flight when the identity changes: its answer is discarded.
    g.env.transport.respond(|_| Reply::ok().delayed(1_000.0));
    g.registry.forget_all();
    let waiter = {
        let cell = cell.clone();
        g.env
            .spawn(async move { cell.acquire().await.map(|lease| lease.secret) })
    };
    g.env.settle();
    g.registry.forget_all();
    g.serve_mint(true, 200);
    g.env.advance(2_000.0);
    let second = waiter.result();
    assert!(second.is_ok(), "{second:?}");
    assert_ne!(second.ok(), Some(first));
}

// ---------------------------------------------------------------------------------------------
// Provisioning and raw calls

#[test]
fn runtime_waits_while_the_workspace_is_created() {
    let env = Env::default();
    let mut answers = vec!["creating", "creating", "running"].into_iter();
    env.transport.respond(move |_| {
        let status = answers.next().unwrap_or("running");
        Reply::text(
            200,
            &format!(r#"{{"success":true,"workspace":{{"status":"{status}","ready":false}}}}"#),
        )
    });
    let api = env.api();
    let rt = env.rt.clone();
    let outcome = env.spawn(async move {
        gateway::wait_until_provisioned(&*api, &*rt, "https://api.test", WS)
            .await
            .map(|()| String::new())
    });
    env.advance(5_000.0);
    assert_eq!(outcome.result(), Ok(String::new()));
    assert_eq!(env.transport.sent(), 3);
    assert_eq!(env.rt.sleeps(), [500.0, 500.0]);
}

#[test]
fn raw_calls_replay_only_after_a_401() {
    let env = Env::default();
    env.host.always(HostStep::token());
    env.transport.queue(vec![
        Reply::status(502),
        Reply::status(401),
        Reply::status(429),
    ]);
    let run = |env: &Env| {
        let (cell, rt, transport) = (env.cell.clone(), env.rt.clone(), env.transport.clone());
        let outcome = env.spawn(async move {
            let request = oblien_user_client::core::api::get("https://gw.test/x".into());
            let send = |bearer: &str| transport.send(&request, bearer);
            request::send_authorised(&cell, &*rt, Retries::UNAUTHORIZED_ONLY, &send)
                .await
                .map(|response| response.status.to_string())
        });
        env.settle();
        outcome.result()
    };
    assert_eq!(
        run(&env),
        Ok("502".to_string()),
        "a raw 502 is the caller's"
    );
    assert_eq!(run(&env), Ok("429".to_string()), "401 → refresh → replay");
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.sent(), 3);
}

#[test]
fn gateway_cells_report_refusals_to_their_observer_only() {
    // A cell built outside the registry keeps its token after a refusal (nothing forgets it).
    let env = Env::default();
    let events = Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink = events.clone();
    let observer: Observer =
        Rc::new(move |event: CellEvent| sink.borrow_mut().push(describe(&event)));
    let cell = TokenCell::new(
        None,
        None,
        env.rt.clone(),
        Some(Rc::new(env.host.clone())),
        observer,
    );
    env.host.always(HostStep::Fail("down".into()));
    let c = cell.clone();
    let outcome = env.spawn(async move { c.acquire().await.map(|l| l.secret) });
    env.settle();
    assert_eq!(outcome.err().code, codes::TOKEN_EXPIRED);
    assert_eq!(events.borrow().len(), 1);
}
