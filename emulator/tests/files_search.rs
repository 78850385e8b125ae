//! Gateway files beyond the basics: `GET /files/stream` (NDJSON), listing options, line ranges
//! in `GET /files/read`, and search (`/files/search`, `/files/search/files`, `…/init`).

mod common;

use common::{ready_runtime as ready, write_file as write, Cred, Emu};
use reqwest::Method;
use serde_json::{json, Value};

async fn get_query(emu: &Emu, token: &str, endpoint: &str, query: &[(&str, &str)]) -> common::Resp {
    emu.send(
        emu.gw_req(Method::GET, endpoint, &Cred::bearer(token))
            .query(query),
    )
    .await
}

/// A small project: src/{main.rs, lib.rs, util/strings.rs}, docs/guide.md, .env, node_modules.
async fn project(emu: &Emu, token: &str) {
    write(
        emu,
        token,
        "/app/src/main.rs",
        "fn main() {\n    println!(\"Hello, world\");\n    hello();\n}\n",
    )
    .await;
    write(
        emu,
        token,
        "/app/src/lib.rs",
        "pub fn hello() {}\n// HELLO in caps\npub fn othello() {}\n",
    )
    .await;
    write(
        emu,
        token,
        "/app/src/util/strings.rs",
        "pub const GREETING: &str = \"hello\";\n",
    )
    .await;
    write(emu, token, "/app/docs/guide.md", "# Guide\nSay hello.\n").await;
    write(emu, token, "/app/.env", "HELLO=1\n").await;
    write(
        emu,
        token,
        "/app/node_modules/pkg/index.js",
        "module.exports = 'hello';\n",
    )
    .await;
}

