//! The workspace gateway (`workspace.oblien.com`): health, files, exec, and isolation between
//! workspaces (a request reaches a workspace by its token alone).

mod common;

use common::{Cred, Emu};
use reqwest::Method;
use serde_json::{json, Value};

async fn ready() -> (Emu, String) {
    let emu = common::start().await;
    let (_, token) = emu.ready_workspace(None).await;
    (emu, token)
}

fn names(listing: &Value) -> Vec<String> {
    listing["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn health() {
    let (emu, token) = ready().await;
    let r = emu.gw_get("/health", &token).await;
    assert_eq!(r.ok(200)["status"], "ok");
}

#[tokio::test]
async fn list_seeded_tree() {
    let (emu, token) = ready().await;
    let r = emu.gw_get_path("/files", "/app", &token).await;
    let body = r.ok(200);
    assert_eq!(body["success"], true);
    assert_eq!(body["path"], "/app");
    assert_eq!(body["count"], 1);
    let entry = &body["entries"][0];
    assert_eq!(entry["name"], "README.md");
    assert_eq!(entry["path"], "/app/README.md");
    assert_eq!(entry["type"], "file");
    assert!(entry["size"].as_u64().unwrap() > 0);
    common::parse_iso_millis(entry["modified"].as_str().unwrap());
    // Default path is the root.
    let r = emu.gw_get("/files", &token).await;
    let root = r.ok(200);
    assert_eq!(root["path"], "/");
    let mut n = names(root);
    n.sort();
    assert_eq!(n, ["app", "home", "root", "tmp"]);
    assert!(root["entries"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["type"] == "directory"));
}

#[tokio::test]
async fn write_read_stat_append() {
    let (emu, token) = ready().await;
    let r = emu
        .gw_post(
            "/files/write",
            &token,
            json!({ "path": "/app/hello.txt", "content": "hello" }),
        )
        .await;
    let w = r.ok(200);
    assert_eq!(w["path"], "/app/hello.txt");
    assert_eq!(w["size"], 5);
    let r = emu
        .gw_get_path("/files/read", "/app/hello.txt", &token)
        .await;
    let body = r.ok(200);
    assert_eq!(body["content"], "hello");
    assert_eq!(body["size"], 5);
    assert_eq!(body["path"], "/app/hello.txt");

    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/hello.txt", "content": " world", "append": true }),
    )
    .await
    .ok(200);
    let r = emu
        .gw_get_path("/files/read", "/app/hello.txt", &token)
        .await;
    assert_eq!(r.ok(200)["content"], "hello world");
    // Overwrite.
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/hello.txt", "content": "bye" }),
    )
    .await
    .ok(200);
    let r = emu
        .gw_get_path("/files/stat", "/app/hello.txt", &token)
        .await;
    let st = r.ok(200);
    assert_eq!(st["type"], "file");
    assert_eq!(st["size"], 3);
    assert_eq!(st["name"], "hello.txt");
    let r = emu.gw_get_path("/files/stat", "/app", &token).await;
    assert_eq!(r.ok(200)["type"], "directory");
}

#[tokio::test]
async fn mkdir_nested_write_and_recursive_delete() {
    let (emu, token) = ready().await;
    let r = emu
        .gw_post("/files/mkdir", &token, json!({ "path": "/app/a/b/c" }))
        .await;
    assert_eq!(r.ok(200)["path"], "/app/a/b/c");
    // mkdir is idempotent (mkdir -p).
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app/a/b" }))
        .await
        .ok(200);
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/a/b/c/f.txt", "content": "x" }),
    )
    .await
    .ok(200);
    // Missing parents need create_dirs.
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/x/y/z.txt", "content": "z" }),
    )
    .await
    .err(404, "not_found");
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/x/y/z.txt", "content": "z", "create_dirs": true }),
    )
    .await
    .ok(200);
    let r = emu.gw_get_path("/files/stat", "/app/x/y", &token).await;
    assert_eq!(r.ok(200)["type"], "directory");

    let r = emu
        .send(
            emu.gw_req(Method::GET, "/files", &Cred::bearer(&token))
                .query(&[("path", "/app"), ("nested", "true")]),
        )
        .await;
    let all: Vec<String> = r.ok(200)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    for p in [
        "/app/README.md",
        "/app/a",
        "/app/a/b",
        "/app/a/b/c",
        "/app/a/b/c/f.txt",
        "/app/x/y/z.txt",
    ] {
        assert!(all.contains(&p.to_string()), "{p} in {all:?}");
    }

    let r = emu
        .gw_post("/files/delete", &token, json!({ "path": "/app/a" }))
        .await;
    let d = r.ok(200);
    assert_eq!(d["deleted"], true);
    assert_eq!(d["path"], "/app/a");
    for gone in ["/app/a", "/app/a/b/c/f.txt"] {
        emu.gw_get_path("/files/stat", gone, &token)
            .await
            .err(404, "not_found");
    }
    emu.gw_post("/files/delete", &token, json!({ "path": "/app/a" }))
        .await
        .err(404, "not_found");
    let r = emu.gw_get_path("/files", "/app", &token).await;
    let mut n = names(r.ok(200));
    n.sort();
    assert_eq!(n, ["README.md", "x"]);
}

