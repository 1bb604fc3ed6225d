//! Which ggml devices this build sees, which ones a model went to, and which shared libraries
//! the engine was loaded from. Placement is read from what llama.cpp itself logged at load
//! (`using device …`, `offloaded N/M layers`, `Flash Attention enabled`), never inferred from
//! what was asked.

use fcbench_core::backend::{BackendError, EngineOptions, FlashAttn, Placement};
use llama_cpp_2::{list_llama_ggml_backend_devices, LlamaBackendDeviceType};
use serde::Serialize;

/// One device of ggml's registry, as `fcbench doctor` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EngineDevice {
    pub index: usize,
    /// ggml's name (`CPU`, `CUDA0`, `Vulkan1`, …): what `--device` takes.
    pub name: String,
    pub description: String,
    pub backend: String,
    /// `cpu`, `gpu`, `igpu`, `accel`.
    pub kind: String,
    pub memory_total: usize,
    pub memory_free: usize,
}

/// The devices ggml registered in this process (initialises llama.cpp once).
pub fn devices() -> Result<Vec<EngineDevice>, BackendError> {
    super::engine()?;
    Ok(list_llama_ggml_backend_devices()
        .into_iter()
        .map(|d| EngineDevice {
            index: d.index,
            name: d.name,
            description: d.description,
            backend: d.backend,
            kind: match d.device_type {
                LlamaBackendDeviceType::Cpu => "cpu",
                LlamaBackendDeviceType::Gpu => "gpu",
                LlamaBackendDeviceType::IntegratedGpu => "igpu",
                LlamaBackendDeviceType::Accelerator => "accel",
                _ => "unknown",
            }
            .into(),
            memory_total: d.memory_total,
            memory_free: d.memory_free,
        })
        .collect())
}

/// `--device` names (case-insensitive ggml names, or registry indices) → the GPU indices
/// llama.cpp takes. `cpu` alone gives an empty list: no device, nothing offloaded.
pub(crate) fn resolve(names: &[String]) -> Result<Vec<usize>, BackendError> {
    let all = devices()?;
    let mut out = Vec::new();
    for name in names {
        let found = all
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name) || name.parse::<usize>() == Ok(d.index));
        match found {
            Some(d) if d.kind == "cpu" || d.kind == "accel" => {}
            Some(d) => out.push(d.index),
            None => {
                return Err(BackendError::Other(format!(
                    "--device {name}: no such device in this build (it sees: {}; `fcbench doctor` lists them)",
                    all.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                )))
            }
        }
    }
    Ok(out)
}

/// Where llama.cpp put the model, from the lines it logged while loading it.
pub(crate) fn placement_from_log(lines: &[String], asked: &EngineOptions) -> Placement {
    // `llama_model_load_from_file_impl: using device CUDA0 (NVIDIA H200) (0000:…) - 142000 MiB free`
    let mut devices: Vec<String> = lines
        .iter()
        .filter_map(|l| l.split("using device ").nth(1))
        .map(|rest| {
            let name = rest.split_whitespace().next().unwrap_or("?");
            let desc = rest
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(d, _)| d)
                .unwrap_or("");
            if desc.is_empty() {
                name.to_string()
            } else {
                format!("{name}: {desc}")
            }
        })
        .collect();
    // `load_tensors: offloaded 31/31 layers to GPU`
    let offloaded = lines
        .iter()
        .filter_map(|l| l.split("offloaded ").nth(1))
        .filter_map(|r| r.split_whitespace().next())
        .next_back()
        .map(str::to_string);
    // llama.cpp prints `offloaded N/M` from --gpu-layers even when it was given no device
    // (`--device cpu`): with no device in use, nothing went anywhere.
    let offloaded = if devices.is_empty() {
        offloaded.map(|o| format!("0/{}", o.split('/').nth(1).unwrap_or("?")))
    } else {
        offloaded
    };
    let none_offloaded = offloaded.as_deref().is_none_or(|o| o.starts_with("0/"));
    if devices.is_empty() || none_offloaded {
        devices.insert(0, "CPU".into());
    }
    Placement {
        devices,
        gpu_layers_requested: asked.gpu_layers,
        offloaded_layers: offloaded,
        flash_attn_requested: asked.flash_attn.to_string(),
        flash_attn: None,
        libraries: loaded_libraries(),
        library_build: library_build_record(),
    }
}

