//! The tier policy: for every published table and column, what the analyst
//! tier gets. This file is the one place that decides it; `docs/privacy.md`
//! renders the same table for people.
//!
//! A table's columns are looked up first in the table's own rules, then in
//! the rules shared by every table (the canonical record fields, which several
//! tables carry). A column found in neither is **dropped**, and a table not
//! listed in [`ANALYST_TABLES`] is not published to the analyst tier at all:
//! a stage that adds a column or a table cannot leak it by accident.

use crate::key::PseudonymKind;

/// What the analyst tier gets of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Treatment {
    /// The column as it is.
    Keep,
    /// Each value replaced by its keyed pseudonym of the given kind.
    Pseudonymize(PseudonymKind),
    /// An ID number shown as `110105********1234` (see [`aidlink_vocab::mask_id_text`]).
    MaskId,
    /// A date (or date text) cut to its month, `YYYY-MM`, as text.
    YearMonth,
    /// An address cut to its county (`广东省广州市天河区`), as text.
    AddressToCounty,
    /// A text that is cut to its month when it is a date (`2012-03-05` ->
    /// `2012-03`) and kept otherwise (a gender code); for JSON values whose
    /// key does not say what they hold.
    YearMonthIfDate,
    /// A JSON object (or a text holding one): each key treated by the listed
    /// rules, recursively; keys not listed are dropped.
    Json(&'static [ColumnRule]),
    /// A JSON object holding a row of another table, named by the row's
    /// `entity` column (`person` -> persons, `flag` -> flags, `link` ->
    /// links): each key treated as that table's column.
    RowJson,
    /// Not published.
    Drop,
}

impl Treatment {
    /// The word `docs/privacy.md` uses for the treatment.
    pub fn describe(self) -> String {
        match self {
            Treatment::Keep => "keep".into(),
            Treatment::Pseudonymize(kind) => format!("pseudonymize (`{}…`)", kind.prefix()),
            Treatment::MaskId => "mask".into(),
            Treatment::YearMonth => "coarsen to year-month".into(),
            Treatment::AddressToCounty => "coarsen to county".into(),
            Treatment::YearMonthIfDate => "coarsen dates to year-month".into(),
            Treatment::Json(rules) => {
                let keys: Vec<String> = rules
                    .iter()
                    .filter(|r| r.treatment != Treatment::Drop)
                    .map(|r| match r.column {
                        ColumnMatch::Exact(n) | ColumnMatch::Suffix(n) => format!("`{n}`"),
                    })
                    .collect();
                format!("JSON, keeping only {} (treated as named)", keys.join(", "))
            }
            Treatment::RowJson => {
                "JSON row, each key treated as the column of the entity's table".into()
            }
            Treatment::Drop => "drop".into(),
        }
    }
}

/// Which column names a rule covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnMatch {
    /// Exactly this name.
    Exact(&'static str),
    /// Any name ending in this suffix.
    Suffix(&'static str),
}

impl ColumnMatch {
    fn matches(self, column: &str) -> bool {
        match self {
            ColumnMatch::Exact(name) => column == name,
            ColumnMatch::Suffix(suffix) => column.ends_with(suffix),
        }
    }
}

/// One line of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnRule {
    /// The columns it covers.
    pub column: ColumnMatch,
    /// What the analyst tier gets.
    pub treatment: Treatment,
    /// The analyst column's name when it differs (a coarsened column is
    /// renamed so nobody mistakes a month for a date).
    pub rename: Option<&'static str>,
    /// Why, for the documentation.
    pub why: &'static str,
}

const fn rule(column: &'static str, treatment: Treatment, why: &'static str) -> ColumnRule {
    ColumnRule {
        column: ColumnMatch::Exact(column),
        treatment,
        rename: None,
        why,
    }
}

const fn renamed(
    column: &'static str,
    treatment: Treatment,
    rename: &'static str,
    why: &'static str,
) -> ColumnRule {
    ColumnRule {
        column: ColumnMatch::Exact(column),
        treatment,
        rename: Some(rename),
        why,
    }
}

const fn suffix(suffix: &'static str, treatment: Treatment, why: &'static str) -> ColumnRule {
    ColumnRule {
        column: ColumnMatch::Suffix(suffix),
        treatment,
        rename: None,
        why,
    }
}

