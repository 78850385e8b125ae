//! Exec tasks on the gateway: `POST /exec/stream` (SSE), subscribe, input, kill, list, get,
//! delete, and the emulated shell's semantics as seen through `/exec`.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{Cred, Emu};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn ready() -> (Emu, String) {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    (emu, token)
}

/// One server-sent event, with when it was read.
#[derive(Debug, Clone)]
struct Event {
    name: String,
    data: Value,
    at: Instant,
}

impl Event {
    /// The decoded `data` of a stdout/stderr event.
    fn text(&self) -> String {
        let b64 = self.data["data"].as_str().expect("data is a string");
        String::from_utf8(STANDARD.decode(b64).expect("base64")).expect("UTF-8")
    }
}

/// Reads SSE from a streaming response, checking the exact `event: X\ndata: Y\n\n` framing.
struct Sse {
    response: reqwest::Response,
    buf: Vec<u8>,
    /// Every byte received, for framing checks.
    raw: Vec<u8>,
}

impl Sse {
    fn new(response: reqwest::Response) -> Sse {
        assert_eq!(response.status(), 200, "SSE status");
        let ct = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        Sse {
            response,
            buf: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// The next event; `Ok(None)` at a clean end; `Err` when the connection broke.
    async fn next(&mut self) -> Result<Option<Event>, reqwest::Error> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..pos + 2).collect();
                let text = String::from_utf8(block).expect("UTF-8 SSE");
                let mut lines = text.trim_end_matches('\n').split('\n');
                let event = lines.next().expect("event line");
                let data = lines.next().expect("data line");
                assert!(lines.next().is_none(), "one event, one data line: {text:?}");
                let name = event
                    .strip_prefix("event: ")
                    .unwrap_or_else(|| panic!("`event: ` with a space: {text:?}"));
                let data = data
                    .strip_prefix("data: ")
                    .unwrap_or_else(|| panic!("`data: ` with a space: {text:?}"));
                return Ok(Some(Event {
                    name: name.to_string(),
                    data: serde_json::from_str(data).expect("JSON data"),
                    at: Instant::now(),
                }));
            }
            match self.response.chunk().await? {
                Some(chunk) => {
                    self.buf.extend_from_slice(&chunk);
                    self.raw.extend_from_slice(&chunk);
                }
                None => {
                    assert!(self.buf.is_empty(), "trailing bytes: {:?}", self.buf);
                    return Ok(None);
                }
            }
        }
    }

    /// Every remaining event until the stream ends (within `limit`).
    async fn rest(&mut self, limit: Duration) -> Vec<Event> {
        let mut events = Vec::new();
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.next()).await {
                Ok(Ok(Some(e))) => events.push(e),
                Ok(Ok(None)) => return events,
                Ok(Err(e)) => panic!("stream broke: {e}; got {events:?}"),
                Err(_) => panic!("stream did not end within {limit:?}; got {events:?}"),
            }
        }
    }
}

async fn stream(emu: &Emu, token: &str, body: Value) -> Sse {
    let response = emu
        .gw_req(Method::POST, "/exec/stream", &Cred::bearer(token))
        .json(&body)
        .send()
        .await
        .expect("POST /exec/stream");
    Sse::new(response)
}

async fn subscribe(emu: &Emu, token: &str, task_id: &str) -> Sse {
    let response = emu
        .gw_req(Method::GET, "/exec/stream", &Cred::bearer(token))
        .query(&[("task_id", task_id)])
        .send()
        .await
        .expect("GET /exec/stream");
    Sse::new(response)
}

/// `(stdout, stderr, exit_code)` from a list of events ending with `exit`.
fn collect(events: &[Event]) -> (String, String, i64) {
    let (mut out, mut err) = (String::new(), String::new());
    let last = events.last().expect("events");
    assert_eq!(last.name, "exit", "last event is exit: {events:?}");
    assert_eq!(last.data["status"], "exited");
    for e in &events[..events.len() - 1] {
        match e.name.as_str() {
            "stdout" => out.push_str(&e.text()),
            "stderr" => err.push_str(&e.text()),
            other => panic!("unexpected event {other}: {events:?}"),
        }
    }
    (
        out,
        err,
        last.data["exit_code"].as_i64().expect("exit_code"),
    )
}

async fn first_task_id(sse: &mut Sse) -> String {
    let event = sse.next().await.expect("stream").expect("an event");
    assert_eq!(event.name, "task_id");
    event.data["task_id"]
        .as_str()
        .expect("task_id is a string")
        .to_string()
}

