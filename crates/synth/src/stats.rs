//! Counts of what the generator did, for `truth/params.json`.
//!
//! Besides the rates asked for, a test of the matcher wants the rates that
//! actually happened and the true comparison levels of true-match pairs
//! (how often two rows of the same person agree exactly on the ID, are one
//! edit apart, or miss it): the m probabilities EM should recover.

use crate::household::{self, CaseKind, Household, Standing};
use crate::layout::SOURCES;
use crate::mess::{IdContent, NameMess};
use crate::render::Rendered;
use crate::truth::{Flag, PairLevels};
use crate::{SynthOptions, SynthSummary};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Everything counted, summed over households.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Households generated.
    pub households: u64,
    /// People generated.
    pub persons: u64,
    /// People with at least one row in some month.
    pub persons_with_rows: u64,
    /// Children without an ID.
    pub children_without_id: u64,
    /// Households with an active 低保, 特困 case, a stopped case, a temporary
    /// relief grant listed in the first month.
    pub cases_first_month: [u64; 4],
    /// People holding a certificate in the first month.
    pub certificates_first_month: u64,
    /// Rows per source (all months), broken copies included.
    pub rows: [u64; 4],
    /// Broken copies per source.
    pub broken: [u64; 4],
    /// ID content kinds per source (own `id_number` column, live rows).
    pub id_content: [[u64; 8]; 4],
    /// ID formatting noise per source: spaces, full-width, lowercase x.
    pub id_format: [[u64; 3]; 4],
    /// Name kinds per source.
    pub name: [[u64; 5]; 4],
    /// Birth dates per source: usual style, other style, wrong value, blank.
    pub birth: [[u64; 4]; 4],
    /// Gender variants per source.
    pub gender_variant: [u64; 4],
    /// Flags per kind, summed over months.
    pub flags: [u64; 7],
    /// True-match pair levels.
    pub pairs: PairLevels,
}

impl Stats {
    /// Counts one household.
    pub fn add_household(&mut self, hh: &Household, r: &Rendered) {
        self.households += 1;
        self.persons += hh.persons.len() as u64;
        self.children_without_id += hh.persons.iter().filter(|p| p.id.is_none()).count() as u64;
        let mut has_rows = BTreeSet::new();
        for facts in &r.facts {
            for f in facts {
                has_rows.insert(f.who);
                let s = f.source;
                self.rows[s] += 1;
                if f.broken {
                    self.broken[s] += 1;
                    continue;
                }
                let k = IdContent::ALL
                    .iter()
                    .position(|c| *c == f.id_content)
                    .unwrap_or(0);
                self.id_content[s][k] += 1;
                self.id_format[s][0] += u64::from(f.id_format.spaces);
                self.id_format[s][1] += u64::from(f.id_format.full_width);
                self.id_format[s][2] += u64::from(f.id_format.lowercase_x);
                let n = NameMess::ALL
                    .iter()
                    .position(|c| *c == f.name_mess)
                    .unwrap_or(0);
                self.name[s][n] += 1;
                if let Some(d) = f.date_mess {
                    self.birth[s][0] += u64::from(!d.blank && !d.other_style);
                    self.birth[s][1] += u64::from(d.other_style);
                    self.birth[s][2] += u64::from(d.wrong);
                    self.birth[s][3] += u64::from(d.blank);
                }
                self.gender_variant[s] += u64::from(f.gender_variant);
            }
        }
        self.persons_with_rows += has_rows.len() as u64;
        for c in &hh.cases {
            let i = match (c.kind, c.standing(0)) {
                (_, Standing::Unlisted) => continue,
                (CaseKind::Linshi, _) => 3,
                (_, Standing::Stopped(_)) => 2,
                (CaseKind::Dibao, _) => 0,
                (CaseKind::Tekun, _) => 1,
            };
            self.cases_first_month[i] += 1;
        }
        self.certificates_first_month += hh
            .persons
            .iter()
            .filter(|p| p.id.is_some() && p.cert.is_some_and(|c| c.from <= 0))
            .count() as u64;
    }

    /// Counts one household-month's flags.
    pub fn add_flags(&mut self, flags: &BTreeSet<(usize, Flag)>) {
        for (_, f) in flags {
            self.flags[Flag::ALL.iter().position(|k| k == f).unwrap_or(0)] += 1;
        }
    }

    /// Adds another chunk's counts.
    pub fn add(&mut self, o: &Stats) {
        self.households += o.households;
        self.persons += o.persons;
        self.persons_with_rows += o.persons_with_rows;
        self.children_without_id += o.children_without_id;
        self.certificates_first_month += o.certificates_first_month;
        for i in 0..4 {
            self.cases_first_month[i] += o.cases_first_month[i];
            self.rows[i] += o.rows[i];
            self.broken[i] += o.broken[i];
            self.gender_variant[i] += o.gender_variant[i];
            for k in 0..8 {
                self.id_content[i][k] += o.id_content[i][k];
            }
            for k in 0..3 {
                self.id_format[i][k] += o.id_format[i][k];
            }
            for k in 0..4 {
                self.birth[i][k] += o.birth[i][k];
            }
            for k in 0..5 {
                self.name[i][k] += o.name[i][k];
            }
        }
        for k in 0..7 {
            self.flags[k] += o.flags[k];
        }
        self.pairs.add(&o.pairs);
    }
}