use PseudonymKind as K;
use Treatment::{
    AddressToCounty, Drop, Json, Keep, Pseudonymize, RowJson, YearMonth, YearMonthIfDate,
};

/// Tables that have an analyst form. Any other table (the registry, a
/// model file) stays in the restricted tier only.
pub const ANALYST_TABLES: &[&str] = &[
    "records",
    "persons",
    "flags",
    "rejects",
    "links",
    "delta",
    "person_events",
];

/// Rules shared by every analyst table: the canonical record fields, the
/// derived ID columns and the common bookkeeping columns.
pub const SHARED_RULES: &[ColumnRule] = &[
    rule("source", Keep, "config name of the source"),
    rule(
        "source_row",
        Keep,
        "row number in the extract; useless without the restricted extract",
    ),
    rule("period", Keep, "reporting month"),
    rule(
        "person_id",
        Pseudonymize(K::Person),
        "stable across months; pseudonymized so the tiers cannot be joined",
    ),
    suffix(
        "_person_id",
        Pseudonymize(K::Person),
        "other person numbers (merges, splits)",
    ),
    rule(
        "id_number",
        Pseudonymize(K::ResidentId),
        "direct identifier",
    ),
    rule(
        "guardian_id",
        Pseudonymize(K::ResidentId),
        "direct identifier; same pseudonym as the guardian's own records",
    ),
    rule(
        "head_id",
        Pseudonymize(K::ResidentId),
        "direct identifier; same pseudonym as the head's own records",
    ),
    rule("name", Pseudonymize(K::Name), "direct identifier"),
    rule("guardian_name", Pseudonymize(K::Name), "direct identifier"),
    rule("head_name", Pseudonymize(K::Name), "direct identifier"),
    suffix(
        "_pinyin",
        Drop,
        "the pinyin of a name identifies as well as the name",
    ),
    rule("gender", Keep, "needed for analysis"),
    renamed(
        "birth_date",
        YearMonth,
        "birth_month",
        "quasi-identifier: the day is dropped",
    ),
    rule("phone", Drop, "direct identifier, no analytic use"),
    renamed(
        "address",
        AddressToCounty,
        "address_county",
        "quasi-identifier: only the county is kept",
    ),
    rule("county", Keep, "county-level geography"),
    rule(
        "student_no",
        Pseudonymize(K::StudentNo),
        "usually G + the ID number",
    ),
    rule(
        "school",
        Keep,
        "needed for analysis; counts by school are published with small cells suppressed",
    ),
    rule("grade", Keep, "needed for analysis"),
    rule(
        "class",
        Drop,
        "a class of forty with month of birth and gender singles out a child",
    ),
    rule("aid_type", Keep, "needed for analysis"),
    rule("aid_amount", Keep, "needed for analysis"),
    rule(
        "household_no",
        Pseudonymize(K::Household),
        "case and register numbers identify a household",
    ),
    rule("relation", Keep, "needed for analysis"),
    rule("subsidy_type", Keep, "needed for analysis"),
    rule("subsidy_status", Keep, "needed for analysis"),
    rule("subsidy_amount", Keep, "needed for analysis"),
    rule("start_month", Keep, "already a month"),
    rule("end_month", Keep, "already a month"),
    rule("hukou_type", Keep, "needed for analysis"),
    renamed(
        "move_in",
        YearMonth,
        "move_in_month",
        "quasi-identifier: the day is dropped",
    ),
    renamed(
        "move_out",
        YearMonth,
        "move_out_month",
        "quasi-identifier: the day is dropped",
    ),
    rule(
        "disability_category",
        Keep,
        "needed for analysis (sensitive; analyst tier is access-controlled)",
    ),
    rule("disability_grade", Keep, "needed for analysis"),
    rule(
        "certificate_no",
        Pseudonymize(K::Certificate),
        "usually the ID number plus two digits",
    ),
    rule("id_check_ok", Keep, "data quality"),
    rule("id_area", Keep, "county-level area code"),
    renamed(
        "id_birth_date",
        YearMonth,
        "id_birth_month",
        "quasi-identifier: the day is dropped",
    ),
    rule("id_gender", Keep, "data quality"),
    rule("birth_matches_id", Keep, "data quality"),
    rule("gender_matches_id", Keep, "data quality"),
    rule("notes", Keep, "normalization rule codes, no values"),
    rule("flag", Keep, "flag kind"),
    rule("rule", Keep, "rule that raised a flag"),
    rule("since", Keep, "period a flag has held since"),
    rule("from_period", Keep, "period compared from"),
    rule("to_period", Keep, "period compared to"),
    rule("change_type", Keep, "change data feed kind"),
    rule("entity", Keep, "changed entity kind"),
];

