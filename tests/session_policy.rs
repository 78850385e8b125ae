//! The refresh policy and request rules of the core, driven natively by a fake environment
//! (`support`): manual clocks, a scripted refresh callback and a scripted transport.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use oblien_user_client::core::error::{codes, ClientError};
use oblien_user_client::core::policy::{self, TokenState};
use oblien_user_client::core::retry_after;
use oblien_user_client::core::runtime::{RefreshReason, TransportError};
use oblien_user_client::core::token;
use support::*;

use RefreshReason::{Expired, Expiring, Unauthorized};

const TTL_MS: f64 = 900_000.0;
/// Default margin of a 900 s token: min(60 s, 900 s / 4).
const MARGIN_MS: f64 = 60_000.0;
/// First back-off with the fake's jitter of 0.5: 1 s × (0.5 + 0.5 × 0.5).
const FIRST_BACKOFF_MS: f64 = 750.0;
/// How long the host's refresh callback may take (spelled out: `policy::HOST_TIMEOUT_MS`).
const HOST_TIMEOUT_MS: f64 = 15_000.0;

fn all_equal(values: &[String], expected: &str) -> bool {
    values.iter().all(|v| v == expected)
}

// ---------------------------------------------------------------------------------------------
// Wall-clock jumps and skew

#[test]
fn wall_clock_jump_forward_two_hours_refreshes_once_not_a_storm() {
    let env = Env::default();
    assert_eq!(env.cell.token_state(), TokenState::Fresh);
    env.jump_wall(2.0 * HOUR_MS);
    assert_eq!(env.cell.token_state(), TokenState::Expired);

    // The owner's timer and focus/online listeners all fire at once after a resume.
    for _ in 0..5 {
        env.cell.check();
    }
    env.settle();
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.host.reasons(), vec![Expired]);
    assert_eq!(env.secret().as_deref(), Some("tok-1"));
    let held = env.cell.token().unwrap();
    assert_eq!(held.received_ms, T0_MS + 2.0 * HOUR_MS);
    assert_eq!(held.deadline_ms, T0_MS + 2.0 * HOUR_MS + TTL_MS);

    // Twenty requests one after another, then twenty together: no further refresh.
    for _ in 0..20 {
        assert_eq!(env.get_now(), Ok("ok".to_string()));
    }
    let together: Vec<_> = (0..20).map(|_| env.spawn_get()).collect();
    env.settle();
    for outcome in &together {
        assert_eq!(outcome.ok(), "ok");
    }
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.sent(), 40);
    assert!(all_equal(&env.transport.bearers(), "tok-1"));
    assert_eq!(env.events(), vec!["changed:same"]);
}

#[test]
fn wall_clock_jump_forward_then_requests_share_the_refresh() {
    let env = Env::default();
    env.host.always(HostStep::after(300.0, HostStep::token()));
    env.jump_wall(2.0 * HOUR_MS);
    let outcomes: Vec<_> = (0..10).map(|_| env.spawn_get()).collect();
    env.settle();
    assert_eq!(env.host.calls(), 1);
    assert_eq!(
        env.transport.sent(),
        0,
        "nothing is sent with the expired token"
    );
    assert!(outcomes.iter().all(|o| !o.is_done()));
    env.advance(300.0);
    for outcome in &outcomes {
        assert_eq!(outcome.ok(), "ok");
    }
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.bearers(), vec!["tok-1".to_string(); 10]);
}

#[test]
fn wall_clock_jump_back_two_hours_triggers_nothing() {
    let env = Env::default();
    let before = env.cell.token().unwrap();
    let check_before = env.cell.next_check_ms();
    assert_eq!(check_before, Some(T0_MS + TTL_MS - MARGIN_MS));

    env.jump_wall(-2.0 * HOUR_MS);
    assert_eq!(env.cell.token_state(), TokenState::Fresh);
    env.cell.check();
    for _ in 0..5 {
        assert_eq!(env.get_now(), Ok("ok".to_string()));
    }
    env.settle();
    assert_eq!(env.host.calls(), 0);
    let after = env.cell.token().unwrap();
    assert_eq!(after.received_ms, before.received_ms);
    assert_eq!(
        after.deadline_ms,
        T0_MS + TTL_MS,
        "the deadline still counts from receipt"
    );
    assert_eq!(env.cell.next_check_ms(), check_before);
    assert!(all_equal(&env.transport.bearers(), "tok-0"));
    assert!(env.events().is_empty());

    // The server's clock did not move: 900 s after issue it refuses tok-0. The local deadline
    // now lies 2 h further, so the 401 rule is what recovers: one refresh, one replay.
    env.transport.respond(|sent| {
        if sent.bearer == "tok-0" && sent.mono_ms >= TTL_MS {
            Reply::status(401)
        } else {
            Reply::ok()
        }
    });
    env.advance(TTL_MS - 1_000.0);
    env.cell.check();
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 0);
    env.advance(1_000.0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.host.reasons(), vec![Unauthorized]);
    let bearers = env.transport.bearers();
    assert_eq!(&bearers[bearers.len() - 2..], ["tok-0", "tok-1"]);
    let held = env.cell.token().unwrap();
    assert_eq!(held.received_ms, T0_MS - 2.0 * HOUR_MS + TTL_MS);
    assert_eq!(held.deadline_ms, held.received_ms + TTL_MS);
}

/// Runs one hour of one request and one `check()` per second; returns the host's call count.
fn one_hour_of_traffic(env: &Env) -> usize {
    for _ in 0..3_600 {
        env.advance(SECOND_MS);
        env.cell.check();
        assert_eq!(env.get_now(), Ok("ok".to_string()));
    }
    env.host.calls()
}

