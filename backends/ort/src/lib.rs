//! ONNX Runtime backend: a decoder graph exported from the same GGUF as the llama backend
//! ([`export`]), run by ONNX Runtime through the `ort` crate, which loads `libonnxruntime` at
//! run time (`fcbench models fetch onnxruntime`, or `ORT_DYLIB_PATH`).
//!
//! Shared-prefix heads: forking sequence 0 snapshots its KV once into ONNX Runtime tensors (the
//! copy is timed inside the call, as `fork` runs inside it) and every head's step passes that
//! snapshot *by reference*; only each head's own KV is state that grows per step.

pub mod export;

use fcbench_core::backend::{
    append_runs, BackendError, BackendInfo, BatchEntry, Engine, EngineOptions, LoadedEngine, SeqId,
    SeqRun, SessionOptions, TokenBackend, Vocabulary,
};
use fcbench_core::models;
use fcbench_gguf::{ArchConfig, GgufModel, Vocab};
use ort::session::{builder::GraphOptimizationLevel, Session, SessionInputValue};
use ort::value::Tensor;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::OnceLock;

pub const ORT_CRATE: &str = "ort 2.0.0-rc.15";

#[derive(Debug, thiserror::Error)]
pub enum OrtError {
    #[error(transparent)]
    Gguf(#[from] fcbench_gguf::GgufError),
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("ONNX export: {0}")]
    Export(String),
    #[error("ONNX Runtime library: {0}")]
    Library(String),
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
}

impl OrtError {
    fn io(path: &Path, error: std::io::Error) -> OrtError {
        OrtError::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

impl From<OrtError> for BackendError {
    fn from(e: OrtError) -> Self {
        BackendError::Other(e.to_string())
    }
}

fn rt(e: impl std::fmt::Display) -> BackendError {
    BackendError::Decode(format!("onnxruntime: {e}"))
}

/// Where the export of a GGUF with this SHA-256 lives: keyed by the weights' hash and the
/// exporter version, so a changed GGUF or graph never picks up a stale export.
pub fn export_path(gguf: &Path, sha256: &str) -> PathBuf {
    let stem = gguf
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    models::cache_dir().join("onnx").join(format!(
        "{stem}-{}-v{}.onnx",
        &sha256[..sha256.len().min(16)],
        export::EXPORT_VERSION
    ))
}

/// The library `ort` loads: `ORT_DYLIB_PATH` if set, else the one `fcbench models fetch
/// onnxruntime` put in the cache.
pub fn library_path() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => models::onnxruntime_path(),
    }
}

/// Load ONNX Runtime once per process; the version string it reports (`1.31.1`).
pub fn init_runtime() -> Result<&'static Runtime, OrtError> {
    static INIT: OnceLock<Result<Runtime, String>> = OnceLock::new();
    let r = INIT.get_or_init(|| {
        let path = library_path();
        if !path.exists() {
            return Err(format!(
                "{} is missing: run `fcbench models fetch onnxruntime` (ONNX Runtime {} from PyPI), or set ORT_DYLIB_PATH to a libonnxruntime.so of version {}.x",
                path.display(),
                models::ONNXRUNTIME_VERSION,
                minor_of(models::ONNXRUNTIME_VERSION)
            ));
        }
        let builder = ort::init_from(&path).map_err(|e| {
            format!(
                "{e}; fcbench needs ONNX Runtime {}.x: run `fcbench models fetch onnxruntime`",
                minor_of(models::ONNXRUNTIME_VERSION)
            )
        })?;
        let env = builder
            .with_name("fcbench")
            .build()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let version = library_version(&path)?;
        if minor_of(&version) != minor_of(models::ONNXRUNTIME_VERSION) {
            return Err(format!(
                "{} is ONNX Runtime {version}; fcbench is built for {}.x: run `fcbench models fetch onnxruntime`",
                path.display(),
                minor_of(models::ONNXRUNTIME_VERSION)
            ));
        }
        Ok(Runtime { version, env })
    });
    r.as_ref().map_err(|e| OrtError::Library(e.clone()))
}

/// The loaded library: its version and the process-wide ONNX Runtime environment.
pub struct Runtime {
    pub version: String,
    env: ort::environment::Environment,
}

