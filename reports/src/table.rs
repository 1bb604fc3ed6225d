//! The paper table: rows are arms (model · backend · protocol), columns chosen by the user.
//! Built once from [`Group`] data. Every table, this one and the load and report tables, is a
//! [`Grid`] laid out by one [`render`]; each format (Markdown, LaTeX, CSV, HTML) lives in its
//! own module and supplies only the [`Markup`] primitives.

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

/// A column's side: names left, numbers right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One cell as a format sees it: text it only escapes, or a value it writes its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Text(String),
    Value(Value),
    /// The best value in its column (`--bold-best`).
    Best(Value),
}

/// Any table before it is written: the paper table, a load table, each of the HTML report's
/// tables. One shape, so one [`render`] lays them all out.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Empty: none.
    pub caption: String,
    /// LaTeX `\label` of a table a paper cites.
    pub label: Option<&'static str>,
    pub columns: Vec<String>,
    /// How many leading columns are names (left-aligned); the rest are numbers.
    pub names: usize,
    pub rows: Vec<Vec<Entry>>,
    /// Decimal places of [`Entry::Value`] cells.
    pub digits: usize,
}

impl Grid {
    /// Rows of text under `headers`, the first column a name.
    pub fn of(headers: &[impl AsRef<str>], rows: Vec<Vec<String>>) -> Grid {
        let text = |r: Vec<String>| r.into_iter().map(Entry::Text).collect();
        Grid {
            caption: String::new(),
            label: None,
            columns: headers.iter().map(|h| h.as_ref().to_string()).collect(),
            names: 1,
            rows: rows.into_iter().map(text).collect(),
            digits: 0,
        }
    }
}

impl Table {
    /// The table as Markdown, LaTeX and HTML write it: labels, then one column per [`Column`].
    pub fn grid(&self) -> Grid {
        let labels = self.label_headers();
        let headers = self.columns.iter().map(|c| c.header());
        let rows = self.rows.iter().map(|r| {
            let labels = r.labels().into_iter().map(|l| Entry::Text(l.into()));
            let cells = r.cells.iter().map(|c| match c.best {
                true => Entry::Best(c.value),
                false => Entry::Value(c.value),
            });
            labels.chain(cells).collect()
        });
        Grid {
            caption: self.caption.clone(),
            label: Some("tab:fcbench-latency"),
            names: labels.len(),
            columns: labels.into_iter().chain(headers).map(Into::into).collect(),
            rows: rows.collect(),
            digits: self.digits,
        }
    }
}

/// What a table format supplies: how to escape, write a value and mark the best one, and the
/// text around and between rows. Everything else is [`render`]'s, so the formats cannot drift
/// apart in which cells they show.
pub trait Markup {
    /// Text made safe for the format.
    fn escape(&self, s: &str) -> String;
    /// A value rounded to `digits`, already safe for the format.
    fn value(&self, v: &Value, digits: usize) -> String;
    fn bold(&self, s: String) -> String {
        s
    }
    /// Everything before the header row (`caption` not yet escaped).
    fn table_start(&self, caption: &str, label: Option<&str>, aligns: &[Align]) -> String;
    fn table_header(&self, cells: &[String], aligns: &[Align]) -> String {
        self.table_row(cells, aligns)
    }
    fn table_divider(&self, _aligns: &[Align]) -> String {
        String::new()
    }
    fn table_row(&self, cells: &[String], aligns: &[Align]) -> String;
    fn table_end(&self) -> String {
        String::new()
    }
    /// The grid a paper table becomes in this format.
    fn paper_grid(&self, t: &Table) -> Grid {
        t.grid()
    }
}

impl dyn Markup {
    /// A paper table in this format.
    pub fn export(&self, t: &Table) -> String {
        render(self, &self.paper_grid(t))
    }
}

/// Lay out `grid` with the primitives of `m`.
pub fn render(m: &(impl Markup + ?Sized), grid: &Grid) -> String {
    let aligns: Vec<Align> = (0..grid.columns.len())
        .map(|i| {
            if i < grid.names {
                Align::Left
            } else {
                Align::Right
            }
        })
        .collect();
    let heads: Vec<String> = grid.columns.iter().map(|h| m.escape(h)).collect();
    let mut out = m.table_start(&grid.caption, grid.label, &aligns);
    out.push_str(&m.table_header(&heads, &aligns));
    out.push_str(&m.table_divider(&aligns));
    for r in &grid.rows {
        let cells: Vec<String> = r
            .iter()
            .map(|e| match e {
                Entry::Text(s) => m.escape(s),
                Entry::Value(v) => m.value(v, grid.digits),
                Entry::Best(v) => m.bold(m.value(v, grid.digits)),
            })
            .collect();
        out.push_str(&m.table_row(&cells, &aligns));
    }
    out.push_str(&m.table_end());
    out
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

pub fn exporter(format: TableFormat) -> &'static dyn Markup {
    match format {
        TableFormat::Markdown => &crate::markdown::Markdown,
        TableFormat::Latex => &crate::latex::Latex,
        TableFormat::Csv => &crate::csv::Csv,
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
