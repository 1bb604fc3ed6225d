//! Scenario files and their loaders.
//!
//! Two formats, both one JSON object per line:
//! - the SimpleTool reproduction format: a question file (`{"id","question":[[{"role",
//!   "content"}]],"function":[tool…]}`) plus a possible-answer file (`{"id","ground_truth":
//!   [{fname:{param:[acceptable…]}}]}`);
//! - fcbench's own format (`*.jsonl`): an optional first line `{"scenario":{"name",
//!   "description","provenance","licence","tools":[…]}}`, then one case a line: `{"id","query",
//!   "tools"?,"environment"?,"history"?,"gold"?,"dataset"?}`; a case without `tools` uses the
//!   header's. `gold` is a list of `{fname:{param:[acceptable…]}}` as in possible answers.
//!
//! Bad question lines fail with file, line and field. Bad or missing gold is recorded on the
//! case (`gold_error`) and counted, never dropped silently.

use fcbench_core::machine::sha256_hex;
use fcbench_core::record::FileDigest;
use fcbench_core::scenario::{Case, FunctionCall, GoldCall, Tool};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}:{line}: field `{field}`: {what}")]
    Field {
        file: String,
        line: usize,
        field: String,
        what: String,
    },
    #[error("{file}: {what}")]
    File { file: String, what: String },
    #[error("unknown scenario `{0}`: use one of {known}, or a path to a .jsonl file", known = builtin_names().join(", "))]
    Unknown(String),
}

/// Scenario-level metadata (the optional header line).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScenarioMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub provenance: String,
    #[serde(default)]
    pub licence: String,
    /// A published figure that cannot be measured here (e.g. the fine-tuned FunctionGemma's
    /// accuracy), shown apart from measured rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_reference: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub meta: ScenarioMeta,
    pub cases: Vec<Case>,
    pub files: Vec<FileDigest>,
}

impl Scenario {
    pub fn gold_problems(&self) -> impl Iterator<Item = (&str, &str)> {
        self.cases
            .iter()
            .filter_map(|c| c.gold_error.as_deref().map(|e| (c.id.as_str(), e)))
    }
}

struct Builtin {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    format: Format,
}

#[derive(Clone, Copy)]
enum Format {
    Native,
    Repro {
        dataset: &'static str,
        provenance: &'static str,
        licence: &'static str,
        /// JSON of [`ScenarioMeta::published_reference`], if any.
        reference: Option<&'static str>,
    },
}

const BFCL_PROVENANCE: &str = "Berkeley Function Calling Leaderboard v3 via the SimpleTool reproduction release (see scenarios/data/bfcl/PROVENANCE.md)";

/// Google's published FunctionGemma figure on Mobile Actions: the baseline's fine-tuned weights
/// are not run here, so it is shown apart from measured rows.
const MOBILE_ACTIONS_REFERENCE: &str = r#"{"label": "FunctionGemma 270M on Mobile Actions (published by Google, not measured here)", "metric": "accuracy", "base_model": 0.58, "fine_tuned": 0.85, "source": "Google's FunctionGemma release (model card and announcement), as summarised in the SimpleTool reproduction fixtures' DIGEST.md"}"#;

macro_rules! embed {
    ($p:literal) => {
        (
            $p,
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/", $p)),
        )
    };
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "game",
        files: &[embed!("demo/game.jsonl")],
        format: Format::Native,
    },
    Builtin {
        name: "robot-arm",
        files: &[embed!("demo/robot_arm.jsonl")],
        format: Format::Native,
    },
    Builtin {
        name: "avatar",
        files: &[embed!("demo/avatar.jsonl")],
        format: Format::Native,
    },
    Builtin {
        name: "mobile-actions",
        files: &[
            embed!("mobile_actions/mobile_actions.head.jsonl"),
            embed!("mobile_actions/possible_answer/mobile_actions.jsonl"),
        ],
        format: Format::Repro {
            dataset: "mobile_actions",
            provenance: "Google's Mobile Actions dataset as converted by the SimpleTool reproduction release: the first 308 of 1,283 question rows, gold for all (see scenarios/data/mobile_actions/PROVENANCE.md)",
            licence: "not stated in the release; cite Google's Mobile Actions dataset",
            reference: Some(MOBILE_ACTIONS_REFERENCE),
        },
    },
    Builtin {
        name: "bfcl-exec-simple",
        files: &[
            embed!("bfcl/BFCL_v3_exec_simple_dataset.json"),
            embed!("bfcl/possible_answer/BFCL_v3_exec_simple_dataset.json"),
        ],
        format: Format::Repro {
            dataset: "BFCL_v3_exec_simple_dataset",
            provenance: BFCL_PROVENANCE,
            licence: "Apache-2.0",
            reference: None,
        },
    },
    Builtin {
        name: "bfcl-exec-multiple",
        files: &[
            embed!("bfcl/BFCL_v3_exec_multiple_dataset.json"),
            embed!("bfcl/possible_answer/BFCL_v3_exec_multiple_dataset.json"),
        ],
        format: Format::Repro {
            dataset: "BFCL_v3_exec_multiple_dataset",
            provenance: BFCL_PROVENANCE,
            licence: "Apache-2.0",
            reference: None,
        },
    },
];

