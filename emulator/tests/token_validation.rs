//! Bearer token validation: "JWT signature + expiry check only", each refusal its own 401 code.
//! alg:none, a changed payload, a wrong key, an expired token, garbage.

mod common;

use common::{b64, claims, jwt_parts, now_secs, Cred};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "emulator-test-signing-secret";

/// An emulator whose API tokens are signed with a known secret, so tests can forge tokens.
async fn start_with_secret() -> common::Emu {
    common::start_with(oblien_emulator::Config {
        jwt_secret: Some(SECRET.to_string()),
        ..common::test_config()
    })
    .await
}

fn sign(claims: &Value, alg: Algorithm, secret: &str) -> String {
    encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn scoped_claims(namespace: &str, exp: u64) -> Value {
    json!({
        "iat": now_secs(),
        "exp": exp,
        "scope": "namespace",
        "namespace": namespace,
        "jti": "forged-jti",
        "iss": "oblien-emulator",
        "typ": "scoped",
    })
}

/// Replaces a JWT's payload, keeping header and signature.
fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64(payload), parts[2])
}

#[tokio::test]
async fn genuine_token_is_accepted() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let token = emu.ns_token("t").await;
    let r = emu.get("/workspace", &Cred::bearer(&token)).await;
    assert_eq!(r.ok(200)["total"], 0);
    // The scheme is case-insensitive.
    let r = emu
        .get(
            "/workspace",
            &Cred::Authorization(format!("bearer {token}")),
        )
        .await;
    r.ok(200);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let token = emu.ns_token("t").await;
    let (_, payload) = jwt_parts(&token);
    for header in [
        json!({ "alg": "none", "typ": "JWT" }),
        json!({ "alg": "None" }),
        json!({ "alg": "NONE" }),
    ] {
        for signature in ["", "AAAA"] {
            let forged = format!("{}.{}.{signature}", b64(&header), b64(&payload));
            let r = emu.get("/workspace", &Cred::bearer(&forged)).await;
            r.err(401, "invalid_token_algorithm");
        }
    }
}

#[tokio::test]
async fn other_algorithms_are_refused() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let payload = scoped_claims("t", now_secs() + 600);
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let forged = sign(&payload, alg, SECRET);
        emu.get("/workspace", &Cred::bearer(&forged))
            .await
            .err(401, "invalid_token_algorithm");
    }
    // A header naming RS256 over an HMAC signature.
    let genuine = sign(&payload, Algorithm::HS256, SECRET);
    let parts: Vec<&str> = genuine.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        b64(&json!({ "alg": "RS256", "typ": "JWT" })),
        parts[1],
        parts[2]
    );
    emu.get("/workspace", &Cred::bearer(&forged))
        .await
        .err(401, "invalid_token_algorithm");
}

#[tokio::test]
async fn changed_payload_is_refused() {
    let emu = common::start().await;
    emu.create_namespace("mine").await;
    emu.create_namespace("victim").await;
    let token = emu.ns_token("mine").await;
    let mut payload = claims(&token);

    // Widen the namespace.
    payload["namespace"] = json!("victim");
    emu.get("/workspace", &Cred::bearer(with_payload(&token, &payload)))
        .await
        .err(401, "invalid_signature");
    // Extend the expiry.
    let mut payload = claims(&token);
    payload["exp"] = json!(payload["exp"].as_u64().unwrap() + 100_000);
    emu.get("/workspace", &Cred::bearer(with_payload(&token, &payload)))
        .await
        .err(401, "invalid_signature");
    // Escalate the scope.
    let mut payload = claims(&token);
    payload["scope"] = json!("admin");
    emu.post(
        "/tokens",
        &Cred::bearer(with_payload(&token, &payload)),
        json!({ "scope": "namespace", "namespace": "victim" }),
    )
    .await
    .err(401, "invalid_signature");
    // A flipped signature byte.
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 2;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    emu.get("/workspace", &Cred::bearer(flipped))
        .await
        .err(401, "invalid_signature");
}

#[tokio::test]
async fn wrong_key_is_refused() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let payload = scoped_claims("t", now_secs() + 600);
    // Control: the right key is accepted (the forged claims are well-formed).
    emu.get(
        "/workspace",
        &Cred::bearer(sign(&payload, Algorithm::HS256, SECRET)),
    )
    .await
    .ok(200);
    let forged = sign(&payload, Algorithm::HS256, "some-other-secret");
    emu.get("/workspace", &Cred::bearer(forged))
        .await
        .err(401, "invalid_signature");

    // A token from another emulator (another random key) is refused as well.
    let other = common::start().await;
    other.create_namespace("t").await;
    let foreign = other.ns_token("t").await;
    emu.get("/workspace", &Cred::bearer(foreign))
        .await
        .err(401, "invalid_signature");
}

