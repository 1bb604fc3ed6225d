//! The backend seam: every engine (llama.cpp, candle, ONNX Runtime, …) implements
//! [`TokenBackend`] at token level, so that all of them run the *same* decoding code in
//! [`crate::decode`] and "head efficiency" means the same thing everywhere.
//!
//! Engines that only answer whole calls (an HTTP server, recorded outputs) implement
//! [`CallBackend`] instead.

use serde::{Deserialize, Serialize};

/// A token id in the model's vocabulary.
pub type TokenId = i32;
/// A KV-cache sequence id. Sequence 0 holds the shared prompt; heads use 1..=N.
pub type SeqId = i32;

/// One row of a decode step: append `token` at `pos` to sequence `seq`. Entries with `logits`
/// yield one logits row each, read back with [`TokenBackend::logits`] in batch order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchEntry {
    pub seq: SeqId,
    pub pos: u32,
    pub token: TokenId,
    /// Compute the output distribution after this token (costs an output projection).
    pub logits: bool,
}

/// `tokens` as one sequence's batch from `start_pos`, logits after the last token only: what
/// every backend's [`TokenBackend::prefill`] feeds its engine.
pub fn prefill_batch(seq: SeqId, start_pos: u32, tokens: &[TokenId]) -> Vec<BatchEntry> {
    let n = tokens.len();
    tokens
        .iter()
        .enumerate()
        .map(|(i, &token)| BatchEntry {
            seq,
            pos: start_pos + i as u32,
            token,
            logits: i + 1 == n,
        })
        .collect()
}

/// One sequence's consecutive entries in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqRun {
    pub seq: SeqId,
    pub entries: std::ops::Range<usize>,
}

/// Split `batch` into runs of consecutive entries per sequence, for engines whose caches only
/// append (candle, ONNX Runtime): each sequence appears in one run that continues exactly
/// where it ends (`len(seq)` positions held), and every position is inside `context`. The
/// error is the message; the engine adds its own prefix.
pub fn append_runs(
    batch: &[BatchEntry],
    context: usize,
    len: impl Fn(SeqId) -> usize,
) -> Result<Vec<SeqRun>, String> {
    let mut runs: Vec<SeqRun> = Vec::new();
    for (i, e) in batch.iter().enumerate() {
        if e.pos as usize >= context {
            return Err(format!(
                "position {} is beyond the context of {context} tokens",
                e.pos
            ));
        }
        match runs.last_mut() {
            Some(r) if r.seq == e.seq && batch[r.entries.end - 1].pos + 1 == e.pos => {
                r.entries.end = i + 1;
            }
            _ => {
                if runs.iter().any(|r| r.seq == e.seq) {
                    return Err(format!(
                        "sequence {} appears twice in one batch, or with a gap in positions",
                        e.seq
                    ));
                }
                let held = len(e.seq);
                if e.pos as usize != held {
                    return Err(format!(
                        "sequence {} holds {held} positions; a token at {} would leave a gap or overwrite (this backend appends only)",
                        e.seq, e.pos
                    ));
                }
                runs.push(SeqRun {
                    seq: e.seq,
                    entries: i..i + 1,
                });
            }
        }
    }
    Ok(runs)
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("model file {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("tokenizer: {0}")]
    Tokenize(String),
    #[error("prompt of {tokens} tokens (+{reserve} reserved for decoding) does not fit the context of {context} tokens; it is never truncated")]
    ContextOverflow {
        tokens: usize,
        reserve: usize,
        context: usize,
    },
    #[error("decode failed: {0}")]
    Decode(String),
    #[error("{0}")]
    Other(String),
}

/// What every result file records about the engine and the weights.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BackendInfo {
    /// Short backend name as used on the command line (`llama`, `candle`, …).
    pub name: String,
    /// Engine and binding versions, e.g. `llama-cpp-2 0.1.160 (llama.cpp b6xxx)`.
    pub version: String,
    /// The engine library's own account of its build (llama.cpp's `llama_print_system_info`:
    /// ggml backends, SIMD flags), as loaded at run time.
    pub build: String,
    /// How the fcbench binary itself was built (Rust flags, target CPU, how the engine is
    /// linked), kept apart from `build`: a shared engine library can come from another build.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub binary: String,
    pub model_path: String,
    pub model_sha256: String,
    pub model_bytes: u64,
    pub architecture: String,
    pub quantization: String,
    pub parameters: u64,
    pub context_size: usize,
    pub max_sequences: usize,
    pub threads: usize,
    /// Where the engine actually ran (devices, offloaded layers, attention kernel, libraries).
    /// Absent for engines that have no such choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
}

