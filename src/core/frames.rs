//! The workspace WebSocket's frames (wire document §5): binary `[terminal id][bytes]` both ways,
//! JSON text frames with a `channel`. Encoding and decoding only; read with the core's one JSON
//! reader.

use super::decimal::{push_i64, push_u64};
use super::error::{codes, ClientError};
use super::json::{self, Value};
use crate::prelude::*;

/// A terminal id as the gateway gives it ("1"), as the one byte a binary frame carries. An id
/// that does not fit is refused, never wrapped (the official SDK sends "300" as 44).
pub fn terminal_byte(id: &str) -> Result<u8, ClientError> {
    let value = (!id.is_empty() && id.len() <= 3 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0')));
    match value {
        Some(n) if (1..=255).contains(&n) => Ok(n as u8),
        _ => Err(ClientError::new(
            codes::INVALID_OPTIONS,
            "This terminal id does not fit the one byte a WebSocket frame carries (1–255)",
        )),
    }
}

/// `[id][bytes]`: keystrokes for a terminal.
pub fn input(terminal: u8, bytes: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(bytes.len() + 1);
    frame.push(terminal);
    frame.extend_from_slice(bytes);
    frame
}

/// `{"channel":"terminal","type":"resize","id":"1","cols":120,"rows":40}`.
pub fn resize(terminal: u8, cols: u16, rows: u16) -> String {
    let mut text = String::from(r#"{"channel":"terminal","type":"resize","id":""#);
    push_u64(&mut text, terminal.into());
    text.push_str(r#"","cols":"#);
    push_u64(&mut text, cols.into());
    text.push_str(r#","rows":"#);
    push_u64(&mut text, rows.into());
    text.push('}');
    text
}

/// Terminal output: `(terminal id, bytes)`; `None` for a frame shorter than two bytes.
pub fn output(frame: &[u8]) -> Option<(u8, &[u8])> {
    match frame {
        [id, bytes @ ..] if !bytes.is_empty() => Some((*id, bytes)),
        _ => None,
    }
}

/// What a text frame from the gateway says.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    TerminalExit {
        terminal: u8,
        code: i32,
    },
    WatcherReady {
        watcher: String,
    },
    WatcherChange {
        watcher: String,
        path: String,
        op: String,
    },
    WatcherOverflow {
        watcher: String,
        message: String,
    },
    /// Anything else (unknown channels or types, unreadable text): ignored.
    Other,
}

fn text_of(members: &[json::Member<'_>], key: &str) -> Option<String> {
    match json::last(members, key) {
        Some(Value::String(s)) => Some(s.decode().into_owned()),
        Some(Value::Number(n)) if super::float::is_whole(*n) && n.abs() < 1e15 => {
            let mut text = String::new();
            push_i64(&mut text, *n as i64);
            Some(text)
        }
        _ => None,
    }
}

pub fn message(text: &str) -> Message {
    let Some(members) = json::object(text) else {
        return Message::Other;
    };
    let field = |key: &str| text_of(&members, key);
    // A missing channel means `terminal` (as the SDK reads it).
    let channel = field("channel").unwrap_or_else(|| String::from("terminal"));
    let kind = field("type").unwrap_or_default();
    match (channel.as_str(), kind.as_str()) {
        ("terminal", "exit") => {
            let terminal = field("id").and_then(|id| terminal_byte(&id).ok());
            let code = match json::last(&members, "code") {
                Some(Value::Number(n))
                    if super::float::is_whole(*n) && n.abs() <= 2_147_483_647.0 =>
                {
                    *n as i32
                }
                _ => -1,
            };
            terminal.map_or(Message::Other, |terminal| Message::TerminalExit {
                terminal,
                code,
            })
        }
        ("watcher", kind) => {
            let Some(watcher) = field("watcher_id") else {
                return Message::Other;
            };
            match kind {
                "ready" => Message::WatcherReady { watcher },
                "change" => Message::WatcherChange {
                    watcher,
                    path: field("path").unwrap_or_default(),
                    op: field("op").unwrap_or_else(|| String::from("unknown")),
                },
                "overflow" => Message::WatcherOverflow {
                    watcher,
                    message: field("message").unwrap_or_else(|| String::from("events were lost")),
                },
                _ => Message::Other,
            }
        }
        _ => Message::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_ids_fit_one_byte_or_are_refused() {
        assert_eq!(terminal_byte("1"), Ok(1));
        assert_eq!(terminal_byte("255"), Ok(255));
        for bad in ["0", "256", "300", "", "-1", "1a", "0001", " 1"] {
            assert!(terminal_byte(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn frames_round_trip() {
        assert_eq!(input(3, b"ls\r"), b"\x03ls\r");
        assert_eq!(output(b"\x03hi"), Some((3, &b"hi"[..])));
        assert_eq!(output(b"\x03"), None);
        assert_eq!(
            resize(1, 120, 40),
            r#"{"channel":"terminal","type":"resize","id":"1","cols":120,"rows":40}"#
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            message(r#"{"channel":"terminal","type":"exit","id":"2","code":3}"#),
            Message::TerminalExit {
                terminal: 2,
                code: 3
            }
        );
        assert_eq!(
            message(r#"{"type":"exit","id":2,"code":0}"#),
            Message::TerminalExit {
                terminal: 2,
                code: 0
            }
        );
        assert_eq!(
            message(
                r#"{"channel":"watcher","type":"change","watcher_id":"1","path":"/a","op":"write"}"#
            ),
            Message::WatcherChange {
                watcher: "1".into(),
                path: "/a".into(),
                op: "write".into()
            }
        );
        assert_eq!(message("not json"), Message::Other);
        assert_eq!(message(r#"{"channel":"desktop"}"#), Message::Other);
        assert_eq!(
            message(r#"{"type":"exit","id":"300","code":1}"#),
            Message::Other
        );
    }
}
