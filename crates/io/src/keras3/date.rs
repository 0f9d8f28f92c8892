//! The `date_saved` of a `.keras` archive's metadata, as Keras writes it (`2026-12-02@12:21:39`, UTC).

use std::time::{SystemTime, UNIX_EPOCH};

/// The civil date `(year, month, day)` of a count of days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `seconds` since the Unix epoch as Keras's `%Y-%m-%d@%H:%M:%S`.
fn format_date(seconds: i64) -> String {
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let rest = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}@{:02}:{:02}:{:02}",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Now, formatted as Keras's `date_saved`.
pub(crate) fn date_saved() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    format_date(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_timestamps() {
        assert_eq!(format_date(0), "1970-01-01@00:00:00");
        // `date -u -d @1796214099` = Wed Dec  2 12:21:39 UTC 2026.
        assert_eq!(format_date(1_796_214_099), "2026-12-02@12:21:39");
        // A leap day.
        assert_eq!(format_date(951_782_400), "2000-02-29@00:00:00");
    }
}
