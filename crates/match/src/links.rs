//! The links table (`links.parquet`): one row per scored candidate pair.
//!
//! Columns, in order:
//! `left_source`, `left_row`, `right_source`, `right_row` (the records as the
//! published tables name them), `left_index`, `right_index` (row indices in
//! the record table, which is what `aidlink explain` takes), `rules` (the
//! blocking rules that proposed the pair, comma-separated), then per
//! comparison `<name>_level` and `<name>_weight` (log2 Bayes factor of the
//! level, term-frequency adjusted), then `match_weight` (prior plus all
//! weights), `match_probability` and `linked`. Repeated texts are
//! dictionary-encoded so a table of ten million pairs stays small.

use crate::MatchError;
use aidlink_vocab::schema;
use arrow_array::types::{UInt8Type, UInt16Type, UInt32Type};
use arrow_array::{
    ArrayRef, BooleanArray, DictionaryArray, Float32Array, Float64Array, PrimitiveArray,
    RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;
use std::sync::Arc;

/// One comparison's column pair in the links table.
pub struct ComparisonColumn {
    /// Comparison name (`id`, `name`, `birth`, ...).
    pub name: String,
    /// Level names, indexed by level code.
    pub level_names: Vec<String>,
    /// Level code per pair.
    pub levels: Vec<u8>,
    /// Weight per pair.
    pub weights: Vec<f32>,
}

/// Everything the links table is built from.
pub struct LinkTable<'a> {
    /// Row index pairs.
    pub pairs: &'a [(u32, u32)],
    /// Rule bit mask per pair.
    pub rule_masks: &'a [u32],
    /// Rule names by bit.
    pub rule_names: &'a [String],
    /// Comparisons, in model order.
    pub comparisons: Vec<ComparisonColumn>,
    /// Total match weight per pair (`None` in exact-ID mode, which has no weights).
    pub match_weight: Option<Vec<f64>>,
    /// Match probability per pair.
    pub probability: Vec<f64>,
    /// Whether the pair was linked.
    pub linked: Vec<bool>,
}

fn dict_u16(keys: Vec<u16>, values: Vec<String>) -> Result<ArrayRef, MatchError> {
    let values: ArrayRef = Arc::new(StringArray::from(values));
    Ok(Arc::new(DictionaryArray::<UInt16Type>::try_new(
        PrimitiveArray::from(keys),
        values,
    )?))
}

fn dict_type(key: DataType) -> DataType {
    DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8))
}

/// Rows per parallel chunk when coding the sources.
const ROW_CHUNK: usize = 1 << 16;

