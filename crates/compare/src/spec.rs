//! Which comparisons a run makes, and the rules that keep them from
//! counting the same evidence twice.
//!
//! The standard comparisons are `id`, `name`, `birth`, `gender`,
//! `household` and `student_no`; each extra field of the config adds one
//! comparison chosen by its [`FieldKind`]. Two dependencies are handled
//! here rather than left to the model, because Fellegi-Sunter assumes
//! comparisons independent and these are not:
//!
//! * the ID embeds birth date and gender. The `id` comparison gives no
//!   partial credit for a shared area or birth part (two children born the
//!   same day in the same district have IDs four characters apart, which is
//!   simply `different`). When the IDs agree, or are one typing error apart,
//!   `birth` and `gender` compare only values recorded on both sides: a value
//!   read from the ID itself would repeat what the ID level already counted;
//! * a household shares guardian, head, case number, phone and address.
//!   They form one `household` comparison (the strongest shared fact wins),
//!   and it counts only when the names are not `different`: agreement is
//!   strong evidence between strangers, but siblings and twins share all of it.

use crate::levels;
use aidlink_vocab::FieldKind;

/// What a comparison compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// The resident ID (own ID, or one read from the student or certificate number).
    Id,
    /// The person's name.
    Name,
    /// Birth date (recorded, else the ID's).
    Birth,
    /// Gender (recorded, else the ID's).
    Gender,
    /// Guardian, head of household, household number, phone, address.
    Household,
    /// Student number, when it is not an ID in disguise (`G` + ID).
    StudentNo,
    /// An extra field of the config, compared by its kind.
    Field {
        /// Column name.
        column: String,
        /// Its kind.
        kind: FieldKind,
    },
}

/// One comparison of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// Name (column names in the links table start with it).
    pub name: String,
    /// What it compares.
    pub spec: Spec,
    /// Level names, by code; code 0 is `missing`.
    pub levels: Vec<String>,
    /// Whether the exact level is adjusted by the value's term frequency.
    pub tf: bool,
}

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

impl Comparison {
    fn new(name: &str, spec: Spec, levels: &[&str], tf: bool) -> Self {
        Comparison {
            name: name.to_string(),
            spec,
            levels: names(levels),
            tf,
        }
    }

    /// The comparison an extra field of `kind` gets, or `None` for kinds
    /// that identify nobody (amounts, months).
    pub fn for_field(column: &str, kind: FieldKind) -> Option<Self> {
        let spec = Spec::Field {
            column: column.to_string(),
            kind,
        };
        let levels = match kind {
            FieldKind::ResidentId => levels::id::NAMES,
            FieldKind::ChineseName => levels::name::NAMES,
            FieldKind::Date => levels::date::NAMES,
            FieldKind::Gender | FieldKind::ExactCode => levels::binary::NAMES,
            FieldKind::Phone => levels::phone::NAMES,
            FieldKind::FreeText => levels::text::NAMES,
            FieldKind::Month | FieldKind::Amount => return None,
        };
        Some(Comparison::new(
            column,
            spec,
            levels,
            kind == FieldKind::ChineseName,
        ))
    }

    /// The standard comparisons, then one per extra field.
    pub fn standard(extra: &[(String, FieldKind)]) -> Vec<Comparison> {
        let mut out = vec![
            Comparison::new("id", Spec::Id, levels::id::NAMES, false),
            Comparison::new("name", Spec::Name, levels::name::NAMES, true),
            Comparison::new("birth", Spec::Birth, levels::date::NAMES, false),
            Comparison::new("gender", Spec::Gender, levels::binary::NAMES, false),
            Comparison::new(
                "household",
                Spec::Household,
                levels::household::NAMES,
                false,
            ),
            Comparison::new("student_no", Spec::StudentNo, levels::binary::NAMES, false),
        ];
        out.extend(
            extra
                .iter()
                .filter_map(|(c, k)| Comparison::for_field(c, *k)),
        );
        out
    }
}
