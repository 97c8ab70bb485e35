//! PostgreSQL's binary date and time formats, written out as ISO-8601 text.
//!
//! PostgreSQL counts days and microseconds from 2000-01-01. The civil-date conversion is the
//! usual era-based one (400-year cycles of 146,097 days), done in integers.

use std::fmt::Write as _;

const PG_EPOCH_FROM_UNIX_DAYS: i64 = 10_957;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_unix_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn write_date(out: &mut String, pg_days: i64) {
    let (y, m, d) = civil_from_unix_days(pg_days + PG_EPOCH_FROM_UNIX_DAYS);
    // Year 0 is 1 BC, as ISO-8601 counts.
    let _ = if y < 0 {
        write!(out, "-{:04}-{m:02}-{d:02}", -y)
    } else {
        write!(out, "{y:04}-{m:02}-{d:02}")
    };
}

fn write_time(out: &mut String, micros_of_day: i64) {
    let secs = micros_of_day / 1_000_000;
    let frac = micros_of_day % 1_000_000;
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    write_fraction(out, frac);
}

/// `.ffffff` with trailing zeros dropped, nothing for whole seconds.
fn write_fraction(out: &mut String, micros: i64) {
    if micros != 0 {
        let digits = format!("{:06}", micros.abs());
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// `DATE`: days since 2000-01-01, or ±infinity.
pub(crate) fn date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".to_owned(),
        i32::MIN => "-infinity".to_owned(),
        d => {
            let mut out = String::with_capacity(10);
            write_date(&mut out, i64::from(d));
            out
        }
    }
}

/// `TIMESTAMP` (`utc = false`) or `TIMESTAMPTZ` (`utc = true`, written with `Z`).
pub(crate) fn timestamp(micros: i64, utc: bool) -> String {
    match micros {
        i64::MAX => return "infinity".to_owned(),
        i64::MIN => return "-infinity".to_owned(),
        _ => {}
    }
    let mut out = String::with_capacity(27);
    write_date(&mut out, micros.div_euclid(MICROS_PER_DAY));
    out.push('T');
    write_time(&mut out, micros.rem_euclid(MICROS_PER_DAY));
    if utc {
        out.push('Z');
    }
    out
}

/// `TIME`: microseconds since midnight.
pub(crate) fn time(micros: i64) -> String {
    let mut out = String::with_capacity(15);
    write_time(&mut out, micros);
    out
}

/// `TIMETZ`: microseconds since midnight and the zone's offset in seconds *west* of UTC.
pub(crate) fn time_tz(micros: i64, seconds_west: i32) -> String {
    let mut out = time(micros);
    let east = -i64::from(seconds_west);
    let sign = if east < 0 { '-' } else { '+' };
    let east = east.abs();
    let _ = write!(out, "{sign}{:02}:{:02}", east / 3600, east / 60 % 60);
    if east % 60 != 0 {
        let _ = write!(out, ":{:02}", east % 60);
    }
    out
}

/// `INTERVAL` as an ISO-8601 duration (`P1Y2M3DT4H5M6.5S`), each part signed on its own,
/// which PostgreSQL reads back unchanged.
pub(crate) fn interval(micros: i64, days: i32, months: i32) -> String {
    if micros == 0 && days == 0 && months == 0 {
        return "PT0S".to_owned();
    }
    let mut out = String::from("P");
    let (years, months) = (months / 12, months % 12);
    for (n, unit) in [
        (i64::from(years), 'Y'),
        (i64::from(months), 'M'),
        (i64::from(days), 'D'),
    ] {
        if n != 0 {
            let _ = write!(out, "{n}{unit}");
        }
    }
    if micros != 0 {
        out.push('T');
        let (hours, rest) = (micros / 3_600_000_000, micros % 3_600_000_000);
        let (minutes, rest) = (rest / 60_000_000, rest % 60_000_000);
        let (seconds, frac) = (rest / 1_000_000, rest % 1_000_000);
        for (n, unit) in [(hours, 'H'), (minutes, 'M')] {
            if n != 0 {
                let _ = write!(out, "{n}{unit}");
            }
        }
        if seconds != 0 || frac != 0 {
            if seconds == 0 && frac < 0 {
                out.push('-');
            }
            let _ = write!(out, "{seconds}");
            write_fraction(&mut out, frac);
            out.push('S');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0), "2000-01-01");
        assert_eq!(date(-1), "1999-12-31");
        assert_eq!(date(59), "2000-02-29");
        assert_eq!(date(-10_957), "1970-01-01");
        assert_eq!(date(i32::MAX), "infinity");
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0, false), "2000-01-01T00:00:00");
        assert_eq!(timestamp(1_500_000, true), "2000-01-01T00:00:01.5Z");
        assert_eq!(timestamp(-1, false), "1999-12-31T23:59:59.999999");
    }

    #[test]
    fn times_and_intervals() {
        assert_eq!(time(3_723_000_001), "01:02:03.000001");
        assert_eq!(time_tz(0, -19_800), "00:00:00+05:30");
        assert_eq!(time_tz(0, 3600), "00:00:00-01:00");
        assert_eq!(interval(0, 0, 0), "PT0S");
        assert_eq!(interval(3_723_500_000, 3, 14), "P1Y2M3DT1H2M3.5S");
        assert_eq!(interval(-500_000, 0, -1), "P-1MT-0.5S");
    }
}
