//! Evaluating the flag rules over a period's linked records.
//!
//! The records are grouped by person; each person's records decide the
//! person's summary row and the flags of the rules in `docs/flags.md`. Only
//! `id_conflict` looks across persons, through an index of valid ID numbers.

use crate::columns::{Columns, bool_at, date_at, f64_at, str_at};
use crate::tables::{FlagRow, PersonRow, flags_batch, persons_batch};
use crate::{FlagError, FlagKind, FlagRules};
use aidlink_vocab::TextKey;
use aidlink_vocab::{CivilDate, Period, RecordRef, Role, mask_id_text};
use arrow_array::RecordBatch;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The persons and flags of a period.
#[derive(Clone, Debug)]
pub struct FlagOutput {
    /// One row per person ([`crate::persons_schema`]), sorted by person ID.
    pub persons: RecordBatch,
    /// One row per person and flag ([`crate::flags_schema`]), sorted by
    /// person ID then flag name.
    pub flags: RecordBatch,
}

/// The roles of one source, as flags.
#[derive(Clone, Copy, Default)]
struct Roles {
    enrollment: bool,
    aid: bool,
    eligibility: bool,
}

/// Separators departments use between several aid types in one cell.
const AID_TYPE_SEPARATORS: &[char] = &[';', ',', '、', '，', '；', '/', '|'];

