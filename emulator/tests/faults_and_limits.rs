//! Fault injection (latency, forced status + body, dropped connection, non-JSON body; for the next
//! N matching requests) and the per-credential rate limit (429 + Retry-After, then recovery).

mod common;

use common::{Cred, Emu};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

async fn clear_faults(emu: &Emu) {
    emu.send(emu.api_req(Method::DELETE, "/__emulator/faults", &Cred::admin()))
        .await
        .ok(200);
}

async fn list_faults(emu: &Emu) -> Vec<serde_json::Value> {
    let r = emu.get("/__emulator/faults", &Cred::admin()).await;
    r.ok(200)["faults"].as_array().unwrap().clone()
}

#[tokio::test]
async fn latency_fault() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "latency", "path": "/workspace", "latency_ms": 300 }))
        .await;
    let started = Instant::now();
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    let slow = started.elapsed();
    assert!(
        slow >= Duration::from_millis(300),
        "latency applied: {slow:?}"
    );
    // Used up (times defaults to 1).
    assert!(list_faults(&emu).await.is_empty());
    emu.get("/workspace", &Cred::admin()).await.ok(200);
}

/// `latency_ms` on another kind delays it first.
#[tokio::test]
async fn latency_then_status() {
    let emu = common::start().await;
    emu.add_fault(
        json!({ "kind": "status", "path": "/workspace", "status": 502, "latency_ms": 200 }),
    )
    .await;
    let started = Instant::now();
    emu.get("/workspace", &Cred::admin())
        .await
        .err(502, "server_error");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn status_fault_for_n_requests_then_normal() {
    let emu = common::start().await;
    let fault = emu
        .add_fault(json!({
            "kind": "status",
            "path": "/workspace",
            "status": 503,
            "body": { "success": false, "error": "maintenance", "code": "maintenance", "message": "down for maintenance" },
            "times": 3,
        }))
        .await;
    assert!(fault["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(fault["remaining"], 3);
    for i in 0..3 {
        let r = emu.get("/workspace", &Cred::admin()).await;
        r.err(503, "maintenance");
        assert_eq!(r.body["message"], "down for maintenance");
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
        let left = list_faults(&emu).await;
        assert_eq!(
            left.len(),
            if i < 2 { 1 } else { 0 },
            "after {} requests: {left:?}",
            i + 1
        );
        if i < 2 {
            assert_eq!(left[0]["remaining"], 2 - i);
        }
    }
    emu.get("/workspace", &Cred::admin()).await.ok(200);
}

/// Without a body, a forced status gets the error shape with the status's default code, and
/// injected headers are sent.
#[tokio::test]
async fn status_fault_defaults_and_headers() {
    let emu = common::start().await;
    for (status, code) in [
        (500, "server_error"),
        (404, "not_found"),
        (429, "rate_limited"),
        (401, "authentication_error"),
    ] {
        emu.add_fault(json!({ "kind": "status", "path": "/workspace", "status": status, "headers": { "Retry-After": "7", "X-Injected": "yes" } }))
            .await;
        let r = emu.get("/workspace", &Cred::admin()).await;
        r.err(status, code);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.header("x-injected"), Some("yes"));
    }
    // Default status is 500.
    emu.add_fault(json!({ "kind": "status", "path": "/workspace" }))
        .await;
    emu.get("/workspace", &Cred::admin())
        .await
        .err(500, "server_error");
    // A 200 with success:false (a "legacy" error) can be forced too.
    emu.add_fault(json!({
        "kind": "status", "path": "/workspace", "status": 200,
        "body": { "success": false, "error": "legacy", "code": "legacy", "message": "legacy failure" },
    }))
    .await;
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.is_error_shape());
    // A string body goes out as it is.
    emu.add_fault(
        json!({ "kind": "status", "path": "/workspace", "status": 500, "body": "plain failure" }),
    )
    .await;
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.status.as_u16(), 500);
    assert_eq!(r.text, "plain failure");
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
}

