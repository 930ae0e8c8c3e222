//! A source's value mapping: its own codes to ours, applied before any rule.
//!
//! `[sources.NAME.values.FIELD]` maps a department's values (`"1" = "M"`,
//! `"城市低保" = "dibao"`) to canonical ones. A cell matches a key exactly
//! after trimming both. A cell that matches no key is kept as it is (the
//! caller notes it as `unmapped`, or tries a built-in reading first).

use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// The result of looking a cell up in a field's value mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The field has no mapping: the trimmed cell text.
    NoMapping(&'a str),
    /// The cell matched a key: the canonical value.
    Mapped(&'a str),
    /// The field has a mapping but the cell matched no key: the trimmed cell text.
    Unmapped(&'a str),
}

impl<'a> Lookup<'a> {
    /// The text the field's rule goes on with.
    pub fn text(self) -> &'a str {
        match self {
            Lookup::NoMapping(t) | Lookup::Mapped(t) | Lookup::Unmapped(t) => t,
        }
    }
}

/// One field's value mapping, keyed by trimmed source value.
#[derive(Clone, Debug, Default)]
pub struct ValueMap {
    map: FxHashMap<String, String>,
}

impl ValueMap {
    /// Builds the mapping from the config's table.
    pub fn new(table: &BTreeMap<String, String>) -> Self {
        ValueMap {
            map: table
                .iter()
                .map(|(k, v)| (k.trim().to_string(), v.clone()))
                .collect(),
        }
    }

    /// Looks a cell up.
    pub fn lookup<'a>(&'a self, text: &'a str) -> Lookup<'a> {
        let t = text.trim();
        match self.map.get(t) {
            Some(v) => Lookup::Mapped(v),
            None => Lookup::Unmapped(t),
        }
    }
}

/// Looks a cell up in an optional mapping.
pub fn lookup<'a>(map: Option<&'a ValueMap>, text: &'a str) -> Lookup<'a> {
    match map {
        Some(m) => m.lookup(text),
        None => Lookup::NoMapping(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_exact_trimmed_values() {
        let table = BTreeMap::from([
            ("1".to_string(), "M".to_string()),
            (" 2 ".to_string(), "F".to_string()),
        ]);
        let m = ValueMap::new(&table);
        assert_eq!(m.lookup(" 1"), Lookup::Mapped("M"));
        assert_eq!(m.lookup("2"), Lookup::Mapped("F"));
        assert_eq!(m.lookup("男 "), Lookup::Unmapped("男"));
        assert_eq!(lookup(None, " x "), Lookup::NoMapping(" x "));
    }
}
