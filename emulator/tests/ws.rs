//! The gateway's WebSocket (`/ws?token=…`), terminals and file watchers (wire §3.5, §3.6, §5), on
//! real sockets with a tokio-tungstenite client: the token checks before the upgrade, the binary
//! terminal framing, the line discipline of the emulated shell, scrollback, resize, exit, the
//! one-socket-per-workspace rule (4000 `replaced`), the calls that close sockets (rotate,
//! reconnect, disable, stop, delete), the `/ws` drop fault, and watcher events with their bound.

mod common;

use base64::Engine;
use common::{Cred, Emu};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for an expected frame.
const WAIT: Duration = Duration::from_secs(5);

/// What the socket delivered.
#[derive(Debug)]
enum Frame {
    /// `[terminal id][bytes]`.
    Terminal(u8, Vec<u8>),
    Json(Value),
    Close(u16, String),
    /// The connection ended without a close frame (or with an error).
    Ended(String),
}

struct Ws {
    stream: Stream,
    /// Frames read while looking for something else.
    seen: Vec<Frame>,
}

fn ws_url(emu: &Emu, token: &str) -> String {
    format!(
        "{}/ws?token={token}",
        emu.gw.replacen("http://", "ws://", 1)
    )
}

async fn connect(emu: &Emu, token: &str) -> Ws {
    let (stream, response) = tokio_tungstenite::connect_async(ws_url(emu, token))
        .await
        .unwrap_or_else(|e| panic!("/ws upgrade failed: {e:?}"));
    assert_eq!(response.status().as_u16(), 101);
    Ws {
        stream,
        seen: Vec::new(),
    }
}

/// The HTTP answer to a refused upgrade: `(status, JSON body, Retry-After)`.
async fn refused(url: &str) -> (u16, Value, Option<String>) {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("{url}: the upgrade was accepted"),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let retry = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            (status, body, retry)
        }
        Err(e) => panic!("{url}: not an HTTP refusal: {e:?}"),
    }
}

impl Ws {
    async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let item = tokio::time::timeout(left, self.stream.next()).await.ok()?;
            return Some(match item {
                Some(Ok(Message::Binary(b))) => {
                    assert!(b.len() >= 2, "a terminal frame shorter than 2 bytes: {b:?}");
                    Frame::Terminal(b[0], b[1..].to_vec())
                }
                Some(Ok(Message::Text(t))) => Frame::Json(
                    serde_json::from_str(t.as_str()).unwrap_or_else(|_| panic!("not JSON: {t}")),
                ),
                Some(Ok(Message::Close(frame))) => match frame {
                    Some(f) => Frame::Close(u16::from(f.code), f.reason.to_string()),
                    None => Frame::Close(1005, String::new()),
                },
                // Pings and pongs.
                Some(Ok(_)) => continue,
                Some(Err(e)) => Frame::Ended(format!("{e:?}")),
                None => Frame::Ended("end of stream".into()),
            });
        }
    }

    async fn send_terminal(&mut self, id: u8, bytes: &[u8]) {
        let mut frame = vec![id];
        frame.extend_from_slice(bytes);
        self.stream
            .send(Message::Binary(frame.into()))
            .await
            .expect("send");
    }

    async fn send_raw(&mut self, frame: Vec<u8>) {
        self.stream
            .send(Message::Binary(frame.into()))
            .await
            .expect("send");
    }

    async fn send_json(&mut self, value: Value) {
        self.stream
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("send");
    }

    /// Terminal `id`'s output until it contains `needle`; other frames are kept in `seen`.
    async fn output_until(&mut self, id: u8, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut out = Vec::new();
        loop {
            let text = String::from_utf8_lossy(&out).to_string();
            if text.contains(needle) {
                return text;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Frame::Terminal(i, bytes)) if i == id => out.extend(bytes),
                Some(Frame::Close(..)) | Some(Frame::Ended(_)) | None => {
                    panic!("terminal {id}: no {needle:?} in {text:?}")
                }
                Some(frame) => self.seen.push(frame),
            }
        }
    }

    /// The next JSON message that `pred` accepts (earlier `seen` frames first).
    async fn json_where(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self
            .seen
            .iter()
            .position(|f| matches!(f, Frame::Json(v) if pred(v)))
        {
            if let Frame::Json(v) = self.seen.remove(i) {
                return v;
            }
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Frame::Json(v)) if pred(&v) => return v,
                Some(Frame::Close(..)) | Some(Frame::Ended(_)) | None => {
                    panic!("no {what}; seen {:?}", self.seen)
                }
                Some(frame) => self.seen.push(frame),
            }
        }
    }

    /// Every frame that arrives within `wait`.
    async fn drain(&mut self, wait: Duration) -> Vec<Frame> {
        let mut frames: Vec<Frame> = self.seen.drain(..).collect();
        while let Some(frame) = self.next(wait).await {
            let end = matches!(frame, Frame::Close(..) | Frame::Ended(_));
            frames.push(frame);
            if end {
                break;
            }
        }
        frames
    }

    /// The close frame the server sends (terminal output before it is skipped).
    async fn close_frame(&mut self) -> (u16, String) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(Frame::Close(code, reason)) => return (code, reason),
                Some(Frame::Ended(e)) => panic!("ended without a close frame: {e}"),
                None => panic!("no close frame within {WAIT:?}"),
                Some(_) => {}
            }
        }
    }
}

fn watcher_msg(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["channel"] == "watcher" && v["type"] == kind
}

/// A ready workspace with its gateway token.
async fn setup() -> (Emu, String, String) {
    let emu = common::start().await;
    let (id, token) = emu.ready_workspace(None).await;
    (emu, id, token)
}

async fn create_terminal(emu: &Emu, token: &str, body: Value) -> Value {
    let r = emu.gw_post("/terminals", token, body).await;
    r.ok(201).clone()
}

async fn terminals(emu: &Emu, token: &str) -> Vec<Value> {
    emu.gw_get("/terminals", token).await.ok(200)["terminals"]
        .as_array()
        .expect("terminals")
        .clone()
}

