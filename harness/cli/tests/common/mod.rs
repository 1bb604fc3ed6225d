//! Shared by the CLI's integration tests.

use fcbench_core::record::CallRecord;
use std::path::Path;

/// Every line of a run's `calls.jsonl`, strictly: a line that does not parse fails the test
/// (the library's loader forgives a cut-short last line; a finished run must not have one).
#[allow(dead_code)] // not every test file reads a run
pub fn read_calls(dir: &Path) -> Vec<CallRecord> {
    std::fs::read_to_string(dir.join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `fcbench serve` on the small model with one thread, a 2048-token context and an ephemeral
/// port: what the CLI's server tests start (add their own flags, pipes and process group).
#[allow(dead_code)] // not every test file starts a server
pub fn serve_smollm2() -> std::process::Command {
    use assert_cmd::cargo::CommandCargoExt;
    let mut c = std::process::Command::cargo_bin("fcbench").unwrap();
    c.args([
        "serve",
        "--model",
        "smollm2",
        "--port",
        "0",
        "--threads",
        "1",
    ])
    .args(["--ctx", "2048"]);
    c
}

/// The URL a started server prints as its first line (`listening on URL`); its stdout must be
/// piped.
#[allow(dead_code)]
pub fn listening_url(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string()
}
