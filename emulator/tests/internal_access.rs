//! Internal API access: the seven endpoints, under `/workspace/{id}/internal-api-access` and
//! `/workspace/{id}/runtime-api-access`; gateway tokens, rotation, reconnect, disable, raw token,
//! the 30-day token, and who may call them.

mod common;

use common::{claims, is_hex64, Cred};
use serde_json::json;

const PREFIXES: [&str; 2] = ["internal-api-access", "runtime-api-access"];

fn base(id: &str, prefix: &str) -> String {
    format!("/workspace/{id}/{prefix}")
}

#[tokio::test]
async fn status_enable_disable_on_both_prefixes() {
    for prefix in PREFIXES {
        let emu = common::start().await;
        let id = emu.workspace_in(None).await;
        let b = base(&id, prefix);

        let r = emu.get(&b, &Cred::admin()).await;
        let s = r.ok(200);
        assert_eq!(s["enabled"], false, "{prefix}");
        assert_eq!(s["running"], false, "{prefix}");

        // Enable: a gateway JWT, port 9990 added to ingress_ports.
        let r = emu.post_empty(&format!("{b}/enable"), &Cred::admin()).await;
        let e = r.ok(200);
        assert_eq!(e["success"], true);
        assert_eq!(e["enabled"], true);
        let token = e["token"].as_str().expect("token");
        let c = claims(token);
        assert_eq!(c["workspaceId"], id.as_str(), "{prefix}");
        let ttl = c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap();
        assert_eq!(ttl, 3600, "gateway JWTs live about an hour");
        let r = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
        let ports = r.ok(200)["workspace"]["ingress_ports"].clone();
        assert_eq!(ports, json!([9990]), "{prefix}");

        // Enabled and, once provisioned, running.
        let r = emu.get(&b, &Cred::admin()).await;
        assert_eq!(r.ok(200)["enabled"], true);
        emu.wait_ready(&id).await;
        let r = emu.get(&b, &Cred::admin()).await;
        assert_eq!(r.ok(200)["running"], true, "{prefix}");
        emu.gw_get("/health", token).await.ok(200);

        // Enabling twice does not add the port twice.
        emu.post_empty(&format!("{b}/enable"), &Cred::admin())
            .await
            .ok(200);
        let r = emu.get(&format!("/workspace/{id}"), &Cred::admin()).await;
        assert_eq!(r.ok(200)["workspace"]["ingress_ports"], json!([9990]));

        // Disable: the gateway refuses.
        let r = emu
            .post_empty(&format!("{b}/disable"), &Cred::admin())
            .await;
        let d = r.ok(200);
        assert_eq!(d["success"], true);
        assert_eq!(d["enabled"], false);
        let r = emu.get(&b, &Cred::admin()).await;
        assert_eq!(r.ok(200)["enabled"], false);
        assert_eq!(r.body["running"], false);
        emu.gw_get("/health", token)
            .await
            .err(403, "internal_api_disabled");
        emu.gw_get("/files?path=/app", token)
            .await
            .err(403, "internal_api_disabled");
    }
}

/// Both prefixes reach the same state: enabling on one shows on the other.
#[tokio::test]
async fn prefixes_share_state() {
    let emu = common::start().await;
    let id = emu.workspace_in(None).await;
    emu.post_empty(
        &format!("{}/enable", base(&id, PREFIXES[0])),
        &Cred::admin(),
    )
    .await
    .ok(200);
    let r = emu.get(&base(&id, PREFIXES[1]), &Cred::admin()).await;
    assert_eq!(r.ok(200)["enabled"], true);
    emu.post_empty(
        &format!("{}/disable", base(&id, PREFIXES[1])),
        &Cred::admin(),
    )
    .await
    .ok(200);
    let r = emu.get(&base(&id, PREFIXES[0]), &Cred::admin()).await;
    assert_eq!(r.ok(200)["enabled"], false);
}

