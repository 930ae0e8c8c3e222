//! Stable person IDs across periods: inherits, merges and splits persons.
//!
//! The matcher clusters a period's records afresh every run, and its cluster
//! indices mean nothing from one run to the next. This crate turns clusters
//! into persons whose numbers survive from month to month:
//!
//! * [`record_keys`] gives every record a key that names the same real-world
//!   row next month, without relying on the row's position in its file;
//! * [`Registry`] remembers which person each record key belonged to, and the
//!   next unused person number; it round-trips through a [`RecordBatch`]
//!   ([`Registry::to_batch`], [`Registry::from_batch`]) so the publish stage
//!   can keep it as Parquet;
//! * [`assign`] maps this period's clusters onto the previous period's persons
//!   by a deterministic rule (see `docs/deltas.md`) and records merges, splits,
//!   new and retired persons as events ([`events_schema`]).
//!
//! [`record_key_array`] and [`assign_array`] are the same with the keys and
//! the person IDs as one Arrow string array each, no `String` per record
//! (at a million students, 3.4M records). A first period (no previous keys)
//! takes a shorter road to the same result: one sort of the keys numbers
//! every cluster.
//!
//! The crate does no IO.
//!
//! [`RecordBatch`]: arrow_array::RecordBatch

mod assign;
mod first;
mod keys;
mod order;
mod place;
mod table;
mod text_array;

pub use assign::{
    AssignOptions, Assignment, EventKind, assign, assign_array, assign_array_with, assign_with,
};
pub use keys::{record_key_array, record_keys};
pub use table::{
    ABSENT_PERIODS, DETAIL, EVENT, NEXT_PERSON_NUMBER, NEXT_PERSON_NUMBER_METADATA,
    OTHER_PERSON_ID, PERSON_ID, PERSON_NUMBER, RECORD_KEY, Registry, RegistryError, events_schema,
    registry_schema,
};