/// Where an engine ran, as the engine itself reported it (not as asked).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Placement {
    /// Devices that hold layers or run compute, as the engine names them, e.g.
    /// `CUDA0: NVIDIA H200 (143155 MiB)`; `CPU` when nothing was offloaded.
    pub devices: Vec<String>,
    /// `--gpu-layers` as asked; `None` = the engine's default (all layers where a GPU is seen).
    #[serde(default)]
    pub gpu_layers_requested: Option<u32>,
    /// What the engine reports it offloaded, e.g. `31/31` (from llama.cpp's load log).
    #[serde(default)]
    pub offloaded_layers: Option<String>,
    /// `--flash-attn` as asked (`auto`, `on`, `off`).
    pub flash_attn_requested: String,
    /// What the engine resolved it to (`enabled`, `disabled`), when it says.
    #[serde(default)]
    pub flash_attn: Option<String>,
    /// Shared libraries the engine code was loaded from (absent for a static build).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub libraries: Vec<String>,
    /// The build record found beside the shared library (`llama-libs.json`, written by
    /// `ci/gpu/build-llama-libs.sh`: source, ggml backend, cmake flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library_build: Option<serde_json::Value>,
}

impl Placement {
    /// The devices other than the CPU, as recorded (`CUDA0: NVIDIA H200`).
    pub fn accelerators(&self) -> impl Iterator<Item = &str> {
        self.devices
            .iter()
            .map(String::as_str)
            .filter(|d| !d.starts_with("CPU"))
    }

    /// True when any layer or compute ran on something other than the CPU.
    pub fn uses_accelerator(&self) -> bool {
        self.accelerators().next().is_some()
    }

    /// One short line: `CUDA0: NVIDIA H200 (…) · 31/31 layers · flash attn enabled`.
    pub fn summary(&self) -> String {
        let mut parts = vec![self.devices.join(" + ")];
        if let Some(l) = &self.offloaded_layers {
            parts.push(format!("{l} layers offloaded"));
        }
        parts.push(format!(
            "flash attn {}",
            self.flash_attn
                .clone()
                .unwrap_or_else(|| self.flash_attn_requested.clone())
        ));
        parts.join(" · ")
    }
}

/// How to open an engine: where it runs (`--gpu-layers`, `--device`, `--flash-attn`,
/// `--ort-provider`) and how candle holds the weights (`--candle-weights`). One struct for every
/// engine: each reads the fields that concern it, and an engine without devices refuses a
/// device request rather than ignore it ([`Engine::places_layers`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineOptions {
    /// Layers to offload; `None` = the engine's default (all, where a GPU backend is present).
    pub gpu_layers: Option<u32>,
    /// Devices by the engine's names (`CUDA0`, `Vulkan1`, …); empty = the engine's choice.
    pub devices: Vec<String>,
    pub flash_attn: FlashAttn,
    /// How the candle backend holds weight matrices; others ignore it.
    pub candle_weights: WeightMode,
    /// ONNX Runtime execution provider (`cpu`, …); `None` = CPU. Others ignore it.
    pub ort_provider: Option<String>,
}

impl EngineOptions {
    /// True when a layer or device other than the CPU is asked for.
    pub fn wants_gpu(&self) -> bool {
        self.gpu_layers.is_some_and(|n| n > 0)
            || self.devices.iter().any(|d| !d.eq_ignore_ascii_case("cpu"))
    }
}

/// One session's size: every engine opens its sessions from this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads for prefill and decode.
    pub threads: usize,
    /// Tokens of KV cache.
    pub context_size: usize,
    /// Sequences: heads + 1 for the shared prompt.
    pub max_sequences: usize,
}

