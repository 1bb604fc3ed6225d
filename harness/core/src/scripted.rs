//! A scripted engine for unit tests: a byte-level "tokenizer" and logits that follow a script.
//! It never stands in for a real backend in a user-facing path.

use crate::backend::{
    BackendError, BackendInfo, BatchEntry, SeqId, TokenBackend, TokenId, TokenKind, Vocabulary,
};
use std::collections::BTreeMap;

/// Tokens: 0..256 are bytes; 256.. are the special strings in `specials`.
pub struct Scripted {
    pub info: BackendInfo,
    pub specials: Vec<String>,
    /// What each sequence must output next, by sequence: the script is the text that the
    /// sequence's prompt tail selects (keyed by the last prompt byte sequence's suffix).
    pub answers: Vec<(String, String)>,
    seqs: BTreeMap<SeqId, Vec<TokenId>>,
    rows: Vec<Vec<f32>>,
    pub steps: Vec<usize>,
    pub prefilled: usize,
}

impl Scripted {
    pub fn new(specials: &[&str], answers: &[(&str, &str)]) -> Self {
        Scripted {
            info: BackendInfo {
                name: "scripted".into(),
                version: "test".into(),
                build: String::new(),
                model_path: String::new(),
                model_sha256: String::new(),
                model_bytes: 0,
                architecture: "test".into(),
                quantization: "none".into(),
                parameters: 0,
                context_size: 8192,
                max_sequences: 16,
                threads: 1,
                ..Default::default()
            },
            specials: specials.iter().map(|s| s.to_string()).collect(),
            answers: answers
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            seqs: BTreeMap::new(),
            rows: Vec::new(),
            steps: Vec::new(),
            prefilled: 0,
        }
    }

    fn text(&self, toks: &[TokenId]) -> String {
        let mut b = Vec::new();
        for &t in toks {
            b.extend(self.token_bytes(t));
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Next token of `seq`: continue the answer whose key occurs last in the sequence's text
    /// (the head's own tag, not the mentions of tags in the system prompt).
    fn next(&self, seq: SeqId) -> TokenId {
        let text = self.text(&self.seqs[&seq]);
        let best = self
            .answers
            .iter()
            .filter_map(|(key, answer)| text.rfind(key.as_str()).map(|i| (i + key.len(), answer)))
            .max_by_key(|(end, _)| *end);
        match best {
            Some((end, answer)) => {
                let full = self.tokenize(answer, false).unwrap();
                let done = self.tokenize(&text[end..], false).unwrap().len();
                full.get(done).copied().unwrap_or(b'~' as TokenId)
            }
            None => b'?' as TokenId,
        }
    }

    /// Sequences that hold cells, with how many: what a call leaves in the cache.
    pub fn held(&self) -> Vec<(SeqId, usize)> {
        self.seqs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(&s, v)| (s, v.len()))
            .collect()
    }

    fn row_for(&self, tok: TokenId) -> Vec<f32> {
        let mut r = vec![0.0; self.vocab_size()];
        r[tok as usize] = 1.0;
        r
    }
}

impl Vocabulary for Scripted {
    fn tokenize(&self, text: &str, _add_bos: bool) -> Result<Vec<TokenId>, BackendError> {
        let mut out = Vec::new();
        let mut rest = text.as_bytes();
        'outer: while let Some(&c) = rest.first() {
            for (i, s) in self.specials.iter().enumerate() {
                if let Some(r) = rest.strip_prefix(s.as_bytes()) {
                    out.push(256 + i as TokenId);
                    rest = r;
                    continue 'outer;
                }
            }
            out.push(c as TokenId);
            rest = &rest[1..];
        }
        Ok(out)
    }
    fn token_bytes(&self, t: TokenId) -> Vec<u8> {
        if t < 256 {
            vec![t as u8]
        } else {
            self.specials[(t - 256) as usize].as_bytes().to_vec()
        }
    }
    fn single_token(&self, text: &str) -> Option<TokenId> {
        self.specials
            .iter()
            .position(|s| s == text)
            .map(|i| 256 + i as TokenId)
    }
    fn is_end_of_generation(&self, _t: TokenId) -> bool {
        false
    }
    fn token_kind(&self, _t: TokenId) -> TokenKind {
        TokenKind::Other
    }
    fn vocab_size(&self) -> usize {
        256 + self.specials.len()
    }
}

