//! Starting and stopping: `shutdown()` closes both ports (finishing open requests first), and the
//! `oblien-emulator` binary writes its ready file, serves, and exits 0 on SIGTERM / SIGINT.

mod common;

use common::Cred;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[tokio::test]
async fn shutdown_closes_both_ports() {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    emu.get("/__emulator/health", &Cred::None).await.ok(200);
    emu.gw_get("/health", &token).await.ok(200);
    let (api, gw) = (emu.api.clone(), emu.gw.clone());
    let (api_addr, gw_addr) = (emu.running().api_addr, emu.running().gateway_addr);
    let started = Instant::now();
    emu.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown is prompt"
    );

    for addr in [api_addr, gw_addr] {
        let err = tokio::net::TcpStream::connect(addr)
            .await
            .expect_err("port closed");
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{addr}: {err}"
        );
    }
    let client = common::fresh_client();
    for url in [format!("{api}/__emulator/health"), format!("{gw}/health")] {
        let err = client.get(&url).send().await.expect_err("refused");
        assert!(err.is_connect() || err.is_request(), "{url}: {err:?}");
    }
}

/// A request in flight when shutdown starts still gets its answer.
#[tokio::test]
async fn shutdown_finishes_open_requests() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "latency", "path": "/workspace", "latency_ms": 400 }))
        .await;
    let client = emu.client.clone();
    let url = format!("{}/workspace", emu.api);
    let in_flight = tokio::spawn(async move {
        client
            .get(url)
            .header("X-Client-ID", common::ADMIN_ID)
            .header("X-Client-Secret", common::ADMIN_SECRET)
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = emu.running().api_addr;
    emu.shutdown().await;
    let response = in_flight
        .await
        .expect("task")
        .expect("the open request was answered");
    assert_eq!(response.status().as_u16(), 200);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

/// Two emulators side by side share nothing.
#[tokio::test]
async fn instances_are_independent() {
    let a = common::start().await;
    let b = common::start().await;
    assert_ne!(a.api, b.api);
    a.create_namespace("only-in-a").await;
    b.get("/namespaces/only-in-a", &Cred::admin())
        .await
        .err(404, "not_found");
    a.shutdown().await;
    b.get("/__emulator/health", &Cred::None).await.ok(200);
}

/// Generated admin credentials when none are configured.
#[tokio::test]
async fn generated_admin_credentials() {
    let running = oblien_emulator::start(oblien_emulator::Config::default())
        .await
        .expect("starts");
    assert!(running.generated_credentials);
    assert!(!running.admin_client_id.is_empty() && !running.admin_client_secret.is_empty());
    let client = common::client();
    let ok = client
        .get(format!("{}/workspace", running.api_url()))
        .header("X-Client-ID", &running.admin_client_id)
        .header("X-Client-Secret", &running.admin_client_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let refused = client
        .get(format!("{}/workspace", running.api_url()))
        .header("X-Client-ID", common::ADMIN_ID)
        .header("X-Client-Secret", common::ADMIN_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    running.shutdown().await;
}

// ── The binary ──────────────────────────────────────────────────────────────────────────────

/// Kills the child if a test fails half-way.
struct ChildGuard(Option<Child>);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn unique_path(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "oblien-emulator-test-{}-{nanos}-{name}",
        std::process::id()
    ))
}

fn spawn_binary(ready_file: &PathBuf, extra: &[&str]) -> ChildGuard {
    spawn_binary_env(ready_file, extra, &[])
}

fn spawn_binary_env(ready_file: &PathBuf, extra: &[&str], env: &[(&str, &str)]) -> ChildGuard {
    let child = Command::new(env!("CARGO_BIN_EXE_oblien-emulator"))
        .args([
            "--port",
            "0",
            "--gateway-port",
            "0",
            "--provision-delay-ms",
            "50",
            "--ready-file",
        ])
        .arg(ready_file)
        .args(extra)
        .env_remove("OBLIEN_CLIENT_ID")
        .env_remove("OBLIEN_CLIENT_SECRET")
        .env_remove("OBLIEN_EMULATOR_JWT_SECRET")
        .env_remove("OBLIEN_EMULATOR_STRICT_WORKSPACE_TOKENS")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the oblien-emulator binary");
    ChildGuard(Some(child))
}

async fn wait_for_ready_file(path: &PathBuf, guard: &mut ChildGuard) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return serde_json::from_str(&text).expect("the ready file is complete JSON");
        }
        if let Some(status) = guard.0.as_mut().unwrap().try_wait().unwrap() {
            panic!("the emulator exited before it was ready: {status}");
        }
        assert!(Instant::now() < deadline, "no ready file after 15 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn signal_and_wait(guard: &mut ChildGuard, signal: &str) -> std::process::Output {
    let mut child = guard.0.take().unwrap();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the emulator did not exit within 5 s of SIG{signal}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn check_binary(signal: &str) {
    let ready_file = unique_path("ready.json");
    let mut guard = spawn_binary(&ready_file, &[]);
    let ready = wait_for_ready_file(&ready_file, &mut guard).await;
    let api = ready["api"].as_str().expect("api url").to_string();
    let gateway = ready["gateway"].as_str().expect("gateway url").to_string();
    let id = ready["clientId"].as_str().expect("clientId").to_string();
    let secret = ready["clientSecret"]
        .as_str()
        .expect("clientSecret")
        .to_string();
    assert!(api.starts_with("http://127.0.0.1:") && gateway.starts_with("http://127.0.0.1:"));
    assert_ne!(api, gateway);

    let client = common::client();
    let r = client
        .get(format!("{api}/__emulator/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let health: Value = r.json().await.unwrap();
    assert_eq!(health["api"], true);
    assert_eq!(health["gateway"], true);
    // The credentials in the ready file work.
    let r = client
        .get(format!("{api}/workspace"))
        .header("X-Client-ID", &id)
        .header("X-Client-Secret", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = client
        .get(format!("{gateway}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        401,
        "the gateway answers (and wants a token)"
    );

    let output = signal_and_wait(&mut guard, signal).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit status {:?}; stdout {stdout}; stderr {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&api), "prints its API url: {stdout}");
    let _ = std::fs::remove_file(&ready_file);
    // The port is closed.
    let err = client
        .get(format!("{api}/__emulator/health"))
        .send()
        .await
        .expect_err("closed");
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

#[tokio::test]
async fn binary_ready_file_health_and_sigterm() {
    check_binary("TERM").await;
}

#[tokio::test]
async fn binary_exits_cleanly_on_sigint() {
    check_binary("INT").await;
}

#[tokio::test]
async fn binary_uses_given_credentials() {
    let ready_file = unique_path("ready-creds.json");
    let mut guard = spawn_binary(
        &ready_file,
        &["--client-id", "cid_fixed", "--client-secret", "csk_fixed"],
    );
    let ready = wait_for_ready_file(&ready_file, &mut guard).await;
    assert_eq!(ready["clientId"], "cid_fixed");
    assert_eq!(ready["clientSecret"], "csk_fixed");
    let api = ready["api"].as_str().unwrap();
    let r = common::client()
        .get(format!("{api}/workspace"))
        .header("X-Client-ID", "cid_fixed")
        .header("X-Client-Secret", "csk_fixed")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let output = signal_and_wait(&mut guard, "TERM").await;
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("csk_fixed"),
        "a given secret is not printed: {stdout}"
    );
    let _ = std::fs::remove_file(&ready_file);
}

#[tokio::test]
async fn binary_refuses_a_missing_static_dir() {
    let output = Command::new(env!("CARGO_BIN_EXE_oblien-emulator"))
        .args([
            "--port",
            "0",
            "--gateway-port",
            "0",
            "--static",
            "/definitely/not/a/dir",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--static"));
}

/// `--strict-workspace-tokens` and its variable `OBLIEN_EMULATOR_STRICT_WORKSPACE_TOKENS`: whether
/// a namespace token may mint the 30-day workspace token (the pages' default: yes).
#[tokio::test]
async fn binary_strict_workspace_tokens_flag_and_env() {
    type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, &'a str)], u16);
    let cases: [Case; 5] = [
        ("default", &[], &[], 200),
        ("flag", &["--strict-workspace-tokens"], &[], 403),
        (
            "env true",
            &[],
            &[("OBLIEN_EMULATOR_STRICT_WORKSPACE_TOKENS", "true")],
            403,
        ),
        (
            "env 1",
            &[],
            &[("OBLIEN_EMULATOR_STRICT_WORKSPACE_TOKENS", "1")],
            403,
        ),
        (
            "env false",
            &[],
            &[("OBLIEN_EMULATOR_STRICT_WORKSPACE_TOKENS", "false")],
            200,
        ),
    ];
    for (label, flags, env, expected) in cases {
        let ready_file = unique_path("ready-strict.json");
        let mut guard = spawn_binary_env(&ready_file, flags, env);
        let ready = wait_for_ready_file(&ready_file, &mut guard).await;
        let api = ready["api"].as_str().unwrap().to_string();
        let (id, secret) = (
            ready["clientId"].as_str().unwrap().to_string(),
            ready["clientSecret"].as_str().unwrap().to_string(),
        );
        let client = common::client();
        let admin = |rb: reqwest::RequestBuilder| {
            rb.header("X-Client-ID", &id)
                .header("X-Client-Secret", &secret)
        };
        let r = admin(client.post(format!("{api}/namespaces")))
            .json(&serde_json::json!({ "name": "t" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201, "{label}");
        let r: Value = admin(client.post(format!("{api}/workspace")))
            .json(&serde_json::json!({ "image": "node-20", "namespace": "t" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ws = r["workspace"]["id"].as_str().unwrap().to_string();
        let r: Value = admin(client.post(format!("{api}/tokens")))
            .json(&serde_json::json!({ "scope": "namespace", "namespace": "t" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = r["token"].as_str().unwrap().to_string();
        let r = client
            .post(format!(
                "{api}/workspace/{ws}/internal-api-access/workspace"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), expected, "{label}");
        let output = signal_and_wait(&mut guard, "TERM").await;
        assert!(output.status.success(), "{label}");
        let _ = std::fs::remove_file(&ready_file);
    }
}
