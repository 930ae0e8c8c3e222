//! Writes a household's story as the rows each department would export.
//!
//! For every generated month and source this yields the text fields of each
//! row (messy, as typed) and, beside each row, the facts the truth files
//! need: whose row it is, the ID as typed, the birth date and gender the row
//! states, the school, whether it records aid, and whether it is a broken
//! copy. Rendering draws from its own RNG stream, so the story and its mess
//! stay independent: changing a rate changes the typing, never the city.

use crate::household::{self, Case, CaseKind, Frame, Household, Member, Standing, purpose};
use crate::layout::{Layout, SourceLayout, src};
use crate::mess::{self, DateStyle, IdContent, NameMess};
use crate::place::{self, COUNTIES, Level};
use crate::rates::{CorruptionRates, SourceRates};
use aidlink_vocab::CivilDate;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One row as written: whose it is and its fields in column order.
#[derive(Clone, Debug)]
pub struct Row {
    /// True person number.
    pub person: u64,
    /// Field texts in the source's column order.
    pub fields: Vec<String>,
}

/// What the truth computation needs to know about a row.
#[derive(Clone, Debug)]
pub struct Fact {
    /// Source index.
    pub source: usize,
    /// Index of the person in the household.
    pub who: usize,
    /// A broken copy (no name, no ID): ignored by every flag.
    pub broken: bool,
    /// The ID as typed in the row's own `id_number` column.
    pub typed_id: String,
    /// The name as typed.
    pub typed_name: String,
    /// The birth date the row states, where the source has one.
    pub said_birth: Option<CivilDate>,
    /// The gender the row states, where the source has one (true = male).
    pub said_male: Option<bool>,
    /// Enrollment rows: the school listing the child.
    pub school: Option<(usize, u8, u32)>,
    /// Enrollment rows: whether aid is recorded.
    pub aid: bool,
    /// How the ID was typed.
    pub id_content: IdContent,
    /// Formatting noise on the ID.
    pub id_format: mess::IdFormat,
    /// How the name was typed.
    pub name_mess: NameMess,
    /// How the birth date was typed.
    pub date_mess: Option<mess::DateMess>,
    /// Whether gender was written in a variant text.
    pub gender_variant: bool,
}

/// A household's rows and facts for every month.
pub struct Rendered {
    /// Per month, per source, the rows.
    pub rows: Vec<[Vec<Row>; 4]>,
    /// Per month, the facts of every row (all sources, household order).
    pub facts: Vec<Vec<Fact>>,
}

/// A row being assembled: fields by canonical name.
struct Draft<'a> {
    layout: &'a SourceLayout,
    fields: Vec<String>,
    fact: Fact,
}

impl<'a> Draft<'a> {
    fn new(layout: &'a SourceLayout, source: usize, who: usize) -> Self {
        Draft {
            layout,
            fields: vec![String::new(); layout.fields.len()],
            fact: Fact {
                source,
                who,
                broken: false,
                typed_id: String::new(),
                typed_name: String::new(),
                said_birth: None,
                said_male: None,
                school: None,
                aid: false,
                id_content: IdContent::NoId,
                id_format: mess::IdFormat::default(),
                name_mess: NameMess::Clean,
                date_mess: None,
                gender_variant: false,
            },
        }
    }

    fn set(&mut self, field: &str, value: String) {
        if let Some(i) = self.layout.column(field) {
            self.fields[i] = value;
        }
    }
}

