//! NDJSON bodies (`GET /files/stream`, wire §4.1): lines split incrementally, each a JSON object.
//! Blank lines are skipped; objects with an `event` key are the stream's control events (`start`,
//! `done`) and are skipped too, as the official SDK does, except `event: "error"`, which becomes
//! an error with the server's code. A line that is not a JSON object is an error (the SDK's
//! `JSON.parse` throws there as well), not a dropped line.

use super::error::{codes, ClientError};
use super::json::{self, Value};
use super::request::envelope;
use super::utf8::lossy;
use crate::prelude::*;

/// The longest line held (a `FileEntry` with `content` may be large, not unbounded).
pub const MAX_LINE_BYTES: usize = 16 << 20;

#[derive(Default)]
pub struct Lines {
    buf: Vec<u8>,
    start: usize,
}

impl Lines {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole line (without its `\n` or `\r\n`); `Err` when a line outgrows the bound.
    pub fn next_line(&mut self) -> Result<Option<String>, ClientError> {
        let rest = &self.buf[self.start..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
                let line = lossy(line).into_owned();
                self.start += end + 1;
                Ok(Some(line))
            }
            None if rest.len() > MAX_LINE_BYTES => Err(ClientError::new(
                codes::SERVER_ERROR,
                "files.stream: a line is longer than 16 MiB",
            )),
            None => Ok(None),
        }
    }

    /// The end of the body: a last line without `\n`, if any.
    pub fn finish(&mut self) -> Option<String> {
        let rest = &self.buf[self.start..];
        let line = lossy(rest.strip_suffix(b"\r").unwrap_or(rest)).into_owned();
        self.buf.clear();
        self.start = 0;
        (!line.trim_ascii().is_empty()).then_some(line)
    }
}

/// What one line is: `Some(line)` for an entry to hand out, `None` to skip it.
pub fn entry(line: String) -> Result<Option<String>, ClientError> {
    if line.trim_ascii().is_empty() {
        return Ok(None);
    }
    let members = json::object(&line).ok_or_else(|| {
        ClientError::new(
            codes::SERVER_ERROR,
            "files.stream: a line of the body is not a JSON object",
        )
    })?;
    match json::last(&members, "event") {
        None | Some(Value::Null) => Ok(Some(line)),
        Some(event) if event.as_str().as_deref() == Some("error") => {
            let envelope = envelope(&line);
            Err(ClientError::new(
                envelope.code.as_deref().unwrap_or(codes::SERVER_ERROR),
                envelope
                    .message
                    .unwrap_or_else(|| String::from("files.stream: the gateway sent an error")),
            ))
        }
        Some(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut lines = Lines::new();
        let mut out = Vec::new();
        for chunk in chunks {
            lines.push(chunk);
            while let Ok(Some(line)) = lines.next_line() {
                out.push(line);
            }
        }
        out.extend(lines.finish());
        out
    }

    #[test]
    fn splits_lines_across_chunks() {
        let body = b"{\"a\":1}\r\n\n{\"b\":\"\xc3\xa9\"}\n{\"c\":3}";
        let expected = ["{\"a\":1}", "", "{\"b\":\"é\"}", "{\"c\":3}"];
        for cut in 0..=body.len() {
            assert_eq!(split(&[&body[..cut], &body[cut..]]), expected, "{cut}");
        }
    }

    #[test]
    fn entries_and_control_events() {
        assert_eq!(
            entry("{\"name\":\"a\"}".into()),
            Ok(Some("{\"name\":\"a\"}".into()))
        );
        assert_eq!(entry("  ".into()), Ok(None));
        assert_eq!(entry("{\"event\":\"start\"}".into()), Ok(None));
        assert_eq!(entry("{\"event\":\"done\",\"count\":3}".into()), Ok(None));
        let err = entry("{\"event\":\"error\",\"error\":\"not_found\"}".into()).err();
        assert_eq!(err.map(|e| e.code), Some("not_found".into()));
        let err = entry("{\"name\":".into()).err();
        assert_eq!(err.map(|e| e.code), Some("server_error".into()));
        assert!(entry("[1]".into()).is_err());
    }
}
