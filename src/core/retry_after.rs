//! `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), read without a date library.

/// Seconds to wait, from a `Retry-After` value, given the current wall clock in ms.
/// `None` when the value is neither form; a date in the past gives 0.
pub fn parse(value: &str, now_ms: f64) -> Option<u32> {
    let value = value.trim();
    if let Some(seconds) = digits(value) {
        return Some(seconds.min(u64::from(u32::MAX)) as u32);
    }
    let at = http_date_secs(value)?;
    let wait = at as f64 - now_ms / 1000.0;
    Some(if wait <= 0.0 {
        0
    } else {
        super::float::ceil(wait).min(f64::from(u32::MAX)) as u32
    })
}

/// A non-empty run of ASCII digits, saturating (`str::parse` and `split` link KBs of std).
fn digits(text: &str) -> Option<u64> {
    let all = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    all.then(|| {
        text.bytes().fold(0u64, |n, b| {
            n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        })
    })
}

/// `text.parse::<i64>().ok()`: an optional sign, then digits.
fn int(text: &str) -> Option<i64> {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let n = i64::try_from(digits(text)?).ok()?;
    Some(if negative { -n } else { n })
}

/// `split(sep)`'s next piece: up to the next `sep`, or the rest; `None` once the rest is taken.
fn piece<'a>(rest: &mut Option<&'a str>, sep: u8) -> Option<&'a str> {
    let text = rest.take()?;
    match text.bytes().position(|b| b == sep) {
        Some(at) => {
            *rest = text.get(at + 1..);
            text.get(..at)
        }
        None => Some(text),
    }
}

/// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` → seconds since the epoch.
fn http_date_secs(value: &str) -> Option<i64> {
    let mut parts = value.get(5..); // skip "Sun, "
    let parts = &mut parts;
    let day = int(piece(parts, b' ')?)?;
    let month = match piece(parts, b' ')? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year = int(piece(parts, b' ')?)?;
    let mut hms = piece(parts, b' ');
    let hms = &mut hms;
    let hour = int(piece(hms, b':')?)?;
    let minute = int(piece(hms, b':')?)?;
    let second = int(piece(hms, b':')?)?;
    if piece(parts, b' ')? != "GMT" || parts.is_some() || hms.is_some() {
        return None;
    }
    if !(1..=31).contains(&day)
        || !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..=60).contains(&second)
        || !(1970..=9999).contains(&year)
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn seconds_and_dates() {
        assert_eq!(parse("3", 0.0), Some(3));
        assert_eq!(parse(" 120 ", 0.0), Some(120));
        assert_eq!(parse("99999999999999999999", 0.0), Some(u32::MAX));
        // 784111777 = Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_770_000.0),
            Some(7)
        );
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_780_000.0),
            Some(0)
        );
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT", 0.0), Some(0));
    }

    #[test]
    fn garbage_is_none() {
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "é",
            "Sun, ",
        ] {
            assert_eq!(parse(bad, 0.0), None, "{bad:?}");
        }
    }

    #[test]
    fn int_and_piece_as_parse_and_split() {
        for text in [
            "",
            "0",
            "+",
            "-",
            "+0",
            "-0",
            "06",
            "+6",
            "-6",
            "+-6",
            "-+6",
            "1a",
            " 1",
            "1 ",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775807",
            "99999999999999999999999",
        ] {
            let std = text.parse::<i64>().ok();
            if std != Some(i64::MIN) {
                assert_eq!(super::int(text), std, "{text:?}");
            }
        }
        for text in ["", " ", "a", "a b", " a  b ", "é b", "a b c d e f"] {
            let mut rest = Some(text);
            let ours: Vec<&str> = std::iter::from_fn(|| super::piece(&mut rest, b' ')).collect();
            assert_eq!(ours, text.split(' ').collect::<Vec<_>>(), "{text:?}");
        }
    }

    #[test]
    fn dates_as_before_for_odd_fields() {
        // Signs and widths `str::parse` accepted are still accepted.
        assert_eq!(
            parse("Sun, +6 Nov 1994 -0:+0:00 GMT", 0.0),
            Some(784_080_000)
        );
        assert_eq!(
            parse("Sun, 06 Nov 1994 08:49:37 GMT ", 0.0),
            Some(784_111_777)
        );
        for bad in [
            "Sun, 06 Nov 1994 08:49:37 GMT x",
            "Sun, 06 Nov 1994 08:49:37:1 GMT",
            "Sun, 06  Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
        ] {
            assert_eq!(parse(bad, 0.0), None, "{bad:?}");
        }
    }
}
