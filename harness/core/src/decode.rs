//! The multi-head decoding engine, shared by every token-level backend.
//!
//! One call: the shared prompt is prefilled once into sequence 0, forked to each head's
//! sequence, each head's own tail (its tag) is prefilled in one batch, then every step decodes
//! all live heads in one batch (parallel protocols) or one head after another (serial). The
//! timer runs from token ids ready to every head stopped; tokenization happens before, in
//! [`prepare`], and parsing after.

use crate::backend::{BackendError, BatchEntry, SeqId, TokenBackend, TokenId};
use crate::markers::MarkerMap;
use crate::protocol::PromptPlan;
use crate::record::{CacheRegime, DecodeMode, HeadRecord, StopReason};
use std::time::Instant;

/// A head ready to run: token ids and stops, nothing left to tokenize.
#[derive(Debug, Clone)]
pub struct PreparedHead {
    pub name: String,
    /// The head's prompt after the shared part (never empty: its last token yields the first
    /// output distribution).
    pub tail: Vec<TokenId>,
    pub stops: Vec<String>,
    /// Forced mode: the reference output as tokens (stop marker included).
    pub reference: Option<Vec<TokenId>>,
}

/// A call ready to run.
#[derive(Debug, Clone)]
pub struct PreparedCall {
    /// Tokens common to every head's prompt.
    pub shared: Vec<TokenId>,
    /// How many leading `shared` tokens depend only on the tool set (the `prefix` regime's
    /// reusable part).
    pub prefix_len: usize,
    pub heads: Vec<PreparedHead>,
}

impl PreparedCall {
    pub fn prompt_tokens(&self) -> usize {
        self.shared.len() + self.heads.iter().map(|h| h.tail.len()).max().unwrap_or(0)
    }
}

fn common_prefix(a: &[TokenId], b: &[TokenId]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Tokenize a plan. Each head's full prompt is tokenized whole (so the tokenization is exactly
/// what a single-prompt engine would see) and the shared part is their longest common prefix.
pub fn prepare(
    backend: &dyn TokenBackend,
    markers: &MarkerMap,
    plan: &PromptPlan,
    mode: DecodeMode,
) -> Result<PreparedCall, BackendError> {
    let full: Vec<Vec<TokenId>> = plan
        .heads
        .iter()
        .map(|h| markers.tokenize(backend, &h.prompt, true))
        .collect::<Result<_, _>>()?;
    let first = full
        .first()
        .ok_or_else(|| BackendError::Other("plan has no heads".into()))?;
    let mut shared_len = full
        .iter()
        .map(|f| common_prefix(first, f))
        .min()
        .unwrap_or(0);
    let shortest = full.iter().map(Vec::len).min().unwrap_or(0);
    if shortest == 0 {
        return Err(BackendError::Tokenize("empty head prompt".into()));
    }
    shared_len = shared_len.min(shortest - 1);
    let prefix_tokens = markers.tokenize(backend, &plan.prefix, true)?;
    let prefix_len = common_prefix(&prefix_tokens, &first[..shared_len]);
    let heads = plan
        .heads
        .iter()
        .zip(&full)
        .map(|(h, f)| {
            let reference = match (mode, &h.reference) {
                (DecodeMode::Forced, Some(r)) => Some(markers.tokenize(backend, r, false)?),
                _ => None,
            };
            Ok(PreparedHead {
                name: h.name.clone(),
                tail: f[shared_len..].to_vec(),
                stops: h.stops.clone(),
                reference,
            })
        })
        .collect::<Result<_, BackendError>>()?;
    Ok(PreparedCall {
        shared: first[..shared_len].to_vec(),
        prefix_len,
        heads,
    })
}

#[derive(Debug, Clone)]
pub struct DecodeOptions {
    pub mode: DecodeMode,
    pub regime: CacheRegime,
    /// Per-head token cap.
    pub max_head_tokens: usize,
    /// Decode all heads in one batch per step (else one after another).
    pub parallel: bool,
}

/// What one call measured and produced.
#[derive(Debug, Clone, Default)]
pub struct CallOutcome {
    pub heads: Vec<HeadRecord>,
    pub cached_tokens: usize,
    pub prefilled_tokens: usize,
    pub prefill_ms: f64,
    pub decode_ms: f64,
    pub e2e_ms: f64,
    pub engine_ms: f64,
    pub step_ms: Vec<f64>,
    pub step_batch: Vec<usize>,
    pub reference_tokens: Option<usize>,
}

struct LiveHead<'a> {
    spec: &'a PreparedHead,
    seq: SeqId,
    pos: u32,
    tokens: Vec<TokenId>,
    bytes: Vec<u8>,
    agreed: usize,
    stop: Option<(StopReason, Option<String>)>,
    last: TokenId,
}