#[tokio::test]
async fn stream_delivers_output_over_time() {
    let (emu, token) = ready().await;
    let mut sse = stream(
        &emu,
        &token,
        json!({ "cmd": ["sh", "-c", "echo one; sleep 0.3; echo two"] }),
    )
    .await;
    assert_eq!(first_task_id(&mut sse).await, "1");
    let events = sse.rest(Duration::from_secs(10)).await;
    let (out, err, code) = collect(&events);
    assert_eq!((out.as_str(), err.as_str(), code), ("one\ntwo\n", "", 0));
    let one = &events[0];
    let two = &events[1];
    assert_eq!(
        (one.text().as_str(), two.text().as_str()),
        ("one\n", "two\n")
    );
    let gap = two.at.duration_since(one.at);
    assert!(gap >= Duration::from_millis(250), "events {gap:?} apart");
    // The exact framing, with a space after each colon.
    let raw = String::from_utf8(sse.raw.clone()).unwrap();
    assert!(
        raw.starts_with("event: task_id\ndata: {\"task_id\":\"1\"}\n\nevent: stdout\ndata: {\"data\":\"b25lCg==\"}\n\n"),
        "{raw:?}"
    );
    assert!(
        raw.ends_with("event: exit\ndata: {\"exit_code\":0,\"status\":\"exited\"}\n\n"),
        "{raw:?}"
    );
    // The task is listed as exited with its output.
    let r = emu.gw_get("/exec/1", &token).await;
    let task = r.ok(200);
    assert_eq!(task["status"], "exited");
    assert_eq!(task["exit_code"], 0);
    assert_eq!(task["stdout"], "one\ntwo\n");
    assert_eq!(
        task["command"],
        json!(["sh", "-c", "echo one; sleep 0.3; echo two"])
    );
}

#[tokio::test]
async fn stream_stderr_and_exit_code() {
    let (emu, token) = ready().await;
    let mut sse = stream(&emu, &token, json!({ "cmd": ["cat", "/nope"] })).await;
    first_task_id(&mut sse).await;
    let events = sse.rest(Duration::from_secs(10)).await;
    assert_eq!(
        collect(&events),
        (
            String::new(),
            "cat: /nope: No such file or directory\n".to_string(),
            1
        )
    );
    assert_eq!(events[0].name, "stderr");
}

#[tokio::test]
async fn stdin_round_trip_through_cat() {
    let (emu, token) = ready().await;
    let mut sse = stream(&emu, &token, json!({ "cmd": ["cat"] })).await;
    let id = first_task_id(&mut sse).await;
    let send = |data: &'static str| {
        emu.send(
            emu.gw_req(
                Method::POST,
                &format!("/exec/{id}/input"),
                &Cred::bearer(&token),
            )
            .header("Content-Type", "application/octet-stream")
            .body(data),
        )
    };
    let r = send("hello\n").await;
    assert_eq!(r.ok(200)["bytes_written"], 6);
    let event = sse.next().await.unwrap().unwrap();
    assert_eq!(
        (event.name.as_str(), event.text().as_str()),
        ("stdout", "hello\n")
    );
    send("wörld").await.ok(200);
    let event = sse.next().await.unwrap().unwrap();
    assert_eq!(event.text(), "wörld");
    // Still running.
    assert_eq!(
        emu.gw_get(&format!("/exec/{id}"), &token).await.ok(200)["status"],
        "running"
    );
    // An empty body is end-of-file: cat exits 0.
    assert_eq!(send("").await.ok(200)["bytes_written"], 0);
    let events = sse.rest(Duration::from_secs(5)).await;
    assert_eq!(collect(&events), (String::new(), String::new(), 0));
    // Input to an exited task.
    send("late").await.err(409, "task_not_running");
}

