//! Free text (addresses, schools, grades, relations): trimmed, whitespace
//! runs folded to one space, full-width forms folded to ASCII.
//!
//! The text is otherwise kept as typed: free text is compared fuzzily, and
//! rewriting it further would hide what the department wrote.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::{fold_fullwidth, fold_whitespace};
use std::borrow::Cow;

/// The outcome of the free-text rule on one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextOutcome<'a> {
    /// The text, or `None` when blank or a placeholder.
    pub value: Option<Cow<'a, str>>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Whether a byte can start something the rule changes: any ASCII space or
/// control whitespace, or a lead byte of a full-width form (0xEF, 0xE3) or
/// of other Unicode whitespace (0xC2, 0xE1, 0xE2, 0xE3).
const CHANGEABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = b'\t';
    while b <= b'\r' {
        t[b as usize] = true;
        b += 1;
    }
    t[b' ' as usize] = true;
    t[0xC2] = true;
    t[0xE1] = true;
    t[0xE2] = true;
    t[0xE3] = true;
    t[0xEF] = true;
    t
};

/// Normalizes a free-text cell; borrows the input when nothing changes.
pub fn normalize_free_text(text: &str) -> TextOutcome<'_> {
    // Most cells (a school, a relation, an address without spaces) hold no
    // byte either fold looks at: one table scan settles them.
    if !text.bytes().any(|b| CHANGEABLE[b as usize]) {
        if text.is_empty() {
            return TextOutcome {
                value: None,
                notes: NoteSet::EMPTY,
            };
        }
        let mut notes = NoteSet::EMPTY;
        if is_placeholder(text) {
            notes.add(Note::Placeholder);
            return TextOutcome { value: None, notes };
        }
        return TextOutcome {
            value: Some(Cow::Borrowed(text)),
            notes,
        };
    }
    let mut notes = NoteSet::EMPTY;
    let folded = fold_fullwidth(text);
    notes.add_if(matches!(folded, Cow::Owned(_)), Note::Fullwidth);
    let value = match folded {
        Cow::Borrowed(b) => {
            let (v, changed) = fold_whitespace(b);
            notes.add_if(changed, Note::Spaces);
            v
        }
        Cow::Owned(o) => {
            let (v, changed) = fold_whitespace(&o);
            notes.add_if(changed, Note::Spaces);
            Cow::Owned(v.into_owned())
        }
    };
    if value.is_empty() {
        return TextOutcome {
            value: None,
            notes: NoteSet::EMPTY,
        };
    }
    if is_placeholder(&value) {
        notes.add(Note::Placeholder);
        return TextOutcome { value: None, notes };
    }
    TextOutcome {
        value: Some(value),
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_whitespace_and_full_width() {
        let o = normalize_free_text("  广州市 天河区\t\t某某路１２号 ");
        assert_eq!(o.value.as_deref(), Some("广州市 天河区 某某路12号"));
        assert_eq!(
            o.notes.iter().collect::<Vec<_>>(),
            vec![Note::Spaces, Note::Fullwidth]
        );
    }

    #[test]
    fn clean_text_is_borrowed_and_unnoted() {
        let o = normalize_free_text("三年级");
        assert!(matches!(o.value, Some(Cow::Borrowed("三年级"))));
        assert!(o.notes.is_empty());
    }

    /// The rule without its fast path, as it was written first.
    fn slow(text: &str) -> TextOutcome<'_> {
        let mut notes = NoteSet::EMPTY;
        let folded = fold_fullwidth(text);
        notes.add_if(matches!(folded, Cow::Owned(_)), Note::Fullwidth);
        let (v, changed) = fold_whitespace(&folded);
        notes.add_if(changed, Note::Spaces);
        let v = v.into_owned();
        if v.is_empty() {
            return TextOutcome {
                value: None,
                notes: NoteSet::EMPTY,
            };
        }
        if is_placeholder(&v) {
            notes.add(Note::Placeholder);
            return TextOutcome { value: None, notes };
        }
        TextOutcome {
            value: Some(Cow::Owned(v)),
            notes,
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_rule(
            text in "[a -/ 　\t\u{a0}\u{2003}\u{ff11}、。文字无不详NA]{0,10}"
        ) {
            proptest::prop_assert_eq!(normalize_free_text(&text), slow(&text));
        }

        #[test]
        fn the_fast_path_agrees_on_any_text(text in "\\PC{0,12}") {
            proptest::prop_assert_eq!(normalize_free_text(&text), slow(&text));
        }
    }

    #[test]
    fn blanks_and_placeholders_are_missing() {
        assert_eq!(normalize_free_text("   ").value, None);
        assert!(normalize_free_text("   ").notes.is_empty());
        assert!(
            normalize_free_text("不详")
                .notes
                .contains(Note::Placeholder)
        );
    }
}
