//! The synthetic city's geography: counties, area codes, schools, streets.
//!
//! The city (海州市, fictional) has eight counties with real-format area codes
//! under 4401. Each county carries two codes, its own and that of a former
//! district merged into it, as real cities do after redistricting; together
//! with the way households are numbered inside a county this guarantees that
//! no two synthetic people share an ID (see `household::IdSpace`). Migrant
//! families carry codes of their home counties in other provinces.

/// The city's name, as addresses write it.
pub const CITY: &str = "海州市";

/// One county of the city.
pub struct County {
    /// Its name, as subsidy lists and addresses write it.
    pub name: &'static str,
    /// Its own area code and the code of the former district merged into it.
    pub codes: [&'static str; 2],
    /// Home-county codes of the migrant families living here, per code slot.
    pub migrant_codes: [&'static str; 2],
    /// Weight out of [`WEIGHT_TOTAL`]: its share of households.
    pub weight: u64,
    /// Whether it is rural (农业户口 dominates, 农村低保).
    pub rural: bool,
}

/// The sum of the county weights; households are dealt round-robin in
/// blocks of this size, so county shares are exact.
pub const WEIGHT_TOTAL: u64 = 64;

/// The eight counties.
pub const COUNTIES: &[County] = &[
    County {
        name: "东湖区",
        codes: ["440103", "440102"],
        migrant_codes: ["430521", "511322"],
        weight: 12,
        rural: false,
    },
    County {
        name: "西关区",
        codes: ["440104", "440107"],
        migrant_codes: ["452122", "362121"],
        weight: 11,
        rural: false,
    },
    County {
        name: "南岸区",
        codes: ["440105", "440108"],
        migrant_codes: ["411323", "441422"],
        weight: 10,
        rural: false,
    },
    County {
        name: "北城区",
        codes: ["440106", "440109"],
        migrant_codes: ["432524", "513029"],
        weight: 9,
        rural: false,
    },
    County {
        name: "白云岭区",
        codes: ["440111", "440110"],
        migrant_codes: ["450821", "360732"],
        weight: 8,
        rural: false,
    },
    County {
        name: "黄埔港区",
        codes: ["440112", "440116"],
        migrant_codes: ["412726", "441581"],
        weight: 6,
        rural: false,
    },
    County {
        name: "青山县",
        codes: ["440121", "440125"],
        migrant_codes: ["431121", "522422"],
        weight: 4,
        rural: true,
    },
    County {
        name: "花溪县",
        codes: ["440122", "440126"],
        migrant_codes: ["350821", "421182"],
        weight: 4,
        rural: true,
    },
];

/// Which county a household index falls in, and its index among that
/// county's households. Households are dealt in blocks of [`WEIGHT_TOTAL`],
/// each county taking `weight` consecutive places of every block, so the
/// in-county index is dense and unique.
pub fn county_of(household: u64) -> (usize, u64) {
    let block = household / WEIGHT_TOTAL;
    let mut place = household % WEIGHT_TOTAL;
    for (k, c) in COUNTIES.iter().enumerate() {
        if place < c.weight {
            return (k, block * c.weight + place);
        }
        place -= c.weight;
    }
    // The weights sum to WEIGHT_TOTAL, so the loop always returns; county 0
    // is a safe answer should the table ever be edited inconsistently.
    (0, block * COUNTIES[0].weight)
}

/// Streets for addresses.
pub const STREETS: &[&str] = &[
    "解放路",
    "人民路",
    "中山路",
    "建设路",
    "文化路",
    "新华街",
    "和平里",
    "朝阳路",
    "滨江路",
    "光明街",
    "幸福路",
    "团结巷",
    "育才路",
    "工业大道",
    "环城北路",
    "青年路",
    "五一路",
    "东风路",
    "胜利街",
    "振兴路",
    "花园路",
    "学府路",
    "长安街",
    "翠竹巷",
];

/// Villages for rural addresses.
pub const VILLAGES: &[&str] = &[
    "石门村",
    "上塘村",
    "下岭村",
    "大坪村",
    "龙潭村",
    "杨柳村",
    "水口村",
    "新田村",
    "黄泥村",
];

/// Mobile prefixes for phone numbers.
pub const PHONE_PREFIXES: &[&str] = &[
    "138", "139", "135", "136", "137", "150", "151", "152", "158", "159", "182", "183", "187",
    "188", "130", "131", "132", "155", "156", "185", "186", "133", "153", "180", "189", "177",
    "199",
];

/// School levels: primary (grades 1-6), junior (7-9), senior (10-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// 小学.
    Primary,
    /// 初中.
    Junior,
    /// 高中.
    Senior,
}

impl Level {
    /// The level of grade 1..=12.
    pub fn of_grade(grade: i32) -> Level {
        match grade {
            ..=6 => Level::Primary,
            7..=9 => Level::Junior,
            _ => Level::Senior,
        }
    }

    /// How many schools of this level each county has.
    pub fn schools_per_county(self) -> u32 {
        match self {
            Level::Primary => 36,
            Level::Junior => 14,
            Level::Senior => 6,
        }
    }
}

/// Chinese numerals 1..=99 as school names write them (第十二).
fn numeral(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (tens, ones) = (n / 10, n % 10);
    let mut s = String::new();
    if tens > 1 {
        s.push_str(DIGITS[tens as usize % 10]);
    }
    if tens >= 1 {
        s.push('十');
    }
    if ones > 0 || tens == 0 {
        s.push_str(DIGITS[ones as usize]);
    }
    s
}

/// The name of school `number` (1-based) of a level in a county.
pub fn school_name(county: usize, level: Level, number: u32) -> String {
    let c = COUNTIES[county % COUNTIES.len()].name;
    match (level, number) {
        (Level::Primary, 1) => format!("{c}实验小学"),
        (Level::Primary, n) => format!("{c}第{}小学", numeral(n - 1)),
        (Level::Junior, 1) => format!("{c}实验中学"),
        (Level::Junior, n) => format!("{c}第{}中学", numeral(n - 1)),
        (Level::Senior, 1) => format!("{CITY}{c}高级中学"),
        (Level::Senior, n) => format!("{c}第{}高级中学", numeral(n - 1)),
    }
}

/// The grade as rosters write it: 三年级, 初二, 高一.
pub fn grade_text(grade: i32) -> String {
    const N: [&str; 7] = ["", "一", "二", "三", "四", "五", "六"];
    match grade {
        1..=6 => format!("{}年级", N[grade as usize]),
        7..=9 => format!("初{}", N[(grade - 6) as usize]),
        10..=12 => format!("高{}", N[(grade - 9) as usize]),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_and_in_county_indexes_are_dense() {
        assert_eq!(COUNTIES.iter().map(|c| c.weight).sum::<u64>(), WEIGHT_TOTAL);
        let mut seen = vec![Vec::new(); COUNTIES.len()];
        for h in 0..WEIGHT_TOTAL * 3 {
            let (k, i) = county_of(h);
            seen[k].push(i);
        }
        for (k, s) in seen.iter().enumerate() {
            let expect: Vec<u64> = (0..COUNTIES[k].weight * 3).collect();
            assert_eq!(s, &expect);
        }
    }

    #[test]
    fn names_read_naturally() {
        assert_eq!(numeral(1), "一");
        assert_eq!(numeral(10), "十");
        assert_eq!(numeral(12), "十二");
        assert_eq!(numeral(35), "三十五");
        assert_eq!(school_name(0, Level::Primary, 13), "东湖区第十二小学");
        assert_eq!(grade_text(8), "初二");
        assert_eq!(grade_text(3), "三年级");
    }
}
