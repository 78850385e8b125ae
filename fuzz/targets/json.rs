//! `json`: the core's JSON reader (`core::json`, which the browser runs too) against serde_json
//! as an independent oracle. Both must agree on what is valid JSON and on every top-level member,
//! except where the core documents a difference: a lone surrogate escape decodes to U+FFFD
//! (serde_json refuses it), and numbers are exact only up to 2^53.

use oblien_user_client::core::json::{self, Document, Value};
use serde_json::Value as Oracle;

pub fn run(data: &[u8]) {
    let text = super::text(data);
    let ours = json::parse(&text);
    let oracle = serde_json::from_str::<Oracle>(&text);
    match (&ours, &oracle) {
        (Some(document), Ok(expected)) => {
            same_document(document, expected, &text);
            same_without(document, expected, &text);
        }
        (None, Ok(_)) => panic!("refused valid JSON: {text:?}"),
        (Some(_), Err(error)) => assert!(
            oracle_gap(&text, error),
            "accepted invalid JSON ({error}): {text:?}"
        ),
        (None, Err(_)) => {}
    }
}

/// `json::without` (how a gateway token is taken out of a result): for an object, the oracle's
/// object less that key, for its first key and for `token`; `None` for anything else.
fn same_without(document: &Document<'_>, expected: &Oracle, text: &str) {
    let Oracle::Object(map) = expected else {
        assert_eq!(json::without(text, "token"), None, "{text:?}");
        return;
    };
    let first = match document {
        Document::Object(members) => members.first().map(|(k, _)| k.decode().into_owned()),
        Document::Other(_) => None,
    };
    for key in first.iter().map(String::as_str).chain(["token"]) {
        let stripped = json::without(text, key)
            .unwrap_or_else(|| panic!("without({key:?}) refused an object: {text:?}"));
        let mut less = map.clone();
        less.remove(key);
        let got = serde_json::from_str::<Oracle>(&stripped).ok();
        assert_eq!(
            got,
            Some(Oracle::Object(less)),
            "without({key:?}) of {text:?}"
        );
    }
}

/// Where serde_json refuses what the core (like `JSON.parse`) accepts: a lone surrogate escape
/// (U+FFFD for the core), a number beyond f64 (±infinity), nesting beyond its limit.
pub fn oracle_gap(text: &str, error: &serde_json::Error) -> bool {
    let message = error.to_string();
    has_surrogate_escape(text)
        || message.contains("out of range")
        || message.contains("recursion limit")
}

/// `\uD800`–`\uDFFF` somewhere: serde_json refuses what the core decodes to U+FFFD.
fn has_surrogate_escape(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| {
        w[0] == b'u'
            && matches!(w[1], b'd' | b'D')
            && matches!(w[2], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
    })
}

fn same_document(document: &Document<'_>, expected: &Oracle, text: &str) {
    match (document, expected) {
        (Document::Object(members), Oracle::Object(map)) => {
            // serde_json keeps the last of duplicate keys, as `json::last` does.
            for (key, value) in map {
                let ours =
                    json::last(members, key).unwrap_or_else(|| panic!("{key:?} missing: {text:?}"));
                same_value(ours, value, text);
            }
            for (key, _) in members {
                assert!(
                    map.contains_key(key.decode().as_ref()),
                    "extra {key:?}: {text:?}"
                );
            }
        }
        (Document::Other(value), expected) => same_value(value, expected, text),
        (ours, expected) => panic!("{ours:?} is not {expected:?}: {text:?}"),
    }
}

pub fn same_value(ours: &Value<'_>, expected: &Oracle, text: &str) {
    match (ours, expected) {
        (Value::Null, Oracle::Null) => {}
        (Value::Bool(a), Oracle::Bool(b)) => assert_eq!(a, b, "{text:?}"),
        (Value::String(s), Oracle::String(e)) => assert_eq!(s.decode(), e.as_str(), "{text:?}"),
        (Value::Number(n), Oracle::Number(e)) => same_number(*n, e, text),
        (Value::Array(raw), Oracle::Array(_)) | (Value::Object(raw), Oracle::Object(_)) => {
            let nested = serde_json::from_str::<Oracle>(raw).ok();
            assert_eq!(nested.as_ref(), Some(expected), "raw {raw:?} of {text:?}");
        }
        (ours, expected) => panic!("{ours:?} is not {expected:?}: {text:?}"),
    }
}

fn same_number(ours: f64, expected: &serde_json::Number, text: &str) {
    let exact = expected
        .as_i64()
        .filter(|i| i.unsigned_abs() <= 1 << 53)
        .map(|i| i as f64);
    match exact {
        Some(value) => assert_eq!(ours, value, "{text:?}"),
        None => {
            let value = expected.as_f64().unwrap_or(f64::NAN);
            let close = ours == value
                || (ours.is_infinite() && value.abs() > 1e300)
                || ((ours - value) / value).abs() < 1e-12
                || (value.abs() < 1e-300 && ours.abs() < 1e-290);
            assert!(close, "{ours} is not {value}: {text:?}");
        }
    }
}
