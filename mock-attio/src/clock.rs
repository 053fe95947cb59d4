//! The mock's clock: real time plus an offset tests can advance, Attio's timestamp format, and
//! a parser for the ISO 8601 timestamps clients send (query filters, backdated `created_at`).

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: i64,
}

impl Clock {
    /// Seconds since the Unix epoch, as the mock sees it.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        real + self.offset_secs
    }

    pub fn advance(&mut self, secs: i64) {
        self.offset_secs += secs;
    }

    /// Attio's timestamp form: RFC 3339, UTC, nanosecond precision
    /// (`2022-11-21T13:22:49.000000000Z`).
    pub fn format(&self, secs: i64) -> String {
        format_timestamp(secs)
    }

    /// An RFC 7231 IMF-fixdate `secs` from now, as Attio puts in `Retry-After`.
    pub fn http_date_in(&self, secs: i64) -> String {
        let at = UNIX_EPOCH + std::time::Duration::from_secs((self.now() + secs).max(0) as u64);
        httpdate::fmt_http_date(at)
    }
}

pub fn format_timestamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000000Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// The calendar date (`YYYY-MM-DD`, UTC) of an instant, as all-day meetings carry it.
pub fn format_date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses an ISO 8601 / RFC 3339 timestamp into (seconds since the epoch, nanoseconds).
///
/// Accepts a bare date (`2024-01-15`, midnight UTC) or a date-time with optional seconds and
/// fraction and an optional zone (`Z`, `+02:00`, `+0200`; none means UTC).
pub fn parse_timestamp(s: &str) -> Option<(i64, u32)> {
    let s = s.trim();
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let year: i64 = digits(parts.next()?, 4)?;
    let month: u32 = u32::try_from(digits(parts.next()?, 2)?).ok()?;
    let day: u32 = u32::try_from(digits(parts.next()?, 2)?).ok()?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * 86_400;
    let Some(rest) = rest else {
        return Some((midnight, 0));
    };
    // Split off the zone: `Z`, or the last `+`/`-` (the time part has no other signs).
    let (time, offset) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
        let zone = rest[i + 1..].replace(':', "");
        if zone.len() != 4 {
            return None;
        }
        let (h, m) = (digits(&zone[..2], 2)?, digits(&zone[2..], 2)?);
        if h > 23 || m > 59 {
            return None;
        }
        (&rest[..i], sign * (h * 3600 + m * 60))
    } else {
        (rest, 0)
    };
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    let mut fields = hms.split(':');
    let hour = digits(fields.next()?, 2)?;
    let minute = digits(fields.next()?, 2)?;
    let second = match fields.next() {
        Some(sec) => digits(sec, 2)?,
        None => 0,
    };
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let nanos = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            let padded = format!("{f:0<9}");
            padded.parse::<u32>().ok()?
        }
        Some(_) => return None,
    };
    Some((midnight + hour * 3600 + minute * 60 + second - offset, nanos))
}

/// Exactly `len` ASCII digits.
fn digits(s: &str, len: usize) -> Option<i64> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// (year, month, day) → days since 1970-01-01 (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_attio() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000000000Z");
        // 2022-11-21T13:22:49Z, the spec's example instant (to the second).
        assert_eq!(format_timestamp(1_669_036_969), "2022-11-21T13:22:49.000000000Z");
        assert_eq!(format_timestamp(951_782_400), "2000-02-29T00:00:00.000000000Z");
    }

    #[test]
    fn parses_what_it_formats_and_common_forms() {
        for secs in [0, 951_782_400, 1_669_036_969, 1_705_309_200, -86_400] {
            assert_eq!(parse_timestamp(&format_timestamp(secs)), Some((secs, 0)));
        }
        assert_eq!(parse_timestamp("2024-01-15"), Some((1_705_276_800, 0)));
        assert_eq!(parse_timestamp("2024-01-15T09:00:00Z"), Some((1_705_309_200, 0)));
        assert_eq!(parse_timestamp("2024-01-15T09:00Z"), Some((1_705_309_200, 0)));
        assert_eq!(parse_timestamp("2024-01-15T10:00:00+01:00"), Some((1_705_309_200, 0)));
        assert_eq!(parse_timestamp("2024-01-15T04:00:00.5-0500"), Some((1_705_309_200, 500_000_000)));
        assert_eq!(parse_timestamp("2024-01-15T09:00:00.061281000Z"), Some((1_705_309_200, 61_281_000)));
        for bad in
            ["", "yesterday", "2024-13-01", "2024-02-30", "2024-01-15T25:00:00Z", "2024-01-15T09:00:00+1", "2024-1-5"]
        {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
        assert_eq!(format_date(1_705_309_200), "2024-01-15");
    }

    #[test]
    fn advancing_moves_now() {
        let mut c = Clock::default();
        let before = c.now();
        c.advance(3600);
        assert!(c.now() >= before + 3600);
    }
}
