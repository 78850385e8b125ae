//! `POST /tokens`: the Scoped Tokens page's parameters, response, error table and TTL bounds.

mod common;

use common::{claims, jwt_parts, now_secs, parse_iso_millis, Cred};
use serde_json::{json, Value};

#[tokio::test]
async fn namespace_token_response_shape_and_claims() {
    let emu = common::start().await;
    emu.create_namespace("tenant-abc").await;
    let before = now_secs();
    let r = emu
        .post(
            "/tokens",
            &Cred::admin(),
            json!({ "scope": "namespace", "namespace": "tenant-abc", "ttl": 900, "label": "user-session-42" }),
        )
        .await;
    let body = r.ok(201);
    assert_eq!(body["success"], true);
    assert_eq!(body["scope"], "namespace");
    assert_eq!(body["ttl"], 900);
    let token = body["token"].as_str().expect("token is a string");
    assert!(token.starts_with("eyJ"), "token is a JWT: {token}");

    let (header, payload) = jwt_parts(token);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(payload["scope"], "namespace");
    assert_eq!(payload["namespace"], "tenant-abc");
    assert!(
        payload.get("workspaceId").is_none(),
        "no workspaceId in a namespace token: {payload}"
    );
    assert_eq!(payload["label"], "user-session-42");
    assert!(
        payload["jti"].as_str().is_some_and(|j| !j.is_empty()),
        "jti: {payload}"
    );
    let iat = payload["iat"].as_u64().expect("iat");
    let exp = payload["exp"].as_u64().expect("exp");
    assert!(iat >= before && iat <= now_secs(), "iat {iat} is now");
    assert_eq!(exp - iat, 900);

    // expiresAt is ISO 8601 (ms, Z) and is the token's exp.
    let expires_at = body["expiresAt"].as_str().expect("expiresAt");
    assert_eq!(
        parse_iso_millis(expires_at),
        exp * 1000,
        "expiresAt {expires_at} vs exp {exp}"
    );
}

#[tokio::test]
async fn workspace_token_claims() {
    let emu = common::start().await;
    let ws = emu.workspace_in(None).await;
    let body = emu
        .mint(json!({ "scope": "workspace", "workspaceId": ws }))
        .await;
    assert_eq!(body["scope"], "workspace");
    assert_eq!(body["ttl"], 900);
    let payload = claims(body["token"].as_str().unwrap());
    assert_eq!(payload["scope"], "workspace");
    assert_eq!(payload["workspaceId"], ws.as_str());
    assert!(payload.get("namespace").is_none(), "{payload}");
    assert!(
        payload.get("label").is_none(),
        "no label given, none in the JWT: {payload}"
    );
    // The token works for its workspace.
    emu.get(
        &format!("/workspace/{ws}"),
        &Cred::bearer(body["token"].as_str().unwrap()),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn each_token_has_its_own_jti() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let a = emu
        .mint(json!({ "scope": "namespace", "namespace": "t" }))
        .await;
    let b = emu
        .mint(json!({ "scope": "namespace", "namespace": "t" }))
        .await;
    assert_ne!(a["token"], b["token"]);
    assert_ne!(
        claims(a["token"].as_str().unwrap())["jti"],
        claims(b["token"].as_str().unwrap())["jti"]
    );
}

#[tokio::test]
async fn namespace_named_by_id_binds_the_slug() {
    let emu = common::start().await;
    let ns = emu.create_namespace("tenant-by-id").await;
    let id = ns["id"].as_str().unwrap();
    let body = emu
        .mint(json!({ "scope": "namespace", "namespace": id }))
        .await;
    assert_eq!(
        claims(body["token"].as_str().unwrap())["namespace"],
        "tenant-by-id"
    );
}

/// ttl: 1–3600, default 900; exp − iat is the ttl.
#[tokio::test]
async fn ttl_bounds() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    for (ttl, expected) in [
        (json!(0), None),
        (json!(1), Some(1)),
        (json!(2), Some(2)),
        (json!(3599), Some(3599)),
        (json!(3600), Some(3600)),
        (json!(3601), None),
        (json!(86400), None),
        (json!(-1), None),
        (json!(1.5), None),
        (json!("900"), None),
        (json!(true), None),
        (json!(1e30), None),
        (Value::Null, Some(900)),
    ] {
        let mut req = json!({ "scope": "namespace", "namespace": "t" });
        req["ttl"] = ttl.clone();
        let r = emu.post("/tokens", &Cred::admin(), req).await;
        match expected {
            Some(seconds) => {
                let body = r.ok(201);
                assert_eq!(body["ttl"], seconds, "ttl {ttl}");
                let c = claims(body["token"].as_str().unwrap());
                assert_eq!(
                    c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
                    seconds,
                    "ttl {ttl}"
                );
            }
            None => {
                r.validation("ttl");
            }
        }
    }
    // Absent entirely: the default.
    let body = emu
        .mint(json!({ "scope": "namespace", "namespace": "t" }))
        .await;
    assert_eq!(body["ttl"], 900);
    let c = claims(body["token"].as_str().unwrap());
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 900);
}

