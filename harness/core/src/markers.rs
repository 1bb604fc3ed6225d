//! Protocol markers as single tokens.
//!
//! A model trained for a protocol has its markers (`<function>`, `</arg1>`, `<|null|>`,
//! `<start_function_call>`, …) as single tokens; a base model splits them into pieces, which
//! would charge each protocol for tokens a real deployment never decodes. In forced mode each
//! marker the vocabulary lacks is mapped to one spare token (reserved/unused tokens first): an
//! explicit choice, recorded in the manifest, and switchable off.

use crate::backend::{BackendError, TokenBackend, TokenId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MarkerEntry {
    pub marker: String,
    pub token: Option<TokenId>,
    /// `native`: the vocabulary has it; `mapped`: a spare token stands in; `split`: pieces.
    pub how: MarkerHow,
    /// Text of the spare token used, when mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spare_text: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MarkerHow {
    Native,
    Mapped,
    Split,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MarkerMap {
    pub entries: Vec<MarkerEntry>,
}

impl MarkerMap {
    /// Find each marker in the vocabulary, mapping the missing ones to spare tokens when
    /// `map_missing` (in order, until spares run out).
    pub fn build(backend: &dyn TokenBackend, markers: &[String], map_missing: bool) -> MarkerMap {
        let mut spares = backend.spare_tokens().into_iter().filter(|t| {
            let text = String::from_utf8_lossy(&backend.token_bytes(*t)).into_owned();
            !markers.contains(&text)
        });
        let entries = markers
            .iter()
            .map(|m| {
                if let Some(t) = backend.single_token(m) {
                    return MarkerEntry {
                        marker: m.clone(),
                        token: Some(t),
                        how: MarkerHow::Native,
                        spare_text: None,
                    };
                }
                match spares.next().filter(|_| map_missing) {
                    Some(t) => MarkerEntry {
                        marker: m.clone(),
                        token: Some(t),
                        how: MarkerHow::Mapped,
                        spare_text: Some(
                            String::from_utf8_lossy(&backend.token_bytes(t)).into_owned(),
                        ),
                    },
                    None => MarkerEntry {
                        marker: m.clone(),
                        token: None,
                        how: MarkerHow::Split,
                        spare_text: None,
                    },
                }
            })
            .collect();
        MarkerMap { entries }
    }

    fn mapped(&self) -> impl Iterator<Item = (&str, TokenId)> {
        self.entries
            .iter()
            .filter(|e| e.how == MarkerHow::Mapped)
            .filter_map(|e| e.token.map(|t| (e.marker.as_str(), t)))
    }

    /// Tokenize `text`, emitting each mapped marker as its stand-in token.
    pub fn tokenize(
        &self,
        backend: &dyn TokenBackend,
        text: &str,
        add_bos: bool,
    ) -> Result<Vec<TokenId>, BackendError> {
        let mut out = Vec::new();
        let mut rest = text;
        let mut first = true;
        loop {
            let next = self
                .mapped()
                .filter_map(|(m, t)| rest.find(m).map(|i| (i, m.len(), t)))
                .min_by_key(|&(i, len, _)| (i, usize::MAX - len));
            let (piece, marker) = match next {
                Some((i, len, t)) => (&rest[..i], Some((len, t, i))),
                None => (rest, None),
            };
            if !piece.is_empty() || (first && add_bos) {
                out.extend(backend.tokenize(piece, first && add_bos)?);
            }
            first = false;
            match marker {
                Some((len, t, i)) => {
                    out.push(t);
                    rest = &rest[i + len..];
                }
                None => return Ok(out),
            }
        }
    }

    /// The bytes a token stands for: a mapped marker's text, else the token's own bytes.
    pub fn token_bytes(&self, backend: &dyn TokenBackend, token: TokenId) -> Vec<u8> {
        match self.mapped().find(|&(_, t)| t == token) {
            Some((m, _)) => m.as_bytes().to_vec(),
            None => backend.token_bytes(token),
        }
    }
}
