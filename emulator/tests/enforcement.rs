//! Every row of the Scoped Tokens page's two enforcement tables (namespace scope, workspace scope),
//! for scoped tokens and scoped API keys alike ("Scoped tokens follow the exact same enforcement
//! as scoped API keys"), plus the Authentication page's key-scope table (admin, billing).
//!
//! Each test is one table row, run for every credential kind, each on a fresh emulator.

mod common;

use common::{Cred, Emu};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// `alpha` (the bound namespace) with a1, a2; `beta` with b1; p1 personal (no namespace).
struct World {
    emu: Emu,
    a1: String,
    a2: String,
    b1: String,
    p1: String,
}

async fn world() -> World {
    world_with(common::test_config()).await
}

/// The same world on an emulator started with `--strict-workspace-tokens`.
async fn strict_world() -> World {
    world_with(oblien_emulator::Config {
        strict_workspace_tokens: true,
        ..common::test_config()
    })
    .await
}

async fn world_with(config: oblien_emulator::Config) -> World {
    let emu = common::start_with(config).await;
    emu.create_namespace("alpha").await;
    emu.create_namespace("beta").await;
    let a1 = emu.workspace_in(Some("alpha")).await;
    let a2 = emu.workspace_in(Some("alpha")).await;
    let b1 = emu.workspace_in(Some("beta")).await;
    let p1 = emu.workspace_in(None).await;
    World {
        emu,
        a1,
        a2,
        b1,
        p1,
    }
}

#[derive(Debug, Clone, Copy)]
enum NsCred {
    Key,
    Token,
}

#[derive(Debug, Clone, Copy)]
enum WsCred {
    Key,
    Token,
    /// The 30-day token of `…/internal-api-access/workspace`.
    LongToken,
}

const NS_CREDS: [NsCred; 2] = [NsCred::Key, NsCred::Token];
const WS_CREDS: [WsCred; 3] = [WsCred::Key, WsCred::Token, WsCred::LongToken];

/// A credential bound to namespace `alpha`.
async fn ns_cred(w: &World, kind: NsCred) -> Cred {
    match kind {
        NsCred::Key => w.emu.create_key("namespace", Some("alpha")).await,
        NsCred::Token => Cred::bearer(w.emu.ns_token("alpha").await),
    }
}

/// A credential bound to workspace `a1`.
async fn ws_cred(w: &World, kind: WsCred) -> Cred {
    match kind {
        WsCred::Key => w.emu.create_key("workspace", Some(&w.a1)).await,
        WsCred::Token => Cred::bearer(w.emu.ws_token(&w.a1).await),
        WsCred::LongToken => {
            let r = w
                .emu
                .post_empty(
                    &format!("/workspace/{}/internal-api-access/workspace", w.a1),
                    &Cred::admin(),
                )
                .await;
            Cred::bearer(r.ok(200)["token"].as_str().unwrap())
        }
    }
}

/// The endpoint that mints the 30-day workspace token (see `strict_workspace_tokens_*`).
const MINTS_30_DAY_TOKEN: &[&str] = &["-api-access/workspace"];

/// Every endpoint under one workspace, in an order that succeeds for a permitted caller
/// (enable before the token endpoints, delete last).
fn workspace_endpoints(id: &str) -> Vec<(Method, String)> {
    let mut endpoints = vec![
        (Method::GET, format!("/workspace/{id}")),
        (Method::POST, format!("/workspace/{id}/stop")),
        (Method::POST, format!("/workspace/{id}/start")),
        (Method::POST, format!("/workspace/{id}/restart")),
    ];
    for prefix in ["internal-api-access", "runtime-api-access"] {
        let base = format!("/workspace/{id}/{prefix}");
        endpoints.extend([
            (Method::GET, base.clone()),
            (Method::POST, format!("{base}/enable")),
            (Method::GET, format!("{base}/token")),
            (Method::POST, format!("{base}/token")),
            (Method::GET, format!("{base}/token/raw")),
            (Method::POST, format!("{base}/reconnect")),
            (Method::POST, format!("{base}/workspace")),
            (Method::POST, format!("{base}/disable")),
        ]);
    }
    endpoints.push((Method::DELETE, format!("/workspace/{id}")));
    endpoints
}

