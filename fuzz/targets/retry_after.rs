//! `retry_after`: `retry_after::parse(value, now_ms)`.
//!
//! Input: the header value, optionally preceded by a line holding the device clock in ms
//! (`1700000000000\nSun, 06 Nov 1994 08:49:37 GMT`). Checked against a strict IMF-fixdate parser
//! and a day count written independently of the core's, plus a round trip through a formatter.

use oblien_user_client::core::retry_after;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
/// 9999-12-31 23:59:59 GMT: the last date the parser takes.
const LAST_SECOND: i64 = 253_402_300_799;

pub fn run(data: &[u8]) {
    let text = super::text(data);
    let (now_ms, value) = match text.split_once('\n') {
        Some((first, rest)) if first.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            (super::now_from(first), rest)
        }
        _ => (super::DEFAULT_NOW_MS, &*text),
    };
    check(value, now_ms);
    round_trip(data);
}

fn check(value: &str, now_ms: f64) {
    let parsed = retry_after::parse(value, now_ms);
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        // delay-seconds: always a number, saturated, whatever the clock.
        let digits = trimmed.trim_start_matches('0');
        let expected = if digits.len() > 10 {
            u32::MAX
        } else {
            digits
                .parse::<u64>()
                .map_or(0, |v| v.min(u64::from(u32::MAX)) as u32)
        };
        assert_eq!(parsed, Some(expected), "{value:?}");
        assert_eq!(retry_after::parse(value, -now_ms), parsed, "{value:?}");
        return;
    }
    if let Some(at) = strict_http_date(trimmed) {
        assert_eq!(parsed, Some(wait(at, now_ms)), "{value:?} at {now_ms}");
    }
    let Some(waited) = parsed else { return };
    // A date: never longer to wait later, never shorter earlier.
    let later = retry_after::parse(value, now_ms + 1_000.0);
    let earlier = retry_after::parse(value, now_ms - 1_000.0);
    assert!(
        later.is_some_and(|l| l <= waited),
        "{value:?}: {later:?} > {waited}"
    );
    assert!(
        earlier.is_some_and(|e| e >= waited),
        "{value:?}: {earlier:?} < {waited}"
    );
}

/// What the core must answer for a date `at` (seconds since the epoch).
fn wait(at: i64, now_ms: f64) -> u32 {
    let wait = at as f64 - now_ms / 1000.0;
    if wait <= 0.0 {
        0
    } else {
        wait.ceil().min(f64::from(u32::MAX)) as u32
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: usize) -> i64 {
    match month {
        1 if is_leap(year) => 29,
        1 => 28,
        3 | 5 | 8 | 10 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year`-01-01 by counting leap years (not the core's algorithm).
fn days_before_year(year: i64) -> i64 {
    let leaps = |y: i64| y / 4 - y / 100 + y / 400;
    365 * (year - 1970) + leaps(year - 1) - leaps(1969)
}

/// RFC 9110 IMF-fixdate exactly: `Sun, 06 Nov 1994 08:49:37 GMT`. The core is more lenient
/// (any day name, unpadded numbers), so this only says which values it must accept.
fn strict_http_date(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if b.len() != 29 || !value.is_ascii() || &value[3..5] != ", " || &value[25..] != " GMT" {
        return None;
    }
    if !["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].contains(&&value[..3]) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = &value[range];
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (sp1, sp2, sp3, c1, c2) = (b[7], b[11], b[16], b[19], b[22]);
    if (sp1, sp2, sp3, c1, c2) != (b' ', b' ', b' ', b':', b':') {
        return None;
    }
    let day = number(5..7)?;
    let month = MONTHS.iter().position(|m| *m == &value[8..11])?;
    let year = number(12..16)?;
    let (hour, minute, second) = (number(17..19)?, number(20..22)?, number(23..25)?);
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let month_days: i64 = (0..month).map(|m| days_in_month(year, m)).sum();
    let days = days_before_year(year) + month_days + day - 1;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `secs` (0 ..= `LAST_SECOND`) as an IMF-fixdate.
fn format_http_date(secs: i64) -> String {
    let (mut days, rest) = (secs / 86_400, secs % 86_400);
    let weekday = WEEKDAYS[(days % 7) as usize];
    // From an estimate that is never too late, a few years forward.
    let mut year = 1970 + days / 366;
    while days_before_year(year + 1) <= days {
        year += 1;
    }
    days -= days_before_year(year);
    let mut month = 0;
    while days >= days_in_month(year, month) {
        days -= days_in_month(year, month);
        month += 1;
    }
    format!(
        "{weekday}, {:02} {} {year} {:02}:{:02}:{:02} GMT",
        days + 1,
        MONTHS[month],
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// A date picked by the input's bytes, formatted, then parsed `ahead` seconds before it.
fn round_trip(data: &[u8]) {
    let mut bytes = [0u8; 10];
    for (slot, b) in bytes.iter_mut().zip(data.iter().rev()) {
        *slot = *b;
    }
    let pick = u64::from_le_bytes([
        bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
    ]);
    let secs = (pick % (LAST_SECOND as u64 + 1)) as i64;
    let ahead = i64::from(i16::from_le_bytes([bytes[8], bytes[9]]));
    let date = format_http_date(secs);
    assert_eq!(strict_http_date(&date), Some(secs), "{date}");
    let now_ms = (secs - ahead) as f64 * 1000.0;
    assert_eq!(
        retry_after::parse(&date, now_ms),
        Some(ahead.max(0) as u32),
        "{date} at {now_ms}"
    );
}
