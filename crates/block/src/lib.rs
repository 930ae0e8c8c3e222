//! Generates candidate record pairs by blocking rules.
