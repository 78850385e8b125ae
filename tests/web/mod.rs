//! What the wasm-bindgen browser suites share: the emulator's address (compiled in: the browser
//! has no process environment), a cross-origin `fetch`, and the tests' own admin calls (create a
//! namespace, mint a token, inject a fault). The client under test never sees the admin key.
#![allow(dead_code)]

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, RequestMode, Response};

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

pub fn api() -> &'static str {
    setting("OBLIEN_EMULATOR_API", option_env!("OBLIEN_EMULATOR_API"))
}

pub fn gateway() -> &'static str {
    setting(
        "OBLIEN_EMULATOR_GATEWAY",
        option_env!("OBLIEN_EMULATOR_GATEWAY"),
    )
}

pub fn admin_headers() -> Vec<(&'static str, &'static str)> {
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
pub async fn fetch(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
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

pub async fn json(response: &Response) -> JsValue {
    JsFuture::from(response.json().unwrap())
        .await
        .expect("response body is not JSON")
}

pub fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

/// An admin call that must succeed; its JSON body.
pub async fn admin(method: &str, path: &str, body: Option<&str>) -> JsValue {
    let r = fetch(method, path, &admin_headers(), body).await;
    assert!(r.status() < 300, "{method} {path}: HTTP {}", r.status());
    json(&r).await
}

/// A fresh namespace (tenant) and a namespace token for it.
pub async fn tenant_token(label: &str, ttl: u32) -> String {
    let name = format!("{label}-{}", (js_sys::Math::random() * 1e9) as u64);
    let created = admin(
        "POST",
        "/namespaces",
        Some(&format!(r#"{{"name":"{name}"}}"#)),
    )
    .await;
    let slug = field(&field(&created, "data"), "slug").as_string().unwrap();
    let body = format!(r#"{{"scope":"namespace","namespace":"{slug}","ttl":{ttl}}}"#);
    let minted = admin("POST", "/tokens", Some(&body)).await;
    field(&minted, "token").as_string().unwrap()
}

/// Injects a fault (`/__emulator/faults`).
pub async fn fault(spec: &str) {
    admin("POST", "/__emulator/faults", Some(spec)).await;
}

pub async fn clear_faults() {
    admin("DELETE", "/__emulator/faults", None).await;
}

/// `{ key: value, … }` for options objects.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}
