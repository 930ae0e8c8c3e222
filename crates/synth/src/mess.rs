//! Typing true values the way departments do: IDs, names, dates, genders.
//!
//! Each function takes the true value, the source's [`SourceRates`] and the
//! row's RNG, and returns the text to write plus what was done to it, so the
//! generator can count corruption kinds for `truth/params.json`.

use crate::names;
use crate::rates::SourceRates;
use aidlink_vocab::{CivilDate, ResidentId};
use rand::Rng;

/// What happened to an ID value (the content; formatting is counted apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdContent {
    /// Typed correctly (possibly with formatting noise).
    Exact,
    /// Typed in the old 15-digit form.
    Old15,
    /// One digit mistyped.
    OneDigit,
    /// Two adjacent digits transposed.
    Transposed,
    /// Destroyed into scientific notation.
    Scientific,
    /// Left empty.
    Missing,
    /// Someone else's (the guardian's) ID typed instead.
    Guardian,
    /// The person has no ID; the field is empty.
    NoId,
}

impl IdContent {
    /// Every kind, in the order params.json lists them.
    pub const ALL: [IdContent; 8] = [
        IdContent::Exact,
        IdContent::Old15,
        IdContent::OneDigit,
        IdContent::Transposed,
        IdContent::Scientific,
        IdContent::Missing,
        IdContent::Guardian,
        IdContent::NoId,
    ];

    /// The name params.json uses.
    pub fn name(self) -> &'static str {
        match self {
            IdContent::Exact => "exact",
            IdContent::Old15 => "old_15",
            IdContent::OneDigit => "one_digit",
            IdContent::Transposed => "transposed",
            IdContent::Scientific => "scientific",
            IdContent::Missing => "missing",
            IdContent::Guardian => "guardian",
            IdContent::NoId => "no_id",
        }
    }
}

/// Formatting noise applied on top of an ID's content.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdFormat {
    /// Spaces inserted.
    pub spaces: bool,
    /// Digits written full-width.
    pub full_width: bool,
    /// A final `X` written lowercase.
    pub lowercase_x: bool,
}