/// Every endpoint of `id` answers 200 to `cred`.
/// Endpoints whose path ends with one of `except` are skipped.
async fn assert_all_allowed(emu: &Emu, cred: &Cred, id: &str, label: &str, except: &[&str]) {
    for (method, path) in workspace_endpoints(id) {
        if except.iter().any(|suffix| path.ends_with(suffix)) {
            continue;
        }
        let r = emu.api(method.clone(), &path, cred, None).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "{label}: {method} {path} should be allowed: {}",
            r.text
        );
        r.ok(200);
    }
    emu.get(&format!("/workspace/{id}"), &Cred::admin())
        .await
        .err(404, "not_found");
}

/// Every endpoint of `id` answers 403 scope_denied to `cred`, and nothing changed.
async fn assert_all_denied(emu: &Emu, cred: &Cred, id: &str, label: &str) {
    let before = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
    for (method, path) in workspace_endpoints(id) {
        let r = emu.api(method.clone(), &path, cred, None).await;
        assert_eq!(
            r.status.as_u16(),
            403,
            "{label}: {method} {path} should be blocked: {}",
            r.text
        );
        r.err(403, "scope_denied");
    }
    if before.status.as_u16() == 200 {
        let after = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
        let (b, a) = (&before.body["workspace"], &after.ok(200)["workspace"]);
        assert_eq!(
            b["updated_at"], a["updated_at"],
            "{label}: a blocked call changed {id}"
        );
        let access = emu
            .get(
                &format!("/workspace/{id}/internal-api-access"),
                &Cred::admin(),
            )
            .await;
        assert_eq!(
            access.ok(200)["enabled"],
            false,
            "{label}: a blocked call enabled {id}"
        );
    }
}

fn ids(body: &Value) -> BTreeSet<String> {
    body["workspaces"]
        .as_array()
        .expect("workspaces array")
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect()
}

/// Paths of services other than workspaces (pages, CDN, …) and admin-only resources.
fn other_services() -> Vec<(Method, &'static str, Option<Value>)> {
    vec![
        (Method::GET, "/pages", None),
        (Method::POST, "/pages", Some(json!({ "name": "x" }))),
        (Method::GET, "/cdn", None),
        (Method::GET, "/cdn/assets/logo.png", None),
        (Method::GET, "/domains", None),
        (Method::GET, "/namespaces", None),
        (
            Method::POST,
            "/namespaces",
            Some(json!({ "name": "gamma" })),
        ),
        (Method::GET, "/namespaces/alpha", None),
        (Method::DELETE, "/namespaces/alpha", None),
        (Method::GET, "/credits", None),
    ]
}

// ── Namespace scope ─────────────────────────────────────────────────────────────────────────

/// | List workspaces | Filtered to bound namespace only |
#[tokio::test]
async fn namespace_scope_list_is_filtered() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        let r = w.emu.get("/workspace", &cred).await;
        let body = r.ok(200);
        let expected: BTreeSet<String> = [w.a1.clone(), w.a2.clone()].into();
        assert_eq!(ids(body), expected, "{kind:?}");
        assert_eq!(body["total"], 2, "{kind:?}");
        assert!(body["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .all(|ws| ws["namespace"] == "alpha"));
        // Pagination and filters stay within the namespace.
        let r = w.emu.get("/workspace?limit=1&page=2", &cred).await;
        let body = r.ok(200);
        assert_eq!(body["total"], 2, "{kind:?}");
        assert_eq!(body["workspaces"].as_array().unwrap().len(), 1);
        // A namespace query parameter does not widen the filter.
        let r = w.emu.get("/workspace?namespace=beta", &cred).await;
        assert_eq!(ids(r.ok(200)), expected, "{kind:?}");
        // The admin sees all four.
        let r = w.emu.get("/workspace", &Cred::admin()).await;
        assert_eq!(r.ok(200)["total"], 4);
    }
}

