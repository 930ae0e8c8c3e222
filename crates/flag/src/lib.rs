//! Flags resolved persons by the aid rules, with evidence.
//!
//! [`evaluate`] takes a period's linked records (the record table plus one
//! person ID per record) and the roles of each source, and returns two
//! tables:
//!
//! * **persons** ([`persons_schema`]): one row per person, with the person's
//!   best identity values (name, ID number, birth date, gender, county), their
//!   schools, and whether they are enrolled, eligible and aided;
//! * **flags** ([`flags_schema`]): one row per person and raised flag
//!   ([`FlagKind`]), with the rule in words, the period since which it holds,
//!   the records that raised it (`source:row`) and the values that did (JSON).
//!
//! The rules and their parameters ([`FlagRules`], the config's `[flags]`
//! table) are documented in `docs/flags.md`; the synthetic generator computes
//! the same rules on its ground truth. [`carry_since`] keeps a flag's `since`
//! from the previous period's flags table; [`add_evidence_digest`] adds a
//! stand-in for the evidence that does not move when rows move in a file;
//! [`stabilize`] does both, for the table to publish. [`evaluate_array`],
//! [`stabilize_array`] and [`add_evidence_digest_array`] take the person IDs
//! and record keys as one Arrow string array each instead of a `String` per
//! record, and give the same tables.
//! The crate does no IO.

mod columns;
mod conflict;
mod details;
mod digest;
mod error;
mod evaluate;
mod kind;
mod person;
mod rules;
mod since;
mod tables;

pub use digest::{EVIDENCE_DIGEST, add_evidence_digest, add_evidence_digest_array};
pub use error::FlagError;
pub use evaluate::{FlagOutput, evaluate, evaluate_array};
pub use kind::FlagKind;
pub use rules::FlagRules;
pub use since::{carry_since, stabilize, stabilize_array};
pub use tables::{
    DETAILS, EVIDENCE, FLAG, NOT_COMPARED, PERSON_ID, RULE, SINCE, flags_schema, not_compared,
    persons_schema,
};
