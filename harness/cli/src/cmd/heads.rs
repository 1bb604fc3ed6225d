//! `fcbench heads`: the step-efficiency curve (how much one more parallel head costs).
//!
//! Each head count is timed in its own block of consecutive, synchronised steps after warm-up
//! (see `fcbench_core::sweep`), as a real decode loop runs: a GPU engine reuses its graph, and
//! no step is timed at launch only.

use crate::backends::EngineArgs;
use anyhow::{bail, Context, Result};
use fcbench_core::models::{self, DEFAULT_MODEL};
use fcbench_core::sweep::{sweep_heads, SweepOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct HeadsArgs {
    #[arg(long, default_value = "llama")]
    pub backend: String,
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Context length (tokens of a real scenario prompt) at which steps are timed.
    #[arg(long, default_value_t = 512)]
    pub context: usize,
    #[arg(long, default_value_t = 8)]
    pub max_heads: usize,
    /// Timed steps per head count (over all rounds).
    #[arg(long, default_value_t = 30)]
    pub reps: usize,
    /// Blocks per head count, interleaved over head counts (drift hits every count alike).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Untimed steps at the start of each block (buffers, graph capture).
    #[arg(long, default_value_t = 3)]
    pub warmup_steps: usize,
    /// Also write the sweep as JSON here (reports pick it up from a run directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: HeadsArgs) -> Result<ExitCode> {
    if a.max_heads == 0 || a.reps == 0 || a.rounds == 0 {
        bail!("--max-heads, --reps and --rounds must be at least 1");
    }
    let threads = a.engine.threads();
    let opts = SweepOptions {
        max_heads: a.max_heads,
        reps: a.reps,
        rounds: a.rounds,
        warmup_steps: a.warmup_steps,
    };
    let resolved = models::resolve(&a.model, &mut super::fetch_progress())
        .with_context(|| format!("model `{}`", a.model))?;
    let model = crate::backends::load(&a.backend, &resolved, &a.engine.options())?;
    for note in model.notes(&resolved) {
        eprintln!("note: {note}");
    }
    let mut session = model.session(&a.engine.session(
        (a.context + a.max_heads * opts.growth() + 16).max(1024),
        a.max_heads + 1,
    ))?;
    // A real prompt as context: the default scenario's first SimpleTool prompt, repeated
    // until long enough, cut to exactly `context` tokens.
    let scenario = fcbench_scenarios::load(fcbench_scenarios::DEFAULT_SCENARIO)?;
    let plan = fcbench_core::protocol::Protocol::SimpleTool
        .plan(&scenario.cases[0], &Default::default())?;
    let mut ctx = Vec::new();
    while ctx.len() < a.context {
        ctx.extend(
            session
                .vocab()
                .tokenize(&plan.heads[0].prompt, ctx.is_empty())?,
        );
    }
    ctx.truncate(a.context);
    eprintln!(
        "timing one decode step at {} tokens of context, 1…{} sequences: {} rounds of {} warm-up + {} timed steps per count ({} threads)",
        a.context,
        a.max_heads,
        a.rounds,
        a.warmup_steps,
        opts.steps_per_block(),
        threads
    );
    let sweep = sweep_heads(session.as_mut(), &ctx, &opts, |_| {})?;
    println!(
        "{} · {} ({}) · {} threads · context {} tokens",
        sweep.backend.name, a.model, sweep.backend.quantization, threads, sweep.context_tokens
    );
    if let Some(p) = &sweep.backend.placement {
        println!("device: {}", p.summary());
    }
    println!("heads  median step ms  p95 ms  step efficiency  parallel overhead");
    for p in &sweep.points {
        let bar = "█".repeat((p.step_efficiency * 20.0).round().clamp(0.0, 40.0) as usize);
        println!(
            "{:>5}  {:>14.2}  {:>6.2}  {:>14.0}%  {:>16.0}%  {bar}",
            p.heads,
            p.median_step_ms,
            p.p95_step_ms,
            p.step_efficiency * 100.0,
            p.parallel_overhead * 100.0
        );
    }
    println!("step efficiency(N) = median step time with 1 sequence / with N sequences; 100% = a head is free");
    println!("a step = one batch of N sequences launched and synchronised (finished), in blocks of consecutive steps of the same N");
    if let Some(w) = sweep.stability.as_ref().and_then(|s| s.warning()) {
        println!("warning: {w}");
    }
    if let Some(path) = a.out {
        fcbench_core::rundir::write_json_atomic(&path, &sweep)?;
        println!("written: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
