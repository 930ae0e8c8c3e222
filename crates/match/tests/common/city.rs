//! A small synthetic city for accuracy tests: students and their guardians
//! in four departments' records, with the corruption real extracts have
//! (mistyped and transposed ID digits, missing IDs, a guardian's ID in a
//! child's row, homophone and mistyped name characters, birth dates one
//! field off or with month and day swapped, in-source duplicates), and the
//! true person of every row. All names and numbers are made up here.

use super::Row;
use aidlink_vocab::{CivilDate, ResidentId};

/// Deterministic random numbers for the generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Characters grouped by reading: a homophone swaps within a group.
const SURNAMES: &[(&str, &[&str])] = &[
    ("zhang", &["张", "章"]),
    ("wang", &["王", "汪"]),
    ("li", &["李", "黎"]),
    ("liu", &["刘"]),
    ("chen", &["陈"]),
    ("yang", &["杨"]),
    ("huang", &["黄"]),
    ("zhao", &["赵"]),
    ("wu", &["吴"]),
    ("zhou", &["周"]),
    ("xu", &["徐", "许"]),
    ("sun", &["孙"]),
    ("ma", &["马"]),
    ("zhu", &["朱"]),
    ("hu", &["胡"]),
    ("guo", &["郭"]),
    ("he", &["何"]),
    ("lin", &["林"]),
    ("luo", &["罗"]),
    ("gao", &["高"]),
    ("zeng", &["曾"]),
    ("ou yang", &["欧阳"]),
];

const GIVEN: &[(&str, &[&str])] = &[
    ("wei", &["伟", "维", "薇"]),
    ("fang", &["芳", "方"]),
    ("na", &["娜", "纳"]),
    ("min", &["敏", "民"]),
    ("jing", &["静", "晶"]),
    ("li", &["丽", "莉"]),
    ("qiang", &["强"]),
    ("lei", &["磊", "蕾"]),
    ("jun", &["军", "君", "俊"]),
    ("yong", &["勇", "永"]),
    ("yan", &["艳", "燕"]),
    ("jie", &["杰", "洁"]),
    ("tao", &["涛", "韬"]),
    ("ming", &["明", "鸣"]),
    ("chao", &["超"]),
    ("xia", &["霞"]),
    ("ping", &["平", "萍"]),
    ("ying", &["英", "莹"]),
    ("hua", &["华"]),
    ("yu", &["玉", "宇", "雨"]),
    ("hao", &["浩", "昊"]),
    ("zi", &["子", "紫", "梓"]),
    ("xuan", &["轩", "萱"]),
    ("han", &["涵", "寒"]),
    ("xin", &["欣", "馨"]),
    ("yi", &["怡", "宜", "一"]),
    ("rui", &["睿", "瑞"]),
    ("bo", &["博", "波"]),
    ("wen", &["文", "雯"]),
    ("si", &["思"]),
    ("jia", &["嘉", "佳"]),
    ("nuo", &["诺"]),
    ("ze", &["泽"]),
    ("ting", &["婷", "亭"]),
    ("tian", &["天"]),
    ("le", &["乐"]),
    ("xiao", &["晓", "小"]),
    ("chen", &["晨", "辰"]),
    ("kai", &["凯"]),
    ("xue", &["雪"]),
];

const AREAS: &[&str] = &["440103", "440104", "440105", "440106", "440111", "440112"];

/// A name as (syllable index per character, chosen character variant).
#[derive(Clone, Debug)]
struct Name {
    surname: usize,
    given: Vec<usize>,
}

impl Name {
    fn random(r: &mut Rng) -> Name {
        let n = if r.chance(0.7) { 2 } else { 1 };
        Name {
            surname: r.below(SURNAMES.len()),
            given: (0..n).map(|_| r.below(GIVEN.len())).collect(),
        }
    }
    /// Text and pinyin, first variant of each character unless `homophone`.
    fn render(&self, r: &mut Rng, homophone: bool, variants: &[usize]) -> (String, String) {
        let mut text = String::new();
        let mut py = vec![SURNAMES[self.surname].0.to_string()];
        text.push_str(SURNAMES[self.surname].1[0]);
        let swap = if homophone {
            r.below(self.given.len())
        } else {
            usize::MAX
        };
        for (k, &g) in self.given.iter().enumerate() {
            let chars = GIVEN[g].1;
            let mut v = variants[k] % chars.len();
            if k == swap && chars.len() > 1 {
                v = (v + 1) % chars.len();
            }
            text.push_str(chars[v]);
            py.push(GIVEN[g].0.to_string());
        }
        (text, py.join(" "))
    }
}

struct Person {
    name: Name,
    variants: Vec<usize>,
    birth: CivilDate,
    male: bool,
    id: String,
    guardian: Option<usize>,
    household: usize,
}

