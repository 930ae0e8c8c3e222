//! Blocking rules: which records are worth comparing at all.
//!
//! A rule is a list of key parts; two records are a candidate pair under the
//! rule when they agree on every part. A part may give a record several
//! values (a child's birth date as recorded and as its ID says; a guardian's
//! ID and a household head's ID), and the record then sits in one block per
//! combination. The special part `id_one_edit` pairs records whose IDs are
//! one substitution or one adjacent transposition apart (see [`crate::id_code`]).

use crate::columns::{self, ColumnError};
use aidlink_vocab::schema;
use arrow_array::RecordBatch;
use arrow_array::{Date32Array, StringArray};
use std::hash::Hasher;

/// One part of a blocking key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyPart {
    /// The exact text of a column.
    Column(String),
    /// The recorded birth date, and the ID's birth date when it differs.
    Birth,
    /// The first syllable of the name's pinyin (the surname, for most names).
    Surname,
    /// The name's pinyin after the first syllable (the given name).
    GivenPinyin,
    /// The whole name pinyin.
    NamePinyin,
    /// The guardian's ID and the household head's ID.
    Guardian,
    /// The household number, and the household of the head's and the
    /// guardian's own rows (see [`crate::household`]).
    Household,
    /// The ID number, and the IDs inside the student number (`G` + ID) and
    /// the certificate number (ID + two digits).
    IdCodes,
    /// IDs (as in [`KeyPart::IdCodes`]) one typing error apart; only valid alone.
    IdOneEdit,
}

impl KeyPart {
    /// Reads a part from its config name: `birth`, `surname`, `given_pinyin`, `name_pinyin`,
    /// `guardian`, `household`, `id_codes`, `id_one_edit`, or any column name of
    /// the record table.
    pub fn parse(name: &str) -> KeyPart {
        match name {
            "birth" => KeyPart::Birth,
            "surname" => KeyPart::Surname,
            "given_pinyin" => KeyPart::GivenPinyin,
            "name_pinyin" => KeyPart::NamePinyin,
            "guardian" => KeyPart::Guardian,
            "household" => KeyPart::Household,
            "id_codes" => KeyPart::IdCodes,
            "id_one_edit" => KeyPart::IdOneEdit,
            other => KeyPart::Column(other.to_string()),
        }
    }
}

/// A named blocking rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockingRule {
    /// Name reported in statistics and in the `rules` column of the links.
    pub name: String,
    /// Parts the records must agree on.
    pub parts: Vec<KeyPart>,
}

impl BlockingRule {
    /// A rule from its name and the config names of its parts.
    pub fn new(name: &str, parts: &[&str]) -> BlockingRule {
        BlockingRule {
            name: name.to_string(),
            parts: parts.iter().map(|p| KeyPart::parse(p)).collect(),
        }
    }

    /// The rules used when the config names none, strongest first.
    pub fn defaults() -> Vec<BlockingRule> {
        vec![
            BlockingRule::new("same_id", &["id_codes"]),
            BlockingRule::new("id_one_edit", &["id_one_edit"]),
            BlockingRule::new("birth_name", &["birth", "name_pinyin"]),
            BlockingRule::new("birth_given", &["birth", "given_pinyin"]),
            BlockingRule::new("guardian_surname", &["guardian", "surname"]),
            BlockingRule::new("household_name", &["household", "name_pinyin"]),
        ]
    }

    /// Whether this is the one-typing-error ID rule.
    pub fn is_id_one_edit(&self) -> bool {
        self.parts.contains(&KeyPart::IdOneEdit)
    }
}

/// The IDs a record carries: its own ID number, the ID inside a student
/// number `G` + 18 characters, and the first 18 characters of a certificate
/// number that is an ID plus two digits. Returned as texts, deduplicated.
pub fn id_codes<'a>(
    id: Option<&'a str>,
    student_no: Option<&'a str>,
    certificate_no: Option<&'a str>,
) -> ([Option<&'a str>; 3], usize) {
    let mut out = [None; 3];
    let mut n = 0;
    let mut push = |v: Option<&'a str>| {
        if let Some(v) = v
            && crate::id_code::digits(v).is_some()
            && !out[..n].contains(&Some(v))
        {
            out[n] = Some(v);
            n += 1;
        }
    };
    push(id);
    push(student_no.and_then(|s| s.strip_prefix('G').or_else(|| s.strip_prefix('g'))));
    push(certificate_no.and_then(|c| c.get(..18).filter(|_| c.len() == 20)));
    (out, n)
}

