//! The `replay` backend: a call-level engine that answers each case with the raw head texts
//! recorded for it in a results file (the SimpleTool reproduction's `results/…/<dataset>.jsonl`:
//! one `{"id", "raw_heads": {head: text}, "finish_reasons": {head: "stop"|"length"},
//! "token_counts": {head: n}}` a line). The heads then go through the same parsing and scoring
//! as a live run: this is how a GPU run is re-scored on a laptop, and how fcbench's scorers are
//! checked against the recorded verdicts. Its latency is file lookup, not model time.

use fcbench_core::backend::{BackendError, BackendInfo, CallBackend, CallOutput, CallRequest};
use fcbench_core::machine::sha256_hex;
use fcbench_core::protocol::Protocol;
use fcbench_core::record::{HeadRecord, StopReason};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{file}: {what}")]
    File { file: String, what: String },
    #[error("{file}:{line}: field `{field}`: {what}")]
    Field {
        file: String,
        line: usize,
        field: String,
        what: String,
    },
}

/// One recorded row.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Recorded {
    pub id: String,
    pub raw_heads: BTreeMap<String, String>,
    #[serde(default)]
    pub finish_reasons: BTreeMap<String, String>,
    #[serde(default)]
    pub token_counts: BTreeMap<String, usize>,
}

/// Head order of the SimpleTool reproduction (its files were decoded with these 8 heads).
const HEAD_ORDER: [&str; 8] = [
    "content", "function", "arg1", "arg2", "arg3", "arg4", "arg5", "arg6",
];

impl Recorded {
    /// The recorded heads as fcbench head records: `content` only when asked for, the function
    /// head and every recorded argument head (an unknown function name keeps all six).
    pub fn heads(&self, content: bool) -> Vec<HeadRecord> {
        let known = HEAD_ORDER
            .iter()
            .filter(|h| content || **h != "content")
            .map(|h| h.to_string());
        let extra = self
            .raw_heads
            .keys()
            .filter(|h| !HEAD_ORDER.contains(&h.as_str()))
            .cloned();
        known
            .chain(extra)
            .filter_map(|name| {
                let text = self.raw_heads.get(&name)?.clone();
                let stop = match self.finish_reasons.get(&name).map(String::as_str) {
                    Some("length") => StopReason::Length,
                    // A null head comes back as "" (its `<|null|>` stop removed).
                    _ if text.is_empty() => StopReason::Null,
                    _ => StopReason::Marker,
                };
                Some(HeadRecord {
                    tokens: self.token_counts.get(&name).copied().unwrap_or(0),
                    name,
                    text,
                    stop,
                    stop_marker: None,
                    tail_tokens: 0,
                    argmax_agreed: None,
                })
            })
            .collect()
    }
}

/// Parse a results file; a bad line fails with file, line and field.
pub fn parse_results(text: &str, file: &str) -> Result<Vec<Recorded>, ReplayError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |field: &str, what: String| ReplayError::Field {
            file: file.into(),
            line: i + 1,
            field: field.into(),
            what,
        };
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| err("(line)", format!("invalid JSON: {e}")))?;
        for field in ["id", "raw_heads"] {
            if v.get(field).is_none() {
                return Err(err(field, "missing".into()));
            }
        }
        let r: Recorded = serde_json::from_value(v.clone()).map_err(|e| {
            // Name the field serde tripped over.
            let field = ["id", "raw_heads", "finish_reasons", "token_counts"]
                .into_iter()
                .find(|f| {
                    v.get(f).is_some_and(|x| {
                        let probe = serde_json::json!({"id": "", "raw_heads": {}, *f: x});
                        serde_json::from_value::<Recorded>(probe).is_err()
                    })
                })
                .unwrap_or("(line)");
            err(field, e.to_string())
        })?;
        rows.push(r);
    }
    Ok(rows)
}

/// Recorded outputs of one file, by case id.
pub struct ReplayBackend {
    info: BackendInfo,
    path: PathBuf,
    rows: HashMap<String, Recorded>,
}

