//! A run directory: never overwrites an earlier run, appends and flushes every call, and keeps
//! `summary.json` current (atomically replaced) so an interrupted run still leaves valid results.

use crate::record::{CallRecord, Manifest, RunSummary};
use serde::Serialize;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error("{path}: already holds results of an earlier run; fcbench never overwrites a run (choose another --out, or omit it for a fresh directory)")]
    Exists { path: PathBuf },
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: io::Error },
    #[error("could not write {path}: {error}; the run stops here, and the results written before (whole lines of calls.jsonl, the last summary.json) are kept")]
    Write { path: PathBuf, error: io::Error },
    #[error("{path}:{line}: {what}")]
    Parse {
        path: PathBuf,
        line: usize,
        what: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RunDirError + '_ {
    move |error| RunDirError::Io {
        path: path.to_path_buf(),
        error,
    }
}

fn write_err(path: &Path) -> impl FnOnce(io::Error) -> RunDirError + '_ {
    move |error| RunDirError::Write {
        path: path.to_path_buf(),
        error,
    }
}

/// A record as JSON (serialising plain data cannot fail short of a bug; still an error, not a
/// panic, so a run never dies with half its results unsaved).
fn to_json(value: &impl Serialize, pretty: bool, path: &Path) -> Result<Vec<u8>, RunDirError> {
    let r = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    r.map_err(|e| write_err(path)(io::Error::other(e)))
}

pub struct RunDir {
    path: PathBuf,
    calls: File,
    /// Bytes of whole lines in `calls.jsonl`: a failed append is cut back to this.
    calls_len: u64,
}

pub const MANIFEST: &str = "manifest.json";
pub const CALLS: &str = "calls.jsonl";
pub const SUMMARY: &str = "summary.json";

impl RunDir {
    /// Create `dir` (which must not exist or be empty), or with `None` a fresh
    /// `runs/<UTC timestamp>-<label>` below `root`.
    pub fn create(dir: Option<&Path>, root: &Path, label: &str) -> Result<RunDir, RunDirError> {
        let path = match dir {
            Some(d) => {
                if d.exists() {
                    let empty = fs::read_dir(d).map_err(io_err(d))?.next().is_none();
                    if !empty {
                        return Err(RunDirError::Exists {
                            path: d.to_path_buf(),
                        });
                    }
                } else {
                    fs::create_dir_all(d).map_err(io_err(d))?;
                }
                d.to_path_buf()
            }
            None => {
                fs::create_dir_all(root).map_err(io_err(root))?;
                let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
                let mut n = 0;
                loop {
                    let name = if n == 0 {
                        format!("{stamp}-{label}")
                    } else {
                        format!("{stamp}-{label}-{n}")
                    };
                    let p = root.join(name);
                    // create_dir (not _all) fails if it exists: no two runs share a directory.
                    match fs::create_dir(&p) {
                        Ok(()) => break p,
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
                        Err(e) => return Err(io_err(&p)(e)),
                    }
                }
            }
        };
        let calls_path = path.join(CALLS);
        let calls = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&calls_path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => RunDirError::Exists { path: path.clone() },
                _ => io_err(&calls_path)(e),
            })?;
        Ok(RunDir {
            path,
            calls,
            calls_len: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write_manifest(&self, m: &Manifest) -> Result<(), RunDirError> {
        write_json_atomic(&self.path.join(MANIFEST), m)
    }

    /// Append one call and flush it to the OS, so a crash loses at most the call in flight.
    /// The line goes out in one `write_all`; if that fails part-way (a full disk), the file is
    /// cut back to its last whole line, so readers never meet half a record.
    pub fn append_call(&mut self, r: &CallRecord) -> Result<(), RunDirError> {
        let p = self.path.join(CALLS);
        let mut line = to_json(r, false, &p)?;
        line.push(b'\n');
        if let Err(e) = self
            .calls
            .write_all(&line)
            .and_then(|()| self.calls.flush())
        {
            // Best effort: the error that matters is the write's.
            let _ = self.calls.set_len(self.calls_len);
            return Err(write_err(&p)(e));
        }
        self.calls_len += line.len() as u64;
        Ok(())
    }

    pub fn write_summary(&self, s: &RunSummary) -> Result<(), RunDirError> {
        self.calls.sync_data().ok();
        write_json_atomic(&self.path.join(SUMMARY), s)
    }
}

/// Write to a temporary file and rename it over the target: readers never see half a file,
/// and when the write fails (a full disk) the previous file stays as it was.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), RunDirError> {
    let tmp = path.with_extension("json.tmp");
    let mut text = to_json(value, true, path)?;
    text.push(b'\n');
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(&text)?;
        f.sync_all()
    });
    if let Err(e) = written {
        // Leave no half file behind, and give the space back.
        let _ = fs::remove_file(&tmp);
        return Err(write_err(path)(e));
    }
    fs::rename(&tmp, path).map_err(write_err(path))
}

