//! A small synthetic run directory written by the tests themselves (no model needed): three
//! arms with deterministic latencies, a baseline, and optionally accuracy and a head sweep.
#![allow(dead_code)]

use fcbench_core::arm::ArmId;
use fcbench_core::backend::BackendInfo;
use fcbench_core::protocol::Protocol;
use fcbench_core::record::*;
use fcbench_core::rundir::RunDir;
use fcbench_core::summary::summarise;
use fcbench_core::sweep::{HeadSweep, SweepPoint};
use std::path::{Path, PathBuf};

pub struct Spec {
    pub cases: usize,
    pub repeat: u32,
    pub mode: DecodeMode,
    pub accuracy: bool,
    pub scenario_sha: &'static str,
    /// Index into [`ARMS`] of an arm whose every call failed.
    pub failed_arm: Option<usize>,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            cases: 4,
            repeat: 2,
            mode: DecodeMode::Forced,
            accuracy: true,
            scenario_sha: "aa11",
            failed_arm: None,
        }
    }
}

pub const ARMS: [(Protocol, f64); 3] = [
    (Protocol::SimpleTool, 40.0),
    (Protocol::Json, 90.0),
    (Protocol::FunctionGemma, 120.0),
];

pub fn backend_info(quant: &str) -> BackendInfo {
    BackendInfo {
        name: "llama".into(),
        version: "llama-cpp-2 0.1.160".into(),
        build: "CPU AVX2".into(),
        model_path: "/models/gemma-3-270m-q4_k_m.gguf".into(),
        model_sha256: "0123abcd".into(),
        model_bytes: 253_000_000,
        architecture: "gemma3".into(),
        quantization: quant.into(),
        parameters: 268_000_000,
        context_size: 4096,
        max_sequences: 9,
        threads: 2,
        ..Default::default()
    }
}

fn label(p: Protocol) -> ArmId {
    ArmId::new("llama", "gemma3-270m", p)
}

pub fn manifest(spec: &Spec) -> Manifest {
    Manifest {
        schema: SCHEMA_VERSION,
        fcbench_version: "0.1.0".into(),
        git_commit: Some("abc1234".into()),
        started_at: "2026-01-01T00:00:00Z".into(),
        machine: MachineInfo {
            hostname: "testbox".into(),
            os: "Linux".into(),
            cpu_model: "Test CPU".into(),
            cpu_cores: 2,
            memory_bytes: 8 << 30,
            gpus: Vec::new(),
        },
        settings: RunSettings {
            mode: spec.mode,
            regime: CacheRegime::Prefix,
            threads: 2,
            repeat: spec.repeat,
            warmup: 1,
            limit: Some(spec.cases),
            seed: 0,
            max_head_tokens: 128,
            content_head: false,
            map_markers: true,
            baseline_arm: Some(label(Protocol::FunctionGemma)),
        },
        scenario: ScenarioInfo {
            name: "game".into(),
            files: vec![FileDigest {
                path: "scenarios/game.jsonl".into(),
                sha256: spec.scenario_sha.into(),
            }],
            cases: spec.cases,
        },
        arms: ARMS
            .iter()
            .map(|(p, _)| ArmInfo {
                label: label(*p),
                backend: "llama".into(),
                model: "gemma3-270m".into(),
                protocol: *p,
                backend_info: backend_info("q4_k_m"),
                markers: Default::default(),
            })
            .collect(),
        prompt_template_sha256: ARMS
            .iter()
            .map(|(p, _)| (p.name().to_string(), "feed".to_string()))
            .collect(),
        args: vec!["fcbench".into(), "run".into()],
    }
}

fn head(name: &str, tokens: usize) -> HeadRecord {
    HeadRecord {
        name: name.into(),
        text: String::new(),
        tokens,
        stop: StopReason::Marker,
        stop_marker: None,
        tail_tokens: 2,
        argmax_agreed: None,
    }
}

