//! Property tests of the stream parsers and of exec-stream resume, natively, on the same core the
//! browser runs (`core::sse`, `core::exec_stream`, `core::ndjson`):
//! - SSE: any events, written with any line endings, `data:` with or without its space, comments
//!   between lines, cut into any chunks, parse back to the same events;
//! - resume: a task's output cut at any byte offsets of the wire (mid-event included), each
//!   re-subscribe replaying it from the start in other chunk boundaries, reaches the consumer whole:
//!   every byte of stdout and stderr once, in order, and exactly one exit;
//! - a replay that differs inside what was delivered stops the stream with `resume_failed`;
//! - NDJSON splitting does not depend on chunk boundaries.
//!
//! `PROPTEST_CASES` overrides the number of cases (default 256).
#![cfg(not(target_arch = "wasm32"))]

use oblien_user_client::core::exec_stream::{self, Aligner, Channel, Delivery};
use oblien_user_client::core::ndjson;
use oblien_user_client::core::sse;
use proptest::prelude::*;

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Splits `data` at the (sorted, deduplicated) offsets.
fn cut<'a>(data: &'a [u8], offsets: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = offsets.iter().map(|o| o % (data.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points {
        out.push(&data[last..p]);
        last = p;
    }
    out.push(&data[last..]);
    out
}

// ---- SSE -----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Written {
    name: Option<String>,
    lines: Vec<String>,
}

fn arb_event() -> impl Strategy<Value = Written> {
    (
        proptest::option::of("[a-z_]{1,8}"),
        proptest::collection::vec("[^\r\n]{0,12}", 1..4),
    )
        .prop_map(|(name, lines)| Written { name, lines })
}

fn write(events: &[Written], endings: &[u8], spaces: &[bool], comments: &[bool]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut end = |out: &mut Vec<u8>| {
        n += 1;
        // A CR line end then an LF one would read as one CRLF: write CRLF for the LF then.
        let after_cr = out.last() == Some(&b'\r');
        out.extend_from_slice(match endings[n % endings.len()] % 3 {
            0 if after_cr => b"\r\n".as_slice(),
            0 => b"\n",
            1 => b"\r\n",
            _ => b"\r",
        });
    };
    for (i, e) in events.iter().enumerate() {
        if comments[i % comments.len()] {
            out.extend_from_slice(b": keep-alive");
            end(&mut out);
        }
        if let Some(name) = &e.name {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(name.as_bytes());
            end(&mut out);
        }
        for (j, line) in e.lines.iter().enumerate() {
            // `data:` + a value that starts with a space needs the separating space.
            let space = spaces[(i + j) % spaces.len()] || line.starts_with(' ');
            out.extend_from_slice(if space {
                b"data: ".as_slice()
            } else {
                b"data:"
            });
            out.extend_from_slice(line.as_bytes());
            end(&mut out);
        }
        end(&mut out);
    }
    out
}

proptest! {
    #[test]
    fn sse_events_survive_any_framing(
        events in proptest::collection::vec(arb_event(), 0..12),
        endings in proptest::collection::vec(any::<u8>(), 1..8),
        spaces in proptest::collection::vec(any::<bool>(), 1..8),
        comments in proptest::collection::vec(any::<bool>(), 1..4),
        offsets in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let bytes = write(&events, &endings, &spaces, &comments);
        let mut parser = sse::Parser::new();
        let mut got = Vec::new();
        for chunk in cut(&bytes, &offsets) {
            parser.push(chunk);
            while let Some(e) = parser.next_event().expect("within bounds") {
                got.push((e.name, e.data));
            }
        }
        let expected: Vec<(String, String)> = events
            .iter()
            .map(|e| (e.name.clone().unwrap_or_else(|| "message".into()), e.lines.join("\n")))
            .collect();
        prop_assert_eq!(got, expected);
    }
}

// ---- resume --------------------------------------------------------------------------------

/// The SSE body of a task whose output is `chunks` (re-chunked at `split`), then `exit`.
fn body(chunks: &[(bool, Vec<u8>)], split: usize) -> Vec<u8> {
    let mut out = b"event: task_id\ndata: {\"task_id\":\"42\"}\n\n".to_vec();
    // The replay may cut the same bytes differently: join each channel's run and re-split.
    for (stderr, data) in chunks {
        for piece in data.chunks(split.max(1)) {
            out.extend_from_slice(if *stderr {
                b"event: stderr\n".as_slice()
            } else {
                b"event: stdout\n"
            });
            out.extend_from_slice(b"data: {\"data\":\"");
            out.extend_from_slice(base64(piece).as_bytes());
            out.extend_from_slice(b"\"}\n\n");
        }
    }
    out.extend_from_slice(b"event: exit\ndata: {\"exit_code\":3,\"status\":\"exited\"}\n\n");
    out
}

struct Outcome {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exits: usize,
    error: Option<String>,
}

