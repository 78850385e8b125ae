//! The events of an exec stream (`POST /exec/stream`, `GET /exec/stream?task_id=`) and how a
//! stream survives a dropped connection: what was delivered, and how the replay a re-subscribe
//! sends is aligned with it so the consumer sees every byte once and exactly one exit.
//!
//! **Alignment.** The gateway replays a task's output from its first byte when subscribed to
//! (wire §3.4). For each of stdout and stderr the client keeps the count of bytes it delivered and
//! a 64-bit hash of them (a word at a time, [`Tally`]). On a replay it skips, per channel, that many bytes (whatever the
//! replay's chunk boundaries), hashing what it skips; when the skipped prefix reaches the count,
//! its hash must equal the delivered bytes' hash, and the rest of that chunk is delivered. The
//! client stops the stream with `resume_failed`, never delivering anything twice or dropping a
//! byte in silence, when it cannot be sure:
//! - the replayed prefix differs from what was delivered (the server's buffer no longer starts at
//!   the first byte, or the output is not the same);
//! - the replay ends (`exit`) before reaching what was delivered;
//! - the replay names another task.

use super::base64url;
use super::error::{codes, ClientError};
use super::json::{self, Value};
use super::policy;
use super::sse;
use crate::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Stdout = 0,
    Stderr = 1,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// An exit event's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Exit {
    /// `exit_code`; -1 when the event has none.
    pub code: f64,
    pub status: Option<String>,
}

/// One event as the gateway sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum WireEvent {
    TaskId(String),
    Output(Channel, Vec<u8>),
    Exit(Exit),
    /// An event this client has no use for (`output`, a keep-alive `message`, `[DONE]`).
    Other,
}

fn protocol(message: impl Into<String>) -> ClientError {
    ClientError::new(codes::SERVER_ERROR, message)
}

/// What an SSE event of an exec stream means. Data that is not JSON is an error (the official SDK
/// skips it in silence), except the conventional `[DONE]` end marker; an `error` event becomes
/// an error with the server's code.
pub fn decode(event: &sse::Event) -> Result<WireEvent, ClientError> {
    let name = event.name.as_str();
    if event.data.trim_ascii() == "[DONE]" {
        return Ok(WireEvent::Other);
    }
    let Some(members) = json::object(&event.data) else {
        let mut message = String::from("exec stream: the data of an event '");
        message.extend(name.chars().take(40));
        message.push_str("' is not a JSON object");
        return Err(protocol(message));
    };
    let string =
        |key: &str| json::last(&members, key).and_then(|v| v.as_str().map(|s| s.into_owned()));
    let channel = match name {
        "stdout" => Channel::Stdout,
        "stderr" => Channel::Stderr,
        "task_id" => {
            return string("task_id")
                .filter(|id| !id.is_empty())
                .map(WireEvent::TaskId)
                .ok_or_else(|| protocol("exec stream: a task_id event without a task_id"));
        }
        "exit" => {
            let code = match json::last(&members, "exit_code") {
                Some(Value::Number(n)) => *n,
                _ => -1.0,
            };
            return Ok(WireEvent::Exit(Exit {
                code,
                status: string("status"),
            }));
        }
        "error" => {
            let envelope = super::request::envelope(&event.data);
            return Err(ClientError::new(
                envelope.code.as_deref().unwrap_or(codes::SERVER_ERROR),
                envelope
                    .message
                    .unwrap_or_else(|| String::from("exec stream: the gateway sent an error")),
            ));
        }
        _ => return Ok(WireEvent::Other),
    };
    let data = json::last(&members, "data").and_then(Value::as_str);
    let bytes =
        base64url::decode_standard(data.as_deref().unwrap_or_default()).ok_or_else(|| {
            let mut message = String::from("exec stream: the ");
            message.push_str(channel.name());
            message.push_str(" data is not base64");
            protocol(message)
        })?;
    Ok(WireEvent::Output(channel, bytes))
}

/// What the consumer gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The task's id (first event); not an event of the iterator.
    TaskId(String),
    Output(Channel, Vec<u8>),
    Exit(Exit),
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// Bytes of one channel: how many, and a 64-bit hash of them, taken 8 bytes at a time (the
/// last unfinished word kept in `partial`), so equal bytes give an equal tally whatever their
/// chunks. Each step `(hash ^ word) * odd, rotated` is a bijection of the hash and of the word:
/// a difference in one word is never lost; several collide only by chance (2^-64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tally {
    bytes: u64,
    hash: u64,
    partial: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            bytes: 0,
            hash: SEED,
            partial: 0,
        }
    }
}

