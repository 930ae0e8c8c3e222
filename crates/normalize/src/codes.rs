//! Exact codes (student numbers, certificate numbers, household numbers):
//! trimmed, full-width folded, spaces removed, letters upper-cased.
//!
//! Codes are compared exactly, so every harmless difference is removed:
//! `g 4401...` and `G4401...` are the same student number. A code that a
//! spreadsheet destroyed into scientific notation (`4.40106E+19`) is missing
//! with `scientific_notation`, like an ID.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_char;
use std::borrow::Cow;

/// The outcome of the exact-code rule on one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeOutcome<'a> {
    /// The code, or `None` when blank, a placeholder or destroyed.
    pub value: Option<Cow<'a, str>>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Whether `s` looks like a number a spreadsheet wrote in scientific notation.
pub fn is_scientific_notation(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(e) = b.iter().position(|c| matches!(c, b'E' | b'e')) else {
        return false;
    };
    let (mantissa, exponent) = (&b[..e], &b[e + 1..]);
    let exponent = exponent.strip_prefix(b"+").unwrap_or(exponent);
    !mantissa.is_empty()
        && mantissa.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && mantissa.iter().filter(|c| **c == b'.').count() <= 1
        && !exponent.is_empty()
        && exponent.iter().all(u8::is_ascii_digit)
}

/// Normalizes an exact code; borrows the input when nothing changes.
pub fn normalize_code(text: &str) -> CodeOutcome<'_> {
    let mut notes = NoteSet::EMPTY;
    let clean = text
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_ascii_lowercase() && fold_char(c).is_none());
    let value: Cow<'_, str> = if clean {
        Cow::Borrowed(text)
    } else {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            let folded = fold_char(c);
            notes.add_if(folded.is_some_and(|f| f != ' '), Note::Fullwidth);
            let c = folded.unwrap_or(c);
            if c.is_whitespace() {
                notes.add(Note::Spaces);
            } else if c.is_ascii_lowercase() {
                notes.add(Note::Case);
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    };
    if value.is_empty() {
        return CodeOutcome {
            value: None,
            notes: NoteSet::EMPTY,
        };
    }
    if is_placeholder(&value) {
        notes.add(Note::Placeholder);
        return CodeOutcome { value: None, notes };
    }
    if is_scientific_notation(&value) {
        notes.add(Note::ScientificNotation);
        return CodeOutcome { value: None, notes };
    }
    CodeOutcome {
        value: Some(value),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> (Option<String>, Vec<Note>) {
        let o = normalize_code(text);
        (o.value.map(Cow::into_owned), o.notes.iter().collect())
    }

    #[test]
    fn cleans_spaces_case_and_full_width() {
        assert_eq!(
            code("G11010519491231002X"),
            (Some("G11010519491231002X".into()), vec![])
        );
        assert_eq!(
            code(" g 1101 05 "),
            (Some("G110105".into()), vec![Note::Spaces, Note::Case])
        );
        assert_eq!(
            code("Ｇ１２３"),
            (Some("G123".into()), vec![Note::Fullwidth])
        );
    }

    #[test]
    fn destroyed_and_placeholder_codes_are_missing() {
        assert_eq!(code("4.40106E+19"), (None, vec![Note::ScientificNotation]));
        assert_eq!(
            code("4.40106e+19"),
            (None, vec![Note::Case, Note::ScientificNotation])
        );
        assert_eq!(code("无"), (None, vec![Note::Placeholder]));
        assert_eq!(code("E12"), (Some("E12".into()), vec![]));
        assert_eq!(code("   "), (None, vec![]));
    }
}