fn share(n: u64, of: u64) -> Value {
    if of == 0 {
        json!(0.0)
    } else {
        json!(n as f64 / of as f64)
    }
}

fn shares(names: &[&str], counts: &[u64], of: u64) -> Value {
    let mut m = Map::new();
    for (n, c) in names.iter().zip(counts) {
        m.insert(n.to_string(), json!({ "count": c, "share": share(*c, of) }));
    }
    Value::Object(m)
}

/// The `truth/params.json` text.
pub fn params_json(opts: &SynthOptions, s: &Stats, summary: &SynthSummary) -> String {
    let mut sources = Map::new();
    for (i, name) in SOURCES.iter().enumerate() {
        let live = s.rows[i] - s.broken[i];
        let id_names: Vec<&str> = IdContent::ALL.iter().map(|k| k.name()).collect();
        let name_names: Vec<&str> = NameMess::ALL.iter().map(|k| k.name()).collect();
        let dated: u64 = s.birth[i][0] + s.birth[i][1] + s.birth[i][3];
        sources.insert(
            name.to_string(),
            json!({
                "rows": s.rows[i],
                "broken_rows": s.broken[i],
                "id_number": shares(&id_names, &s.id_content[i], live),
                "id_format": shares(&["spaces", "full_width", "lowercase_x"], &s.id_format[i], live),
                "name": shares(&name_names, &s.name[i], live),
                "birth_date": shares(&["usual_style", "other_style", "wrong_value", "blank"], &s.birth[i], dated),
                "gender_variant": { "count": s.gender_variant[i], "share": share(s.gender_variant[i], live) },
            }),
        );
    }
    let p = &s.pairs;
    let mut flags = Map::new();
    for (k, f) in Flag::ALL.iter().enumerate() {
        flags.insert(f.name().to_string(), json!(s.flags[k]));
    }
    let doc = json!({
        "about": "Rates used and what actually happened; definitions in docs/synth.md",
        "options": {
            "students": opts.students,
            "seed": opts.seed,
            "months": opts.months,
            "start": opts.start.to_string(),
            "periods": summary.periods.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
        },
        "rates": opts.rates,
        "city": city_shape(),
        "counts": {
            "households": s.households,
            "persons": s.persons,
            "persons_with_rows": s.persons_with_rows,
            "students_first_period": opts.students,
            "children_without_id": s.children_without_id,
            "first_period_cases": {
                "dibao_active": s.cases_first_month[0],
                "tekun_active": s.cases_first_month[1],
                "stopped_listed": s.cases_first_month[2],
                "linshi_listed": s.cases_first_month[3],
            },
            "first_period_certificates": s.certificates_first_month,
        },
        "rows_by_source": Value::Object(sources),
        "true_match_pairs": {
            "about": "every pair of live rows of the same true person in the same period, all sources",
            "pairs": p.pairs,
            "id_number": shares(&["exact", "one_edit", "different", "missing"], &p.id, p.pairs),
            "name": shares(&["same_text", "different_text"], &p.name, p.pairs),
            "birth_date": shares(&["same", "different", "absent"], &p.birth, p.pairs),
        },
        "flags_summed_over_periods": Value::Object(flags),
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn city_shape() -> Value {
    use household::shape::*;
    json!({
        "migrant_households": MIGRANT,
        "children_without_id": CHILD_WITHOUT_ID,
        "dibao_active": DIBAO_ACTIVE,
        "dibao_stopped_last_12_months": DIBAO_STOPPED,
        "tekun_households_without_parents": TEKUN_NO_PARENTS,
        "tekun_other_households": TEKUN_OTHER,
        "linshi_monthly": LINSHI_MONTHLY,
        "dibao_stop_monthly": DIBAO_STOP_MONTHLY,
        "dibao_start_monthly": DIBAO_START_MONTHLY,
        "stopped_listed_months": STOPPED_LISTED_MONTHS,
        "linshi_listed_months": LINSHI_LISTED_MONTHS,
        "child_disability": CHILD_DISABILITY,
        "adult_disability": ADULT_DISABILITY,
        "new_certificate_monthly": NEW_CERT_MONTHLY,
        "never_aided": NEVER_AIDED,
        "other_aid": OTHER_AID,
        "late_aid_stop": LATE_STOP,
        "transfer_monthly": TRANSFER_MONTHLY,
        "transfer_lingers": TRANSFER_LINGERS,
        "duplicate_monthly": DUPLICATE_MONTHLY,
        "double_paid": DOUBLE_PAID,
        "aid_relisted_monthly": AID_RELISTED,
        "leave_monthly": LEAVE_MONTHLY,
        "join_monthly": JOIN_MONTHLY,
        "out_of_school": OUT_OF_SCHOOL,
        "out_of_school_poor": OUT_OF_SCHOOL_POOR,
        "uyghur_families": UYGHUR,
    })
}
