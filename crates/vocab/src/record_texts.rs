//! One text per record, given either as a `String` each or as one Arrow
//! string array: the record keys and person IDs the registry hands out and
//! the flag stage groups and names evidence by.
//!
//! The array form is what the pipeline passes, without a heap block per
//! record; the `String` form serves the older calls and tests. Both read the
//! same, so every stage sees the same texts.

use arrow_array::{Array, StringArray};

/// The texts of a period's records, in record order.
#[derive(Clone, Copy, Debug)]
pub enum RecordTexts<'a> {
    /// A `String` per record.
    Strings(&'a [String]),
    /// One array; a null reads as the empty text.
    Array(&'a StringArray),
}

impl<'a> RecordTexts<'a> {
    /// How many records.
    pub fn len(self) -> usize {
        match self {
            RecordTexts::Strings(t) => t.len(),
            RecordTexts::Array(t) => t.len(),
        }
    }

    /// Whether there are no records.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The text of record `row`.
    pub fn get(self, row: usize) -> &'a str {
        match self {
            RecordTexts::Strings(t) => t[row].as_str(),
            RecordTexts::Array(t) if t.is_null(row) => "",
            RecordTexts::Array(t) => t.value(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RecordTexts;
    use arrow_array::StringArray;

    #[test]
    fn both_forms_read_the_same_and_a_null_is_empty() {
        let strings = vec!["a|1".to_string(), String::new(), "b|2".to_string()];
        let array = StringArray::from(vec![Some("a|1"), None, Some("b|2")]);
        let (s, a) = (RecordTexts::Strings(&strings), RecordTexts::Array(&array));
        assert_eq!((s.len(), a.len()), (3, 3));
        for row in 0..3 {
            assert_eq!(s.get(row), a.get(row));
        }
        assert_eq!(a.get(1), "");
        assert!(RecordTexts::Strings(&[]).is_empty());
    }
}
