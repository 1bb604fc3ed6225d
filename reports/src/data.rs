//! What every report format shows, computed once from recorded run directories (never by
//! re-running): per-arm summaries recomputed from `calls.jsonl` with the core's `summarise`
//! (so tables and charts show the same numbers as `fcbench run`), latency percentiles with
//! bootstrap intervals, per-head token counts, and the head sweep when one is present.
//! Runs that measured different things (other scenario files, other decode modes) are kept in
//! separate groups: compared side by side, never averaged.

use crate::ReportError;
use fcbench_core::arm::ArmId;
use fcbench_core::record::{
    AccuracySummary, ArmSummary, CallRecord, CallStatus, DecodeMode, Manifest,
};
use fcbench_core::rundir::LoadedRun;
use fcbench_core::stats::bootstrap_ci;
use fcbench_core::summary::summarise;
use fcbench_core::sweep::HeadSweep;
use std::path::{Path, PathBuf};

/// File name of a head sweep (`fcbench heads --out`) stored inside a run directory.
pub const HEADS_FILE: &str = "heads.json";

/// Real-time deadlines drawn on every latency chart: 10 Hz and 16 Hz.
pub const DEADLINES_MS: [(f64, &str); 2] = [(100.0, "10 Hz (100 ms)"), (62.5, "16 Hz (62.5 ms)")];

/// Resamples for the bootstrap intervals of P50 and P95 (the same count `ratio_estimate`
/// uses for speed-ups).
const RESAMPLES: usize = 2000;

/// Nearest-rank percentile without sorting the whole resample (O(n) selection instead of
/// O(n log n)); the same value as `stats::percentile_sorted` on the sorted data.
pub fn percentile_select(xs: &[f64], p: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    let k = rank.clamp(1, v.len()) - 1;
    *v.select_nth_unstable_by(k, f64::total_cmp).1
}

/// One arm of one run.
#[derive(Debug, Clone)]
pub struct ArmView {
    /// The arm as recorded; the fields below are its parts as tables print them.
    pub label: ArmId,
    pub model: String,
    pub backend: String,
    pub protocol: String,
    pub quantization: String,
    /// Recomputed from the calls; accuracy taken from `summary.json` when the recompute has
    /// none.
    pub summary: ArmSummary,
    /// Successful calls' end-to-end latencies, sorted ascending.
    pub e2e_sorted: Vec<f64>,
    pub p50_ci: (f64, f64),
    pub p95_ci: (f64, f64),
    /// Mean tokens per head name over the calls in which that head ran, in first-seen order.
    pub head_tokens: Vec<(String, f64)>,
    pub is_baseline: bool,
    /// Step efficiency of the matching head sweep at this arm's mean head count (parallel
    /// protocols with two or more heads only).
    pub head_efficiency: Option<f64>,
}

/// The accelerator(s) an arm ran on (`CUDA0`), or `None` on the CPU: shown beside the backend
/// in every table, so a CPU and a GPU run of the same arm read apart.
pub fn device_label(info: &fcbench_core::backend::BackendInfo) -> Option<String> {
    let p = info.placement.as_ref().filter(|p| p.uses_accelerator())?;
    Some(
        p.accelerators()
            .map(|d| d.split(':').next().unwrap_or(d))
            .collect::<Vec<_>>()
            .join("+"),
    )
}

impl ArmView {
    /// `model · backend · protocol`, the row name in every table.
    pub fn name(&self) -> String {
        format!("{} · {} · {}", self.model, self.backend, self.protocol)
    }

    pub fn accuracy(&self) -> Option<&AccuracySummary> {
        self.summary.accuracy.as_ref()
    }

    /// Strict and legacy accuracy (shares of scored rows), when scored.
    pub fn strict_legacy(&self) -> Option<(f64, f64)> {
        let a = &self.accuracy()?.all;
        (a.scored > 0).then(|| (a.rate(a.strict), a.rate(a.legacy)))
    }
}

