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

/// Normalizes a free-text cell; borrows the input when nothing changes.
pub fn normalize_free_text(text: &str) -> TextOutcome<'_> {
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
