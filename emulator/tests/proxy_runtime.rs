//! `/proxy/…` (the workspace's dev server on port 3000), `GET /runtime`, `GET /runtimes`, the
//! `/runtimes/<target>/…` prefix, and CORS for the gateway's newer headers.

mod common;

use common::{ready_runtime as ready, write_file as write, Cred, Emu};
use reqwest::Method;
use serde_json::json;

async fn proxied(
    emu: &Emu,
    token: &str,
    method: Method,
    path: &str,
    target: Option<&str>,
) -> common::Resp {
    let mut rb = emu.gw_req(method, path, &Cred::bearer(token));
    if let Some(target) = target {
        rb = rb.header("X-Oblien-Proxy-Target", target);
    }
    emu.send(rb).await
}

#[tokio::test]
async fn proxy_serves_app_on_port_3000() {
    let (emu, token) = ready().await;
    write(
        &emu,
        &token,
        "/app/index.html",
        "<!doctype html><h1>home</h1>",
    )
    .await;
    write(&emu, &token, "/app/css/site.css", "body { color: red }").await;
    write(&emu, &token, "/app/sub/index.html", "<p>sub</p>").await;
    write(&emu, &token, "/app/data.json", "{\"a\":1}").await;
    let t = &token;
    for (path, body, ct) in [
        (
            "/proxy/index.html",
            "<!doctype html><h1>home</h1>",
            "text/html; charset=utf-8",
        ),
        (
            "/proxy/",
            "<!doctype html><h1>home</h1>",
            "text/html; charset=utf-8",
        ),
        (
            "/proxy",
            "<!doctype html><h1>home</h1>",
            "text/html; charset=utf-8",
        ),
        (
            "/proxy/css/site.css?v=123",
            "body { color: red }",
            "text/css; charset=utf-8",
        ),
        ("/proxy/sub", "<p>sub</p>", "text/html; charset=utf-8"),
        ("/proxy/data.json", "{\"a\":1}", "application/json"),
    ] {
        let r = proxied(&emu, t, Method::GET, path, Some("3000")).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert_eq!(r.text, body, "{path}");
        assert_eq!(r.header("content-type"), Some(ct), "{path}");
    }
    let r = proxied(
        &emu,
        t,
        Method::GET,
        "/proxy/index.html",
        Some("localhost:3000"),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = proxied(&emu, t, Method::HEAD, "/proxy/index.html", Some("3000")).await;
    assert_eq!((r.status.as_u16(), r.text.as_str()), (200, ""));
    // A missing file is the dev server's 404, not a gateway error.
    let r = proxied(&emu, t, Method::GET, "/proxy/missing.js", Some("3000")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.text, "Not Found\n");
    let r = proxied(
        &emu,
        t,
        Method::GET,
        "/proxy/%2e%2e/%2e%2e/root",
        Some("3000"),
    )
    .await;
    assert_eq!(r.status, 404, "no way out of /app");
    let r = proxied(&emu, t, Method::POST, "/proxy/index.html", Some("3000")).await;
    assert_eq!(r.status, 405);
    // Other ports: nothing listens.
    let r = proxied(&emu, t, Method::GET, "/proxy/", Some("8080")).await;
    let b = r.err(502, "nothing_listening");
    assert_eq!(b["port"], 8080);
    proxied(&emu, t, Method::GET, "/proxy/", Some("127.0.0.1:5173"))
        .await
        .err(502, "nothing_listening");
    // A missing or invalid target header.
    proxied(&emu, t, Method::GET, "/proxy/", None)
        .await
        .validation("X-Oblien-Proxy-Target");
    for bad in ["abc", "0", "70000", "example.com:3000", ":3000x"] {
        proxied(&emu, t, Method::GET, "/proxy/", Some(bad))
            .await
            .validation("X-Oblien-Proxy-Target");
    }
    // The token is required, in the header or (WebSocket form) in the query.
    emu.send(
        emu.gw_req(Method::GET, "/proxy/index.html", &Cred::None)
            .header("X-Oblien-Proxy-Target", "3000"),
    )
    .await
    .err(401, "missing_credentials");
    let r = emu
        .send(
            emu.gw_req(Method::GET, "/proxy/index.html", &Cred::None)
                .query(&[("token", token.as_str()), ("x_oblien_target", "3000")]),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.text.as_str()),
        (200, "<!doctype html><h1>home</h1>")
    );
    emu.send(
        emu.gw_req(Method::GET, "/proxy/index.html", &Cred::None)
            .query(&[("token", "nope"), ("x_oblien_target", "3000")]),
    )
    .await
    .err(401, "invalid_token");
}

