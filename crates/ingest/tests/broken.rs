//! Deliberately broken files: every row is accounted for, with a reason.
#![allow(clippy::unwrap_used)] // Test helpers outside #[test] functions unwrap too.

mod common;

use aidlink_ingest::{CheckReport, IngestError, check_source, read_file, read_source};
use aidlink_vocab::Period;
use common::*;
use std::collections::BTreeMap;

fn period() -> Period {
    Period::parse("2026-11").unwrap()
}

/// Writes `bytes` as the period's file and reads it through a config.
fn read(bytes: &[u8], extra: &str) -> Result<aidlink_ingest::IngestOutput, IngestError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("2026-11")).unwrap();
    std::fs::write(dir.path().join("2026-11/x.csv"), bytes).unwrap();
    let config = config(dir.path(), &[("school", "{period}/x.csv", extra)]);
    read_source(&config, "school", period())
}

fn line(row: &[String]) -> String {
    delimited(&[row.to_vec()], b',', false)
        .split_once('\n')
        .unwrap()
        .1
        .to_string()
}

#[test]
fn a_broken_utf8_file_keeps_every_row() {
    let rows = extract(12);
    let header = HEADERS.join(",");
    let mut text = Vec::new();
    text.extend_from_slice(format!("{header}\r\n").as_bytes());
    text.extend_from_slice(line(&rows[0]).replace('\n', "\r\n").as_bytes()); // row 1: CRLF
    text.extend_from_slice(b"\n"); // blank line
    text.extend_from_slice(b"only,three,fields\n"); // row 2: ragged, too few
    text.extend_from_slice(format!("{},extra\n", line(&rows[1]).trim_end()).as_bytes()); // row 3: too many
    text.extend_from_slice(format!("{},\n", line(&rows[2]).trim_end()).as_bytes()); // row 4: one empty extra field, accepted
    text.extend_from_slice(format!("{header}\n").as_bytes()); // row 5: repeated header
    let mut bad = line(&rows[3]).into_bytes();
    bad.splice(0..0, [0xFFu8]); // row 6: an undecodable byte in the name
    text.extend_from_slice(&bad);
    text.extend_from_slice(b",,,,,,\n"); // row 7: every field empty
    let mut multiline = rows[4].clone();
    multiline[5] = "幸福路1号\n3单元".to_string();
    text.extend_from_slice(line(&multiline).as_bytes()); // row 8: embedded newline, accepted
    text.extend_from_slice(line(&rows[5]).as_bytes()); // row 9
    text.extend_from_slice(b"\"unclosed,quote\nand,more\n"); // row 10: never closed
    let out = read(&text, "").unwrap();
    assert_accounting(&out);
    assert_eq!(out.stats.encoding, "utf-8");
    assert_eq!(out.stats.rows_read, 10);
    assert_eq!(out.stats.blank_lines, 1);
    assert_eq!(
        reject_rows(&out)
            .into_iter()
            .zip(reject_column(&out, "reason"))
            .collect::<Vec<_>>(),
        vec![
            (2, "ragged_row".to_string()),
            (3, "ragged_row".to_string()),
            (5, "repeated_header".to_string()),
            (6, "undecodable".to_string()),
            (7, "empty_row".to_string()),
            (10, "unterminated_quote".to_string()),
        ]
    );
    let messages = reject_column(&out, "message");
    assert_eq!(messages[0], "line 4: 3 fields where the header has 7");
    assert!(
        messages[3].starts_with("line 8: bytes that are not valid utf-8 in column `姓名`"),
        "{}",
        messages[3]
    );
    assert_eq!(reject_column(&out, "field")[3], "name");
    assert_eq!(reject_column(&out, "raw")[0], "only,three,fields");
    assert!(reject_column(&out, "raw")[3].starts_with('\u{FFFD}'));
    assert_eq!(reject_column(&out, "raw")[4], ",,,,,,");
    let mut want = expected(&[rows[0].clone(), rows[2].clone(), multiline, rows[5].clone()]);
    for (w, n) in want.iter_mut().zip(["1", "4", "8", "9"]) {
        w[0] = Some(n.to_string());
    }
    assert_eq!(dump(&out.raw), want);
}

#[test]
fn a_gb18030_file_with_a_bad_byte_rejects_only_that_row() {
    let rows = extract(30);
    let text = delimited(&rows, b',', false);
    let (gb, _, _) = encoding_rs::GB18030.encode(&text);
    let mut bytes = gb.into_owned();
    // A lone lead byte before the comma that ends row 7's first field.
    let row7 = bytes
        .split(|b| *b == b'\n')
        .take(7)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let comma = row7 + bytes[row7..].iter().position(|b| *b == b',').unwrap();
    bytes.insert(comma, 0x81);
    let out = read(&bytes, "").unwrap();
    assert_accounting(&out);
    assert_eq!(out.stats.encoding, "gb18030");
    assert_eq!(reject_rows(&out), vec![7]);
    assert_eq!(reject_column(&out, "reason"), vec!["undecodable"]);
    assert_eq!(reject_column(&out, "field"), vec!["name"]);
    assert_eq!(out.raw.num_rows(), 29);
}

