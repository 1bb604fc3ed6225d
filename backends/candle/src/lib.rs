//! candle backend: the same GGUF weights as the llama backend, run by a forward pass written
//! on candle's CPU ops (see [`model`] for why not candle-transformers' stock models).
//!
//! One [`CandleModel`] holds the weights; each arm opens a [`CandleSession`] with its own KV
//! cache. Tokenization is fcbench-gguf's llama.cpp-compatible tokenizer, so both backends see
//! identical token ids.

mod model;

use fcbench_core::backend::{
    append_runs, BackendError, BackendInfo, BatchEntry, Engine, EngineOptions, LoadedEngine, SeqId,
    SessionOptions, TokenBackend, Vocabulary, WeightMode,
};
use fcbench_core::models::ResolvedModel;
use fcbench_gguf::{GgufModel, Vocab};
use model::{Group, SeqCache, Weights};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

pub const CANDLE_VERSION: &str = "candle-core 0.11.1";

/// CPU features candle's kernels were compiled with, plus the rustc flags of this build.
pub fn build_string() -> String {
    let mut f = Vec::new();
    if candle_core::utils::with_avx() {
        f.push("AVX");
    }
    if cfg!(target_feature = "avx2") {
        f.push("AVX2");
    }
    if cfg!(target_feature = "fma") {
        f.push("FMA");
    }
    if cfg!(target_feature = "avx512f") {
        f.push("AVX512F");
    }
    if candle_core::utils::with_f16c() {
        f.push("F16C");
    }
    if candle_core::utils::with_neon() {
        f.push("NEON");
    }
    format!(
        "CPU: {}; RUSTFLAGS: {}",
        if f.is_empty() {
            "no SIMD".to_string()
        } else {
            f.join(" ")
        },
        env!("FCBENCH_RUSTFLAGS")
    )
}

/// candle sizes its CPU thread pools once per process from `CANDLE_NUM_THREADS` /
/// `RAYON_NUM_THREADS`; fcbench sets both before the first tensor operation so that
/// `--threads` means the same as for llama.cpp. A later session asking for a different
/// count is refused rather than silently run on the first count.
fn claim_threads(threads: usize) -> Result<usize, BackendError> {
    static THREADS: OnceLock<usize> = OnceLock::new();
    let got = *THREADS.get_or_init(|| {
        // SAFETY (edition 2021: safe fn): set before candle starts any thread, from the one
        // thread that opens sessions.
        std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        threads
    });
    if got != threads {
        return Err(BackendError::Other(format!(
            "candle's thread pool is process-wide and already runs {got} threads; {threads} were asked for (run one thread count per fcbench process)"
        )));
    }
    Ok(got)
}

pub struct CandleModel {
    weights: Weights,
    vocab: Vocab,
    path: String,
    sha256: String,
    bytes: u64,
    quantization: String,
    parameters: u64,
}

/// candle as `--backend candle` (CPU only: a device request is refused).
pub struct Candle;

impl Engine for Candle {
    fn name(&self) -> &'static str {
        "candle"
    }

    fn load(
        &self,
        model: &ResolvedModel,
        opts: &EngineOptions,
    ) -> Result<Box<dyn LoadedEngine>, BackendError> {
        Ok(Box::new(CandleModel::load(
            &model.path,
            &model.sha256,
            opts.candle_weights,
        )?))
    }
}

impl LoadedEngine for CandleModel {
    fn session(&self, opts: &SessionOptions) -> Result<Box<dyn TokenBackend + '_>, BackendError> {
        Ok(Box::new(CandleModel::session(self, opts)?))
    }

    fn notes(&self, model: &ResolvedModel) -> Vec<String> {
        let slow = self.slow_weight_types();
        if slow.is_empty() {
            return Vec::new();
        }
        vec![format!(
            "candle: {} holds {} weights, which candle runs without SIMD kernels; `--candle-weights auto` (the default) dequantises them to f32 at load, or `fcbench models quantize {} q4_0` makes a file both backends run fast",
            model.name,
            slow.join("/"),
            model.name
        )]
    }
}

