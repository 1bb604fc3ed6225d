//! Head efficiency: how much one more parallel head costs.
//!
//! `step_efficiency(N) = median step time with 1 sequence / median step time with N sequences`,
//! measured at the same context length; 100% means a head is free. `parallel_overhead =
//! 1/step_efficiency − 1`. Sizes are interleaved rep by rep (1, 2, …, N, 1, 2, …) so drift in the
//! machine's speed hits every size alike.

use crate::backend::{BackendError, BackendInfo, BatchEntry, SeqId, TokenBackend, TokenId};
use crate::stats::{median, percentile_sorted};
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SweepPoint {
    pub heads: usize,
    pub median_step_ms: f64,
    pub p95_step_ms: f64,
    pub step_efficiency: f64,
    pub parallel_overhead: f64,
    pub samples: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadSweep {
    pub context_tokens: usize,
    pub backend: BackendInfo,
    pub points: Vec<SweepPoint>,
}

pub fn sweep_heads(
    backend: &mut dyn TokenBackend,
    context: &[TokenId],
    max_heads: usize,
    reps: usize,
    mut on_rep: impl FnMut(usize),
) -> Result<HeadSweep, BackendError> {
    backend.clear(None);
    backend.prefill(0, 0, context)?;
    let pos = context.len() as u32;
    let token = *context
        .last()
        .ok_or_else(|| BackendError::Other("empty context".into()))?;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); max_heads];
    // One untimed round first: the first step at each size allocates buffers.
    for rep in 0..reps + 1 {
        for n in 1..=max_heads {
            for s in 1..=max_heads as SeqId {
                backend.clear(Some(s));
            }
            let batch: Vec<BatchEntry> = (1..=n as SeqId)
                .map(|seq| {
                    backend.fork(0, seq, pos)?;
                    Ok(BatchEntry {
                        seq,
                        pos,
                        token,
                        logits: true,
                    })
                })
                .collect::<Result<_, BackendError>>()?;
            let t = Instant::now();
            backend.step(&batch)?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            if rep > 0 {
                times[n - 1].push(ms);
            }
        }
        on_rep(rep);
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
            }
        })
        .collect();
    backend.clear(None);
    Ok(HeadSweep {
        context_tokens: context.len(),
        backend: backend.info().clone(),
        points,
    })
}
