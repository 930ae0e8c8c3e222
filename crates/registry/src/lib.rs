//! Stable person IDs across periods: inherits, merges and splits persons.
