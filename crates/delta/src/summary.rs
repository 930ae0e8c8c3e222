//! A human summary of a delta, for `aidlink diff`.

use crate::DeltaError;
use crate::table::{CHANGE_TYPE, ChangeType, ENTITY, EVENT, FLAG, FROM_PERIOD, TO_PERIOD, strings};
use arrow_array::{Array, RecordBatch, StringArray};
use std::collections::BTreeMap;
use std::fmt;

/// Rows changed of one entity. An update counts once (its pre- and
/// postimage rows are one change).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeCounts {
    /// `insert` rows.
    pub inserted: u64,
    /// `delete` rows.
    pub deleted: u64,
    /// `update_postimage` rows.
    pub updated: u64,
}

/// How one flag changed: raised on more persons, cleared, or kept with
/// other evidence, since or rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagCounts {
    /// Persons newly flagged.
    pub appeared: u64,
    /// Persons no longer flagged.
    pub cleared: u64,
    /// Persons still flagged, with something about the flag changed.
    pub changed: u64,
}

/// Counts of a delta by entity and change type, by flag, and by person event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeltaSummary {
    /// The earliest `from_period` of the rows (none for a first period).
    pub from_period: Option<String>,
    /// The latest `to_period` of the rows.
    pub to_period: Option<String>,
    /// Total rows of the delta.
    pub rows: u64,
    /// Changes by entity (`person`, `flag`, `link`, ...).
    pub entities: BTreeMap<String, ChangeCounts>,
    /// Flag changes by flag name.
    pub flags: BTreeMap<String, FlagCounts>,
    /// Person events by kind (`new`, `merge`, `split`, `retire`).
    pub events: BTreeMap<String, u64>,
}

fn get(col: &StringArray, row: usize) -> Option<&str> {
    (!col.is_null(row)).then(|| col.value(row))
}

/// Counts the rows of a delta table (`delta_schema`).
pub fn summarize(delta: &RecordBatch) -> Result<DeltaSummary, DeltaError> {
    let mut s = DeltaSummary::default();
    for entity in ["person", "flag", "link"] {
        s.entities
            .insert(entity.to_string(), ChangeCounts::default());
    }
    let change = strings(delta, CHANGE_TYPE)?;
    let entity = strings(delta, ENTITY)?;
    let flag = strings(delta, FLAG)?;
    let event = strings(delta, EVENT)?;
    let from = strings(delta, FROM_PERIOD)?;
    let to = strings(delta, TO_PERIOD)?;
    for row in 0..delta.num_rows() {
        let name = get(change, row).unwrap_or("");
        let change_type = ChangeType::from_name(name).ok_or_else(|| DeltaError::BadValue {
            table: "delta",
            row,
            column: CHANGE_TYPE,
            value: name.to_string(),
            allowed: "insert, update_preimage, update_postimage, delete",
        })?;
        s.rows += 1;
        if let Some(f) = get(from, row)
            && s.from_period.as_deref().is_none_or(|x| f < x)
        {
            s.from_period = Some(f.to_string());
        }
        if let Some(t) = get(to, row)
            && s.to_period.as_deref().is_none_or(|x| t > x)
        {
            s.to_period = Some(t.to_string());
        }
        let entity = get(entity, row).unwrap_or("");
        let counts = s.entities.entry(entity.to_string()).or_default();
        match change_type {
            ChangeType::Insert => counts.inserted += 1,
            ChangeType::Delete => counts.deleted += 1,
            ChangeType::UpdatePostimage => counts.updated += 1,
            ChangeType::UpdatePreimage => {}
        }
        if entity == "flag"
            && let Some(flag) = get(flag, row)
        {
            let f = s.flags.entry(flag.to_string()).or_default();
            match change_type {
                ChangeType::Insert => f.appeared += 1,
                ChangeType::Delete => f.cleared += 1,
                ChangeType::UpdatePostimage => f.changed += 1,
                ChangeType::UpdatePreimage => {}
            }
        }
        if let Some(e) = get(event, row) {
            *s.events.entry(e.to_string()).or_insert(0) += 1;
        }
    }
    Ok(s)
}

impl fmt::Display for DeltaSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = self.from_period.as_deref().unwrap_or("(nothing)");
        let to = self.to_period.as_deref().unwrap_or("?");
        if self.rows == 0 {
            return writeln!(f, "No changes from {from} to {to}");
        }
        writeln!(f, "Changes from {from} to {to}: {} rows", self.rows)?;
        let width = self
            .entities
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        writeln!(
            f,
            "  {:<width$}  {:>9}  {:>9}  {:>9}",
            "entity", "inserted", "deleted", "updated"
        )?;
        // The flow's entities first, in flow order, then any others by name.
        let mut entities: Vec<(&String, &ChangeCounts)> = self.entities.iter().collect();
        entities.sort_by_key(|(e, _)| {
            ["person", "flag", "link"]
                .iter()
                .position(|k| k == e)
                .unwrap_or(3)
        });
        for (entity, c) in entities {
            writeln!(
                f,
                "  {entity:<width$}  {:>9}  {:>9}  {:>9}",
                c.inserted, c.deleted, c.updated
            )?;
        }
        if !self.flags.is_empty() {
            let width = self
                .flags
                .keys()
                .map(|k| k.chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            writeln!(
                f,
                "  {:<width$}  {:>9}  {:>9}  {:>9}",
                "flag", "appeared", "cleared", "changed"
            )?;
            for (flag, c) in &self.flags {
                writeln!(
                    f,
                    "  {flag:<width$}  {:>9}  {:>9}  {:>9}",
                    c.appeared, c.cleared, c.changed
                )?;
            }
        }
        if !self.events.is_empty() {
            let parts: Vec<String> = self
                .events
                .iter()
                .map(|(e, n)| format!("{n} {e}"))
                .collect();
            writeln!(f, "  person events: {}", parts.join(", "))?;
        }
        Ok(())
    }
}