/// Rotate (`POST …/token`) and reconnect each invalidate every earlier gateway token.
#[tokio::test]
async fn rotate_and_reconnect_invalidate_earlier_tokens() {
    for prefix in PREFIXES {
        let emu = common::start().await;
        let id = emu.workspace_in(None).await;
        emu.wait_ready(&id).await;
        let b = base(&id, prefix);
        let t1 = emu
            .post_empty(&format!("{b}/enable"), &Cred::admin())
            .await
            .ok(200)["token"]
            .as_str()
            .unwrap()
            .to_string();
        // GET …/token reads a token for the current connection: earlier ones stay valid.
        let t2 = emu.get(&format!("{b}/token"), &Cred::admin()).await.ok(200)["token"]
            .as_str()
            .unwrap()
            .to_string();
        emu.gw_get("/health", &t1).await.ok(200);
        emu.gw_get("/health", &t2).await.ok(200);

        let r = emu.post_empty(&format!("{b}/token"), &Cred::admin()).await;
        let rotated = r.ok(200);
        assert_eq!(rotated["success"], true);
        let t3 = rotated["token"].as_str().unwrap().to_string();
        assert_ne!(t3, t1);
        assert_eq!(claims(&t3)["workspaceId"], id.as_str());
        for old in [&t1, &t2] {
            emu.gw_get("/health", old).await.err(401, "token_revoked");
            emu.gw_get("/files?path=/app", old)
                .await
                .err(401, "token_revoked");
        }
        emu.gw_get("/health", &t3).await.ok(200);

        let r = emu
            .post_empty(&format!("{b}/reconnect"), &Cred::admin())
            .await;
        let t4 = r.ok(200)["token"].as_str().unwrap().to_string();
        for old in [&t1, &t2, &t3] {
            emu.gw_get("/health", old).await.err(401, "token_revoked");
        }
        emu.gw_get("/health", &t4).await.ok(200);

        // Rotating on the other prefix invalidates this prefix's token too.
        let other = base(
            &id,
            if prefix == PREFIXES[0] {
                PREFIXES[1]
            } else {
                PREFIXES[0]
            },
        );
        let t5 = emu
            .post_empty(&format!("{other}/token"), &Cred::admin())
            .await
            .ok(200)["token"]
            .as_str()
            .unwrap()
            .to_string();
        emu.gw_get("/health", &t4).await.err(401, "token_revoked");
        emu.gw_get("/health", &t5).await.ok(200);
    }
}

/// Rotation is per workspace: another workspace's tokens keep working.
#[tokio::test]
async fn rotation_does_not_touch_other_workspaces() {
    let emu = common::start().await;
    let (a, ta) = emu.ready_workspace(None).await;
    let (_, tb) = emu.ready_workspace(None).await;
    emu.post_empty(
        &format!("/workspace/{a}/internal-api-access/token"),
        &Cred::admin(),
    )
    .await
    .ok(200);
    emu.gw_get("/health", &ta).await.err(401, "token_revoked");
    emu.gw_get("/health", &tb).await.ok(200);
}

/// Raw token: hex connection token, a 10.x address and port 9990; it is rotated with the rest.
#[tokio::test]
async fn raw_token_shape_and_rotation() {
    for prefix in PREFIXES {
        let emu = common::start().await;
        let (id, _) = emu.ready_workspace(None).await;
        let b = base(&id, prefix);
        let r = emu.get(&format!("{b}/token/raw"), &Cred::admin()).await;
        let raw = r.ok(200).clone();
        assert_eq!(raw["success"], true);
        let token = raw["token"].as_str().unwrap().to_string();
        assert!(is_hex64(&token), "hex token: {token}");
        let ip = raw["ip"].as_str().unwrap();
        let octets: Vec<u8> = ip
            .split('.')
            .map(|o| o.parse().expect("IPv4 octet"))
            .collect();
        assert_eq!(octets.len(), 4, "{ip}");
        assert_eq!(octets[0], 10, "{ip}");
        assert_eq!(raw["port"], 9990);

        // Stable until rotated, and accepted by the gateway (as the VM's port 9990 would).
        let r = emu.get(&format!("{b}/token/raw"), &Cred::admin()).await;
        assert_eq!(r.ok(200)["token"], token.as_str());
        emu.gw_get("/health", &token).await.ok(200);

        emu.post_empty(&format!("{b}/token"), &Cred::admin())
            .await
            .ok(200);
        let r = emu.get(&format!("{b}/token/raw"), &Cred::admin()).await;
        let new = r.ok(200)["token"].as_str().unwrap().to_string();
        assert_ne!(new, token);
        assert!(is_hex64(&new));
        assert_eq!(r.body["ip"], ip, "the VM keeps its address");
        emu.gw_get("/health", &token)
            .await
            .err(401, "token_revoked");
        emu.gw_get("/health", &new).await.ok(200);
    }
}

