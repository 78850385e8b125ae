//! A fake browser for the core's native tests: a manual wall clock (jumpable, independent of
//! the timers, like `Date.now` vs `setTimeout`), deterministic jitter, timers fired by
//! `advance`, a `LocalPool` for spawned tasks, a scripted refresh callback and a scripted
//! transport.
#![allow(dead_code)]

use futures::executor::{LocalPool, LocalSpawner};
use futures::task::LocalSpawnExt;
use oblien_user_client::core::api;
use oblien_user_client::core::cell::{CellEvent, Observer, Refresh, TokenCell, TokenSource};
use oblien_user_client::core::error::{codes, ClientError};
use oblien_user_client::core::gateway::{ApiCall, Minter, Registry};
use oblien_user_client::core::request;
// The native timers (the struct `Sleep` below is one of them).
use oblien_user_client::core::request::{HttpResponse, Retries};
use oblien_user_client::core::runtime::Sleep as Sleeps;
use oblien_user_client::core::runtime::{
    Fetched, HttpRequest, LocalFuture, RefreshReason, Runtime, TransportError,
};
use oblien_user_client::core::token::{Claims, HeldToken, TokenScope};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

/// The device's wall clock when a test starts (Tue, 14 Nov 2023 22:13:20 GMT).
pub const T0_MS: f64 = 1_700_000_000_000.0;
pub const SECOND_MS: f64 = 1_000.0;
pub const MINUTE_MS: f64 = 60_000.0;
pub const HOUR_MS: f64 = 3_600_000.0;
pub const URL: &str = "https://api.test/workspace";
/// More requests or refreshes than any test makes: a loop that does not end.
const MAX_SENDS: usize = 20_000;

// ---------------------------------------------------------------------------------------------
// Runtime