/// Drives one backend; remembers what sequence 0 holds so the `prefix` regime can reuse it.
pub struct Decoder<'b> {
    backend: &'b mut dyn TokenBackend,
    markers: MarkerMap,
    /// Tokens currently held by sequence 0.
    cached: Vec<TokenId>,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn argmax(row: &[f32]) -> TokenId {
    let mut best = 0usize;
    let mut best_v = f32::NEG_INFINITY;
    for (i, &v) in row.iter().enumerate() {
        if v > best_v {
            best_v = v;
            best = i;
        }
    }
    best as TokenId
}

impl<'b> Decoder<'b> {
    pub fn new(backend: &'b mut dyn TokenBackend, markers: MarkerMap) -> Self {
        backend.clear(None);
        Decoder {
            backend,
            markers,
            cached: Vec::new(),
        }
    }

    pub fn backend(&self) -> &dyn TokenBackend {
        &*self.backend
    }

    pub fn markers(&self) -> &MarkerMap {
        &self.markers
    }

    /// Make sequence 0 hold exactly `want` (untimed), reusing what it already holds.
    fn hold(&mut self, want: &[TokenId]) -> Result<(), BackendError> {
        let keep = common_prefix(&self.cached, want);
        if keep < self.cached.len() {
            if keep == 0 {
                self.backend.clear(Some(0));
            } else {
                self.backend.truncate(0, keep as u32)?;
            }
            self.cached.truncate(keep);
        }
        if keep < want.len() {
            self.backend.prefill(0, keep as u32, &want[keep..])?;
            self.cached.extend_from_slice(&want[keep..]);
        }
        Ok(())
    }

    fn check_fits(&self, call: &PreparedCall, max_head_tokens: usize) -> Result<(), BackendError> {
        // The unified KV cache holds the shared prompt once plus every head's tail and output.
        let reserve: usize = call
            .heads
            .iter()
            .map(|h| h.tail.len() + max_head_tokens)
            .sum();
        let context = self.backend.info().context_size;
        if call.shared.len() + reserve > context {
            return Err(BackendError::ContextOverflow {
                tokens: call.prompt_tokens(),
                reserve: reserve - call.heads.iter().map(|h| h.tail.len()).max().unwrap_or(0),
                context,
            });
        }
        if call.heads.len() + 1 > self.backend.info().max_sequences {
            return Err(BackendError::Other(format!(
                "{} heads need {} sequences; the backend was opened with {}",
                call.heads.len(),
                call.heads.len() + 1,
                self.backend.info().max_sequences
            )));
        }
        Ok(())
    }

    /// Run one call under the regime's cache policy and time it.
    pub fn run(
        &mut self,
        call: &PreparedCall,
        opts: &DecodeOptions,
    ) -> Result<CallOutcome, BackendError> {
        self.check_fits(call, opts.max_head_tokens)?;
        let result = self.run_checked(call, opts);
        if result.is_err() {
            // Whatever the engine holds after a failure is unknown: start the next call clean.
            self.backend.clear(None);
            self.cached.clear();
        }
        result
    }

