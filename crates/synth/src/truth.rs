//! The true flags of every person, per month, from the ground truth.
//!
//! The five policy flags follow the real facts (who is enrolled where, who
//! is in which case, who holds a certificate, which rows record aid); the
//! two data-conflict flags follow what the rows say, because a conflict is
//! a fact about the data. Broken copies of rows never count. The exact
//! definitions are in `docs/synth.md`; the flag engineer implements the
//! same rules on linked data, so the two can be compared.

use crate::household::{Frame, Household, Standing};
use crate::layout::{FlagRules, src};
use crate::render::Fact;
use aidlink_vocab::{Gender, ResidentId};
use std::collections::{BTreeMap, BTreeSet};

/// A flag kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    /// Enrolled and eligible, yet no enrollment row records aid.
    EligibleUnaided,
    /// Aid recorded in two or more enrollment rows of the period.
    DuplicateAid,
    /// Aid recorded, not eligible, and a case stopped long enough ago.
    ExitReview,
    /// School-age member of an active eligible case, in no roster.
    OutOfSchoolRisk,
    /// Enrollment rows at two or more distinct schools.
    MultiEnrollment,
    /// An ID typed in rows of two or more different people.
    IdConflict,
    /// A row's birth date or gender contradicts the valid ID typed in it.
    IdMismatch,
}

impl Flag {
    /// Every flag, in output order.
    pub const ALL: [Flag; 7] = [
        Flag::EligibleUnaided,
        Flag::DuplicateAid,
        Flag::ExitReview,
        Flag::OutOfSchoolRisk,
        Flag::MultiEnrollment,
        Flag::IdConflict,
        Flag::IdMismatch,
    ];

    /// The name used in truth files and `flags.parquet`.
    pub fn name(self) -> &'static str {
        match self {
            Flag::EligibleUnaided => "eligible_unaided",
            Flag::DuplicateAid => "duplicate_aid",
            Flag::ExitReview => "exit_review",
            Flag::OutOfSchoolRisk => "out_of_school_risk",
            Flag::MultiEnrollment => "multi_enrollment",
            Flag::IdConflict => "id_conflict",
            Flag::IdMismatch => "id_mismatch",
        }
    }
}

/// The ID a typed text stands for, when it parses and its check character holds.
pub fn valid_id(typed: &str) -> Option<ResidentId> {
    ResidentId::parse(typed)
        .ok()
        .filter(|p| p.check_ok)
        .map(|p| p.id)
}

/// The flags of every person of `hh` in month `m`, as (household person
/// index, flag), sorted.
pub fn flags(
    frame: &Frame,
    hh: &Household,
    m: i32,
    facts: &[Fact],
    rules: &FlagRules,
) -> BTreeSet<(usize, Flag)> {
    let mut out = BTreeSet::new();
    let first_day = frame.period(m).first_day();
    let counts_type = |code: &str| rules.eligible_subsidy_types.iter().any(|t| t == code);
    let active_case = hh
        .cases
        .iter()
        .any(|c| counts_type(c.kind.code()) && c.standing(m) == Standing::Active);
    let stopped_long_ago = hh.cases.iter().any(|c| {
        counts_type(c.kind.code())
            && matches!(c.standing(m), Standing::Stopped(end) if end <= m - rules.exit_review_months)
    });
    let live: Vec<&Fact> = facts.iter().filter(|f| !f.broken).collect();
    for (who, p) in hh.persons.iter().enumerate() {
        let rows: Vec<&&Fact> = live
            .iter()
            .filter(|f| f.who == who && f.source == src::ENROLLMENT)
            .collect();
        let enrolled = !rows.is_empty();
        let aid_rows = rows.iter().filter(|f| f.aid).count();
        let schools: BTreeSet<_> = rows.iter().filter_map(|f| f.school).collect();
        let certified = p.cert.is_some_and(|c| c.from <= m) && p.id.is_some();
        let eligible = active_case || certified;
        if enrolled && eligible && aid_rows == 0 {
            out.insert((who, Flag::EligibleUnaided));
        }
        if aid_rows >= 2 {
            out.insert((who, Flag::DuplicateAid));
        }
        if aid_rows >= 1 && !eligible && stopped_long_ago {
            out.insert((who, Flag::ExitReview));
        }
        let age = p.birth.age_on(first_day);
        if (rules.school_age_min..=rules.school_age_max).contains(&age) && active_case && !enrolled
        {
            out.insert((who, Flag::OutOfSchoolRisk));
        }
        if schools.len() >= 2 {
            out.insert((who, Flag::MultiEnrollment));
        }
    }
    // Data conflicts, from what the rows say.
    let mut owners: BTreeMap<ResidentId, BTreeSet<usize>> = BTreeMap::new();
    for f in &live {
        let Some(id) = valid_id(&f.typed_id) else {
            continue;
        };
        owners.entry(id).or_default().insert(f.who);
        let birth_wrong = f.said_birth.is_some_and(|b| id.birth_date() != Some(b));
        let gender_wrong = f
            .said_male
            .is_some_and(|male| (id.gender() == Gender::Male) != male);
        if birth_wrong || gender_wrong {
            out.insert((f.who, Flag::IdMismatch));
        }
    }
    for people in owners.values().filter(|s| s.len() >= 2) {
        for who in people {
            out.insert((*who, Flag::IdConflict));
        }
    }
    out
}

