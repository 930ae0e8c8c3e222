//! Compares candidate pairs field by field into levels.