/// Renders household `hh` for every month of `frame`.
pub fn render(frame: &Frame, hh: &Household, layout: &Layout, rates: &CorruptionRates) -> Rendered {
    let typist = Typist { seed: frame.seed };
    let months = frame.months as i32;
    let mut rendered = Rendered {
        rows: Vec::new(),
        facts: Vec::new(),
    };
    for m in 0..months {
        let mut out: [Vec<Row>; 4] = Default::default();
        let mut facts = Vec::new();
        let mut emit = |draft: Draft, source: usize, rng: &mut ChaCha8Rng, rates: &SourceRates| {
            let person = hh.persons[draft.fact.who].no;
            if rng.random_bool(rates.broken_row) {
                let mut fields = draft.fields.clone();
                for f in [
                    "name",
                    "id_number",
                    "student_no",
                    "birth_date",
                    "gender",
                    "certificate_no",
                ] {
                    if let Some(i) = draft.layout.column(f) {
                        fields[i].clear();
                    }
                }
                let mut fact = draft.fact.clone();
                fact.broken = true;
                out[source].push(Row { person, fields });
                facts.push(fact);
            }
            out[source].push(Row {
                person,
                fields: draft.fields,
            });
            facts.push(draft.fact);
        };
        enrollment(
            hh,
            m,
            &layout.sources[src::ENROLLMENT],
            &rates.enrollment,
            &typist,
            &mut emit,
        );
        subsidy(
            frame,
            hh,
            m,
            &layout.sources[src::SUBSIDY],
            &rates.subsidy,
            &typist,
            &mut emit,
        );
        if !hh.migrant {
            register(
                hh,
                m,
                &layout.sources[src::HOUSEHOLD],
                &rates.household,
                &typist,
                &mut emit,
            );
        }
        disability(
            hh,
            m,
            &layout.sources[src::DISABILITY],
            &rates.disability,
            &typist,
            &mut emit,
        );
        rendered.rows.push(out);
        rendered.facts.push(facts);
    }
    rendered
}

/// Types each logical row (a person's row in a source, by ordinal) from its
/// own RNG stream, so a row reads the same every month, typos included, as
/// a database snapshot does, until the department re-enters it: each month
/// a row is re-typed with chance [`RETYPE_MONTHLY`], its errors drawn anew.
struct Typist {
    seed: u64,
}

/// Monthly chance that a department re-enters a row (corrects or re-breaks it).
pub const RETYPE_MONTHLY: f64 = 0.03;

/// Tag of the subsidy extract's birth-date column in [`Typist::column_rng`].
const SUBSIDY_BIRTH_COLUMN: u64 = 1;

impl Typist {
    /// The key of a logical row and how many times it was re-entered by month `m`.
    fn epoch(&self, person: u64, source: usize, ordinal: u64, m: i32) -> (u64, u64) {
        let key = household::mix(&[person, source as u64, ordinal]);
        let threshold = (RETYPE_MONTHLY * 1e6) as u64;
        let epoch = (1..=m.max(0) as u64)
            .filter(|k| household::mix(&[self.seed, key, *k]) % 1_000_000 < threshold)
            .count() as u64;
        (key, epoch)
    }

    fn rng(&self, person: u64, source: usize, ordinal: u64, m: i32) -> ChaCha8Rng {
        let (key, epoch) = self.epoch(person, source, ordinal, m);
        household::stream(self.seed, purpose::RENDER, household::mix(&[key, epoch]))
    }

    /// A stream for one column of a logical row, re-drawn when the row is
    /// re-entered. A column added to an extract after the others is typed
    /// from its own stream, so every other column reads as it did before.
    fn column_rng(
        &self,
        person: u64,
        source: usize,
        ordinal: u64,
        m: i32,
        column: u64,
    ) -> ChaCha8Rng {
        let (key, epoch) = self.epoch(person, source, ordinal, m);
        household::stream(
            self.seed,
            purpose::RENDER,
            household::mix(&[key, epoch, column]),
        )
    }
}

