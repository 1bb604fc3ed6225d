//! From call records to per-arm summaries: the same code serves `run`, the TUI, reports and
//! the gate, so every view shows the same numbers.

use crate::arm::ArmId;
use crate::record::{
    AccuracyDelta, AccuracySummary, ArmSummary, CallRecord, CallStatus, GroupAccuracy, StopReason,
    Verdict,
};
use crate::score::{category, CATEGORIES};
use crate::stats::{distribution, mean, median, ratio_estimate};
use std::collections::BTreeMap;

/// Summarise the records of one arm (all records passed in must belong to it).
pub fn summarise_arm(arm: &ArmId, records: &[&CallRecord]) -> ArmSummary {
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
        arm: arm.clone(),
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
        accuracy: accuracy(records),
        stability: (!ok.is_empty())
            .then(|| crate::noise::of_calls(e2e_by_case(&ok).values().map(Vec::as_slice))),
        e2e,
    }
}

/// E2e latencies of the successful calls, grouped by case (its repeats).
fn e2e_by_case<'r>(records: &[&'r CallRecord]) -> BTreeMap<&'r str, Vec<f64>> {
    let mut by_case: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.status == CallStatus::Ok) {
        by_case.entry(&r.case_id).or_default().push(r.e2e_ms);
    }
    by_case
}

/// Median e2e latency per case over repeats (successful calls only).
pub fn per_case_median(records: &[&CallRecord]) -> BTreeMap<String, f64> {
    e2e_by_case(records)
        .into_iter()
        .map(|(k, v)| (k.to_string(), median(&v)))
        .collect()
}

/// Summaries of every arm (in the order given), with speed-ups over `baseline` paired by case.
pub fn summarise(
    records: &[CallRecord],
    arms: &[ArmId],
    baseline: Option<&ArmId>,
) -> Vec<ArmSummary> {
    let of = |arm: &ArmId| records.iter().filter(|r| &r.arm == arm).collect::<Vec<_>>();
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
            if let (Some(b), Some(acc)) = (baseline, s.accuracy.as_mut()) {
                if b != arm {
                    acc.vs_baseline_pp = accuracy_delta(&recs, &of(b));
                }
            }
            s
        })
        .collect()
}

impl GroupAccuracy {
    fn add(&mut self, r: &CallRecord) {
        self.input += 1;
        match (r.status, r.verdict) {
            (CallStatus::Filtered, _) => self.filtered += 1,
            (_, None) => self.invalid_gold += 1,
            (_, Some(v)) => {
                self.scored += 1;
                self.strict += usize::from(v.strict);
                self.strict_function += usize::from(v.strict_function);
                self.legacy += usize::from(v.legacy);
                self.legacy_function += usize::from(v.legacy_function);
            }
        }
    }
}

/// Accuracy over the rows of one arm: each case once (its first repeat), failed calls counted
/// wrong, filtered and gold-less rows counted apart. `None` when nothing has gold.
pub fn accuracy(records: &[&CallRecord]) -> Option<AccuracySummary> {
    let rows: Vec<&CallRecord> = records.iter().copied().filter(|r| r.repeat == 0).collect();
    if rows.iter().all(|r| r.verdict.is_none()) {
        return None;
    }
    let mut all = GroupAccuracy {
        group: "All (micro)".into(),
        ..Default::default()
    };
    let mut by_dataset: Vec<GroupAccuracy> = Vec::new();
    let mut by_category: Vec<GroupAccuracy> = CATEGORIES
        .iter()
        .map(|c| GroupAccuracy {
            group: c.to_string(),
            ..Default::default()
        })
        .collect();
    for r in rows {
        all.add(r);
        match by_dataset.iter_mut().find(|g| g.group == r.dataset) {
            Some(g) => g.add(r),
            None => {
                let mut g = GroupAccuracy {
                    group: r.dataset.clone(),
                    ..Default::default()
                };
                g.add(r);
                by_dataset.push(g);
            }
        }
        if let Some(c) = category(&r.dataset) {
            if let Some(g) = by_category.iter_mut().find(|g| g.group == c) {
                g.add(r);
            }
        }
    }
    by_category.retain(|g| g.input > 0);
    Some(AccuracySummary {
        all,
        by_dataset,
        by_category,
        vs_baseline_pp: None,
    })
}

