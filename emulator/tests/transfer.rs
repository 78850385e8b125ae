//! `POST /files/transfer/download` and `/files/transfer/upload`: real tar.gz both ways.

mod common;

use common::{ready_runtime as ready, write_file as write, Cred, Emu};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// Every file and directory under `root`: relative path → content (`None` for directories).
async fn snapshot(emu: &Emu, token: &str, root: &str) -> BTreeMap<String, Option<String>> {
    let r = emu
        .send(
            emu.gw_req(Method::GET, "/files", &Cred::bearer(token))
                .query(&[
                    ("path", root),
                    ("nested", "true"),
                    ("include_content", "true"),
                ]),
        )
        .await;
    r.ok(200)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap();
            let relative = path[root.len() + 1..].to_string();
            let content = e["content"].as_str().map(str::to_string);
            (relative, content)
        })
        .collect()
}

async fn download(emu: &Emu, token: &str, body: Value) -> reqwest::Response {
    emu.gw_req(
        Method::POST,
        "/files/transfer/download",
        &Cred::bearer(token),
    )
    .json(&body)
    .send()
    .await
    .expect("download")
}

async fn upload(emu: &Emu, token: &str, dest: &str, archive: Vec<u8>) -> common::Resp {
    emu.send(
        emu.gw_req(Method::POST, "/files/transfer/upload", &Cred::bearer(token))
            .query(&[("dest", dest)])
            .header("Content-Type", "application/gzip")
            .body(archive),
    )
    .await
}

/// Member names and contents of a tar.gz.
fn members(archive: &[u8]) -> Vec<(String, Option<Vec<u8>>)> {
    let mut tar = tar::Archive::new(GzDecoder::new(archive));
    tar.entries()
        .expect("a tar")
        .map(|e| {
            let mut e = e.expect("an entry");
            let name = String::from_utf8(e.path_bytes().to_vec()).unwrap();
            if e.header().entry_type().is_dir() {
                (name, None)
            } else {
                let mut content = Vec::new();
                e.read_to_end(&mut content).unwrap();
                (name, Some(content))
            }
        })
        .collect()
}

#[tokio::test]
async fn folder_round_trip() {
    let (emu, token) = ready().await;
    write(&emu, &token, "/app/proj/README.md", "# proj\n").await;
    write(&emu, &token, "/app/proj/src/main.rs", "fn main() {}\n").await;
    write(&emu, &token, "/app/proj/src/deep/er/x.txt", "deep ü 世界\n").await;
    write(&emu, &token, "/app/proj/debug.log", "noise\n").await;
    emu.gw_post("/files/mkdir", &token, json!({ "path": "/app/proj/empty" }))
        .await
        .ok(200);
    let long = format!("/app/proj/{}/f.txt", "n".repeat(120));
    write(&emu, &token, &long, "long name\n").await;
    let response = download(&emu, &token, json!({ "paths": ["/app/proj"] })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/gzip"
    );
    let length: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let archive = response.bytes().await.unwrap().to_vec();
    assert_eq!(archive.len(), length);
    assert_eq!(&archive[..2], &[0x1f, 0x8b], "gzip magic");
    let names: Vec<String> = members(&archive).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"src/main.rs".to_string()), "{names:?}");
    assert!(names.contains(&"empty/".to_string()), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with('/') && !n.contains("app/proj")),
        "{names:?}"
    );

    let r = upload(&emu, &token, "/tmp/copy", archive).await;
    let b = r.ok(200);
    assert_eq!(b["dest"], "/tmp/copy");
    assert_eq!(b["files_extracted"], 5);
    assert_eq!(
        snapshot(&emu, &token, "/app/proj").await,
        snapshot(&emu, &token, "/tmp/copy").await
    );
    // exclude_patterns.
    let response = download(
        &emu,
        &token,
        json!({ "paths": ["/app/proj"], "exclude_patterns": ["*.log", "deep"] }),
    )
    .await;
    let names: Vec<String> = members(&response.bytes().await.unwrap())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with(".log") || n.contains("deep")),
        "{names:?}"
    );
    assert!(names.contains(&"src/main.rs".to_string()));
    // A file is archived by its name.
    let response = download(&emu, &token, json!({ "paths": ["/app/proj/src/main.rs"] })).await;
    assert_eq!(
        members(&response.bytes().await.unwrap()),
        [("main.rs".to_string(), Some(b"fn main() {}\n".to_vec()))]
    );
}

#[tokio::test]
async fn binary_upload_and_download() {
    let (emu, token) = ready().await;
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "./bin/blob.bin", bytes.as_slice())
        .unwrap();
    let archive = builder.into_inner().unwrap().finish().unwrap();
    let r = upload(&emu, &token, "/app", archive).await;
    assert_eq!(r.ok(200)["files_extracted"], 1);
    let r = emu
        .gw_get_path("/files/stat", "/app/bin/blob.bin", &token)
        .await;
    assert_eq!(r.ok(200)["size"], 70_000);
    let response = download(&emu, &token, json!({ "paths": ["/app/bin"] })).await;
    let got = members(&response.bytes().await.unwrap());
    let blob = got.iter().find(|(n, _)| n == "blob.bin").expect("blob.bin");
    assert_eq!(blob.1.as_deref(), Some(bytes.as_slice()), "bytes intact");
}

/// A tar.gz with one member named exactly `name` (no checks by the tar crate).
fn raw_archive(name: &str) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    {
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
    }
    header.set_size(4);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut tar = header.as_bytes().to_vec();
    tar.extend_from_slice(b"evil");
    tar.resize(tar.len() + 508, 0);
    tar.resize(tar.len() + 1024, 0);
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn traversal_and_garbage_are_refused() {
    let (emu, token) = ready().await;
    // The helper makes archives the server can read.
    let r = upload(&emu, &token, "/tmp/ok", raw_archive("fine.txt")).await;
    assert_eq!(r.ok(200)["files_extracted"], 1);
    for name in [
        "../evil.txt",
        "a/../../evil.txt",
        "/etc/evil.txt",
        "./../evil.txt",
    ] {
        let r = upload(&emu, &token, "/tmp/in", raw_archive(name)).await;
        let b = r.validation("body");
        assert!(b["message"].as_str().unwrap().contains("evil"), "{b}");
    }
    for gone in ["/tmp/evil.txt", "/evil.txt", "/etc/evil.txt", "/tmp/in"] {
        emu.gw_get_path("/files/stat", gone, &token)
            .await
            .err(404, "not_found");
    }
    upload(&emu, &token, "/tmp/x", b"not a tar.gz".to_vec())
        .await
        .validation("body");
    upload(&emu, &token, "/tmp/x", Vec::new())
        .await
        .validation("body");
    upload(&emu, &token, "relative", raw_archive("a"))
        .await
        .validation("dest");
    // Upload onto a file.
    upload(&emu, &token, "/app/README.md", raw_archive("a"))
        .await
        .err(409, "conflict");
    // Download errors.
    let r = emu
        .gw_post("/files/transfer/download", &token, json!({ "paths": [] }))
        .await;
    r.validation("paths");
    let r = emu
        .gw_post(
            "/files/transfer/download",
            &token,
            json!({ "paths": ["/nope"] }),
        )
        .await;
    r.err(404, "not_found");
}
