//! One decode step with N = 1, 2, 4, 8 sequences on the real SmolLM2 model, at a 256-token
//! shared context: what one more parallel head costs per step. Needs the model in the cache
//! (`fcbench models fetch smollm2`; resolving it fetches it on first use).
//! `FCBENCH_BENCH_THREADS=2 cargo bench -p fcbench-llama` times it with two threads.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fcbench_core::backend::{BatchEntry, SeqId, SessionOptions, TokenBackend};
use fcbench_llama::LlamaModel;
use std::time::{Duration, Instant};

const CONTEXT: usize = 256;
const MAX_SEQS: usize = 8;

fn bench(c: &mut Criterion) {
    let resolved = fcbench_core::models::resolve("smollm2", &mut |_| {}).expect("smollm2 model");
    let model =
        LlamaModel::load(&resolved.path, &resolved.sha256, &Default::default()).expect("loads");
    // One thread by default: on a shared machine llama.cpp's threads spin-wait on each other
    // whenever a core is taken, which swamps the step time; FCBENCH_BENCH_THREADS overrides.
    let threads = std::env::var("FCBENCH_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let mut s = model
        .session(&SessionOptions {
            threads,
            context_size: 1024,
            max_sequences: MAX_SEQS + 1,
        })
        .expect("session");
    let text = "<|im_start|>system\nYou are a game agent. Call one tool.<|im_end|>\n";
    let mut ctx = Vec::new();
    while ctx.len() < CONTEXT {
        ctx.extend(s.vocab().tokenize(text, ctx.is_empty()).expect("tokenizes"));
    }
    ctx.truncate(CONTEXT);
    s.prefill(0, 0, &ctx).expect("prefill");
    let pos = CONTEXT as u32;
    let token = ctx[CONTEXT - 1];

    let mut g = c.benchmark_group("decode_step_smollm2");
    for n in [1usize, 2, 4, 8] {
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            // Only the step is timed: each iteration first re-forks the N sequences from the
            // shared prompt (untimed), so every step runs at the same context length.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batch: Vec<BatchEntry> = (1..=n as SeqId)
                        .map(|seq| {
                            s.clear(Some(seq));
                            s.fork(0, seq, pos).expect("fork");
                            BatchEntry {
                                seq,
                                pos,
                                token,
                                logits: true,
                            }
                        })
                        .collect();
                    let t = Instant::now();
                    s.step(&batch).expect("step");
                    // Completion, not launch (a GPU build queues the work).
                    s.synchronize().expect("synchronize");
                    total += t.elapsed();
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
