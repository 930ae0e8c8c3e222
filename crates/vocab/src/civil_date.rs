//! Calendar dates as the tables store them: days since 1970-01-01 (Arrow `Date32`).
//!
//! Every stage needs to turn a year, month and day into a day number and back
//! (birth dates, moves, subsidy months), so the conversion lives here once.

use serde::{Deserialize, Serialize};

/// A validated proleptic Gregorian date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CivilDate {
    /// Four-digit year.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of month, 1 to 31.
    pub day: u32,
}

/// Whether `year` is a Gregorian leap year.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` of `year`, or `None` for a month outside 1..=12.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => return None,
    })
}

impl CivilDate {
    /// Builds a date, or `None` when the day does not exist (2013-02-29, month 13).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        let last = days_in_month(year, month)?;
        if day == 0 || day > last || !(1000..=9999).contains(&year) {
            return None;
        }
        Some(CivilDate { year, month, day })
    }

    /// Days since 1970-01-01, the value of an Arrow `Date32`.
    pub fn to_days(self) -> i32 {
        // Howard Hinnant's days_from_civil, on a March-based year.
        let y = if self.month <= 2 {
            self.year - 1
        } else {
            self.year
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = self.month as i32;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + self.day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date of a day number (inverse of [`CivilDate::to_days`]). Total
    /// over `i32`: the arithmetic runs in `i64`, so a Date32 value read from
    /// any Parquet file maps to a date (years beyond 9999 included) instead
    /// of overflowing.
    pub fn from_days(days: i32) -> Self {
        let z = i64::from(days) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        // |days| < 2^31 keeps the year within about ±5.9 million.
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        CivilDate { year, month, day }
    }

    /// Whole years of age on `on` (a birthday on `on` counts).
    pub fn age_on(self, on: CivilDate) -> i32 {
        let mut age = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            age -= 1;
        }
        age
    }
}

impl std::fmt::Display for CivilDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn from_days_is_total_over_i32() {
        for days in [
            i32::MIN,
            i32::MIN + 1,
            -1,
            0,
            1,
            i32::MAX - 719_468,
            i32::MAX,
        ] {
            let d = CivilDate::from_days(days);
            assert!((1..=12).contains(&d.month), "{days}: {d:?}");
            assert!((1..=31).contains(&d.day), "{days}: {d:?}");
        }
        assert_eq!(CivilDate::from_days(0).to_string(), "1970-01-01");
        assert!(CivilDate::from_days(i32::MAX).year > 5_000_000);
        assert!(CivilDate::from_days(i32::MIN).year < -5_000_000);
    }

    use super::*;

    #[test]
    fn epoch_and_known_days() {
        assert_eq!(CivilDate::new(1970, 1, 1).unwrap().to_days(), 0);
        assert_eq!(CivilDate::new(2000, 3, 1).unwrap().to_days(), 11_017);
        assert_eq!(
            CivilDate::from_days(11_017),
            CivilDate::new(2000, 3, 1).unwrap()
        );
    }

    #[test]
    fn rejects_impossible_days() {
        assert!(CivilDate::new(2013, 2, 29).is_none());
        assert!(CivilDate::new(2012, 2, 29).is_some());
        assert!(CivilDate::new(1900, 2, 29).is_none());
        assert!(CivilDate::new(2012, 13, 1).is_none());
        assert!(CivilDate::new(2012, 4, 31).is_none());
    }

    #[test]
    fn round_trips_every_day_of_a_century() {
        for d in -25_000..50_000 {
            let c = CivilDate::from_days(d);
            assert_eq!(
                CivilDate::new(c.year, c.month, c.day).map(|c| c.to_days()),
                Some(d)
            );
        }
    }

    #[test]
    fn age_counts_birthdays() {
        let born = CivilDate::new(2012, 3, 5).unwrap();
        assert_eq!(born.age_on(CivilDate::new(2024, 3, 4).unwrap()), 11);
        assert_eq!(born.age_on(CivilDate::new(2024, 3, 5).unwrap()), 12);
    }
}