/// One run directory.
#[derive(Debug, Clone)]
pub struct RunView {
    pub path: PathBuf,
    /// Short tag used in legends when several runs are compared (`R1`, `R2`, …).
    pub tag: String,
    pub manifest: Manifest,
    pub complete: bool,
    pub interrupted: Option<String>,
    pub arms: Vec<ArmView>,
    pub sweep: Option<HeadSweep>,
    /// Recomputed numbers that differ from the run's own `summary.json`.
    pub mismatches: Vec<String>,
}

impl RunView {
    pub fn mode(&self) -> DecodeMode {
        self.manifest.settings.mode
    }
}

/// Runs that measured the same thing: same scenario files (by SHA-256) and decode mode.
#[derive(Debug, Clone)]
pub struct Group {
    pub scenario: String,
    pub mode: DecodeMode,
    pub runs: Vec<RunView>,
}

impl Group {
    /// Every arm of every run, with its run.
    pub fn rows(&self) -> impl Iterator<Item = (&RunView, &ArmView)> {
        self.runs
            .iter()
            .flat_map(|r| r.arms.iter().map(move |a| (r, a)))
    }

    /// Row label for charts: the arm's name, prefixed by the run tag when several runs share
    /// the group.
    pub fn row_label(&self, run: &RunView, arm: &ArmView) -> String {
        if self.runs.len() > 1 {
            format!("{} {}", run.tag, arm.name())
        } else {
            arm.name()
        }
    }
}

/// Everything a report shows.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub groups: Vec<Group>,
    /// Head sweeps: each from a run directory's `heads.json` or from `--heads`.
    pub sweeps: Vec<(String, HeadSweep)>,
    /// Load sweeps (`load.json`), shown in their own section.
    pub loads: Vec<crate::load::LoadRun>,
    pub warnings: Vec<String>,
}

/// Read a head sweep written by `fcbench heads --out`.
pub fn load_sweep(path: &Path) -> Result<HeadSweep, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        path: path.to_path_buf(),
        line: e.line(),
        what: e.to_string(),
    })
}

fn scenario_key(m: &Manifest) -> String {
    let mut digests: Vec<&str> = m.scenario.files.iter().map(|f| f.sha256.as_str()).collect();
    digests.sort_unstable();
    format!("{}|{}", m.scenario.name, digests.join(","))
}

/// Mean tokens per head name, in first-seen order.
fn head_tokens(calls: &[&CallRecord]) -> Vec<(String, f64)> {
    let mut acc: Vec<(String, usize, usize)> = Vec::new();
    for c in calls.iter().filter(|c| c.status == CallStatus::Ok) {
        for h in &c.heads {
            match acc.iter_mut().find(|(n, _, _)| *n == h.name) {
                Some(e) => {
                    e.1 += h.tokens;
                    e.2 += 1;
                }
                None => acc.push((h.name.clone(), h.tokens, 1)),
            }
        }
    }
    acc.into_iter()
        .map(|(n, t, k)| (n, t as f64 / k as f64))
        .collect()
}

fn sweep_efficiency(sweep: &HeadSweep, heads: f64) -> Option<f64> {
    let n = heads.round().max(1.0) as usize;
    sweep
        .points
        .iter()
        .find(|p| p.heads == n)
        .map(|p| p.step_efficiency)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0) || (a.is_nan() && b.is_nan())
}

