//! The same extract in every format and encoding reads into the same raw table.
#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

mod common;

use aidlink_ingest::{IngestError, read_source};
use aidlink_vocab::Period;
use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::*;
use std::path::Path;
use std::sync::Arc;

const PERIOD: &str = "2026-11";

fn period() -> Period {
    Period::parse(PERIOD).unwrap()
}

fn write(dir: &Path, file: &str, bytes: &[u8]) {
    let p = dir.join(PERIOD).join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn write_xlsx(dir: &Path, file: &str, rows: &[Vec<String>]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let cover = book.add_worksheet();
    cover.set_name("说明").unwrap();
    cover.write_string(0, 0, "本表为合成数据").unwrap();
    let sheet = book.add_worksheet();
    sheet.set_name("学生").unwrap();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
        }
    }
    let p = dir.join(PERIOD).join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    book.save(p).unwrap();
}

fn write_parquet(dir: &Path, file: &str, rows: &[Vec<String>]) {
    let schema = Arc::new(Schema::new(
        HEADERS
            .iter()
            .map(|h| Field::new(*h, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let columns: Vec<ArrayRef> = (0..HEADERS.len())
        .map(|c| {
            Arc::new(StringArray::from_iter(
                rows.iter().map(|r| Some(r[c].as_str())),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let p = dir.join(PERIOD).join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(p).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn every_format_and_encoding_reads_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rows = extract(40);
    let csv = delimited(&rows, b',', false);
    write(d, "utf8.csv", csv.as_bytes());
    write(
        d,
        "bom.csv",
        &[b"\xEF\xBB\xBF".as_slice(), csv.as_bytes()].concat(),
    );
    write(d, "gb.csv", &gb18030(&csv));
    write(d, "crlf.csv", delimited(&rows, b',', true).as_bytes());
    write(d, "gb.tsv", &gb18030(&delimited(&rows, b'\t', false)));
    write(d, "semicolon.txt", delimited(&rows, b';', false).as_bytes());
    write_xlsx(d, "book.xlsx", &rows);
    write_parquet(d, "table.parquet", &rows);
    let config = config(
        d,
        &[
            ("a_utf8", "{period}/utf8.csv", ""),
            ("b_bom", "{period}/bom.csv", "encoding = \"auto\""),
            ("c_gb", "{period}/gb.csv", ""),
            ("d_crlf", "{period}/crlf.csv", "format = \"csv\""),
            ("e_tsv", "{period}/gb.tsv", ""),
            ("f_semicolon", "{period}/semicolon.txt", ""),
            ("g_xlsx", "{period}/book.xlsx", "sheet = \"学生\""),
            ("h_xlsx_index", "{period}/book.xlsx", "sheet = \"1\""),
            ("i_parquet", "{period}/table.parquet", ""),
            ("j_gb_explicit", "{period}/gb.csv", "encoding = \"gbk\""),
        ],
    );
    let want = expected(&rows);
    let mut seen = Vec::new();
    for name in config.sources.keys() {
        let out = read_source(&config, name, period()).unwrap();
        assert_eq!(dump(&out.raw), want, "source {name}");
        assert_eq!(out.rejects.num_rows(), 0, "source {name}");
        assert_accounting(&out);
        assert_eq!(out.stats.rows_read, 40);
        assert_eq!(out.stats.sha256.len(), 64);
        seen.push((
            name.clone(),
            out.stats.format_name(),
            out.stats.encoding.clone(),
            out.stats.delimiter,
        ));
    }
    let s =
        |n: &str, f: &'static str, e: &str, d: Option<char>| (n.to_string(), f, e.to_string(), d);
    assert_eq!(
        seen,
        vec![
            s("a_utf8", "csv", "utf-8", Some(',')),
            s("b_bom", "csv", "utf-8-bom", Some(',')),
            s("c_gb", "csv", "gb18030", Some(',')),
            s("d_crlf", "csv", "utf-8", Some(',')),
            s("e_tsv", "tsv", "gb18030", Some('\t')),
            s("f_semicolon", "csv", "utf-8", Some(';')),
            s("g_xlsx", "xlsx", "binary", None),
            s("h_xlsx_index", "xlsx", "binary", None),
            s("i_parquet", "parquet", "binary", None),
            s("j_gb_explicit", "csv", "gb18030", Some(',')),
        ]
    );
}

#[test]
fn an_explicit_encoding_is_honoured_even_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let rows = extract(3);
    write(
        dir.path(),
        "gb.csv",
        &gb18030(&delimited(&rows, b',', false)),
    );
    let config = config(
        dir.path(),
        &[("s", "{period}/gb.csv", "encoding = \"utf-8\"")],
    );
    // Read as UTF-8, the Chinese headers are garbage, so the mapped columns are missing.
    let err = read_source(&config, "s", period()).unwrap_err();
    assert!(matches!(err, IngestError::MissingColumns { .. }), "{err}");
}

#[test]
fn a_pipe_delimited_gb18030_file_survives_trail_bytes_that_look_like_pipes() {
    // GB18030 two-byte characters may have 0x7C (`|`) as their second byte;
    // decoding before parsing keeps those from splitting fields.
    let tricky: String = ('\u{4E00}'..='\u{9FA5}')
        .filter(|c| gb18030(&c.to_string()).contains(&b'|'))
        .take(3)
        .collect();
    assert_eq!(tricky.chars().count(), 3);
    let mut rows = extract(5);
    rows[1][0] = tricky.clone();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "gb.txt",
        &gb18030(&delimited(&rows, b'|', false)),
    );
    let config = config(dir.path(), &[("s", "{period}/gb.txt", "")]);
    let out = read_source(&config, "s", period()).unwrap();
    assert_eq!(out.stats.delimiter, Some('|'));
    assert_eq!(dump(&out.raw), expected(&rows));
}

#[test]
fn excel_numbers_and_dates_read_as_a_person_sees_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    // A title above the header is skipped; so are empty rows between data rows.
    sheet
        .write_string(0, 0, "某某县在校学生名单（合成数据）")
        .unwrap();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).unwrap();
    }
    sheet.write_string(2, 0, "张伟").unwrap();
    sheet.write_number(2, 1, 1).unwrap();
    let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(2012, 3, 5).unwrap();
    sheet.write_datetime_with_format(2, 2, &dt, &date).unwrap();
    // An ID typed as a number: Excel has already lost its last digits.
    sheet.write_number(2, 3, 440106199901011234.0).unwrap();
    sheet.write_number(2, 6, 1500.5).unwrap();
    sheet.write_string(4, 0, "刘一").unwrap();
    sheet.write_number(4, 6, 20120305).unwrap();
    let p = dir.path().join(PERIOD).join("book.xlsx");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    book.save(&p).unwrap();
    let config = config(dir.path(), &[("s", "{period}/book.xlsx", "")]);
    let out = read_source(&config, "s", period()).unwrap();
    assert_accounting(&out);
    assert_eq!((out.stats.preamble_rows, out.stats.blank_lines), (1, 1));
    let got = dump(&out.raw);
    let v = |s: &str| Some(s.to_string());
    assert_eq!(
        got[0],
        vec![
            v("1"),
            None,
            v("1500.5"),
            v("2012-03-05"),
            v("1"),
            v("4.40106199901011E+17"),
            v("张伟"),
            None
        ]
    );
    assert_eq!(
        got[1],
        vec![
            v("2"),
            None,
            v("20120305"),
            None,
            None,
            None,
            v("刘一"),
            None
        ]
    );
}

#[test]
fn a_missing_sheet_names_the_sheets_there_are() {
    let dir = tempfile::tempdir().unwrap();
    write_xlsx(dir.path(), "book.xlsx", &extract(2));
    let config = config(
        dir.path(),
        &[("s", "{period}/book.xlsx", "sheet = \"学生名单\"")],
    );
    let err = read_source(&config, "s", period()).unwrap_err().to_string();
    assert!(
        err.contains("book.xlsx") && err.contains("学生名单") && err.contains("说明, 学生"),
        "{err}"
    );
}

#[test]
fn parquet_columns_of_other_types_read_as_text() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("姓名", DataType::Utf8, true),
        Field::new("身份证号", DataType::Utf8, true),
        Field::new("出生日期", DataType::Date32, true),
        Field::new("资助金额", DataType::Float64, true),
        Field::new("性别", DataType::Int64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![Some("张伟"), Some("")])),
            Arc::new(StringArray::from(vec![None::<&str>, None])),
            Arc::new(Date32Array::from(vec![Some(15404), None])),
            Arc::new(Float64Array::from(vec![Some(500.0), Some(12.5)])),
            Arc::new(Int64Array::from(vec![Some(1), Some(2)])),
        ],
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.parquet");
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&p).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let toml = r#"[sources.s]
path = "t.parquet"
roles = ["eligibility"]
columns = { name = "姓名", id_number = "身份证号", birth_date = "出生日期", aid_amount = "资助金额", gender = "性别" }
"#;
    std::fs::write(dir.path().join("c.toml"), toml).unwrap();
    let config = aidlink_config::Config::load(&dir.path().join("c.toml")).unwrap();
    let out = read_source(&config, "s", period()).unwrap();
    let v = |s: &str| Some(s.to_string());
    assert_eq!(
        dump(&out.raw),
        vec![
            vec![v("1"), v("500"), v("2012-03-05"), v("1"), None, v("张伟")],
            vec![v("2"), v("12.5"), None, v("2"), None, None],
        ]
    );
}

