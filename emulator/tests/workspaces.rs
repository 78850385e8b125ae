//! `/workspace` and `/namespaces`: list (pagination, status filter), create (fields, namespace,
//! limits, idempotency, wait_ready), get, delete, start/stop/restart, provisioning phases.

mod common;

use common::{parse_iso_millis, Cred};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test]
async fn created_workspace_has_the_documented_fields() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let r = emu
        .post(
            "/workspace",
            &Cred::admin(),
            json!({
                "name": "My App",
                "image": "node-20",
                "namespace": "t",
                "mode": "temporary",
                "config": { "cpus": 2, "memory_mb": 2048, "disk_size_mb": 8192, "env": { "A": "1" }, "ttl": 60 },
                "wait_ready": false,
                "some_future_field": { "accepted": true },
            }),
        )
        .await;
    let ws = r.ok(201)["workspace"].clone();
    let id = ws["id"].as_str().expect("id");
    assert!(id.starts_with("ws_"), "{id}");
    assert_eq!(ws["name"], "My App");
    assert_eq!(ws["slug"], "my-app");
    assert_eq!(ws["image"], "node-20");
    assert_eq!(ws["namespace"], "t");
    assert_eq!(ws["mode"], "temporary");
    assert_eq!(ws["status"], "creating");
    assert_eq!(ws["ready"], false);
    assert_eq!(ws["provisioning"]["state"], "queued");
    for key in ["phase", "message", "error"] {
        assert!(
            ws["provisioning"].get(key).is_some(),
            "provisioning.{key}: {ws}"
        );
    }
    assert_eq!(
        ws["resources"],
        json!({ "cpus": 2.0, "memory_mb": 2048, "disk_size_mb": 8192 })
    );
    let created = parse_iso_millis(ws["created_at"].as_str().unwrap());
    let updated = parse_iso_millis(ws["updated_at"].as_str().unwrap());
    assert!(updated >= created);
    let now_ms = common::now_secs() * 1000;
    assert!(
        created + 60_000 > now_ms && created < now_ms + 60_000,
        "created_at is now"
    );

    // GET returns the same workspace.
    let r = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
    let got = &r.ok(200)["workspace"];
    assert_eq!(got["id"], id);
    assert_eq!(got["name"], "My App");
}