pub const DEFAULT_SCENARIO: &str = "game";

pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|b| b.name).collect()
}

fn digest(path: &str, text: &str) -> FileDigest {
    FileDigest {
        path: path.to_string(),
        sha256: sha256_hex(text.as_bytes()),
    }
}

/// Load a built-in scenario by name, or a file: a `.jsonl` in fcbench's format, or a
/// reproduction question file whose answers sit in `possible_answer/` beside it.
pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
    if let Some(b) = BUILTINS.iter().find(|b| b.name == name_or_path) {
        let files = b
            .files
            .iter()
            .map(|(p, t)| digest(&format!("builtin:scenarios/data/{p}"), t))
            .collect();
        let mut s = match b.format {
            Format::Native => {
                parse_native(b.files[0].1, &format!("scenarios/data/{}", b.files[0].0))?
            }
            Format::Repro {
                dataset,
                provenance,
                licence,
                reference,
            } => {
                let (q, a) = (b.files[0], b.files[1]);
                let cases = parse_repro(
                    q.1,
                    &format!("scenarios/data/{}", q.0),
                    Some((a.1, &format!("scenarios/data/{}", a.0))),
                    dataset,
                )?;
                Scenario {
                    meta: ScenarioMeta {
                        name: b.name.into(),
                        description: format!("{dataset} from the SimpleTool reproduction fixtures"),
                        provenance: provenance.into(),
                        licence: licence.into(),
                        published_reference: reference
                            .map(|r| serde_json::from_str(r).expect("built-in reference is JSON")),
                    },
                    cases,
                    files: Vec::new(),
                }
            }
        };
        s.meta.name = b.name.into();
        s.files = files;
        return Ok(s);
    }
    let path = PathBuf::from(name_or_path);
    if !path.exists() {
        // Something that looks like a path is a missing file, not an unknown built-in.
        if name_or_path.contains(['/', '\\']) || name_or_path.ends_with(".jsonl") {
            return Err(ScenarioError::File {
                file: name_or_path.into(),
                what: "no such scenario file".into(),
            });
        }
        return Err(ScenarioError::Unknown(name_or_path.into()));
    }
    load_file(&path)
}

/// A scenario file's text, as stored (its digest is the file's own SHA-256). A directory, an
/// unreadable or a binary file is named as such.
fn read(path: &Path) -> Result<String, ScenarioError> {
    let err = |what: String| ScenarioError::File {
        file: path.display().to_string(),
        what,
    };
    if path.is_dir() {
        return Err(err("is a directory, not a scenario file (.jsonl)".into()));
    }
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        err(format!(
            "not a text file: line {line} (byte {at}) is not UTF-8; a scenario is UTF-8 JSON Lines"
        ))
    })
}

/// The text to parse: a UTF-8 byte-order mark (some Windows editors write one) is not part of
/// the first line's JSON.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