#[tokio::test]
async fn expired_token_is_refused() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let short = emu
        .mint(json!({ "scope": "namespace", "namespace": "t", "ttl": 1 }))
        .await;
    let token = short["token"].as_str().unwrap().to_string();
    emu.get("/workspace", &Cred::bearer(&token)).await.ok(200);
    // exp = iat + 1 with iat whole seconds: at most 2 s later it is in the past.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    emu.get("/workspace", &Cred::bearer(&token))
        .await
        .err(401, "token_expired");
}

#[tokio::test]
async fn forged_expired_token_is_refused() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let forged = sign(
        &scoped_claims("t", now_secs() - 10),
        Algorithm::HS256,
        SECRET,
    );
    emu.get("/workspace", &Cred::bearer(forged))
        .await
        .err(401, "token_expired");
}

#[tokio::test]
async fn garbage_is_refused() {
    let emu = common::start().await;
    for garbage in [
        "garbage",
        "not.a.jwt",
        "a.b",
        "....",
        "eyJhbGciOiJIUzI1NiJ9",
        "e30.e30.e30",
        "bnVsbA.bnVsbA.bnVsbA",
        "%%%.%%%.%%%",
    ] {
        let cred = Cred::bearer(garbage);
        let r = emu.get("/workspace", &cred).await;
        r.err(401, "invalid_token");
    }
}

/// Well-signed tokens whose claims are not a scoped token's.
#[tokio::test]
async fn well_signed_but_malformed_claims_are_refused() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let exp = now_secs() + 600;
    let mut cases: Vec<Value> = Vec::new();
    for (key, value) in [
        ("typ", json!("gateway")),
        ("typ", json!("admin")),
        ("scope", json!("admin")),
        ("scope", json!("billing")),
        ("namespace", Value::Null),
    ] {
        let mut c = scoped_claims("t", exp);
        c[key] = value;
        cases.push(c);
    }
    for missing in ["exp", "iat", "jti", "typ", "scope"] {
        let mut c = scoped_claims("t", exp);
        c.as_object_mut().unwrap().remove(missing);
        cases.push(c);
    }
    // Workspace scope without a workspaceId.
    let mut c = scoped_claims("t", exp);
    c["scope"] = json!("workspace");
    cases.push(c);
    for c in cases {
        let r = emu
            .get(
                "/workspace",
                &Cred::bearer(sign(&c, Algorithm::HS256, SECRET)),
            )
            .await;
        assert_eq!(r.status.as_u16(), 401, "claims {c}: {}", r.text);
        r.err(401, "invalid_token");
    }
}

/// The four kinds of refusal have four distinct codes.
#[tokio::test]
async fn refusal_codes_are_distinct() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let payload = scoped_claims("t", now_secs() + 600);
    let none = format!("{}.{}.", b64(&json!({ "alg": "none" })), b64(&payload));
    let wrong_key = sign(&payload, Algorithm::HS256, "other");
    let expired = sign(
        &scoped_claims("t", now_secs() - 5),
        Algorithm::HS256,
        SECRET,
    );
    let mut codes = Vec::new();
    for token in [none, wrong_key, expired, "garbage".to_string()] {
        let r = emu.get("/workspace", &Cred::bearer(token)).await;
        assert_eq!(r.status.as_u16(), 401);
        codes.push(r.body["code"].as_str().unwrap().to_string());
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "codes: {codes:?}");
    assert!(!codes.contains(&"missing_credentials".to_string()));
}

/// Gateway tokens and API tokens are signed with different keys: neither passes for the other.
#[tokio::test]
async fn api_and_gateway_tokens_do_not_cross() {
    let emu = common::start().await;
    emu.create_namespace("t").await;
    let (ws, gateway_token) = emu.ready_workspace(Some("t")).await;
    // A gateway token on the API.
    emu.get(&format!("/workspace/{ws}"), &Cred::bearer(&gateway_token))
        .await
        .err(401, "invalid_signature");
    // API tokens (namespace, workspace, 30-day) on the gateway.
    let ns_token = emu.ns_token("t").await;
    let ws_token = emu.ws_token(&ws).await;
    let long = emu
        .post_empty(
            &format!("/workspace/{ws}/internal-api-access/workspace"),
            &Cred::admin(),
        )
        .await
        .ok(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    for token in [ns_token, ws_token, long] {
        emu.gw_get("/files?path=/app", &token)
            .await
            .err(401, "invalid_signature");
    }
    // The genuine gateway token does work there.
    emu.gw_get("/files?path=/app", &gateway_token).await.ok(200);
}

/// Gateway tokens expire too (configurable TTL).
#[tokio::test]
async fn expired_gateway_token_is_refused() {
    let emu = common::start_with(oblien_emulator::Config {
        gateway_token_ttl_secs: 1,
        ..common::test_config()
    })
    .await;
    let (_, token) = emu.ready_workspace(None).await;
    let c = claims(&token);
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 1);
    emu.gw_get("/health", &token).await.ok(200);
    tokio::time::sleep(Duration::from_millis(2200)).await;
    emu.gw_get("/health", &token)
        .await
        .err(401, "token_expired");
}

