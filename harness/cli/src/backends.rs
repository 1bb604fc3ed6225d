//! Backends compiled into this binary (each behind its cargo feature), opened by name.

use anyhow::{bail, Result};
use fcbench_core::backend::{CallBackend, DeviceOptions, FlashAttn, TokenBackend, WeightMode};
use fcbench_core::models::ResolvedModel;

/// Names of the token-level backends this build has.
pub fn available() -> Vec<&'static str> {
    vec![
        #[cfg(feature = "llama")]
        "llama",
        #[cfg(feature = "candle")]
        "candle",
        #[cfg(feature = "ort")]
        "ort",
    ]
}

/// Names of the call-level backends (whole calls: recorded outputs, servers) this build has.
pub fn call_level() -> Vec<&'static str> {
    vec![
        #[cfg(feature = "replay")]
        "replay",
        #[cfg(feature = "http")]
        "http",
    ]
}

/// A call-level backend opened from the run's arguments, and the model name its arms carry.
pub struct OpenedCalls {
    pub backend: Box<dyn CallBackend>,
    pub model: String,
}

/// Open call-level backend `name` for one arm; `None` when `name` is not call-level here.
pub fn open_calls(
    name: &str,
    #[allow(unused_variables)] args: &crate::cmd::run::RunArgs,
) -> Result<Option<OpenedCalls>> {
    match name {
        #[cfg(feature = "replay")]
        "replay" => {
            let Some(path) = &args.recorded else {
                bail!("--backend replay needs --recorded <results.jsonl>");
            };
            let b = fcbench_replay::ReplayBackend::open(path)?;
            Ok(Some(OpenedCalls {
                model: b.model_name(),
                backend: Box::new(b),
            }))
        }
        #[cfg(feature = "http")]
        "http" => {
            let Some(url) = &args.url else {
                bail!("--backend http needs --url http://host:port");
            };
            if !(args.http_timeout_s > 0.0 && args.http_timeout_s <= 86_400.0) {
                bail!("--http-timeout-s must be in (0, 86400]");
            }
            let mut cfg = fcbench_http::HttpConfig::new(url, args.api);
            cfg.model = args.http_model.clone();
            cfg.stream = args.stream;
            cfg.timeout = std::time::Duration::from_secs_f64(args.http_timeout_s);
            let b = fcbench_http::HttpBackend::connect(cfg)?;
            Ok(Some(OpenedCalls {
                model: b.model().to_string(),
                backend: Box::new(b),
            }))
        }
        _ => Ok(None),
    }
}

/// Where an engine that can offload runs: shared by `run`, `tui`, `heads` and `serve`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DeviceArgs {
    /// Layers to offload to a GPU (llama). Default: all, when this build's llama.cpp has a GPU
    /// backend and sees a device; 0 keeps the weights on the CPU.
    #[arg(long, env = "FCBENCH_GPU_LAYERS")]
    pub gpu_layers: Option<u32>,
    /// ggml device(s) for llama, by name (`CUDA0`, `Vulkan1`; `cpu` = none at all), comma-separated;
    /// `fcbench doctor` lists what this build sees. Default: every GPU it sees.
    #[arg(long, value_delimiter = ',', env = "FCBENCH_DEVICE")]
    pub device: Vec<String>,
    /// Flash attention for llama: `auto` (llama.cpp decides per device), `on`, `off`.
    #[arg(long, default_value = "auto", env = "FCBENCH_FLASH_ATTN")]
    pub flash_attn: FlashAttn,
    /// How the candle backend holds the weight matrices: `auto` (measured per type: README
    /// "candle"), `stored` (the file's blocks), `f32`/`f16` (dequantised exactly at load),
    /// `q8_0` (re-quantised: other numbers, recorded as such). llama and ort always run the
    /// file's own types.
    #[arg(long, default_value = "auto", env = "FCBENCH_CANDLE_WEIGHTS")]
    pub candle_weights: WeightMode,
}

