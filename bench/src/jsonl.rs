//! A minimal JSON object writer for the results file (one object per line).

use std::fmt::Write;

/// A JSON object being written.
pub struct Obj(String);

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

impl Obj {
    /// An empty object.
    pub fn new() -> Obj {
        Obj(String::from("{"))
    }

    fn key(&mut self, key: &str) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        push_str(&mut self.0, key);
        self.0.push(':');
    }

    /// A string.
    pub fn str(mut self, key: &str, value: &str) -> Obj {
        self.key(key);
        push_str(&mut self.0, value);
        self
    }

    /// A number; NaN and infinities are written as `null`.
    pub fn num(mut self, key: &str, value: f64) -> Obj {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.0, "{value}");
        } else {
            self.0.push_str("null");
        }
        self
    }

    /// A boolean.
    pub fn bool(mut self, key: &str, value: bool) -> Obj {
        self.key(key);
        self.0.push_str(if value { "true" } else { "false" });
        self
    }

    /// Already-encoded JSON.
    pub fn raw(mut self, key: &str, json: &str) -> Obj {
        self.key(key);
        self.0.push_str(json);
        self
    }

    /// Closes the object and returns its text.
    pub fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// An array of JSON strings.
pub fn str_array(items: &[String]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(&mut out, item);
    }
    out.push(']');
    out
}

fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_objects() {
        let json = Obj::new()
            .str("a", "x\"y")
            .num("n", 1.5)
            .num("nan", f64::NAN)
            .bool("ok", true)
            .raw("l", &str_array(&["q".into()]))
            .finish();
        assert_eq!(
            json,
            r#"{"a":"x\"y","n":1.5,"nan":null,"ok":true,"l":["q"]}"#
        );
    }
}
