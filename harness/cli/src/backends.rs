//! Backends compiled into this binary (each behind its cargo feature), opened by name.
//!
//! A token-level backend is registered by one line in [`ENGINES`]; `run`, `heads`, `serve`
//! and the TUI find and open engines only through [`load`], with options from [`EngineArgs`].

use anyhow::{bail, Result};
use fcbench_core::backend::{
    CallBackend, Engine, EngineOptions, FlashAttn, LoadedEngine, SessionOptions, WeightMode,
};
use fcbench_core::models::ResolvedModel;

/// Every token-level engine in this build: the one place a backend crate is registered.
const ENGINES: &[&dyn Engine] = &[
    #[cfg(feature = "llama")]
    &fcbench_llama::Llama,
    #[cfg(feature = "candle")]
    &fcbench_candle::Candle,
    #[cfg(feature = "ort")]
    &fcbench_ort::Ort,
];

/// Names of the token-level backends this build has.
pub fn available() -> Vec<&'static str> {
    ENGINES.iter().map(|e| e.name()).collect()
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

/// How to run an engine, shared by `run`, `tui`, `heads` and `serve` (flattened into each).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EngineArgs {
    /// Threads for the engine (prefill and decode); default: all available cores.
    #[arg(long)]
    pub threads: Option<usize>,
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
    /// `--backend ort`: ONNX Runtime execution provider (`cpu`; others where this build has them).
    #[arg(long, env = "FCBENCH_ORT_PROVIDER", default_value = "cpu")]
    pub ort_provider: String,
}

impl EngineArgs {
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            gpu_layers: self.gpu_layers,
            devices: self.device.clone(),
            flash_attn: self.flash_attn,
            candle_weights: self.candle_weights,
            ort_provider: Some(self.ort_provider.clone()),
        }
    }

    /// `--threads`, or every available core.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// A session of `context_size` tokens and `max_sequences` sequences on `--threads`.
    pub fn session(&self, context_size: usize, max_sequences: usize) -> SessionOptions {
        SessionOptions {
            threads: self.threads(),
            context_size,
            max_sequences,
        }
    }
}

/// Load `model` into engine `backend` (untimed). An engine that cannot place layers refuses a
/// device request rather than ignore it.
pub fn load(
    backend: &str,
    model: &ResolvedModel,
    opts: &EngineOptions,
) -> Result<Box<dyn LoadedEngine>> {
    let Some(engine) = ENGINES.iter().find(|e| e.name() == backend) else {
        bail!(
            "backend `{backend}` is not in this build (available: {}; call-level: {}); backends are cargo features of the `fcbench` crate",
            available().join(", "),
            call_level().join(", ")
        );
    };
    if opts.wants_gpu() && !engine.places_layers() {
        bail!(
            "--gpu-layers/--device place llama.cpp's layers; the {backend} backend runs on the CPU in this build"
        );
    }
    Ok(engine.load(model, opts)?)
}