#[tokio::test]
async fn unicode_and_space_paths_via_query_encoding() {
    let (emu, token) = ready().await;
    let dir = "/app/my dir/ünïcødé 世界";
    let file = format!("{dir}/héllo wörld & more?#%.txt");
    let content = "grüße 🌍\nline two";
    emu.gw_post("/files/mkdir", &token, json!({ "path": dir }))
        .await
        .ok(200);
    let r = emu
        .gw_post(
            "/files/write",
            &token,
            json!({ "path": file, "content": content }),
        )
        .await;
    assert_eq!(r.ok(200)["size"], content.len(), "size in bytes");
    let r = emu.gw_get_path("/files/read", &file, &token).await;
    let body = r.ok(200);
    assert_eq!(body["content"], content);
    assert_eq!(body["path"], file.as_str());
    let r = emu.gw_get_path("/files", dir, &token).await;
    assert_eq!(names(r.ok(200)), ["héllo wörld & more?#%.txt"]);
    let r = emu.gw_get_path("/files/stat", &file, &token).await;
    assert_eq!(r.ok(200)["name"], "héllo wörld & more?#%.txt");
    emu.gw_post("/files/delete", &token, json!({ "path": file }))
        .await
        .ok(200);
    emu.gw_get_path("/files/read", &file, &token)
        .await
        .err(404, "not_found");
}

#[tokio::test]
async fn path_normalisation() {
    let (emu, token) = ready().await;
    let r = emu
        .gw_post(
            "/files/write",
            &token,
            json!({ "path": "/app/./sub/../n.txt", "content": "n" }),
        )
        .await;
    assert_eq!(r.ok(200)["path"], "/app/n.txt");
    let r = emu.gw_get_path("/files/read", "//app//n.txt", &token).await;
    assert_eq!(r.ok(200)["content"], "n");
}

#[tokio::test]
async fn file_errors() {
    let (emu, token) = ready().await;
    emu.gw_get_path("/files/read", "/app/missing.txt", &token)
        .await
        .err(404, "not_found");
    emu.gw_get_path("/files/read", "/app", &token)
        .await
        .err(400, "is_a_directory");
    emu.gw_get_path("/files", "/app/README.md", &token)
        .await
        .err(400, "not_a_directory");
    emu.gw_get_path("/files", "/nope", &token)
        .await
        .err(404, "not_found");
    for bad in ["relative/path", "app", "/..", "/app/../../etc"] {
        emu.gw_get_path("/files/read", bad, &token)
            .await
            .validation("path");
        emu.gw_post(
            "/files/write",
            &token,
            json!({ "path": bad, "content": "x" }),
        )
        .await
        .validation("path");
    }
    emu.gw_get("/files/read", &token).await.validation("path");
    emu.gw_get("/files/read?path=", &token)
        .await
        .validation("path");
    emu.gw_get("/files/stat", &token).await.validation("path");
    emu.gw_post("/files/delete", &token, json!({ "path": "/" }))
        .await
        .validation("path");
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app/README.md" }))
        .await
        .err(409, "conflict");
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app", "content": "x" }),
    )
    .await
    .err(400, "is_a_directory");
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/README.md/x", "content": "x" }),
    )
    .await
    .err(400, "not_a_directory");
    // The seeded file is intact.
    let r = emu
        .gw_get_path("/files/read", "/app/README.md", &token)
        .await;
    assert!(r.ok(200)["content"]
        .as_str()
        .unwrap()
        .starts_with("# Workspace"));
}

