//! Comparability checks and the statistics behind each check.

use crate::{Check, CheckKind, CheckStatus, GateReport, Method, Outcome, Thresholds, Unit};
use fcbench_core::record::{CallRecord, CallStatus};
use fcbench_core::rundir::LoadedRun;
use fcbench_core::stats::{bootstrap_ci, percentile_sorted, ratio_estimate};
use std::collections::{BTreeMap, BTreeSet};

/// Bootstrap resamples per interval; fixed seed, so the same runs always give the same verdict.
const RESAMPLES: usize = 2000;
const SEED: u64 = 0x6a7e;

/// What to compare: a baseline run, a reference arm, or both.
pub struct GateInput<'a> {
    pub baseline: Option<&'a LoadedRun>,
    pub candidate: &'a LoadedRun,
    /// Arm label, or a suffix of one such as the protocol name (`functiongemma`).
    pub reference: Option<&'a str>,
}

/// Successful e2e latencies of one arm, by case.
type Samples = BTreeMap<String, Vec<f64>>;

fn samples(run: &LoadedRun, arm: &str) -> Samples {
    let mut by_case: Samples = BTreeMap::new();
    for r in run
        .calls
        .iter()
        .filter(|r| r.arm == *arm && r.status == CallStatus::Ok)
    {
        by_case.entry(r.case_id.clone()).or_default().push(r.e2e_ms);
    }
    by_case
}

/// Calls of one arm by (case, repeat); filtered cases never ran, so they are left out.
fn rows<'r>(run: &'r LoadedRun, arm: &str) -> BTreeMap<(&'r str, u32), &'r CallRecord> {
    run.calls
        .iter()
        .filter(|r| r.arm == *arm && r.status != CallStatus::Filtered)
        .map(|r| ((r.case_id.as_str(), r.repeat), r))
        .collect()
}

/// A ratio of latency percentiles with its case-resampled bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct RatioCi {
    pub candidate: f64,
    pub baseline: f64,
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub cases: usize,
}

/// `pct`-th percentile of each side, where a side is a product of arms' percentiles raised to
/// ±1 (one arm, or arm ÷ reference), and the candidate/baseline ratio of the two, over the
/// cases common to every arm involved (paired by case).
///
/// `per_case`: the estimate is the median of per-case ratios (each case's own percentile), with
/// the bootstrap interval of that median. Otherwise the ratio of percentiles of the pooled
/// calls, its interval from resampling whole cases (all arms at once).
pub(crate) fn percentile_ratio(
    candidate: &[(&Samples, bool)],
    baseline: &[(&Samples, bool)],
    pct: f64,
    per_case: bool,
) -> Option<RatioCi> {
    let all_terms = || candidate.iter().chain(baseline);
    let (first, _) = candidate.first()?;
    let cases: Vec<&String> = first
        .keys()
        .filter(|c| all_terms().all(|(s, _)| s.get(*c).is_some_and(|v| !v.is_empty())))
        .collect();
    if cases.is_empty() {
        return None;
    }
    let side = |terms: &[(&Samples, bool)], idx: &[f64]| -> f64 {
        terms
            .iter()
            .map(|(s, numerator)| {
                let mut v: Vec<f64> = idx
                    .iter()
                    .flat_map(|&i| s[cases[i as usize]].iter().copied())
                    .collect();
                v.sort_by(f64::total_cmp);
                let p = percentile_sorted(&v, pct);
                if *numerator {
                    p
                } else {
                    1.0 / p
                }
            })
            .product()
    };
    let idx: Vec<f64> = (0..cases.len()).map(|i| i as f64).collect();
    let ratio = |idx: &[f64]| side(candidate, idx) / side(baseline, idx);
    let (estimate, lo, hi) = if per_case {
        // One ratio per case: cases of very different lengths then cannot trade places around
        // the pooled percentile, which makes the interval far tighter.
        let ratios: Vec<f64> = (0..cases.len())
            .map(|i| ratio(&[i as f64]))
            .filter(|r| r.is_finite())
            .collect();
        let r = ratio_estimate(&ratios, SEED);
        (r.median, r.ci95_low, r.ci95_high)
    } else {
        // The bootstrap resamples case indices; the statistic looks the cases' calls up.
        let (lo, hi) = bootstrap_ci(&idx, ratio, RESAMPLES, SEED);
        (ratio(&idx), lo, hi)
    };
    Some(RatioCi {
        candidate: side(candidate, &idx),
        baseline: side(baseline, &idx),
        estimate,
        lo,
        hi,
        cases: cases.len(),
    })
}