#[tokio::test]
async fn each_workspace_has_its_own_private_ip() {
    let emu = common::start().await;
    let mut ips = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let (id, _) = emu.ready_workspace(None).await;
        let r = emu
            .get(
                &format!("/workspace/{id}/internal-api-access/token/raw"),
                &Cred::admin(),
            )
            .await;
        ips.insert(r.ok(200)["ip"].as_str().unwrap().to_string());
    }
    assert_eq!(ips.len(), 3, "{ips:?}");
}

/// The token endpoints need the server enabled first; enable and the 30-day token do not.
#[tokio::test]
async fn token_endpoints_before_enable() {
    for prefix in PREFIXES {
        let emu = common::start().await;
        let id = emu.workspace_in(None).await;
        let b = base(&id, prefix);
        for (method, path) in [
            (reqwest::Method::GET, format!("{b}/token")),
            (reqwest::Method::POST, format!("{b}/token")),
            (reqwest::Method::GET, format!("{b}/token/raw")),
            (reqwest::Method::POST, format!("{b}/reconnect")),
        ] {
            let r = emu.api(method.clone(), &path, &Cred::admin(), None).await;
            assert_eq!(r.status.as_u16(), 409, "{method} {path}: {}", r.text);
            r.err(409, "internal_api_disabled");
        }
        emu.post_empty(&format!("{b}/workspace"), &Cred::admin())
            .await
            .ok(200);
        emu.post_empty(&format!("{b}/disable"), &Cred::admin())
            .await
            .ok(200);
    }
}

/// The 30-day workspace token: 30 days, workspace-scoped, no VM IP, usable as an API bearer.
#[tokio::test]
async fn thirty_day_workspace_token() {
    for prefix in PREFIXES {
        let emu = common::start().await;
        let id = emu.workspace_in(None).await;
        let other = emu.workspace_in(None).await;
        let r = emu
            .post_empty(&format!("{}/workspace", base(&id, prefix)), &Cred::admin())
            .await;
        let body = r.ok(200);
        assert_eq!(body["success"], true);
        let token = body["token"].as_str().unwrap().to_string();
        let c = claims(&token);
        assert_eq!(
            c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
            30 * 24 * 3600
        );
        assert_eq!(c["scope"], "workspace");
        assert_eq!(c["workspaceId"], id.as_str());
        let text = c.to_string();
        assert!(!text.contains("10.40."), "no VM IP in the token: {text}");
        assert!(c.get("ip").is_none());
        if let Some(expires_at) = body.get("expiresAt") {
            assert_eq!(
                common::parse_iso_millis(expires_at.as_str().unwrap()),
                c["exp"].as_u64().unwrap() * 1000
            );
        }
        // Workspace-scoped: its own workspace yes, others and lists no.
        let cred = Cred::bearer(&token);
        emu.get(&format!("/workspace/{id}"), &cred).await.ok(200);
        emu.get(&format!("/workspace/{other}"), &cred)
            .await
            .err(403, "scope_denied");
        emu.get("/workspace", &cred).await.err(403, "scope_denied");
        // Not bound to the connection token: rotation leaves it valid.
        emu.post_empty(&format!("{}/enable", base(&id, prefix)), &Cred::admin())
            .await
            .ok(200);
        emu.post_empty(&format!("{}/token", base(&id, prefix)), &Cred::admin())
            .await
            .ok(200);
        emu.get(&format!("/workspace/{id}"), &cred).await.ok(200);
    }
}