// ── exec ────────────────────────────────────────────────────────────────────────────────────

async fn exec(emu: &Emu, token: &str, cmd: &[&str]) -> Value {
    let r = emu.gw_post("/exec", token, json!({ "cmd": cmd })).await;
    let body = r.ok(200).clone();
    assert_eq!(body["command"], json!(cmd));
    assert_eq!(body["status"], "exited");
    assert!(body["id"]
        .as_str()
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())));
    body
}

#[tokio::test]
async fn exec_commands() {
    let (emu, token) = ready().await;
    let out = exec(&emu, &token, &["echo", "hello", "world"]).await;
    assert_eq!(out["exit_code"], 0);
    assert_eq!(out["stdout"], "hello world\n");
    assert_eq!(out["stderr"], "");
    let out = exec(&emu, &token, &["echo", "-n", "no newline"]).await;
    assert_eq!(out["stdout"], "no newline");
    let out = exec(&emu, &token, &["pwd"]).await;
    assert_eq!(out["stdout"], "/app\n");
    assert_eq!(out["exit_code"], 0);
    let out = exec(&emu, &token, &["true"]).await;
    assert_eq!(
        (out["exit_code"].as_i64(), out["stdout"].as_str()),
        (Some(0), Some(""))
    );
    let out = exec(&emu, &token, &["false"]).await;
    assert_eq!(out["exit_code"], 1);
    let out = exec(&emu, &token, &["ls"]).await;
    assert_eq!(out["stdout"], "README.md\n");
    let out = exec(&emu, &token, &["cat", "README.md"]).await;
    assert!(out["stdout"].as_str().unwrap().starts_with("# Workspace"));
    assert_eq!(out["exit_code"], 0);
    let out = exec(&emu, &token, &["cat", "/app/missing"]).await;
    assert_eq!(out["exit_code"], 1);
    assert!(
        out["stderr"].as_str().unwrap().contains("No such file"),
        "{out}"
    );
    let out = exec(&emu, &token, &["ls", "/nope"]).await;
    assert_ne!(out["exit_code"], 0);
    let out = exec(&emu, &token, &["rm", "-rf", "/"]).await;
    assert_eq!(out["exit_code"], 1);
    assert!(
        out["stderr"].as_str().unwrap().contains("dangerous"),
        "{out}"
    );
    let out = exec(&emu, &token, &["no-such-command", "--flag"]).await;
    assert_eq!(out["exit_code"], 127);
    assert_eq!(out["stderr"], "sh: no-such-command: command not found\n");
    // rm did nothing: the file is still there.
    emu.gw_get_path("/files/read", "/app/README.md", &token)
        .await
        .ok(200);
}

/// exec sees what the files API wrote.
#[tokio::test]
async fn exec_sees_written_files() {
    let (emu, token) = ready().await;
    emu.gw_post(
        "/files/write",
        &token,
        json!({ "path": "/app/notes.txt", "content": "remember\n" }),
    )
    .await
    .ok(200);
    let out = exec(&emu, &token, &["ls", "/app"]).await;
    assert_eq!(out["stdout"], "README.md\nnotes.txt\n");
    let out = exec(&emu, &token, &["cat", "notes.txt"]).await;
    assert_eq!(out["stdout"], "remember\n");
}

#[tokio::test]
async fn exec_validation() {
    let (emu, token) = ready().await;
    for (body, field) in [
        (json!({ "cmd": [] }), "cmd"),
        (json!({}), "cmd"),
        (json!({ "cmd": "echo hi" }), "cmd"),
        (json!({ "cmd": ["echo", 1] }), "cmd[1]"),
        (
            json!({ "cmd": ["true"], "timeout_seconds": 0 }),
            "timeout_seconds",
        ),
        (
            json!({ "cmd": ["true"], "timeout_seconds": 3601 }),
            "timeout_seconds",
        ),
        (
            json!({ "cmd": ["true"], "timeout_seconds": "10" }),
            "timeout_seconds",
        ),
    ] {
        emu.gw_post("/exec", &token, body).await.validation(field);
    }
}

