//! `fcbench run`: every arm over one scenario, interleaved, recorded in a fresh run directory.

use crate::backends::{open_calls, EngineArgs, OpenedCalls};
use anyhow::{bail, Context, Result};
use fcbench_core::arm::ArmId;
use fcbench_core::backend::LoadedEngine;
use fcbench_core::models::{self, ResolvedModel, DEFAULT_MODEL};
use fcbench_core::protocol::Protocol;
use fcbench_core::record::{
    CacheRegime, CallStatus, DecodeMode, Manifest, RunSettings, RunSummary, ScenarioInfo,
    SCHEMA_VERSION,
};
use fcbench_core::rundir::RunDir;
use fcbench_core::runner::{prompt_template_hashes, Arm, RunEvent, Runner};
use fcbench_core::scenario::Case;
use std::collections::btree_map::{BTreeMap, Entry};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args, Clone, Debug)]
pub struct RunArgs {
    /// Backends (comma-separated); each is crossed with every model and protocol.
    #[arg(long, value_delimiter = ',', default_value = "llama")]
    pub backend: Vec<String>,
    /// Models: a known name (`gemma3-270m`, `smollm2`) or a path to a GGUF file.
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_MODEL)]
    pub model: Vec<String>,
    /// Protocols to compare (default: simpletool,simpletool-serial,json,functiongemma; with
    /// `--backend http --api A`: A's own protocol).
    #[arg(long, value_delimiter = ',')]
    pub protocol: Vec<Protocol>,
    /// Explicit arms `backend/model/protocol` as the table prints them, or
    /// `backend:model:protocol` (repeatable), instead of the cross product; lets each arm name
    /// its own model.
    #[arg(long = "arm")]
    pub arms: Vec<ArmId>,
    /// Baseline arm for speed-ups, `backend/model/protocol` (default: the first
    /// `functiongemma` arm).
    #[arg(long)]
    pub baseline: Option<ArmId>,
    /// A built-in scenario (`fcbench scenarios`) or a scenario file.
    #[arg(long, default_value = fcbench_scenarios::DEFAULT_SCENARIO)]
    pub scenario: String,
    /// `forced`: real forward passes, reference tokens appended (latency at the output length
    /// a model trained for the format would produce); `free`: greedy decoding to the stops.
    /// Default: forced; with `--backend http --api A`, forced only where the server has
    /// fcbench's forced-decoding extension (fcbench serve), else free.
    #[arg(long)]
    pub mode: Option<DecodeMode>,
    /// `prefix` (tool prefix cached, as in a game loop), `cold` (nothing cached) or `warm`
    /// (identical prompt primed untimed first).
    #[arg(long, default_value = "prefix")]
    pub regime: CacheRegime,
    /// Timed calls per case and arm.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Untimed calls per arm before timing starts.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Only the first N cases (after shuffling, if --seed is given).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Shuffle the case order with this seed (0 keeps the file's order).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Per-head token cap.
    #[arg(long, default_value_t = 128)]
    pub max_head_tokens: usize,
    /// Context size (tokens) of each session.
    #[arg(long, default_value_t = 4096)]
    pub ctx: usize,
    /// Add SimpleTool's optional `<content>` head (runs free in forced mode: no gold exists).
    #[arg(long)]
    pub content_head: bool,
    /// Keep protocol markers split into the base model's pieces in forced mode, instead of
    /// mapping each to one spare token.
    #[arg(long)]
    pub no_marker_tokens: bool,
    /// Run directory (must not exist or be empty); default: a fresh one under --runs-dir.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// `--backend replay`: the recorded raw heads to answer from (a SimpleTool reproduction
    /// `results/<model>/<dataset>.jsonl`).
    #[arg(long)]
    pub recorded: Option<PathBuf>,
    /// `--backend http`: the server's base URL, e.g. http://127.0.0.1:8899 (`fcbench serve`).
    #[cfg(feature = "http")]
    #[arg(long)]
    pub url: Option<String>,
    /// `--backend http`: `simpletool` (POST /v1/function_call) or `openai` (POST
    /// /v1/chat/completions); default: by each arm's protocol (simpletool / json).
    #[cfg(feature = "http")]
    #[arg(long)]
    pub api: Option<fcbench_http::Api>,
    /// `--backend http`, OpenAI API: model name to request (default: the server's first).
    #[cfg(feature = "http")]
    #[arg(long)]
    pub http_model: Option<String>,
    /// `--backend http`: per-call timeout in seconds (a timed-out call is recorded as failed).
    #[cfg(feature = "http")]
    #[arg(long, default_value_t = 60.0)]
    pub http_timeout_s: f64,
    /// `--backend http`, OpenAI API: stream answers (server-sent events).
    #[cfg(feature = "http")]
    #[arg(long)]
    pub stream: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Every column of the results table, however wide (default: the essential ones, fitted
    /// to the terminal).
    #[arg(long)]
    pub wide: bool,
}

