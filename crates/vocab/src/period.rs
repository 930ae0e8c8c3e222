//! Reporting periods: one calendar month, written `YYYY-MM`.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// Year, 1000 to 9999.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u32,
}

/// A text that is not a `YYYY-MM` month.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("period `{0}` is not a month written YYYY-MM")]
pub struct PeriodError(pub String);

impl Period {
    /// Parses `YYYY-MM` (also accepts `YYYY/MM`, `YYYYMM`, `YYYY-M`).
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let t = text.trim();
        let err = || PeriodError(text.to_string());
        let (y, m) = if let Some((y, m)) = t.split_once(['-', '/', '.']) {
            (y, m)
        } else if t.len() == 6 {
            t.split_at(4)
        } else {
            return Err(err());
        };
        let year: i32 = y.parse().map_err(|_| err())?;
        let month: u32 = m.parse().map_err(|_| err())?;
        if !(1000..=9999).contains(&year) || !(1..=12).contains(&month) || y.len() != 4 {
            return Err(err());
        }
        Ok(Period { year, month })
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: Period) -> i32 {
        (later.year - self.year) * 12 + later.month as i32 - self.month as i32
    }

    /// The month after this one.
    pub fn next(self) -> Period {
        self.plus_months(1)
    }

    /// The month `n` months later (earlier for negative `n`).
    pub fn plus_months(self, n: i32) -> Period {
        let idx = self.year * 12 + self.month as i32 - 1 + n;
        Period {
            year: idx.div_euclid(12),
            month: (idx.rem_euclid(12) + 1) as u32,
        }
    }

    /// The first day of the month.
    pub fn first_day(self) -> crate::CivilDate {
        crate::CivilDate {
            year: self.year,
            month: self.month,
            day: 1,
        }
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_steps() {
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(p.to_string(), "2026-11");
        assert_eq!(p.plus_months(2).to_string(), "2027-01");
        assert_eq!(p.plus_months(-11).to_string(), "2025-12");
        assert_eq!(p.months_until(Period::parse("202702").unwrap()), 3);
        assert!(Period::parse("2026-13").is_err());
        assert!(Period::parse("26-01").is_err());
    }
}