/// | Create workspace | Forced into bound namespace (server-side) |
#[tokio::test]
async fn namespace_scope_create_is_forced_into_namespace() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        for body in [
            json!({ "image": "node-20" }),
            json!({ "image": "node-20", "namespace": "beta" }),
            json!({ "image": "node-20", "namespace": "does-not-exist" }),
            json!({ "image": "node-20", "namespace": "" }),
        ] {
            let ws = w.emu.create_workspace(&cred, body.clone()).await;
            assert_eq!(ws["namespace"], "alpha", "{kind:?} creating {body}");
            let id = ws["id"].as_str().unwrap();
            let r = w.emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
            assert_eq!(r.ok(200)["workspace"]["namespace"], "alpha");
        }
        // Nothing landed in beta.
        let beta = Cred::bearer(w.emu.ns_token("beta").await);
        let r = w.emu.get("/workspace", &beta).await;
        assert_eq!(r.ok(200)["total"], 1, "{kind:?}");
    }
}

/// | Access workspace in own namespace | Allowed |
#[tokio::test]
async fn namespace_scope_own_namespace_workspace_is_allowed() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        assert_all_allowed(&w.emu, &cred, &w.a1, &format!("{kind:?}"), &[]).await;
        // One it created itself too.
        let ws = w
            .emu
            .create_workspace(&cred, json!({ "image": "alpine" }))
            .await;
        assert_all_allowed(
            &w.emu,
            &cred,
            ws["id"].as_str().unwrap(),
            &format!("{kind:?}"),
            &[],
        )
        .await;
    }
}

/// | Access workspace in another namespace | Blocked (403) |
#[tokio::test]
async fn namespace_scope_other_namespace_workspace_is_blocked() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        assert_all_denied(
            &w.emu,
            &cred,
            &w.b1,
            &format!("{kind:?} on beta's workspace"),
        )
        .await;
        assert_all_denied(
            &w.emu,
            &cred,
            &w.p1,
            &format!("{kind:?} on a personal workspace"),
        )
        .await;
    }
}

/// | Access other services (pages, CDN, etc.) | Blocked (403) |
#[tokio::test]
async fn namespace_scope_other_services_are_blocked() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        for (method, path, body) in other_services() {
            let r = w.emu.api(method.clone(), path, &cred, body).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{kind:?}: {method} {path}: {}",
                r.text
            );
            r.err(403, "scope_denied");
        }
        // The namespace is still there.
        w.emu.get("/namespaces/alpha", &Cred::admin()).await.ok(200);
    }
}

/// | Create API keys or tokens | Blocked (403) |
#[tokio::test]
async fn namespace_scope_cannot_create_keys_or_tokens() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        let attempts = [
            (
                "/tokens",
                json!({ "scope": "namespace", "namespace": "alpha" }),
            ),
            (
                "/tokens",
                json!({ "scope": "namespace", "namespace": "alpha", "ttl": 60 }),
            ),
            (
                "/tokens",
                json!({ "scope": "workspace", "workspaceId": w.a1 }),
            ),
            (
                "/__emulator/keys",
                json!({ "scope": "namespace", "namespace": "alpha" }),
            ),
            (
                "/__emulator/keys",
                json!({ "scope": "workspace", "workspaceId": w.a1 }),
            ),
            ("/__emulator/keys", json!({ "scope": "admin" })),
        ];
        for (path, body) in attempts {
            let r = w.emu.post(path, &cred, body.clone()).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{kind:?}: POST {path} {body}: {}",
                r.text
            );
            r.err(403, "scope_denied");
        }
        w.emu
            .get("/__emulator/keys", &cred)
            .await
            .err(403, "scope_denied");
    }
}

