//! `ndjson`: the NDJSON splitter and entry filter of `files.stream` (`core::ndjson`). Whatever
//! the bytes and wherever they are cut: the lines (and the entries kept, or the first error)
//! equal those of the input read whole and split with `split('\n')`.

use oblien_user_client::core::ndjson::{entry, Lines};

pub fn run(data: &[u8]) {
    let mut expected: Vec<String> = data
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned())
        .collect();
    // The part after the last `\n` is a line only when it is not blank.
    if expected.last().is_some_and(|l| l.trim().is_empty()) {
        expected.pop();
    }
    let step = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let mut lines = Lines::new();
    let mut got = Vec::new();
    for chunk in data.chunks(step) {
        lines.push(chunk);
        while let Some(line) = lines.next_line().expect("well under the bound") {
            got.push(line);
        }
    }
    got.extend(lines.finish());
    // A trailing line that is blank but not empty ("  ") is dropped by `finish`, as by the split.
    assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(data));
    for line in got {
        let oracle = serde_json::from_str::<serde_json::Value>(&line);
        let plain_object = oracle
            .as_ref()
            .ok()
            .and_then(|v| v.as_object())
            .is_some_and(|o| o.get("event").is_none_or(|e| e.is_null()));
        let kept = entry(line.clone());
        if plain_object {
            assert_eq!(kept, Ok(Some(line)));
        } else if let Err(error) = &oracle {
            // Not JSON for serde_json: an error here too (never a dropped line), unless blank or
            // where the core documents accepting it (the `json` target's oracle gaps).
            if !line.trim().is_empty() && !super::json::oracle_gap(&line, error) {
                assert!(kept.is_err(), "{line:?}");
            }
        }
    }
}