/// Connection `k` delivers the first `drops[k]` bytes of the body (chunked at `split[k]`), then
/// drops; after the drops run out, the whole body arrives. `tamper` flips a byte of the replays.
fn run(
    chunks: &[(bool, Vec<u8>)],
    drops: &[usize],
    splits: &[usize],
    tamper: Option<usize>,
) -> Outcome {
    let mut aligner = Aligner::new(None);
    let mut outcome = Outcome {
        stdout: Vec::new(),
        stderr: Vec::new(),
        exits: 0,
        error: None,
    };
    for attempt in 0..=drops.len() {
        if attempt > 0 {
            aligner.resubscribed();
        }
        let mut replayed: Vec<(bool, Vec<u8>)> = chunks.to_vec();
        if let (Some(at), true) = (tamper, attempt > 0) {
            let total: usize = replayed.iter().map(|c| c.1.len()).sum();
            if total > 0 {
                let mut at = at % total;
                for (_, data) in &mut replayed {
                    if at < data.len() {
                        data[at] ^= 0x20;
                        break;
                    }
                    at -= data.len();
                }
            }
        }
        let whole = body(&replayed, splits[attempt % splits.len()]);
        let wire = match drops.get(attempt) {
            Some(n) => &whole[..n % (whole.len() + 1)],
            None => &whole[..],
        };
        let mut parser = sse::Parser::new();
        parser.push(wire);
        while let Some(event) = parser.next_event().expect("within bounds") {
            let step = exec_stream::decode(&event).and_then(|w| aligner.accept(w));
            match step {
                Ok(Some(Delivery::Output(Channel::Stdout, d))) => outcome.stdout.extend(d),
                Ok(Some(Delivery::Output(Channel::Stderr, d))) => outcome.stderr.extend(d),
                Ok(Some(Delivery::Exit(_))) => outcome.exits += 1,
                Ok(Some(Delivery::TaskId(id))) => assert_eq!(id, "42"),
                Ok(None) => {}
                Err(e) => {
                    outcome.error = Some(e.code);
                    return outcome;
                }
            }
        }
        if aligner.exited() {
            break;
        }
    }
    outcome
}

fn arb_output() -> impl Strategy<Value = Vec<(bool, Vec<u8>)>> {
    proptest::collection::vec(
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 1..40)),
        0..12,
    )
}

proptest! {
    #[test]
    fn a_dropped_stream_resumes_with_every_byte_once(
        chunks in arb_output(),
        drops in proptest::collection::vec(any::<usize>(), 0..5),
        splits in proptest::collection::vec(1usize..50, 1..4),
    ) {
        let outcome = run(&chunks, &drops, &splits, None);
        let stdout: Vec<u8> = chunks.iter().filter(|c| !c.0).flat_map(|c| c.1.clone()).collect();
        let stderr: Vec<u8> = chunks.iter().filter(|c| c.0).flat_map(|c| c.1.clone()).collect();
        prop_assert_eq!(outcome.error, None);
        prop_assert_eq!(outcome.stdout, stdout);
        prop_assert_eq!(outcome.stderr, stderr);
        prop_assert_eq!(outcome.exits, 1);
    }

    #[test]
    fn a_replay_that_differs_in_the_delivered_part_is_refused(
        chunks in arb_output(),
        drop in any::<usize>(),
        splits in proptest::collection::vec(1usize..50, 1..4),
        at in any::<usize>(),
    ) {
        // Bytes delivered before the drop, per channel, and whether the flipped byte is among them.
        let clean = run(&chunks, &[drop], &splits, None);
        let outcome = run(&chunks, &[drop], &splits, Some(at));
        let total: usize = chunks.iter().map(|c| c.1.len()).sum();
        prop_assume!(total > 0);
        let mut at = at % total;
        let mut channel_offset = None;
        let mut seen = [0usize; 2];
        for (stderr, data) in &chunks {
            let i = usize::from(*stderr);
            if at < data.len() {
                channel_offset = Some((i, seen[i] + at));
                break;
            }
            at -= data.len();
            seen[i] += data.len();
        }
        let Some((channel, offset)) = channel_offset else { return Ok(()); };
        // What the first connection delivered on that channel before the drop.
        let (delivered_first, exited_first) = {
            let mut aligner = Aligner::new(None);
            let whole = body(&chunks, splits[0]);
            let mut parser = sse::Parser::new();
            parser.push(&whole[..drop % (whole.len() + 1)]);
            let mut n = [0usize; 2];
            while let Some(event) = parser.next_event().expect("bounds") {
                if let Ok(Some(Delivery::Output(c, d))) =
                    exec_stream::decode(&event).and_then(|w| aligner.accept(w))
                {
                    n[c as usize] += d.len();
                }
            }
            (n, aligner.exited())
        };
        prop_assume!(!exited_first);
        prop_assert_eq!(clean.error, None);
        if offset < delivered_first[channel] {
            prop_assert_eq!(outcome.error.as_deref(), Some("resume_failed"));
        } else {
            prop_assert_eq!(outcome.error, None);
            prop_assert_eq!(outcome.exits, 1);
        }
    }

    #[test]
    fn ndjson_lines_ignore_chunk_boundaries(
        lines in proptest::collection::vec("[^\n]{0,16}", 0..8),
        offsets in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let body = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let mut splitter = ndjson::Lines::new();
        let mut got = Vec::new();
        for chunk in cut(body.as_bytes(), &offsets) {
            splitter.push(chunk);
            while let Some(line) = splitter.next_line().expect("bounded") {
                got.push(line);
            }
        }
        prop_assert_eq!(splitter.finish(), None);
        let expected: Vec<String> = lines
            .iter()
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
            .collect();
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn ten_thousand_lines_dropped_every_few_kilobytes_arrive_once() {
    let output: Vec<u8> = (1..=10_000)
        .flat_map(|n| format!("{n}\n").into_bytes())
        .collect();
    let chunks: Vec<(bool, Vec<u8>)> = output.chunks(4096).map(|c| (false, c.to_vec())).collect();
    let total = body(&chunks, 4096).len();
    let drops: Vec<usize> = (1..=5).map(|k| total * k / 6).collect();
    let outcome = run(&chunks, &drops, &[4096, 1000, 333], None);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.stdout, output);
    assert_eq!(outcome.exits, 1);
}