#[tokio::test]
async fn defaults_and_personal_workspace() {
    let emu = common::start().await;
    let ws = emu
        .create_workspace(&Cred::admin(), json!({ "image": "python:3.12" }))
        .await;
    assert_eq!(ws["namespace"], Value::Null, "no namespace: personal");
    assert_eq!(ws["mode"], "permanent");
    assert!(ws["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(ws["resources"]["cpus"].as_f64().unwrap() > 0.0);
    assert!(ws["resources"]["memory_mb"].as_u64().unwrap() > 0);
}

/// queued → running → ready, driven by the provisioning delay.
#[tokio::test]
async fn provisioning_goes_queued_running_ready() {
    let emu = common::start_with(oblien_emulator::Config {
        provision_delay_ms: 600,
        ..common::test_config()
    })
    .await;
    let ws = emu
        .create_workspace(&Cred::admin(), json!({ "image": "node-20" }))
        .await;
    let id = ws["id"].as_str().unwrap().to_string();
    let mut seen: Vec<(String, String, bool)> = Vec::new();
    let started = Instant::now();
    loop {
        let r = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
        let w = r.ok(200)["workspace"].clone();
        let entry = (
            w["provisioning"]["state"].as_str().unwrap().to_string(),
            w["status"].as_str().unwrap().to_string(),
            w["ready"].as_bool().unwrap(),
        );
        if seen.last() != Some(&entry) {
            seen.push(entry.clone());
        }
        if entry.2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never ready: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "ready too soon: {seen:?}"
    );
    let states: Vec<&str> = seen.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(states, ["queued", "running", "ready"], "{seen:?}");
    assert_eq!(seen[0].1, "creating");
    assert!(!seen[0].2 && !seen[1].2);
    assert_eq!(seen[2].1, "running");
}

#[tokio::test]
async fn wait_ready_holds_the_response_until_ready() {
    let emu = common::start_with(oblien_emulator::Config {
        provision_delay_ms: 300,
        ..common::test_config()
    })
    .await;
    let started = Instant::now();
    let ws = emu
        .create_workspace(
            &Cred::admin(),
            json!({ "image": "node-20", "wait_ready": true, "ready_timeout_seconds": 30 }),
        )
        .await;
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "returned before provisioning"
    );
    assert_eq!(ws["ready"], true);
    assert_eq!(ws["status"], "running");
    assert_eq!(ws["provisioning"]["state"], "ready");
}

#[tokio::test]
async fn list_is_newest_first_and_paginated() {
    let emu = common::start().await;
    let mut created = Vec::new();
    for i in 0..5 {
        let ws = emu
            .create_workspace(
                &Cred::admin(),
                json!({ "image": "node-20", "name": format!("ws-{i}") }),
            )
            .await;
        created.push(ws["id"].as_str().unwrap().to_string());
    }
    created.reverse(); // newest first
    let r = emu.get("/workspace", &Cred::admin()).await;
    let body = r.ok(200);
    assert_eq!(body["total"], 5);
    assert_eq!(body["page"], 1);
    assert_eq!(body["limit"], 20);
    let all: Vec<String> = body["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(all, created);

    let mut paged = Vec::new();
    for page in 1..=3 {
        let r = emu
            .get(&format!("/workspace?page={page}&limit=2"), &Cred::admin())
            .await;
        let body = r.ok(200);
        assert_eq!(body["total"], 5);
        assert_eq!(body["page"], page);
        assert_eq!(body["limit"], 2);
        let items = body["workspaces"].as_array().unwrap();
        assert_eq!(items.len(), if page == 3 { 1 } else { 2 });
        paged.extend(items.iter().map(|w| w["id"].as_str().unwrap().to_string()));
    }
    assert_eq!(paged, created);
    let r = emu.get("/workspace?page=4&limit=2", &Cred::admin()).await;
    let body = r.ok(200);
    assert_eq!(body["workspaces"], json!([]));
    assert_eq!(body["total"], 5);
}

#[tokio::test]
async fn list_filters_by_status() {
    let emu = common::start().await;
    let ready = emu.workspace_in(None).await;
    emu.wait_ready(&ready).await;
    let stopped = emu.workspace_in(None).await;
    emu.wait_ready(&stopped).await;
    emu.post_empty(&format!("/workspace/{stopped}/stop"), &Cred::admin())
        .await
        .ok(200);
    let r = emu.get("/workspace?status=running", &Cred::admin()).await;
    let body = r.ok(200);
    assert_eq!(body["total"], 1);
    assert_eq!(body["workspaces"][0]["id"], ready.as_str());
    let r = emu.get("/workspace?status=stopped", &Cred::admin()).await;
    let body = r.ok(200);
    assert_eq!(body["total"], 1);
    assert_eq!(body["workspaces"][0]["id"], stopped.as_str());
    let r = emu.get("/workspace?status=deleted", &Cred::admin()).await;
    assert_eq!(r.ok(200)["total"], 0);
    let r = emu.get("/workspace?status=", &Cred::admin()).await;
    assert_eq!(r.ok(200)["total"], 2, "an empty status filters nothing");
}

#[tokio::test]
async fn start_stop_restart() {
    let emu = common::start().await;
    let id = emu.workspace_in(None).await;
    emu.wait_ready(&id).await;

    let r = emu
        .post_empty(&format!("/workspace/{id}/stop"), &Cred::admin())
        .await;
    let ws = &r.ok(200)["workspace"];
    assert_eq!(ws["status"], "stopped");
    assert_eq!(ws["ready"], false);
    let r = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
    assert_eq!(r.ok(200)["workspace"]["status"], "stopped");

    let r = emu
        .post_empty(&format!("/workspace/{id}/start"), &Cred::admin())
        .await;
    let ws = &r.ok(200)["workspace"];
    assert_eq!(ws["ready"], false, "starting takes the provisioning delay");
    let ws = emu.wait_ready(&id).await;
    assert_eq!(ws["status"], "running");

    // start on a running workspace changes nothing.
    let r = emu
        .post_empty(&format!("/workspace/{id}/start"), &Cred::admin())
        .await;
    assert_eq!(r.ok(200)["workspace"]["ready"], true);

    let r = emu
        .post_empty(&format!("/workspace/{id}/restart"), &Cred::admin())
        .await;
    assert_eq!(r.ok(200)["workspace"]["ready"], false);
    emu.wait_ready(&id).await;
}

#[tokio::test]
async fn get_and_delete() {
    let emu = common::start().await;
    let id = emu.workspace_in(None).await;
    emu.get(&format!("/workspace/{id}"), &Cred::admin())
        .await
        .ok(200);
    let r = emu
        .delete(&format!("/workspace/{id}"), &Cred::admin())
        .await;
    let body = r.ok(200);
    assert_eq!(body["deleted"], true);
    assert_eq!(body["id"], id.as_str());
    for (method, path) in [
        (reqwest::Method::GET, format!("/workspace/{id}")),
        (reqwest::Method::DELETE, format!("/workspace/{id}")),
        (reqwest::Method::POST, format!("/workspace/{id}/start")),
        (reqwest::Method::POST, format!("/workspace/{id}/stop")),
        (
            reqwest::Method::GET,
            format!("/workspace/{id}/internal-api-access"),
        ),
        (reqwest::Method::GET, "/workspace/ws_nope".to_string()),
    ] {
        emu.api(method, &path, &Cred::admin(), None)
            .await
            .err(404, "not_found");
    }
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.ok(200)["total"], 0);
}

#[tokio::test]
async fn unknown_namespace_in_body_is_a_validation_error_for_admin() {
    let emu = common::start().await;
    let r = emu
        .post(
            "/workspace",
            &Cred::admin(),
            json!({ "image": "node-20", "namespace": "nope" }),
        )
        .await;
    r.validation("namespace");
}

/// `resource_limits.max_workspaces` caps the namespace, for admin and scoped creators alike.
#[tokio::test]
async fn namespace_workspace_limit() {
    let emu = common::start().await;
    emu.create_namespace_with(
        json!({ "name": "small", "resource_limits": { "max_workspaces": 2 } }),
    )
    .await;
    let token = Cred::bearer(emu.ns_token("small").await);
    emu.create_workspace(&token, json!({ "image": "node-20" }))
        .await;
    emu.create_workspace(
        &Cred::admin(),
        json!({ "image": "node-20", "namespace": "small" }),
    )
    .await;
    for cred in [token.clone(), Cred::admin()] {
        let r = emu
            .post(
                "/workspace",
                &cred,
                json!({ "image": "node-20", "namespace": "small" }),
            )
            .await;
        let body = r.err(403, "NAMESPACE_LIMIT_REACHED");
        assert_eq!(body["current"], 2);
        assert_eq!(body["max"], 2);
    }
    // Deleting one frees a slot.
    let r = emu.get("/workspace", &token).await;
    let first = r.ok(200)["workspaces"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    emu.delete(&format!("/workspace/{first}"), &token)
        .await
        .ok(200);
    emu.create_workspace(&token, json!({ "image": "node-20" }))
        .await;
    // Other namespaces are not affected.
    emu.create_workspace(&Cred::admin(), json!({ "image": "node-20" }))
        .await;
}

#[tokio::test]
async fn namespace_cpu_and_ram_limits() {
    let emu = common::start().await;
    emu.create_namespace_with(json!({
        "name": "capped",
        "resource_limits": { "max_vcpus": 3, "max_ram_mb": 4096 },
    }))
    .await;
    let body = |cpus: u32, mem: u32| json!({ "image": "node-20", "namespace": "capped", "config": { "cpus": cpus, "memory_mb": mem } });
    emu.create_workspace(&Cred::admin(), body(2, 1024)).await;
    let r = emu.post("/workspace", &Cred::admin(), body(2, 1024)).await;
    assert_eq!(r.err(403, "NAMESPACE_LIMIT_REACHED")["max"], 3);
    emu.create_workspace(&Cred::admin(), body(1, 1024)).await;
    // CPUs now at the limit: any more is refused.
    let r = emu.post("/workspace", &Cred::admin(), body(1, 512)).await;
    r.err(403, "NAMESPACE_LIMIT_REACHED");
}

#[tokio::test]
async fn idempotency_key_returns_the_same_workspace() {
    let emu = common::start().await;
    let body = json!({ "image": "node-20", "idempotency_key": "create-42" });
    let first = emu.create_workspace(&Cred::admin(), body.clone()).await;
    let r = emu.post("/workspace", &Cred::admin(), body).await;
    let again = &r.ok(200)["workspace"];
    assert_eq!(first["id"], again["id"]);
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.ok(200)["total"], 1);
    let other = emu
        .create_workspace(
            &Cred::admin(),
            json!({ "image": "node-20", "idempotency_key": "create-43" }),
        )
        .await;
    assert_ne!(first["id"], other["id"]);
}

#[tokio::test]
async fn workspace_field_validation() {
    let emu = common::start().await;
    let cases = [
        (json!({ "image": "" }), "image"),
        (json!({ "image": "   " }), "image"),
        (json!({ "image": "x".repeat(201) }), "image"),
        (json!({ "image": "node", "mode": "forever" }), "mode"),
        (json!({ "image": "node", "name": "n".repeat(101) }), "name"),
        (
            json!({ "image": "node", "config": { "cpus": 0 } }),
            "config.cpus",
        ),
        (
            json!({ "image": "node", "config": { "cpus": 1000 } }),
            "config.cpus",
        ),
        (
            json!({ "image": "node", "config": { "memory_mb": 1 } }),
            "config.memory_mb",
        ),
        (
            json!({ "image": "node", "config": { "disk_size_mb": 1 } }),
            "config.disk_size_mb",
        ),
    ];
    for (body, field) in cases {
        emu.post("/workspace", &Cred::admin(), body)
            .await
            .validation(field);
    }
    let r = emu.get("/workspace", &Cred::admin()).await;
    assert_eq!(r.ok(200)["total"], 0, "nothing was created");
}

// ── Namespaces ──────────────────────────────────────────────────────────────────────────────

#[tokio::test]
async fn namespaces_create_list_get_delete() {
    let emu = common::start().await;
    let r = emu
        .post(
            "/namespaces",
            &Cred::admin(),
            json!({
                "name": "Customer 42",
                "type": "production",
                "description": "first customer",
                "resource_limits": { "max_workspaces": 3, "max_vcpus": 8, "max_ram_mb": 8192 },
            }),
        )
        .await;
    let ns = r.ok(201)["data"].clone();
    assert!(ns["id"].as_str().unwrap().starts_with("ns_"));
    assert_eq!(ns["name"], "Customer 42");
    assert_eq!(ns["slug"], "customer-42");
    assert_eq!(ns["type"], "production");
    assert_eq!(ns["description"], "first customer");
    assert_eq!(ns["status"], "active");
    assert_eq!(ns["resource_limits"]["max_workspaces"], 3);
    parse_iso_millis(ns["created_at"].as_str().unwrap());
    parse_iso_millis(ns["updated_at"].as_str().unwrap());

    // By slug and by id.
    for key in [ns["slug"].as_str().unwrap(), ns["id"].as_str().unwrap()] {
        let r = emu.get(&format!("/namespaces/{key}"), &Cred::admin()).await;
        assert_eq!(r.ok(200)["data"]["id"], ns["id"]);
    }
    // Same slug again: conflict.
    emu.post(
        "/namespaces",
        &Cred::admin(),
        json!({ "name": "customer-42" }),
    )
    .await
    .err(409, "conflict");
    emu.create_namespace("other").await;
    let r = emu
        .get("/namespaces?limit=1&offset=1", &Cred::admin())
        .await;
    let body = r.ok(200);
    assert_eq!(
        body["pagination"],
        json!({ "total": 2, "limit": 1, "offset": 1 })
    );
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["slug"], "other");

    // Deleting a namespace deletes its workspaces.
    let ws = emu.workspace_in(Some("customer-42")).await;
    let r = emu.delete("/namespaces/customer-42", &Cred::admin()).await;
    assert_eq!(r.ok(200)["deleted"], true);
    emu.get("/namespaces/customer-42", &Cred::admin())
        .await
        .err(404, "not_found");
    emu.get(&format!("/workspace/{ws}"), &Cred::admin())
        .await
        .err(404, "not_found");
    emu.delete("/namespaces/customer-42", &Cred::admin())
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn namespace_field_validation() {
    let emu = common::start().await;
    let cases = [
        (json!({}), "name"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "!!!" }), "name"),
        (json!({ "name": "n".repeat(101) }), "name"),
        (json!({ "name": 5 }), "name"),
        (json!({ "name": "ok", "slug": "Not A Slug" }), "slug"),
        (
            json!({ "name": "ok", "resource_limits": { "max_workspaces": -1 } }),
            "resource_limits.max_workspaces",
        ),
        (
            json!({ "name": "ok", "resource_limits": "many" }),
            "resource_limits",
        ),
    ];
    for (body, field) in cases {
        emu.post("/namespaces", &Cred::admin(), body)
            .await
            .validation(field);
    }
    let r = emu.get("/namespaces", &Cred::admin()).await;
    assert_eq!(r.ok(200)["pagination"]["total"], 0);
}