#[tokio::test]
async fn runtime_info_and_targets() {
    let (emu, token) = ready().await;
    let r = emu.gw_get("/runtime", &token).await;
    let info = r.ok(200);
    assert_eq!(info["os"], "linux");
    assert_eq!(info["arch"], "x86_64");
    assert!(info["cpus"].as_u64().is_some_and(|c| c >= 1));
    assert_eq!(info["home"], "/root");
    assert_eq!(info["shell"], "/bin/sh");
    assert_eq!(info["protocol_version"], 1);
    let caps: Vec<&str> = info["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for cap in ["files", "exec", "search", "transfer", "proxy"] {
        assert!(caps.contains(&cap), "{cap} in {caps:?}");
    }
    let r = emu.gw_get("/runtimes", &token).await;
    let targets = r.ok(200);
    assert_eq!(targets["default_target"], "default");
    assert_eq!(targets["aliases"]["local"], "default");
    assert_eq!(targets["targets"][0]["id"], "default");
    assert_eq!(targets["targets"][0]["available"], true);
    assert_eq!(targets["targets"][0]["runtime"]["os"], "linux");
    emu.send(emu.gw_req(Method::GET, "/runtime", &Cred::None))
        .await
        .err(401, "missing_credentials");
}

#[tokio::test]
async fn target_prefix() {
    let (emu, token) = ready().await;
    write(&emu, &token, "/app/index.html", "hi").await;
    for target in ["local", "default"] {
        let r = emu
            .gw_get_path(
                &format!("/runtimes/{target}/files/read"),
                "/app/index.html",
                &token,
            )
            .await;
        assert_eq!(r.ok(200)["content"], "hi");
        let r = emu
            .gw_post(
                &format!("/runtimes/{target}/exec"),
                &token,
                json!({ "cmd": ["echo", target] }),
            )
            .await;
        assert_eq!(r.ok(200)["stdout"], format!("{target}\n"));
        assert_eq!(
            emu.gw_get(&format!("/runtimes/{target}/runtime"), &token)
                .await
                .ok(200)["os"],
            "linux"
        );
        let r = proxied(
            &emu,
            &token,
            Method::GET,
            &format!("/runtimes/{target}/proxy/"),
            Some("3000"),
        )
        .await;
        assert_eq!((r.status.as_u16(), r.text.as_str()), (200, "hi"));
    }
    let r = emu.gw_get("/runtimes/gpu/health", &token).await;
    assert_eq!(r.err(404, "target_not_found")["target"], "gpu");
    emu.gw_get("/runtimes/local/nope", &token)
        .await
        .err(404, "not_found");
    // The same task list whatever the prefix.
    let r = emu.gw_get("/runtimes/local/exec", &token).await;
    assert_eq!(r.ok(200)["tasks"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn cors_for_gateway_headers() {
    let (emu, token) = ready().await;
    let r = emu
        .send(
            emu.client
                .request(Method::OPTIONS, format!("{}/exec/1/input", emu.gw))
                .header("Origin", "http://app.example")
                .header("Access-Control-Request-Method", "POST")
                .header(
                    "Access-Control-Request-Headers",
                    "authorization,content-type,x-oblien-proxy-target",
                ),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.status);
    let allowed = r
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for h in ["authorization", "content-type", "x-oblien-proxy-target"] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
    let r = emu
        .send(
            emu.gw_req(Method::GET, "/health", &Cred::bearer(&token))
                .header("Origin", "http://app.example"),
        )
        .await;
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.example")
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for h in ["content-length", "x-request-id", "content-type"] {
        assert!(exposed.contains(h), "{h} in {exposed}");
    }
}
