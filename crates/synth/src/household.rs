//! One household's whole multi-month story, as a pure function of the seed
//! and the household's index.
//!
//! Everything true about a household (who lives in it, their IDs and names,
//! which schools the children attend, subsidy cases and when they start and
//! stop, disability certificates, which months each child receives aid) is
//! drawn here from the household's own RNG stream, before any row is
//! written. That is what lets the generator stream a million students: no
//! household depends on another, so households are built, rendered and
//! dropped one chunk at a time, in any thread, with identical results.
//!
//! Months are indexed relative to the first generated period: month 0 is
//! `start`, negative months are history before it (a case that stopped
//! five months before the first extract).

use crate::place::{self, COUNTIES, Level};
use aidlink_vocab::{CivilDate, Period, ResidentId};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// City-shape parameters: how households, cases and schooling behave. They
/// are not corruption, so they are constants documented in `docs/synth.md`.
pub mod shape {
    /// Share of households whose members are registered elsewhere (migrants),
    /// so absent from the city's household register.
    pub const MIGRANT: f64 = 0.15;
    /// Share of children who have no resident ID at all (unregistered births).
    pub const CHILD_WITHOUT_ID: f64 = 0.01;
    /// Share of registered households with an active 低保 case at the first
    /// period (about 5% of all households). Migrant households cannot hold a
    /// 低保 or 特困 case here: both require the city's hukou.
    pub const DIBAO_ACTIVE: f64 = 0.06;
    /// Share of registered households whose 低保 case stopped in the 12 months before.
    pub const DIBAO_STOPPED: f64 = 0.018;
    /// Share of households without parents that receive 特困 support.
    pub const TEKUN_NO_PARENTS: f64 = 0.12;
    /// Share of other households that receive 特困 support.
    pub const TEKUN_OTHER: f64 = 0.002;
    /// Monthly chance of a one-off temporary relief (临时救助) grant.
    pub const LINSHI_MONTHLY: f64 = 0.005;
    /// Monthly chance that an active 低保 case stops.
    pub const DIBAO_STOP_MONTHLY: f64 = 0.015;
    /// Monthly chance that a household without a case starts 低保.
    pub const DIBAO_START_MONTHLY: f64 = 0.001;
    /// Months a stopped case stays in the subsidy extract.
    pub const STOPPED_LISTED_MONTHS: i32 = 12;
    /// Months a temporary relief grant stays in the subsidy extract.
    pub const LINSHI_LISTED_MONTHS: i32 = 2;
    /// Share of children holding a disability certificate.
    pub const CHILD_DISABILITY: f64 = 0.015;
    /// Share of adults holding a disability certificate.
    pub const ADULT_DISABILITY: f64 = 0.01;
    /// Monthly chance that a child without one obtains a certificate.
    pub const NEW_CERT_MONTHLY: f64 = 0.0005;
    /// Share of eligible students whom no school ever aids (应助未助).
    pub const NEVER_AIDED: f64 = 0.15;
    /// Share of non-eligible students aided on the school's own assessment.
    pub const OTHER_AID: f64 = 0.03;
    /// Share of students whose aid runs 4..=15 months past the case's end.
    pub const LATE_STOP: f64 = 0.25;
    /// Monthly chance that a student transfers (both schools list them).
    pub const TRANSFER_MONTHLY: f64 = 0.01;
    /// Chance that the old school still lists a transferred student the month after.
    pub const TRANSFER_LINGERS: f64 = 0.5;
    /// Monthly chance that a student is listed twice by the same school.
    pub const DUPLICATE_MONTHLY: f64 = 0.005;
    /// Monthly chance that an aided student's row is submitted twice with the
    /// aid roster (a re-import), both rows recording the aid.
    pub const AID_RELISTED: f64 = 0.01;
    /// Chance that both rows of a twice-listed student record the aid.
    pub const DOUBLE_PAID: f64 = 0.6;
    /// Monthly chance that a student leaves school.
    pub const LEAVE_MONTHLY: f64 = 0.002;
    /// Monthly chance that a school-age child out of school enrolls.
    pub const JOIN_MONTHLY: f64 = 0.03;
    /// Share of households with a school-age child out of school.
    pub const OUT_OF_SCHOOL: f64 = 0.02;
    /// The same share in households on 低保 or 特困.
    pub const OUT_OF_SCHOOL_POOR: f64 = 0.08;
    /// Share of Uyghur families (names with a middle dot).
    pub const UYGHUR: f64 = 0.02;
}