async fn scrollback(emu: &Emu, token: &str, id: &str, query: &str) -> (Vec<u8>, Value) {
    let r = emu
        .gw_get(&format!("/terminals/{id}/scrollback{query}"), token)
        .await;
    let body = r.ok(200).clone();
    let data = base64::engine::general_purpose::STANDARD
        .decode(body["scrollback"].as_str().expect("scrollback"))
        .expect("base64");
    assert_eq!(body["size"], data.len(), "size is the decoded length");
    (data, body)
}

/// Polls until `f` holds (for state that changes after a socket message).
async fn eventually<F, Fut>(what: &str, f: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !f().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ── The upgrade ─────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn bad_tokens_are_refused_before_the_upgrade() {
    let (emu, id, token) = setup().await;
    let base = emu.gw.replacen("http://", "ws://", 1);
    let (status, body, _) = refused(&format!("{base}/ws")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("missing_credentials"))
    );
    let (status, body, _) = refused(&format!("{base}/ws?token=garbage")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    // A tampered token: the signature no longer matches.
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut claims = common::claims(&token);
    claims["workspaceId"] = json!("ws_other");
    parts[1] = common::b64(&claims);
    let (status, body, _) = refused(&ws_url(&emu, &parts.join("."))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_signature"))
    );
    // A scoped API token is not a gateway token.
    emu.create_namespace("t").await;
    let api_token = emu.ns_token("t").await;
    let (status, _, _) = refused(&ws_url(&emu, &api_token)).await;
    assert_eq!(status, 401);
    // Rotated.
    let r = emu
        .post_empty(
            &format!("/workspace/{id}/internal-api-access/token"),
            &Cred::admin(),
        )
        .await;
    let fresh = r.ok(200)["token"].as_str().unwrap().to_string();
    let (status, body, _) = refused(&ws_url(&emu, &token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );
    assert_eq!(body["success"], false, "{body}");
    // Stopped: 503 with Retry-After.
    emu.post_empty(&format!("/workspace/{id}/stop"), &Cred::admin())
        .await
        .ok(200);
    let (status, body, retry) = refused(&ws_url(&emu, &fresh)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("workspace_not_running"))
    );
    assert!(retry.is_some(), "Retry-After on 503");
    emu.post_empty(&format!("/workspace/{id}/start"), &Cred::admin())
        .await
        .ok(200);
    emu.wait_ready(&id).await;
    // Disabled: 403.
    emu.post_empty(
        &format!("/workspace/{id}/internal-api-access/disable"),
        &Cred::admin(),
    )
    .await
    .ok(200);
    let (status, body, _) = refused(&ws_url(&emu, &fresh)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("internal_api_disabled"))
    );
    let token = emu.enable_access(&id).await;
    connect(&emu, &token).await;
    // The raw connection token works too, and a plain GET (no upgrade) is 426.
    let raw = emu
        .get(
            &format!("/workspace/{id}/internal-api-access/token/raw"),
            &Cred::admin(),
        )
        .await
        .ok(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    connect(&emu, &raw).await;
    emu.gw_get(&format!("/ws?token={token}"), "unused")
        .await
        .err(426, "upgrade_required");
}

#[tokio::test]
async fn expired_token_is_refused() {
    let emu = common::start_with(oblien_emulator::Config {
        gateway_token_ttl_secs: 1,
        ..common::test_config()
    })
    .await;
    let (_, token) = emu.ready_workspace(None).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body, _) = refused(&ws_url(&emu, &token)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_expired"))
    );
}

// ── Terminals ───────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn terminal_rest_shapes_and_validation() {
    let (emu, _, token) = setup().await;
    let t = create_terminal(&emu, &token, json!({})).await;
    assert_eq!(t["id"], "1");
    assert_eq!(t["command"], json!(["/bin/bash"]));
    assert_eq!(
        (t["cols"].as_u64(), t["rows"].as_u64()),
        (Some(80), Some(24))
    );
    assert_eq!(t["alive"], true);
    assert_eq!(t["scrollback_size"], 65536);
    assert!(t["created_at"].is_string());
    let t = create_terminal(
        &emu,
        &token,
        json!({ "cmd": ["/bin/sh"], "cols": 100, "rows": 30, "scrollback_size": 1000 }),
    )
    .await;
    assert_eq!(t["id"], "2");
    assert_eq!(t["command"], json!(["/bin/sh"]));
    let list = terminals(&emu, &token).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["cols"], 100);
    for (body, field) in [
        (json!({ "cols": 0 }), "cols"),
        (json!({ "rows": 70000 }), "rows"),
        (json!({ "cols": "wide" }), "cols"),
        (json!({ "scrollback_size": 0 }), "scrollback_size"),
        (json!({ "cmd": [] }), "cmd"),
        (json!({ "cmd": "bash" }), "cmd"),
    ] {
        emu.gw_post("/terminals", &token, body)
            .await
            .validation(field);
    }
    // The initial prompt is in the scrollback.
    let (data, sb) = scrollback(&emu, &token, "1", "").await;
    assert_eq!(data, b"$ ");
    assert_eq!(sb["alive"], true);
    assert_eq!(sb["exit_code"], Value::Null);
    // Close: {success, terminal_id}; then 404.
    let r = emu
        .send(emu.gw_req(
            reqwest::Method::DELETE,
            "/terminals/1",
            &Cred::bearer(&token),
        ))
        .await;
    assert_eq!(r.ok(200)["terminal_id"], "1");
    for path in [
        "/terminals/1",
        "/terminals/x",
        "/terminals/0",
        "/terminals/300",
    ] {
        emu.send(emu.gw_req(reqwest::Method::DELETE, path, &Cred::bearer(&token)))
            .await
            .err(404, "not_found");
    }
    emu.gw_get("/terminals/1/scrollback", &token)
        .await
        .err(404, "not_found");
    emu.gw_get("/terminals/2/scrollback?bytes=x", &token)
        .await
        .validation("bytes");
    assert_eq!(terminals(&emu, &token).await.len(), 1);
    // No token, no terminals.
    emu.gw_get("/terminals", "garbage")
        .await
        .err(401, "invalid_token");
}