/// Resolve `name` to an arm label of `run`: the label itself, or the one label ending in
/// `/name` (so `functiongemma` finds `llama/gemma3-270m/functiongemma`).
fn resolve_arm(run: &LoadedRun, name: &str) -> Result<String, String> {
    let labels: Vec<String> = run
        .manifest
        .arms
        .iter()
        .map(|a| a.label.to_string())
        .collect();
    if labels.iter().any(|l| l == name) {
        return Ok(name.to_string());
    }
    let suffix = format!("/{name}");
    let hits: Vec<&String> = labels.iter().filter(|l| l.ends_with(&suffix)).collect();
    match hits.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(format!(
            "{}: no arm `{name}` (arms: {})",
            run.path.display(),
            labels.join(", ")
        )),
        many => Err(format!(
            "{}: `{name}` matches several arms ({}); give the full label",
            run.path.display(),
            many.iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Everything that makes two runs measure different things (→ not comparable), and the
/// differences that only deserve a note.
fn comparability(
    base: &LoadedRun,
    cand: &LoadedRun,
    not_comparable: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let (b, c) = (&base.manifest, &cand.manifest);
    if b.schema != c.schema {
        not_comparable.push(format!(
            "record schema differs: baseline {} vs candidate {}",
            b.schema, c.schema
        ));
    }
    if b.scenario.name != c.scenario.name {
        not_comparable.push(format!(
            "different scenarios: baseline `{}` vs candidate `{}`",
            b.scenario.name, c.scenario.name
        ));
    }
    let digests = |m: &fcbench_core::record::Manifest| -> BTreeSet<String> {
        m.scenario.files.iter().map(|f| f.sha256.clone()).collect()
    };
    if digests(b) != digests(c) {
        let show = |m: &fcbench_core::record::Manifest| {
            m.scenario
                .files
                .iter()
                .map(|f| format!("{} ({})", f.path, &f.sha256[..f.sha256.len().min(12)]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        not_comparable.push(format!(
            "scenario files differ (SHA-256): baseline {} vs candidate {}",
            show(b),
            show(c)
        ));
    }
    let (bs, cs) = (&b.settings, &c.settings);
    if bs.mode != cs.mode {
        not_comparable.push(format!(
            "different decode mode: baseline `{}` vs candidate `{}`",
            bs.mode, cs.mode
        ));
    }
    if bs.regime != cs.regime {
        not_comparable.push(format!(
            "different cache regime: baseline `{}` vs candidate `{}`",
            bs.regime, cs.regime
        ));
    }
    // These change how much work a call does: exactly what a regression can be, so they are
    // gated, with a note saying why the numbers moved.
    for (name, bv, cv) in [
        (
            "per-head token cap",
            bs.max_head_tokens.to_string(),
            cs.max_head_tokens.to_string(),
        ),
        (
            "content head",
            bs.content_head.to_string(),
            cs.content_head.to_string(),
        ),
        (
            "marker tokens",
            bs.map_markers.to_string(),
            cs.map_markers.to_string(),
        ),
    ] {
        if bv != cv {
            notes.push(format!("{name} differs: baseline {bv} vs candidate {cv}"));
        }
    }
    if bs.threads != cs.threads {
        notes.push(format!(
            "threads differ: baseline {} vs candidate {}",
            bs.threads, cs.threads
        ));
    }
    if (bs.limit, bs.seed) != (cs.limit, cs.seed) {
        notes.push(
            "case selection differs (--limit/--seed): only cases present in both runs are paired"
                .into(),
        );
    }
    if b.machine.hostname != c.machine.hostname || b.machine.cpu_model != c.machine.cpu_model {
        notes.push(format!(
            "recorded on different machines ({} / {} vs {} / {}): absolute latencies say little; prefer --reference",
            b.machine.hostname, b.machine.cpu_model, c.machine.hostname, c.machine.cpu_model
        ));
    }
    for ba in &b.arms {
        if let Some(ca) = c.arms.iter().find(|a| a.label == ba.label) {
            if ba.backend_info.model_sha256 != ca.backend_info.model_sha256 {
                not_comparable.push(format!(
                    "arm `{}`: different model weights (SHA-256 {} vs {})",
                    ba.label,
                    short(&ba.backend_info.model_sha256),
                    short(&ca.backend_info.model_sha256)
                ));
            }
        }
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Compare, and say plainly why not when the runs cannot be compared.
pub fn gate(input: &GateInput, t: &Thresholds) -> GateReport {
    let cand = input.candidate;
    let mut not_comparable = Vec::new();
    let mut notes = Vec::new();
    let reference = input
        .reference
        .map(|r| resolve_arm(cand, r))
        .transpose()
        .unwrap_or_else(|e| {
            not_comparable.push(e);
            None
        });
    let method = match (&input.baseline, &reference) {
        (Some(_), None) => Method::TwoRuns,
        (None, Some(r)) => Method::InRunReference {
            reference: r.clone(),
        },
        (Some(_), Some(r)) => Method::ReferenceVsBaseline {
            reference: r.clone(),
        },
        (None, None) => {
            if input.reference.is_none() {
                not_comparable.push(
                    "nothing to compare against: give a baseline run, a reference arm, or both"
                        .into(),
                );
            }
            Method::InRunReference {
                reference: input.reference.unwrap_or_default().to_string(),
            }
        }
    };
    let mut report = GateReport {
        outcome: Outcome::Pass,
        method: method.clone(),
        baseline: input.baseline.map(|b| b.path.display().to_string()),
        candidate: cand.path.display().to_string(),
        thresholds: t.clone(),
        checks: Vec::new(),
        not_comparable: Vec::new(),
        notes: Vec::new(),
    };
    if let Some(base) = input.baseline {
        comparability(base, cand, &mut not_comparable, &mut notes);
        notes.extend(base.warnings.iter().map(|w| format!("baseline: {w}")));
    }
    notes.extend(cand.warnings.iter().map(|w| format!("candidate: {w}")));
    for (side, run) in [("candidate", Some(cand)), ("baseline", input.baseline)] {
        let Some(run) = run else { continue };
        for arm in &run.manifest.arms {
            if samples(run, &arm.label.to_string()).is_empty() {
                notes.push(format!(
                    "{side}: arm `{}` has no successful calls",
                    arm.label
                ));
            }
        }
    }
    let cand_arms: Vec<String> = cand
        .manifest
        .arms
        .iter()
        .map(|a| a.label.to_string())
        .collect();
    let gated: Vec<String> = match (&method, input.baseline) {
        (Method::TwoRuns, Some(base)) => {
            for a in cand_arms
                .iter()
                .filter(|a| !base.manifest.arms.iter().any(|b| b.label == ***a))
            {
                notes.push(format!("arm `{a}` is new in the candidate: not gated"));
            }
            base.manifest
                .arms
                .iter()
                .map(|a| a.label.to_string())
                .collect()
        }
        (Method::ReferenceVsBaseline { reference }, Some(base)) => {
            if !base.manifest.arms.iter().any(|a| a.label == **reference) {
                not_comparable.push(format!(
                    "the baseline run has no reference arm `{reference}`"
                ));
            }
            base.manifest
                .arms
                .iter()
                .map(|a| a.label.to_string())
                .filter(|a| a != reference)
                .collect()
        }
        (Method::InRunReference { reference }, _) => cand_arms
            .iter()
            .filter(|a| *a != reference)
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    for arm in &gated {
        if !cand_arms.contains(arm) {
            not_comparable.push(format!(
                "arm `{arm}` is in the baseline but not in the candidate"
            ));
        }
    }
    // A figure taken on a busy machine is not the engine's: unless told otherwise, a candidate
    // whose gated (or reference) arms are flagged unstable is not compared.
    let involved = gated.iter().map(String::as_str).chain(reference.as_deref());
    for arm in involved.filter(|a| cand_arms.iter().any(|c| c == a)) {
        let by_case = samples(cand, arm);
        let stability = fcbench_core::noise::of_calls(by_case.values().map(Vec::as_slice));
        if let Some(w) = stability.warning() {
            if t.allow_unstable {
                notes.push(format!(
                    "candidate arm `{arm}`: {w} (gated anyway: --allow-unstable)"
                ));
            } else {
                not_comparable.push(format!(
                    "candidate arm `{arm}`: {w} (--allow-unstable gates it anyway)"
                ));
            }
        }
    }
    if let Some(base) = input.baseline {
        for arm in &base.manifest.arms {
            let by_case = samples(base, &arm.label.to_string());
            if let Some(w) =
                fcbench_core::noise::of_calls(by_case.values().map(Vec::as_slice)).warning()
            {
                notes.push(format!("baseline arm `{}`: {w}", arm.label));
            }
        }
    }
    if not_comparable.is_empty() && gated.is_empty() {
        not_comparable.push("no arm to gate: the run holds only the reference arm".into());
    }
    if !not_comparable.is_empty() {
        report.outcome = Outcome::NotComparable;
        report.not_comparable = not_comparable;
        report.notes = notes;
        return report;
    }
    let scenario = cand.manifest.scenario.name.clone();
    for arm in &gated {
        report
            .checks
            .extend(arm_checks(input, &method, &scenario, arm, t));
    }
    // An arm whose latency could not be compared at all was not gated on what the gate is
    // for, whatever its accuracy checks say.
    let unmeasured: Vec<&String> = gated
        .iter()
        .filter(|arm| {
            report.checks.iter().any(|c| &c.arm == *arm)
                && report
                    .checks
                    .iter()
                    .filter(|c| &c.arm == *arm)
                    .filter(|c| matches!(c.kind, CheckKind::P50Latency | CheckKind::P95Latency))
                    .all(|c| c.status == CheckStatus::Skipped)
        })
        .collect();
    if report.checks.iter().any(|c| c.status == CheckStatus::Fail) {
        report.outcome = Outcome::Regression;
    } else if report
        .checks
        .iter()
        .all(|c| c.status == CheckStatus::Skipped)
    {
        // A gate that checked nothing has not passed anything (e.g. the reference arm's
        // records are missing, so no case pairs).
        report.outcome = Outcome::NotComparable;
        report.not_comparable.push(format!(
            "no check could be performed ({} skipped): {}",
            report.checks.len(),
            report
                .checks
                .first()
                .map_or("there was nothing to check".into(), |c| c.detail.clone())
        ));
    } else if !unmeasured.is_empty() {
        report.outcome = Outcome::NotComparable;
        for arm in unmeasured {
            report.not_comparable.push(format!(
                "arm `{arm}`: no latency check could be performed (no case has successful calls on both sides)"
            ));
        }
    }
    report.notes = notes;
    report
}

fn arm_checks(
    input: &GateInput,
    method: &Method,
    scenario: &str,
    arm: &str,
    t: &Thresholds,
) -> Vec<Check> {
    let cand = input.candidate;
    let cand_arm = samples(cand, arm);
    // The comparator for accuracy and failures: the same arm of the baseline run, or the
    // reference arm of the same run (accuracy does not drift with machine speed).
    let (lat_base, unit, acc_run, acc_arm);
    let (cand_ref, base_arm, base_ref);
    let lat_cand: Vec<(&Samples, bool)>;
    match method {
        Method::TwoRuns => {
            let base = input.baseline.expect("two runs have a baseline");
            base_arm = samples(base, arm);
            lat_cand = vec![(&cand_arm, true)];
            lat_base = vec![(&base_arm, true)];
            unit = Unit::Ms;
            (acc_run, acc_arm) = (base, arm.to_string());
        }
        Method::InRunReference { reference } => {
            cand_ref = samples(cand, reference);
            lat_cand = vec![(&cand_arm, true)];
            lat_base = vec![(&cand_ref, true)];
            unit = Unit::Ms;
            (acc_run, acc_arm) = (cand, reference.clone());
        }
        Method::ReferenceVsBaseline { reference } => {
            let base = input.baseline.expect("this method has a baseline");
            cand_ref = samples(cand, reference);
            base_arm = samples(base, arm);
            base_ref = samples(base, reference);
            lat_cand = vec![(&cand_arm, true), (&cand_ref, false)];
            lat_base = vec![(&base_arm, true), (&base_ref, false)];
            unit = Unit::Ratio;
            (acc_run, acc_arm) = (base, arm.to_string());
        }
    }
    let check = |kind, unit| Check {
        scenario: scenario.to_string(),
        arm: arm.to_string(),
        kind,
        status: CheckStatus::Skipped,
        unit,
        baseline: None,
        candidate: None,
        estimate: None,
        ci95: None,
        limit: 0.0,
        n: 0,
        detail: String::new(),
    };
    let mut out = Vec::new();
    // P50: the typical case's slowdown (median of per-case ratios). P95: the tail of all calls
    // pooled, since a few slow cases are exactly what a tail regression looks like.
    for (kind, pct, max, per_case) in [
        (CheckKind::P50Latency, 50.0, t.max_p50_regression, true),
        (CheckKind::P95Latency, 95.0, t.max_p95_regression, false),
    ] {
        let mut c = check(kind, unit);
        c.limit = 1.0 + max;
        match percentile_ratio(&lat_cand, &lat_base, pct, per_case) {
            None => c.detail = "no case has successful calls on both sides".into(),
            Some(r) if r.cases < 2 => {
                c.n = r.cases;
                c.detail = "needs at least two paired cases for an interval".into();
            }
            Some(r) => {
                c.baseline = Some(r.baseline);
                c.candidate = Some(r.candidate);
                c.estimate = Some(r.estimate);
                c.ci95 = Some([r.lo, r.hi]);
                c.n = r.cases;
                let shown = format!(
                    "ratio {:.3} (95% CI {:.3}–{:.3}) over {} paired cases",
                    r.estimate, r.lo, r.hi, r.cases
                );
                if r.lo > c.limit {
                    c.status = CheckStatus::Fail;
                    c.detail = format!("{shown}: the whole interval is above {:.3}", c.limit);
                } else {
                    c.status = CheckStatus::Pass;
                    c.detail = if r.estimate > c.limit {
                        format!("{shown}: above {:.3}, but within the noise", c.limit)
                    } else {
                        format!("{shown}: within {:.3}", c.limit)
                    };
                }
            }
        }
        out.push(c);
    }
    let cand_rows = rows(cand, arm);
    let base_rows = rows(acc_run, &acc_arm);
    let common: Vec<_> = cand_rows
        .iter()
        .filter_map(|(k, c)| base_rows.get(k).map(|b| (*b, *c)))
        .collect();

    let mut c = check(CheckKind::Accuracy, Unit::Percent);
    c.limit = t.max_accuracy_drop_pp;
    let scored: Vec<_> = common
        .iter()
        .filter(|(b, c)| b.verdict.is_some() || c.verdict.is_some())
        .collect();
    if scored.is_empty() {
        c.detail = "no scored rows (no gold answers, or no verdicts recorded)".into();
    } else {
        let pct = |correct: usize| correct as f64 * 100.0 / scored.len() as f64;
        let strict = |r: &CallRecord| r.verdict.is_some_and(|v| v.strict);
        let b = pct(scored.iter().filter(|(b, _)| strict(b)).count());
        let cc = pct(scored.iter().filter(|(_, c)| strict(c)).count());
        let change = cc - b;
        c.baseline = Some(b);
        c.candidate = Some(cc);
        c.estimate = Some(change);
        c.n = scored.len();
        // Same rows on both sides, so the change is exact: no interval needed.
        if -change > t.max_accuracy_drop_pp + 1e-9 {
            c.status = CheckStatus::Fail;
            c.detail = format!(
                "{change:+.2} pp on the same {} rows: a drop of more than {} pp",
                scored.len(),
                t.max_accuracy_drop_pp
            );
        } else {
            c.status = CheckStatus::Pass;
            c.detail = format!("{change:+.2} pp on the same {} rows", scored.len());
        }
    }
    out.push(c);

    let mut c = check(CheckKind::FailedCalls, Unit::Count);
    if common.is_empty() {
        c.detail = "no rows in common".into();
    } else {
        let failed = |r: &CallRecord| r.status == CallStatus::Failed;
        let newly = common
            .iter()
            .filter(|(b, c)| failed(c) && !failed(b))
            .count();
        c.baseline = Some(common.iter().filter(|(b, _)| failed(b)).count() as f64);
        c.candidate = Some(common.iter().filter(|(_, c)| failed(c)).count() as f64);
        c.estimate = Some(newly as f64);
        c.n = common.len();
        c.status = if newly > 0 {
            CheckStatus::Fail
        } else {
            CheckStatus::Pass
        };
        c.detail = format!("{newly} rows fail that succeed on the comparator");
    }
    out.push(c);

    if let Some(min_hz) = t.min_hz {
        let mut c = check(CheckKind::MinHz, Unit::Hz);
        c.limit = min_hz;
        let ms = vec![(&cand_arm, true)];
        // 1/latency ÷ nothing: a one-sided "ratio" whose denominator is 1.
        match percentile_ratio(&ms, &[], 50.0, false) {
            Some(r) if r.cases >= 2 => {
                let (lo, hi) = (1000.0 / r.hi, 1000.0 / r.lo);
                c.candidate = Some(1000.0 / r.estimate);
                c.estimate = c.candidate;
                c.ci95 = Some([lo, hi]);
                c.n = r.cases;
                let shown = format!(
                    "{:.2} Hz at P50 (95% CI {lo:.2}–{hi:.2})",
                    1000.0 / r.estimate
                );
                if hi < min_hz {
                    c.status = CheckStatus::Fail;
                    c.detail = format!("{shown}: the whole interval is below {min_hz} Hz");
                } else {
                    c.status = CheckStatus::Pass;
                    c.detail = format!("{shown}: not below {min_hz} Hz");
                }
            }
            _ => c.detail = "needs at least two cases with successful calls".into(),
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cases: &[(&str, &[f64])]) -> Samples {
        cases
            .iter()
            .map(|(c, v)| (c.to_string(), v.to_vec()))
            .collect()
    }

    #[test]
    fn ratio_pairs_cases_and_ignores_unpaired_ones() {
        let base = s(&[("a", &[10.0, 10.0]), ("b", &[100.0, 100.0]), ("c", &[50.0])]);
        let cand = s(&[("a", &[20.0, 20.0]), ("b", &[200.0, 200.0]), ("z", &[1.0])]);
        let r = percentile_ratio(&[(&cand, true)], &[(&base, true)], 50.0, false).unwrap();
        assert_eq!(r.cases, 2);
        assert_eq!(r.estimate, 2.0);
        // Every case doubled: every resample gives exactly 2.
        assert_eq!((r.lo, r.hi), (2.0, 2.0));
    }

    #[test]
    fn in_run_ratio_cancels_a_machine_slowdown() {
        // The candidate run ran on a machine 1.5× slower, arm and reference alike.
        let base_arm = s(&[("a", &[10.0]), ("b", &[20.0]), ("c", &[30.0])]);
        let base_ref = s(&[("a", &[20.0]), ("b", &[40.0]), ("c", &[60.0])]);
        let cand_arm = s(&[("a", &[15.0]), ("b", &[30.0]), ("c", &[45.0])]);
        let cand_ref = s(&[("a", &[30.0]), ("b", &[60.0]), ("c", &[90.0])]);
        let r = percentile_ratio(
            &[(&cand_arm, true), (&cand_ref, false)],
            &[(&base_arm, true), (&base_ref, false)],
            50.0,
            true,
        )
        .unwrap();
        assert!((r.estimate - 1.0).abs() < 1e-12, "{r:?}");
        assert!((r.baseline - 0.5).abs() < 1e-12);
    }
}
