//! `sse`: the incremental SSE parser (`core::sse`) against a reference reader written here from
//! the HTML standard's steps over the whole input at once. Fed whole, then cut into chunks at
//! offsets taken from the input itself, it must give the reference's events every time, hold no
//! more than the bound, and never panic.

use oblien_user_client::core::sse::{Event, Parser, MAX_EVENT_BYTES};

pub fn run(data: &[u8]) {
    let expected = reference(data);
    for cuts in [
        vec![],
        offsets(data, 3),
        offsets(data, 11),
        (1..data.len()).collect(),
    ] {
        let mut parser = Parser::new();
        let mut got = Vec::new();
        let mut last = 0;
        for &at in cuts.iter().chain(std::iter::once(&data.len())) {
            parser.push(&data[last..at]);
            last = at;
            loop {
                match parser.next_event() {
                    Ok(Some(e)) => got.push(e),
                    Ok(None) => break,
                    Err(_) => {
                        return assert!(data.len() > MAX_EVENT_BYTES, "refused a small input")
                    }
                }
            }
            assert!(parser.held() <= MAX_EVENT_BYTES + data.len().min(MAX_EVENT_BYTES));
        }
        assert_eq!(
            got,
            expected,
            "cuts {cuts:?} of {:?}",
            String::from_utf8_lossy(data)
        );
    }
}

/// Sorted cut points from the input's own bytes (deterministic per input).
fn offsets(data: &[u8], step: usize) -> Vec<usize> {
    let mut out: Vec<usize> = data
        .iter()
        .step_by(step)
        .map(|&b| usize::from(b) % (data.len() + 1))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The standard's algorithm, line by line over the whole input.
fn reference(data: &[u8]) -> Vec<Event> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut lines = Vec::new();
    let mut i = 0;
    let mut start = 0;
    while i < data.len() {
        match data[i] {
            b'\r' => {
                lines.push(&data[start..i]);
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            b'\n' => {
                lines.push(&data[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let (mut events, mut name, mut buffer) = (Vec::new(), String::new(), None::<String>);
    for line in lines {
        if line.is_empty() {
            if let Some(data) = buffer.take() {
                let name = std::mem::take(&mut name);
                events.push(Event {
                    name: if name.is_empty() {
                        "message".into()
                    } else {
                        name
                    },
                    data,
                });
            } else {
                name.clear();
            }
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()),
            None => (text.to_string(), String::new()),
        };
        match field.as_str() {
            "data" => match &mut buffer {
                Some(b) => {
                    b.push('\n');
                    b.push_str(&value);
                }
                None => buffer = Some(value),
            },
            "event" => name = value,
            _ => {}
        }
    }
    events
}