type Emit<'e, 'l> = dyn FnMut(Draft<'l>, usize, &mut ChaCha8Rng, &SourceRates) + 'e;

fn typed_name(d: &mut Draft, name: &str, rates: &SourceRates, rng: &mut ChaCha8Rng) {
    let (text, kind) = mess::type_name(name, rates, rng);
    d.fact.typed_name = text.clone();
    d.fact.name_mess = kind;
    d.set("name", text);
}

fn typed_own_id(
    d: &mut Draft,
    hh: &Household,
    who: usize,
    substitute: bool,
    rates: &SourceRates,
    rng: &mut ChaCha8Rng,
) {
    let p = &hh.persons[who];
    let guardian = substitute
        .then(|| hh.persons[p.guardian].id.as_ref())
        .flatten();
    let guardian = if p.guardian == who { None } else { guardian };
    let (text, content, format) =
        mess::type_id(p.id.as_ref(), p.has_old_form(), guardian, rates, rng);
    d.fact.typed_id = text.clone();
    d.fact.id_content = content;
    d.fact.id_format = format;
    d.set("id_number", text);
}

fn other_id(hh: &Household, who: usize, rates: &SourceRates, rng: &mut ChaCha8Rng) -> String {
    let p = &hh.persons[who];
    mess::type_id(p.id.as_ref(), p.has_old_form(), None, rates, rng).0
}

fn gender(d: &mut Draft, male: bool, rates: &SourceRates, rng: &mut ChaCha8Rng) {
    let code = d.layout.code("gender", if male { "M" } else { "F" }, &[]);
    let (text, variant) = mess::type_gender(&code, male, rates, rng);
    d.fact.said_male = Some(male);
    d.fact.gender_variant = variant;
    d.set("gender", text);
}

fn birth(
    d: &mut Draft,
    date: CivilDate,
    usual: DateStyle,
    rates: &SourceRates,
    rng: &mut ChaCha8Rng,
) {
    let (text, said, m) = mess::type_date(date, usual, rates, rng);
    d.fact.said_birth = said;
    d.fact.date_mess = Some(m);
    d.set("birth_date", text);
}

/// The aid a child's school pays: kind and amount per term, fixed per child and level.
fn aid_of(person: u64, level: Level) -> (&'static str, &'static str) {
    let options: &[(&str, &str)] = match level {
        Level::Primary => &[
            ("生活费补助", "500"),
            ("寄宿生生活补助", "625"),
            ("生活费补助", "500.00"),
        ],
        Level::Junior => &[
            ("生活费补助", "625"),
            ("寄宿生生活补助", "625"),
            ("生活费补助", "625.00"),
        ],
        Level::Senior => &[
            ("国家助学金", "1000"),
            ("国家助学金", "2000"),
            ("免学费", "1250"),
        ],
    };
    options[(household::mix(&[person]) % options.len() as u64) as usize]
}

fn enrollment<'l>(
    hh: &Household,
    m: i32,
    l: &'l SourceLayout,
    rates: &SourceRates,
    typist: &Typist,
    emit: &mut Emit<'_, 'l>,
) {
    for (who, p) in hh.persons.iter().enumerate() {
        let Some(rows) = p.enrollment.get(m as usize) else {
            continue;
        };
        for (ordinal, row) in rows.iter().enumerate() {
            let rng = &mut typist.rng(p.no, src::ENROLLMENT, ordinal as u64, m);
            let mut d = Draft::new(l, src::ENROLLMENT, who);
            let g = &hh.persons[p.guardian];
            d.set("student_no", p.student_no.clone());
            typed_name(&mut d, &p.name, rates, rng);
            gender(&mut d, p.male, rates, rng);
            birth(&mut d, p.birth, DateStyle::Iso, rates, rng);
            typed_own_id(&mut d, hh, who, true, rates, rng);
            d.set(
                "school",
                place::school_name(row.school.county, row.school.level, row.school.number),
            );
            d.set("grade", place::grade_text(row.grade));
            d.set("class", format!("{}班", row.school.class));
            d.set("guardian_name", mess::type_name(&g.name, rates, rng).0);
            d.set("guardian_id", other_id(hh, p.guardian, rates, rng));
            d.set("address", hh.address.clone());
            d.set("phone", g.phone.clone());
            if row.aid {
                let (kind, amount) = aid_of(p.no, row.school.level);
                d.set("aid_type", kind.to_string());
                d.set("aid_amount", amount.to_string());
            }
            d.fact.school = Some(row.school.key());
            d.fact.aid = row.aid;
            emit(d, src::ENROLLMENT, rng, rates);
        }
    }
}

