//! Prompt rendering (`Protocol::plan`): a case into every head's prompt, stops and reference.

mod common;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use fcbench_core::protocol::{PlanOptions, Protocol};

fn bench(c: &mut Criterion) {
    let case = common::game_case();
    let opts = PlanOptions::default();
    let mut g = c.benchmark_group("plan");
    for p in Protocol::ALL {
        g.bench_with_input(BenchmarkId::from_parameter(p.name()), &p, |b, p| {
            b.iter(|| p.plan(black_box(&case), &opts).expect("plans"))
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