// ── isolation ───────────────────────────────────────────────────────────────────────────────

/// A token of workspace A cannot see or touch workspace B's files.
#[tokio::test]
async fn workspaces_are_isolated() {
    let emu = common::start().await;
    let (_, ta) = emu.ready_workspace(None).await;
    let (_, tb) = emu.ready_workspace(None).await;
    emu.gw_post(
        "/files/write",
        &ta,
        json!({ "path": "/app/secret-a.txt", "content": "A only" }),
    )
    .await
    .ok(200);
    emu.gw_post(
        "/files/write",
        &tb,
        json!({ "path": "/app/b.txt", "content": "B" }),
    )
    .await
    .ok(200);

    let r = emu.gw_get_path("/files", "/app", &tb).await;
    let mut n = names(r.ok(200));
    n.sort();
    assert_eq!(n, ["README.md", "b.txt"]);
    emu.gw_get_path("/files/read", "/app/secret-a.txt", &tb)
        .await
        .err(404, "not_found");
    emu.gw_get_path("/files/stat", "/app/secret-a.txt", &tb)
        .await
        .err(404, "not_found");
    emu.gw_post("/files/delete", &tb, json!({ "path": "/app/secret-a.txt" }))
        .await
        .err(404, "not_found");
    let out = exec(&emu, &tb, &["cat", "secret-a.txt"]).await;
    assert_eq!(out["exit_code"], 1);
    // B deleting its README leaves A's alone.
    emu.gw_post("/files/delete", &tb, json!({ "path": "/app/README.md" }))
        .await
        .ok(200);
    emu.gw_get_path("/files/read", "/app/README.md", &ta)
        .await
        .ok(200);
    let r = emu
        .gw_get_path("/files/read", "/app/secret-a.txt", &ta)
        .await;
    assert_eq!(r.ok(200)["content"], "A only");
}

