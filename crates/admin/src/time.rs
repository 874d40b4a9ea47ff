//! Dates as JavaScript writes them, which is how the UI reads them: `toISOString()` for events
//! and `toString()` (in UTC) for a handshake's `time`.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC date and time, from milliseconds since the Unix epoch.
struct Civil {
    year: i64,
    month: usize,
    day: i64,
    weekday: usize,
    hour: u64,
    minute: u64,
    second: u64,
    millis: u64,
}

impl Civil {
    fn of(ms: u64) -> Civil {
        let secs = ms / 1000;
        let days = (secs / 86_400) as i64;
        // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: month as usize,
            day: doy - (153 * mp + 2) / 5 + 1,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as usize,
            hour: secs % 86_400 / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            millis: ms % 1000,
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// `2026-12-06T01:32:20.602Z`, as `Date.toISOString()`.
pub(crate) fn iso8601(ms: u64) -> String {
    let c = Civil::of(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
    )
}

/// `Sun Dec 06 2026 01:32:20 GMT+0000 (Coordinated Universal Time)`, as `Date.toString()` in
/// a process whose time zone is UTC.
pub(crate) fn date_string(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = Civil::of(ms);
    format!(
        "{} {} {:02} {:04} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[c.weekday],
        MONTHS[c.month - 1],
        c.day,
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_javascript_writes_them() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_796_520_740_602), "2026-12-06T01:32:20.602Z");
        assert_eq!(iso8601(951_782_400_001), "2000-02-29T00:00:00.001Z");
        assert_eq!(
            date_string(1_796_520_740_470),
            "Sun Dec 06 2026 01:32:20 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            date_string(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            date_string(951_782_400_001),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
    }
}
