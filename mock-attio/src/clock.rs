//! The mock's clock: real time plus an offset tests can advance, and Attio's timestamp format.

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
    fn advancing_moves_now() {
        let mut c = Clock::default();
        let before = c.now();
        c.advance(3600);
        assert!(c.now() >= before + 3600);
    }
}
