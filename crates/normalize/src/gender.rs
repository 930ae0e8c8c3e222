//! Gender from text: 男/女, 1/2, M/F, male/female.
//!
//! The stored codes are `M` and `F` ([`Gender::code`]). 1 for male and 2 for
//! female follow GB/T 2261.1; 0 and 9 (unknown, unstated) and anything else
//! are missing with `invalid`, so a junk value never agrees with another.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_fullwidth;
use aidlink_vocab::Gender;

/// The outcome of the gender rule on one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenderOutcome {
    /// The gender, when the text names one.
    pub value: Option<Gender>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// The gender a text names, without notes (the built-in reading).
pub fn read_gender(text: &str) -> Option<Gender> {
    let folded = fold_fullwidth(text.trim());
    let t = folded.as_ref();
    match t {
        "男" | "男性" | "1" | "M" | "m" => return Some(Gender::Male),
        "女" | "女性" | "2" | "F" | "f" => return Some(Gender::Female),
        _ => {}
    }
    if t.eq_ignore_ascii_case("male") {
        Some(Gender::Male)
    } else if t.eq_ignore_ascii_case("female") {
        Some(Gender::Female)
    } else {
        None
    }
}

/// Reads a gender from a cell.
pub fn normalize_gender(text: &str) -> GenderOutcome {
    let mut notes = NoteSet::EMPTY;
    let value = read_gender(text);
    if value.is_none() && !text.trim().is_empty() {
        notes.add(if is_placeholder(&fold_fullwidth(text.trim())) {
            Note::Placeholder
        } else {
            Note::Invalid
        });
    }
    GenderOutcome { value, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_common_form() {
        for t in [
            "男", "男性", "1", "M", "m", "male", "Male", " 男 ", "Ｍ", "１",
        ] {
            assert_eq!(read_gender(t), Some(Gender::Male), "{t}");
        }
        for t in ["女", "女性", "2", "F", "f", "FEMALE", "female"] {
            assert_eq!(read_gender(t), Some(Gender::Female), "{t}");
        }
    }

    #[test]
    fn unknown_values_are_missing_with_a_note() {
        for t in ["0", "9", "X", "男女"] {
            let o = normalize_gender(t);
            assert_eq!(o.value, None, "{t}");
            assert!(o.notes.contains(Note::Invalid), "{t}");
        }
        assert!(normalize_gender("未知").notes.contains(Note::Placeholder));
        assert!(normalize_gender("").notes.is_empty());
    }
}
