//! Shared helpers for the emulator's integration tests: every test starts its own emulator on
//! ephemeral ports and talks to it over real sockets with `reqwest`.
//!
//! `Emu::send` checks what every response must carry (`X-Request-Id`); `Resp::ok` and `Resp::err`
//! check the status, and for errors the Oblien error shape `{success:false, error, code, message}`.

#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use oblien_emulator::{Config, Running};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const ADMIN_ID: &str = "cid_test_admin";
pub const ADMIN_SECRET: &str = "csk_test_admin_secret";
/// Provisioning delay used by default in tests: short, so waiting for `ready` is cheap.
pub const PROVISION_MS: u64 = 100;

/// A running emulator plus a client for it.
pub struct Emu {
    running: Option<Running>,
    pub client: reqwest::Client,
    pub api: String,
    pub gw: String,
}

/// The credential a request carries.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    /// An API key: `X-Client-ID` + `X-Client-Secret`.
    Key {
        id: String,
        secret: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// A raw `Authorization` header value.
    Authorization(String),
}

impl Cred {
    pub fn admin() -> Cred {
        Cred::Key {
            id: ADMIN_ID.to_string(),
            secret: ADMIN_SECRET.to_string(),
        }
    }

    pub fn bearer(token: impl Into<String>) -> Cred {
        Cred::Bearer(token.into())
    }

    pub fn apply(&self, rb: RequestBuilder) -> RequestBuilder {
        match self {
            Cred::None => rb,
            Cred::Key { id, secret } => rb
                .header("X-Client-ID", id)
                .header("X-Client-Secret", secret),
            Cred::Bearer(token) => rb.header("Authorization", format!("Bearer {token}")),
            Cred::Authorization(value) => rb.header("Authorization", value),
        }
    }
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON, `Value::Null` when it is not JSON.
    pub body: Value,
    /// What the request was, for assertion messages.
    pub what: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and a JSON body; returns the body.
    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}: unexpected status; body: {}",
            self.what,
            self.text
        );
        assert!(
            self.body.is_object(),
            "{}: body is not a JSON object: {}",
            self.what,
            self.text
        );
        assert_ne!(
            self.body["success"],
            json!(false),
            "{}: success:false on {}",
            self.what,
            self.text
        );
        &self.body
    }

    /// Asserts the status, the error shape and the code; returns the body.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}: unexpected status; body: {}",
            self.what,
            self.text
        );
        assert_error_shape(&self.body, &self.what);
        assert_eq!(
            self.body["code"], code,
            "{}: unexpected code in {}",
            self.what, self.text
        );
        &self.body
    }

    /// `err(400, "validation_error")` plus the `field` it names.
    #[track_caller]
    pub fn validation(&self, field: &str) -> &Value {
        let body = self.err(400, "validation_error");
        assert_eq!(
            body["field"], field,
            "{}: wrong field in {}",
            self.what, self.text
        );
        body
    }

    pub fn is_error_shape(&self) -> bool {
        self.body["success"] == json!(false)
            && self.body["error"].is_string()
            && self.body["code"] == self.body["error"]
            && self.body["message"].as_str().is_some_and(|m| !m.is_empty())
    }
}

/// `{success:false, error, code, message}` with `error == code` and a non-empty message.
#[track_caller]
pub fn assert_error_shape(body: &Value, what: &str) {
    assert_eq!(
        body["success"],
        json!(false),
        "{what}: not an error body: {body}"
    );
    let code = body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no code in {body}"));
    assert!(!code.is_empty(), "{what}: empty code");
    assert_eq!(body["error"], code, "{what}: error != code in {body}");
    let message = body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no message in {body}"));
    assert!(!message.is_empty(), "{what}: empty message");
}

pub fn test_config() -> Config {
    Config {
        provision_delay_ms: PROVISION_MS,
        admin_client_id: ADMIN_ID.to_string(),
        admin_client_secret: ADMIN_SECRET.to_string(),
        ..Config::default()
    }
}

/// A client that never uses a proxy (the emulator is on loopback).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// A client that opens a new connection for every request (for dropped-connection tests).
pub fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// Starts an emulator with the test defaults.
pub async fn start() -> Emu {
    start_with(test_config()).await
}

pub async fn start_with(config: Config) -> Emu {
    let running = oblien_emulator::start(config)
        .await
        .expect("emulator starts");
    Emu {
        api: running.api_url(),
        gw: running.gateway_url(),
        running: Some(running),
        client: client(),
    }
}