/// Deterministic pseudo-random latencies (an LCG: no dependency, same numbers everywhere).
pub fn calls(spec: &Spec) -> Vec<CallRecord> {
    let mut state: u64 = 0x1234_5678;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut out = Vec::new();
    for case in 0..spec.cases {
        for rep in 0..spec.repeat {
            for (i, (p, base)) in ARMS.into_iter().enumerate() {
                let failed = spec.failed_arm == Some(i);
                let e2e = base * (0.8 + 0.5 * next());
                let prefill = e2e * 0.3;
                let heads = if p == Protocol::SimpleTool {
                    vec![head("function", 3), head("arg1", 4), head("arg2", 2)]
                } else {
                    vec![head("call", 20)]
                };
                out.push(CallRecord {
                    case_id: format!("case-{case}"),
                    dataset: "game".into(),
                    arm: label(p),
                    protocol: p,
                    mode: spec.mode,
                    regime: CacheRegime::Prefix,
                    repeat: rep,
                    status: if failed {
                        CallStatus::Failed
                    } else {
                        CallStatus::Ok
                    },
                    error: failed.then(|| "engine error".to_string()),
                    prompt_tokens: 300,
                    cached_tokens: 250,
                    prefilled_tokens: 50,
                    heads,
                    prefill_ms: prefill,
                    decode_ms: e2e - prefill,
                    e2e_ms: e2e,
                    engine_ms: e2e * 0.98,
                    step_ms: vec![],
                    step_batch: vec![],
                    slot_utilisation: if p == Protocol::SimpleTool { 0.75 } else { 1.0 },
                    reference_tokens: None,
                    parsed: None,
                    parse_error: None,
                    verdict: None,
                    engine_reported_ms: None,
                    ttft_ms: None,
                });
            }
        }
    }
    out
}

fn accuracy(strict: usize, legacy: usize, scored: usize) -> AccuracySummary {
    let all = GroupAccuracy {
        group: "all".into(),
        input: scored,
        scored,
        strict,
        strict_function: strict,
        legacy,
        legacy_function: legacy,
        ..Default::default()
    };
    AccuracySummary {
        all,
        ..Default::default()
    }
}

pub fn summary(spec: &Spec, calls: &[CallRecord]) -> RunSummary {
    let m = manifest(spec);
    let labels: Vec<ArmId> = m.arms.iter().map(|a| a.label.clone()).collect();
    let mut arms = summarise(calls, &labels, m.settings.baseline_arm.as_ref());
    if spec.accuracy {
        let n = spec.cases;
        for (i, a) in arms.iter_mut().enumerate() {
            // simpletool 3/4, json 4/4, functiongemma 2/4 (of 4 cases).
            let strict = [n * 3 / 4, n, n / 2][i];
            a.accuracy = Some(accuracy(strict, strict.min(n), n));
        }
    }
    RunSummary {
        schema: SCHEMA_VERSION,
        complete: true,
        interrupted: None,
        updated_at: "2026-01-01T00:01:00Z".into(),
        mode: spec.mode,
        regime: CacheRegime::Prefix,
        baseline_arm: m.settings.baseline_arm.clone(),
        cases_total: spec.cases,
        cases_done: spec.cases,
        arms,
    }
}

/// Write a synthetic run into `dir` (which must not exist yet) and return its path.
pub fn write_run(dir: &Path, spec: &Spec) -> PathBuf {
    let mut rd = RunDir::create(Some(dir), dir, "synthetic").unwrap();
    rd.write_manifest(&manifest(spec)).unwrap();
    let calls = calls(spec);
    for c in &calls {
        rd.append_call(c).unwrap();
    }
    rd.write_summary(&summary(spec, &calls)).unwrap();
    dir.to_path_buf()
}

pub fn sweep() -> HeadSweep {
    let ms = [10.0, 10.4, 11.0, 11.9, 12.5, 13.4, 14.0, 15.1];
    HeadSweep {
        context_tokens: 512,
        backend: backend_info("q4_k_m"),
        options: None,
        stability: None,
        points: ms
            .iter()
            .enumerate()
            .map(|(i, &m)| SweepPoint {
                heads: i + 1,
                median_step_ms: m,
                p95_step_ms: m * 1.1,
                step_efficiency: 10.0 / m,
                parallel_overhead: m / 10.0 - 1.0,
                samples: 30,
                round_medians_ms: Vec::new(),
            })
            .collect(),
    }
}