pub fn load_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = read(path)?;
    let shown = path.display().to_string();
    let first = strip_bom(&text)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let is_repro = serde_json::from_str::<Value>(first)
        .ok()
        .is_some_and(|v| v.get("question").is_some());
    if !is_repro {
        let mut s = parse_native(strip_bom(&text), &shown)?;
        s.files = vec![digest(&shown, &text)];
        if s.meta.name.is_empty() {
            s.meta.name = stem(path);
        }
        return Ok(s);
    }
    let dataset = stem(path);
    let answers_path = path
        .parent()
        .unwrap_or(Path::new("."))
        .join("possible_answer")
        .join(path.file_name().expect("a file"));
    let mut files = vec![digest(&shown, &text)];
    let answers = if answers_path.exists() {
        let a = read(&answers_path)?;
        files.push(digest(&answers_path.display().to_string(), &a));
        Some(a)
    } else {
        None
    };
    let answers_shown = answers_path.display().to_string();
    let cases = parse_repro(
        strip_bom(&text),
        &shown,
        answers
            .as_deref()
            .map(|a| (strip_bom(a), answers_shown.as_str())),
        &dataset,
    )?;
    Ok(Scenario {
        meta: ScenarioMeta {
            name: dataset,
            ..Default::default()
        },
        cases,
        files,
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn field_err(file: &str, line: usize, field: &str, what: impl Into<String>) -> ScenarioError {
    ScenarioError::Field {
        file: file.into(),
        line,
        field: field.into(),
        what: what.into(),
    }
}

fn parse_tools(
    v: &Value,
    file: &str,
    line: usize,
    field: &str,
) -> Result<Vec<Tool>, ScenarioError> {
    let arr = v
        .as_array()
        .ok_or_else(|| field_err(file, line, field, "expected a list of tools"))?;
    arr.iter()
        .enumerate()
        .map(|(i, t)| {
            Tool::from_json(t).map_err(|e| field_err(file, line, &format!("{field}[{i}]"), e))
        })
        .collect()
}

/// Does the query text carry prior calls (`history: [something]`), as Mobile Actions rows do?
pub fn query_has_history(query: &str) -> bool {
    query.lines().any(|l| {
        l.strip_prefix("history: [")
            .is_some_and(|rest| !rest.trim_end().trim_end_matches(']').trim().is_empty())
    })
}

/// Python's `bool(x)` of a JSON value.
fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn parse_gold_list(v: &Value) -> Result<Vec<GoldCall>, String> {
    let arr = v.as_array().ok_or("expected a list of gold calls")?;
    if arr.is_empty() {
        return Err("empty list of gold calls".into());
    }
    arr.iter().map(GoldCall::from_json).collect()
}

/// Parse a reproduction question file and (optionally) its possible answers.
pub fn parse_repro(
    questions: &str,
    qfile: &str,
    answers: Option<(&str, &str)>,
    dataset: &str,
) -> Result<Vec<Case>, ScenarioError> {
    // Gold first, keyed by id; a bad line is kept as an error for its id (or its line).
    let mut gold: HashMap<String, Result<Vec<GoldCall>, String>> = HashMap::new();
    let mut bad_gold_lines: HashMap<usize, String> = HashMap::new();
    if let Some((atext, afile)) = answers {
        for (i, line) in atext.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) => {
                    let Some(id) = v.get("id").and_then(Value::as_str) else {
                        bad_gold_lines.insert(i + 1, format!("{afile}:{}: no string `id`", i + 1));
                        continue;
                    };
                    let g = v
                        .get("ground_truth")
                        .ok_or_else(|| "no field `ground_truth`".to_string())
                        .and_then(parse_gold_list)
                        .map_err(|e| format!("{afile}:{}: field `ground_truth`: {e}", i + 1));
                    gold.insert(id.to_string(), g);
                }
                Err(e) => {
                    bad_gold_lines.insert(i + 1, format!("{afile}:{}: invalid JSON ({e})", i + 1));
                }
            }
        }
    }
    let mut cases = Vec::new();
    for (i, line) in questions.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| field_err(qfile, n, "(line)", format!("invalid JSON: {e}")))?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| field_err(qfile, n, "id", "missing or not a string"))?
            .to_string();
        let messages = v
            .get("question")
            .and_then(|q| q.get(0))
            .and_then(Value::as_array)
            .ok_or_else(|| field_err(qfile, n, "question", "expected [[{role, content}, …]]"))?;
        let query = messages
            .iter()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
            .ok_or_else(|| field_err(qfile, n, "question", "no user message with string content"))?
            .to_string();
        let tools = parse_tools(
            v.get("function").unwrap_or(&Value::Null),
            qfile,
            n,
            "function",
        )?;
        let (gold_calls, gold_error) = match gold.remove(&id) {
            Some(Ok(g)) => (Some(g), None),
            Some(Err(e)) => (None, Some(e)),
            None if answers.is_none() => (None, Some("no possible-answer file".into())),
            None => {
                // The answers file is line-aligned with the questions: a broken line there
                // belongs to this id.
                let e = bad_gold_lines
                    .remove(&n)
                    .unwrap_or_else(|| "missing ground truth".into());
                (None, Some(e))
            }
        };
        // The reproduction's scorer looks for a structured `history` field on the message
        // (strict.py), not for the `history: [...]` line inside the text; Mobile Actions rows
        // have none, so their target is the first gold call, which is also what their gold
        // means (`_k` rows list the calls still to make).
        let has_history = messages
            .first()
            .and_then(|m| m.get("history"))
            .is_some_and(py_truthy);
        cases.push(Case {
            has_history,
            id,
            dataset: dataset.to_string(),
            query,
            environment: Vec::new(),
            history: Vec::new(),
            tools,
            gold: gold_calls,
            gold_error,
        });
    }
    Ok(cases)
}

