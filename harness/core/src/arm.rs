//! An arm's identity: backend × model × protocol, as a value.
//!
//! Guarantees: an [`ArmId`] has one printed form, `backend/model/protocol`, which is also how
//! it is stored (`calls.jsonl`, `summary.json`, `manifest.json`), so files written before the
//! type existed load unchanged; parsing inverts printing for every arm, including a model that
//! is a path (the backend ends at the first separator, the protocol starts after the last).

use crate::protocol::Protocol;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArmId {
    pub backend: String,
    /// Model name as given (`gemma3-270m`, or a path).
    pub model: String,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArmIdError {
    #[error("arm `{0}`: expected backend/model/protocol (or backend:model:protocol)")]
    Shape(String),
    #[error("arm `{0}`: {1}")]
    Protocol(String, String),
}

impl ArmId {
    pub fn new(backend: impl Into<String>, model: impl Into<String>, protocol: Protocol) -> Self {
        ArmId {
            backend: backend.into(),
            model: model.into(),
            protocol,
        }
    }

    /// The shortest name that tells this arm apart from `others`: the parts every arm shares
    /// are dropped (`json` when backend and model are common to all), the protocol always kept.
    pub fn short(&self, others: &[ArmId]) -> String {
        let same = |f: fn(&ArmId) -> &str| others.iter().all(|o| f(o) == f(self));
        let mut parts = Vec::new();
        if !same(|a| &a.backend) {
            parts.push(self.backend.as_str());
        }
        if !same(|a| &a.model) {
            parts.push(self.model.as_str());
        }
        parts.push(self.protocol.name());
        parts.join("/")
    }
}

impl fmt::Display for ArmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.backend, self.model, self.protocol)
    }
}

/// `backend/model/protocol`, or `backend:model:protocol` (what `--arm` has always taken):
/// whichever separator comes first is the one used.
impl FromStr for ArmId {
    type Err = ArmIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sep = s
            .find(['/', ':'])
            .and_then(|i| s[i..].chars().next())
            .ok_or_else(|| ArmIdError::Shape(s.into()))?;
        let (backend, rest) = s.split_once(sep).expect("found above");
        let (model, protocol) = rest
            .rsplit_once(sep)
            .filter(|(m, _)| !backend.is_empty() && !m.is_empty())
            .ok_or_else(|| ArmIdError::Shape(s.into()))?;
        Ok(ArmId {
            backend: backend.into(),
            model: model.into(),
            protocol: protocol
                .parse()
                .map_err(|e| ArmIdError::Protocol(s.into(), e))?,
        })
    }
}

/// An arm equals its printed form: the gate names arms as strings (a label, or a suffix of one).
impl PartialEq<str> for ArmId {
    fn eq(&self, other: &str) -> bool {
        let model = other
            .strip_prefix(self.backend.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.strip_suffix(self.protocol.name()))
            .and_then(|r| r.strip_suffix('/'));
        model == Some(self.model.as_str())
    }
}

impl TryFrom<String> for ArmId {
    type Error = ArmIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ArmId> for String {
    fn from(a: ArmId) -> String {
        a.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_arm_prints_and_parses_back_even_when_its_model_is_a_path() {
        for s in [
            "llama/gemma3-270m/simpletool-serial",
            "candle//models/x.gguf/json",
            "http/C:/m/functiongemma",
        ] {
            let a: ArmId = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
        let a: ArmId = "llama/models/x.gguf/json".parse().unwrap();
        assert_eq!(
            (a.backend.as_str(), a.model.as_str()),
            ("llama", "models/x.gguf")
        );
    }

    #[test]
    fn the_colon_form_of_arm_reads_as_the_same_arm() {
        let a: ArmId = "llama:/m/x.gguf:json".parse().unwrap();
        assert_eq!(a, ArmId::new("llama", "/m/x.gguf", Protocol::Json));
        assert_eq!(a.to_string(), "llama//m/x.gguf/json");
    }

    #[test]
    fn a_label_without_three_parts_or_with_an_unknown_protocol_is_refused() {
        for s in [
            "llama",
            "llama/json",
            "/m/json",
            "llama//json",
            "llama/m/yaml",
        ] {
            assert!(s.parse::<ArmId>().is_err(), "{s}");
        }
    }

    #[test]
    fn an_arm_is_stored_as_its_printed_form() {
        let a = ArmId::new("llama", "smollm2", Protocol::SimpleTool);
        let j = serde_json::to_string(&a).unwrap();
        assert_eq!(j, "\"llama/smollm2/simpletool\"");
        assert_eq!(serde_json::from_str::<ArmId>(&j).unwrap(), a);
    }

    #[test]
    fn a_short_name_keeps_only_what_tells_arms_apart() {
        let arms: Vec<ArmId> = ["llama/a/json", "llama/b/json", "candle/a/json"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(arms[0].short(&arms), "llama/a/json");
        assert_eq!(arms[0].short(&arms[..2]), "a/json");
        assert_eq!(arms[0].short(&[arms[0].clone()]), "json");
    }
}
