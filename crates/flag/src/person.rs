//! One person's summary row and flags, from the person's records.
//!
//! [`Context::person`] reads each of the person's records once, into small
//! vectors of a per-task [`Scratch`] that are cleared, not reallocated, from
//! one person to the next, and appends the summary straight to the persons
//! columns. Flags are rare, so only a raised flag builds owned texts.

use crate::FlagKind;
use crate::FlagRules;
use crate::columns::{Columns, Fields, bool_at, date_at, days_at, f64_at, str_at};
use crate::conflict::{Conflicts, Shared};
use crate::details::Object;
use crate::tables::{FlagRow, PersonsBuilder, append_list};
use aidlink_vocab::{CivilDate, Period, mask_id_text};

/// The roles of one source, as flags.
#[derive(Clone, Copy, Default)]
pub(crate) struct Roles {
    pub enrollment: bool,
    pub aid: bool,
    pub eligibility: bool,
}

/// Separators departments use between several aid types in one cell.
const AID_TYPE_SEPARATORS: &[char] = &[';', ',', '、', '，', '；', '/', '|'];

/// What one record says for the rules, as bits of a `u32` ([`row_facts`]),
/// worked out in one pass over the table in row order. An eligible case's
/// subsidy type is its position in `eligible_subsidy_types`, in the bits
/// from [`TYPE_SHIFT`] on.
pub(crate) const HAS_AID: u32 = 1;
/// An active case of an eligible subsidy type.
pub(crate) const ACTIVE: u32 = 1 << 1;
/// A stopped case of an eligible subsidy type.
pub(crate) const STOPPED: u32 = 1 << 2;
/// A disability record that makes the person eligible.
pub(crate) const DISABILITY: u32 = 1 << 3;
/// A valid ID number (`id_check_ok`).
pub(crate) const ID_OK: u32 = 1 << 4;
/// A valid ID whose birth date or gender the record contradicts.
pub(crate) const CONTRADICTS: u32 = 1 << 5;
/// An ID other persons' records also carry.
pub(crate) const SHARED: u32 = 1 << 6;
/// Where an eligible case's subsidy type index starts.
pub(crate) const TYPE_SHIFT: u32 = 8;

/// The facts of one row of the whole table (see [`HAS_AID`]).
pub(crate) fn row_facts(
    c: &Columns,
    roles: Roles,
    rules: &FlagRules,
    conflicts: &Conflicts,
    r: usize,
) -> u32 {
    let mut facts = 0;
    if roles.aid
        && (str_at(c.aid_type, r).is_some() || f64_at(c.aid_amount, r).is_some_and(|a| a > 0.0))
    {
        facts |= HAS_AID;
    }
    if roles.eligibility {
        let status = match str_at(c.subsidy_status, r) {
            Some("active") => ACTIVE,
            Some("stopped") => STOPPED,
            _ => 0,
        };
        if status != 0
            && let Some(t) = str_at(c.subsidy_type, r)
            && let Some(i) = rules.eligible_subsidy_types.iter().position(|e| e == t)
        {
            // More eligible types than the bits hold is not a real config;
            // those read as not eligible rather than as another type.
            if let Ok(i) = u32::try_from(i)
                && i < 1 << (32 - TYPE_SHIFT)
            {
                facts |= status | (i << TYPE_SHIFT);
            }
        }
        if rules.disability_eligible
            && (str_at(c.certificate_no, r).is_some() || str_at(c.disability_category, r).is_some())
        {
            facts |= DISABILITY;
        }
    }
    if bool_at(c.id_check_ok, r) == Some(true) {
        facts |= ID_OK;
        if bool_at(c.birth_matches_id, r) == Some(false)
            || bool_at(c.gender_matches_id, r) == Some(false)
        {
            facts |= CONTRADICTS;
        }
    }
    if conflicts.row_shared(r) {
        facts |= SHARED;
    }
    facts
}

