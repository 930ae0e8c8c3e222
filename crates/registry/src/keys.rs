//! Record keys: a name for each record that stays the same from month to month.
//!
//! Departments re-export their whole list every month and rows move around,
//! so `source_row` cannot say "the same row as last month". A record key is
//! the source's name plus the record's best natural key instead (see
//! [`record_keys`]); when two records of one period share a key, they are told
//! apart by a suffix given in an order that depends on their content only.

use crate::place::hashed;
use aidlink_vocab::CivilDate;
use aidlink_vocab::schema::{NOTES, SOURCE, SOURCE_ROW};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use rayon::prelude::*;
use std::borrow::Cow;
use std::fmt::Write;

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
pub fn record_keys(records: &RecordBatch) -> Vec<String> {
    let n = records.num_rows();
    let source = text(records, SOURCE);
    let student_no = text(records, "student_no");
    let certificate_no = text(records, "certificate_no");
    let household_no = text(records, "household_no");
    let id_number = text(records, "id_number");
    let name = text(records, "name");
    let gender = text(records, "gender");
    let birth_date = records
        .column_by_name("birth_date")
        .and_then(|c| c.as_any().downcast_ref::<Date32Array>());
    // Each key is written into one string sized for it; rows are
    // independent, and the ordered collect keeps row order.
    let mut keys: Vec<String> = (0..n)
        .into_par_iter()
        .with_min_len(1 << 10)
        .map(|row| {
            let src = value(source, row).unwrap_or("");
            // Columns are read only as far as the key needs them.
            let id = || value(id_number, row);
            let nm = || value(name, row);
            // The key's parts; the birth date's text, when it has one, goes
            // between the parts before and after it.
            let mut date_text = String::new();
            let (head, tail): ([&str; 4], [&str; 2]) = if let Some(s) = value(student_no, row) {
                (["sno:", s, "", ""], ["", ""])
            } else if let Some(c) = value(certificate_no, row) {
                (["cert:", c, "", ""], ["", ""])
            } else if let Some(h) = value(household_no, row) {
                if let Some(id) = id() {
                    (["hh:", h, "/id:", id], ["", ""])
                } else if let Some(nm) = nm() {
                    (["hh:", h, "/name:", nm], ["", ""])
                } else {
                    (["hh:", h, "", ""], ["", ""])
                }
            } else if let Some(id) = id() {
                (["id:", id, "", ""], ["", ""])
            } else if let Some(nm) = nm() {
                match (date(birth_date, row), value(gender, row)) {
                    (None, None) => (["name:", nm, "", ""], ["", ""]),
                    (birth, g) => {
                        if let Some(b) = birth {
                            // Writing into a String cannot fail.
                            let _ = write!(date_text, "{b}");
                        }
                        (["nbg:", nm, "/", ""], ["/", g.unwrap_or("")])
                    }
                }
            } else {
                (["none", "", "", ""], ["", ""])
            };
            // One allocation of the key's exact length.
            let len = src.len() + 1 + head.iter().chain(&tail).map(|p| p.len()).sum::<usize>();
            let mut key = String::with_capacity(len + date_text.len());
            key.push_str(src);
            key.push('|');
            head.iter().for_each(|p| key.push_str(p));
            key.push_str(&date_text);
            tail.iter().for_each(|p| key.push_str(p));
            key
        })
        .collect();
    disambiguate(records, &mut keys);
    keys
}

/// Appends `#2`, `#3`, ... to repeated keys, in an order set by row content.
fn disambiguate(records: &RecordBatch, keys: &mut [String]) {
    // Keys seen more than once: rows sorted by a hash of their key, so that
    // only rows of equal hashes are compared as text. Which groups exist
    // does not depend on the hash, and each group is ordered below.
    let hashed = hashed(keys.len(), |row| keys[row].as_str());
    let mut repeated: Vec<Vec<usize>> = Vec::new();
    for run in hashed
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() > 1)
    {
        let mut rows: Vec<usize> = run.iter().map(|(_, r)| *r as usize).collect();
        rows.sort_by(|a, b| keys[*a].cmp(&keys[*b]).then(a.cmp(b)));
        let same = rows.chunk_by(|a, b| keys[*a] == keys[*b]);
        repeated.extend(same.filter(|g| g.len() > 1).map(<[usize]>::to_vec));
    }
    drop(hashed);
    if repeated.is_empty() {
        return;
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
    // Groups are independent: each is ordered in parallel, and the suffixes
    // are written after.
    let suffixes: Vec<(usize, usize)> = repeated
        .par_iter()
        .flat_map_iter(|rows| {
            let mut signed: Vec<(Vec<Cow<str>>, u64, usize)> = rows
                .iter()
                .map(|&row| {
                    let content = content_columns.iter().map(|c| c.text(row)).collect();
                    let pos = source_row
                        .filter(|c| !c.is_null(row))
                        .map_or(0, |c| c.value(row));
                    (content, pos, row)
                })
                .collect();
            signed.sort();
            signed
                .into_iter()
                .enumerate()
                .skip(1)
                .map(|(rank, (_, _, row))| (row, rank + 1))
        })
        .collect();
    for (row, number) in suffixes {
        let key = &mut keys[row];
        key.push('#');
        key.push_str(&number.to_string());
    }
}

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