#[tokio::test]
async fn drop_fault_closes_the_connection() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "drop", "path": "/workspace", "times": 2 }))
        .await;
    let client = common::fresh_client();
    for _ in 0..2 {
        let result = client
            .get(format!("{}/workspace", emu.api))
            .header("X-Client-ID", common::ADMIN_ID)
            .header("X-Client-Secret", common::ADMIN_SECRET)
            .send()
            .await;
        let err = result.expect_err("the connection is dropped: no response");
        assert!(
            !err.is_status() && !err.is_timeout(),
            "a connection error: {err:?}"
        );
    }
    // Then normal again, also on a fresh connection.
    let r = client
        .get(format!("{}/workspace", emu.api))
        .header("X-Client-ID", common::ADMIN_ID)
        .header("X-Client-Secret", common::ADMIN_SECRET)
        .send()
        .await
        .expect("normal again");
    assert_eq!(r.status().as_u16(), 200);
    emu.get("/workspace", &Cred::admin()).await.ok(200);
}

#[tokio::test]
async fn non_json_fault() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "non_json", "path": "/workspace" }))
        .await;
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.status.as_u16(), 200, "non_json defaults to 200");
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("<html"), "{}", r.text);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "not JSON"
    );
    // With a status, body and content type of its own.
    emu.add_fault(json!({ "kind": "non_json", "path": "/workspace", "status": 502, "body": "Bad Gateway", "content_type": "text/plain" })).await;
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.status.as_u16(), 502);
    assert_eq!(r.text, "Bad Gateway");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    emu.get("/workspace", &Cred::admin()).await.ok(200);
}

#[tokio::test]
async fn body_bytes_pads_the_body() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "status", "path": "/workspace", "status": 200, "body": { "success": true }, "body_bytes": 100_000 })).await;
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(
        r.text.len() >= 99_000 && r.text.len() <= 101_000,
        "{}",
        r.text.len()
    );
    assert!(r.body.is_object(), "padded JSON stays JSON");
    emu.add_fault(json!({ "kind": "non_json", "path": "/workspace", "body_bytes": 5000 }))
        .await;
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.text.len(), 5000);
}

/// Path prefix (`*`), method and listener filters.
#[tokio::test]
async fn fault_matching() {
    let emu = common::start().await;
    let (id, token) = emu.ready_workspace(None).await;

    // Prefix: every path under /workspace/.
    emu.add_fault(json!({ "kind": "status", "path": "/workspace/*", "status": 418, "times": 2 }))
        .await;
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    let r = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
    assert_eq!(r.status.as_u16(), 418);
    let r = emu
        .get(
            &format!("/workspace/{id}/internal-api-access"),
            &Cred::admin(),
        )
        .await;
    assert_eq!(r.status.as_u16(), 418);
    emu.get(&format!("/workspace/{id}"), &Cred::admin())
        .await
        .ok(200);

    // Method: only POSTs.
    emu.add_fault(
        json!({ "kind": "status", "path": "/workspace", "method": "post", "status": 500 }),
    )
    .await;
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    emu.post("/workspace", &Cred::admin(), json!({ "image": "x" }))
        .await
        .err(500, "server_error");

    // Listener: a gateway fault leaves the API alone, and the reverse.
    emu.add_fault(
        json!({ "kind": "status", "path": "/health", "listener": "gateway", "status": 500 }),
    )
    .await;
    emu.gw_get("/health", &token).await.err(500, "server_error");
    emu.gw_get("/health", &token).await.ok(200);
    emu.add_fault(json!({ "kind": "status", "path": "/*", "listener": "api", "status": 500 }))
        .await;
    emu.gw_get("/health", &token).await.ok(200);
    emu.get("/workspace", &Cred::admin())
        .await
        .err(500, "server_error");
    // Any: the first matching request on either listener.
    emu.add_fault(
        json!({ "kind": "status", "path": "/*", "listener": "any", "status": 500, "times": 2 }),
    )
    .await;
    emu.gw_get("/files?path=/", &token)
        .await
        .err(500, "server_error");
    emu.get("/workspace", &Cred::admin())
        .await
        .err(500, "server_error");
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    emu.gw_get("/health", &token).await.ok(200);
}

#[tokio::test]
async fn gateway_drop_and_latency() {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    emu.add_fault(json!({ "kind": "drop", "path": "/files", "listener": "gateway" }))
        .await;
    let client = common::fresh_client();
    let err = client
        .get(format!("{}/files", emu.gw))
        .bearer_auth(&token)
        .send()
        .await
        .expect_err("dropped");
    assert!(!err.is_status());
    emu.add_fault(
        json!({ "kind": "latency", "path": "/exec", "listener": "gateway", "latency_ms": 250 }),
    )
    .await;
    let started = Instant::now();
    emu.gw_post("/exec", &token, json!({ "cmd": ["true"] }))
        .await
        .ok(200);
    assert!(started.elapsed() >= Duration::from_millis(250));
}

