//! What a source tells us, which decides how its records feed the flags.

use serde::{Deserialize, Serialize};

/// A role a source plays; one source may play several (a school roster is
/// both `enrollment` and `aid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Rows are enrolled students.
    Enrollment,
    /// Rows record aid paid to the person.
    Aid,
    /// Rows make the person eligible for aid (subsidy case member, certificate holder).
    Eligibility,
    /// Rows describe registered households and their members.
    Household,
}

impl Role {
    /// The name used in configs and tables.
    pub fn name(self) -> &'static str {
        match self {
            Role::Enrollment => "enrollment",
            Role::Aid => "aid",
            Role::Eligibility => "eligibility",
            Role::Household => "household",
        }
    }
}
