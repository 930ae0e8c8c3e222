//! Normalization notes: which rule changed or dropped a value.
//!
//! Every rule function returns the set of [`Note`]s it raised alongside its
//! value. A note becomes a code in the record's `notes` column by prefixing
//! the field it concerns (`name` + [`Note::Traditional`] is
//! `name_traditional`; the person's own `id_number` uses the shorter prefix
//! `id`, so its notes read `id_check_failed`, `id_15_to_18`, ...).
//! The set is a bit mask, so raising a note never allocates.

/// One thing a normalization rule did to a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Note {
    /// Whitespace was trimmed, removed or folded.
    Spaces,
    /// Full-width characters were folded to ASCII.
    Fullwidth,
    /// Separators other than spaces (dashes, quotes, brackets) were removed.
    Separators,
    /// A lowercase letter was upper-cased (an ID's `x`, a code's letters).
    LowercaseX,
    /// Letters of an exact code were upper-cased.
    Case,
    /// Traditional characters were converted to simplified.
    Traditional,
    /// A name's dot was typed as a look-alike of `·` (then dropped, or
    /// written `·` next to Latin text), doubled, or stray at an end.
    Dot,
    /// A placeholder such as `不详` or `N/A` was read as missing.
    Placeholder,
    /// The value could not be read and is kept as missing.
    Invalid,
    /// The value is not in the source's value mapping nor in the built-in readings.
    Unmapped,
    /// An old 15-digit ID was converted to 18 digits.
    From15To18,
    /// The ID's check character does not match its digits (the ID is kept).
    CheckFailed,
    /// A spreadsheet turned the value into scientific notation; it is missing.
    ScientificNotation,
    /// The ID could not be read at all (wrong length, letters); it is missing.
    Unrecoverable,
    /// The ID's embedded birth date is no real date.
    DateInvalid,
    /// A date was given as an Excel serial day number.
    ExcelSerial,
    /// A month was given as a full date; the day was dropped.
    DayDropped,
    /// A phone number's country code (`+86`, `0086`) was removed.
    CountryCode,
    /// A phone number's extension or a second number was dropped.
    ExtraDropped,
}

impl Note {
    /// Every note, in declaration order.
    pub const ALL: [Note; 19] = [
        Note::Spaces,
        Note::Fullwidth,
        Note::Separators,
        Note::LowercaseX,
        Note::Case,
        Note::Traditional,
        Note::Dot,
        Note::Placeholder,
        Note::Invalid,
        Note::Unmapped,
        Note::From15To18,
        Note::CheckFailed,
        Note::ScientificNotation,
        Note::Unrecoverable,
        Note::DateInvalid,
        Note::ExcelSerial,
        Note::DayDropped,
        Note::CountryCode,
        Note::ExtraDropped,
    ];

    /// The suffix of the note code, after the field prefix and `_`.
    pub fn suffix(self) -> &'static str {
        match self {
            Note::Spaces => "spaces",
            Note::Fullwidth => "fullwidth",
            Note::Separators => "separators",
            Note::LowercaseX => "lowercase_x",
            Note::Case => "case",
            Note::Traditional => "traditional",
            Note::Dot => "dot",
            Note::Placeholder => "placeholder",
            Note::Invalid => "invalid",
            Note::Unmapped => "unmapped",
            Note::From15To18 => "15_to_18",
            Note::CheckFailed => "check_failed",
            Note::ScientificNotation => "scientific_notation",
            Note::Unrecoverable => "unrecoverable",
            Note::DateInvalid => "date_invalid",
            Note::ExcelSerial => "excel_serial",
            Note::DayDropped => "day_dropped",
            Note::CountryCode => "country_code",
            Note::ExtraDropped => "extra_dropped",
        }
    }
}

/// The prefix of a field's note codes: the field name, except `id` for the
/// person's own `id_number`.
pub fn note_prefix(field: &str) -> &str {
    if field == aidlink_vocab::Field::IdNumber.name() {
        "id"
    } else {
        field
    }
}

/// The full note code of `note` on `field`: `name_traditional`, `id_15_to_18`.
pub fn note_code(field: &str, note: Note) -> String {
    format!("{}_{}", note_prefix(field), note.suffix())
}

/// A set of notes, as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoteSet(u32);

impl NoteSet {
    /// No notes.
    pub const EMPTY: NoteSet = NoteSet(0);

    /// The set holding only `note`.
    pub fn of(note: Note) -> Self {
        NoteSet(1 << note as u32)
    }

    /// Adds a note.
    pub fn add(&mut self, note: Note) {
        self.0 |= 1 << note as u32;
    }

    /// Adds `note` when `cond` holds.
    pub fn add_if(&mut self, cond: bool, note: Note) {
        self.0 |= u32::from(cond) << note as u32;
    }

    /// Adds every note of `other`.
    pub fn extend(&mut self, other: NoteSet) {
        self.0 |= other.0;
    }

    /// Whether the set holds `note`.
    pub fn contains(self, note: Note) -> bool {
        self.0 & (1 << note as u32) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The notes in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Note> {
        Note::ALL.into_iter().filter(move |n| self.contains(*n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_the_field_prefix_and_id_is_short() {
        assert_eq!(note_code("name", Note::Traditional), "name_traditional");
        assert_eq!(note_code("id_number", Note::From15To18), "id_15_to_18");
        assert_eq!(
            note_code("guardian_id", Note::CheckFailed),
            "guardian_id_check_failed"
        );
    }

    #[test]
    fn sets_hold_what_was_added() {
        let mut s = NoteSet::EMPTY;
        assert!(s.is_empty());
        s.add(Note::Dot);
        s.add_if(false, Note::Spaces);
        s.add_if(true, Note::ExtraDropped);
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Note::Dot, Note::ExtraDropped]
        );
        assert!(Note::ALL.iter().enumerate().all(|(i, n)| *n as usize == i));
    }
}