/// The control endpoints are exempt, so a catch-all fault can always be cleared.
#[tokio::test]
async fn control_endpoints_are_exempt_and_clear_works() {
    let emu = common::start().await;
    emu.add_fault(
        json!({ "kind": "status", "path": "/*", "listener": "any", "status": 500, "times": 100 }),
    )
    .await;
    emu.add_fault(json!({ "kind": "drop", "path": "/*", "times": 100 }))
        .await;
    emu.get("/__emulator/health", &Cred::None).await.ok(200);
    assert_eq!(list_faults(&emu).await.len(), 2);
    emu.get("/workspace", &Cred::admin())
        .await
        .err(500, "server_error");
    clear_faults(&emu).await;
    assert!(list_faults(&emu).await.is_empty());
    emu.get("/workspace", &Cred::admin()).await.ok(200);
}

/// Faults and rate limits on paths no endpoint answers (the real API's other services, a 404)
/// apply too.
#[tokio::test]
async fn faults_apply_to_unknown_api_paths() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "status", "path": "/pages*", "status": 503 }))
        .await;
    emu.get("/pages", &Cred::admin())
        .await
        .err(503, "server_error");
    // The rate limit counts them too.
    emu.set_rate_limit(Some(1), 60).await;
    emu.get("/pages", &Cred::admin())
        .await
        .err(404, "not_found");
    emu.get("/pages", &Cred::admin())
        .await
        .err(429, "rate_limited");
}

#[tokio::test]
async fn fault_spec_validation_and_auth() {
    let emu = common::start().await;
    for (spec, field) in [
        (json!({ "kind": "status", "path": "workspace" }), "path"),
        (
            json!({ "kind": "status", "path": "/x", "times": 0 }),
            "times",
        ),
        (
            json!({ "kind": "status", "path": "/x", "status": 99 }),
            "status",
        ),
        (
            json!({ "kind": "status", "path": "/x", "status": 600 }),
            "status",
        ),
        (json!({ "kind": "explode", "path": "/x" }), "kind"),
        (json!({ "path": "/x" }), "kind"),
        (json!({ "kind": "status" }), "path"),
        (
            json!({ "kind": "status", "path": "/x", "listener": "mars" }),
            "listener",
        ),
        (
            json!({ "kind": "latency", "path": "/x", "latency_ms": -5 }),
            "latency_ms",
        ),
        (
            json!({ "kind": "latency", "path": "/x", "latency_ms": 999_999 }),
            "latency_ms",
        ),
        (
            json!({ "kind": "status", "path": "/x", "headers": ["a"] }),
            "headers",
        ),
    ] {
        emu.post("/__emulator/faults", &Cred::admin(), spec)
            .await
            .validation(field);
    }
    assert!(list_faults(&emu).await.is_empty());
    let spec = json!({ "kind": "status", "path": "/x" });
    emu.post("/__emulator/faults", &Cred::None, spec.clone())
        .await
        .err(401, "missing_credentials");
    emu.create_namespace("t").await;
    let token = Cred::bearer(emu.ns_token("t").await);
    emu.post("/__emulator/faults", &token, spec.clone())
        .await
        .err(403, "scope_denied");
    emu.send(emu.api_req(Method::DELETE, "/__emulator/faults", &token))
        .await
        .err(403, "scope_denied");
    emu.get("/__emulator/faults", &Cred::None)
        .await
        .err(401, "missing_credentials");
}

// ── Rate limiting ───────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn rate_limit_429_with_retry_after_then_recovery() {
    let emu = common::start().await;
    emu.set_rate_limit(Some(3), 1).await;
    for _ in 0..3 {
        emu.get("/workspace", &Cred::admin()).await.ok(200);
    }
    let r = emu.get("/workspace", &Cred::admin()).await;
    r.err(429, "rate_limited");
    let retry_after: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert_eq!(retry_after, 1, "a 1 s window");
    assert_eq!(r.body["retry_after"], 1);
    // Waiting Retry-After is enough: then it serves again, for a full window's worth.
    tokio::time::sleep(Duration::from_millis(retry_after * 1000 + 50)).await;
    for _ in 0..3 {
        emu.get("/workspace", &Cred::admin()).await.ok(200);
    }
}

#[tokio::test]
async fn rate_limit_retry_after_counts_down_the_window() {
    let emu = common::start().await;
    emu.set_rate_limit(Some(1), 60).await;
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    let r = emu.get("/workspace", &Cred::admin()).await;
    r.err(429, "rate_limited");
    let retry_after: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(r.body["retry_after"], retry_after);
}

