//! SimpleTool v1, exactly as the public reproduction renders it (simpletool_eval/protocol.py in
//! github.com/HaxxorCialtion/SimpleTool, Apache-2.0): a ChatML system turn with the multi-head
//! instructions and one JSON line per tool, then the user turn, then one prompt per head that
//! ends in the head's opening tag.

use super::{value_text, HeadSpec, Parsed, PlanError, PlanOptions, PromptPlan};
use crate::scenario::{Case, FunctionCall, MAX_ARG_HEADS};
use serde_json::{json, Map, Value};

/// The system prompt of SimpleTool v1 (trailing spaces included: they are part of the prompt).
pub const SIMPLETOOL_SYSTEM_PROMPT: &str = "You are a multi-head parallel function calling model. \n## Output Heads\n\n**Head 0 - <content>**: Natural language response\n- Format: <content>response text</content>\n- Answer what you want to say while you are calling a function\n\n**Head 1 - <function>**: Function names to call\n- Format: <function>name</function>\n- Name: must match tool defined name\n\n**Head 2-7 - <arg1>、<arg2>、<arg3>、<arg4>、<arg5>、<arg6>**: Function arguments by position\n- Format: <argN>value</argN> \n- Strictly fill in according to the parameter order of the tool you intend to call\n- Note the special restrictions of parameter definitions for corresponding positions\n- If the corresponding tool definition has required parameters, these must be filled in\n- Infer the user's actual needs.\n- If Unnecessary: <argN><|null|></argN>\n\n**Environment - The information you have.\n**History - The tools you have called.\n";

pub const NULL: &str = "<|null|>";
const IM_END: &str = "<|im_end|>";

fn head_names(content: bool, arity: usize) -> Vec<String> {
    let mut names = Vec::new();
    if content {
        names.push("content".to_string());
    }
    names.push("function".to_string());
    names.extend((1..=arity).map(|k| format!("arg{k}")));
    names
}

pub(super) fn markers() -> Vec<String> {
    // Output-side first: these are decoded; opening tags only appear in prompts.
    let mut m = vec![NULL.to_string(), "</function>".to_string()];
    m.extend((1..=MAX_ARG_HEADS).map(|k| format!("</arg{k}>")));
    m.push("</content>".into());
    m.push(IM_END.into());
    m.push("<|im_start|>".into());
    m.push("<function>".into());
    m.extend((1..=MAX_ARG_HEADS).map(|k| format!("<arg{k}>")));
    m.push("<content>".into());
    m
}

pub(super) fn prefix(case: &Case, system: Option<&str>) -> String {
    let mut s = String::from("<|im_start|>system\n");
    s.push_str(system.unwrap_or(SIMPLETOOL_SYSTEM_PROMPT));
    if !case.tools.is_empty() {
        s.push_str("\n## Available Tools:\n\n");
        for t in &case.tools {
            let wrapped = if t.raw.get("type").is_some() {
                t.raw.clone()
            } else {
                json!({"type": "function", "function": t.raw})
            };
            s.push_str(&crate::pyjson::dumps(&wrapped));
            s.push('\n');
        }
    }
    s.push_str("<|im_end|>\n");
    s
}

pub(super) fn plan(
    case: &Case,
    reference: Option<&FunctionCall>,
    opts: &PlanOptions,
) -> Result<PromptPlan, PlanError> {
    let prefix = prefix(case, opts.system.as_deref());
    let shared = format!(
        "{prefix}<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n",
        super::user_context(case, opts)
    );
    let names = head_names(opts.content_head, case.max_arity());
    let all_stops: Vec<String> = {
        let mut s = vec![NULL.to_string()];
        s.extend(
            head_names(true, MAX_ARG_HEADS)
                .iter()
                .map(|h| format!("</{h}>")),
        );
        s.push(IM_END.to_string());
        s
    };
    let ref_args: Option<Vec<Option<&Value>>> = reference.map(|r| {
        let tool = case.tool(&r.name);
        (0..MAX_ARG_HEADS)
            .map(|k| {
                tool.and_then(|t| t.params.get(k))
                    .and_then(|p| r.arguments.get(&p.name))
            })
            .collect()
    });
    let heads = names
        .iter()
        .map(|name| {
            let reference = match (name.as_str(), reference, &ref_args) {
                ("content", _, _) => None, // no gold exists for free text
                ("function", Some(r), _) => Some(format!("{}</function>", r.name)),
                (arg, Some(_), Some(args)) => {
                    let k: usize = arg[3..].parse().expect("arg heads are argN");
                    Some(match args[k - 1] {
                        Some(v) => format!("{}</{arg}>", value_text(v)),
                        None => NULL.to_string(),
                    })
                }
                _ => None,
            };
            HeadSpec {
                name: name.clone(),
                prompt: format!("{shared}<{name}>"),
                stops: all_stops.clone(),
                reference,
            }
        })
        .collect();
    Ok(PromptPlan {
        prefix,
        heads,
        end_of_turn: IM_END,
    })
}

fn is_null(s: &str) -> bool {
    // `|<null>|` is a garbled null the reproduction's converter also accepts.
    matches!(s, "" | NULL | "|<null>|" | "null" | "None")
}