/// The columns blocking keys are read from, borrowed from the record table.
pub struct KeyColumns<'a> {
    id: Option<&'a StringArray>,
    student_no: Option<&'a StringArray>,
    certificate_no: Option<&'a StringArray>,
    birth: Option<&'a Date32Array>,
    id_birth: Option<&'a Date32Array>,
    name_pinyin: Option<&'a StringArray>,
    guardian_id: Option<&'a StringArray>,
    head_id: Option<&'a StringArray>,
    other: Vec<(String, Option<&'a StringArray>)>,
    households: Vec<[u64; 3]>,
}

impl<'a> KeyColumns<'a> {
    /// Borrows the columns the rules need; absent columns give no keys.
    pub fn new(batch: &'a RecordBatch, rules: &[BlockingRule]) -> Result<Self, ColumnError> {
        let mut cols = Self::without_households(batch, rules)?;
        if Self::need_households(rules) {
            cols.households = crate::household::household_keys(batch)?;
        }
        Ok(cols)
    }

    /// Whether a rule keys on households.
    pub fn need_households(rules: &[BlockingRule]) -> bool {
        rules.iter().any(|r| r.parts.contains(&KeyPart::Household))
    }

    /// [`KeyColumns::new`] without the household keys, which the caller
    /// computes ([`crate::household::household_keys`], meanwhile doing
    /// something else) and gives with [`KeyColumns::set_households`] before
    /// blocking with a rule that needs them.
    pub fn without_households(
        batch: &'a RecordBatch,
        rules: &[BlockingRule],
    ) -> Result<Self, ColumnError> {
        let mut other = Vec::new();
        for rule in rules {
            for part in &rule.parts {
                if let KeyPart::Column(name) = part
                    && !other.iter().any(|(n, _)| n == name)
                {
                    other.push((name.clone(), columns::opt_utf8(batch, name)?));
                }
            }
        }
        let households = Vec::new();
        Ok(KeyColumns {
            id: columns::opt_utf8(batch, "id_number")?,
            student_no: columns::opt_utf8(batch, "student_no")?,
            certificate_no: columns::opt_utf8(batch, "certificate_no")?,
            birth: columns::opt_date(batch, "birth_date")?,
            id_birth: columns::opt_date(batch, schema::ID_BIRTH_DATE)?,
            name_pinyin: columns::opt_utf8(batch, "name_pinyin")?,
            guardian_id: columns::opt_utf8(batch, "guardian_id")?,
            head_id: columns::opt_utf8(batch, "head_id")?,
            other,
            households,
        })
    }

    /// Sets the household keys (those of every row of the batch).
    pub fn set_households(&mut self, households: Vec<[u64; 3]>) {
        self.households = households;
    }

    /// The household keys computed for the rules (empty when no rule uses
    /// them), so the compare stage need not compute them again.
    pub fn take_households(&mut self) -> Vec<[u64; 3]> {
        std::mem::take(&mut self.households)
    }

    /// The household keys computed for the rules (empty when no rule uses them).
    pub fn households(&self) -> &[[u64; 3]] {
        &self.households
    }

    /// Whether row `i`'s own `id_number` is an ID (18 characters, digits and
    /// `X`): then it is the first of [`KeyColumns::ids`].
    pub fn own_id_is_id(&self, i: usize) -> bool {
        columns::text(self.id, i).is_some_and(|t| crate::id_code::digits(t).is_some())
    }