#[test]
fn skewed_device_clock_gives_fresh_tokens_and_refreshes_only_in_the_margin() {
    for skew in [10.0 * MINUTE_MS, -10.0 * MINUTE_MS] {
        let env = Env::new(Setup {
            server_skew_ms: skew,
            ..Setup::default()
        });
        let held = env.cell.token().unwrap();
        assert_eq!(held.deadline_ms, T0_MS + TTL_MS, "skew {skew}");
        assert_eq!(env.cell.token_state(), TokenState::Fresh, "skew {skew}");
        assert_eq!(env.cell.next_check_ms(), Some(T0_MS + TTL_MS - MARGIN_MS));
        env.cell.check();
        assert_eq!(env.get_now(), Ok("ok".to_string()));
        assert_eq!(env.host.calls(), 0, "skew {skew}: refreshed a fresh token");

        // One ms before the margin: still fresh.
        env.advance(TTL_MS - MARGIN_MS - 1.0);
        assert_eq!(env.cell.token_state(), TokenState::Fresh, "skew {skew}");
        env.cell.check();
        assert_eq!(env.get_now(), Ok("ok".to_string()));
        assert_eq!(env.host.calls(), 0, "skew {skew}");

        // Inside the margin: the request goes out with tok-0 and one refresh starts.
        env.advance(1.0);
        assert_eq!(env.cell.token_state(), TokenState::Expiring, "skew {skew}");
        assert_eq!(env.get_now(), Ok("ok".to_string()));
        assert_eq!(env.transport.bearers().last().unwrap(), "tok-0");
        assert_eq!(env.host.calls(), 1, "skew {skew}");
        assert_eq!(env.host.reasons(), vec![Expiring]);
        // The refreshed token (issued on the skewed server clock) is fresh too.
        assert_eq!(env.secret().as_deref(), Some("tok-1"));
        assert_eq!(env.cell.token_state(), TokenState::Fresh, "skew {skew}");
        let held = env.cell.token().unwrap();
        assert_eq!(held.deadline_ms, env.now() + TTL_MS, "skew {skew}");
        for _ in 0..10 {
            env.cell.check();
            assert_eq!(env.get_now(), Ok("ok".to_string()));
        }
        assert_eq!(env.host.calls(), 1, "skew {skew}: storm after refresh");
        assert!(env.refresh_errors().is_empty(), "skew {skew}");
    }
}

#[test]
fn skewed_clocks_refresh_once_per_margin_over_an_hour() {
    // (ttl, expected refreshes in 3600 s): 900 s → at 840, 1680, 2520, 3360 s;
    // 120 s (margin 30 s) → every 90 s.
    for skew in [10.0 * MINUTE_MS, -10.0 * MINUTE_MS, 0.0] {
        for (ttl_s, expected) in [(900.0, 4), (120.0, 40)] {
            let env = Env::new(Setup {
                initial_ttl_s: Some(ttl_s),
                server_skew_ms: skew,
                ..Setup::default()
            });
            env.host.always(HostStep::token_for("ns", ttl_s));
            let calls = one_hour_of_traffic(&env);
            assert_eq!(calls, expected, "skew {skew}, ttl {ttl_s}");
            assert!(env.host.reasons().iter().all(|r| *r == Expiring));
            assert_eq!(env.transport.sent(), 3_600);
            assert!(env.refresh_errors().is_empty());
        }
    }
}

#[test]
fn configured_margin_is_honoured_and_capped() {
    let env = Env::new(Setup {
        margin_secs: Some(30.0),
        ..Setup::default()
    });
    assert_eq!(env.cell.next_check_ms(), Some(T0_MS + TTL_MS - 30_000.0));
    env.advance(TTL_MS - 30_001.0);
    env.cell.check();
    assert_eq!(env.host.calls(), 0);
    env.advance(1.0);
    env.cell.check();
    env.settle();
    assert_eq!(env.host.calls(), 1);

    // A margin longer than the token is capped below half its lifetime.
    let env = Env::new(Setup {
        margin_secs: Some(3_600.0),
        ..Setup::default()
    });
    assert_eq!(
        env.cell.next_check_ms(),
        Some(T0_MS + TTL_MS - 0.49 * TTL_MS)
    );
    env.cell.check();
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(
        env.host.calls(),
        0,
        "refreshed the moment the token arrived"
    );
}

// ---------------------------------------------------------------------------------------------
// Single flight

#[test]
fn fifty_concurrent_requests_on_an_expired_token_share_one_refresh() {
    let env = Env::default();
    env.host.script([HostStep::after(500.0, HostStep::token())]);
    env.advance(TTL_MS);
    assert_eq!(env.cell.token_state(), TokenState::Expired);
    let outcomes: Vec<_> = (0..50).map(|_| env.spawn_get()).collect();
    env.settle();
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.host.reasons(), vec![Expired]);
    assert_eq!(env.transport.sent(), 0);
    assert!(outcomes.iter().all(|o| !o.is_done()));

    env.advance(499.0);
    assert!(outcomes.iter().all(|o| !o.is_done()));
    env.advance(1.0);
    for outcome in &outcomes {
        assert_eq!(outcome.ok(), "ok");
    }
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.bearers(), vec!["tok-1".to_string(); 50]);
    assert_eq!(env.events(), vec!["changed:same"]);
}

#[test]
fn requests_inside_the_margin_go_out_at_once_while_one_background_refresh_runs() {
    let env = Env::default();
    env.host
        .script([HostStep::after(2_000.0, HostStep::token())]);
    env.advance(TTL_MS - 50_000.0);
    assert_eq!(env.cell.token_state(), TokenState::Expiring);
    let outcomes: Vec<_> = (0..20).map(|_| env.spawn_get()).collect();
    env.settle();
    for outcome in &outcomes {
        assert_eq!(outcome.ok(), "ok");
    }
    assert_eq!(env.transport.bearers(), vec!["tok-0".to_string(); 20]);
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.host.reasons(), vec![Expiring]);
    assert_eq!(env.cell.next_check_ms(), None, "a refresh is in flight");

    env.advance(1_999.0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.transport.bearers().last().unwrap(), "tok-0");
    env.advance(1.0);
    assert_eq!(env.secret().as_deref(), Some("tok-1"));
    for _ in 0..5 {
        assert_eq!(env.get_now(), Ok("ok".to_string()));
    }
    assert_eq!(&env.transport.bearers()[21..], vec!["tok-1".to_string(); 5]);
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.events(), vec!["changed:same"]);
}

// ---------------------------------------------------------------------------------------------
// 401

fn unauthorized_for(secret: &'static str) -> impl FnMut(&Sent) -> Reply {
    move |sent| {
        if sent.bearer == secret {
            Reply::error(401, "authentication_error", "Token is invalid or revoked")
        } else {
            Reply::ok()
        }
    }
}

#[test]
fn unauthorized_refreshes_and_replays_once() {
    for post in [false, true] {
        let env = Env::default();
        env.transport.respond(unauthorized_for("tok-0"));
        let result = if post { env.post_now() } else { env.get_now() };
        assert_eq!(result, Ok("ok".to_string()), "post: {post}");
        assert_eq!(env.transport.bearers(), ["tok-0", "tok-1"], "post: {post}");
        assert_eq!(env.host.calls(), 1);
        assert_eq!(env.host.reasons(), vec![Unauthorized]);
        assert_eq!(env.events(), vec!["changed:same"]);
    }
}