/// Types an ID. `old_form` says whether the 15-digit form is possible
/// (adults born before 2000); `substitute` is the ID typed instead when the
/// guardian-substitution error strikes (only where the source has it).
pub fn type_id(
    id: Option<&ResidentId>,
    old_form: bool,
    substitute: Option<&ResidentId>,
    rates: &SourceRates,
    rng: &mut impl Rng,
) -> (String, IdContent, IdFormat) {
    let Some(id) = id else {
        // A person without an ID: the guardian's is sometimes typed in.
        if let Some(g) = substitute
            && rng.random_bool(rates.id_guardian)
        {
            return (
                g.as_str().to_string(),
                IdContent::Guardian,
                IdFormat::default(),
            );
        }
        return (String::new(), IdContent::NoId, IdFormat::default());
    };
    let mut digits: Vec<u8> = id.as_bytes().to_vec();
    let mut content = IdContent::Exact;
    if old_form && rng.random_bool(rates.id_old_15) {
        // Area (6) + YYMMDD (6) + sequence (3): drop the century and the check.
        let mut short = digits[..6].to_vec();
        short.extend_from_slice(&digits[8..17]);
        digits = short;
        content = IdContent::Old15;
    } else {
        let u: f64 = rng.random();
        let mut edge = rates.id_missing;
        if u < edge {
            return (String::new(), IdContent::Missing, IdFormat::default());
        }
        edge += rates.id_one_digit;
        if u < edge {
            // Any of the 18 characters, replaced by a different digit: the
            // check then fails, because every weight is non-zero modulo 11.
            let pos = rng.random_range(0..18);
            let old = digits[pos];
            let mut new = b'0' + rng.random_range(0..10u8);
            if new == old {
                new = b'0' + (new - b'0' + 1) % 10;
            }
            digits[pos] = new;
            content = IdContent::OneDigit;
        } else if u < edge + rates.id_transposed {
            // Two adjacent, different digits among the first 17, which the
            // check always catches.
            let candidates: Vec<usize> = (0..16).filter(|&i| digits[i] != digits[i + 1]).collect();
            if !candidates.is_empty() {
                let i = candidates[rng.random_range(0..candidates.len())];
                digits.swap(i, i + 1);
                content = IdContent::Transposed;
            }
        } else if u < edge + rates.id_transposed + rates.id_scientific {
            // Excel keeps an ID ending in X as text; others become a float
            // shown with six significant digits.
            if digits[17] != b'X' {
                let text = std::str::from_utf8(&digits).unwrap_or("0");
                let value: f64 = text.parse().unwrap_or(0.0);
                let sci = format!("{value:.5E}").replace('E', "E+");
                return (sci, IdContent::Scientific, IdFormat::default());
            }
        } else if u < edge + rates.id_transposed + rates.id_scientific + rates.id_guardian
            && let Some(g) = substitute
        {
            digits = g.as_bytes().to_vec();
            content = IdContent::Guardian;
        }
    }
    let mut format = IdFormat::default();
    let mut text: String = String::from_utf8(digits).unwrap_or_default();
    if text.ends_with('X') && rng.random_bool(rates.id_lowercase_x) {
        text = text.replace('X', "x");
        format.lowercase_x = true;
    }
    if rng.random_bool(rates.id_full_width) {
        text = text
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap_or(c),
                c => c,
            })
            .collect();
        format.full_width = true;
    }
    if rng.random_bool(rates.id_spaces) {
        let chars: Vec<char> = text.chars().collect();
        text = match rng.random_range(0..3) {
            // Grouped as area, birth date, rest.
            0 if chars.len() == 18 => format!(
                "{} {} {}",
                chars[..6].iter().collect::<String>(),
                chars[6..14].iter().collect::<String>(),
                chars[14..].iter().collect::<String>()
            ),
            // In fours, as some people read numbers aloud.
            1 => chars
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join(" "),
            _ => format!("{text} "),
        };
        format.spaces = true;
    }
    (text, content, format)
}

/// What happened to a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameMess {
    /// Written as is.
    Clean,
    /// Traditional characters.
    Traditional,
    /// One homophone character.
    Homophone,
    /// A stray inner space.
    Space,
    /// The middle dot written differently or dropped.
    DotVariant,
}

impl NameMess {
    /// Every kind, in params.json order.
    pub const ALL: [NameMess; 5] = [
        NameMess::Clean,
        NameMess::Traditional,
        NameMess::Homophone,
        NameMess::Space,
        NameMess::DotVariant,
    ];

    /// The name params.json uses.
    pub fn name(self) -> &'static str {
        match self {
            NameMess::Clean => "clean",
            NameMess::Traditional => "traditional",
            NameMess::Homophone => "homophone",
            NameMess::Space => "space",
            NameMess::DotVariant => "dot_variant",
        }
    }
}

/// Types a name; at most one misspelling, so the kind is unambiguous.
pub fn type_name(name: &str, rates: &SourceRates, rng: &mut impl Rng) -> (String, NameMess) {
    if name.contains('·')
        && rng.random_bool(rates.name_dot_variant)
        && let Some(v) = names::with_dot_variant(name, rng)
    {
        return (v, NameMess::DotVariant);
    }
    let u: f64 = rng.random();
    let t = rates.name_traditional;
    let h = t + rates.name_homophone;
    let s = h + rates.name_space;
    let changed = if u < t {
        names::to_traditional(name).map(|v| (v, NameMess::Traditional))
    } else if u < h {
        names::with_homophone(name, rng).map(|v| (v, NameMess::Homophone))
    } else if u < s && !name.contains('·') {
        names::with_inner_space(name, rng).map(|v| (v, NameMess::Space))
    } else {
        None
    };
    changed.unwrap_or_else(|| (name.to_string(), NameMess::Clean))
}