/// A token-level engine this build can open by name: what `--backend NAME` finds. Each
/// backend crate exports one; the CLI lists them in one place (`harness/cli/src/backends.rs`).
pub trait Engine: Sync {
    /// The name on the command line and in every record (`llama`, `candle`, `ort`).
    fn name(&self) -> &'static str;

    /// Whether `--gpu-layers`/`--device` mean anything to this engine.
    fn places_layers(&self) -> bool {
        false
    }

    /// Load `model` (untimed: model load is never inside a call's latency).
    fn load(
        &self,
        model: &crate::models::ResolvedModel,
        opts: &EngineOptions,
    ) -> Result<Box<dyn LoadedEngine>, BackendError>;
}

/// A model loaded into an engine; sessions (one per arm) are opened on it.
pub trait LoadedEngine {
    /// Open a session with its own KV cache (untimed).
    fn session(&self, opts: &SessionOptions) -> Result<Box<dyn TokenBackend + '_>, BackendError>;

    /// What the user should know about `model` on this engine (shown as run warnings), e.g.
    /// weight types without fast kernels.
    fn notes(&self, model: &crate::models::ResolvedModel) -> Vec<String> {
        let _ = model;
        Vec::new()
    }
}

/// How the candle backend holds the model's weight matrices in memory (llama.cpp and ONNX
/// Runtime run the file's own types).
///
/// `f32`/`f16` dequantise exactly at load: the same numbers, run by dense matrix kernels.
/// `q8_0` re-quantises: different numbers, recorded as a different quantisation. `auto` is the
/// measured per-type default (README "candle").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMode {
    #[default]
    Auto,
    Stored,
    F32,
    F16,
    Q8_0,
}

/// Flash attention policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashAttn {
    /// The engine decides per device (llama.cpp: on where the kernel supports the model).
    #[default]
    Auto,
    #[serde(alias = "true", alias = "1")]
    On,
    #[serde(alias = "false", alias = "0")]
    Off,
}

display_via_serde!(WeightMode, FlashAttn);

/// What a vocabulary says a token is, for the spare-token policy (`markers::spare_tokens`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Marked unused or reserved by the vocabulary.
    Unused,
    /// A control token with no role of its own (not BOS, EOS, EOT, padding or newline).
    Control,
    /// Anything else: text pieces, bytes, and the control tokens that play a role.
    Other,
}

/// A model's vocabulary: text to token ids and back, and which tokens end generation. Every
/// method is outside the timed region (prompts are tokenized before the clock starts).
pub trait Vocabulary {
    /// Tokenize `text`, parsing special tokens (`<|im_start|>` etc.) as single tokens. No BOS is
    /// added unless `add_bos`.
    fn tokenize(&self, text: &str, add_bos: bool) -> Result<Vec<TokenId>, BackendError>;

    /// The bytes of one token, special tokens shown as their text. Bytes, not a `String`,
    /// because a token can end in the middle of a UTF-8 character.
    fn token_bytes(&self, token: TokenId) -> Vec<u8>;

    /// The token whose text is exactly `text`, if the vocabulary has one.
    fn single_token(&self, text: &str) -> Option<TokenId>;

    /// End of generation: EOS, end of turn and the like.
    fn is_end_of_generation(&self, token: TokenId) -> bool;

    /// What the vocabulary marks `token` as (its attributes, not a guess from its text).
    fn token_kind(&self, token: TokenId) -> TokenKind;

    /// Number of token ids (`0..vocab_size()`).
    fn vocab_size(&self) -> usize;
}

/// A token-level inference engine with a multi-sequence KV cache.
///
/// The decoding engine drives it as follows: `prefill` the shared prompt into sequence 0,
/// `fork` sequence 0 into each head's sequence (shared prefix, no recomputation), then call
/// `step` once per decoding step with one entry per live head. Finished heads are simply left
/// out of the next batch.
///
/// **Timing contract.** Engines may return from `prefill`, `fork` and `step` before their work
/// is done (a GPU queue). Every timed region in fcbench (a call's prefill and decode steps,
/// `heads` steps) ends with [`TokenBackend::synchronize`] before the clock is read, so a time
/// is always launch *and* completion. Inside a call's timing: `prefill` of the uncached
/// prompt, `fork`, `step`, `logits` and `synchronize`. Outside it: the [`Vocabulary`]
/// (tokenization), `clear` and `truncate` (cache housekeeping between calls), `info`.
pub trait TokenBackend {
    fn info(&self) -> &BackendInfo;

