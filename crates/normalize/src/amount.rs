//! Money amounts in yuan: `¥1,200.50`, `1200元`, `１２００`.
//!
//! Currency signs and words (`¥`, `￥`, `元`, `RMB`, `CNY`), thousands
//! separators and spaces are the expected form of an amount and are removed
//! without a note. What remains must be a finite decimal number.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_fullwidth;

/// The outcome of the amount rule on one cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AmountOutcome {
    /// The amount, when the text is one.
    pub value: Option<f64>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Reads an amount in yuan from a cell.
pub fn parse_amount(text: &str) -> AmountOutcome {
    let mut notes = NoteSet::EMPTY;
    let text = text.trim();
    if text.is_empty() {
        return AmountOutcome { value: None, notes };
    }
    // The common case, a plain number, parses without any copy.
    if let Ok(v) = text.parse::<f64>()
        && v.is_finite()
        && !text.bytes().any(|b| b.is_ascii_alphabetic())
    {
        return AmountOutcome {
            value: Some(v),
            notes,
        };
    }
    let folded = fold_fullwidth(text);
    if is_placeholder(folded.trim()) {
        notes.add(Note::Placeholder);
        return AmountOutcome { value: None, notes };
    }
    let mut cleaned = String::with_capacity(folded.len());
    let mut rest = folded.trim();
    for word in ["RMB", "CNY", "rmb", "cny"] {
        rest = rest.trim_start_matches(word).trim_end_matches(word);
    }
    for c in rest.chars() {
        match c {
            '¥' | '￥' | '元' | ',' | '，' | ' ' | '_' => {}
            c => cleaned.push(c),
        }
    }
    let value = cleaned
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && !cleaned.bytes().any(|b| b.is_ascii_alphabetic()));
    notes.add_if(value.is_none(), Note::Invalid);
    AmountOutcome { value, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_amount_forms() {
        for (t, v) in [
            ("1200", 1200.0),
            ("1200.50", 1200.5),
            ("¥1,200.50", 1200.5),
            ("￥1200", 1200.0),
            ("1200元", 1200.0),
            ("RMB 1,200", 1200.0),
            ("１２００．５", 1200.5),
            ("-50", -50.0),
        ] {
            let o = parse_amount(t);
            assert_eq!(o.value, Some(v), "{t}");
            assert!(o.notes.is_empty(), "{t}");
        }
    }

    #[test]
    fn junk_is_missing_with_a_note() {
        for t in ["abc", "inf", "NaN1", "1.2.3", "1e5x", "infinity"] {
            let o = parse_amount(t);
            assert_eq!(o.value, None, "{t}");
            assert!(o.notes.contains(Note::Invalid), "{t}");
        }
        assert!(parse_amount("无").notes.contains(Note::Placeholder));
        assert!(parse_amount(" ").notes.is_empty());
    }
}
