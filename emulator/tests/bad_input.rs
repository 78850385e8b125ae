//! A table of bad inputs for every endpoint that reads a body or a query: malformed JSON, wrong
//! types, missing fields, unknown values, oversized bodies. Always 400 `validation_error` naming
//! the field (413 for size), in the error shape; never a 500, and the server keeps serving.

mod common;

use common::{Cred, Emu};
use reqwest::Method;
use serde_json::json;

/// Bodies that are not a JSON object at all: the field is `body`.
fn not_an_object() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "",
        " ",
        "\n\t",
        "{",
        "}",
        "{\"scope\":",
        "not json",
        "[]",
        "null",
        "123",
        "\"str\"",
        "true",
        "{'single':'quotes'}",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "NaN",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(vec![0xff, 0xfe, 0x00, 0x7b]);
    bodies
}

struct Target {
    listener: &'static str,
    method: Method,
    path: String,
}

/// Every endpoint that parses a JSON body.
async fn body_endpoints(emu: &Emu) -> (Vec<Target>, String) {
    let (_, token) = emu.ready_workspace(None).await;
    let t = |listener, method, path: &str| Target {
        listener,
        method,
        path: path.to_string(),
    };
    let targets = vec![
        t("api", Method::POST, "/tokens"),
        t("api", Method::POST, "/namespaces"),
        t("api", Method::POST, "/workspace"),
        t("api", Method::POST, "/__emulator/keys"),
        t("api", Method::POST, "/__emulator/faults"),
        t("api", Method::PUT, "/__emulator/rate-limit"),
        t("gateway", Method::POST, "/files/write"),
        t("gateway", Method::POST, "/files/mkdir"),
        t("gateway", Method::POST, "/files/delete"),
        t("gateway", Method::POST, "/exec"),
    ];
    (targets, token)
}

async fn send_raw(emu: &Emu, target: &Target, token: &str, body: Vec<u8>) -> common::Resp {
    let rb = if target.listener == "api" {
        emu.api_req(target.method.clone(), &target.path, &Cred::admin())
    } else {
        emu.gw_req(target.method.clone(), &target.path, &Cred::bearer(token))
    };
    emu.send(rb.header("Content-Type", "application/json").body(body))
        .await
}

#[tokio::test]
async fn bodies_that_are_not_objects() {
    let emu = common::start().await;
    let (targets, token) = body_endpoints(&emu).await;
    for target in &targets {
        for body in not_an_object() {
            let shown = String::from_utf8_lossy(&body[..body.len().min(40)]).to_string();
            let r = send_raw(&emu, target, &token, body).await;
            assert_eq!(
                r.status.as_u16(),
                400,
                "{} {} with {shown:?}: {}",
                target.method,
                target.path,
                r.text
            );
            assert_eq!(
                r.body["field"], "body",
                "{} {} with {shown:?}",
                target.method, target.path
            );
            r.validation("body");
        }
    }
    emu.get("/__emulator/health", &Cred::None).await.ok(200);
}

/// A JSON array with elements is not an object either: serde accepts a struct as a sequence, so
/// the emulator currently names the element (`[0]`) instead of `body`.
#[tokio::test]
async fn array_bodies_name_the_body() {
    let emu = common::start().await;
    let (targets, token) = body_endpoints(&emu).await;
    let arrays = [
        "[{}]".to_string(),
        "[\"namespace\", \"t\"]".to_string(),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
    ];
    for target in &targets {
        for body in &arrays {
            let r = send_raw(&emu, target, &token, body.clone().into_bytes()).await;
            assert_eq!(
                r.status.as_u16(),
                400,
                "{} {}: {}",
                target.method,
                target.path,
                r.text
            );
            r.validation("body");
        }
    }
}

/// Deeply nested JSON (20 000 levels, in an ignored field or as the value of a real one) never
/// crashes the server or answers 5xx.
#[tokio::test]
async fn deep_nesting_never_crashes() {
    let emu = common::start().await;
    let (targets, token) = body_endpoints(&emu).await;
    let arrays = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(20_000), "}".repeat(20_000));
    let bodies = [
        format!("{{\"x\":{arrays}}}"),
        format!("{{\"x\":{objects}}}"),
        format!("{{\"scope\":{arrays},\"image\":{arrays},\"path\":{arrays},\"cmd\":{arrays},\"name\":{arrays},\"kind\":{arrays},\"requests\":{arrays}}}"),
        objects.clone(),
    ];
    for target in &targets {
        for body in &bodies {
            let r = send_raw(&emu, target, &token, body.clone().into_bytes()).await;
            assert!(
                r.status.as_u16() < 500,
                "{} {}: {}",
                target.method,
                target.path,
                r.text
            );
            if !r.status.is_success() {
                assert!(r.is_error_shape(), "{}", r.text);
            }
        }
        emu.get("/__emulator/health", &Cred::None).await.ok(200);
    }
    // Where the nesting is the value of a real field, it is that field's validation error.
    for (path, field) in [
        ("/tokens", "scope"),
        ("/workspace", "image"),
        ("/namespaces", "name"),
    ] {
        let body = format!("{{\"{field}\":{arrays}}}");
        emu.post_raw(path, &Cred::admin(), body)
            .await
            .validation(field);
    }
}