const DEFAULT_PROTOCOLS: [Protocol; 4] = [
    Protocol::SimpleTool,
    Protocol::SimpleToolSerial,
    Protocol::Json,
    Protocol::FunctionGemma,
];

impl RunArgs {
    /// The decoding mode (after [`RunArgs::apply_api_defaults`]).
    pub fn mode(&self) -> DecodeMode {
        self.mode.unwrap_or(DecodeMode::Forced)
    }

    /// The results table's layout: `--wide`, in the terminal's width.
    pub fn layout(&self) -> fcbench_reports::terminal::Layout {
        fcbench_reports::terminal::Layout::detect(self.wide)
    }

    fn protocols(&self) -> Vec<Protocol> {
        if self.protocol.is_empty() {
            DEFAULT_PROTOCOLS.to_vec()
        } else {
            self.protocol.clone()
        }
    }

    /// `--backend http --api A` without `--protocol`/`--mode`: the defaults follow the API (its
    /// own protocol; forced only where the server has fcbench's extension). Returns the line
    /// that says so.
    pub fn apply_api_defaults(&mut self) -> Result<Option<String>> {
        #[cfg(feature = "http")]
        if self.arms.is_empty()
            && self.backend.iter().all(|b| b == "http")
            && (self.protocol.is_empty() || self.mode.is_none())
        {
            if let (Some(api), Some(url)) = (self.api, &self.url) {
                let server =
                    fcbench_http::HttpBackend::connect(fcbench_http::HttpConfig::new(url, api))
                        .context("backend `http`")?;
                let (p, m, line) = fcbench_http::api_defaults(api, server.supports_forced());
                if self.protocol.is_empty() {
                    self.protocol = vec![p];
                }
                self.mode.get_or_insert(m);
                return Ok(Some(line));
            }
        }
        Ok(None)
    }
}

fn arm_specs(a: &RunArgs) -> Vec<ArmId> {
    if !a.arms.is_empty() {
        return a.arms.clone();
    }
    let mut v = Vec::new();
    for b in &a.backend {
        for m in &a.model {
            for p in a.protocols() {
                v.push(ArmId::new(b, m, p));
            }
        }
    }
    v
}

/// Load the scenario's cases in run order.
pub fn load_cases(a: &RunArgs) -> Result<(fcbench_scenarios::Scenario, Vec<Case>)> {
    let scenario = fcbench_scenarios::load(&a.scenario)?;
    let mut cases = scenario.cases.clone();
    if a.seed != 0 {
        fcbench_core::runner::shuffle_cases(&mut cases, a.seed);
    }
    if let Some(n) = a.limit {
        cases.truncate(n);
    }
    if cases.is_empty() {
        bail!("scenario `{}` has no cases to run", a.scenario);
    }
    Ok((scenario, cases))
}