impl TokenBackend for Scripted {
    fn info(&self) -> &BackendInfo {
        &self.info
    }
    fn vocab(&self) -> &dyn Vocabulary {
        self
    }
    fn prefill(&mut self, seq: SeqId, start: u32, tokens: &[TokenId]) -> Result<(), BackendError> {
        let s = self.seqs.entry(seq).or_default();
        assert_eq!(
            s.len(),
            start as usize,
            "prefill must continue the sequence"
        );
        s.extend_from_slice(tokens);
        self.prefilled += tokens.len();
        let next = self.next(seq);
        self.rows = vec![self.row_for(next)];
        Ok(())
    }
    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        let v = self.seqs.get(&src).cloned().unwrap_or_default();
        self.seqs.insert(dst, v[..len as usize].to_vec());
        Ok(())
    }
    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        let mut last: BTreeMap<SeqId, usize> = BTreeMap::new();
        for (i, e) in batch.iter().enumerate() {
            let s = self.seqs.entry(e.seq).or_default();
            assert_eq!(s.len(), e.pos as usize, "positions must be contiguous");
            s.push(e.token);
            last.insert(e.seq, i);
        }
        self.steps.push(batch.len());
        self.rows = batch
            .iter()
            .filter(|e| e.logits)
            .map(|e| self.row_for(self.next(e.seq)))
            .collect();
        Ok(())
    }
    fn logits(&self, row: usize) -> &[f32] {
        &self.rows[row]
    }
    fn truncate(&mut self, seq: SeqId, from: u32) -> Result<(), BackendError> {
        if let Some(s) = self.seqs.get_mut(&seq) {
            s.truncate(from as usize);
        }
        Ok(())
    }
    fn clear(&mut self, seq: Option<SeqId>) {
        match seq {
            Some(s) => {
                self.seqs.remove(&s);
            }
            None => self.seqs.clear(),
        }
    }
}

/// An engine that queues its work like a GPU: `prefill` and `step` return at once, and the work
/// (a sleep of the cost model's length) happens only in `synchronize`. Reading logits before
/// then is a contract violation and panics. `cost(batch_len, shape_changed)` gives each
/// launch's milliseconds; `shape_changed` is true when the batch size differs from the previous
/// launch (a GPU re-captures its graph then).
pub struct Queued<B> {
    pub inner: B,
    cost: Box<dyn Fn(usize, bool) -> f64>,
    pending_ms: f64,
    last_batch: usize,
}

impl<B> Queued<B> {
    pub fn new(inner: B, cost: impl Fn(usize, bool) -> f64 + 'static) -> Self {
        Queued {
            inner,
            cost: Box::new(cost),
            pending_ms: 0.0,
            last_batch: 0,
        }
    }

    fn launch(&mut self, n: usize) {
        self.pending_ms += (self.cost)(n, n != self.last_batch);
        self.last_batch = n;
    }
}

impl<B: TokenBackend> TokenBackend for Queued<B> {
    fn info(&self) -> &BackendInfo {
        self.inner.info()
    }
    fn vocab(&self) -> &dyn Vocabulary {
        self.inner.vocab()
    }
    fn prefill(&mut self, seq: SeqId, start: u32, tokens: &[TokenId]) -> Result<(), BackendError> {
        self.launch(tokens.len());
        self.inner.prefill(seq, start, tokens)
    }
    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        self.inner.fork(src, dst, len)
    }
    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        self.launch(batch.len());
        self.inner.step(batch)
    }
    fn logits(&self, row: usize) -> &[f32] {
        assert!(
            self.pending_ms == 0.0,
            "logits read while {} ms of queued work had not finished (synchronize first)",
            self.pending_ms
        );
        self.inner.logits(row)
    }
    fn truncate(&mut self, seq: SeqId, from: u32) -> Result<(), BackendError> {
        self.inner.truncate(seq, from)
    }
    fn clear(&mut self, seq: Option<SeqId>) {
        self.inner.clear(seq)
    }
    fn synchronize(&mut self) -> Result<(), BackendError> {
        if self.pending_ms > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(self.pending_ms / 1e3));
            self.pending_ms = 0.0;
        }
        Ok(())
    }
}
