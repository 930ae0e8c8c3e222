//! Synthetic Chinese names, and the ways departments misspell them.
//!
//! Surnames are drawn with realistic weights (王 李 张 刘 陈 lead), with a few
//! compound surnames (欧阳 司马 诸葛) and the surnames whose reading differs
//! from their character's common one (曾 解 单 区 仇 朴), because those are
//! what break a naive pinyin key. A small share of households are Uyghur
//! families whose names are `own·father's` with a middle dot. The misspelling
//! tables pair simplified characters with their traditional form and with a
//! homophone, the two confusions the matcher must see through.

use rand::Rng;
use rand::seq::IndexedRandom;

/// Common surnames with weights (roughly per mille of the population).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 72),
    ("张", 69),
    ("刘", 54),
    ("陈", 45),
    ("杨", 32),
    ("黄", 23),
    ("赵", 22),
    ("吴", 21),
    ("周", 21),
    ("徐", 17),
    ("孙", 15),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("高", 11),
    ("林", 11),
    ("罗", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 9),
    ("宋", 9),
    ("唐", 8),
    ("许", 8),
    ("韩", 8),
    ("冯", 8),
    ("邓", 8),
    ("曹", 7),
    ("彭", 7),
    ("曾", 7),
    ("肖", 7),
    ("田", 6),
    ("董", 6),
    ("袁", 6),
    ("潘", 6),
    ("于", 6),
    ("蒋", 6),
    ("蔡", 6),
    ("余", 6),
    ("杜", 5),
    ("叶", 5),
    ("程", 5),
    ("苏", 5),
    ("魏", 5),
    ("吕", 5),
    ("丁", 5),
    ("任", 5),
    ("沈", 5),
    ("姚", 4),
    ("卢", 4),
    ("姜", 4),
    ("崔", 4),
    ("钟", 4),
    ("谭", 4),
    ("陆", 4),
    ("汪", 4),
    ("范", 4),
    ("金", 4),
    ("石", 4),
    ("廖", 4),
    ("贾", 3),
    ("夏", 3),
    ("韦", 3),
    ("方", 3),
    ("白", 3),
    ("邹", 3),
    ("孟", 3),
    ("熊", 3),
    ("秦", 3),
    ("邱", 3),
    ("江", 3),
    ("尹", 3),
    ("薛", 3),
    ("段", 3),
    ("雷", 3),
    ("侯", 3),
    ("龙", 3),
    ("史", 3),
    ("陶", 2),
    ("黎", 2),
    ("贺", 2),
    ("顾", 2),
    ("毛", 2),
    ("郝", 2),
    ("龚", 2),
    ("邵", 2),
    ("万", 2),
    ("钱", 2),
    ("严", 2),
    ("覃", 2),
    ("武", 2),
    ("戴", 2),
    ("莫", 2),
    ("孔", 2),
    ("向", 2),
    ("汤", 2),
    // Surnames read differently from the character's common reading.
    ("解", 1),
    ("单", 1),
    ("区", 1),
    ("仇", 1),
    ("朴", 1),
    // Compound surnames.
    ("欧阳", 2),
    ("司马", 1),
    ("诸葛", 1),
    ("上官", 1),
    ("东方", 1),
    ("皇甫", 1),
    ("尉迟", 1),
    ("令狐", 1),
    ("慕容", 1),
    ("夏侯", 1),
];

/// Given-name characters more common for boys.
const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "杰", "涛", "明", "超", "勇", "磊", "浩", "宇", "轩", "睿", "博", "子", "豪",
    "俊", "鹏", "辉", "健", "志", "国", "建", "华", "斌", "亮", "刚", "飞", "鑫", "泽", "铭", "晨",
    "凯", "文", "天", "一", "嘉", "梓", "航", "诚", "峰", "龙",
];

/// Given-name characters more common for girls.
const FEMALE_CHARS: &[&str] = &[
    "丽", "静", "敏", "燕", "娟", "艳", "芳", "婷", "玲", "雪", "欣", "怡", "涵", "萱", "琳", "悦",
    "瑶", "佳", "梦", "诗", "语", "可", "雨", "馨", "彤", "颖", "晓", "慧", "娜", "红", "霞", "兰",
    "凤", "云", "梓", "子", "嘉", "一", "思", "若", "紫", "晨",
];

