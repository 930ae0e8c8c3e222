//! Resident ID numbers: cleaning, the 15-to-18 conversion and the check.
//!
//! [`ResidentId::parse`] does the cleaning itself; this rule decides what a
//! parse means for the record (kept, kept with a failed check, or missing)
//! and names what cleaning changed, so an analyst can see how often a
//! department's IDs arrive with full-width digits or an Excel apostrophe.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_fullwidth;
use aidlink_vocab::{CivilDate, IdError, ParsedId, ResidentId};

/// The outcome of the ID rule on one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdOutcome {
    /// The number, when it could be read (its check may have failed).
    pub parsed: Option<ParsedId>,
    /// Why it could not be read, when it could not.
    pub error: Option<IdError>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Reads a resident ID from a cell.
///
/// A failed check character keeps the number (`check_failed`): a mistyped
/// digit is still evidence for the matcher. A number destroyed into
/// scientific notation, or that is not 15 or 18 characters of digits, is
/// missing with its reason.
pub fn normalize_id(text: &str) -> IdOutcome {
    // The common case, 18 clean characters with a good check, needs no copy.
    if let Some(parsed) = clean_valid(text) {
        return IdOutcome {
            parsed: Some(parsed),
            error: None,
            notes: NoteSet::EMPTY,
        };
    }
    let mut notes = NoteSet::EMPTY;
    if is_placeholder(&fold_fullwidth(text.trim())) {
        notes.add(Note::Placeholder);
        return IdOutcome {
            parsed: None,
            error: Some(IdError::Empty),
            notes,
        };
    }
    match ResidentId::parse(text) {
        Ok(parsed) => {
            if parsed.cleaned {
                notes.extend(cleaning_notes(text));
            }
            notes.add_if(parsed.from_15, Note::From15To18);
            notes.add_if(!parsed.check_ok, Note::CheckFailed);
            IdOutcome {
                parsed: Some(parsed),
                error: None,
                notes,
            }
        }
        Err(error) => {
            // A cell of nothing but spaces or quotes is simply blank: no note.
            match error {
                IdError::Empty => {}
                IdError::ScientificNotation => notes.add(Note::ScientificNotation),
                IdError::BadLength(_) | IdError::BadCharacter(_) => notes.add(Note::Unrecoverable),
            }
            IdOutcome {
                parsed: None,
                error: Some(error),
                notes,
            }
        }
    }
}

/// Reads an ID that is already in canonical form with a good check
/// character, without [`ResidentId::parse`]'s cleaning copy.
fn clean_valid(text: &str) -> Option<ParsedId> {
    let b = text.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut first17 = [0u8; 17];
    first17.copy_from_slice(&b[..17]);
    let id = ResidentId::from_first17(&first17);
    (id.as_bytes()[17] == b[17]).then_some(ParsedId {
        id,
        check_ok: true,
        from_15: false,
        cleaned: false,
    })
}

/// Names what [`ResidentId::parse`]'s cleaning removed or changed in `text`.
fn cleaning_notes(text: &str) -> NoteSet {
    let mut notes = NoteSet::EMPTY;
    for c in text.chars() {
        match c {
            'x' | '\u{FF58}' => {
                notes.add(Note::LowercaseX);
                notes.add_if(c != 'x', Note::Fullwidth);
            }
            '\u{FF01}'..='\u{FF5E}' => notes.add(Note::Fullwidth),
            c if c.is_whitespace() => notes.add(Note::Spaces),
            '-' | '\'' | '"' => notes.add(Note::Separators),
            _ => {}
        }
    }
    notes
}

/// The ID's embedded birth date, or `None` when it is no real date (an ID
/// whose date is `20121345` is kept, but its derived birth date is missing).
/// Reads the digits directly: this runs twice per record.
pub fn embedded_birth_date(id: &ResidentId) -> Option<CivilDate> {
    let b = id.as_bytes();
    let num = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    CivilDate::new(i32::try_from(num(6..10)).ok()?, num(10..12), num(12..14))
}

