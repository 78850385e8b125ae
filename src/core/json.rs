//! A strict JSON reader (RFC 8259) for what the core reads itself: token claims, response
//! envelopes, the few fields of the mint protocol. One implementation for native tests, fuzzing
//! and the browser, so what is tested is what ships.
//!
//! It validates the whole text in one pass and hands back the top-level members; nested objects
//! and arrays come back as their raw (validated) text, strings as raw text decoded on demand, so a
//! large body costs one scan and no copies. Differences from `JSON.parse`, on purpose:
//! - numbers are read exactly up to 2^53 (JWT times); beyond, within a few ulps;
//! - a lone surrogate escape (`"\ud800"`) decodes to U+FFFD, as wasm-bindgen's string conversion
//!   of `JSON.parse`'s result does;
//! - duplicate keys are reported to the caller, who decides (claims refuse them).

use crate::prelude::*;
use alloc::borrow::Cow;

/// Deeper nesting is refused (as serde_json's default limit), so no input can exhaust the stack.
const MAX_DEPTH: usize = 128;

/// A string's raw contents between its quotes (escapes already validated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'a>(&'a str);

impl<'a> Str<'a> {
    /// The decoded text; borrowed when there is no escape.
    pub fn decode(&self) -> Cow<'a, str> {
        // `scan::find`, not `str::contains`: core's searcher and memchr stay out of the wasm.
        if super::scan::find(self.0.as_bytes(), b'\\', b'\\', 0).is_none() {
            return Cow::Borrowed(self.0);
        }
        let mut out = String::with_capacity(self.0.len());
        let mut chars = self.0.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let decoded = match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('b') => '\u{8}',
                Some('f') => '\u{c}',
                Some('u') => {
                    let unit = hex4(&mut chars);
                    if (0xD800..0xDC00).contains(&unit) {
                        // A high surrogate: whole only when a low one follows.
                        let rest = chars.as_str();
                        let low = rest
                            .strip_prefix("\\u")
                            .and_then(|r| r.get(..4))
                            .and_then(|h| u32::from_str_radix(h, 16).ok())
                            .filter(|low| (0xDC00..0xE000).contains(low));
                        match low {
                            Some(low) => {
                                chars = rest.get(6..).unwrap_or_default().chars();
                                let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                                char::from_u32(code).unwrap_or('\u{FFFD}')
                            }
                            None => '\u{FFFD}',
                        }
                    } else {
                        char::from_u32(unit).unwrap_or('\u{FFFD}')
                    }
                }
                // `"`, `\` and `/` stand for themselves; validation allowed nothing else.
                Some(other) => other,
                None => break,
            };
            out.push(decoded);
        }
        Cow::Owned(out)
    }

    /// Whether the decoded text equals `expected`.
    pub fn is(&self, expected: &str) -> bool {
        self.decode() == expected
    }
}

/// Four hex digits (validated beforehand); 0xFFFD if not.
fn hex4(chars: &mut core::str::Chars<'_>) -> u32 {
    let mut value = 0;
    for _ in 0..4 {
        let digit = chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0);
        value = value * 16 + digit;
    }
    value
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(f64),
    String(Str<'a>),
    /// The raw text of an array, brackets included.
    Array(&'a str),
    /// The raw text of an object, braces included: read it with [`object`].
    Object(&'a str),
}

impl<'a> Value<'a> {
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        match self {
            Value::String(s) => Some(s.decode()),
            _ => None,
        }
    }
}

/// One member of an object: its key and value.
pub type Member<'a> = (Str<'a>, Value<'a>);

/// A whole JSON text.
#[derive(Debug, Clone, PartialEq)]
pub enum Document<'a> {
    /// A top-level object, its members in order (duplicates included).
    Object(Vec<Member<'a>>),
    /// Any other JSON value.
    Other(Value<'a>),
}

/// Parses one JSON text (surrounding whitespace allowed); `None` when it is not valid JSON.
pub fn parse(text: &str) -> Option<Document<'_>> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    parser.ws();
    let document = if parser.peek() == Some(b'{') {
        parser.pos += 1;
        let mut members = Vec::new();
        parser.object_body(0, &mut |key, value, _| members.push((key, value)))?;
        Document::Object(members)
    } else {
        Document::Other(parser.value(0)?)
    };
    parser.ws();
    (parser.pos == parser.bytes.len()).then_some(document)
}

/// The members of a JSON object text; `None` when it is not exactly one valid object.
pub fn object(text: &str) -> Option<Vec<Member<'_>>> {
    match parse(text)? {
        Document::Object(members) => Some(members),
        Document::Other(_) => None,
    }
}