#[tokio::test]
async fn kill_ends_a_running_task_with_137() {
    let (emu, token) = ready().await;
    let mut sse = stream(&emu, &token, json!({ "cmd": ["sleep", "30"] })).await;
    let id = first_task_id(&mut sse).await;
    let r = emu.gw_get("/exec", &token).await;
    let tasks = r.ok(200)["tasks"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["status"], "running");
    assert_eq!(tasks[0]["exit_code"], Value::Null);
    let started = Instant::now();
    let r = emu
        .send(emu.gw_req(
            Method::DELETE,
            &format!("/exec/{id}"),
            &Cred::bearer(&token),
        ))
        .await;
    r.ok(200);
    let events = sse.rest(Duration::from_secs(3)).await;
    assert_eq!(collect(&events).2, 137);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let r = emu.gw_get(&format!("/exec/{id}"), &token).await;
    let task = r.ok(200);
    assert_eq!(
        (task["status"].as_str(), task["exit_code"].as_i64()),
        (Some("exited"), Some(137))
    );
    // A second DELETE forgets the exited task.
    let r = emu
        .send(emu.gw_req(
            Method::DELETE,
            &format!("/exec/{id}"),
            &Cred::bearer(&token),
        ))
        .await;
    assert_eq!(r.ok(200)["deleted"], true);
    emu.gw_get(&format!("/exec/{id}"), &token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn seq_10000_arrives_whole() {
    let (emu, token) = ready().await;
    let mut sse = stream(&emu, &token, json!({ "cmd": ["seq", "10000"] })).await;
    first_task_id(&mut sse).await;
    let events = sse.rest(Duration::from_secs(20)).await;
    let (out, err, code) = collect(&events);
    assert_eq!((err.as_str(), code), ("", 0));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 10_000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(*line, (i + 1).to_string());
    }
    // The same through a subscriber after the end, and in GET.
    let mut again = subscribe(&emu, &token, "1").await;
    first_task_id(&mut again).await;
    assert_eq!(collect(&again.rest(Duration::from_secs(20)).await).0, out);
    assert_eq!(emu.gw_get("/exec/1", &token).await.ok(200)["stdout"], out);
}

#[tokio::test]
async fn subscribe_to_a_finished_task_replays_everything() {
    let (emu, token) = ready().await;
    let r = emu
        .gw_post(
            "/exec",
            &token,
            json!({ "cmd": ["sh", "-c", "echo a; echo b >&2; echo c; exit 3"] }),
        )
        .await;
    let task = r.ok(200);
    assert_eq!(task["exit_code"], 3);
    assert_eq!(task["stdout"], "a\nc\n");
    assert_eq!(task["stderr"], "b\n");
    let id = task["id"].as_str().unwrap().to_string();
    let mut sse = subscribe(&emu, &token, &id).await;
    assert_eq!(first_task_id(&mut sse).await, id);
    let events = sse.rest(Duration::from_secs(5)).await;
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["stdout", "stderr", "stdout", "exit"]);
    assert_eq!(
        collect(&events),
        ("a\nc\n".to_string(), "b\n".to_string(), 3)
    );
}

#[tokio::test]
async fn subscribe_mid_run_replays_then_follows() {
    let (emu, token) = ready().await;
    let mut sse = stream(
        &emu,
        &token,
        json!({ "cmd": ["sh", "-c", "echo one; sleep 0.5; echo two"] }),
    )
    .await;
    let id = first_task_id(&mut sse).await;
    assert_eq!(sse.next().await.unwrap().unwrap().text(), "one\n");
    let mut late = subscribe(&emu, &token, &id).await;
    assert_eq!(first_task_id(&mut late).await, id);
    let replayed = late.next().await.unwrap().unwrap();
    assert_eq!(replayed.text(), "one\n");
    let rest = late.rest(Duration::from_secs(5)).await;
    let live = &rest[0];
    assert_eq!(live.text(), "two\n");
    assert!(
        live.at.duration_since(replayed.at) >= Duration::from_millis(200),
        "two came live, not replayed"
    );
    assert_eq!(collect(&rest).2, 0);
    // The first stream ends too.
    assert_eq!(collect(&sse.rest(Duration::from_secs(5)).await).0, "two\n");
}

async fn run(emu: &Emu, token: &str, cmd: Value) -> Value {
    emu.gw_post("/exec", token, json!({ "cmd": cmd }))
        .await
        .ok(200)
        .clone()
}