/// Whether the ID's embedded birth date is a real date.
pub fn embedded_date_ok(id: &ResidentId) -> bool {
    embedded_birth_date(id).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "11010519491231002X";

    fn notes_of(text: &str) -> Vec<Note> {
        normalize_id(text).notes.iter().collect()
    }

    #[test]
    fn clean_valid_number_has_no_notes() {
        let o = normalize_id(VALID);
        assert_eq!(o.parsed.unwrap().id.as_str(), VALID);
        assert!(o.notes.is_empty());
    }

    #[test]
    fn names_each_cleaning_step() {
        assert_eq!(
            notes_of("１１０１０５１９４９１２３１００２Ｘ"),
            vec![Note::Fullwidth]
        );
        assert_eq!(notes_of("11010519491231002x"), vec![Note::LowercaseX]);
        assert_eq!(notes_of(" 110105 19491231 002X "), vec![Note::Spaces]);
        assert_eq!(notes_of("'11010519491231002X"), vec![Note::Separators]);
        let o = normalize_id("１１０１０５１９４９１２３１００２ｘ");
        assert_eq!(o.parsed.unwrap().id.as_str(), VALID);
        assert!(o.notes.contains(Note::Fullwidth) && o.notes.contains(Note::LowercaseX));
    }

    #[test]
    fn converts_15_to_18() {
        let o = normalize_id("110105491231002");
        assert_eq!(o.parsed.unwrap().id.as_str(), VALID);
        assert_eq!(o.notes.iter().collect::<Vec<_>>(), vec![Note::From15To18]);
    }

    #[test]
    fn keeps_a_failed_check_with_a_note() {
        let o = normalize_id("110105194912310021");
        let p = o.parsed.unwrap();
        assert!(!p.check_ok);
        assert_eq!(p.id.as_str(), "110105194912310021");
        assert!(o.notes.contains(Note::CheckFailed));
    }

    #[test]
    fn scientific_notation_and_garbage_are_missing_with_reasons() {
        let o = normalize_id("4.40106E+17");
        assert!(o.parsed.is_none());
        assert_eq!(o.error, Some(IdError::ScientificNotation));
        assert!(o.notes.contains(Note::ScientificNotation));
        assert!(
            normalize_id("4.40106e17")
                .notes
                .contains(Note::ScientificNotation)
        );
        assert!(normalize_id("12345").notes.contains(Note::Unrecoverable));
        assert!(
            normalize_id("11010519491231X02X")
                .notes
                .contains(Note::Unrecoverable)
        );
        assert!(normalize_id("不详").notes.contains(Note::Placeholder));
    }

    #[test]
    fn embedded_date_is_checked() {
        let bad = ResidentId::parse("110105201213450011").unwrap().id;
        assert!(!embedded_date_ok(&bad));
        let good = ResidentId::parse(VALID).unwrap().id;
        assert!(embedded_date_ok(&good));
        assert_eq!(embedded_birth_date(&good), good.birth_date());
    }

    proptest::proptest! {
        #[test]
        fn id_rule_never_panics(text in proptest::prelude::any::<String>()) {
            let _ = normalize_id(&text);
        }

        #[test]
        fn embedded_date_agrees_with_the_vocabulary(
            digits in "[0-9]{6}(19|20)[0-9]{2}(0[0-9]|1[0-3])([0-2][0-9]|3[0-2])[0-9]{3}"
        ) {
            let mut first17 = [0u8; 17];
            first17.copy_from_slice(digits.as_bytes());
            let id = ResidentId::from_first17(&first17);
            proptest::prop_assert_eq!(embedded_birth_date(&id), id.birth_date());
        }

        #[test]
        fn id_like_noise_never_panics(text in "[0-9０-９xXｘ eE+.'\\-]{0,24}") {
            let o = normalize_id(&text);
            if let Some(p) = o.parsed {
                proptest::prop_assert_eq!(p.id.as_str().len(), 18);
                proptest::prop_assert_eq!(p.check_ok, !o.notes.contains(Note::CheckFailed));
            }
        }
    }
}
