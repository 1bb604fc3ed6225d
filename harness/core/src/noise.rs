//! Says when timings are too noisy to trust, the way hyperfine warns about outliers.
//!
//! These machines are shared: a busy neighbour makes the same call take twice as long, and a
//! figure taken then is not the engine's. Every command that prints timings carries a
//! [`Stability`] verdict computed here from what it measured, never from a wall-clock target:
//!
//! * **calls** (`run`, reports, gate): repeats of one case do identical work (greedy or
//!   forced decoding of the same prompt), so their spread is the machine's noise. Unstable when
//!   the median over cases of `(max − min) / median` of a case's repeats exceeds
//!   [`MAX_REPEAT_SPREAD`], or when the slowest 5% of calls run more than [`MAX_TAIL`]× their
//!   own case's median. With one call per case the noise is not measured (said, not flagged).
//! * **head sweeps** (`heads`): unstable when a step with more heads is faster than one head by
//!   more than [`MAX_STEP_EFFICIENCY`] (a head cannot make a step faster), when the block
//!   medians of one head count differ between rounds by more than [`MAX_ROUND_SPREAD`], or when
//!   a head count's P95 step exceeds [`MAX_STEP_TAIL`]× its median.

use crate::stats::{median, percentile_sorted};
use serde::{Deserialize, Serialize};

/// Largest tolerated median spread between repeats of a case, `(max − min) / median`.
pub const MAX_REPEAT_SPREAD: f64 = 0.25;
/// Largest tolerated P95 of `call / its case's median`.
pub const MAX_TAIL: f64 = 2.0;
/// Largest tolerated step efficiency (`t(1) / t(N)`); above 1 only noise can put it.
pub const MAX_STEP_EFFICIENCY: f64 = 1.05;
/// Largest tolerated spread of one head count's block medians between rounds.
pub const MAX_ROUND_SPREAD: f64 = 0.25;
/// Largest tolerated P95 / median of one head count's steps.
pub const MAX_STEP_TAIL: f64 = 2.0;

/// Whether a set of timings is stable enough to trust, and why not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    pub unstable: bool,
    /// Each threshold crossed, in words (empty when stable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Median over cases of `(max − min) / median` of the case's repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_spread: Option<f64>,
    /// P95 over calls of `call / its case's median`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail: Option<f64>,
    /// Why nothing could be measured (one call per case), when so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<String>,
}

impl Stability {
    fn flag(&mut self, reason: String) {
        self.unstable = true;
        self.reasons.push(reason);
    }

    /// One line for a terminal or a report: `unstable: …` or `None` when stable.
    pub fn warning(&self) -> Option<String> {
        self.unstable.then(|| {
            format!(
                "unstable timings ({}); the machine was probably busy: rerun on a quiet machine, or with more repeats",
                self.reasons.join("; ")
            )
        })
    }
}

/// Stability of one arm's successful call latencies, grouped by case (each inner slice: the
/// repeats of one case, in ms).
pub fn of_calls<'a>(by_case: impl IntoIterator<Item = &'a [f64]>) -> Stability {
    let mut spreads = Vec::new();
    let mut relative = Vec::new();
    for reps in by_case.into_iter().filter(|r| r.len() >= 2) {
        let m = median(reps);
        // Not `m <= 0.0`: a NaN median must be skipped too.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(m > 0.0) {
            continue;
        }
        let (lo, hi) = reps
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        spreads.push((hi - lo) / m);
        relative.extend(reps.iter().map(|x| x / m));
    }
    let mut s = Stability::default();
    if spreads.is_empty() {
        s.not_measured = Some("one call per case: no repeats to measure noise with".into());
        return s;
    }
    let spread = median(&spreads);
    relative.sort_by(f64::total_cmp);
    let tail = percentile_sorted(&relative, 95.0);
    s.repeat_spread = Some(spread);
    s.tail = Some(tail);
    if spread > MAX_REPEAT_SPREAD {
        s.flag(format!(
            "repeats of a case differ by {:.0}% (median), over {:.0}%",
            spread * 100.0,
            MAX_REPEAT_SPREAD * 100.0
        ));
    }
    if tail > MAX_TAIL {
        s.flag(format!(
            "the slowest 5% of calls took {tail:.2}× their case's median, over {MAX_TAIL}×"
        ));
    }
    s
}

