//! Protocol markers as single tokens.
//!
//! A model trained for a protocol has its markers (`<function>`, `</arg1>`, `<|null|>`,
//! `<start_function_call>`, …) as single tokens; a base model splits them into pieces, which
//! would charge each protocol for tokens a real deployment never decodes. In forced mode each
//! marker the vocabulary lacks is mapped to one spare token (reserved/unused tokens first): an
//! explicit choice, recorded in the manifest, and switchable off. Which tokens count as spare is
//! decided here, once, for every engine ([`spare_tokens`]).

use crate::backend::{BackendError, TokenId, TokenKind, Vocabulary};
use serde::{Deserialize, Serialize};

/// Tokens that the model does not use and that may stand in for protocol markers in forced
/// mode, in a stable order: the unused/reserved ones first (by the vocabulary's mark or their
/// `<unused…>`/`reserved_special_token` name), then control tokens that play no part in a chat
/// turn (chat-template markers such as `<|im_…|>` and `…turn>` are in use, so never spare).
pub fn spare_tokens(vocab: &dyn Vocabulary) -> Vec<TokenId> {
    let mut unused = Vec::new();
    let mut control = Vec::new();
    for t in 0..vocab.vocab_size() as TokenId {
        let kind = vocab.token_kind(t);
        let text = String::from_utf8_lossy(&vocab.token_bytes(t)).into_owned();
        let unused_name = (text.starts_with("<unused") || text.contains("reserved_special_token"))
            && text.ends_with('>');
        if kind == TokenKind::Unused || unused_name {
            unused.push(t);
        } else if kind == TokenKind::Control
            && !vocab.is_end_of_generation(t)
            && !text.starts_with("<|im_")
            && !text.contains("turn>")
        {
            control.push(t);
        }
    }
    unused.extend(control);
    unused
}

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
    pub fn build(vocab: &dyn Vocabulary, markers: &[String], map_missing: bool) -> MarkerMap {
        let mut spares = spare_tokens(vocab).into_iter().filter(|t| {
            let text = String::from_utf8_lossy(&vocab.token_bytes(*t)).into_owned();
            !markers.contains(&text)
        });
        let entries = markers
            .iter()
            .map(|m| {
                if let Some(t) = vocab.single_token(m) {
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
                            String::from_utf8_lossy(&vocab.token_bytes(t)).into_owned(),
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
        vocab: &dyn Vocabulary,
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
                out.extend(vocab.tokenize(piece, first && add_bos)?);
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
    pub fn token_bytes(&self, vocab: &dyn Vocabulary, token: TokenId) -> Vec<u8> {
        match self.mapped().find(|&(_, t)| t == token) {
            Some((m, _)) => m.as_bytes().to_vec(),
            None => vocab.token_bytes(token),
        }
    }
}
