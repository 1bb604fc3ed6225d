//! Request and response bodies of the two APIs, and their validation into a [`Case`].
//!
//! `POST /v1/function_call` follows SimpleTool's reference server (`rt_server.py` in
//! github.com/HaxxorCialtion/SimpleTool: pydantic models `FCRequest`/`FCResponse`, CORS open to
//! every origin, port 8899) field by field; fcbench's own fields are extensions a reference
//! client ignores. Where fcbench differs, the field says so.

use fcbench_core::record::{DecodeMode, HeadRecord};
use fcbench_core::scenario::{Case, FunctionCall, GoldCall, Tool, MAX_ARG_HEADS};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest per-head token cap a request may ask for.
pub const MAX_TOKENS_LIMIT: usize = 2048;

/// The reference server's per-head token cap when a request gives none (`max_tokens: int = 32`).
pub const REFERENCE_MAX_TOKENS: usize = 32;

/// The reference keeps the last six history entries (`MAX_HISTORY = 6`).
pub const MAX_HISTORY: usize = 6;

/// One `history` entry: the reference API's string (`"move(direction=\"up\")"`, shown as
/// sent), or fcbench's call object `{name, arguments}`, rendered as a scenario's history is.
#[derive(Debug, Clone, PartialEq)]
pub enum HistoryEntry {
    Text(String),
    Call(FunctionCall),
}

impl<'de> Deserialize<'de> for HistoryEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // By hand rather than `untagged`: serde's untagged error names neither shape.
        match Value::deserialize(d)? {
            Value::String(s) => Ok(HistoryEntry::Text(s)),
            v @ Value::Object(_) => {
                serde_json::from_value(v)
                    .map(HistoryEntry::Call)
                    .map_err(|e| {
                        serde::de::Error::custom(format!(
                            "a history entry is a string or a call object {{name, arguments}}: {e}"
                        ))
                    })
            }
            other => Err(serde::de::Error::custom(format!(
                "a history entry is a string or a call object {{name, arguments}}, not {other}"
            ))),
        }
    }
}

