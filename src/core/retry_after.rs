//! `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), read without a date library.

/// Seconds to wait, from a `Retry-After` value, given the current wall clock in ms.
/// `None` when the value is neither form; a date in the past gives 0.
pub fn parse(value: &str, now_ms: f64) -> Option<u32> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            value
                .parse::<u64>()
                .map_or(u32::MAX, |v| v.min(u64::from(u32::MAX)) as u32),
        );
    }
    let at = http_date_secs(value)?;
    let wait = at as f64 - now_ms / 1000.0;
    Some(if wait <= 0.0 {
        0
    } else {
        wait.ceil().min(f64::from(u32::MAX)) as u32
    })
}

/// IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT` → seconds since the epoch.
fn http_date_secs(value: &str) -> Option<i64> {
    let rest = value.get(5..)?; // skip "Sun, "
    let mut parts = rest.split(' ');
    let day: i64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
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
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let hour: i64 = hms.next()?.parse().ok()?;
    let minute: i64 = hms.next()?.parse().ok()?;
    let second: i64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
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
}