/// Wrong types and missing required fields, per endpoint: (endpoint, body, field).
#[tokio::test]
async fn wrong_types_and_missing_fields() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let (targets, token) = body_endpoints(&emu).await;
    let find = |path: &str| targets.iter().find(|t| t.path == path).unwrap();
    let cases = [
        // POST /tokens
        ("/tokens", json!({}), "scope"),
        ("/tokens", json!({ "scope": 1 }), "scope"),
        ("/tokens", json!({ "scope": "root" }), "scope"),
        ("/tokens", json!({ "scope": "namespace" }), "namespace"),
        (
            "/tokens",
            json!({ "scope": "namespace", "namespace": ["t"] }),
            "namespace",
        ),
        ("/tokens", json!({ "scope": "workspace" }), "workspaceId"),
        (
            "/tokens",
            json!({ "scope": "workspace", "workspaceId": 12 }),
            "workspaceId",
        ),
        (
            "/tokens",
            json!({ "scope": "namespace", "namespace": "t", "ttl": "60" }),
            "ttl",
        ),
        (
            "/tokens",
            json!({ "scope": "namespace", "namespace": "t", "ttl": {} }),
            "ttl",
        ),
        (
            "/tokens",
            json!({ "scope": "namespace", "namespace": "t", "label": [] }),
            "label",
        ),
        // POST /namespaces
        ("/namespaces", json!({}), "name"),
        ("/namespaces", json!({ "name": null }), "name"),
        ("/namespaces", json!({ "name": {} }), "name"),
        ("/namespaces", json!({ "name": "x", "type": 1 }), "type"),
        (
            "/namespaces",
            json!({ "name": "x", "description": false }),
            "description",
        ),
        (
            "/namespaces",
            json!({ "name": "x", "resource_limits": { "max_vcpus": "8" } }),
            "resource_limits.max_vcpus",
        ),
        (
            "/namespaces",
            json!({ "name": "x", "resource_limits": { "max_ram_mb": 1.5 } }),
            "resource_limits.max_ram_mb",
        ),
        // POST /workspace
        ("/workspace", json!({}), "image"),
        ("/workspace", json!({ "image": null }), "image"),
        ("/workspace", json!({ "image": 20 }), "image"),
        ("/workspace", json!({ "image": "n", "name": 1 }), "name"),
        (
            "/workspace",
            json!({ "image": "n", "namespace": true }),
            "namespace",
        ),
        ("/workspace", json!({ "image": "n", "mode": 1 }), "mode"),
        (
            "/workspace",
            json!({ "image": "n", "wait_ready": "yes" }),
            "wait_ready",
        ),
        (
            "/workspace",
            json!({ "image": "n", "ready_timeout_seconds": -1 }),
            "ready_timeout_seconds",
        ),
        (
            "/workspace",
            json!({ "image": "n", "config": [] }),
            "config",
        ),
        (
            "/workspace",
            json!({ "image": "n", "config": { "cpus": "two" } }),
            "config.cpus",
        ),
        (
            "/workspace",
            json!({ "image": "n", "config": { "memory_mb": -1 } }),
            "config.memory_mb",
        ),
        (
            "/workspace",
            json!({ "image": "n", "config": { "disk_size_mb": 1.5 } }),
            "config.disk_size_mb",
        ),
        (
            "/workspace",
            json!({ "image": "n", "config": { "env": { "A": 1 } } }),
            "config.env.A",
        ),
        (
            "/workspace",
            json!({ "image": "n", "config": { "env": ["A=1"] } }),
            "config.env",
        ),
        (
            "/workspace",
            json!({ "image": "n", "idempotency_key": 5 }),
            "idempotency_key",
        ),
        // control endpoints
        ("/__emulator/keys", json!({}), "scope"),
        (
            "/__emulator/keys",
            json!({ "scope": "namespace", "namespace": 1 }),
            "namespace",
        ),
        ("/__emulator/faults", json!({ "kind": "drop" }), "path"),
        (
            "/__emulator/faults",
            json!({ "kind": "drop", "path": "/x", "times": -1 }),
            "times",
        ),
        (
            "/__emulator/faults",
            json!({ "kind": "drop", "path": "/x", "body_bytes": "big" }),
            "body_bytes",
        ),
        (
            "/__emulator/rate-limit",
            json!({ "requests": true }),
            "requests",
        ),
        (
            "/__emulator/rate-limit",
            json!({ "requests": 5, "window_seconds": "60" }),
            "window_seconds",
        ),
        // gateway
        ("/files/write", json!({}), "path"),
        ("/files/write", json!({ "path": "/app/x" }), "content"),
        ("/files/write", json!({ "path": 1, "content": "x" }), "path"),
        (
            "/files/write",
            json!({ "path": "/app/x", "content": 1 }),
            "content",
        ),
        (
            "/files/write",
            json!({ "path": "/app/x", "content": "x", "append": "yes" }),
            "append",
        ),
        (
            "/files/write",
            json!({ "path": "/app/x", "content": "x", "create_dirs": 1 }),
            "create_dirs",
        ),
        ("/files/mkdir", json!({}), "path"),
        ("/files/mkdir", json!({ "path": ["/a"] }), "path"),
        ("/files/mkdir", json!({ "path": "relative" }), "path"),
        ("/files/delete", json!({}), "path"),
        ("/files/delete", json!({ "path": null }), "path"),
        ("/exec", json!({}), "cmd"),
        ("/exec", json!({ "cmd": [] }), "cmd"),
        ("/exec", json!({ "cmd": "ls" }), "cmd"),
        ("/exec", json!({ "cmd": [["ls"]] }), "cmd[0]"),
        (
            "/exec",
            json!({ "cmd": ["ls"], "timeout_seconds": -5 }),
            "timeout_seconds",
        ),
    ];
    for (path, body, field) in cases {
        let r = send_raw(&emu, find(path), &token, body.to_string().into_bytes()).await;
        assert_eq!(r.status.as_u16(), 400, "{path} with {body}: {}", r.text);
        r.validation(field);
        assert!(
            r.body["message"].as_str().unwrap().contains(
                field
                    .split('.')
                    .next_back()
                    .unwrap()
                    .split('[')
                    .next()
                    .unwrap()
            ),
            "{path} with {body}: the message names the field: {}",
            r.text
        );
    }
    // Nothing was created by any of it.
    assert_eq!(
        emu.get("/workspace", &Cred::admin()).await.ok(200)["total"],
        1
    );
    assert_eq!(
        emu.get("/namespaces", &Cred::admin()).await.ok(200)["pagination"]["total"],
        1
    );
}

