//! Full-width to ASCII folding, shared by every text rule.
//!
//! Chinese input methods type digits, Latin letters and punctuation in their
//! full-width forms (`１２３`, `ＡＢＣ`, `（`), and the ideographic space
//! U+3000. Those fold to ASCII so that `１２３` and `123` compare equal.

use std::borrow::Cow;

/// The ASCII form of a full-width character, or `None` for any other.
#[inline]
pub fn fold_char(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

/// Folds full-width characters to ASCII; borrows when there is none.
pub fn fold_fullwidth(s: &str) -> Cow<'_, str> {
    if s.is_ascii() || !s.chars().any(|c| fold_char(c).is_some()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| fold_char(c).unwrap_or(c)).collect())
}

/// Trims and folds every whitespace run to one ASCII space; borrows when the
/// text is already folded. Returns whether anything changed.
pub fn fold_whitespace(s: &str) -> (Cow<'_, str>, bool) {
    let trimmed = s.trim();
    let mut prev_space = false;
    let folded = trimmed.chars().all(|c| {
        let ok = if c.is_whitespace() {
            c == ' ' && !prev_space
        } else {
            true
        };
        prev_space = c.is_whitespace();
        ok
    });
    if folded {
        return (Cow::Borrowed(trimmed), trimmed.len() != s.len());
    }
    let mut out = String::with_capacity(trimmed.len());
    let mut prev_space = false;
    for c in trimmed.chars() {
        if c.is_whitespace() {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
    (Cow::Owned(out), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_full_width_digits_letters_and_space() {
        assert_eq!(fold_fullwidth("１２３ＡＢｃ（）\u{3000}"), "123ABc() ");
        assert!(matches!(fold_fullwidth("plain 文字"), Cow::Borrowed(_)));
    }

    #[test]
    fn folds_whitespace_runs() {
        assert_eq!(fold_whitespace("  a \t b  "), (Cow::Borrowed("a b"), true));
        assert!(!fold_whitespace("a b").1);
        assert_eq!(fold_whitespace("a\u{3000}b").0, "a b");
    }
}