#[test]
fn concurrent_unauthorized_requests_share_one_refresh() {
    let env = Env::default();
    env.transport.respond(unauthorized_for("tok-0"));
    let outcomes: Vec<_> = (0..5).map(|_| env.spawn_get()).collect();
    env.settle();
    for outcome in &outcomes {
        assert_eq!(outcome.ok(), "ok");
    }
    assert_eq!(env.host.calls(), 1);
    let bearers = env.transport.bearers();
    assert_eq!(bearers.iter().filter(|b| *b == "tok-0").count(), 5);
    assert_eq!(bearers.iter().filter(|b| *b == "tok-1").count(), 5);
}

#[test]
fn unauthorized_twice_gives_the_401() {
    let env = Env::default();
    env.transport.respond(|_| Reply::status(401));
    let error = env.get_now().unwrap_err();
    assert_eq!(error.status, Some(401));
    assert_eq!(error.code, "authentication_error");
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.bearers(), ["tok-0", "tok-1"]);

    // The server's own code and message pass through.
    let env = Env::default();
    env.transport
        .respond(|_| Reply::error(401, "token_revoked", "Revoked by the owner"));
    let error = env.get_now().unwrap_err();
    assert_eq!(
        (error.code.as_str(), error.message.as_str(), error.status),
        ("token_revoked", "Revoked by the owner", Some(401))
    );
    assert_eq!(error.request_id.as_deref(), Some("req-1"));
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.sent(), 2);
}

#[test]
fn unauthorized_without_a_source_gives_the_401_without_refreshing() {
    let env = Env::new(Setup {
        with_source: false,
        ..Setup::default()
    });
    env.transport.respond(|_| Reply::status(401));
    let error = env.get_now().unwrap_err();
    assert_eq!(error.status, Some(401));
    assert_eq!(error.code, "authentication_error");
    assert_eq!(env.transport.sent(), 1);
    assert_eq!(env.host.calls(), 0);
    assert!(env.events().is_empty());

    // And once expired it fails locally, without sending.
    env.advance(TTL_MS);
    env.cell.check();
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert_eq!(error.status, None);
    assert_eq!(env.transport.sent(), 1);
    assert_eq!(env.host.calls(), 0);
    assert_eq!(env.cell.next_check_ms(), None);
}

#[test]
fn unauthorized_after_another_caller_swapped_the_token_replays_without_refreshing() {
    let env = Env::default();
    // tok-0 is refused after a delay; meanwhile the host hands over tok-set.
    env.transport.respond(|sent| {
        if sent.bearer == "tok-0" {
            Reply::status(401).delayed(1_000.0)
        } else {
            Reply::ok()
        }
    });
    let outcome = env.spawn_get();
    env.settle();
    env.advance(500.0);
    env.set_token("tok-set", "ns", 900.0);
    env.advance(500.0);
    assert_eq!(outcome.ok(), "ok");
    assert_eq!(env.transport.bearers(), ["tok-0", "tok-set"]);
    assert_eq!(env.host.calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// Failing and hanging refresh callbacks

#[test]
fn hanging_refresh_callback_times_out_then_backs_off() {
    let env = Env::default();
    env.host.script([HostStep::Hang]);
    env.advance(TTL_MS);
    let first = env.spawn_get();
    env.settle();
    assert_eq!(env.host.calls(), 1);
    assert!(!first.is_done());

    env.advance(HOST_TIMEOUT_MS - 1.0);
    assert!(!first.is_done(), "gave up before 15 s");
    env.advance(1.0);
    let error = first.err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert!(error.message.contains("refresh"), "{error:?}");
    assert!(error.message.contains("15 s"), "{error:?}");
    assert_eq!(env.events(), vec!["failed:refresh_failed"]);
    assert_eq!(env.refresh_errors()[0].code, codes::REFRESH_FAILED);
    assert_eq!(env.transport.sent(), 0);

    // During back-off: rejected at once, the host is not called.
    let second = env.get_now().unwrap_err();
    assert_eq!(second.code, codes::TOKEN_EXPIRED);
    assert!(second.message.contains("refresh"), "{second:?}");
    env.advance(FIRST_BACKOFF_MS - 1.0);
    assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
    env.cell.check();
    assert_eq!(env.host.calls(), 1);
    assert_eq!(
        env.cell.next_check_ms(),
        Some(T0_MS + TTL_MS + HOST_TIMEOUT_MS + FIRST_BACKOFF_MS)
    );

    // After it: the host is called again and this time answers.
    env.advance(1.0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 2);
    assert_eq!(env.host.reasons(), vec![Expired, Expired]);
    assert_eq!(env.transport.bearers(), ["tok-1"]);
    assert_eq!(env.events(), vec!["failed:refresh_failed", "changed:same"]);
    assert_eq!(
        env.rt.pending_timers(),
        0,
        "the timeout timer outlived its refresh"
    );
}

#[test]
fn back_off_doubles_per_failure() {
    let env = Env::default();
    env.host.always(HostStep::Fail("backend down".to_string()));
    env.advance(TTL_MS);
    let mut expected_calls = 0;
    for failures in 1..=6u32 {
        assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
        expected_calls += 1;
        assert_eq!(env.host.calls(), expected_calls);
        let wait = policy::backoff_ms(failures, 0.5);
        env.advance(wait - 1.0);
        assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
        assert_eq!(
            env.host.calls(),
            expected_calls,
            "called during back-off {failures}"
        );
        env.advance(1.0);
    }
    assert_eq!(env.refresh_errors().len(), 6);
    assert_eq!(env.transport.sent(), 0);
}

#[test]
fn failing_refresh_while_expiring_keeps_using_the_old_token_until_its_deadline() {
    let env = Env::default();
    env.host.always(HostStep::Fail("backend down".to_string()));
    env.advance(TTL_MS - 50_000.0);
    assert_eq!(env.cell.token_state(), TokenState::Expiring);

    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.host.reasons(), vec![Expiring]);
    assert_eq!(env.events(), vec!["failed:refresh_failed"]);
    let failure = &env.refresh_errors()[0];
    assert_eq!(failure.code, codes::REFRESH_FAILED);
    assert!(failure.message.contains("backend down"), "{failure:?}");

    // In back-off: still served with tok-0, no new call.
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 1);
    // After the back-off: one more attempt, still served.
    env.advance(1_000.0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 2);
    assert_eq!(env.transport.bearers(), ["tok-0", "tok-0", "tok-0"]);

    // Last ms before the deadline: served (the 2nd back-off, 1.5 s, is over: a 3rd try fails
    // and backs off 3 s).
    env.advance(49_000.0 - 1.0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 3);
    assert_eq!(env.transport.sent(), 4);
    // At the deadline, in back-off: token_expired at once, carrying the last failure.
    env.advance(1.0);
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert!(error.message.contains("refresh"), "{error:?}");
    assert!(error.message.contains("backend down"), "{error:?}");
    assert_eq!(env.host.calls(), 3);
    assert_eq!(env.transport.sent(), 4, "the expired token was sent");
    // Once the back-off passes, the request waits for one more (failing) try.
    env.advance(3_000.0 - 2.0);
    assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
    assert_eq!(env.host.calls(), 3);
    env.advance(1.0);
    assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
    assert_eq!(env.host.calls(), 4);
    assert_eq!(
        env.host.reasons(),
        vec![Expiring, Expiring, Expiring, Expired]
    );
    assert_eq!(env.transport.sent(), 4);
    assert_eq!(env.events(), vec!["failed:refresh_failed"; 4]);
}

