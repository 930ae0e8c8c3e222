//! The tier policy applied inside JSON columns (a flag's `details`, a delta
//! row's `values`), key by key, so analysts keep the explanation of a flag or
//! a change without the identifiers in it.

use crate::coarsen::{address_county, year_month_of_text};
use crate::key::PseudonymKey;
use crate::policy::{self, ColumnRule, Treatment};
use aidlink_vocab::mask_id_text;
use serde_json::{Map, Value};
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
    /// The treatment of `key` and its output name. The lookup walks the
    /// policy's rule lists; JSON rows repeat the same few keys millions of
    /// times, so answers are remembered per thread.
    fn treatment(self, key: &str) -> (Treatment, Rc<str>) {
        let id = match self {
            KeyRules::List(rules) => rules.as_ptr() as usize,
            KeyRules::Table(table) => table.as_ptr() as usize,
        };
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some(hit) = cache.get(&id).and_then(|m| m.get(key)) {
                return hit.clone();
            }
            let (treatment, name) = match self {
                KeyRules::List(rules) => policy::json_key_treatment(rules, key),
                KeyRules::Table(table) => policy::treatment(table, key),
            };
            let answer = (treatment, Rc::<str>::from(name));
            let per_rules = cache.entry(id).or_default();
            // Keys are column names, a bounded set; the bound only guards
            // against data that uses values as keys.
            if per_rules.len() < 4096 {
                per_rules.insert(key.to_string(), answer.clone());
            }
            answer
        })
    }
}

type KeyCache = HashMap<usize, HashMap<String, (Treatment, Rc<str>), Fnv>, Fnv>;

thread_local! {
    static CACHE: RefCell<KeyCache> = RefCell::new(HashMap::default());
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
    let value: Value = serde_json::from_str(text).ok()?;
    transform_value(value, rules, key).map(|v| v.to_string())
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