/// A member's place in the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// 父亲.
    Father,
    /// 母亲.
    Mother,
    /// A child of the parents (student or not).
    Child,
    /// 祖父 (or 外祖父 when the father is absent).
    Grandfather,
    /// 祖母 (or 外祖母).
    Grandmother,
}

/// A school: county, level, 1-based number, and the class the child is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct School {
    /// County index.
    pub county: usize,
    /// School level.
    pub level: Level,
    /// 1-based school number within county and level.
    pub number: u32,
    /// 1-based class number.
    pub class: u32,
}

impl School {
    /// A key naming the school (not the class), for counting distinct schools.
    pub fn key(&self) -> (usize, u8, u32) {
        (self.county, self.level as u8, self.number)
    }
}

/// One enrollment row a child has in a month: the school and whether the row records aid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnrollmentRow {
    /// The school listing the child.
    pub school: School,
    /// Whether this row records aid paid.
    pub aid: bool,
    /// The grade (1..=12) in that month.
    pub grade: i32,
}

/// A disability certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Certificate {
    /// Category 1..=7 (视力 听力 言语 肢体 智力 精神 多重).
    pub category: u8,
    /// Grade 1..=4.
    pub grade: u8,
    /// First month it is listed.
    pub from: i32,
}

/// A person of the household.
#[derive(Clone, Debug)]
pub struct Person {
    /// The true person number (`T` + 8 digits in truth files).
    pub no: u64,
    /// Place in the family.
    pub member: Member,
    /// Male or female.
    pub male: bool,
    /// True birth date.
    pub birth: CivilDate,
    /// True resident ID; `None` for an unregistered child.
    pub id: Option<ResidentId>,
    /// True name in simplified characters.
    pub name: String,
    /// 学籍号: `G` + ID, or for a child without ID a temporary `L` code.
    pub student_no: String,
    /// Mobile phone (adults).
    pub phone: String,
    /// Disability certificate, if any.
    pub cert: Option<Certificate>,
    /// Per generated month, the child's enrollment rows (empty when not enrolled).
    pub enrollment: Vec<Vec<EnrollmentRow>>,
    /// Index (into `persons`) of the guardian the school records (children).
    pub guardian: usize,
    /// Date moved into the household, for the few who moved in.
    pub move_in: Option<CivilDate>,
}

impl Person {
    /// Whether the ID may be typed in the old 15-digit form (born before 2000).
    pub fn has_old_form(&self) -> bool {
        self.birth.year < 2000 && self.member != Member::Child
    }
}

/// Kinds of subsidy case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseKind {
    /// 低保, the minimum-living subsidy.
    Dibao,
    /// 特困供养, extreme-poverty support.
    Tekun,
    /// 临时救助, one-off temporary relief.
    Linshi,
}

impl CaseKind {
    /// The canonical value of the `subsidy_type` field.
    pub fn code(self) -> &'static str {
        match self {
            CaseKind::Dibao => "dibao",
            CaseKind::Tekun => "tekun",
            CaseKind::Linshi => "linshi",
        }
    }
}

/// A subsidy case covering the whole household.
#[derive(Clone, Debug)]
pub struct Case {
    /// Kind of case.
    pub kind: CaseKind,
    /// First month in force.
    pub start: i32,
    /// The month it stopped (停保年月): in force before it, stopped from it.
    pub end: Option<i32>,
    /// Case number (案卷编号).
    pub number: String,
    /// Monthly amount per member, yuan.
    pub amount: u32,
}

/// A case's standing in one month, as the extract would show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Not in the extract this month.
    Unlisted,
    /// Listed, status 在保.
    Active,
    /// Listed, status 停保, stopped in the given month.
    Stopped(i32),
}

impl Case {
    /// How the case stands in month `m`.
    pub fn standing(&self, m: i32) -> Standing {
        if m < self.start {
            return Standing::Unlisted;
        }
        if self.kind == CaseKind::Linshi {
            return if m < self.start + shape::LINSHI_LISTED_MONTHS {
                Standing::Active
            } else {
                Standing::Unlisted
            };
        }
        match self.end {
            Some(end) if m >= end => {
                if m - end < shape::STOPPED_LISTED_MONTHS {
                    Standing::Stopped(end)
                } else {
                    Standing::Unlisted
                }
            }
            _ => Standing::Active,
        }
    }

