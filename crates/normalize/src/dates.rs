//! Dates and months in the formats Chinese extracts use.
//!
//! Dates: `2012-03-05`, `2012/3/5`, `2012.3.5`, `20120305`, `2012年3月5日`
//! (or `号`), any of them with a time after a space or `T`
//! (`2012-03-05 00:00:00`, as Excel exports write them), full-width digits,
//! and Excel serial day numbers (five digits, `40973`, what a date cell becomes when a
//! sheet is saved as text). Months: `2026-05`, `2026/5`, `2026.5`, `202605`,
//! `2026年5月`, and a full date (whose day is dropped, with a note).
//!
//! Years outside 1900..=2100 are read as invalid: no child in these extracts
//! was born, moved or was aided outside that range, so such a year is a typo.
//! Day-first and month-first forms (`5/3/2012`) are ambiguous and invalid.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_char;
use aidlink_vocab::{CivilDate, Period};

/// Years a date or month may have.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;
/// The Excel serial numbers read as dates: five digits, 1927-05-18 to
/// 2100-12-31. Shorter numbers are more likely a bare year (`2012`) or a
/// typo than a date before 1927.
const EXCEL_SERIALS: std::ops::RangeInclusive<u32> = 10_000..=73_415;
/// The Excel serial number of 1970-01-01.
const EXCEL_EPOCH: i32 = 25_569;

/// The outcome of the date rule on one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateOutcome {
    /// The date, or `None` when there is none or it cannot be read.
    pub value: Option<CivilDate>,
    /// What the rule did (`invalid` when a value was present but unreadable).
    pub notes: NoteSet,
}

/// The outcome of the month rule on one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthOutcome {
    /// The month, or `None` when there is none or it cannot be read.
    pub value: Option<Period>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Up to three digit groups and the separators between them.
#[derive(Default)]
struct Lexed {
    /// Value and digit count of each group.
    groups: [(u32, u8); 3],
    /// Number of groups.
    n: usize,
    /// The separator after each group (`'\0'` when none).
    seps: [char; 3],
}

impl Lexed {
    fn value(&self, i: usize) -> u32 {
        self.groups[i].0
    }
    fn digits(&self, i: usize) -> u8 {
        self.groups[i].1
    }
}

/// Splits a date or month text into digit groups; `None` when a character
/// other than a digit or a date separator appears, a separator is doubled or
/// leads, or a group is too long.
fn lex(text: &str) -> Option<Lexed> {
    let mut lexed = Lexed::default();
    let mut in_group = false;
    for c in text.chars() {
        let c = fold_char(c).unwrap_or(c);
        if let Some(d) = c.to_digit(10).filter(|_| c.is_ascii_digit()) {
            if !in_group {
                if lexed.n == 3 {
                    return None;
                }
                lexed.n += 1;
                in_group = true;
            }
            let g = &mut lexed.groups[lexed.n - 1];
            if g.1 == 9 {
                return None;
            }
            g.0 = g.0 * 10 + d;
            g.1 += 1;
        } else if matches!(c, '-' | '/' | '.' | '年' | '月' | '日' | '号') {
            if !in_group {
                return None;
            }
            lexed.seps[lexed.n - 1] = c;
            in_group = false;
        } else {
            return None;
        }
    }
    (lexed.n > 0).then_some(lexed)
}

/// Splits off a time of day (`00:00:00`, `T08:30`), which is ignored.
/// `None` when what follows the date is not a time.
fn split_time(text: &str) -> Option<&str> {
    let Some(at) = text.find(|c: char| c.is_whitespace() || c == 'T') else {
        return Some(text);
    };
    let time = text[at..].trim_start_matches(|c: char| c.is_whitespace() || c == 'T');
    let time_like = time.chars().all(|c| {
        let c = fold_char(c).unwrap_or(c);
        c.is_ascii_digit() || matches!(c, ':' | '.' | 'Z' | '+' | '-')
    });
    time_like.then_some(&text[..at])
}

fn date(year: u32, month: u32, day: u32) -> Option<CivilDate> {
    let year = i32::try_from(year).ok().filter(|y| YEARS.contains(y))?;
    CivilDate::new(year, month, day)
}

