//! Surname readings that a plain pinyin dictionary gets wrong.
//!
//! A dictionary gives a character's most common reading, but many surnames
//! are read otherwise: 曾 is `zeng` as a surname (not `ceng`), 解 is `xie`,
//! 单 is `shan`, 区 is `ou`, 仇 is `qiu`, 朴 is `piao`. Compound surnames
//! (欧阳, 司马, 尉迟, 万俟, 长孙) are read as one unit. The tables apply to the
//! first character(s) of a Han-style name only (see [`crate::pinyin_key`]).
//!
//! 尉 alone keeps the dictionary's `wei` (the single surname is read Wèi);
//! `yu` is its reading only inside 尉迟. 单于 is left out: a name starting
//! with 单于 is far more often 单 (`shan`) followed by a given name 于.

/// Compound (two-character) surnames and their readings.
pub const COMPOUND_SURNAMES: &[(&str, [&str; 2])] = &[
    ("欧阳", ["ou", "yang"]),
    ("司马", ["si", "ma"]),
    ("诸葛", ["zhu", "ge"]),
    ("上官", ["shang", "guan"]),
    ("东方", ["dong", "fang"]),
    ("皇甫", ["huang", "fu"]),
    ("尉迟", ["yu", "chi"]),
    ("公孙", ["gong", "sun"]),
    ("慕容", ["mu", "rong"]),
    ("长孙", ["zhang", "sun"]),
    ("夏侯", ["xia", "hou"]),
    ("令狐", ["ling", "hu"]),
    ("宇文", ["yu", "wen"]),
    ("司徒", ["si", "tu"]),
    ("司空", ["si", "kong"]),
    ("端木", ["duan", "mu"]),
    ("独孤", ["du", "gu"]),
    ("南宫", ["nan", "gong"]),
    ("西门", ["xi", "men"]),
    ("呼延", ["hu", "yan"]),
    ("万俟", ["mo", "qi"]),
    ("轩辕", ["xuan", "yuan"]),
    ("钟离", ["zhong", "li"]),
    ("闻人", ["wen", "ren"]),
    ("赫连", ["he", "lian"]),
    ("澹台", ["tan", "tai"]),
    ("太史", ["tai", "shi"]),
    ("申屠", ["shen", "tu"]),
    ("公冶", ["gong", "ye"]),
    ("濮阳", ["pu", "yang"]),
    ("淳于", ["chun", "yu"]),
    ("百里", ["bai", "li"]),
    ("东郭", ["dong", "guo"]),
    ("仲孙", ["zhong", "sun"]),
    ("拓跋", ["tuo", "ba"]),
    ("完颜", ["wan", "yan"]),
    ("乐正", ["yue", "zheng"]),
    ("左丘", ["zuo", "qiu"]),
];

/// Single-character surnames whose surname reading differs from (or must be
/// pinned against) the dictionary's first reading.
pub const SURNAME_READINGS: &[(char, &str)] = &[
    ('曾', "zeng"),
    ('解', "xie"),
    ('单', "shan"),
    ('区', "ou"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('查', "zha"),
    ('盖', "ge"),
    ('乐', "yue"),
    ('覃', "qin"),
    ('召', "shao"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('长', "chang"),
    ('秘', "bi"),
    ('种', "chong"),
    ('冼', "xian"),
    ('洗', "xian"),
    ('莘', "shen"),
    ('员', "yun"),
    ('繁', "po"),
    ('句', "gou"),
    ('阚', "kan"),
    ('谌', "chen"),
    ('隗', "wei"),
    ('逄', "pang"),
    ('訾', "zi"),
    ('郗', "xi"),
    ('牟', "mou"),
    ('宁', "ning"),
    ('华', "hua"),
    ('任', "ren"),
    ('纪', "ji"),
    ('沈', "shen"),
    ('葛', "ge"),
    ('燕', "yan"),
    ('折', "she"),
    ('黑', "he"),
    ('那', "na"),
    ('贲', "ben"),
    ('佴', "nai"),
    ('厍', "she"),
    ('粘', "nian"),
    ('眭', "sui"),
    ('薄', "bo"),
    ('柏', "bai"),
    ('祭', "zhai"),
    ('褚', "chu"),
    ('蔺', "lin"),
    ('乜', "nie"),
    ('朝', "chao"),
    ('藏', "zang"),
    ('应', "ying"),
    ('宿', "su"),
    ('曲', "qu"),
    ('角', "jue"),
    ('过', "guo"),
    ('都', "du"),
    ('能', "nai"),
    ('重', "chong"),
    ('车', "che"),
];

/// The compound surname that `name` starts with, and its reading, when the
/// name has at least one character after it.
pub fn compound_surname(name: &str) -> Option<(&'static str, [&'static str; 2])> {
    let mut chars = name.chars();
    let (first, second) = (chars.next()?, chars.next()?);
    chars.next()?;
    COMPOUND_CHARS
        .iter()
        .position(|pair| *pair == (first, second))
        .map(|i| COMPOUND_SURNAMES[i])
}

/// [`COMPOUND_SURNAMES`] as character pairs, decoded once: comparing chars
/// is what makes the look-up cheap enough to run on every name.
static COMPOUND_CHARS: std::sync::LazyLock<Vec<(char, char)>> = std::sync::LazyLock::new(|| {
    COMPOUND_SURNAMES
        .iter()
        .map(|(s, _)| {
            let mut c = s.chars();
            (c.next().unwrap_or('\0'), c.next().unwrap_or('\0'))
        })
        .collect()
});

/// The surname reading of a single character, when it has a special one.
pub fn surname_reading(c: char) -> Option<&'static str> {
    SURNAME_READINGS
        .iter()
        .find(|(s, _)| *s == c)
        .map(|(_, r)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_no_duplicates_and_ascii_readings() {
        let mut singles: Vec<char> = SURNAME_READINGS.iter().map(|(c, _)| *c).collect();
        singles.sort_unstable();
        singles.dedup();
        assert_eq!(singles.len(), SURNAME_READINGS.len());
        let mut compounds: Vec<&str> = COMPOUND_SURNAMES.iter().map(|(s, _)| *s).collect();
        compounds.sort_unstable();
        compounds.dedup();
        assert_eq!(compounds.len(), COMPOUND_SURNAMES.len());
        for (_, r) in SURNAME_READINGS {
            assert!(r.bytes().all(|b| b.is_ascii_lowercase()), "{r}");
        }
        for (s, _) in COMPOUND_SURNAMES {
            assert_eq!(s.chars().count(), 2, "{s}");
        }
    }

    #[test]
    fn compound_needs_a_given_name_after_it() {
        assert_eq!(
            compound_surname("欧阳娜娜").map(|c| c.1),
            Some(["ou", "yang"])
        );
        assert_eq!(compound_surname("欧阳"), None);
        assert_eq!(surname_reading('曾'), Some("zeng"));
        assert_eq!(surname_reading('张'), None);
    }
}
