//! How messy each department's extract is: one rate per kind of corruption.
//!
//! Every department makes its own mistakes (school rosters pass through
//! spreadsheets, community workers type subsidy lists by hand, the police
//! register is clean), so [`CorruptionRates`] holds one [`SourceRates`] per
//! source, each with its own realistic defaults. Rates are probabilities per
//! row (per field value where a row holds several IDs or names), applied with
//! the household's deterministic RNG.
//!
//! Rates deserialize from a table of overrides on top of the defaults, so a
//! TOML or JSON file needs to name only what it changes:
//! `{ "enrollment": { "id_scientific": 0.02 } }`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// A rate override that names no known rate or is not a probability.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RateError {
    /// The source name is not one of the four generated sources.
    #[error(
        "unknown source `{0}` in corruption rates; sources are: enrollment, subsidy, household, disability"
    )]
    UnknownSource(String),
    /// The rate name is not a known corruption kind.
    #[error("unknown rate `{source_name}.{rate}`; rates are: {allowed}")]
    UnknownRate {
        /// The source whose table named it.
        source_name: String,
        /// The name seen.
        rate: String,
        /// Every valid rate name.
        allowed: String,
    },
    /// The value is outside 0..=1.
    #[error("rate `{source_name}.{rate}` is {value}, expected a probability between 0 and 1")]
    OutOfRange {
        /// The source whose table named it.
        source_name: String,
        /// The rate name.
        rate: String,
        /// The value seen.
        value: f64,
    },
}