    /// Whether the case makes its members eligible in month `m`.
    pub fn eligible_in(&self, m: i32) -> bool {
        self.kind != CaseKind::Linshi && self.standing(m) == Standing::Active
    }
}

/// A household and its story over the generated months.
#[derive(Clone, Debug)]
pub struct Household {
    /// Household index in the city.
    pub index: u64,
    /// County index.
    pub county: usize,
    /// Whether the members are registered elsewhere (absent from the register).
    pub migrant: bool,
    /// 户号 in the register.
    pub register_no: String,
    /// Address without the city.
    pub address: String,
    /// 户口性质.
    pub hukou_type: &'static str,
    /// Members; parents first, then children, then elders.
    pub persons: Vec<Person>,
    /// Subsidy cases, in start order.
    pub cases: Vec<Case>,
}

impl Household {
    /// Whether person `p` is eligible in month `m`: an active 低保/特困 case
    /// or a listed disability certificate.
    pub fn eligible(&self, p: usize, m: i32) -> bool {
        self.cases.iter().any(|c| c.eligible_in(m))
            || self.persons[p].cert.is_some_and(|c| c.from <= m)
    }
}

/// Fixed facts of the generation every household needs.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The user's seed.
    pub seed: u64,
    /// The first generated period (month 0).
    pub start: Period,
    /// Number of generated months.
    pub months: u32,
}

impl Frame {
    /// The period of month `m`.
    pub fn period(&self, m: i32) -> Period {
        self.start.plus_months(m)
    }

    /// The September that starts the school year containing month `m`.
    fn school_year(&self, m: i32) -> i32 {
        let p = self.period(m);
        if p.month >= 9 { p.year } else { p.year - 1 }
    }
}

/// Mixes 64-bit words into one (SplitMix64 finalizer), for seeding streams
/// and keyed permutations.
pub fn mix(words: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for w in words {
        let mut z = h ^ w.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    h
}

/// An RNG stream for one purpose and index, independent of every other.
pub fn stream(seed: u64, purpose: u64, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&purpose.to_le_bytes());
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(index);
    rng
}

/// Stream purposes, so that no two uses of the seed share a stream.
pub mod purpose {
    /// A household's story.
    pub const HOUSEHOLD: u64 = 1;
    /// A household's rendering into rows (corruption).
    pub const RENDER: u64 = 2;
    /// Shuffling a chunk's rows.
    pub const SHUFFLE: u64 = 3;
    /// The number of students of a household.
    pub const SIZE: u64 = 4;
}

/// How many students household `index` has (1 to 4), before the last
/// household is capped to make the total exact.
pub fn students_of(seed: u64, index: u64) -> u64 {
    match mix(&[seed, purpose::SIZE, index]) % 100 {
        0..42 => 1,
        42..85 => 2,
        85..98 => 3,
        _ => 4,
    }
}

/// Where a household's IDs come from: one area code and the household's
/// dense index among the households using it.
///
/// Within an (area, birth cohort, gender) the 182,500 combinations of birth
/// day (365) and sequence (500 per gender) are dealt by a keyed affine
/// permutation of `2 * slot + lane`, where `slot` is unique per household
/// and `lane` separates up to two same-cohort, same-gender members (twins).
/// Distinct inputs give distinct IDs, so IDs are unique across the city for
/// up to 91,250 households per area code (about 1.7 million students in
/// total); beyond that, rare accidental ID collisions become possible.
struct IdSpace {
    area: &'static str,
    slot: u64,
}

/// Days and sequences in a cohort space.
const SPACE: u64 = 365 * 500;

