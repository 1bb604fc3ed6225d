//! JSON written the way Python's `json.dumps(obj, ensure_ascii=False)` writes it (`", "` and
//! `": "` separators). SimpleTool's prompts embed tool schemas rendered by Python, and a prompt
//! that differs by one space is a different prompt.

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io;

struct PythonFormatter;

/// Python's separator between items: `, ` (serde_json writes `,`).
fn comma_unless<W: ?Sized + io::Write>(first: bool, w: &mut W) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        w.write_all(b", ")
    }
}

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        comma_unless(first, w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        comma_unless(first, w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// `json.dumps(value, ensure_ascii=False)`.
pub fn dumps<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    value
        .serialize(&mut ser)
        .expect("serialising JSON values into memory cannot fail");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_python_separators_and_keeps_unicode() {
        let v = json!({"a": [1, 2.5, "é"], "b": {"c": null, "d": true}});
        assert_eq!(
            dumps(&v),
            r#"{"a": [1, 2.5, "é"], "b": {"c": null, "d": true}}"#
        );
    }
}
