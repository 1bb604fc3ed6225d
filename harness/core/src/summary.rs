//! From call records to per-arm summaries: the same code serves `run`, the TUI, reports and
//! the gate, so every view shows the same numbers.

use crate::record::{ArmSummary, CallRecord, CallStatus, StopReason};
use crate::stats::{distribution, mean, median, ratio_estimate};
use std::collections::BTreeMap;

/// Summarise the records of one arm (all records passed in must belong to it).
pub fn summarise_arm(arm: &str, records: &[&CallRecord]) -> ArmSummary {
    let ok: Vec<&CallRecord> = records
        .iter()
        .copied()
        .filter(|r| r.status == CallStatus::Ok)
        .collect();
    let col = |f: fn(&CallRecord) -> f64| ok.iter().map(|r| f(r)).collect::<Vec<f64>>();
    let e2e = distribution(&col(|r| r.e2e_ms));
    let decode_ms: f64 = ok.iter().map(|r| r.decode_ms).sum();
    let decoded: usize = ok.iter().map(|r| r.decoded_tokens()).sum();
    let (agreed, total) =
        ok.iter()
            .flat_map(|r| &r.heads)
            .fold((0, 0), |(a, t), h| match h.argmax_agreed {
                Some(x) => (a + x, t + h.tokens),
                None => (a, t),
            });
    let overhead = mean(&col(|r| r.e2e_ms - r.engine_ms));
    ArmSummary {
        arm: arm.to_string(),
        protocol: records.first().map(|r| r.protocol),
        calls_ok: ok.len(),
        calls_failed: records
            .iter()
            .filter(|r| r.status == CallStatus::Failed)
            .count(),
        cases_filtered: records
            .iter()
            .filter(|r| r.status == CallStatus::Filtered)
            .count(),
        hz: if e2e.n > 0 { 1000.0 / e2e.mean } else { 0.0 },
        p50_hz: if e2e.n > 0 { 1000.0 / e2e.p50 } else { 0.0 },
        prefill: distribution(&col(|r| r.prefill_ms)),
        decode: distribution(&col(|r| r.decode_ms)),
        decode_tokens_per_s: if decode_ms > 0.0 {
            decoded as f64 / (decode_ms / 1e3)
        } else {
            0.0
        },
        mean_prefilled_tokens: mean(&col(|r| r.prefilled_tokens as f64)),
        mean_decoded_tokens: mean(&col(|r| r.decoded_tokens() as f64)),
        mean_longest_head_tokens: mean(&col(|r| {
            r.heads.iter().map(|h| h.tokens).max().unwrap_or(0) as f64
        })),
        mean_heads: mean(&col(|r| r.heads.len() as f64)),
        capped_heads: ok
            .iter()
            .flat_map(|r| &r.heads)
            .filter(|h| h.stop == StopReason::Length)
            .count(),
        mean_slot_utilisation: mean(&col(|r| r.slot_utilisation)),
        overhead_ms: overhead,
        overhead_share: overhead / e2e.mean,
        argmax_agreement: (total > 0).then(|| agreed as f64 / total as f64),
        mean_reference_tokens: {
            let v: Vec<f64> = ok
                .iter()
                .filter_map(|r| r.reference_tokens.map(|t| t as f64))
                .collect();
            (!v.is_empty()).then(|| mean(&v))
        },
        speedup_vs_baseline: None,
        parsed_calls: ok.iter().filter(|r| r.parsed.is_some()).count(),
        accuracy: None,
        e2e,
    }
}

/// Median e2e latency per case over repeats (successful calls only).
pub fn per_case_median(records: &[&CallRecord]) -> BTreeMap<String, f64> {
    let mut by_case: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.status == CallStatus::Ok) {
        by_case.entry(r.case_id.clone()).or_default().push(r.e2e_ms);
    }
    by_case.into_iter().map(|(k, v)| (k, median(&v))).collect()
}

/// Summaries of every arm (in the order given), with speed-ups over `baseline` paired by case.
pub fn summarise(
    records: &[CallRecord],
    arms: &[String],
    baseline: Option<&str>,
) -> Vec<ArmSummary> {
    let of = |arm: &str| records.iter().filter(|r| r.arm == arm).collect::<Vec<_>>();
    let base = baseline.map(|b| per_case_median(&of(b)));
    arms.iter()
        .map(|arm| {
            let recs = of(arm);
            let mut s = summarise_arm(arm, &recs);
            if let Some(base) = &base {
                let mine = per_case_median(&recs);
                let ratios: Vec<f64> = mine
                    .iter()
                    .filter_map(|(case, m)| base.get(case).map(|b| b / m))
                    .filter(|r| r.is_finite())
                    .collect();
                if !ratios.is_empty() {
                    s.speedup_vs_baseline = Some(ratio_estimate(&ratios, 0x5eed));
                }
            }
            s
        })
        .collect()
}
