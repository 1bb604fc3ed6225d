//! Head efficiency: how much one more parallel head costs.
//!
//! `step_efficiency(N) = median step time with 1 sequence / median step time with N sequences`,
//! measured at the same context length; 100% means a head is free. `parallel_overhead =
//! 1/step_efficiency − 1`.
//!
//! Each N is timed the way a real decode loop runs: N sequences forked from the shared
//! context, then consecutive steps of the same shape (so a GPU engine reuses its captured
//! graph), the first `warmup_steps` untimed, every step synchronised before the clock is read.
//! Blocks are interleaved over N in `rounds` (N = 1…max, 1…max, …) so drift in the machine's
//! speed hits every size alike. Within a block each sequence grows by one token per step; the
//! context grows by at most `warmup_steps + steps per block` tokens.

use crate::backend::{BackendError, BackendInfo, BatchEntry, SeqId, TokenBackend, TokenId};
use crate::stats::{median, percentile_sorted};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How a sweep is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepOptions {
    pub max_heads: usize,
    /// Timed steps per head count, over all rounds.
    pub reps: usize,
    /// Blocks per head count, interleaved over head counts.
    pub rounds: usize,
    /// Untimed steps at the start of every block.
    pub warmup_steps: usize,
}

impl SweepOptions {
    /// Timed steps in one block.
    pub fn steps_per_block(&self) -> usize {
        self.reps.div_ceil(self.rounds.max(1)).max(1)
    }

