//! The `#[wasm_bindgen]` layer driven from Rust in headless Chromium against a real emulator, across
//! origins (`make test-browser`): the JS classes' lifetimes (a dropped wrapper, `free`,
//! `dispose`), abort at each await point of a call, and the fetch transport's outcomes (timeout,
//! HTML bodies, a refused connection, a dropped connection).
#![cfg(target_arch = "wasm32")]

mod web;

use js_sys::Promise;
use oblien_user_client::bindings::client::OblienUserClient;
use oblien_user_client::bindings::workspaces::Workspaces;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web::{api, clear_faults, fault, field, gateway, object, sleep, tenant_token};
use web_sys::AbortController;

wasm_bindgen_test_configure!(run_in_browser);

fn client(token: &str, more: &[(&str, JsValue)]) -> OblienUserClient {
    let mut pairs = vec![
        ("token", JsValue::from_str(token)),
        ("baseUrl", JsValue::from_str(api())),
        ("gatewayUrl", JsValue::from_str(gateway())),
    ];
    pairs.extend(more.iter().cloned());
    OblienUserClient::new(object(&pairs)).unwrap_or_else(|e| panic!("constructor: {e:?}"))
}

/// The resolved value, or the rejection's `code`.
async fn settle(promise: Promise) -> Result<JsValue, String> {
    JsFuture::from(promise).await.map_err(|e| {
        field(&e, "code")
            .as_string()
            .unwrap_or_else(|| format!("{e:?}"))
    })
}

async fn total(workspaces: &Workspaces) -> Result<f64, String> {
    settle(workspaces.list(None))
        .await
        .map(|list| field(&list, "total").as_f64().unwrap_or(-1.0))
}

fn signal_options(controller: &AbortController) -> Option<JsValue> {
    Some(object(&[("signal", controller.signal().into())]))
}

// ---- lifetimes --------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_handle_outlives_its_dropped_client_wrapper() {
    let token = tenant_token("bind-drop", 120).await;
    let c = client(&token, &[]);
    let workspaces = c.workspaces();
    assert_eq!(total(&workspaces).await, Ok(0.0));
    // What the garbage collector does to an unreachable wrapper: drop it.
    drop(c);
    assert_eq!(
        total(&workspaces).await,
        Ok(0.0),
        "the handle died with the wrapper"
    );
}

#[wasm_bindgen_test]
async fn free_and_dispose_end_the_session_for_every_handle() {
    let token = tenant_token("bind-free", 120).await;
    let c = client(&token, &[]);
    let workspaces = c.workspaces();
    c.free();
    assert_eq!(total(&workspaces).await, Err("disposed".into()));

    let c = client(&token, &[]);
    let workspaces = c.workspaces();
    c.dispose();
    assert_eq!(total(&workspaces).await, Err("disposed".into()));
    assert!(c.token_info().is_err(), "tokenInfo after dispose");
}

#[wasm_bindgen_test]
async fn dispose_rejects_a_call_on_the_wire() {
    let token = tenant_token("bind-wire", 120).await;
    fault(r#"{"kind":"latency","latency_ms":800,"path":"/workspace","method":"GET"}"#).await;
    let c = client(&token, &[]);
    let pending = c.workspaces().list(None);
    sleep(100).await;
    c.dispose();
    assert_eq!(settle(pending).await.err(), Some("disposed".into()));
    clear_faults().await;
}

// ---- abort at each await point ----------------------------------------------------------------

#[wasm_bindgen_test]
async fn abort_before_during_and_after_each_step_of_runtime() {
    let token = tenant_token("bind-abort", 300).await;
    let c = client(&token, &[]);
    let workspaces = c.workspaces();
    let created =
        settle(workspaces.create(object(&[("image", JsValue::from_str("node-20"))]), None))
            .await
            .expect("create");
    let id = field(&created, "id");
    // Pre-aborted: nothing is sent.
    let pre = AbortController::new().unwrap();
    pre.abort();
    assert_eq!(
        settle(workspaces.runtime(id.clone(), signal_options(&pre)))
            .await
            .err(),
        Some("aborted".into())
    );
    // While the mint is on the wire (a slow status call), then while provisioning is polled.
    fault(r#"{"kind":"latency","latency_ms":400,"path":"/workspace/*","method":"GET","times":2}"#)
        .await;
    for delay in [0, 50, 250, 600] {
        let controller = AbortController::new().unwrap();
        let call = workspaces.runtime(id.clone(), signal_options(&controller));
        sleep(delay).await;
        controller.abort();
        let outcome = settle(call).await;
        assert!(
            outcome.is_ok() || outcome == Err("aborted".into()),
            "abort after {delay} ms: {outcome:?}"
        );
    }
    clear_faults().await;
    // After all that, the runtime still comes (nothing was left half-done).
    assert!(settle(workspaces.runtime(id, None)).await.is_ok());
}

// ---- the fetch transport ----------------------------------------------------------------------

#[wasm_bindgen_test]
async fn transport_outcomes_are_typed() {
    let token = tenant_token("bind-fetch", 300).await;
    // Timeout: a slow answer with timeoutMs 200.
    fault(r#"{"kind":"latency","latency_ms":900,"path":"/workspace","method":"GET","times":3}"#)
        .await;
    let c = client(&token, &[("timeoutMs", JsValue::from_f64(200.0))]);
    assert_eq!(total(&c.workspaces()).await, Err("timeout".into()));
    clear_faults().await;
    // An HTML page with 500 (a proxy's error page), not retried on POST.
    fault(r#"{"kind":"non_json","status":500,"path":"/workspace","method":"POST"}"#).await;
    let create = c
        .workspaces()
        .create(object(&[("image", JsValue::from_str("node-20"))]), None);
    assert_eq!(settle(create).await.err(), Some("server_error".into()));
    clear_faults().await;
    // A refused connection.
    let nowhere = OblienUserClient::new(object(&[
        ("token", JsValue::from_str(&token)),
        ("baseUrl", JsValue::from_str("http://127.0.0.1:9")),
    ]))
    .unwrap();
    assert_eq!(
        total(&nowhere.workspaces()).await,
        Err("network_error".into())
    );
    // A dropped connection on a GET is retried and succeeds.
    fault(r#"{"kind":"drop","path":"/workspace","method":"GET","times":1}"#).await;
    assert_eq!(total(&c.workspaces()).await, Ok(0.0));
    clear_faults().await;
}