#[tokio::test]
async fn echo_round_trip_through_the_line_discipline() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"echo hello\r").await;
    let out = ws.output_until(1, "hello\r\n$ ").await;
    assert_eq!(out, "echo hello\r\nhello\r\n$ ");
    // Typed in pieces, with `\n` for Enter: same thing.
    for piece in [&b"ec"[..], b"ho", b" a b", b"\n"] {
        ws.send_terminal(1, piece).await;
    }
    let out = ws.output_until(1, "a b\r\n$ ").await;
    assert_eq!(out, "echo a b\r\na b\r\n$ ");
    // The scrollback has all of it, prompt first.
    let (data, _) = scrollback(&emu, &token, "1", "").await;
    assert_eq!(
        String::from_utf8_lossy(&data),
        "$ echo hello\r\nhello\r\n$ echo a b\r\na b\r\n$ "
    );
}

#[tokio::test]
async fn backspace_erases() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"echx\x7fo hi!\x08\r").await;
    let out = ws.output_until(1, "\r\n$ ").await;
    assert_eq!(out, "echx\x08 \x08o hi!\x08 \x08\r\nhi\r\n$ ");
    // Backspace on an empty line echoes nothing.
    ws.send_terminal(1, b"\x7f\x7fpwd\r").await;
    let out = ws.output_until(1, "\r\n$ ").await;
    assert_eq!(out, "pwd\r\n/app\r\n$ ");
}

#[tokio::test]
async fn ctrl_c_cancels_the_line_and_interrupts_sleep() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"echo never\x03").await;
    let out = ws.output_until(1, "^C\r\n$ ").await;
    assert_eq!(out, "echo never^C\r\n$ ");
    ws.send_terminal(1, b"sleep 30\r").await;
    ws.output_until(1, "sleep 30\r\n").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    ws.send_terminal(1, b"\x03").await;
    let out = ws.output_until(1, "$ ").await;
    assert_eq!(out, "^C\r\n$ ");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "Ctrl-C ended the sleep"
    );
    ws.send_terminal(1, b"echo after\r").await;
    ws.output_until(1, "after\r\n$ ").await;
}

#[tokio::test]
async fn exit_and_ctrl_d_end_the_terminal_with_an_exit_frame() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"exit 3\r").await;
    let exit = ws
        .json_where("exit of 1", |v| {
            v["channel"] == "terminal" && v["type"] == "exit"
        })
        .await;
    assert_eq!(
        exit,
        json!({ "channel": "terminal", "type": "exit", "id": "1", "code": 3 })
    );
    let list = terminals(&emu, &token).await;
    assert_eq!(list[0]["alive"], false);
    assert_eq!(list[0]["exit_code"], 3);
    let (_, sb) = scrollback(&emu, &token, "1", "").await;
    assert_eq!(
        (sb["alive"].clone(), sb["exit_code"].clone()),
        (json!(false), json!(3))
    );
    // Input to an exited terminal is ignored (its echo from before the exit is set aside).
    ws.seen.clear();
    ws.send_terminal(1, b"echo x\r").await;
    // Ctrl-D on an empty line: `exit`, with the last status.
    ws.send_terminal(2, b"false\r").await;
    ws.output_until(2, "$ ").await;
    ws.send_terminal(2, b"x\x04\x7f\x04").await;
    let out = ws.output_until(2, "exit\r\n").await;
    assert!(out.ends_with("exit\r\n"), "{out:?}");
    let exit = ws
        .json_where("exit of 2", |v| v["type"] == "exit" && v["id"] == "2")
        .await;
    assert_eq!(exit["code"], 1, "the last command's status");
    for frame in ws.drain(Duration::from_millis(200)).await {
        assert!(
            !matches!(frame, Frame::Terminal(1, _)),
            "output from an exited terminal: {frame:?}"
        );
    }
}

#[tokio::test]
async fn resize_is_reflected_in_the_list() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_json(
        json!({ "channel": "terminal", "type": "resize", "id": "1", "cols": 120, "rows": 40 }),
    )
    .await;
    eventually("resized to 120x40", || async {
        let t = terminals(&emu, &token).await;
        t[0]["cols"] == 120 && t[0]["rows"] == 40
    })
    .await;
    // A numeric id and no `channel` work too; nonsense is ignored.
    ws.send_json(json!({ "type": "resize", "id": 1, "cols": 90, "rows": 20 }))
        .await;
    for junk in [
        json!({ "channel": "terminal", "type": "resize", "id": "1", "cols": 0, "rows": 5 }),
        json!({ "channel": "terminal", "type": "resize", "id": "9", "cols": 5, "rows": 5 }),
        json!({ "channel": "terminal", "type": "resize", "id": "1", "cols": -1, "rows": 5 }),
        json!({ "channel": "watcher", "type": "resize", "id": "1", "cols": 5, "rows": 5 }),
        json!([1, 2, 3]),
    ] {
        ws.send_json(junk).await;
    }
    ws.stream
        .send(Message::Text("not json".into()))
        .await
        .unwrap();
    eventually("resized to 90x20", || async {
        let t = terminals(&emu, &token).await;
        t[0]["cols"] == 90 && t[0]["rows"] == 20
    })
    .await;
    // The socket still works after the junk.
    ws.send_terminal(1, b"echo ok\r").await;
    ws.output_until(1, "ok\r\n$ ").await;
    let t = terminals(&emu, &token).await;
    assert_eq!(
        (t[0]["cols"].as_u64(), t[0]["rows"].as_u64()),
        (Some(90), Some(20))
    );
}

