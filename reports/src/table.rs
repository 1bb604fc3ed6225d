//! The paper table: rows are arms (model · backend · protocol), columns chosen by the user.
//! Built once from [`Group`] data; each export format (Markdown, LaTeX, CSV, HTML) lives in its
//! own module and implements [`TableExporter`].

use crate::data::{ArmView, Group};
use crate::ReportError;
use std::fmt;
use std::str::FromStr;

/// A column a table can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    P50,
    P95,
    Mean,
    /// Serial rate, 1000 / mean latency.
    Hz,
    /// Baseline latency / arm latency per case: median with bootstrap 95% interval.
    Speedup,
    /// Step efficiency from the head sweep at the arm's head count.
    HeadEff,
    /// Σ head tokens / (heads × longest head).
    SlotUtil,
    Strict,
    Legacy,
    /// Mean decoded tokens per call, all heads.
    Tokens,
    /// Successful calls.
    N,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::P50,
        Column::P95,
        Column::Mean,
        Column::Hz,
        Column::Speedup,
        Column::HeadEff,
        Column::SlotUtil,
        Column::Strict,
        Column::Legacy,
        Column::Tokens,
        Column::N,
    ];
    /// `fcbench table`'s default columns.
    pub const DEFAULT: [Column; 7] = [
        Column::P50,
        Column::P95,
        Column::Hz,
        Column::Speedup,
        Column::Strict,
        Column::Legacy,
        Column::Tokens,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Column::P50 => "p50",
            Column::P95 => "p95",
            Column::Mean => "mean",
            Column::Hz => "hz",
            Column::Speedup => "speedup",
            Column::HeadEff => "head-eff",
            Column::SlotUtil => "slot-util",
            Column::Strict => "strict",
            Column::Legacy => "legacy",
            Column::Tokens => "tokens",
            Column::N => "n",
        }
    }

    /// Header shown in rendered tables.
    pub fn header(self) -> &'static str {
        match self {
            Column::P50 => "P50 (ms)",
            Column::P95 => "P95 (ms)",
            Column::Mean => "Mean (ms)",
            Column::Hz => "Hz",
            Column::Speedup => "Speed-up",
            Column::HeadEff => "Head eff.",
            Column::SlotUtil => "Slot util.",
            Column::Strict => "Strict acc.",
            Column::Legacy => "Legacy acc.",
            Column::Tokens => "Tokens",
            Column::N => "N",
        }
    }

    /// Which way is better, for `--bold-best`.
    fn higher_is_better(self) -> bool {
        matches!(
            self,
            Column::Hz
                | Column::Speedup
                | Column::HeadEff
                | Column::SlotUtil
                | Column::Strict
                | Column::Legacy
        )
    }

    fn comparable(self) -> bool {
        self != Column::N
    }

    fn value(self, arm: &ArmView) -> Value {
        let s = &arm.summary;
        let num = |x: f64| {
            if s.e2e.n == 0 || !x.is_finite() {
                Value::Missing
            } else {
                Value::Num(x)
            }
        };
        match self {
            Column::P50 => num(s.e2e.p50),
            Column::P95 => num(s.e2e.p95),
            Column::Mean => num(s.e2e.mean),
            Column::Hz => num(s.hz),
            Column::Speedup => {
                if arm.is_baseline {
                    Value::Baseline
                } else {
                    match &s.speedup_vs_baseline {
                        Some(r) => Value::Ratio {
                            median: r.median,
                            lo: r.ci95_low,
                            hi: r.ci95_high,
                        },
                        None => Value::Missing,
                    }
                }
            }
            Column::HeadEff => arm.head_efficiency.map_or(Value::Missing, Value::Percent),
            Column::SlotUtil => {
                if s.e2e.n == 0 {
                    Value::Missing
                } else {
                    Value::Percent(s.mean_slot_utilisation)
                }
            }
            Column::Strict => arm
                .strict_legacy()
                .map_or(Value::Missing, |(st, _)| Value::Percent(st)),
            Column::Legacy => arm
                .strict_legacy()
                .map_or(Value::Missing, |(_, l)| Value::Percent(l)),
            Column::Tokens => num(s.mean_decoded_tokens),
            Column::N => Value::Count(s.calls_ok),
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Column {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let k = s.trim().to_ascii_lowercase();
        Column::ALL
            .into_iter()
            .find(|c| c.key() == k || (k == "head-efficiency" && *c == Column::HeadEff))
            .ok_or_else(|| {
                format!(
                    "unknown column `{s}`; choose from {}",
                    Column::ALL.map(Column::key).join(", ")
                )
            })
    }
}

/// A cell's value; each format decides how to write it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Missing,
    Num(f64),
    Count(usize),
    /// A share in 0..=1, written as a percentage.
    Percent(f64),
    /// A ratio with its 95% interval, written `2.31× [2.10–2.55]`.
    Ratio {
        median: f64,
        lo: f64,
        hi: f64,
    },
    /// The baseline arm's own speed-up cell.
    Baseline,
}