/// Trailing data after a valid object, and invalid UTF-8 inside a string, are malformed JSON.
#[tokio::test]
async fn trailing_data_and_invalid_utf8() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    for body in [
        &b"{\"scope\":\"namespace\",\"namespace\":\"t\"} trailing"[..],
        &b"{\"scope\":\"namespace\",\"namespace\":\"t\"}{}"[..],
        &b"{\"scope\":\"namespace\",\"namespace\":\"t\"},"[..],
        &b"{\"scope\":\"namespace\",\"namespace\":\"t\xff\"}"[..],
    ] {
        let r = emu.post_raw("/tokens", &Cred::admin(), body.to_vec()).await;
        r.validation("body");
    }
    emu.post_raw(
        "/namespaces",
        &Cred::admin(),
        b"{\"name\":\"\xff\xfe\"}".to_vec(),
    )
    .await
    .validation("body");
    // Trailing whitespace is fine.
    emu.post_raw(
        "/tokens",
        &Cred::admin(),
        "{\"scope\":\"namespace\",\"namespace\":\"t\"}\n\n ",
    )
    .await
    .ok(201);
}

/// Unknown extra fields are accepted (the SDK sends fields a server may not use).
#[tokio::test]
async fn unknown_fields_are_accepted() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    emu.post(
        "/tokens",
        &Cred::admin(),
        json!({ "scope": "namespace", "namespace": "t", "extra": [1, 2] }),
    )
    .await
    .ok(201);
    emu.post(
        "/workspace",
        &Cred::admin(),
        json!({ "image": "n", "wait_ready": false, "whatever": { "x": 1 } }),
    )
    .await
    .ok(201);
}