#[tokio::test]
async fn scrollback_is_a_bounded_ring_in_base64() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({ "scrollback_size": 64 })).await;
    let mut ws = connect(&emu, &token).await;
    let long = "x".repeat(50);
    ws.send_terminal(1, format!("echo {long}\r").as_bytes())
        .await;
    ws.output_until(1, "\r\n$ ").await;
    ws.send_terminal(1, b"echo tail-end\r").await;
    ws.output_until(1, "tail-end\r\n$ ").await;
    let (data, sb) = scrollback(&emu, &token, "1", "").await;
    assert_eq!(data.len(), 64, "the ring holds scrollback_size bytes");
    assert!(String::from_utf8_lossy(&data).ends_with("echo tail-end\r\ntail-end\r\n$ "));
    assert_eq!(
        (sb["alive"].clone(), sb["exit_code"].clone()),
        (json!(true), Value::Null)
    );
    let (data, _) = scrollback(&emu, &token, "1", "?bytes=10").await;
    assert_eq!(data, b"il-end\r\n$ ");
    let (data, _) = scrollback(&emu, &token, "1", "?bytes=0").await;
    assert!(data.is_empty());
    let (data, _) = scrollback(&emu, &token, "1", "?bytes=100000").await;
    assert_eq!(data.len(), 64);
}

#[tokio::test]
async fn two_terminals_share_one_socket() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(2, b"echo two\r").await;
    ws.send_terminal(1, b"echo one\r").await;
    let two = ws.output_until(2, "two\r\n$ ").await;
    let one = ws.output_until(1, "one\r\n$ ").await;
    assert_eq!(two, "echo two\r\ntwo\r\n$ ");
    assert_eq!(one, "echo one\r\none\r\n$ ");
    // Frames for an unknown terminal and frames shorter than 2 bytes are ignored.
    ws.send_terminal(9, b"echo nine\r").await;
    ws.send_raw(vec![1]).await;
    ws.send_raw(vec![]).await;
    ws.send_terminal(0, b"x").await;
    ws.send_terminal(1, b"echo still\r").await;
    let out = ws.output_until(1, "still\r\n$ ").await;
    assert_eq!(out, "echo still\r\nstill\r\n$ ");
}

#[tokio::test]
async fn terminals_outlive_their_socket_and_detached_output_goes_to_scrollback() {
    let (emu, _, token) = setup().await;
    // A program run while no socket is attached: its output is only in the scrollback.
    let t = create_terminal(&emu, &token, json!({ "cmd": ["echo", "detached"] })).await;
    let id = t["id"].as_str().unwrap().to_string();
    eventually("the program exited", || async {
        terminals(&emu, &token).await[0]["alive"] == false
    })
    .await;
    let (data, sb) = scrollback(&emu, &token, &id, "").await;
    assert_eq!(data, b"detached\r\n");
    assert_eq!(sb["exit_code"], 0);
    // An interactive one: a command still running when the socket goes away.
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(2, b"sleep 0.3\r").await;
    ws.output_until(2, "sleep 0.3\r\n").await;
    ws.stream.close(None).await.unwrap();
    drop(ws);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (data, _) = scrollback(&emu, &token, "2", "").await;
    assert_eq!(String::from_utf8_lossy(&data), "$ sleep 0.3\r\n$ ");
    // A new socket: nothing replayed, and the terminal still answers.
    let mut ws = connect(&emu, &token).await;
    let early = ws.drain(Duration::from_millis(200)).await;
    assert!(
        early.iter().all(|f| !matches!(f, Frame::Terminal(..))),
        "detached output was replayed: {early:?}"
    );
    ws.send_terminal(2, b"echo back\r").await;
    ws.output_until(2, "back\r\n$ ").await;
}

#[tokio::test]
async fn closing_a_terminal_sends_its_exit() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    emu.send(emu.gw_req(
        reqwest::Method::DELETE,
        "/terminals/1",
        &Cred::bearer(&token),
    ))
    .await
    .ok(200);
    let exit = ws.json_where("exit", |v| v["type"] == "exit").await;
    assert_eq!(exit["id"], "1");
    assert_eq!(exit["code"], 129);
    assert!(terminals(&emu, &token).await.is_empty());
}

#[tokio::test]
async fn terminal_ids_fit_in_one_byte() {
    let (emu, _, token) = setup().await;
    for i in 1..=255 {
        let t = create_terminal(&emu, &token, json!({ "scrollback_size": 16 })).await;
        assert_eq!(t["id"], i.to_string());
    }
    emu.gw_post("/terminals", &token, json!({}))
        .await
        .err(409, "too_many_terminals");
    emu.send(emu.gw_req(
        reqwest::Method::DELETE,
        "/terminals/200",
        &Cred::bearer(&token),
    ))
    .await
    .ok(200);
    let t = create_terminal(&emu, &token, json!({})).await;
    assert_eq!(t["id"], "200", "a freed id is reused once 255 are taken");
    // Frames reach terminal 255 through the one id byte.
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(255, b"echo last\r").await;
    ws.output_until(255, "last\r\n$ ").await;
}

// ── One socket per workspace, and what closes it ───────────────────────────────────────────

#[tokio::test]
async fn a_new_socket_replaces_the_old_one_with_4000() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut first = connect(&emu, &token).await;
    let mut second = connect(&emu, &token).await;
    assert_eq!(first.close_frame().await, (4000, "replaced".to_string()));
    second.send_terminal(1, b"echo second\r").await;
    second.output_until(1, "second\r\n$ ").await;
    // Another workspace's socket is not affected.
    let (_, other_token) = emu.ready_workspace(None).await;
    let mut other = connect(&emu, &other_token).await;
    let mut third = connect(&emu, &token).await;
    assert_eq!(second.close_frame().await.0, 4000);
    assert!(
        other.drain(Duration::from_millis(200)).await.is_empty(),
        "the other workspace's socket stays open"
    );
    third.send_terminal(1, b"echo third\r").await;
    third.output_until(1, "third\r\n$ ").await;
}