fn mix(hash: u64, word: u64) -> u64 {
    (hash ^ word).wrapping_mul(MULTIPLIER).rotate_left(29)
}

impl Tally {
    fn add(&mut self, data: &[u8]) {
        let mut fill = (self.bytes % 8) as usize;
        self.bytes += data.len() as u64;
        let mut hash = self.hash;
        let mut partial = self.partial;
        // Complete the unfinished word first.
        let head = data.len().min((8 - fill) % 8);
        let (head, body) = data.split_at(head);
        for &b in head {
            partial |= u64::from(b) << (8 * fill);
            fill += 1;
        }
        if fill == 8 {
            hash = mix(hash, partial);
            partial = 0;
        }
        let words = body.chunks_exact(8);
        let rest = words.remainder();
        for word in words {
            hash = mix(
                hash,
                u64::from_le_bytes(word.try_into().unwrap_or_default()),
            );
        }
        for (i, &b) in rest.iter().enumerate() {
            partial |= u64::from(b) << (8 * i);
        }
        self.hash = hash;
        self.partial = partial;
    }
}

fn resume_failed(message: &str) -> ClientError {
    let mut text = String::from("exec stream: cannot resume without losing or repeating output: ");
    text.push_str(message);
    ClientError::new(codes::RESUME_FAILED, text)
}

/// What one stream delivered, and the alignment of a replay with it.
#[derive(Debug, Clone, Default)]
pub struct Aligner {
    task_id: Option<String>,
    delivered: [Tally; 2],
    /// While a replay is being aligned: what of it was skipped so far, per channel.
    replay: Option<[Tally; 2]>,
    exited: bool,
}

impl Aligner {
    /// A stream of `POST /exec/stream` (no id yet) or of a subscribe to `task_id`.
    pub fn new(task_id: Option<String>) -> Self {
        Aligner {
            task_id,
            ..Aligner::default()
        }
    }

    pub fn task_id(&self) -> Option<&str> {
        self.task_id.as_deref()
    }

    /// The exit event was delivered: nothing more comes.
    pub fn exited(&self) -> bool {
        self.exited
    }

    /// Bytes delivered on a channel.
    pub fn delivered(&self, channel: Channel) -> u64 {
        self.delivered[channel as usize].bytes
    }

    /// A new connection: what it sends starts again at the task's first byte.
    pub fn resubscribed(&mut self) {
        let nothing = self.delivered.iter().all(|t| t.bytes == 0);
        self.replay = if nothing {
            None
        } else {
            Some([Tally::default(); 2])
        };
    }

    /// Nothing of a replay is still owed: what arrives now is new.
    pub fn aligned(&self) -> bool {
        self.replay.is_none()
    }

    /// An event from the wire: what to deliver of it, if anything.
    pub fn accept(&mut self, event: WireEvent) -> Result<Option<Delivery>, ClientError> {
        if self.exited {
            return Ok(None);
        }
        match event {
            WireEvent::Other => Ok(None),
            WireEvent::TaskId(id) => match &self.task_id {
                None => {
                    self.task_id = Some(id.clone());
                    Ok(Some(Delivery::TaskId(id)))
                }
                Some(known) if *known == id => Ok(None),
                Some(_) => Err(resume_failed("the replay is of another task")),
            },
            WireEvent::Output(channel, data) => self.output(channel, data),
            WireEvent::Exit(exit) => {
                if let Some(replay) = &self.replay {
                    let short = (0..2).any(|i| replay[i].bytes < self.delivered[i].bytes);
                    if short {
                        return Err(resume_failed(
                            "the replay ended before the output already delivered",
                        ));
                    }
                }
                self.replay = None;
                self.exited = true;
                Ok(Some(Delivery::Exit(exit)))
            }
        }
    }

    fn output(
        &mut self,
        channel: Channel,
        mut data: Vec<u8>,
    ) -> Result<Option<Delivery>, ClientError> {
        let i = channel as usize;
        if let Some(replay) = &mut self.replay {
            let skipped = &mut replay[i];
            let owed = self.delivered[i].bytes - skipped.bytes.min(self.delivered[i].bytes);
            if owed > 0 {
                let take = (owed.min(data.len() as u64)) as usize;
                skipped.add(&data[..take]);
                if skipped.bytes == self.delivered[i].bytes && *skipped != self.delivered[i] {
                    return Err(resume_failed(
                        "the replayed output differs from what was delivered",
                    ));
                }
                data.drain(..take);
            }
            // Caught up on this channel: what follows is new, and moves both counts.
            skipped.bytes += data.len() as u64;
            if replay
                .iter()
                .zip(&self.delivered)
                .all(|(r, d)| r.bytes >= d.bytes)
            {
                self.replay = None;
            }
        }
        if data.is_empty() {
            return Ok(None);
        }
        self.delivered[i].add(&data);
        Ok(Some(Delivery::Output(channel, data)))
    }
}