impl DeviceArgs {
    pub fn options(&self) -> DeviceOptions {
        DeviceOptions {
            gpu_layers: self.gpu_layers,
            devices: self.device.clone(),
            flash_attn: self.flash_attn,
            candle_weights: self.candle_weights,
        }
    }
}

/// A model loaded into one backend; sessions (one per arm) are opened on it.
pub enum LoadedModel {
    #[cfg(feature = "llama")]
    Llama(fcbench_llama::LlamaModel),
    // Boxed: the candle model holds its weights inline and is much larger than the others.
    #[cfg(feature = "candle")]
    Candle(Box<fcbench_candle::CandleModel>),
    #[cfg(feature = "ort")]
    Ort(Box<fcbench_ort::OrtModel>),
}

pub struct SessionOptions {
    pub threads: usize,
    pub context_size: usize,
    pub max_sequences: usize,
    /// ONNX Runtime execution provider (`--ort-provider`); other backends ignore it.
    #[cfg_attr(not(feature = "ort"), allow(dead_code))]
    pub ort_provider: String,
    /// llama only; the others have no such kernel choice.
    pub flash_attn: FlashAttn,
}

impl LoadedModel {
    /// Load `model` into `backend`; `dev` places it (llama), and backends that run on the CPU
    /// only refuse a request for a GPU rather than ignore it.
    pub fn load(backend: &str, model: &ResolvedModel, dev: &DeviceOptions) -> Result<LoadedModel> {
        let wants_gpu = dev.gpu_layers.is_some_and(|n| n > 0)
            || dev.devices.iter().any(|d| !d.eq_ignore_ascii_case("cpu"));
        if backend != "llama" && wants_gpu {
            bail!(
                "--gpu-layers/--device place llama.cpp's layers; the {backend} backend runs on the CPU in this build"
            );
        }
        match backend {
            #[cfg(feature = "llama")]
            "llama" => Ok(LoadedModel::Llama(fcbench_llama::LlamaModel::load(
                &model.path,
                &model.sha256,
                dev,
            )?)),
            #[cfg(feature = "candle")]
            "candle" => Ok(LoadedModel::Candle(Box::new(
                fcbench_candle::CandleModel::load(&model.path, &model.sha256, dev.candle_weights)?,
            ))),
            #[cfg(feature = "ort")]
            "ort" => Ok(LoadedModel::Ort(Box::new(fcbench_ort::OrtModel::load(
                &model.path,
                &model.sha256,
            )?))),
            other => bail!(
                "backend `{other}` is not in this build (available: {}; call-level: {}); backends are cargo features of the `fcbench` crate",
                available().join(", "),
                call_level().join(", ")
            ),
        }
    }

    /// What the user should know about this model on this backend (shown as run warnings, or
    /// on stderr outside a run), e.g. weight types without fast kernels.
    pub fn notes(&self, model: &ResolvedModel) -> Vec<String> {
        match self {
            #[cfg(feature = "candle")]
            LoadedModel::Candle(m) => {
                let slow = m.slow_weight_types();
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
            #[allow(unreachable_patterns)]
            _ => {
                let _ = model;
                Vec::new()
            }
        }
    }

    pub fn session(&self, o: &SessionOptions) -> Result<Box<dyn TokenBackend + '_>> {
        match self {
            #[cfg(feature = "llama")]
            LoadedModel::Llama(m) => Ok(Box::new(m.session(&fcbench_llama::SessionOptions {
                threads: o.threads,
                context_size: o.context_size,
                max_sequences: o.max_sequences,
                flash_attn: o.flash_attn,
            })?)),
            #[cfg(feature = "candle")]
            LoadedModel::Candle(m) => Ok(Box::new(m.session(&fcbench_candle::SessionOptions {
                threads: o.threads,
                context_size: o.context_size,
                max_sequences: o.max_sequences,
            })?)),
            #[cfg(feature = "ort")]
            LoadedModel::Ort(m) => Ok(Box::new(m.session(&fcbench_ort::SessionOptions {
                threads: o.threads,
                context_size: o.context_size,
                max_sequences: o.max_sequences,
                provider: fcbench_ort::Provider::parse(&o.ort_provider)?,
            })?)),
        }
    }
}
