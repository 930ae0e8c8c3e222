//! Shared helpers for ingest's integration tests: a small synthetic extract
//! (made in code, no real person), writers for every format, and table dumps.
#![allow(dead_code, clippy::unwrap_used)]

use aidlink_config::Config;
use aidlink_ingest::IngestOutput;
use aidlink_vocab::{CivilDate, ResidentId};
use arrow_array::{Array, RecordBatch, StringArray, UInt64Array};
use std::path::Path;

/// The extract's headers, as a school department would name them.
pub const HEADERS: [&str; 7] = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "学校名称",
    "家庭住址",
    "资助金额",
];

/// The `columns` table mapping the extract (fields in key order: address,
/// aid_amount, birth_date, gender, id_number, name, school).
pub const COLUMNS: &str = r#"{ name = "姓名", gender = "性别", birth_date = "出生日期", id_number = "身份证号", school = "学校名称", address = "家庭住址", aid_amount = "资助金额" }"#;

/// For each mapped field in key order, its header's position in [`HEADERS`].
pub const FIELD_ORDER: [usize; 7] = [5, 6, 2, 1, 3, 0, 4];

/// A synthetic extract of `n` rows: names from a made-up list, valid IDs,
/// and the awkward cells real files have (commas, quotes, a middle dot, empty cells).
pub fn extract(n: usize) -> Vec<Vec<String>> {
    let surnames = ["欧阳", "张", "刘", "曾", "单", "阿依古丽·"];
    let given = ["娜娜", "伟", "小明", "子涵", "买买提", "一"];
    (0..n)
        .map(|i| {
            let birth = CivilDate::new(
                2010 + (i % 6) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            )
            .unwrap();
            let id = ResidentId::from_parts("110105", birth, (i % 999) as u32 + 1).unwrap();
            vec![
                format!(
                    "{}{}",
                    surnames[i % surnames.len()],
                    given[(i / 6) % given.len()]
                ),
                if i % 2 == 0 { "男" } else { "女" }.to_string(),
                birth.to_string(),
                id.as_str().to_string(),
                format!("第{}小学", i % 5 + 1),
                match i % 4 {
                    0 => format!("幸福路{i}号,3单元"),
                    1 => format!("5号楼\"A\"座{i}室"),
                    2 => String::new(),
                    _ => format!("  解放路{i}号 "),
                },
                if i % 3 == 0 {
                    String::new()
                } else {
                    format!("{}", 500 + i)
                },
            ]
        })
        .collect()
}

/// The extract as delimited text, quoted where needed.
pub fn delimited(rows: &[Vec<String>], delimiter: u8, crlf: bool) -> String {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    w.write_record(HEADERS).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// A config in `dir` with one source per `(name, path, extra keys)`.
pub fn config(dir: &Path, sources: &[(&str, &str, &str)]) -> Config {
    let mut text = String::new();
    for (name, path, extra) in sources {
        text.push_str(&format!(
            "[sources.{name}]\npath = \"{path}\"\nroles = [\"enrollment\"]\ncolumns = {COLUMNS}\n{extra}\n\n"
        ));
    }
    let path = dir.join("aidlink.toml");
    std::fs::write(&path, &text).unwrap();
    Config::load(&path).unwrap()
}

/// The rows the raw table should hold for `rows` (all accepted): `source_row`
/// then the mapped fields in key order, empty cells null.
pub fn expected(rows: &[Vec<String>]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let mut out = vec![Some((i + 1).to_string())];
            out.extend(
                FIELD_ORDER
                    .iter()
                    .map(|&k| (!r[k].is_empty()).then(|| r[k].clone())),
            );
            out
        })
        .collect()
}

/// A raw or rejects table as rows of text (numbers printed), for comparison.
pub fn dump(batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
    (0..batch.num_rows())
        .map(|r| {
            batch
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(r) {
                        None
                    } else if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                        Some(s.value(r).to_string())
                    } else {
                        Some(
                            c.as_any()
                                .downcast_ref::<UInt64Array>()
                                .unwrap()
                                .value(r)
                                .to_string(),
                        )
                    }
                })
                .collect()
        })
        .collect()
}

/// One column of a rejects table.
pub fn reject_column(out: &IngestOutput, name: &str) -> Vec<String> {
    let c = out.rejects.column_by_name(name).unwrap();
    let c = c.as_any().downcast_ref::<StringArray>().unwrap();
    (0..c.len())
        .map(|i| {
            if c.is_null(i) {
                String::new()
            } else {
                c.value(i).to_string()
            }
        })
        .collect()
}

/// The reject rows' `source_row`s.
pub fn reject_rows(out: &IngestOutput) -> Vec<u64> {
    let c = out.rejects.column_by_name("source_row").unwrap();
    c.as_any()
        .downcast_ref::<UInt64Array>()
        .unwrap()
        .values()
        .to_vec()
}

/// Checks the accounting invariant and that every row number is used once.
pub fn assert_accounting(out: &IngestOutput) {
    let s = &out.stats;
    assert_eq!(
        s.rows_read,
        out.raw.num_rows() as u64 + s.rows_rejected,
        "{}",
        s.source
    );
    assert_eq!(s.rows_rejected, out.rejects.num_rows() as u64);
    let raw_rows = out
        .raw
        .column(0)
        .as_any()
        .downcast_ref::<UInt64Array>()
        .unwrap();
    let mut all: Vec<u64> = raw_rows
        .values()
        .iter()
        .copied()
        .chain(reject_rows(out))
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=s.rows_read).collect::<Vec<_>>(), "{}", s.source);
}
