//! The period manifest: which inputs produced which outputs.
//!
//! `manifest.json` is deterministic: struct fields are declared in
//! alphabetical order (so keys come out sorted whatever serde_json's map
//! type), lists are sorted, and nothing depends on the clock or the host.
//! The same inputs therefore give a byte-identical manifest.

use serde::{Deserialize, Serialize};

/// Version of the manifest layout, raised when a field changes meaning.
pub const MANIFEST_FORMAT: u32 = 1;

/// One input file of a period, as the run read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputEntry {
    /// Size in bytes.
    pub bytes: u64,
    /// The path the file was read from.
    pub path: String,
    /// Rows accepted into the record table.
    pub rows_accepted: u64,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows rejected (see `rejects.parquet`).
    pub rows_rejected: u64,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The config's name for the source.
    pub source: String,
}

/// Which tier a published file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Real identifiers; owner-only.
    Restricted,
    /// Pseudonymized; group-readable.
    Analyst,
    /// An earlier manifest of the period, kept when a rerun replaced it.
    History,
}

/// One published file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputEntry {
    /// Size in bytes.
    pub bytes: u64,
    /// Path relative to the period folder (`restricted/records.parquet`).
    pub path: String,
    /// Rows, for a table.
    pub rows: Option<u64>,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The table or file name (`records`, `model.json`).
    pub table: String,
    /// The tier.
    pub tier: Tier,
}

/// A name in the period folder that points at a restricted file, kept so
/// the paths of the first release (`periods/P/records.parquet`) still work.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    /// Path relative to the period folder.
    pub path: String,
    /// What it points at, relative to the period folder.
    pub target: String,
}

/// What the manifest says about the analyst tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalystTierEntry {
    /// Public fingerprint of the pseudonym key; equal fingerprints mean
    /// pseudonyms that can be joined across periods.
    pub key_id: Option<String>,
    /// Aggregate cells below this count are suppressed.
    pub min_cell_count: u64,
    /// Why the tier was not written, when it was not.
    pub skipped_because: Option<String>,
    /// Whether `analyst/` was written.
    pub written: bool,
}

/// The manifest of one published period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Root-level names pointing at restricted files.
    pub aliases: Vec<Alias>,
    /// The analyst tier's state.
    pub analyst_tier: AnalystTierEntry,
    /// Lower-case hex SHA-256 of the config file's bytes.
    pub config_sha256: String,
    /// [`MANIFEST_FORMAT`].
    pub format: u32,
    /// Every input, sorted by source.
    pub inputs: Vec<InputEntry>,
    /// Every published file, sorted by path.
    pub outputs: Vec<OutputEntry>,
    /// The period, `YYYY-MM`.
    pub period: String,
    /// SHA-256 of the manifest this publication replaced, when a rerun with
    /// different inputs or results replaced an earlier one.
    pub replaces: Option<String>,
    /// The aidlink version that wrote it.
    pub tool_version: String,
}

impl Manifest {
    /// The manifest's file bytes: pretty JSON and a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serializing plain structs of strings and numbers cannot fail.
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Parses manifest bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if m.format != MANIFEST_FORMAT {
            return Err(format!(
                "format {} is not the supported {MANIFEST_FORMAT}",
                m.format
            ));
        }
        Ok(m)
    }

    /// The entry of a file, by its path in the period folder.
    pub fn output(&self, path: &str) -> Option<&OutputEntry> {
        self.outputs.iter().find(|o| o.path == path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_keys_are_sorted_and_round_trip() {
        let m = Manifest {
            aliases: vec![],
            analyst_tier: AnalystTierEntry {
                key_id: None,
                min_cell_count: 5,
                skipped_because: Some("no key".into()),
                written: false,
            },
            config_sha256: "c".into(),
            format: MANIFEST_FORMAT,
            inputs: vec![],
            outputs: vec![OutputEntry {
                bytes: 1,
                path: "restricted/x.parquet".into(),
                rows: Some(0),
                sha256: "s".into(),
                table: "x".into(),
                tier: Tier::Restricted,
            }],
            period: "2026-11".into(),
            replaces: None,
            tool_version: "0.1.0".into(),
        };
        let bytes = m.to_bytes();
        assert_eq!(Manifest::from_bytes(&bytes).unwrap(), m);
        // Keys of every object appear in sorted order in the text.
        let text = String::from_utf8(bytes).unwrap();
        let top: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
            .map(|l| l.trim().split('"').nth(1).unwrap())
            .collect();
        let mut sorted = top.clone();
        sorted.sort();
        assert_eq!(top, sorted);
        assert!(!text.contains("time"), "{text}");
    }
}
