//! fcbench's CI regression gate.
//!
//! Two recorded runs on a shared machine differ in absolute speed for reasons that have nothing
//! to do with the code, so the gate declares a latency regression only when a bootstrap 95%
//! interval of the candidate/baseline ratio lies entirely beyond the limit. The interval
//! resamples *cases* (all repeats of a case move together, in every run and arm at once), so the
//! comparison is paired by case and case-to-case differences in prompt length cancel out.
//!
//! Three ways to compare (see [`Method`]): two runs in absolute time; one run's arms against a
//! reference arm measured interleaved with them (A B A B), which machine drift cannot fake; and
//! the change of that in-run ratio between a baseline run and a candidate run.

mod compare;
mod format;

pub use compare::{gate, GateInput};
pub use format::{junit, markdown};

use serde::{Deserialize, Serialize};

/// Limits a candidate must stay within.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Largest tolerated P50 latency increase, as a fraction (0.05 = +5%).
    pub max_p50_regression: f64,
    /// Largest tolerated P95 latency increase, as a fraction.
    pub max_p95_regression: f64,
    /// Largest tolerated drop of strict accuracy, in percentage points.
    pub max_accuracy_drop_pp: f64,
    /// Slowest acceptable call rate (1000 / P50 ms), if any.
    pub min_hz: Option<f64>,
    /// Gate a candidate whose timings are flagged unstable (`fcbench_core::noise`) instead of
    /// calling it not comparable.
    #[serde(default)]
    pub allow_unstable: bool,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_p50_regression: 0.05,
            max_p95_regression: 0.10,
            max_accuracy_drop_pp: 0.5,
            min_hz: None,
            allow_unstable: false,
        }
    }
}

/// How the candidate is compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Each arm of the candidate run against the same arm of the baseline run, in absolute time.
    TwoRuns,
    /// Each arm of one run against the reference arm measured interleaved with it.
    InRunReference { reference: String },
    /// The in-run ratio to the reference arm, candidate run against baseline run.
    ReferenceVsBaseline { reference: String },
}

impl Method {
    pub fn describe(&self) -> String {
        match self {
            Method::TwoRuns => "two runs, absolute latency".into(),
            Method::InRunReference { reference } => {
                format!("in-run ratio to the interleaved reference arm `{reference}`")
            }
            Method::ReferenceVsBaseline { reference } => format!(
                "change of the in-run ratio to the reference arm `{reference}`, candidate vs baseline"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    P50Latency,
    P95Latency,
    Accuracy,
    FailedCalls,
    MinHz,
}

impl CheckKind {
    pub fn label(self) -> &'static str {
        match self {
            CheckKind::P50Latency => "P50 latency",
            CheckKind::P95Latency => "P95 latency",
            CheckKind::Accuracy => "accuracy (strict)",
            CheckKind::FailedCalls => "failed calls",
            CheckKind::MinHz => "call rate",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// Nothing to compare (no gold answers, no paired cases).
    Skipped,
}

/// Unit of a check's values, for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ms,
    /// A dimensionless latency ratio (the in-run ratio to a reference arm).
    Ratio,
    Percent,
    Hz,
    Count,
}

/// One check of one arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub scenario: String,
    pub arm: String,
    pub kind: CheckKind,
    pub status: CheckStatus,
    pub unit: Unit,
    /// The comparator's value (baseline run, or reference arm), in `unit`.
    pub baseline: Option<f64>,
    /// The candidate's value, in `unit`.
    pub candidate: Option<f64>,
    /// Latency checks: candidate / comparator ratio; accuracy: change in pp; failed calls: new
    /// failures; call rate: Hz.
    pub estimate: Option<f64>,
    /// Bootstrap 95% interval of `estimate` (latency and call rate).
    pub ci95: Option<[f64; 2]>,
    /// The limit `estimate` is held to (a ratio for latency, pp for accuracy, Hz for rate).
    pub limit: f64,
    /// Cases paired (latency) or rows compared (accuracy, failures).
    pub n: usize,
    /// One plain sentence: what was found and why it passed or failed.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Regression,
    NotComparable,
}

impl Outcome {
    /// 0 pass, 1 regression, 2 not comparable.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Regression => 1,
            Outcome::NotComparable => 2,
        }
    }

    pub fn headline(self) -> &'static str {
        match self {
            Outcome::Pass => "✅ pass",
            Outcome::Regression => "❌ regression",
            Outcome::NotComparable => "⚠️ not comparable",
        }
    }
}

/// The gate's verdict, as stored in the JSON output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    pub outcome: Outcome,
    pub method: Method,
    pub baseline: Option<String>,
    pub candidate: String,
    pub thresholds: Thresholds,
    pub checks: Vec<Check>,
    /// Why the runs cannot be compared (non-empty exactly when the outcome says so).
    pub not_comparable: Vec<String>,
    /// Differences that do not block the comparison but are worth knowing.
    pub notes: Vec<String>,
}

impl GateReport {
    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialise") + "\n"
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LimitError {
    #[error("`{0}`: expected a percentage such as `5%`")]
    Percent(String),
    #[error("`{0}`: expected percentage points such as `0.5pp`")]
    Points(String),
}

/// `5%` (or `5`) → 0.05.
pub fn parse_percent(s: &str) -> Result<f64, LimitError> {
    let t = s.trim();
    let num = t.strip_suffix('%').unwrap_or(t).trim();
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / 100.0),
        _ => Err(LimitError::Percent(s.into())),
    }
}

/// `0.5pp` (or `0.5`) → 0.5.
pub fn parse_points(s: &str) -> Result<f64, LimitError> {
    let t = s.trim();
    let num = t.strip_suffix("pp").unwrap_or(t).trim();
    match num.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(LimitError::Points(s.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_with_and_without_units() {
        assert_eq!(parse_percent("5%"), Ok(0.05));
        assert_eq!(parse_percent("10"), Ok(0.10));
        assert_eq!(parse_points("0.5pp"), Ok(0.5));
        assert_eq!(parse_points("2"), Ok(2.0));
        assert!(parse_percent("five").is_err());
        assert!(parse_points("-1pp").is_err());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Outcome::Pass.exit_code(), 0);
        assert_eq!(Outcome::Regression.exit_code(), 1);
        assert_eq!(Outcome::NotComparable.exit_code(), 2);
    }
}