/// Error table row 1: missing or invalid scope/namespace/workspace → 400 validation_error.
#[tokio::test]
async fn error_table_missing_or_invalid_parameters() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let ws = emu.workspace_in(Some("t")).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "scope"),
        (json!({ "namespace": "t" }), "scope"),
        (json!({ "scope": null, "namespace": "t" }), "scope"),
        (json!({ "scope": "admin" }), "scope"),
        (json!({ "scope": "billing" }), "scope"),
        (json!({ "scope": "Namespace", "namespace": "t" }), "scope"),
        (json!({ "scope": "everything", "namespace": "t" }), "scope"),
        (json!({ "scope": 1, "namespace": "t" }), "scope"),
        (json!({ "scope": ["namespace"], "namespace": "t" }), "scope"),
        (json!({ "scope": "namespace" }), "namespace"),
        (
            json!({ "scope": "namespace", "namespace": "" }),
            "namespace",
        ),
        (
            json!({ "scope": "namespace", "namespace": null }),
            "namespace",
        ),
        (json!({ "scope": "namespace", "namespace": 7 }), "namespace"),
        (
            json!({ "scope": "namespace", "workspaceId": ws }),
            "namespace",
        ),
        (json!({ "scope": "workspace" }), "workspaceId"),
        (
            json!({ "scope": "workspace", "workspaceId": "" }),
            "workspaceId",
        ),
        (
            json!({ "scope": "workspace", "namespace": "t" }),
            "workspaceId",
        ),
        (
            json!({ "scope": "workspace", "workspace_id": ws }),
            "workspaceId",
        ),
        (
            json!({ "scope": "workspace", "workspaceId": { "id": ws } }),
            "workspaceId",
        ),
        (
            json!({ "scope": "namespace", "namespace": "t", "label": 5 }),
            "label",
        ),
        (
            json!({ "scope": "namespace", "namespace": "t", "label": "x".repeat(201) }),
            "label",
        ),
    ];
    for (body, field) in cases {
        let r = emu.post("/tokens", &Cred::admin(), body.clone()).await;
        assert!(r.status.as_u16() == 400, "{body}: {}", r.text);
        r.validation(field);
    }
}

/// Error table row 2: the namespace or workspace does not exist → 400 validation_error.
#[tokio::test]
async fn error_table_unknown_namespace_or_workspace() {
    let emu = common::start().await;
    emu.create_namespace("exists").await;
    emu.post(
        "/tokens",
        &Cred::admin(),
        json!({ "scope": "namespace", "namespace": "nope" }),
    )
    .await
    .validation("namespace");
    emu.post(
        "/tokens",
        &Cred::admin(),
        json!({ "scope": "workspace", "workspaceId": "ws_000000000000" }),
    )
    .await
    .validation("workspaceId");
    // A deleted workspace no longer exists either.
    let ws = emu.workspace_in(Some("exists")).await;
    emu.delete(&format!("/workspace/{ws}"), &Cred::admin())
        .await
        .ok(200);
    emu.post(
        "/tokens",
        &Cred::admin(),
        json!({ "scope": "workspace", "workspaceId": ws }),
    )
    .await
    .validation("workspaceId");
    // A label at the limit is fine.
    emu.mint(json!({ "scope": "namespace", "namespace": "exists", "label": "x".repeat(200) }))
        .await;
}

