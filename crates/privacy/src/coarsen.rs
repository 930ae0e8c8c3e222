//! Coarsening of quasi-identifiers: dates to months, addresses to counties.

use aidlink_vocab::CivilDate;
use std::borrow::Cow;

/// The `YYYY-MM` month of a date given as days since 1970-01-01.
pub fn year_month(days: i32) -> String {
    String::from_utf8_lossy(&year_month_bytes(days)).into_owned()
}

/// [`year_month`] as its seven ASCII bytes, without allocating (the analyst
/// view coarsens millions of dates). Years outside 0..=9999 are clamped.
pub(crate) fn year_month_bytes(days: i32) -> [u8; 7] {
    let d = CivilDate::from_days(days);
    let year = d.year.clamp(0, 9999) as u32;
    let month = d.month;
    let digit = |v: u32| b'0' + (v % 10) as u8;
    [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
    ]
}

/// The month part of a date text such as `2012-03-05`, when it starts with
/// `YYYY-MM`; `None` for anything else (which is then published as null).
pub fn year_month_of_text(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let ok = b.len() >= 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit);
    ok.then(|| text[..7].to_string())
}

/// The county-level prefix of a Chinese address: everything up to and
/// including the first `区`, `县` or `旗` that ends a county-level name, so
/// `广东省广州市天河区体育西路1号` becomes `广东省广州市天河区`. The `区` of a
/// province-level `自治区` (广西壮族自治区) does not count. A county-level city
/// (`市` after a prefecture) is recognised when a province and a prefecture
/// come before it. Addresses without a recognisable county give `None`, and
/// are published as null rather than guessed.
pub fn address_county(address: &str) -> Option<String> {
    county_prefix(address).map(Cow::into_owned)
}

/// [`address_county`] without a copy when the address has no whitespace
/// before its county (the usual case): the county is then a prefix of it.
pub(crate) fn county_prefix(address: &str) -> Option<Cow<'_, str>> {
    let mut chars = address
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .peekable();
    let (mut before, mut last) = (None, None);
    let mut seen_city_level = 0;
    let mut i = 0;
    while let Some((at, c)) = chars.next() {
        // Looking at the two characters before, rather than collecting the
        // prefix, keeps this linear in the address length.
        let after_zizhi = before == Some('自') && last == Some('治');
        let ends_county = match c {
            '区' if after_zizhi => {
                seen_city_level += 1;
                false
            }
            '区' | '县' | '旗' => true,
            '省' | '盟' => {
                seen_city_level += 1;
                false
            }
            // 州 ends a prefecture (临夏回族自治州) unless it is part of a
            // city's own name (广州市, 苏州市).
            '州' if chars.peek().map(|&(_, next)| next) != Some('市') => {
                seen_city_level += 1;
                false
            }
            // A third administrative level that ends in 市 is a
            // county-level city (广东省佛山市顺德市 in old addresses,
            // 江苏省苏州市昆山市 today).
            '市' if seen_city_level >= 2 => true,
            '市' => {
                seen_city_level += 1;
                false
            }
            _ => false,
        };
        if ends_county {
            let prefix = &address[..at + c.len_utf8()];
            return Some(if prefix.contains(char::is_whitespace) {
                Cow::Owned(prefix.chars().filter(|c| !c.is_whitespace()).collect())
            } else {
                Cow::Borrowed(prefix)
            });
        }
        // Past the first twenty characters we are in the street part; a 区
        // there (小区, 园区) is not a county.
        if i >= 20 {
            break;
        }
        (before, last) = (last, Some(c));
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_of_dates() {
        let days = CivilDate::new(2012, 3, 5).unwrap().to_days();
        assert_eq!(year_month(days), "2012-03");
        assert_eq!(year_month_of_text("2012-03-05"), Some("2012-03".into()));
        assert_eq!(year_month_of_text("March"), None);
    }

    #[test]
    fn counties_of_addresses() {
        assert_eq!(
            address_county("广东省广州市天河区体育西路1号").as_deref(),
            Some("广东省广州市天河区")
        );
        assert_eq!(
            address_county("北京市朝阳区建国路8号").as_deref(),
            Some("北京市朝阳区")
        );
        assert_eq!(
            address_county("广西壮族自治区南宁市青秀区民族大道").as_deref(),
            Some("广西壮族自治区南宁市青秀区")
        );
        assert_eq!(
            address_county("江苏省苏州市昆山市前进路").as_deref(),
            Some("江苏省苏州市昆山市")
        );
        assert_eq!(
            address_county("湖南省长沙县星沙镇").as_deref(),
            Some("湖南省长沙县")
        );
        assert_eq!(
            address_county("内蒙古自治区锡林郭勒盟正蓝旗").as_deref(),
            Some("内蒙古自治区锡林郭勒盟正蓝旗")
        );
        assert_eq!(
            address_county("甘肃省临夏回族自治州临夏市红园路").as_deref(),
            Some("甘肃省临夏回族自治州临夏市")
        );
        assert_eq!(address_county("幸福路12号"), None);
        // Whitespace is dropped from the county, wherever it stands.
        assert_eq!(
            address_county(" 广东省 广州市天河区 体育西路").as_deref(),
            Some("广东省广州市天河区")
        );
        assert_eq!(
            address_county("广东省广 州市天河区").as_deref(),
            Some("广东省广州市天河区")
        );
        // A prefix without whitespace is borrowed, not copied.
        assert!(matches!(
            county_prefix("北京市朝阳区建国路8号"),
            Some(Cow::Borrowed("北京市朝阳区"))
        ));
    }

    #[test]
    fn month_bytes_match_the_formatted_month() {
        for days in (-30_000..60_000).step_by(17) {
            let d = CivilDate::from_days(days);
            assert_eq!(
                year_month(days),
                format!("{:04}-{:02}", d.year, d.month),
                "{days}"
            );
        }
    }
}