/// What the rules read from the whole table, shared by every person.
pub(crate) struct Context<'a> {
    /// The whole record table.
    pub cols: &'a Columns<'a>,
    /// Source names, sorted; a row's source is its index here.
    pub source_names: &'a [&'a str],
    pub source_roles: &'a [Roles],
    /// Each row's source, an index into `source_names`.
    pub sources: &'a [u32],
    pub rules: &'a FlagRules,
    /// The rule text of each flag, in [`FlagKind::ALL`] order.
    pub rule_texts: &'a [String; 7],
    pub period: Period,
    pub conflicts: &'a Conflicts<'a>,
}

/// The records of a run of persons, copied out of the record table in
/// person order, so that evaluating a person reads memory in order instead
/// of jumping through the table for every cell.
pub(crate) struct Gathered<'c> {
    /// The columns every person needs (the others are read from the whole
    /// table when a rare rule needs them).
    pub cols: Fields<'c>,
    /// Each gathered row's source, an index into the source names.
    pub sources: Vec<u32>,
    /// Each gathered row's row in its source.
    pub source_row: Vec<u64>,
    /// Each gathered row's facts ([`row_facts`]).
    pub facts: Vec<u32>,
    /// Each gathered row's row in the whole table.
    pub rows: &'c [usize],
}

/// Vectors reused from person to person.
#[derive(Default)]
pub(crate) struct Scratch<'c> {
    rows: Vec<usize>,
    enrollment: Vec<usize>,
    aid: Vec<usize>,
    /// Active eligible cases and their subsidy types.
    active: Vec<(usize, &'c str)>,
    stopped: Vec<usize>,
    disability: Vec<usize>,
    schools: Vec<&'c str>,
    basis: Vec<&'c str>,
    aid_types: Vec<&'c str>,
    texts: Vec<&'c str>,
    dates: Vec<i32>,
    sources: Vec<u32>,
    refs: Vec<(u32, u64)>,
}

/// The most frequent value of `values` (which it sorts); ties go to the
/// smallest.
fn mode<T: Ord + Copy>(values: &mut [T]) -> Option<T> {
    if values.len() <= 1 {
        return values.first().copied();
    }
    values.sort_unstable();
    let mut best: Option<(usize, T)> = None;
    for run in values.chunk_by(|a, b| a == b) {
        // Strictly more: among equally frequent values the first, smallest, stays.
        if best.is_none_or(|(count, _)| run.len() > count) {
            best = Some((run.len(), run[0]));
        }
    }
    best.map(|(_, v)| v)
}

/// Sorts and removes repeats, as a `BTreeSet` would hold the values.
fn sorted_set<T: Ord>(values: &mut Vec<T>) {
    values.sort_unstable();
    values.dedup();
}

impl<'a> Context<'a> {
    /// Sorted, distinct `source:row` texts of references (source index,
    /// row in the source).
    fn evidence(
        &self,
        refs: &mut Vec<(u32, u64)>,
        of: impl Iterator<Item = (u32, u64)>,
    ) -> Vec<String> {
        refs.clear();
        refs.extend(of);
        // Source indexes follow the names' order, so this is the order of
        // (source name, row).
        sorted_set(refs);
        refs.iter()
            .map(|(s, row)| format!("{}:{row}", self.source_names[*s as usize]))
            .collect()
    }

    /// The reference of a row of the whole table.
    fn global_ref(&self, row: usize) -> (u32, u64) {
        (self.sources[row], self.cols.source_row.value(row))
    }

