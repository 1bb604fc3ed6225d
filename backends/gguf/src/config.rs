//! Hyper-parameters of the architectures fcbench runs outside llama.cpp, read from GGUF
//! metadata with llama.cpp's defaults where a key is optional.

use crate::GgufError;
use candle_core::quantized::gguf_file::{Content, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// Llama and its descendants (SmolLM2). Q/K weights in GGUF are permuted for llama.cpp's
    /// "normal" (interleaved-pair) rotary embedding.
    Llama,
    /// Gemma 3 (FunctionGemma): QK-norm, sandwich norms, GELU, tied embeddings scaled by
    /// √n_embd, and local layers with a sliding window and their own rotary base. Rotary
    /// embedding is NeoX style (halves).
    Gemma3,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArchConfig {
    pub arch: Arch,
    /// `general.architecture` as written in the file.
    pub arch_name: String,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub head_dim: usize,
    pub n_ff: usize,
    pub rms_eps: f32,
    /// Rotary base of global-attention layers.
    pub rope_theta: f32,
    /// Rotary base of sliding-window layers (Gemma 3: 10 000 unless the file says otherwise).
    pub rope_theta_local: f32,
    /// Global layers' rotary position scale (1 / `rope.scaling.factor`, 1.0 when absent).
    pub rope_freq_scale: f32,
    /// Keys further back than this many positions are invisible to local layers.
    pub sliding_window: Option<usize>,
    /// Every `sliding_pattern`-th layer is global; the others are local (Gemma 3: 6).
    pub sliding_pattern: usize,
    pub context_length: usize,
    pub vocab_size: usize,
    /// Multiplier on queries before QK^T.
    pub attn_scale: f32,
    /// Multiplier on token embeddings (Gemma: √n_embd).
    pub embed_scale: f32,
}

impl ArchConfig {
    /// Does layer `il` attend through a sliding window (llama.cpp's `is_swa`)?
    pub fn is_local(&self, il: usize) -> bool {
        self.sliding_window.is_some()
            && self.sliding_pattern > 0
            && il % self.sliding_pattern < self.sliding_pattern - 1
    }

    /// Rotary base of layer `il`.
    pub fn rope_theta_of(&self, il: usize) -> f32 {
        if self.is_local(il) {
            self.rope_theta_local
        } else {
            self.rope_theta
        }
    }

    /// Rotary position scale of layer `il` (scaling applies to global layers only).
    pub fn rope_scale_of(&self, il: usize) -> f32 {
        if self.is_local(il) {
            1.0
        } else {
            self.rope_freq_scale
        }
    }

    pub fn from_gguf(path: &str, c: &Content) -> Result<ArchConfig, GgufError> {
        let md = Meta { path, c };
        let arch_name = md.string("general.architecture")?;
        let arch = match arch_name.as_str() {
            "llama" => Arch::Llama,
            "gemma3" => Arch::Gemma3,
            other => {
                return Err(GgufError::Model {
                    path: path.into(),
                    reason: format!(
                        "architecture `{other}` is not implemented outside llama.cpp (supported: llama, gemma3)"
                    ),
                })
            }
        };
        let k = |s: &str| format!("{arch_name}.{s}");
        let n_embd = md.usize(&k("embedding_length"))?;
        let n_head = md.usize(&k("attention.head_count"))?;
        let n_head_kv = md
            .opt_usize(&k("attention.head_count_kv"))?
            .unwrap_or(n_head);
        let head_dim = md
            .opt_usize(&k("attention.key_length"))?
            .unwrap_or(n_embd / n_head.max(1));
        let rope_theta = md.opt_f32(&k("rope.freq_base"))?.unwrap_or(10_000.0);
        let vocab_size = match md.opt_usize(&k("vocab_size"))? {
            Some(v) => v,
            None => md.array_len("tokenizer.ggml.tokens")?,
        };
        let rope_freq_scale = md
            .opt_f32(&k("rope.scaling.factor"))?
            .filter(|f| *f > 0.0)
            .map_or(1.0, |f| 1.0 / f);
        let (sliding_window, sliding_pattern, rope_theta_local, embed_scale) = match arch {
            Arch::Llama => (None, 0, rope_theta, 1.0),
            Arch::Gemma3 => (
                md.opt_usize(&k("attention.sliding_window"))?,
                6,
                md.opt_f32(&k("rope.freq_base_swa"))?.unwrap_or(10_000.0),
                (n_embd as f32).sqrt(),
            ),
        };
        Ok(ArchConfig {
            arch,
            n_layer: md.usize(&k("block_count"))?,
            n_embd,
            n_head,
            n_head_kv,
            head_dim,
            n_ff: md.usize(&k("feed_forward_length"))?,
            rms_eps: md.f32(&k("attention.layer_norm_rms_epsilon"))?,
            rope_theta,
            rope_theta_local,
            rope_freq_scale,
            sliding_window,
            sliding_pattern,
            context_length: md.usize(&k("context_length"))?,
            vocab_size,
            attn_scale: 1.0 / (head_dim as f32).sqrt(),
            embed_scale,
            arch_name,
        })
    }
}

/// llama.cpp's name for `general.file_type`.
pub(crate) fn file_type_name(c: &Content) -> String {
    match c
        .metadata
        .get("general.file_type")
        .and_then(|v| v.to_u32().ok())
    {
        Some(t) => fcbench_core::models::file_type_name(t),
        None => "unknown".into(),
    }
}

/// Typed metadata lookups whose errors name the file and the key.
pub(crate) struct Meta<'a> {
    pub path: &'a str,
    pub c: &'a Content,
}