/// A recorded run, read back for reports and the gate.
pub struct LoadedRun {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub calls: Vec<CallRecord>,
    pub summary: Option<RunSummary>,
    /// What a reader must be told about the files (a cut-short last line); every reader
    /// (report, table, gate) shows these.
    pub warnings: Vec<String>,
}

pub fn load_run(dir: &Path) -> Result<LoadedRun, RunDirError> {
    let read_json = |name: &str| -> Result<Option<String>, RunDirError> {
        let p = dir.join(name);
        match fs::read_to_string(&p) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&p)(e)),
        }
    };
    let mpath = dir.join(MANIFEST);
    let manifest_text = read_json(MANIFEST)?.ok_or_else(|| RunDirError::Io {
        path: mpath.clone(),
        error: io::Error::new(
            io::ErrorKind::NotFound,
            "not a run directory (no manifest.json)",
        ),
    })?;
    let manifest = serde_json::from_str(&manifest_text).map_err(|e| RunDirError::Parse {
        path: mpath.clone(),
        line: e.line(),
        what: e.to_string(),
    })?;
    let summary = match read_json(SUMMARY)? {
        Some(t) => Some(serde_json::from_str(&t).map_err(|e| RunDirError::Parse {
            path: dir.join(SUMMARY),
            line: e.line(),
            what: e.to_string(),
        })?),
        None => None,
    };
    let cpath = dir.join(CALLS);
    let f = File::open(&cpath).map_err(io_err(&cpath))?;
    let mut calls = Vec::new();
    let mut warnings = Vec::new();
    let lines: Vec<String> = BufReader::new(f)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(io_err(&cpath))?;
    let last = lines.len();
    for (i, line) in lines.into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(&line) {
            Ok(r) => calls.push(r),
            // A crash can cut the very last line short; anything else is corruption.
            Err(e) if i + 1 == last => {
                warnings.push(format!(
                    "{}:{}: the last line is cut short (the run was killed while writing it?) and was left out: {e}",
                    cpath.display(),
                    i + 1
                ));
                break;
            }
            Err(e) => {
                return Err(RunDirError::Parse {
                    path: cpath,
                    line: i + 1,
                    what: e.to_string(),
                })
            }
        }
    }
    Ok(LoadedRun {
        path: dir.to_path_buf(),
        manifest,
        calls,
        summary,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_reuse_a_directory_with_results() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("run");
        let r = RunDir::create(Some(&d), tmp.path(), "x").unwrap();
        drop(r);
        assert!(matches!(
            RunDir::create(Some(&d), tmp.path(), "x"),
            Err(RunDirError::Exists { .. })
        ));
    }

    #[test]
    fn fresh_directories_never_collide() {
        let tmp = tempfile::tempdir().unwrap();
        let a = RunDir::create(None, tmp.path(), "x").unwrap();
        let b = RunDir::create(None, tmp.path(), "x").unwrap();
        assert_ne!(a.path(), b.path());
    }
}