/// Build one run's view. `extra_sweep` (from `--heads`) is used when the run directory has no
/// `heads.json` of its own.
pub fn run_view(
    run: &LoadedRun,
    tag: String,
    extra_sweep: Option<&HeadSweep>,
) -> Result<RunView, ReportError> {
    let own_sweep_path = run.path.join(HEADS_FILE);
    let own_sweep = if own_sweep_path.exists() {
        Some(load_sweep(&own_sweep_path)?)
    } else {
        None
    };
    let sweep = own_sweep.or_else(|| extra_sweep.cloned());
    let m = &run.manifest;
    let baseline = m.settings.baseline_arm.as_ref();
    // Arms are independent: summarise each on its own thread (the bootstrap intervals are
    // the cost; on a 10,000-call run this halves the time on two cores).
    let one_arm = |info: &fcbench_core::record::ArmInfo| {
        let mut s = summarise(&run.calls, std::slice::from_ref(&info.label), baseline)
            .pop()
            .expect("one summary per arm");
        let mut mismatches = Vec::new();
        let stored = run
            .summary
            .as_ref()
            .and_then(|st| st.arms.iter().find(|a| a.arm == info.label));
        if let Some(st) = stored {
            if s.accuracy.is_none() {
                s.accuracy = st.accuracy.clone();
            }
            let pairs = [
                ("P50", s.e2e.p50, st.e2e.p50),
                ("P95", s.e2e.p95, st.e2e.p95),
                ("mean", s.e2e.mean, st.e2e.mean),
            ];
            for (what, mine, theirs) in pairs {
                if s.e2e.n == st.e2e.n && !close(mine, theirs) {
                    mismatches.push(format!(
                        "{}: {what} recomputed {mine:.3} ms, summary.json says {theirs:.3} ms",
                        info.label
                    ));
                }
            }
        }
        let recs: Vec<&CallRecord> = run.calls.iter().filter(|c| c.arm == info.label).collect();
        let mut e2e: Vec<f64> = recs
            .iter()
            .filter(|c| c.status == CallStatus::Ok)
            .map(|c| c.e2e_ms)
            .collect();
        e2e.sort_by(f64::total_cmp);
        // Seeded like the speed-up interval, so a report is reproducible.
        let p50_ci = bootstrap_ci(&e2e, |x| percentile_select(x, 50.0), RESAMPLES, 0x5eed);
        let p95_ci = bootstrap_ci(&e2e, |x| percentile_select(x, 95.0), RESAMPLES, 0x5eed);
        let head_efficiency = sweep
            .as_ref()
            .filter(|sw| {
                sw.backend.model_sha256 == info.backend_info.model_sha256
                    && sw.backend.name == info.backend_info.name
                    // A GPU curve says nothing about a CPU arm, and the reverse.
                    && device_label(&sw.backend) == device_label(&info.backend_info)
                    && info.protocol.parallel()
                    // One head has no parallel cost to measure.
                    && s.mean_heads.round() >= 2.0
            })
            .and_then(|sw| sweep_efficiency(sw, s.mean_heads));
        let view = ArmView {
            label: info.label.clone(),
            model: info.model.clone(),
            backend: match device_label(&info.backend_info) {
                Some(dev) => format!("{} ({dev})", info.backend),
                None => info.backend.clone(),
            },
            protocol: info.protocol.name().to_string(),
            quantization: info.backend_info.quantization.clone(),
            head_tokens: head_tokens(&recs),
            is_baseline: baseline == Some(&info.label),
            head_efficiency,
            p50_ci,
            p95_ci,
            e2e_sorted: e2e,
            summary: s,
        };
        (view, mismatches)
    };
    let per_arm: Vec<(ArmView, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = m
            .arms
            .iter()
            .map(|info| scope.spawn(move || one_arm(info)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("summarising an arm panicked"))
            .collect()
    });
    let mut arms = Vec::new();
    let mut mismatches = Vec::new();
    for (view, mism) in per_arm {
        arms.push(view);
        mismatches.extend(mism);
    }
    let (complete, interrupted) = match &run.summary {
        Some(s) => (s.complete, s.interrupted.clone()),
        None => (false, Some("no summary.json".into())),
    };
    Ok(RunView {
        path: run.path.clone(),
        tag,
        manifest: run.manifest.clone(),
        complete,
        interrupted,
        arms,
        sweep,
        mismatches,
    })
}

