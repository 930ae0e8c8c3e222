//! Canonical fields: the names every department's columns are mapped onto.
//!
//! A source's config maps its own column headers to these names; the
//! normalized record table has one column per field (see [`crate::schema`]).
//! Each field has a [`FieldKind`], which decides how it is normalized and
//! compared, so a department with an identifier we have not seen before can
//! still be linked by declaring an extra field of a generic kind.

use serde::{Deserialize, Serialize};

/// How a field's values are normalized and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A GB 11643 resident ID number.
    ResidentId,
    /// A person's name in Chinese characters (pinyin key, traditional folding).
    ChineseName,
    /// A calendar date in any common Chinese format.
    Date,
    /// A month, `YYYY-MM`.
    Month,
    /// 男/女, M/F, 1/2.
    Gender,
    /// A phone number (digits only).
    Phone,
    /// A money amount in yuan.
    Amount,
    /// Free text such as an address (whitespace folded).
    FreeText,
    /// An exact code (student number, certificate number, passport number).
    ExactCode,
}

macro_rules! fields {
    ($( $variant:ident => $name:literal, $kind:ident, $doc:literal; )*) => {
        /// A canonical field of the record schema.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Field {
            $( #[doc = $doc] $variant, )*
        }

        impl Field {
            /// Every canonical field, in schema order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            /// The column name used in configs and tables.
            pub fn name(self) -> &'static str {
                match self { $(Field::$variant => $name,)* }
            }

            /// How the field is normalized and compared.
            pub fn kind(self) -> FieldKind {
                match self { $(Field::$variant => FieldKind::$kind,)* }
            }

            /// Looks a field up by its column name.
            pub fn from_name(name: &str) -> Option<Field> {
                match name { $($name => Some(Field::$variant),)* _ => None }
            }
        }
    };
}

fields! {
    IdNumber => "id_number", ResidentId, "The person's own resident ID number.";
    Name => "name", ChineseName, "The person's name.";
    Gender => "gender", Gender, "Recorded gender.";
    BirthDate => "birth_date", Date, "Recorded birth date.";
    Phone => "phone", Phone, "Contact phone number.";
    Address => "address", FreeText, "Home or registered address.";
    County => "county", FreeText, "County or district named by the source.";
    StudentNo => "student_no", ExactCode, "Student number (学籍号).";
    School => "school", FreeText, "School name or code.";
    Grade => "grade", FreeText, "Grade (年级).";
    Class => "class", FreeText, "Class (班级).";
    GuardianName => "guardian_name", ChineseName, "Guardian's name.";
    GuardianId => "guardian_id", ResidentId, "Guardian's resident ID.";
    AidType => "aid_type", FreeText, "Aid received this term (助学金 type), empty when none.";
    AidAmount => "aid_amount", Amount, "Amount of aid received this term.";
    HouseholdNo => "household_no", ExactCode, "Household or case number (户号, 案卷号).";
    HeadName => "head_name", ChineseName, "Head of household's name.";
    HeadId => "head_id", ResidentId, "Head of household's resident ID.";
    Relation => "relation", FreeText, "Relation to the head of household.";
    SubsidyType => "subsidy_type", FreeText, "Subsidy type: dibao, tekun or linshi after value mapping.";
    SubsidyStatus => "subsidy_status", FreeText, "Case status: active or stopped after value mapping.";
    SubsidyAmount => "subsidy_amount", Amount, "Monthly subsidy amount.";
    StartMonth => "start_month", Month, "Month the case started.";
    EndMonth => "end_month", Month, "Month the case stopped, when stopped.";
    HukouType => "hukou_type", FreeText, "Hukou type (agricultural, non-agricultural, ...).";
    MoveIn => "move_in", Date, "Date moved into the household.";
    MoveOut => "move_out", Date, "Date moved out of the household.";
    DisabilityCategory => "disability_category", FreeText, "Disability category (视力 听力 言语 肢体 智力 精神 多重).";
    DisabilityGrade => "disability_grade", FreeText, "Disability grade, 1 to 4.";
    CertificateNo => "certificate_no", ExactCode, "Disability certificate number.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(*f));
        }
        assert_eq!(Field::from_name("nope"), None);
    }
}