#[tokio::test]
async fn rotate_and_reconnect_close_the_socket_and_terminals_survive() {
    for (prefix, call) in [
        ("internal-api-access", "token"),
        ("internal-api-access", "reconnect"),
        ("runtime-api-access", "token"),
        ("runtime-api-access", "reconnect"),
    ] {
        let (emu, id, token) = setup().await;
        create_terminal(&emu, &token, json!({})).await;
        let mut ws = connect(&emu, &token).await;
        ws.send_terminal(1, b"echo before\r").await;
        ws.output_until(1, "before\r\n$ ").await;
        let r = emu
            .post_empty(&format!("/workspace/{id}/{prefix}/{call}"), &Cred::admin())
            .await;
        let fresh = r.ok(200)["token"].as_str().unwrap().to_string();
        assert_eq!(
            ws.close_frame().await,
            (4001, "token_rotated".to_string()),
            "{prefix}/{call}"
        );
        let (status, _, _) = refused(&ws_url(&emu, &token)).await;
        assert_eq!(status, 401, "{prefix}/{call}: the old token is dead");
        let mut ws = connect(&emu, &fresh).await;
        ws.send_terminal(1, b"echo after\r").await;
        ws.output_until(1, "after\r\n$ ").await;
        assert_eq!(terminals(&emu, &fresh).await.len(), 1);
    }
}

#[tokio::test]
async fn stop_closes_the_socket_and_ends_terminals_and_watchers() {
    let (emu, id, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    emu.gw_post("/watchers", &token, json!({ "path": "/app" }))
        .await
        .ok(201);
    let mut ws = connect(&emu, &token).await;
    emu.post_empty(&format!("/workspace/{id}/stop"), &Cred::admin())
        .await
        .ok(200);
    assert_eq!(
        ws.close_frame().await,
        (1001, "workspace_stopped".to_string())
    );
    for path in ["/terminals", "/watchers", "/health"] {
        let r = emu.gw_get(path, &token).await;
        r.err(503, "workspace_not_running");
        assert!(r.header("retry-after").is_some(), "{path}: Retry-After");
    }
    emu.post_empty(&format!("/workspace/{id}/start"), &Cred::admin())
        .await
        .ok(200);
    emu.gw_get("/terminals", &token)
        .await
        .err(503, "workspace_not_running");
    emu.wait_ready(&id).await;
    assert!(
        terminals(&emu, &token).await.is_empty(),
        "a new VM has no terminals"
    );
    assert_eq!(
        emu.gw_get("/watchers", &token).await.ok(200)["watchers"],
        json!([])
    );
    let t = create_terminal(&emu, &token, json!({})).await;
    assert_eq!(t["id"], "1", "ids start again at 1");
    // Restart does the same.
    let mut ws = connect(&emu, &token).await;
    emu.post_empty(&format!("/workspace/{id}/restart"), &Cred::admin())
        .await
        .ok(200);
    assert_eq!(ws.close_frame().await.0, 1001);
    emu.gw_get("/terminals", &token)
        .await
        .err(503, "workspace_not_running");
    emu.wait_ready(&id).await;
    assert!(terminals(&emu, &token).await.is_empty());
}

#[tokio::test]
async fn disable_and_delete_close_the_socket() {
    let (emu, id, token) = setup().await;
    let mut ws = connect(&emu, &token).await;
    emu.post_empty(
        &format!("/workspace/{id}/runtime-api-access/disable"),
        &Cred::admin(),
    )
    .await
    .ok(200);
    assert_eq!(
        ws.close_frame().await,
        (4003, "internal_api_disabled".to_string())
    );
    let token = emu.enable_access(&id).await;
    let mut ws = connect(&emu, &token).await;
    emu.delete(&format!("/workspace/{id}"), &Cred::admin())
        .await
        .ok(200);
    assert_eq!(
        ws.close_frame().await,
        (1001, "workspace_deleted".to_string())
    );
    // Deleting a namespace deletes its workspaces: their sockets close too.
    emu.create_namespace("gone").await;
    let (_, token) = emu.ready_workspace(Some("gone")).await;
    let mut ws = connect(&emu, &token).await;
    emu.delete("/namespaces/gone", &Cred::admin()).await.ok(200);
    assert_eq!(ws.close_frame().await.1, "workspace_deleted");
}

#[tokio::test]
async fn emulator_shutdown_closes_sockets() {
    let (emu, _, token) = setup().await;
    let mut ws = connect(&emu, &token).await;
    emu.shutdown().await;
    assert_eq!(ws.close_frame().await, (1001, "shutting_down".to_string()));
}

#[tokio::test]
async fn drop_fault_kills_live_sockets_without_a_close_frame() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    let (_, other_token) = emu.ready_workspace(None).await;
    let mut other = connect(&emu, &other_token).await;
    let r = emu
        .post(
            "/__emulator/faults",
            &Cred::admin(),
            json!({ "kind": "drop", "path": "/ws", "listener": "gateway" }),
        )
        .await;
    let body = r.ok(201);
    assert_eq!(body["sockets_dropped"], 2);
    assert_eq!(body["fault"], Value::Null, "used up on the open sockets");
    for socket in [&mut ws, &mut other] {
        match socket.next(WAIT).await {
            Some(Frame::Ended(_)) => {}
            other => panic!("expected the connection to end without a close frame: {other:?}"),
        }
    }
    // The terminal lives on; a new socket works at once.
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"echo alive\r").await;
    ws.output_until(1, "alive\r\n$ ").await;
    // times: 2 — the open socket, then the next upgrade request.
    let r = emu
        .post(
            "/__emulator/faults",
            &Cred::admin(),
            json!({ "kind": "drop", "path": "/ws", "listener": "gateway", "times": 2 }),
        )
        .await;
    assert_eq!(r.ok(201)["sockets_dropped"], 1);
    assert!(matches!(ws.next(WAIT).await, Some(Frame::Ended(_))));
    let attempt = tokio_tungstenite::connect_async(ws_url(&emu, &token)).await;
    assert!(
        !matches!(attempt, Ok(_) | Err(tungstenite::Error::Http(_))),
        "the next upgrade is dropped: {attempt:?}"
    );
    connect(&emu, &token).await;
    // A drop fault for another path leaves sockets alone.
    let mut ws = connect(&emu, &token).await;
    let r = emu
        .post(
            "/__emulator/faults",
            &Cred::admin(),
            json!({ "kind": "drop", "path": "/files", "listener": "gateway" }),
        )
        .await;
    assert_eq!(r.ok(201)["sockets_dropped"], Value::Null);
    assert!(ws.drain(Duration::from_millis(200)).await.is_empty());
}