#[tokio::test]
async fn shell_semantics_through_exec() {
    let (emu, token) = ready().await;
    let t = &token;
    // Quoting and redirection.
    let out = run(
        &emu,
        t,
        json!([
            "sh",
            "-c",
            "echo 'a  b' \"c;d\" > /app/q.txt && cat /app/q.txt"
        ]),
    )
    .await;
    assert_eq!(out["stdout"], "a  b c;d\n");
    let r = emu.gw_get_path("/files/read", "/app/q.txt", t).await;
    assert_eq!(r.ok(200)["content"], "a  b c;d\n");
    let out = run(
        &emu,
        t,
        json!(["sh", "-c", "echo more >> q.txt; cat q.txt"]),
    )
    .await;
    assert_eq!(out["stdout"], "a  b c;d\nmore\n");
    // `&&` stops at a failure, `;` does not.
    let out = run(&emu, t, json!(["sh", "-c", "false && echo no; echo yes"])).await;
    assert_eq!(
        (out["stdout"].as_str(), out["exit_code"].as_i64()),
        (Some("yes\n"), Some(0))
    );
    let out = run(&emu, t, json!(["sh", "-c", "echo a && false && echo b"])).await;
    assert_eq!(
        (out["stdout"].as_str(), out["exit_code"].as_i64()),
        (Some("a\n"), Some(1))
    );
    // 127, with the shell's message.
    let out = run(&emu, t, json!(["sh", "-c", "nosuch arg"])).await;
    assert_eq!(out["exit_code"], 127);
    assert_eq!(out["stderr"], "sh: nosuch: command not found\n");
    // cd persists inside one line, not across tasks.
    let out = run(
        &emu,
        t,
        json!([
            "sh",
            "-c",
            "cd /tmp && pwd; mkdir -p d/e && cd d/e && pwd; cd ..; pwd"
        ]),
    )
    .await;
    assert_eq!(out["stdout"], "/tmp\n/tmp/d/e\n/tmp/d\n");
    assert_eq!(run(&emu, t, json!(["pwd"])).await["stdout"], "/app\n");
    // argv form: one command, not re-split.
    assert_eq!(
        run(&emu, t, json!(["echo", "a; b", "&&", "c"])).await["stdout"],
        "a; b && c\n"
    );
    // One element that looks like a line runs in the shell (exec_mode auto)…
    assert_eq!(
        run(&emu, t, json!(["echo x; echo y"])).await["stdout"],
        "x\ny\n"
    );
    // …unless exec_mode is direct.
    let r = emu
        .gw_post(
            "/exec",
            t,
            json!({ "cmd": ["echo x; echo y"], "exec_mode": "direct" }),
        )
        .await;
    assert_eq!(r.ok(200)["exit_code"], 127);
    let r = emu
        .gw_post(
            "/exec",
            t,
            json!({ "cmd": ["echo", "1;", "echo", "2"], "exec_mode": "shell" }),
        )
        .await;
    assert_eq!(r.ok(200)["stdout"], "1\n2\n");
    emu.gw_post("/exec", t, json!({ "cmd": ["true"], "exec_mode": "magic" }))
        .await
        .validation("exec_mode");
    // Files made by the shell are seen by the files API, and the other way round.
    run(
        &emu,
        t,
        json!([
            "sh",
            "-c",
            "mkdir -p /app/src && touch /app/src/a.rs && rm /app/README.md"
        ]),
    )
    .await;
    let r = emu.gw_get_path("/files", "/app", t).await;
    let names: Vec<&str> = r.ok(200)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["q.txt", "src"]);
    // Syntax errors: status 2.
    let out = run(&emu, t, json!(["sh", "-c", "echo 'open"])).await;
    assert_eq!(out["exit_code"], 2);
}

#[tokio::test]
async fn list_get_delete_all_and_errors() {
    let (emu, token) = ready().await;
    for _ in 0..3 {
        run(&emu, &token, json!(["true"])).await;
    }
    let mut sse = stream(&emu, &token, json!({ "cmd": ["sleep", "30"] })).await;
    assert_eq!(first_task_id(&mut sse).await, "4");
    let r = emu.gw_get("/exec", &token).await;
    let tasks = r.ok(200)["tasks"].as_array().unwrap().clone();
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    for t in &tasks {
        common::parse_iso_millis(t["created_at"].as_str().unwrap());
    }
    let r = emu
        .send(emu.gw_req(Method::DELETE, "/exec", &Cred::bearer(&token)))
        .await;
    assert_eq!(r.ok(200)["deleted"], 4);
    // The running one was killed: its stream ends with 137.
    assert_eq!(collect(&sse.rest(Duration::from_secs(3)).await).2, 137);
    assert_eq!(
        emu.gw_get("/exec", &token).await.ok(200)["tasks"],
        json!([])
    );
    // Unknown tasks: 404 everywhere, with the error shape.
    emu.gw_get("/exec/99", &token).await.err(404, "not_found");
    emu.gw_get("/exec/stream?task_id=99", &token)
        .await
        .err(404, "not_found");
    emu.send(emu.gw_req(Method::DELETE, "/exec/99", &Cred::bearer(&token)))
        .await
        .err(404, "not_found");
    emu.send(
        emu.gw_req(Method::POST, "/exec/99/input", &Cred::bearer(&token))
            .body("x"),
    )
    .await
    .err(404, "not_found");
    emu.gw_get("/exec/stream", &token)
        .await
        .validation("task_id");
    // Validation of the stream body, as for /exec.
    let r = emu
        .gw_post("/exec/stream", &token, json!({ "cmd": [] }))
        .await;
    r.validation("cmd");
    // Without a token: 401 before anything.
    emu.send(emu.gw_req(Method::GET, "/exec", &Cred::None))
        .await
        .err(401, "missing_credentials");
    // Task ids are per workspace.
    let (_, other) = emu.ready_workspace(None).await;
    assert_eq!(run(&emu, &other, json!(["true"])).await["id"], "1");
    emu.gw_get("/exec/5", &other).await.err(404, "not_found");
}

