//! What a browser needs: CORS preflights on both listeners (two hosts, two origins), readable
//! `Retry-After` and `X-Request-Id`, and `X-Request-Id` on every response, errors included.

mod common;

use common::{Cred, Emu};
use reqwest::Method;
use serde_json::json;

const ORIGIN: &str = "http://localhost:5173";

fn header_list(r: &common::Resp, name: &str) -> Vec<String> {
    r.header(name)
        .unwrap_or_else(|| panic!("{}: no {name}; headers {:?}", r.what, r.headers))
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

async fn preflight(emu: &Emu, url: String, method: &str, headers: &str) -> common::Resp {
    let rb = emu
        .client
        .request(Method::OPTIONS, url)
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", headers);
    emu.send(rb).await
}

#[tokio::test]
async fn preflight_on_the_api() {
    let emu = common::start().await;
    for (path, method) in [
        ("/workspace", "GET"),
        ("/workspace", "POST"),
        ("/workspace/ws_123/runtime-api-access/token", "POST"),
        ("/tokens", "POST"),
        ("/workspace/ws_123", "DELETE"),
    ] {
        let r = preflight(
            &emu,
            format!("{}{path}", emu.api),
            method,
            "authorization,content-type",
        )
        .await;
        assert!(
            r.status.is_success(),
            "preflight {method} {path}: {}",
            r.status
        );
        assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
        let methods = header_list(&r, "access-control-allow-methods");
        assert!(
            methods.contains(&method.to_ascii_lowercase()),
            "{method} in {methods:?}"
        );
        let allowed = header_list(&r, "access-control-allow-headers");
        for h in ["authorization", "content-type"] {
            assert!(allowed.contains(&h.to_string()), "{h} in {allowed:?}");
        }
    }
}

#[tokio::test]
async fn preflight_on_the_gateway() {
    let emu = common::start().await;
    for (path, method) in [
        ("/files", "GET"),
        ("/files/write", "POST"),
        ("/exec", "POST"),
        ("/health", "GET"),
    ] {
        let r = preflight(
            &emu,
            format!("{}{path}", emu.gw),
            method,
            "authorization,content-type",
        )
        .await;
        assert!(
            r.status.is_success(),
            "preflight {method} {path}: {}",
            r.status
        );
        assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
        let allowed = header_list(&r, "access-control-allow-headers");
        for h in ["authorization", "content-type"] {
            assert!(allowed.contains(&h.to_string()), "{h} in {allowed:?}");
        }
        let methods = header_list(&r, "access-control-allow-methods");
        assert!(methods.contains(&method.to_ascii_lowercase()));
    }
}

/// Preflights are answered even while faults and rate limits are active, and never count.
#[tokio::test]
async fn preflight_passes_faults_and_rate_limits() {
    let emu = common::start().await;
    emu.add_fault(json!({ "kind": "status", "path": "/workspace", "status": 500, "times": 5 }))
        .await;
    let r = preflight(
        &emu,
        format!("{}/workspace", emu.api),
        "GET",
        "authorization",
    )
    .await;
    assert!(r.status.is_success());
    // The fault is still armed for the real request.
    let r = emu.get("/workspace", &Cred::admin()).await;
    r.err(500, "server_error");
    emu.send(emu.api_req(Method::DELETE, "/__emulator/faults", &Cred::admin()))
        .await
        .ok(200);

    emu.set_rate_limit(Some(1), 60).await;
    for _ in 0..3 {
        let r = preflight(
            &emu,
            format!("{}/workspace", emu.api),
            "GET",
            "authorization",
        )
        .await;
        assert!(r.status.is_success());
    }
}

/// Actual (non-preflight) responses carry the CORS headers and expose Retry-After and
/// X-Request-Id, errors included.
#[tokio::test]
async fn exposed_headers_on_responses() {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    let api_ok = emu
        .send(
            emu.api_req(Method::GET, "/workspace", &Cred::admin())
                .header("Origin", ORIGIN),
        )
        .await;
    let api_err = emu
        .send(
            emu.api_req(Method::GET, "/workspace", &Cred::None)
                .header("Origin", ORIGIN),
        )
        .await;
    let gw_ok = emu
        .send(
            emu.gw_req(Method::GET, "/health", &Cred::bearer(&token))
                .header("Origin", ORIGIN),
        )
        .await;
    let gw_err = emu
        .send(
            emu.gw_req(Method::GET, "/health", &Cred::None)
                .header("Origin", ORIGIN),
        )
        .await;
    api_ok.ok(200);
    api_err.err(401, "missing_credentials");
    gw_ok.ok(200);
    gw_err.err(401, "missing_credentials");
    for r in [&api_ok, &api_err, &gw_ok, &gw_err] {
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(ORIGIN),
            "{}",
            r.what
        );
        let exposed = header_list(r, "access-control-expose-headers");
        for h in ["retry-after", "x-request-id"] {
            assert!(
                exposed.contains(&h.to_string()),
                "{}: {h} in {exposed:?}",
                r.what
            );
        }
    }
    // A 429 as the browser sees it.
    emu.set_rate_limit(Some(1), 60).await;
    emu.send(
        emu.api_req(Method::GET, "/workspace", &Cred::admin())
            .header("Origin", ORIGIN),
    )
    .await
    .ok(200);
    let limited = emu
        .send(
            emu.api_req(Method::GET, "/workspace", &Cred::admin())
                .header("Origin", ORIGIN),
        )
        .await;
    limited.err(429, "rate_limited");
    assert_eq!(limited.header("access-control-allow-origin"), Some(ORIGIN));
    assert!(limited.header("retry-after").is_some());
}

