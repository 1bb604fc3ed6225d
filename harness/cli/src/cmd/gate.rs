//! `fcbench gate`: fail CI on a latency or accuracy regression, and only when the statistics
//! support it. Exit 0 pass, 1 regression, 2 not comparable (or bad input).

use anyhow::{bail, Context, Result};
use fcbench_core::rundir::load_run;
use fcbench_gate::{gate, parse_percent, parse_points, GateInput, Outcome, Thresholds};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateFormat {
    /// A pull-request comment: one table row per check with ✅/❌.
    Markdown,
    /// JUnit XML for CI test reporting.
    Junit,
    /// The full verdict as JSON.
    Json,
}

#[derive(clap::Args, Debug)]
pub struct GateArgs {
    /// The run to compare against (a run directory). With --reference too, the in-run ratio to
    /// the reference arm is compared between the two runs.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// The run under test (a run directory).
    #[arg(long)]
    pub candidate: PathBuf,
    /// Gate every other arm on its latency ratio to this arm, measured interleaved in the same
    /// run (robust to machine drift). A full label or its last part, e.g. `functiongemma`.
    #[arg(long)]
    pub reference: Option<String>,
    /// Largest tolerated P50 latency increase.
    #[arg(long, default_value = "5%", value_parser = parse_percent)]
    pub max_p50_regression: f64,
    /// Largest tolerated P95 latency increase.
    #[arg(long, default_value = "10%", value_parser = parse_percent)]
    pub max_p95_regression: f64,
    /// Largest tolerated drop of strict accuracy, in percentage points.
    #[arg(long, default_value = "0.5pp", value_parser = parse_points)]
    pub max_accuracy_drop: f64,
    /// Slowest acceptable call rate at P50 (calls per second), if any.
    #[arg(long)]
    pub min_hz: Option<f64>,
    /// Gate a candidate even when its timings are flagged unstable (repeats of a case that
    /// disagree, a heavy tail: a busy machine); by default such a candidate is "not comparable".
    #[arg(long)]
    pub allow_unstable: bool,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: GateFormat,
    /// Write the report here instead of stdout (a one-line verdict still goes to stderr).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: GateArgs) -> Result<ExitCode> {
    if a.baseline.is_none() && a.reference.is_none() {
        bail!("give --baseline RUN_DIR, --reference ARM, or both");
    }
    let candidate =
        load_run(&a.candidate).with_context(|| format!("candidate {}", a.candidate.display()))?;
    let baseline = a
        .baseline
        .as_deref()
        .map(|p| load_run(p).with_context(|| format!("baseline {}", p.display())))
        .transpose()?;
    let thresholds = Thresholds {
        max_p50_regression: a.max_p50_regression,
        max_p95_regression: a.max_p95_regression,
        max_accuracy_drop_pp: a.max_accuracy_drop,
        min_hz: a.min_hz,
        allow_unstable: a.allow_unstable,
    };
    let report = gate(
        &GateInput {
            baseline: baseline.as_ref(),
            candidate: &candidate,
            reference: a.reference.as_deref(),
        },
        &thresholds,
    );
    let text = match a.format {
        GateFormat::Markdown => fcbench_gate::markdown(&report),
        GateFormat::Junit => fcbench_gate::junit(&report),
        GateFormat::Json => report.json(),
    };
    match &a.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            let failed = report
                .checks
                .iter()
                .filter(|c| c.status == fcbench_gate::CheckStatus::Fail)
                .count();
            eprintln!(
                "fcbench gate: {} ({} checks, {failed} failed{}) → {}",
                report.outcome.headline(),
                report.checks.len(),
                if report.outcome == Outcome::NotComparable {
                    format!("; {}", report.not_comparable.join("; "))
                } else {
                    String::new()
                },
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::from(report.outcome.exit_code()))
}
