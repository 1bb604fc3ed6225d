//! Head text to a call (`Protocol::parse`), on the reference outputs of each protocol.

mod common;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use fcbench_core::protocol::{PlanOptions, Protocol};

fn bench(c: &mut Criterion) {
    let case = common::game_case();
    let mut g = c.benchmark_group("parse");
    for p in Protocol::ALL {
        let plan = p.plan(&case, &PlanOptions::default()).expect("plans");
        // Each head's reference output with its stop marker removed: what decoding hands over.
        let heads: Vec<(String, String)> = plan
            .heads
            .iter()
            .map(|h| {
                let r = h.reference.clone().unwrap_or_default();
                let text = h
                    .stops
                    .iter()
                    .find_map(|s| r.strip_suffix(s.as_str()))
                    .unwrap_or(&r)
                    .to_string();
                (h.name.clone(), text)
            })
            .collect();
        assert!(p.parse(&case, &heads).call.is_some(), "{p}: {heads:?}");
        g.bench_with_input(BenchmarkId::from_parameter(p.name()), &heads, |b, heads| {
            b.iter(|| p.parse(black_box(&case), black_box(heads)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::quick();
    targets = bench
}
criterion_main!(benches);
