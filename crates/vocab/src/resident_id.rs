//! The resident identity number of GB 11643-1999, as departments type it.
//!
//! An 18-character number is a 6-digit area code, the birth date as YYYYMMDD,
//! a 3-digit sequence (odd for men, even for women) and a check character.
//! The old 15-digit form drops the century and the check character.
//!
//! [`ResidentId::parse`] accepts what real extracts contain (spaces,
//! full-width digits, a lowercase `x`, the 15-digit form) and keeps a number
//! whose check character fails: a failed check usually means one mistyped or
//! two transposed digits, which the matcher can still use. Its `Debug` output
//! is masked, so a stray `{:?}` in a log line never prints a full number.

use crate::civil_date::CivilDate;
use thiserror::Error;

/// Weights of the first 17 digits in the GB 11643 check sum.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum modulo 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Why a text could not be read as a resident ID at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// Nothing but whitespace.
    #[error("empty")]
    Empty,
    /// A spreadsheet turned the number into a float such as `4.40106E+17`;
    /// the lost digits cannot be recovered.
    #[error("destroyed into scientific notation by a spreadsheet")]
    ScientificNotation,
    /// Neither 15 nor 18 characters after cleaning.
    #[error("has {0} characters, expected 18 (or the old 15)")]
    BadLength(usize),
    /// A character other than a digit, or an `X` anywhere but the end.
    #[error("has a character that is not a digit at position {0}")]
    BadCharacter(usize),
}

/// An 18-character resident ID in canonical form: ASCII digits, upper-case `X`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId([u8; 18]);

/// The outcome of reading a resident ID from messy text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    /// The number in canonical 18-character form.
    pub id: ResidentId,
    /// Whether the check character agrees with the first 17 digits.
    pub check_ok: bool,
    /// Whether the input was the old 15-digit form (converted to 18).
    pub from_15: bool,
    /// Whether cleaning changed the text (spaces, full-width, lowercase x).
    pub cleaned: bool,
}

/// The check character that the 17 leading digits call for.
pub fn check_char(first17: &[u8; 17]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Folds full-width forms to ASCII and drops whitespace and separators, so
/// that `４４０１ 0620 1203 0512 3x` reads as `44010620120305123X`.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(18);
    for c in raw.chars() {
        let c = match c {
            '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
            '\u{FF38}' | '\u{FF58}' | 'x' => 'X',
            '\u{FF25}' => 'E',
            '\u{FF45}' => 'e',
            '\u{FF0B}' => '+',
            '\u{FF0E}' => '.',
            c if c.is_whitespace() || c == '-' || c == '\'' || c == '"' => continue,
            c => c,
        };
        out.push(c);
    }
    out
}

