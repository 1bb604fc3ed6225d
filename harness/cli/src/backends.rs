//! Backends compiled into this binary (each behind its cargo feature), opened by name.

use anyhow::{bail, Result};
use fcbench_core::backend::TokenBackend;
use fcbench_core::models::ResolvedModel;

/// Names of the token-level backends this build has.
pub fn available() -> Vec<&'static str> {
    vec![
        #[cfg(feature = "llama")]
        "llama",
    ]
}

/// A model loaded into one backend; sessions (one per arm) are opened on it.
pub enum LoadedModel {
    #[cfg(feature = "llama")]
    Llama(fcbench_llama::LlamaModel),
}

pub struct SessionOptions {
    pub threads: usize,
    pub context_size: usize,
    pub max_sequences: usize,
}

impl LoadedModel {
    pub fn load(backend: &str, model: &ResolvedModel) -> Result<LoadedModel> {
        match backend {
            #[cfg(feature = "llama")]
            "llama" => Ok(LoadedModel::Llama(fcbench_llama::LlamaModel::load(
                &model.path,
                &model.sha256,
            )?)),
            other => bail!(
                "backend `{other}` is not in this build (available: {}); backends are cargo features of the `fcbench` crate",
                available().join(", ")
            ),
        }
    }

    pub fn session(&self, o: &SessionOptions) -> Result<Box<dyn TokenBackend + '_>> {
        match self {
            #[cfg(feature = "llama")]
            LoadedModel::Llama(m) => Ok(Box::new(m.session(&fcbench_llama::SessionOptions {
                threads: o.threads,
                context_size: o.context_size,
                max_sequences: o.max_sequences,
            })?)),
        }
    }
}
