//! The per-source plan: which raw column feeds which record field, with
//! which rule, mapping and note codes. Built once, shared by every chunk.

use crate::NormalizeError;
use crate::notes::{Note, note_code};
use crate::values::ValueMap;
use aidlink_config::{Config, SourceConfig};
use aidlink_vocab::schema::{FieldSpec, SOURCE_ROW, record_schema};
use aidlink_vocab::{Field, FieldKind};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, SchemaRef};
use std::collections::BTreeSet;

/// A reading that applies when a field's mapping does not know a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// No built-in reading: an unmapped value is kept and noted.
    None,
    /// Gender (`男`, `1`, `M`, ...).
    Gender,
    /// Subsidy type (`城市低保` is `dibao`, ...).
    SubsidyType,
    /// Case status (`在保` is `active`, ...).
    SubsidyStatus,
}

/// How one record field is produced.
#[derive(Debug)]
pub struct FieldPlan {
    /// The field.
    pub spec: FieldSpec,
    /// Index of the raw column that feeds it, when the source maps it.
    pub input: Option<usize>,
    /// The source's value mapping for it.
    pub values: Option<ValueMap>,
    /// The built-in reading for values the mapping does not know.
    pub builtin: Builtin,
    /// Index into [`Plan::codes`] of each note on this field.
    pub codes: [u16; Note::ALL.len()],
}

impl FieldPlan {
    /// The note-code index of `note` on this field.
    pub fn code(&self, note: Note) -> u16 {
        self.codes[note as usize]
    }
}

/// How one source's raw table becomes its record table.
#[derive(Debug)]
pub struct Plan {
    /// The config's name for the source.
    pub source: String,
    /// Every record field in schema order.
    pub fields: Vec<FieldPlan>,
    /// Every note code any field can raise, sorted, so that sorting code
    /// indices sorts the codes.
    pub codes: Vec<String>,
    /// The record schema.
    pub schema: SchemaRef,
    /// Index of the raw `source_row` column.
    pub source_row: usize,
    /// For each raw column after `source_row`, in raw order: its index and
    /// the header the source file gave it (for rebuilding a reject's text).
    pub headers: Vec<(usize, String)>,
    /// Position in `fields` of `name`, `id_number`, `birth_date`, `gender`.
    pub name: usize,
    /// Position of `id_number`.
    pub id_number: usize,
    /// Position of `birth_date`.
    pub birth_date: usize,
    /// Position of `gender`.
    pub gender: usize,
}

fn builtin_for(spec: &FieldSpec) -> Builtin {
    match (spec.kind, Field::from_name(&spec.name)) {
        (FieldKind::Gender, _) => Builtin::Gender,
        (_, Some(Field::SubsidyType)) => Builtin::SubsidyType,
        (_, Some(Field::SubsidyStatus)) => Builtin::SubsidyStatus,
        _ => Builtin::None,
    }
}

impl Plan {
    /// Builds the plan of `source_name` for a raw table of `raw`'s schema.
    pub fn new(
        config: &Config,
        source_name: &str,
        raw: &RecordBatch,
    ) -> Result<Plan, NormalizeError> {
        let source: &SourceConfig =
            config
                .sources
                .get(source_name)
                .ok_or_else(|| NormalizeError::UnknownSource {
                    source_name: source_name.to_string(),
                    known: config
                        .sources
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        let raw_schema = raw.schema();
        let source_row = raw_schema
            .index_of(SOURCE_ROW)
            .ok()
            .filter(|i| raw_schema.field(*i).data_type() == &DataType::UInt64)
            .ok_or_else(|| NormalizeError::MissingSourceRow {
                source_name: source_name.to_string(),
            })?;
        let specs = config.all_fields();
        let mut headers = Vec::new();
        for (i, f) in raw_schema.fields().iter().enumerate() {
            if i == source_row {
                continue;
            }
            if !specs.iter().any(|s| s.name == *f.name()) {
                return Err(NormalizeError::UnknownField {
                    source_name: source_name.to_string(),
                    column: f.name().clone(),
                    known: specs
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            if !matches!(f.data_type(), DataType::Utf8) {
                return Err(NormalizeError::NotText {
                    source_name: source_name.to_string(),
                    column: f.name().clone(),
                    found: f.data_type().to_string(),
                });
            }
            let header = source
                .columns
                .get(f.name())
                .cloned()
                .unwrap_or_else(|| f.name().clone());
            headers.push((i, header));
        }
        let mut all_codes = BTreeSet::new();
        for spec in &specs {
            for note in Note::ALL {
                all_codes.insert(note_code(&spec.name, note));
            }
        }
        let codes: Vec<String> = all_codes.into_iter().collect();
        let index_of = |code: String| codes.binary_search(&code).map_or(0, |i| i as u16);
        let fields: Vec<FieldPlan> = specs
            .into_iter()
            .map(|spec| {
                let mut field_codes = [0u16; Note::ALL.len()];
                for note in Note::ALL {
                    field_codes[note as usize] = index_of(note_code(&spec.name, note));
                }
                FieldPlan {
                    input: raw_schema.index_of(&spec.name).ok(),
                    values: source.values.get(&spec.name).map(ValueMap::new),
                    builtin: builtin_for(&spec),
                    codes: field_codes,
                    spec,
                }
            })
            .collect();
        let position = |f: Field| {
            fields
                .iter()
                .position(|p| p.spec.name == f.name())
                .unwrap_or(0)
        };
        Ok(Plan {
            source: source_name.to_string(),
            name: position(Field::Name),
            id_number: position(Field::IdNumber),
            birth_date: position(Field::BirthDate),
            gender: position(Field::Gender),
            fields,
            codes,
            schema: record_schema(&config.extra_fields),
            source_row,
            headers,
        })
    }
}