#[test]
fn unknown_sources_and_extensions_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "x.dat", b"a,b\n");
    let config = config(dir.path(), &[("s", "{period}/x.dat", "")]);
    let err = read_source(&config, "s", period()).unwrap_err().to_string();
    assert!(err.contains("x.dat") && err.contains("`dat`"), "{err}");
    let err = read_source(&config, "nope", period())
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope") && err.contains("s"), "{err}");
    let config2 = common::config(dir.path(), &[("s", "{period}/absent.csv", "")]);
    let err = read_source(&config2, "s", period()).unwrap_err();
    assert!(
        matches!(&err, IngestError::Io { path, .. } if path.ends_with("2026-11/absent.csv")),
        "{err}"
    );
}

#[test]
fn excel_rows_are_rejected_for_the_same_reasons_as_text_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("名单").unwrap();
    let rows = extract(3);
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
        // Row 3 (sheet numbering) repeats the header.
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    for (r, row) in [(1u32, &rows[0]), (3, &rows[1]), (4, &rows[2])] {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r, c as u16, v).unwrap();
            }
        }
    }
    // Row 5 has a value beyond the header's last column.
    sheet.write_string(4, 8, "多余").unwrap();
    let p = dir.path().join(PERIOD).join("book.xlsx");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    book.save(&p).unwrap();
    let config = config(dir.path(), &[("s", "{period}/book.xlsx", "")]);
    let out = read_source(&config, "s", period()).unwrap();
    assert_accounting(&out);
    assert_eq!(reject_rows(&out), vec![2, 4]);
    assert_eq!(
        reject_column(&out, "reason"),
        vec!["repeated_header", "ragged_row"]
    );
    assert_eq!(
        reject_column(&out, "message")[1],
        "sheet `名单` row 5: 9 fields where the header has 7"
    );
    assert!(reject_column(&out, "raw")[1].ends_with("\t\t多余"));
    let mut want = expected(&rows[..2]);
    want[1][0] = Some("3".to_string());
    assert_eq!(dump(&out.raw), want);
}

