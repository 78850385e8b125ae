//! `api_url`: `api::encode_component`, `api::url` and `api::workspace_path`.
//!
//! Input: lines. The whole input is encoded as one component; the first line is also the base,
//! the second the path and a workspace id, the rest query values (a line `<none>` is an absent
//! value).

use oblien_user_client::core::api;

/// The query keys the client uses (static strings in the real calls).
const KEYS: [&str; 6] = ["page", "limit", "status", "namespace", "search", "q"];

pub fn run(data: &[u8]) {
    let text = super::text(data);
    component(&text);
    let mut lines = text.split('\n');
    let base = lines.next().unwrap_or("");
    let path = lines.next().unwrap_or("");
    component(base);
    let values: Vec<(&str, Option<String>)> = lines
        .enumerate()
        .map(|(i, line)| {
            (
                KEYS[i % KEYS.len()],
                (line != "<none>").then(|| line.to_string()),
            )
        })
        .collect();
    url(base, path, &values);

    let rest = "/stop";
    let built = api::workspace_path(path, rest);
    let segment = built
        .strip_prefix("/workspace/")
        .and_then(|s| s.strip_suffix(rest))
        .expect("/workspace/{id}/stop");
    assert!(!segment.contains(['/', '?', '#']), "{built:?}");
    assert_eq!(percent_decode(segment).as_deref(), Some(path.as_bytes()));
}

/// ASCII of unreserved characters and `%XX` only, decoding back to the input, each byte encoded
/// unless unreserved; encoding again changes only the `%`.
fn component(value: &str) {
    let encoded = api::encode_component(value);
    assert!(encoded.is_ascii(), "{encoded:?}");
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    let expected_len: usize = value
        .bytes()
        .map(|b| if unreserved(b) { 1 } else { 3 })
        .sum();
    assert_eq!(encoded.len(), expected_len, "{value:?}");
    let bytes = encoded.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = &bytes[i + 1..i + 3];
            assert!(
                hex.iter().all(|h| matches!(h, b'0'..=b'9' | b'A'..=b'F')),
                "{encoded:?}"
            );
            i += 3;
        } else {
            assert!(unreserved(bytes[i]), "{encoded:?}");
            i += 1;
        }
    }
    assert_eq!(percent_decode(&encoded).as_deref(), Some(value.as_bytes()));
    assert_eq!(encoded == value, value.bytes().all(unreserved));
    let twice = api::encode_component(&encoded);
    assert_eq!(twice, encoded.replace('%', "%25"));
}

/// `base` without trailing `/`, then `path`, then `?k=v&…` for the present values, in order.
fn url(base: &str, path: &str, query: &[(&str, Option<String>)]) {
    let built = api::url(base, path, query);
    let prefix = format!("{}{}", base.trim_end_matches('/'), path);
    let rest = built
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{built:?} does not start with {prefix:?}"));
    let present: Vec<(&str, &str)> = query
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
        .collect();
    if present.is_empty() {
        assert_eq!(rest, "");
        return;
    }
    assert!(
        rest.is_ascii() && !rest.contains(['#', ' ', '\n']),
        "{rest:?}"
    );
    let pairs: Vec<&str> = rest
        .strip_prefix('?')
        .expect("a query")
        .split('&')
        .collect();
    assert_eq!(pairs.len(), present.len(), "{rest:?}");
    for (pair, (key, value)) in pairs.iter().zip(present) {
        let (k, v) = pair.split_once('=').expect("key=value");
        assert_eq!(k, key);
        assert_eq!(percent_decode(v).as_deref(), Some(value.as_bytes()));
    }
}

/// Strict percent-decoding: `None` on a malformed escape.
fn percent_decode(value: &str) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}
