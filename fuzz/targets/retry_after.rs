//! `retry_after`: `retry_after::parse(value)`, the delay-seconds the core reads (js/fetch.js turns
//! an HTTP date into seconds with the browser's `Date.parse` first).
//!
//! Input: the header value. Checked against `str::parse` of the digits, saturated.

use oblien_user_client::core::retry_after;

pub fn run(data: &[u8]) {
    let text = super::text(data);
    let parsed = retry_after::parse(&text);
    let trimmed = text.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        assert_eq!(parsed, None, "{text:?}");
        return;
    }
    // delay-seconds: always a number, saturated at u32::MAX.
    let digits = trimmed.trim_start_matches('0');
    let expected = if digits.len() > 10 {
        u32::MAX
    } else {
        digits
            .parse::<u64>()
            .map_or(0, |v| v.min(u64::from(u32::MAX)) as u32)
    };
    assert_eq!(parsed, Some(expected), "{text:?}");
}