#[tokio::test]
async fn timeout_seconds_ends_a_task_with_124() {
    let (emu, token) = ready().await;
    let started = Instant::now();
    let r = emu
        .gw_post(
            "/exec",
            &token,
            json!({ "cmd": ["sleep", "30"], "timeout_seconds": 1 }),
        )
        .await;
    let task = r.ok(200);
    assert_eq!(task["exit_code"], 124);
    assert_eq!(task["error"], "timeout");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn deleting_the_workspace_kills_its_tasks() {
    let emu = common::start().await;
    let (id, token) = emu.ready_workspace(None).await;
    let mut sse = stream(&emu, &token, json!({ "cmd": ["sleep", "30"] })).await;
    first_task_id(&mut sse).await;
    emu.delete(&format!("/workspace/{id}"), &Cred::admin())
        .await
        .ok(200);
    assert_eq!(collect(&sse.rest(Duration::from_secs(3)).await).2, 137);
}

/// `drop` with `after_bytes`: the stream starts, is cut mid-body (no clean end), and the task
/// goes on: a subscriber resumes it whole.
#[tokio::test]
async fn drop_after_bytes_cuts_a_stream_mid_body() {
    let (emu, token) = ready().await;
    let first = "event: task_id\ndata: {\"task_id\":\"1\"}\n\n";
    let limit = first.len() + 10;
    emu.add_fault(json!({
        "kind": "drop", "path": "/exec/stream", "listener": "gateway", "after_bytes": limit,
    }))
    .await;
    let client = common::fresh_client();
    let mut response = client
        .post(format!("{}/exec/stream", emu.gw))
        .bearer_auth(&token)
        .json(&json!({ "cmd": ["sh", "-c", "echo one; sleep 0.3; echo two"] }))
        .send()
        .await
        .expect("the response starts");
    assert_eq!(response.status(), 200);
    let mut received = Vec::new();
    let broke = loop {
        match tokio::time::timeout(Duration::from_secs(5), response.chunk()).await {
            Ok(Ok(Some(chunk))) => received.extend_from_slice(&chunk),
            Ok(Ok(None)) => break false,
            Ok(Err(_)) => break true,
            Err(_) => panic!("the cut stream hung"),
        }
    };
    assert!(broke, "the body must end with an error, not cleanly");
    assert_eq!(
        received.len(),
        limit,
        "{:?}",
        String::from_utf8_lossy(&received)
    );
    assert!(received.starts_with(first.as_bytes()));
    assert!(received.ends_with(b"event: std"));
    // The fault was used once; the task ran on, and resuming gives everything.
    let mut sse = subscribe(&emu, &token, "1").await;
    first_task_id(&mut sse).await;
    let (out, _, code) = collect(&sse.rest(Duration::from_secs(5)).await);
    assert_eq!((out.as_str(), code), ("one\ntwo\n", 0));
    // A JSON response with a length is cut too.
    emu.add_fault(json!({
        "kind": "drop", "path": "/files/read", "listener": "gateway", "after_bytes": 5,
    }))
    .await;
    let response = client
        .get(format!("{}/files/read?path=/app/README.md", emu.gw))
        .bearer_auth(&token)
        .send()
        .await
        .expect("headers arrive");
    assert!(response.text().await.is_err(), "a short body is an error");
    // `after_bytes` is only for drop.
    let r = emu
        .post(
            "/__emulator/faults",
            &Cred::admin(),
            json!({ "kind": "latency", "path": "/x", "after_bytes": 3 }),
        )
        .await;
    r.validation("after_bytes");
}