impl IdSpace {
    fn birth_and_id(
        &self,
        seed: u64,
        cohort: i32,
        male: bool,
        lane: u64,
    ) -> (CivilDate, ResidentId) {
        let v = (2 * self.slot + lane) % SPACE;
        let area_num: u64 = self.area.parse().unwrap_or(0);
        let key = mix(&[seed, area_num, cohort as u64, u64::from(male)]);
        let mut a = (key % SPACE) | 1;
        while a.is_multiple_of(5) || a.is_multiple_of(73) {
            a += 2;
        }
        let b = (key >> 32) % SPACE;
        let p = ((a as u128 * v as u128 + b as u128) % SPACE as u128) as u64;
        let day = (p / 500) as i32;
        let seq = (p % 500) as u32 * 2 + u32::from(male);
        // A cohort runs from 1 September to 31 August, the school year a child
        // of that cohort starts grade 1 six years later.
        let sept1 = CivilDate {
            year: cohort,
            month: 9,
            day: 1,
        };
        let birth = CivilDate::from_days(sept1.to_days() + day);
        // The area codes are six-digit constants and `seq` is at most 999, so
        // `from_parts` cannot refuse; the fallback only keeps this total.
        let id = ResidentId::from_parts(self.area, birth, seq)
            .unwrap_or_else(|| ResidentId::from_first17(b"11010119000101001"));
        (birth, id)
    }

    /// The ID text a person without ID would have had (for temporary codes).
    fn would_be(&self, seed: u64, cohort: i32, male: bool, lane: u64) -> String {
        self.birth_and_id(seed, cohort, male, lane)
            .1
            .as_str()
            .to_string()
    }
}

