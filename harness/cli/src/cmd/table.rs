//! `fcbench table`: paper-ready latency tables (LaTeX, Markdown, CSV) from recorded run
//! directories. Runs that measured different things get separate tables, with a warning.

use anyhow::{Context, Result};
use fcbench_reports::table::{self, Column, TableFormat};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct TableArgs {
    /// Run directories (written by `fcbench run`) or load directories (`fcbench load`).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// latex (booktabs), markdown (GitHub) or csv.
    #[arg(long, short, default_value = "markdown")]
    pub format: TableFormat,
    /// Columns, comma-separated: p50, p95, mean, hz, speedup, head-eff, slot-util, strict,
    /// legacy, tokens, n.
    #[arg(long, value_delimiter = ',', default_values_t = Column::DEFAULT)]
    pub columns: Vec<Column>,
    /// Decimal places (CSV always writes full precision).
    #[arg(long, default_value_t = 1)]
    pub digits: usize,
    /// Bold the best value of each column (LaTeX, Markdown).
    #[arg(long)]
    pub bold_best: bool,
    /// A head sweep (`fcbench heads --out FILE`) for the head-eff column, when a run directory
    /// has no `heads.json`.
    #[arg(long)]
    pub heads: Option<PathBuf>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

pub fn run(a: TableArgs) -> Result<ExitCode> {
    let data = fcbench_reports::load(&a.runs, a.heads.as_deref())?;
    for w in &data.warnings {
        eprintln!("warning: {w}");
    }
    let exporter = table::exporter(a.format);
    let mut out = String::new();
    for (i, g) in data.groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let t = table::build(g, &a.columns, a.digits, a.bold_best)?;
        out.push_str(&exporter.export(&t));
    }
    if !data.loads.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&fcbench_reports::load::export(
            &data.loads,
            a.format,
            a.digits,
        ));
    }
    match &a.out {
        Some(p) => {
            std::fs::write(p, &out).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("written: {}", p.display());
        }
        None => print!("{out}"),
    }
    Ok(ExitCode::SUCCESS)
}