fn minor_of(v: &str) -> &str {
    match v.match_indices('.').nth(1) {
        Some((i, _)) => &v[..i],
        None => v,
    }
}

/// The library's own version string (`OrtGetApiBase()->GetVersionString()`); `ort` only
/// refuses libraries older than it was built for, fcbench pins the minor version too.
fn library_version(path: &Path) -> Result<String, String> {
    // SAFETY: the same library `ort` has just loaded (dlopen returns the same handle); the
    // symbol has this C signature in every ONNX Runtime release.
    unsafe {
        let lib = libloading::Library::new(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let get: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> = lib
            .get(b"OrtGetApiBase")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let base = get();
        if base.is_null() {
            return Err(format!("{}: OrtGetApiBase returned null", path.display()));
        }
        let v = ((*base).GetVersionString)();
        Ok(std::ffi::CStr::from_ptr(v).to_string_lossy().into_owned())
    }
}

/// Execution providers selectable with `--ort-provider`. Only CPU is in the PyPI CPU wheel;
/// the others need an ONNX Runtime build that has them and this crate's matching feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Cpu,
    #[cfg(feature = "cuda")]
    Cuda,
}

impl Provider {
    pub fn parse(s: &str) -> Result<Provider, OrtError> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Provider::Cpu),
            #[cfg(feature = "cuda")]
            "cuda" => Ok(Provider::Cuda),
            other => Err(OrtError::Runtime(format!(
                "execution provider `{other}` is not in this build (available: {}); other providers need an ONNX Runtime build with them and fcbench-ort's cargo feature of the same name",
                Provider::available().join(", ")
            ))),
        }
    }

    pub fn available() -> Vec<&'static str> {
        vec![
            "cpu",
            #[cfg(feature = "cuda")]
            "cuda",
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Provider::Cpu => "CPU",
            #[cfg(feature = "cuda")]
            Provider::Cuda => "CUDA",
        }
    }
}

pub struct OrtModel {
    cfg: ArchConfig,
    vocab: Vocab,
    onnx: PathBuf,
    gguf: String,
    sha256: String,
    bytes: u64,
    quantization: String,
    parameters: u64,
    provider: Provider,
    runtime: &'static Runtime,
}

/// ONNX Runtime as `--backend ort` (`--ort-provider` picks the execution provider; layers are
/// not placed one by one, so `--gpu-layers`/`--device` are refused).
pub struct Ort;

impl Engine for Ort {
    fn name(&self) -> &'static str {
        "ort"
    }

    fn load(
        &self,
        model: &models::ResolvedModel,
        opts: &EngineOptions,
    ) -> Result<Box<dyn LoadedEngine>, BackendError> {
        let provider = Provider::parse(opts.ort_provider.as_deref().unwrap_or("cpu"))
            .map_err(|e| BackendError::Other(e.to_string()))?;
        Ok(Box::new(OrtModel::load(
            &model.path,
            &model.sha256,
            provider,
        )?))
    }
}

impl LoadedEngine for OrtModel {
    fn session(&self, opts: &SessionOptions) -> Result<Box<dyn TokenBackend + '_>, BackendError> {
        Ok(Box::new(OrtModel::session(self, opts)?))
    }
}

impl OrtModel {
    /// Open the GGUF (tokenizer, hyper-parameters) and find its ONNX export in the cache;
    /// sessions run on `provider`.
    pub fn load(gguf: &Path, sha256: &str, provider: Provider) -> Result<OrtModel, BackendError> {
        let runtime = init_runtime()?;
        let shown = gguf.display().to_string();
        let onnx = export_path(gguf, sha256);
        if !onnx.exists() {
            return Err(BackendError::Model {
                path: shown,
                reason: format!(
                    "no ONNX export at {}: run `fcbench models export-onnx {}` first",
                    onnx.display(),
                    gguf.display()
                ),
            });
        }
        let bytes = std::fs::metadata(gguf)
            .map_err(|e| BackendError::Model {
                path: shown.clone(),
                reason: e.to_string(),
            })?
            .len();
        let g = GgufModel::open(gguf)?;
        let vocab = g.vocab()?;
        Ok(OrtModel {
            cfg: g.config.clone(),
            quantization: g.quantization(),
            parameters: g.parameters(),
            vocab,
            onnx,
            gguf: shown,
            sha256: sha256.to_string(),
            bytes,
            provider,
            runtime,
        })
    }

