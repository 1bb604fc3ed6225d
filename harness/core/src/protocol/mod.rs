//! Decoding protocols: how a case becomes prompts, which heads decode, where each head stops,
//! what the reference output is (for forced decoding), and how head text becomes a call.
//!
//! - `simpletool`: SimpleTool v1 multi-head parallel decoding (all heads in one batch per step);
//! - `simpletool-serial`: the same prompt and heads, decoded one after another;
//! - `json`: one sequence, `<tool_call>{"name":…,"arguments":{…}}</tool_call>` in ChatML;
//! - `functiongemma`: FunctionGemma's own format in the Gemma chat template (the baseline).

mod functiongemma;
mod json;
mod simpletool;

use crate::scenario::{Case, FunctionCall};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use simpletool::{
    decode_calls as simpletool_decode_calls, NULL as NULL_MARKER, SIMPLETOOL_SYSTEM_PROMPT,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    #[serde(rename = "simpletool")]
    SimpleTool,
    #[serde(rename = "simpletool-serial")]
    SimpleToolSerial,
    Json,
    #[serde(rename = "functiongemma")]
    FunctionGemma,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [
        Protocol::SimpleTool,
        Protocol::SimpleToolSerial,
        Protocol::Json,
        Protocol::FunctionGemma,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::SimpleTool => "simpletool",
            Protocol::SimpleToolSerial => "simpletool-serial",
            Protocol::Json => "json",
            Protocol::FunctionGemma => "functiongemma",
        }
    }

    /// Heads decode together, one batch per step (else one after another).
    pub fn parallel(self) -> bool {
        !matches!(self, Protocol::SimpleToolSerial)
    }

    /// Marker strings that a model trained for this protocol has as single tokens. In forced
    /// mode they may be mapped to spare tokens of a base model (see [`crate::markers`]).
    /// Output-side markers come first: they are the ones decoding pays for.
    pub fn markers(self) -> Vec<String> {
        match self {
            Protocol::SimpleTool | Protocol::SimpleToolSerial => simpletool::markers(),
            Protocol::Json => json::MARKERS.iter().map(|s| s.to_string()).collect(),
            Protocol::FunctionGemma => functiongemma::MARKERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    /// Build the prompts, heads, stops and reference outputs for one case.
    pub fn plan(self, case: &Case, opts: &PlanOptions) -> Result<PromptPlan, PlanError> {
        if case.exceeds_arg_heads() {
            return Err(PlanError::TooManyArguments {
                arity: case.max_arity(),
            });
        }
        let reference = case.reference_call();
        match self {
            Protocol::SimpleTool | Protocol::SimpleToolSerial => {
                simpletool::plan(case, reference.as_ref(), opts)
            }
            Protocol::Json => json::plan(case, reference.as_ref(), opts),
            Protocol::FunctionGemma => functiongemma::plan(case, reference.as_ref(), opts),
        }
    }

    /// Turn decoded head texts (stop markers removed) into at most one call.
    pub fn parse(self, case: &Case, heads: &[(String, String)]) -> Parsed {
        match self {
            Protocol::SimpleTool | Protocol::SimpleToolSerial => simpletool::parse(case, heads),
            Protocol::Json => json::parse(heads),
            Protocol::FunctionGemma => functiongemma::parse(heads),
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown protocol `{s}` (expected one of: {})",
                    Protocol::ALL.map(Protocol::name).join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Add SimpleTool's optional `<content>` head.
    pub content_head: bool,
    /// Replaces SimpleTool's system prompt (the SimpleTool server API's `system`).
    pub system: Option<String>,
    /// The `history: [...]` body as a client sent it (strings, already rendered), instead of
    /// the case's calls.
    pub history: Option<String>,
    /// The user turn is the query alone, without the environment and history lines (a chat
    /// client's message, verbatim).
    pub bare_user_turn: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("a candidate tool has {arity} parameters, more than the six argument heads")]
    TooManyArguments { arity: usize },
}

/// One head: its full prompt, where it stops and (when gold exists) what it should output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadSpec {
    pub name: String,
    /// Full prompt text of this head (shared prompt + assistant start + the head's tag).
    pub prompt: String,
    /// Any of these, seen at the end of the output (special tokens visible), stops the head.
    pub stops: Vec<String>,
    /// The reference output including its final stop marker, for forced decoding.
    pub reference: Option<String>,
}

/// Everything needed to run one case under one protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptPlan {
    /// The part of every head's prompt that depends only on the tool set (system turn and tool
    /// list): prefilled once per tool set in the `prefix` cache regime.
    pub prefix: String,
    pub heads: Vec<HeadSpec>,
    /// The chat template's end-of-turn marker: a head stopped by it ended its turn
    /// (`StopReason::EndOfTurn`), not at a protocol marker.
    pub end_of_turn: &'static str,
}

