//! Output formats for recorded runs. Every format reads the same records (`fcbench-core`'s
//! `record` module) through [`data`]; each lives in its own module: the `run` table
//! ([`terminal`]), the paper tables ([`markdown`], [`latex`], [`csv`], all built by [`table`]),
//! and the self-contained HTML report ([`html`], charts in [`charts`]).

pub mod charts;
pub mod csv;
pub mod data;
pub mod html;
pub mod latex;
pub mod load;
pub mod markdown;
pub mod table;
pub mod terminal;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Run(#[from] fcbench_core::rundir::RunDirError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {what}")]
    Parse {
        path: PathBuf,
        line: usize,
        what: String,
    },
    #[error("drawing a chart: {0}")]
    Chart(String),
    #[error("{0}")]
    Usage(String),
}

/// Load run directories (and an optional head sweep file) into report data. A directory with
/// a `load.json` (`fcbench load`) is read as a load sweep; one that also has a `manifest.json`
/// is read as a run directory too.
pub fn load(dirs: &[PathBuf], heads: Option<&Path>) -> Result<data::ReportData, ReportError> {
    if dirs.is_empty() {
        return Err(ReportError::Usage("no run directories given".into()));
    }
    let mut runs = Vec::new();
    let mut loads = Vec::new();
    for d in dirs {
        let is_load = load::is_load_dir(d);
        if is_load {
            loads.push(load::read(d, format!("L{}", loads.len() + 1))?);
        }
        if !is_load || d.join(fcbench_core::rundir::MANIFEST).is_file() {
            runs.push(fcbench_core::rundir::load_run(d)?);
        }
    }
    let sweep = heads.map(data::load_sweep).transpose()?;
    let mut data = data::build(&runs, sweep)?;
    data.loads = loads;
    Ok(data)
}
