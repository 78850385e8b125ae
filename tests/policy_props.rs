//! Property tests of the refresh policy: random sequences of clock moves and jumps, token swaps,
//! host answers (fresh, failing, hanging, late, stale, the held token again), server answers
//! (401, 429, 503, network errors, slow replies), bursts of concurrent requests and dispose,
//! against `TokenCell` + `request::execute` in the fake environment of `support`. Whatever the
//! sequence:
//! - at most one call of the host's refresh callback is in flight at any time;
//! - no request is sent with a token at or past its local deadline (received + lifetime, worked
//!   out here from what the host and `setToken` handed over, not read from the cell);
//! - once disposed, the host is never called again, nothing more is sent, and every request
//!   pending then or started later rejects with `disposed`;
//! - every request settles once the clocks run on; no panic, no `RefCell` double borrow.
//!
//! `PROPTEST_CASES` overrides the number of cases (default 256).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use oblien_user_client::core::error::codes;
use oblien_user_client::core::runtime::{Runtime, TransportError};
use proptest::prelude::*;
use proptest::sample::select;
use std::cell::RefCell;
use std::rc::Rc;
use support::*;

const TTLS: [f64; 6] = [2.0, 5.0, 30.0, 120.0, 900.0, 3600.0];

/// What the host's refresh callback does from now on.
#[derive(Clone, Debug)]
enum Answer {
    Token {
        other_identity: bool,
        ttl_s: f64,
    },
    Fail,
    Hang,
    Late {
        ms: f64,
        fail: bool,
    },
    /// A token already past its `exp` (by an hour).
    Stale,
    WithoutIat {
        ttl_s: f64,
    },
    /// The token held when this op runs (a host that caches), with a fresh `exp`.
    Held {
        ttl_s: f64,
    },
}

/// What the API answers from now on.
#[derive(Clone, Debug)]
enum Server {
    Ok,
    /// 401 for every token.
    Unauthorized,
    /// 401 for the token held when this op runs (revoked), 200 for others.
    RevokeHeld,
    RateLimited(&'static str),
    Unavailable,
    Network,
    Slow(f64),
}

#[derive(Clone, Debug)]
enum Op {
    /// Both clocks forward; timers fire on the way.
    Advance(f64),
    /// The wall clock only (NTP, manual change, resume with a stale clock).
    JumpWall(f64),
    SetToken {
        other_identity: bool,
        ttl_s: f64,
    },
    Host(Answer),
    Server(Server),
    /// Requests started together; they run at the next op that lets time pass or settles.
    Requests {
        n: usize,
        post: bool,
    },
    /// The owner's timer or a focus/online listener.
    Check,
    /// The next `Math.random()` values (back-off and retry jitter).
    Jitter(f64),
    Settle,
    Dispose,
}

fn ttl() -> impl Strategy<Value = f64> {
    select(TTLS.to_vec())
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => (any::<bool>(), ttl()).prop_map(|(other_identity, ttl_s)| Answer::Token {
            other_identity,
            ttl_s
        }),
        2 => Just(Answer::Fail),
        1 => Just(Answer::Hang),
        2 => (1u32..20_000, any::<bool>()).prop_map(|(ms, fail)| Answer::Late {
            ms: f64::from(ms),
            fail
        }),
        1 => Just(Answer::Stale),
        1 => ttl().prop_map(|ttl_s| Answer::WithoutIat { ttl_s }),
        1 => ttl().prop_map(|ttl_s| Answer::Held { ttl_s }),
    ]
}