fn excel_serial(serial: u32) -> Option<CivilDate> {
    if !EXCEL_SERIALS.contains(&serial) {
        return None;
    }
    let days = i32::try_from(serial).ok()? - EXCEL_EPOCH;
    Some(CivilDate::from_days(days))
}

/// Reads a date from the lexed groups; the bool says it was an Excel serial.
fn read_date(l: &Lexed) -> Option<(CivilDate, bool)> {
    match l.n {
        1 if l.seps[0] == '\0' && l.digits(0) == 8 => {
            let v = l.value(0);
            date(v / 10_000, v / 100 % 100, v % 100).map(|d| (d, false))
        }
        1 if l.seps[0] == '\0' && l.digits(0) == 5 => excel_serial(l.value(0)).map(|d| (d, true)),
        // `40973.5`: a serial with a time of day as its fraction.
        2 if l.seps[0] == '.' && l.seps[1] == '\0' && l.digits(0) == 5 => {
            excel_serial(l.value(0)).map(|d| (d, true))
        }
        3 => {
            let chinese = l.seps[0] == '年';
            let seps_ok = if chinese {
                l.seps[1] == '月' && matches!(l.seps[2], '日' | '号' | '\0')
            } else {
                matches!(l.seps[0], '-' | '/' | '.') && l.seps[1] == l.seps[0] && l.seps[2] == '\0'
            };
            if !seps_ok || l.digits(0) != 4 || l.digits(1) > 2 || l.digits(2) > 2 {
                return None;
            }
            date(l.value(0), l.value(1), l.value(2)).map(|d| (d, false))
        }
        _ => None,
    }
}

/// Reads a date from a cell (see the module documentation).
pub fn parse_date(text: &str) -> DateOutcome {
    let text = text.trim();
    let mut notes = NoteSet::EMPTY;
    if text.is_empty() {
        return DateOutcome { value: None, notes };
    }
    if is_placeholder(text) {
        notes.add(Note::Placeholder);
        return DateOutcome { value: None, notes };
    }
    match split_time(text).and_then(lex).as_ref().and_then(read_date) {
        Some((d, serial)) => {
            notes.add_if(serial, Note::ExcelSerial);
            DateOutcome {
                value: Some(d),
                notes,
            }
        }
        None => {
            notes.add(Note::Invalid);
            DateOutcome { value: None, notes }
        }
    }
}

/// Reads a month from the lexed groups of a text without a time.
fn read_month(l: &Lexed) -> Option<Period> {
    let (year, month) = match l.n {
        1 if l.seps[0] == '\0' && l.digits(0) == 6 => (l.value(0) / 100, l.value(0) % 100),
        2 => {
            let seps_ok = if l.seps[0] == '年' {
                matches!(l.seps[1], '月' | '\0')
            } else {
                matches!(l.seps[0], '-' | '/' | '.') && l.seps[1] == '\0'
            };
            if !seps_ok || l.digits(0) != 4 || l.digits(1) > 2 {
                return None;
            }
            (l.value(0), l.value(1))
        }
        _ => return None,
    };
    let year = i32::try_from(year).ok().filter(|y| YEARS.contains(y))?;
    (1..=12).contains(&month).then_some(Period { year, month })
}

