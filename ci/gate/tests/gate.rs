//! The gate on synthetic runs with known shifts and known noise, plus its three output formats.

use fcbench_core::backend::BackendInfo;
use fcbench_core::protocol::Protocol;
use fcbench_core::record::{
    ArmInfo, CacheRegime, CallRecord, CallStatus, DecodeMode, FileDigest, MachineInfo, Manifest,
    RunSettings, ScenarioInfo, Verdict, SCHEMA_VERSION,
};
use fcbench_core::rundir::LoadedRun;
use fcbench_gate::{gate, CheckKind, CheckStatus, GateInput, Outcome, Thresholds};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};
use std::path::PathBuf;

const REF: &str = "llama/m/functiongemma";
const ARM: &str = "llama/m/simpletool";

fn arm_info(label: &str, model_sha: &str) -> ArmInfo {
    let protocol = label.rsplit('/').next().unwrap().parse().unwrap();
    ArmInfo {
        label: label.parse().unwrap(),
        backend: "llama".into(),
        model: "m".into(),
        protocol,
        backend_info: BackendInfo {
            name: "llama".into(),
            version: "test".into(),
            build: String::new(),
            model_path: "m.gguf".into(),
            model_sha256: model_sha.into(),
            model_bytes: 1,
            architecture: "test".into(),
            quantization: "q4".into(),
            parameters: 1,
            context_size: 4096,
            max_sequences: 8,
            threads: 2,
            ..Default::default()
        },
        markers: Default::default(),
    }
}

fn manifest(arms: &[&str]) -> Manifest {
    Manifest {
        schema: SCHEMA_VERSION,
        fcbench_version: "test".into(),
        git_commit: None,
        started_at: "2026-01-01T00:00:00Z".into(),
        machine: MachineInfo {
            hostname: "ci".into(),
            os: "linux".into(),
            cpu_model: "cpu".into(),
            cpu_cores: 2,
            memory_bytes: 1,
            gpus: Vec::new(),
        },
        settings: RunSettings {
            mode: DecodeMode::Forced,
            regime: CacheRegime::Prefix,
            threads: 2,
            repeat: 3,
            warmup: 1,
            limit: None,
            seed: 0,
            max_head_tokens: 128,
            content_head: false,
            map_markers: true,
            baseline_arm: Some(REF.parse().unwrap()),
        },
        scenario: ScenarioInfo {
            name: "game".into(),
            files: vec![FileDigest {
                path: "scenarios/game.jsonl".into(),
                sha256: "ab".repeat(32),
            }],
            cases: 0,
        },
        arms: arms.iter().map(|a| arm_info(a, &"cd".repeat(32))).collect(),
        prompt_template_sha256: Default::default(),
        args: vec![],
    }
}

fn call(arm: &str, case: usize, repeat: u32, e2e_ms: f64) -> CallRecord {
    CallRecord {
        case_id: format!("case-{case:02}"),
        dataset: "game".into(),
        arm: arm.parse().unwrap(),
        protocol: arm.rsplit('/').next().unwrap().parse::<Protocol>().unwrap(),
        mode: DecodeMode::Forced,
        regime: CacheRegime::Prefix,
        repeat,
        status: CallStatus::Ok,
        error: None,
        prompt_tokens: 0,
        cached_tokens: 0,
        prefilled_tokens: 0,
        heads: vec![],
        prefill_ms: 0.0,
        decode_ms: e2e_ms,
        e2e_ms,
        engine_ms: e2e_ms,
        step_ms: vec![],
        step_batch: vec![],
        slot_utilisation: 1.0,
        reference_tokens: None,
        parsed: None,
        parse_error: None,
        verdict: None,
        engine_reported_ms: None,
        ttft_ms: None,
    }
}

fn run(path: &str, arms: &[&str], calls: Vec<CallRecord>) -> LoadedRun {
    LoadedRun {
        path: PathBuf::from(path),
        manifest: manifest(arms),
        calls,
        summary: None,
        warnings: Vec::new(),
    }
}