/// Group runs that are comparable and collect the warnings a reader must see.
pub fn build(
    runs: &[LoadedRun],
    extra_sweep: Option<HeadSweep>,
) -> Result<ReportData, ReportError> {
    let mut groups: Vec<(String, Group)> = Vec::new();
    let mut warnings = Vec::new();
    let mut sweeps = Vec::new();
    if let Some(s) = &extra_sweep {
        if let Some(w) = HeadSweep::assess(&s.points).warning() {
            warnings.push(format!("--heads: head sweep: {w}"));
        }
        sweeps.push(("--heads".to_string(), s.clone()));
    }
    for (i, run) in runs.iter().enumerate() {
        let view = run_view(run, format!("R{}", i + 1), extra_sweep.as_ref())?;
        if !view.complete {
            warnings.push(format!(
                "{} ({}): incomplete run: {}",
                view.tag,
                view.path.display(),
                view.interrupted.as_deref().unwrap_or("interrupted")
            ));
        }
        for m in view.mismatches.iter().chain(&run.warnings) {
            warnings.push(format!("{} ({}): {m}", view.tag, view.path.display()));
        }
        for a in &view.arms {
            if let Some(w) = a.summary.stability.as_ref().and_then(|s| s.warning()) {
                warnings.push(format!(
                    "{} ({}): {}: {w}",
                    view.tag,
                    view.path.display(),
                    a.label
                ));
            }
        }
        for a in view.arms.iter().filter(|a| a.summary.calls_ok == 0) {
            warnings.push(format!(
                "{} ({}): {}: no successful calls ({} failed, {} filtered); its cells are empty",
                view.tag,
                view.path.display(),
                a.label,
                a.summary.calls_failed,
                a.summary.cases_filtered
            ));
        }
        if let Some(sw) = &view.sweep {
            // The run's own heads.json; a `--heads` sweep is warned about once, above.
            if run.path.join(HEADS_FILE).exists() {
                if let Some(w) = HeadSweep::assess(&sw.points).warning() {
                    warnings.push(format!(
                        "{} ({}) head sweep: {w}",
                        view.tag,
                        view.path.display()
                    ));
                }
                sweeps.push((format!("{} {}", view.tag, HEADS_FILE), sw.clone()));
            }
        }
        let key = format!("{}|{}", scenario_key(&view.manifest), view.mode());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.runs.push(view),
            None => groups.push((
                key,
                Group {
                    scenario: view.manifest.scenario.name.clone(),
                    mode: view.mode(),
                    runs: vec![view],
                },
            )),
        }
    }
    if groups.len() > 1 {
        let desc: Vec<String> = groups
            .iter()
            .map(|(_, g)| {
                format!(
                    "{} ({} mode: {})",
                    g.scenario,
                    g.mode,
                    g.runs
                        .iter()
                        .map(|r| r.tag.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        warnings.push(format!(
            "these runs measured different things (scenario files or decode mode differ) and are shown apart, never averaged: {}",
            desc.join("; ")
        ));
    }
    for (_, g) in &groups {
        let regimes: std::collections::BTreeSet<String> = g
            .runs
            .iter()
            .map(|r| r.manifest.settings.regime.to_string())
            .collect();
        if regimes.len() > 1 {
            warnings.push(format!(
                "{}: runs use different cache regimes ({}); compare their latencies with care",
                g.scenario,
                regimes.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(ReportData {
        groups: groups.into_iter().map(|(_, g)| g).collect(),
        sweeps,
        loads: Vec::new(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fcbench_core::stats::percentile_sorted;

    #[test]
    fn selection_percentile_equals_nearest_rank() {
        let xs: Vec<f64> = (0..101).map(|i| ((i * 37) % 101) as f64 * 0.5).collect();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        for p in [1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 100.0] {
            assert_eq!(percentile_select(&xs, p), percentile_sorted(&sorted, p));
        }
        assert!(percentile_select(&[], 50.0).is_nan());
    }
}
