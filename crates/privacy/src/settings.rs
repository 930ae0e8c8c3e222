//! The `[privacy]` section of the config.

use serde::Deserialize;
use std::path::PathBuf;

/// Smallest count an analyst aggregate cell may show unless configured otherwise.
pub const DEFAULT_MIN_CELL_COUNT: u64 = 5;

/// Settings read from the config's `[privacy]` table.
///
/// ```toml
/// [privacy]
/// key_file = "secrets/aidlink.key"   # or: key_env = "AIDLINK_KEY"
/// min_cell_count = 5
/// require_key = true
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// File holding the pseudonym key, relative to the config file's folder.
    pub key_file: Option<PathBuf>,
    /// Environment variable holding the pseudonym key.
    pub key_env: Option<String>,
    /// Aggregate cells counting fewer persons than this are suppressed.
    pub min_cell_count: u64,
    /// Whether a run without a key is an error rather than a run that writes
    /// only the restricted tier.
    pub require_key: bool,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            key_file: None,
            key_env: None,
            min_cell_count: DEFAULT_MIN_CELL_COUNT,
            require_key: false,
        }
    }
}

impl PrivacySettings {
    /// Whether a key source is configured at all.
    pub fn key_configured(&self) -> bool {
        self.key_file.is_some() || self.key_env.is_some()
    }
}
