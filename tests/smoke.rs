//! Browser smoke test: a real headless Chromium talks to a real emulator across origins.
//!
//! Run through `scripts/with-emulator.sh` (see `make test-browser`): it starts the emulator and
//! exports its address. The browser has no process environment, so the address is read at COMPILE
//! time with `option_env!`; without it the test fails with a message instead of silently passing.
#![cfg(target_arch = "wasm32")]

mod web;

use js_sys::Array;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web::{admin_headers, fetch, field, json};

wasm_bindgen_test_configure!(run_in_browser);

const NAMESPACE: &str = "smoke-ns";

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
