//! Finds the config's mapped columns in a file's header row.
//!
//! Headers are compared after trimming surrounding whitespace (full-width
//! spaces included) and a stray BOM, because exports pad headers and a BOM
//! sometimes survives a re-save into the first header cell. Nothing else is
//! folded: `姓名` and `学生姓名` are different columns, and a config must say
//! which one it means.

use crate::error::{IngestError, MissingColumn};
use aidlink_config::SourceConfig;
use std::path::Path;

/// Where each mapped field is in the file.
#[derive(Clone, Debug)]
pub struct ColumnMap {
    /// Mapped canonical field names, in the order of the config's `columns` keys.
    pub fields: Vec<String>,
    /// For each mapped field, its 0-based column in the file.
    pub index: Vec<usize>,
    /// The file's headers as compared (cleaned), in file order, without
    /// trailing empty ones.
    pub header: Vec<String>,
}

/// A header cell as compared: trimmed, BOM removed.
pub fn clean_header(cell: &str) -> &str {
    cell.trim().trim_start_matches('\u{FEFF}').trim()
}

/// Maps the config's columns onto the header cells `cells`.
pub fn map_columns<S: AsRef<str>>(
    path: &Path,
    source: &SourceConfig,
    cells: &[S],
) -> Result<ColumnMap, IngestError> {
    let mut header: Vec<String> = cells
        .iter()
        .map(|c| clean_header(c.as_ref()).to_string())
        .collect();
    // Empty header cells at the end are a trailing delimiter or a sheet's
    // used range, not columns: rows are measured against the named ones.
    while header.last().is_some_and(String::is_empty) {
        header.pop();
    }
    let mut fields = Vec::with_capacity(source.columns.len());
    let mut index = Vec::with_capacity(source.columns.len());
    let mut missing = Vec::new();
    for (field, wanted) in &source.columns {
        let wanted = clean_header(wanted);
        let mut hits = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.as_str() == wanted)
            .map(|(i, _)| i);
        match (hits.next(), hits.next()) {
            (Some(i), None) => {
                fields.push(field.clone());
                index.push(i);
            }
            (Some(first), Some(second)) => {
                return Err(IngestError::DuplicateColumn {
                    path: path.to_path_buf(),
                    field: field.clone(),
                    header: wanted.to_string(),
                    first: first + 1,
                    second: second + 1,
                });
            }
            (None, _) => missing.push(MissingColumn {
                field: field.clone(),
                header: wanted.to_string(),
            }),
        }
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            found: header,
        });
    }
    Ok(ColumnMap {
        fields,
        index,
        header,
    })
}
