//! The multi-head decoding engine, shared by every token-level backend.
//!
//! One call: the shared prompt is prefilled once into sequence 0, forked to each head's
//! sequence, each head's own tail (its tag) is prefilled in one batch, then every step decodes
//! all live heads in one batch (parallel protocols) or one head after another (serial). The
//! timer runs from token ids ready to every head stopped; tokenization happens before, in
//! [`prepare`], and parsing after. Every engine-timed region ends with
//! [`TokenBackend::synchronize`] before the clock is read, so on an engine that queues work (a
//! GPU) a time is launch and completion, never launch alone. Between calls (untimed) every
//! head sequence the backend was opened with is cleared, so each call meets a cache that holds
//! only what its regime allows in sequence 0.

use crate::backend::{BackendError, BatchEntry, SeqId, TokenBackend, TokenId, Vocabulary};
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
    /// The protocol's end-of-turn marker ([`PromptPlan::end_of_turn`]).
    pub end_of_turn: &'static str,
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
    backend: &dyn Vocabulary,
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
        end_of_turn: plan.end_of_turn,
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
    /// Tokens of the whole prompt (shared part and the longest head tail).
    pub prompt_tokens: usize,
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

/// Greedy choice over a logits row. Gemma's vocabulary has 262k entries, so this runs on every
/// head at every step inside the timing: find the maximum with a lane-wise reduction the
/// compiler vectorises, then its first index.
fn argmax(row: &[f32]) -> TokenId {
    const LANES: usize = 16;
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            lanes[i] = if c[i] > lanes[i] { c[i] } else { lanes[i] };
        }
    }
    let mut best = f32::NEG_INFINITY;
    for &v in lanes.iter().chain(rest) {
        if v > best {
            best = v;
        }
    }
    row.iter().position(|&v| v == best).unwrap_or(0) as TokenId
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

    /// Clear sequences 1.. of everything the backend was opened with (untimed housekeeping).
    fn clear_heads(&mut self) {
        for s in 1..self.backend.info().max_sequences.max(1) {
            self.backend.clear(Some(s as SeqId));
        }
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

    /// One whole call, as `run`, `serve` and every token-level arm make it: tokenize `plan`
    /// (untimed), then [`Decoder::run`] it (timed).
    pub fn call(
        &mut self,
        plan: &PromptPlan,
        opts: &DecodeOptions,
    ) -> Result<CallOutcome, BackendError> {
        let prepared = prepare(self.backend.vocab(), &self.markers, plan, opts.mode)?;
        let mut outcome = self.run(&prepared, opts)?;
        outcome.prompt_tokens = prepared.prompt_tokens();
        Ok(outcome)
    }

    /// Run one prepared call under the regime's cache policy and time it.
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
        // Untimed: every head sequence goes, not only this call's (a wider earlier call would
        // otherwise leave cells behind); sequence 0 keeps what the regime allows.
        self.clear_heads();
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
            self.backend.synchronize()?;
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
            self.decode_loop(&mut heads, opts, &mut out, &mut engine, call.end_of_turn)?;
        } else {
            // Serial: the same heads, one after another; each head's tag prefill is part of
            // the sequential cost, so only the shared prompt counts as prefill.
            out.prefill_ms = ms(start);
            for i in 0..heads.len() {
                let t = Instant::now();
                self.backend.fork(0, heads[i].seq, shared_len)?;
                self.prefill_tails(&mut heads[i..=i])?;
                engine += ms(t);
                self.decode_loop(
                    &mut heads[i..=i],
                    opts,
                    &mut out,
                    &mut engine,
                    call.end_of_turn,
                )?;
            }
        }
        out.e2e_ms = ms(start);
        // ---- timed until here ----
        self.clear_heads();
        self.cached.clear();
        self.cached.extend_from_slice(&call.shared);
        out.decode_ms = out.e2e_ms - out.prefill_ms;
        // Exactly prefill + decode, as every reader adds them: `p + (e − p)` can differ from
        // `e` in the last bit.
        out.e2e_ms = out.prefill_ms + out.decode_ms;
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
        self.backend.synchronize()?;
        // One logits row per head (its tail's last token), in head order.
        for (row, h) in heads.iter_mut().enumerate() {
            self.choose_and_emit(h, row);
        }
        Ok(())
    }

    fn decode_loop(
        &mut self,
        heads: &mut [LiveHead],
        opts: &DecodeOptions,
        out: &mut CallOutcome,
        engine: &mut f64,
        end_of_turn: &str,
    ) -> Result<(), BackendError> {
        for h in heads.iter_mut() {
            self.check_stop(h, opts.max_head_tokens, end_of_turn);
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
            self.backend.synchronize()?;
            let step = ms(t);
            *engine += step;
            out.step_ms.push(step);
            out.step_batch.push(batch.len());
            for (row, &i) in live.iter().enumerate() {
                heads[i].pos += 1;
                self.choose_and_emit(&mut heads[i], row);
                self.check_stop(&mut heads[i], opts.max_head_tokens, end_of_turn);
            }
        }
    }

    /// Greedy argmax, or in forced mode the reference token (counting agreement with the
    /// argmax), appended to the head.
    fn choose_and_emit(&self, h: &mut LiveHead, row: usize) {
        let best = argmax(self.backend.logits(row));
        let tok = match h
            .spec
            .reference
            .as_ref()
            .and_then(|r| r.get(h.tokens.len()))
        {
            Some(&forced) => {
                if forced == best {
                    h.agreed += 1;
                }
                forced
            }
            None => best,
        };
        h.tokens.push(tok);
        h.last = tok;
        h.bytes
            .extend(self.markers.token_bytes(self.backend.vocab(), tok));
    }

    fn check_stop(&self, h: &mut LiveHead, cap: usize, end_of_turn: &str) {
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
            } else if m == end_of_turn {
                StopReason::EndOfTurn
            } else {
                StopReason::Marker
            };
            h.stop = Some((reason, Some(m.clone())));
        } else if self.backend.vocab().is_end_of_generation(h.last) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{PlanOptions, Protocol};
    use crate::scenario::Case;
    use crate::scripted::Scripted;

    fn case() -> Case {
        let tool = crate::scenario::Tool::from_json(&serde_json::json!({
            "name": "move", "description": "Move the arm.",
            "parameters": {"type": "dict", "properties": {
                "x": {"type": "integer"}, "y": {"type": "integer"}, "speed": {"type": "string"}}}
        }))
        .unwrap();
        serde_json::from_value(serde_json::json!({
            "id": "c0", "dataset": "t", "query": "go to 3,4", "tools": [tool],
            "gold": [{"name": "move", "params": {"x": [3], "y": [4], "speed": [""]}}]
        }))
        .unwrap()
    }

    const SPECIALS: &[&str] = &[
        "<|im_start|>",
        "<|im_end|>",
        "<|null|>",
        "</function>",
        "</arg1>",
        "</arg2>",
        "</arg3>",
    ];

    /// A "model" that answers the gold call, except that arg1 rambles without a stop.
    fn engine(arg1: &str) -> Scripted {
        Scripted::new(
            SPECIALS,
            &[
                ("<function>", "move</function>"),
                ("<arg1>", arg1),
                ("<arg2>", "4</arg2>"),
                ("<arg3>", "<|null|>"),
            ],
        )
    }

    fn run(
        b: &mut Scripted,
        p: Protocol,
        mode: DecodeMode,
        regime: CacheRegime,
        cap: usize,
    ) -> (CallOutcome, PreparedCall) {
        let c = case();
        let plan = p.plan(&c, &PlanOptions::default()).unwrap();
        let markers = MarkerMap::build(b, &p.markers(), false);
        let call = prepare(b, &markers, &plan, mode).unwrap();
        let opts = DecodeOptions {
            mode,
            regime,
            max_head_tokens: cap,
            parallel: p.parallel(),
        };
        let mut d = Decoder::new(b, markers);
        let out = d.run(&call, &opts).unwrap();
        (out, call)
    }

    fn texts(o: &CallOutcome) -> Vec<(String, String, StopReason)> {
        o.heads
            .iter()
            .map(|h| (h.name.clone(), h.text.clone(), h.stop))
            .collect()
    }

    #[test]
    fn parallel_heads_share_the_prefix_and_stop_independently() {
        let mut b = engine("3</arg1>");
        let (out, call) = run(
            &mut b,
            Protocol::SimpleTool,
            DecodeMode::Free,
            CacheRegime::Cold,
            128,
        );
        assert_eq!(
            texts(&out),
            [
                ("function".into(), "move".into(), StopReason::Marker),
                ("arg1".into(), "3".into(), StopReason::Marker),
                ("arg2".into(), "4".into(), StopReason::Marker),
                ("arg3".into(), "".into(), StopReason::Null),
            ]
        );
        // The shared prompt is prefilled once; each head only adds its tag.
        assert_eq!(
            out.prefilled_tokens,
            call.shared.len() + call.heads.iter().map(|h| h.tail.len()).sum::<usize>()
        );
        assert_eq!(out.cached_tokens, 0);
        // All heads in one batch per step, finished heads left out: `move</function>` is the
        // longest (5 tokens), so 4 steps after the tags' batch, shrinking as heads stop.
        assert_eq!(out.step_batch, [3, 1, 1, 1]);
        let parsed = Protocol::SimpleTool.parse(
            &case(),
            &out.heads
                .iter()
                .map(|h| (h.name.clone(), h.text.clone()))
                .collect::<Vec<_>>(),
        );
        assert_eq!(
            serde_json::to_string(&parsed.call.unwrap()).unwrap(),
            r#"{"name":"move","arguments":{"x":3,"y":4}}"#
        );
    }

    #[test]
    fn serial_decodes_the_same_heads_one_after_another() {
        let mut b = engine("3</arg1>");
        let (par, _) = run(
            &mut b,
            Protocol::SimpleTool,
            DecodeMode::Free,
            CacheRegime::Cold,
            128,
        );
        let mut b = engine("3</arg1>");
        let (ser, _) = run(
            &mut b,
            Protocol::SimpleToolSerial,
            DecodeMode::Free,
            CacheRegime::Cold,
            128,
        );
        assert_eq!(texts(&par), texts(&ser));
        assert!(ser.step_batch.iter().all(|&n| n == 1));
        let total: usize = ser.heads.iter().map(|h| h.tokens - 1).sum();
        assert_eq!(
            ser.step_batch.len(),
            total,
            "one step per token after each head's first"
        );
    }

    #[test]
    fn cap_stops_a_rambling_head_and_is_reported() {
        let mut b = engine("33333333333333333333");
        let (out, _) = run(
            &mut b,
            Protocol::SimpleTool,
            DecodeMode::Free,
            CacheRegime::Cold,
            6,
        );
        let arg1 = &out.heads[1];
        assert_eq!(
            (arg1.stop, arg1.tokens, arg1.text.as_str()),
            (StopReason::Length, 6, "333333")
        );
    }

    #[test]
    fn forced_mode_appends_the_reference_and_counts_agreement() {
        // The model wants x = 7, the reference says 3: the reference wins, disagreement counted.
        let mut b = engine("7</arg1>");
        let (out, _) = run(
            &mut b,
            Protocol::SimpleTool,
            DecodeMode::Forced,
            CacheRegime::Cold,
            128,
        );
        assert_eq!(out.heads[1].text, "3");
        assert_eq!(
            out.heads[1].argmax_agreed,
            Some(1),
            "`</arg1>` agreed, `3` did not"
        );
        assert_eq!(out.heads[0].argmax_agreed, Some(out.heads[0].tokens));
        assert_eq!(
            out.reference_tokens,
            Some(out.heads.iter().map(|h| h.tokens).sum())
        );
    }

    #[test]
    fn regimes_decide_what_is_prefilled_inside_the_timing() {
        let mut b = engine("3</arg1>");
        let c = case();
        let p = Protocol::SimpleTool;
        let plan = p.plan(&c, &PlanOptions::default()).unwrap();
        let markers = MarkerMap::build(&b, &p.markers(), false);
        let call = prepare(&b, &markers, &plan, DecodeMode::Free).unwrap();
        let tails: usize = call.heads.iter().map(|h| h.tail.len()).sum();
        assert!(call.prefix_len > 0 && call.prefix_len < call.shared.len());
        let mut d = Decoder::new(&mut b, markers);
        let opts = |regime| DecodeOptions {
            mode: DecodeMode::Free,
            regime,
            max_head_tokens: 32,
            parallel: true,
        };
        for _ in 0..2 {
            let cold = d.run(&call, &opts(CacheRegime::Cold)).unwrap();
            assert_eq!(
                (cold.cached_tokens, cold.prefilled_tokens),
                (0, call.shared.len() + tails)
            );
            let prefix = d.run(&call, &opts(CacheRegime::Prefix)).unwrap();
            assert_eq!(prefix.cached_tokens, call.prefix_len);
            assert_eq!(
                prefix.prefilled_tokens,
                call.shared.len() - call.prefix_len + tails
            );
            let warm = d.run(&call, &opts(CacheRegime::Warm)).unwrap();
            assert_eq!(
                (warm.cached_tokens, warm.prefilled_tokens),
                (call.shared.len(), tails)
            );
            assert_eq!(texts(&cold), texts(&prefix));
            assert_eq!(texts(&cold), texts(&warm));
        }
    }

    #[test]
    fn a_prompt_longer_than_the_context_fails_instead_of_being_cut() {
        let mut b = engine("3</arg1>");
        b.info.context_size = 64;
        let c = case();
        let plan = Protocol::Json.plan(&c, &PlanOptions::default()).unwrap();
        let markers = MarkerMap::default();
        let call = prepare(&b, &markers, &plan, DecodeMode::Free).unwrap();
        let mut d = Decoder::new(&mut b, markers);
        let opts = DecodeOptions {
            mode: DecodeMode::Free,
            regime: CacheRegime::Cold,
            max_head_tokens: 8,
            parallel: true,
        };
        let e = d.run(&call, &opts).unwrap_err();
        assert!(
            matches!(e, BackendError::ContextOverflow { context: 64, .. }),
            "{e}"
        );
    }

    #[test]
    fn an_engine_that_queues_its_work_is_timed_to_completion_not_to_launch() {
        // Every launch costs 3 ms that only `synchronize` waits for, like a GPU queue: without
        // the synchronisation each step would read as microseconds.
        let mut b = crate::scripted::Queued::new(engine("3</arg1>"), |_, _| 3.0);
        let p = Protocol::SimpleTool;
        let plan = p.plan(&case(), &PlanOptions::default()).unwrap();
        let markers = MarkerMap::build(b.vocab(), &p.markers(), false);
        let call = prepare(b.vocab(), &markers, &plan, DecodeMode::Free).unwrap();
        let mut d = Decoder::new(&mut b, markers);
        let opts = DecodeOptions {
            mode: DecodeMode::Free,
            regime: CacheRegime::Cold,
            max_head_tokens: 32,
            parallel: true,
        };
        let out = d.run(&call, &opts).unwrap();
        assert!(!out.step_ms.is_empty());
        for (i, &t) in out.step_ms.iter().enumerate() {
            assert!(t >= 3.0, "step {i} timed {t} ms, its work took 3 ms");
        }
        // The shared prompt's prefill and the heads' tags: two launches before the first step.
        assert!(out.prefill_ms >= 6.0, "prefill {} ms", out.prefill_ms);
        let launches = out.step_ms.len() + 2;
        assert!(out.engine_ms >= 3.0 * launches as f64);
        assert!(out.engine_ms <= out.e2e_ms);
        assert_eq!(out.prefill_ms + out.decode_ms, out.e2e_ms);
    }

    #[test]
    fn after_every_call_the_cache_holds_only_sequence_0_wide_and_narrow_alike() {
        let narrow = || -> Case {
            let tool = crate::scenario::Tool::from_json(&serde_json::json!({
                "name": "move", "description": "Move the arm.",
                "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}}}
            }))
            .unwrap();
            serde_json::from_value(serde_json::json!({
                "id": "c1", "dataset": "t", "query": "go to 3", "tools": [tool],
                "gold": [{"name": "move", "params": {"x": [3]}}]
            }))
            .unwrap()
        };
        let mut b = engine("3</arg1>");
        let p = Protocol::SimpleTool;
        let markers = MarkerMap::build(&b, &p.markers(), false);
        let opts = DecodeOptions {
            mode: DecodeMode::Free,
            regime: CacheRegime::Prefix,
            max_head_tokens: 32,
            parallel: true,
        };
        let calls: Vec<PreparedCall> = [case(), narrow(), case(), narrow()]
            .iter()
            .map(|c| {
                let plan = p.plan(c, &PlanOptions::default()).unwrap();
                prepare(&b, &markers, &plan, DecodeMode::Free).unwrap()
            })
            .collect();
        assert!(calls[0].heads.len() > calls[1].heads.len() + 1);
        // Wide, narrow, wide, narrow on one decoder: the narrow calls must not leave the wide
        // calls' extra head sequences behind.
        let mut d = Decoder::new(&mut b, markers.clone());
        for call in &calls {
            d.run(call, &opts).unwrap();
        }
        drop(d);
        assert_eq!(b.held(), [(0, calls[3].shared.len())]);
        // And after every single call, wide or narrow, sequence 0 alone holds cells.
        for call in &calls {
            let mut d = Decoder::new(&mut b, markers.clone());
            d.run(call, &opts).unwrap();
            drop(d);
            assert_eq!(
                b.held(),
                [(0, call.shared.len())],
                "after {} heads",
                call.heads.len()
            );
        }
    }

    #[test]
    fn argmax_finds_the_first_maximum_anywhere_in_the_row() {
        for n in [1, 15, 16, 17, 100, 262_144] {
            for at in [0, n / 2, n - 1] {
                let mut row = vec![-1.0f32; n];
                row[at] = 3.0;
                assert_eq!(argmax(&row), at as TokenId, "n={n} at={at}");
                if at + 1 < n {
                    row[n - 1] = 3.0; // a tie: the first wins, as a plain scan would choose
                    assert_eq!(argmax(&row), at as TokenId);
                }
            }
        }
    }

    #[test]
    fn slot_utilisation_is_tokens_over_heads_times_longest() {
        let h = |tokens| HeadRecord {
            name: String::new(),
            text: String::new(),
            tokens,
            stop: StopReason::Marker,
            stop_marker: None,
            tail_tokens: 1,
            argmax_agreed: None,
        };
        assert_eq!(slot_utilisation(&[h(4), h(2), h(2), h(0)]), 0.5);
    }
}