#[test]
fn excel_unicode_text_utf16_is_read() {
    // Excel's "Unicode text" export: UTF-16LE with a BOM, tab-separated.
    let rows = extract(6);
    let mut bytes = vec![0xFF, 0xFE];
    for u in delimited(&rows, b'\t', true).encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "unicode.txt", &bytes);
    let config = config(dir.path(), &[("s", "{period}/unicode.txt", "")]);
    let out = read_source(&config, "s", period()).unwrap();
    assert_eq!(
        (out.stats.encoding.as_str(), out.stats.delimiter),
        ("utf-16le", Some('\t'))
    );
    assert_eq!(dump(&out.raw), expected(&rows));
}

#[test]
fn a_workbook_saved_as_csv_is_read_as_a_workbook_when_the_format_is_auto() {
    let dir = tempfile::tempdir().unwrap();
    let rows = extract(4);
    write_xlsx(dir.path(), "book.csv", &rows);
    write_parquet(dir.path(), "table.csv", &rows);
    let config = config(
        dir.path(),
        &[
            ("a", "{period}/book.csv", "sheet = \"学生\""),
            ("b", "{period}/table.csv", ""),
        ],
    );
    for (name, format) in [("a", "xlsx"), ("b", "parquet")] {
        let out = read_source(&config, name, period()).unwrap();
        assert_eq!(out.stats.format_name(), format);
        assert_eq!(dump(&out.raw), expected(&rows));
    }
}

#[test]
fn sources_read_at_once_equal_each_read_alone_and_fail_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = extract(300);
    write(dir.path(), "a.csv", delimited(&rows, b',', true).as_bytes());
    write(
        dir.path(),
        "b.tsv",
        &gb18030(&delimited(&rows[..120], b'\t', false)),
    );
    let config = config(
        dir.path(),
        &[
            ("a", "{period}/a.csv", ""),
            ("b", "{period}/b.tsv", ""),
            ("missing1", "{period}/none1.csv", ""),
            ("missing2", "{period}/none2.csv", ""),
        ],
    );
    let together = aidlink_ingest::read_sources(&config, &["b", "a"], period()).unwrap();
    let alone = ["b", "a"].map(|n| read_source(&config, n, period()).unwrap());
    for (t, a) in together.iter().zip(&alone) {
        assert_eq!(t.raw, a.raw);
        assert_eq!(t.rejects, a.rejects);
        assert_eq!(format!("{:?}", t.stats), format!("{:?}", a.stats));
    }
    assert_eq!(together[0].stats.encoding, "gb18030");
    // The error is always the first failing source's, in the order asked.
    for _ in 0..5 {
        let err = aidlink_ingest::read_sources(&config, &["a", "missing2", "missing1"], period())
            .unwrap_err()
            .to_string();
        assert!(err.contains("none2.csv"), "{err}");
    }
}
