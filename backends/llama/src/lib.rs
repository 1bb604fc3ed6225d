//! llama.cpp backend (via `llama-cpp-2`).
//!
//! One [`LlamaModel`] holds the weights; each arm opens its own [`LlamaSession`] (a llama.cpp
//! context with its own KV cache) on it, so arms never evict each other's cached prefixes.
//! The KV cache is *unified*: otherwise llama.cpp splits `n_ctx` across sequences and a fork
//! physically copies the prefix.

use fcbench_core::backend::{
    BackendError, BackendInfo, BatchEntry, Engine, EngineOptions, FlashAttn, LoadedEngine,
    Placement, SeqId, SessionOptions, TokenBackend, TokenId, TokenKind, Vocabulary,
};
use fcbench_core::models::{file_type_name, FILE_TYPES};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token_type::LlamaTokenAttr;
use std::ffi::{CStr, CString};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

mod devices;
pub use devices::{devices, loaded_libraries, EngineDevice};

/// `llama-cpp-2`'s version, as pinned in the workspace.
pub const BINDING_VERSION: &str = "llama-cpp-2 0.1.160";

/// llama.cpp may be initialised once per process.
fn engine() -> Result<&'static LlamaBackend, BackendError> {
    static ENGINE: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let b = LlamaBackend::init().map_err(|e| e.to_string())?;
            // llama.cpp logs every load and every context to stderr: keep the terminal for us
            // (echo only with FCBENCH_LLAMA_LOG), but keep the lines that say where the model
            // went (devices, offloaded layers, flash attention) for the manifest.
            LOG.lock().unwrap_or_else(|p| p.into_inner()).echo =
                std::env::var_os("FCBENCH_LLAMA_LOG").is_some();
            // SAFETY: the callback is a plain function that lives as long as the process.
            unsafe { llama_cpp_sys_2::llama_log_set(Some(log_line), std::ptr::null_mut()) };
            Ok(b)
        })
        .as_ref()
        .map_err(|e| BackendError::Other(format!("llama.cpp failed to initialise: {e}")))
}

/// llama.cpp's log, as far as fcbench reads it.
struct LogCapture {
    echo: bool,
    /// The unfinished line (llama.cpp logs in pieces).
    partial: String,
    /// Lines that say where the model and its compute went, newest last (bounded).
    kept: Vec<String>,
}

static LOG: Mutex<LogCapture> = Mutex::new(LogCapture {
    echo: false,
    partial: String::new(),
    kept: Vec::new(),
});

const KEPT_LINES: usize = 256;

fn worth_keeping(line: &str) -> bool {
    line.contains("offloaded ")
        || line.contains("using device ")
        || line.contains("Flash Attention")
}

unsafe extern "C" fn log_line(
    _level: llama_cpp_sys_2::ggml_log_level,
    text: *const std::os::raw::c_char,
    _user: *mut std::os::raw::c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a NUL-terminated string valid for this call.
    let piece = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let mut log = LOG.lock().unwrap_or_else(|p| p.into_inner());
    if log.echo {
        eprint!("{piece}");
    }
    log.partial.push_str(&piece);
    while let Some(end) = log.partial.find('\n') {
        let line: String = log.partial.drain(..=end).collect();
        let line = line.trim_end().to_string();
        if worth_keeping(&line) {
            if log.kept.len() == KEPT_LINES {
                log.kept.remove(0);
            }
            log.kept.push(line);
        }
    }
}

/// Lines kept from llama.cpp's log since `mark` (a count from [`log_mark`]).
fn log_since(mark: usize) -> Vec<String> {
    let log = LOG.lock().unwrap_or_else(|p| p.into_inner());
    log.kept[mark.min(log.kept.len())..].to_vec()
}

fn log_mark() -> usize {
    LOG.lock().unwrap_or_else(|p| p.into_inner()).kept.len()
}

/// CPU features llama.cpp was compiled with and uses (`llama_print_system_info`), recorded in
/// every manifest so a build without the native SIMD flags is visible.
pub fn system_info() -> String {
    // SAFETY: returns a pointer to a static, NUL-terminated buffer.
    unsafe { CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) }
        .to_string_lossy()
        .trim()
        .to_string()
}

