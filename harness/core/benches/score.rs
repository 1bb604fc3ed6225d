//! Scoring 5,000 rows: SimpleTool heads → calls → strict and legacy verdicts → per-dataset and
//! per-category accuracy. The target is well under a second for all of it.

mod common;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use fcbench_core::protocol::simpletool_decode_calls;
use fcbench_core::record::CallRecord;
use fcbench_core::score::verdict;
use fcbench_core::summary::accuracy;

const ROWS: usize = 5_000;

/// Head outputs of five kinds (right, wrong value, extra argument, wrong tool, no call), so
/// every branch of both scorers runs.
fn rows() -> Vec<Vec<(String, String)>> {
    let kinds: [&[(&str, &str)]; 5] = [
        &[
            ("function", "attack"),
            ("arg1", "Goblin "),
            ("arg2", "axe"),
            ("arg3", "1"),
        ],
        &[
            ("function", "attack"),
            ("arg1", "goblin"),
            ("arg2", "bow"),
            ("arg3", "0.5"),
        ],
        &[
            ("function", "move_to"),
            ("arg1", "12"),
            ("arg2", "7"),
            ("arg3", "run"),
        ],
        &[
            ("function", "attack"),
            ("arg1", "goblin"),
            ("arg2", "<|null|>"),
            ("arg3", "[1, 2]"),
        ],
        &[
            ("function", "<|null|>"),
            ("arg1", ""),
            ("arg2", ""),
            ("arg3", ""),
        ],
    ];
    (0..ROWS)
        .map(|i| {
            kinds[i % kinds.len()]
                .iter()
                .map(|(h, t)| (h.to_string(), t.to_string()))
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let case = common::game_case();
    let rows = rows();
    let mut g = c.benchmark_group("score");
    g.bench_function("decode+verdict 5000 rows", |b| {
        b.iter(|| {
            rows.iter()
                .map(|h| verdict(&case, &simpletool_decode_calls(&case, black_box(h))))
                .filter(|v| v.is_some_and(|v| v.strict))
                .count()
        })
    });
    let template: CallRecord = serde_json::from_value(serde_json::json!({
        "case_id": "c", "dataset": "BFCL_v3_exec_simple_dataset", "arm": "a/m/simpletool",
        "protocol": "simpletool", "mode": "free", "regime": "cold", "repeat": 0, "status": "ok",
        "prompt_tokens": 0, "cached_tokens": 0, "prefilled_tokens": 0, "heads": [],
        "prefill_ms": 0.0, "decode_ms": 0.0, "e2e_ms": 0.0, "engine_ms": 0.0, "step_ms": [],
        "step_batch": [], "slot_utilisation": 0.0
    }))
    .expect("record");
    let records: Vec<CallRecord> = rows
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut r = template.clone();
            r.case_id = format!("c{i}");
            if i % 2 == 1 {
                r.dataset = "mobile_actions".into();
            }
            r.verdict = verdict(&case, &simpletool_decode_calls(&case, h));
            r
        })
        .collect();
    let refs: Vec<&CallRecord> = records.iter().collect();
    g.bench_function("aggregate 5000 verdicts", |b| {
        b.iter(|| accuracy(black_box(&refs)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::quick();
    targets = bench
}
criterion_main!(benches);