/// This arm's accuracy minus the baseline's, in percentage points, over the cases both scored.
pub fn accuracy_delta(arm: &[&CallRecord], baseline: &[&CallRecord]) -> Option<AccuracyDelta> {
    let verdicts = |recs: &[&CallRecord]| -> BTreeMap<String, Verdict> {
        recs.iter()
            .filter(|r| r.repeat == 0)
            .filter_map(|r| r.verdict.map(|v| (r.case_id.clone(), v)))
            .collect()
    };
    let mine = verdicts(arm);
    let base = verdicts(baseline);
    let pairs: Vec<(&Verdict, &Verdict)> = mine
        .iter()
        .filter_map(|(c, v)| base.get(c).map(|b| (v, b)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let pp = |f: fn(&Verdict) -> bool| {
        let n = pairs.len() as f64;
        let a = pairs.iter().filter(|(v, _)| f(v)).count() as f64;
        let b = pairs.iter().filter(|(_, v)| f(v)).count() as f64;
        (a - b) / n * 100.0
    };
    Some(AccuracyDelta {
        strict: pp(|v| v.strict),
        strict_function: pp(|v| v.strict_function),
        legacy: pp(|v| v.legacy),
        legacy_function: pp(|v| v.legacy_function),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(backend: &str) -> ArmId {
        ArmId::new(backend, "m", crate::protocol::Protocol::SimpleTool)
    }

    fn rec(arm: &str, case: &str, dataset: &str, status: &str, v: Option<[bool; 4]>) -> CallRecord {
        let mut r: CallRecord = serde_json::from_value(json!({
            "case_id": case, "dataset": dataset, "arm": format!("{arm}/m/simpletool"), "protocol": "simpletool",
            "mode": "free", "regime": "cold", "repeat": 0, "status": status,
            "prompt_tokens": 0, "cached_tokens": 0, "prefilled_tokens": 0, "heads": [],
            "prefill_ms": 0.0, "decode_ms": 0.0, "e2e_ms": 1.0, "engine_ms": 1.0,
            "step_ms": [], "step_batch": [], "slot_utilisation": 0.0
        }))
        .unwrap();
        r.verdict = v.map(|[a, b, c, d]| Verdict {
            strict: a,
            strict_function: b,
            legacy: c,
            legacy_function: d,
        });
        r
    }

    #[test]
    fn denominators_and_groups() {
        let t = [true; 4];
        let f = [false; 4];
        let rs = [
            rec("a", "1", "BFCL_v3_exec_simple_dataset", "ok", Some(t)),
            rec("a", "2", "BFCL_v3_exec_simple_dataset", "ok", Some(f)),
            rec("a", "3", "BFCL_v3_exec_multiple_dataset", "ok", None),
            rec("a", "4", "BFCL_v3_exec_multiple_dataset", "filtered", None),
            rec("a", "5", "mobile_actions", "failed", Some(f)),
        ];
        let mut repeat = rec("a", "1", "BFCL_v3_exec_simple_dataset", "ok", Some(f));
        repeat.repeat = 1;
        let mut refs: Vec<&CallRecord> = rs.iter().collect();
        refs.push(&repeat);
        let a = accuracy(&refs).unwrap();
        assert_eq!(
            (
                a.all.input,
                a.all.filtered,
                a.all.invalid_gold,
                a.all.scored
            ),
            (5, 1, 1, 3),
            "each case once; failed calls scored wrong"
        );
        assert_eq!(a.all.strict, 1);
        let names: Vec<_> = a.by_dataset.iter().map(|g| g.group.as_str()).collect();
        assert_eq!(
            names,
            [
                "BFCL_v3_exec_simple_dataset",
                "BFCL_v3_exec_multiple_dataset",
                "mobile_actions"
            ]
        );
        let cats: Vec<_> = a
            .by_category
            .iter()
            .map(|g| (g.group.as_str(), g.scored))
            .collect();
        assert_eq!(cats, [("BFCL Exec", 2), ("Mobile Actions", 1)]);
    }

    #[test]
    fn an_arm_without_a_successful_call_round_trips_through_summary_json() {
        // Ctrl-C in the first case, every case filtered or failed: the means over no call are
        // NaN, which JSON writes as null; reading it back must give "no data", not an error.
        let rs = [
            rec("a", "1", "d", "failed", None),
            rec("a", "2", "d", "filtered", None),
        ];
        let s = summarise_arm(&id("a"), &rs.iter().collect::<Vec<_>>());
        let text = serde_json::to_string_pretty(&s).unwrap();
        assert!(text.contains("null"), "{text}");
        let back: ArmSummary = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (back.calls_ok, back.calls_failed, back.cases_filtered),
            (0, 1, 1)
        );
        assert!(back.mean_heads.is_nan() && back.overhead_share.is_nan());
        // Absent fields read as no data too (an older or hand-trimmed file).
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v.as_object_mut().unwrap().remove("mean_heads");
        let back: ArmSummary = serde_json::from_value(v).unwrap();
        assert!(back.mean_heads.is_nan());
    }

    #[test]
    fn no_gold_no_accuracy() {
        let rs = [rec("a", "1", "game", "ok", None)];
        assert!(accuracy(&rs.iter().collect::<Vec<_>>()).is_none());
    }

    #[test]
    fn delta_to_baseline_uses_rows_both_scored() {
        let t = [true; 4];
        let f = [false; 4];
        let rs = [
            rec("arm", "1", "d", "ok", Some(t)),
            rec("arm", "2", "d", "ok", Some(t)),
            rec("arm", "3", "d", "ok", Some(t)), // baseline has no verdict here
            rec("base", "1", "d", "ok", Some(t)),
            rec("base", "2", "d", "ok", Some(f)),
            rec("base", "3", "d", "ok", None),
        ];
        let s = summarise(&rs, &[id("arm"), id("base")], Some(&id("base")));
        let d = s[0].accuracy.as_ref().unwrap().vs_baseline_pp.unwrap();
        assert_eq!(d.strict, 50.0);
        assert!(s[1].accuracy.as_ref().unwrap().vs_baseline_pp.is_none());
    }
}