/// How this binary was built, apart from the engine library it loaded: Rust flags (the
/// target CPU among them) and how llama.cpp is linked.
pub fn binary_string() -> String {
    let linkage = if cfg!(feature = "shared") {
        "llama.cpp as shared libraries (dynamic-link; the loaded ones are in the placement)"
    } else {
        concat!(
            "llama.cpp linked statically, compiled ",
            env!("FCBENCH_LLAMA_PROFILE")
        )
    };
    let gpu = if cfg!(feature = "cuda") {
        " with CUDA compiled in"
    } else {
        ""
    };
    format!(
        "RUSTFLAGS: {}; target-cpu: {}; {linkage}{gpu}",
        env!("FCBENCH_RUSTFLAGS"),
        env!("FCBENCH_TARGET_CPU")
    )
}

/// Quantisation types `quantize` accepts.
pub fn quant_names() -> Vec<&'static str> {
    FILE_TYPES.iter().map(|(_, n)| *n).collect()
}

pub struct LlamaModel {
    model: llama_cpp_2::model::LlamaModel,
    path: String,
    sha256: String,
    bytes: u64,
    architecture: String,
    quantization: String,
    /// Where the weights went, from llama.cpp's own load log; each session adds its
    /// attention kernel.
    placement: Placement,
    /// `--flash-attn`, applied to every session.
    flash_attn: FlashAttn,
}

/// llama.cpp as `--backend llama`.
pub struct Llama;

impl Engine for Llama {
    fn name(&self) -> &'static str {
        "llama"
    }

    fn places_layers(&self) -> bool {
        true
    }

    fn load(
        &self,
        model: &fcbench_core::models::ResolvedModel,
        opts: &EngineOptions,
    ) -> Result<Box<dyn LoadedEngine>, BackendError> {
        Ok(Box::new(LlamaModel::load(
            &model.path,
            &model.sha256,
            opts,
        )?))
    }
}

impl LoadedEngine for LlamaModel {
    fn session(&self, opts: &SessionOptions) -> Result<Box<dyn TokenBackend + '_>, BackendError> {
        Ok(Box::new(LlamaModel::session(self, opts)?))
    }
}

impl LlamaModel {
    /// Load a GGUF file onto the devices `dev` asks for. `sha256` is the verified hash the
    /// caller computed (recorded, not recomputed here).
    pub fn load(
        path: &Path,
        sha256: &str,
        dev: &EngineOptions,
    ) -> Result<LlamaModel, BackendError> {
        let shown = path.display().to_string();
        let err = |reason: String| BackendError::Model {
            path: shown.clone(),
            reason,
        };
        fcbench_core::models::check_gguf_magic(path).map_err(|e| err(e.to_string()))?;
        let bytes = std::fs::metadata(path)
            .map_err(|e| err(e.to_string()))?
            .len();
        let engine = engine()?;
        let params = model_params(dev)?;
        let mark = log_mark();
        let model = llama_cpp_2::model::LlamaModel::load_from_file(engine, path, &params)
        .map_err(|e| {
            err(format!(
                "llama.cpp could not load it ({e}): truncated, corrupt, or an architecture this llama.cpp build does not know (run with FCBENCH_LLAMA_LOG=1 for llama.cpp's own log)"
            ))
        })?;
        let architecture = model
            .meta_val_str("general.architecture")
            .unwrap_or_else(|_| "unknown".into());
        let ftype = model.meta_val_str("general.file_type").unwrap_or_default();
        let quantization = ftype
            .trim()
            .parse::<u32>()
            .map(file_type_name)
            .unwrap_or_else(|_| format!("file_type {ftype}"));
        let placement = devices::placement_from_log(&log_since(mark), dev);
        Ok(LlamaModel {
            model,
            path: shown,
            sha256: sha256.to_string(),
            bytes,
            architecture,
            quantization,
            placement,
            flash_attn: dev.flash_attn,
        })
    }

    /// Where the weights went (devices, offloaded layers), as llama.cpp reported at load.
    pub fn placement(&self) -> &Placement {
        &self.placement
    }

    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    pub fn quantization(&self) -> &str {
        &self.quantization
    }