fn pick<T: Copy>(rng: &mut impl Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

fn phone(rng: &mut impl Rng) -> String {
    format!(
        "{}{:08}",
        pick(rng, place::PHONE_PREFIXES),
        rng.random_range(0..100_000_000u32)
    )
}

/// A person being planned: cohort and gender first, ID and birth later.
struct Plan {
    member: Member,
    male: bool,
    cohort: i32,
    /// For children: grade at month 0 when a student, else `None`.
    kind: ChildKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChildKind {
    Adult,
    Student,
    Preschool,
    OutOfSchool,
}

/// Builds household `index` with `students` students at month 0.
pub fn build(frame: &Frame, index: u64, students: u64) -> Household {
    let mut rng = stream(frame.seed, purpose::HOUSEHOLD, index);
    let (county, in_county) = place::county_of(index);
    let c = &COUNTIES[county];
    let migrant = rng.random_bool(shape::MIGRANT);
    let code_slot = (in_county % 2) as usize;
    let space = IdSpace {
        area: if migrant {
            c.migrant_codes[code_slot]
        } else {
            c.codes[code_slot]
        },
        slot: in_county / 2,
    };
    let y0 = frame.school_year(0);

    // Family structure.
    let parents = match rng.random_range(0..100) {
        0..85 => 2,
        85..97 => 1,
        _ => 0,
    };
    let mut elders = match rng.random_range(0..100) {
        0..65 => 0,
        65..80 => 1,
        _ => 2,
    };
    if parents == 0 && elders == 0 {
        elders = 1 + rng.random_range(0..2);
    }
    let poor_draw: f64 = rng.random();
    let tekun_draw: f64 = rng.random();
    let tekun = !migrant
        && if parents == 0 {
            tekun_draw < shape::TEKUN_NO_PARENTS
        } else {
            tekun_draw < shape::TEKUN_OTHER
        };
    let dibao_now = !migrant && !tekun && poor_draw < shape::DIBAO_ACTIVE;
    let dibao_past =
        !migrant && !tekun && !dibao_now && poor_draw < shape::DIBAO_ACTIVE + shape::DIBAO_STOPPED;
    let out_share = if dibao_now || tekun {
        shape::OUT_OF_SCHOOL_POOR
    } else {
        shape::OUT_OF_SCHOOL
    };

    // Children: students with a grade at month 0, then preschoolers and
    // school-age children out of school.
    let mut plans: Vec<Plan> = Vec::new();
    for _ in 0..students {
        let grade = if rng.random_bool(0.8) {
            rng.random_range(1..=9)
        } else {
            rng.random_range(10..=12)
        };
        plans.push(Plan {
            member: Member::Child,
            male: rng.random_bool(0.52),
            cohort: y0 - 6 - grade,
            kind: ChildKind::Student,
        });
    }
    if rng.random_bool(0.2) {
        let g = rng.random_range(-5..=0);
        plans.push(Plan {
            member: Member::Child,
            male: rng.random_bool(0.52),
            cohort: y0 - 6 - g,
            kind: ChildKind::Preschool,
        });
    }
    if rng.random_bool(out_share) {
        let g = rng.random_range(1..=9);
        plans.push(Plan {
            member: Member::Child,
            male: rng.random_bool(0.52),
            cohort: y0 - 6 - g,
            kind: ChildKind::OutOfSchool,
        });
    }
    let oldest_child = plans.iter().map(|p| p.cohort).min().unwrap_or(y0 - 10);
    let father_cohort = oldest_child - rng.random_range(23..=38);
    let mother_cohort = (father_cohort + rng.random_range(-2..=6)).min(oldest_child - 20);
    let mut adults = Vec::new();
    if parents == 2 || (parents == 1 && rng.random_bool(0.35)) {
        adults.push(Plan {
            member: Member::Father,
            male: true,
            cohort: father_cohort,
            kind: ChildKind::Adult,
        });
    }
    if parents == 2 || (parents == 1 && adults.is_empty()) {
        adults.push(Plan {
            member: Member::Mother,
            male: false,
            cohort: mother_cohort,
            kind: ChildKind::Adult,
        });
    }
    let elder_base = father_cohort.min(mother_cohort);
    if elders >= 1 {
        adults.push(Plan {
            member: Member::Grandmother,
            male: false,
            cohort: elder_base - rng.random_range(22..=30),
            kind: ChildKind::Adult,
        });
    }
    if elders == 2 {
        adults.push(Plan {
            member: Member::Grandfather,
            male: true,
            cohort: elder_base - rng.random_range(24..=34),
            kind: ChildKind::Adult,
        });
    }
    let mut all: Vec<Plan> = adults;
    all.append(&mut plans);

    // Lanes: at most two members share cohort and gender; a third same-gender
    // sibling of the same cohort becomes the other gender.
    let mut lanes = Vec::with_capacity(all.len());
    for i in 0..all.len() {
        let same = |all: &[Plan], male: bool| {
            all[..i]
                .iter()
                .filter(|q| q.cohort == all[i].cohort && q.male == male)
                .count()
        };
        if same(&all, all[i].male) >= 2 {
            all[i].male = !all[i].male;
        }
        while same(&all, all[i].male) >= 2 {
            // Both genders of this cohort are taken twice: move a year, keeping
            // a student inside grades 1..=12 so the month-0 count stays exact.
            let grade = y0 - 6 - all[i].cohort;
            all[i].cohort += if grade > 1 { 1 } else { -1 };
        }
        lanes.push(same(&all, all[i].male) as u64);
    }

    // Names.
    let uyghur = rng.random_bool(shape::UYGHUR);
    let father_surname = crate::names::surname(&mut rng);
    let mother_surname = crate::names::surname(&mut rng);
    let child_surname = if rng.random_bool(0.95) {
        father_surname
    } else {
        mother_surname
    };
    let has_father = all.iter().any(|p| p.member == Member::Father);
    let elder_surname = if has_father {
        father_surname
    } else {
        mother_surname
    };
    let father_own = crate::names::uyghur_own(&mut rng, true);
    let grandfather_own = crate::names::uyghur_own(&mut rng, true);
    let mut persons = Vec::with_capacity(all.len());
    for (slot, (plan, lane)) in all.iter().zip(&lanes).enumerate() {
        let (birth, id) = space.birth_and_id(frame.seed, plan.cohort, plan.male, *lane);
        let name = if uyghur {
            match plan.member {
                Member::Father => format!("{father_own}·{grandfather_own}"),
                Member::Child => format!(
                    "{}·{father_own}",
                    crate::names::uyghur_own(&mut rng, plan.male)
                ),
                Member::Grandfather => format!(
                    "{grandfather_own}·{}",
                    crate::names::uyghur_own(&mut rng, true)
                ),
                _ => format!(
                    "{}·{}",
                    crate::names::uyghur_own(&mut rng, false),
                    crate::names::uyghur_own(&mut rng, true)
                ),
            }
        } else {
            let surname = match plan.member {
                Member::Father => father_surname,
                Member::Mother => mother_surname,
                Member::Child => child_surname,
                Member::Grandfather => elder_surname,
                Member::Grandmother => crate::names::surname(&mut rng),
            };
            format!("{surname}{}", crate::names::given_name(&mut rng, plan.male))
        };
        let is_child = plan.member == Member::Child;
        let id = if is_child && rng.random_bool(shape::CHILD_WITHOUT_ID) {
            None
        } else {
            Some(id)
        };
        // Schools give a child without ID a temporary number built like an
        // ID without its check character.
        let student_no = match &id {
            Some(id) => format!("G{}", id.as_str()),
            None => format!(
                "L{}",
                &space.would_be(frame.seed, plan.cohort, plan.male, *lane)[..17]
            ),
        };
        let cert_share = if is_child {
            shape::CHILD_DISABILITY
        } else {
            shape::ADULT_DISABILITY
        };
        let cert = (id.is_some() && rng.random_bool(cert_share)).then(|| Certificate {
            category: pick(&mut rng, &[1, 2, 3, 4, 4, 5, 5, 5, 6, 7]),
            grade: rng.random_range(1..=4),
            from: -rng.random_range(1..=96),
        });
        let move_in = rng.random_bool(0.08).then(|| {
            let from = birth.to_days();
            let to = frame.start.first_day().to_days() - 365;
            CivilDate::from_days(if to > from {
                rng.random_range(from..to)
            } else {
                from
            })
        });
        persons.push(Person {
            no: index * 10 + slot as u64,
            member: plan.member,
            male: plan.male,
            birth,
            id,
            name,
            student_no,
            phone: if is_child {
                String::new()
            } else {
                phone(&mut rng)
            },
            cert,
            enrollment: Vec::new(),
            guardian: 0,
            move_in,
        });
    }
    // Guardians: a parent when there is one (mothers more often), else an elder.
    let mother = persons.iter().position(|p| p.member == Member::Mother);
    let father = persons.iter().position(|p| p.member == Member::Father);
    let elder = persons
        .iter()
        .position(|p| matches!(p.member, Member::Grandmother | Member::Grandfather));
    for person in persons.iter_mut() {
        let g = match (mother, father) {
            (Some(m), Some(f)) => {
                if rng.random_bool(0.55) {
                    m
                } else {
                    f
                }
            }
            (Some(m), None) => m,
            (None, Some(f)) => f,
            (None, None) => elder.unwrap_or(0),
        };
        person.guardian = g;
    }

    // Subsidy cases.
    let months = frame.months as i32;
    let code = c.codes[0];
    let mut cases: Vec<Case> = Vec::new();
    let case_no = |n: usize| format!("MZ{code}{in_county:07}{n}");
    let dibao_amount = |rng: &mut ChaCha8Rng| {
        if c.rural {
            rng.random_range(50..=80) * 10
        } else {
            rng.random_range(30..=110) * 10
        }
    };
    if tekun {
        cases.push(Case {
            kind: CaseKind::Tekun,
            start: -rng.random_range(1..=72),
            end: None,
            number: case_no(0),
            amount: rng.random_range(150..=180) * 10,
        });
    } else if dibao_now {
        cases.push(Case {
            kind: CaseKind::Dibao,
            start: -rng.random_range(1..=60),
            end: None,
            number: case_no(0),
            amount: dibao_amount(&mut rng),
        });
    } else if dibao_past {
        let end = -rng.random_range(1..=shape::STOPPED_LISTED_MONTHS);
        cases.push(Case {
            kind: CaseKind::Dibao,
            start: end - rng.random_range(6..=60),
            end: Some(end),
            number: case_no(0),
            amount: dibao_amount(&mut rng),
        });
    }
    for m in 1..months {
        let active = cases.iter().any(|k| k.eligible_in(m - 1));
        if active {
            if let Some(k) = cases
                .iter_mut()
                .find(|k| k.kind == CaseKind::Dibao && k.end.is_none())
                && rng.random_bool(shape::DIBAO_STOP_MONTHLY)
            {
                k.end = Some(m);
            }
        } else if !migrant && rng.random_bool(shape::DIBAO_START_MONTHLY) {
            let n = cases.len();
            cases.push(Case {
                kind: CaseKind::Dibao,
                start: m,
                end: None,
                number: case_no(n),
                amount: dibao_amount(&mut rng),
            });
        }
    }
    for m in -1..months {
        if !cases.iter().any(|k| k.eligible_in(m)) && rng.random_bool(shape::LINSHI_MONTHLY) {
            let n = cases.len();
            cases.push(Case {
                kind: CaseKind::Linshi,
                start: m,
                end: None,
                number: case_no(n),
                amount: rng.random_range(5..=30) * 100,
            });
        }
    }
    // New certificates during the generated months.
    for p in persons.iter_mut() {
        if p.member == Member::Child && p.id.is_some() && p.cert.is_none() {
            for m in 1..months {
                if rng.random_bool(shape::NEW_CERT_MONTHLY) {
                    p.cert = Some(Certificate {
                        category: pick(&mut rng, &[3, 4, 5, 5, 7]),
                        grade: rng.random_range(1..=4),
                        from: m,
                    });
                    break;
                }
            }
        }
    }

    let mut hh = Household {
        index,
        county,
        migrant,
        register_no: format!("{}{in_county:07}", &code[2..]),
        address: address(&mut rng, county),
        hukou_type: if c.rural {
            if rng.random_bool(0.7) {
                "农业家庭户"
            } else {
                "居民家庭户"
            }
        } else if rng.random_bool(0.6) {
            "非农业家庭户"
        } else {
            "居民家庭户"
        },
        persons,
        cases,
    };
    let kinds: Vec<ChildKind> = all.iter().map(|p| p.kind).collect();
    for (i, kind) in kinds.into_iter().enumerate() {
        if kind != ChildKind::Adult {
            let cohort = all[i].cohort;
            let e = schooling(frame, &hh, i, cohort, kind, &mut rng);
            hh.persons[i].enrollment = e;
        }
    }
    hh
}

fn address(rng: &mut impl Rng, county: usize) -> String {
    let c = &COUNTIES[county];
    if c.rural && rng.random_bool(0.7) {
        format!(
            "{}{}{}号",
            c.name,
            pick(rng, place::VILLAGES),
            rng.random_range(1..200)
        )
    } else {
        // Some clerks separate the building with an ASCII comma, which a
        // CSV writer must quote and a reader must respect.
        let sep = if rng.random_bool(0.03) { "," } else { "" };
        format!(
            "{}{}{}号{sep}{}栋{}室",
            c.name,
            pick(rng, place::STREETS),
            rng.random_range(1..400),
            rng.random_range(1..20),
            rng.random_range(1..7) * 100 + rng.random_range(1..5)
        )
    }
}

fn random_school(rng: &mut impl Rng, home: usize, level: Level) -> School {
    let county = if rng.random_bool(0.9) {
        home
    } else {
        rng.random_range(0..COUNTIES.len())
    };
    School {
        county,
        level,
        number: rng.random_range(1..=level.schools_per_county()),
        class: rng.random_range(1..=8),
    }
}

/// A child's month-by-month enrollment rows: schools, transfers, duplicates
/// and aid, driven by the household's eligibility.
fn schooling(
    frame: &Frame,
    hh: &Household,
    who: usize,
    cohort: i32,
    kind: ChildKind,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<EnrollmentRow>> {
    let months = frame.months as i32;
    let mut schools = [
        random_school(rng, hh.county, Level::Primary),
        random_school(rng, hh.county, Level::Junior),
        random_school(rng, hh.county, Level::Senior),
    ];
    // How the schools respond to this child's eligibility.
    let never = rng.random_bool(shape::NEVER_AIDED);
    let other_aid = rng.random_bool(shape::OTHER_AID);
    let start_lag = pick(rng, &[0, 0, 0, 0, 0, 0, 0, 1, 1, 2]);
    let stop_lag = if rng.random_bool(shape::LATE_STOP) {
        rng.random_range(4..=15)
    } else {
        pick(rng, &[0, 0, 0, 0, 1, 2, 3])
    };
    // Eligibility intervals [from, to) in months; `i32::MAX` for open ones.
    let mut spans: Vec<(i32, i32)> = hh
        .cases
        .iter()
        .filter(|c| c.kind != CaseKind::Linshi)
        .map(|c| (c.start, c.end.unwrap_or(i32::MAX)))
        .collect();
    if let Some(cert) = hh.persons[who].cert {
        spans.push((cert.from, i32::MAX));
    }
    let aided = |m: i32| {
        other_aid
            || (!never
                && spans
                    .iter()
                    .any(|&(s, e)| m >= s + start_lag && m < e.saturating_add(stop_lag)))
    };
    let mut enrolled = kind == ChildKind::Student;
    let mut lingering: Option<(School, bool)> = None;
    let mut out = Vec::with_capacity(months as usize);
    for m in 0..months {
        let grade = frame.school_year(m) - cohort - 6;
        if m > 0 && frame.period(m).month == 9 {
            if enrolled && (grade > 12 || (grade == 10 && rng.random_bool(0.1))) {
                enrolled = false;
            }
            if kind == ChildKind::Preschool && grade == 1 && rng.random_bool(0.97) {
                enrolled = true;
            }
        }
        if m > 0 {
            if enrolled && rng.random_bool(shape::LEAVE_MONTHLY) {
                enrolled = false;
            } else if !enrolled
                && (1..=9).contains(&grade)
                && kind == ChildKind::OutOfSchool
                && rng.random_bool(shape::JOIN_MONTHLY)
            {
                enrolled = true;
            }
        }
        let mut rows = Vec::new();
        if enrolled && (1..=12).contains(&grade) {
            let level = Level::of_grade(grade);
            let slot = level as usize;
            let aid = aided(m);
            if rng.random_bool(shape::TRANSFER_MONTHLY) {
                let old = schools[slot];
                let mut new = random_school(rng, hh.county, level);
                if new.key() == old.key() {
                    new.number = new.number % level.schools_per_county() + 1;
                }
                schools[slot] = new;
                let double = rng.random_bool(shape::DOUBLE_PAID);
                rows.push(EnrollmentRow {
                    school: new,
                    aid,
                    grade,
                });
                rows.push(EnrollmentRow {
                    school: old,
                    aid: aid && double,
                    grade,
                });
                lingering = rng
                    .random_bool(shape::TRANSFER_LINGERS)
                    .then_some((old, double));
            } else {
                rows.push(EnrollmentRow {
                    school: schools[slot],
                    aid,
                    grade,
                });
                if let Some((old, double)) = lingering.take() {
                    if old.level == level {
                        rows.push(EnrollmentRow {
                            school: old,
                            aid: aid && double,
                            grade,
                        });
                    }
                } else if rng.random_bool(shape::DUPLICATE_MONTHLY) {
                    let double = rng.random_bool(shape::DOUBLE_PAID);
                    rows.push(EnrollmentRow {
                        school: schools[slot],
                        aid: aid && double,
                        grade,
                    });
                } else if aid && rng.random_bool(shape::AID_RELISTED) {
                    rows.push(EnrollmentRow {
                        school: schools[slot],
                        aid: true,
                        grade,
                    });
                }
            }
        } else {
            lingering = None;
        }
        out.push(rows);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn frame() -> Frame {
        Frame {
            seed: 7,
            start: Period::parse("2026-09").unwrap(),
            months: 6,
        }
    }

    #[test]
    fn a_household_is_a_pure_function_of_seed_and_index() {
        let a = build(&frame(), 12345, 2);
        let b = build(&frame(), 12345, 2);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let c = build(&Frame { seed: 8, ..frame() }, 12345, 2);
        assert_ne!(format!("{a:?}"), format!("{c:?}"));
    }

    #[test]
    fn ids_are_valid_unique_and_agree_with_birth_and_gender() {
        let mut seen = BTreeSet::new();
        for index in 0..20_000 {
            let hh = build(&frame(), index, students_of(7, index));
            for p in &hh.persons {
                if let Some(id) = p.id {
                    assert!(id.check_ok());
                    assert_eq!(id.birth_date(), Some(p.birth));
                    assert_eq!(id.gender() == aidlink_vocab::Gender::Male, p.male);
                    assert!(seen.insert(id), "duplicate ID in household {index}");
                }
            }
        }
    }

    #[test]
    fn students_are_enrolled_in_month_zero() {
        for index in 0..500 {
            let n = students_of(7, index);
            let hh = build(&frame(), index, n);
            let enrolled = hh
                .persons
                .iter()
                .filter(|p| !p.enrollment.is_empty() && !p.enrollment[0].is_empty())
                .count();
            assert_eq!(enrolled as u64, n);
        }
    }
}