    fn run_checked(
        &mut self,
        call: &PreparedCall,
        opts: &DecodeOptions,
    ) -> Result<CallOutcome, BackendError> {
        // Untimed: heads from the previous call go; sequence 0 keeps what the regime allows.
        for h in 0..call.heads.len() {
            self.backend.clear(Some(h as SeqId + 1));
        }
        let reuse = match opts.regime {
            CacheRegime::Cold => 0,
            CacheRegime::Prefix => call.prefix_len,
            CacheRegime::Warm => call.shared.len(),
        };
        self.hold(&call.shared[..reuse])?;

        let mut out = CallOutcome {
            cached_tokens: reuse,
            ..Default::default()
        };
        let mut engine = 0.0;
        // ---- timed from here: token ids are ready ----
        let start = Instant::now();
        if reuse < call.shared.len() {
            let t = Instant::now();
            self.backend
                .prefill(0, reuse as u32, &call.shared[reuse..])?;
            engine += ms(t);
            out.prefilled_tokens += call.shared.len() - reuse;
        }

        let shared_len = call.shared.len() as u32;
        let mut heads: Vec<LiveHead> = call
            .heads
            .iter()
            .enumerate()
            .map(|(i, spec)| LiveHead {
                spec,
                seq: i as SeqId + 1,
                pos: shared_len,
                tokens: Vec::new(),
                bytes: Vec::new(),
                agreed: 0,
                stop: None,
                last: 0,
            })
            .collect();
        if opts.parallel {
            let t = Instant::now();
            for h in &heads {
                self.backend.fork(0, h.seq, shared_len)?;
            }
            self.prefill_tails(&mut heads)?;
            engine += ms(t);
            out.prefill_ms = ms(start);
            self.decode_loop(&mut heads, opts, &mut out, &mut engine)?;
        } else {
            // Serial: the same heads, one after another; each head's tag prefill is part of
            // the sequential cost, so only the shared prompt counts as prefill.
            out.prefill_ms = ms(start);
            for i in 0..heads.len() {
                let t = Instant::now();
                self.backend.fork(0, heads[i].seq, shared_len)?;
                self.prefill_tails(&mut heads[i..=i])?;
                engine += ms(t);
                self.decode_loop(&mut heads[i..=i], opts, &mut out, &mut engine)?;
            }
        }
        out.e2e_ms = ms(start);
        // ---- timed until here ----
        self.cached.clear();
        self.cached.extend_from_slice(&call.shared);
        out.decode_ms = out.e2e_ms - out.prefill_ms;
        out.engine_ms = engine;
        out.prefilled_tokens += heads.iter().map(|h| h.spec.tail.len()).sum::<usize>();
        if opts.mode == DecodeMode::Forced {
            out.reference_tokens = Some(
                call.heads
                    .iter()
                    .filter_map(|h| h.reference.as_ref().map(Vec::len))
                    .sum(),
            );
        }
        out.heads = heads
            .into_iter()
            .map(|h| {
                let (stop, marker) = h.stop.clone().unwrap_or((StopReason::Length, None));
                let mut bytes = h.bytes;
                if let Some(m) = &marker {
                    if bytes.ends_with(m.as_bytes()) {
                        bytes.truncate(bytes.len() - m.len());
                    }
                }
                HeadRecord {
                    name: h.spec.name.clone(),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                    tokens: h.tokens.len(),
                    stop,
                    stop_marker: marker,
                    tail_tokens: h.spec.tail.len(),
                    argmax_agreed: (opts.mode == DecodeMode::Forced && h.spec.reference.is_some())
                        .then_some(h.agreed),
                }
            })
            .collect();
        Ok(out)
    }