/// What flash attention became: llama.cpp logs its choice only under `auto`.
pub(crate) fn flash_attn_from_log(lines: &[String], asked: FlashAttn) -> Option<String> {
    match asked {
        FlashAttn::On => Some("enabled".into()),
        FlashAttn::Off => Some("disabled".into()),
        FlashAttn::Auto => lines
            .iter()
            .filter(|l| l.contains("Flash Attention"))
            .map(|l| {
                if l.contains("disabled") {
                    "disabled".to_string()
                } else {
                    "enabled".to_string()
                }
            })
            .next_back(),
    }
}

/// The llama.cpp/ggml shared libraries mapped into this process (empty for a static build).
pub fn loaded_libraries() -> Vec<String> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for path in maps.lines().filter_map(|l| l.split_whitespace().nth(5)) {
        let file = path.rsplit('/').next().unwrap_or(path);
        if (file.starts_with("libllama") || file.starts_with("libggml"))
            && !out.iter().any(|p| p == path)
        {
            out.push(path.to_string());
        }
    }
    out
}

/// `llama-libs.json` beside the loaded `libllama`: the record `ci/gpu/build-llama-libs.sh`
/// leaves of how it built the libraries (source, ggml backend, cmake flags).
fn library_build_record() -> Option<serde_json::Value> {
    let lib = loaded_libraries().into_iter().find(|p| {
        p.rsplit('/')
            .next()
            .is_some_and(|f| f.starts_with("libllama"))
    })?;
    let dir = std::path::Path::new(&lib).parent()?;
    let text = std::fs::read_to_string(dir.join("llama-libs.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn placement_reads_devices_and_offloaded_layers_from_llama_cpp_s_own_log() {
        let log = lines(&[
            "llama_model_load_from_file_impl: using device CUDA0 (NVIDIA H200) (0000:0f:00.0) - 142670 MiB free",
            "load_tensors: offloaded 31/31 layers to GPU",
        ]);
        let p = placement_from_log(&log, &EngineOptions::default());
        assert_eq!(p.devices, ["CUDA0: NVIDIA H200"]);
        assert_eq!(p.offloaded_layers.as_deref(), Some("31/31"));
        assert!(p.uses_accelerator());
        assert_eq!(p.gpu_layers_requested, None);
    }

    #[test]
    fn a_load_that_offloaded_nothing_is_placed_on_the_cpu() {
        let cpu_only = placement_from_log(&[], &EngineOptions::default());
        assert_eq!(cpu_only.devices, ["CPU"]);
        assert!(!cpu_only.uses_accelerator());
        let zero = placement_from_log(
            &lines(&[
                "llama_model_load_from_file_impl: using device CUDA0 (NVIDIA H200) (x) - 1 MiB free",
                "load_tensors: offloaded 0/31 layers to GPU",
            ]),
            &EngineOptions {
                gpu_layers: Some(0),
                ..Default::default()
            },
        );
        assert_eq!(zero.devices[0], "CPU");
        assert_eq!(zero.gpu_layers_requested, Some(0));
        // `--device cpu` on a GPU host: llama.cpp still prints its layer count, for no device.
        let no_device = placement_from_log(
            &lines(&["load_tensors: offloaded 31/31 layers to GPU"]),
            &EngineOptions {
                devices: vec!["cpu".into()],
                ..Default::default()
            },
        );
        assert_eq!(no_device.devices, ["CPU"]);
        assert_eq!(no_device.offloaded_layers.as_deref(), Some("0/31"));
    }

    #[test]
    fn flash_attention_is_what_llama_cpp_resolved_under_auto() {
        let on = lines(&["llama_context: resolve_fused_ops: Flash Attention enabled"]);
        let off = lines(&["resolve_fused_ops: Flash Attention not supported, set to disabled"]);
        assert_eq!(
            flash_attn_from_log(&on, FlashAttn::Auto).as_deref(),
            Some("enabled")
        );
        assert_eq!(
            flash_attn_from_log(&off, FlashAttn::Auto).as_deref(),
            Some("disabled")
        );
        assert_eq!(flash_attn_from_log(&[], FlashAttn::Auto), None);
        assert_eq!(
            flash_attn_from_log(&[], FlashAttn::Off).as_deref(),
            Some("disabled")
        );
    }
}