/// With an allow-list, other origins get no CORS grant.
#[tokio::test]
async fn allowed_origins_list() {
    let emu = common::start_with(oblien_emulator::Config {
        allowed_origins: Some(vec!["https://app.example".to_string()]),
        ..common::test_config()
    })
    .await;
    let ok = emu
        .send(
            emu.client
                .request(Method::OPTIONS, format!("{}/workspace", emu.api))
                .header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "GET")
                .header("Access-Control-Request-Headers", "authorization"),
        )
        .await;
    assert_eq!(
        ok.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let other = preflight(
        &emu,
        format!("{}/workspace", emu.api),
        "GET",
        "authorization",
    )
    .await;
    assert_eq!(
        other.header("access-control-allow-origin"),
        None,
        "{ORIGIN} is not allowed"
    );
}

/// X-Request-Id on every response (`Emu::send` checks it on each one): successes, errors, 404s,
/// 405s, control endpoints, preflights, both listeners; unique per request.
#[tokio::test]
async fn request_id_on_every_response() {
    let emu = common::start().await;
    let (id, token) = emu.ready_workspace(None).await;
    let responses = vec![
        emu.get("/workspace", &Cred::admin()).await,
        emu.get("/workspace", &Cred::None).await,
        emu.get("/workspace", &Cred::bearer("garbage")).await,
        emu.get("/no/such/endpoint", &Cred::admin()).await,
        emu.get("/no/such/endpoint", &Cred::None).await,
        emu.get(&format!("/workspace/{id}x"), &Cred::admin()).await,
        emu.api(Method::PUT, "/workspace", &Cred::admin(), None)
            .await,
        emu.post_raw("/tokens", &Cred::admin(), "{").await,
        emu.get("/__emulator/health", &Cred::None).await,
        emu.get("/__emulator/faults", &Cred::None).await,
        emu.gw_get("/health", &token).await,
        emu.gw_get("/nope", &token).await,
        emu.gw_get("/health", "garbage").await,
        emu.send(emu.gw_req(Method::GET, "/health", &Cred::None))
            .await,
        preflight(
            &emu,
            format!("{}/workspace", emu.api),
            "GET",
            "authorization",
        )
        .await,
        preflight(&emu, format!("{}/files", emu.gw), "GET", "authorization").await,
    ];
    let mut ids: Vec<String> = responses
        .iter()
        .map(|r| r.header("x-request-id").unwrap().to_string())
        .collect();
    for r in &responses {
        if !r.status.is_success() {
            assert!(
                r.is_error_shape(),
                "{}: error body shape: {}",
                r.what,
                r.text
            );
        }
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "request ids are unique");
}

/// A sane caller-supplied X-Request-Id is echoed; an unusable one is replaced.
#[tokio::test]
async fn request_id_echo() {
    let emu = common::start().await;
    let r = emu
        .send(
            emu.api_req(Method::GET, "/workspace", &Cred::admin())
                .header("X-Request-Id", "client-req_42"),
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("client-req_42"));
    let r = emu
        .send(
            emu.api_req(Method::GET, "/workspace", &Cred::None)
                .header("X-Request-Id", "client-req_43"),
        )
        .await;
    assert_eq!(r.header("x-request-id"), Some("client-req_43"));
    for bad in ["has space", "semi;colon", &"x".repeat(200)] {
        let r = emu
            .send(
                emu.api_req(Method::GET, "/workspace", &Cred::admin())
                    .header("X-Request-Id", bad),
            )
            .await;
        let id = r.header("x-request-id").unwrap();
        assert_ne!(id, bad);
        assert!(!id.is_empty());
    }
}

/// The 405 and 404 bodies use the error shape on both listeners.
#[tokio::test]
async fn not_found_and_method_not_allowed_shapes() {
    let emu = common::start().await;
    emu.get("/nothing-here", &Cred::admin())
        .await
        .err(404, "not_found");
    emu.api(Method::PATCH, "/tokens", &Cred::admin(), None)
        .await
        .err(405, "method_not_allowed");
    let r = emu
        .send(emu.gw_req(Method::PUT, "/exec", &Cred::None))
        .await;
    r.err(405, "method_not_allowed");
}

/// `PUT /__emulator/cors` changes the allow-list at run time on both listeners; the control
/// endpoints keep answering any origin, and `null` (or a reset) restores the start-up setting.
#[tokio::test]
async fn allow_list_changed_at_run_time() {
    let emu = common::start().await;
    let admin = Cred::admin();
    let allow = |origins: serde_json::Value| {
        emu.api(
            Method::PUT,
            "/__emulator/cors",
            &admin,
            Some(json!({ "origins": origins })),
        )
    };
    allow(json!(["https://app.example"])).await.ok(200);
    for base in [&emu.api, &emu.gw] {
        let refused = preflight(&emu, format!("{base}/files"), "GET", "authorization").await;
        assert_eq!(
            refused.header("access-control-allow-origin"),
            None,
            "{base}"
        );
    }
    let control = preflight(
        &emu,
        format!("{}/__emulator/faults", emu.api),
        "POST",
        "x-client-id,x-client-secret,content-type",
    )
    .await;
    assert_eq!(control.header("access-control-allow-origin"), Some(ORIGIN));
    // A missing `origins` is a validation error, not "allow everything".
    emu.api(
        Method::PUT,
        "/__emulator/cors",
        &Cred::admin(),
        Some(json!({})),
    )
    .await
    .err(400, "validation_error");
    allow(serde_json::Value::Null).await.ok(200);
    let granted = preflight(
        &emu,
        format!("{}/workspace", emu.api),
        "GET",
        "authorization",
    )
    .await;
    assert_eq!(granted.header("access-control-allow-origin"), Some(ORIGIN));
}
