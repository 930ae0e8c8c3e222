//! Changes between two periods' published tables, as a change feed.
//!
//! The delta table ([`delta_schema`]) follows Delta Lake's change data feed:
//! one row per change, with a `change_type` of `insert`, `update_preimage`,
//! `update_postimage` or `delete`, for three entities:
//!
//! * `person`: rows of the persons table, keyed by `person_id`;
//! * `flag`: rows of the flags table, keyed by `person_id` and `flag`;
//! * `link`: which person each record belongs to, keyed by a digest of the
//!   registry's record key (see [`link_table`]).
//!
//! [`diff`] compares two versions of one table, [`link_delta`] gives the
//! link entity's rows straight from two registries, [`with_events`] writes the
//! registry's merges, splits, new and retired persons onto the person rows,
//! [`combine`] puts the entities into one table, [`first_period_delta`]
//! builds a first period's whole delta in one go, and [`summarize`] counts a
//! delta for people. The schema and the rules are documented in
//! `docs/deltas.md`. The crate does no IO.

mod column;
mod diff;
mod error;
mod events;
mod first;
mod link;
mod link_delta;
mod summary;
mod table;
mod text;
mod value;

pub use diff::{DiffOptions, EVIDENCE, EVIDENCE_DIGEST, diff, diff_with};
pub use error::DeltaError;
pub use events::with_events;
pub use first::first_period_delta;
pub use link::{RECORD, SOURCE, link_schema, link_table, record_digest};
pub use link_delta::link_delta;
pub use summary::{ChangeCounts, DeltaSummary, FlagCounts, summarize};
pub use table::{
    CHANGE_TYPE, CHANGED_COLUMNS, ChangeType, ENTITY, EVENT, EVENT_DETAIL, FLAG, FROM_PERIOD, KEY,
    OTHER_PERSON_ID, PERSON_ID, TO_PERIOD, VALUES, combine, combine_owned, delta_schema,
};
