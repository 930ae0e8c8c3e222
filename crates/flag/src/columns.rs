//! Typed, by-name access to the record table columns the rules read.
//!
//! Only `source` and `source_row` are required; a canonical column that a
//! table lacks reads as all nulls, so a config that maps no disability source
//! simply has no disability records. A column that is present must have the
//! record schema's type.

use crate::FlagError;
use aidlink_vocab::CivilDate;
use aidlink_vocab::schema::{
    BIRTH_MATCHES_ID, GENDER_MATCHES_ID, ID_BIRTH_DATE, ID_CHECK_OK, ID_GENDER, SOURCE, SOURCE_ROW,
};
use arrow_array::{
    Array, BooleanArray, Date32Array, Float64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::DataType;

/// The record table's columns, typed: the two every table has, and the
/// others ([`Fields`], reached through `Deref`).
pub(crate) struct Columns<'a> {
    pub source: &'a StringArray,
    pub source_row: &'a UInt64Array,
    pub fields: Fields<'a>,
}

impl<'a> std::ops::Deref for Columns<'a> {
    type Target = Fields<'a>;

    fn deref(&self) -> &Fields<'a> {
        &self.fields
    }
}

/// The record table's columns the rules read, each `None` when the table
/// lacks it.
pub(crate) struct Fields<'a> {
    pub id_number: Option<&'a StringArray>,
    pub id_check_ok: Option<&'a BooleanArray>,
    pub id_birth_date: Option<&'a Date32Array>,
    pub id_gender: Option<&'a StringArray>,
    pub birth_matches_id: Option<&'a BooleanArray>,
    pub gender_matches_id: Option<&'a BooleanArray>,
    pub name: Option<&'a StringArray>,
    pub name_pinyin: Option<&'a StringArray>,
    pub gender: Option<&'a StringArray>,
    pub birth_date: Option<&'a Date32Array>,
    pub county: Option<&'a StringArray>,
    pub school: Option<&'a StringArray>,
    pub aid_type: Option<&'a StringArray>,
    pub aid_amount: Option<&'a Float64Array>,
    pub subsidy_type: Option<&'a StringArray>,
    pub subsidy_status: Option<&'a StringArray>,
    pub end_month: Option<&'a StringArray>,
    pub certificate_no: Option<&'a StringArray>,
    pub disability_category: Option<&'a StringArray>,
}

fn present(records: &RecordBatch) -> String {
    let names: Vec<&str> = records
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    names.join(", ")
}

fn typed<'a, T: 'static>(
    records: &'a RecordBatch,
    name: &str,
    expected: DataType,
) -> Result<Option<&'a T>, FlagError> {
    let Some(col) = records.column_by_name(name) else {
        return Ok(None);
    };
    match col.as_any().downcast_ref::<T>() {
        Some(a) => Ok(Some(a)),
        None => Err(FlagError::WrongType {
            column: name.to_string(),
            found: col.data_type().clone(),
            expected,
        }),
    }
}

fn text<'a>(records: &'a RecordBatch, name: &str) -> Result<Option<&'a StringArray>, FlagError> {
    typed(records, name, DataType::Utf8)
}

fn boolean<'a>(
    records: &'a RecordBatch,
    name: &str,
) -> Result<Option<&'a BooleanArray>, FlagError> {
    typed(records, name, DataType::Boolean)
}

fn date<'a>(records: &'a RecordBatch, name: &str) -> Result<Option<&'a Date32Array>, FlagError> {
    typed(records, name, DataType::Date32)
}

impl<'a> Columns<'a> {
    pub fn new(records: &'a RecordBatch) -> Result<Self, FlagError> {
        let source = text(records, SOURCE)?.ok_or_else(|| FlagError::MissingColumn {
            column: SOURCE,
            present: present(records),
        })?;
        let source_row =
            typed::<UInt64Array>(records, SOURCE_ROW, DataType::UInt64)?.ok_or_else(|| {
                FlagError::MissingColumn {
                    column: SOURCE_ROW,
                    present: present(records),
                }
            })?;
        for (column, col) in [(SOURCE, source.nulls()), (SOURCE_ROW, source_row.nulls())] {
            if let Some(row) = col.and_then(|n| (0..n.len()).find(|i| n.is_null(*i))) {
                return Err(FlagError::Null { column, row });
            }
        }
        Ok(Columns {
            source,
            source_row,
            fields: Fields::new(records)?,
        })
    }
}