#[tokio::test]
async fn files_stream_is_ndjson_with_control_events() {
    let (emu, token) = ready().await;
    project(&emu, &token).await;
    for i in 0..450 {
        write(&emu, &token, &format!("/app/many/f{i:03}.txt"), "x").await;
    }
    let r = get_query(
        &emu,
        &token,
        "/files/stream",
        &[("path", "/app"), ("nested", "true")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    assert!(r.text.ends_with('\n'));
    let lines: Vec<Value> = r
        .text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {l:?}: {e}")))
        .collect();
    assert_eq!(lines[0], json!({ "event": "start", "path": "/app" }));
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "done");
    let entries: Vec<&Value> = lines.iter().filter(|l| l.get("event").is_none()).collect();
    assert_eq!(last["count"], entries.len());
    // The same entries as GET /files with the same query.
    let listed = get_query(
        &emu,
        &token,
        "/files",
        &[("path", "/app"), ("nested", "true")],
    )
    .await;
    let listed = listed.ok(200)["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), listed.len());
    assert!(entries.iter().zip(&listed).all(|(a, b)| *a == b));
    assert!(entries.len() > 450);
    let main = entries
        .iter()
        .find(|e| e["path"] == "/app/src/main.rs")
        .unwrap();
    assert_eq!(main["type"], "file");
    assert_eq!(main["extension"], "rs");
    // max_depth: 1 is direct children, 2 one level more.
    let r = get_query(
        &emu,
        &token,
        "/files/stream",
        &[("path", "/app/src"), ("max_depth", "1")],
    )
    .await;
    let paths: Vec<String> = r
        .text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("event").is_none())
        .map(|v| v["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        paths,
        ["/app/src/lib.rs", "/app/src/main.rs", "/app/src/util"]
    );
    // Errors before the stream starts are JSON errors.
    get_query(&emu, &token, "/files/stream", &[("path", "/nope")])
        .await
        .err(404, "not_found");
    get_query(&emu, &token, "/files/stream", &[("path", "relative")])
        .await
        .validation("path");
}

#[tokio::test]
async fn listing_options() {
    let (emu, token) = ready().await;
    project(&emu, &token).await;
    let paths = |r: &common::Resp| -> Vec<String> {
        r.ok(200)["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_string())
            .collect()
    };
    let r = get_query(
        &emu,
        &token,
        "/files",
        &[
            ("path", "/app"),
            ("nested", "true"),
            ("include_ext", "md,.rs"),
            ("ignore_patterns", "node_modules,util"),
        ],
    )
    .await;
    let p = paths(&r);
    assert!(p.contains(&"/app/src/main.rs".to_string()));
    assert!(p.contains(&"/app/docs/guide.md".to_string()));
    assert!(!p
        .iter()
        .any(|p| p.contains("node_modules") || p.contains("util") || p.ends_with(".env")));
    // Directories stay, and README.md is an .md file.
    assert!(p.contains(&"/app/src".to_string()));
    assert!(p.contains(&"/app/README.md".to_string()));
    let r = get_query(
        &emu,
        &token,
        "/files",
        &[
            ("path", "/app/src"),
            ("nested", "true"),
            ("include_content", "true"),
            ("path_filter", "*.rs"),
        ],
    )
    .await;
    let entries = r.ok(200)["entries"].as_array().unwrap().clone();
    let lib = entries
        .iter()
        .find(|e| e["path"] == "/app/src/lib.rs")
        .unwrap();
    assert!(lib["content"].as_str().unwrap().starts_with("pub fn hello"));
    assert!(entries
        .iter()
        .all(|e| e["path"].as_str().unwrap().ends_with(".rs")));
    get_query(&emu, &token, "/files", &[("nested", "maybe")])
        .await
        .validation("nested");
    get_query(&emu, &token, "/files", &[("max_depth", "0")])
        .await
        .validation("max_depth");
}

#[tokio::test]
async fn read_line_ranges() {
    let (emu, token) = ready().await;
    write(
        &emu,
        &token,
        "/app/five.txt",
        "one\ntwo\nthree\nfour\nfive\n",
    )
    .await;
    let r = get_query(&emu, &token, "/files/read", &[("path", "/app/five.txt")]).await;
    let b = r.ok(200);
    assert_eq!(b["content"], "one\ntwo\nthree\nfour\nfive\n");
    assert_eq!(
        (b["lines"].as_u64(), b["size"].as_u64()),
        (Some(5), Some(24))
    );
    assert_eq!(b["extension"], "txt");
    assert!(b.get("start_line").is_none());
    let r = get_query(
        &emu,
        &token,
        "/files/read",
        &[
            ("path", "/app/five.txt"),
            ("start_line", "2"),
            ("end_line", "3"),
        ],
    )
    .await;
    let b = r.ok(200);
    assert_eq!(b["content"], "two\nthree\n");
    assert_eq!(
        (b["start_line"].as_u64(), b["end_line"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(b["lines"], 5);
    let r = get_query(
        &emu,
        &token,
        "/files/read",
        &[
            ("path", "/app/five.txt"),
            ("start_line", "4"),
            ("with_line_numbers", "true"),
        ],
    )
    .await;
    assert_eq!(r.ok(200)["content"], "     4\tfour\n     5\tfive\n");
    let r = get_query(
        &emu,
        &token,
        "/files/read",
        &[("path", "/app/five.txt"), ("end_line", "99")],
    )
    .await;
    assert_eq!(r.ok(200)["end_line"], 5);
    let r = get_query(
        &emu,
        &token,
        "/files/read",
        &[("path", "/app/five.txt"), ("start_line", "9")],
    )
    .await;
    assert_eq!(r.ok(200)["content"], "");
    get_query(
        &emu,
        &token,
        "/files/read",
        &[
            ("path", "/app/five.txt"),
            ("start_line", "3"),
            ("end_line", "2"),
        ],
    )
    .await
    .validation("end_line");
    get_query(
        &emu,
        &token,
        "/files/read",
        &[("path", "/app/five.txt"), ("start_line", "0")],
    )
    .await
    .validation("start_line");
}

async fn search(emu: &Emu, token: &str, query: &[(&str, &str)]) -> Value {
    get_query(emu, token, "/files/search", query)
        .await
        .ok(200)
        .clone()
}

fn files_of(result: &Value) -> Vec<String> {
    let mut files: Vec<String> = result["results"]
        .as_object()
        .expect("results object")
        .keys()
        .cloned()
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn search_content() {
    let (emu, token) = ready().await;
    project(&emu, &token).await;
    // Plain, case-insensitive by default; hidden files skipped.
    let r = search(&emu, &token, &[("q", "hello"), ("path", "/app/src")]).await;
    assert_eq!(r["success"], true);
    assert_eq!(r["query"], "hello");
    assert_eq!(r["path"], "/app/src");
    assert_eq!(
        files_of(&r),
        [
            "/app/src/lib.rs",
            "/app/src/main.rs",
            "/app/src/util/strings.rs"
        ]
    );
    let main = r["results"]["/app/src/main.rs"].as_array().unwrap();
    assert_eq!(
        main[0],
        json!({ "line": 2, "column": 15, "text": "    println!(\"Hello, world\");" })
    );
    assert_eq!(main[1]["line"], 3);
    // lib.rs: hello, HELLO, and the "hello" inside othello.
    assert_eq!(r["results"]["/app/src/lib.rs"].as_array().unwrap().len(), 3);
    assert_eq!(r["total_matches"], 6);
    assert_eq!(r["total_files"], 3);
    assert_eq!(r["capped"], false);
    // Case-sensitive.
    let r = search(
        &emu,
        &token,
        &[
            ("q", "HELLO"),
            ("path", "/app/src"),
            ("case_sensitive", "true"),
        ],
    )
    .await;
    assert_eq!(r["total_matches"], 1);
    assert_eq!(r["results"]["/app/src/lib.rs"][0]["line"], 2);
    // Whole word: not othello.
    let r = search(
        &emu,
        &token,
        &[
            ("q", "hello"),
            ("path", "/app/src/lib.rs"),
            ("whole_word", "true"),
        ],
    )
    .await;
    assert_eq!(r["total_matches"], 2);
    // Regex.
    let r = search(
        &emu,
        &token,
        &[
            ("q", r"pub fn \w+\(\)"),
            ("path", "/app"),
            ("regex", "true"),
        ],
    )
    .await;
    assert_eq!(files_of(&r), ["/app/src/lib.rs"]);
    assert_eq!(r["total_matches"], 2);
    assert_eq!(
        r["results"]["/app/src/lib.rs"][1]["text"],
        "pub fn othello() {}"
    );
    // Without regex=true the pattern is literal.
    let r = search(&emu, &token, &[("q", r"\w+"), ("path", "/app")]).await;
    assert_eq!(r["total_matches"], 0);
    assert_eq!(r["results"], json!({}));
    // max_results caps and says so.
    let r = search(
        &emu,
        &token,
        &[("q", "hello"), ("path", "/app"), ("max_results", "2")],
    )
    .await;
    assert_eq!(r["total_matches"], 2);
    assert_eq!(r["capped"], true);
    let r = search(
        &emu,
        &token,
        &[("q", "hello"), ("path", "/app/src"), ("max_results", "6")],
    )
    .await;
    assert_eq!(r["capped"], false);
    // include_hidden, ignore_patterns, file_types.
    let r = search(
        &emu,
        &token,
        &[("q", "hello"), ("path", "/app"), ("include_hidden", "true")],
    )
    .await;
    assert!(files_of(&r).contains(&"/app/.env".to_string()));
    let r = search(&emu, &token, &[("q", "hello"), ("path", "/app")]).await;
    assert!(files_of(&r).contains(&"/app/node_modules/pkg/index.js".to_string()));
    let r = search(
        &emu,
        &token,
        &[
            ("q", "hello"),
            ("path", "/app"),
            ("ignore_patterns", "node_modules,docs"),
        ],
    )
    .await;
    assert_eq!(files_of(&r).len(), 3);
    let r = search(
        &emu,
        &token,
        &[("q", "hello"), ("path", "/app"), ("file_types", "md")],
    )
    .await;
    assert_eq!(files_of(&r), ["/app/docs/guide.md"]);
    // Context lines.
    let r = search(
        &emu,
        &token,
        &[
            ("q", "othello"),
            ("path", "/app/src"),
            ("context_lines", "1"),
        ],
    )
    .await;
    let hit = &r["results"]["/app/src/lib.rs"][0];
    assert_eq!(hit["context_before"], json!(["// HELLO in caps"]));
    assert_eq!(hit["context_after"], json!([]));
    // Errors.
    get_query(&emu, &token, "/files/search", &[("path", "/app")])
        .await
        .validation("q");
    get_query(
        &emu,
        &token,
        "/files/search",
        &[("q", "("), ("regex", "true")],
    )
    .await
    .validation("q");
    get_query(
        &emu,
        &token,
        "/files/search",
        &[("q", "x"), ("path", "/nope")],
    )
    .await
    .err(404, "not_found");
    get_query(
        &emu,
        &token,
        "/files/search",
        &[("q", "x"), ("max_results", "0")],
    )
    .await
    .validation("max_results");
}

#[tokio::test]
async fn search_files_and_init() {
    let (emu, token) = ready().await;
    project(&emu, &token).await;
    let r = get_query(
        &emu,
        &token,
        "/files/search/files",
        &[("q", "STRINGS"), ("path", "/app")],
    )
    .await;
    let b = r.ok(200);
    assert_eq!(b["files"], json!(["/app/src/util/strings.rs"]));
    assert_eq!(b["total_files"], 1);
    assert_eq!(
        (b["query"].as_str(), b["path"].as_str()),
        (Some("STRINGS"), Some("/app"))
    );
    let r = get_query(
        &emu,
        &token,
        "/files/search/files",
        &[("q", "STRINGS"), ("case_sensitive", "true")],
    )
    .await;
    assert_eq!(r.ok(200)["total_files"], 0);
    let r = get_query(
        &emu,
        &token,
        "/files/search/files",
        &[("q", "*.rs"), ("path", "/app")],
    )
    .await;
    assert_eq!(
        r.ok(200)["files"],
        json!([
            "/app/src/lib.rs",
            "/app/src/main.rs",
            "/app/src/util/strings.rs"
        ])
    );
    let r = get_query(
        &emu,
        &token,
        "/files/search/files",
        &[("q", "src"), ("path", "/app"), ("max_results", "1")],
    )
    .await;
    assert_eq!(r.ok(200)["total_files"], 1);
    let r = emu.gw_get("/files/search/init", &token).await;
    assert_eq!(r.ok(200)["installed"], true);
    let r = emu
        .send(emu.gw_req(Method::POST, "/files/search/init", &Cred::bearer(&token)))
        .await;
    assert_eq!(r.ok(200)["success"], true);
}