    /// Tokens each sequence grows by within a block: what the context must leave room for,
    /// per sequence.
    pub fn growth(&self) -> usize {
        self.warmup_steps + self.steps_per_block()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepPoint {
    pub heads: usize,
    pub median_step_ms: f64,
    pub p95_step_ms: f64,
    pub step_efficiency: f64,
    pub parallel_overhead: f64,
    pub samples: usize,
    /// Median step of each round's block, in round order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub round_medians_ms: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadSweep {
    pub context_tokens: usize,
    pub backend: BackendInfo,
    /// How it was timed (absent in sweeps from before blocks: those changed N every step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<SweepOptions>,
    pub points: Vec<SweepPoint>,
    /// Whether the steps were stable enough to trust (see `noise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<crate::noise::Stability>,
}

impl HeadSweep {
    /// The stability verdict of these points.
    pub fn assess(points: &[SweepPoint]) -> crate::noise::Stability {
        crate::noise::of_sweep(points.iter().map(|p| crate::noise::SweepTiming {
            heads: p.heads,
            median_ms: p.median_step_ms,
            p95_ms: p.p95_step_ms,
            efficiency: p.step_efficiency,
            round_medians_ms: &p.round_medians_ms,
        }))
    }
}

/// Time one decode step at 1…`max_heads` sequences over `context` (see the module doc).
/// `on_round(round)` is called after each round.
pub fn sweep_heads(
    backend: &mut dyn TokenBackend,
    context: &[TokenId],
    opts: &SweepOptions,
    mut on_round: impl FnMut(usize),
) -> Result<HeadSweep, BackendError> {
    let token = *context
        .last()
        .ok_or_else(|| BackendError::Other("empty context".into()))?;
    if opts.max_heads == 0 || opts.reps == 0 {
        return Err(BackendError::Other(
            "a sweep needs at least one head and one rep".into(),
        ));
    }
    let need = context.len() + opts.max_heads * opts.growth();
    if need > backend.info().context_size {
        return Err(BackendError::ContextOverflow {
            tokens: context.len(),
            reserve: opts.max_heads * opts.growth(),
            context: backend.info().context_size,
        });
    }
    backend.clear(None);
    backend.prefill(0, 0, context)?;
    backend.synchronize()?;
    let pos = context.len() as u32;
    let per_block = opts.steps_per_block();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); opts.max_heads];
    let mut round_medians: Vec<Vec<f64>> = vec![Vec::new(); opts.max_heads];
    for round in 0..opts.rounds.max(1) {
        for n in 1..=opts.max_heads {
            // Untimed: drop the last block's sequences, fork the context to N fresh ones.
            for s in 1..=opts.max_heads as SeqId {
                backend.clear(Some(s));
            }
            for seq in 1..=n as SeqId {
                backend.fork(0, seq, pos)?;
            }
            let mut block = Vec::with_capacity(per_block);
            for k in 0..opts.warmup_steps + per_block {
                let batch: Vec<BatchEntry> = (1..=n as SeqId)
                    .map(|seq| BatchEntry {
                        seq,
                        pos: pos + k as u32,
                        token,
                        logits: true,
                    })
                    .collect();
                let t = Instant::now();
                backend.step(&batch)?;
                backend.synchronize()?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                if k >= opts.warmup_steps && times[n - 1].len() < opts.reps {
                    times[n - 1].push(ms);
                    block.push(ms);
                }
            }
            if !block.is_empty() {
                round_medians[n - 1].push(median(&block));
            }
        }
        on_round(round);
    }
    let t1 = median(&times[0]);
    let points = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut sorted = t.clone();
            sorted.sort_by(f64::total_cmp);
            let m = median(t);
            let eff = t1 / m;
            SweepPoint {
                heads: i + 1,
                median_step_ms: m,
                p95_step_ms: percentile_sorted(&sorted, 95.0),
                step_efficiency: eff,
                parallel_overhead: 1.0 / eff - 1.0,
                samples: t.len(),
                round_medians_ms: round_medians[i].clone(),
            }
        })
        .collect::<Vec<_>>();
    backend.clear(None);
    Ok(HeadSweep {
        context_tokens: context.len(),
        backend: backend.info().clone(),
        options: Some(*opts),
        stability: Some(HeadSweep::assess(&points)),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted::{Queued, Scripted};

    #[test]
    fn each_head_count_is_timed_in_its_own_synchronised_block_after_warm_up() {
        // A GPU-like engine: work runs only on synchronize; a launch whose batch size differs
        // from the previous one pays 20 ms more (the graph is re-captured), otherwise 2 ms +
        // 0.5 ms per sequence. A sweep that changed N every step, or read the clock before
        // the work finished, would report about 22 ms or about 0 ms at every N.
        let engine = Queued::new(Scripted::new(&[], &[]), |n, changed| {
            2.0 + 0.5 * n as f64 + if changed { 20.0 } else { 0.0 }
        });
        let mut engine = engine;
        let context: Vec<TokenId> = (0..64).map(|i| 97 + (i % 26)).collect();
        let opts = SweepOptions {
            max_heads: 3,
            reps: 6,
            rounds: 2,
            warmup_steps: 1,
        };
        let mut rounds = 0;
        let sweep = sweep_heads(&mut engine, &context, &opts, |_| rounds += 1).unwrap();
        assert_eq!(rounds, 2);
        assert_eq!(sweep.options, Some(opts));
        for p in &sweep.points {
            let steady = 2.0 + 0.5 * p.heads as f64;
            assert_eq!(p.samples, 6);
            assert!(
                p.median_step_ms >= steady && p.median_step_ms < steady + 10.0,
                "N={}: median {} ms, steady state {steady} ms",
                p.heads,
                p.median_step_ms
            );
        }
        assert!(sweep.points[2].step_efficiency < 1.0);
    }

    #[test]
    fn a_sweep_that_would_outgrow_the_context_fails_before_timing() {
        let mut engine = Scripted::new(&[], &[]);
        engine.info.context_size = 80;
        let context: Vec<TokenId> = vec![97; 64];
        let opts = SweepOptions {
            max_heads: 4,
            reps: 8,
            rounds: 1,
            warmup_steps: 2,
        };
        let e = sweep_heads(&mut engine, &context, &opts, |_| {}).unwrap_err();
        assert!(
            matches!(e, BackendError::ContextOverflow { context: 80, .. }),
            "{e}"
        );
    }
}