// ── Watchers ────────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn watcher_rest_shapes_and_validation() {
    let (emu, _, token) = setup().await;
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app/src/deep" }))
        .await
        .ok(200);
    emu.gw_post(
        "/files/mkdir",
        &token,
        json!({ "path": "/app/node_modules/x" }),
    )
    .await
    .ok(200);
    let r = emu
        .gw_post(
            "/watchers",
            &token,
            json!({ "path": "/app", "excludes": ["node_modules"] }),
        )
        .await;
    let w = r.ok(201)["watcher"].clone();
    assert_eq!(w["id"], "1");
    assert_eq!(w["root"], "/app");
    assert_eq!(w["dir_count"], 3, "/app, /app/src, /app/src/deep: {w}");
    assert_eq!(w["excludes"], json!(["node_modules"]));
    assert_eq!(w["active"], true);
    // The aliases `root` and `exclude`.
    let r = emu
        .gw_post(
            "/watchers",
            &token,
            json!({ "root": "/app/src/", "exclude": ["deep"] }),
        )
        .await;
    let w2 = r.ok(201)["watcher"].clone();
    assert_eq!(
        (w2["id"].as_str(), w2["root"].as_str()),
        (Some("2"), Some("/app/src"))
    );
    assert_eq!(w2["dir_count"], 1);
    let list = emu.gw_get("/watchers", &token).await;
    assert_eq!(list.ok(200)["watchers"].as_array().unwrap().len(), 2);
    let one = emu.gw_get("/watchers/1", &token).await;
    assert_eq!(one.ok(200)["watcher"]["root"], "/app");
    // dir_count follows the tree.
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app/lib" }))
        .await
        .ok(200);
    assert_eq!(
        emu.gw_get("/watchers/1", &token).await.ok(200)["watcher"]["dir_count"],
        4
    );
    let r = emu
        .send(emu.gw_req(
            reqwest::Method::DELETE,
            "/watchers/1",
            &Cred::bearer(&token),
        ))
        .await;
    assert_eq!(r.ok(200)["watcher_id"], "1");
    emu.gw_get("/watchers/1", &token)
        .await
        .err(404, "not_found");
    emu.send(emu.gw_req(
        reqwest::Method::DELETE,
        "/watchers/1",
        &Cred::bearer(&token),
    ))
    .await
    .err(404, "not_found");
    emu.gw_post("/watchers", &token, json!({}))
        .await
        .validation("path");
    emu.gw_post("/watchers", &token, json!({ "path": "relative" }))
        .await
        .validation("path");
    emu.gw_post("/watchers", &token, json!({ "path": "/nope" }))
        .await
        .err(404, "not_found");
    emu.gw_post("/watchers", &token, json!({ "path": "/app/README.md" }))
        .await
        .err(400, "not_a_directory");
    emu.gw_post(
        "/watchers",
        &token,
        json!({ "path": "/app", "excludes": "x" }),
    )
    .await
    .validation("excludes");
}

#[tokio::test]
async fn watcher_ready_is_sent_when_a_socket_attaches() {
    let (emu, _, token) = setup().await;
    emu.gw_post("/watchers", &token, json!({ "path": "/app" }))
        .await
        .ok(201);
    let mut ws = connect(&emu, &token).await;
    let ready = ws.json_where("ready", watcher_msg("ready")).await;
    assert_eq!(
        ready,
        json!({ "channel": "watcher", "type": "ready", "watcher_id": "1", "root": "/app", "dirs": 1 })
    );
    // Once: a second watcher says ready at once; the first does not again.
    emu.gw_post("/watchers", &token, json!({ "path": "/" }))
        .await
        .ok(201);
    let ready = ws.json_where("ready", watcher_msg("ready")).await;
    assert_eq!(ready["watcher_id"], "2");
    assert_eq!(ready["dirs"], 5, "/, /app, /home, /root, /tmp");
    let mut ws = connect(&emu, &token).await;
    let again = ws.drain(Duration::from_millis(200)).await;
    assert!(again.is_empty(), "ready is sent once: {again:?}");
}

/// `(path, op)` of the change events of `watcher` among `frames`.
fn changes(frames: &[Frame], watcher: &str) -> Vec<(String, String)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Json(v) if v["type"] == "change" && v["watcher_id"] == watcher => Some((
                v["path"].as_str().unwrap().to_string(),
                v["op"].as_str().unwrap().to_string(),
            )),
            _ => None,
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, o)| (p.to_string(), o.to_string()))
        .collect()
}

#[tokio::test]
async fn watcher_events_from_rest_calls_with_excludes() {
    let (emu, _, token) = setup().await;
    emu.gw_post(
        "/watchers",
        &token,
        json!({ "path": "/app", "excludes": ["node_modules", "*.log"] }),
    )
    .await
    .ok(201);
    let mut ws = connect(&emu, &token).await;
    ws.json_where("ready", watcher_msg("ready")).await;
    let write = |path: &str, create_dirs: bool| json!({ "path": path, "content": "x", "create_dirs": create_dirs });
    emu.gw_post("/files/write", &token, write("/app/a.txt", false))
        .await
        .ok(200);
    emu.gw_post("/files/write", &token, write("/app/a.txt", false))
        .await
        .ok(200);
    emu.gw_post("/files/write", &token, write("/app/d/e/f.txt", true))
        .await
        .ok(200);
    emu.gw_post(
        "/files/write",
        &token,
        write("/app/node_modules/m.js", true),
    )
    .await
    .ok(200);
    emu.gw_post("/files/write", &token, write("/app/debug.log", false))
        .await
        .ok(200);
    emu.gw_post("/files/write", &token, write("/tmp/outside", false))
        .await
        .ok(200);
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app/m" }))
        .await
        .ok(200);
    emu.gw_post("/files/delete", &token, json!({ "path": "/app/d" }))
        .await
        .ok(200);
    let frames = ws.drain(Duration::from_millis(300)).await;
    assert_eq!(
        changes(&frames, "1"),
        pairs(&[
            ("/app/a.txt", "create"),
            ("/app/a.txt", "write"),
            ("/app/a.txt", "write"),
            ("/app/d", "create"),
            ("/app/d/e", "create"),
            ("/app/d/e/f.txt", "create"),
            ("/app/d/e/f.txt", "write"),
            ("/app/m", "create"),
            ("/app/d/e/f.txt", "remove"),
            ("/app/d/e", "remove"),
            ("/app/d", "remove"),
        ])
    );
    // Removing the root: one last event, and the watcher is inactive.
    emu.gw_post("/files/delete", &token, json!({ "path": "/app" }))
        .await
        .ok(200);
    let frames = ws.drain(Duration::from_millis(300)).await;
    let got = changes(&frames, "1");
    assert_eq!(
        got.last(),
        Some(&("/app".to_string(), "remove".to_string()))
    );
    let w = emu.gw_get("/watchers/1", &token).await;
    assert_eq!(w.ok(200)["watcher"]["active"], false);
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app" }))
        .await
        .ok(200);
    assert!(changes(&ws.drain(Duration::from_millis(200)).await, "1").is_empty());
}