/// A noisy machine: cases of very different lengths, log-normal jitter (σ = 8%), a 5% chance
/// of a 1.6× spike, and the machine's speed wandering by ±`drift` over the run. Arms run
/// interleaved (case by case, A B A B), as the runner does. `shift` slows `ARM` only.
struct NoisyMachine {
    rng: ChaCha8Rng,
    case_ms: Vec<f64>,
    drift: f64,
    /// The whole machine's speed factor for this run.
    speed: f64,
}

impl NoisyMachine {
    fn new(seed: u64, cases: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let case_ms = (0..cases).map(|_| rng.gen_range(150.0..1500.0)).collect();
        NoisyMachine {
            rng,
            case_ms,
            drift: 0.0,
            speed: 1.0,
        }
    }

    fn record(&mut self, arms: &[(&str, f64)], repeats: u32) -> Vec<CallRecord> {
        let jitter = LogNormal::new(0.0, 0.08).unwrap();
        let total = (self.case_ms.len() as u32 * repeats) as f64;
        let phase = self.rng.gen_range(0.0..6.3);
        let mut out = Vec::new();
        let mut t = 0.0;
        for case in 0..self.case_ms.len() {
            for repeat in 0..repeats {
                let machine = self.speed * (1.0 + self.drift * (phase + 6.3 * t / total).sin());
                t += 1.0;
                for &(arm, shift) in arms {
                    let spike = if self.rng.gen_bool(0.05) { 1.6 } else { 1.0 };
                    let ms =
                        self.case_ms[case] * shift * machine * spike * jitter.sample(&mut self.rng);
                    out.push(call(arm, case, repeat, ms));
                }
            }
        }
        out
    }
}

fn two<'a>(baseline: &'a LoadedRun, candidate: &'a LoadedRun) -> GateInput<'a> {
    GateInput {
        baseline: Some(baseline),
        candidate,
        reference: None,
    }
}

fn p50_only() -> Thresholds {
    Thresholds {
        max_p50_regression: 0.05,
        max_p95_regression: 0.10,
        ..Default::default()
    }
}

fn status_of(r: &fcbench_gate::GateReport, kind: CheckKind) -> CheckStatus {
    r.checks.iter().find(|c| c.kind == kind).unwrap().status
}

/// Outcomes over `seeds` for each shift, by method.
fn outcomes(seeds: u64, shift: f64, make: impl Fn(u64, f64) -> Outcome) -> (usize, usize) {
    let fails = (0..seeds)
        .filter(|&s| make(s, shift) == Outcome::Regression)
        .count();
    (seeds as usize - fails, fails)
}

const SEEDS: u64 = 100;

#[test]
fn two_runs_known_shift_pass_pass_fail() {
    let make = |seed: u64, shift: f64| {
        let base = NoisyMachine::new(seed, 20).record(&[(ARM, 1.0)], 3);
        let mut m = NoisyMachine::new(seed, 20);
        m.rng = ChaCha8Rng::seed_from_u64(seed ^ 0xffff);
        let cand = m.record(&[(ARM, shift)], 3);
        let (b, c) = (run("base", &[ARM], base), run("cand", &[ARM], cand));
        let r = gate(
            &GateInput {
                baseline: Some(&b),
                candidate: &c,
                reference: None,
            },
            &p50_only(),
        );
        r.outcome
    };
    let none = outcomes(SEEDS, 1.0, make);
    let small = outcomes(SEEDS, 1.02, make);
    let large = outcomes(SEEDS, 1.20, make);
    println!("two runs: pass/fail none {none:?}, +2% {small:?}, +20% {large:?}");
    assert!(none.1 <= SEEDS as usize / 20, "{none:?}");
    assert!(small.1 <= SEEDS as usize / 20, "{small:?}");
    assert!(large.0 <= SEEDS as usize / 20, "{large:?}");
}

