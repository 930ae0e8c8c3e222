//! Record keys: a name for each record that stays the same from month to month.
//!
//! Departments re-export their whole list every month and rows move around,
//! so `source_row` cannot say "the same row as last month". A record key is
//! the source's name plus the record's best natural key instead (see
//! [`record_keys`]); when two records of one period share a key, they are told
//! apart by a suffix given in an order that depends on their content only.

use crate::place::same_hashes;
use crate::text_array::{build_texts, from_parts, text_offset};
use aidlink_vocab::CivilDate;
use aidlink_vocab::schema::{NOTES, SOURCE, SOURCE_ROW};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use rayon::prelude::*;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::io::Write;

/// A text column of the record table, or `None` when absent or not text.
fn text<'a>(records: &'a RecordBatch, name: &str) -> Option<&'a StringArray> {
    records
        .column_by_name(name)?
        .as_any()
        .downcast_ref::<StringArray>()
}

/// The trimmed value of a text column, `None` when null or blank.
fn value(col: Option<&StringArray>, row: usize) -> Option<&str> {
    let col = col?;
    if col.is_null(row) {
        return None;
    }
    let v = col.value(row).trim();
    (!v.is_empty()).then_some(v)
}

/// The recorded birth date, `None` when the column is absent or the cell null.
fn date(col: Option<&Date32Array>, row: usize) -> Option<CivilDate> {
    let col = col?;
    (!col.is_null(row)).then(|| CivilDate::from_days(col.value(row)))
}

/// One key per record of `records` (a table of `record_schema`), in row order.
///
/// The key is `source|kind:value`, with the first natural key the record has:
///
/// 1. `sno:` the student number (学籍号);
/// 2. `cert:` the disability certificate number;
/// 3. `hh:` the household or case number, with `/id:` the member's ID number
///    or else `/name:` the member's name (a household has many members);
/// 4. `id:` the resident ID number;
/// 5. `nbg:` name, birth date and gender;
/// 6. `name:` the name alone, else `none`.
///
/// Keys are unique within the result: when several records share a key, they
/// are ordered by the text of all their fields (then by `source_row`, which
/// only matters for rows identical in every field), the first keeps the key
/// and the others get `#2`, `#3`, ... appended. Missing columns count as empty.
///
/// [`record_key_array`] gives the same keys as one Arrow array, without a
/// `String` per record.
pub fn record_keys(records: &RecordBatch) -> Vec<String> {
    let keys = record_key_array(records);
    (0..keys.len())
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|row| keys.value(row).to_string())
        .collect()
}

/// The keys of [`record_keys`], one per record in row order, as one Arrow
/// string array without nulls: one buffer of text and one of offsets, where
/// a `String` per record costs a heap block each (at a million students,
/// 3.4M records, about 240 MB instead of 130 MB).
pub fn record_key_array(records: &RecordBatch) -> StringArray {
    let cols = KeyColumns::of(records);
    // Rows are independent: each task writes its rows' keys into one
    // buffer, and the buffers are joined in row order.
    let keys = build_texts(records.num_rows(), 40, |row, out| cols.write(row, out));
    let suffixes = repeated_suffixes(records, &keys);
    if suffixes.is_empty() {
        keys
    } else {
        with_suffixes(&keys, &suffixes)
    }
}

/// The record table's columns a key is made of.
struct KeyColumns<'a> {
    source: Option<&'a StringArray>,
    student_no: Option<&'a StringArray>,
    certificate_no: Option<&'a StringArray>,
    household_no: Option<&'a StringArray>,
    id_number: Option<&'a StringArray>,
    name: Option<&'a StringArray>,
    gender: Option<&'a StringArray>,
    birth_date: Option<&'a Date32Array>,
}