/// Reads a month from a cell (see the module documentation).
pub fn parse_month(text: &str) -> MonthOutcome {
    let text = text.trim();
    let mut notes = NoteSet::EMPTY;
    if text.is_empty() {
        return MonthOutcome { value: None, notes };
    }
    if is_placeholder(text) {
        notes.add(Note::Placeholder);
        return MonthOutcome { value: None, notes };
    }
    if let Some(p) = lex(text).as_ref().and_then(read_month) {
        return MonthOutcome {
            value: Some(p),
            notes,
        };
    }
    // A month column sometimes holds the first (or any) day of the month.
    let d = parse_date(text);
    match d.value {
        Some(day) => {
            notes.extend(d.notes);
            notes.add(Note::DayDropped);
            MonthOutcome {
                value: Some(Period {
                    year: day.year,
                    month: day.month,
                }),
                notes,
            }
        }
        None => {
            notes.add(Note::Invalid);
            MonthOutcome { value: None, notes }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Option<String> {
        parse_date(text).value.map(|d| d.to_string())
    }

    fn m(text: &str) -> Option<String> {
        parse_month(text).value.map(|p| p.to_string())
    }

    #[test]
    fn reads_every_common_date_form() {
        for text in [
            "2012-03-05",
            "2012-3-5",
            "2012/3/5",
            "2012/03/05",
            "20120305",
            "2012年3月5日",
            "2012年03月05号",
            "2012年3月5",
            "2012.3.5",
            " 2012-03-05 ",
            "2012-03-05 00:00:00",
            "2012/3/5 0:00",
            "2012-03-05T08:30:00Z",
            "２０１２－０３－０５",
        ] {
            assert_eq!(d(text).as_deref(), Some("2012-03-05"), "{text}");
            assert!(parse_date(text).notes.is_empty(), "{text}");
        }
    }

    #[test]
    fn reads_excel_serials_with_a_note() {
        let o = parse_date("40973");
        assert_eq!(
            o.value.map(|d| d.to_string()).as_deref(),
            Some("2012-03-05")
        );
        assert!(o.notes.contains(Note::ExcelSerial));
        assert_eq!(d("40973.5").as_deref(), Some("2012-03-05"));
        assert_eq!(d("25569").as_deref(), Some("1970-01-01"));
        assert_eq!(d("2012"), None);
        assert_eq!(d("09999"), None);
    }

    #[test]
    fn invalid_dates_are_missing_with_a_note() {
        for text in [
            "2013-02-29",
            "2012-13-01",
            "2012-3",
            "5/3/2012",
            "2012-03/05",
            "20121305",
            "1850-01-01",
            "2012-03-05 foo",
            "abc",
            "2012--03-05",
            "12",
        ] {
            let o = parse_date(text);
            assert_eq!(o.value, None, "{text}");
            assert!(o.notes.contains(Note::Invalid), "{text}");
        }
        assert_eq!(parse_date("").notes, NoteSet::EMPTY);
        assert!(parse_date("不详").notes.contains(Note::Placeholder));
    }

    #[test]
    fn reads_every_common_month_form() {
        for text in [
            "2026-05",
            "2026-5",
            "202605",
            "2026年5月",
            "2026年05",
            "2026/5",
            "2026.05",
        ] {
            assert_eq!(m(text).as_deref(), Some("2026-05"), "{text}");
            assert!(parse_month(text).notes.is_empty(), "{text}");
        }
    }

    #[test]
    fn months_given_as_dates_drop_the_day() {
        for text in [
            "2026-05-01",
            "20260531",
            "2026年5月1日",
            "2026-05-01 00:00:00",
        ] {
            let o = parse_month(text);
            assert_eq!(
                o.value.map(|p| p.to_string()).as_deref(),
                Some("2026-05"),
                "{text}"
            );
            assert!(o.notes.contains(Note::DayDropped), "{text}");
        }
    }

    #[test]
    fn invalid_months_are_missing_with_a_note() {
        for text in [
            "2026-13",
            "202613",
            "26-05",
            "2026",
            "May 2026",
            "2026-05-32",
        ] {
            let o = parse_month(text);
            assert_eq!(o.value, None, "{text}");
            assert!(o.notes.contains(Note::Invalid), "{text}");
        }
    }

    proptest! {
        #[test]
        fn date_parser_never_panics(text in any::<String>()) {
            let _ = parse_date(&text);
        }

        #[test]
        fn month_parser_never_panics(text in any::<String>()) {
            let _ = parse_month(&text);
        }

        #[test]
        fn date_like_noise_never_panics(text in "[0-9年月日号/.\\- :T]{0,24}") {
            let o = parse_date(&text);
            if let Some(d) = o.value {
                prop_assert!(YEARS.contains(&d.year));
            }
            let _ = parse_month(&text);
        }

        #[test]
        fn formatted_dates_round_trip(days in -25_000i32..47_000) {
            let day = CivilDate::from_days(days);
            prop_assert_eq!(parse_date(&day.to_string()).value, Some(day));
            let chinese = format!("{}年{}月{}日", day.year, day.month, day.day);
            prop_assert_eq!(parse_date(&chinese).value, Some(day));
        }
    }
}