#[derive(Deserialize)]
struct Header {
    scenario: HeaderBody,
}

#[derive(Deserialize)]
struct HeaderBody {
    #[serde(flatten)]
    meta: ScenarioMeta,
    #[serde(default)]
    tools: Option<Value>,
}

/// Parse fcbench's own JSONL format.
pub fn parse_native(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
    let mut meta = ScenarioMeta::default();
    let mut default_tools: Option<Vec<Tool>> = None;
    let mut cases = Vec::new();
    let mut ids = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| field_err(file, n, "(line)", format!("invalid JSON: {e}")))?;
        if v.get("scenario").is_some() {
            if !cases.is_empty() {
                return Err(field_err(
                    file,
                    n,
                    "scenario",
                    "the header must come before the cases",
                ));
            }
            let h: Header = serde_json::from_value(v)
                .map_err(|e| field_err(file, n, "scenario", e.to_string()))?;
            meta = h.scenario.meta;
            if let Some(t) = h.scenario.tools {
                default_tools = Some(parse_tools(&t, file, n, "scenario.tools")?);
            }
            continue;
        }
        let s = |f: &str| -> Result<Option<String>, ScenarioError> {
            match v.get(f) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(field_err(file, n, f, "expected a string")),
            }
        };
        let id = s("id")?.ok_or_else(|| field_err(file, n, "id", "missing"))?;
        if let Some(prev) = ids.insert(id.clone(), n) {
            return Err(field_err(
                file,
                n,
                "id",
                format!("`{id}` already used on line {prev}"),
            ));
        }
        let query = s("query")?.ok_or_else(|| field_err(file, n, "query", "missing"))?;
        let tools = match v.get("tools") {
            Some(t) => parse_tools(t, file, n, "tools")?,
            None => default_tools.clone().ok_or_else(|| {
                field_err(
                    file,
                    n,
                    "tools",
                    "missing, and the file has no header tools",
                )
            })?,
        };
        let environment: Vec<String> = match v.get("environment") {
            None | Some(Value::Null) => Vec::new(),
            Some(e) => serde_json::from_value(e.clone())
                .map_err(|_| field_err(file, n, "environment", "expected a list of strings"))?,
        };
        let history: Vec<FunctionCall> = match v.get("history") {
            None | Some(Value::Null) => Vec::new(),
            Some(h) => serde_json::from_value(h.clone()).map_err(|_| {
                field_err(
                    file,
                    n,
                    "history",
                    "expected a list of {\"name\", \"arguments\"}",
                )
            })?,
        };
        let (gold, gold_error) = match v.get("gold") {
            None | Some(Value::Null) => (None, Some("no gold".to_string())),
            Some(g) => match parse_gold_list(g) {
                Ok(g) => (Some(g), None),
                Err(e) => return Err(field_err(file, n, "gold", e)),
            },
        };
        for call in gold.iter().flatten() {
            if !tools.iter().any(|t| t.name == call.name) {
                return Err(field_err(
                    file,
                    n,
                    "gold",
                    format!("calls `{}`, which is not among the case's tools", call.name),
                ));
            }
        }
        cases.push(Case {
            has_history: !history.is_empty() || query_has_history(&query),
            dataset: s("dataset")?.unwrap_or_else(|| meta.name.clone()),
            id,
            query,
            environment,
            history,
            tools,
            gold,
            gold_error,
        });
    }
    if cases.is_empty() {
        return Err(ScenarioError::File {
            file: file.into(),
            what: "no cases".into(),
        });
    }
    Ok(Scenario {
        meta,
        cases,
        files: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
