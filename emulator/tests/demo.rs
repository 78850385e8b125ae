//! `POST /demo/session` (only with `demo: true`): the demo page's "your backend", minting a
//! short-lived namespace token for a tenant without exposing the admin secret.

mod common;

use common::{claims, Cred};
use serde_json::json;

async fn demo() -> common::Emu {
    common::start_with(oblien_emulator::Config {
        demo: true,
        ..common::test_config()
    })
    .await
}

#[tokio::test]
async fn session_mints_a_working_namespace_token() {
    let emu = demo().await;
    let r = emu
        .post(
            "/demo/session",
            &Cred::None,
            json!({ "tenant": "acme-co", "ttl": 120 }),
        )
        .await;
    let body = r.ok(200).clone();
    assert_eq!(body["scope"], "namespace");
    assert_eq!(body["namespace"], "acme-co");
    assert_eq!(body["ttl"], 120);
    let token = body["token"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["namespace"], "acme-co");
    assert_eq!(c["scope"], "namespace");
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 120);
    assert_eq!(
        common::parse_iso_millis(body["expiresAt"].as_str().unwrap()),
        c["exp"].as_u64().unwrap() * 1000
    );
    // The namespace now exists and the token drives it.
    emu.get("/namespaces/acme-co", &Cred::admin()).await.ok(200);
    let cred = Cred::bearer(token);
    let ws = emu
        .create_workspace(&cred, json!({ "image": "node-20" }))
        .await;
    assert_eq!(ws["namespace"], "acme-co");
    assert_eq!(emu.get("/workspace", &cred).await.ok(200)["total"], 1);
    // It is a namespace token like any other: no minting.
    emu.post(
        "/tokens",
        &cred,
        json!({ "scope": "namespace", "namespace": "acme-co" }),
    )
    .await
    .err(403, "scope_denied");
    // A second session for the same tenant reuses the namespace.
    let again = emu
        .post("/demo/session", &Cred::None, json!({ "tenant": "acme-co" }))
        .await;
    again.ok(200);
    let r = emu.get("/namespaces", &Cred::admin()).await;
    assert_eq!(r.ok(200)["pagination"]["total"], 1);
}

#[tokio::test]
async fn session_defaults() {
    let emu = demo().await;
    for r in [
        emu.post_empty("/demo/session", &Cred::None).await,
        emu.post("/demo/session", &Cred::None, json!({})).await,
    ] {
        let body = r.ok(200);
        assert_eq!(body["ttl"], 60);
        assert_eq!(body["namespace"], "acme");
    }
}

#[tokio::test]
async fn session_validation() {
    let emu = demo().await;
    for (body, field) in [
        (json!({ "tenant": "Not A Slug" }), "tenant"),
        (json!({ "tenant": "x".repeat(41) }), "tenant"),
        (json!({ "tenant": 5 }), "tenant"),
        (json!({ "ttl": 9 }), "ttl"),
        (json!({ "ttl": 3601 }), "ttl"),
        (json!({ "ttl": "60" }), "ttl"),
    ] {
        emu.post("/demo/session", &Cred::None, body)
            .await
            .validation(field);
    }
    emu.post_raw("/demo/session", &Cred::None, "{")
        .await
        .validation("body");
    let r = emu.get("/namespaces", &Cred::admin()).await;
    assert_eq!(r.ok(200)["pagination"]["total"], 0);
}

#[tokio::test]
async fn session_is_absent_without_demo() {
    let emu = common::start().await;
    emu.post("/demo/session", &Cred::None, json!({}))
        .await
        .err(401, "missing_credentials");
    emu.post("/demo/session", &Cred::admin(), json!({}))
        .await
        .err(404, "not_found");
}

/// An empty tenant must not create a namespace with an empty slug.
#[tokio::test]
async fn session_refuses_an_empty_tenant() {
    let emu = demo().await;
    emu.post("/demo/session", &Cred::None, json!({ "tenant": "" }))
        .await
        .validation("tenant");
    let r = emu.get("/namespaces", &Cred::admin()).await;
    assert_eq!(r.ok(200)["pagination"]["total"], 0);
}