/// How a date is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateStyle {
    /// 2012-03-05.
    Iso,
    /// 2012/3/5.
    Slash,
    /// 20120305.
    Compact,
    /// 2012年3月5日.
    Chinese,
    /// 2012.3.5.
    Dotted,
    /// 2012-3-5.
    IsoShort,
}

const STYLES: [DateStyle; 6] = [
    DateStyle::Iso,
    DateStyle::Slash,
    DateStyle::Compact,
    DateStyle::Chinese,
    DateStyle::Dotted,
    DateStyle::IsoShort,
];

/// Writes a date in a style.
pub fn format_date(d: CivilDate, style: DateStyle) -> String {
    let (y, m, day) = (d.year, d.month, d.day);
    match style {
        DateStyle::Iso => format!("{y:04}-{m:02}-{day:02}"),
        DateStyle::Slash => format!("{y}/{m}/{day}"),
        DateStyle::Compact => format!("{y:04}{m:02}{day:02}"),
        DateStyle::Chinese => format!("{y}年{m}月{day}日"),
        DateStyle::Dotted => format!("{y}.{m}.{day}"),
        DateStyle::IsoShort => format!("{y}-{m}-{day}"),
    }
}

/// What happened to a date: whether it was left blank, its style is
/// unusual and its value wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DateMess {
    /// Left blank although the date is known.
    pub blank: bool,
    /// Written in another style than the department's usual one.
    pub other_style: bool,
    /// One field (day or month) off by one.
    pub wrong: bool,
}

/// Types a date; returns the text, the date it says (`None` when left
/// blank), and what was done.
pub fn type_date(
    d: CivilDate,
    usual: DateStyle,
    rates: &SourceRates,
    rng: &mut impl Rng,
) -> (String, Option<CivilDate>, DateMess) {
    let mut mess = DateMess::default();
    // A zero rate draws nothing, so a source that never leaves a date blank
    // is typed from exactly the same random numbers as before the rate
    // existed, and its extracts stay as they were.
    if rates.date_missing > 0.0 && rng.random_bool(rates.date_missing) {
        mess.blank = true;
        return (String::new(), None, mess);
    }
    let mut said = d;
    if rng.random_bool(rates.date_wrong_day) {
        let step: i32 = if rng.random_bool(0.5) { 1 } else { -1 };
        let shifted = if rng.random_bool(0.7) {
            let day = d.day as i32 + step;
            CivilDate::new(d.year, d.month, day as u32)
                .or_else(|| CivilDate::new(d.year, d.month, (d.day as i32 - step) as u32))
        } else {
            let month = d.month as i32 + step;
            let month = if (1..=12).contains(&month) {
                month
            } else {
                d.month as i32 - step
            };
            CivilDate::new(d.year, month as u32, d.day)
        };
        if let Some(s) = shifted
            && s != d
        {
            said = s;
            mess.wrong = true;
        }
    }
    let mut style = usual;
    if rng.random_bool(rates.date_format_variant) {
        let others: Vec<DateStyle> = STYLES.into_iter().filter(|s| *s != usual).collect();
        style = others[rng.random_range(0..others.len())];
        mess.other_style = true;
    }
    (format_date(said, style), Some(said), mess)
}

