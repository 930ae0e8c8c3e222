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
    // Full-width forms are U+FF01..U+FF5E (lead byte 0xEF) and U+3000 (0xE3):
    // a byte scan rules most texts out before any decoding.
    if !s.bytes().any(|b| b == 0xEF || b == 0xE3) || !s.chars().any(|c| fold_char(c).is_some()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| fold_char(c).unwrap_or(c)).collect())
}

/// Trims and folds every whitespace run to one ASCII space; borrows when the
/// text is already folded. Returns whether anything changed.
pub fn fold_whitespace(s: &str) -> (Cow<'_, str>, bool) {
    // One byte pass decides the common case: only single inner ASCII spaces
    // and no other whitespace. Other Unicode whitespace is an ASCII control
    // or has lead byte 0xC2, 0xE1, 0xE2 or 0xE3; text with such a lead byte
    // that is not whitespace just takes the slower check below.
    let bytes = s.as_bytes();
    let mut folded = bytes.first() != Some(&b' ') && bytes.last() != Some(&b' ');
    let mut prev_space = false;
    for &b in bytes {
        match b {
            b' ' if prev_space => folded = false,
            b' ' => prev_space = true,
            b'\t'..=b'\r' | 0xC2 | 0xE1 | 0xE2 | 0xE3 => folded = false,
            _ => prev_space = false,
        }
        if !folded {
            break;
        }
    }
    if folded {
        return (Cow::Borrowed(s), false);
    }
    // Confirm with the full Unicode test before copying.
    let trimmed = s.trim();
    let mut prev = false;
    let folded = trimmed.chars().all(|c| {
        let ok = !c.is_whitespace() || (c == ' ' && !prev);
        prev = c.is_whitespace();
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

    /// The plain definition the fast paths must agree with.
    fn reference(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_agree_with_the_definition(s in "[a 　\t\u{a0}\u{2003}、。文字]{0,12}") {
            let (folded, changed) = fold_whitespace(&s);
            proptest::prop_assert_eq!(folded.as_ref(), reference(&s));
            proptest::prop_assert_eq!(changed, folded != s);
            let full: String = s.chars().map(|c| fold_char(c).unwrap_or(c)).collect();
            proptest::prop_assert_eq!(fold_fullwidth(&s), full);
        }
    }
}
