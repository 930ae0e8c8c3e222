//! Changes between two periods' published tables, as a change feed.
