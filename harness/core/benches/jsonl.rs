//! Appending one call record to `calls.jsonl` (serialise + write + flush), as the runner does
//! after every call.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use fcbench_core::protocol::Protocol;
use fcbench_core::record::{
    CacheRegime, CallRecord, CallStatus, DecodeMode, HeadRecord, StopReason,
};
use fcbench_core::rundir::RunDir;

/// A SimpleTool call with six heads and 40 decode steps, the size of a real record.
fn record() -> CallRecord {
    let head = |name: &str, text: &str| HeadRecord {
        name: name.into(),
        text: text.into(),
        tokens: 4,
        stop: StopReason::Marker,
        stop_marker: Some(format!("</{name}>")),
        tail_tokens: 3,
        argmax_agreed: Some(3),
    };
    CallRecord {
        case_id: "game-0042".into(),
        dataset: "game".into(),
        arm: "llama/gemma3-270m/simpletool".parse().unwrap(),
        protocol: Protocol::SimpleTool,
        mode: DecodeMode::Forced,
        regime: CacheRegime::Prefix,
        repeat: 1,
        status: CallStatus::Ok,
        error: None,
        prompt_tokens: 612,
        cached_tokens: 480,
        prefilled_tokens: 150,
        heads: vec![
            head("function", "attack"),
            head("arg1", "goblin"),
            head("arg2", "axe"),
            head("arg3", "1.0"),
            head("arg4", "<|null|>"),
            head("arg5", "<|null|>"),
        ],
        prefill_ms: 210.5,
        decode_ms: 180.25,
        e2e_ms: 391.0,
        engine_ms: 388.5,
        step_ms: (0..40).map(|i| 4.0 + i as f64 * 0.01).collect(),
        step_batch: (0..40).map(|i| 6 - (i / 8).min(5)).collect(),
        slot_utilisation: 0.62,
        reference_tokens: Some(24),
        parsed: None,
        parse_error: None,
        verdict: None,
        engine_reported_ms: None,
        ttft_ms: None,
    }
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut dir = RunDir::create(Some(&tmp.path().join("run")), tmp.path(), "bench").unwrap();
    let r = record();
    c.bench_function("append_call", |b| {
        b.iter(|| dir.append_call(&r).expect("appends"))
    });
}

criterion_group! {
    name = benches;
    config = common::quick();
    targets = bench
}
criterion_main!(benches);