/// `text`, one JSON object, without its top-level members named `key` (every duplicate); the
/// other members are kept byte for byte, in order. `None` when `text` is not exactly one valid
/// object. How a secret (a gateway token) is taken out of a result before the page sees it.
pub fn without(text: &str, key: &str) -> Option<String> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    parser.ws();
    parser.eat(b'{')?;
    let mut out = String::from("{");
    parser.object_body(0, &mut |name, _, member| {
        if !name.is(key) {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(member);
        }
    })?;
    parser.ws();
    out.push('}');
    (parser.pos == parser.bytes.len()).then_some(out)
}

/// The last member named `key` (as `JSON.parse` keeps the last of duplicates).
pub fn last<'m, 'a>(members: &'m [Member<'a>], key: &str) -> Option<&'m Value<'a>> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k.is(key))
        .map(|(_, v)| v)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    fn literal(&mut self, word: &str) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end) == Some(word.as_bytes())).then(|| self.pos = end)
    }

    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.pos;
        match self.peek()? {
            b'n' => self.literal("null").map(|_| Value::Null),
            b't' => self.literal("true").map(|_| Value::Bool(true)),
            b'f' => self.literal("false").map(|_| Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'{' => {
                self.pos += 1;
                self.object_body(depth + 1, &mut |_, _, _| {})?;
                self.text.get(start..self.pos).map(Value::Object)
            }
            b'[' => {
                self.pos += 1;
                self.array_body(depth + 1)?;
                self.text.get(start..self.pos).map(Value::Array)
            }
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            _ => None,
        }
    }

    /// After `{`: members up to and including `}`. `on_member` gets each key, its value and the
    /// member's raw text (`"key": value`).
    fn object_body(
        &mut self,
        depth: usize,
        on_member: &mut dyn FnMut(Str<'a>, Value<'a>, &'a str),
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let start = self.pos;
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value = self.value(depth)?;
            on_member(key, value, self.text.get(start..self.pos)?);
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// After `[`: elements up to and including `]`.
    fn array_body(&mut self, depth: usize) -> Option<()> {
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string starting at `"`; escapes validated, raw contents returned.
    fn string(&mut self) -> Option<Str<'a>> {
        self.eat(b'"')?;
        let start = self.pos;
        loop {
            // Plain characters in one tight scan (a stream's base64 payload is all plain).
            let rest = self.bytes.get(self.pos..)?;
            self.pos += super::scan::find(rest, b'"', b'\\', 0x20).unwrap_or(rest.len());
            match self.peek()? {
                b'"' => {
                    let raw = self.text.get(start..self.pos)?;
                    self.pos += 1;
                    return Some(Str(raw));
                }
                b'\\' => {
                    self.pos += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            let digits = self.bytes.get(self.pos + 1..self.pos + 5)?;
                            if !digits.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.pos += 5;
                        }
                        _ => return None,
                    }
                }
                // Control characters must be escaped (RFC 8259 §7).
                0..=0x1F => return None,
                _ => self.pos += 1,
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<f64> {
        let negative = self.eat(b'-').is_some();
        let mut mantissa: u64 = 0;
        // Powers of ten beyond the 19 digits a u64 holds, and from the fraction.
        let mut scale: i64 = 0;
        let mut digits = |parser: &mut Self, fraction: bool| -> usize {
            let mut count = 0;
            while let Some(d @ b'0'..=b'9') = parser.peek() {
                if mantissa < 1_000_000_000_000_000_000 {
                    mantissa = mantissa * 10 + u64::from(d - b'0');
                    if fraction {
                        scale -= 1;
                    }
                } else if !fraction {
                    scale += 1;
                }
                parser.pos += 1;
                count += 1;
            }
            count
        };
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                digits(self, false);
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && digits(self, true) == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            let exp_negative = match self.peek() {
                Some(b'-') => {
                    self.pos += 1;
                    true
                }
                Some(b'+') => {
                    self.pos += 1;
                    false
                }
                _ => false,
            };
            let mut exponent: i64 = 0;
            let mut count = 0;
            while let Some(d @ b'0'..=b'9') = self.peek() {
                exponent = (exponent * 10 + i64::from(d - b'0')).min(100_000);
                self.pos += 1;
                count += 1;
            }
            if count == 0 {
                return None;
            }
            scale += if exp_negative { -exponent } else { exponent };
        }
        // One rounding: 10^k is exact up to k = 22, so dividing keeps 0.25 = 25 / 100 exact.
        let power = super::float::powi(10.0, scale.unsigned_abs().min(400) as i32);
        // (0 × ∞ would be NaN: `0e999` is zero.)
        let magnitude = if mantissa == 0 {
            0.0
        } else if scale >= 0 {
            mantissa as f64 * power
        } else {
            mantissa as f64 / power
        };
        Some(if negative { -magnitude } else { magnitude })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Vec<(String, Value<'_>)> {
        object(text)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.decode().into_owned(), v))
            .collect()
    }

    #[test]
    fn reads_top_level_members() {
        let m = members(r#" {"a": 1, "b": "x\ny", "c": {"d": [1, 2]}, "e": null, "f": true} "#);
        assert_eq!(m.len(), 5);
        assert_eq!(m[0], ("a".into(), Value::Number(1.0)));
        assert_eq!(m[1].1.as_str().as_deref(), Some("x\ny"));
        assert_eq!(m[2].1, Value::Object(r#"{"d": [1, 2]}"#));
        assert_eq!(m[3].1, Value::Null);
        assert_eq!(m[4].1, Value::Bool(true));
    }

    #[test]
    fn numbers() {
        for (text, value) in [
            ("0", 0.0),
            ("-0", -0.0),
            ("1700000000", 1_700_000_000.0),
            ("9007199254740993", 9_007_199_254_740_992.0),
            ("1.5", 1.5),
            ("1e3", 1000.0),
            ("2.5E-1", 0.25),
            ("12345678901234567890123", 1.2345678901234568e22),
            ("0E2000000000", 0.0),
            ("1e400", f64::INFINITY),
        ] {
            assert_eq!(
                parse(text),
                Some(Document::Other(Value::Number(value))),
                "{text}"
            );
        }
        for bad in [
            "01", "1.", ".5", "-", "1e", "+1", "0x10", "NaN", "Infinity", "1e+",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn strings_and_escapes() {
        let decode = |t: &str| match parse(t) {
            Some(Document::Other(Value::String(s))) => Some(s.decode().into_owned()),
            _ => None,
        };
        assert_eq!(decode(r#""a\"b\\c\/d""#).as_deref(), Some("a\"b\\c/d"));
        assert_eq!(decode(r#""\u00e9\ud83d\ude00""#).as_deref(), Some("é😀"));
        assert_eq!(decode(r#""\ud800x""#).as_deref(), Some("\u{FFFD}x"));
        assert_eq!(decode(r#""\udc00""#).as_deref(), Some("\u{FFFD}"));
        assert_eq!(decode(r#""\ud800\u0041""#).as_deref(), Some("\u{FFFD}A"));
        for bad in ["\"a", "\"\\x\"", "\"\\u12\"", "\"tab\there\"", "'a'"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn refuses_what_is_not_one_json_text() {
        for bad in [
            "",
            " ",
            "{",
            "}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "[1,]",
            "{a:1}",
            "{} {}",
            "tru",
            "nul",
            "<html>",
            "{\"a\":1}x",
            "[",
            "\u{feff}{}",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(parse(&deep), None);
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&ok).is_some());
    }

    #[test]
    fn without_removes_every_member_of_that_name_and_keeps_the_rest_verbatim() {
        let text = r#" { "success" : true, "token":"eyJ.a.b", "n": 1.50,"\u0074oken": {"x":[1]}, "e":"\u00e9" } "#;
        assert_eq!(
            without(text, "token").as_deref(),
            Some(r#"{"success" : true,"n": 1.50,"e":"\u00e9"}"#)
        );
        assert_eq!(without("{}", "token").as_deref(), Some("{}"));
        assert_eq!(without(r#"{"token":"t"}"#, "token").as_deref(), Some("{}"));
        assert_eq!(
            without(r#"{"a":{"token":"nested"}}"#, "token").as_deref(),
            Some(r#"{"a":{"token":"nested"}}"#)
        );
        for bad in [
            "",
            "[1]",
            "\"token\"",
            "{\"token\":1",
            "{\"a\":1} x",
            "{\"a\":1,}",
        ] {
            assert_eq!(without(bad, "token"), None, "{bad:?}");
        }
    }

    #[test]
    fn duplicates_are_kept_and_last_wins() {
        let m = object(r#"{"k": 1, "k": 2}"#).unwrap_or_default();
        assert_eq!(m.len(), 2);
        assert_eq!(last(&m, "k"), Some(&Value::Number(2.0)));
        // An escaped key is the same key.
        let m = object(r#"{"k": 1, "\u006b": 3}"#).unwrap_or_default();
        assert_eq!(last(&m, "k"), Some(&Value::Number(3.0)));
    }
}