macro_rules! source_rates {
    ($( $(#[doc = $doc:literal])* $name:ident: [$enr:expr, $sub:expr, $hh:expr, $dis:expr], )*) => {
        /// The corruption rates of one source. Defaults differ per source; see
        /// [`CorruptionRates::default`] and `docs/synth.md`.
        #[derive(Clone, Debug, PartialEq, Serialize)]
        pub struct SourceRates {
            $( $(#[doc = $doc])* pub $name: f64, )*
        }

        impl SourceRates {
            /// Every rate name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// A source with no corruption at all.
            pub fn clean() -> Self {
                SourceRates { $( $name: 0.0, )* }
            }

            /// The realistic defaults of source `index` (0 enrollment,
            /// 1 subsidy, 2 household, 3 disability).
            fn defaults(index: usize) -> Self {
                SourceRates { $( $name: [$enr, $sub, $hh, $dis][index], )* }
            }

            /// Sets one rate by name.
            fn set(&mut self, source_name: &str, rate: &str, value: f64) -> Result<(), RateError> {
                if !(0.0..=1.0).contains(&value) {
                    return Err(RateError::OutOfRange {
                        source_name: source_name.to_string(),
                        rate: rate.to_string(),
                        value,
                    });
                }
                match rate {
                    $( stringify!($name) => self.$name = value, )*
                    _ => {
                        return Err(RateError::UnknownRate {
                            source_name: source_name.to_string(),
                            rate: rate.to_string(),
                            allowed: Self::NAMES.join(", "),
                        })
                    }
                }
                Ok(())
            }
        }
    };
}

source_rates! {
    /// ID typed with spaces (`440103 20120305 123X`).
    id_spaces: [0.010, 0.020, 0.0, 0.010],
    /// ID typed with full-width digits (`４４０１…`).
    id_full_width: [0.005, 0.010, 0.0, 0.005],
    /// Share of IDs ending in `X` typed with a lowercase `x`.
    id_lowercase_x: [0.30, 0.40, 0.0, 0.50],
    /// Share of adults born before 2000 whose ID is typed in the old 15-digit form.
    id_old_15: [0.02, 0.05, 0.01, 0.03],
    /// ID with one mistyped digit (the check character then fails).
    id_one_digit: [0.008, 0.012, 0.001, 0.004],
    /// ID with two adjacent digits transposed.
    id_transposed: [0.004, 0.006, 0.0005, 0.002],
    /// ID destroyed by a spreadsheet into scientific notation (`4.40106E+17`);
    /// only IDs ending in a digit, since Excel keeps an `X` as text.
    id_scientific: [0.006, 0.0, 0.0, 0.0],
    /// ID left empty although the person has one.
    id_missing: [0.010, 0.008, 0.001, 0.002],
    /// The guardian's ID typed into the child's own ID column.
    id_guardian: [0.003, 0.0, 0.0, 0.0],
    /// Name written with traditional characters (劉 for 刘).
    name_traditional: [0.005, 0.010, 0.0, 0.003],
    /// One character of the name replaced by a homophone (章 for 张).
    name_homophone: [0.010, 0.015, 0.002, 0.008],
    /// A stray space inside the name (`王 小明`).
    name_space: [0.010, 0.010, 0.0, 0.005],
    /// Share of names with a middle dot (阿依古丽·买买提) typed with another
    /// dot (`•`, `.`, `・`) or none.
    name_dot_variant: [0.30, 0.40, 0.10, 0.30],
    /// Birth date written in a format other than the department's usual one.
    /// Community workers type subsidy member rosters by hand, each their own way.
    date_format_variant: [0.15, 0.25, 0.01, 0.0],
    /// Birth date with one field off (day or month shifted by one).
    date_wrong_day: [0.010, 0.006, 0.002, 0.0],
    /// Birth date left blank although it is known (a member roster's column
    /// the clerk skipped).
    date_missing: [0.0, 0.03, 0.0, 0.0],
    /// Gender written in another text (`男性`, `M`) than the department's code.
    gender_variant: [0.02, 0.0, 0.0, 0.02],
    /// An extra, completely broken copy of a row: no name, no ID.
    broken_row: [0.0005, 0.0005, 0.0001, 0.0005],
}

/// The corruption rates of every source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, BTreeMap<String, f64>>")]
pub struct CorruptionRates {
    /// School enrollment: spreadsheet damage, varied date formats, guardian IDs.
    pub enrollment: SourceRates,
    /// Civil-affairs subsidy: hand typed, old 15-digit IDs, traditional characters.
    pub subsidy: SourceRates,
    /// Household register: nearly clean.
    pub household: SourceRates,
    /// Disability certificates: lowercase `x`, dot variants.
    pub disability: SourceRates,
}

impl Default for CorruptionRates {
    /// Realistic small rates, different per department (documented in `docs/synth.md`).
    fn default() -> Self {
        CorruptionRates {
            enrollment: SourceRates::defaults(0),
            subsidy: SourceRates::defaults(1),
            household: SourceRates::defaults(2),
            disability: SourceRates::defaults(3),
        }
    }
}

impl CorruptionRates {
    /// No corruption in any source: every typed value is the true one.
    pub fn clean() -> Self {
        CorruptionRates {
            enrollment: SourceRates::clean(),
            subsidy: SourceRates::clean(),
            household: SourceRates::clean(),
            disability: SourceRates::clean(),
        }
    }

    /// The rates of one source by its config name.
    pub fn source(&self, name: &str) -> Option<&SourceRates> {
        match name {
            "enrollment" => Some(&self.enrollment),
            "subsidy" => Some(&self.subsidy),
            "household" => Some(&self.household),
            "disability" => Some(&self.disability),
            _ => None,
        }
    }
}

impl TryFrom<BTreeMap<String, BTreeMap<String, f64>>> for CorruptionRates {
    type Error = RateError;

    fn try_from(overrides: BTreeMap<String, BTreeMap<String, f64>>) -> Result<Self, RateError> {
        let mut rates = CorruptionRates::default();
        for (source_name, table) in overrides {
            let target = match source_name.as_str() {
                "enrollment" => &mut rates.enrollment,
                "subsidy" => &mut rates.subsidy,
                "household" => &mut rates.household,
                "disability" => &mut rates.disability,
                _ => return Err(RateError::UnknownSource(source_name)),
            };
            for (rate, value) in table {
                target.set(&source_name, &rate, value)?;
            }
        }
        Ok(rates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_on_top_of_per_source_defaults() {
        let r: CorruptionRates =
            serde_json::from_str(r#"{"enrollment": {"id_scientific": 0.25}}"#).unwrap();
        assert_eq!(r.enrollment.id_scientific, 0.25);
        assert_eq!(r.subsidy, CorruptionRates::default().subsidy);
        assert_eq!(
            r.enrollment.id_spaces,
            CorruptionRates::default().enrollment.id_spaces
        );
    }

    #[test]
    fn unknown_names_and_bad_values_are_rejected() {
        let e = serde_json::from_str::<CorruptionRates>(r#"{"enrollment": {"id_typo": 0.1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("id_typo") && e.contains("id_one_digit"), "{e}");
        assert!(serde_json::from_str::<CorruptionRates>(r#"{"school": {}}"#).is_err());
        assert!(
            serde_json::from_str::<CorruptionRates>(r#"{"subsidy": {"id_spaces": 1.5}}"#).is_err()
        );
    }

    #[test]
    fn departments_differ() {
        let r = CorruptionRates::default();
        assert!(r.enrollment.id_scientific > 0.0 && r.subsidy.id_scientific == 0.0);
        assert!(r.household.id_one_digit < r.subsidy.id_one_digit);
    }
}