#[test]
fn missing_columns_name_the_file_the_fields_and_the_headers_found() {
    let rows = extract(2);
    let text = delimited(&rows, b',', false)
        .replacen("身份证号", "公民身份号码", 1)
        .replacen("学校名称", "学校", 1);
    let err = read(text.as_bytes(), "").unwrap_err();
    match &err {
        IngestError::MissingColumns {
            path,
            missing,
            found,
        } => {
            assert!(path.ends_with("2026-11/x.csv"));
            let m: Vec<(&str, &str)> = missing
                .iter()
                .map(|m| (m.field.as_str(), m.header.as_str()))
                .collect();
            assert_eq!(m, vec![("id_number", "身份证号"), ("school", "学校名称")]);
            assert!(found.contains(&"公民身份号码".to_string()));
        }
        other => panic!("expected missing columns, got {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("x.csv")
            && msg.contains("id_number (header `身份证号`)")
            && msg.contains("`公民身份号码`"),
        "{msg}"
    );
}

#[test]
fn headers_match_despite_padding_and_a_stray_bom() {
    let rows = extract(3);
    let text = delimited(&rows, b',', false).replacen("姓名", "\u{FEFF} 姓名\u{3000}", 1);
    let out = read(text.as_bytes(), "encoding = \"utf-8\"").unwrap();
    assert_eq!(dump(&out.raw), expected(&rows));
}

#[test]
fn an_empty_file_has_no_header() {
    let err = read(b"\n\r\n  \n", "").unwrap_err();
    assert!(matches!(err, IngestError::NoHeader { .. }), "{err}");
    let out = read(format!("{}\n\n", HEADERS.join(",")).as_bytes(), "").unwrap();
    assert_eq!(
        (
            out.stats.rows_read,
            out.raw.num_rows(),
            out.stats.blank_lines
        ),
        (0, 0, 1)
    );
}

#[test]
fn a_duplicated_mapped_header_is_ambiguous() {
    let text = format!("标题\n{},姓名\n", HEADERS.join(","));
    let err = read(text.as_bytes(), "").unwrap_err().to_string();
    assert!(
        err.contains("`姓名`") && err.contains("columns 1 and 8"),
        "{err}"
    );
}

#[test]
fn check_counts_rejects_by_reason() {
    let rows = extract(4);
    let mut text = delimited(&rows, b',', false);
    text.push_str("a,b\n,,,,,,\nc,d\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("2026-11")).unwrap();
    std::fs::write(dir.path().join("2026-11/x.csv"), &text).unwrap();
    let config = config(dir.path(), &[("school", "{period}/x.csv", "")]);
    let report: CheckReport = check_source(&config, "school", period()).unwrap();
    assert_eq!(report.stats.rows_read, 7);
    assert_eq!(report.stats.rows_rejected, 3);
    assert_eq!(
        report.rejects_by_reason,
        BTreeMap::from([("empty_row".to_string(), 1), ("ragged_row".to_string(), 2)])
    );
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    // Several parse chunks' worth of rows, with damage spread through them.
    let rows = extract(30_000);
    let mut text = delimited(&rows, b',', true);
    for i in (99_991..text.len()).step_by(99_991) {
        let at = (i..text.len()).find(|&j| text.is_char_boundary(j)).unwrap();
        text.insert_str(at, "\n\"x\ny\",1\n");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    std::fs::write(&path, &text).unwrap();
    let config = config(dir.path(), &[("school", "big.csv", "")]);
    let source = &config.sources["school"];
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| read_file("school", source, &path).unwrap())
    };
    let one = run(1);
    let four = run(4);
    assert_accounting(&one);
    assert!(one.stats.rows_rejected > 10, "{}", one.stats.rows_rejected);
    assert_eq!(one.raw, four.raw);
    assert_eq!(one.rejects, four.rejects);
    assert_eq!(one.stats, four.stats);
}

#[test]
fn a_title_line_above_the_header_is_skipped() {
    let rows = extract(5);
    let text = format!(
        "某某县2026年11月在校学生名单,,,,,,\n\n导出时间：2026-11-30\n{}",
        delimited(&rows, b'\t', false)
    );
    let out = read(text.as_bytes(), "").unwrap();
    assert_eq!(
        out.stats.delimiter,
        Some('\t'),
        "the title's commas are tried first, but find no header"
    );
    assert_eq!((out.stats.preamble_rows, out.stats.blank_lines), (2, 1));
    assert_eq!(dump(&out.raw), expected(&rows));
}

#[test]
fn with_a_title_line_the_missing_columns_are_those_of_the_likeliest_header() {
    let text = format!(
        "学生名单\n{}",
        delimited(&extract(2), b',', false).replacen("性别", "性 别", 1)
    );
    match read(text.as_bytes(), "").unwrap_err() {
        IngestError::MissingColumns { missing, found, .. } => {
            assert_eq!(missing.len(), 1);
            assert_eq!(missing[0].field, "gender");
            assert_eq!(found[1], "性 别");
        }
        other => panic!("expected missing columns, got {other}"),
    }
}

#[test]
fn a_configured_delimiter_is_used_and_an_unusable_one_refused() {
    let rows = extract(3);
    let text = delimited(&rows, b';', false);
    let out = read(text.as_bytes(), "delimiter = \";\"").unwrap();
    assert_eq!(
        (out.stats.delimiter, dump(&out.raw)),
        (Some(';'), expected(&rows))
    );
    let err = read(text.as_bytes(), "delimiter = \"，\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("x.csv") && err.contains("`，`"), "{err}");
}

#[test]
fn a_trailing_delimiter_on_the_header_is_not_a_column() {
    let rows = extract(2);
    let text = format!(
        "{},\n{}{},\n",
        HEADERS.join(","),
        line(&rows[0]),
        line(&rows[1]).trim_end()
    );
    let out = read(text.as_bytes(), "").unwrap();
    assert_eq!(out.stats.rows_rejected, 0);
    assert_eq!(dump(&out.raw), expected(&rows));
}
