//! Placeholders that departments type for "no value".
//!
//! A cell holding `不详`, `无`, `-` or `N/A` carries no value; reading it as
//! one would make two strangers agree on "不详". Every field kind reads these
//! as missing and notes it (`<field>_placeholder`).

/// Texts read as "no value" in any field, compared after trimming and
/// full-width folding. Letters are compared case-sensitively except for the
/// all-lowercase and all-uppercase forms listed.
const PLACEHOLDERS: &[&str] = &[
    "-",
    "--",
    "---",
    "—",
    "——",
    "/",
    "\\",
    "?",
    "??",
    "*",
    "无",
    "空",
    "暂无",
    "不详",
    "未知",
    "待定",
    "无名",
    "无名氏",
    "null",
    "NULL",
    "Null",
    "none",
    "None",
    "NONE",
    "N/A",
    "n/a",
    "#N/A",
    "NA",
    "nan",
    "NaN",
];

/// Whether `text` (trimmed, full-width folded) is a placeholder for "no value".
pub fn is_placeholder(text: &str) -> bool {
    // Every placeholder is short and starts with one of these bytes; the
    // check runs on every cell, so most cells must leave at the first test.
    match text.as_bytes().first() {
        Some(b'-' | b'/' | b'\\' | b'?' | b'*' | b'n' | b'N' | b'#' | 0xE2 | 0xE4..=0xE7)
            if text.len() <= 9 =>
        {
            // Comparing the length and first byte before the text keeps a
            // name of two or three characters from calling memcmp on
            // every placeholder of its length.
            let first = text.as_bytes()[0];
            PLACEHOLDERS
                .iter()
                .any(|p| p.len() == text.len() && p.as_bytes()[0] == first && *p == text)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_passes_the_first_byte_test() {
        for p in PLACEHOLDERS {
            assert!(is_placeholder(p), "{p}");
        }
    }

    #[test]
    fn reads_common_placeholders() {
        for p in ["不详", "无", "-", "N/A", "NULL", "——"] {
            assert!(is_placeholder(p), "{p}");
        }
        for v in ["张三", "0", "M", "Na"] {
            assert!(!is_placeholder(v), "{v}");
        }
    }
}
