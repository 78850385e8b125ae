//! Building Oblien API requests: paths, query strings, percent-encoding.

use super::runtime::{Body, HttpRequest};
use crate::prelude::*;

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub fn encode_component(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// `base` + `path` + `?k=v&…` for the pairs whose value is present.
pub fn url(base: &str, path: &str, query: &[(&str, Option<String>)]) -> String {
    let mut url = String::from(base.trim_end_matches('/'));
    url.push_str(path);
    let mut first = true;
    for (key, value) in query {
        if let Some(value) = value {
            url.push(if first { '?' } else { '&' });
            first = false;
            url.push_str(key);
            url.push('=');
            url.push_str(&encode_component(value));
        }
    }
    url
}

pub fn get(url: String) -> HttpRequest {
    HttpRequest {
        method: "GET",
        url,
        body: None,
    }
}

pub fn post(url: String, json: String) -> HttpRequest {
    HttpRequest {
        method: "POST",
        url,
        body: Some(Body::Json(json)),
    }
}

pub fn delete(url: String) -> HttpRequest {
    HttpRequest {
        method: "DELETE",
        url,
        body: None,
    }
}

/// `/workspace/{id}` with the id encoded as a path segment.
pub fn workspace_path(id: &str, rest: &str) -> String {
    let mut path = String::from("/workspace/");
    path.push_str(&encode_component(id));
    path.push_str(rest);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(encode_component("a b/ü?&="), "a%20b%2F%C3%BC%3F%26%3D");
        assert_eq!(
            url(
                "http://h/",
                "/workspace",
                &[
                    ("page", Some("2".into())),
                    ("status", None),
                    ("limit", Some("5".into()))
                ]
            ),
            "http://h/workspace?page=2&limit=5"
        );
        assert_eq!(workspace_path("ws 1", "/stop"), "/workspace/ws%201/stop");
    }
}
