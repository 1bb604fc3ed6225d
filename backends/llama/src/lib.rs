//! llama.cpp backend (via `llama-cpp-2`).
//!
//! One [`LlamaModel`] holds the weights; each arm opens its own [`LlamaSession`] (a llama.cpp
//! context with its own KV cache) on it, so arms never evict each other's cached prefixes.
//! The KV cache is *unified*: otherwise llama.cpp splits `n_ctx` across sequences and a fork
//! physically copies the prefix.

use fcbench_core::backend::{
    prefill_batch, BackendError, BackendInfo, BatchEntry, SeqId, TokenBackend, TokenId,
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
use std::sync::OnceLock;

/// `llama-cpp-2`'s version, as pinned in the workspace.
pub const BINDING_VERSION: &str = "llama-cpp-2 0.1.160";

/// llama.cpp may be initialised once per process.
fn engine() -> Result<&'static LlamaBackend, BackendError> {
    static ENGINE: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut b = LlamaBackend::init().map_err(|e| e.to_string())?;
            // llama.cpp logs every load and every context to stderr; keep the terminal for us
            // unless asked for.
            if std::env::var_os("FCBENCH_LLAMA_LOG").is_none() {
                b.void_logs();
            }
            Ok(b)
        })
        .as_ref()
        .map_err(|e| BackendError::Other(format!("llama.cpp failed to initialise: {e}")))
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

fn build_string() -> String {
    format!(
        "{}; RUSTFLAGS: {}",
        system_info(),
        env!("FCBENCH_RUSTFLAGS")
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
}

/// Load options.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub threads: usize,
    pub context_size: usize,
    /// Sequences: heads + 1 for the shared prompt.
    pub max_sequences: usize,
}

impl LlamaModel {
    /// Load a GGUF file. `sha256` is the verified hash the caller computed (recorded, not
    /// recomputed here).
    pub fn load(path: &Path, sha256: &str) -> Result<LlamaModel, BackendError> {
        let shown = path.display().to_string();
        let err = |reason: String| BackendError::Model {
            path: shown.clone(),
            reason,
        };
        fcbench_core::models::check_gguf_magic(path).map_err(|e| err(e.to_string()))?;
        let bytes = std::fs::metadata(path)
            .map_err(|e| err(e.to_string()))?
            .len();
        let model = llama_cpp_2::model::LlamaModel::load_from_file(
            engine()?,
            path,
            &LlamaModelParams::default(),
        )
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
        Ok(LlamaModel {
            model,
            path: shown,
            sha256: sha256.to_string(),
            bytes,
            architecture,
            quantization,
        })
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
            .with_kv_unified(true);
        let ctx = self
            .model
            .new_context(engine()?, params)
            .map_err(|e| BackendError::Other(format!("llama.cpp context: {e}")))?;
        let info = BackendInfo {
            name: "llama".into(),
            version: BINDING_VERSION.into(),
            build: build_string(),
            model_path: self.path.clone(),
            model_sha256: self.sha256.clone(),
            model_bytes: self.bytes,
            architecture: self.architecture.clone(),
            quantization: self.quantization.clone(),
            parameters: self.model.n_params(),
            context_size: ctx.n_ctx() as usize,
            max_sequences: opts.max_sequences,
            threads: threads as usize,
        };
        let vocab = self.model.n_vocab() as usize;
        let mut spare = Vec::new();
        let mut control = Vec::new();
        let v = self.model.vocab();
        let specials = [v.bos(), v.eos(), v.eot(), v.pad(), v.nl()];
        for t in 0..vocab as i32 {
            let tok = LlamaToken(t);
            let attr = v.attr(tok);
            let text = v
                .text(tok)
                .map(|c| c.to_string_lossy().into_owned())
                .unwrap_or_default();
            if attr.contains(LlamaTokenAttr::Unused) || is_unused_name(&text) {
                spare.push(t);
            } else if attr.contains(LlamaTokenAttr::Control)
                && !specials.contains(&tok)
                && !v.is_eog(tok)
                && !text.starts_with("<|im_")
                && !text.contains("turn>")
            {
                control.push(t);
            }
        }
        spare.extend(control);
        Ok(LlamaSession {
            model: self,
            ctx,
            batch: LlamaBatch::new(n_ctx, opts.max_sequences as i32),
            rows: Vec::new(),
            info,
            spare,
            vocab,
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

fn is_unused_name(text: &str) -> bool {
    (text.starts_with("<unused") || text.contains("reserved_special_token")) && text.ends_with('>')
}

/// One llama.cpp context: the unit the decoding engine drives.
pub struct LlamaSession<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    /// Batch index of each requested logits row.
    rows: Vec<i32>,
    info: BackendInfo,
    spare: Vec<TokenId>,
    vocab: usize,
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

impl TokenBackend for LlamaSession<'_> {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    fn tokenize(&self, text: &str, add_bos: bool) -> Result<Vec<TokenId>, BackendError> {
        let v = self.model.model.vocab();
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
            .model
            .vocab()
            .token_to_piece(LlamaToken(token), true, None)
    }

    fn single_token(&self, text: &str) -> Option<TokenId> {
        let t = self
            .model
            .model
            .vocab()
            .tokenize(text.as_bytes(), false, true);
        (t.len() == 1 && self.token_bytes(t[0].0) == text.as_bytes()).then(|| t[0].0)
    }

    fn is_end_of_generation(&self, token: TokenId) -> bool {
        self.model.model.vocab().is_eog(LlamaToken(token))
    }

    fn spare_tokens(&self) -> Vec<TokenId> {
        self.spare.clone()
    }

    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn prefill(
        &mut self,
        seq: SeqId,
        start_pos: u32,
        tokens: &[TokenId],
    ) -> Result<(), BackendError> {
        if tokens.is_empty() {
            return Ok(());
        }
        self.decode_batch(&prefill_batch(seq, start_pos, tokens))
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
}
