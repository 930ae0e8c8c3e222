//! Reads a sheet of an Excel workbook (`.xlsx`, `.xls`) through calamine.
//!
//! The header is the sheet's first non-empty row that has every mapped
//! column (up to ten title rows above it are skipped); empty rows are
//! skipped like blank lines. Cells become the text a person sees in Excel, as far as
//! the stored value allows: strings as they are, whole numbers without
//! `.0`, dates as ISO `YYYY-MM-DD` (with `THH:MM:SS` when there is a time).
//!
//! A number of 16 digits or more cannot be a faithful resident ID: Excel
//! keeps only 15 significant digits, so an ID typed as a number has already
//! lost its last digits. Such numbers are written in Excel's scientific form
//! (`4.40106199901011E+17`) rather than as a plausible-looking 18-digit
//! integer, so that normalization can recognise the value as destroyed.

use crate::error::IngestError;
use crate::header::map_columns;
use crate::sink::{Cells, RowSink};
use crate::{RawTable, build_raw};
use aidlink_config::SourceConfig;
use calamine::{Data, Reader, open_workbook_auto_from_rs};
use std::io::Cursor;
use std::path::Path;

/// Reads the configured sheet of the workbook in `bytes`.
pub fn read_workbook(
    path: &Path,
    name: &str,
    source: &SourceConfig,
    bytes: Vec<u8>,
) -> Result<RawTable, IngestError> {
    let excel = |source| IngestError::Excel {
        path: path.to_path_buf(),
        source,
    };
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(excel)?;
    let names = book.sheet_names();
    let sheet = match &source.sheet {
        None => names.first().cloned(),
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted.as_str())
            .or_else(|| {
                wanted
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| names.get(i))
            })
            .cloned(),
    };
    let Some(sheet) = sheet else {
        return Err(IngestError::SheetNotFound {
            path: path.to_path_buf(),
            sheet: source.sheet.clone().unwrap_or_else(|| "0".to_string()),
            available: names,
        });
    };
    let range = book.worksheet_range(&sheet).map_err(excel)?;

    let mut rows = range
        .rows()
        .map(|r| r.iter().map(cell_text).collect::<Vec<Option<String>>>());
    // The header is the first non-empty row that has every mapped column; up
    // to PREAMBLE_ROWS rows before it (a title, export notes) are skipped.
    let mut blank_lines = 0u64;
    let mut preamble = 0u64;
    let mut seen = 0u64;
    let mut best: Option<IngestError> = None;
    let map = loop {
        let Some(r) = rows.next() else {
            return Err(best.unwrap_or(IngestError::NoHeader {
                path: path.to_path_buf(),
            }));
        };
        seen += 1;
        if r.iter().all(Option::is_none) {
            blank_lines += 1;
            continue;
        }
        let header: Vec<String> = r.into_iter().map(Option::unwrap_or_default).collect();
        match map_columns(path, source, &header) {
            Ok(map) => break map,
            // The header is there, but a mapped column is in it twice.
            Err(e @ IngestError::DuplicateColumn { .. }) => return Err(e),
            Err(e) => {
                let missing = |e: &IngestError| match e {
                    IngestError::MissingColumns { missing, .. } => missing.len(),
                    _ => usize::MAX,
                };
                if best.as_ref().is_none_or(|b| missing(&e) < missing(b)) {
                    best = Some(e);
                }
                preamble += 1;
                if preamble as usize > crate::delimited::PREAMBLE_ROWS {
                    return Err(best.unwrap_or(IngestError::NoHeader {
                        path: path.to_path_buf(),
                    }));
                }
            }
        }
    };
    // The sheet's 1-based row number of the header, for reject messages.
    let header_sheet_row = range.start().map_or(0, |(r, _)| r as u64) + seen;
    let mut sink = RowSink::new(&map, range.height(), 0);
    let mut row_no = 0u64;
    for (i, cells) in rows.enumerate() {
        if cells.iter().all(Option::is_none) {
            blank_lines += 1;
            continue;
        }
        row_no += 1;
        let row = SheetRow {
            cells,
            width: map.header.len(),
        };
        let place = format!("sheet `{sheet}` row {}: ", header_sheet_row + 1 + i as u64);
        sink.push(row_no, &row, || row.raw(), &place);
    }
    let mut table = build_raw(path, name, &map, sink, row_no, blank_lines)?;
    table.preamble = preamble;
    Ok(table)
}

/// A sheet row's cells, as text.
struct SheetRow {
    cells: Vec<Option<String>>,
    /// The header's width: a sheet row is never shorter than its header.
    width: usize,
}

impl SheetRow {
    /// The row's cells joined by tabs, for a reject's `raw`.
    fn raw(&self) -> String {
        let cells = &self.cells[..self.len().min(self.cells.len())];
        cells
            .iter()
            .map(|c| c.as_deref().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\t")
    }
}

impl Cells for SheetRow {
    fn len(&self) -> usize {
        // Trailing empty cells are the sheet's width, not the row's, and a
        // row is never ragged for having fewer cells than the header.
        let used = self
            .cells
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        used.max(self.width)
    }

    fn cell(&self, i: usize) -> &str {
        self.cells.get(i).and_then(|c| c.as_deref()).unwrap_or("")
    }
}

/// A cell as text; `None` when empty.
pub fn cell_text(cell: &Data) -> Option<String> {
    let text = match cell {
        Data::Empty => return None,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) if dt.is_duration() => number_text(dt.as_f64()),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
        Data::Error(e) => e.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// A number as Excel's General format shows it, as far as matters here:
/// whole numbers below 10^15 without a decimal point, larger ones in
/// scientific form with at most 15 significant digits (see the module doc),
/// others in shortest form.
pub fn number_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else if f.is_finite() && f.abs() >= 1e15 {
        // Excel keeps 15 significant digits; show no more than it has.
        let s = format!("{f:.14E}");
        match s.split_once('E') {
            Some((m, e)) => {
                let m = if m.contains('.') {
                    m.trim_end_matches('0').trim_end_matches('.')
                } else {
                    m
                };
                format!("{m}E+{e}")
            }
            None => s,
        }
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_excel_shows_them() {
        assert_eq!(number_text(20120305.0), "20120305");
        assert_eq!(number_text(1500.5), "1500.5");
        assert_eq!(number_text(-3.0), "-3");
        assert_eq!(number_text(440106199901011000.0), "4.40106199901011E+17");
        assert_eq!(number_text(4.40106e17), "4.40106E+17");
    }

    #[test]
    fn dates_read_as_iso() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let d = Data::DateTime(ExcelDateTime::new(
            40973.0,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&d).as_deref(), Some("2012-03-05"));
        let t = Data::DateTime(ExcelDateTime::new(
            40973.5,
            ExcelDateTimeType::DateTime,
            false,
        ));
        assert_eq!(cell_text(&t).as_deref(), Some("2012-03-05T12:00:00"));
        assert_eq!(cell_text(&Data::String(String::new())), None);
    }
}