impl Emu {
    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("still running")
    }

    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await;
        }
    }

    /// A request to the API listener.
    pub fn api_req(&self, method: Method, path: &str, cred: &Cred) -> RequestBuilder {
        cred.apply(self.client.request(method, format!("{}{path}", self.api)))
    }

    /// A request to the gateway listener.
    pub fn gw_req(&self, method: Method, path: &str, cred: &Cred) -> RequestBuilder {
        cred.apply(self.client.request(method, format!("{}{path}", self.gw)))
    }

    /// Sends, reads the whole body, and checks that `X-Request-Id` is present.
    pub async fn send(&self, rb: RequestBuilder) -> Resp {
        let request = rb.build().expect("request builds");
        let what = format!("{} {}", request.method(), request.url());
        let response = self
            .client
            .execute(request)
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
        read(response, what).await
    }

    pub async fn api(&self, method: Method, path: &str, cred: &Cred, body: Option<Value>) -> Resp {
        let mut rb = self.api_req(method, path, cred);
        if let Some(body) = body {
            rb = rb.json(&body);
        }
        self.send(rb).await
    }

    pub async fn get(&self, path: &str, cred: &Cred) -> Resp {
        self.api(Method::GET, path, cred, None).await
    }

    pub async fn post(&self, path: &str, cred: &Cred, body: Value) -> Resp {
        self.api(Method::POST, path, cred, Some(body)).await
    }

    /// A POST without a body.
    pub async fn post_empty(&self, path: &str, cred: &Cred) -> Resp {
        self.api(Method::POST, path, cred, None).await
    }

    pub async fn delete(&self, path: &str, cred: &Cred) -> Resp {
        self.api(Method::DELETE, path, cred, None).await
    }

    /// A POST with a raw body and `Content-Type: application/json`.
    pub async fn post_raw(&self, path: &str, cred: &Cred, body: impl Into<reqwest::Body>) -> Resp {
        let rb = self
            .api_req(Method::POST, path, cred)
            .header("Content-Type", "application/json")
            .body(body);
        self.send(rb).await
    }

    pub async fn gw_get(&self, path: &str, token: &str) -> Resp {
        self.send(self.gw_req(Method::GET, path, &Cred::bearer(token)))
            .await
    }

    /// GET on the gateway with `?path=` encoded by the client.
    pub async fn gw_get_path(&self, endpoint: &str, path: &str, token: &str) -> Resp {
        self.send(
            self.gw_req(Method::GET, endpoint, &Cred::bearer(token))
                .query(&[("path", path)]),
        )
        .await
    }

    pub async fn gw_post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.send(
            self.gw_req(Method::POST, path, &Cred::bearer(token))
                .json(&body),
        )
        .await
    }

    // ── Fixtures ────────────────────────────────────────────────────────────────────────────

    /// Creates a namespace named `slug` (its slug is the same); returns its data.
    pub async fn create_namespace(&self, slug: &str) -> Value {
        self.create_namespace_with(json!({ "name": slug })).await
    }

    pub async fn create_namespace_with(&self, body: Value) -> Value {
        let r = self.post("/namespaces", &Cred::admin(), body).await;
        r.ok(201)["data"].clone()
    }

    /// Mints a token with `POST /tokens` as admin; returns the whole 201 body.
    pub async fn mint(&self, body: Value) -> Value {
        self.post("/tokens", &Cred::admin(), body)
            .await
            .ok(201)
            .clone()
    }

    pub async fn ns_token(&self, namespace: &str) -> String {
        let body = self
            .mint(json!({ "scope": "namespace", "namespace": namespace }))
            .await;
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn ws_token(&self, workspace_id: &str) -> String {
        let body = self
            .mint(json!({ "scope": "workspace", "workspaceId": workspace_id }))
            .await;
        body["token"].as_str().expect("token").to_string()
    }

    /// Creates an API key through the control endpoint; `bound` is the namespace or workspace id.
    pub async fn create_key(&self, scope: &str, bound: Option<&str>) -> Cred {
        let mut body = json!({ "scope": scope });
        match (scope, bound) {
            ("namespace", Some(ns)) => body["namespace"] = json!(ns),
            ("workspace", Some(ws)) => body["workspaceId"] = json!(ws),
            _ => {}
        }
        let r = self.post("/__emulator/keys", &Cred::admin(), body).await;
        let b = r.ok(201);
        assert_eq!(b["scope"], scope);
        Cred::Key {
            id: b["clientId"].as_str().expect("clientId").to_string(),
            secret: b["clientSecret"]
                .as_str()
                .expect("clientSecret")
                .to_string(),
        }
    }

    /// Creates a workspace as `cred`; returns the workspace object.
    pub async fn create_workspace(&self, cred: &Cred, body: Value) -> Value {
        let r = self.post("/workspace", cred, body).await;
        r.ok(201)["workspace"].clone()
    }

    /// Creates a workspace (as admin, in `namespace` when given) and returns its id.
    pub async fn workspace_in(&self, namespace: Option<&str>) -> String {
        let mut body = json!({ "image": "node-20" });
        if let Some(ns) = namespace {
            body["namespace"] = json!(ns);
        }
        let ws = self.create_workspace(&Cred::admin(), body).await;
        ws["id"].as_str().expect("id").to_string()
    }

    /// Polls `GET /workspace/{id}` until `ready`; returns the workspace.
    pub async fn wait_ready(&self, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = self.get(&format!("/workspace/{id}"), &Cred::admin()).await;
            let ws = r.ok(200)["workspace"].clone();
            if ws["ready"] == json!(true) {
                return ws;
            }
            assert!(
                Instant::now() < deadline,
                "workspace {id} never became ready: {ws}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A ready workspace with its internal API enabled: `(id, gateway token)`.
    pub async fn ready_workspace(&self, namespace: Option<&str>) -> (String, String) {
        let id = self.workspace_in(namespace).await;
        self.wait_ready(&id).await;
        let token = self.enable_access(&id).await;
        (id, token)
    }

    /// `POST …/internal-api-access/enable` as admin; returns the gateway token.
    pub async fn enable_access(&self, id: &str) -> String {
        let r = self
            .post_empty(
                &format!("/workspace/{id}/internal-api-access/enable"),
                &Cred::admin(),
            )
            .await;
        let b = r.ok(200);
        assert_eq!(b["enabled"], true);
        b["token"].as_str().expect("token").to_string()
    }

    pub async fn add_fault(&self, spec: Value) -> Value {
        let r = self.post("/__emulator/faults", &Cred::admin(), spec).await;
        r.ok(201)["fault"].clone()
    }

    pub async fn set_rate_limit(&self, requests: Option<u32>, window_seconds: u32) {
        let r = self
            .api(
                Method::PUT,
                "/__emulator/rate-limit",
                &Cred::admin(),
                Some(json!({ "requests": requests, "window_seconds": window_seconds })),
            )
            .await;
        r.ok(200);
    }
}

/// Reads a response and checks `X-Request-Id`.
pub async fn read(response: reqwest::Response, what: String) -> Resp {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("{what}: body could not be read: {e}"));
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{what}: no X-Request-Id on a {status} response"));
    assert!(!request_id.is_empty(), "{what}: empty X-Request-Id");
    Resp {
        status,
        headers,
        text,
        body,
        what,
    }
}

// ── JWT and time helpers ────────────────────────────────────────────────────────────────────

/// A JWT's header and payload, decoded without verifying anything.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {token}");
    let decode = |s: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD.decode(s).expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON")
    };
    (decode(parts[0]), decode(parts[1]))
}