    /// The model's vocabulary (untimed).
    fn vocab(&self) -> &dyn Vocabulary;

    /// Run `tokens` through the model into `seq`, starting at `start_pos`. Afterwards
    /// `logits(0)` is the distribution after the last token. Provided: one [`step`] over
    /// [`prefill_batch`], which is what every engine does.
    ///
    /// [`step`]: TokenBackend::step
    fn prefill(
        &mut self,
        seq: SeqId,
        start_pos: u32,
        tokens: &[TokenId],
    ) -> Result<(), BackendError> {
        if tokens.is_empty() {
            return Ok(());
        }
        self.step(&prefill_batch(seq, start_pos, tokens))
    }

    /// Make positions `0..len` of `src` visible to `dst` too (shared prefix; no recomputation).
    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError>;

    /// One forward pass over a batch of (sequence, position, token) entries.
    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError>;

    /// The `row`-th logits row of the last `prefill` (row 0) or `step` (rows counted over the
    /// entries that asked for logits, in batch order).
    fn logits(&self, row: usize) -> &[f32];

    /// Drop positions `from_pos..` of `seq` (used to keep a cached prefix and drop the rest).
    fn truncate(&mut self, seq: SeqId, from_pos: u32) -> Result<(), BackendError>;

    /// Clear one sequence, or the whole cache with `None`.
    fn clear(&mut self, seq: Option<SeqId>);

    /// Block until every `prefill`, `fork` and `step` issued so far has finished and its
    /// logits are readable. Synchronous engines (CPU) need nothing here; an engine that queues
    /// work (GPU) must wait for the queue, or its times would be launch times.
    fn synchronize(&mut self) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Raw per-head text of one whole call, as returned by a call-level engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CallOutput {
    pub heads: Vec<crate::record::HeadRecord>,
    /// Latency reported by the engine itself, if any (server-side timing).
    pub engine_ms: Option<f64>,
    /// Time to the first streamed token as the client saw it (streaming APIs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
}

/// What a call-level engine is asked to do for one case.
#[derive(Debug, Clone)]
pub struct CallRequest<'c> {
    pub case: &'c crate::scenario::Case,
    pub protocol: crate::protocol::Protocol,
    pub mode: crate::record::DecodeMode,
    pub max_head_tokens: usize,
    pub content_head: bool,
}

/// An engine that answers whole calls: a remote server or a file of recorded outputs.
/// Timing is the caller's (client-side) around [`CallBackend::call`]; the engine's own figure,
/// if it reports one, is recorded beside it.
pub trait CallBackend {
    fn info(&self) -> &BackendInfo;
    fn call(&mut self, req: &CallRequest) -> Result<CallOutput, BackendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(seq: SeqId, pos: u32) -> BatchEntry {
        BatchEntry {
            seq,
            pos,
            token: 0,
            logits: false,
        }
    }

    #[test]
    fn append_runs_groups_each_sequence_and_refuses_gaps() {
        let held = |s: SeqId| if s == 1 { 5 } else { 3 };
        let runs = append_runs(&[e(1, 5), e(1, 6), e(2, 3)], 100, held).unwrap();
        assert_eq!(
            runs,
            vec![
                SeqRun {
                    seq: 1,
                    entries: 0..2
                },
                SeqRun {
                    seq: 2,
                    entries: 2..3
                }
            ]
        );
        assert!(append_runs(&[e(1, 6)], 100, held)
            .unwrap_err()
            .contains("holds 5 positions"));
        assert!(append_runs(&[e(1, 5), e(2, 3), e(1, 6)], 100, held)
            .unwrap_err()
            .contains("appears twice"));
        assert!(append_runs(&[e(1, 5), e(1, 7)], 100, held)
            .unwrap_err()
            .contains("appears twice"));
        assert!(append_runs(&[e(1, 5)], 5, held)
            .unwrap_err()
            .contains("beyond the context of 5"));
        assert_eq!(
            prefill_batch(3, 4, &[7, 8])
                .iter()
                .filter(|b| b.logits)
                .count(),
            1
        );
    }
}