#[tokio::test]
async fn watcher_overflow_when_no_socket_listens() {
    let (emu, _, token) = setup().await;
    emu.gw_post("/watchers", &token, json!({ "path": "/app" }))
        .await
        .ok(201);
    // 300 changes with no socket (one `create` each): more than the 256 that may wait.
    for i in 0..300 {
        emu.gw_post(
            "/files/mkdir",
            &token,
            json!({ "path": format!("/app/f{i}") }),
        )
        .await
        .ok(200);
    }
    let mut ws = connect(&emu, &token).await;
    let frames = ws.drain(Duration::from_millis(300)).await;
    let kinds: Vec<&str> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Json(v) => v["type"].as_str(),
            _ => None,
        })
        .collect();
    assert_eq!(kinds[0], "ready");
    assert_eq!(kinds[1], "overflow");
    assert_eq!(kinds.iter().filter(|k| **k == "overflow").count(), 1);
    let Frame::Json(overflow) = &frames[1] else {
        panic!("{:?}", frames[1])
    };
    assert_eq!(overflow["watcher_id"], "1");
    assert!(overflow["message"]
        .as_str()
        .is_some_and(|m| m.contains("256")));
    // The events after the dropped queue are kept: 300 - 256 = 44.
    let got = changes(&frames, "1");
    assert_eq!(got.len(), 44);
    assert_eq!(got[0].0, "/app/f256");
    assert_eq!(got[43].0, "/app/f299");
    // Below the bound, nothing is lost while detached.
    drop(ws);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..10 {
        emu.gw_post(
            "/files/mkdir",
            &token,
            json!({ "path": format!("/app/g{i}") }),
        )
        .await
        .ok(200);
    }
    let mut ws = connect(&emu, &token).await;
    let frames = ws.drain(Duration::from_millis(300)).await;
    assert_eq!(changes(&frames, "1").len(), 10, "{frames:?}");
}

#[tokio::test]
async fn watcher_events_from_a_terminal() {
    let (emu, _, token) = setup().await;
    emu.gw_post(
        "/watchers",
        &token,
        json!({ "path": "/app", "excludes": ["tmp*"] }),
    )
    .await
    .ok(201);
    let mut ws = connect(&emu, &token).await;
    ws.json_where("ready", watcher_msg("ready")).await;
    create_terminal(&emu, &token, json!({})).await;
    // Reading changes nothing.
    ws.send_terminal(1, b"cat /app/README.md; ls\r").await;
    ws.output_until(1, "README.md\r\n$ ").await;
    // Redirections, mkdir, touch, rm: each is a change under /app.
    ws.send_terminal(
        1,
        b"echo hi > notes.txt && echo more >> notes.txt; mkdir -p src/lib; touch src/lib/a.rs tmp1; rm notes.txt\r",
    )
    .await;
    ws.output_until(1, "$ ").await;
    let frames = ws.drain(Duration::from_millis(300)).await;
    assert_eq!(
        changes(&frames, "1"),
        pairs(&[
            // `>` creates (or truncates) the file, then the output is written; `>>` opens it
            // (a write of nothing) and appends.
            ("/app/notes.txt", "create"),
            ("/app/notes.txt", "write"),
            ("/app/notes.txt", "write"),
            ("/app/notes.txt", "write"),
            ("/app/notes.txt", "write"),
            ("/app/src", "create"),
            ("/app/src/lib", "create"),
            ("/app/src/lib/a.rs", "create"),
            ("/app/src/lib/a.rs", "write"),
            ("/app/notes.txt", "remove"),
        ]),
        "{frames:?}"
    );
}

/// The terminal runs the emulated shell: `cd` persists, `;`/`&&`/`||`, redirections, `sh -c`,
/// unknown commands exit 127 with a message; nothing runs on the host.
#[tokio::test]
async fn terminal_runs_the_emulated_shell() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"cd /tmp && pwd\r").await;
    assert_eq!(
        ws.output_until(1, "$ ").await,
        "cd /tmp && pwd\r\n/tmp\r\n$ "
    );
    ws.send_terminal(1, b"pwd; echo 'a  b' > x; cat x\r").await;
    assert_eq!(
        ws.output_until(1, "b\r\n$ ").await,
        "pwd; echo 'a  b' > x; cat x\r\n/tmp\r\na  b\r\n$ "
    );
    ws.send_terminal(1, b"seq 3\r").await;
    assert!(ws
        .output_until(1, "$ ")
        .await
        .ends_with("1\r\n2\r\n3\r\n$ "));
    ws.send_terminal(1, b"definitely-not-a-command || echo status=127\r")
        .await;
    let out = ws.output_until(1, "status=127\r\n$ ").await;
    assert!(out.contains("not found"), "{out:?}");
    let r = emu.gw_get_path("/files/read", "/tmp/x", &token).await;
    assert_eq!(r.ok(200)["content"], "a  b\n");
    // `exit` inside `sh -c` ends the subshell, not the terminal.
    ws.send_terminal(1, b"sh -c 'exit 4'; echo after\r").await;
    ws.output_until(1, "after\r\n$ ").await;
    assert_eq!(terminals(&emu, &token).await[0]["alive"], true);
}