/// Gateway refusals: missing, garbage, alg:none, tampered.
#[tokio::test]
async fn gateway_token_refusals() {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    emu.send(emu.gw_req(reqwest::Method::GET, "/health", &Cred::None))
        .await
        .err(401, "missing_credentials");
    emu.gw_get("/health", "garbage")
        .await
        .err(401, "invalid_token");
    let (_, payload) = jwt_parts(&token);
    let none = format!("{}.{}.", b64(&json!({ "alg": "none" })), b64(&payload));
    emu.gw_get("/health", &none)
        .await
        .err(401, "invalid_token_algorithm");
    let mut changed = payload.clone();
    changed["gen"] = json!(changed["gen"].as_u64().unwrap() + 1);
    emu.gw_get("/health", &with_payload(&token, &changed))
        .await
        .err(401, "invalid_signature");
    // A raw-looking token that is no workspace's connection token.
    emu.gw_get("/health", &"ab".repeat(32))
        .await
        .err(401, "token_revoked");
}

/// `header.payload` signed as-is with `alg` under `key` (any header, however odd).
fn sign_raw(header: &Value, payload: &Value, alg: Algorithm, key: &[u8]) -> String {
    let message = format!("{}.{}", b64(header), b64(payload));
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(key), alg)
            .expect("sign");
    format!("{message}.{signature}")
}

/// Keys an attacker knows or can guess are not the signing key, whatever the HMAC: the admin
/// key's public client id, an empty key, the issuer name, a workspace's raw connection token
/// (which a namespace credential may read), a genuine token used as a key. HS256 with them is a
/// bad signature; HS384/HS512 with them (or with the real key) is refused for the algorithm alone.
#[tokio::test]
async fn known_or_guessable_keys_are_refused() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let ns = Cred::bearer(emu.ns_token("t").await);
    let ws = emu.workspace_in(Some("t")).await;
    emu.post_empty(&format!("/workspace/{ws}/internal-api-access/enable"), &ns)
        .await
        .ok(200);
    let raw = emu
        .get(
            &format!("/workspace/{ws}/internal-api-access/token/raw"),
            &ns,
        )
        .await
        .ok(200)["token"]
        .as_str()
        .expect("raw token")
        .to_string();
    let genuine = emu.ns_token("t").await;
    let payload = scoped_claims("t", now_secs() + 600);
    let header = |alg: &str| json!({ "alg": alg, "typ": "JWT" });

    // Control: the real key with HS256 is accepted (the claims are well-formed).
    let control = sign_raw(
        &header("HS256"),
        &payload,
        Algorithm::HS256,
        SECRET.as_bytes(),
    );
    emu.get("/workspace", &Cred::bearer(control)).await.ok(200);

    let guesses: [&[u8]; 7] = [
        common::ADMIN_ID.as_bytes(),
        b"",
        b"secret",
        b"oblien-emulator",
        raw.as_bytes(),
        genuine.as_bytes(),
        "t".as_bytes(),
    ];
    for key in guesses {
        let label = String::from_utf8_lossy(key)
            .chars()
            .take(12)
            .collect::<String>();
        let forged = sign_raw(&header("HS256"), &payload, Algorithm::HS256, key);
        emu.get("/workspace", &Cred::bearer(&forged))
            .await
            .err(401, "invalid_signature");
        for (name, alg) in [("HS384", Algorithm::HS384), ("HS512", Algorithm::HS512)] {
            let forged = sign_raw(&header(name), &payload, alg, key);
            let r = emu.get("/workspace", &Cred::bearer(&forged)).await;
            assert_eq!(
                r.status.as_u16(),
                401,
                "{name} with key {label:?}: {}",
                r.text
            );
            r.err(401, "invalid_token_algorithm");
        }
    }
    // HS512 with the real key too: one algorithm only, whoever holds the key.
    let forged = sign_raw(
        &header("HS512"),
        &payload,
        Algorithm::HS512,
        SECRET.as_bytes(),
    );
    emu.get("/workspace", &Cred::bearer(forged))
        .await
        .err(401, "invalid_token_algorithm");
    // An HS512 signature under a header that claims HS256: a bad signature.
    let forged = sign_raw(
        &header("HS256"),
        &payload,
        Algorithm::HS512,
        SECRET.as_bytes(),
    );
    emu.get("/workspace", &Cred::bearer(forged))
        .await
        .err(401, "invalid_signature");
}