    /// Prefill each head's tail into its own sequence in one batch; the last token of each
    /// tail yields that head's first output distribution.
    fn prefill_tails(&mut self, heads: &mut [LiveHead]) -> Result<(), BackendError> {
        let mut batch = Vec::new();
        for h in heads.iter_mut() {
            let n = h.spec.tail.len();
            for (k, &tok) in h.spec.tail.iter().enumerate() {
                batch.push(BatchEntry {
                    seq: h.seq,
                    pos: h.pos,
                    token: tok,
                    logits: k + 1 == n,
                });
                h.pos += 1;
            }
        }
        self.backend.step(&batch)?;
        // One logits row per head (its tail's last token), in head order.
        for (row, h) in heads.iter_mut().enumerate() {
            let tok = self.choose(h, row);
            self.emit(h, tok, row);
        }
        Ok(())
    }

    fn decode_loop(
        &mut self,
        heads: &mut [LiveHead],
        opts: &DecodeOptions,
        out: &mut CallOutcome,
        engine: &mut f64,
    ) -> Result<(), BackendError> {
        for h in heads.iter_mut() {
            self.check_stop(h, opts.max_head_tokens);
        }
        loop {
            let live: Vec<usize> = (0..heads.len())
                .filter(|&i| heads[i].stop.is_none())
                .collect();
            if live.is_empty() {
                return Ok(());
            }
            let batch: Vec<BatchEntry> = live
                .iter()
                .map(|&i| BatchEntry {
                    seq: heads[i].seq,
                    pos: heads[i].pos,
                    token: heads[i].last,
                    logits: true,
                })
                .collect();
            let t = Instant::now();
            self.backend.step(&batch)?;
            let step = ms(t);
            *engine += step;
            out.step_ms.push(step);
            out.step_batch.push(batch.len());
            for (row, &i) in live.iter().enumerate() {
                heads[i].pos += 1;
                let tok = self.choose(&heads[i], row);
                self.emit(&mut heads[i], tok, row);
                self.check_stop(&mut heads[i], opts.max_head_tokens);
            }
        }
    }

    /// Greedy argmax, or the reference token in forced mode (agreement counted).
    fn choose(&self, h: &LiveHead, row: usize) -> TokenId {
        let best = argmax(self.backend.logits(row));
        match &h.spec.reference {
            Some(r) => r.get(h.tokens.len()).copied().unwrap_or(best),
            None => best,
        }
    }

    fn emit(&self, h: &mut LiveHead, tok: TokenId, row: usize) {
        if let Some(r) = &h.spec.reference {
            if r.get(h.tokens.len()) == Some(&argmax(self.backend.logits(row))) {
                h.agreed += 1;
            }
        }
        h.tokens.push(tok);
        h.last = tok;
        h.bytes
            .extend(self.markers.token_bytes(&*self.backend, tok));
    }

    fn check_stop(&self, h: &mut LiveHead, cap: usize) {
        if h.stop.is_some() || h.tokens.is_empty() {
            return;
        }
        if let Some(m) = h
            .spec
            .stops
            .iter()
            .find(|s| h.bytes.ends_with(s.as_bytes()))
        {
            let reason = if m == crate::protocol::NULL_MARKER {
                StopReason::Null
            } else if m == "<|im_end|>" || m == "<end_of_turn>" {
                StopReason::EndOfTurn
            } else {
                StopReason::Marker
            };
            h.stop = Some((reason, Some(m.clone())));
        } else if self.backend.is_end_of_generation(h.last) {
            h.stop = Some((StopReason::EndOfTurn, None));
        } else if h.tokens.len() >= cap {
            h.stop = Some((StopReason::Length, None));
        } else if h
            .spec
            .reference
            .as_ref()
            .is_some_and(|r| h.tokens.len() >= r.len())
        {
            h.stop = Some((StopReason::ReferenceEnd, None));
        }
    }
}

/// Σ head tokens / (heads × longest head tokens): 100% when every head is as long as the
/// longest, so parallel slots never idle.
pub fn slot_utilisation(heads: &[HeadRecord]) -> f64 {
    let longest = heads.iter().map(|h| h.tokens).max().unwrap_or(0);
    if longest == 0 {
        return 0.0;
    }
    heads.iter().map(|h| h.tokens).sum::<usize>() as f64 / (heads.len() * longest) as f64
}