/// "Access workspace in own namespace: Allowed" — every sub-resource, the 30-day workspace token
/// of `POST …/internal-api-access/workspace` included (the pages' default; see
/// `strict_workspace_tokens_refuse_scoped_callers` for the stricter server). The token it mints is
/// bound to that one workspace: no widening.
#[tokio::test]
async fn namespace_scope_mints_30_day_tokens_for_own_workspaces() {
    for kind in NS_CREDS {
        let w = world().await;
        let cred = ns_cred(&w, kind).await;
        for prefix in ["internal-api-access", "runtime-api-access"] {
            let path = format!("/workspace/{}/{prefix}/workspace", w.a1);
            let r = w.emu.post_empty(&path, &cred).await;
            let token = r.ok(200)["token"].as_str().expect("token").to_string();
            let c = common::claims(&token);
            assert_eq!(c["scope"], "workspace", "{kind:?}: {c}");
            assert_eq!(c["workspaceId"], w.a1.as_str(), "{kind:?}: {c}");
            assert_eq!(
                c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
                30 * 24 * 3600
            );
            // It reaches a1 only.
            let long = Cred::bearer(&token);
            w.emu
                .get(&format!("/workspace/{}", w.a1), &long)
                .await
                .ok(200);
            for other in [&w.a2, &w.b1] {
                w.emu
                    .get(&format!("/workspace/{other}"), &long)
                    .await
                    .err(403, "scope_denied");
            }
            w.emu
                .get("/workspace", &long)
                .await
                .err(403, "scope_denied");
        }
        // Another namespace's workspace, a personal one: still 403.
        for other in [&w.b1, &w.p1] {
            let path = format!("/workspace/{other}/internal-api-access/workspace");
            w.emu
                .post_empty(&path, &cred)
                .await
                .err(403, "scope_denied");
        }
    }
}

/// `--strict-workspace-tokens`: a 15-minute scoped credential (stateless, unrevocable) cannot turn
/// itself into 30-day credentials; only the admin key mints them. Everything else a scoped
/// credential may do is unchanged, gateway tokens (about an hour, revocable by rotation) included.
#[tokio::test]
async fn strict_workspace_tokens_refuse_scoped_callers() {
    for kind in NS_CREDS {
        let w = strict_world().await;
        let cred = ns_cred(&w, kind).await;
        for prefix in ["internal-api-access", "runtime-api-access"] {
            let path = format!("/workspace/{}/{prefix}/workspace", w.a1);
            let r = w.emu.post_empty(&path, &cred).await;
            assert_eq!(r.status.as_u16(), 403, "{kind:?}: POST {path}: {}", r.text);
            let body = r.err(403, "scope_denied");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("strict-workspace-tokens"),
                "{body}"
            );
            w.emu.post_empty(&path, &Cred::admin()).await.ok(200);
        }
        assert_all_allowed(
            &w.emu,
            &cred,
            &w.a2,
            &format!("strict {kind:?}"),
            MINTS_30_DAY_TOKEN,
        )
        .await;
    }
    for kind in WS_CREDS {
        let w = strict_world().await;
        let cred = ws_cred(&w, kind).await;
        for prefix in ["internal-api-access", "runtime-api-access"] {
            let path = format!("/workspace/{}/{prefix}/workspace", w.a1);
            w.emu
                .post_empty(&path, &cred)
                .await
                .err(403, "scope_denied");
        }
        assert_all_allowed(
            &w.emu,
            &cred,
            &w.a1,
            &format!("strict {kind:?}"),
            MINTS_30_DAY_TOKEN,
        )
        .await;
    }
}

// ── Workspace scope ─────────────────────────────────────────────────────────────────────────

/// | Access bound workspace | Allowed (all sub-resources) | — minting the 30-day workspace token
/// included (by default; `strict_workspace_tokens_refuse_scoped_callers` for the stricter server).
#[tokio::test]
async fn workspace_scope_bound_workspace_is_allowed() {
    for kind in WS_CREDS {
        let w = world().await;
        let cred = ws_cred(&w, kind).await;
        // (This deletes the workspace last.)
        assert_all_allowed(&w.emu, &cred, &w.a1, &format!("{kind:?}"), &[]).await;
    }
}

/// | List workspaces | Blocked (403) |
#[tokio::test]
async fn workspace_scope_list_is_blocked() {
    for kind in WS_CREDS {
        let w = world().await;
        let cred = ws_cred(&w, kind).await;
        for path in [
            "/workspace",
            "/workspace?page=1&limit=10",
            "/workspace?status=running",
        ] {
            let r = w.emu.get(path, &cred).await;
            assert_eq!(r.status.as_u16(), 403, "{kind:?}: GET {path}: {}", r.text);
            r.err(403, "scope_denied");
        }
    }
}