/// What `execute` leaves behind.
pub struct RunOutcome {
    pub summary: RunSummary,
    pub manifest: Manifest,
    pub dir: PathBuf,
}

/// Load everything, run, and record. Used by `run` (with a progress bar) and the TUI (with a
/// channel); `stop` ends the run between calls.
pub fn execute(
    a: &RunArgs,
    observer: &mut dyn FnMut(RunEvent),
    stop: Arc<AtomicBool>,
) -> Result<RunOutcome> {
    let mut specs = arm_specs(a);
    // Call-level backends (recorded outputs, servers) open now: they name their own model,
    // and need no model file loaded here.
    let mut calls: Vec<Option<OpenedCalls>> = Vec::new();
    for s in &mut specs {
        let opened =
            open_calls(&s.backend, a).with_context(|| format!("backend `{}`", s.backend))?;
        if let Some(o) = &opened {
            s.model = o.model.clone();
        }
        calls.push(opened);
    }
    let (scenario, cases) = load_cases(a)?;
    let threads = a.engine.threads();
    let baseline = match &a.baseline {
        Some(b) => {
            if !specs.contains(b) {
                bail!(
                    "--baseline `{b}` is not one of the arms: {}",
                    specs
                        .iter()
                        .map(ArmId::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Some(b.clone())
        }
        None => specs
            .iter()
            .find(|s| s.protocol == Protocol::FunctionGemma)
            .cloned(),
    };
    let settings = RunSettings {
        mode: a.mode(),
        regime: a.regime,
        threads,
        repeat: a.repeat,
        warmup: a.warmup,
        limit: a.limit,
        seed: a.seed,
        max_head_tokens: a.max_head_tokens,
        content_head: a.content_head,
        map_markers: !a.no_marker_tokens,
        baseline_arm: baseline,
    };

    // Resolve every model first (a typo fails before any slow load), then load each distinct
    // (backend, model) once; every arm gets its own session.
    let token_arms = || specs.iter().zip(&calls).filter(|(_, c)| c.is_none());
    let mut resolved: BTreeMap<&str, ResolvedModel> = BTreeMap::new();
    for (s, _) in token_arms() {
        if !resolved.contains_key(s.model.as_str()) {
            let r = models::resolve(&s.model, &mut super::fetch_progress())
                .with_context(|| format!("model `{}`", s.model))?;
            resolved.insert(&s.model, r);
        }
    }
    let mut loaded: BTreeMap<(&str, &str), Box<dyn LoadedEngine>> = BTreeMap::new();
    for (s, _) in token_arms() {
        if let Entry::Vacant(slot) = loaded.entry((&s.backend, &s.model)) {
            let r = &resolved[s.model.as_str()];
            let m = crate::backends::load(&s.backend, r, &a.engine.options())
                .with_context(|| format!("loading {} on {}", r.path.display(), s.backend))?;
            for note in m.notes(r) {
                observer(RunEvent::Warning(note));
            }
            slot.insert(m);
        }
    }
    // shared prompt + content + function + six argument heads
    let session_opts = a.engine.session(a.ctx, 9);
    let mut sessions = specs
        .iter()
        .zip(&calls)
        .map(|(s, c)| match c {
            Some(_) => Ok(None),
            None => loaded[&(s.backend.as_str(), s.model.as_str())]
                .session(&session_opts)
                .map(Some),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let arms: Vec<Arm> = sessions
        .iter_mut()
        .zip(calls)
        .zip(&specs)
        .map(|((sess, call), s)| match (sess, call) {
            (_, Some(c)) => Arm::with_calls(s.clone(), c.backend),
            (Some(sess), None) => Arm::new(s.clone(), sess.as_mut(), &settings),
            (None, None) => unreachable!("every token-level arm has a session"),
        })
        .collect();
    for arm in &arms {
        let split: Vec<&str> = arm
            .info
            .markers
            .entries
            .iter()
            .filter(|e| e.how == fcbench_core::markers::MarkerHow::Split)
            .map(|e| e.marker.as_str())
            .collect();
        if settings.mode == DecodeMode::Forced && settings.map_markers && !split.is_empty() {
            observer(RunEvent::Warning(format!(
                "{}: no spare token left for {}; these markers cost several tokens each",
                arm.info.label,
                split.join(" ")
            )));
        }
    }

    let manifest = Manifest {
        schema: SCHEMA_VERSION,
        fcbench_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: Some(env!("FCBENCH_GIT_COMMIT").to_string()).filter(|s| !s.is_empty()),
        started_at: chrono_now(),
        machine: fcbench_core::machine::machine_info(),
        settings: settings.clone(),
        scenario: ScenarioInfo {
            name: scenario.meta.name.clone(),
            files: scenario.files.clone(),
            cases: cases.len(),
        },
        prompt_template_sha256: prompt_template_hashes(
            &specs.iter().map(|s| s.protocol).collect::<Vec<_>>(),
        ),
        arms: arms.iter().map(|a| a.info.clone()).collect(),
        args: std::env::args().collect(),
    };
    let label = sanitize(&scenario.meta.name);
    let mut dir = RunDir::create(a.out.as_deref(), &a.runs_dir, &label)?;
    let runner = Runner {
        arms,
        cases,
        settings,
        manifest: manifest.clone(),
        stop,
        observer,
    };
    let summary = runner.run(&mut dir)?;
    Ok(RunOutcome {
        summary,
        manifest,
        dir: dir.path().to_path_buf(),
    })
}

fn chrono_now() -> String {
    // RFC 3339, UTC; via the core's chrono so all timestamps look alike.
    fcbench_core::runner::now_rfc3339()
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Ctrl-C: the first asks the run to stop after the current call (results are written); the
/// second exits at once (everything up to the last finished call is already on disk).
pub fn install_ctrlc() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if s.swap(true, Ordering::SeqCst) {
            super::exit_now(130);
        }
        eprintln!("\nstopping after the current call; writing results (Ctrl-C again to quit now)");
    });
    stop
}

pub fn run(mut a: RunArgs) -> Result<ExitCode> {
    if let Some(line) = a.apply_api_defaults()? {
        eprintln!("{line}");
    }
    let stop = install_ctrlc();
    let bar = indicatif::ProgressBar::hidden();
    if !a.quiet {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} calls  ETA {eta}  {msg}",
        )
        .expect("valid template"),
    );
    let mut warnings = Vec::new();
    let mut observer = |e: RunEvent| match e {
        RunEvent::Started { cases, arms } => {
            bar.set_length((cases * arms.len()) as u64 * u64::from(a.repeat.max(1)));
        }
        RunEvent::Call(r) => {
            bar.inc(1);
            match r.status {
                CallStatus::Ok => bar.set_message(format!("{} {:.0} ms", r.arm, r.e2e_ms)),
                CallStatus::Failed => bar.println(format!(
                    "failed: {} on {}: {}",
                    r.arm,
                    r.case_id,
                    r.error.unwrap_or_default()
                )),
                CallStatus::Filtered => {}
            }
        }
        RunEvent::Warning(w) => {
            bar.println(format!("warning: {w}"));
            warnings.push(w);
        }
        _ => {}
    };
    let result = execute(&a, &mut observer, stop.clone());
    bar.finish_and_clear();
    let out = result?;
    print!(
        "{}",
        fcbench_reports::terminal::render(&out.summary, &out.manifest, a.layout())
    );
    print!(
        "{}",
        fcbench_reports::terminal::render_accuracy(&out.summary, a.layout())
    );
    if let Some(r) = fcbench_scenarios::load(&a.scenario)
        .ok()
        .and_then(|s| s.meta.published_reference)
    {
        print!(
            "{}",
            fcbench_reports::terminal::render_published_reference(&r)
        );
    }
    println!("run directory: {}", out.dir.display());
    if stop.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}
