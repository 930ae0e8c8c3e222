//! Collects parsed rows into the raw table's columns, or into rejects.
//!
//! Every reader (CSV/TSV chunk parsers, Excel, Parquet) hands each data row
//! to a [`RowSink`], which applies the structural checks common to all
//! formats (ragged, empty, repeated header) and appends the mapped cells of
//! an accepted row to one Arrow string builder per mapped field. Keeping the
//! checks here is what makes a reject mean the same thing in every format.

use crate::header::{ColumnMap, clean_header};
use crate::reject::{Reject, RejectReason};
use arrow_array::ArrayRef;
use arrow_array::builder::StringBuilder;
use std::sync::Arc;

/// A parsed row: its cells as text, in file order.
pub trait Cells {
    /// How many cells the row has.
    fn len(&self) -> usize;
    /// The text of cell `i` (`i < len()`); empty for an empty cell.
    fn cell(&self, i: usize) -> &str;
}

impl<S: AsRef<str>> Cells for [S] {
    fn len(&self) -> usize {
        <[S]>::len(self)
    }
    fn cell(&self, i: usize) -> &str {
        self[i].as_ref()
    }
}

/// Why a row that parsed is still not a data row, with a message detail.
pub fn classify<C: Cells + ?Sized>(map: &ColumnMap, cells: &C) -> Option<(RejectReason, String)> {
    let n = cells.len();
    let width = map.header.len();
    if n < width || (n > width && (width..n).any(|i| !cells.cell(i).is_empty())) {
        return Some((
            RejectReason::RaggedRow,
            format!("{n} fields where the header has {width}"),
        ));
    }
    if (0..n).all(|i| cells.cell(i).is_empty()) {
        return Some((RejectReason::EmptyRow, "every field is empty".to_string()));
    }
    if (0..width).all(|i| clean_header(cells.cell(i)) == map.header[i]) {
        return Some((
            RejectReason::RepeatedHeader,
            "the header row again, inside the data".to_string(),
        ));
    }
    None
}

/// The accepted rows and the rejects of one stretch of a file.
pub struct RowSink<'m> {
    map: &'m ColumnMap,
    builders: Vec<StringBuilder>,
    /// Row number of each accepted row, in order.
    pub rows: Vec<u64>,
    /// Rejected rows, in order.
    pub rejects: Vec<Reject>,
}

impl<'m> RowSink<'m> {
    /// An empty sink; `rows_hint` and `bytes_hint` size the builders.
    pub fn new(map: &'m ColumnMap, rows_hint: usize, bytes_hint: usize) -> Self {
        let per_column = bytes_hint / map.header.len().max(1);
        RowSink::with_sizes(map, rows_hint, &vec![per_column; map.index.len()])
    }

    /// An empty sink whose builders hold `rows_hint` rows and `column_bytes[k]`
    /// bytes of text for mapped field `k` before growing.
    pub fn with_sizes(map: &'m ColumnMap, rows_hint: usize, column_bytes: &[usize]) -> Self {
        RowSink {
            map,
            builders: column_bytes
                .iter()
                .map(|&bytes| StringBuilder::with_capacity(rows_hint, bytes))
                .collect(),
            rows: Vec::with_capacity(rows_hint),
            rejects: Vec::new(),
        }
    }

    /// Appends the mapped cells of an accepted row; an empty cell is null.
    pub fn accept<C: Cells + ?Sized>(&mut self, row: u64, cells: &C) {
        for (builder, &i) in self.builders.iter_mut().zip(&self.map.index) {
            let v = cells.cell(i);
            if v.is_empty() {
                builder.append_null();
            } else {
                builder.append_value(v);
            }
        }
        self.rows.push(row);
    }

    /// Checks a parsed row and either accepts it or rejects it with `raw` as its text.
    pub fn push<C: Cells + ?Sized>(
        &mut self,
        row: u64,
        cells: &C,
        raw: impl FnOnce() -> String,
        place: &str,
    ) {
        match classify(self.map, cells) {
            None => self.accept(row, cells),
            Some((reason, detail)) => {
                self.reject(row, raw(), reason, format!("{place}{detail}"), None)
            }
        }
    }

    /// Records a rejected row.
    pub fn reject(
        &mut self,
        row: u64,
        raw: String,
        reason: RejectReason,
        message: String,
        field: Option<String>,
    ) {
        self.rejects.push(Reject {
            row,
            raw,
            reason,
            message,
            field,
        });
    }

    /// The finished columns, one per mapped field.
    pub fn finish(mut self) -> (Vec<ArrayRef>, Vec<u64>, Vec<Reject>) {
        let cols = self
            .builders
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        (cols, self.rows, self.rejects)
    }
}
