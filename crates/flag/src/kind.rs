//! The flags aidlink raises, with the text of each rule.

use crate::FlagRules;

/// A flag raised on a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagKind {
    /// Enrolled and eligible, yet no aid recorded (应助未助).
    EligibleUnaided,
    /// The same aid paid through more than one record, or aid that may not stack (重复资助).
    DuplicateAid,
    /// Aid still paid although eligibility ended months ago (应退未退).
    ExitReview,
    /// A school-age child of an eligible household in no school roster.
    OutOfSchoolRisk,
    /// Enrolled at two schools at once.
    MultiEnrollment,
    /// One resident ID number carried by two persons.
    IdConflict,
    /// A birth date or gender contradicting the record's own ID number.
    IdMismatch,
}

impl FlagKind {
    /// Every flag, in table order.
    pub const ALL: [FlagKind; 7] = [
        FlagKind::EligibleUnaided,
        FlagKind::DuplicateAid,
        FlagKind::ExitReview,
        FlagKind::OutOfSchoolRisk,
        FlagKind::MultiEnrollment,
        FlagKind::IdConflict,
        FlagKind::IdMismatch,
    ];

    /// The name used in the flags table and in `docs/flags.md`.
    pub fn name(self) -> &'static str {
        match self {
            FlagKind::EligibleUnaided => "eligible_unaided",
            FlagKind::DuplicateAid => "duplicate_aid",
            FlagKind::ExitReview => "exit_review",
            FlagKind::OutOfSchoolRisk => "out_of_school_risk",
            FlagKind::MultiEnrollment => "multi_enrollment",
            FlagKind::IdConflict => "id_conflict",
            FlagKind::IdMismatch => "id_mismatch",
        }
    }

    /// Looks a flag up by its name.
    pub fn from_name(name: &str) -> Option<FlagKind> {
        FlagKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The rule as the flags table states it, with the configured parameters.
    pub fn rule(self, rules: &FlagRules) -> String {
        let types = rules.eligible_subsidy_types.join("/");
        match self {
            FlagKind::EligibleUnaided => {
                let disability = if rules.disability_eligible {
                    " or a disability record"
                } else {
                    ""
                };
                format!(
                    "enrolled; eligible by an active {types} case{disability} in an eligibility source; \
                     no aid in any of their aid records"
                )
            }
            FlagKind::DuplicateAid => {
                let groups: Vec<String> =
                    rules.non_stacking_aid.iter().map(|g| g.join("+")).collect();
                let groups = if groups.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", or aid types that may not stack ({}) paid together",
                        groups.join("; ")
                    )
                };
                format!("aid recorded in two or more aid records this period{groups}")
            }
            FlagKind::ExitReview => format!(
                "aid paid; not eligible; a {types} case stopped {} or more months before the period",
                rules.exit_review_months
            ),
            FlagKind::OutOfSchoolRisk => format!(
                "aged {} to {} on the period's first day; member of an active {types} case; \
                 in no enrollment source",
                rules.school_age_min, rules.school_age_max
            ),
            FlagKind::MultiEnrollment => {
                "enrollment records at two or more different schools".to_string()
            }
            FlagKind::IdConflict => {
                "one valid resident ID number carried by records of two or more persons".to_string()
            }
            FlagKind::IdMismatch => {
                "a record whose birth date or gender contradicts its own valid resident ID number"
                    .to_string()
            }
        }
    }
}

impl std::fmt::Display for FlagKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order_and_names_round_trip() {
        // The evaluator indexes per-flag tables by `kind as usize`.
        for (i, k) in FlagKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i);
            assert_eq!(FlagKind::from_name(k.name()), Some(*k));
        }
    }
}