/// Types a gender: the department's code, or now and then another text.
pub fn type_gender(
    code: &str,
    male: bool,
    rates: &SourceRates,
    rng: &mut impl Rng,
) -> (String, bool) {
    if rng.random_bool(rates.gender_variant) {
        let variants: &[&str] = if male {
            &["男性", "男", "M"]
        } else {
            &["女性", "女", "F"]
        };
        let others: Vec<&str> = variants.iter().copied().filter(|v| *v != code).collect();
        return (others[rng.random_range(0..others.len())].to_string(), true);
    }
    (code.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CorruptionRates;
    use aidlink_vocab::IdError;
    use rand::SeedableRng;

    fn id() -> ResidentId {
        ResidentId::from_parts("440103", CivilDate::new(1978, 3, 5).unwrap(), 123).unwrap()
    }

    fn all_of(rate: impl Fn(&mut SourceRates)) -> SourceRates {
        let mut r = CorruptionRates::clean().enrollment;
        rate(&mut r);
        r
    }

    #[test]
    fn each_id_corruption_does_what_it_says() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let id = id();
        let (t, k, _) = type_id(
            Some(&id),
            true,
            None,
            &all_of(|r| r.id_old_15 = 1.0),
            &mut rng,
        );
        assert_eq!((t.len(), k), (15, IdContent::Old15));
        assert_eq!(ResidentId::parse(&t).unwrap().id, id);
        for _ in 0..200 {
            let (t, k, _) = type_id(
                Some(&id),
                false,
                None,
                &all_of(|r| r.id_one_digit = 1.0),
                &mut rng,
            );
            assert_eq!(k, IdContent::OneDigit);
            assert!(
                !ResidentId::parse(&t).unwrap().check_ok,
                "{}",
                aidlink_vocab::mask_id_text(&t)
            );
            let (t, k, _) = type_id(
                Some(&id),
                false,
                None,
                &all_of(|r| r.id_transposed = 1.0),
                &mut rng,
            );
            assert_eq!(k, IdContent::Transposed);
            assert!(
                !ResidentId::parse(&t).unwrap().check_ok,
                "{}",
                aidlink_vocab::mask_id_text(&t)
            );
        }
        let (t, _, f) = type_id(
            Some(&id),
            false,
            None,
            &all_of(|r| {
                r.id_spaces = 1.0;
                r.id_full_width = 1.0
            }),
            &mut rng,
        );
        assert!(f.spaces && f.full_width);
        assert_eq!(ResidentId::parse(&t).unwrap().id, id);
        let (t, k, _) = type_id(
            Some(&id),
            false,
            None,
            &all_of(|r| r.id_scientific = 1.0),
            &mut rng,
        );
        if id.as_str().ends_with('X') {
            assert_eq!(k, IdContent::Exact);
        } else {
            assert_eq!(k, IdContent::Scientific);
            assert_eq!(ResidentId::parse(&t), Err(IdError::ScientificNotation));
            assert!(
                t.starts_with("4.40103E+17") || t.starts_with("4.40104E+17"),
                "{}",
                aidlink_vocab::mask_id_text(&t)
            );
        }
        let g = ResidentId::from_parts("440104", CivilDate::new(1980, 1, 2).unwrap(), 42).unwrap();
        let (t, k, _) = type_id(
            Some(&id),
            false,
            Some(&g),
            &all_of(|r| r.id_guardian = 1.0),
            &mut rng,
        );
        assert_eq!((t.as_str(), k), (g.as_str(), IdContent::Guardian));
    }

    #[test]
    fn dates_keep_their_value_unless_made_wrong() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let d = CivilDate::new(2012, 3, 5).unwrap();
        assert_eq!(format_date(d, DateStyle::Chinese), "2012年3月5日");
        assert_eq!(format_date(d, DateStyle::Slash), "2012/3/5");
        let (_, said, m) = type_date(
            d,
            DateStyle::Iso,
            &all_of(|r| r.date_format_variant = 1.0),
            &mut rng,
        );
        assert!(m.other_style && !m.wrong && !m.blank && said == Some(d));
        let (_, said, m) = type_date(
            d,
            DateStyle::Iso,
            &all_of(|r| r.date_wrong_day = 1.0),
            &mut rng,
        );
        assert!(m.wrong && said.is_some_and(|s| s != d));
        let (text, said, m) = type_date(
            d,
            DateStyle::Iso,
            &all_of(|r| r.date_missing = 1.0),
            &mut rng,
        );
        assert!(m.blank && text.is_empty() && said.is_none());
    }
}
