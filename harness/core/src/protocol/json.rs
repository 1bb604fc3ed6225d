//! The conventional single-sequence tool call in ChatML (Qwen/Hermes style):
//! `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>`.

use super::{one_head, user_context, Parsed, PlanError, PlanOptions, PromptPlan};
use crate::scenario::{Case, FunctionCall};
use serde_json::{json, Value};

pub(super) const MARKERS: &[&str] = &["</tool_call>", "<|im_end|>", "<tool_call>", "<|im_start|>"];

pub(super) fn prefix(case: &Case) -> String {
    let mut s = String::from(
        "<|im_start|>system\nYou are a function calling model.\n\n# Tools\n\nYou may call one of the following functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n",
    );
    for t in &case.tools {
        s.push_str(&crate::pyjson::dumps(
            &json!({"type": "function", "function": t.raw}),
        ));
        s.push('\n');
    }
    s.push_str("</tools>\n\nFor the function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n");
    s
}

pub(super) fn plan(
    case: &Case,
    reference: Option<&FunctionCall>,
    opts: &PlanOptions,
) -> Result<PromptPlan, PlanError> {
    let prefix = prefix(case);
    let prompt = format!(
        "{prefix}<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n",
        user_context(case, opts)
    );
    let reference = reference.map(|r| {
        format!(
            "<tool_call>\n{}\n</tool_call>",
            crate::pyjson::dumps(&json!({"name": r.name, "arguments": r.arguments}))
        )
    });
    Ok(one_head(
        prefix,
        prompt,
        "</tool_call>",
        "<|im_end|>",
        reference,
    ))
}

pub(super) fn parse(heads: &[(String, String)]) -> Parsed {
    let text = heads.first().map(|(_, t)| t.as_str()).unwrap_or("");
    let body = text.trim();
    let body = body.strip_prefix("<tool_call>").unwrap_or(body).trim();
    let body = body.strip_suffix("</tool_call>").unwrap_or(body).trim();
    if body.is_empty() {
        return Parsed::default();
    }
    let fail = |why: String| Parsed {
        more: Vec::new(),
        call: None,
        error: Some(why),
    };
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return fail(format!("not JSON: {e}")),
    };
    let Some(name) = v.get("name").and_then(Value::as_str) else {
        return fail("no string `name`".into());
    };
    let arguments = match v.get("arguments") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(m)) => m.clone(),
        // Some models emit the arguments as a JSON string.
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => m,
            _ => return fail("`arguments` is not an object".into()),
        },
        Some(_) => return fail("`arguments` is not an object".into()),
    };
    Parsed {
        more: Vec::new(),
        call: Some(FunctionCall {
            name: name.to_string(),
            arguments,
        }),
        error: None,
    }
}
