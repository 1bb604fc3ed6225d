//! Percentiles and bootstrap intervals, at the sizes a run produces.

mod common;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use fcbench_core::stats::{bootstrap_ci, distribution, median, ratio_estimate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn samples(n: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n).map(|_| rng.gen_range(100.0..1500.0)).collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stats");
    for n in [100, 1000, 10_000] {
        let xs = samples(n);
        g.bench_with_input(BenchmarkId::new("distribution", n), &xs, |b, xs| {
            b.iter(|| distribution(black_box(xs)))
        });
    }
    for n in [30, 300] {
        let xs = samples(n);
        g.bench_with_input(
            BenchmarkId::new("bootstrap_ci_median_2000", n),
            &xs,
            |b, xs| b.iter(|| bootstrap_ci(black_box(xs), median, 2000, 1)),
        );
        g.bench_with_input(BenchmarkId::new("ratio_estimate", n), &xs, |b, xs| {
            b.iter(|| ratio_estimate(black_box(xs), 1))
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