/// | Create workspaces | Blocked (403) |
#[tokio::test]
async fn workspace_scope_create_is_blocked() {
    for kind in WS_CREDS {
        let w = world().await;
        let cred = ws_cred(&w, kind).await;
        for body in [
            json!({ "image": "node-20" }),
            json!({ "image": "node-20", "namespace": "alpha" }),
            json!({}),
        ] {
            let r = w.emu.post("/workspace", &cred, body.clone()).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{kind:?}: create {body}: {}",
                r.text
            );
            r.err(403, "scope_denied");
        }
        let r = w.emu.get("/workspace", &Cred::admin()).await;
        assert_eq!(r.ok(200)["total"], 4, "{kind:?}: nothing was created");
    }
}

/// | Access any other workspace | Blocked (403) |
#[tokio::test]
async fn workspace_scope_other_workspaces_are_blocked() {
    for kind in WS_CREDS {
        let w = world().await;
        let cred = ws_cred(&w, kind).await;
        let label = format!("{kind:?}");
        assert_all_denied(
            &w.emu,
            &cred,
            &w.a2,
            &format!("{label} on a sibling in its namespace"),
        )
        .await;
        assert_all_denied(
            &w.emu,
            &cred,
            &w.b1,
            &format!("{label} on another namespace's"),
        )
        .await;
        assert_all_denied(&w.emu, &cred, &w.p1, &format!("{label} on a personal one")).await;
        assert_all_denied(
            &w.emu,
            &cred,
            "ws_000000000000",
            &format!("{label} on a missing one"),
        )
        .await;
    }
}

/// Not in the table, but implied: a workspace credential reaches no other service and mints
/// nothing.
#[tokio::test]
async fn workspace_scope_other_services_and_tokens_are_blocked() {
    for kind in WS_CREDS {
        let w = world().await;
        let cred = ws_cred(&w, kind).await;
        for (method, path, body) in other_services() {
            let r = w.emu.api(method.clone(), path, &cred, body).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{kind:?}: {method} {path}: {}",
                r.text
            );
            r.err(403, "scope_denied");
        }
        let r = w
            .emu
            .post(
                "/tokens",
                &cred,
                json!({ "scope": "workspace", "workspaceId": w.a1 }),
            )
            .await;
        r.err(403, "scope_denied");
        let r = w
            .emu
            .post(
                "/__emulator/keys",
                &cred,
                json!({ "scope": "workspace", "workspaceId": w.a1 }),
            )
            .await;
        r.err(403, "scope_denied");
    }
}

// ── Key scopes (Authentication page) ────────────────────────────────────────────────────────

/// | billing | Can only access credits and billing endpoints |
#[tokio::test]
async fn billing_key_reaches_credits_only() {
    let w = world().await;
    let billing = w.emu.create_key("billing", None).await;
    let r = w.emu.get("/credits", &billing).await;
    assert!(r.ok(200)["credits"].is_object(), "{}", r.text);
    let r = w.emu.get("/workspace", &billing).await;
    r.err(403, "scope_denied");
    let r = w
        .emu
        .post("/workspace", &billing, json!({ "image": "node-20" }))
        .await;
    r.err(403, "scope_denied");
    assert_all_denied(&w.emu, &billing, &w.a1, "billing key").await;
    for (method, path, body) in other_services()
        .into_iter()
        .filter(|(_, p, _)| *p != "/credits")
    {
        let r = w.emu.api(method.clone(), path, &billing, body).await;
        assert_eq!(
            r.status.as_u16(),
            403,
            "billing: {method} {path}: {}",
            r.text
        );
        r.err(403, "scope_denied");
    }
    let r = w
        .emu
        .post(
            "/tokens",
            &billing,
            json!({ "scope": "namespace", "namespace": "alpha" }),
        )
        .await;
    r.err(403, "scope_denied");
}