/// Relation of `p` to the head `h`, as the register (`register`) or the
/// subsidy list words it.
fn relation(hh: &Household, head: usize, who: usize, register: bool) -> &'static str {
    if head == who {
        return if register { "户主" } else { "本人" };
    }
    let (h, p) = (&hh.persons[head], &hh.persons[who]);
    let has_father = hh.persons.iter().any(|q| q.member == Member::Father);
    match (h.member, p.member) {
        (Member::Father | Member::Mother, Member::Father | Member::Mother) => "配偶",
        (Member::Grandfather, Member::Grandmother) | (Member::Grandmother, Member::Grandfather) => {
            "配偶"
        }
        (Member::Father | Member::Mother, Member::Child) => match (p.male, register) {
            (true, true) => "子",
            (false, true) => "女",
            (true, false) => "儿子",
            (false, false) => "女儿",
        },
        (Member::Father | Member::Mother, Member::Grandfather) => "父亲",
        (Member::Father | Member::Mother, Member::Grandmother) => "母亲",
        (Member::Grandfather | Member::Grandmother, Member::Child) => {
            if p.male {
                "孙子"
            } else {
                "孙女"
            }
        }
        (Member::Grandfather | Member::Grandmother, Member::Father) => {
            if has_father {
                "子"
            } else {
                "女婿"
            }
        }
        (Member::Grandfather | Member::Grandmother, Member::Mother) => {
            if has_father {
                "儿媳"
            } else {
                "女"
            }
        }
        _ => "其他",
    }
}

fn first_of(hh: &Household, order: &[Member]) -> usize {
    order
        .iter()
        .find_map(|m| hh.persons.iter().position(|p| p.member == *m))
        .unwrap_or(0)
}

fn month_text(frame: &Frame, m: i32, compact: bool) -> String {
    let p = frame.period(m);
    if compact {
        format!("{:04}{:02}", p.year, p.month)
    } else {
        p.to_string()
    }
}

fn subsidy<'l>(
    frame: &Frame,
    hh: &Household,
    m: i32,
    l: &'l SourceLayout,
    rates: &SourceRates,
    typist: &Typist,
    emit: &mut Emit<'_, 'l>,
) {
    let head = first_of(
        hh,
        &[
            Member::Father,
            Member::Mother,
            Member::Grandfather,
            Member::Grandmother,
        ],
    );
    let county = &COUNTIES[hh.county];
    for (ordinal, case) in hh.cases.iter().enumerate() {
        let standing = case.standing(m);
        if standing == Standing::Unlisted {
            continue;
        }
        // A case's months are written the same way on all its rows: the
        // clerk who opened it chose the format.
        let compact = household::mix(&[case.start as u64, hh.index]).is_multiple_of(10);
        let kind = subsidy_code(l, case, county.rural);
        for (who, p) in hh.persons.iter().enumerate() {
            let rng = &mut typist.rng(p.no, src::SUBSIDY, ordinal as u64, m);
            let mut d = Draft::new(l, src::SUBSIDY, who);
            d.set("household_no", case.number.clone());
            d.set("county", county.name.to_string());
            d.set(
                "head_name",
                mess::type_name(&hh.persons[head].name, rates, rng).0,
            );
            d.set("head_id", other_id(hh, head, rates, rng));
            typed_name(&mut d, &p.name, rates, rng);
            typed_own_id(&mut d, hh, who, false, rates, rng);
            // Member rosters list each member's birth date, the only age a
            // child without an ID number has in any extract.
            let date_rng =
                &mut typist.column_rng(p.no, src::SUBSIDY, ordinal as u64, m, SUBSIDY_BIRTH_COLUMN);
            birth(&mut d, p.birth, DateStyle::Iso, rates, date_rng);
            d.set("relation", relation(hh, head, who, false).to_string());
            d.set("subsidy_type", kind.clone());
            d.set("subsidy_amount", case.amount.to_string());
            d.set("start_month", month_text(frame, case.start, compact));
            match standing {
                Standing::Stopped(end) => {
                    d.set(
                        "subsidy_status",
                        l.code("subsidy_status", "stopped", &["停保"]),
                    );
                    d.set("end_month", month_text(frame, end, compact));
                }
                _ => d.set(
                    "subsidy_status",
                    l.code("subsidy_status", "active", &["在保"]),
                ),
            }
            emit(d, src::SUBSIDY, rng, rates);
        }
    }
}