/// Uyghur given names, used as `own·father's` (阿依古丽·买买提).
const UYGHUR_MALE: &[&str] = &[
    "买买提",
    "艾力",
    "吐尔逊",
    "阿不都",
    "艾合买提",
    "依明",
    "努尔",
    "热合曼",
    "亚森",
    "肉孜",
];
/// Uyghur given names for girls.
const UYGHUR_FEMALE: &[&str] = &[
    "阿依古丽",
    "古丽娜尔",
    "热依拉",
    "迪丽娜尔",
    "帕提古丽",
    "米热",
    "阿丽米热",
    "再努尔",
];

/// Simplified characters and their traditional forms.
const TRADITIONAL: &[(char, char)] = &[
    ('刘', '劉'),
    ('陈', '陳'),
    ('张', '張'),
    ('杨', '楊'),
    ('黄', '黃'),
    ('赵', '趙'),
    ('吴', '吳'),
    ('郑', '鄭'),
    ('谢', '謝'),
    ('许', '許'),
    ('韩', '韓'),
    ('冯', '馮'),
    ('邓', '鄧'),
    ('罗', '羅'),
    ('孙', '孫'),
    ('马', '馬'),
    ('叶', '葉'),
    ('苏', '蘇'),
    ('卢', '盧'),
    ('钟', '鍾'),
    ('谭', '譚'),
    ('陆', '陸'),
    ('龙', '龍'),
    ('贺', '賀'),
    ('顾', '顧'),
    ('龚', '龔'),
    ('万', '萬'),
    ('钱', '錢'),
    ('严', '嚴'),
    ('汤', '湯'),
    ('邹', '鄒'),
    ('阳', '陽'),
    ('华', '華'),
    ('伟', '偉'),
    ('丽', '麗'),
    ('军', '軍'),
    ('国', '國'),
    ('红', '紅'),
    ('东', '東'),
    ('兰', '蘭'),
    ('凤', '鳳'),
    ('云', '雲'),
    ('飞', '飛'),
    ('涛', '濤'),
    ('艳', '艷'),
    ('杰', '傑'),
    ('晓', '曉'),
    ('颖', '穎'),
    ('梦', '夢'),
    ('诗', '詩'),
    ('强', '強'),
    ('辉', '輝'),
    ('凯', '凱'),
    ('泽', '澤'),
    ('铭', '銘'),
    ('语', '語'),
    ('轩', '軒'),
    ('刚', '剛'),
    ('鹏', '鵬'),
    ('诚', '誠'),
    ('业', '業'),
    ('热', '熱'),
    ('买', '買'),
];

/// Characters and a homophone a clerk might type instead (same toneless pinyin).
const HOMOPHONES: &[(char, char)] = &[
    ('张', '章'),
    ('王', '汪'),
    ('刘', '柳'),
    ('徐', '许'),
    ('杨', '阳'),
    ('陈', '晨'),
    ('李', '里'),
    ('林', '琳'),
    ('伟', '炜'),
    ('丽', '莉'),
    ('静', '婧'),
    ('军', '君'),
    ('杰', '洁'),
    ('婷', '亭'),
    ('宇', '雨'),
    ('涛', '滔'),
    ('欣', '鑫'),
    ('晨', '辰'),
    ('浩', '昊'),
    ('轩', '萱'),
    ('梓', '子'),
    ('涵', '晗'),
    ('怡', '仪'),
    ('佳', '嘉'),
    ('明', '铭'),
    ('磊', '蕾'),
    ('瑶', '遥'),
    ('娜', '那'),
    ('玲', '铃'),
    ('燕', '艳'),
    ('斌', '彬'),
    ('峰', '锋'),
    ('鹏', '朋'),
    ('志', '智'),
    ('华', '桦'),
    ('敏', '民'),
];

/// The dot variants a minority name's middle dot is typed as; empty means dropped.
const DOT_VARIANTS: &[&str] = &["•", ".", "・", "．", ""];

