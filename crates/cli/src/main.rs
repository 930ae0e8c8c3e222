//! The `aidlink` command line.

fn main() {}
