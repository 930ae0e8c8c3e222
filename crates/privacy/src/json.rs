//! The tier policy applied inside JSON columns (a flag's `details`, a delta
//! row's `values`), key by key, so analysts keep the explanation of a flag or
//! a change without the identifiers in it.

use crate::coarsen::{address_county, year_month_of_text};
use crate::key::PseudonymKey;
use crate::policy::{self, ColumnRule, Treatment};
use aidlink_vocab::mask_id_text;
use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Where the treatment of a JSON object's keys comes from.
#[derive(Clone, Copy)]
pub(crate) enum KeyRules {
    /// A list of rules (unlisted keys dropped).
    List(&'static [ColumnRule]),
    /// A table's column policy (unknown columns dropped).
    Table(&'static str),
}

impl KeyRules {
    /// An identity of the rules (the address of their static data).
    pub(crate) fn id(self) -> usize {
        match self {
            KeyRules::List(rules) => rules.as_ptr() as usize,
            KeyRules::Table(table) => table.as_ptr() as usize,
        }
    }

    /// The treatment of `key` and its output name. The lookup walks the
    /// policy's rule lists; JSON rows repeat the same few keys millions of
    /// times, so answers are remembered per thread, in one table keyed by a
    /// hash of the rules and the key (no allocation on a hit).
    pub(crate) fn treatment(self, key: &str) -> (Treatment, Rc<str>) {
        use std::hash::{BuildHasher, Hasher};
        let id = self.id();
        let mut hasher = Fnv.build_hasher();
        hasher.write_usize(id);
        hasher.write(key.as_bytes());
        let hash = hasher.finish();
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(hit) = cache
                .get(&hash)
                .and_then(|bucket| bucket.iter().find(|e| e.0 == id && *e.1 == *key))
            {
                return hit.2.clone();
            }
            let (treatment, name) = match self {
                KeyRules::List(rules) => policy::json_key_treatment(rules, key),
                KeyRules::Table(table) => policy::treatment(table, key),
            };
            let answer = (treatment, Rc::<str>::from(name));
            // Keys are column names, a bounded set; the bound only guards
            // against data that uses values as keys.
            if cache.len() < 4096 {
                cache
                    .entry(hash)
                    .or_default()
                    .push((id, Box::from(key), answer.clone()));
            }
            answer
        })
    }
}

/// Remembered treatments by hash: (rules, key, answer).
type KeyCache = HashMap<u64, Vec<(usize, Box<str>, (Treatment, Rc<str>))>, Fnv>;

/// The previous row's keys and answers, per rules.
type RowKeys = HashMap<usize, Vec<(Box<str>, (Treatment, Rc<str>))>, Fnv>;

thread_local! {
    static CACHE: RefCell<KeyCache> = RefCell::new(HashMap::default());
    static ROW_KEYS: RefCell<RowKeys> = RefCell::new(HashMap::default());
}

/// FNV-1a: the cache is looked up once per JSON key of every row, with short
/// keys that only this process chooses (column names), where SipHash's
/// flood resistance buys nothing and costs a fifth of the JSON treatment.
#[derive(Clone, Copy, Default)]
struct Fnv;

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

/// The running state of an FNV-1a hash.
struct FnvHasher(u64);

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The analyst form of a text holding a JSON object; `None` (published as
/// null) when the text is not JSON, since unparsed text could hold anything.
pub(crate) fn transform_text(text: &str, rules: KeyRules, key: &PseudonymKey) -> Option<String> {
    if let Ok(Entries(entries)) = serde_json::from_str::<Entries<'_>>(text) {
        return transform_entries(entries, rules, key);
    }
    let value: Value = serde_json::from_str(text).ok()?;
    transform_value(value, rules, key).map(|v| v.to_string())
}