impl Value {
    /// The number `--bold-best` compares.
    pub fn key(&self) -> Option<f64> {
        match *self {
            Value::Num(x) | Value::Percent(x) => Some(x),
            Value::Ratio { median, .. } => Some(median),
            Value::Count(n) => Some(n as f64),
            Value::Baseline => Some(1.0),
            Value::Missing => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub value: Value,
    pub best: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Run tag (`R1`), present when the table holds several runs.
    pub run: Option<String>,
    pub model: String,
    pub backend: String,
    pub protocol: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// States mode, regime, hardware and N, so a pasted table says what it measured.
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// Decimal places for milliseconds, Hz, tokens, ratios and percentages.
    pub digits: usize,
}

impl Table {
    pub fn has_run_column(&self) -> bool {
        self.rows.iter().any(|r| r.run.is_some())
    }

    /// Label headers in the order every format writes them.
    pub fn label_headers(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.has_run_column() {
            v.push("Run");
        }
        v.extend(["Model", "Backend", "Protocol"]);
        v
    }
}

impl Row {
    pub fn labels(&self) -> Vec<&str> {
        let mut v = Vec::new();
        if let Some(r) = &self.run {
            v.push(r.as_str());
        }
        v.extend([
            self.model.as_str(),
            self.backend.as_str(),
            self.protocol.as_str(),
        ]);
        v
    }
}

/// One export format of [`Table`].
pub trait TableExporter {
    fn export(&self, table: &Table) -> String;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Markdown,
    Latex,
    Csv,
}

impl FromStr for TableFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "markdown" | "md" => Ok(TableFormat::Markdown),
            "latex" | "tex" => Ok(TableFormat::Latex),
            "csv" => Ok(TableFormat::Csv),
            _ => Err(format!(
                "unknown table format `{s}`; choose latex, markdown or csv"
            )),
        }
    }
}

pub fn exporter(format: TableFormat) -> Box<dyn TableExporter> {
    match format {
        TableFormat::Markdown => Box::new(crate::markdown::Markdown),
        TableFormat::Latex => Box::new(crate::latex::Latex),
        TableFormat::Csv => Box::new(crate::csv::Csv),
    }
}

/// Round `x` to `digits` places as text (shared by the text formats so they agree).
pub fn fixed(x: f64, digits: usize) -> String {
    format!("{x:.digits$}")
}

/// A cell as plain Unicode text (Markdown, HTML).
pub fn plain(v: &Value, digits: usize) -> String {
    match *v {
        Value::Missing => "–".into(),
        Value::Num(x) => fixed(x, digits),
        Value::Count(n) => n.to_string(),
        Value::Percent(x) => format!("{}%", fixed(x * 100.0, digits)),
        Value::Ratio { median, lo, hi } => format!(
            "{}× [{}–{}]",
            fixed(median, digits.max(2)),
            fixed(lo, digits.max(2)),
            fixed(hi, digits.max(2))
        ),
        Value::Baseline => "baseline".into(),
    }
}