/// The generated records and the true person of each row.
pub struct City {
    pub rows: Vec<Row>,
    pub truth: Vec<usize>,
}

fn typo_substitute(id: &str, r: &mut Rng) -> String {
    let mut b = id.as_bytes().to_vec();
    let pos = r.below(17);
    b[pos] = b'0' + ((b[pos] - b'0' + 1 + r.below(9) as u8) % 10);
    String::from_utf8(b).unwrap()
}

fn typo_transpose(id: &str, r: &mut Rng) -> String {
    let mut b = id.as_bytes().to_vec();
    for _ in 0..10 {
        let pos = r.below(16);
        if b[pos] != b[pos + 1] {
            b.swap(pos, pos + 1);
            break;
        }
    }
    String::from_utf8(b).unwrap()
}

fn shift_birth(d: CivilDate, r: &mut Rng) -> CivilDate {
    if r.chance(0.3) && d.day <= 12 && d.day != d.month {
        return CivilDate::new(d.year, d.day, d.month).unwrap_or(d);
    }
    match r.below(3) {
        0 => CivilDate::new(d.year + 1, d.month, d.day.min(28)).unwrap_or(d),
        1 => CivilDate::new(d.year, d.month % 12 + 1, d.day.min(28)).unwrap_or(d),
        _ => CivilDate::new(d.year, d.month, d.day % 28 + 1).unwrap_or(d),
    }
}