impl Meta<'_> {
    pub fn err(&self, key: &str, reason: impl Into<String>) -> GgufError {
        GgufError::Metadata {
            path: self.path.into(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    pub fn get(&self, key: &str) -> Result<&Value, GgufError> {
        self.c
            .metadata
            .get(key)
            .ok_or_else(|| self.err(key, "missing"))
    }

    pub fn string(&self, key: &str) -> Result<String, GgufError> {
        self.get(key)?
            .to_string()
            .cloned()
            .map_err(|e| self.err(key, crate::candle_reason(&e)))
    }

    fn number(&self, key: &str) -> Result<Option<f64>, GgufError> {
        let Some(v) = self.c.metadata.get(key) else {
            return Ok(None);
        };
        let n = match v {
            Value::U8(x) => *x as f64,
            Value::I8(x) => *x as f64,
            Value::U16(x) => *x as f64,
            Value::I16(x) => *x as f64,
            Value::U32(x) => *x as f64,
            Value::I32(x) => *x as f64,
            Value::U64(x) => *x as f64,
            Value::I64(x) => *x as f64,
            Value::F32(x) => *x as f64,
            Value::F64(x) => *x,
            other => return Err(self.err(key, format!("expected a number, found {other:?}"))),
        };
        Ok(Some(n))
    }

    pub fn opt_usize(&self, key: &str) -> Result<Option<usize>, GgufError> {
        match self.number(key)? {
            Some(n) if n >= 0.0 && n.fract() == 0.0 => Ok(Some(n as usize)),
            Some(n) => Err(self.err(key, format!("expected a non-negative integer, found {n}"))),
            None => Ok(None),
        }
    }

    pub fn usize(&self, key: &str) -> Result<usize, GgufError> {
        self.opt_usize(key)?.ok_or_else(|| self.err(key, "missing"))
    }

    pub fn opt_f32(&self, key: &str) -> Result<Option<f32>, GgufError> {
        Ok(self.number(key)?.map(|n| n as f32))
    }

    pub fn f32(&self, key: &str) -> Result<f32, GgufError> {
        self.opt_f32(key)?.ok_or_else(|| self.err(key, "missing"))
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, GgufError> {
        match self.c.metadata.get(key) {
            Some(v) => v
                .to_bool()
                .map(Some)
                .map_err(|e| self.err(key, crate::candle_reason(&e))),
            None => Ok(None),
        }
    }

    pub fn array_len(&self, key: &str) -> Result<usize, GgufError> {
        Ok(self
            .get(key)?
            .to_vec()
            .map_err(|e| self.err(key, crate::candle_reason(&e)))?
            .len())
    }
}