impl<'a> KeyColumns<'a> {
    fn of(records: &'a RecordBatch) -> KeyColumns<'a> {
        KeyColumns {
            source: text(records, SOURCE),
            student_no: text(records, "student_no"),
            certificate_no: text(records, "certificate_no"),
            household_no: text(records, "household_no"),
            id_number: text(records, "id_number"),
            name: text(records, "name"),
            gender: text(records, "gender"),
            birth_date: records
                .column_by_name("birth_date")
                .and_then(|c| c.as_any().downcast_ref::<Date32Array>()),
        }
    }

    /// Appends the key of `row`, before any `#` suffix, to `out`.
    fn write(&self, row: usize, out: &mut Vec<u8>) {
        let mut put = |parts: &[&str]| {
            parts
                .iter()
                .for_each(|p| out.extend_from_slice(p.as_bytes()))
        };
        put(&[value(self.source, row).unwrap_or(""), "|"]);
        // Columns are read only as far as the key needs them.
        let id = || value(self.id_number, row);
        let nm = || value(self.name, row);
        if let Some(s) = value(self.student_no, row) {
            put(&["sno:", s]);
        } else if let Some(c) = value(self.certificate_no, row) {
            put(&["cert:", c]);
        } else if let Some(h) = value(self.household_no, row) {
            if let Some(id) = id() {
                put(&["hh:", h, "/id:", id]);
            } else if let Some(nm) = nm() {
                put(&["hh:", h, "/name:", nm]);
            } else {
                put(&["hh:", h]);
            }
        } else if let Some(id) = id() {
            put(&["id:", id]);
        } else if let Some(nm) = nm() {
            match (date(self.birth_date, row), value(self.gender, row)) {
                (None, None) => put(&["name:", nm]),
                (birth, g) => {
                    put(&["nbg:", nm, "/"]);
                    if let Some(b) = birth {
                        // Writing into a Vec cannot fail.
                        let _ = write!(out, "{b}");
                    }
                    out.push(b'/');
                    out.extend_from_slice(g.unwrap_or("").as_bytes());
                }
            }
        } else {
            put(&["none"]);
        }
    }
}

/// The `#` numbers of repeated keys, `(row, number)` in row order: rows
/// sharing a key are ordered by their content, the first keeps the key and
/// the others are numbered from 2.
fn repeated_suffixes(records: &RecordBatch, keys: &StringArray) -> Vec<(usize, usize)> {
    // Keys seen more than once: rows sorted by a hash of their key, so that
    // only rows of equal hashes are compared as text. Which groups exist
    // does not depend on the hash, and each group is ordered below.
    let key = |row: usize| keys.value(row);
    let mut repeated: Vec<Vec<usize>> = Vec::new();
    for mut rows in same_hashes(keys.len(), key) {
        rows.sort_by(|a, b| key(*a).cmp(key(*b)).then(a.cmp(b)));
        let same = rows.chunk_by(|a, b| key(*a) == key(*b));
        repeated.extend(same.filter(|g| g.len() > 1).map(<[usize]>::to_vec));
    }
    if repeated.is_empty() {
        return Vec::new();
    }
    let content_columns: Vec<Cells> = records
        .schema_ref()
        .fields()
        .iter()
        .zip(records.columns())
        .filter(|(f, _)| f.name() != SOURCE_ROW && f.name() != NOTES)
        .map(|(_, c)| Cells::of(c))
        .collect();
    let source_row = records
        .column_by_name(SOURCE_ROW)
        .and_then(|c| c.as_any().downcast_ref::<UInt64Array>());
    let pos = |row: usize| {
        source_row
            .filter(|c| !c.is_null(row))
            .map_or(0, |c| c.value(row))
    };
    // Rows by the texts of their content cells, compared cell by cell and
    // only as far as they differ, then by `source_row` and row.
    let by_content = |a: &usize, b: &usize| {
        content_columns
            .iter()
            .map(|c| c.cmp(*a, *b))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then(pos(*a).cmp(&pos(*b)))
            .then(a.cmp(b))
    };
    // Groups are independent: each is ordered in parallel.
    let mut suffixes: Vec<(usize, usize)> = repeated
        .par_iter_mut()
        .flat_map_iter(|rows| {
            rows.sort_by(by_content);
            rows.iter()
                .enumerate()
                .skip(1)
                .map(|(rank, row)| (*row, rank + 1))
        })
        .collect();
    suffixes.sort_unstable();
    suffixes
}

/// `keys` with `#number` appended to the rows of `suffixes` (in row order).
fn with_suffixes(keys: &StringArray, suffixes: &[(usize, usize)]) -> StringArray {
    let (old_offsets, old_values) = (keys.value_offsets(), keys.value_data());
    let extra: usize = suffixes.iter().map(|(_, k)| 1 + k.to_string().len()).sum();
    let mut values: Vec<u8> = Vec::with_capacity(old_values.len() + extra);
    let mut offsets: Vec<i32> = Vec::with_capacity(keys.len() + 1);
    offsets.push(0);
    // Rows `from..to` need no suffix: one copy of their text.
    let copy = |values: &mut Vec<u8>, offsets: &mut Vec<i32>, from: usize, to: usize| {
        let (a, b) = (old_offsets[from] as usize, old_offsets[to] as usize);
        let shift = text_offset(values.len()) - old_offsets[from];
        values.extend_from_slice(&old_values[a..b]);
        offsets.extend(old_offsets[from + 1..=to].iter().map(|o| o + shift));
    };
    let mut from = 0;
    for (row, number) in suffixes {
        copy(&mut values, &mut offsets, from, *row);
        values.extend_from_slice(keys.value(*row).as_bytes());
        // Writing into a Vec cannot fail.
        let _ = write!(values, "#{number}");
        offsets.push(text_offset(values.len()));
        from = row + 1;
    }
    copy(&mut values, &mut offsets, from, keys.len());
    from_parts(offsets, values)
}

/// Days since 1970-01-01 of 0000-01-01 and 10000-01-01: dates in between
/// print as `YYYY-MM-DD` with four digits, whose text order is day order.
const PLAIN_DAYS: (i32, i32) = (-719_528, 2_932_897);

/// A content column, typed once so that each cell is read without a cast.
enum Cells<'a> {
    Text(&'a StringArray),
    Date(&'a Date32Array),
    Float(&'a Float64Array),
    Bool(&'a BooleanArray),
    Count(&'a UInt64Array),
    /// Columns of other types are not part of the record schema; they do
    /// not take part in the ordering.
    Other,
}

impl<'a> Cells<'a> {
    fn of(col: &'a ArrayRef) -> Cells<'a> {
        let any = col.as_any();
        if let Some(a) = any.downcast_ref::<StringArray>() {
            Cells::Text(a)
        } else if let Some(a) = any.downcast_ref::<Date32Array>() {
            Cells::Date(a)
        } else if let Some(a) = any.downcast_ref::<Float64Array>() {
            Cells::Float(a)
        } else if let Some(a) = any.downcast_ref::<BooleanArray>() {
            Cells::Bool(a)
        } else if let Some(a) = any.downcast_ref::<UInt64Array>() {
            Cells::Count(a)
        } else {
            Cells::Other
        }
    }

    /// Orders two cells as their texts ([`Cells::text`]) do, making texts
    /// only where the values alone cannot tell.
    fn cmp(&self, a: usize, b: usize) -> Ordering {
        let nulls = |x: &dyn Array| (x.is_null(a), x.is_null(b));
        match self {
            Cells::Text(x) => {
                let text = |r: usize| if x.is_null(r) { "" } else { x.value(r) };
                text(a).cmp(text(b))
            }
            Cells::Other => Ordering::Equal,
            // Texts of other values are never empty, so a null (the empty
            // text) sorts first.
            Cells::Date(x) => match nulls(*x) {
                (false, false) => {
                    let (p, q) = (x.value(a), x.value(b));
                    // Dates of four-digit years print in day order.
                    let plain = |d: i32| (PLAIN_DAYS.0..PLAIN_DAYS.1).contains(&d);
                    if p == q {
                        Ordering::Equal
                    } else if plain(p) && plain(q) {
                        p.cmp(&q)
                    } else {
                        self.text(a).cmp(&self.text(b))
                    }
                }
                (null_a, null_b) => null_b.cmp(&null_a),
            },
            Cells::Bool(x) => match nulls(*x) {
                // `false` < `true`, as their texts.
                (false, false) => x.value(a).cmp(&x.value(b)),
                (null_a, null_b) => null_b.cmp(&null_a),
            },
            Cells::Float(x) => match nulls(*x) {
                (false, false) if x.value(a).to_bits() == x.value(b).to_bits() => Ordering::Equal,
                (false, false) => self.text(a).cmp(&self.text(b)),
                (null_a, null_b) => null_b.cmp(&null_a),
            },
            Cells::Count(x) => match nulls(*x) {
                (false, false) if x.value(a) == x.value(b) => Ordering::Equal,
                (false, false) => self.text(a).cmp(&self.text(b)),
                (null_a, null_b) => null_b.cmp(&null_a),
            },
        }
    }

    /// A cell as text for ordering; nulls sort first as the empty text.
    /// Text cells are borrowed, not copied.
    fn text(&self, row: usize) -> Cow<'a, str> {
        let null = |a: &dyn Array| a.is_null(row);
        match self {
            Cells::Text(a) if !null(*a) => Cow::Borrowed(a.value(row)),
            Cells::Date(a) if !null(*a) => CivilDate::from_days(a.value(row)).to_string().into(),
            Cells::Float(a) if !null(*a) => format!("{:?}", a.value(row)).into(),
            Cells::Bool(a) if !null(*a) => a.value(row).to_string().into(),
            Cells::Count(a) if !null(*a) => a.value(row).to_string().into(),
            _ => Cow::Borrowed(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{DataType, Field, Schema};
    use std::sync::Arc;

    /// A row: source, source_row, student_no, household_no, id_number, name.
    type Row<'a> = (
        &'a str,
        u64,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn batch(rows: &[Row]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new(SOURCE, DataType::Utf8, false),
            Field::new(SOURCE_ROW, DataType::UInt64, false),
            Field::new("student_no", DataType::Utf8, true),
            Field::new("household_no", DataType::Utf8, true),
            Field::new("id_number", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.2))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.3))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.4))),
                Arc::new(StringArray::from_iter(rows.iter().map(|r| r.5))),
            ],
        )
        .unwrap()
    }