#[test]
fn a_gate_that_performed_no_check_is_not_comparable_never_a_pass() {
    // The reference arm's records are missing (an interrupted or filtered run): every
    // latency check is skipped, and that must not read as "pass".
    let mut m = NoisyMachine::new(7, 6);
    let calls: Vec<CallRecord> = m
        .record(&[(REF, 1.0), (ARM, 1.0)], 2)
        .into_iter()
        .filter(|c| c.arm.to_string() != REF)
        .collect();
    let c = run("cand", &[REF, ARM], calls);
    let r = gate(
        &GateInput {
            baseline: None,
            candidate: &c,
            reference: Some("functiongemma"),
        },
        &p50_only(),
    );
    assert!(
        r.checks.iter().all(|c| c.status == CheckStatus::Skipped),
        "{r:?}"
    );
    assert_eq!(r.outcome, Outcome::NotComparable, "{r:?}");
    assert_eq!(r.outcome.exit_code(), 2);
    assert!(
        r.not_comparable[0].contains("no check could be performed"),
        "{r:?}"
    );
}

#[test]
fn an_arm_whose_latency_was_never_compared_is_not_comparable_even_if_accuracy_checks_pass() {
    // Both runs hold only failed calls of the gated arm: the accuracy and failure checks are
    // performed (and equal), but no latency was compared, so nothing speaks for speed.
    let failed = |case| {
        let mut c = call(ARM, case, 0, 1.0);
        c.status = CallStatus::Failed;
        c
    };
    let b = run("base", &[ARM], (0..4).map(failed).collect());
    let c = run("cand", &[ARM], (0..4).map(failed).collect());
    let r = gate(
        &GateInput {
            baseline: Some(&b),
            candidate: &c,
            reference: None,
        },
        &p50_only(),
    );
    assert_eq!(r.outcome, Outcome::NotComparable, "{r:?}");
    assert!(
        r.not_comparable
            .iter()
            .any(|w| w.contains("no latency check could be performed")),
        "{r:?}"
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("has no successful calls")),
        "{r:?}"
    );
}

#[test]
fn reference_arm_known_shift_pass_pass_fail_despite_drift() {
    // The machine's speed swings by ±25% during the run: arms interleaved case by case see the
    // same swings, so the in-run ratio is unaffected.
    let make = |seed: u64, shift: f64| {
        let mut m = NoisyMachine::new(seed, 20);
        m.drift = 0.25;
        let calls = m.record(&[(REF, 1.0), (ARM, shift)], 3);
        let c = run("cand", &[REF, ARM], calls);
        gate(
            &GateInput {
                baseline: None,
                candidate: &c,
                reference: Some("functiongemma"),
            },
            &p50_only(),
        )
        .outcome
    };
    let none = outcomes(SEEDS, 1.0, make);
    let small = outcomes(SEEDS, 1.02, make);
    let large = outcomes(SEEDS, 1.20, make);
    println!("reference arm: pass/fail none {none:?}, +2% {small:?}, +20% {large:?}");
    assert!(none.1 <= SEEDS as usize / 20, "{none:?}");
    assert!(small.1 <= SEEDS as usize / 20, "{small:?}");
    assert!(large.0 <= SEEDS as usize / 20, "{large:?}");
}

#[test]
fn reference_vs_baseline_ignores_a_slower_machine_that_fools_two_runs() {
    // The candidate run lands on a machine 25% slower than the baseline's.
    let pair = |seed: u64, shift: f64| {
        let base = NoisyMachine::new(seed, 20).record(&[(REF, 1.0), (ARM, 1.0)], 3);
        let mut m = NoisyMachine::new(seed, 20);
        m.rng = ChaCha8Rng::seed_from_u64(seed ^ 0xffff);
        m.speed = 1.25;
        let cand = m.record(&[(REF, 1.0), (ARM, shift)], 3);
        (
            run("base", &[REF, ARM], base),
            run("cand", &[REF, ARM], cand),
        )
    };
    let with_reference = |seed: u64, shift: f64| {
        let (b, c) = pair(seed, shift);
        gate(
            &GateInput {
                baseline: Some(&b),
                candidate: &c,
                reference: Some(REF),
            },
            &p50_only(),
        )
        .outcome
    };
    let naive = |seed: u64, shift: f64| {
        let (b, c) = pair(seed, shift);
        gate(
            &GateInput {
                baseline: Some(&b),
                candidate: &c,
                reference: None,
            },
            &p50_only(),
        )
        .outcome
    };
    let none = outcomes(SEEDS, 1.0, with_reference);
    let small = outcomes(SEEDS, 1.02, with_reference);
    let large = outcomes(SEEDS, 1.20, with_reference);
    let fooled = outcomes(SEEDS, 1.0, naive);
    println!("reference vs baseline: none {none:?}, +2% {small:?}, +20% {large:?}; two runs on the slower machine, no shift: {fooled:?}");
    assert!(none.1 <= SEEDS as usize / 20, "{none:?}");
    assert!(small.1 <= SEEDS as usize / 20, "{small:?}");
    assert!(large.0 <= SEEDS as usize / 20, "{large:?}");
    // Absolute time across runs cannot tell a slower machine from slower code.
    assert!(fooled.1 >= SEEDS as usize * 9 / 10, "{fooled:?}");
}