/// Error table row 3: no API key → 401 missing_credentials (before the body is looked at).
#[tokio::test]
async fn error_table_missing_credentials() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    for body in [
        json!({ "scope": "namespace", "namespace": "t" }),
        json!({}),
        json!({ "scope": 1 }),
    ] {
        let r = emu.post("/tokens", &Cred::None, body).await;
        r.err(401, "missing_credentials");
    }
    let r = emu.post_raw("/tokens", &Cred::None, "not json").await;
    r.err(401, "missing_credentials");
}

/// Wrong or half credentials are refused too (401, not a token).
#[tokio::test]
async fn invalid_api_keys_are_refused() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let body = json!({ "scope": "namespace", "namespace": "t" });
    let wrong_secret = Cred::Key {
        id: common::ADMIN_ID.into(),
        secret: "csk_wrong".into(),
    };
    let unknown_id = Cred::Key {
        id: "cid_unknown".into(),
        secret: common::ADMIN_SECRET.into(),
    };
    for cred in [wrong_secret, unknown_id] {
        emu.post("/tokens", &cred, body.clone())
            .await
            .err(401, "invalid_credentials");
    }
    let only_id = emu
        .api_req(reqwest::Method::POST, "/tokens", &Cred::None)
        .header("X-Client-ID", common::ADMIN_ID)
        .json(&body);
    emu.send(only_id).await.err(401, "invalid_credentials");
    let only_secret = emu
        .api_req(reqwest::Method::POST, "/tokens", &Cred::None)
        .header("X-Client-Secret", common::ADMIN_SECRET)
        .json(&body);
    emu.send(only_secret).await.err(401, "invalid_credentials");
    for auth in [
        "Basic YWRtaW46c2VjcmV0",
        "Bearer",
        "Bearer ",
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
    ] {
        emu.post("/tokens", &Cred::Authorization(auth.into()), body.clone())
            .await
            .err(401, "invalid_credentials");
    }
}

/// Error table row 4: an API key that is not admin-scoped → 403 scope_denied; so is every
/// bearer token (a namespace token cannot mint tokens), whatever the body.
#[tokio::test]
async fn error_table_non_admin_keys_and_tokens_cannot_mint() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let ws = emu.workspace_in(Some("t")).await;
    let ns_key = emu.create_key("namespace", Some("t")).await;
    let ws_key = emu.create_key("workspace", Some(&ws)).await;
    let billing_key = emu.create_key("billing", None).await;
    let ns_token = Cred::bearer(emu.ns_token("t").await);
    let ws_token = Cred::bearer(emu.ws_token(&ws).await);
    let long_token = {
        let r = emu
            .post_empty(
                &format!("/workspace/{ws}/internal-api-access/workspace"),
                &Cred::admin(),
            )
            .await;
        Cred::bearer(r.ok(200)["token"].as_str().unwrap())
    };
    let bodies = [
        json!({ "scope": "namespace", "namespace": "t" }),
        json!({ "scope": "workspace", "workspaceId": ws }),
        json!({}),
    ];
    for (name, cred) in [
        ("namespace key", &ns_key),
        ("workspace key", &ws_key),
        ("billing key", &billing_key),
        ("namespace token", &ns_token),
        ("workspace token", &ws_token),
        ("30-day workspace token", &long_token),
    ] {
        for body in &bodies {
            let r = emu.post("/tokens", cred, body.clone()).await;
            assert_eq!(r.status.as_u16(), 403, "{name} minting {body}: {}", r.text);
            r.err(403, "scope_denied");
        }
    }
    // An admin-scoped key made through the control endpoint may mint.
    let admin_key = emu.create_key("admin", None).await;
    emu.post(
        "/tokens",
        &admin_key,
        json!({ "scope": "namespace", "namespace": "t" }),
    )
    .await
    .ok(201);
}

/// Other methods on /tokens are 405 with the error shape.
#[tokio::test]
async fn tokens_method_not_allowed() {
    let emu = common::start().await;
    let r = emu.get("/tokens", &Cred::admin()).await;
    r.err(405, "method_not_allowed");
}

/// A namespace token's tenant namespace can be deleted: its tokens then reach nothing (403).
#[tokio::test]
async fn token_of_deleted_namespace_is_refused() {
    let emu = common::start().await;
    emu.create_namespace("gone").await;
    let token = Cred::bearer(emu.ns_token("gone").await);
    emu.get("/workspace", &token).await.ok(200);
    emu.delete("/namespaces/gone", &Cred::admin()).await.ok(200);
    emu.get("/workspace", &token).await.err(403, "scope_denied");
}