    #[test]
    fn picks_the_best_natural_key() {
        let b = batch(&[
            ("enrollment", 1, Some("G1"), None, Some("X"), Some("张三")),
            ("subsidy", 1, None, Some("H9"), Some("X"), Some("张三")),
            ("subsidy", 2, None, Some("H9"), None, Some("李四")),
            ("disability", 1, None, None, Some("X"), None),
            ("disability", 2, None, None, None, Some("王五")),
            ("disability", 3, None, None, None, None),
        ]);
        assert_eq!(
            record_keys(&b),
            [
                "enrollment|sno:G1",
                "subsidy|hh:H9/id:X",
                "subsidy|hh:H9/name:李四",
                "disability|id:X",
                "disability|name:王五",
                "disability|none",
            ]
        );
    }

    #[test]
    fn name_birth_date_and_gender_key_records_without_numbers() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(SOURCE, DataType::Utf8, false),
            Field::new("name", DataType::Utf8, true),
            Field::new("birth_date", DataType::Date32, true),
            Field::new("gender", DataType::Utf8, true),
        ]));
        let day = CivilDate::new(2012, 3, 5).unwrap().to_days();
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["s"; 4])),
                Arc::new(StringArray::from(vec![
                    Some("张三"),
                    Some("李四"),
                    Some("王五"),
                    None,
                ])),
                Arc::new(Date32Array::from(vec![Some(day), None, None, Some(day)])),
                Arc::new(StringArray::from(vec![
                    Some("F"),
                    Some(" M "),
                    None,
                    Some("F"),
                ])),
            ],
        )
        .unwrap();
        assert_eq!(
            record_keys(&b),
            [
                "s|nbg:张三/2012-03-05/F",
                "s|nbg:李四//M",
                "s|name:王五",
                "s|none",
            ]
        );
    }

    #[test]
    fn repeated_keys_are_numbered_by_content_whatever_the_row_order() {
        let rows = [
            ("enrollment", 4, Some("G1"), None, None, Some("丙")),
            ("enrollment", 1, Some("G2"), None, None, Some("甲")),
            ("enrollment", 2, Some("G1"), None, None, Some("甲")),
            ("enrollment", 3, Some("G1"), None, None, Some("乙")),
            ("enrollment", 5, Some("G2"), None, None, Some("乙")),
        ];
        let keys = record_keys(&batch(&rows));
        // By name text: 丙 < 乙 < 甲 for G1, 乙 < 甲 for G2.
        assert_eq!(
            keys,
            [
                "enrollment|sno:G1",
                "enrollment|sno:G2#2",
                "enrollment|sno:G1#3",
                "enrollment|sno:G1#2",
                "enrollment|sno:G2",
            ]
        );
        let mut reversed = rows;
        reversed.reverse();
        let mut again = record_keys(&batch(&reversed));
        again.reverse();
        assert_eq!(again, keys);
    }

    #[test]
    fn plain_days_are_the_four_digit_years() {
        let text = |d| CivilDate::from_days(d).to_string();
        assert_eq!(text(PLAIN_DAYS.0), "0000-01-01");
        assert_eq!(text(PLAIN_DAYS.0 - 1), "-001-12-31");
        assert_eq!(text(PLAIN_DAYS.1 - 1), "9999-12-31");
        assert_eq!(text(PLAIN_DAYS.1), "10000-01-01");
    }

    #[test]
    fn repeated_keys_are_ordered_as_the_texts_of_their_cells() {
        // Rows of one key differing only in cells whose values and texts
        // order differently (9.0 and 10.0, 9 and 10), in dates outside
        // four-digit years, and in nulls.
        let day = |y| CivilDate::new(y, 3, 5).unwrap().to_days();
        let dates = [
            Some(day(2012)),
            Some(PLAIN_DAYS.0 - 1_000),
            Some(PLAIN_DAYS.1 + 1_000),
            None,
            Some(day(2012)),
            Some(day(2012)),
            Some(day(2012)),
            Some(day(2011)),
        ];
        let floats = [
            Some(9.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(10.0),
            None,
            Some(-0.0),
            Some(1.0),
        ];
        let counts = [
            Some(1),
            Some(1),
            Some(1),
            Some(1),
            Some(1),
            Some(10),
            Some(9),
            None,
        ];
        let flags = [
            Some(true),
            None,
            Some(false),
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(false),
        ];
        let n = dates.len();
        let schema = Arc::new(Schema::new(vec![
            Field::new(SOURCE, DataType::Utf8, false),
            Field::new(SOURCE_ROW, DataType::UInt64, false),
            Field::new("student_no", DataType::Utf8, true),
            Field::new("birth_date", DataType::Date32, true),
            Field::new("amount", DataType::Float64, true),
            Field::new("count", DataType::UInt64, true),
            Field::new("flag", DataType::Boolean, true),
        ]));
        let records = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec!["s"; n])),
                Arc::new(UInt64Array::from_iter_values((0..n as u64).rev())),
                Arc::new(StringArray::from(vec![Some("G1"); n])),
                Arc::new(Date32Array::from(dates.to_vec())),
                Arc::new(Float64Array::from(floats.to_vec())),
                Arc::new(UInt64Array::from(counts.to_vec())),
                Arc::new(BooleanArray::from(flags.to_vec())),
            ],
        )
        .unwrap();
        // The order the cells' texts give, made the slow way.
        let cells: Vec<Cells> = records.columns()[2..].iter().map(Cells::of).collect();
        let mut want: Vec<usize> = (0..n).collect();
        want.sort_by_key(|r| {
            let texts: Vec<String> = cells.iter().map(|c| c.text(*r).into_owned()).collect();
            (texts, n - 1 - r)
        });
        let keys = record_keys(&records);
        for (rank, row) in want.iter().enumerate() {
            let expected = match rank {
                0 => "s|sno:G1".to_string(),
                k => format!("s|sno:G1#{}", k + 1),
            };
            assert_eq!(keys[*row], expected, "row {row}");
        }
        let array = record_key_array(&records);
        assert_eq!(array.iter().map(Option::unwrap).collect::<Vec<_>>(), keys);
    }

    #[test]
    fn keys_do_not_depend_on_row_order() {
        // The same two duplicate roster rows (a transfer), in either file order.
        let a = batch(&[
            ("enrollment", 1, Some("G1"), None, None, Some("张三")),
            ("enrollment", 2, Some("G1"), None, None, Some("張三")),
        ]);
        let b = batch(&[
            ("enrollment", 1, Some("G1"), None, None, Some("張三")),
            ("enrollment", 2, Some("G1"), None, None, Some("张三")),
        ]);
        let ka = record_keys(&a);
        let kb = record_keys(&b);
        assert_eq!(ka[0], kb[1]);
        assert_eq!(ka[1], kb[0]);
        assert_ne!(ka[0], ka[1]);
        assert!(ka.iter().any(|k| k == "enrollment|sno:G1"));
        assert!(ka.iter().any(|k| k == "enrollment|sno:G1#2"));
    }
}
