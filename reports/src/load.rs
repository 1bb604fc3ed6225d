//! Load sweeps (`fcbench load`'s `load.json`): per level P50, P95 and max latency, achieved
//! calls/s, failed calls and goodput against the SLO the sweep stated, as paper tables
//! (Markdown, LaTeX, CSV) and as the HTML report's "Load sweep" section.

use crate::table::{exporter, fixed, render, Entry, Grid, TableFormat, Value};
use crate::ReportError;
use fcbench_core::record::{LoadLevel, LoadReport, LOAD_FILE};
use std::path::{Path, PathBuf};

/// One load directory.
#[derive(Debug, Clone)]
pub struct LoadRun {
    /// `L1`, `L2`, … in the order given.
    pub tag: String,
    pub path: PathBuf,
    pub report: LoadReport,
}

/// Whether `dir` holds a load sweep.
pub fn is_load_dir(dir: &Path) -> bool {
    dir.join(LOAD_FILE).is_file()
}

/// Read `DIR/load.json`.
pub fn read(dir: &Path, tag: String) -> Result<LoadRun, ReportError> {
    let path = dir.join(LOAD_FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| ReportError::Io {
        path: path.clone(),
        source,
    })?;
    let report: LoadReport = serde_json::from_str(&text).map_err(|e| ReportError::Parse {
        path: path.clone(),
        line: e.line(),
        what: e.to_string(),
    })?;
    if !(report.slo_ms > 0.0 && report.slo_ms.is_finite()) {
        return Err(ReportError::Parse {
            path,
            line: 1,
            what: format!("slo_ms: {} is not a positive number", report.slo_ms),
        });
    }
    Ok(LoadRun {
        tag,
        path: dir.to_path_buf(),
        report,
    })
}

/// Column headers of the Markdown, LaTeX and HTML tables.
const HEADERS: [&str; 10] = [
    "Level",
    "Calls",
    "OK",
    "Failed",
    "P50 (ms)",
    "P95 (ms)",
    "Max (ms)",
    "Achieved (calls/s)",
    "Goodput (%)",
    "Goodput (calls/s)",
];

const CSV_HEADERS: [&str; 13] = [
    "run",
    "level_kind",
    "level",
    "calls",
    "ok",
    "failed",
    "p50_ms",
    "p95_ms",
    "max_ms",
    "achieved_per_s",
    "goodput_share",
    "goodput_per_s",
    "slo_ms",
];

/// States what was loaded, how, against which budget and on what, so a pasted table says what
/// it measured.
pub fn caption(run: &LoadRun) -> String {
    let r = &run.report;
    format!(
        "{}: load sweep of `{}` ({} API at {}) on scenario `{}` ({} cases), {} decoding; goodput = successful calls within the {} ms SLO; at most {} calls and {} s per level; client on {} ({} cores). Latency is client-side over successful calls.",
        run.tag,
        r.model,
        r.api,
        r.url,
        r.scenario,
        r.cases,
        r.mode,
        r.slo_ms,
        r.calls_per_level,
        r.max_seconds_per_level,
        r.machine.cpu_model,
        r.machine.cpu_cores
    )
}

/// A number for Markdown/LaTeX/HTML; a level with no successful call has none.
fn num(x: f64, digits: usize) -> Option<String> {
    x.is_finite().then(|| fixed(x, digits))
}

/// One load directory's table, numbers rounded (Markdown, LaTeX, HTML).
pub fn grid(run: &LoadRun, digits: usize) -> Grid {
    let rate = digits.max(2);
    let rows = run.report.levels.iter().map(|l| {
        [
            Some(l.level.to_string()),
            Some(l.calls.to_string()),
            Some(l.ok.to_string()),
            Some(l.failed.to_string()),
            num(l.p50_ms, digits),
            num(l.p95_ms, digits),
            num(l.max_ms, digits),
            num(l.achieved_per_s, rate),
            num(l.goodput_share * 100.0, digits),
            num(l.goodput_per_s, rate),
        ]
        .map(|c| c.map_or(Entry::Value(Value::Missing), Entry::Text))
        .to_vec()
    });
    Grid {
        caption: caption(run),
        rows: rows.collect(),
        ..Grid::of(&HEADERS, vec![])
    }
}

/// Every level of every run in one table, full precision, with a `run` column (CSV).
fn csv_grid(runs: &[LoadRun]) -> Grid {
    let mut g = Grid::of(&CSV_HEADERS, vec![]);
    for run in runs {
        for l in &run.report.levels {
            let (kind, level) = match l.level {
                LoadLevel::Concurrency(n) => ("concurrency", n.to_string()),
                LoadLevel::Rate(r) => ("rate", r.to_string()),
            };
            let text = [run.tag.clone(), kind.into(), level].map(Entry::Text);
            let counts = [l.calls, l.ok, l.failed].map(Value::Count);
            let nums = [
                l.p50_ms,
                l.p95_ms,
                l.max_ms,
                l.achieved_per_s,
                l.goodput_share,
                l.goodput_per_s,
                run.report.slo_ms,
            ]
            .map(Value::Num);
            let values = counts.into_iter().chain(nums).map(Entry::Value);
            g.rows.push(text.into_iter().chain(values).collect());
        }
    }
    g
}

/// One table per load directory in `format` (CSV: one table, full precision, a `run` column).
pub fn export(runs: &[LoadRun], format: TableFormat, digits: usize) -> String {
    let m = exporter(format);
    match format {
        TableFormat::Csv => render(m, &csv_grid(runs)),
        _ => runs
            .iter()
            .map(|run| render(m, &grid(run, digits)))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fcbench_core::record::LoadLevelResult;

    #[test]
    fn a_level_without_successful_calls_round_trips_as_missing() {
        let l = LoadLevelResult {
            level: LoadLevel::Rate(5.0),
            calls: 3,
            ok: 0,
            failed: 3,
            p50_ms: f64::NAN,
            p95_ms: f64::NAN,
            max_ms: f64::NAN,
            achieved_per_s: 0.0,
            goodput_share: 0.0,
            goodput_per_s: 0.0,
            wall_s: 1.0,
            server_p50_ms: None,
            first_error: Some("refused".into()),
        };
        let json = serde_json::to_string(&l).unwrap();
        assert!(json.contains("\"p50_ms\":null"), "{json}");
        let back: LoadLevelResult = serde_json::from_str(&json).unwrap();
        assert!(back.p50_ms.is_nan() && back.max_ms.is_nan());
        assert_eq!(num(back.p50_ms, 1), None);
    }
}