/// `argK` text → value: omitted when null-like, JSON when it parses, else the stripped text.
fn arg_value(raw: Option<&str>) -> Option<Value> {
    let raw = raw?.trim();
    if is_null(raw) {
        return None;
    }
    Some(serde_json::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.into())))
}

/// Heads → calls, as the reproduction's converter defines it (simpletool_eval/conversion.py):
/// function head stripped (empty, `<|null|>` or `None` → no call); `argK` → the K-th property
/// of the chosen tool; heads past its arity ignored; empty/`<|null|>`/`null`/`None` → omitted;
/// else JSON if it parses, else the string. An unknown function keeps its arguments keyed
/// `arg1`…`arg6`. A function head naming several functions (split at `,`, `;` or newlines)
/// gives several calls that take the argument heads in turn; an unknown one among several
/// gets no arguments.
pub fn decode_calls(case: &Case, heads: &[(String, String)]) -> Vec<FunctionCall> {
    let get = |h: &str| heads.iter().find(|(n, _)| n == h).map(|(_, t)| t.as_str());
    let args: Vec<Option<&str>> = (1..=MAX_ARG_HEADS)
        .map(|k| get(&format!("arg{k}")))
        .collect();
    let head = get("function").unwrap_or("").trim();
    if matches!(head, "" | NULL | "None") {
        return Vec::new();
    }
    let names: Vec<&str> = head
        .split([',', ';', '\n'])
        .filter(|f| !f.trim().is_empty() && !matches!(*f, NULL | "None"))
        .map(str::trim)
        .collect();
    if let [name] = names[..] {
        let mut arguments = Map::new();
        match case.tool(name) {
            Some(t) => {
                for (p, raw) in t.params.iter().zip(&args) {
                    if let Some(v) = arg_value(*raw) {
                        arguments.insert(p.name.clone(), v);
                    }
                }
            }
            None => {
                for (k, raw) in args.iter().enumerate() {
                    if let Some(v) = arg_value(*raw) {
                        arguments.insert(format!("arg{}", k + 1), v);
                    }
                }
            }
        }
        return vec![FunctionCall {
            name: name.to_string(),
            arguments,
        }];
    }
    let mut next = 0;
    names
        .into_iter()
        .map(|name| {
            let mut arguments = Map::new();
            for p in case.tool(name).map_or(&[][..], |t| &t.params[..]) {
                let Some(raw) = args.get(next) else { break };
                next += 1;
                if let Some(v) = arg_value(*raw) {
                    arguments.insert(p.name.clone(), v);
                }
            }
            FunctionCall {
                name: name.to_string(),
                arguments,
            }
        })
        .collect()
}

pub(super) fn parse(case: &Case, heads: &[(String, String)]) -> Parsed {
    let calls = decode_calls(case, heads);
    // Only one call fits the record; the scorers see all of them (strict needs exactly one).
    let error = (calls.len() > 1).then(|| {
        format!(
            "the function head names {} calls; only the first is kept here",
            calls.len()
        )
    });
    let mut calls = calls.into_iter();
    Parsed {
        call: calls.next(),
        more: calls.collect(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Tool;

    fn case() -> Case {
        let t = |v: Value| Tool::from_json(&v).unwrap();
        Case {
            id: "c".into(),
            dataset: "d".into(),
            query: "q".into(),
            environment: vec![],
            history: vec![],
            tools: vec![
                t(json!({"name": "f", "parameters": {"properties": {"z": {}, "a": {}}}})),
                t(json!({"name": "g", "parameters": {"properties": {"b": {}}}})),
            ],
            gold: None,
            gold_error: None,
            has_history: false,
        }
    }

    fn heads(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn positional_arguments_follow_property_order_and_arity() {
        let c = decode_calls(
            &case(),
            &heads(&[
                ("function", " f "),
                ("arg1", "3"),
                ("arg2", "x y"),
                ("arg3", "9"),
            ]),
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!([{"name": "f", "arguments": {"z": 3, "a": "x y"}}])
        );
    }

    #[test]
    fn null_likes_are_omitted_and_no_call_is_empty() {
        for null in ["", "<|null|>", "|<null>|", "null", "None", "  "] {
            let c = decode_calls(&case(), &heads(&[("function", "g"), ("arg1", null)]));
            assert!(c[0].arguments.is_empty(), "{null:?}");
        }
        for none in ["", "<|null|>", "None"] {
            assert!(decode_calls(&case(), &heads(&[("function", none)])).is_empty());
        }
    }

    #[test]
    fn unknown_function_keeps_positional_keys() {
        let c = decode_calls(&case(), &heads(&[("function", "h"), ("arg2", "[1, 2]")]));
        assert_eq!(
            serde_json::to_value(&c[0].arguments).unwrap(),
            json!({"arg2": [1, 2]})
        );
    }

    #[test]
    fn several_names_take_the_argument_heads_in_turn() {
        let c = decode_calls(
            &case(),
            &heads(&[
                ("function", "f, g"),
                ("arg1", "1"),
                ("arg2", ""),
                ("arg3", "b"),
            ]),
        );
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!([{"name": "f", "arguments": {"z": 1}}, {"name": "g", "arguments": {"b": "b"}}])
        );
        let p = parse(&case(), &heads(&[("function", "f;g")]));
        assert_eq!(p.call.unwrap().name, "f");
        assert!(p.error.unwrap().contains("2 calls"));
    }
}
