//! Person names: spaces, full-width forms, middle dots, traditional characters.
//!
//! The same child is `刘 娜`, `劉娜` and `刘娜 ` in three departments; they
//! must read the same. A minority name's parts are written with a middle dot
//! (`阿依古丽·买买提`), but departments type it as `•`, `.`, `・`, `‧`, `．`,
//! `。` or leave it out (`阿依古丽买买提`), so between two Chinese characters
//! (any letters outside ASCII) the dot is dropped and every spelling reads
//! `阿依古丽买买提`. Next to a Latin letter or digit a dot is part of the
//! name's Latin text and becomes the one `·` instead (`J.Smith` and
//! `J. Smith` read `J·Smith`). Spaces between Latin words are kept (one
//! each), since `Li Na` is not `LiNa`; spaces next to a Chinese character
//! are typing noise and removed.

use crate::notes::{Note, NoteSet};
use crate::placeholder::is_placeholder;
use crate::width::fold_fullwidth;
use std::borrow::Cow;

/// The middle dot that normalized names carry next to Latin text.
pub const MIDDLE_DOT: char = '·';

/// Characters read as a minority name's middle dot.
fn is_dot_variant(c: char) -> bool {
    matches!(
        c,
        '·' | '•' | '.' | '・' | '‧' | '･' | '∙' | '⋅' | '\u{0387}' | '。'
    )
}

/// The outcome of the name rule on one cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameOutcome {
    /// The normalized name, or `None` when no usable name remains.
    pub value: Option<String>,
    /// What the rule did.
    pub notes: NoteSet,
}

/// Normalizes a person's name (see the module documentation).
///
/// A name with no letter at all (`123`, `··`) is missing with `invalid`; a
/// placeholder (`不详`) is missing with `placeholder`.
pub fn normalize_name(text: &str) -> NameOutcome {
    let mut notes = NoteSet::EMPTY;
    if text.trim().is_empty() {
        return NameOutcome { value: None, notes };
    }
    let folded = fold_fullwidth(text);
    notes.add_if(matches!(folded, Cow::Owned(_)), Note::Fullwidth);
    if is_placeholder(folded.trim()) {
        notes.add(Note::Placeholder);
        return NameOutcome { value: None, notes };
    }
    let spaced: Cow<'_, str> = if needs_squeeze(&folded) {
        Cow::Owned(squeeze(&folded, &mut notes))
    } else {
        Cow::Borrowed(&folded)
    };
    let value = if !spaced.chars().any(may_simplify) {
        spaced.into_owned()
    } else {
        let simplified = fast2s::convert(&spaced);
        notes.add_if(simplified != spaced, Note::Traditional);
        simplified
    };
    if value.is_empty() {
        return NameOutcome { value: None, notes };
    }
    if !value.chars().any(is_letter) {
        notes.add(Note::Invalid);
        return NameOutcome { value: None, notes };
    }
    NameOutcome {
        value: Some(value),
        notes,
    }
}

/// Characters that `fast2s::convert` (0.3) rewrites only next to certain
/// other characters (`藉口`, `看著`, `苧麻`), so that converting each alone
/// does not find them.
const CONVERTED_IN_CONTEXT: [char; 3] = ['藉', '著', '苧'];

/// Whether `fast2s::convert` may change `c` in some name: it converts only
/// characters of three UTF-8 bytes, and these were found once per process
/// by converting each alone (a few milliseconds), plus
/// [`CONVERTED_IN_CONTEXT`]. A name without any such character is its own
/// simplified form, which spares most names the conversion and its copy.
fn may_simplify(c: char) -> bool {
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    let u = c as usize;
    if !(0x800..=0xFFFF).contains(&u) {
        return false;
    }
    let table = TABLE.get_or_init(|| {
        let mut bits = vec![0u64; 0x10000 / 64];
        let mut buf = [0u8; 4];
        for u in 0x800..=0xFFFFu32 {
            let Some(c) = char::from_u32(u) else { continue };
            let alone: &str = c.encode_utf8(&mut buf);
            if fast2s::convert(alone) != alone || CONVERTED_IN_CONTEXT.contains(&c) {
                bits[u as usize / 64] |= 1 << (u % 64);
            }
        }
        bits
    });
    table[u / 64] >> (u % 64) & 1 == 1
}

