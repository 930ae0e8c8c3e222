//! Generates candidate record pairs by blocking rules.
//!
//! Comparing every record with every other is quadratic: a city's 3 million
//! records make 5 * 10^12 pairs. Blocking proposes only the pairs that agree
//! on some cheap key: the same ID, IDs one typing error apart, the same birth
//! date and name pinyin, the same birth date and given name (a mistyped
//! surname), the same guardian and surname, the same household (directly or
//! through the head's or guardian's own row) and name. Keys are hashed to `u64`
//! once, blocks are found by sorting, pairs are generated in parallel and
//! deduplicated across rules, and giant blocks are capped.
//!
//! ```
//! use aidlink_block::{BlockingRule, KeyColumns, candidates};
//! use aidlink_vocab::schema::record_schema;
//! let batch = arrow_array::RecordBatch::new_empty(record_schema(&[]));
//! let rules = BlockingRule::defaults();
//! let cols = KeyColumns::new(&batch, &rules).unwrap();
//! assert!(candidates(&cols, batch.num_rows(), &rules, 1000).pairs.is_empty());
//! ```
//!
//! [`incremental`] blocks again after some records changed, pairing only
//! the blocks a change touched.
//!
//! The crate also holds the typed column access ([`columns`]) and the
//! resident ID integer codes ([`id_code`]) that the compare stage reuses.
//! It does no IO.

pub mod columns;
pub mod household;
pub mod id_code;
pub mod incremental;
mod pairs;
mod rules;

pub use columns::ColumnError;
pub use pairs::{Candidates, RuleStats, candidates, candidates_with_ids, pack};
pub use rules::{BlockingRule, KeyColumns, KeyPart, hash_str, id_codes};
