//! A GGUF model read without llama.cpp: what the candle and ONNX Runtime backends need to run
//! the same weights as the llama backend. [`ArchConfig`] holds the hyper-parameters of the two
//! architectures fcbench runs (llama: SmolLM2; gemma3: FunctionGemma), [`Vocab`] tokenizes
//! exactly as llama.cpp does (checked against it in tests), and [`GgufModel`] reads tensors.

mod config;
mod vocab;

pub use config::{Arch, ArchConfig};
pub use vocab::Vocab;

use candle_core::quantized::{gguf_file, QTensor};
use candle_core::Device;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("model file {path}: {reason}")]
    Model { path: String, reason: String },
    #[error("model file {path}: metadata key `{key}`: {reason}")]
    Metadata {
        path: String,
        key: String,
        reason: String,
    },
    #[error("model file {path}: tensor `{name}`: {reason}")]
    Tensor {
        path: String,
        name: String,
        reason: String,
    },
}

impl From<GgufError> for fcbench_core::backend::BackendError {
    /// `BackendError::Model` names the file itself: the reason leaves it out (it used to say
    /// `model file X: model file X: …`).
    fn from(e: GgufError) -> Self {
        let (path, reason) = match e {
            GgufError::Model { path, reason } => (path, reason),
            GgufError::Metadata { path, key, reason } => {
                (path, format!("metadata key `{key}`: {reason}"))
            }
            GgufError::Tensor { path, name, reason } => {
                (path, format!("tensor `{name}`: {reason}"))
            }
        };
        fcbench_core::backend::BackendError::Model { path, reason }
    }
}

/// A candle error as one line: with `RUST_BACKTRACE` set, candle appends its backtrace to the
/// message, which buried the reason under 30 frames.
pub fn candle_reason(e: &candle_core::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// An open GGUF file: metadata parsed, tensors read on demand, the tokenizer built on request
/// (an exporter needs only the weights).
pub struct GgufModel {
    pub path: PathBuf,
    pub content: gguf_file::Content,
    pub config: ArchConfig,
    file: std::fs::File,
}

impl GgufModel {
    pub fn open(path: &Path) -> Result<GgufModel, GgufError> {
        let shown = path.display().to_string();
        let model_err = |reason: String| GgufError::Model {
            path: shown.clone(),
            reason,
        };
        let mut file = std::fs::File::open(path).map_err(|e| model_err(e.to_string()))?;
        let content = gguf_file::Content::read(&mut file)
            .map_err(|e| model_err(format!("not a readable GGUF file: {}", candle_reason(&e))))?;
        let config = ArchConfig::from_gguf(&shown, &content)?;
        Ok(GgufModel {
            path: path.to_path_buf(),
            content,
            config,
            file,
        })
    }

    /// The llama.cpp-compatible tokenizer of this file.
    pub fn vocab(&self) -> Result<Vocab, GgufError> {
        Vocab::from_gguf(&self.path.display().to_string(), &self.content)
    }

    fn tensor_err(&self, name: &str, reason: String) -> GgufError {
        GgufError::Tensor {
            path: self.path.display().to_string(),
            name: name.to_string(),
            reason,
        }
    }

    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// A tensor in its stored (possibly quantised) type. GGUF dims are listed innermost first;
    /// candle reverses them, so a `[n_out, n_in]` weight arrives as shape `(n_out, n_in)`.
    pub fn qtensor(&mut self, name: &str) -> Result<QTensor, GgufError> {
        self.content
            .tensor(&mut self.file, name, &Device::Cpu)
            .map_err(|e| self.tensor_err(name, candle_reason(&e)))
    }

    /// A tensor dequantised to f32, row-major, with its (candle-order) shape.
    pub fn f32_tensor(&mut self, name: &str) -> Result<(Vec<usize>, Vec<f32>), GgufError> {
        let q = self.qtensor(name)?;
        let t = q
            .dequantize(&Device::Cpu)
            .map_err(|e| self.tensor_err(name, candle_reason(&e)))?;
        let shape = t.dims().to_vec();
        let data = t
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| self.tensor_err(name, candle_reason(&e)))?;
        Ok((shape, data))
    }

    /// The weight type most tensors use, as llama.cpp names the file type (`q4_k_m`, …).
    pub fn quantization(&self) -> String {
        config::file_type_name(&self.content)
    }

    /// Total number of weights.
    pub fn parameters(&self) -> u64 {
        self.content
            .tensor_infos
            .values()
            .map(|t| t.shape.elem_count() as u64)
            .sum()
    }
}