impl City {
    /// A city of `students` students; `noise` scales every corruption rate.
    pub fn generate(students: usize, seed: u64, noise: f64) -> City {
        let mut r = Rng::new(seed);
        let mut people: Vec<Person> = Vec::new();
        let mut used_ids = std::collections::BTreeSet::new();
        let mut new_id = |r: &mut Rng, birth: CivilDate, male: bool, area: &str| loop {
            let seq = r.below(500) as u32 * 2 + u32::from(male);
            let id = ResidentId::from_parts(area, birth, seq)
                .unwrap()
                .as_str()
                .to_string();
            if used_ids.insert(id.clone()) {
                return id;
            }
        };
        let mut households = 0;
        while people.iter().filter(|p| p.guardian.is_some()).count() < students {
            let area = *r.pick(AREAS);
            let household = households;
            households += 1;
            let gbirth = CivilDate::new(
                1975 + r.below(15) as i32,
                1 + r.below(12) as u32,
                1 + r.below(28) as u32,
            )
            .unwrap();
            let gmale = r.chance(0.5);
            let gname = Name::random(&mut r);
            let gid = new_id(&mut r, gbirth, gmale, area);
            let g = people.len();
            people.push(Person {
                variants: (0..2).map(|_| r.below(3)).collect(),
                name: gname.clone(),
                birth: gbirth,
                male: gmale,
                id: gid,
                guardian: None,
                household,
            });
            let kids = 1 + usize::from(r.chance(0.35)) + usize::from(r.chance(0.1));
            let twins = kids > 1 && r.chance(0.1);
            let first_birth = CivilDate::new(
                2008 + r.below(11) as i32,
                1 + r.below(12) as u32,
                1 + r.below(28) as u32,
            )
            .unwrap();
            for k in 0..kids {
                let birth = if k == 0 || twins {
                    first_birth
                } else {
                    CivilDate::new(
                        first_birth.year + k as i32 + 1,
                        1 + r.below(12) as u32,
                        1 + r.below(28) as u32,
                    )
                    .unwrap()
                };
                let male = r.chance(0.5);
                let mut name = Name::random(&mut r);
                name.surname = if r.chance(0.9) {
                    gname.surname
                } else {
                    name.surname
                };
                let id = new_id(&mut r, birth, male, area);
                people.push(Person {
                    variants: (0..2).map(|_| r.below(3)).collect(),
                    name,
                    birth,
                    male,
                    id,
                    guardian: Some(g),
                    household,
                });
            }
        }
        let aided: Vec<bool> = (0..households).map(|_| r.chance(0.15)).collect();
        let mut city = City {
            rows: Vec::new(),
            truth: Vec::new(),
        };
        let mut counters = std::collections::BTreeMap::<&str, u64>::new();
        let n_people = people.len();
        for source in ["disability", "enrollment", "household", "subsidy"] {
            for (pi, p) in people.iter().enumerate() {
                let copies = match source {
                    "enrollment" if p.guardian.is_some() => 1 + usize::from(r.chance(0.02 * noise)),
                    "household" if r.chance(0.85) => 1,
                    "subsidy" if aided[p.household] => 1,
                    "disability" if p.guardian.is_some() && r.chance(0.04) => 1,
                    _ => 0,
                };
                for _ in 0..copies {
                    let row_no = counters.entry(source).or_default();
                    *row_no += 1;
                    let mut row = Row::new(source, *row_no);
                    // The ID as typed.
                    let mut id = Some(p.id.clone());
                    if r.chance(0.05 * noise) {
                        id = None;
                    } else if r.chance(0.02 * noise) {
                        id = Some(typo_substitute(&p.id, &mut r));
                    } else if r.chance(0.01 * noise) {
                        id = Some(typo_transpose(&p.id, &mut r));
                    } else if let Some(g) = p.guardian
                        && r.chance(0.005 * noise)
                    {
                        id = Some(people[g].id.clone());
                    }
                    if let Some(id) = &id {
                        row = row.id(id);
                    }
                    let homophone = r.chance(0.03 * noise);
                    let (mut text, mut py) = p.name.render(&mut r, homophone, &p.variants);
                    if r.chance(0.01 * noise) {
                        let other = Name::random(&mut r);
                        let (t2, p2) = other.render(&mut r, false, &[0, 0]);
                        // Keep the surname, mistype the given name entirely.
                        let sur = SURNAMES[p.name.surname].1[0];
                        text = format!(
                            "{sur}{}",
                            t2.chars()
                                .skip(SURNAMES[other.surname].1[0].chars().count())
                                .collect::<String>()
                        );
                        py = format!(
                            "{} {}",
                            SURNAMES[p.name.surname].0,
                            p2.split_once(' ').map_or("", |x| x.1)
                        );
                    }
                    row = row.set("name", &text).set("name_pinyin", py.trim());
                    let birth = if r.chance(0.03 * noise) {
                        shift_birth(p.birth, &mut r)
                    } else {
                        p.birth
                    };
                    let gender = if p.male { "M" } else { "F" };
                    let g = p.guardian.map(|g| &people[g]);
                    match source {
                        "enrollment" => {
                            row = row
                                .set("birth_date", &birth.to_string())
                                .set("gender", gender);
                            if r.chance(0.9) {
                                row = row.set("student_no", &format!("G{}", p.id));
                            } else {
                                row = row.set("student_no", &format!("L{:08}", pi));
                            }
                            if let Some(g) = g {
                                let (gt, gp) = g.name.render(&mut r, false, &g.variants);
                                row = row
                                    .set("guardian_name", &gt)
                                    .set("guardian_name_pinyin", &gp);
                                if r.chance(0.8) {
                                    row = row.set("guardian_id", &g.id);
                                }
                                row = row.set("phone", &format!("138{:08}", p.household));
                            }
                            row = row.set("address", &format!("幸福路{}号", p.household));
                        }
                        "household" => {
                            row = row
                                .set("birth_date", &birth.to_string())
                                .set("gender", gender)
                                .set("household_no", &format!("H{:07}", p.household))
                                .set("address", &format!("幸福路{}号", p.household));
                        }
                        "subsidy" => {
                            let head = g.unwrap_or(p);
                            let (ht, hp) = head.name.render(&mut r, false, &head.variants);
                            row = row
                                .set("head_name", &ht)
                                .set("head_name_pinyin", &hp)
                                .set("head_id", &head.id)
                                .set("household_no", &format!("DB{:06}", p.household));
                        }
                        _ => {
                            row = row.set("gender", gender);
                            if let Some(id) = &id {
                                row = row.set(
                                    "certificate_no",
                                    &format!("{id}{}{}", 1 + r.below(7), 1 + r.below(4)),
                                );
                            }
                            row = row.set("phone", &format!("138{:08}", p.household));
                        }
                    }
                    city.rows.push(row);
                    city.truth.push(pi);
                }
            }
        }
        assert!(city.truth.iter().all(|&t| t < n_people));
        city
    }
}

/// Pairwise precision, recall and F1 of `cluster` against `truth`.
pub fn pairwise(cluster: &[u32], truth: &[usize]) -> (f64, f64, f64) {
    use std::collections::BTreeMap;
    let pairs = |counts: BTreeMap<(u64, u64), u64>| {
        counts
            .values()
            .map(|&k| k * (k.saturating_sub(1)) / 2)
            .sum::<u64>()
    };
    let mut by_c = BTreeMap::new();
    let mut by_t = BTreeMap::new();
    let mut by_both = BTreeMap::new();
    for (&c, &t) in cluster.iter().zip(truth) {
        *by_c.entry((u64::from(c), 0)).or_insert(0) += 1;
        *by_t.entry((t as u64, 0)).or_insert(0) += 1;
        *by_both.entry((u64::from(c), t as u64)).or_insert(0) += 1;
    }
    let (pc, pt, tp) = (
        pairs(by_c) as f64,
        pairs(by_t) as f64,
        pairs(by_both) as f64,
    );
    let precision = if pc > 0.0 { tp / pc } else { 1.0 };
    let recall = if pt > 0.0 { tp / pt } else { 1.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}