/// One noisy run, split in two by repeat (0–2 vs 3–5): the same code on the same machine, so
/// every regression the gate reports is a false alarm.
#[test]
fn false_alarm_rate_under_5_percent_on_a_noisy_run_split_in_two() {
    let seeds = 200u64;
    let mut alarms = [0usize; 2];
    for seed in 0..seeds {
        let mut m = NoisyMachine::new(seed, 20);
        m.drift = 0.25;
        let calls = m.record(&[(REF, 1.0), (ARM, 1.0)], 6);
        let (first, second): (Vec<_>, Vec<_>) = calls.into_iter().partition(|c| c.repeat < 3);
        let (b, c) = (
            run("first-half", &[REF, ARM], first),
            run("second-half", &[REF, ARM], second),
        );
        for (i, reference) in [None, Some(REF)].into_iter().enumerate() {
            let r = gate(
                &GateInput {
                    baseline: Some(&b),
                    candidate: &c,
                    reference,
                },
                // This measures the statistics' false alarms; the simulated machine is noisy
                // enough (σ 8%, spikes, ±25% drift) that about 1 seed in 50 is flagged
                // unstable, which is a separate verdict (tested below).
                &Thresholds {
                    allow_unstable: true,
                    ..Default::default()
                },
            );
            assert_ne!(r.outcome, Outcome::NotComparable, "{:?}", r.not_comparable);
            if r.outcome == Outcome::Regression {
                alarms[i] += 1;
            }
        }
    }
    println!(
        "false alarms over {seeds} split runs: two runs {}, reference vs baseline {}",
        alarms[0], alarms[1]
    );
    for a in alarms {
        assert!((a as f64) < 0.05 * seeds as f64, "{alarms:?}");
    }
}

fn with_verdicts(mut calls: Vec<CallRecord>, wrong: &[usize]) -> Vec<CallRecord> {
    for c in &mut calls {
        let case: usize = c.case_id[5..].parse().unwrap();
        let ok = !wrong.contains(&case);
        c.verdict = Some(Verdict {
            strict: ok,
            strict_function: ok,
            legacy: ok,
            legacy_function: ok,
        });
    }
    calls
}

#[test]
fn accuracy_drop_is_exact_on_the_same_rows() {
    let base = NoisyMachine::new(1, 20).record(&[(ARM, 1.0)], 1);
    let cand = base.clone();
    let b = run("base", &[ARM], with_verdicts(base, &[]));
    let one_wrong = run("cand", &[ARM], with_verdicts(cand.clone(), &[7]));
    let t = Thresholds::default();
    let r = gate(&two(&b, &one_wrong), &t);
    let acc = r
        .checks
        .iter()
        .find(|c| c.kind == CheckKind::Accuracy)
        .unwrap();
    assert_eq!(acc.status, CheckStatus::Fail);
    assert_eq!(acc.estimate, Some(-5.0));
    assert_eq!((acc.baseline, acc.candidate), (Some(100.0), Some(95.0)));
    assert_eq!(r.outcome, Outcome::Regression);
    // Same latencies exactly: the latency checks pass.
    assert_eq!(status_of(&r, CheckKind::P50Latency), CheckStatus::Pass);
    let loose = Thresholds {
        max_accuracy_drop_pp: 5.0,
        ..t.clone()
    };
    assert_eq!(gate(&two(&b, &one_wrong), &loose).outcome, Outcome::Pass);
    // Rows the candidate no longer scores count as wrong.
    let plain = run("cand", &[ARM], cand);
    let r = gate(&two(&b, &plain), &t);
    assert_eq!(status_of(&r, CheckKind::Accuracy), CheckStatus::Fail);
    // No verdicts on either side: skipped, not failed.
    let b_plain = run("base", &[ARM], plain.calls.clone());
    let r = gate(
        &GateInput {
            baseline: Some(&b_plain),
            candidate: &plain,
            reference: None,
        },
        &t,
    );
    assert_eq!(status_of(&r, CheckKind::Accuracy), CheckStatus::Skipped);
    assert_eq!(r.outcome, Outcome::Pass);
}