/// After how many consecutive failed re-subscribes a stream gives up.
pub const MAX_RESUME_ATTEMPTS: u32 = 5;

/// When to re-subscribe after a drop: at once the first time, then with the transient back-off
/// (300 ms, 900 ms, … with jitter); the count starts over once an event arrives. A silent wire
/// (the idle timeout) on a connection that had delivered all it owed is not a failure: a task
/// may stay quiet for an hour (a build step), and each such check is already `idleTimeoutMs`
/// apart; it re-subscribes at once, uncounted.
#[derive(Debug, Clone, Default)]
pub struct Resumer {
    failures: u32,
}

impl Resumer {
    pub fn progressed(&mut self) {
        self.failures = 0;
    }

    /// The delay before re-subscribing after the connection `idle`d out or dropped, while the
    /// replay was `aligned` (or not); `None` when the stream should give up.
    pub fn after_drop(&mut self, idle: bool, aligned: bool, random: f64) -> Option<f64> {
        if idle && aligned {
            return Some(0.0);
        }
        self.next_delay_ms(random)
    }

    /// The delay before the next attempt, or `None` when the stream should give up.
    pub fn next_delay_ms(&mut self, random: f64) -> Option<f64> {
        if self.failures >= MAX_RESUME_ATTEMPTS {
            return None;
        }
        self.failures += 1;
        Some(if self.failures == 1 {
            0.0
        } else {
            policy::retry_delay_ms(self.failures - 1, random)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(channel: Channel, data: &str) -> WireEvent {
        WireEvent::Output(channel, data.as_bytes().to_vec())
    }

    fn exit() -> WireEvent {
        WireEvent::Exit(Exit {
            code: 0.0,
            status: None,
        })
    }

    fn delivered(aligner: &mut Aligner, events: Vec<WireEvent>) -> Result<String, ClientError> {
        let mut text = String::new();
        for event in events {
            match aligner.accept(event)? {
                Some(Delivery::Output(c, d)) => {
                    text.push_str(if c == Channel::Stdout { "o:" } else { "e:" });
                    text.push_str(&String::from_utf8_lossy(&d));
                    text.push('|');
                }
                Some(Delivery::Exit(_)) => text.push_str("exit"),
                Some(Delivery::TaskId(id)) => {
                    text.push_str(&id);
                    text.push('|');
                }
                None => {}
            }
        }
        Ok(text)
    }

    #[test]
    fn decodes_events() {
        let e = |name: &str, data: &str| {
            decode(&sse::Event {
                name: name.into(),
                data: data.into(),
            })
        };
        assert_eq!(
            e("task_id", r#"{"task_id":"7"}"#),
            Ok(WireEvent::TaskId("7".into()))
        );
        assert_eq!(
            e("stdout", r#"{"data":"aGk="}"#),
            Ok(WireEvent::Output(Channel::Stdout, b"hi".to_vec()))
        );
        assert_eq!(
            e("exit", r#"{"exit_code":137,"status":"exited"}"#),
            Ok(WireEvent::Exit(Exit {
                code: 137.0,
                status: Some("exited".into())
            }))
        );
        assert_eq!(e("output", r#"{"stdout":"x"}"#), Ok(WireEvent::Other));
        assert_eq!(e("stdout", "[DONE]"), Ok(WireEvent::Other));
        let err = e("stdout", "not json").err().map(|e| (e.code, e.message));
        assert_eq!(
            err,
            Some((
                "server_error".into(),
                "exec stream: the data of an event 'stdout' is not a JSON object".into()
            ))
        );
        assert!(e("stdout", r#"{"data":"@@"}"#).is_err());
        assert!(e("task_id", "{}").is_err());
        let err = e("error", r#"{"error":"task_gone","message":"gone"}"#).err();
        assert_eq!(err.map(|e| e.code), Some("task_gone".into()));
    }

    #[test]
    fn a_replay_is_aligned_whatever_its_chunks() {
        let mut a = Aligner::new(None);
        let first = vec![
            WireEvent::TaskId("1".into()),
            out(Channel::Stdout, "hello "),
            out(Channel::Stderr, "warn"),
            out(Channel::Stdout, "wor"),
        ];
        assert_eq!(
            delivered(&mut a, first).ok(),
            Some("1|o:hello |e:warn|o:wor|".into())
        );
        a.resubscribed();
        let replay = vec![
            WireEvent::TaskId("1".into()),
            out(Channel::Stdout, "hel"),
            out(Channel::Stdout, "lo world\n"),
            out(Channel::Stderr, "warn"),
            out(Channel::Stderr, "ing\n"),
            exit(),
        ];
        assert_eq!(
            delivered(&mut a, replay).map_err(|e| e.message),
            Ok("o:ld\n|e:ing\n|exit".into())
        );
        // Exactly one exit, nothing after it.
        assert_eq!(a.accept(exit()), Ok(None));
        assert_eq!(a.accept(out(Channel::Stdout, "x")), Ok(None));
    }

    #[test]
    fn a_replay_that_cannot_be_aligned_is_an_error() {
        let start = || {
            let mut a = Aligner::new(Some("1".into()));
            let _ = delivered(&mut a, vec![out(Channel::Stdout, "abcdef")]);
            a.resubscribed();
            a
        };
        // Differs.
        let mut a = start();
        let err = delivered(&mut a, vec![out(Channel::Stdout, "abcxefgh")]).err();
        assert_eq!(err.map(|e| e.code), Some("resume_failed".into()));
        // Starts later (a trimmed buffer).
        let mut a = start();
        let err = delivered(&mut a, vec![out(Channel::Stdout, "defghijkl")]).err();
        assert_eq!(err.map(|e| e.code), Some("resume_failed".into()));
        // Shorter.
        let mut a = start();
        let err = delivered(&mut a, vec![out(Channel::Stdout, "abc"), exit()]).err();
        assert_eq!(err.map(|e| e.code), Some("resume_failed".into()));
        // Another task.
        let mut a = start();
        let err = a.accept(WireEvent::TaskId("2".into())).err();
        assert_eq!(err.map(|e| e.code), Some("resume_failed".into()));
        // A second drop during the replay: the next replay starts over.
        let mut a = start();
        assert_eq!(
            delivered(&mut a, vec![out(Channel::Stdout, "abc")]).ok(),
            Some("".into())
        );
        a.resubscribed();
        assert_eq!(
            delivered(&mut a, vec![out(Channel::Stdout, "abcdefg"), exit()]).ok(),
            Some("o:g|exit".into())
        );
    }

    #[test]
    fn a_tally_is_the_same_whatever_the_chunks() {
        let data: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        let mut whole = Tally::default();
        whole.add(&data);
        for a in 0..data.len() {
            for b in a..=data.len().min(a + 19) {
                let mut split = Tally::default();
                split.add(&data[..a]);
                split.add(&data[a..b]);
                split.add(&data[b..]);
                assert_eq!(split, whole, "{a} {b}");
            }
        }
        // One byte different anywhere, at any length: another tally.
        for len in 1..data.len() {
            let mut t = Tally::default();
            t.add(&data[..len]);
            for i in 0..len {
                let mut other = data[..len].to_vec();
                other[i] ^= 1;
                let mut u = Tally::default();
                u.add(&other);
                assert_ne!(t, u, "{len} {i}");
            }
        }
    }

    #[test]
    fn resumes_are_bounded() {
        let mut r = Resumer::default();
        assert_eq!(r.next_delay_ms(0.5), Some(0.0));
        assert_eq!(r.next_delay_ms(0.5), Some(300.0));
        assert_eq!(r.next_delay_ms(0.5), Some(900.0));
        r.progressed();
        assert_eq!(r.next_delay_ms(0.5), Some(0.0));
        for _ in 1..MAX_RESUME_ATTEMPTS {
            assert!(r.next_delay_ms(0.5).is_some());
        }
        assert_eq!(r.next_delay_ms(0.5), None);
        // A quiet task: idle checks on an aligned connection never exhaust the attempts.
        let mut r = Resumer::default();
        for _ in 0..100 {
            assert_eq!(r.after_drop(true, true, 0.5), Some(0.0));
        }
        // Idle during a replay that has not caught up counts.
        for _ in 0..MAX_RESUME_ATTEMPTS {
            assert!(r.after_drop(true, false, 0.5).is_some());
        }
        assert_eq!(r.after_drop(false, true, 0.5), None);
    }
}