#[tokio::test]
async fn bad_query_parameters() {
    let emu = common::start().await;
    for (path, field) in [
        ("/workspace?page=0", "page"),
        ("/workspace?page=-1", "page"),
        ("/workspace?page=abc", "page"),
        ("/workspace?page=1.5", "page"),
        ("/workspace?page=99999999999", "page"),
        ("/workspace?page=", "page"),
        ("/workspace?limit=0", "limit"),
        ("/workspace?limit=101", "limit"),
        ("/workspace?limit=ten", "limit"),
        ("/workspace?limit=%00", "limit"),
        ("/workspace?page=1&limit=-3", "limit"),
        ("/namespaces?limit=0", "limit"),
        ("/namespaces?limit=1000", "limit"),
        ("/namespaces?offset=-1", "offset"),
        ("/namespaces?offset=x", "offset"),
    ] {
        let r = emu.get(path, &Cred::admin()).await;
        assert_eq!(r.status.as_u16(), 400, "{path}: {}", r.text);
        r.validation(field);
    }
    // Bounds that are fine.
    for path in [
        "/workspace?page=1&limit=1",
        "/workspace?limit=100",
        "/workspace?page=1000000",
        "/namespaces?offset=0&limit=100",
    ] {
        emu.get(path, &Cred::admin()).await.ok(200);
    }
    let (_, token) = emu.ready_workspace(None).await;
    for path in [
        "/files/read",
        "/files/read?path=",
        "/files/stat",
        "/files/read?other=/app",
    ] {
        emu.gw_get(path, &token).await.validation("path");
    }
}

/// A JSON body of exactly 1 MiB is read; one byte more is 413 in the error shape.
#[tokio::test]
async fn oversized_bodies_are_413() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    const LIMIT: usize = 1024 * 1024;
    let padded = |size: usize| {
        let head = r#"{"scope":"namespace","namespace":"t""#;
        let mut body = String::with_capacity(size);
        body.push_str(head);
        body.push_str(&" ".repeat(size - head.len() - 1));
        body.push('}');
        assert_eq!(body.len(), size);
        body
    };
    emu.post_raw("/tokens", &Cred::admin(), padded(LIMIT))
        .await
        .ok(201);
    let r = emu
        .post_raw("/tokens", &Cred::admin(), padded(LIMIT + 1))
        .await;
    r.err(413, "payload_too_large");
    // Far over the limit, on other endpoints too.
    let big = format!("{{\"name\":\"{}\"}}", "n".repeat(3 * LIMIT));
    for path in ["/namespaces", "/workspace", "/tokens", "/__emulator/faults"] {
        let r = emu.post_raw(path, &Cred::admin(), big.clone()).await;
        assert_eq!(r.status.as_u16(), 413, "{path}: {}", r.text);
        r.err(413, "payload_too_large");
    }
    emu.get("/__emulator/health", &Cred::None).await.ok(200);
}

/// The gateway takes larger bodies (file writes) but still has a limit.
#[tokio::test]
async fn gateway_body_limit() {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    let content = "a".repeat(2 * 1024 * 1024);
    let r = emu
        .gw_post(
            "/files/write",
            &token,
            json!({ "path": "/app/big.txt", "content": content }),
        )
        .await;
    assert_eq!(r.ok(200)["size"], 2 * 1024 * 1024);
    // Built by hand: serializing 9 MiB with serde_json is slow in a debug build.
    let huge = format!(
        "{{\"path\":\"/app/huge.txt\",\"content\":\"{}\"}}",
        "a".repeat(9 * 1024 * 1024)
    );
    let r = emu
        .send(
            emu.gw_req(Method::POST, "/files/write", &Cred::bearer(&token))
                .header("Content-Type", "application/json")
                .body(huge),
        )
        .await;
    r.err(413, "payload_too_large");
    emu.gw_get_path("/files/stat", "/app/huge.txt", &token)
        .await
        .err(404, "not_found");
}

/// Bad input and bad credentials together: credentials are checked first (401 / 403).
#[tokio::test]
async fn credentials_are_checked_before_the_body() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let token = Cred::bearer(emu.ns_token("t").await);
    emu.post_raw("/tokens", &Cred::None, "{")
        .await
        .err(401, "missing_credentials");
    emu.post_raw("/tokens", &token, "{")
        .await
        .err(403, "scope_denied");
    emu.post_raw("/namespaces", &token, "{")
        .await
        .err(403, "scope_denied");
    emu.post_raw("/workspace", &Cred::None, "{")
        .await
        .err(401, "missing_credentials");
    let big = "x".repeat(2 * 1024 * 1024);
    emu.post_raw("/tokens", &Cred::None, big)
        .await
        .err(401, "missing_credentials");
}