    /// Valid IDs (masked) that the person's records carry under two names,
    /// one record agreeing with the ID and another contradicting its birth
    /// date or gender, with the records carrying them.
    fn shared_within(c: &Columns<'_>, rows: &[usize]) -> Vec<(String, Vec<usize>)> {
        // Rows by ID, in the person's row order within an ID (a stable sort).
        let mut with_id: Vec<(&str, usize)> = rows
            .iter()
            .copied()
            .filter(|r| bool_at(c.id_check_ok, *r) == Some(true))
            .filter_map(|r| str_at(c.id_number, r).map(|id| (id, r)))
            .collect();
        with_id.sort_by(|a, b| a.0.cmp(b.0));
        let contradicts = |r: usize| {
            bool_at(c.birth_matches_id, r) == Some(false)
                || bool_at(c.gender_matches_id, r) == Some(false)
        };
        with_id
            .chunk_by(|a, b| a.0 == b.0)
            .map(|g| (g[0].0, g.iter().map(|(_, r)| *r).collect::<Vec<usize>>()))
            .filter(|(_, group)| {
                group.iter().filter(|b| contradicts(**b)).any(|b| {
                    let name_b = str_at(c.name_pinyin, *b);
                    group.iter().any(|a| {
                        !contradicts(*a)
                            && name_b.is_some()
                            && str_at(c.name_pinyin, *a).is_some_and(|n| Some(n) != name_b)
                    })
                })
            })
            .map(|(id, group)| (mask_id_text(id), group))
            .collect()
    }