impl ResidentId {
    /// Reads a resident ID from the text of an extract field.
    pub fn parse(raw: &str) -> Result<ParsedId, IdError> {
        let cleaned_text = clean(raw);
        if cleaned_text.is_empty() {
            return Err(IdError::Empty);
        }
        let bytes = cleaned_text.as_bytes();
        if bytes.iter().any(|b| matches!(b, b'E' | b'e'))
            && bytes
                .iter()
                .all(|b| b.is_ascii_digit() || matches!(b, b'E' | b'e' | b'+' | b'.'))
        {
            return Err(IdError::ScientificNotation);
        }
        let cleaned = cleaned_text != raw;
        match bytes.len() {
            18 => {
                if let Some(pos) = bytes[..17].iter().position(|b| !b.is_ascii_digit()) {
                    return Err(IdError::BadCharacter(pos + 1));
                }
                if !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
                    return Err(IdError::BadCharacter(18));
                }
                let mut id = [0u8; 18];
                id.copy_from_slice(bytes);
                let mut first17 = [0u8; 17];
                first17.copy_from_slice(&bytes[..17]);
                Ok(ParsedId {
                    id: ResidentId(id),
                    check_ok: check_char(&first17) == bytes[17],
                    from_15: false,
                    cleaned,
                })
            }
            15 => {
                if let Some(pos) = bytes.iter().position(|b| !b.is_ascii_digit()) {
                    return Err(IdError::BadCharacter(pos + 1));
                }
                let mut first17 = [0u8; 17];
                first17[..6].copy_from_slice(&bytes[..6]);
                first17[6..8].copy_from_slice(b"19");
                first17[8..].copy_from_slice(&bytes[6..]);
                Ok(ParsedId {
                    id: Self::from_first17(&first17),
                    check_ok: true,
                    from_15: true,
                    cleaned,
                })
            }
            n => Err(IdError::BadLength(n)),
        }
    }

    /// Completes 17 digits with their check character.
    pub fn from_first17(first17: &[u8; 17]) -> Self {
        let mut id = [0u8; 18];
        id[..17].copy_from_slice(first17);
        id[17] = check_char(first17);
        ResidentId(id)
    }

    /// Builds an ID from its parts: area code, birth date, sequence (0..=999).
    /// Returns `None` when the area is not six digits or the sequence is too large.
    pub fn from_parts(area: &str, birth: CivilDate, sequence: u32) -> Option<Self> {
        if area.len() != 6 || !area.bytes().all(|b| b.is_ascii_digit()) || sequence > 999 {
            return None;
        }
        let text = format!(
            "{area}{:04}{:02}{:02}{sequence:03}",
            birth.year, birth.month, birth.day
        );
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(text.as_bytes());
        Some(Self::from_first17(&first17))
    }

    /// The full 18 characters. Never log this; use [`ResidentId::masked`].
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII digits or 'X' by construction.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The raw bytes of the number.
    pub fn as_bytes(&self) -> &[u8; 18] {
        &self.0
    }

    /// Whether the check character agrees with the first 17 digits.
    pub fn check_ok(&self) -> bool {
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&self.0[..17]);
        check_char(&first17) == self.0[17]
    }

    /// The 6-digit administrative area (province, city, county) of first registration.
    pub fn area_code(&self) -> &str {
        &self.as_str()[..6]
    }

    /// The embedded birth date, or `None` when the digits are no real date.
    pub fn birth_date(&self) -> Option<CivilDate> {
        let s = self.as_str();
        let year = s[6..10].parse().ok()?;
        let month = s[10..12].parse().ok()?;
        let day = s[12..14].parse().ok()?;
        CivilDate::new(year, month, day)
    }

    /// The 3-digit sequence within area and birth date.
    pub fn sequence(&self) -> u32 {
        self.as_str()[14..17].parse().unwrap_or(0)
    }

    /// Gender from the sequence: odd is male.
    pub fn gender(&self) -> Gender {
        if (self.0[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// Display form that hides the birth date and sequence: `110105********1234`.
    pub fn masked(&self) -> String {
        mask_id_text(self.as_str())
    }
}

/// Masks any ID-like text for display and logs: the first six and last four
/// characters stay, everything between becomes `*`. Short texts are fully masked.
pub fn mask_id_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

/// A person's recorded gender.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Gender {
    /// 男.
    Male,
    /// 女.
    Female,
}

impl Gender {
    /// The code stored in tables: `M` or `F`.
    pub fn code(self) -> &'static str {
        match self {
            Gender::Male => "M",
            Gender::Female => "F",
        }
    }

    /// Reads the stored code back.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "M" => Some(Gender::Male),
            "F" => Some(Gender::Female),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "11010519491231002X";

    #[test]
    fn reads_a_known_valid_number() {
        let p = ResidentId::parse(SAMPLE).unwrap();
        assert!(p.check_ok);
        assert_eq!(p.id.area_code(), "110105");
        assert_eq!(p.id.birth_date(), CivilDate::new(1949, 12, 31));
        assert_eq!(p.id.gender(), Gender::Female);
        assert_eq!(p.id.masked(), "110105********002X");
    }

    #[test]
    fn cleans_spaces_full_width_and_lowercase_x() {
        let p = ResidentId::parse(" １１０１０５ 19491231 002x ").unwrap();
        assert_eq!(p.id.as_str(), SAMPLE);
        assert!(p.cleaned && p.check_ok);
    }

    #[test]
    fn converts_the_old_15_digit_form() {
        let p = ResidentId::parse("110105491231002").unwrap();
        assert!(p.from_15);
        assert_eq!(p.id.as_str(), SAMPLE);
    }

    #[test]
    fn keeps_a_failed_check_and_rejects_the_unrecoverable() {
        let p = ResidentId::parse("110105194912310021").unwrap();
        assert!(!p.check_ok);
        assert_eq!(
            ResidentId::parse("4.40106E+17"),
            Err(IdError::ScientificNotation)
        );
        assert_eq!(ResidentId::parse("  "), Err(IdError::Empty));
        assert_eq!(ResidentId::parse("1234"), Err(IdError::BadLength(4)));
        assert_eq!(
            ResidentId::parse("11010519491231X02X"),
            Err(IdError::BadCharacter(15))
        );
    }

    #[test]
    fn debug_never_prints_the_full_number() {
        let p = ResidentId::parse(SAMPLE).unwrap();
        assert!(!format!("{:?}", p).contains(SAMPLE));
    }

    fn valid_id() -> impl Strategy<Value = ResidentId> {
        (
            110_000u32..660_000,
            1950i32..2025,
            1u32..13,
            1u32..29,
            0u32..1000,
        )
            .prop_map(|(area, y, m, d, seq)| {
                let birth = CivilDate::new(y, m, d).expect("day 1..28 exists in every month");
                ResidentId::from_parts(&area.to_string(), birth, seq).expect("parts are in range")
            })
    }

    proptest! {
        #[test]
        fn valid_ids_round_trip(id in valid_id()) {
            let p = ResidentId::parse(id.as_str()).unwrap();
            prop_assert!(p.check_ok);
            prop_assert_eq!(p.id, id);
            prop_assert!(p.id.birth_date().is_some());
        }

        #[test]
        fn every_single_digit_change_fails_the_check(id in valid_id(), pos in 0usize..17, delta in 1u8..10) {
            let mut b = *id.as_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let text = std::str::from_utf8(&b).unwrap();
            // Weights are all non-zero modulo 11, and 11 is prime, so any
            // change of one digit changes the sum modulo 11.
            prop_assert!(!ResidentId::parse(text).unwrap().check_ok);
        }

        #[test]
        fn adjacent_transpositions_fail_unless_weights_or_digits_coincide(id in valid_id(), pos in 0usize..16) {
            let mut b = *id.as_bytes();
            prop_assume!(b[pos] != b[pos + 1]);
            b.swap(pos, pos + 1);
            let text = std::str::from_utf8(&b).unwrap();
            // Swapping digits a, b at weights w1, w2 changes the sum by
            // (a-b)(w2-w1), non-zero modulo 11 because adjacent weights differ
            // and both factors are below 11 in absolute value.
            prop_assert!(!ResidentId::parse(text).unwrap().check_ok);
        }
    }
}