/// Rules of the rejects table.
pub const REJECTS_RULES: &[ColumnRule] = &[
    rule(
        "raw",
        Drop,
        "the raw row holds every identifier of the input",
    ),
    rule("message", Drop, "messages quote the value seen"),
    rule("reason", Keep, "reject reason code"),
    rule("field", Keep, "field the reject concerns"),
];

/// Keys of one `mismatches` item in an `id_mismatch` flag's details.
pub const MISMATCH_RULES: &[ColumnRule] = &[
    rule("record", Keep, "a source:row reference"),
    rule("field", Keep, "which field disagrees"),
    rule(
        "recorded",
        YearMonthIfDate,
        "a recorded birth date is cut to its month",
    ),
    rule(
        "id_says",
        YearMonthIfDate,
        "the ID's birth date is cut to its month",
    ),
];

/// Keys of the flags table's `details` JSON (the values that raised a flag).
pub const FLAG_DETAILS_RULES: &[ColumnRule] = &[
    rule("basis", Keep, "eligibility basis"),
    rule("schools", Keep, "school names"),
    rule("aid_records", Keep, "count"),
    rule("aid_types", Keep, "aid types"),
    rule("not_stacking", Keep, "aid types that may not stack"),
    rule("end_month", Keep, "a month"),
    rule("months_since_end", Keep, "count"),
    rule("aid_total", Keep, "amount"),
    rule("age", Keep, "age in years"),
    renamed(
        "birth_date",
        YearMonth,
        "birth_month",
        "quasi-identifier: the day is dropped",
    ),
    rule(
        "birth_date_from",
        Keep,
        "which field the birth date came from",
    ),
    rule("subsidy_types", Keep, "subsidy types"),
    rule(
        "id_numbers",
        Drop,
        "masked IDs next to a birth month give the full number away in a few guesses",
    ),
    rule("other_persons", Pseudonymize(K::Person), "person numbers"),
    rule("mismatches", Json(MISMATCH_RULES), "list of disagreements"),
];

/// Rules of the flags table.
pub const FLAGS_RULES: &[ColumnRule] = &[
    rule(
        "evidence",
        Keep,
        "source:row references of the records that raised the flag",
    ),
    rule(
        "evidence_digest",
        Keep,
        "a digest of the evidence references",
    ),
    rule(
        "details",
        Json(FLAG_DETAILS_RULES),
        "the values that raised the flag",
    ),
];

/// Rules of the persons table (beyond the shared record fields).
pub const PERSONS_RULES: &[ColumnRule] = &[
    rule("record_count", Keep, "count"),
    rule("sources", Keep, "source names"),
    rule("id_valid", Keep, "data quality"),
    rule("age", Keep, "age in years on the period's first day"),
    rule("schools", Keep, "school names"),
    rule("enrolled", Keep, "status"),
    rule("eligible", Keep, "status"),
    rule("eligibility_basis", Keep, "eligibility kinds"),
    rule("aided", Keep, "status"),
    rule("aid_types", Keep, "aid types"),
    rule("aid_total", Keep, "amount"),
    rule("flags", Keep, "flag names"),
];

/// Rules of the delta table.
pub const DELTA_RULES: &[ColumnRule] = &[
    rule(
        "key",
        Drop,
        "holds the raw person number; use person_id and flag",
    ),
    rule("changed_columns", Keep, "column names"),
    rule(
        "values",
        RowJson,
        "the changed row, treated as its own table's columns",
    ),
    rule("event", Keep, "registry event kind"),
    rule("event_detail", Keep, "counts of records, no values"),
];

/// Rules of the person events table (the registry's merges and splits).
pub const PERSON_EVENTS_RULES: &[ColumnRule] = &[
    rule("event", Keep, "new, merge, split or retire"),
    rule("detail", Keep, "counts of records, no values"),
];