/// Builds the links table for `records`.
pub fn build(records: &RecordBatch, t: LinkTable<'_>) -> Result<RecordBatch, MatchError> {
    let source = aidlink_block::columns::utf8(records, schema::SOURCE)?;
    let source_row = aidlink_block::columns::uint64(records, schema::SOURCE_ROW)?;
    // Sources as a dictionary over the distinct names, in name order. Rows
    // come grouped by source, so each row is first compared with the
    // previous row's name: one text comparison per row, not a map lookup,
    // in parallel chunks of rows.
    let rows = records.num_rows();
    let chunks: Vec<std::ops::Range<usize>> = (0..rows.div_ceil(ROW_CHUNK))
        .map(|c| c * ROW_CHUNK..((c + 1) * ROW_CHUNK).min(rows))
        .collect();
    let mut names: Vec<&str> = chunks
        .par_iter()
        .flat_map_iter(|range| {
            let mut seen: Vec<&str> = Vec::new();
            for i in range.clone() {
                let v = source.value(i);
                if seen.last() != Some(&v) {
                    seen.push(v);
                }
            }
            seen
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    let source_code: Vec<u16> = chunks
        .par_iter()
        .flat_map_iter(|range| {
            let mut out = Vec::with_capacity(range.len());
            let mut last: Option<(&str, u16)> = None;
            for i in range.clone() {
                let v = source.value(i);
                let code = match last {
                    Some((name, code)) if name == v => code,
                    _ => {
                        let code = names.binary_search(&v).unwrap_or(0) as u16;
                        last = Some((v, code));
                        code
                    }
                };
                out.push(code);
            }
            out
        })
        .collect();
    let source_values: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let l: Vec<u32> = t.pairs.par_iter().map(|p| p.0).collect();
    let r: Vec<u32> = t.pairs.par_iter().map(|p| p.1).collect();
    let codes_of =
        |side: &[u32]| -> Vec<u16> { side.par_iter().map(|&i| source_code[i as usize]).collect() };
    let rows_of = |side: &[u32]| -> UInt64Array {
        let v: Vec<u64> = side
            .par_iter()
            .map(|&i| source_row.value(i as usize))
            .collect();
        UInt64Array::from(v)
    };
    let left_source = dict_u16(codes_of(&l), source_values.clone())?;
    let right_source = dict_u16(codes_of(&r), source_values)?;
    let left_row = rows_of(&l);
    let right_row = rows_of(&r);
    // Rule sets as a dictionary over the distinct masks.
    // Few distinct masks among millions of pairs: each chunk lists its
    // distinct ones, instead of sorting a copy of every pair's mask.
    let mut masks: Vec<u32> = t
        .rule_masks
        .par_chunks(ROW_CHUNK)
        .flat_map_iter(|chunk| {
            let mut seen: Vec<u32> = Vec::new();
            for &m in chunk {
                if seen.last() != Some(&m) && !seen.contains(&m) {
                    seen.push(m);
                }
            }
            seen
        })
        .collect();
    masks.sort_unstable();
    masks.dedup();
    let mask_values: Vec<String> = masks
        .iter()
        .map(|&m| {
            t.rule_names
                .iter()
                .enumerate()
                .filter(|(b, _)| m & (1 << b) != 0)
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    let rule_keys: Vec<u32> = t
        .rule_masks
        .par_iter()
        .map(|m| masks.binary_search(m).unwrap_or(0) as u32)
        .collect();
    let rules: ArrayRef = Arc::new(DictionaryArray::<UInt32Type>::try_new(
        PrimitiveArray::from(rule_keys),
        Arc::new(StringArray::from(mask_values)),
    )?);

    let mut fields = vec![
        Field::new("left_source", dict_type(DataType::UInt16), false),
        Field::new("left_row", DataType::UInt64, false),
        Field::new("right_source", dict_type(DataType::UInt16), false),
        Field::new("right_row", DataType::UInt64, false),
        Field::new("left_index", DataType::UInt32, false),
        Field::new("right_index", DataType::UInt32, false),
        Field::new("rules", dict_type(DataType::UInt32), false),
    ];
    let mut cols: Vec<ArrayRef> = vec![
        left_source,
        Arc::new(left_row),
        right_source,
        Arc::new(right_row),
        Arc::new(UInt32Array::from(l)),
        Arc::new(UInt32Array::from(r)),
        rules,
    ];
    for c in t.comparisons {
        fields.push(Field::new(
            format!("{}_level", c.name),
            dict_type(DataType::UInt8),
            false,
        ));
        fields.push(Field::new(
            format!("{}_weight", c.name),
            DataType::Float32,
            false,
        ));
        cols.push(Arc::new(DictionaryArray::<UInt8Type>::try_new(
            PrimitiveArray::from(c.levels),
            Arc::new(StringArray::from(c.level_names)),
        )?));
        cols.push(Arc::new(Float32Array::from(c.weights)));
    }
    fields.push(Field::new("match_weight", DataType::Float64, true));
    cols.push(match t.match_weight {
        Some(w) => Arc::new(Float64Array::from(w)),
        None => Arc::new(Float64Array::from(vec![None::<f64>; t.pairs.len()])),
    });
    fields.push(Field::new("match_probability", DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from(t.probability)));
    fields.push(Field::new("linked", DataType::Boolean, false));
    cols.push(Arc::new(BooleanArray::from(t.linked)));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?)
}
