//! An incremental server-sent events parser: bytes in, events out, as the HTML standard reads an
//! event stream ("Interpreting an event stream"): lines end with CRLF, LF or CR (a CRLF split
//! across two chunks is one line end); a blank line dispatches the event; `:` starts a comment;
//! `field:value` with one optional space after the colon (`data:x` and `data: x` are the same);
//! a line without a colon is a field with an empty value; `data` lines join with `\n`; `event`
//! names the event (default `message`); `id` and `retry` are read and ignored; a leading BOM is
//! skipped; an event with no `data` line is not dispatched; an unfinished event at the end of
//! the body is dropped.
//!
//! Memory is bounded: an event (its lines still buffered included) may not exceed
//! [`MAX_EVENT_BYTES`]; a longer one is an error, never an unbounded buffer.

use crate::prelude::*;

/// The largest event the parser holds (a stream's output chunk is far smaller).
pub const MAX_EVENT_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` field, or `message`.
    pub name: String,
    /// The `data:` lines joined by `\n`.
    pub data: String,
}

/// The event stream broke a bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge;

#[derive(Default)]
pub struct Parser {
    /// Bytes received and not yet consumed as whole lines.
    buf: Vec<u8>,
    /// The first unconsumed byte of `buf`.
    start: usize,
    /// The last line ended with CR: an LF that comes next belongs to it.
    skip_lf: bool,
    /// Past the optional BOM.
    started: bool,
    name: String,
    data: String,
    has_data: bool,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Parser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next bytes of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// Room for the next `len` bytes of the body, to be filled in place (one copy from a JS
    /// chunk, not two); as [`Parser::push`] once filled.
    pub fn tail(&mut self, len: usize) -> &mut [u8] {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let at = self.buf.len();
        self.buf.resize(at + len, 0);
        &mut self.buf[at..]
    }

    /// Bytes held for an event not yet complete (for tests and bounds).
    pub fn held(&self) -> usize {
        self.buf.len() - self.start + self.data.len() + self.name.len()
    }

    /// The next complete event in what was pushed, if any.
    pub fn next_event(&mut self) -> Result<Option<Event>, TooLarge> {
        if !self.started {
            let rest = &self.buf[self.start..];
            if rest.len() < BOM.len() && BOM.starts_with(rest) {
                return Ok(None);
            }
            if rest.starts_with(BOM) {
                self.start += BOM.len();
            }
            self.started = true;
        }
        loop {
            if self.skip_lf && self.start < self.buf.len() {
                if self.buf[self.start] == b'\n' {
                    self.start += 1;
                }
                self.skip_lf = false;
            }
            let rest = &self.buf[self.start..];
            let Some(end) = super::scan::find(rest, b'\n', b'\r', 0) else {
                if self.held() > MAX_EVENT_BYTES {
                    return Err(TooLarge);
                }
                // Keep memory proportional to what is pending, not to what went by.
                if self.start > 0 {
                    self.buf.drain(..self.start);
                    self.start = 0;
                }
                return Ok(None);
            };
            self.skip_lf = rest[end] == b'\r';
            let line_start = self.start;
            self.start += end + 1;
            let line = &self.buf[line_start..line_start + end];
            if line.is_empty() {
                if let Some(event) = self.dispatch() {
                    return Ok(Some(event));
                }
                continue;
            }
            let (field, value) = match line.iter().position(|&b| b == b':') {
                Some(0) => continue, // a comment
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (line, &line[..0]),
            };
            match field {
                b"data" => {
                    if self.has_data {
                        self.data.push('\n');
                    }
                    self.has_data = true;
                    self.data.push_str(&super::utf8::lossy(value));
                }
                b"event" => self.name = super::utf8::lossy(value).into_owned(),
                _ => {} // id, retry, unknown fields
            }
            if self.held() > MAX_EVENT_BYTES {
                return Err(TooLarge);
            }
        }
    }

    /// A blank line: the event collected so far, if it had data; the buffers start over.
    fn dispatch(&mut self) -> Option<Event> {
        let name = core::mem::take(&mut self.name);
        if !core::mem::replace(&mut self.has_data, false) {
            return None;
        }
        Some(Event {
            name: if name.is_empty() {
                String::from("message")
            } else {
                name
            },
            data: core::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut parser = Parser::new();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            while let Ok(Some(e)) = parser.next_event() {
                out.push((e.name, e.data));
            }
        }
        out
    }

    fn ev(name: &str, data: &str) -> (String, String) {
        (name.into(), data.into())
    }

    #[test]
    fn reads_the_standard_forms() {
        assert_eq!(
            all(&[b"event: stdout\ndata: {\"a\":1}\n\n"]),
            [ev("stdout", "{\"a\":1}")]
        );
        assert_eq!(
            all(&[b"data:x\n\ndata: y\n\n"]),
            [ev("message", "x"), ev("message", "y")]
        );
        assert_eq!(
            all(&[b"data:  two spaces\n\n"]),
            [ev("message", " two spaces")]
        );
        assert_eq!(all(&[b"data: a\ndata: b\n\n"]), [ev("message", "a\nb")]);
        assert_eq!(
            all(&[b": comment\ndata: a\n: more\n\n"]),
            [ev("message", "a")]
        );
        assert_eq!(all(&[b"data\n\n"]), [ev("message", "")]);
        assert_eq!(all(&[b"data:\n\n"]), [ev("message", "")]);
        assert_eq!(all(&[b"event: x\n\n"]), []);
        assert_eq!(
            all(&[b"id: 3\nretry: 10\ndata: a\n\n"]),
            [ev("message", "a")]
        );
        assert_eq!(all(&[b"data: unfinished\n"]), []);
        assert_eq!(all(&[b"\xEF\xBB\xBFdata: bom\n\n"]), [ev("message", "bom")]);
        // The event name does not leak into the next event.
        assert_eq!(
            all(&[b"event: e\ndata: 1\n\ndata: 2\n\n"]),
            [ev("e", "1"), ev("message", "2")]
        );
    }

    #[test]
    fn every_line_ending_and_every_split() {
        let text = b"event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n";
        let expected = [ev("a", "1"), ev("b", "2"), ev("message", "3")];
        assert_eq!(all(&[text]), expected);
        for cut in 0..=text.len() {
            assert_eq!(all(&[&text[..cut], &text[cut..]]), expected, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(all(&bytes), expected);
        let bom = b"\xEF\xBB\xBFdata: x\n\n";
        let bytes: Vec<&[u8]> = bom.chunks(1).collect();
        assert_eq!(all(&bytes), [ev("message", "x")]);
    }

    #[test]
    fn bounded() {
        let mut parser = Parser::new();
        parser.push(b"data: ");
        parser.push(&vec![b'x'; MAX_EVENT_BYTES + 1]);
        assert_eq!(parser.next_event(), Err(TooLarge));
        let mut parser = Parser::new();
        for _ in 0..(MAX_EVENT_BYTES / 1000 + 1) {
            parser.push(&[b"data: ".as_slice(), &[b'y'; 1000], b"\n"].concat());
            if parser.next_event().is_err() {
                return;
            }
        }
        panic!("a long multi-line event was not refused");
    }

    #[test]
    fn filled_in_place() {
        let mut parser = Parser::new();
        parser.tail(5).copy_from_slice(b"data:");
        parser.tail(4).copy_from_slice(
            b" x

",
        );
        assert_eq!(
            parser.next_event(),
            Ok(Some(Event {
                name: "message".into(),
                data: "x".into()
            }))
        );
    }

    #[test]
    fn consumed_bytes_are_released() {
        let mut parser = Parser::new();
        for _ in 0..1000 {
            parser.push(b"data: 0123456789\n\n");
            assert!(parser.next_event().ok().flatten().is_some());
        }
        parser.push(b"data: par");
        assert_eq!(parser.next_event(), Ok(None));
        assert!(parser.buf.len() < 64, "{}", parser.buf.len());
    }
}
