//! The small functions that put one field of two records into a level.
//!
//! Each returns a level code of its comparison (see [`crate::spec`]); code 0
//! is always `missing` (a side has no value), which carries no weight.

use aidlink_block::id_code::{self, IdEdit};

/// Level codes of the resident ID comparison.
pub mod id {
    /// A side has no ID.
    pub const MISSING: u8 = 0;
    /// Identical IDs, neither contradicted by its record's birth date or gender.
    pub const EXACT: u8 = 1;
    /// Identical IDs, but a record's own birth date or gender contradicts the
    /// ID (the mark of a guardian's or head's ID typed in the wrong row).
    pub const EXACT_CONTRADICTED: u8 = 2;
    /// One character differs (a mistyped digit; the check fails on one side).
    pub const ONE_SUBSTITUTION: u8 = 3;
    /// Two adjacent characters swapped.
    pub const TRANSPOSITION: u8 = 4;
    /// Anything else.
    pub const DIFFERENT: u8 = 5;
    /// Level names by code.
    pub const NAMES: &[&str] = &[
        "missing",
        "exact",
        "exact_contradicted",
        "one_substitution",
        "transposition",
        "different",
    ];
}

/// Level codes of the Chinese name comparison.
pub mod name {
    /// A side has no name.
    pub const MISSING: u8 = 0;
    /// The same simplified characters (traditional forms are folded by normalize).
    pub const EXACT: u8 = 1;
    /// Different characters, same pinyin (homophones such as 章/张).
    pub const PINYIN: u8 = 2;
    /// Same surname pinyin and given-name pinyin Jaro-Winkler at least 0.92.
    pub const GIVEN_CLOSE: u8 = 3;
    /// Surname pinyin differs, given-name pinyin equal (a mistyped or
    /// differently read surname).
    pub const SIMILAR: u8 = 4;
    /// Anything else.
    pub const DIFFERENT: u8 = 5;
    /// Level names by code.
    pub const NAMES: &[&str] = &[
        "missing",
        "exact",
        "pinyin",
        "given_close",
        "similar",
        "different",
    ];
}

/// Level codes of the date comparison.
pub mod date {
    /// A side has no date (or the ID already said it, see [`crate::spec`]).
    pub const MISSING: u8 = 0;
    /// The same day.
    pub const EXACT: u8 = 1;
    /// Month and day swapped (2012-03-05 vs 2012-05-03).
    pub const MONTH_DAY_SWAPPED: u8 = 2;
    /// Exactly one of year, month and day differs.
    pub const ONE_FIELD: u8 = 3;
    /// Anything else.
    pub const DIFFERENT: u8 = 4;
    /// Level names by code.
    pub const NAMES: &[&str] = &[
        "missing",
        "exact",
        "month_day_swapped",
        "one_field",
        "different",
    ];
}

/// Level codes of agree/disagree comparisons (gender, exact codes).
pub mod binary {
    /// A side has no value.
    pub const MISSING: u8 = 0;
    /// Equal.
    pub const AGREE: u8 = 1;
    /// Not equal.
    pub const DISAGREE: u8 = 2;
    /// Level names by code.
    pub const NAMES: &[&str] = &["missing", "agree", "disagree"];
}

/// Level codes of the household comparison (guardian, head, household
/// number, phone, address: one comparison, so that the many things a
/// household shares count once).
pub mod household {
    /// Nothing to compare (or the names disagree, see [`crate::spec`]).
    pub const MISSING: u8 = 0;
    /// A guardian or head-of-household ID in common.
    pub const GUARDIAN_ID: u8 = 1;
    /// The same household: the same household or case number, or one record
    /// is in the household of the other's head or guardian.
    pub const HOUSEHOLD_NO: u8 = 2;
    /// The same phone number.
    pub const PHONE: u8 = 3;
    /// A guardian or head name pinyin in common.
    pub const GUARDIAN_NAME: u8 = 4;
    /// The same address.
    pub const ADDRESS: u8 = 5;
    /// Both have household facts, none in common.
    pub const DIFFERENT: u8 = 6;
    /// Level names by code.
    pub const NAMES: &[&str] = &[
        "missing",
        "guardian_id",
        "same_household",
        "phone",
        "guardian_name",
        "address",
        "different",
    ];
}

/// Level codes of the phone comparison for extra phone fields.
pub mod phone {
    /// A side has no number.
    pub const MISSING: u8 = 0;
    /// Equal digits.
    pub const EXACT: u8 = 1;
    /// The last eight digits agree (area or country prefix differs).
    pub const LAST_EIGHT: u8 = 2;
    /// Anything else.
    pub const DIFFERENT: u8 = 3;
    /// Level names by code.
    pub const NAMES: &[&str] = &["missing", "exact", "last_eight", "different"];
}

/// Level codes of the free-text comparison.
pub mod text {
    /// A side has no text.
    pub const MISSING: u8 = 0;
    /// Equal.
    pub const EXACT: u8 = 1;
    /// Jaro-Winkler at least 0.9.
    pub const CLOSE: u8 = 2;
    /// Anything else.
    pub const DIFFERENT: u8 = 3;
    /// Level names by code.
    pub const NAMES: &[&str] = &["missing", "exact", "close", "different"];
}

/// Compares two IDs given packed ([`id_code::pack`]).
pub fn id_level(a: u128, b: u128) -> u8 {
    match id_code::edit_packed(a, b) {
        IdEdit::Same => id::EXACT,
        IdEdit::Substitution => id::ONE_SUBSTITUTION,
        IdEdit::Transposition => id::TRANSPOSITION,
        IdEdit::Other => id::DIFFERENT,
    }
}

