//! The aidlink run configuration, read from one TOML file.
//!
//! A config names every source (a department's extract), where its file is
//! for a given period, how to read it, which of its columns are which
//! canonical field, how its own codes map to ours, and what role it plays.
//! Stage settings (`[matching]`, `[flags]`, `[privacy]`, `[publish]`) are kept
//! as TOML tables here and read into typed settings by the stage that owns
//! them with [`Config::section`], so a stage can grow its settings without
//! this crate knowing. See `docs/config.md` for the full reference.

use aidlink_vocab::{Field, FieldKind, Period, Role, schema::FieldSpec};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The placeholder in a source path that is replaced by the period (`2026-11`).
pub const PERIOD_PLACEHOLDER: &str = "{period}";

/// What can be wrong with a config file.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {error}")]
    Io {
        /// The config file.
        path: PathBuf,
        /// The IO error (in the message, so not also a `source`).
        error: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The file parses but says something impossible.
    #[error("{path}: {message}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// File formats a source can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Decided from the file extension.
    #[default]
    Auto,
    /// Comma-separated (or `delimiter`) text.
    Csv,
    /// Tab-separated text.
    Tsv,
    /// Excel 2007+ workbook.
    Xlsx,
    /// Excel 97-2003 workbook.
    Xls,
    /// Apache Parquet.
    Parquet,
}

/// Text encodings a source can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
pub enum Encoding {
    /// UTF-8 (with or without BOM) or GB18030, told apart from the bytes.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    /// UTF-8, with or without BOM.
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    /// GB18030 (a superset of GBK and GB2312).
    #[serde(
        rename = "gb18030",
        alias = "gbk",
        alias = "GBK",
        alias = "GB18030",
        alias = "gb2312"
    )]
    Gb18030,
}

/// One department's extract.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// File path; may contain `{period}`; relative to the config file.
    pub path: String,
    /// File format.
    #[serde(default)]
    pub format: Format,
    /// Text encoding (text formats only).
    #[serde(default)]
    pub encoding: Encoding,
    /// Field delimiter for CSV; sniffed when absent.
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Excel sheet name, or its 0-based index as text; first sheet when absent.
    #[serde(default)]
    pub sheet: Option<String>,
    /// Roles the source plays.
    pub roles: Vec<Role>,
    /// Canonical field name -> the source's column header.
    pub columns: BTreeMap<String, String>,
    /// Canonical field name -> (source value -> canonical value).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

impl SourceConfig {
    /// Whether the source plays `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    fields: BTreeMap<String, FieldKind>,
    sources: BTreeMap<String, SourceConfig>,
    #[serde(default)]
    matching: toml::Table,
    #[serde(default)]
    flags: toml::Table,
    #[serde(default)]
    privacy: toml::Table,
    #[serde(default)]
    publish: toml::Table,
}

/// A loaded, validated config.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// The exact bytes of the file, for the manifest's config hash.
    pub text: String,
    /// Extra fields declared beyond the canonical ones.
    pub extra_fields: Vec<FieldSpec>,
    /// Sources by name, in name order (which is the processing order).
    pub sources: BTreeMap<String, SourceConfig>,
    sections: BTreeMap<&'static str, toml::Table>,
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        Config::from_text(path, text)
    }

    /// Parses and validates config text; `path` anchors relative source paths.
    pub fn from_text(path: &Path, text: String) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(&text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let mut extra_fields = Vec::new();
        for (name, kind) in &raw.fields {
            if Field::from_name(name).is_some() {
                return Err(invalid(format!(
                    "[fields] {name} is already a canonical field; declare only new ones"
                )));
            }
            extra_fields.push(FieldSpec {
                name: name.clone(),
                kind: *kind,
            });
        }
        if raw.sources.is_empty() {
            return Err(invalid(
                "no [sources.NAME] table: a run needs at least one source".into(),
            ));
        }
        for (name, source) in &raw.sources {
            if source.roles.is_empty() {
                return Err(invalid(format!("sources.{name}.roles is empty")));
            }
            for field in source.columns.keys().chain(source.values.keys()) {
                if Field::from_name(field).is_none() && !raw.fields.contains_key(field) {
                    let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                    return Err(invalid(format!(
                        "sources.{name}: `{field}` is not a canonical field nor declared in [fields]; canonical fields are: {}",
                        known.join(", ")
                    )));
                }
            }
            if !source.columns.contains_key(Field::Name.name())
                && !source.columns.contains_key(Field::IdNumber.name())
            {
                return Err(invalid(format!(
                    "sources.{name}.columns maps neither `name` nor `id_number`: its rows could never be linked"
                )));
            }
        }
        let sections = BTreeMap::from([
            ("matching", raw.matching),
            ("flags", raw.flags),
            ("privacy", raw.privacy),
            ("publish", raw.publish),
        ]);
        Ok(Config {
            path: path.to_path_buf(),
            text,
            extra_fields,
            sources: raw.sources,
            sections,
        })
    }

    /// Reads a stage's settings section (`matching`, `flags`, `privacy`,
    /// `publish`) into its typed form; an absent section reads as empty, so
    /// settings types should give every key a default.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        let table = self.sections.get(name).cloned().unwrap_or_default();
        T::deserialize(toml::Value::Table(table)).map_err(|e| ConfigError::Invalid {
            path: self.path.clone(),
            message: format!("[{name}]: {}", e.message()),
        })
    }

    /// The file a source reads for `period`, resolved against the config's folder.
    pub fn source_path(&self, source: &SourceConfig, period: Period) -> PathBuf {
        let p = source.path.replace(PERIOD_PLACEHOLDER, &period.to_string());
        let p = Path::new(&p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// Every field the record table carries: canonical, then extra.
    pub fn all_fields(&self) -> Vec<FieldSpec> {
        let mut all = FieldSpec::canonical();
        all.extend(self.extra_fields.iter().cloned());
        all
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[fields]
passport = "exact_code"

[sources.school]
path = "in/{period}/school.csv"
roles = ["enrollment", "aid"]
columns = { name = "姓名", id_number = "身份证号", passport = "护照号" }
values.gender = { "男" = "M", "女" = "F" }

[flags]
exit_review_months = 3
"#;

    #[test]
    fn loads_sources_and_resolves_period_paths() {
        let c = Config::from_text(Path::new("/etc/aidlink/c.toml"), MINIMAL.into()).unwrap();
        let s = &c.sources["school"];
        assert!(s.has_role(Role::Aid));
        let p = c.source_path(s, Period::parse("2026-11").unwrap());
        assert_eq!(p, PathBuf::from("/etc/aidlink/in/2026-11/school.csv"));
        assert_eq!(c.extra_fields[0].name, "passport");
        #[derive(Deserialize)]
        struct Flags {
            exit_review_months: u32,
        }
        let f: Flags = c.section("flags").unwrap();
        assert_eq!(f.exit_review_months, 3);
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let text = "[sources.a]\npath = \"x\"\nroles = [\"enrollment\"\ncolumns = {}\n";
        match Config::from_text(Path::new("c.toml"), text.into()) {
            Err(ConfigError::Syntax { line, .. }) => assert!(line >= 3),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_field_names_list_the_valid_ones() {
        let text =
            "[sources.a]\npath = \"x\"\nroles = [\"enrollment\"]\ncolumns = { nmae = \"姓名\" }\n";
        let err = Config::from_text(Path::new("c.toml"), text.into())
            .unwrap_err()
            .to_string();
        assert!(err.contains("nmae") && err.contains("id_number"), "{err}");
    }
}