impl ReplayBackend {
    pub fn open(path: &Path) -> Result<ReplayBackend, ReplayError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ReplayError::File {
            file: shown.clone(),
            what: e.to_string(),
        })?;
        let mut rows = HashMap::new();
        for (n, r) in parse_results(&text, &shown)?.into_iter().enumerate() {
            if let Some(prev) = rows.insert(r.id.clone(), r) {
                return Err(ReplayError::File {
                    file: shown,
                    what: format!("id `{}` recorded twice (row {})", prev.id, n + 1),
                });
            }
        }
        let info = BackendInfo {
            name: "replay".into(),
            version: format!("fcbench-replay {}", env!("CARGO_PKG_VERSION")),
            build: "recorded outputs".into(),
            model_path: shown,
            model_sha256: sha256_hex(text.as_bytes()),
            model_bytes: text.len() as u64,
            architecture: "recorded".into(),
            quantization: "recorded".into(),
            parameters: 0,
            context_size: 0,
            max_sequences: 0,
            threads: 0,
            ..Default::default()
        };
        Ok(ReplayBackend {
            info,
            path: path.to_path_buf(),
            rows,
        })
    }

    /// A name for the recorded model: the folder the file sits in (the reproduction names it
    /// after the model and engine settings, e.g. `RT-Qwen3-4B-eager`).
    pub fn model_name(&self) -> String {
        self.path
            .canonicalize()
            .unwrap_or_else(|_| self.path.clone())
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recorded".into())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Recorded> {
        self.rows.get(id)
    }
}

impl CallBackend for ReplayBackend {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    fn call(&mut self, req: &CallRequest) -> Result<CallOutput, BackendError> {
        if !matches!(
            req.protocol,
            Protocol::SimpleTool | Protocol::SimpleToolSerial
        ) {
            return Err(BackendError::Other(format!(
                "replay holds SimpleTool heads; protocol `{}` cannot read them (use --protocol simpletool)",
                req.protocol
            )));
        }
        let row = self.rows.get(&req.case.id).ok_or_else(|| {
            BackendError::Other(format!(
                "{}: no recorded output for case `{}`",
                self.info.model_path, req.case.id
            ))
        })?;
        Ok(CallOutput {
            heads: row.heads(req.content_head),
            engine_ms: None,
            ttft_ms: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_keep_order_and_stops() {
        let r = parse_results(
            r#"{"id":"a","raw_heads":{"arg1":"x","function":"f","content":"hi","arg2":""},"finish_reasons":{"arg1":"length","arg2":"stop","function":"stop"},"token_counts":{"function":3}}"#,
            "r.jsonl",
        )
        .unwrap();
        let h = r[0].heads(false);
        let names: Vec<_> = h.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["function", "arg1", "arg2"]);
        assert_eq!(h[0].stop, StopReason::Marker);
        assert_eq!(h[0].tokens, 3);
        assert_eq!(h[1].stop, StopReason::Length);
        assert_eq!(h[2].stop, StopReason::Null);
        assert_eq!(r[0].heads(true)[0].name, "content");
    }

    #[test]
    fn bad_line_names_file_line_and_field() {
        let text =
            "{\"id\":\"a\",\"raw_heads\":{}}\n{\"id\":\"b\",\"raw_heads\":{\"function\":3}}\n";
        let e = parse_results(text, "r.jsonl").unwrap_err().to_string();
        assert!(e.starts_with("r.jsonl:2: field `raw_heads`:"), "{e}");
        let e = parse_results("{\"raw_heads\":{}}", "r.jsonl")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "r.jsonl:1: field `id`: missing");
        let e = parse_results("{", "r.jsonl").unwrap_err().to_string();
        assert!(
            e.starts_with("r.jsonl:1: field `(line)`: invalid JSON"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        std::fs::write(
            &p,
            "{\"id\":\"a\",\"raw_heads\":{}}\n{\"id\":\"a\",\"raw_heads\":{}}\n",
        )
        .unwrap();
        let e = ReplayBackend::open(&p).err().unwrap().to_string();
        assert!(e.contains("`a` recorded twice"), "{e}");
    }
}