impl<'a> Fields<'a> {
    /// The columns of `records` (any subset of the record table's) by name.
    pub fn new(records: &'a RecordBatch) -> Result<Self, FlagError> {
        Ok(Fields {
            id_number: text(records, "id_number")?,
            id_check_ok: boolean(records, ID_CHECK_OK)?,
            id_birth_date: date(records, ID_BIRTH_DATE)?,
            id_gender: text(records, ID_GENDER)?,
            birth_matches_id: boolean(records, BIRTH_MATCHES_ID)?,
            gender_matches_id: boolean(records, GENDER_MATCHES_ID)?,
            name: text(records, "name")?,
            name_pinyin: text(records, "name_pinyin")?,
            gender: text(records, "gender")?,
            birth_date: date(records, "birth_date")?,
            county: text(records, "county")?,
            school: text(records, "school")?,
            aid_type: text(records, "aid_type")?,
            aid_amount: typed(records, "aid_amount", DataType::Float64)?,
            subsidy_type: text(records, "subsidy_type")?,
            subsidy_status: text(records, "subsidy_status")?,
            end_month: text(records, "end_month")?,
            certificate_no: text(records, "certificate_no")?,
            disability_category: text(records, "disability_category")?,
        })
    }
}

/// The trimmed text of a cell, `None` when the column is absent, the cell
/// null or blank.
pub(crate) fn str_at(col: Option<&StringArray>, row: usize) -> Option<&str> {
    let col = col?;
    if col.is_null(row) {
        return None;
    }
    let v = trimmed(col.value(row));
    (!v.is_empty()).then_some(v)
}

/// `text.trim()`, without decoding a character at either end when the end
/// bytes show it cannot be whitespace: the rules read every cell many times,
/// and cells come trimmed from normalization.
fn trimmed(text: &str) -> &str {
    let b = text.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return text;
    };
    // ASCII other than space and controls is never whitespace; a lead byte
    // of E4..EF (most CJK) starts no whitespace character either.
    let plain_start = (0x21..0x7f).contains(&first) || (0xe4..=0xef).contains(&first);
    // At the end: a printable ASCII byte, or the last of a three-byte
    // character whose lead byte is E4..EF.
    let plain_end = (0x21..0x7f).contains(&last)
        || (b.len() >= 3
            && (0xe4..=0xef).contains(&b[b.len() - 3])
            && (0x80..0xc0).contains(&b[b.len() - 2])
            && (0x80..0xc0).contains(&last));
    if plain_start && plain_end {
        text
    } else {
        text.trim()
    }
}

/// A boolean cell, `None` when absent or null.
pub(crate) fn bool_at(col: Option<&BooleanArray>, row: usize) -> Option<bool> {
    let col = col?;
    (!col.is_null(row)).then(|| col.value(row))
}

/// A date cell, `None` when absent or null.
pub(crate) fn date_at(col: Option<&Date32Array>, row: usize) -> Option<CivilDate> {
    let col = col?;
    (!col.is_null(row)).then(|| CivilDate::from_days(col.value(row)))
}

/// A date cell as days since 1970-01-01, `None` when absent or null.
pub(crate) fn days_at(col: Option<&Date32Array>, row: usize) -> Option<i32> {
    let col = col?;
    (!col.is_null(row)).then(|| col.value(row))
}

/// A number cell, `None` when absent, null or not finite.
pub(crate) fn f64_at(col: Option<&Float64Array>, row: usize) -> Option<f64> {
    let col = col?;
    (!col.is_null(row))
        .then(|| col.value(row))
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::trimmed;

    #[test]
    fn trimmed_is_trim() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "张三",
            "张三\u{3000}",
            "\u{3000}张三",
            "王\u{a0}",
            "\u{2003}x",
            "x\u{2003}",
            "\u{feff}a",
            "a\u{7f}",
            "\t李四\n",
            "éé",
            "1000",
        ] {
            assert_eq!(trimmed(text), text.trim(), "{text:?}");
        }
    }
}