#[test]
fn refresh_returning_a_stale_token_is_refused() {
    let env = Env::default();
    env.host.script([HostStep::Stale { age_s: 11.0 * 60.0 }]);
    env.advance(TTL_MS);
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert!(error.message.contains("expired token"), "{error:?}");
    assert_eq!(env.events(), vec!["failed:refresh_failed"]);
    assert_eq!(
        env.refresh_errors()[0].message,
        "The refresh callback returned an expired token"
    );
    assert_eq!(
        env.secret().as_deref(),
        Some("tok-0"),
        "the stale token was taken"
    );
    assert_eq!(env.transport.sent(), 0);

    // Within the 10 min skew tolerance too, when the held token proves the server's clock is
    // already past the new token's `exp` (iat of the held token + time since its receipt).
    let env = Env::default();
    env.host.script([HostStep::Stale { age_s: 9.0 * 60.0 }]);
    env.advance(TTL_MS);
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert_eq!(env.secret().as_deref(), Some("tok-0"));
    assert_eq!(env.transport.sent(), 0);
}

#[test]
fn refresh_returning_a_token_without_iat_is_timed_by_the_device_clock() {
    // Server 10 min behind: exp is 5 min away by the device clock, and that is the deadline.
    let env = Env::new(Setup {
        server_skew_ms: -10.0 * MINUTE_MS,
        ..Setup::default()
    });
    env.host.always(HostStep::WithoutIat { ttl_s: 900.0 });
    env.advance(TTL_MS);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    let held = env.cell.token().unwrap();
    assert_eq!(held.secret, "tok-1");
    assert_eq!(held.deadline_ms, env.now() + 5.0 * MINUTE_MS);
    assert_eq!(env.cell.token_state(), TokenState::Fresh);
    for _ in 0..10 {
        assert_eq!(env.get_now(), Ok("ok".to_string()));
    }
    assert_eq!(env.host.calls(), 1);

    // Server 20 min behind: exp passed 5 min ago by the device clock (inside the 10 min stale
    // tolerance). Held, it would be expired at once and every request would refresh twice; it is
    // a failed refresh, with back-off.
    let env = Env::new(Setup {
        server_skew_ms: -20.0 * MINUTE_MS,
        ..Setup::default()
    });
    env.host.always(HostStep::WithoutIat { ttl_s: 900.0 });
    env.advance(TTL_MS);
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert!(error.message.contains("expired token"), "{error:?}");
    assert_eq!(env.host.calls(), 1);
    for _ in 0..5 {
        assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
    }
    assert_eq!(env.host.calls(), 1, "a refresh storm");
    assert_eq!(env.events(), vec!["failed:refresh_failed"]);
    assert_eq!(env.secret().as_deref(), Some("tok-0"));
    assert_eq!(env.transport.sent(), 0);
}

#[test]
fn unauthorized_with_the_same_token_back_is_not_replayed() {
    let env = Env::default();
    env.host.always(HostStep::Fixed {
        secret: "tok-0".into(),
        ttl_s: 900.0,
    });
    env.transport.respond(|_| Reply::status(401));
    let error = env.get_now().unwrap_err();
    assert_eq!(
        (error.code.as_str(), error.status),
        ("authentication_error", Some(401))
    );
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.host.reasons(), vec![Unauthorized]);
    assert_eq!(env.transport.sent(), 1, "replayed with the same token");
    assert!(env.events().is_empty());
}

#[test]
fn refresh_returning_the_held_token_while_expiring_is_not_a_storm() {
    let env = Env::default();
    env.host.always(HostStep::Fixed {
        secret: "tok-0".into(),
        ttl_s: 900.0,
    });
    env.advance(TTL_MS - 20_000.0);
    // 100 requests, one per 100 ms, all inside the margin: all served with tok-0.
    for _ in 0..100 {
        assert_eq!(env.get_now(), Ok("ok".to_string()));
        env.advance(100.0);
    }
    assert!(all_equal(&env.transport.bearers(), "tok-0"));
    // With back-off (0.75 s, 1.5 s, 3 s, 6 s…) that is at most 5 calls in 10 s, not 100.
    assert!(env.host.calls() <= 5, "{} host calls", env.host.calls());
}

#[test]
fn refresh_returning_the_held_token_after_expiry_backs_off() {
    let env = Env::default();
    env.host.always(HostStep::Fixed {
        secret: "tok-0".into(),
        ttl_s: 900.0,
    });
    env.advance(TTL_MS);
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::TOKEN_EXPIRED);
    assert!(error.message.contains("refresh"), "{error:?}");
    for _ in 0..4 {
        assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
    }
    assert_eq!(env.host.calls(), 1, "a refresh storm");
    assert_eq!(env.transport.sent(), 0);
}

// ---------------------------------------------------------------------------------------------
// dispose and setToken