/// Issue 14: stop/start/restart move the status, and while a workspace is not running its gateway
/// answers 503 `workspace_not_running` (with `Retry-After`) on every endpoint until it runs again.
/// Files survive a stop (the disk stays).
#[tokio::test]
async fn stopped_workspace_gateway_is_503_until_started() {
    let emu = common::start_with(oblien_emulator::Config {
        provision_delay_ms: 1000,
        ..common::test_config()
    })
    .await;
    let (id, token) = emu.ready_workspace(None).await;
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/kept.txt", "content": "kept" }),
    )
    .await
    .ok(200);
    let gateway_calls = || {
        let t = token.clone();
        let emu = &emu;
        async move {
            vec![
                emu.gw_get("/health", &t).await,
                emu.gw_get("/files?path=/app", &t).await,
                emu.gw_get_path("/files/read", "/app/kept.txt", &t).await,
                emu.gw_post(
                    "/files/write",
                    &t,
                    json!({ "path": "/app/new.txt", "content": "x" }),
                )
                .await,
                emu.gw_post("/exec", &t, json!({ "cmd": ["pwd"] })).await,
                emu.gw_get("/terminals", &t).await,
                emu.gw_post("/terminals", &t, json!({})).await,
                emu.gw_get("/watchers", &t).await,
                emu.gw_get("/nowhere", &t).await,
            ]
        }
    };
    let assert_all_503 = |responses: Vec<common::Resp>, phrase: &str| {
        for r in responses {
            let body = r.err(503, "workspace_not_running");
            assert!(
                body["message"].as_str().unwrap().contains(phrase),
                "{}: {}",
                r.what,
                r.text
            );
            assert_eq!(r.header("retry-after"), Some("1"), "{}", r.what);
        }
    };

    let r = emu
        .post_empty(&format!("/workspace/{id}/stop"), &Cred::admin())
        .await;
    assert_eq!(r.ok(200)["workspace"]["status"], "stopped");
    assert_all_503(gateway_calls().await, "stopped");
    // Stopping twice changes nothing; the access status says not running.
    emu.post_empty(&format!("/workspace/{id}/stop"), &Cred::admin())
        .await
        .ok(200);
    let s = emu
        .get(
            &format!("/workspace/{id}/internal-api-access"),
            &Cred::admin(),
        )
        .await;
    assert_eq!(s.ok(200)["running"], false);
    let r = emu
        .get(&format!("/workspace/{id}/stats"), &Cred::admin())
        .await;
    assert_eq!(r.ok(200)["stats"]["running"], false);

    // Start: booting (still 503, "not running yet"), then running.
    let r = emu
        .post_empty(&format!("/workspace/{id}/start"), &Cred::admin())
        .await;
    let ws = &r.ok(200)["workspace"];
    assert_eq!(
        (ws["status"].as_str(), ws["ready"].as_bool()),
        (Some("creating"), Some(false))
    );
    assert_all_503(gateway_calls().await, "not running yet");
    let ws = emu.wait_ready(&id).await;
    assert_eq!(ws["status"], "running");
    emu.gw_get("/health", &token).await.ok(200);
    let r = emu
        .gw_get_path("/files/read", "/app/kept.txt", &token)
        .await;
    assert_eq!(r.ok(200)["content"], "kept", "the disk survives a stop");
    emu.gw_get_path("/files/read", "/app/new.txt", &token)
        .await
        .err(404, "not_found");

    // Restart: 503 again until it is back.
    let r = emu
        .post_empty(&format!("/workspace/{id}/restart"), &Cred::admin())
        .await;
    assert_eq!(r.ok(200)["workspace"]["ready"], false);
    assert_all_503(gateway_calls().await, "not running yet");
    emu.wait_ready(&id).await;
    emu.gw_get("/health", &token).await.ok(200);
}
