//! `fcbench load`: sweep parallel clients or arrival rates against a server and report latency,
//! throughput and goodput per level.

use anyhow::{bail, Context, Result};
use fcbench_core::record::{DecodeMode, LoadReport, LOAD_FILE};
use fcbench_core::rundir::{write_json_atomic, RunDir};
use fcbench_http::load::{self, Level, LoadOptions};
use fcbench_http::{Api, HttpBackend, HttpConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Hard caps, so that a typo cannot turn a benchmark into a flood.
const MAX_CLIENTS: usize = 256;
const MAX_CALLS: usize = 10_000;
const MAX_RATE: f64 = 1_000.0;

#[derive(clap::Args, Clone, Debug)]
pub struct LoadArgs {
    /// Server base URL, e.g. http://127.0.0.1:8899 (a host you name: nothing is discovered).
    #[arg(long)]
    pub url: String,
    /// `simpletool` (POST /v1/function_call) or `openai` (POST /v1/chat/completions).
    #[arg(long, default_value = "simpletool")]
    pub api: Api,
    /// Model name for OpenAI requests (default: the first of the server's /v1/models).
    #[arg(long)]
    pub http_model: Option<String>,
    /// Parallel clients per level (closed loop), e.g. 1,2,4,8.
    #[arg(long, value_delimiter = ',', conflicts_with = "rate")]
    pub concurrency: Vec<usize>,
    /// Mean arrival rates in calls/s (open loop, Poisson arrivals), e.g. 5,10,20.
    #[arg(long, value_delimiter = ',')]
    pub rate: Vec<f64>,
    /// Real-time budget per call; goodput counts successful calls within it (100 ms = 10 Hz).
    #[arg(long, default_value_t = 100.0)]
    pub slo_ms: f64,
    /// Calls per level, at most.
    #[arg(long, default_value_t = 64)]
    pub calls: usize,
    /// Seconds per level, at most.
    #[arg(long, default_value_t = 30.0)]
    pub max_seconds: f64,
    /// Open loop: calls in flight at most.
    #[arg(long, default_value_t = 64)]
    pub max_in_flight: usize,
    /// A built-in scenario or a scenario file; its cases are cycled.
    #[arg(long, default_value = fcbench_scenarios::DEFAULT_SCENARIO)]
    pub scenario: String,
    /// Only the first N cases.
    #[arg(long)]
    pub limit: Option<usize>,
    /// `free` works against any server; `forced` needs `fcbench serve`.
    #[arg(long, default_value = "free")]
    pub mode: DecodeMode,
    #[arg(long, default_value_t = 128)]
    pub max_head_tokens: usize,
    /// Per-call timeout in seconds (a timed-out call counts as failed).
    #[arg(long, default_value_t = 30.0)]
    pub timeout_s: f64,
    /// OpenAI API: stream the answer (server-sent events).
    #[arg(long)]
    pub stream: bool,
    /// Untimed calls before the first level.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Seed of the arrival times.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory for `load.json` (must not exist or be empty); default: a fresh one under
    /// --runs-dir.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
}

pub fn run(a: LoadArgs) -> Result<ExitCode> {
    let levels: Vec<Level> = if !a.rate.is_empty() {
        if let Some(r) = a.rate.iter().find(|r| !(**r > 0.0 && **r <= MAX_RATE)) {
            bail!("--rate {r}: must be above 0 and at most {MAX_RATE} calls/s");
        }
        a.rate.iter().map(|&r| Level::Rate(r)).collect()
    } else if !a.concurrency.is_empty() {
        if let Some(n) = a
            .concurrency
            .iter()
            .find(|n| !(1..=MAX_CLIENTS).contains(*n))
        {
            bail!("--concurrency {n}: must be 1 to {MAX_CLIENTS}");
        }
        a.concurrency
            .iter()
            .map(|&n| Level::Concurrency(n))
            .collect()
    } else {
        bail!("give --concurrency N,… or --rate R,…");
    };
    if !(a.slo_ms > 0.0 && a.slo_ms.is_finite()) {
        bail!("--slo-ms must be a positive number of milliseconds");
    }
    if a.calls == 0 || a.calls > MAX_CALLS {
        bail!("--calls must be 1 to {MAX_CALLS}");
    }
    let positive_up_to = |x: f64, max: f64| x > 0.0 && x <= max;
    if !positive_up_to(a.max_seconds, 3600.0) || !positive_up_to(a.timeout_s, 3600.0) {
        bail!("--max-seconds and --timeout-s must be in (0, 3600]");
    }
    let scenario = fcbench_scenarios::load(&a.scenario)?;
    let mut cases: Vec<_> = scenario
        .cases
        .iter()
        .filter(|c| !c.exceeds_arg_heads())
        .filter(|c| a.mode == DecodeMode::Free || c.reference_call().is_some())
        .cloned()
        .collect();
    if let Some(n) = a.limit {
        cases.truncate(n);
    }
    if cases.is_empty() {
        bail!("scenario `{}` has no runnable cases", a.scenario);
    }
    let mut cfg = HttpConfig::new(&a.url, a.api);
    cfg.model = a.http_model.clone();
    cfg.stream = a.stream;
    cfg.timeout = Duration::from_secs_f64(a.timeout_s);
    cfg.pool = levels
        .iter()
        .map(|l| match l {
            Level::Concurrency(n) => *n,
            Level::Rate(_) => a.max_in_flight,
        })
        .max()
        .unwrap_or(1);
    let backend = HttpBackend::connect(cfg).context("connecting to the server")?;
    let opts = LoadOptions {
        slo_ms: a.slo_ms,
        max_calls: a.calls,
        max_seconds: a.max_seconds,
        max_in_flight: a.max_in_flight.clamp(1, MAX_CLIENTS),
        seed: a.seed,
        mode: a.mode,
        max_head_tokens: a.max_head_tokens,
        content_head: false,
    };
    let started_at = fcbench_core::runner::now_rfc3339();
    let stop = super::run::install_ctrlc();
    if a.warmup > 0 {
        let w = LoadOptions {
            max_calls: a.warmup as usize,
            ..opts.clone()
        };
        let r = load::run_level(&backend, &cases, Level::Concurrency(1), &w, &stop);
        if r.failed > 0 {
            eprintln!(
                "warning: warm-up call failed: {}",
                r.first_error.unwrap_or_default()
            );
        }
    }
    let mut results = Vec::new();
    for level in levels {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        eprintln!("level {level} …");
        results.push(load::run_level(&backend, &cases, level, &opts, &stop));
    }
    print!("{}", load::render_table(&results, a.slo_ms));
    let dir = RunDir::create(a.out.as_deref(), &a.runs_dir, "load")?;
    let path = dir.path().join(LOAD_FILE);
    write_json_atomic(
        &path,
        &LoadReport {
            started_at,
            url: a.url.clone(),
            api: a.api.name().to_string(),
            model: backend.model().to_string(),
            scenario: scenario.meta.name.clone(),
            cases: cases.len(),
            mode: a.mode,
            slo_ms: a.slo_ms,
            calls_per_level: a.calls,
            max_seconds_per_level: a.max_seconds,
            machine: fcbench_core::machine::machine_info(),
            levels: results.clone(),
        },
    )?;
    println!("results: {}", path.display());
    if results.iter().all(|r| r.ok == 0) {
        bail!(
            "every call failed; first error: {}",
            results
                .iter()
                .find_map(|r| r.first_error.clone())
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