    pub fn session(&self, o: &SessionOptions) -> Result<OrtSession<'_>, BackendError> {
        let threads = o.threads.max(1);
        let b = Session::builder(&self.runtime.env).map_err(rt)?;
        let b = b
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(rt)?;
        let b = b.with_intra_threads(threads).map_err(rt)?;
        #[allow(unused_mut)]
        let mut b = b.with_inter_threads(1).map_err(rt)?;
        #[cfg(feature = "cuda")]
        if self.provider == Provider::Cuda {
            b = b
                .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                .map_err(rt)?;
        }
        let session = b
            .commit_from_file(&self.onnx)
            .map_err(|e| BackendError::Model {
                path: self.onnx.display().to_string(),
                reason: format!("ONNX Runtime could not load the export: {e}"),
            })?;
        let cfg = &self.cfg;
        let context_size = o.context_size.min(cfg.context_length);
        let info = BackendInfo {
            name: "ort".into(),
            version: format!("onnxruntime {} ({ORT_CRATE})", self.runtime.version),
            build: format!(
                "execution provider: {}; graph: {} (f32 weights dequantised from the GGUF, export v{})",
                self.provider.name(),
                self.onnx.display(),
                export::EXPORT_VERSION
            ),
            model_path: self.gguf.clone(),
            model_sha256: self.sha256.clone(),
            model_bytes: self.bytes,
            architecture: cfg.arch_name.clone(),
            quantization: format!("{} → f32", self.quantization),
            parameters: self.parameters,
            context_size,
            max_sequences: o.max_sequences,
            threads,
            ..Default::default()
        };
        let dummy = Rc::new(Prefix::zeros(cfg).map_err(rt)?);
        Ok(OrtSession {
            model: self,
            session,
            info,
            seqs: HashMap::new(),
            dummy,
            logits: Vec::new(),
            rows: 0,
        })
    }
}

/// A frozen prefix KV as ONNX Runtime tensors, passed by reference to every step of the heads
/// forked from it: per layer K `[KV, hd, P]` and V `[KV, P, hd]`.
struct Prefix {
    k: Vec<Tensor<f32>>,
    v: Vec<Tensor<f32>>,
    len: usize,
}

impl Prefix {
    /// One zero position, always masked: a graph input for rows without a prefix (ONNX
    /// Runtime's empty tensors are avoided altogether).
    fn zeros(cfg: &ArchConfig) -> ort::Result<Prefix> {
        let (kv, hd) = (cfg.n_head_kv, cfg.head_dim);
        let mut k = Vec::new();
        let mut v = Vec::new();
        for _ in 0..cfg.n_layer {
            k.push(Tensor::from_array(([kv, hd, 1], vec![0f32; kv * hd]))?);
            v.push(Tensor::from_array(([kv, 1, hd], vec![0f32; kv * hd]))?);
        }
        Ok(Prefix { k, v, len: 0 })
    }
}

/// One sequence: an optional shared prefix (and how much of it is visible) plus its own KV,
/// per layer per KV head `[len, hd]`.
struct SeqState {
    base: Option<(Rc<Prefix>, usize)>,
    k: Vec<Vec<Vec<f32>>>,
    v: Vec<Vec<Vec<f32>>>,
    own: usize,
    /// Snapshot of this sequence as a prefix, kept while the sequence is unchanged.
    snapshot: Option<Rc<Prefix>>,
}

impl SeqState {
    fn new(cfg: &ArchConfig) -> SeqState {
        SeqState {
            base: None,
            k: vec![vec![Vec::new(); cfg.n_head_kv]; cfg.n_layer],
            v: vec![vec![Vec::new(); cfg.n_head_kv]; cfg.n_layer],
            own: 0,
            snapshot: None,
        }
    }

    fn base_len(&self) -> usize {
        self.base.as_ref().map_or(0, |b| b.1)
    }

    fn len(&self) -> usize {
        self.base_len() + self.own
    }

    fn truncate(&mut self, from: usize, hd: usize) {
        if from >= self.len() {
            return;
        }
        self.snapshot = None;
        if let Some(b) = &mut self.base {
            if from <= b.1 {
                b.1 = from;
            }
        }
        self.own = from.saturating_sub(self.base_len()).min(self.own);
        for l in self.k.iter_mut().chain(self.v.iter_mut()) {
            for h in l.iter_mut() {
                h.truncate(self.own * hd);
            }
        }
    }
}