    /// Open a session (a context with its own unified KV cache).
    pub fn session(&self, opts: &SessionOptions) -> Result<LlamaSession<'_>, BackendError> {
        let ctx_train = self.model.n_ctx_train() as usize;
        let n_ctx = opts.context_size.min(ctx_train.max(512));
        let threads = opts.threads.max(1) as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx as u32))
            .with_n_batch(n_ctx as u32)
            .with_n_ubatch(512.min(n_ctx as u32))
            .with_n_seq_max(opts.max_sequences as u32)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            .with_kv_unified(true)
            .with_flash_attention_policy(match self.flash_attn {
                FlashAttn::Auto => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
                FlashAttn::On => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
                FlashAttn::Off => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
            });
        let mark = log_mark();
        let ctx = self
            .model
            .new_context(engine()?, params)
            .map_err(|e| BackendError::Other(format!("llama.cpp context: {e}")))?;
        let mut placement = self.placement.clone();
        placement.flash_attn_requested = self.flash_attn.to_string();
        placement.flash_attn = devices::flash_attn_from_log(&log_since(mark), self.flash_attn);
        let info = BackendInfo {
            name: "llama".into(),
            version: BINDING_VERSION.into(),
            build: system_info(),
            binary: binary_string(),
            model_path: self.path.clone(),
            model_sha256: self.sha256.clone(),
            model_bytes: self.bytes,
            architecture: self.architecture.clone(),
            quantization: self.quantization.clone(),
            parameters: self.model.n_params(),
            context_size: ctx.n_ctx() as usize,
            max_sequences: opts.max_sequences,
            threads: threads as usize,
            placement: Some(placement),
        };
        Ok(LlamaSession {
            model: self,
            ctx,
            batch: LlamaBatch::new(n_ctx, opts.max_sequences as i32),
            rows: Vec::new(),
            info,
        })
    }

    /// Re-quantise `input` into `output` with llama.cpp's own quantiser.
    pub fn quantize(
        input: &Path,
        output: &Path,
        kind: &str,
        threads: usize,
    ) -> Result<(), BackendError> {
        engine()?;
        let ftype = FILE_TYPES
            .iter()
            .find(|(_, n)| *n == kind.to_ascii_lowercase())
            .map(|(t, _)| *t)
            .ok_or_else(|| {
                BackendError::Other(format!(
                    "unknown quantisation `{kind}` (one of: {})",
                    quant_names().join(", ")
                ))
            })?;
        let cin = CString::new(input.to_string_lossy().as_bytes())
            .map_err(|e| BackendError::Other(e.to_string()))?;
        let cout = CString::new(output.to_string_lossy().as_bytes())
            .map_err(|e| BackendError::Other(e.to_string()))?;
        // SAFETY: plain C call on valid NUL-terminated paths and default-initialised params.
        let rc = unsafe {
            let mut p = llama_cpp_sys_2::llama_model_quantize_default_params();
            p.ftype = ftype as _;
            p.nthread = threads as i32;
            p.allow_requantize = true;
            llama_cpp_sys_2::llama_model_quantize(cin.as_ptr(), cout.as_ptr(), &p)
        };
        if rc != 0 {
            return Err(BackendError::Other(format!(
                "llama.cpp failed to quantise {} to {kind} (code {rc})",
                input.display()
            )));
        }
        Ok(())
    }
}

/// Model parameters for `--gpu-layers` and `--device`.
fn model_params(dev: &EngineOptions) -> Result<LlamaModelParams, BackendError> {
    let mut params = LlamaModelParams::default();
    if let Some(n) = dev.gpu_layers {
        params = params.with_n_gpu_layers(n);
    }
    if !dev.devices.is_empty() {
        let idx = devices::resolve(&dev.devices)?;
        // An empty list (only `cpu` asked for) leaves llama.cpp no GPU at all, not even for
        // the large prompt matrix products it would otherwise offload.
        params = params
            .with_devices(&idx)
            .map_err(|e| BackendError::Other(format!("--device: {e}")))?;
    }
    Ok(params)
}

/// One llama.cpp context: the unit the decoding engine drives.
pub struct LlamaSession<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    /// Batch index of each requested logits row.
    rows: Vec<i32>,
    info: BackendInfo,
}

