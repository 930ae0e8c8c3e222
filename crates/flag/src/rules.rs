//! The `[flags]` settings: the parameters of the flag rules.

use crate::FlagError;
use aidlink_config::Config;
use serde::Deserialize;

/// Parameters of the flag rules, read from the config's `[flags]` table.
/// Every key has a default, so an absent table means the documented rules.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagRules {
    /// Subsidy types whose active cases make a person eligible (`linshi`,
    /// one-off temporary relief, does not by default).
    pub eligible_subsidy_types: Vec<String>,
    /// Whether a disability record (certificate number or category present,
    /// in an eligibility-role source) makes a person eligible.
    pub disability_eligible: bool,
    /// Months after a case stopped from which still-paid aid is flagged for
    /// exit review.
    pub exit_review_months: u32,
    /// Youngest school age, in whole years on the period's first day.
    pub school_age_min: u32,
    /// Oldest school age, in whole years on the period's first day.
    pub school_age_max: u32,
    /// Groups of aid types that may not be paid to one person together.
    pub non_stacking_aid: Vec<Vec<String>>,
}

impl Default for FlagRules {
    fn default() -> Self {
        FlagRules {
            eligible_subsidy_types: vec!["dibao".to_string(), "tekun".to_string()],
            disability_eligible: true,
            exit_review_months: 3,
            school_age_min: 6,
            school_age_max: 15,
            non_stacking_aid: Vec::new(),
        }
    }
}

impl FlagRules {
    /// Reads and checks the config's `[flags]` table.
    pub fn from_config(config: &Config) -> Result<FlagRules, FlagError> {
        let rules: FlagRules = config.section("flags")?;
        rules.validate()?;
        Ok(rules)
    }

    /// Checks that the parameters make sense together.
    pub fn validate(&self) -> Result<(), FlagError> {
        if self.school_age_min > self.school_age_max {
            return Err(FlagError::InvalidRules {
                key: "school_age_min",
                message: format!(
                    "school_age_min ({}) is above school_age_max ({})",
                    self.school_age_min, self.school_age_max
                ),
            });
        }
        if self.exit_review_months > 1200 {
            return Err(FlagError::InvalidRules {
                key: "exit_review_months",
                message: format!(
                    "exit_review_months is {}, expected at most 1200",
                    self.exit_review_months
                ),
            });
        }
        if let Some(group) = self.non_stacking_aid.iter().find(|g| g.len() < 2) {
            return Err(FlagError::InvalidRules {
                key: "non_stacking_aid",
                message: format!(
                    "group {group:?} lists fewer than two aid types, so nothing can stack in it"
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_absent_keys() {
        let rules: FlagRules = toml::from_str("exit_review_months = 6").unwrap();
        assert_eq!(rules.exit_review_months, 6);
        assert_eq!(rules.eligible_subsidy_types, ["dibao", "tekun"]);
        assert_eq!(rules.school_age_max, 15);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = toml::from_str::<FlagRules>("exit_review_month = 6").unwrap_err();
        assert!(err.to_string().contains("exit_review_month"), "{err}");
    }

    #[test]
    fn validate_names_the_key() {
        let rules = FlagRules {
            school_age_min: 16,
            ..FlagRules::default()
        };
        let err = rules.validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "[flags] school_age_min: school_age_min (16) is above school_age_max (15)"
        );
        let rules = FlagRules {
            non_stacking_aid: vec![vec!["a".into()]],
            ..FlagRules::default()
        };
        assert!(rules.validate().is_err());
    }
}