/// Limits are per credential: another key, a token, the gateway each have their own window.
#[tokio::test]
async fn rate_limit_is_per_credential() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let (_, gateway_token) = emu.ready_workspace(None).await;
    let token = Cred::bearer(emu.ns_token("t").await);
    let other_key = emu.create_key("namespace", Some("t")).await;
    emu.set_rate_limit(Some(2), 60).await;
    for _ in 0..2 {
        emu.get("/workspace", &Cred::admin()).await.ok(200);
    }
    emu.get("/workspace", &Cred::admin())
        .await
        .err(429, "rate_limited");
    for cred in [&token, &other_key] {
        emu.get("/workspace", cred).await.ok(200);
        emu.get("/workspace", cred).await.ok(200);
        emu.get("/workspace", cred).await.err(429, "rate_limited");
    }
    // The gateway counts per token as well.
    emu.gw_get("/health", &gateway_token).await.ok(200);
    emu.gw_get("/health", &gateway_token).await.ok(200);
    let r = emu.gw_get("/health", &gateway_token).await;
    r.err(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    // Control endpoints are never limited.
    for _ in 0..5 {
        emu.get("/__emulator/faults", &Cred::admin()).await.ok(200);
    }
    // Turning it off lifts it.
    emu.set_rate_limit(None, 60).await;
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    let r = emu.get("/__emulator/rate-limit", &Cred::admin()).await;
    assert_eq!(r.ok(200)["rateLimit"], serde_json::Value::Null);
}

#[tokio::test]
async fn rate_limit_from_config_and_settings_validation() {
    let emu = common::start_with(oblien_emulator::Config {
        rate_limit: Some(oblien_emulator::RateLimit {
            requests: 1,
            window_seconds: 30,
        }),
        ..common::test_config()
    })
    .await;
    let r = emu.get("/__emulator/rate-limit", &Cred::admin()).await;
    assert_eq!(
        r.ok(200)["rateLimit"],
        json!({ "requests": 1, "window_seconds": 30 })
    );
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    emu.get("/workspace", &Cred::admin())
        .await
        .err(429, "rate_limited");
    for (body, field) in [
        (json!({ "requests": 0 }), "requests"),
        (json!({ "requests": -1 }), "requests"),
        (json!({ "requests": "ten" }), "requests"),
        (
            json!({ "requests": 5, "window_seconds": 0 }),
            "window_seconds",
        ),
        (
            json!({ "requests": 5, "window_seconds": 3601 }),
            "window_seconds",
        ),
    ] {
        emu.api(
            Method::PUT,
            "/__emulator/rate-limit",
            &Cred::admin(),
            Some(body),
        )
        .await
        .validation(field);
    }
    // Reset clears the windows (and keeps the setting).
    emu.post_empty("/__emulator/reset", &Cred::admin())
        .await
        .ok(200);
    emu.get("/workspace", &Cred::admin()).await.ok(200);
    emu.get("/workspace", &Cred::admin())
        .await
        .err(429, "rate_limited");
}

// ── Control plane of the emulator ───────────────────────────────────────────────────────────

#[tokio::test]
async fn health_and_reset() {
    let emu = common::start().await;
    let r = emu.get("/__emulator/health", &Cred::None).await;
    let body = r.ok(200);
    assert_eq!(body["api"], true);
    assert_eq!(body["gateway"], true);

    emu.create_namespace("t").await;
    let ws = emu.workspace_in(Some("t")).await;
    let key = emu.create_key("workspace", Some(&ws)).await;
    emu.add_fault(json!({ "kind": "status", "path": "/never", "times": 5 }))
        .await;
    emu.post_empty("/__emulator/reset", &Cred::None)
        .await
        .err(401, "missing_credentials");
    emu.post_empty("/__emulator/reset", &key)
        .await
        .err(403, "scope_denied");
    emu.post_empty("/__emulator/reset", &Cred::admin())
        .await
        .ok(200);

    assert_eq!(
        emu.get("/workspace", &Cred::admin()).await.ok(200)["total"],
        0
    );
    assert_eq!(
        emu.get("/namespaces", &Cred::admin()).await.ok(200)["pagination"]["total"],
        0
    );
    assert!(list_faults(&emu).await.is_empty());
    emu.get(&format!("/workspace/{ws}"), &key)
        .await
        .err(401, "invalid_credentials");
}