#[test]
fn dispose_during_a_refresh_rejects_waiters_and_ignores_the_late_answer() {
    let env = Env::default();
    env.host
        .script([HostStep::after(5_000.0, HostStep::token())]);
    env.advance(TTL_MS);
    let outcomes: Vec<_> = (0..3).map(|_| env.spawn_get()).collect();
    env.settle();
    assert_eq!(env.host.calls(), 1);
    env.advance(1_000.0);
    env.cell.dispose();
    env.settle();
    for outcome in &outcomes {
        assert_eq!(outcome.err().code, codes::DISPOSED);
    }

    env.advance(10_000.0);
    assert_eq!(env.host.answers(), 1, "the host did answer, late");
    assert!(env.cell.token().is_none());
    assert!(env.events().is_empty(), "the late answer was reported");

    assert_eq!(env.get_now().unwrap_err().code, codes::DISPOSED);
    env.cell.check();
    env.advance(60_000.0);
    assert_eq!(env.host.calls(), 1);
    assert_eq!(env.transport.sent(), 0);
    assert_eq!(env.cell.next_check_ms(), None);
    assert_eq!(env.cell.token_state(), TokenState::Expired);
    // setToken after dispose is ignored.
    env.set_token("tok-set", "ns", 900.0);
    assert!(env.cell.token().is_none());
    assert!(env.events().is_empty());
}

#[test]
fn dispose_while_a_request_is_in_flight_rejects_it() {
    let env = Env::default();
    env.transport.respond(|_| Reply::ok().delayed(1_000.0));
    let outcome = env.spawn_get();
    env.advance(500.0);
    env.cell.dispose();
    env.advance(500.0);
    assert_eq!(outcome.err().code, codes::DISPOSED);
    assert_eq!(env.transport.sent(), 1);
}

// Reduced from tests/policy_props.rs: a refresh runs as a spawned task, so `check()` (a timer, a
// focus listener) followed at once by `dispose()` or `setToken` used to reach the host anyway.
#[test]
fn dispose_before_the_refresh_task_runs_never_calls_the_host() {
    let env = Env::default();
    env.advance(TTL_MS - MARGIN_MS);
    env.cell.check();
    env.cell.dispose();
    env.advance(60_000.0);
    assert_eq!(env.host.calls(), 0);
    assert!(env.events().is_empty());
}

#[test]
fn set_token_before_the_refresh_task_runs_skips_the_host_call() {
    let env = Env::default();
    env.advance(TTL_MS - MARGIN_MS);
    env.cell.check();
    env.set_token("tok-set", "ns", 900.0);
    env.settle();
    assert_eq!(env.host.calls(), 0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.transport.bearers(), ["tok-set"]);
    assert_eq!(env.events(), vec!["changed:same"]);
}

// Reduced from tests/policy_props.rs: `setToken` during a refresh released the waiters but not
// the host call still running; a refresh needed before that call settled started a second one.
#[test]
fn a_refresh_needed_while_a_superseded_call_runs_waits_for_it() {
    let env = Env::default();
    env.host
        .script([HostStep::after(10_000.0, HostStep::token())]);
    env.advance(TTL_MS);
    let first = env.spawn_get();
    env.settle();
    assert_eq!(env.host.calls(), 1);
    // A short-lived token for another tenant, while the host is still busy.
    env.set_token("tok-set", "other", 5.0);
    env.settle();
    assert_eq!(first.ok(), "ok");
    env.advance(5_000.0);
    assert_eq!(env.cell.token_state(), TokenState::Expired);
    let second = env.spawn_get();
    env.settle();
    assert_eq!(
        env.host.calls(),
        1,
        "a second call while the first is in flight"
    );
    assert!(!second.is_done());
    // The first call settles (discarded: tok-set is newer), then the second starts.
    env.advance(5_000.0);
    assert_eq!(env.host.calls(), 2);
    assert_eq!(env.host.reasons(), vec![Expired, Expired]);
    assert_eq!(second.ok(), "ok");
    assert_eq!(env.transport.bearers(), ["tok-set", "tok-2"]);
    assert_eq!(env.host.max_in_flight(), 1);
    assert_eq!(env.events(), vec!["changed:other", "changed:other"]);
}

// Reduced from tests/policy_props.rs: a request released twice by `setToken` with tokens that
// had expired by the time it looked gave up with `token_expired`, even once disposed.
#[test]
fn dispose_rejects_a_request_released_by_set_token_with_disposed() {
    let env = Env::default();
    env.host.always(HostStep::Hang);
    env.advance(TTL_MS);
    let outcome = env.spawn_get();
    env.settle();
    env.set_token("tok-set-1", "ns", 2.0);
    env.jump_wall(60_000.0);
    env.settle();
    env.set_token("tok-set-2", "ns", 2.0);
    env.cell.dispose();
    env.settle();
    assert_eq!(outcome.err().code, codes::DISPOSED);
    assert_eq!(env.transport.sent(), 0);
    assert_eq!(env.host.calls(), 1);
}

#[test]
fn set_token_during_a_refresh_releases_waiters_and_discards_the_refresh() {
    for (namespace, expected_event) in [("ns", "changed:same"), ("other", "changed:other")] {
        let env = Env::default();
        env.host
            .script([HostStep::after(5_000.0, HostStep::token())]);
        env.advance(TTL_MS);
        let outcomes: Vec<_> = (0..3).map(|_| env.spawn_get()).collect();
        env.settle();
        assert_eq!(env.host.calls(), 1);
        env.advance(1_000.0);
        env.set_token("tok-set", namespace, 900.0);
        env.settle();
        for outcome in &outcomes {
            assert_eq!(outcome.ok(), "ok");
        }
        assert_eq!(env.transport.bearers(), vec!["tok-set".to_string(); 3]);
        assert_eq!(env.events(), vec![expected_event]);

        // The refresh settles later with tok-1: discarded.
        env.advance(10_000.0);
        assert_eq!(env.host.answers(), 1);
        assert_eq!(env.secret().as_deref(), Some("tok-set"), "{namespace}");
        assert_eq!(env.events(), vec![expected_event], "{namespace}");
        assert_eq!(env.get_now(), Ok("ok".to_string()));
        assert_eq!(env.transport.bearers().last().unwrap(), "tok-set");
        assert_eq!(env.host.calls(), 1);
        assert_eq!(
            env.cell.next_check_ms(),
            Some(T0_MS + TTL_MS + 1_000.0 + TTL_MS - MARGIN_MS)
        );
    }
}