    fn flag(&self, person: &'a str, kind: FlagKind, since: Period) -> FlagRow<'a> {
        FlagRow {
            person_id: person,
            flag: kind.name(),
            rule: self.rule_texts[kind as usize].as_str(),
            since: since.to_string(),
            evidence: Vec::new(),
            details: String::new(),
        }
    }

    /// Appends the person whose records are `rows` of `g` (rows of the
    /// whole table in ascending order) to `out` and their flags to `flags`.
    pub fn person<'c>(
        &self,
        g: &'c Gathered<'c>,
        person: &'a str,
        rows: std::ops::Range<usize>,
        s: &mut Scratch<'c>,
        out: &mut PersonsBuilder,
        flags: &mut Vec<FlagRow<'a>>,
    ) where
        'a: 'c,
    {
        let c = &g.cols;
        let period = self.period;
        let local_ref = |r: usize| (g.sources[r], g.source_row[r]);
        let whole = self.cols;
        // The person's records by source, row in the source, table row
        // (gathered rows of a person are in table order).
        s.rows.clear();
        s.rows.extend(rows);
        if s.rows.len() > 1 {
            s.rows
                .sort_unstable_by_key(|r| (g.sources[*r], g.source_row[*r], *r));
        }
        let rows = std::mem::take(&mut s.rows);
        for v in [
            &mut s.enrollment,
            &mut s.aid,
            &mut s.stopped,
            &mut s.disability,
        ] {
            v.clear();
        }
        s.active.clear();
        s.schools.clear();
        s.aid_types.clear();
        s.sources.clear();
        // An empty float sum is -0.0; adding 0.0 at the end gives the plain
        // 0 analysts expect (and keeps -0.0 out of the delta's JSON).
        let mut aid_total = -0.0f64;
        let mut valid_rows = 0;
        let mut contradicted = false;
        let mut shared = false;
        for &r in &rows {
            let source = g.sources[r];
            s.sources.push(source);
            let roles = self.source_roles[source as usize];
            if roles.enrollment {
                s.enrollment.push(r);
                if let Some(school) = str_at(c.school, r) {
                    s.schools.push(school);
                }
            }
            let facts = g.facts[r];
            if roles.aid {
                let amount = f64_at(c.aid_amount, r);
                if let Some(a) = amount {
                    aid_total += a;
                }
                if facts & HAS_AID != 0 {
                    s.aid.push(r);
                    if let Some(kind) = str_at(c.aid_type, r) {
                        s.aid_types.extend(
                            kind.split(AID_TYPE_SEPARATORS)
                                .map(str::trim)
                                .filter(|t| !t.is_empty()),
                        );
                    }
                }
            }
            if facts & (ACTIVE | STOPPED) != 0 {
                if facts & ACTIVE != 0 {
                    let kind = &self.rules.eligible_subsidy_types[(facts >> TYPE_SHIFT) as usize];
                    s.active.push((r, kind.as_str()));
                } else {
                    s.stopped.push(r);
                }
            }
            if facts & DISABILITY != 0 {
                s.disability.push(r);
            }
            if facts & ID_OK != 0 {
                valid_rows += 1;
                contradicted |= facts & CONTRADICTS != 0;
            }
            shared |= facts & SHARED != 0;
        }
        let aid_total = aid_total + 0.0;
        sorted_set(&mut s.schools);
        sorted_set(&mut s.aid_types);
        s.basis.clear();
        s.basis.extend(s.active.iter().map(|(_, t)| *t));
        if !s.disability.is_empty() {
            s.basis.push("disability");
        }
        sorted_set(&mut s.basis);
        let eligible = !s.basis.is_empty();
        let enrolled = !s.enrollment.is_empty();
        let aided = !s.aid.is_empty();

        // Identity: the ID most records carry (valid ones first), and the
        // birth date and gender it encodes, else the recorded ones.
        s.texts.clear();
        s.texts.extend(
            rows.iter()
                .filter(|r| g.facts[**r] & ID_OK != 0)
                .filter_map(|r| str_at(c.id_number, *r)),
        );
        let valid_id = mode(&mut s.texts);
        let id_number = valid_id.or_else(|| {
            s.texts.clear();
            s.texts
                .extend(rows.iter().filter_map(|r| str_at(c.id_number, *r)));
            mode(&mut s.texts)
        });
        let is_id_row = |r: &&usize| valid_id.is_some() && str_at(c.id_number, **r) == valid_id;
        s.dates.clear();
        s.dates.extend(
            rows.iter()
                .filter(is_id_row)
                .filter_map(|r| days_at(c.id_birth_date, *r)),
        );
        let id_birth = mode(&mut s.dates);
        let birth_from_id = id_birth.is_some();
        let birth = id_birth
            .or_else(|| {
                s.dates.clear();
                s.dates
                    .extend(rows.iter().filter_map(|r| days_at(c.birth_date, *r)));
                mode(&mut s.dates)
            })
            .map(CivilDate::from_days);
        s.texts.clear();
        s.texts.extend(
            rows.iter()
                .filter(is_id_row)
                .filter_map(|r| str_at(c.id_gender, *r)),
        );
        let gender = mode(&mut s.texts).or_else(|| {
            s.texts.clear();
            s.texts
                .extend(rows.iter().filter_map(|r| str_at(c.gender, *r)));
            mode(&mut s.texts)
        });
        let age = birth.map(|b| b.age_on(period.first_day()));

        let first_flag = flags.len();
        if enrolled && eligible && !aided {
            let basis_rows = s
                .active
                .iter()
                .map(|(r, _)| *r)
                .chain(s.disability.iter().copied());
            let mut f = self.flag(person, FlagKind::EligibleUnaided, period);
            f.evidence = self.evidence(
                &mut s.refs,
                s.enrollment
                    .iter()
                    .copied()
                    .chain(basis_rows)
                    .map(local_ref),
            );
            f.details = Object::new()
                .strs("basis", &s.basis)
                .strs("schools", &s.schools)
                .finish();
            flags.push(f);
        }

        let stacked: Vec<Vec<&str>> = self
            .rules
            .non_stacking_aid
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(String::as_str)
                    .filter(|t| s.aid_types.binary_search(t).is_ok())
                    .collect::<Vec<_>>()
            })
            .filter(|present: &Vec<&str>| present.len() >= 2)
            .collect();
        if s.aid.len() >= 2 || !stacked.is_empty() {
            let mut f = self.flag(person, FlagKind::DuplicateAid, period);
            f.evidence = self.evidence(&mut s.refs, s.aid.iter().map(|r| local_ref(*r)));
            f.details = Object::new()
                .int("aid_records", s.aid.len() as i64)
                .strs("aid_types", &s.aid_types)
                .str_lists("not_stacking", &stacked)
                .finish();
            flags.push(f);
        }

        if aided && !eligible && !s.stopped.is_empty() {
            let latest_allowed = period.plus_months(-(self.rules.exit_review_months as i32));
            let stopped: Vec<(usize, Period)> = s
                .stopped
                .iter()
                .filter_map(|r| {
                    let end = Period::parse(str_at(whole.end_month, g.rows[*r])?).ok()?;
                    (end <= latest_allowed).then_some((*r, end))
                })
                .collect();
            if let Some(since) = stopped.iter().map(|(_, end)| *end).max() {
                let mut f = self.flag(person, FlagKind::ExitReview, since);
                f.evidence = self.evidence(
                    &mut s.refs,
                    s.aid
                        .iter()
                        .copied()
                        .chain(stopped.iter().map(|(r, _)| *r))
                        .map(local_ref),
                );
                // No "months since": it grows every month, and the delta
                // would report an unchanged flag as changed.
                f.details = Object::new()
                    .float("aid_total", aid_total)
                    .strs("aid_types", &s.aid_types)
                    .str("end_month", &since.to_string())
                    .finish();
                flags.push(f);
            }
        }

        let school_age = self.rules.school_age_min as i32..=self.rules.school_age_max as i32;
        if let (Some(a), Some(b)) = (age, birth)
            && school_age.contains(&a)
            && !s.active.is_empty()
            && !enrolled
        {
            s.texts.clear();
            s.texts.extend(s.active.iter().map(|(_, t)| *t));
            sorted_set(&mut s.texts);
            let mut f = self.flag(person, FlagKind::OutOfSchoolRisk, period);
            f.evidence = self.evidence(&mut s.refs, s.active.iter().map(|(r, _)| local_ref(*r)));
            f.details = Object::new()
                .int("age", i64::from(a))
                .str("birth_date", &b.to_string())
                .str(
                    "birth_date_from",
                    if birth_from_id { "id_number" } else { "record" },
                )
                .strs("subsidy_types", &s.texts)
                .finish();
            flags.push(f);
        }

        if s.schools.len() >= 2 {
            let at_school = s
                .enrollment
                .iter()
                .copied()
                .filter(|r| str_at(c.school, *r).is_some());
            let mut f = self.flag(person, FlagKind::MultiEnrollment, period);
            f.evidence = self.evidence(&mut s.refs, at_school.map(local_ref));
            f.details = Object::new().strs("schools", &s.schools).finish();
            flags.push(f);
        }

        // One ID used by two people shows either across persons (the
        // matcher kept them apart) or inside one person (the matcher linked
        // on the shared ID): records carrying the same valid ID under
        // different names, one of them contradicting the ID's birth date or
        // gender, are two people. Two people under one ID take two valid
        // records, one of them contradicting it.
        let within = if valid_rows >= 2 && contradicted {
            let global: Vec<usize> = rows.iter().map(|r| g.rows[*r]).collect();
            Context::shared_within(whole, &global)
        } else {
            Vec::new()
        };
        if shared || !within.is_empty() {
            let across: Vec<&Shared> = {
                let mut gs: Vec<&Shared> = rows
                    .iter()
                    .map(|r| g.rows[*r])
                    .filter(|r| self.conflicts.row_shared(*r))
                    .filter_map(|r| self.conflicts.group_of(r))
                    .collect();
                gs.sort_unstable_by_key(|k| k.rows[0]);
                gs.dedup_by_key(|k| k.rows[0]);
                gs
            };
            let mut others: Vec<&str> = across
                .iter()
                .flat_map(|k| k.persons.iter().copied())
                .filter(|p| *p != person)
                .collect();
            sorted_set(&mut others);
            let mut ids: Vec<&str> = across
                .iter()
                .map(|k| k.masked_id.as_str())
                .chain(within.iter().map(|(id, _)| id.as_str()))
                .collect();
            sorted_set(&mut ids);
            let within_refs = self.evidence(
                &mut s.refs,
                within
                    .iter()
                    .flat_map(|(_, rs)| rs.iter().map(|r| local_ref(*r))),
            );
            let mut f = self.flag(person, FlagKind::IdConflict, period);
            f.evidence = self.evidence(
                &mut s.refs,
                across
                    .iter()
                    .flat_map(|k| k.rows.iter().map(|r| self.global_ref(*r)))
                    .chain(
                        within
                            .iter()
                            .flat_map(|(_, rs)| rs.iter().map(|r| local_ref(*r))),
                    ),
            );
            f.details = Object::new()
                .strs("id_numbers", &ids)
                .strs("other_persons", &others)
                .strs("within_person", &within_refs)
                .finish();
            flags.push(f);
        }

        if contradicted {
            let reference = |r: usize| {
                let (source, row) = local_ref(r);
                format!("{}:{row}", self.source_names[source as usize])
            };
            let mut mismatches = Vec::new();
            let mut mismatch_rows = Vec::new();
            // The rare rule reads the whole table's columns.
            let c = whole;
            for r in rows.iter().copied().filter(|r| g.facts[*r] & ID_OK != 0) {
                let gr = g.rows[r];
                if bool_at(c.birth_matches_id, gr) == Some(false) {
                    mismatch_rows.push(r);
                    let recorded = date_at(c.birth_date, gr).map(|d| d.to_string());
                    let id_says = date_at(c.id_birth_date, gr).map(|d| d.to_string());
                    mismatches.push(
                        Object::new()
                            .str("field", "birth_date")
                            .opt_str("id_says", id_says.as_deref())
                            .str("record", &reference(r))
                            .opt_str("recorded", recorded.as_deref()),
                    );
                }
                if bool_at(c.gender_matches_id, gr) == Some(false) {
                    mismatch_rows.push(r);
                    mismatches.push(
                        Object::new()
                            .str("field", "gender")
                            .opt_str("id_says", str_at(c.id_gender, gr))
                            .str("record", &reference(r))
                            .opt_str("recorded", str_at(c.gender, gr)),
                    );
                }
            }
            let mut f = self.flag(person, FlagKind::IdMismatch, period);
            f.evidence = self.evidence(&mut s.refs, mismatch_rows.into_iter().map(local_ref));
            f.details = Object::new().objects("mismatches", mismatches).finish();
            flags.push(f);
        }
        flags[first_flag..].sort_by(|a, b| a.flag.cmp(b.flag));

        sorted_set(&mut s.sources);
        out.person_id.append_value(person);
        out.record_count.append_value(rows.len() as u64);
        for i in &s.sources {
            out.sources
                .values()
                .append_value(self.source_names[*i as usize]);
        }
        out.sources.append(true);
        s.texts.clear();
        s.texts
            .extend(rows.iter().filter_map(|r| str_at(c.name, *r)));
        out.name.append_option(mode(&mut s.texts));
        out.id_number.append_option(id_number);
        out.id_valid.append_value(valid_id.is_some());
        out.birth_date.append_option(birth.map(CivilDate::to_days));
        out.gender.append_option(gender);
        out.age.append_option(age);
        s.texts.clear();
        s.texts
            .extend(rows.iter().filter_map(|r| str_at(c.county, *r)));
        out.county.append_option(mode(&mut s.texts));
        append_list(&mut out.schools, &s.schools);
        out.enrolled.append_value(enrolled);
        out.eligible.append_value(eligible);
        append_list(&mut out.eligibility_basis, &s.basis);
        out.aided.append_value(aided);
        append_list(&mut out.aid_types, &s.aid_types);
        out.aid_total.append_value(aid_total);
        for f in &flags[first_flag..] {
            out.flags.values().append_value(f.flag);
        }
        out.flags.append(true);
        s.rows = rows;
    }
}