fn decode_err(e: impl std::fmt::Display) -> BackendError {
    BackendError::Decode(e.to_string())
}

impl LlamaSession<'_> {
    fn decode_batch(&mut self, entries: &[BatchEntry]) -> Result<(), BackendError> {
        self.batch.clear();
        self.rows.clear();
        for (i, e) in entries.iter().enumerate() {
            self.batch
                .add(LlamaToken(e.token), e.pos as i32, &[e.seq], e.logits)
                .map_err(decode_err)?;
            if e.logits {
                self.rows.push(i as i32);
            }
        }
        self.ctx.decode(&mut self.batch).map_err(decode_err)
    }
}

impl Vocabulary for LlamaModel {
    fn tokenize(&self, text: &str, add_bos: bool) -> Result<Vec<TokenId>, BackendError> {
        let v = self.model.vocab();
        let mut out: Vec<TokenId> = Vec::new();
        if add_bos && v.should_add_bos() {
            out.push(v.bos().0);
        }
        out.extend(
            v.tokenize(text.as_bytes(), false, true)
                .into_iter()
                .map(|t| t.0),
        );
        Ok(out)
    }

    fn token_bytes(&self, token: TokenId) -> Vec<u8> {
        self.model
            .vocab()
            .token_to_piece(LlamaToken(token), true, None)
    }

    fn single_token(&self, text: &str) -> Option<TokenId> {
        let t = self.model.vocab().tokenize(text.as_bytes(), false, true);
        (t.len() == 1 && self.token_bytes(t[0].0) == text.as_bytes()).then(|| t[0].0)
    }

    fn is_end_of_generation(&self, token: TokenId) -> bool {
        self.model.vocab().is_eog(LlamaToken(token))
    }

    fn token_kind(&self, token: TokenId) -> TokenKind {
        let v = self.model.vocab();
        let tok = LlamaToken(token);
        let attr = v.attr(tok);
        if attr.contains(LlamaTokenAttr::Unused) {
            TokenKind::Unused
        } else if attr.contains(LlamaTokenAttr::Control)
            && ![v.bos(), v.eos(), v.eot(), v.pad(), v.nl()].contains(&tok)
        {
            TokenKind::Control
        } else {
            TokenKind::Other
        }
    }

    fn vocab_size(&self) -> usize {
        self.model.n_vocab() as usize
    }
}

impl TokenBackend for LlamaSession<'_> {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    fn vocab(&self) -> &dyn Vocabulary {
        self.model
    }

    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        self.ctx
            .copy_kv_cache_seq(src, dst, Some(0), Some(len))
            .map_err(decode_err)
    }

    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        self.decode_batch(batch)
    }

    fn logits(&self, row: usize) -> &[f32] {
        self.ctx.get_logits_ith(self.rows[row])
    }

    fn truncate(&mut self, seq: SeqId, from_pos: u32) -> Result<(), BackendError> {
        self.ctx
            .clear_kv_cache_seq(Some(seq as u32), Some(from_pos), None)
            .map_err(decode_err)?;
        Ok(())
    }

    fn clear(&mut self, seq: Option<SeqId>) {
        match seq {
            None => self.ctx.clear_kv_cache(),
            Some(s) => {
                let _ = self.ctx.clear_kv_cache_seq(Some(s as u32), None, None);
            }
        }
    }

    /// `llama_decode` returns once the graph is queued; on a GPU the work is still running.
    fn synchronize(&mut self) -> Result<(), BackendError> {
        self.ctx.synchronize();
        Ok(())
    }
}

impl LlamaSession<'_> {
    /// Cells the KV cache holds for `seq` (`None`: any sequence), for tests that check what a
    /// call leaves behind.
    pub fn cells(&self, seq: Option<SeqId>) -> usize {
        let seqs: Vec<SeqId> = match seq {
            Some(s) => vec![s],
            None => (0..self.info.max_sequences as SeqId).collect(),
        };
        seqs.iter()
            .map(|&s| {
                let (lo, hi) = (
                    self.ctx.kv_cache_seq_pos_min(s),
                    self.ctx.kv_cache_seq_pos_max(s),
                );
                if lo < 0 || hi < 0 {
                    0
                } else {
                    (hi - lo + 1) as usize
                }
            })
            .sum()
    }
}