/// Whether `text` may hold a space or a dot variant. Every whitespace and
/// dot character is ASCII or has one of these lead bytes, so a name without
/// them (most Chinese names) skips [`squeeze`] and its copy.
fn needs_squeeze(text: &str) -> bool {
    text.bytes().any(|b| {
        matches!(
            b,
            b'\t'..=b'\r' | b' ' | b'.' | 0xC2 | 0xCE | 0xE1 | 0xE2 | 0xE3 | 0xEF
        )
    })
}

/// Whether `c` is a letter, testing the common Latin and CJK ranges before
/// the slower full Unicode table.
fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || ('\u{4E00}'..='\u{9FFF}').contains(&c) || c.is_alphabetic()
}

/// Removes spaces (keeping one between Latin words) and dots between
/// non-Latin letters, and writes every other inner dot as [`MIDDLE_DOT`].
fn squeeze(text: &str, notes: &mut NoteSet) -> String {
    let mut out = String::with_capacity(text.len());
    // A space or dot seen since the last kept character, waiting to learn
    // what follows it.
    let mut pending_space = false;
    let mut pending_dot = false;
    let mut last: Option<char> = None;
    for c in text.chars() {
        if c.is_whitespace() {
            // A single ASCII space may survive (between Latin words); it is
            // noted when removed, or when it was another kind of space.
            notes.add_if(pending_space || c != ' ', Note::Spaces);
            pending_space = true;
            continue;
        }
        if is_dot_variant(c) {
            notes.add_if(c != MIDDLE_DOT || pending_dot, Note::Dot);
            pending_dot = true;
            continue;
        }
        if let Some(prev) = last {
            if pending_dot {
                // Spaces around a dot are noise: `阿依古丽 · 买买提`.
                notes.add_if(pending_space, Note::Spaces);
                // A separator between two parts of a Chinese-written name
                // is dropped, since departments as often leave it out; a
                // dot touching Latin text (`J.Smith`) is part of it.
                if c.is_ascii_alphanumeric() || prev.is_ascii_alphanumeric() {
                    out.push(MIDDLE_DOT);
                }
            } else if pending_space {
                if c.is_ascii_alphanumeric() && prev.is_ascii_alphanumeric() {
                    out.push(' ');
                } else {
                    notes.add(Note::Spaces);
                }
            }
        } else {
            // Leading spaces and dots are dropped.
            notes.add_if(pending_space, Note::Spaces);
            notes.add_if(pending_dot, Note::Dot);
        }
        pending_space = false;
        pending_dot = false;
        out.push(c);
        last = Some(c);
    }
    // Trailing spaces and dots are dropped.
    notes.add_if(pending_space, Note::Spaces);
    notes.add_if(pending_dot, Note::Dot);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> (Option<String>, Vec<Note>) {
        let o = normalize_name(text);
        (o.value, o.notes.iter().collect())
    }

    #[test]
    fn skipping_the_conversion_changes_nothing() {
        for c in CONVERTED_IN_CONTEXT {
            assert!(may_simplify(c), "{c}");
        }
        // Listed characters are rewritten next to certain others only.
        assert_eq!(fast2s::convert("著"), "著");
        assert_ne!(fast2s::convert("看著"), "看著");
        assert!(may_simplify('劉') && may_simplify('國') && !may_simplify('刘'));
        // Every common character of a name, next to every other.
        let chars: Vec<char> = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红"
            .chars()
            .collect();
        for a in &chars {
            for b in &chars {
                let name = format!("{a}{b}");
                if !name.chars().any(may_simplify) {
                    assert_eq!(fast2s::convert(&name), name);
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn unflagged_text_converts_to_itself(text in "[\u{4e00}-\u{9fff}\u{f900}-\u{faff}·a ]{1,6}") {
            if !text.chars().any(may_simplify) {
                proptest::prop_assert_eq!(fast2s::convert(&text), text);
            }
        }
    }

    #[test]
    fn every_space_and_dot_takes_the_slow_path() {
        let dots = ['·', '•', '.', '・', '‧', '･', '∙', '⋅', '\u{0387}', '。'];
        for c in dots
            .into_iter()
            .chain([' ', '\t', '\u{3000}', '\u{a0}', '\u{2003}'])
        {
            assert!(needs_squeeze(&format!("刘{c}娜")), "{c:?}");
        }
        assert!(!needs_squeeze("欧阳娜娜"));
    }

    #[test]
    fn clean_names_are_unchanged_and_unnoted() {
        assert_eq!(name("张伟"), (Some("张伟".into()), vec![]));
        assert_eq!(
            name("阿依古丽买买提"),
            (Some("阿依古丽买买提".into()), vec![])
        );
        assert_eq!(name("Li Na"), (Some("Li Na".into()), vec![]));
    }

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(name("劉娜"), (Some("刘娜".into()), vec![Note::Traditional]));
        assert_eq!(
            name("劉德華"),
            name("刘德华")
                .0
                .map(|n| (Some(n), vec![Note::Traditional]))
                .unwrap()
        );
    }

    #[test]
    fn spaces_are_removed_except_between_latin_words() {
        assert_eq!(name(" 刘  娜 "), (Some("刘娜".into()), vec![Note::Spaces]));
        assert_eq!(
            name("刘\u{3000}娜"),
            (Some("刘娜".into()), vec![Note::Spaces, Note::Fullwidth])
        );
        assert_eq!(name("Li   Na"), (Some("Li Na".into()), vec![Note::Spaces]));
    }

    #[test]
    fn full_width_latin_folds() {
        assert_eq!(
            name("Ｌｉ Ｎａ"),
            (Some("Li Na".into()), vec![Note::Fullwidth])
        );
    }

    #[test]
    fn minority_names_read_the_same_with_any_dot_or_none() {
        let want = Some("阿依古丽买买提".to_string());
        // The usual dot, and the name typed without it, are not noted:
        // both are ordinary ways to write the name.
        assert_eq!(name("阿依古丽·买买提"), (want.clone(), vec![]));
        assert_eq!(name("阿依古丽买买提"), (want.clone(), vec![]));
        assert_eq!(name("买买提·买买提"), name("买买提买买提"));
        for variant in [
            "阿依古丽•买买提",
            "阿依古丽.买买提",
            "阿依古丽・买买提",
            "阿依古丽‧买买提",
            "阿依古丽．买买提",
            "阿依古丽。买买提",
            "阿依古丽･买买提",
        ] {
            let (v, notes) = name(variant);
            assert_eq!(v, want, "{variant}");
            assert!(notes.contains(&Note::Dot), "{variant}");
        }
        assert_eq!(
            name("阿依古丽 · 买买提"),
            (want.clone(), vec![Note::Spaces])
        );
        assert_eq!(name("阿依古丽··买买提"), (want.clone(), vec![Note::Dot]));
        assert_eq!(name("·阿依古丽·买买提·"), (want, vec![Note::Dot]));
        assert_eq!(
            name("阿依古丽·买买提·艾力"),
            (Some("阿依古丽买买提艾力".into()), vec![])
        );
    }

    #[test]
    fn a_dot_in_latin_text_stays_one_middle_dot() {
        assert_eq!(name("J.Smith"), (Some("J·Smith".into()), vec![Note::Dot]));
        assert_eq!(
            name("J. Smith"),
            (Some("J·Smith".into()), vec![Note::Spaces, Note::Dot])
        );
        assert_eq!(name("J·Smith"), (Some("J·Smith".into()), vec![]));
        assert_eq!(name("阿依古丽·Ali"), (Some("阿依古丽·Ali".into()), vec![]));
    }

    #[test]
    fn placeholders_and_letterless_values_are_missing() {
        assert_eq!(name("不详"), (None, vec![Note::Placeholder]));
        assert_eq!(name("12345"), (None, vec![Note::Invalid]));
        assert_eq!(name("··"), (None, vec![Note::Dot]));
        assert_eq!(name("   "), (None, vec![]));
    }

    proptest::proptest! {
        #[test]
        fn skipping_squeeze_changes_nothing(text in "\\PC{0,10}") {
            if !needs_squeeze(&text) {
                let mut notes = NoteSet::EMPTY;
                proptest::prop_assert_eq!(squeeze(&text, &mut notes), text.clone());
                proptest::prop_assert!(notes.is_empty());
            }
        }

        #[test]
        fn name_rule_never_panics(text in proptest::prelude::any::<String>()) {
            let _ = normalize_name(&text);
        }
    }
}