/// One head count of a sweep, as the stability check needs it.
pub struct SweepTiming<'a> {
    pub heads: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub efficiency: f64,
    /// Median of each round's block.
    pub round_medians_ms: &'a [f64],
}

/// Stability of a head sweep.
pub fn of_sweep<'a>(points: impl IntoIterator<Item = SweepTiming<'a>>) -> Stability {
    let mut s = Stability::default();
    for p in points {
        if p.heads >= 2 && p.efficiency > MAX_STEP_EFFICIENCY {
            s.flag(format!(
                "N={}: step efficiency {:.0}% (a head cannot make a step faster; over {:.0}%)",
                p.heads,
                p.efficiency * 100.0,
                MAX_STEP_EFFICIENCY * 100.0
            ));
        }
        if p.median_ms > 0.0 && p.p95_ms / p.median_ms > MAX_STEP_TAIL {
            s.flag(format!(
                "N={}: P95 step {:.1}× the median, over {MAX_STEP_TAIL}×",
                p.heads,
                p.p95_ms / p.median_ms
            ));
        }
        if p.round_medians_ms.len() >= 2 {
            let m = median(p.round_medians_ms);
            let (lo, hi) = p
                .round_medians_ms
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            if m > 0.0 && (hi - lo) / m > MAX_ROUND_SPREAD {
                s.flag(format!(
                    "N={}: rounds differ by {:.0}%, over {:.0}%",
                    p.heads,
                    (hi - lo) / m * 100.0,
                    MAX_ROUND_SPREAD * 100.0
                ));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_that_agree_are_stable_and_a_busy_neighbour_is_flagged() {
        let quiet: Vec<Vec<f64>> = (0..6)
            .map(|c| {
                let base = 40.0 + 30.0 * c as f64; // cases of very different lengths
                vec![base, base * 1.03, base * 0.98]
            })
            .collect();
        let s = of_calls(quiet.iter().map(Vec::as_slice));
        assert!(!s.unstable, "{s:?}");
        assert!(s.repeat_spread.unwrap() < 0.06);
        // The same cases while another job shares the cores: half the calls twice as slow.
        let busy: Vec<Vec<f64>> = quiet
            .iter()
            .map(|r| vec![r[0], r[1] * 2.0, r[2] * 1.9])
            .collect();
        let s = of_calls(busy.iter().map(Vec::as_slice));
        assert!(s.unstable, "{s:?}");
        assert!(s.warning().unwrap().contains("repeats of a case differ"));
    }

    #[test]
    fn one_call_per_case_is_not_measured_rather_than_called_stable() {
        let one = [vec![40.0], vec![90.0]];
        let s = of_calls(one.iter().map(Vec::as_slice));
        assert!(!s.unstable);
        assert!(s.not_measured.is_some() && s.repeat_spread.is_none());
    }

    #[test]
    fn a_sweep_whose_more_heads_are_faster_is_flagged() {
        // What a busy machine printed: N=2 at 144% (median 264 ms vs 380 ms at N=1).
        let rounds = [380.0, 390.0];
        let s = of_sweep([
            SweepTiming {
                heads: 1,
                median_ms: 380.0,
                p95_ms: 400.0,
                efficiency: 1.0,
                round_medians_ms: &rounds,
            },
            SweepTiming {
                heads: 2,
                median_ms: 264.0,
                p95_ms: 1056.0,
                efficiency: 380.0 / 264.0,
                round_medians_ms: &[250.0, 700.0],
            },
        ]);
        assert!(s.unstable);
        assert_eq!(s.reasons.len(), 3, "{s:?}");
        assert!(s.reasons[0].contains("144%"), "{s:?}");
    }
}