/// Evaluates the flag rules.
///
/// `records` is the period's record table (`record_schema`), `person_ids`
/// the person of each record (same order), `roles` the configured roles of
/// every source named in `records`.
pub fn evaluate(
    records: &RecordBatch,
    person_ids: &[String],
    roles: &BTreeMap<String, Vec<Role>>,
    rules: &FlagRules,
    period: Period,
) -> Result<FlagOutput, FlagError> {
    rules.validate()?;
    let cols = Columns::new(records)?;
    let n = records.num_rows();
    if person_ids.len() != n {
        return Err(FlagError::LengthMismatch {
            records: n,
            person_ids: person_ids.len(),
        });
    }
    let source_roles: HashMap<&str, Roles> = roles
        .iter()
        .map(|(name, rs)| {
            let r = Roles {
                enrollment: rs.contains(&Role::Enrollment),
                aid: rs.contains(&Role::Aid),
                eligibility: rs.contains(&Role::Eligibility),
            };
            (name.as_str(), r)
        })
        .collect();
    let mut row_roles = Vec::with_capacity(n);
    for row in 0..n {
        let source = cols.source.value(row);
        match source_roles.get(source) {
            Some(r) => row_roles.push(*r),
            None => {
                return Err(FlagError::UnknownSource {
                    source_name: source.to_string(),
                    row: cols.source_row.value(row),
                    known: roles.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
        }
    }
    let rule_texts = FlagKind::ALL.map(|k| k.rule(rules));
    let (conflicts, in_conflict) = id_conflicts(&cols, person_ids);
    let ctx = Context {
        cols: &cols,
        roles: &row_roles,
        rules,
        rule_texts: &rule_texts,
        period,
        conflicts,
        in_conflict,
    };

    // Records by person, source and row. The sort compares packed keys
    // (person ID prefix, source rank) kept next to each row, not texts
    // behind pointers; source ranks follow the names' order.
    let mut source_names: Vec<&str> = source_roles.keys().copied().collect();
    source_names.sort_unstable();
    let rank = |row: usize| {
        let name = cols.source.value(row);
        source_names
            .binary_search(&name)
            .unwrap_or(source_names.len())
    };
    let mut sorted: Vec<(TextKey, usize, u64, usize)> = (0..n)
        .into_par_iter()
        .map(|r| {
            let key = TextKey::new(&person_ids[r]);
            (key, rank(r), cols.source_row.value(r), r)
        })
        .collect();
    sorted.par_sort_unstable_by(|a, b| {
        a.0.cmp_with(b.0, || &person_ids[a.3], || &person_ids[b.3])
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let same_person = |a: &(TextKey, usize, u64, usize), b: &(TextKey, usize, u64, usize)| {
        a.0 == b.0 && (a.0.exact() || person_ids[a.3] == person_ids[b.3])
    };
    let mut bounds = vec![0];
    bounds.extend((1..n).filter(|i| !same_person(&sorted[i - 1], &sorted[*i])));
    bounds.push(n);
    let order: Vec<usize> = sorted.into_iter().map(|t| t.3).collect();
    // Persons are independent of each other; rayon's ordered collect keeps
    // the output in person order whatever the thread count.
    let groups: Vec<&[usize]> = if n == 0 {
        Vec::new()
    } else {
        bounds.windows(2).map(|w| &order[w[0]..w[1]]).collect()
    };
    // Unzipped as they are made: one vector of person rows, never two.
    let (persons, flags): (Vec<PersonRow>, Vec<Vec<FlagRow>>) = groups
        .par_iter()
        .map(|group| ctx.person(person_ids[group[0]].as_str(), group))
        .unzip();
    drop(groups);
    let flags: Vec<FlagRow> = flags.into_iter().flatten().collect();
    let persons_table = persons_batch(&persons);
    drop(persons);
    Ok(FlagOutput {
        persons: persons_table,
        flags: flags_batch(&flags),
    })
}

/// A valid ID number shared by several persons, as one person sees it.
struct Conflict {
    masked_id: String,
    rows: Vec<usize>,
    others: Vec<String>,
}

/// Every person whose valid ID number other persons' records also carry.
/// Also says which rows carry such an ID, so most persons need no lookup.
fn id_conflicts(
    cols: &Columns,
    person_ids: &[String],
) -> (HashMap<String, Vec<Conflict>>, Vec<bool>) {
    // Rows with a valid ID, sorted by ID then row: one sort instead of a
    // hash map of millions of small vectors.
    let mut with_id: Vec<(&str, usize)> = (0..person_ids.len())
        .filter(|row| bool_at(cols.id_check_ok, *row) == Some(true))
        .filter_map(|row| str_at(cols.id_number, row).map(|id| (id, row)))
        .collect();
    with_id.par_sort_unstable();
    let shared: Vec<(&str, Vec<usize>)> = with_id
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|g| g.iter().any(|(_, r)| person_ids[*r] != person_ids[g[0].1]))
        .map(|g| (g[0].0, g.iter().map(|(_, r)| *r).collect()))
        .collect();
    let mut in_conflict = vec![false; person_ids.len()];
    for (_, rows) in &shared {
        rows.iter().for_each(|r| in_conflict[*r] = true);
    }
    let mut out: HashMap<String, Vec<Conflict>> = HashMap::new();
    for (id, rows) in shared {
        let persons: BTreeSet<&str> = rows.iter().map(|r| person_ids[*r].as_str()).collect();
        for p in &persons {
            out.entry(p.to_string()).or_default().push(Conflict {
                masked_id: mask_id_text(id),
                rows: rows.clone(),
                others: persons
                    .iter()
                    .filter(|q| *q != p)
                    .map(|q| q.to_string())
                    .collect(),
            });
        }
    }
    (out, in_conflict)
}

struct Context<'a> {
    cols: &'a Columns<'a>,
    roles: &'a [Roles],
    rules: &'a FlagRules,
    /// The rule text of each flag, in [`FlagKind::ALL`] order.
    rule_texts: &'a [String; 7],
    period: Period,
    conflicts: HashMap<String, Vec<Conflict>>,
    /// Rows whose valid ID other persons' records also carry.
    in_conflict: Vec<bool>,
}

/// The most frequent value; ties go to the smallest. A person has a few
/// records, so a sorted vector beats a map.
fn mode<T: Ord>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut values: Vec<T> = values.collect();
    if values.len() <= 1 {
        return values.pop();
    }
    values.sort_unstable();
    let mut best: Option<(usize, usize)> = None;
    let mut start = 0;
    for run in values.chunk_by(|a, b| a == b) {
        // Strictly more: among equally frequent values the first, smallest, stays.
        if best.is_none_or(|(count, _)| run.len() > count) {
            best = Some((run.len(), start));
        }
        start += run.len();
    }
    let (_, at) = best?;
    values.into_iter().nth(at)
}

/// Distinct values in order, as a `BTreeSet` would hold them (and as JSON
/// writes them), without a tree per person.
fn sorted_set<T: Ord>(mut values: Vec<T>) -> Vec<T> {
    values.sort_unstable();
    values.dedup();
    values
}

impl<'a> Context<'a> {
    fn reference(&self, row: usize) -> RecordRef {
        RecordRef {
            source: self.cols.source.value(row).to_string(),
            row: self.cols.source_row.value(row),
        }
    }

    /// Sorted, distinct `source:row` references of `rows`.
    fn evidence(&self, rows: impl IntoIterator<Item = usize>) -> Vec<String> {
        let refs: BTreeSet<RecordRef> = rows.into_iter().map(|r| self.reference(r)).collect();
        refs.into_iter().map(|r| r.to_string()).collect()
    }

    fn aid_types(&self, row: usize) -> Vec<&'a str> {
        str_at(self.cols.aid_type, row)
            .map(|t| {
                t.split(AID_TYPE_SEPARATORS)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn has_aid(&self, row: usize) -> bool {
        self.roles[row].aid
            && (str_at(self.cols.aid_type, row).is_some()
                || f64_at(self.cols.aid_amount, row).is_some_and(|a| a > 0.0))
    }

    /// The eligible subsidy type of an eligibility record with `status`.
    fn case_type(&self, row: usize, status: &str) -> Option<&'a str> {
        if !self.roles[row].eligibility || str_at(self.cols.subsidy_status, row) != Some(status) {
            return None;
        }
        str_at(self.cols.subsidy_type, row).filter(|t| self.rules.is_eligible_type(t))
    }

    fn is_disability(&self, row: usize) -> bool {
        self.rules.disability_eligible
            && self.roles[row].eligibility
            && (str_at(self.cols.certificate_no, row).is_some()
                || str_at(self.cols.disability_category, row).is_some())
    }

    /// Valid IDs (masked) that the person's records carry under two names,
    /// one record agreeing with the ID and another contradicting its birth
    /// date or gender, with the records carrying them.
    fn shared_within(&self, rows: &[usize]) -> Vec<(String, Vec<usize>)> {
        let c = self.cols;
        // Rows by ID, in the person's row order within an ID (a stable sort).
        let mut with_id: Vec<(&str, usize)> = rows
            .iter()
            .copied()
            .filter(|r| bool_at(c.id_check_ok, *r) == Some(true))
            .filter_map(|r| str_at(c.id_number, r).map(|id| (id, r)))
            .collect();
        if with_id.len() < 2 {
            // Two people under one ID take two records.
            return Vec::new();
        }
        with_id.sort_by(|a, b| a.0.cmp(b.0));
        let by_id = with_id
            .chunk_by(|a, b| a.0 == b.0)
            .map(|g| (g[0].0, g.iter().map(|(_, r)| *r).collect::<Vec<usize>>()));
        let contradicts = |r: usize| {
            bool_at(c.birth_matches_id, r) == Some(false)
                || bool_at(c.gender_matches_id, r) == Some(false)
        };
        by_id
            .into_iter()
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

    /// The summary row and the flags of one person, from their records.
    fn person(&self, person: &'a str, rows: &[usize]) -> (PersonRow<'a>, Vec<FlagRow<'a>>) {
        let c = self.cols;
        let period = self.period;
        let enrollment: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| self.roles[*r].enrollment)
            .collect();
        let aid: Vec<usize> = rows.iter().copied().filter(|r| self.has_aid(*r)).collect();
        let active: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| self.case_type(*r, "active").is_some())
            .collect();
        let disability: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|r| self.is_disability(*r))
            .collect();
        let schools: Vec<&str> = enrollment
            .iter()
            .filter_map(|r| str_at(c.school, *r))
            .collect();
        let schools = sorted_set(schools);
        let mut basis: Vec<&str> = active
            .iter()
            .filter_map(|r| self.case_type(*r, "active"))
            .collect();
        if !disability.is_empty() {
            basis.push("disability");
        }
        let basis = sorted_set(basis);
        let eligible = !basis.is_empty();
        let aid_types = sorted_set(aid.iter().flat_map(|r| self.aid_types(*r)).collect());
        // An empty float sum is -0.0; adding 0.0 gives the plain 0 analysts
        // expect (and keeps -0.0 out of the delta's JSON).
        let aid_total: f64 = rows
            .iter()
            .filter(|r| self.roles[**r].aid)
            .filter_map(|r| f64_at(c.aid_amount, *r))
            .sum::<f64>()
            + 0.0;

        // Identity: the ID most records carry (valid ones first), and the
        // birth date and gender it encodes, else the recorded ones.
        let valid_id = mode(
            rows.iter()
                .filter(|r| bool_at(c.id_check_ok, **r) == Some(true))
                .filter_map(|r| str_at(c.id_number, *r)),
        );
        let id_number =
            valid_id.or_else(|| mode(rows.iter().filter_map(|r| str_at(c.id_number, *r))));
        let id_rows: Vec<usize> = match valid_id {
            Some(id) => rows
                .iter()
                .copied()
                .filter(|r| str_at(c.id_number, *r) == Some(id))
                .collect(),
            None => Vec::new(),
        };
        let id_birth = mode(id_rows.iter().filter_map(|r| date_at(c.id_birth_date, *r)));
        let birth_from_id = id_birth.is_some();
        let birth =
            id_birth.or_else(|| mode(rows.iter().filter_map(|r| date_at(c.birth_date, *r))));
        let gender = mode(id_rows.iter().filter_map(|r| str_at(c.id_gender, *r)))
            .or_else(|| mode(rows.iter().filter_map(|r| str_at(c.gender, *r))));
        let age = birth.map(|b| b.age_on(period.first_day()));

        let mut flags = Vec::new();
        let mut raise = |kind: FlagKind, since: Period, evidence: Vec<String>, details: Value| {
            let texts: &'a [String; 7] = self.rule_texts;
            flags.push(FlagRow {
                person_id: person,
                flag: kind.name(),
                rule: texts[kind as usize].as_str(),
                since: since.to_string(),
                evidence,
                details: details.to_string(),
            });
        };

        if !enrollment.is_empty() && eligible && aid.is_empty() {
            let basis_rows = active.iter().chain(&disability).copied();
            raise(
                FlagKind::EligibleUnaided,
                period,
                self.evidence(enrollment.iter().copied().chain(basis_rows)),
                json!({ "basis": basis, "schools": schools }),
            );
        }

        let stacked: Vec<Vec<&str>> = self
            .rules
            .non_stacking_aid
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(String::as_str)
                    .filter(|t| aid_types.binary_search(t).is_ok())
                    .collect::<Vec<_>>()
            })
            .filter(|present: &Vec<&str>| present.len() >= 2)
            .collect();
        if aid.len() >= 2 || !stacked.is_empty() {
            raise(
                FlagKind::DuplicateAid,
                period,
                self.evidence(aid.iter().copied()),
                json!({ "aid_records": aid.len(), "aid_types": aid_types, "not_stacking": stacked }),
            );
        }

        if !aid.is_empty() && !eligible {
            let latest_allowed = period.plus_months(-(self.rules.exit_review_months as i32));
            let stopped: Vec<(usize, Period)> = rows
                .iter()
                .filter(|r| self.case_type(**r, "stopped").is_some())
                .filter_map(|r| {
                    let end = Period::parse(str_at(c.end_month, *r)?).ok()?;
                    (end <= latest_allowed).then_some((*r, end))
                })
                .collect();
            if let Some(since) = stopped.iter().map(|(_, end)| *end).max() {
                raise(
                    FlagKind::ExitReview,
                    since,
                    self.evidence(aid.iter().copied().chain(stopped.iter().map(|(r, _)| *r))),
                    // No "months since": it grows every month, and the
                    // delta would report an unchanged flag as changed.
                    json!({
                        "end_month": since.to_string(),
                        "aid_types": aid_types,
                        "aid_total": aid_total,
                    }),
                );
            }
        }

        let school_age = self.rules.school_age_min as i32..=self.rules.school_age_max as i32;
        if let (Some(a), Some(b)) = (age, birth)
            && school_age.contains(&a)
            && !active.is_empty()
            && enrollment.is_empty()
        {
            let case_types: BTreeSet<&str> = active
                .iter()
                .filter_map(|r| self.case_type(*r, "active"))
                .collect();
            raise(
                FlagKind::OutOfSchoolRisk,
                period,
                self.evidence(active.iter().copied()),
                json!({
                    "age": a,
                    "birth_date": b.to_string(),
                    "birth_date_from": if birth_from_id { "id_number" } else { "record" },
                    "subsidy_types": case_types,
                }),
            );
        }

        if schools.len() >= 2 {
            let at_school = enrollment
                .iter()
                .copied()
                .filter(|r| str_at(c.school, *r).is_some());
            raise(
                FlagKind::MultiEnrollment,
                period,
                self.evidence(at_school),
                json!({ "schools": schools }),
            );
        }

        // One ID used by two people shows either across persons (the
        // matcher kept them apart) or inside one person (the matcher linked
        // on the shared ID): records carrying the same valid ID under
        // different names, one of them contradicting the ID's birth date or
        // gender, are two people.
        let shared: Vec<(String, Vec<usize>)> = self.shared_within(rows);
        let across = if rows.iter().any(|r| self.in_conflict[*r]) {
            self.conflicts.get(person)
        } else {
            None
        };
        if across.is_some() || !shared.is_empty() {
            let across = across.map(Vec::as_slice).unwrap_or_default();
            let others: BTreeSet<&str> = across
                .iter()
                .flat_map(|k| k.others.iter().map(String::as_str))
                .collect();
            let ids: BTreeSet<&str> = across
                .iter()
                .map(|k| k.masked_id.as_str())
                .chain(shared.iter().map(|(id, _)| id.as_str()))
                .collect();
            let within: Vec<String> =
                self.evidence(shared.iter().flat_map(|(_, rows)| rows.iter().copied()));
            raise(
                FlagKind::IdConflict,
                period,
                self.evidence(
                    across
                        .iter()
                        .flat_map(|k| k.rows.iter().copied())
                        .chain(shared.iter().flat_map(|(_, rows)| rows.iter().copied())),
                ),
                json!({ "id_numbers": ids, "other_persons": others, "within_person": within }),
            );
        }

        let mut mismatches = Vec::new();
        let mut mismatch_rows = Vec::new();
        for r in rows
            .iter()
            .copied()
            .filter(|r| bool_at(c.id_check_ok, *r) == Some(true))
        {
            let record = || self.reference(r).to_string();
            if bool_at(c.birth_matches_id, r) == Some(false) {
                mismatch_rows.push(r);
                mismatches.push(json!({
                    "record": record(),
                    "field": "birth_date",
                    "recorded": date_at(c.birth_date, r).map(|d| d.to_string()),
                    "id_says": date_at(c.id_birth_date, r).map(|d| d.to_string()),
                }));
            }
            if bool_at(c.gender_matches_id, r) == Some(false) {
                mismatch_rows.push(r);
                mismatches.push(json!({
                    "record": record(),
                    "field": "gender",
                    "recorded": str_at(c.gender, r),
                    "id_says": str_at(c.id_gender, r),
                }));
            }
        }
        if !mismatches.is_empty() {
            raise(
                FlagKind::IdMismatch,
                period,
                self.evidence(mismatch_rows),
                json!({ "mismatches": mismatches }),
            );
        }
        flags.sort_by(|a, b| a.flag.cmp(b.flag));

        let sources = sorted_set(rows.iter().map(|r| c.source.value(*r)).collect());
        let summary = PersonRow {
            person_id: person,
            record_count: rows.len() as u64,
            sources,
            name: mode(rows.iter().filter_map(|r| str_at(c.name, *r))),
            id_number,
            id_valid: valid_id.is_some(),
            birth_date: birth.map(CivilDate::to_days),
            gender,
            age,
            county: mode(rows.iter().filter_map(|r| str_at(c.county, *r))),
            schools,
            enrolled: !enrollment.is_empty(),
            eligible,
            eligibility_basis: basis,
            aided: !aid.is_empty(),
            aid_types,
            aid_total,
            flags: flags.iter().map(|f| f.flag).collect(),
        };
        (summary, flags)
    }
}
