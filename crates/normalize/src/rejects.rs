//! The reject rule, and the raw text a reject keeps.
//!
//! A row is rejected only when nothing in it can identify a person: no
//! usable name and no usable resident ID (a failed check digit still counts
//! as usable). Every other defect stays in the record, as a missing field
//! with a note, because the matcher can still use the rest of the row.

use crate::ids::normalize_id;
use crate::names::normalize_name;
use crate::notes::Note;
use aidlink_vocab::IdError;
use arrow_array::{Array, RecordBatch, StringArray};

/// Reason code of a row with neither a usable name nor a usable ID.
pub const NO_IDENTITY: &str = "no_identity";

/// Why a name cell gives no usable name, in words for the reject message.
/// The cell's text itself is never part of the message.
pub fn name_problem(cell: Option<&str>, mapped: bool) -> &'static str {
    if !mapped {
        return "the source maps no name column";
    }
    let Some(text) = cell else {
        return "name is empty";
    };
    let o = normalize_name(text);
    if o.notes.contains(Note::Placeholder) {
        "name is a placeholder"
    } else if o.value.is_none() && !text.trim().is_empty() {
        "name has no letters"
    } else {
        "name is empty"
    }
}

/// Why an ID cell gives no usable ID, in words for the reject message.
pub fn id_problem(cell: Option<&str>, mapped: bool) -> String {
    if !mapped {
        return "the source maps no id_number column".to_string();
    }
    let Some(text) = cell else {
        return "id_number is empty".to_string();
    };
    let o = normalize_id(text);
    if o.notes.contains(Note::Placeholder) {
        return "id_number is a placeholder".to_string();
    }
    match o.error {
        Some(IdError::Empty) | None => "id_number is empty".to_string(),
        Some(e) => format!("id_number {e}"),
    }
}

/// The message of a `no_identity` reject.
pub fn no_identity_message(source: &str, source_row: u64, name: &str, id: &str) -> String {
    format!(
        "row {source_row} of source `{source}` has neither a usable name nor a usable ID number ({name}; {id})"
    )
}

/// Appends `text` with `\`, `|`, and line breaks escaped.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Rebuilds a raw row as `header=value|header=value|...`, in raw column
/// order, with the source file's headers; a null cell gives `header=`.
pub fn raw_text(raw: &RecordBatch, headers: &[(usize, String)], row: usize) -> String {
    let mut out = String::new();
    for (n, (col, header)) in headers.iter().enumerate() {
        if n > 0 {
            out.push('|');
        }
        push_escaped(&mut out, header);
        out.push('=');
        if let Some(a) = raw.column(*col).as_any().downcast_ref::<StringArray>()
            && a.is_valid(row)
        {
            push_escaped(&mut out, a.value(row));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn problems_are_named_without_the_value() {
        assert_eq!(name_problem(None, true), "name is empty");
        assert_eq!(name_problem(Some("不详"), true), "name is a placeholder");
        assert_eq!(name_problem(Some("123"), true), "name has no letters");
        assert_eq!(name_problem(None, false), "the source maps no name column");
        let sci = id_problem(Some("4.40106E+17"), true);
        assert!(sci.contains("scientific notation"), "{sci}");
        assert!(id_problem(Some("1234"), true).contains("4 characters"));
        assert_eq!(id_problem(Some("无"), true), "id_number is a placeholder");
    }

    #[test]
    fn raw_text_escapes_and_keeps_order() {
        let raw = RecordBatch::try_from_iter([
            (
                "name",
                Arc::new(StringArray::from(vec![Some("a|b")])) as Arc<dyn Array>,
            ),
            ("id_number", Arc::new(StringArray::from(vec![None::<&str>]))),
        ])
        .unwrap();
        let headers = vec![(0, "姓名".to_string()), (1, "身份证号".to_string())];
        assert_eq!(raw_text(&raw, &headers, 0), "姓名=a\\|b|身份证号=");
    }
}