/// Compares two names: simplified characters, then pinyin (syllables
/// separated by single spaces, the first being the surname).
pub fn name_level(a: &str, b: &str, pa: Option<&str>, pb: Option<&str>) -> u8 {
    if a == b {
        return name::EXACT;
    }
    let (Some(pa), Some(pb)) = (pa, pb) else {
        return name::DIFFERENT;
    };
    if pa == pb {
        return name::PINYIN;
    }
    let (sa, ga) = pa.split_once(' ').unwrap_or((pa, ""));
    let (sb, gb) = pb.split_once(' ').unwrap_or((pb, ""));
    // Siblings share the surname, so only the given name can say "close".
    if sa == sb && !ga.is_empty() && !gb.is_empty() && strsim::jaro_winkler(ga, gb) >= 0.92 {
        return name::GIVEN_CLOSE;
    }
    if sa != sb && ga == gb && !ga.is_empty() {
        return name::SIMILAR;
    }
    name::DIFFERENT
}

/// Compares two dates given as days since 1970-01-01.
pub fn date_level(a: i32, b: i32) -> u8 {
    if a == b {
        return date::EXACT;
    }
    let (x, y) = (
        aidlink_vocab::CivilDate::from_days(a),
        aidlink_vocab::CivilDate::from_days(b),
    );
    if x.year == y.year && x.month == y.day && x.day == y.month {
        return date::MONTH_DAY_SWAPPED;
    }
    let differing =
        u8::from(x.year != y.year) + u8::from(x.month != y.month) + u8::from(x.day != y.day);
    if differing == 1 {
        date::ONE_FIELD
    } else {
        date::DIFFERENT
    }
}

/// Compares two values for equality.
pub fn binary_level<T: PartialEq>(a: T, b: T) -> u8 {
    if a == b {
        binary::AGREE
    } else {
        binary::DISAGREE
    }
}

/// Compares two phone numbers (digits).
pub fn phone_level(a: &str, b: &str) -> u8 {
    if a == b {
        return phone::EXACT;
    }
    let tail = |s: &str| s.get(s.len().saturating_sub(8)..).unwrap_or(s).to_string();
    if a.len() >= 8 && b.len() >= 8 && tail(a) == tail(b) {
        phone::LAST_EIGHT
    } else {
        phone::DIFFERENT
    }
}

/// Compares two free texts.
pub fn text_level(a: &str, b: &str) -> u8 {
    if a == b {
        text::EXACT
    } else if strsim::jaro_winkler(a, b) >= 0.9 {
        text::CLOSE
    } else {
        text::DIFFERENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidlink_vocab::CivilDate;

    fn code(s: &str) -> u128 {
        id_code::pack(&id_code::digits(s).unwrap())
    }

    fn day(y: i32, m: u32, d: u32) -> i32 {
        CivilDate::new(y, m, d).unwrap().to_days()
    }

    #[test]
    fn id_levels() {
        let a = code("44010620120305123X");
        assert_eq!(id_level(a, a), id::EXACT);
        assert_eq!(
            id_level(a, code("44010620120305128X")),
            id::ONE_SUBSTITUTION
        );
        assert_eq!(id_level(a, code("44010620123005123X")), id::TRANSPOSITION);
        // Two children of the same district and day differ in sequence and check only.
        assert_eq!(id_level(a, code("440106201203051456")), id::DIFFERENT);
    }

    #[test]
    fn name_levels() {
        assert_eq!(
            name_level("张伟", "张伟", Some("zhang wei"), Some("zhang wei")),
            name::EXACT
        );
        assert_eq!(
            name_level("章伟", "张伟", Some("zhang wei"), Some("zhang wei")),
            name::PINYIN
        );
        assert_eq!(
            name_level(
                "张晓明",
                "张小鸣",
                Some("zhang xiao ming"),
                Some("zhang xiao min")
            ),
            name::GIVEN_CLOSE
        );
        // Siblings share a surname: that alone is not closeness.
        assert_eq!(
            name_level("张伟", "张丽", Some("zhang wei"), Some("zhang li")),
            name::DIFFERENT
        );
        assert_eq!(
            name_level("欧阳娜", "区阳娜", Some("ou yang na"), Some("qu yang na")),
            name::SIMILAR
        );
        assert_eq!(
            name_level("张伟", "李娜", None, Some("li na")),
            name::DIFFERENT
        );
    }

    #[test]
    fn date_levels() {
        assert_eq!(date_level(day(2012, 3, 5), day(2012, 3, 5)), date::EXACT);
        assert_eq!(
            date_level(day(2012, 3, 5), day(2012, 5, 3)),
            date::MONTH_DAY_SWAPPED
        );
        assert_eq!(
            date_level(day(2012, 3, 5), day(2013, 3, 5)),
            date::ONE_FIELD
        );
        assert_eq!(
            date_level(day(2012, 3, 5), day(2012, 3, 15)),
            date::ONE_FIELD
        );
        assert_eq!(
            date_level(day(2012, 3, 5), day(2011, 4, 5)),
            date::DIFFERENT
        );
    }

    #[test]
    fn phone_and_text_levels() {
        assert_eq!(phone_level("13800138000", "13800138000"), phone::EXACT);
        assert_eq!(
            phone_level("8613800138000", "13800138000"),
            phone::LAST_EIGHT
        );
        assert_eq!(phone_level("13800138000", "13900139000"), phone::DIFFERENT);
        assert_eq!(
            text_level("天河区体育西路1号", "天河区体育西路1号"),
            text::EXACT
        );
        assert_eq!(
            text_level("天河区体育西路1号", "天河区体育西路11号"),
            text::CLOSE
        );
        assert_eq!(text_level("天河区", "越秀区北京路"), text::DIFFERENT);
        assert_eq!(binary_level("M", "F"), binary::DISAGREE);
    }
}
