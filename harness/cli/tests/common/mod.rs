//! Shared by the CLI's integration tests.

use fcbench_core::record::CallRecord;
use std::path::Path;

/// Every line of a run's `calls.jsonl`, strictly: a line that does not parse fails the test
/// (the library's loader forgives a cut-short last line; a finished run must not have one).
pub fn read_calls(dir: &Path) -> Vec<CallRecord> {
    std::fs::read_to_string(dir.join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