/// | admin | Full access to all resources (default) | — the configured key and one made later.
#[tokio::test]
async fn admin_keys_have_full_access() {
    let w = world().await;
    let made = w.emu.create_key("admin", None).await;
    for cred in [Cred::admin(), made] {
        let r = w.emu.get("/workspace", &cred).await;
        assert_eq!(r.ok(200)["total"], 4);
        w.emu.get("/namespaces", &cred).await.ok(200);
        w.emu.get("/credits", &cred).await.ok(200);
        // Unknown services are simply not there for an admin.
        w.emu.get("/pages", &cred).await.err(404, "not_found");
    }
    for id in [&w.a1, &w.b1, &w.p1] {
        assert_all_allowed(&w.emu, &Cred::admin(), id, "admin", &[]).await;
    }
}

/// Scoped API keys are checked against the scope they were bound to when the scope is made.
#[tokio::test]
async fn scoped_key_creation_validates_its_binding() {
    let w = world().await;
    let cases = [
        (json!({ "scope": "namespace" }), "namespace"),
        (
            json!({ "scope": "namespace", "namespace": "nope" }),
            "namespace",
        ),
        (json!({ "scope": "workspace" }), "workspaceId"),
        (
            json!({ "scope": "workspace", "workspaceId": "ws_000000000000" }),
            "workspaceId",
        ),
        (json!({ "scope": "root" }), "scope"),
        (json!({ "scope": 3 }), "scope"),
        (json!({}), "scope"),
    ];
    for (body, field) in cases {
        w.emu
            .post("/__emulator/keys", &Cred::admin(), body)
            .await
            .validation(field);
    }
    w.emu
        .post("/__emulator/keys", &Cred::None, json!({ "scope": "admin" }))
        .await
        .err(401, "missing_credentials");
    // Keys are listed without their secrets.
    let r = w.emu.get("/__emulator/keys", &Cred::admin()).await;
    let keys = r.ok(200)["keys"].as_array().unwrap().clone();
    assert!(!keys.is_empty());
    assert!(
        keys.iter().all(|k| k.get("clientSecret").is_none()),
        "{keys:?}"
    );
}

/// "Scoped tokens follow the exact same enforcement as scoped API keys": once the bound
/// namespace is deleted, a namespace key and a namespace token must be treated alike.
#[tokio::test]
async fn deleted_namespace_treats_keys_and_tokens_alike() {
    let w = world().await;
    let key = ns_cred(&w, NsCred::Key).await;
    let token = ns_cred(&w, NsCred::Token).await;
    w.emu
        .delete("/namespaces/alpha", &Cred::admin())
        .await
        .ok(200);
    let by_key = w.emu.get("/workspace", &key).await;
    let by_token = w.emu.get("/workspace", &token).await;
    assert_eq!(
        by_key.status, by_token.status,
        "key: {} / token: {}",
        by_key.text, by_token.text
    );
    by_key.err(403, "scope_denied");
}

/// "Access bound workspace → Allowed (all sub-resources)": a sub-resource the emulator does not
/// model (the Authentication page's `GET /workspace/{id}/stats`) must not be refused as "another
/// service" for the workspace's own credential.
#[tokio::test]
async fn unmodelled_sub_resource_of_own_workspace_is_not_scope_denied() {
    let w = world().await;
    for kind in WS_CREDS {
        let cred = ws_cred(&w, kind).await;
        let r = w
            .emu
            .get(&format!("/workspace/{}/stats", w.a1), &cred)
            .await;
        assert_ne!(r.status.as_u16(), 403, "{kind:?}: {}", r.text);
        // Another workspace's is still blocked.
        w.emu
            .get(&format!("/workspace/{}/stats", w.b1), &cred)
            .await
            .err(403, "scope_denied");
    }
}

// ── Widening by a request field ─────────────────────────────────────────────────────────────