#[test]
fn newly_failed_calls_fail_the_gate() {
    let base = NoisyMachine::new(2, 10).record(&[(ARM, 1.0)], 2);
    let mut cand = base.clone();
    cand[3].status = CallStatus::Failed;
    cand[3].error = Some("decode failed".into());
    let (b, c) = (run("base", &[ARM], base), run("cand", &[ARM], cand));
    let r = gate(
        &GateInput {
            baseline: Some(&b),
            candidate: &c,
            reference: None,
        },
        &Thresholds::default(),
    );
    assert_eq!(status_of(&r, CheckKind::FailedCalls), CheckStatus::Fail);
    assert_eq!(r.outcome, Outcome::Regression);
}

#[test]
fn min_hz_fails_only_when_the_whole_interval_is_below() {
    let calls = NoisyMachine::new(3, 10).record(&[(REF, 1.0), (ARM, 1.0)], 2);
    let c = run("cand", &[REF, ARM], calls);
    let t = |hz| Thresholds {
        min_hz: Some(hz),
        ..Default::default()
    };
    let input = GateInput {
        baseline: None,
        candidate: &c,
        reference: Some(REF),
    };
    // Calls take 150–1500 ms: 100 Hz is out of reach, 0.1 Hz is easy.
    assert_eq!(gate(&input, &t(100.0)).outcome, Outcome::Regression);
    assert_eq!(gate(&input, &t(0.1)).outcome, Outcome::Pass);
}

/// A change made to the candidate's manifest.
type Edit = Box<dyn Fn(&mut LoadedRun)>;

#[test]
fn runs_that_measure_different_things_are_not_comparable() {
    let calls = NoisyMachine::new(4, 5).record(&[(ARM, 1.0)], 1);
    let b = run("base", &[ARM], calls.clone());
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "scenario file",
            Box::new(|r| r.manifest.scenario.files[0].sha256 = "ee".repeat(32)),
            "scenario files differ",
        ),
        (
            "mode",
            Box::new(|r| r.manifest.settings.mode = DecodeMode::Free),
            "different decode mode: baseline `forced` vs candidate `free`",
        ),
        (
            "regime",
            Box::new(|r| r.manifest.settings.regime = CacheRegime::Cold),
            "different cache regime",
        ),
        (
            "model",
            Box::new(|r| r.manifest.arms[0].backend_info.model_sha256 = "ff".repeat(32)),
            "different model weights",
        ),
        (
            "missing arm",
            Box::new(|r| r.manifest.arms[0].label = "llama/m/json".parse().unwrap()),
            "is in the baseline but not in the candidate",
        ),
    ];
    for (what, change, said) in cases {
        let mut c = run("cand", &[ARM], calls.clone());
        change(&mut c);
        let r = gate(
            &GateInput {
                baseline: Some(&b),
                candidate: &c,
                reference: None,
            },
            &Thresholds::default(),
        );
        assert_eq!(r.outcome, Outcome::NotComparable, "{what}");
        assert_eq!(r.outcome.exit_code(), 2);
        assert!(
            r.not_comparable.iter().any(|w| w.contains(said)),
            "{what}: {:?}",
            r.not_comparable
        );
    }
    // An unknown reference arm, or nothing to compare against, is said just as plainly.
    let r = gate(
        &GateInput {
            baseline: None,
            candidate: &b,
            reference: Some("nope"),
        },
        &Thresholds::default(),
    );
    assert_eq!(r.outcome, Outcome::NotComparable);
    assert!(r.not_comparable[0].contains("no arm `nope`"), "{r:?}");
    // Threads differ: a note, not a refusal (fewer threads is a slowdown to catch).
    let mut c = run("cand", &[ARM], calls);
    c.manifest.settings.threads = 1;
    let r = gate(
        &GateInput {
            baseline: Some(&b),
            candidate: &c,
            reference: None,
        },
        &Thresholds::default(),
    );
    assert_eq!(r.outcome, Outcome::Pass);
    assert!(r.notes[0].contains("threads differ"));
}