/// Workspaces in different namespaces: the same, through tokens obtained by each tenant.
#[tokio::test]
async fn tenants_gateway_tokens_are_isolated() {
    let emu = common::start().await;
    emu.create_namespace("tenant-a").await;
    emu.create_namespace("tenant-b").await;
    let wa = emu.workspace_in(Some("tenant-a")).await;
    let wb = emu.workspace_in(Some("tenant-b")).await;
    emu.wait_ready(&wa).await;
    emu.wait_ready(&wb).await;
    let na = Cred::bearer(emu.ns_token("tenant-a").await);
    let nb = Cred::bearer(emu.ns_token("tenant-b").await);
    let ga = emu
        .post_empty(&format!("/workspace/{wa}/runtime-api-access/enable"), &na)
        .await
        .ok(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    let gb = emu
        .post_empty(&format!("/workspace/{wb}/runtime-api-access/enable"), &nb)
        .await
        .ok(200)["token"]
        .as_str()
        .unwrap()
        .to_string();
    emu.gw_post(
        "/files/write",
        &ga,
        json!({ "path": "/home/a.txt", "content": "tenant a" }),
    )
    .await
    .ok(200);
    emu.gw_get_path("/files/read", "/home/a.txt", &gb)
        .await
        .err(404, "not_found");
    let r = emu.gw_get_path("/files", "/home", &gb).await;
    assert_eq!(r.ok(200)["count"], 0);
}

#[tokio::test]
async fn unknown_gateway_path() {
    let (emu, token) = ready().await;
    emu.gw_get("/nope", &token).await.err(404, "not_found");
    emu.send(emu.gw_req(Method::GET, "/nope", &Cred::None))
        .await
        .err(401, "missing_credentials");
    let r = emu
        .send(emu.gw_req(Method::DELETE, "/files", &Cred::bearer(&token)))
        .await;
    r.err(405, "method_not_allowed");
}

#[tokio::test]
async fn gateway_needs_a_token_on_every_endpoint() {
    let (emu, _) = ready().await;
    for (method, path) in [
        (Method::GET, "/health"),
        (Method::GET, "/files?path=/app"),
        (Method::GET, "/files/read?path=/app/README.md"),
        (Method::GET, "/files/stat?path=/app"),
        (Method::POST, "/files/write"),
        (Method::POST, "/files/mkdir"),
        (Method::POST, "/files/delete"),
        (Method::POST, "/exec"),
    ] {
        let mut rb = emu.gw_req(method.clone(), path, &Cred::None);
        if method == Method::POST {
            rb = rb.json(&json!({ "path": "/app/x", "content": "x", "cmd": ["true"] }));
        }
        emu.send(rb).await.err(401, "missing_credentials");
        // API keys are not gateway credentials.
        let mut rb = emu.gw_req(method.clone(), path, &Cred::admin());
        if method == Method::POST {
            rb = rb.json(&json!({ "path": "/app/x", "content": "x", "cmd": ["true"] }));
        }
        emu.send(rb).await.err(401, "missing_credentials");
    }
}

/// The gateway routes by the token alone: a query parameter, a header or a path naming another
/// workspace (of another namespace) reaches nothing of it; its files stay its own.
#[tokio::test]
async fn gateway_target_comes_from_the_token_alone() {
    let emu = common::start().await;
    emu.create_namespace("tenant-a").await;
    emu.create_namespace("tenant-b").await;
    let wa = emu.workspace_in(Some("tenant-a")).await;
    let wb = emu.workspace_in(Some("tenant-b")).await;
    emu.wait_ready(&wa).await;
    emu.wait_ready(&wb).await;
    let ta = emu.enable_access(&wa).await;
    let tb = emu.enable_access(&wb).await;
    emu.gw_post(
        "/files/write",
        &tb,
        json!({ "path": "/app/b-secret.txt", "content": "tenant b only" }),
    )
    .await
    .ok(200);

    let hints = [
        format!("workspaceId={wb}"),
        format!("workspace_id={wb}"),
        format!("workspace={wb}"),
        "namespace=tenant-b".to_string(),
    ];
    for hint in &hints {
        let path = format!("/files/read?path=%2Fapp%2Fb-secret.txt&{hint}");
        emu.gw_get(&path, &ta).await.err(404, "not_found");
        let r = emu.gw_get(&format!("/files?path=%2Fapp&{hint}"), &ta).await;
        assert!(
            !names(r.ok(200)).contains(&"b-secret.txt".to_string()),
            "{hint}"
        );
    }
    for (name, value) in [
        ("X-Workspace-Id", wb.as_str()),
        ("X-Workspace", wb.as_str()),
        ("X-Namespace", "tenant-b"),
        ("X-Forwarded-Host", "tenant-b.workspace.oblien.com"),
    ] {
        let rb = emu
            .gw_req(
                Method::GET,
                "/files/read?path=%2Fapp%2Fb-secret.txt",
                &Cred::bearer(&ta),
            )
            .header(name, value);
        emu.send(rb).await.err(404, "not_found");
    }
    // A path naming the other workspace is no route at all.
    emu.gw_get(
        &format!("/workspace/{wb}/files/read?path=%2Fapp%2Fb-secret.txt"),
        &ta,
    )
    .await
    .err(404, "not_found");
    // Writes with a hint land in A's tree; B's file is untouched.
    emu.send(
        emu.gw_req(
            Method::POST,
            &format!("/files/write?workspaceId={wb}"),
            &Cred::bearer(&ta),
        )
        .header("X-Workspace-Id", &wb)
        .json(
            &json!({ "path": "/app/b-secret.txt", "content": "overwritten?", "workspaceId": wb }),
        ),
    )
    .await
    .ok(200);
    let r = emu
        .gw_get_path("/files/read", "/app/b-secret.txt", &tb)
        .await;
    assert_eq!(r.ok(200)["content"], "tenant b only");
    let r = emu
        .gw_get_path("/files/read", "/app/b-secret.txt", &ta)
        .await;
    assert_eq!(r.ok(200)["content"], "overwritten?");
    // Exec with a hint runs in A.
    let r = emu
        .gw_post(
            "/exec",
            &ta,
            json!({ "cmd": ["cat", "b-secret.txt"], "workspaceId": wb }),
        )
        .await;
    assert_eq!(r.ok(200)["stdout"], "overwritten?");
}