/// A scoped credential's reach comes from the credential alone: no query parameter or body field
/// (`namespace`, `workspaceId`, `scope`, `namespace_id`, …) widens it, on any endpoint.
#[tokio::test]
async fn no_query_or_body_field_widens_a_scope() {
    let w = world().await;
    let hostile_query = |id: &str| {
        format!("namespace=beta&namespace_id=beta&workspaceId={id}&workspace_id={id}&scope=admin&admin=true")
    };
    let hostile_body = |id: &str| {
        json!({
            "image": "node-20",
            "namespace": "beta",
            "namespace_id": "beta",
            "workspaceId": id,
            "workspace_id": id,
            "scope": "admin",
        })
    };
    let mut expected: BTreeSet<String> = [w.a1.clone(), w.a2.clone()].into();
    for kind in NS_CREDS {
        let cred = ns_cred(&w, kind).await;
        // The list stays alpha's, whatever the query names.
        let r = w
            .emu
            .get(&format!("/workspace?{}", hostile_query(&w.b1)), &cred)
            .await;
        assert_eq!(ids(r.ok(200)), expected, "{kind:?}: hostile list query");
        // Beta's workspace stays out of reach with the fields naming it or alpha.
        for path in [
            format!("/workspace/{}?{}", w.b1, hostile_query(&w.b1)),
            format!("/workspace/{}?namespace=alpha", w.b1),
            format!(
                "/workspace/{}/internal-api-access/token/raw?namespace=alpha",
                w.b1
            ),
        ] {
            w.emu.get(&path, &cred).await.err(403, "scope_denied");
        }
        let r = w
            .emu
            .post(
                &format!("/workspace/{}/internal-api-access/enable", w.b1),
                &cred,
                json!({ "namespace": "alpha" }),
            )
            .await;
        r.err(403, "scope_denied");
        // Create: forced into alpha whatever the body and query say.
        let r = w
            .emu
            .post(
                &format!("/workspace?{}", hostile_query(&w.b1)),
                &cred,
                hostile_body(&w.b1),
            )
            .await;
        let ws = r.ok(201)["workspace"].clone();
        assert_eq!(ws["namespace"], "alpha", "{kind:?}: hostile create");
        expected.insert(ws["id"].as_str().unwrap().to_string());
        // Enable on its own workspace with a body naming beta's: the gateway token is for its own.
        let r = w
            .emu
            .post(
                &format!(
                    "/workspace/{}/internal-api-access/enable?workspaceId={}",
                    w.a1, w.b1
                ),
                &cred,
                json!({ "workspaceId": w.b1 }),
            )
            .await;
        let token = r.ok(200)["token"].as_str().unwrap().to_string();
        assert_eq!(
            common::claims(&token)["workspaceId"],
            w.a1.as_str(),
            "{kind:?}"
        );
        // Tokens and keys: a body asking for more is still refused.
        for body in [
            json!({ "scope": "namespace", "namespace": "alpha", "admin": true }),
            json!({ "scope": "admin" }),
        ] {
            w.emu
                .post("/tokens", &cred, body)
                .await
                .err(403, "scope_denied");
        }
    }
    for kind in WS_CREDS {
        let cred = ws_cred(&w, kind).await;
        // Its own workspace with fields naming another: still its own; the list stays refused.
        let r = w
            .emu
            .get(
                &format!("/workspace/{}?{}", w.a1, hostile_query(&w.a2)),
                &cred,
            )
            .await;
        assert_eq!(r.ok(200)["workspace"]["id"], w.a1.as_str(), "{kind:?}");
        w.emu
            .get(
                &format!(
                    "/workspace?workspaceId={}&scope=namespace&namespace=alpha",
                    w.a1
                ),
                &cred,
            )
            .await
            .err(403, "scope_denied");
        w.emu
            .get(&format!("/workspace/{}?workspaceId={}", w.a2, w.a1), &cred)
            .await
            .err(403, "scope_denied");
        w.emu
            .post(
                &format!("/workspace?workspaceId={}", w.a1),
                &cred,
                hostile_body(&w.a1),
            )
            .await
            .err(403, "scope_denied");
    }
    // Nothing landed in beta.
    let r = w
        .emu
        .get("/workspace", &Cred::bearer(w.emu.ns_token("beta").await))
        .await;
    assert_eq!(ids(r.ok(200)), [w.b1.clone()].into());
}