/// A small fixed report: one arm 30% slower with one wrong answer, one arm unchanged.
fn fixed_report() -> fcbench_gate::GateReport {
    let mut m = NoisyMachine::new(42, 6);
    let base = m.record(&[(REF, 1.0), (ARM, 1.0)], 2);
    let mut m = NoisyMachine::new(42, 6);
    let cand = m.record(&[(REF, 1.0), (ARM, 1.3)], 2);
    let b = run("runs/base", &[REF, ARM], with_verdicts(base, &[]));
    let c = run("runs/cand", &[REF, ARM], with_verdicts(cand, &[2]));
    gate(
        &GateInput {
            baseline: Some(&b),
            candidate: &c,
            reference: None,
        },
        &Thresholds::default(),
    )
}

#[test]
fn markdown_report() {
    let r = fixed_report();
    assert_eq!(r.outcome, Outcome::Regression);
    insta::assert_snapshot!(fcbench_gate::markdown(&r));
}

#[test]
fn junit_report_is_well_formed_xml() {
    let r = fixed_report();
    let xml = fcbench_gate::junit(&r);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(cases, r.checks.len());
    assert_eq!(
        failures,
        r.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .count()
    );
    insta::assert_snapshot!(xml);
}

#[test]
fn json_verdict_round_trips() {
    let r = fixed_report();
    let json = r.json();
    let back: fcbench_gate::GateReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.outcome, r.outcome);
    assert_eq!(back.checks.len(), r.checks.len());
    insta::assert_snapshot!(json);
}

#[test]
fn not_comparable_report_formats() {
    let calls = NoisyMachine::new(5, 3).record(&[(ARM, 1.0)], 1);
    let b = run("runs/base", &[ARM], calls.clone());
    let mut c = run("runs/cand", &[ARM], calls);
    c.manifest.settings.mode = DecodeMode::Free;
    let r = gate(
        &GateInput {
            baseline: Some(&b),
            candidate: &c,
            reference: None,
        },
        &Thresholds::default(),
    );
    let md = fcbench_gate::markdown(&r);
    assert!(md.contains("⚠️ not comparable"), "{md}");
    assert!(md.contains("different decode mode"), "{md}");
    let xml = fcbench_gate::junit(&r);
    assert!(
        xml.contains("<error message=\"different decode mode"),
        "{xml}"
    );
    assert!(r.json().contains("\"outcome\": \"not_comparable\""));
}

#[test]
fn a_candidate_timed_on_a_busy_machine_is_not_comparable_unless_told_otherwise() {
    let base = NoisyMachine::new(4, 10).record(&[(ARM, 1.0)], 3);
    // The same code, but every other call ran beside another job and took twice as long.
    let mut cand = base.clone();
    for (i, c) in cand.iter_mut().enumerate() {
        if i % 2 == 1 {
            c.e2e_ms *= 2.0;
        }
    }
    let (b, c) = (run("base", &[ARM], base), run("cand", &[ARM], cand));
    let r = gate(&two(&b, &c), &Thresholds::default());
    assert_eq!(r.outcome, Outcome::NotComparable, "{r:?}");
    assert!(
        r.not_comparable[0].contains("unstable timings (repeats of a case differ by"),
        "{r:?}"
    );
    let told = Thresholds {
        allow_unstable: true,
        ..Default::default()
    };
    let r = gate(&two(&b, &c), &told);
    assert_ne!(r.outcome, Outcome::NotComparable, "{r:?}");
    assert!(
        r.notes.iter().any(|n| n.contains("--allow-unstable")),
        "{r:?}"
    );
}