impl CandleModel {
    /// Load a GGUF file; `sha256` is the caller's verified hash (recorded, not recomputed).
    /// `weights` says how the matrices are held (see [`WeightMode`]); a conversion shows in
    /// the recorded quantisation (`q4_1 (q4_1→f32 at load)`), never silently.
    pub fn load(
        path: &Path,
        sha256: &str,
        weights: WeightMode,
    ) -> Result<CandleModel, BackendError> {
        let shown = path.display().to_string();
        fcbench_core::models::check_gguf_magic(path).map_err(|e| BackendError::Model {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let bytes = std::fs::metadata(path)
            .map_err(|e| BackendError::Model {
                path: shown.clone(),
                reason: e.to_string(),
            })?
            .len();
        let mut g = GgufModel::open(path)?;
        let positions = g.config.context_length.min(32_768);
        let weights = Weights::load(&mut g, positions, weights)?;
        let quantization = if weights.converted.is_empty() {
            g.quantization()
        } else {
            format!(
                "{} ({} at load)",
                g.quantization(),
                weights.converted.join(", ")
            )
        };
        let parameters = g.parameters();
        let vocab = g.vocab()?;
        Ok(CandleModel {
            weights,
            vocab,
            path: shown,
            sha256: sha256.to_string(),
            bytes,
            quantization,
            parameters,
        })
    }

    pub fn architecture(&self) -> &str {
        &self.weights.cfg.arch_name
    }

    pub fn quantization(&self) -> &str {
        &self.quantization
    }

    /// Weight types without a SIMD candle CPU kernel (Q4_1, Q5_0, Q5_1): a warning for the user,
    /// who can re-quantise with `fcbench models quantize`.
    pub fn slow_weight_types(&self) -> Vec<String> {
        self.weights
            .slow_types()
            .iter()
            .map(|d| format!("{d:?}").to_lowercase())
            .collect()
    }

    pub fn session(&self, o: &SessionOptions) -> Result<CandleSession<'_>, BackendError> {
        let threads = claim_threads(o.threads.max(1))?;
        let cfg = &self.weights.cfg;
        let context_size = o.context_size.min(cfg.context_length).min(32_768);
        let info = BackendInfo {
            name: "candle".into(),
            version: CANDLE_VERSION.into(),
            build: format!("{}; weights: {}", build_string(), self.weights.dtypes),
            model_path: self.path.clone(),
            model_sha256: self.sha256.clone(),
            model_bytes: self.bytes,
            architecture: cfg.arch_name.clone(),
            quantization: self.quantization.clone(),
            parameters: self.parameters,
            context_size,
            max_sequences: o.max_sequences,
            threads,
            ..Default::default()
        };
        Ok(CandleSession {
            model: self,
            info,
            seqs: HashMap::new(),
            logits: Vec::new(),
            rows: 0,
        })
    }
}

pub struct CandleSession<'m> {
    model: &'m CandleModel,
    info: BackendInfo,
    seqs: HashMap<SeqId, SeqCache>,
    /// Logits of the last pass, `rows × vocab`, row-major.
    logits: Vec<f32>,
    rows: usize,
}

fn decode_err(e: impl std::fmt::Display) -> BackendError {
    BackendError::Decode(format!("candle: {e}"))
}

impl CandleSession<'_> {
    fn new_cache(&self) -> SeqCache {
        SeqCache {
            len: 0,
            layers: vec![Vec::new(); self.model.weights.cfg.n_layer],
        }
    }

    /// Run `entries` (grouped into consecutive runs per sequence, each continuing its
    /// sequence) through the model.
    fn run(&mut self, entries: &[BatchEntry]) -> Result<(), BackendError> {
        let runs = append_runs(entries, self.info.context_size, |seq| {
            self.seqs.get(&seq).map_or(0, |c| c.len as usize)
        })
        .map_err(decode_err)?;
        let groups: Vec<Group> = runs
            .iter()
            .map(|r| Group {
                rows: r.entries.clone(),
                first_pos: entries[r.entries.start].pos,
            })
            .collect();
        // Take the groups' caches out of the map for the pass, and put them back after.
        let mut caches: Vec<SeqCache> = runs
            .iter()
            .map(|r| self.seqs.remove(&r.seq).unwrap_or_else(|| self.new_cache()))
            .collect();
        let tokens: Vec<u32> = entries.iter().map(|e| e.token as u32).collect();
        let positions: Vec<u32> = entries.iter().map(|e| e.pos).collect();
        let logit_rows: Vec<u32> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.logits)
            .map(|(i, _)| i as u32)
            .collect();
        let result = {
            let mut refs: Vec<&mut SeqCache> = caches.iter_mut().collect();
            self.model
                .weights
                .forward(&tokens, &positions, &groups, &mut refs, &logit_rows)
        };
        for (r, c) in runs.iter().zip(caches) {
            self.seqs.insert(r.seq, c);
        }
        let logits = result.map_err(decode_err)?;
        self.rows = logit_rows.len();
        self.logits.clear();
        if let Some(l) = logits {
            self.logits = l
                .flatten_all()
                .and_then(|t| t.to_vec1::<f32>())
                .map_err(decode_err)?;
        }
        Ok(())
    }
}

impl TokenBackend for CandleSession<'_> {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    fn vocab(&self) -> &dyn Vocabulary {
        &self.model.vocab
    }

    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        let forked = match self.seqs.get(&src) {
            Some(c) => c.fork(len).map_err(decode_err)?,
            None => self.new_cache(),
        };
        self.seqs.insert(dst, forked);
        Ok(())
    }

    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        self.run(batch)
    }

    fn logits(&self, row: usize) -> &[f32] {
        let v = self.model.weights.cfg.vocab_size;
        assert!(row < self.rows, "logits row {row} of {}", self.rows);
        &self.logits[row * v..(row + 1) * v]
    }

    fn truncate(&mut self, seq: SeqId, from_pos: u32) -> Result<(), BackendError> {
        if let Some(c) = self.seqs.get_mut(&seq) {
            c.truncate(from_pos).map_err(decode_err)?;
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
