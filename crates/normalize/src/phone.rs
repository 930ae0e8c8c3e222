//! Phone numbers: digits only, without country code or separators.
//!
//! Kept: 11-digit mobile numbers (`1` and ten digits), landlines with their
//! area code (`0` and 9 to 11 digits: `010 12345678`, `0755-1234567`), and
//! local landlines without one (7 or 8 digits, not starting with 0 or 1).
//! A second number (`138..., 139...`) or an extension (`转 123`, `ext 5`) is
//! dropped with a note. Anything else is missing with `invalid`.

use crate::codes::is_scientific_notation;
use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_char;

/// The outcome of the phone rule on one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhoneOutcome {
    /// The digits, when they form a phone number.
    pub value: Option<String>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Whether `digits` (ASCII digits only) has the shape of a phone number.
fn is_phone(digits: &str) -> bool {
    let b = digits.as_bytes();
    match b.first() {
        Some(b'1') => b.len() == 11,
        Some(b'0') => (10..=12).contains(&b.len()),
        Some(_) => (7..=8).contains(&b.len()),
        None => false,
    }
}

/// Normalizes a phone number (see the module documentation).
pub fn normalize_phone(text: &str) -> PhoneOutcome {
    let mut notes = NoteSet::EMPTY;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return PhoneOutcome { value: None, notes };
    }
    notes.add_if(trimmed.len() != text.len(), Note::Spaces);
    let invalid = |mut notes: NoteSet, note: Note| {
        notes.add(note);
        PhoneOutcome { value: None, notes }
    };
    if is_scientific_notation(trimmed) {
        return invalid(notes, Note::ScientificNotation);
    }
    let mut digits = String::with_capacity(12);
    let mut plus = false;
    for c in trimmed.chars() {
        let folded = fold_char(c);
        notes.add_if(folded.is_some_and(|f| f != ' '), Note::Fullwidth);
        let c = folded.unwrap_or(c);
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() => plus = true,
            c if c.is_whitespace() => notes.add(Note::Spaces),
            '-' | '(' | ')' | '（' | '）' | '.' | '—' => notes.add(Note::Separators),
            // A second number or an extension: keep the first number.
            ',' | '，' | ';' | '；' | '、' | '/' | '转' | '#' | 'x' | 'X' | 'e' | 'E' => {
                notes.add(Note::ExtraDropped);
                break;
            }
            _ if is_placeholder(trimmed) => return invalid(notes, Note::Placeholder),
            _ => return invalid(notes, Note::Invalid),
        }
    }
    let national = if let Some(rest) = digits.strip_prefix("0086") {
        Some(rest)
    } else if plus || digits.len() == 13 {
        digits.strip_prefix("86")
    } else {
        None
    };
    if let Some(rest) = national.filter(|r| is_phone(r)) {
        notes.add(Note::CountryCode);
        return PhoneOutcome {
            value: Some(rest.to_string()),
            notes,
        };
    }
    if is_phone(&digits) {
        PhoneOutcome {
            value: Some(digits),
            notes,
        }
    } else {
        invalid(notes, Note::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(text: &str) -> (Option<String>, Vec<Note>) {
        let o = normalize_phone(text);
        (o.value, o.notes.iter().collect())
    }

    #[test]
    fn keeps_mobiles_and_landlines() {
        assert_eq!(phone("13812345678"), (Some("13812345678".into()), vec![]));
        assert_eq!(
            phone("010-12345678"),
            (Some("01012345678".into()), vec![Note::Separators])
        );
        assert_eq!(
            phone("(0755)1234567"),
            (Some("07551234567".into()), vec![Note::Separators])
        );
        assert_eq!(phone("87654321"), (Some("87654321".into()), vec![]));
    }

    #[test]
    fn strips_country_codes_spaces_and_full_width() {
        assert_eq!(
            phone("+86 138 1234 5678"),
            (
                Some("13812345678".into()),
                vec![Note::Spaces, Note::CountryCode]
            )
        );
        assert_eq!(phone("008613812345678").0.as_deref(), Some("13812345678"));
        assert_eq!(phone("8613812345678").0.as_deref(), Some("13812345678"));
        assert_eq!(
            phone("１３８１２３４５６７８"),
            (Some("13812345678".into()), vec![Note::Fullwidth])
        );
    }

    #[test]
    fn drops_second_numbers_and_extensions() {
        assert_eq!(
            phone("13812345678,13987654321"),
            (Some("13812345678".into()), vec![Note::ExtraDropped])
        );
        assert_eq!(phone("010-12345678转123").0.as_deref(), Some("01012345678"));
    }

    #[test]
    fn junk_is_missing_with_a_note() {
        assert_eq!(phone("1381234567"), (None, vec![Note::Invalid]));
        assert_eq!(phone("电话"), (None, vec![Note::Invalid]));
        assert_eq!(phone("1.38123E+10"), (None, vec![Note::ScientificNotation]));
        assert_eq!(phone("无"), (None, vec![Note::Placeholder]));
        assert_eq!(phone("  "), (None, vec![]));
    }
}