pub struct OrtSession<'m> {
    model: &'m OrtModel,
    session: Session,
    info: BackendInfo,
    seqs: HashMap<SeqId, SeqState>,
    dummy: Rc<Prefix>,
    logits: Vec<f32>,
    rows: usize,
}

impl OrtSession<'_> {
    fn cfg(&self) -> &ArchConfig {
        &self.model.cfg
    }

    /// The prefix that `seq` (unshared, no base) looks like when forked: its own KV copied
    /// once into tensors, K transposed for the graph.
    fn snapshot(&mut self, seq: SeqId) -> Result<Rc<Prefix>, BackendError> {
        let (kv, hd, layers) = (
            self.cfg().n_head_kv,
            self.cfg().head_dim,
            self.cfg().n_layer,
        );
        let s = self.seqs.get_mut(&seq).expect("caller checked");
        if let Some(p) = &s.snapshot {
            return Ok(p.clone());
        }
        let n = s.own;
        let mut k = Vec::with_capacity(layers);
        let mut v = Vec::with_capacity(layers);
        for l in 0..layers {
            let mut kt = vec![0f32; kv * hd * n];
            let mut vv = Vec::with_capacity(kv * n * hd);
            for h in 0..kv {
                let src = &s.k[l][h];
                for p in 0..n {
                    for d in 0..hd {
                        kt[(h * hd + d) * n + p] = src[p * hd + d];
                    }
                }
                vv.extend_from_slice(&s.v[l][h][..n * hd]);
            }
            k.push(Tensor::from_array(([kv, hd, n], kt)).map_err(rt)?);
            v.push(Tensor::from_array(([kv, n, hd], vv)).map_err(rt)?);
        }
        let p = Rc::new(Prefix { k, v, len: n });
        s.snapshot = Some(p.clone());
        Ok(p)
    }

    fn run(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        let rows = append_runs(batch, self.info.context_size, |seq| {
            self.seqs.get(&seq).map_or(0, |s| s.len())
        })
        .map_err(rt)?;
        for r in &rows {
            let cfg = self.model.cfg.clone();
            self.seqs
                .entry(r.seq)
                .or_insert_with(|| SeqState::new(&cfg));
        }
        // Rows sharing one prefix go through one pass; others (rare) get their own.
        let mut groups: Vec<(Rc<Prefix>, Vec<usize>)> = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let p = match &self.seqs[&r.seq].base {
                Some((p, _)) => p.clone(),
                None => self.dummy.clone(),
            };
            match groups.iter_mut().find(|g| Rc::ptr_eq(&g.0, &p)) {
                Some(g) => g.1.push(i),
                None => groups.push((p, vec![i])),
            }
        }
        let mut out: Vec<(usize, Vec<f32>)> = Vec::new();
        for (prefix, members) in groups {
            let part: Vec<&SeqRun> = members.iter().map(|&i| &rows[i]).collect();
            out.extend(self.pass(batch, &part, &prefix)?);
        }
        // Logits rows in batch order.
        out.sort_by_key(|(i, _)| *i);
        self.rows = out.len();
        self.logits.clear();
        for (_, l) in out {
            self.logits.extend_from_slice(&l);
        }
        Ok(())
    }

    /// One graph run for `rows` that all share `prefix`; returns (batch index, logits) pairs.
    fn pass(
        &mut self,
        batch: &[BatchEntry],
        rows: &[&SeqRun],
        prefix: &Rc<Prefix>,
    ) -> Result<Vec<(usize, Vec<f32>)>, BackendError> {
        let cfg = self.model.cfg.clone();
        let (kv, hd, layers, vocab) = (cfg.n_head_kv, cfg.head_dim, cfg.n_layer, cfg.vocab_size);
        let b = rows.len();
        let s = rows.iter().map(|r| r.entries.len()).max().unwrap_or(1);
        let p = prefix.len.max(1);
        let own: Vec<usize> = rows.iter().map(|r| self.seqs[&r.seq].own).collect();
        let t = own.iter().copied().max().unwrap_or(0).max(1);
        let ncols = p + t + s;
        let mut ids = vec![0i64; b * s];
        let mut pos = vec![0i64; b * s];
        let mut mask = vec![f32::NEG_INFINITY; b * s * ncols];
        // Sliding-window layers (Gemma 3) get a second mask hiding keys `window` or more
        // positions back.
        let window = cfg
            .sliding_window
            .filter(|_| (0..layers).any(|l| cfg.is_local(l)));
        let mut local = vec![f32::NEG_INFINITY; if window.is_some() { b * s * ncols } else { 0 }];
        let mut logit_rows = Vec::new();
        let mut logit_entries = Vec::new();
        for (bi, r) in rows.iter().enumerate() {
            let st = &self.seqs[&r.seq];
            let vis = if st.base.is_some() { st.base_len() } else { 0 };
            let n = r.entries.len();
            for si in 0..s {
                let row = bi * s + si;
                let m = &mut mask[row * ncols..(row + 1) * ncols];
                if si < n {
                    let e = &batch[r.entries.start + si];
                    ids[row] = e.token as i64;
                    pos[row] = e.pos as i64;
                    if e.logits {
                        logit_rows.push(row as i64);
                        logit_entries.push(r.entries.start + si);
                    }
                    m[..vis].fill(0.0);
                    m[p..p + own[bi]].fill(0.0);
                    m[p + t..=p + t + si].fill(0.0);
                    if let Some(w) = window {
                        let q = e.pos as usize;
                        let first = batch[r.entries.start].pos as usize;
                        let lm = &mut local[row * ncols..(row + 1) * ncols];
                        let near = |k: usize| q - k < w;
                        (0..vis).filter(|&k| near(k)).for_each(|k| lm[k] = 0.0);
                        (0..own[bi])
                            .filter(|&j| near(vis + j))
                            .for_each(|j| lm[p + j] = 0.0);
                        (0..=si)
                            .filter(|&j| near(first + j))
                            .for_each(|j| lm[p + t + j] = 0.0);
                    }
                } else {
                    // Padding: attends to itself only, so its softmax stays finite.
                    m[p + t + si] = 0.0;
                    if window.is_some() {
                        local[row * ncols + p + t + si] = 0.0;
                    }
                }
            }
        }
        if logit_rows.is_empty() {
            // The graph always projects at least one row; this one is discarded.
            logit_rows.push(0);
        }
        let nlog = logit_rows.len();
        let mut inputs: Vec<(Cow<'_, str>, SessionInputValue<'_>)> = Vec::new();
        let t_ = |shape: Vec<usize>, data: Vec<i64>| Tensor::from_array((shape, data)).map_err(rt);
        inputs.push(("input_ids".into(), t_(vec![b, s], ids)?.into()));
        inputs.push(("position_ids".into(), t_(vec![b, s], pos)?.into()));
        inputs.push(("logit_rows".into(), t_(vec![nlog], logit_rows)?.into()));
        inputs.push((
            "attn_mask".into(),
            Tensor::from_array((vec![b, s, 1, ncols], mask))
                .map_err(rt)?
                .into(),
        ));
        if window.is_some() {
            inputs.push((
                "attn_mask_local".into(),
                Tensor::from_array((vec![b, s, 1, ncols], local))
                    .map_err(rt)?
                    .into(),
            ));
        }
        for l in 0..layers {
            // Own KV, padded to T positions: [KV, B, T, hd].
            let mut pk = vec![0f32; kv * b * t * hd];
            let mut pv = vec![0f32; kv * b * t * hd];
            for h in 0..kv {
                for (bi, r) in rows.iter().enumerate() {
                    let st = &self.seqs[&r.seq];
                    let o = (h * b + bi) * t * hd;
                    let n = own[bi] * hd;
                    pk[o..o + n].copy_from_slice(&st.k[l][h][..n]);
                    pv[o..o + n].copy_from_slice(&st.v[l][h][..n]);
                }
            }
            inputs.push((format!("prefix_key.{l}").into(), (&prefix.k[l]).into()));
            inputs.push((format!("prefix_value.{l}").into(), (&prefix.v[l]).into()));
            inputs.push((
                format!("past_key.{l}").into(),
                Tensor::from_array((vec![kv, b, t, hd], pk))
                    .map_err(rt)?
                    .into(),
            ));
            inputs.push((
                format!("past_value.{l}").into(),
                Tensor::from_array((vec![kv, b, t, hd], pv))
                    .map_err(rt)?
                    .into(),
            ));
        }
        let outputs = self.session.run(inputs).map_err(rt)?;
        let (_, logits) = outputs["logits"].try_extract_tensor::<f32>().map_err(rt)?;
        let mut result = Vec::new();
        for (k, &ei) in logit_entries.iter().enumerate() {
            result.push((ei, logits[k * vocab..(k + 1) * vocab].to_vec()));
        }
        // Append each row's new KV ([KV, B, S, hd]) to its own state.
        let mut new_k = Vec::with_capacity(layers);
        let mut new_v = Vec::with_capacity(layers);
        for l in 0..layers {
            let (_, nk) = outputs[format!("new_key.{l}").as_str()]
                .try_extract_tensor::<f32>()
                .map_err(rt)?;
            let (_, nv) = outputs[format!("new_value.{l}").as_str()]
                .try_extract_tensor::<f32>()
                .map_err(rt)?;
            new_k.push(nk.to_vec());
            new_v.push(nv.to_vec());
        }
        drop(outputs);
        for (bi, r) in rows.iter().enumerate() {
            let n = r.entries.len();
            let st = self.seqs.get_mut(&r.seq).expect("inserted above");
            st.snapshot = None;
            for l in 0..layers {
                for h in 0..kv {
                    let o = (h * b + bi) * s * hd;
                    st.k[l][h].extend_from_slice(&new_k[l][o..o + n * hd]);
                    st.v[l][h].extend_from_slice(&new_v[l][o..o + n * hd]);
                }
            }
            st.own += n;
        }
        Ok(result)
    }
}