/// Header tricks: a key carried in the header (`jwk`, `jku`, `kid`, `x5u`) is never used; public-key
/// algorithm names over an HMAC made with the real key (RS/HS confusion) and a lower-case `hs256`
/// are refused for their algorithm; the header's own `typ` changes nothing.
#[tokio::test]
async fn header_tricks_are_refused() {
    let emu = start_with_secret().await;
    emu.create_namespace("t").await;
    let payload = scoped_claims("t", now_secs() + 600);
    let attacker = b"attacker-chosen-key";
    let attacker_jwk = json!({ "kty": "oct", "k": base64_url(attacker), "alg": "HS256" });
    for header in [
        json!({ "alg": "HS256", "jwk": attacker_jwk }),
        json!({ "alg": "HS256", "jku": "https://attacker.example/jwks.json" }),
        json!({ "alg": "HS256", "kid": "attacker" }),
        json!({ "alg": "HS256", "kid": "../../../../dev/null" }),
        json!({ "alg": "HS256", "x5u": "https://attacker.example/cert.pem" }),
    ] {
        let forged = sign_raw(&header, &payload, Algorithm::HS256, attacker);
        let r = emu.get("/workspace", &Cred::bearer(&forged)).await;
        assert_eq!(r.status.as_u16(), 401, "header {header}: {}", r.text);
        r.err(401, "invalid_signature");
        // The empty key a `kid` of /dev/null would select.
        let forged = sign_raw(&header, &payload, Algorithm::HS256, b"");
        emu.get("/workspace", &Cred::bearer(&forged))
            .await
            .err(401, "invalid_signature");
    }
    // The real key's HMAC under another algorithm's name.
    let genuine = sign_raw(
        &json!({ "alg": "HS256" }),
        &payload,
        Algorithm::HS256,
        SECRET.as_bytes(),
    );
    let signature = genuine.rsplit('.').next().unwrap();
    for alg in ["RS256", "ES256", "PS256", "EdDSA", "hs256", "HS256 ", ""] {
        let forged = format!(
            "{}.{}.{signature}",
            b64(&json!({ "alg": alg, "typ": "JWT" })),
            b64(&payload)
        );
        let r = emu.get("/workspace", &Cred::bearer(&forged)).await;
        assert_eq!(r.status.as_u16(), 401, "alg {alg:?}: {}", r.text);
        r.err(401, "invalid_token_algorithm");
    }
    // A header without `alg`, or whose `alg` is not a string.
    for header in [
        json!({ "typ": "JWT" }),
        json!({ "alg": 256 }),
        json!({ "alg": null }),
    ] {
        let forged = sign_raw(&header, &payload, Algorithm::HS256, SECRET.as_bytes());
        let r = emu.get("/workspace", &Cred::bearer(&forged)).await;
        assert_eq!(r.status.as_u16(), 401, "header {header}: {}", r.text);
    }
}

/// Gateway tokens cannot be forged with what a workspace holder knows: the raw connection token,
/// the API's signing key, an empty key; nor with HS512; nor re-signed claims for another
/// workspace.
#[tokio::test]
async fn gateway_tokens_cannot_be_forged() {
    let emu = start_with_secret().await;
    let (ws, token) = emu.ready_workspace(None).await;
    let (_, other_token) = emu.ready_workspace(None).await;
    let raw = emu
        .get(
            &format!("/workspace/{ws}/internal-api-access/token/raw"),
            &Cred::admin(),
        )
        .await
        .ok(200)["token"]
        .as_str()
        .expect("raw token")
        .to_string();
    let mut payload = claims(&token);
    payload["exp"] = json!(now_secs() + 3600);
    for key in [
        raw.as_bytes(),
        SECRET.as_bytes(),
        b"".as_slice(),
        other_token.as_bytes(),
    ] {
        let forged = sign_raw(
            &json!({ "alg": "HS256", "typ": "JWT" }),
            &payload,
            Algorithm::HS256,
            key,
        );
        emu.gw_get("/health", &forged)
            .await
            .err(401, "invalid_signature");
        let forged = sign_raw(
            &json!({ "alg": "HS512", "typ": "JWT" }),
            &payload,
            Algorithm::HS512,
            key,
        );
        emu.gw_get("/health", &forged)
            .await
            .err(401, "invalid_token_algorithm");
    }
    // Another workspace's genuine token with this workspace's id swapped in.
    let mut swapped = claims(&other_token);
    swapped["workspaceId"] = json!(ws);
    emu.gw_get("/health", &with_payload(&other_token, &swapped))
        .await
        .err(401, "invalid_signature");
    // The genuine one still works.
    emu.gw_get("/health", &token).await.ok(200);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