/// A namespace token may drive access for its own namespace's workspaces only; a workspace token
/// for its own workspace only. Gateway tokens so obtained reach only that workspace.
#[tokio::test]
async fn scoped_callers_on_access_endpoints() {
    let emu = common::start().await;
    emu.create_namespace("mine").await;
    emu.create_namespace("theirs").await;
    let own = emu.workspace_in(Some("mine")).await;
    let foreign = emu.workspace_in(Some("theirs")).await;
    emu.wait_ready(&own).await;
    emu.wait_ready(&foreign).await;
    let ns = Cred::bearer(emu.ns_token("mine").await);
    let ws_own = Cred::bearer(emu.ws_token(&own).await);
    for prefix in PREFIXES {
        for cred in [&ns, &ws_own] {
            let r = emu
                .post_empty(&format!("{}/enable", base(&own, prefix)), cred)
                .await;
            let token = r.ok(200)["token"].as_str().unwrap().to_string();
            assert_eq!(claims(&token)["workspaceId"], own.as_str());
            emu.gw_get("/health", &token).await.ok(200);
            let r = emu
                .post_empty(&format!("{}/enable", base(&foreign, prefix)), cred)
                .await;
            r.err(403, "scope_denied");
            let r = emu
                .get(&format!("{}/token/raw", base(&foreign, prefix)), cred)
                .await;
            r.err(403, "scope_denied");
            let r = emu
                .post_empty(&format!("{}/workspace", base(&foreign, prefix)), cred)
                .await;
            r.err(403, "scope_denied");
        }
    }
    // The foreign workspace was never enabled by those attempts.
    let r = emu.get(&base(&foreign, PREFIXES[0]), &Cred::admin()).await;
    assert_eq!(r.ok(200)["enabled"], false);
}

/// Before provisioning finishes the gateway answers 503 with Retry-After; then it serves.
#[tokio::test]
async fn gateway_waits_for_provisioning() {
    let emu = common::start_with(oblien_emulator::Config {
        provision_delay_ms: 400,
        ..common::test_config()
    })
    .await;
    let id = emu.workspace_in(None).await;
    let token = emu.enable_access(&id).await;
    let r = emu.gw_get("/health", &token).await;
    r.err(503, "workspace_not_running");
    assert!(r.header("retry-after").is_some(), "Retry-After on 503");
    let r = emu.get(&base(&id, PREFIXES[0]), &Cred::admin()).await;
    assert_eq!(r.ok(200)["running"], false);
    emu.wait_ready(&id).await;
    emu.gw_get("/health", &token).await.ok(200);
    // Stopped: not running again.
    emu.post_empty(&format!("/workspace/{id}/stop"), &Cred::admin())
        .await
        .ok(200);
    emu.gw_get("/health", &token)
        .await
        .err(503, "workspace_not_running");
}

/// A deleted workspace's gateway tokens reach nothing.
#[tokio::test]
async fn deleted_workspace_gateway_token() {
    let emu = common::start().await;
    let (id, token) = emu.ready_workspace(None).await;
    emu.delete(&format!("/workspace/{id}"), &Cred::admin())
        .await
        .ok(200);
    let r = emu.gw_get("/health", &token).await;
    assert!(matches!(r.status.as_u16(), 401 | 403 | 404), "{}", r.text);
    assert!(r.is_error_shape(), "{}", r.text);
}

/// Access endpoints need credentials like everything else.
#[tokio::test]
async fn access_endpoints_need_credentials() {
    let emu = common::start().await;
    let id = emu.workspace_in(None).await;
    for prefix in PREFIXES {
        let b = base(&id, prefix);
        emu.get(&b, &Cred::None)
            .await
            .err(401, "missing_credentials");
        emu.post_empty(&format!("{b}/enable"), &Cred::None)
            .await
            .err(401, "missing_credentials");
        emu.get(&format!("{b}/token/raw"), &Cred::None)
            .await
            .err(401, "missing_credentials");
    }
    let r = emu.get(&base(&id, PREFIXES[0]), &Cred::admin()).await;
    assert_eq!(r.ok(200)["enabled"], false);
}

/// Re-enabling after a disable serves again.
#[tokio::test]
async fn re_enable_after_disable() {
    let emu = common::start().await;
    let (id, _) = emu.ready_workspace(None).await;
    emu.post_empty(
        &format!("/workspace/{id}/runtime-api-access/disable"),
        &Cred::admin(),
    )
    .await
    .ok(200);
    let fresh = emu.enable_access(&id).await;
    emu.gw_get("/health", &fresh).await.ok(200);
}