fn subsidy_code(l: &SourceLayout, case: &Case, rural: bool) -> String {
    let preferred: &[&str] = match (case.kind, rural) {
        (CaseKind::Dibao, true) => &["农村低保", "低保"],
        (CaseKind::Dibao, false) => &["城市低保", "低保"],
        (CaseKind::Tekun, _) => &["特困供养", "特困"],
        (CaseKind::Linshi, _) => &["临时救助"],
    };
    l.code("subsidy_type", case.kind.code(), preferred)
}

fn register<'l>(
    hh: &Household,
    m: i32,
    l: &'l SourceLayout,
    rates: &SourceRates,
    typist: &Typist,
    emit: &mut Emit<'_, 'l>,
) {
    let head = first_of(
        hh,
        &[
            Member::Grandfather,
            Member::Grandmother,
            Member::Father,
            Member::Mother,
        ],
    );
    for (who, p) in hh.persons.iter().enumerate() {
        // Only people with an ID are registered: a child without one is
        // precisely a child missing from the register.
        if p.id.is_none() {
            continue;
        }
        let rng = &mut typist.rng(p.no, src::HOUSEHOLD, 0, m);
        let mut d = Draft::new(l, src::HOUSEHOLD, who);
        d.set("household_no", hh.register_no.clone());
        typed_name(&mut d, &p.name, rates, rng);
        typed_own_id(&mut d, hh, who, false, rates, rng);
        gender(&mut d, p.male, rates, rng);
        birth(&mut d, p.birth, DateStyle::Compact, rates, rng);
        d.set("relation", relation(hh, head, who, true).to_string());
        d.set("address", format!("{}{}", place::CITY, hh.address));
        d.set("hukou_type", hh.hukou_type.to_string());
        if let Some(date) = p.move_in {
            d.set("move_in", mess::format_date(date, DateStyle::Compact));
        }
        emit(d, src::HOUSEHOLD, rng, rates);
    }
}

const CATEGORIES: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];

fn disability<'l>(
    hh: &Household,
    m: i32,
    l: &'l SourceLayout,
    rates: &SourceRates,
    typist: &Typist,
    emit: &mut Emit<'_, 'l>,
) {
    for (who, p) in hh.persons.iter().enumerate() {
        let (Some(cert), Some(id)) = (p.cert, p.id) else {
            continue;
        };
        if cert.from > m {
            continue;
        }
        let rng = &mut typist.rng(p.no, src::DISABILITY, 0, m);
        let mut d = Draft::new(l, src::DISABILITY, who);
        d.set(
            "certificate_no",
            format!("{}{}{}", id.as_str(), cert.category, cert.grade),
        );
        typed_name(&mut d, &p.name, rates, rng);
        gender(&mut d, p.male, rates, rng);
        typed_own_id(&mut d, hh, who, false, rates, rng);
        d.set(
            "disability_category",
            CATEGORIES[(cert.category as usize).saturating_sub(1) % 7].to_string(),
        );
        d.set(
            "disability_grade",
            l.code("disability_grade", &cert.grade.to_string(), &[]),
        );
        let phone = if p.phone.is_empty() {
            &hh.persons[p.guardian].phone
        } else {
            &p.phone
        };
        d.set("phone", phone.clone());
        emit(d, src::DISABILITY, rng, rates);
    }
}
