//! Request and response bodies of the two APIs, and their validation into a [`Case`].

use fcbench_core::record::{DecodeMode, HeadRecord};
use fcbench_core::scenario::{Case, FunctionCall, GoldCall, Tool, MAX_ARG_HEADS};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest per-head token cap a request may ask for.
pub const MAX_TOKENS_LIMIT: usize = 2048;

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub role: String,
    /// A string, or OpenAI's list of `{type: "text", text}` parts; `null` for assistant turns
    /// that only carried tool calls.
    #[serde(default)]
    pub content: Value,
}

/// fcbench's own request extension (ignored by other servers): forced decoding needs the
/// reference call, which an ordinary API has no field for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FcbenchExtension {
    #[serde(default = "free")]
    pub mode: DecodeMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<FunctionCall>,
}

fn free() -> DecodeMode {
    DecodeMode::Free
}

impl Default for FcbenchExtension {
    fn default() -> Self {
        FcbenchExtension {
            mode: DecodeMode::Free,
            reference: None,
        }
    }
}

/// `POST /v1/function_call` (the SimpleTool server API).
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionCallRequest {
    pub messages: Vec<Message>,
    pub tools: Vec<Value>,
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default)]
    pub environment: Vec<String>,
    #[serde(default)]
    pub history: Vec<FunctionCall>,
    #[serde(default)]
    pub include_content_head: bool,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Accepted for compatibility; decoding is always greedy.
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub fcbench: Option<FcbenchExtension>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FunctionCallResponse {
    pub success: bool,
    pub function: Option<String>,
    /// Keyed by the tool's property names, in schema order.
    pub args: Map<String, Value>,
    /// Raw text of each head (stop marker removed), in head order.
    pub heads: Map<String, Value>,
    pub content: Option<String>,
    /// Decoding time, from token ids ready to every head stopped (queue time excluded).
    pub latency_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// fcbench extras: time spent waiting for the engine, and the server's whole handling time.
    #[serde(default)]
    pub queue_ms: f64,
    #[serde(default)]
    pub server_ms: f64,
    #[serde(default)]
    pub prompt_tokens: usize,
    #[serde(default)]
    pub mode: Option<DecodeMode>,
    #[serde(default)]
    pub head_records: Vec<HeadRecord>,
}

/// `POST /v1/chat/completions` (OpenAI-compatible subset).
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<Message>,
    #[serde(default)]
    pub tools: Vec<Value>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub max_completion_tokens: Option<usize>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub fcbench: Option<FcbenchExtension>,
}

/// Why a request cannot be served as sent (→ 4xx).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct Invalid(pub String);

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            (!texts.is_empty()).then(|| texts.join(""))
        }
        _ => None,
    }
}

/// The query is the last user message.
pub fn last_user_text(messages: &[Message]) -> Result<String, Invalid> {
    let m = messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .ok_or_else(|| Invalid("messages: no message with role `user`".into()))?;
    let text = text_of(&m.content)
        .ok_or_else(|| Invalid("messages: the last user message has no text `content`".into()))?;
    if text.trim().is_empty() {
        return Err(Invalid("messages: the last user message is empty".into()));
    }
    Ok(text)
}

/// Tools in either shape: the SimpleTool/BFCL schema `{name, description, parameters}` or
/// OpenAI's `{type: "function", function: {…}}`; the inner schema is what prompts render.
pub fn parse_tools(tools: &[Value]) -> Result<Vec<Tool>, Invalid> {
    if tools.is_empty() {
        return Err(Invalid("tools: at least one tool is needed".into()));
    }
    tools
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let inner = match raw.get("function") {
                Some(f) if f.is_object() => f,
                _ => raw,
            };
            let t = Tool::from_json(inner).map_err(|e| Invalid(format!("tools[{i}]: {e}")))?;
            if t.name.trim().is_empty() {
                return Err(Invalid(format!("tools[{i}]: `name` is empty")));
            }
            if t.params.len() > MAX_ARG_HEADS {
                return Err(Invalid(format!(
                    "tools[{i}] (`{}`) has {} properties; SimpleTool has {MAX_ARG_HEADS} argument heads",
                    t.name,
                    t.params.len()
                )));
            }
            Ok(t)
        })
        .collect()
}

