//! Dates in HTTP headers: `Expires=Wed, 21 Oct 2015 07:28:00 GMT` and `Retry-After: <date>`.
//!
//! Why it exists: two headers this client reads carry a wall-clock date — a cookie's `Expires`
//! attribute and a 503's `Retry-After` — and one parser serves both. It is RFC 6265 §5.1.1's
//! "cookie-date" algorithm, written for the dates servers really send: it splits the text at
//! delimiters, then takes the first token that looks like a time, the first that looks like a
//! day of the month, the first that starts with a month name and the first that looks like a
//! year, *in any order*. So it reads all three forms of RFC 9110 §5.6.7's HTTP-date
//! (`Sun, 06 Nov 1994 08:49:37 GMT`, `Sunday, 06-Nov-94 08:49:37 GMT`,
//! `Sun Nov  6 08:49:37 1994`) and the sloppy variants in between, and refuses what has no
//! date in it. Every date is taken as UTC (the zone token is ignored, as the RFC says).
//!
//! The calendar arithmetic (days since 1970-01-01 from a civil date) is Howard Hinnant's
//! `days_from_civil` ("chrono-Compatible Low-Level Date Algorithms"), the same one
//! libc++'s `<chrono>` uses: no tables, no loop over years.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses a cookie-date (RFC 6265 §5.1.1), returning the instant it names, or `None` when the
/// text is not a date (a missing part, a day past the month's end, a year before 1601).
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let (mut time, mut day, mut month, mut year) = (None, None, None, None);
    for token in text.split(is_delimiter).filter(|t| !t.is_empty()) {
        // Each part is taken from the first token that matches it; the order is the RFC's.
        if time.is_none()
            && let Some(hms) = parse_time(token)
        {
            time = Some(hms);
        } else if day.is_none()
            && let Some(d) = leading_digits(token, 1, 2)
        {
            day = Some(d);
        } else if month.is_none()
            && let Some(m) = parse_month(token)
        {
            month = Some(m);
        } else if year.is_none()
            && let Some(y) = leading_digits(token, 2, 4)
        {
            year = Some(y);
        }
    }
    let ((hour, minute, second), day, month, mut year) = (time?, day?, month?, year?);
    // Two-digit years: 70–99 are 1970–1999, 00–69 are 2000–2069 (§5.1.1 steps 3 and 4).
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if year < 1601 || hour > 23 || minute > 59 || second > 59 || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(if seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(seconds as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    })
}

/// `delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E` (RFC 6265 §5.1.1).
fn is_delimiter(c: char) -> bool {
    matches!(c, '\t' | ' '..='/' | ';'..='@' | '['..='`' | '{'..='~')
}

/// `hms-time ( non-digit *OCTET )` with `hms-time = time-field ":" time-field ":" time-field`
/// and `time-field = 1*2DIGIT`. (`:` is not a delimiter, so `08:49:37` is one token.)
fn parse_time(token: &str) -> Option<(u32, u32, u32)> {
    let mut fields = token.splitn(3, ':');
    let hour = all_digits(fields.next()?, 2)?;
    let minute = all_digits(fields.next()?, 2)?;
    let second = leading_digits(fields.next()?, 1, 2)?;
    Some((hour, minute, second))
}

/// `1*max DIGIT`, and nothing else.
fn all_digits(field: &str, max: usize) -> Option<u32> {
    let ok = !field.is_empty() && field.len() <= max && field.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| field.parse().ok()).flatten()
}

/// `min*max DIGIT ( non-digit *OCTET )`: a run of digits, then anything that does not start
/// with a digit (so `1994x` reads as 1994, but `19945` is no year).
fn leading_digits(token: &str, min: usize, max: usize) -> Option<u32> {
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    (min..=max)
        .contains(&digits)
        .then(|| token[..digits].parse().ok())
        .flatten()
}

/// A token that starts with a month's three-letter name, any case (`Nov`, `november`, `NOV.`).
fn parse_month(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let prefix = token.get(..3)?;
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(prefix))
        .map(|i| i as u32 + 1)
}

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` (proleptic Gregorian): Hinnant's algorithm, which
/// starts the year in March so that the leap day falls at its end.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // [0, 399]
    let month_from_march = (i64::from(month) + 9) % 12; // March = 0
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(text: &str) -> Option<i64> {
        parse_http_date(text).map(|t| match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs() as i64),
        })
    }

    #[test]
    fn the_three_http_date_forms_name_the_same_instant() {
        // RFC 9110 §5.6.7's example, 1994-11-06T08:49:37Z.
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(unix(text), Some(784_111_777), "{text}");
        }
    }

    #[test]
    fn sloppy_dates_servers_send_are_read_too() {
        assert_eq!(unix("Wed, 21-Oct-2015 07:28:00 UTC"), Some(1_445_412_480));
        assert_eq!(unix("21 october 2015 7:28:0"), Some(1_445_412_480));
        assert_eq!(unix("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(unix("Thu, 01 Jan 1970 00:00:00 GMT+0200"), Some(0), "zones are ignored");
        assert_eq!(unix("Fri, 31 Dec 1999 23:59:59 GMT"), Some(946_684_799));
        assert_eq!(
            unix("Tue, 29 Feb 2000 12:00:00 GMT"),
            Some(951_825_600),
            "2000 is a leap year"
        );
        assert_eq!(unix("Mon, 01 Jan 1601 00:00:00 GMT"), Some(-11_644_473_600));
    }

    #[test]
    fn text_without_a_whole_valid_date_is_refused() {
        for text in [
            "",
            "soon",
            "Sun, 06 Nov 1994 GMT",              // no time
            "Sun, Nov 1994 08:49:37 GMT",        // no day
            "Sun, 06 1994 08:49:37 GMT",         // no month
            "Sun, 06 Nov 08:49:37 GMT",          // no year
            "Sun, 31 Nov 1994 08:49:37 GMT",     // November has 30 days
            "Mon, 29 Feb 1900 00:00:00 GMT",     // 1900 is not a leap year
            "Sun, 06 Nov 1994 24:00:00 GMT",     // hour 24
            "Sun, 06 Nov 1994 08:60:00 GMT",     // minute 60
            "Sun, 06 Nov 1600 08:49:37 GMT",     // before 1601
            "Sun, 06 Nov 19945 08:49:37 GMT",    // five-digit year
            "Sun, 06 Nov 1994 008:49:37 GMT",    // three-digit hour
            "\u{0}\u{ff}: :: 99999999999999999", // garbage
        ] {
            assert_eq!(unix(text), None, "{text:?}");
        }
    }

    #[test]
    fn days_from_civil_agrees_with_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_from_civil(9999, 12, 31), 2_932_896);
    }
}
