//! Output tiers for aidlink: what an analyst may see of a published table.
//!
//! aidlink publishes every period twice: a **restricted** tier with real
//! identifiers for caseworkers who must contact families, and an **analyst**
//! tier in which no raw ID number, name, phone, address or certificate number
//! survives. This crate turns a restricted table into its analyst form:
//!
//! * [`PseudonymKey`] and [`pseudonym`]: keyed pseudonyms (HMAC-SHA256 with a
//!   secret key) that are stable across months, so analysts can still join
//!   periods, and that nobody without the key can reverse or recompute;
//! * [`policy`]: the one declaration of what each table's columns become in
//!   the analyst tier (keep, pseudonymize, mask, coarsen or drop); a column
//!   the policy does not name is dropped, so a new column is safe by default;
//! * [`analyst_view`]: applies the policy to a `RecordBatch`, then scans what
//!   it kept for anything that still looks like a resident ID number;
//! * [`suppress_small_cells`] and [`analyst_aggregates`]: count tables for
//!   analysts (flags by school, by county, by kind) with small cells hidden.
//!
//! [`load_key`] is the one function here that touches the outside world (it
//! reads the key file or environment variable the config names); everything
//! else is pure computation on Arrow arrays. See `docs/privacy.md`.

mod aggregate;
mod coarsen;
mod error;
mod json;
mod json_pass;
mod key;
pub mod policy;
mod settings;
mod view;

pub use aggregate::{
    AGG_FLAGS_BY_COUNTY, AGG_FLAGS_BY_KIND, AGG_FLAGS_BY_SCHOOL, AGGREGATE_DIMENSIONS,
    AGGREGATE_PERSON_COLUMN, PERSONS, SUPPRESSED, analyst_aggregates, flag_counts_by,
    suppress_small_cells,
};
pub use coarsen::{address_county, year_month};
pub use error::PrivacyError;
pub use key::{MIN_KEY_BYTES, PseudonymKey, PseudonymKind, load_key, pseudonym};
pub use settings::{DEFAULT_MIN_CELL_COUNT, PrivacySettings};
pub use view::{analyst_view, find_resident_id};
