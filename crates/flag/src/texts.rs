//! One text per record, given either as a `String` each or as one Arrow
//! string array: the person IDs [`crate::evaluate`] groups records by, and
//! the record keys [`crate::add_evidence_digest`] names evidence with.
//!
//! The array form is what the registry hands out without a heap block per
//! record; both read the same, so every rule sees the same texts.

use arrow_array::{Array, StringArray};

/// The texts of the records, in record order.
#[derive(Clone, Copy)]
pub(crate) enum Texts<'a> {
    Strings(&'a [String]),
    /// A null reads as the empty text.
    Array(&'a StringArray),
}

impl<'a> Texts<'a> {
    pub fn len(self) -> usize {
        match self {
            Texts::Strings(t) => t.len(),
            Texts::Array(t) => t.len(),
        }
    }

    /// The text of record `row`.
    pub fn get(self, row: usize) -> &'a str {
        match self {
            Texts::Strings(t) => t[row].as_str(),
            Texts::Array(t) if t.is_null(row) => "",
            Texts::Array(t) => t.value(row),
        }
    }
}
