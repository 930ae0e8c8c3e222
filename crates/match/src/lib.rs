//! The match stage: block, compare, score and cluster normalized records into persons.
