//! The gate's report as a pull-request comment (Markdown) and as JUnit XML for CI systems; the
//! JSON verdict is [`GateReport::json`].

use crate::{Check, CheckKind, CheckStatus, GateReport, Method, Unit};
use quick_xml::escape::escape;
use std::fmt::Write;

fn value(v: Option<f64>, unit: Unit) -> String {
    match v {
        None => "–".into(),
        Some(v) => match unit {
            Unit::Ms => format!("{v:.1} ms"),
            Unit::Ratio => format!("{v:.3}×"),
            Unit::Percent => format!("{v:.1}%"),
            Unit::Hz => format!("{v:.2} Hz"),
            Unit::Count => format!("{v:.0}"),
        },
    }
}

fn change(c: &Check) -> String {
    let Some(e) = c.estimate else {
        return "–".into();
    };
    match c.kind {
        CheckKind::P50Latency | CheckKind::P95Latency => match c.ci95 {
            Some([lo, hi]) => format!("{e:.3} [{lo:.3}, {hi:.3}]"),
            None => format!("{e:.3}"),
        },
        CheckKind::Accuracy => format!("{e:+.2} pp"),
        CheckKind::FailedCalls => format!("{e:.0} new"),
        CheckKind::MinHz => match c.ci95 {
            Some([lo, hi]) => format!("{e:.2} Hz [{lo:.2}, {hi:.2}]"),
            None => format!("{e:.2} Hz"),
        },
    }
}

fn limit(c: &Check) -> String {
    match c.kind {
        CheckKind::P50Latency | CheckKind::P95Latency => {
            format!("≤ +{:.0}%", (c.limit - 1.0) * 100.0)
        }
        CheckKind::Accuracy => format!("drop ≤ {} pp", c.limit),
        CheckKind::FailedCalls => "none new".into(),
        CheckKind::MinHz => format!("≥ {} Hz", c.limit),
    }
}

fn icon(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "✅",
        CheckStatus::Fail => "❌",
        CheckStatus::Skipped => "➖",
    }
}

/// A Markdown summary for a pull-request comment: one table row per check.
pub fn markdown(r: &GateReport) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "## fcbench gate: {}\n", r.outcome.headline());
    let _ = writeln!(m, "- candidate: `{}`", r.candidate);
    if let Some(b) = &r.baseline {
        let _ = writeln!(m, "- baseline: `{b}`");
    }
    let _ = writeln!(m, "- method: {}", r.method.describe());
    if !r.not_comparable.is_empty() {
        let _ = writeln!(m, "\nThese runs cannot be compared:\n");
        for why in &r.not_comparable {
            let _ = writeln!(m, "- {why}");
        }
    }
    if !r.checks.is_empty() {
        let (base_col, cand_col) = match &r.method {
            Method::TwoRuns => ("Baseline", "Candidate"),
            Method::InRunReference { .. } => ("Reference arm", "Arm"),
            Method::ReferenceVsBaseline { .. } => ("Baseline (÷ ref)", "Candidate (÷ ref)"),
        };
        let _ = writeln!(
            m,
            "\n| | Scenario | Arm | Check | {base_col} | {cand_col} | Ratio or change [95% CI] | Limit |"
        );
        let _ = writeln!(m, "|---|---|---|---|---:|---:|---:|---|");
        for c in &r.checks {
            let _ = writeln!(
                m,
                "| {} | {} | `{}` | {} | {} | {} | {} | {} |",
                icon(c.status),
                c.scenario,
                c.arm,
                c.kind.label(),
                value(c.baseline, c.unit),
                value(c.candidate, c.unit),
                change(c),
                limit(c)
            );
        }
        let _ = writeln!(
            m,
            "\nA latency check fails only when its whole 95% bootstrap interval (cases resampled, paired) lies above the limit. Accuracy compares the same rows, so its change is exact."
        );
        let details: Vec<&Check> = r
            .checks
            .iter()
            .filter(|c| c.status != CheckStatus::Pass)
            .collect();
        if !details.is_empty() {
            let _ = writeln!(m);
            for c in details {
                let _ = writeln!(
                    m,
                    "- {} `{}` {}: {}",
                    icon(c.status),
                    c.arm,
                    c.kind.label(),
                    c.detail
                );
            }
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(m, "\nNotes:\n");
        for n in &r.notes {
            let _ = writeln!(m, "- {n}");
        }
    }
    m
}

/// JUnit XML: one test case per check; "not comparable" is an error case of its own.
pub fn junit(r: &GateReport) -> String {
    let failures = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    let skipped = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Skipped)
        .count();
    let errors = usize::from(!r.not_comparable.is_empty());
    let tests = r.checks.len() + errors;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"fcbench gate\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">",
        escape(r.method.describe().as_str())
    );
    if errors > 0 {
        let why = r.not_comparable.join("; ");
        let _ = writeln!(
            x,
            "    <testcase classname=\"fcbench.gate\" name=\"runs are comparable\">\n      <error message=\"{}\">{}</error>\n    </testcase>",
            escape(why.as_str()),
            escape(r.not_comparable.join("\n").as_str())
        );
    }
    for c in &r.checks {
        let _ = write!(
            x,
            "    <testcase classname=\"{}.{}\" name=\"{}\"",
            escape(c.scenario.as_str()),
            escape(c.arm.as_str()),
            escape(c.kind.label())
        );
        let detail = escape(c.detail.as_str());
        match c.status {
            CheckStatus::Pass => {
                let _ = writeln!(
                    x,
                    ">\n      <system-out>{detail}</system-out>\n    </testcase>"
                );
            }
            CheckStatus::Fail => {
                let _ = writeln!(
                    x,
                    ">\n      <failure message=\"{detail}\">{detail}</failure>\n    </testcase>"
                );
            }
            CheckStatus::Skipped => {
                let _ = writeln!(
                    x,
                    ">\n      <skipped message=\"{detail}\"/>\n    </testcase>"
                );
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