/// A call parsed from head output; `None` when the output names no call or is malformed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parsed {
    /// The first call: what a single-call consumer (the record, a server reply) keeps.
    pub call: Option<FunctionCall>,
    /// The calls after the first, when the output names several (only SimpleTool's function
    /// head can).
    #[serde(skip)]
    pub more: Vec<FunctionCall>,
    /// Why the output could not be parsed, with the raw text kept in the call record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Parsed {
    /// Every call the output names, for the scorers (strict wants exactly one).
    pub fn calls(&self) -> Vec<FunctionCall> {
        self.call.iter().chain(&self.more).cloned().collect()
    }
}

/// A sequential protocol's plan: one `call` head after the user turn, stopped by the end of its
/// call or of the turn.
fn one_head(
    prefix: String,
    prompt: String,
    end_of_call: &str,
    end_of_turn: &'static str,
    reference: Option<String>,
) -> PromptPlan {
    PromptPlan {
        prefix,
        heads: vec![HeadSpec {
            name: "call".into(),
            prompt,
            stops: vec![end_of_call.into(), end_of_turn.into()],
            reference,
        }],
        end_of_turn,
    }
}

/// The user turn's body shared by all protocols, as SimpleTool renders it:
/// `environment: [...]\nhistory: [...]\n\n<query>` (or the query alone, or the client's own
/// history, as `opts` asks).
pub(crate) fn user_context(case: &Case, opts: &PlanOptions) -> String {
    if opts.bare_user_turn {
        return case.query.clone();
    }
    format!(
        "environment: {}\nhistory: [{}]\n\n{}",
        crate::pyjson::dumps(&case.environment),
        opts.history.clone().unwrap_or_else(|| history_string(case)),
        case.query
    )
}

/// Prior calls as `name(p="text", n=3)`, parameters in the tool's order.
pub(crate) fn history_string(case: &Case) -> String {
    case.history
        .iter()
        .map(|call| history_entry(case, call))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One prior call as the `history: [...]` line shows it, `name(p="text", n=3)`, parameters in
/// the order of the case's tool of that name. Public so that HTTP clients and servers that
/// carry history as strings (the SimpleTool server API) render exactly what the prompt would.
pub fn history_entry(case: &Case, call: &FunctionCall) -> String {
    let order: Vec<&str> = match case.tool(&call.name) {
        Some(t) => t.params.iter().map(|p| p.name.as_str()).collect(),
        None => call.arguments.keys().map(String::as_str).collect(),
    };
    let args: Vec<String> = order
        .into_iter()
        .filter_map(|p| {
            call.arguments.get(p).map(|v| match v {
                serde_json::Value::String(s) => format!("{p}=\"{s}\""),
                other => format!("{p}={}", crate::pyjson::dumps(other)),
            })
        })
        .collect();
    format!("{}({})", call.name, args.join(", "))
}

/// A value as a head or a FunctionGemma field shows it: strings bare, everything else as JSON.
pub(crate) fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => crate::pyjson::dumps(other),
    }
}
