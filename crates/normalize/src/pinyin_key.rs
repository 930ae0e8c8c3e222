//! The toneless pinyin key of a name, for blocking and comparison.
//!
//! Homophone characters (章 and 张, both `zhang`) are the commonest way one
//! child's name differs between departments, so names are compared by their
//! sound as well as their characters. The key is the toneless reading of
//! each character, syllables separated by single spaces, `ü` written `v`
//! (`吕娜` is `lv na`), Latin words lower-cased, and a middle dot (which a
//! normalized name keeps only next to Latin text) read as a syllable break.
//! The first character(s) of a Han-style name (no middle dot, no Latin
//! letters) take their surname reading from [`crate::surnames`]: `曾小贤` is
//! `zeng xiao xian`. A minority name written in characters has lost its dot
//! in normalization and counts as Han-style; every spelling of it gets the
//! same key all the same.

use crate::names::MIDDLE_DOT;
use crate::surnames::{compound_surname, surname_reading};
use pinyin::ToPinyin;

/// Writes the pinyin key of a normalized name into `out` (cleared first).
pub fn pinyin_key_into(name: &str, out: &mut String) {
    out.clear();
    let han_style = !name.contains(MIDDLE_DOT) && !name.bytes().any(|b| b.is_ascii_alphabetic());
    let mut rest = name;
    if han_style {
        if let Some((surname, reading)) = compound_surname(name) {
            push_syllable(out, reading[0]);
            push_syllable(out, reading[1]);
            rest = &name[surname.len()..];
        } else if let Some(first) = name.chars().next()
            && name.len() > first.len_utf8()
            && let Some(reading) = surname_reading(first)
        {
            push_syllable(out, reading);
            rest = &name[first.len_utf8()..];
        }
    }
    let mut in_word = false;
    for c in rest.chars() {
        if c.is_ascii_alphanumeric() {
            if !in_word && !out.is_empty() {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
            in_word = true;
            continue;
        }
        in_word = false;
        // The dictionary first: the Unicode letter test is slow for Chinese
        // characters, and a character with a reading is a letter anyway.
        if let Some(p) = c.to_pinyin() {
            push_syllable(out, p.plain());
        } else if c.is_alphanumeric() && c != MIDDLE_DOT {
            // A character the dictionary does not know stands for itself,
            // so two different rare characters never share a key.
            if !out.is_empty() {
                out.push(' ');
            }
            out.push(c);
        }
    }
}

/// The pinyin key of a normalized name.
pub fn pinyin_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    pinyin_key_into(name, &mut out);
    out
}

/// Appends one syllable, writing `ü` as `v`.
fn push_syllable(out: &mut String, syllable: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    // Only a syllable with `ü` (lead byte 0xC3) needs a character loop.
    if !syllable.as_bytes().contains(&0xC3) {
        out.push_str(syllable);
        return;
    }
    for c in syllable.chars() {
        out.push(if c == 'ü' { 'v' } else { c });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::normalize_name;

    fn key(raw: &str) -> String {
        pinyin_key(&normalize_name(raw).value.unwrap())
    }

    #[test]
    fn homophones_share_a_key() {
        assert_eq!(key("章伟"), "zhang wei");
        assert_eq!(key("章伟"), key("张伟"));
    }

    #[test]
    fn traditional_and_simplified_share_a_key() {
        assert_eq!(key("劉娜"), key("刘娜"));
        assert_eq!(key("劉娜"), "liu na");
    }

    #[test]
    fn compound_surnames() {
        assert_eq!(key("欧阳娜娜"), "ou yang na na");
        assert_eq!(key("尉迟恭"), "yu chi gong");
        assert_eq!(key("长孙无忌"), "zhang sun wu ji");
        assert_eq!(key("司马光"), "si ma guang");
    }

    #[test]
    fn special_surname_readings() {
        for (name, want) in [
            ("曾伟", "zeng wei"),
            ("解伟", "xie wei"),
            ("单伟", "shan wei"),
            ("区伟", "ou wei"),
            ("仇伟", "qiu wei"),
            ("朴伟", "piao wei"),
            ("查伟", "zha wei"),
            ("翟伟", "zhai wei"),
            ("长伟", "chang wei"),
        ] {
            assert_eq!(key(name), want, "{name}");
        }
    }

    #[test]
    fn documented_surname_decisions() {
        // 尉 alone is the surname Wei; yu only inside 尉迟.
        assert_eq!(key("尉伟"), "wei wei");
        // 单于 is read as 单 (shan) and a given name starting 于.
        assert_eq!(key("单于伟"), "shan yu wei");
        // A two-character name is never a compound surname alone.
        assert_eq!(key("万俟"), "wan qi");
        assert_eq!(key("万俟伟"), "mo qi wei");
    }

    #[test]
    fn surname_reading_applies_to_the_first_character_only() {
        // 曾 inside a given name keeps the dictionary reading.
        assert_eq!(key("王曾"), "wang ceng");
    }

    #[test]
    fn minority_names_break_at_the_dot() {
        assert_eq!(key("阿依古丽·买买提"), "a yi gu li mai mai ti");
        assert_eq!(key("阿依古丽.买买提"), key("阿依古丽·买买提"));
    }

    #[test]
    fn u_umlaut_is_v_and_latin_words_are_lowercased() {
        assert_eq!(key("吕娜"), "lv na");
        assert_eq!(key("Li Na"), "li na");
        assert_eq!(key("李Na"), "li na");
    }

    proptest::proptest! {
        #[test]
        fn keys_are_single_spaced_and_never_panic(text in "\\PC{0,10}") {
            let k = pinyin_key(&text);
            proptest::prop_assert!(!k.starts_with(' ') && !k.ends_with(' ') && !k.contains("  "), "{:?}", k);
        }
    }
}
