//! `exec_stream`: exec-stream events (`core::exec_stream::decode`) and resume alignment
//! (`Aligner`). The input is an SSE body. Read whole, it gives a reference delivery (or an
//! error). Then the same body is read by connections dropped at offsets taken from the input,
//! each re-subscribe replaying the body from its start: when the reference had no error, the
//! resumed delivery must equal it byte for byte, with the same number of exits (at most one).
//! Nothing may panic, whatever the bytes.

use oblien_user_client::core::exec_stream::{decode, Aligner, Delivery};
use oblien_user_client::core::sse::Parser;

#[derive(Debug, Default, PartialEq)]
struct Seen {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exits: usize,
    task_ids: Vec<String>,
}

/// Feeds `body` to `aligner` through a fresh parser; `Err` on the first error.
fn feed(aligner: &mut Aligner, body: &[u8], seen: &mut Seen) -> Result<(), String> {
    let mut parser = Parser::new();
    parser.push(body);
    while let Some(event) = parser.next_event().map_err(|_| "too large".to_string())? {
        match decode(&event).and_then(|w| aligner.accept(w)) {
            Ok(Some(Delivery::Output(c, d))) => {
                if c as usize == 0 {
                    seen.stdout.extend(d)
                } else {
                    seen.stderr.extend(d)
                }
            }
            Ok(Some(Delivery::Exit(_))) => seen.exits += 1,
            Ok(Some(Delivery::TaskId(id))) => seen.task_ids.push(id),
            Ok(None) => {}
            Err(e) => return Err(e.code),
        }
    }
    Ok(())
}

pub fn run(data: &[u8]) {
    let mut whole = Aligner::new(None);
    let mut reference = Seen::default();
    let clean = feed(&mut whole, data, &mut reference).is_ok();
    assert!(reference.exits <= 1, "{reference:?}");
    assert!(reference.task_ids.len() <= 1);
    if !clean || data.is_empty() {
        return;
    }
    // Drops at up to four offsets chosen by the input's first bytes, in increasing order so the
    // connections progress, then one whole replay.
    let mut drops: Vec<usize> = data
        .iter()
        .take(4)
        .map(|&b| usize::from(b) * data.len() / 256)
        .collect();
    drops.sort_unstable();
    let mut aligner = Aligner::new(None);
    let mut seen = Seen::default();
    for (k, &drop) in drops.iter().chain(std::iter::once(&data.len())).enumerate() {
        if k > 0 {
            aligner.resubscribed();
        }
        // The same bytes replayed always align: no error, nothing twice, nothing lost.
        let fed = feed(&mut aligner, &data[..drop], &mut seen);
        assert_eq!(fed, Ok(()), "{:?}", String::from_utf8_lossy(data));
        if aligner.exited() {
            break;
        }
    }
    assert_eq!(seen, reference, "{:?}", String::from_utf8_lossy(data));
}