/// Rules of the links table (match evidence per record pair).
pub const LINKS_RULES: &[ColumnRule] = &[
    rule("left_source", Keep, "source name"),
    rule("left_row", Keep, "row number"),
    rule("right_source", Keep, "source name"),
    rule("right_row", Keep, "row number"),
    rule("left_index", Keep, "position in the record table"),
    rule("right_index", Keep, "position in the record table"),
    rule("rules", Keep, "blocking rules that produced the pair"),
    suffix(
        "_level",
        Keep,
        "comparison level name (exact, pinyin, ...), no values",
    ),
    suffix("_weight", Keep, "comparison weight"),
    rule("match_probability", Keep, "score"),
    rule("linked", Keep, "decision"),
];

/// Rules of one table, consulted before [`SHARED_RULES`].
pub fn table_rules(table: &str) -> &'static [ColumnRule] {
    match table {
        "rejects" => REJECTS_RULES,
        "flags" => FLAGS_RULES,
        "persons" => PERSONS_RULES,
        "delta" => DELTA_RULES,
        "person_events" => PERSON_EVENTS_RULES,
        "links" => LINKS_RULES,
        _ => &[],
    }
}

/// The table whose columns a delta row of `entity` holds.
pub fn entity_table(entity: &str) -> Option<&'static str> {
    match entity {
        "person" => Some("persons"),
        "flag" => Some("flags"),
        "link" => Some("links"),
        _ => None,
    }
}

/// The treatment of a key of a JSON column under `rules`; unlisted keys are dropped.
pub fn json_key_treatment(rules: &[ColumnRule], key: &str) -> (Treatment, String) {
    match rules.iter().find(|r| r.column.matches(key)) {
        Some(r) => (r.treatment, r.rename.unwrap_or(key).to_string()),
        None => (Drop, key.to_string()),
    }
}

/// Whether `table` has an analyst form.
pub fn has_analyst_form(table: &str) -> bool {
    ANALYST_TABLES.contains(&table)
}

/// The rule for `column` of `table`, or `None` when the policy does not name
/// it (the column is then dropped).
pub fn rule_for(table: &str, column: &str) -> Option<&'static ColumnRule> {
    table_rules(table)
        .iter()
        .chain(SHARED_RULES)
        .find(|r| r.column.matches(column))
}

/// Columns of a table that the policy does not name, and which the analyst
/// tier therefore drops by default; publish reports them so a new column is
/// noticed and given a deliberate rule.
pub fn undecided_columns(table: &str, schema: &arrow_schema::Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|c| rule_for(table, c).is_none())
        .collect()
}

/// What the analyst tier gets of `column` of `table`: its treatment and the
/// analyst column's name. Unknown columns are dropped.
pub fn treatment(table: &str, column: &str) -> (Treatment, String) {
    match rule_for(table, column) {
        Some(r) => (r.treatment, r.rename.unwrap_or(column).to_string()),
        None => (Drop, column.to_string()),
    }
}