pub fn check_max_tokens(n: Option<usize>, default: usize) -> Result<usize, Invalid> {
    match n {
        None => Ok(default),
        Some(0) => Err(Invalid("max_tokens: must be at least 1".into())),
        Some(n) if n > MAX_TOKENS_LIMIT => Err(Invalid(format!(
            "max_tokens: {n} is more than this server's limit of {MAX_TOKENS_LIMIT}"
        ))),
        Some(n) => Ok(n),
    }
}

/// Build the case a request describes. In forced mode the reference call becomes the case's
/// only gold call (each argument its only acceptable value).
pub fn build_case(
    query: String,
    tools: Vec<Tool>,
    environment: Vec<String>,
    history: Vec<FunctionCall>,
    ext: &FcbenchExtension,
) -> Result<Case, Invalid> {
    let gold = match (ext.mode, &ext.reference) {
        (DecodeMode::Forced, None) => {
            return Err(Invalid(
                "fcbench.mode is `forced` but fcbench.reference (the call to force) is missing"
                    .into(),
            ))
        }
        (DecodeMode::Forced, Some(r)) => {
            if !tools.iter().any(|t| t.name == r.name) {
                return Err(Invalid(format!(
                    "fcbench.reference names `{}`, which is not among the tools",
                    r.name
                )));
            }
            Some(vec![GoldCall {
                name: r.name.clone(),
                params: r
                    .arguments
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::Array(vec![v.clone()])))
                    .collect(),
            }])
        }
        (DecodeMode::Free, _) => None,
    };
    Ok(Case {
        id: "request".into(),
        dataset: "request".into(),
        query,
        environment,
        history,
        tools,
        gold,
        gold_error: None,
        has_history: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tools_in_both_shapes_and_the_seven_property_limit() {
        let t = json!({"name": "f", "parameters": {"properties": {"a": {}, "b": {}}}});
        let wrapped = json!({"type": "function", "function": t.clone()});
        let a = parse_tools(std::slice::from_ref(&t)).unwrap();
        let b = parse_tools(&[wrapped]).unwrap();
        assert_eq!(a, b);
        let props: Map<String, Value> = (1..=7).map(|k| (format!("p{k}"), json!({}))).collect();
        let wide = json!({"name": "wide", "parameters": {"properties": props}});
        let e = parse_tools(&[t, wide]).unwrap_err();
        assert!(e.0.contains("tools[1] (`wide`) has 7 properties"), "{e}");
        assert!(parse_tools(&[]).is_err());
        assert!(parse_tools(&[json!(3)])
            .unwrap_err()
            .0
            .starts_with("tools[0]"));
    }

    #[test]
    fn query_is_the_last_user_text() {
        let m: Vec<Message> = serde_json::from_value(json!([
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": null},
            {"role": "user", "content": [{"type": "text", "text": "second"}]}
        ]))
        .unwrap();
        assert_eq!(last_user_text(&m).unwrap(), "second");
        let none: Vec<Message> =
            serde_json::from_value(json!([{"role": "system", "content": "x"}])).unwrap();
        assert!(last_user_text(&none).is_err());
    }

    #[test]
    fn forced_needs_a_reference_among_the_tools() {
        let tools =
            parse_tools(&[json!({"name": "f", "parameters": {"properties": {"a": {}}}})]).unwrap();
        let forced = |r: Option<FunctionCall>| FcbenchExtension {
            mode: DecodeMode::Forced,
            reference: r,
        };
        assert!(build_case("q".into(), tools.clone(), vec![], vec![], &forced(None)).is_err());
        let g = FunctionCall {
            name: "g".into(),
            arguments: Map::new(),
        };
        assert!(build_case("q".into(), tools.clone(), vec![], vec![], &forced(Some(g))).is_err());
        let f: FunctionCall =
            serde_json::from_value(json!({"name": "f", "arguments": {"a": 3}})).unwrap();
        let c = build_case("q".into(), tools, vec![], vec![], &forced(Some(f.clone()))).unwrap();
        assert_eq!(c.reference_call().unwrap(), f);
    }

    #[test]
    fn max_tokens_bounds() {
        assert_eq!(check_max_tokens(None, 64), Ok(64));
        assert!(check_max_tokens(Some(0), 64).is_err());
        assert!(check_max_tokens(Some(MAX_TOKENS_LIMIT + 1), 64).is_err());
    }
}