fn server() -> impl Strategy<Value = Server> {
    prop_oneof![
        4 => Just(Server::Ok),
        1 => Just(Server::Unauthorized),
        2 => Just(Server::RevokeHeld),
        1 => select(vec!["0", "1", "60", "120", "soon", "Tue, 14 Nov 2023 22:13:25 GMT"])
            .prop_map(Server::RateLimited),
        1 => Just(Server::Unavailable),
        1 => Just(Server::Network),
        1 => (1u32..30_000).prop_map(|ms| Server::Slow(f64::from(ms))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => prop_oneof![0u32..2_000, 2_000u32..120_000, 120_000u32..4_000_000]
            .prop_map(|ms| Op::Advance(f64::from(ms))),
        2 => (-240i32..=240).prop_map(|minutes| Op::JumpWall(f64::from(minutes) * MINUTE_MS)),
        2 => (any::<bool>(), ttl()).prop_map(|(other_identity, ttl_s)| Op::SetToken {
            other_identity,
            ttl_s
        }),
        3 => answer().prop_map(Op::Host),
        3 => server().prop_map(Op::Server),
        5 => (1usize..6, any::<bool>()).prop_map(|(n, post)| Op::Requests { n, post }),
        2 => Just(Op::Check),
        1 => (0u32..1_000).prop_map(|r| Op::Jitter(f64::from(r) / 1_000.0)),
        1 => Just(Op::Settle),
        1 => Just(Op::Dispose),
    ]
}

#[derive(Clone, Debug)]
struct Start {
    initial_ttl_s: Option<f64>,
    with_source: bool,
    margin_secs: Option<f64>,
    server_skew_ms: f64,
}

fn start() -> impl Strategy<Value = Start> {
    (
        prop_oneof![4 => ttl().prop_map(Some), 1 => Just(None)],
        prop_oneof![5 => Just(true), 1 => Just(false)],
        prop_oneof![3 => Just(None), 1 => (0u32..120).prop_map(|s| Some(f64::from(s)))],
        -600_000i32..600_000,
    )
        .prop_map(|(initial_ttl_s, with_source, margin_secs, skew)| Start {
            initial_ttl_s,
            with_source,
            margin_secs,
            server_skew_ms: f64::from(skew),
        })
}

/// A token handed to the cell by `setToken` or at construction: (secret, monotonic ms, local
/// deadline).
type Granted = Rc<RefCell<Vec<(String, f64, f64)>>>;

/// The latest local deadline `bearer` can have had at monotonic time `mono_ms`: the largest over
/// every time it was handed over until then (so a token handed over twice is never judged by the
/// earlier, shorter deadline).
fn deadline_of(granted: &Granted, host: &FakeHost, bearer: &str, mono_ms: f64) -> Option<f64> {
    let from_host = host.issued().into_iter().filter_map(|issued| {
        let lifetime = issued
            .claims
            .iat
            .map_or(issued.claims.exp * 1000.0 - issued.at_ms, |iat| {
                (issued.claims.exp - iat) * 1000.0
            })
            .max(0.0);
        (issued.secret == bearer && issued.mono_ms <= mono_ms).then_some(issued.at_ms + lifetime)
    });
    let from_set = granted
        .borrow()
        .iter()
        .filter(|(secret, at, _)| secret == bearer && *at <= mono_ms)
        .map(|(_, _, deadline)| *deadline)
        .collect::<Vec<_>>();
    from_host.chain(from_set).reduce(f64::max)
}

struct AtDispose {
    host_calls: usize,
    sent: usize,
    /// Requests started before dispose and not settled then.
    pending: Vec<usize>,
    /// Requests from this index on were started after dispose.
    started: usize,
}

struct Harness {
    env: Env,
    /// What the API answers, and the token revoked by `RevokeHeld`.
    server: Rc<RefCell<(Server, Option<String>)>>,
    granted: Granted,
    outcomes: Vec<Outcome>,
    sets: usize,
    disposed: Option<AtDispose>,
}

impl Harness {
    fn new(start: &Start) -> Harness {
        let env = Env::new(Setup {
            initial_ttl_s: start.initial_ttl_s,
            with_source: start.with_source,
            margin_secs: start.margin_secs,
            server_skew_ms: start.server_skew_ms,
        });
        let granted: Granted = Rc::new(RefCell::new(Vec::new()));
        if let Some(ttl_s) = start.initial_ttl_s {
            granted
                .borrow_mut()
                .push(("tok-0".to_string(), 0.0, T0_MS + ttl_s * 1000.0));
        }
        let server = Rc::new(RefCell::new((Server::Ok, None)));
        {
            let (rt, host) = (env.rt.clone(), env.host.clone());
            let (granted, server) = (granted.clone(), server.clone());
            env.transport.respond(move |sent| {
                let now = rt.now_ms();
                let deadline = deadline_of(&granted, &host, &sent.bearer, sent.mono_ms)
                    .unwrap_or_else(|| panic!("sent with {:?}, never handed over", sent.bearer));
                assert!(
                    now < deadline,
                    "{:?} sent at {now} (monotonic {}), its deadline was {deadline}",
                    sent.bearer,
                    sent.mono_ms
                );
                let (server, revoked) = &*server.borrow();
                match server {
                    Server::Ok => Reply::ok(),
                    Server::Unauthorized => Reply::status(401),
                    Server::RevokeHeld if revoked.as_deref() == Some(sent.bearer.as_str()) => {
                        Reply::status(401)
                    }
                    Server::RevokeHeld => Reply::ok(),
                    Server::RateLimited(value) => Reply::status(429).retry_after(value),
                    Server::Unavailable => Reply::status(503),
                    Server::Network => Reply::failed(TransportError::Network),
                    Server::Slow(ms) => Reply::ok().delayed(*ms),
                }
            });
        }
        Harness {
            env,
            server,
            granted,
            outcomes: Vec::new(),
            sets: 0,
            disposed: None,
        }
    }

    fn apply(&mut self, op: &Op) {
        let env = &self.env;
        match op {
            Op::Advance(ms) => env.advance(*ms),
            Op::JumpWall(ms) => env.jump_wall(*ms),
            Op::SetToken {
                other_identity,
                ttl_s,
            } => {
                self.sets += 1;
                let secret = format!("tok-set-{}", self.sets);
                self.granted.borrow_mut().push((
                    secret.clone(),
                    env.mono(),
                    env.now() + ttl_s * 1000.0,
                ));
                let namespace = if *other_identity { "other" } else { "ns" };
                env.set_token(&secret, namespace, *ttl_s);
            }
            Op::Host(answer) => env.host.always(self.host_step(answer)),
            Op::Server(server) => *self.server.borrow_mut() = (server.clone(), env.secret()),
            Op::Requests { n, post } => {
                for _ in 0..*n {
                    let outcome = if *post {
                        env.spawn_post()
                    } else {
                        env.spawn_get()
                    };
                    self.outcomes.push(outcome);
                }
            }
            Op::Check => env.cell.check(),
            Op::Jitter(random) => env.rt.set_random(*random),
            Op::Settle => env.settle(),
            Op::Dispose => {
                env.cell.dispose();
                if self.disposed.is_none() {
                    self.disposed = Some(AtDispose {
                        host_calls: env.host.calls(),
                        sent: env.transport.sent(),
                        pending: (0..self.outcomes.len())
                            .filter(|&i| !self.outcomes[i].is_done())
                            .collect(),
                        started: self.outcomes.len(),
                    });
                }
            }
        }
        self.check();
    }

    fn host_step(&self, answer: &Answer) -> HostStep {
        match answer {
            Answer::Token {
                other_identity,
                ttl_s,
            } => HostStep::token_for(if *other_identity { "other" } else { "ns" }, *ttl_s),
            Answer::Fail => HostStep::Fail("the backend is down".to_string()),
            Answer::Hang => HostStep::Hang,
            Answer::Late { ms, fail } => HostStep::after(
                *ms,
                if *fail {
                    HostStep::Fail("late and down".to_string())
                } else {
                    HostStep::token()
                },
            ),
            Answer::Stale => HostStep::Stale { age_s: 3_600.0 },
            Answer::WithoutIat { ttl_s } => HostStep::WithoutIat { ttl_s: *ttl_s },
            Answer::Held { ttl_s } => match self.env.secret() {
                Some(secret) => HostStep::Fixed {
                    secret,
                    ttl_s: *ttl_s,
                },
                None => HostStep::token(),
            },
        }
    }

    /// The invariants that hold after every op.
    fn check(&self) {
        let env = &self.env;
        assert!(
            env.host.max_in_flight() <= 1,
            "{} host calls were in flight at once",
            env.host.max_in_flight()
        );
        if let Some(at) = &self.disposed {
            assert_eq!(env.host.calls(), at.host_calls, "host called after dispose");
            assert_eq!(env.transport.sent(), at.sent, "request sent after dispose");
            assert!(env.cell.token().is_none());
            assert_eq!(env.cell.next_check_ms(), None);
        }
    }

    /// Runs the clocks on until everything settles, then checks every outcome.
    fn finish(&self) {
        // Longest chain: a 15 s host timeout, 3 × 60 s of Retry-After, 30 s replies, back-off.
        for _ in 0..20 {
            self.env.advance(60_000.0);
            self.check();
        }
        for (i, outcome) in self.outcomes.iter().enumerate() {
            assert!(outcome.is_done(), "request {i} never settled");
            // `result` also checks that no error message carries a secret.
            let result = outcome.result();
            if let Some(at) = &self.disposed {
                if at.pending.contains(&i) || i >= at.started {
                    let error = result.expect_err("a request pending at dispose succeeded");
                    assert_eq!(error.code, codes::DISPOSED, "request {i}: {error:?}");
                }
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // Failures become named tests in tests/session_policy.rs, not a regressions file.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn refresh_policy_invariants_hold(start in start(), ops in prop::collection::vec(op(), 1..60)) {
        let mut harness = Harness::new(&start);
        for op in &ops {
            harness.apply(op);
        }
        harness.finish();
    }
}