/// A person's family name line: the surname, or for Uyghur families the
/// father's given name that children carry after the dot.
#[derive(Clone, Debug)]
pub enum Lineage {
    /// A Han surname (possibly compound).
    Han(&'static str),
    /// A Uyghur family; names are `own·father's own name`.
    Uyghur,
}

/// Draws a Han surname with realistic weights.
pub fn surname(rng: &mut impl Rng) -> &'static str {
    let total: u32 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (s, w) in SURNAMES {
        if pick < *w {
            return s;
        }
        pick -= w;
    }
    SURNAMES[0].0
}

/// A Han given name of one or two characters.
pub fn given_name(rng: &mut impl Rng, male: bool) -> String {
    let pool = if male { MALE_CHARS } else { FEMALE_CHARS };
    let first = pool.choose(rng).copied().unwrap_or("明");
    // Single-character given names are common among older people; two
    // characters dominate among children, which the caller's mix reflects.
    if rng.random_bool(0.25) {
        return first.to_string();
    }
    let second = pool.choose(rng).copied().unwrap_or("华");
    format!("{first}{second}")
}

/// A Uyghur own name.
pub fn uyghur_own(rng: &mut impl Rng, male: bool) -> &'static str {
    let pool = if male { UYGHUR_MALE } else { UYGHUR_FEMALE };
    pool.choose(rng).copied().unwrap_or("努尔")
}

/// Writes `name` in traditional characters where the table knows a form;
/// `None` when no character has one.
pub fn to_traditional(name: &str) -> Option<String> {
    let mut changed = false;
    let out: String = name
        .chars()
        .map(
            |c| match TRADITIONAL.iter().find(|(s, t)| *s == c && *t != c) {
                Some((_, t)) => {
                    changed = true;
                    *t
                }
                None => c,
            },
        )
        .collect();
    changed.then_some(out)
}

/// Replaces one character by a homophone; `None` when no character has one.
pub fn with_homophone(name: &str, rng: &mut impl Rng) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let candidates: Vec<usize> = (0..chars.len())
        .filter(|&i| HOMOPHONES.iter().any(|(c, _)| *c == chars[i]))
        .collect();
    let &pos = candidates.choose(rng)?;
    let replacement = HOMOPHONES.iter().find(|(c, _)| *c == chars[pos])?.1;
    let mut out = chars;
    out[pos] = replacement;
    Some(out.into_iter().collect())
}

/// Inserts one stray space between two characters; `None` for one-character text.
pub fn with_inner_space(name: &str, rng: &mut impl Rng) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 2 {
        return None;
    }
    let pos = rng.random_range(1..chars.len());
    let mut out: String = chars[..pos].iter().collect();
    out.push(' ');
    out.extend(&chars[pos..]);
    Some(out)
}

/// Replaces the middle dot by another dot or by nothing; `None` without a dot.
pub fn with_dot_variant(name: &str, rng: &mut impl Rng) -> Option<String> {
    if !name.contains('·') {
        return None;
    }
    let v = DOT_VARIANTS.choose(rng).copied().unwrap_or("");
    Some(name.replace('·', v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn variants_change_the_text_and_keep_the_rest() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assert_eq!(to_traditional("刘伟").as_deref(), Some("劉偉"));
        assert_eq!(to_traditional("王静"), None);
        let h = with_homophone("张静", &mut rng).unwrap();
        assert!(h == "章静" || h == "张婧", "{h}");
        let s = with_inner_space("王小明", &mut rng).unwrap();
        assert_eq!(s.replace(' ', ""), "王小明");
        let d = with_dot_variant("阿依古丽·买买提", &mut rng).unwrap();
        assert!(!d.contains('·') && d.starts_with("阿依古丽") && d.ends_with("买买提"));
    }

    #[test]
    fn surnames_follow_the_weights() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let wang = (0..10_000).filter(|_| surname(&mut rng) == "王").count();
        // 王 carries 72 of about 1,050 weight points: about 6.9%.
        assert!((500..900).contains(&wang), "{wang}");
    }
}
