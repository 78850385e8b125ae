//! Browser smoke test: a real headless Chromium talks to a real emulator across origins.
//!
//! Run through `scripts/with-emulator.sh` (see `make test-browser`): it starts the emulator and
//! exports its address. The browser has no process environment, so the address is read at COMPILE
//! time with `option_env!`; without it the test fails with a message instead of silently passing.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Headers, Request, RequestInit, RequestMode, Response};

wasm_bindgen_test_configure!(run_in_browser);

const NAMESPACE: &str = "smoke-ns";

/// A compile-time setting from `scripts/with-emulator.sh`, or a failure that says how to get it.
fn setting(name: &str, value: Option<&'static str>) -> &'static str {
    match value {
        Some(v) if !v.is_empty() => v,
        _ => panic!(
            "{name} was not set when this test was compiled: run it through \
             scripts/with-emulator.sh (e.g. `make test-browser`)"
        ),
    }
}

fn api() -> &'static str {
    setting("OBLIEN_EMULATOR_API", option_env!("OBLIEN_EMULATOR_API"))
}

fn admin_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "X-Client-ID",
            setting(
                "OBLIEN_EMULATOR_CLIENT_ID",
                option_env!("OBLIEN_EMULATOR_CLIENT_ID"),
            ),
        ),
        (
            "X-Client-Secret",
            setting(
                "OBLIEN_EMULATOR_CLIENT_SECRET",
                option_env!("OBLIEN_EMULATOR_CLIENT_SECRET"),
            ),
        ),
        ("Content-Type", "application/json"),
    ]
}

/// A cross-origin `fetch` (the test page is served by the test runner, not by the emulator).
async fn fetch(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Response {
    let url = format!("{}{}", api(), path);
    let init = RequestInit::new();
    init.set_method(method);
    init.set_mode(RequestMode::Cors);
    let h = Headers::new().unwrap();
    for (k, v) in headers {
        h.set(k, v).unwrap();
    }
    init.set_headers(&h);
    if let Some(b) = body {
        init.set_body(&JsValue::from_str(b));
    }
    let request = Request::new_with_str_and_init(&url, &init).unwrap();
    let window = web_sys::window().expect("no window: the test must run in a browser");
    match JsFuture::from(window.fetch_with_request(&request)).await {
        Ok(r) => r.dyn_into().unwrap(),
        Err(e) => {
            panic!("{method} {url}: fetch failed (emulator unreachable or CORS refused): {e:?}")
        }
    }
}

async fn json(response: &Response) -> JsValue {
    JsFuture::from(response.json().unwrap())
        .await
        .expect("response body is not JSON")
}

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

#[wasm_bindgen_test]
async fn health_is_ok() {
    let r = fetch("GET", "/__emulator/health", &[], None).await;
    assert_eq!(r.status(), 200, "GET /__emulator/health");
}

#[wasm_bindgen_test]
async fn namespace_token_lists_workspaces() {
    // The namespace must exist before a token can be scoped to it; 409 = made by an earlier run.
    let body = format!(r#"{{"name":"{NAMESPACE}"}}"#);
    let r = fetch("POST", "/namespaces", &admin_headers(), Some(&body)).await;
    assert!(
        r.status() == 201 || r.status() == 409,
        "POST /namespaces: status {}",
        r.status()
    );

    let body = format!(r#"{{"scope":"namespace","namespace":"{NAMESPACE}","ttl":60}}"#);
    let r = fetch("POST", "/tokens", &admin_headers(), Some(&body)).await;
    assert!(r.ok(), "POST /tokens: status {}", r.status());
    let token = field(&json(&r).await, "token")
        .as_string()
        .expect("POST /tokens: no string `token` in the response");

    let bearer = format!("Bearer {token}");
    let r = fetch("GET", "/workspace", &[("Authorization", &bearer)], None).await;
    assert_eq!(r.status(), 200, "GET /workspace");
    // Only readable from another origin when the server lists it in Access-Control-Expose-Headers.
    let request_id = r.headers().get("X-Request-Id").unwrap();
    assert!(
        request_id.is_some_and(|id| !id.is_empty()),
        "X-Request-Id is not readable cross-origin (missing from Access-Control-Expose-Headers?)"
    );
    let v = json(&r).await;
    assert_eq!(
        field(&v, "success"),
        JsValue::TRUE,
        "GET /workspace: success"
    );
    assert!(
        Array::is_array(&field(&v, "workspaces")),
        "GET /workspace: `workspaces` is not an array: {:?}",
        js_sys::JSON::stringify(&v).unwrap()
    );
}
