//! Sorting by text without following a pointer per comparison.
//!
//! Shared by the stages that sort millions of rows by person ID or record key
//! (registry, flag, delta).
//!
//! Sorting millions of rows by a text column compares each pair through the
//! text's heap pointer, a cache miss every time. A [`TextKey`] packs a text's
//! first 15 bytes and its length into one `u128` kept next to the row, so
//! most comparisons are one integer comparison; only texts that agree on
//! their first 15 bytes and are longer than that fall back to the texts.

use std::cmp::Ordering;

/// A text's first 15 bytes (zero-padded) and its length (capped at 16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextKey(u128);

impl TextKey {
    pub fn new(text: &str) -> TextKey {
        let bytes = text.as_bytes();
        let mut buf = [0u8; 16];
        let n = bytes.len().min(15);
        buf[..n].copy_from_slice(&bytes[..n]);
        buf[15] = bytes.len().min(16) as u8;
        TextKey(u128::from_be_bytes(buf))
    }

    /// Whether the key holds the whole text (at most 15 bytes), so equal
    /// keys mean equal texts.
    pub fn exact(self) -> bool {
        self.0 & 0xff != 16
    }

    /// Orders two texts as `str` does, given their keys; `a` and `b` give
    /// the texts themselves, read only when the keys cannot decide.
    pub fn cmp_with<'t>(
        self,
        other: TextKey,
        a: impl FnOnce() -> &'t str,
        b: impl FnOnce() -> &'t str,
    ) -> Ordering {
        let (x, y) = (self.0, other.0);
        if x >> 8 == y >> 8 && (x & 0xff == 16 || y & 0xff == 16) {
            return a().cmp(b());
        }
        // Same 15 bytes and both texts at most 15 bytes long: the shorter
        // is a prefix of the longer (padding is zero), and equal keys mean
        // equal texts.
        x.cmp(&y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_str_does() {
        let texts = [
            "",
            "a",
            "a\0",
            "a\0b",
            "ab",
            "P00000001",
            "P00000002",
            "P000000010",
            "household|hh:H1/id:1",
            "household|hh:H1/id:2",
            "household|hh:H1",
            "é",
            "z",
        ];
        for a in texts {
            for b in texts {
                let got = TextKey::new(a).cmp_with(TextKey::new(b), || a, || b);
                assert_eq!(got, a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}