#[test]
fn set_token_ends_the_back_off() {
    let env = Env::default();
    env.host.script([HostStep::Fail("down".to_string())]);
    env.advance(TTL_MS);
    assert_eq!(env.get_now().unwrap_err().code, codes::TOKEN_EXPIRED);
    env.set_token("tok-set", "ns", 900.0);
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.transport.bearers(), ["tok-set"]);
    // A 401 right away may refresh: the back-off was reset.
    env.transport.respond(unauthorized_for("tok-set"));
    assert_eq!(env.get_now(), Ok("ok".to_string()));
    assert_eq!(env.host.calls(), 2);
    assert_eq!(env.host.reasons(), vec![Expired, Unauthorized]);
    assert_eq!(
        env.events(),
        vec!["failed:refresh_failed", "changed:same", "changed:same"]
    );
}

// ---------------------------------------------------------------------------------------------
// 429

#[test]
fn rate_limited_get_waits_retry_after_and_succeeds() {
    let env = Env::default();
    env.transport
        .queue(vec![Reply::status(429).retry_after("1")]);
    let outcome = env.spawn_get();
    env.settle();
    assert!(!outcome.is_done());
    env.advance(999.0);
    assert!(!outcome.is_done());
    assert_eq!(env.transport.sent(), 1);
    env.advance(1.0);
    assert_eq!(outcome.ok(), "ok");
    assert_eq!(env.transport.sent_at(), [0.0, 1_000.0]);
    assert_eq!(env.host.calls(), 0);
}

#[test]
fn rate_limited_get_waits_the_seconds_given_and_one_second_without_them() {
    // An HTTP date is turned into seconds by js/fetch.js (the browser's `Date.parse`; the browser
    // suite's faults check it): one reaching the core unconverted counts as no value.
    assert_eq!(retry_after::parse("5"), Some(5));
    assert_eq!(retry_after::parse("Tue, 14 Nov 2023 22:13:25 GMT"), None);
    let env = Env::default();
    env.transport.queue(vec![
        Reply::status(429).retry_after("5"),
        Reply::status(429).retry_after("Tue, 14 Nov 2023 22:13:25 GMT"),
        Reply::status(429),
    ]);
    let outcome = env.spawn_get();
    env.advance(10_000.0);
    assert_eq!(outcome.ok(), "ok");
    assert_eq!(env.transport.sent_at(), [0.0, 5_000.0, 6_000.0, 7_000.0]);
}

#[test]
fn rate_limited_get_gives_up_after_three_retries() {
    let env = Env::default();
    env.transport
        .respond(|_| Reply::status(429).retry_after("1"));
    let outcome = env.spawn_get();
    env.advance(60_000.0);
    let error = outcome.err();
    assert_eq!(error.code, codes::RATE_LIMITED);
    assert_eq!(error.status, Some(429));
    assert_eq!(error.retry_after, Some(1));
    assert_eq!(env.transport.sent_at(), [0.0, 1_000.0, 2_000.0, 3_000.0]);
}

#[test]
fn rate_limited_post_is_not_retried() {
    let env = Env::default();
    env.transport
        .respond(|_| Reply::status(429).retry_after("1"));
    let error = env.post_now().unwrap_err();
    assert_eq!(error.code, codes::RATE_LIMITED);
    assert_eq!(error.retry_after, Some(1));
    assert_eq!(env.transport.sent(), 1);
    env.advance(10_000.0);
    assert_eq!(env.transport.sent(), 1);
}

#[test]
fn long_retry_after_is_not_waited() {
    for (value, expected) in [("120", Some(120)), ("61", Some(61))] {
        let env = Env::default();
        env.transport
            .respond(move |_| Reply::status(429).retry_after(value));
        let error = env.get_now().unwrap_err();
        assert_eq!(error.code, codes::RATE_LIMITED, "{value}");
        assert_eq!(error.retry_after, expected, "{value}");
        assert_eq!(env.transport.sent(), 1, "{value}");
    }
    // 60 s exactly is still waited.
    let env = Env::default();
    env.transport
        .queue(vec![Reply::status(429).retry_after("60")]);
    let outcome = env.spawn_get();
    env.advance(60_000.0);
    assert_eq!(outcome.ok(), "ok");
    assert_eq!(env.transport.sent_at(), [0.0, 60_000.0]);
}

// ---------------------------------------------------------------------------------------------
// Network errors and 5xx

#[test]
fn network_error_on_get_is_retried_twice_with_back_off() {
    let env = Env::default();
    env.transport
        .respond(|_| Reply::failed(TransportError::Network));
    let outcome = env.spawn_get();
    env.advance(10_000.0);
    let error = outcome.err();
    assert_eq!(error.code, codes::NETWORK_ERROR);
    assert_eq!(error.status, None);
    // 300 ms then 900 ms (jitter 0.5 → factor 1).
    assert_eq!(env.transport.sent_at(), [0.0, 300.0, 1_200.0]);
    assert_eq!(env.rt.sleeps(), [300.0, 900.0]);

    // Recovers when the network comes back.
    let env = Env::default();
    env.transport.queue(vec![
        Reply::failed(TransportError::Network),
        Reply::failed(TransportError::Network),
    ]);
    let outcome = env.spawn_get();
    env.advance(10_000.0);
    assert_eq!(outcome.ok(), "ok");
    assert_eq!(env.transport.sent(), 3);
}

#[test]
fn network_error_on_post_and_timeouts_are_not_retried() {
    let env = Env::default();
    env.transport
        .respond(|_| Reply::failed(TransportError::Network));
    assert_eq!(env.post_now().unwrap_err().code, codes::NETWORK_ERROR);
    assert_eq!(env.transport.sent(), 1);

    let env = Env::default();
    env.transport
        .respond(|_| Reply::failed(TransportError::Timeout));
    assert_eq!(env.get_now().unwrap_err().code, codes::TIMEOUT);
    assert_eq!(env.transport.sent(), 1);
}

#[test]
fn gateway_errors_on_get_are_retried_twice() {
    for status in [502, 503, 504] {
        let env = Env::default();
        env.transport
            .queue(vec![Reply::status(status), Reply::status(status)]);
        let outcome = env.spawn_get();
        env.advance(10_000.0);
        assert_eq!(outcome.ok(), "ok", "{status}");
        assert_eq!(env.transport.sent_at(), [0.0, 300.0, 1_200.0], "{status}");

        let env = Env::default();
        env.transport.respond(move |_| Reply::status(status));
        let outcome = env.spawn_get();
        env.advance(10_000.0);
        let error = outcome.err();
        assert_eq!(error.status, Some(status));
        assert_eq!(error.code, codes::SERVER_ERROR);
        assert_eq!(env.transport.sent(), 3, "{status}");

        let env = Env::default();
        env.transport.respond(move |_| Reply::status(status));
        assert_eq!(env.post_now().unwrap_err().status, Some(status));
        assert_eq!(env.transport.sent(), 1, "{status}: POST retried");
    }
    // A plain 500 is not transient.
    let env = Env::default();
    env.transport.respond(|_| Reply::status(500));
    assert_eq!(env.get_now().unwrap_err().status, Some(500));
    assert_eq!(env.transport.sent(), 1);
}