/// While a command runs, keystrokes go through the line discipline to its stdin: `cat` echoes
/// lines until Ctrl-D. Lines typed ahead while a command ignores stdin run after it.
#[tokio::test]
async fn terminal_stdin_and_typeahead() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({})).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"cat\r").await;
    ws.output_until(1, "cat\r\n").await;
    ws.send_terminal(1, b"hello\r").await;
    // The echo of the line, then cat's copy of it.
    assert_eq!(
        ws.output_until(1, "hello\r\nhello\r\n").await,
        "hello\r\nhello\r\n"
    );
    ws.send_terminal(1, b"\x04").await;
    assert_eq!(ws.output_until(1, "$ ").await, "$ ");
    // Typed ahead during a sleep: echoed at once, run (and echoed again) after it.
    ws.send_terminal(1, b"sleep 0.3\r").await;
    ws.output_until(1, "sleep 0.3\r\n").await;
    ws.send_terminal(1, b"echo later\r").await;
    let out = ws.output_until(1, "later\r\nlater\r\n$ ").await;
    assert_eq!(out, "echo later\r\n$ echo later\r\nlater\r\n$ ");
    // A partial line typed during a command is redrawn after the prompt.
    ws.send_terminal(1, b"sleep 0.3\r").await;
    ws.output_until(1, "sleep 0.3\r\n").await;
    ws.send_terminal(1, b"echo par").await;
    ws.output_until(1, "echo par").await;
    let out = ws.output_until(1, "$ echo par").await;
    assert_eq!(out, "$ echo par");
    ws.send_terminal(1, b"tial\r").await;
    ws.output_until(1, "partial\r\n$ ").await;
}

/// Output of a terminal comes as binary frames of `[id][bytes]`, large output in several frames.
#[tokio::test]
async fn large_output_is_framed() {
    let (emu, _, token) = setup().await;
    create_terminal(&emu, &token, json!({ "scrollback_size": 1048576 })).await;
    let mut ws = connect(&emu, &token).await;
    ws.send_terminal(1, b"seq 20000\r").await;
    let out = ws.output_until(1, "\r\n20000\r\n$ ").await;
    assert!(out.starts_with("seq 20000\r\n1\r\n2\r\n"));
    assert_eq!(out.matches("\r\n").count(), 20001);
    let (data, _) = scrollback(&emu, &token, "1", "").await;
    assert!(String::from_utf8_lossy(&data).ends_with("19999\r\n20000\r\n$ "));
}

/// A socket that does not read: once its TCP buffers are full the server's sends block, events
/// pile up, and past 256 the watcher's queue is dropped for one `overflow`.
#[tokio::test]
async fn watcher_overflow_when_the_socket_is_slow() {
    let (emu, _, token) = setup().await;
    let big = "y".repeat(4 * 1024 * 1024);
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/tmp/big", "content": big }),
    )
    .await
    .ok(200);
    emu.gw_post("/watchers", &token, json!({ "path": "/app" }))
        .await
        .ok(201);
    create_terminal(&emu, &token, json!({ "scrollback_size": 1024 })).await;
    let mut ws = connect(&emu, &token).await;
    // 40 MiB of output that the client does not read: more than loopback buffers hold.
    for _ in 0..10 {
        ws.send_terminal(1, b"cat /tmp/big\r").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..300 {
        emu.gw_post(
            "/files/mkdir",
            &token,
            json!({ "path": format!("/app/s{i}") }),
        )
        .await
        .ok(200);
    }
    // Now read everything.
    let overflow = ws.json_where("overflow", watcher_msg("overflow")).await;
    assert_eq!(overflow["watcher_id"], "1");
    let frames = ws.drain(Duration::from_millis(500)).await;
    let after: Vec<_> = changes(&frames, "1");
    assert!(
        after.len() < 300,
        "events were dropped: {} change events arrived",
        after.len()
    );
}

/// Exec commands change the tree through the same place: watchers see them (plain and streamed).
#[tokio::test]
async fn watcher_events_from_exec() {
    let (emu, _, token) = setup().await;
    emu.gw_post("/watchers", &token, json!({ "path": "/app" }))
        .await
        .ok(201);
    let mut ws = connect(&emu, &token).await;
    ws.json_where("ready", watcher_msg("ready")).await;
    let r = emu
        .gw_post(
            "/exec",
            &token,
            json!({ "cmd": ["sh", "-c", "mkdir /app/out && touch /app/out/a; rm -r /app/out"] }),
        )
        .await;
    assert_eq!(r.ok(200)["exit_code"], 0, "{}", r.text);
    let frames = ws.drain(Duration::from_millis(300)).await;
    assert_eq!(
        changes(&frames, "1"),
        pairs(&[
            ("/app/out", "create"),
            ("/app/out/a", "create"),
            ("/app/out/a", "write"),
            ("/app/out/a", "remove"),
            ("/app/out", "remove"),
        ])
    );
    // Argv form with a redirection inside `sh -c`, over the SSE endpoint.
    let r = emu
        .send(
            emu.gw_req(reqwest::Method::POST, "/exec/stream", &Cred::bearer(&token))
                .json(&json!({ "cmd": ["sh", "-c", "echo streamed > /app/s.txt"] })),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.text);
    assert!(r.text.contains("event: exit"), "{}", r.text);
    let frames = ws.drain(Duration::from_millis(300)).await;
    let got = changes(&frames, "1");
    assert_eq!(
        got.first(),
        Some(&("/app/s.txt".to_string(), "create".to_string()))
    );
    assert!(
        got.iter()
            .skip(1)
            .all(|(p, op)| p == "/app/s.txt" && op == "write"),
        "{got:?}"
    );
}
