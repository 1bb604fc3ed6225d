//! FunctionGemma's own format in the Gemma chat template: a `developer` turn declaring the
//! functions, output `<start_function_call>call:NAME{k:<escape>v<escape>,n:42}<end_function_call>`.

use super::{one_head, user_context, value_text, Parsed, PlanError, PlanOptions, PromptPlan};
use crate::scenario::{Case, FunctionCall, Tool};
use serde_json::{Map, Value};

pub(super) const MARKERS: &[&str] = &[
    "<end_function_call>",
    "<escape>",
    "<start_function_call>",
    "<end_of_turn>",
    "<start_of_turn>",
    "<start_function_declaration>",
    "<end_function_declaration>",
];
const ESC: &str = "<escape>";

fn esc(s: &str) -> String {
    format!("{ESC}{s}{ESC}")
}

fn declaration(t: &Tool) -> String {
    let props: Vec<String> = t
        .params
        .iter()
        .map(|p| {
            format!(
                "{}:{{description:{},type:{}}}",
                p.name,
                esc(&p.description),
                esc(&p.ty.to_uppercase())
            )
        })
        .collect();
    let required: Vec<String> = t.required.iter().map(|r| esc(r)).collect();
    format!(
        "<start_function_declaration>declaration:{}{{description:{},parameters:{{type:{},properties:{{{}}},required:[{}]}}}}<end_function_declaration>",
        t.name,
        esc(&t.description),
        esc("OBJECT"),
        props.join(","),
        required.join(",")
    )
}

pub(super) fn prefix(case: &Case) -> String {
    let mut s = String::from(
        "<start_of_turn>developer\nYou are a model that can do function calling with the following functions",
    );
    for t in &case.tools {
        s.push_str(&declaration(t));
    }
    s.push_str("<end_of_turn>\n");
    s
}

/// `call:NAME{k:<escape>text<escape>,n:42}`: strings escaped, numbers and booleans bare.
pub fn render_call(call: &FunctionCall) -> String {
    let args: Vec<String> = call
        .arguments
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}:{}", esc(s)),
            Value::Number(_) | Value::Bool(_) | Value::Null => format!("{k}:{v}"),
            other => format!("{k}:{}", esc(&value_text(other))),
        })
        .collect();
    format!("call:{}{{{}}}", call.name, args.join(","))
}

pub(super) fn plan(
    case: &Case,
    reference: Option<&FunctionCall>,
    opts: &PlanOptions,
) -> Result<PromptPlan, PlanError> {
    let prefix = prefix(case);
    let prompt = format!(
        "{prefix}<start_of_turn>user\n{}<end_of_turn>\n<start_of_turn>model\n",
        user_context(case, opts)
    );
    let reference =
        reference.map(|r| format!("<start_function_call>{}<end_function_call>", render_call(r)));
    Ok(one_head(
        prefix,
        prompt,
        "<end_function_call>",
        "<end_of_turn>",
        reference,
    ))
}

/// Parse `<start_function_call>call:NAME{…}` (the stop marker already removed).
pub(super) fn parse(heads: &[(String, String)]) -> Parsed {
    let text = heads.first().map(|(_, t)| t.trim()).unwrap_or("");
    let fail = |why: &str| Parsed {
        more: Vec::new(),
        call: None,
        error: Some(why.to_string()),
    };
    let Some(start) = text.find("<start_function_call>") else {
        return if text.is_empty() {
            Parsed::default()
        } else {
            fail("no <start_function_call>")
        };
    };
    let body = text[start + "<start_function_call>".len()..].trim();
    let body = body.strip_suffix("<end_function_call>").unwrap_or(body);
    let Some(body) = body.strip_prefix("call:") else {
        return fail("no `call:` after <start_function_call>");
    };
    let Some(open) = body.find('{') else {
        return fail("no `{` after the function name");
    };
    let name = body[..open].trim().to_string();
    let Some(inner) = body[open + 1..].trim_end().strip_suffix('}') else {
        return fail("arguments are not closed with `}`");
    };
    match parse_args(inner) {
        Ok(arguments) => Parsed {
            more: Vec::new(),
            call: Some(FunctionCall { name, arguments }),
            error: None,
        },
        Err(e) => fail(&e),
    }
}

fn parse_args(mut s: &str) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if s.is_empty() {
            return Ok(out);
        }
        let colon = s
            .find(':')
            .ok_or_else(|| format!("argument without `:` in `{s}`"))?;
        let key = s[..colon].trim().to_string();
        s = &s[colon + 1..];
        if let Some(rest) = s.strip_prefix(ESC) {
            let end = rest.find(ESC).ok_or("unterminated <escape> string")?;
            out.insert(key, Value::String(rest[..end].to_string()));
            s = &rest[end + ESC.len()..];
        } else {
            let end = s.find(',').unwrap_or(s.len());
            let raw = s[..end].trim();
            let v = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
            out.insert(key, v);
            s = &s[end..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_escaped_strings_and_bare_numbers() {
        let p = parse(&[(
            "call".into(),
            "<start_function_call>call:f{a:<escape>x, y<escape>,n:42,b:true}".into(),
        )]);
        let c = p.call.unwrap();
        assert_eq!(c.name, "f");
        assert_eq!(
            serde_json::to_string(&c.arguments).unwrap(),
            r#"{"a":"x, y","n":42,"b":true}"#
        );
    }

    #[test]
    fn malformed_output_is_an_error_not_a_panic() {
        for t in [
            "<start_function_call>call:f{a:<escape>x",
            "<start_function_call>f{}",
            "hello",
        ] {
            let p = parse(&[("call".into(), t.into())]);
            assert!(p.call.is_none() && p.error.is_some(), "{t}");
        }
    }

    #[test]
    fn render_then_parse_round_trips() {
        let call: FunctionCall = serde_json::from_str(
            r#"{"name":"move","arguments":{"x":1.5,"who":"tower 3","on":false}}"#,
        )
        .unwrap();
        let text = format!("<start_function_call>{}", render_call(&call));
        assert_eq!(parse(&[("call".into(), text)]).call.unwrap(), call);
    }
}