/// Comparison levels of a true-match pair, counted for `params.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairLevels {
    /// Pairs of rows of the same person in the same month.
    pub pairs: u64,
    /// ID: equal after normalization, one edit apart, otherwise different,
    /// missing on either side (empty or unreadable).
    pub id: [u64; 4],
    /// Name: identical text, different text.
    pub name: [u64; 2],
    /// Birth date: same date, different date, absent on either side.
    pub birth: [u64; 3],
}

impl PairLevels {
    /// Adds another count.
    pub fn add(&mut self, o: &PairLevels) {
        self.pairs += o.pairs;
        for i in 0..4 {
            self.id[i] += o.id[i];
        }
        for i in 0..2 {
            self.name[i] += o.name[i];
        }
        for i in 0..3 {
            self.birth[i] += o.birth[i];
        }
    }
}

fn one_edit(a: &[u8; 18], b: &[u8; 18]) -> bool {
    let diff: Vec<usize> = (0..18).filter(|&i| a[i] != b[i]).collect();
    match diff.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && a[*i] == b[*j] && a[*j] == b[*i],
        _ => false,
    }
}

/// Counts the comparison levels of every pair of live rows of the same person.
pub fn pair_levels(facts: &[Fact]) -> PairLevels {
    let mut levels = PairLevels::default();
    let live: Vec<&Fact> = facts.iter().filter(|f| !f.broken).collect();
    let parsed: Vec<Option<ResidentId>> = live
        .iter()
        .map(|f| ResidentId::parse(&f.typed_id).ok().map(|p| p.id))
        .collect();
    for i in 0..live.len() {
        for j in i + 1..live.len() {
            if live[i].who != live[j].who {
                continue;
            }
            levels.pairs += 1;
            let id = match (parsed[i], parsed[j]) {
                (Some(a), Some(b)) if a == b => 0,
                (Some(a), Some(b)) if one_edit(a.as_bytes(), b.as_bytes()) => 1,
                (Some(_), Some(_)) => 2,
                _ => 3,
            };
            levels.id[id] += 1;
            levels.name[usize::from(live[i].typed_name != live[j].typed_name)] += 1;
            let birth = match (live[i].said_birth, live[j].said_birth) {
                (Some(a), Some(b)) if a == b => 0,
                (Some(_), Some(_)) => 1,
                _ => 2,
            };
            levels.birth[birth] += 1;
        }
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_means_one_substitution_or_adjacent_swap() {
        let a = *b"440103197803051234";
        let mut b = a;
        b[3] = b'9';
        assert!(one_edit(&a, &b));
        let mut c = a;
        c.swap(14, 15);
        assert!(one_edit(&a, &c));
        let mut d = a;
        d[2] = b'9';
        d[9] = b'0';
        assert!(!one_edit(&a, &d));
    }
}
