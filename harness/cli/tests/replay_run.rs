//! `fcbench run --backend replay`: recorded SimpleTool heads re-scored end to end by the real
//! binary; the accuracy table must show the reproduction's published numbers. Skips (with a
//! reason) when the fixtures are absent (`FCBENCH_REPRO_DIR`, default
//! `<workspace>/../shared/data/simpletool-repro`).

use assert_cmd::Command;
use fcbench_core::record::{CallRecord, RunSummary};

#[test]
fn replay_prints_the_published_exec_simple_accuracy() {
    let Some(repro) = fcbench_core::agreement::repro_fixtures_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let out = Command::cargo_bin("fcbench")
        .unwrap()
        .args(["run", "--backend", "replay", "--recorded"])
        .arg(repro.join("results/RT-Qwen3-4B-eager/BFCL_v3_exec_simple_dataset.jsonl"))
        .args([
            "--scenario",
            "bfcl-exec-simple",
            "--protocol",
            "simpletool",
            "--repeat",
            "1",
            "--warmup",
            "0",
            "-q",
        ])
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains("replay/RT-Qwen3-4B-eager/simpletool"),
        "{stdout}"
    );
    // Published: strict 89.00% (function 100%), legacy 91.00% (function 100%).
    assert!(stdout.contains("89 89.00%"), "{stdout}");
    assert!(stdout.contains("91 91.00%"), "{stdout}");
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let acc = summary.arms[0].accuracy.as_ref().unwrap();
    assert_eq!(
        (
            acc.all.input,
            acc.all.scored,
            acc.all.strict,
            acc.all.legacy
        ),
        (100, 100, 89, 91)
    );
    let calls: Vec<CallRecord> = std::fs::read_to_string(dir.join("calls.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(calls.len(), 100);
    assert!(calls
        .iter()
        .all(|c| c.parsed.is_some() && c.verdict.is_some()));
}

#[test]
fn replay_without_recorded_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("fcbench")
        .unwrap()
        .args([
            "run",
            "--backend",
            "replay",
            "--protocol",
            "simpletool",
            "-q",
        ])
        .arg("--runs-dir")
        .arg(tmp.path())
        .assert()
        .failure()
        .stderr(predicates::str::contains("--recorded"));
}
