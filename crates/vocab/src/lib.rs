//! The shared vocabulary of aidlink: what every stage of the flow agrees on.
//!
//! * [`ResidentId`]: the GB 11643-1999 resident ID number, parsed from messy
//!   text, with its check character, embedded birth date, gender and area;
//! * [`Field`] and [`FieldKind`]: the canonical fields sources are mapped onto;
//! * [`schema`]: the Arrow schemas of the raw, record and rejects tables;
//! * [`Role`]: what a source tells us (enrollment, aid, eligibility, household);
//! * [`Period`]: a reporting month; [`CivilDate`]: a calendar date;
//! * [`RecordRef`] and [`person_id`]: how records and persons are named;
//! * [`TextKey`]: a packed text prefix for fast, exact sorting by text.
//!
//! This crate depends on no other aidlink crate and does no IO.

mod civil_date;
mod field;
mod period;
mod record_texts;
mod resident_id;
mod role;
pub mod schema;
mod text_key;

pub use civil_date::{CivilDate, days_in_month, is_leap_year};
pub use field::{Field, FieldKind};
pub use period::{Period, PeriodError};
pub use record_texts::RecordTexts;
pub use resident_id::{Gender, IdError, ParsedId, ResidentId, check_char, mask_id_text};
pub use role::Role;
pub use text_key::{TextKey, sort_by_text};

/// A reference to one input row: the source's config name and its 1-based row.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct RecordRef {
    /// The config's name for the source.
    pub source: String,
    /// 1-based data row number, header excluded.
    pub row: u64,
}

impl std::fmt::Display for RecordRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.source, self.row)
    }
}

/// The published form of a person number: `P` and eight digits, `P00000042`.
pub fn person_id(n: u64) -> String {
    format!("P{n:08}")
}
