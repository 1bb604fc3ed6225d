//! `fcbench doctor`: what this build is and what it can run on — the binary's build, the
//! backends compiled in, the engine library actually loaded (path, its own system info), the
//! ggml devices it sees, and the machine's GPUs. Prints facts only; measures nothing.

use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct DoctorArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DoctorArgs) -> Result<ExitCode> {
    let machine = fcbench_core::machine::machine_info();
    let mut report = serde_json::json!({
        "fcbench": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("FCBENCH_GIT_COMMIT"),
        "backends": crate::backends::available(),
        "call_level_backends": crate::backends::call_level(),
        "machine": machine,
    });
    #[cfg(feature = "llama")]
    {
        let devices = fcbench_llama::devices()?;
        report["llama"] = serde_json::json!({
            "binary": fcbench_llama::binary_string(),
            "system_info": fcbench_llama::system_info(),
            "libraries": fcbench_llama::loaded_libraries(),
            "devices": devices,
        });
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "fcbench {} ({})",
        env!("CARGO_PKG_VERSION"),
        env!("FCBENCH_GIT_COMMIT")
    );
    println!(
        "backends: {} · call-level: {}",
        crate::backends::available().join(", "),
        crate::backends::call_level().join(", ")
    );
    println!("machine: {}", machine.describe());
    #[cfg(feature = "llama")]
    {
        println!("llama binary: {}", fcbench_llama::binary_string());
        println!("llama.cpp system info: {}", fcbench_llama::system_info());
        let libs = fcbench_llama::loaded_libraries();
        if libs.is_empty() {
            println!("llama.cpp libraries: linked into this binary");
        } else {
            println!("llama.cpp libraries loaded:");
            for l in libs {
                println!("  {l}");
            }
        }
        println!("ggml devices this build sees (`--device NAME`):");
        for d in fcbench_llama::devices()? {
            println!(
                "  {:<10} {:<6} {:<8} {}{}",
                d.name,
                d.kind,
                d.backend,
                d.description,
                if d.memory_total > 0 {
                    format!(
                        " ({} MiB, {} MiB free)",
                        d.memory_total >> 20,
                        d.memory_free >> 20
                    )
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