/// `null` reads as the empty list, as the reference's `Optional[List[str]] = None` does.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// The `history: [...]` body the reference renders: the last [`MAX_HISTORY`] entries joined
/// with ", "; call objects rendered as a scenario's history is (against the request's tools).
pub fn render_history(entries: &[HistoryEntry], tools: &[Tool]) -> String {
    let case = Case {
        id: String::new(),
        dataset: String::new(),
        query: String::new(),
        environment: vec![],
        history: vec![],
        tools: tools.to_vec(),
        gold: None,
        gold_error: None,
        has_history: false,
    };
    let skip = entries.len().saturating_sub(MAX_HISTORY);
    entries[skip..]
        .iter()
        .map(|e| match e {
            HistoryEntry::Text(s) => s.clone(),
            HistoryEntry::Call(c) => fcbench_core::protocol::history_entry(&case, c),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An argument head's text as the reference types it into `args`: empty or `<|null|>` → absent;
/// ASCII digits → integer; an optional run of leading `-` then digits with at most one `.` →
/// float (so `-5` is `-5.0`, as `float("-5")`); anything else lower-cased and trimmed.
/// Where Python would raise (`--5`) or the integer outgrows 64 bits, the lower-cased text is
/// kept instead of failing the whole call.
pub fn reference_value(text: &str) -> Option<Value> {
    let v = text.trim();
    if v.is_empty() || v == "<|null|>" {
        return None;
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(v) {
        if let Ok(n) = v.parse::<u64>() {
            return Some(Value::from(n));
        }
    } else if digits(&v.trim_start_matches('-').replacen('.', "", 1)) {
        if let Some(n) = v.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return Some(Value::Number(n));
        }
    }
    Some(Value::String(v.to_lowercase().trim().to_string()))
}

/// `args` of a reference answer: argument head K under the K-th property name, typed by
/// [`reference_value`]. Names come from the called tool's schema (the positional rule SimpleTool
/// was trained on); the reference server instead takes the first six names of all tools'
/// properties together, which differs only when the called tool is not the first one. For a
/// function name that is not among the tools, that union is used, as the reference does.
pub fn reference_args(
    tools: &[Tool],
    function: &str,
    heads: &Map<String, Value>,
) -> Map<String, Value> {
    let names: Vec<&str> = match tools.iter().find(|t| t.name == function) {
        Some(t) => t.params.iter().map(|p| p.name.as_str()).collect(),
        None => {
            let mut names: Vec<&str> = Vec::new();
            for p in tools.iter().flat_map(|t| &t.params) {
                if !names.contains(&p.name.as_str()) {
                    names.push(&p.name);
                }
            }
            names
        }
    };
    names
        .into_iter()
        .take(MAX_ARG_HEADS)
        .enumerate()
        .filter_map(|(k, name)| {
            let text = heads.get(&format!("arg{}", k + 1))?.as_str()?;
            Some((name.to_string(), reference_value(text)?))
        })
        .collect()
}

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

/// `POST /v1/function_call`: the reference's `FCRequest`, plus fcbench's `system` and
/// `fcbench` extensions.
#[derive(Debug, Clone, Deserialize)]
pub struct FunctionCallRequest {
    pub messages: Vec<Message>,
    pub tools: Vec<Value>,
    /// fcbench extension: replaces SimpleTool's system prompt.
    #[serde(default)]
    pub system: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub environment: Vec<String>,
    /// The reference's strings, or fcbench's call objects; only the last six are shown.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub include_content_head: bool,
    /// Per-head token cap; the reference's default is 32 (`fcbench serve --max-tokens`).
    #[serde(default)]
    pub max_tokens: Option<usize>,
    /// Accepted for compatibility; decoding is always greedy (the reference also decodes at
    /// temperature 0 whatever the request says).
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub fcbench: Option<FcbenchExtension>,
}

/// The reference's `FCResponse` (every field always present, `null` when empty, as pydantic
/// writes it), then fcbench's extensions.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct FunctionCallResponse {
    /// The function head named a function (the reference's rule: not empty, not `<|null|>`).
    pub success: bool,
    pub function: Option<String>,
    /// The reference's typing of the argument heads ([`reference_args`]); fcbench's own typed
    /// parse is `parsed`.
    pub args: Map<String, Value>,
    /// Each head's text, stop marker removed and trimmed, in head order (strings only).
    pub heads: Map<String, Value>,
    pub content: Option<String>,
    /// Decoding time, from token ids ready to every head stopped (queue time and tokenization
    /// excluded; the reference's timer also covers its tokenization and scheduling).
    pub latency_ms: f64,
    pub error: Option<String>,
    /// fcbench extension: the call as fcbench's SimpleTool parser reads the heads (values
    /// JSON-decoded, case kept), the reading `fcbench run` scores.
    #[serde(default)]
    pub parsed: Option<FunctionCall>,
    /// fcbench extensions: time spent waiting for the engine, and the server's whole handling time.
    #[serde(default)]
    pub queue_ms: f64,
    #[serde(default)]
    pub server_ms: f64,
    #[serde(default)]
    pub prompt_tokens: usize,
    #[serde(default)]
    pub mode: Option<DecodeMode>,
    /// fcbench extension: the untrimmed head texts with tokens and stop reasons.
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
    fn argument_heads_are_typed_as_the_reference_types_them() {
        let v = |t: &str| reference_value(t);
        assert_eq!(v("42"), Some(json!(42)));
        assert_eq!(v(" 007 "), Some(json!(7)));
        assert_eq!(v("-5"), Some(json!(-5.0)), "float(\"-5\"), not an int");
        assert_eq!(v("2.5"), Some(json!(2.5)));
        assert_eq!(v("1."), Some(json!(1.0)));
        assert_eq!(v(".5"), Some(json!(0.5)));
        assert_eq!(v("1.2.3"), Some(json!("1.2.3")));
        assert_eq!(v("  Hello World "), Some(json!("hello world")));
        assert_eq!(
            v("--5"),
            Some(json!("--5")),
            "Python raises; fcbench keeps the text"
        );
        assert_eq!(
            v("99999999999999999999999"),
            Some(json!("99999999999999999999999"))
        );
        assert_eq!(v("true"), Some(json!("true")));
        assert_eq!(v(""), None);
        assert_eq!(v(" <|null|> "), None);
    }

    #[test]
    fn args_follow_the_called_tool_or_else_the_reference_union_of_names() {
        let tools = parse_tools(&[
            json!({"name": "a", "parameters": {"properties": {"x": {}, "y": {}}}}),
            json!({"name": "b", "parameters": {"properties": {"y": {}, "z": {}}}}),
        ])
        .unwrap();
        let heads: Map<String, Value> =
            serde_json::from_value(json!({"function": "b", "arg1": "1", "arg2": "Q", "arg3": ""}))
                .unwrap();
        assert_eq!(
            Value::Object(reference_args(&tools, "b", &heads)),
            json!({"y": 1, "z": "q"})
        );
        assert_eq!(
            Value::Object(reference_args(&tools, "nope", &heads)),
            json!({"x": 1, "y": "q"})
        );
    }

    #[test]
    fn history_is_the_last_six_entries_strings_as_sent_calls_as_scenarios_render_them() {
        let tools =
            parse_tools(&[json!({"name": "f", "parameters": {"properties": {"b": {}, "a": {}}}})])
                .unwrap();
        let h: Vec<HistoryEntry> = serde_json::from_value(json!([
            "0", "1", "2", "3", "4", "5",
            {"name": "f", "arguments": {"a": 1, "b": "x"}}
        ]))
        .unwrap();
        assert_eq!(render_history(&h, &tools), "1, 2, 3, 4, 5, f(b=\"x\", a=1)");
        assert_eq!(render_history(&[], &tools), "");
        let e = serde_json::from_value::<Vec<HistoryEntry>>(json!([{"nom": "f"}])).unwrap_err();
        assert!(e.to_string().contains("string or a call object"), "{e}");
    }

    #[test]
    fn max_tokens_bounds() {
        assert_eq!(check_max_tokens(None, 64), Ok(64));
        assert!(check_max_tokens(Some(0), 64).is_err());
        assert!(check_max_tokens(Some(MAX_TOKENS_LIMIT + 1), 64).is_err());
    }
}