    /// The ID texts of row `i` (see [`id_codes`]).
    pub fn ids(&self, i: usize) -> ([Option<&'a str>; 3], usize) {
        id_codes(
            columns::text(self.id, i),
            columns::text(self.student_no, i),
            columns::text(self.certificate_no, i),
        )
    }

    /// Hashes of the values part `part` gives row `i`, appended to `out`.
    fn part_values(&self, part: &KeyPart, i: usize, out: &mut Values) {
        match part {
            KeyPart::Column(name) => {
                let col = self
                    .other
                    .iter()
                    .find(|(n, _)| n == name)
                    .and_then(|(_, c)| *c);
                if let Some(v) = columns::text(col, i) {
                    out.push(hash_str(v));
                }
            }
            KeyPart::Birth => {
                let a = columns::date(self.birth, i);
                let b = columns::date(self.id_birth, i);
                if let Some(a) = a {
                    out.push(a as u64);
                }
                if let Some(b) = b
                    && a != Some(b)
                {
                    out.push(b as u64);
                }
            }
            KeyPart::Surname => {
                if let Some(p) = columns::text(self.name_pinyin, i) {
                    out.push(hash_str(p.split(' ').next().unwrap_or(p)));
                }
            }
            KeyPart::GivenPinyin => {
                if let Some((_, g)) =
                    columns::text(self.name_pinyin, i).and_then(|p| p.split_once(' '))
                {
                    out.push(hash_str(g));
                }
            }
            KeyPart::NamePinyin => {
                if let Some(p) = columns::text(self.name_pinyin, i) {
                    out.push(hash_str(p));
                }
            }
            KeyPart::Guardian => {
                let g = columns::text(self.guardian_id, i);
                let h = columns::text(self.head_id, i);
                if let Some(g) = g {
                    out.push(hash_str(g));
                }
                if let Some(h) = h
                    && g != Some(h)
                {
                    out.push(hash_str(h));
                }
            }
            KeyPart::Household => {
                if let Some(h) = self.households.get(i) {
                    out.extend(h.iter().copied().filter(|&x| x != 0));
                }
            }
            KeyPart::IdCodes | KeyPart::IdOneEdit => {
                let (ids, n) = self.ids(i);
                out.extend(ids[..n].iter().flatten().map(|v| hash_str(v)));
            }
        }
    }

    /// Every key rule `parts` gives row `i` (one per combination of part
    /// values, at most [`MAX_KEYS`]), appended to `out`. A row missing any
    /// part gets no key.
    pub fn keys(&self, parts: &[KeyPart], i: usize, out: &mut Vec<u64>) {
        // Fixed buffers: this runs for every row and rule, so no allocation.
        let mut cur = [0u64; MAX_KEYS];
        let mut next = [0u64; MAX_KEYS];
        let mut vals = Values::default();
        cur[0] = 0x9e37_79b9_7f4a_7c15;
        let mut n = 1;
        for (p, part) in parts.iter().enumerate() {
            vals.len = 0;
            self.part_values(part, i, &mut vals);
            if vals.len == 0 {
                return;
            }
            let mut m = 0;
            for &k in &cur[..n] {
                for &v in vals.as_slice() {
                    if m < MAX_KEYS {
                        next[m] = mix(k, v, p as u64);
                        m += 1;
                    }
                }
            }
            cur[..m].copy_from_slice(&next[..m]);
            n = m;
        }
        out.extend_from_slice(&cur[..n]);
    }
}

/// The key a rule of the single part [`KeyPart::IdCodes`] gives an ID text
/// (what [`KeyColumns::keys`] computes for a row carrying that ID).
pub fn id_key(id: &str) -> u64 {
    mix(0x9e37_79b9_7f4a_7c15, hash_str(id), 0)
}

/// Most keys one row gets under one rule.
pub const MAX_KEYS: usize = 27;

/// The values one key part gives a row (at most three: a household's three
/// keys, a record's three IDs), without a heap allocation per row.
#[derive(Default)]
struct Values {
    v: [u64; 3],
    len: usize,
}

impl Values {
    fn push(&mut self, x: u64) {
        if self.len < self.v.len() {
            self.v[self.len] = x;
            self.len += 1;
        }
    }

    fn extend(&mut self, xs: impl IntoIterator<Item = u64>) {
        for x in xs {
            self.push(x);
        }
    }

    fn as_slice(&self) -> &[u64] {
        &self.v[..self.len]
    }
}

/// A stable 64-bit hash of a text (FxHash is not seeded, so it is the same on every run).
pub fn hash_str(s: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(s.as_bytes());
    h.write_u8(0xff);
    h.finish()
}

fn mix(k: u64, v: u64, part: u64) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write_u64(k);
    h.write_u64(part);
    h.write_u64(v);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_codes_reads_student_and_certificate_numbers() {
        let id = "11010519491231002X";
        let (v, n) = id_codes(
            None,
            Some("G11010519491231002X"),
            Some("1101051949123100214"),
        );
        assert_eq!((v[0], n), (Some(id), 1));
        let (v, n) = id_codes(
            Some(id),
            Some("G11010519491231002X"),
            Some("11010519491231002X21"),
        );
        assert_eq!((v[0], n), (Some(id), 1));
        let (_, n) = id_codes(Some(id), Some("L2024000123"), Some("11010519491231003X21"));
        assert_eq!(n, 2);
    }

    #[test]
    fn parts_parse_from_config_names() {
        assert_eq!(KeyPart::parse("birth"), KeyPart::Birth);
        assert_eq!(
            KeyPart::parse("passport"),
            KeyPart::Column("passport".into())
        );
        assert!(
            BlockingRule::defaults()
                .iter()
                .any(BlockingRule::is_id_one_edit)
        );
    }
}