struct Timer {
    /// Monotonic ms at which the timer fires.
    due: f64,
    fired: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

struct Sleep(Rc<Timer>);

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.fired.get() {
            Poll::Ready(())
        } else {
            *self.0.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// `now_ms` = `T0_MS` + monotonic time + wall offset. Timers run on the monotonic time only, so
/// jumping the wall clock fires nothing (as `setTimeout` ignores `Date.now` changes).
pub struct FakeRuntime {
    mono_ms: Cell<f64>,
    wall_offset_ms: Cell<f64>,
    random: Cell<f64>,
    timers: RefCell<Vec<Weak<Timer>>>,
    sleeps: RefCell<Vec<f64>>,
    spawner: LocalSpawner,
}

impl FakeRuntime {
    pub fn mono_ms(&self) -> f64 {
        self.mono_ms.get()
    }

    pub fn jump_wall(&self, delta_ms: f64) {
        self.wall_offset_ms
            .set(self.wall_offset_ms.get() + delta_ms);
    }

    pub fn set_random(&self, value: f64) {
        self.random.set(value);
    }

    /// Every duration passed to `sleep`, in call order.
    pub fn sleeps(&self) -> Vec<f64> {
        self.sleeps.borrow().clone()
    }

    /// Fires the timers due at the current monotonic time; true when any fired.
    fn fire_due(&self) -> bool {
        let now = self.mono_ms.get();
        let mut due = Vec::new();
        self.timers
            .borrow_mut()
            .retain(|weak| match weak.upgrade() {
                None => false,
                Some(timer) if timer.due <= now => {
                    due.push(timer);
                    false
                }
                Some(_) => true,
            });
        for timer in &due {
            timer.fired.set(true);
            let waker = timer.waker.borrow_mut().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        !due.is_empty()
    }

    /// The earliest pending timer (timers whose future was dropped do not count).
    fn next_due(&self) -> Option<f64> {
        self.timers
            .borrow()
            .iter()
            .filter_map(Weak::upgrade)
            .map(|t| t.due)
            .reduce(f64::min)
    }

    pub fn pending_timers(&self) -> usize {
        self.timers
            .borrow()
            .iter()
            .filter(|w| w.upgrade().is_some_and(|t| !t.fired.get()))
            .count()
    }
}

impl Runtime for FakeRuntime {
    fn now_ms(&self) -> f64 {
        T0_MS + self.mono_ms.get() + self.wall_offset_ms.get()
    }

    fn monotonic_ms(&self) -> f64 {
        self.mono_ms.get()
    }

    fn random(&self) -> f64 {
        self.random.get()
    }
}

impl Sleeps for FakeRuntime {
    fn sleep(&self, ms: f64) -> LocalFuture<()> {
        self.sleeps.borrow_mut().push(ms);
        let timer = Rc::new(Timer {
            due: self.mono_ms.get() + ms.max(0.0),
            fired: Cell::new(false),
            waker: RefCell::new(None),
        });
        self.timers.borrow_mut().push(Rc::downgrade(&timer));
        Box::pin(Sleep(timer))
    }
}

impl FakeRuntime {
    /// Runs a task in the background (the native drivers of a refresh call).
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.spawner.spawn_local(task).expect("the pool is gone");
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

pub fn namespace_claims(namespace: &str, iat_s: f64, ttl_s: f64) -> Claims {
    Claims {
        scope: TokenScope::Namespace,
        namespace: Some(namespace.to_string()),
        workspace_id: None,
        label: None,
        iat: Some(iat_s),
        exp: iat_s + ttl_s,
    }
}

// ---------------------------------------------------------------------------------------------
// Host refresh callback

/// What the host's refresh callback does on one call.
#[derive(Clone, Debug)]
pub enum HostStep {
    /// A fresh token `tok-N` for `namespace`, iat = the server's now, exp = iat + ttl.
    Token {
        namespace: String,
        ttl_s: f64,
    },
    /// A token whose `exp` passed `age_s` seconds ago on the server clock.
    Stale {
        age_s: f64,
    },
    /// A fresh token `tok-N` without an `iat` claim: exp = the server's now + ttl.
    WithoutIat {
        ttl_s: f64,
    },
    /// This exact secret (e.g. the one already held, from a host that caches), issued now.
    Fixed {
        secret: String,
        ttl_s: f64,
    },
    Fail(String),
    /// Never settles.
    Hang,
    /// Settles as the inner step after a runtime sleep of this many ms.
    After(f64, Box<HostStep>),
}

impl HostStep {
    pub fn token() -> Self {
        Self::token_for("ns", 900.0)
    }

    pub fn token_for(namespace: &str, ttl_s: f64) -> Self {
        HostStep::Token {
            namespace: namespace.to_string(),
            ttl_s,
        }
    }

    pub fn after(ms: f64, step: HostStep) -> Self {
        HostStep::After(ms, Box::new(step))
    }
}

/// A token the host handed over: its secret, the clocks then, and its claims.
#[derive(Clone, Debug)]
pub struct Issued {
    pub secret: String,
    /// Device wall clock.
    pub at_ms: f64,
    /// Monotonic clock.
    pub mono_ms: f64,
    pub claims: Claims,
}

struct HostState {
    rt: Rc<FakeRuntime>,
    calls: Cell<usize>,
    answers: Cell<usize>,
    /// Calls whose future is still alive (neither settled nor dropped by the cell).
    in_flight: Cell<usize>,
    max_in_flight: Cell<usize>,
    issued_log: RefCell<Vec<Issued>>,
    reasons: RefCell<Vec<RefreshReason>>,
    script: RefCell<VecDeque<HostStep>>,
    /// Used once the script is empty.
    fallback: RefCell<HostStep>,
    /// Server clock minus device clock.
    server_skew_ms: Cell<f64>,
    issued: Cell<u32>,
}

#[derive(Clone)]
pub struct FakeHost(Rc<HostState>);

impl FakeHost {
    pub fn new(rt: Rc<FakeRuntime>, server_skew_ms: f64) -> Self {
        FakeHost(Rc::new(HostState {
            rt,
            calls: Cell::new(0),
            answers: Cell::new(0),
            in_flight: Cell::new(0),
            max_in_flight: Cell::new(0),
            issued_log: RefCell::new(Vec::new()),
            reasons: RefCell::new(Vec::new()),
            script: RefCell::new(VecDeque::new()),
            fallback: RefCell::new(HostStep::token()),
            server_skew_ms: Cell::new(server_skew_ms),
            issued: Cell::new(0),
        }))
    }

    /// Calls of the callback so far.
    pub fn calls(&self) -> usize {
        self.0.calls.get()
    }

    /// Calls that settled (after any delay), including ones the cell no longer waited for.
    pub fn answers(&self) -> usize {
        self.0.answers.get()
    }

    /// Calls in flight now: started, and neither settled nor abandoned (dropped) by the cell.
    pub fn in_flight(&self) -> usize {
        self.0.in_flight.get()
    }

    /// The most calls ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.0.max_in_flight.get()
    }

    /// Every token handed over, in order.
    pub fn issued(&self) -> Vec<Issued> {
        self.0.issued_log.borrow().clone()
    }

    pub fn reasons(&self) -> Vec<RefreshReason> {
        self.0.reasons.borrow().clone()
    }

    /// Queues steps for the next calls.
    pub fn script(&self, steps: impl IntoIterator<Item = HostStep>) {
        self.0.script.borrow_mut().extend(steps);
    }

    /// What every call does once the script is used up.
    pub fn always(&self, step: HostStep) {
        *self.0.fallback.borrow_mut() = step;
    }

    /// The server's clock: true time (the device's monotonic clock from `T0_MS`) plus the skew.
    /// A jump of the device's wall clock (`jump_wall`) does not move it.
    pub fn server_now_s(&self) -> f64 {
        (T0_MS + self.0.rt.mono_ms() + self.0.server_skew_ms.get()) / 1000.0
    }

    fn settle_step(&self, step: HostStep) -> Result<Fetched, ClientError> {
        self.0.answers.set(self.0.answers.get() + 1);
        let result = self.answer(step);
        if let Ok(fetched) = &result {
            self.0.issued_log.borrow_mut().push(Issued {
                secret: fetched.secret.clone(),
                at_ms: self.0.rt.now_ms(),
                mono_ms: self.0.rt.mono_ms(),
                claims: fetched.claims.clone(),
            });
        }
        result
    }

    fn answer(&self, step: HostStep) -> Result<Fetched, ClientError> {
        match step {
            HostStep::Token { namespace, ttl_s } => {
                let n = self.0.issued.get() + 1;
                self.0.issued.set(n);
                Ok(Fetched::new(
                    format!("tok-{n}"),
                    namespace_claims(&namespace, self.server_now_s(), ttl_s),
                ))
            }
            HostStep::Stale { age_s } => {
                let n = self.0.issued.get() + 1;
                self.0.issued.set(n);
                let exp = self.server_now_s() - age_s;
                Ok(Fetched::new(
                    format!("tok-{n}"),
                    namespace_claims("ns", exp - 900.0, 900.0),
                ))
            }
            HostStep::WithoutIat { ttl_s } => {
                let n = self.0.issued.get() + 1;
                self.0.issued.set(n);
                let mut claims = namespace_claims("ns", self.server_now_s(), ttl_s);
                claims.iat = None;
                Ok(Fetched::new(format!("tok-{n}"), claims))
            }
            HostStep::Fixed { secret, ttl_s } => Ok(Fetched::new(
                secret,
                namespace_claims("ns", self.server_now_s(), ttl_s),
            )),
            HostStep::Fail(message) => Err(ClientError::new(codes::REFRESH_FAILED, message)),
            HostStep::Hang | HostStep::After(..) => unreachable!("resolved by fetch"),
        }
    }
}

/// The core's async driver of a call (`Refresh::run`) over the scripted callback.
impl TokenSource for FakeHost {
    fn start(self: Rc<Self>, call: Refresh) {
        let rt = self.0.rt.clone();
        let host = (*self).clone();
        rt.spawn(Box::pin(
            call.run(rt.clone(), move |reason| host.fetch(reason)),
        ));
    }
}

impl FakeHost {
    fn fetch(&self, reason: RefreshReason) -> LocalFuture<Result<Fetched, ClientError>> {
        assert!(
            self.0.calls.get() < MAX_SENDS,
            "runaway refresh loop: {MAX_SENDS} refreshes"
        );
        self.0.calls.set(self.0.calls.get() + 1);
        self.0.reasons.borrow_mut().push(reason);
        let step = self
            .0
            .script
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| self.0.fallback.borrow().clone());
        let host = self.clone();
        let in_flight = InFlight::enter(self);
        Box::pin(async move {
            let _in_flight = in_flight;
            let mut step = step;
            loop {
                match step {
                    HostStep::After(ms, inner) => {
                        let sleep = host.0.rt.sleep(ms);
                        sleep.await;
                        step = *inner;
                    }
                    HostStep::Hang => std::future::pending::<()>().await,
                    other => return host.settle_step(other),
                }
            }
        })
    }
}

/// Counts a call as in flight until its future settles or is dropped.
struct InFlight(Rc<HostState>);

impl InFlight {
    fn enter(host: &FakeHost) -> Self {
        let n = host.0.in_flight.get() + 1;
        host.0.in_flight.set(n);
        host.0.max_in_flight.set(host.0.max_in_flight.get().max(n));
        InFlight(host.0.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.set(self.0.in_flight.get() - 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Transport

#[derive(Clone, Debug)]
pub struct Sent {
    pub method: &'static str,
    pub url: String,
    pub bearer: String,
    /// Monotonic ms when sent.
    pub mono_ms: f64,
}

pub struct Reply {
    pub delay_ms: f64,
    pub result: Result<HttpResponse, TransportError>,
}

impl Reply {
    /// An answer with this body text.
    pub fn text(status: u16, text: &str) -> Reply {
        Reply {
            delay_ms: 0.0,
            result: Ok(HttpResponse {
                status,
                retry_after: None,
                request_id: Some("req-1".to_string()),
                text: text.to_string(),
            }),
        }
    }

    /// 200 with the JSON string `"ok"`; the result handed back is `ok`.
    pub fn ok() -> Reply {
        Self::text(200, "\"ok\"")
    }

    /// A JSON `{"success":false}` with no code or message.
    pub fn status(status: u16) -> Reply {
        Self::text(status, "{\"success\":false}")
    }

    /// A JSON error body with the server's code and message.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"success": false, "code": code, "message": message});
        Self::text(status, &body.to_string())
    }

    /// A body that is not JSON (a proxy's HTML page, say).
    pub fn non_json(status: u16) -> Reply {
        Self::text(status, "<html><body>Bad gateway</body></html>")
    }

    pub fn failed(error: TransportError) -> Reply {
        Reply {
            delay_ms: 0.0,
            result: Err(error),
        }
    }

    pub fn retry_after(mut self, value: &str) -> Reply {
        if let Ok(response) = &mut self.result {
            response.retry_after = Some(value.to_string());
        }
        self
    }

    pub fn delayed(mut self, ms: f64) -> Reply {
        self.delay_ms = ms;
        self
    }
}

type Responder = Box<dyn FnMut(&Sent) -> Reply>;

struct TransportState {
    rt: Rc<FakeRuntime>,
    log: RefCell<Vec<Sent>>,
    responder: RefCell<Responder>,
}

#[derive(Clone)]
pub struct FakeTransport(Rc<TransportState>);

impl FakeTransport {
    pub fn new(rt: Rc<FakeRuntime>) -> Self {
        FakeTransport(Rc::new(TransportState {
            rt,
            log: RefCell::new(Vec::new()),
            responder: RefCell::new(Box::new(|_| Reply::ok())),
        }))
    }

    /// Answers every request with `f(sent)`.
    pub fn respond(&self, f: impl FnMut(&Sent) -> Reply + 'static) {
        *self.0.responder.borrow_mut() = Box::new(f);
    }

    /// Answers the next requests with `replies` in order, then with 200.
    pub fn queue(&self, replies: Vec<Reply>) {
        let mut replies = VecDeque::from(replies);
        self.respond(move |_| replies.pop_front().unwrap_or_else(Reply::ok));
    }

    pub fn log(&self) -> Vec<Sent> {
        self.0.log.borrow().clone()
    }

    pub fn sent(&self) -> usize {
        self.0.log.borrow().len()
    }

    pub fn bearers(&self) -> Vec<String> {
        self.0
            .log
            .borrow()
            .iter()
            .map(|s| s.bearer.clone())
            .collect()
    }

    pub fn sent_at(&self) -> Vec<f64> {
        self.0.log.borrow().iter().map(|s| s.mono_ms).collect()
    }
}

impl FakeTransport {
    pub fn send(
        &self,
        request: &HttpRequest,
        bearer: &str,
    ) -> LocalFuture<Result<HttpResponse, TransportError>> {
        let sent = Sent {
            method: request.method,
            url: request.url.clone(),
            bearer: bearer.to_string(),
            mono_ms: self.0.rt.mono_ms(),
        };
        // A retry loop that never ends would otherwise hang the test instead of failing it.
        assert!(
            self.0.log.borrow().len() < MAX_SENDS,
            "runaway request loop: {MAX_SENDS} requests sent"
        );
        let reply = (self.0.responder.borrow_mut())(&sent);
        self.0.log.borrow_mut().push(sent);
        let rt = self.0.rt.clone();
        Box::pin(async move {
            if reply.delay_ms > 0.0 {
                rt.sleep(reply.delay_ms).await;
            }
            reply.result
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

/// Every `ClientError` a test sees goes through here: no message may carry a bearer secret
/// (`tok-N`, `tok-set…`) or anything shaped like a JWT.
pub fn assert_no_secret(error: &ClientError) {
    for needle in ["tok-", "eyJ"] {
        assert!(
            !error.message.contains(needle) && !error.code.contains(needle),
            "error leaks a secret ({needle}): {error:?}"
        );
    }
}

pub fn describe(event: &CellEvent) -> String {
    match event {
        CellEvent::TokenChanged {
            same_identity: true,
        } => "changed:same".to_string(),
        CellEvent::TokenChanged {
            same_identity: false,
        } => "changed:other".to_string(),
        CellEvent::RefreshFailed(error) => format!("failed:{}", error.code),
    }
}

// ---------------------------------------------------------------------------------------------
// Environment

/// A request's eventual result.
#[derive(Clone)]
pub struct Outcome(Rc<RefCell<Option<Result<String, ClientError>>>>);

impl Outcome {
    pub fn is_done(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// The result if settled, unchecked.
    pub fn peek(&self) -> Option<Result<String, ClientError>> {
        self.0.borrow().clone()
    }

    pub fn result(&self) -> Result<String, ClientError> {
        let result = self
            .0
            .borrow()
            .clone()
            .expect("the request has not settled");
        if let Err(error) = &result {
            assert_no_secret(error);
        }
        result
    }

    pub fn ok(&self) -> String {
        match self.result() {
            Ok(body) => body,
            Err(error) => panic!("expected success, got {error:?}"),
        }
    }

    pub fn err(&self) -> ClientError {
        match self.result() {
            Ok(body) => panic!("expected an error, got Ok({body:?})"),
            Err(error) => error,
        }
    }
}

pub struct Setup {
    /// Lifetime of the initial token `tok-0` (received at `T0_MS`); `None` for no token.
    pub initial_ttl_s: Option<f64>,
    /// Whether the host passed a refresh callback.
    pub with_source: bool,
    pub margin_secs: Option<f64>,
    /// Server clock minus device clock.
    pub server_skew_ms: f64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            initial_ttl_s: Some(900.0),
            with_source: true,
            margin_secs: None,
            server_skew_ms: 0.0,
        }
    }
}

pub struct Env {
    pool: RefCell<LocalPool>,
    pub rt: Rc<FakeRuntime>,
    pub host: FakeHost,
    pub transport: FakeTransport,
    pub cell: Rc<TokenCell>,
    events: Rc<RefCell<Vec<CellEvent>>>,
}

impl Default for Env {
    fn default() -> Self {
        Env::new(Setup::default())
    }
}

impl Env {
    pub fn new(setup: Setup) -> Env {
        let pool = LocalPool::new();
        let rt = Rc::new(FakeRuntime {
            mono_ms: Cell::new(0.0),
            wall_offset_ms: Cell::new(0.0),
            random: Cell::new(0.5),
            timers: RefCell::new(Vec::new()),
            sleeps: RefCell::new(Vec::new()),
            spawner: pool.spawner(),
        });
        let host = FakeHost::new(rt.clone(), setup.server_skew_ms);
        let transport = FakeTransport::new(rt.clone());
        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        let observer: Observer = Rc::new(move |event: CellEvent| {
            if let CellEvent::RefreshFailed(error) = &event {
                assert_no_secret(error);
            }
            sink.borrow_mut().push(event);
        });
        let token = setup.initial_ttl_s.map(|ttl| {
            let claims = namespace_claims("ns", host.server_now_s(), ttl);
            HeldToken::new("tok-0".to_string(), claims, rt.arrival())
        });
        let source: Option<Rc<dyn TokenSource>> = if setup.with_source {
            Some(Rc::new(host.clone()))
        } else {
            None
        };
        let cell = TokenCell::new(token, setup.margin_secs, rt.clone(), source, observer);
        Env {
            pool: RefCell::new(pool),
            rt,
            host,
            transport,
            cell,
            events,
        }
    }

    /// Device wall clock.
    pub fn now(&self) -> f64 {
        self.rt.now_ms()
    }

    pub fn mono(&self) -> f64 {
        self.rt.mono_ms()
    }

    /// Runs every task until none can progress, firing timers already due.
    pub fn settle(&self) {
        loop {
            self.pool.borrow_mut().run_until_stalled();
            if !self.rt.fire_due() {
                break;
            }
        }
    }

    /// Moves both clocks forward by `ms`, stopping at each timer's deadline to fire it and run
    /// the tasks it wakes.
    pub fn advance(&self, ms: f64) {
        let target = self.rt.mono_ms() + ms;
        self.settle();
        while let Some(due) = self.rt.next_due().filter(|due| *due <= target) {
            self.rt.mono_ms.set(due.max(self.rt.mono_ms()));
            self.settle();
        }
        self.rt.mono_ms.set(target);
        self.settle();
    }

    /// Moves the wall clock only (NTP correction, manual change, laptop resume with a stale
    /// clock): no timer fires.
    pub fn jump_wall(&self, delta_ms: f64) {
        self.rt.jump_wall(delta_ms);
    }

    /// Starts the core's request path (`send_authorised`, then `into_result`) as a task; call
    /// `settle`/`advance` to run it. A JSON string result (`"ok"`) is handed back unquoted.
    pub fn spawn_request(&self, req: HttpRequest) -> Outcome {
        let outcome = Outcome(Rc::new(RefCell::new(None)));
        let slot = outcome.clone();
        let cell = self.cell.clone();
        let rt = self.rt.clone();
        let transport = self.transport.clone();
        self.pool
            .borrow()
            .spawner()
            .spawn_local(async move {
                let send = |bearer: &str| transport.send(&req, bearer);
                let retries = Retries::for_method(req.method);
                let result = request::send_authorised(&cell, &*rt, retries, &send)
                    .await
                    .and_then(request::into_result)
                    .map(|text| text.trim_matches('"').to_string());
                *slot.0.borrow_mut() = Some(result);
            })
            .expect("spawn");
        outcome
    }

    /// Starts any future of the core as a task; call `settle`/`advance` to run it.
    pub fn spawn(
        &self,
        fut: impl Future<Output = Result<String, ClientError>> + 'static,
    ) -> Outcome {
        let outcome = Outcome(Rc::new(RefCell::new(None)));
        let slot = outcome.clone();
        self.pool
            .borrow()
            .spawner()
            .spawn_local(async move {
                let result = fut.await;
                *slot.0.borrow_mut() = Some(result);
            })
            .expect("spawn");
        outcome
    }

    /// Control-plane calls with the session cell over the fake transport (what the binding's
    /// session does with `fetch`).
    pub fn api(&self) -> Rc<EnvApi> {
        Rc::new(EnvApi {
            cell: self.cell.clone(),
            rt: self.rt.clone(),
            transport: self.transport.clone(),
        })
    }

    pub fn spawn_get(&self) -> Outcome {
        self.spawn_request(api::get(URL.to_string()))
    }

    pub fn spawn_post(&self) -> Outcome {
        self.spawn_request(api::post(URL.to_string(), "{\"name\":\"w\"}".to_string()))
    }

    /// A GET run until it cannot progress without time passing; it must have settled.
    pub fn get_now(&self) -> Result<String, ClientError> {
        let outcome = self.spawn_get();
        self.settle();
        assert!(outcome.is_done(), "the GET did not settle without waiting");
        outcome.result()
    }

    pub fn post_now(&self) -> Result<String, ClientError> {
        let outcome = self.spawn_post();
        self.settle();
        assert!(outcome.is_done(), "the POST did not settle without waiting");
        outcome.result()
    }

    /// `setToken`: a token received now for `namespace`.
    pub fn set_token(&self, secret: &str, namespace: &str, ttl_s: f64) {
        let claims = namespace_claims(namespace, self.host.server_now_s(), ttl_s);
        self.cell.set(HeldToken::new(
            secret.to_string(),
            claims,
            self.rt.arrival(),
        ));
    }

    pub fn events(&self) -> Vec<String> {
        self.events.borrow().iter().map(describe).collect()
    }

    pub fn refresh_errors(&self) -> Vec<ClientError> {
        self.events
            .borrow()
            .iter()
            .filter_map(|e| match e {
                CellEvent::RefreshFailed(error) => Some(error.clone()),
                CellEvent::TokenChanged { .. } => None,
            })
            .collect()
    }

    pub fn secret(&self) -> Option<String> {
        self.cell.token().map(|t| t.secret)
    }
}

/// A workspace's mint for a refresh call of its cell: the core's async driver
/// ([`Registry::mint`], within the call's limit) over [`EnvApi`].
impl Minter for EnvApi {
    fn mint(self: Rc<Self>, registry: Rc<Registry>, workspace_id: String, call: Refresh) {
        let rt = self.rt.clone();
        let fetch = move |_| -> LocalFuture<Result<Fetched, ClientError>> {
            Box::pin(async move { registry.mint(&*self, &workspace_id).await })
        };
        rt.spawn(call.run(rt.clone(), fetch));
    }
}

/// [`ApiCall`] over the fake transport with the session cell.
pub struct EnvApi {
    pub cell: Rc<TokenCell>,
    pub rt: Rc<FakeRuntime>,
    pub transport: FakeTransport,
}

impl ApiCall for EnvApi {
    fn call(&self, request: HttpRequest) -> LocalFuture<Result<String, ClientError>> {
        let (cell, rt, transport) = (self.cell.clone(), self.rt.clone(), self.transport.clone());
        Box::pin(async move {
            let send = |bearer: &str| transport.send(&request, bearer);
            let retries = Retries::for_method(request.method);
            let response = request::send_authorised(&cell, &*rt, retries, &send).await?;
            request::into_result(response)
        })
    }
}

// ---------------------------------------------------------------------------------------------
// JWTs

pub fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | (u32::from(c) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;
pub const SIGNATURE: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub fn jwt_bytes(payload: &[u8]) -> String {
    format!(
        "{}.{}.{SIGNATURE}",
        b64url(HEADER.as_bytes()),
        b64url(payload)
    )
}

pub fn jwt(payload: &str) -> String {
    jwt_bytes(payload.as_bytes())
}