/// The policy as Markdown tables, one per table plus the shared rules;
/// `docs/privacy.md` embeds exactly this text (a test keeps them equal).
pub fn policy_markdown() -> String {
    fn rows(out: &mut String, rules: &[ColumnRule]) {
        out.push_str("| column | analyst tier gets | why |\n|---|---|---|\n");
        for r in rules {
            let column = match r.column {
                ColumnMatch::Exact(n) => format!("`{n}`"),
                ColumnMatch::Suffix(s) => format!("`*{s}`"),
            };
            let mut gets = r.treatment.describe();
            if let Some(name) = r.rename {
                gets.push_str(&format!(", as `{name}`"));
            }
            out.push_str(&format!("| {column} | {gets} | {} |\n", r.why));
        }
    }
    let mut out = String::new();
    out.push_str("#### Every table (shared rules)\n\n");
    rows(&mut out, SHARED_RULES);
    for table in ANALYST_TABLES {
        let rules = table_rules(table);
        if rules.is_empty() {
            continue;
        }
        out.push_str(&format!("\n#### `{table}` (before the shared rules)\n\n"));
        rows(&mut out, rules);
    }
    for (name, rules) in [
        ("flags.details", FLAG_DETAILS_RULES),
        ("flags.details.mismatches[]", MISMATCH_RULES),
    ] {
        out.push_str(&format!("\n#### JSON keys of `{name}`\n\n"));
        rows(&mut out, rules);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use aidlink_vocab::schema::{record_schema, rejects_schema};

    /// `docs/privacy.md` shows the policy between two markers; it must be
    /// the code's policy. `UPDATE_EXPECT=1 cargo test -p aidlink-privacy`
    /// rewrites the section after a deliberate change.
    #[test]
    fn docs_show_the_policy_in_force() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/privacy.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- policy:begin -->\n", "<!-- policy:end -->");
        let start = doc.find(begin).expect("begin marker") + begin.len();
        let stop = doc.find(end).expect("end marker");
        let want = policy_markdown();
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            let updated = format!("{}{want}{}", &doc[..start], &doc[stop..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        assert_eq!(
            &doc[start..stop],
            want,
            "docs/privacy.md is out of date: run UPDATE_EXPECT=1 cargo test -p aidlink-privacy"
        );
    }

    #[test]
    fn unknown_columns_and_tables_are_dropped() {
        assert_eq!(treatment("records", "brand_new_column").0, Drop);
        assert!(!has_analyst_form("registry"));
        assert!(has_analyst_form("records"));
    }

    #[test]
    fn every_record_and_reject_column_is_decided_explicitly() {
        // A canonical field added to the vocabulary must get a deliberate
        // policy line, not fall through to the default.
        for f in record_schema(&[]).fields() {
            assert!(
                rule_for("records", f.name()).is_some(),
                "records.{} has no policy",
                f.name()
            );
        }
        for f in rejects_schema().fields() {
            assert!(
                rule_for("rejects", f.name()).is_some(),
                "rejects.{} has no policy",
                f.name()
            );
        }
    }

    #[test]
    fn the_other_stages_tables_are_decided_explicitly() {
        // Column names of the persons, flags, delta, person_events and links
        // tables as their crates define them today.
        let tables: &[(&str, &[&str])] = &[
            (
                "persons",
                &[
                    "person_id",
                    "record_count",
                    "sources",
                    "name",
                    "id_number",
                    "id_valid",
                    "birth_date",
                    "gender",
                    "age",
                    "county",
                    "schools",
                    "enrolled",
                    "eligible",
                    "eligibility_basis",
                    "aided",
                    "aid_types",
                    "aid_total",
                    "flags",
                ],
            ),
            (
                "flags",
                &[
                    "person_id",
                    "flag",
                    "rule",
                    "since",
                    "evidence",
                    "evidence_digest",
                    "details",
                ],
            ),
            (
                "delta",
                &[
                    "change_type",
                    "entity",
                    "person_id",
                    "key",
                    "flag",
                    "changed_columns",
                    "values",
                    "event",
                    "other_person_id",
                    "event_detail",
                    "from_period",
                    "to_period",
                ],
            ),
            (
                "person_events",
                &["event", "person_id", "other_person_id", "detail"],
            ),
            (
                "links",
                &[
                    "left_source",
                    "left_row",
                    "right_source",
                    "right_row",
                    "left_index",
                    "right_index",
                    "rules",
                    "name_level",
                    "name_weight",
                    "match_weight",
                    "match_probability",
                    "linked",
                ],
            ),
        ];
        for (table, columns) in tables {
            assert!(has_analyst_form(table));
            let fields: Vec<arrow_schema::Field> = columns
                .iter()
                .map(|c| arrow_schema::Field::new(*c, arrow_schema::DataType::Utf8, true))
                .collect();
            let undecided = undecided_columns(table, &arrow_schema::Schema::new(fields));
            assert!(undecided.is_empty(), "{table}: {undecided:?}");
        }
        assert_eq!(treatment("delta", "key").0, Drop);
        assert_eq!(
            treatment("delta", "other_person_id").0,
            Pseudonymize(K::Person)
        );
    }

    #[test]
    fn direct_identifiers_never_pass_through() {
        for col in [
            "id_number",
            "name",
            "phone",
            "address",
            "certificate_no",
            "guardian_id",
            "head_name",
            "name_pinyin",
        ] {
            let (t, _) = treatment("records", col);
            assert!(!matches!(t, Keep), "{col} is kept");
        }
        assert_eq!(treatment("rejects", "raw").0, Drop);
        assert_eq!(
            treatment("delta", "merged_person_id").0,
            Pseudonymize(K::Person)
        );
    }
}