/// The keys of a JSON object with their values' raw text, in input order:
/// parsed without building a value tree, so a kept value is copied rather
/// than parsed and written again (the delta's `values` of a first period
/// are millions of rows).
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Entries<'de>, M::Error> {
                let mut entries = Vec::new();
                while let Some(k) = map.next_key_seed(KeyText)? {
                    entries.push((k, map.next_value::<&'de RawValue>()?));
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A key, borrowed from the text unless it holds escapes.
struct KeyText;

impl<'de> DeserializeSeed<'de> for KeyText {
    type Value = Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_string()))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// The analyst form of an object's entries, written as [`transform_value`]
/// of the parsed object would write it: keys in order of their output name
/// (a later key of the same name replaces an earlier one), compact.
fn transform_entries(
    entries: Vec<(Cow<'_, str>, &RawValue)>,
    rules: KeyRules,
    key: &PseudonymKey,
) -> Option<String> {
    // Rows of one kind repeat the same keys in the same order: the previous
    // row's keys and answers (per rules) are compared first. The memo is
    // taken out of the thread's table while in use, since a JSON value
    // inside (a flag's details) is transformed with other rules meanwhile.
    let id = rules.id();
    let mut memo = ROW_KEYS
        .with(|m| m.borrow_mut().remove(&id))
        .unwrap_or_default();
    let mut out: Vec<(Rc<str>, Cow<'_, str>)> = Vec::with_capacity(entries.len());
    let mut failed = false;
    for (j, (k, raw)) in entries.into_iter().enumerate() {
        let (treatment, name) = match memo.get(j) {
            Some((seen, answer)) if **seen == *k => answer.clone(),
            _ => {
                let answer = rules.treatment(&k);
                let entry = (Box::<str>::from(&*k), answer.clone());
                match memo.get_mut(j) {
                    Some(slot) => *slot = entry,
                    None => memo.push(entry),
                }
                answer
            }
        };
        let text = match treatment {
            Treatment::Drop | Treatment::RowJson => continue,
            Treatment::Keep if canonical(raw.get()) => Cow::Borrowed(raw.get()),
            _ => {
                let Ok(value) = serde_json::from_str::<Value>(raw.get()) else {
                    failed = true;
                    break;
                };
                match apply(value, treatment, key) {
                    Some(v) => Cow::Owned(v.to_string()),
                    None => continue,
                }
            }
        };
        out.push((name, text));
    }
    ROW_KEYS.with(|m| m.borrow_mut().insert(id, memo));
    if failed {
        return None;
    }
    // Stable, so of two entries with one name the later stays last.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::with_capacity(out.iter().map(|(n, t)| n.len() + t.len() + 4).sum());
    text.push('{');
    let mut first = true;
    for (i, (name, value)) in out.iter().enumerate() {
        if out.get(i + 1).is_some_and(|next| next.0 == *name) {
            continue;
        }
        if !first {
            text.push(',');
        }
        first = false;
        text.push_str(&serde_json::to_string(&**name).ok()?);
        text.push(':');
        text.push_str(value);
    }
    text.push('}');
    Some(text)
}

/// Whether raw JSON text is written exactly as `serde_json` would write its
/// parsed value: `true`, `false`, `null`, a string without escapes, or an
/// array of those strings with nothing between them but commas. Anything
/// else (escapes it might write otherwise, objects whose keys it would
/// sort, numbers whose form it might change, `1e3` as `1000.0`, spaces) is
/// parsed and written again.
fn canonical(raw: &str) -> bool {
    if matches!(raw, "true" | "false" | "null") {
        return true;
    }
    let b = raw.as_bytes();
    if b.contains(&b'\\') {
        return false;
    }
    match b.first() {
        Some(b'"') => b.len() >= 2 && b.iter().filter(|&&c| c == b'"').count() == 2,
        Some(b'[') => {
            let mut in_string = false;
            b.iter().all(|&c| match c {
                b'"' => {
                    in_string = !in_string;
                    true
                }
                _ if in_string => true,
                b'[' | b']' | b',' => true,
                _ => false,
            }) && !in_string
                && b.iter().filter(|&&c| c == b'[').count() == 1
        }
        _ => false,
    }
}

/// Applies `rules` to every key of an object, to every object of an array.
fn transform_value(value: Value, rules: KeyRules, key: &PseudonymKey) -> Option<Value> {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let (treatment, name) = rules.treatment(&k);
                if let Some(v) = apply(v, treatment, key) {
                    // Most keys keep their name; reuse the parsed key then
                    // instead of allocating it again.
                    let name = if *name == *k { k } else { name.to_string() };
                    out.insert(name, v);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .into_iter()
                .filter_map(|v| transform_value(v, rules, key))
                .collect(),
        )),
        _ => None,
    }
}

/// Applies one treatment to a JSON value; `None` drops the key.
fn apply(value: Value, treatment: Treatment, key: &PseudonymKey) -> Option<Value> {
    let scalar = |f: &dyn Fn(&str) -> Option<String>, v: Value| -> Value {
        match v {
            Value::String(s) => f(&s).map(Value::String).unwrap_or(Value::Null),
            Value::Null => Value::Null,
            // A number or flag where text was expected is not published:
            // the policy did not foresee it.
            _ => Value::Null,
        }
    };
    let each = |f: &dyn Fn(&str) -> Option<String>, v: Value| -> Value {
        match v {
            Value::Array(items) => Value::Array(items.into_iter().map(|i| scalar(f, i)).collect()),
            other => scalar(f, other),
        }
    };
    Some(match treatment {
        Treatment::Drop | Treatment::RowJson => return None,
        Treatment::Keep => value,
        Treatment::Pseudonymize(kind) => each(&|s| Some(key.pseudonym(kind, s)), value),
        Treatment::MaskId => each(&|s| Some(mask_id_text(s)), value),
        Treatment::YearMonth => each(&year_month_of_text, value),
        Treatment::YearMonthIfDate => each(
            &|s| Some(year_month_of_text(s).unwrap_or_else(|| s.to_string())),
            value,
        ),
        Treatment::AddressToCounty => each(&address_county, value),
        Treatment::Json(rules) => match value {
            Value::String(s) => Value::String(transform_text(&s, KeyRules::List(rules), key)?),
            other => transform_value(other, KeyRules::List(rules), key)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::PseudonymKind;

    fn key() -> PseudonymKey {
        PseudonymKey::from_bytes(b"json-test-key-0123456789abcdef-0123", "test").unwrap()
    }

    #[test]
    fn flag_details_keep_explanations_and_lose_identifiers() {
        let k = key();
        let details = r#"{"age":9,"birth_date":"2016-04-09","birth_date_from":"id_number","id_numbers":["110105********1234"],"other_persons":["P00000002"],"mismatches":[{"record":"enrollment:4","field":"birth_date","recorded":"2016-04-09","id_says":"2016-05-01"},{"record":"enrollment:4","field":"gender","recorded":"M","id_says":"F"}],"surprise":"P00000009"}"#;
        let out = transform_text(details, KeyRules::List(policy::FLAG_DETAILS_RULES), &k).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["age"], 9);
        assert_eq!(v["birth_month"], "2016-04");
        assert!(
            v.get("birth_date").is_none()
                && v.get("id_numbers").is_none()
                && v.get("surprise").is_none(),
            "{out}"
        );
        assert_eq!(
            v["other_persons"][0],
            k.pseudonym(PseudonymKind::Person, "P00000002")
        );
        assert_eq!(v["mismatches"][0]["recorded"], "2016-04");
        assert_eq!(v["mismatches"][1]["id_says"], "F");
        assert!(
            transform_text("not json", KeyRules::List(policy::FLAG_DETAILS_RULES), &k).is_none()
        );
    }

    /// The path that copies kept values writes exactly what parsing the
    /// whole object and writing it again writes.
    #[test]
    fn copying_kept_values_writes_what_the_parsed_object_writes() {
        let k = key();
        let slow = |text: &str, rules: KeyRules| {
            let value: Value = serde_json::from_str(text).ok()?;
            transform_value(value, rules, &k).map(|v| v.to_string())
        };
        let texts = [
            r#"{"person_id":"P00000001","record_count":1,"sources":["disability"],"name":"张伟","id_number":"11010519491231002X","id_valid":true,"birth_date":"1949-12-31","gender":"F","age":76,"county":null,"schools":[],"aid_total":0.0,"flags":[]}"#,
            r#"{"person_id":"P1","flag":"multi_enrollment","since":"2026-02","evidence":["enrollment:830971","enrollment:831056"],"details":"{\"schools\":[\"海州市\",\"花溪县\"],\"birth_date\":\"2012-03-05\"}","evidence_digest":"0d6c57"}"#,
            r#"{"record":"000051e0a3167d48cff3","source":"subsidy","person_id":"P00594391"}"#,
            r#"{ "school" : "a\"b\u0041" , "aid_total": 1e3, "age": -0, "grade": [1, 2], "sources": ["x", "y\n"] }"#,
            r#"{"birth_month":"kept","birth_date":"2012-03-05","birth_date_from":"id"}"#,
            r#"{"birth_date":"2012-03-05","birth_month":"later"}"#,
            r#"{"sch\u006fol":"escaped key","schools":[["nested"]],"county":{"b":1,"a":2}}"#,
            r#"{"schools":["[a]","{b}"],"gender":"M","gender":"F"}"#,
            r#"{}"#,
            r#"[{"age":3}]"#,
            r#""text""#,
            r#"{"age":"#,
        ];
        for text in texts {
            for rules in [
                KeyRules::Table("persons"),
                KeyRules::Table("flags"),
                KeyRules::Table("records"),
                KeyRules::List(policy::FLAG_DETAILS_RULES),
            ] {
                // Twice, so the second pass runs with the keys remembered.
                for _ in 0..2 {
                    assert_eq!(transform_text(text, rules, &k), slow(text, rules), "{text}");
                }
            }
        }
    }

    #[test]
    fn delta_values_follow_their_tables_policy() {
        let k = key();
        let person = r#"{"person_id":"P00000001","name":"张伟","id_number":"110105201203051234","birth_date":"2012-03-05","schools":["第一小学"],"aid_total":1000.0}"#;
        let out = transform_text(person, KeyRules::Table("persons"), &k).unwrap();
        assert!(
            !out.contains("张伟")
                && !out.contains("110105201203051234")
                && !out.contains("P00000001"),
            "{out}"
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["birth_month"], "2012-03");
        assert_eq!(v["aid_total"], 1000.0);
        assert_eq!(v["name"], k.pseudonym(PseudonymKind::Name, "张伟"));
        // A flag row's details is itself JSON inside a string.
        let flag = r#"{"person_id":"P00000001","flag":"out_of_school_risk","details":"{\"birth_date\":\"2012-03-05\",\"age\":14}"}"#;
        let out = transform_text(flag, KeyRules::Table("flags"), &k).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        let inner: Value = serde_json::from_str(v["details"].as_str().unwrap()).unwrap();
        assert_eq!(inner["birth_month"], "2012-03");
    }
}
