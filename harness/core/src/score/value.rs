//! Value comparison shared by both scorers, with the semantics of the reproduction's Python
//! `values_equal` (simpletool_eval/rules.py): JSON values stand for Python objects, so `1 ==
//! 1.0 == true`, `float("90210") == 90210`, and the last resort compares `str()` forms (where
//! `True` prints as `True`, so the string `"true"` does not match the boolean).

use serde_json::Value;

/// `values_equal(pred, gold)` of the reproduction.
pub fn values_equal(pred: &Value, gold: &Value) -> bool {
    if py_eq(pred, gold) {
        return true;
    }
    if pred.is_null() && gold.as_str() == Some("") || gold.is_null() && pred.as_str() == Some("") {
        return true;
    }
    if let (Some(a), Some(b)) = (py_float(pred), py_float(gold)) {
        if (a - b).abs() < 1e-6 {
            return true;
        }
    }
    match (pred, gold) {
        (Value::String(a), Value::String(b)) => normalize(a) == normalize(b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(p, g)| values_equal(p, g))
        }
        _ => py_str(pred) == py_str(gold),
    }
}

/// Lowercase, trim, collapse whitespace runs to one space.
pub fn normalize(s: &str) -> String {
    s.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Python's `==` on the objects `json.loads` gives: booleans are the integers 0 and 1, ints and
/// floats compare by value, containers compare element-wise (dicts ignore key order).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        (Value::Bool(_) | Value::Number(_), Value::Bool(_) | Value::Number(_)) => {
            match (as_int(a), as_int(b)) {
                (Some(x), Some(y)) => x == y,
                _ => num(a) == num(b),
            }
        }
        _ => false,
    }
}

fn as_int(v: &Value) -> Option<i128> {
    match v {
        Value::Bool(b) => Some(i128::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from)),
        _ => None,
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// Python's `float(x)`: numbers and booleans, and strings that parse as a float (surrounding
/// whitespace and digit-group underscores allowed, `inf`/`nan` included). Lists, dicts and
/// `None` raise, hence `None`.
pub fn py_float(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(_) | Value::Number(_) => Some(num(v)),
        Value::String(s) => parse_py_float(s),
        _ => None,
    }
}

fn parse_py_float(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.contains('_') {
        // Python accepts single underscores between digits only.
        let b = t.as_bytes();
        let ok = b.iter().enumerate().all(|(i, c)| {
            *c != b'_'
                || (i > 0
                    && i + 1 < b.len()
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit())
        });
        return if ok {
            t.replace('_', "").parse().ok()
        } else {
            None
        };
    }
    t.parse().ok()
}

/// Python's `str(x)` of a `json.loads` result (strings inside containers shown by `repr`).
pub fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (_, Some(u)) => u.to_string(),
            _ => float_repr(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => str_repr(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional for exponents in -4..16,
/// scientific (`1e+16`, `1.5e-05`) otherwise.
fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{f:e}"); // e.g. "1.5e-5", "-3e16"
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    if (-4..16).contains(&exp) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    }
}

fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(a: Value, b: Value) -> bool {
        values_equal(&a, &b)
    }

    #[test]
    fn numbers_match_across_types_within_tolerance() {
        assert!(eq(json!(90210), json!("90210")));
        assert!(eq(json!("90210"), json!(90210)));
        assert!(eq(json!(1), json!(1.0)));
        assert!(eq(json!(0.1), json!(0.1000000001)));
        assert!(!eq(json!(0.1), json!(0.1001)));
        assert!(eq(json!(" 12 "), json!(12)), "float() strips whitespace");
        assert!(
            eq(json!("1_000"), json!(1000)),
            "float() takes digit groups"
        );
        assert!(!eq(json!("1__000"), json!(1000)));
        assert!(eq(json!("1e3"), json!(1000)));
    }

    #[test]
    fn booleans_follow_python() {
        assert!(eq(json!(true), json!(1)), "True == 1 in Python");
        assert!(eq(json!(true), json!("1")), "float(True) == float('1')");
        assert!(!eq(json!(true), json!("true")), "str(True) is 'True'");
        assert!(eq(json!(true), json!("True")));
        assert!(!eq(json!(false), json!(true)));
    }

    #[test]
    fn strings_are_normalised() {
        assert!(eq(json!("  New   York "), json!("new york")));
        assert!(eq(json!("A\tB\nC"), json!("a b c")));
        assert!(!eq(json!("New York"), json!("NewYork")));
    }

    #[test]
    fn none_and_empty_string_match() {
        assert!(eq(Value::Null, json!("")));
        assert!(eq(json!(""), Value::Null));
        assert!(!eq(Value::Null, json!("x")));
        assert!(eq(Value::Null, json!("None")), "str(None) == 'None'");
    }

    #[test]
    fn lists_compare_element_wise_in_order() {
        assert!(eq(json!([1, "A b"]), json!(["1", "a  b"])));
        assert!(!eq(json!([1, 2]), json!([2, 1])));
        assert!(!eq(json!([1, 2]), json!([1, 2, 3])));
        assert!(eq(json!([]), json!([])));
    }

    #[test]
    fn dicts_use_python_equality_and_str_forms() {
        assert!(eq(json!({"a": 1, "b": 2}), json!({"b": 2.0, "a": true})));
        assert!(
            !eq(json!({"a": "X"}), json!({"a": "x"})),
            "no normalising inside dicts"
        );
        assert!(eq(json!({"a": [1, "x"]}), json!("{'a': [1, 'x']}")));
    }

    #[test]
    fn str_forms_match_python() {
        assert_eq!(py_str(&json!(1.0)), "1.0");
        assert_eq!(py_str(&json!(1e16)), "1e+16");
        assert_eq!(py_str(&json!(1.5e-5)), "1.5e-05");
        assert_eq!(py_str(&json!(0.0001)), "0.0001");
        assert_eq!(py_str(&json!(123.25)), "123.25");
        assert_eq!(
            py_str(&json!([1, "it's", null, false])),
            "[1, \"it's\", None, False]"
        );
        assert_eq!(py_str(&json!({"k": "v"})), "{'k': 'v'}");
    }
}
