//! How each generated extract looks on disk, read from the demo config.
//!
//! The generator writes the headers and department codes that
//! `configs/demo.toml` declares, so the demo config reads the generator's
//! output by construction: renaming a header or a code in the config changes
//! the files too. What the config cannot say (column order, file encoding as
//! a department really exports it, date formats) is fixed here.

use crate::SynthError;
use aidlink_config::{Config, SourceConfig};
use std::collections::BTreeMap;
use std::path::Path;

/// Text encoding of a generated file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileEncoding {
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// GB18030.
    Gb18030,
}

/// The four sources, in the order files and truth rows list them.
pub const SOURCES: [&str; 4] = ["enrollment", "subsidy", "household", "disability"];

/// Index of each source in [`SOURCES`].
pub mod src {
    /// School enrollment.
    pub const ENROLLMENT: usize = 0;
    /// Civil-affairs subsidy.
    pub const SUBSIDY: usize = 1;
    /// Household register.
    pub const HOUSEHOLD: usize = 2;
    /// Disability certificates.
    pub const DISABILITY: usize = 3;
}

/// Canonical fields of each source, in the column order departments export.
const COLUMNS: [&[&str]; 4] = [
    &[
        "student_no",
        "name",
        "gender",
        "birth_date",
        "id_number",
        "school",
        "grade",
        "class",
        "guardian_name",
        "guardian_id",
        "address",
        "phone",
        "aid_type",
        "aid_amount",
    ],
    &[
        "household_no",
        "county",
        "head_name",
        "head_id",
        "name",
        "id_number",
        "birth_date",
        "relation",
        "subsidy_type",
        "subsidy_amount",
        "start_month",
        "subsidy_status",
        "end_month",
    ],
    &[
        "household_no",
        "name",
        "id_number",
        "gender",
        "birth_date",
        "relation",
        "address",
        "hukou_type",
        "move_in",
        "move_out",
    ],
    &[
        "certificate_no",
        "name",
        "gender",
        "id_number",
        "disability_category",
        "disability_grade",
        "phone",
    ],
];

/// File name, delimiter and encoding of each source.
const FILES: [(&str, u8, FileEncoding); 4] = [
    ("enrollment.csv", b',', FileEncoding::Utf8Bom),
    ("subsidy.csv", b',', FileEncoding::Gb18030),
    ("household.tsv", b'\t', FileEncoding::Gb18030),
    ("disability.csv", b',', FileEncoding::Utf8),
];

/// One source's file layout.
#[derive(Clone, Debug)]
pub struct SourceLayout {
    /// The config's name for the source.
    pub name: &'static str,
    /// File name inside `extracts/YYYY-MM/`.
    pub file: &'static str,
    /// Field delimiter.
    pub delimiter: u8,
    /// Text encoding.
    pub encoding: FileEncoding,
    /// Canonical field of each column.
    pub fields: &'static [&'static str],
    /// Header of each column, from the config.
    pub headers: Vec<String>,
    /// Field -> canonical value -> the department's codes for it.
    codes: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl SourceLayout {
    /// Position of a canonical field among the columns.
    pub fn column(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| *f == field)
    }

    /// The department's codes for a canonical value, in the config's order;
    /// empty when the config maps none (the canonical value is then written).
    pub fn codes(&self, field: &str, canonical: &str) -> &[String] {
        self.codes
            .get(field)
            .and_then(|m| m.get(canonical))
            .map_or(&[], |v| v.as_slice())
    }

    /// The code to write for a canonical value: the first of `preferred`
    /// that the config maps to it, else the config's first code, else the
    /// canonical value itself.
    pub fn code(&self, field: &str, canonical: &str, preferred: &[&str]) -> String {
        let codes = self.codes(field, canonical);
        preferred
            .iter()
            .find(|p| codes.iter().any(|c| c == *p))
            .map(|p| p.to_string())
            .or_else(|| codes.first().cloned())
            .unwrap_or_else(|| canonical.to_string())
    }
}

/// The flag rules the truth files follow, read from the config's `[flags]`.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(default)]
pub struct FlagRules {
    /// Subsidy types that make a member eligible.
    pub eligible_subsidy_types: Vec<String>,
    /// Months after a case stopped from which aid still paid needs review.
    pub exit_review_months: i32,
    /// Youngest school age, in whole years on the period's first day.
    pub school_age_min: i32,
    /// Oldest school age.
    pub school_age_max: i32,
}

impl Default for FlagRules {
    fn default() -> Self {
        FlagRules {
            eligible_subsidy_types: vec!["dibao".into(), "tekun".into()],
            exit_review_months: 3,
            school_age_min: 6,
            school_age_max: 15,
        }
    }
}

/// Every source's layout and the flag rules.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Layouts in [`SOURCES`] order.
    pub sources: Vec<SourceLayout>,
    /// The flag rules of the config.
    pub rules: FlagRules,
}

impl Layout {
    /// Reads the layout from config text.
    pub fn from_config(text: &str) -> Result<Layout, SynthError> {
        let config = Config::from_text(Path::new("aidlink.toml"), text.to_string())?;
        let mut sources = Vec::with_capacity(4);
        for (i, name) in SOURCES.iter().enumerate() {
            let sc: &SourceConfig =
                config
                    .sources
                    .get(*name)
                    .ok_or_else(|| SynthError::MissingSource {
                        name: name.to_string(),
                    })?;
            let mut headers = Vec::with_capacity(COLUMNS[i].len());
            for field in COLUMNS[i] {
                let h = sc
                    .columns
                    .get(*field)
                    .ok_or_else(|| SynthError::MissingColumn {
                        name: name.to_string(),
                        field: field.to_string(),
                        written: COLUMNS[i].join(", "),
                    })?;
                headers.push(h.clone());
            }
            let mut codes: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
            for (field, map) in &sc.values {
                for (code, canonical) in map {
                    codes
                        .entry(field.clone())
                        .or_default()
                        .entry(canonical.clone())
                        .or_default()
                        .push(code.clone());
                }
            }
            let (file, delimiter, encoding) = FILES[i];
            sources.push(SourceLayout {
                name,
                file,
                delimiter,
                encoding,
                fields: COLUMNS[i],
                headers,
                codes,
            });
        }
        let rules: FlagRules = config.section("flags")?;
        Ok(Layout { sources, rules })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_describes_every_generated_column() {
        let l = Layout::from_config(crate::DEMO_CONFIG).unwrap();
        assert_eq!(l.sources[0].headers[1], "姓名");
        assert_eq!(
            l.sources[1].code("subsidy_type", "dibao", &["城市低保"]),
            "城市低保"
        );
        assert_eq!(l.sources[3].code("gender", "F", &[]), "2");
        assert_eq!(l.sources[3].code("disability_grade", "3", &[]), "三级");
        assert_eq!(l.rules.exit_review_months, 3);
    }

    #[test]
    fn a_config_without_a_generated_column_is_refused() {
        let text = crate::DEMO_CONFIG.replace("aid_amount = \"资助金额\"\n", "");
        let e = Layout::from_config(&text).unwrap_err().to_string();
        assert!(e.contains("aid_amount"), "{e}");
    }
}