// ---------------------------------------------------------------------------------------------
// Answers that are errors

#[test]
fn success_false_is_an_error() {
    let env = Env::default();
    env.transport.respond(|_| Reply::status(200));
    let error = env.get_now().unwrap_err();
    assert_eq!(error.code, codes::SERVER_ERROR);
    assert_eq!(error.status, Some(200));
    assert!(error.message.contains("success: false"), "{error:?}");

    let env = Env::default();
    env.transport
        .respond(|_| Reply::error(200, "quota_exceeded", "Too many workspaces"));
    let error = env.get_now().unwrap_err();
    assert_eq!(
        (error.code.as_str(), error.message.as_str()),
        ("quota_exceeded", "Too many workspaces")
    );
}

#[test]
fn non_json_answers_are_clear_errors() {
    let env = Env::default();
    env.transport.respond(|_| Reply::non_json(500));
    let error = env.get_now().unwrap_err();
    assert_eq!(error.status, Some(500));
    assert_eq!(error.code, codes::SERVER_ERROR);
    assert_eq!(
        error.message,
        "The server answered HTTP 500 with a body that is not JSON"
    );
    assert_eq!(env.transport.sent(), 1);

    // A 200 whose body is not JSON (a captive portal's page) is not a success.
    let env = Env::default();
    env.transport.respond(|_| Reply::non_json(200));
    let error = env.get_now().unwrap_err();
    assert_eq!(error.status, Some(200));
    assert_eq!(error.code, codes::SERVER_ERROR);
    assert!(error.message.contains("not JSON"), "{error:?}");

    // Status codes map to the API's codes when the body names none.
    for (status, code) in [
        (400, "bad_request"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (422, "validation_error"),
    ] {
        let env = Env::default();
        env.transport.respond(move |_| Reply::status(status));
        let error = env.get_now().unwrap_err();
        assert_eq!((error.code.as_str(), error.status), (code, Some(status)));
        assert_eq!(env.host.calls(), 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Malformed tokens

/// The decoder the browser runs too: `payload_bytes` → `read_claims` (core::json) →
/// `session_claims`.
fn decode(token: &str) -> Result<token::Claims, ClientError> {
    token::decode_session(token)
}

const GOOD: &str = r#"{"exp":2000000000,"iat":1999999100,"scope":"namespace","namespace":"t"}"#;

fn malformed_tokens() -> Vec<(String, String)> {
    let good = jwt(GOOD);
    let (h, p) = {
        let mut parts = good.split('.');
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        )
    };
    let mut cases: Vec<(&str, String)> = vec![
        // Shapes
        ("empty", String::new()),
        ("one dot", ".".into()),
        ("dots only", "..".into()),
        ("three dots", "...".into()),
        ("one segment", "abc".into()),
        ("two segments", format!("{h}.{p}")),
        ("four segments", format!("{good}.extra")),
        ("five segments", format!("{good}.a.b")),
        ("empty header", format!(".{p}.{SIGNATURE}")),
        ("empty payload", format!("{h}..{SIGNATURE}")),
        ("empty signature", format!("{h}.{p}.")),
        ("raw hex token", "0123456789abcdef".repeat(4)),
        ("raw hex token, upper case", "0123456789ABCDEF".repeat(4)),
        ("whitespace only", "   ".into()),
        ("leading space", format!(" {good}")),
        ("Bearer prefix", format!("Bearer {good}")),
        ("quoted", format!("\"{good}\"")),
        ("NUL bytes", "\0.\0.\0".into()),
        // Bad base64
        ("payload not base64", format!("{h}.@@@@.{SIGNATURE}")),
        (
            "payload impossible length",
            format!("{h}.Zm9vY.{SIGNATURE}"),
        ),
        ("payload standard base64", format!("{h}.ab+/.{SIGNATURE}")),
        ("payload with a space", format!("{h}.{} .{SIGNATURE}", &p)),
        ("header not base64", format!("h!.{p}.{SIGNATURE}")),
        ("header impossible length", format!("Zm9vY.{p}.{SIGNATURE}")),
        // Not JSON
        ("payload text", jwt("not json")),
        ("payload truncated JSON", jwt("{\"exp\":")),
        ("payload not UTF-8", jwt_bytes(&[0xff, 0xfe, 0x7b, 0x7d])),
        ("payload JSON then garbage", jwt(&format!("{GOOD}x"))),
        ("payload two objects", jwt(&format!("{GOOD}{GOOD}"))),
        ("payload null", jwt("null")),
        ("payload number", jwt("42")),
        ("payload string", jwt("\"namespace\"")),
        ("payload true", jwt("true")),
        ("payload empty array", jwt("[]")),
        ("payload array", jwt("[2000000000, 1999999100]")),
        ("payload nested JWT", jwt(&good)),
        // exp
        ("no claims", jwt("{}")),
        (
            "exp missing",
            jwt(r#"{"iat":1,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp null",
            jwt(r#"{"exp":null,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp string",
            jwt(r#"{"exp":"2000000000","scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp NaN string",
            jwt(r#"{"exp":"NaN","scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp NaN literal",
            jwt(r#"{"exp":NaN,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp Infinity",
            jwt(r#"{"exp":Infinity,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp overflow",
            jwt(r#"{"exp":1e400,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp negative",
            jwt(r#"{"exp":-5,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp zero",
            jwt(r#"{"exp":0,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp negative zero",
            jwt(r#"{"exp":-0.0,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp bool",
            jwt(r#"{"exp":true,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp object",
            jwt(r#"{"exp":{},"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp array",
            jwt(r#"{"exp":[2000000000],"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp twice",
            jwt(r#"{"exp":2000000000,"exp":2000000001,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp equals iat",
            jwt(r#"{"exp":2000000000,"iat":2000000000,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "exp before iat",
            jwt(r#"{"exp":2000000000,"iat":2000000900,"scope":"namespace","namespace":"t"}"#),
        ),
        (
            "iat string",
            jwt(r#"{"exp":2000000000,"iat":"1","scope":"namespace","namespace":"t"}"#),
        ),
        // Scope
        (
            "scope missing",
            jwt(r#"{"exp":2000000000,"namespace":"t"}"#),
        ),
        (
            "scope unknown",
            jwt(r#"{"exp":2000000000,"scope":"admin","namespace":"t"}"#),
        ),
        (
            "scope gateway",
            jwt(r#"{"exp":2000000000,"scope":"gateway","workspaceId":"w"}"#),
        ),
        (
            "scope number",
            jwt(r#"{"exp":2000000000,"scope":1,"namespace":"t"}"#),
        ),
        (
            "scope upper case",
            jwt(r#"{"exp":2000000000,"scope":"NAMESPACE","namespace":"t"}"#),
        ),
        (
            "namespace scope without namespace",
            jwt(r#"{"exp":2000000000,"scope":"namespace"}"#),
        ),
        (
            "workspace scope without workspaceId",
            jwt(r#"{"exp":2000000000,"scope":"workspace","namespace":"t"}"#),
        ),
        (
            "namespace number",
            jwt(r#"{"exp":2000000000,"scope":"namespace","namespace":5}"#),
        ),
        (
            "workspaceId null",
            jwt(r#"{"exp":2000000000,"scope":"workspace","workspaceId":null}"#),
        ),
        // Unicode
        ("unicode segments", "é.é.é".into()),
        ("full-width letters", "ｅｙＪ.ｅｙＪ.ｓｉｇ".into()),
        ("emoji", "🔑.🔑.🔑".into()),
        ("BOM prefix", format!("\u{feff}{good}")),
        ("unicode in header", format!("{h}é.{p}.{SIGNATURE}")),
        // Size
        (
            "very long",
            jwt(&format!(
                r#"{{"exp":2000000000,"scope":"namespace","namespace":"t","label":"{}"}}"#,
                "x".repeat(20_000)
            )),
        ),
        ("very long garbage", "a".repeat(1 << 20)),
        ("very many dots", ".".repeat(10_000)),
    ];
    cases.push((
        "payload array shaped like claims",
        jwt(r#"[2000000000,1999999100,"namespace","t",null,null]"#),
    ));
    cases.push(("trailing newline", format!("{good}\n")));
    cases.push(("signature not base64url", format!("{h}.{p}.s!g")));
    cases.push(("signature with a space", format!("{h}.{p}.si g")));
    cases
        .into_iter()
        .map(|(name, token)| (name.to_string(), token))
        .collect()
}

#[test]
fn the_well_formed_token_of_the_table_decodes() {
    let claims = decode(&jwt(GOOD)).unwrap();
    assert_eq!(claims.exp, 2_000_000_000.0);
    assert_eq!(claims.lifetime_ms(), Some(TTL_MS));
}

#[test]
fn malformed_tokens_are_invalid_token_without_panicking() {
    let mut failures = Vec::new();
    for (name, token) in malformed_tokens() {
        let result = std::panic::catch_unwind(|| decode(&token));
        match result {
            Err(_) => failures.push(format!("{name}: panicked")),
            Ok(Ok(claims)) => failures.push(format!("{name}: accepted as {claims:?}")),
            Ok(Err(error)) if error.code != codes::INVALID_TOKEN => {
                failures.push(format!("{name}: code {}", error.code));
            }
            Ok(Err(error)) => {
                assert_no_secret(&error);
                if token.len() >= 8 && error.message.contains(token.as_str()) {
                    failures.push(format!("{name}: the message echoes the token"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---------------------------------------------------------------------------------------------
// Secrets

#[test]
fn no_error_message_contains_a_bearer_secret() {
    let mut errors: Vec<ClientError> = Vec::new();

    // Every failure path of the request rules.
    let scenarios: Vec<fn(&Env)> = vec![
        |env| env.transport.respond(|_| Reply::status(401)),
        |env| {
            env.transport
                .respond(|_| Reply::status(429).retry_after("120"))
        },
        |env| env.transport.respond(|_| Reply::status(503)),
        |env| env.transport.respond(|_| Reply::non_json(500)),
        |env| env.transport.respond(|_| Reply::status(200)),
        |env| {
            env.transport
                .respond(|_| Reply::failed(TransportError::Network))
        },
        |env| {
            env.transport
                .respond(|_| Reply::failed(TransportError::Timeout))
        },
        |env| {
            env.transport
                .respond(|_| Reply::failed(TransportError::Aborted))
        },
        |env| {
            env.host.always(HostStep::Hang);
            env.advance(TTL_MS);
        },
        |env| {
            env.host.always(HostStep::Stale { age_s: 3_600.0 });
            env.advance(TTL_MS);
        },
        |env| {
            env.host.always(HostStep::Fail("nope".into()));
            env.advance(TTL_MS);
        },
        |env| env.cell.dispose(),
    ];
    for (i, prepare) in scenarios.iter().enumerate() {
        let env = Env::default();
        prepare(&env);
        let outcomes = [env.spawn_get(), env.spawn_post()];
        env.advance(2.0 * HOST_TIMEOUT_MS);
        let again = env.spawn_get();
        env.advance(2.0 * HOST_TIMEOUT_MS);
        for outcome in outcomes.iter().chain([&again]) {
            let error = outcome
                .peek()
                .expect("settled")
                .expect_err(&format!("scenario {i} succeeded"));
            errors.push(error);
        }
        errors.extend(env.refresh_errors());
    }

    // Token decoding, with realistic secrets.
    let good = jwt(GOOD);
    for (_, token) in malformed_tokens() {
        if let Err(error) = decode(&token) {
            errors.push(error);
        }
    }
    let realistic = [
        good.clone(),
        format!("{good}.x"),
        format!("{good}\n"),
        jwt(r#"{"exp":"soon","scope":"namespace","namespace":"t"}"#),
    ];
    let segments: Vec<&str> = good.split('.').collect();
    for token in &realistic {
        if let Err(error) = decode(token) {
            for segment in &segments {
                assert!(
                    !error.message.contains(segment),
                    "{error:?} echoes {segment}"
                );
            }
            errors.push(error);
        }
    }

    assert!(
        errors.len() > 40,
        "only {} errors were produced",
        errors.len()
    );
    for error in &errors {
        assert_no_secret(error);
        for segment in &segments {
            assert!(!error.message.contains(segment), "{error:?}");
        }
    }
}