fn caption(group: &Group) -> String {
    let mut parts = Vec::new();
    let mut seen = Vec::new();
    for r in &group.runs {
        let m = &r.manifest;
        let regime = m.settings.regime.to_string();
        let mut hw = format!(
            "{} ({} cores, {} threads)",
            m.machine.cpu_model, m.machine.cpu_cores, m.settings.threads
        );
        // The GPU an arm ran on, as the engine reported it (not merely present in the machine).
        let mut gpus: Vec<String> = Vec::new();
        for a in &m.arms {
            if let Some(p) = a
                .backend_info
                .placement
                .as_ref()
                .filter(|p| p.uses_accelerator())
            {
                let d = format!(
                    "{} on {}",
                    a.backend,
                    p.accelerators().collect::<Vec<_>>().join(" + ")
                );
                if !gpus.contains(&d) {
                    gpus.push(d);
                }
            }
        }
        if !gpus.is_empty() {
            hw.push_str(&format!(", {}", gpus.join(", ")));
        }
        let calls: Vec<usize> = r.arms.iter().map(|a| a.summary.calls_ok).collect();
        let n = match (calls.iter().min(), calls.iter().max()) {
            (Some(lo), Some(hi)) if lo == hi => format!("{lo} calls per arm"),
            (Some(lo), Some(hi)) => format!("{lo}–{hi} calls per arm"),
            _ => "no calls".into(),
        };
        let text = format!(
            "{}regime {regime}; {hw}; N = {n} ({} cases × {} repeats)",
            if group.runs.len() > 1 {
                format!("{}: ", r.tag)
            } else {
                String::new()
            },
            m.scenario.cases,
            m.settings.repeat
        );
        if !seen.contains(&text) {
            seen.push(text.clone());
            parts.push(text);
        }
    }
    format!(
        "End-to-end function-call latency on scenario `{}`, {} decoding; {}. Speed-up: baseline latency / arm latency per case, median with bootstrap 95% interval.",
        group.scenario,
        group.mode,
        parts.join("; ")
    )
}

/// Build the table of one group.
pub fn build(
    group: &Group,
    columns: &[Column],
    digits: usize,
    bold_best: bool,
) -> Result<Table, ReportError> {
    if columns.is_empty() {
        return Err(ReportError::Usage("no columns chosen".into()));
    }
    let several = group.runs.len() > 1;
    let mut rows: Vec<Row> = group
        .rows()
        .map(|(run, arm)| Row {
            run: several.then(|| run.tag.clone()),
            model: arm.model.clone(),
            backend: arm.backend.clone(),
            protocol: arm.protocol.clone(),
            cells: columns
                .iter()
                .map(|c| Cell {
                    value: c.value(arm),
                    best: false,
                })
                .collect(),
        })
        .collect();
    if bold_best {
        for (j, c) in columns.iter().enumerate() {
            if !c.comparable() {
                continue;
            }
            // Compare what the reader sees: values equal after rounding tie.
            let shown = |v: f64| fixed(v, digits).parse::<f64>().unwrap_or(v);
            let best = rows
                .iter()
                .filter_map(|r| r.cells[j].value.key())
                .map(shown)
                .reduce(|a, b| {
                    if c.higher_is_better() {
                        a.max(b)
                    } else {
                        a.min(b)
                    }
                });
            let distinct = rows
                .iter()
                .filter_map(|r| r.cells[j].value.key())
                .any(|v| Some(shown(v)) != best);
            if let (Some(best), true) = (best, distinct) {
                for r in rows.iter_mut() {
                    if r.cells[j].value.key().map(shown) == Some(best) {
                        r.cells[j].best = true;
                    }
                }
            }
        }
    }
    Ok(Table {
        caption: caption(group),
        columns: columns.to_vec(),
        rows,
        digits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_parse_by_key_and_reject_unknown_names() {
        for c in Column::ALL {
            assert_eq!(c.key().parse::<Column>().unwrap(), c);
        }
        assert_eq!("P50".parse::<Column>().unwrap(), Column::P50);
        let e = "p42".parse::<Column>().unwrap_err();
        assert!(e.contains("p42") && e.contains("speedup"), "{e}");
    }
}
