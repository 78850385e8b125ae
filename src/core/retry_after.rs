//! `Retry-After` as the core reads it: delay-seconds (RFC 9110 §10.2.3). An HTTP date is turned
//! into the seconds until it by js/fetch.js, with the browser's `Date.parse`, before it gets here:
//! a date parser in the wasm cost 0.9 KB gz.

/// Seconds to wait, from a `Retry-After` value: a non-empty run of ASCII digits (spaces around
/// it allowed), saturating at `u32::MAX`. `None` for anything else.
pub fn parse(value: &str) -> Option<u32> {
    let value = value.trim_ascii();
    let all = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    // Not `str::parse`: it links KBs of std's number formatting for its errors.
    all.then(|| {
        value.bytes().fold(0u32, |n, b| {
            n.saturating_mul(10).saturating_add(u32::from(b - b'0'))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn delay_seconds() {
        assert_eq!(parse("3"), Some(3));
        assert_eq!(parse(" 120 "), Some(120));
        assert_eq!(parse("0"), Some(0));
        assert_eq!(parse("007"), Some(7));
        assert_eq!(parse("4294967295"), Some(u32::MAX));
        assert_eq!(parse("4294967296"), Some(u32::MAX));
        assert_eq!(parse("99999999999999999999"), Some(u32::MAX));
    }

    #[test]
    fn anything_else_is_none() {
        for bad in [
            "",
            " ",
            "-1",
            "+1",
            "1.5",
            "1 2",
            "soon",
            // Dates are the browser's to read (js/fetch.js): one reaching the core is not a number.
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "é",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
