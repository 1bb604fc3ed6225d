//! `fcbench report`: one self-contained HTML file (inline SVG charts and tables) from recorded
//! run directories; nothing is re-run.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Run directories (written by `fcbench run`; several are compared side by side) or load
    /// directories (`fcbench load`).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where to write the HTML report.
    #[arg(short, long, default_value = "report.html")]
    pub out: PathBuf,
    /// A head sweep (`fcbench heads --out FILE`) to include; a run directory's own
    /// `heads.json` is picked up without this.
    #[arg(long)]
    pub heads: Option<PathBuf>,
    /// Title of the report.
    #[arg(long, default_value = "fcbench report")]
    pub title: String,
}

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    let data = fcbench_reports::load(&a.runs, a.heads.as_deref())?;
    for w in &data.warnings {
        eprintln!("warning: {w}");
    }
    let html = fcbench_reports::html::render(&data, &a.title)?;
    std::fs::write(&a.out, html).with_context(|| format!("writing {}", a.out.display()))?;
    println!("written: {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