pub fn claims(token: &str) -> Value {
    jwt_parts(token).1
}

pub fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Parses `YYYY-MM-DDTHH:MM:SS.sssZ` (the format the API writes) into Unix milliseconds.
pub fn parse_iso_millis(s: &str) -> u64 {
    let bytes = s.as_bytes();
    assert_eq!(bytes.len(), 24, "not YYYY-MM-DDTHH:MM:SS.sssZ: {s}");
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        assert_eq!(bytes[i], c, "not YYYY-MM-DDTHH:MM:SS.sssZ: {s}");
    }
    let num = |a: usize, b: usize| -> i64 {
        s[a..b]
            .parse()
            .unwrap_or_else(|_| panic!("bad number in {s}"))
    };
    let (y, m, d) = (num(0, 4), num(5, 7), num(8, 10));
    let (hh, mm, ss, ms) = (num(11, 13), num(14, 16), num(17, 19), num(20, 23));
    assert!((1..=12).contains(&m) && (1..=31).contains(&d) && hh < 24 && mm < 60 && ss < 60);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    (secs * 1000 + ms) as u64
}

/// True for 64 lowercase or uppercase hex digits.
pub fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A running emulator with one ready workspace, and a gateway token for it.
#[allow(dead_code)]
pub async fn ready_runtime() -> (Emu, String) {
    let emu = start().await;
    let (_, token) = emu.ready_workspace(None).await;
    (emu, token)
}

/// Writes a text file through the gateway (parents created).
#[allow(dead_code)]
pub async fn write_file(emu: &Emu, token: &str, path: &str, content: &str) {
    emu.gw_post(
        "/files/write",
        token,
        serde_json::json!({ "path": path, "content": content, "create_dirs": true }),
    )
    .await
    .ok(200);
}