impl TokenBackend for OrtSession<'_> {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    fn vocab(&self) -> &dyn Vocabulary {
        &self.model.vocab
    }

    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        let len = len as usize;
        let hd = self.cfg().head_dim;
        let mut st = SeqState::new(self.cfg());
        if let Some(s) = self.seqs.get(&src) {
            if len > s.len() {
                return Err(rt(format!(
                    "fork of {len} positions from sequence {src}, which holds {}",
                    s.len()
                )));
            }
            match &s.base {
                // Already a head: share its prefix, copy its (small) own KV.
                Some((p, vis)) => {
                    st.base = Some((p.clone(), (*vis).min(len)));
                    st.own = s.own;
                    st.k = s.k.clone();
                    st.v = s.v.clone();
                    st.truncate(len, hd);
                }
                None if len > 0 => {
                    let p = self.snapshot(src)?;
                    st.base = Some((p, len));
                }
                None => {}
            }
        }
        self.seqs.insert(dst, st);
        Ok(())
    }

    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        self.run(batch)
    }

    fn logits(&self, row: usize) -> &[f32] {
        let v = self.model.cfg.vocab_size;
        assert!(row < self.rows, "logits row {row} of {}", self.rows);
        &self.logits[row * v..(row + 1) * v]
    }

    fn truncate(&mut self, seq: SeqId, from_pos: u32) -> Result<(), BackendError> {
        let hd = self.cfg().head_dim;
        if let Some(s) = self.seqs.get_mut(&seq) {
            s.truncate(from_pos as usize, hd);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_on_major_minor() {
        assert_eq!(minor_of("1.31.1"), "1.31");
        assert_eq!(minor_of("1.31"), "1.31");
        assert_ne!(minor_of("1.3.1"), minor_of("1.31.1"));
    }

    #[test]
    fn export_path_is_keyed_by_hash_and_version() {
        let p = export_path(Path::new("/m/SmolLM2.Q4_1.gguf"), &"ab".repeat(32));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            name,
            format!(
                "SmolLM2.Q4_1-abababababababab-v{}.onnx",
                export::EXPORT_VERSION
            )
        );
    }

    #[test]
    fn providers_other_than_cpu_are_refused_with_the_list() {
        assert_eq!(Provider::parse("CPU").unwrap(), Provider::Cpu);
        #[cfg(not(feature = "cuda"))]
        assert!(Provider::parse("cuda")
            .unwrap_err()
            .to_string()
            .contains("available: cpu"));
    }
}
