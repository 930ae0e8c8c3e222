//! Writing a flag's `details` JSON object straight into text.
//!
//! The objects are small and their keys fixed, so they are written field by
//! field instead of through a `serde_json::Value` tree. Keys must be given
//! in byte order, the order `serde_json` writes an object's keys in, so the
//! text is what serializing the same object with `serde_json` gives.

use std::fmt::Write;

/// A JSON object being written.
pub(crate) struct Object {
    text: String,
    empty: bool,
}

impl Object {
    pub fn new() -> Object {
        Object {
            text: String::from("{"),
            empty: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.empty {
            self.text.push(',');
        }
        self.empty = false;
        push_str(&mut self.text, key);
        self.text.push(':');
    }

    /// A text value.
    pub fn str(mut self, key: &str, value: &str) -> Object {
        self.key(key);
        push_str(&mut self.text, value);
        self
    }

    /// A text value or `null`.
    pub fn opt_str(mut self, key: &str, value: Option<&str>) -> Object {
        self.key(key);
        match value {
            Some(v) => push_str(&mut self.text, v),
            None => self.text.push_str("null"),
        }
        self
    }

    /// An integer value.
    pub fn int(mut self, key: &str, value: i64) -> Object {
        self.key(key);
        // Writing into a String cannot fail.
        let _ = write!(self.text, "{value}");
        self
    }

    /// A number value, written as `serde_json` writes an `f64` (`null` when
    /// not finite).
    pub fn float(mut self, key: &str, value: f64) -> Object {
        self.key(key);
        let mut buf = Vec::new();
        // Writing into a Vec cannot fail; a float's text is ASCII.
        let _ = serde_json::to_writer(&mut buf, &value);
        self.text.push_str(&String::from_utf8_lossy(&buf));
        self
    }

    /// A list of texts.
    pub fn strs<S: AsRef<str>>(mut self, key: &str, values: &[S]) -> Object {
        self.key(key);
        push_list(&mut self.text, values);
        self
    }

    /// A list of lists of texts.
    pub fn str_lists<S: AsRef<str>>(mut self, key: &str, values: &[Vec<S>]) -> Object {
        self.key(key);
        self.text.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            push_list(&mut self.text, v);
        }
        self.text.push(']');
        self
    }

    /// A list of objects.
    pub fn objects(mut self, key: &str, values: Vec<Object>) -> Object {
        self.key(key);
        self.text.push('[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.text.push_str(&v.finish());
        }
        self.text.push(']');
        self
    }

    /// The object's text.
    pub fn finish(mut self) -> String {
        self.text.push('}');
        self.text
    }
}

fn push_list<S: AsRef<str>>(out: &mut String, values: &[S]) {
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, v.as_ref());
    }
    out.push(']');
}

/// A JSON string, escaped as `serde_json` escapes it: `"` and `\`, and
/// control characters as `\b \t \n \f \r` or `\u00XX`; everything else,
/// non-ASCII included, as is.
fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_what_serde_json_writes() {
        let tricky = "a\"b\\c\u{1}\u{8}\t\n\u{c}\r\u{1f}/é张·\u{7f}";
        let written = Object::new()
            .int("age", -3)
            .float("aid_total", 1250.0)
            .str("birth_date", tricky)
            .opt_str("id_says", None)
            .str_lists("not_stacking", &[vec!["甲", "乙"], vec![]])
            .objects(
                "objects",
                vec![Object::new(), Object::new().float("x", 0.1)],
            )
            .strs("schools", &["一中", "\"q\""])
            .float("z", f64::NAN)
            .finish();
        let expected = json!({
            "age": -3,
            "aid_total": 1250.0,
            "birth_date": tricky,
            "id_says": null,
            "not_stacking": [["甲", "乙"], []],
            "objects": [{}, {"x": 0.1}],
            "schools": ["一中", "\"q\""],
            "z": f64::NAN,
        });
        assert_eq!(written, expected.to_string());
        assert_eq!(
            Object::new().float("a", -0.0).float("b", 1e300).finish(),
            json!({"a": -0.0, "b": 1e300}).to_string()
        );
    }
}
