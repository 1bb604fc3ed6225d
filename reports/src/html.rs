//! The self-contained HTML report: inline SVG charts, a table under every chart holding each
//! number drawn, and every run's manifest. No scripts, external fonts or network: the file
//! reads offline and attaches to a CI job. The markup is also well-formed XML (void elements
//! self-closed, only XML entities), so any XML parser can check it.
//!
//! Each chart sits in `<figure data-chart=KIND data-values=JSON>`, where the JSON is exactly the
//! numbers the chart was drawn from (tests compare them with the summary).

use crate::charts::latency::{self, Curve};
use crate::charts::scatter::{self, Point};
use crate::charts::{self, color, BarSeries, HBars, RefLine};
use crate::data::{ArmView, Group, ReportData, RunView};
use crate::load::LoadRun;
use crate::table::{self, plain, Align, Column, Grid, Markup, Value};
use crate::ReportError;
use fcbench_core::sweep::HeadSweep;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde_json::json;
use std::fmt::Write;

/// Bins of each latency histogram.
pub const HISTOGRAM_BINS: usize = 40;

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
h3 { margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .85em; }
.scroll { overflow-x: auto; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .25em .5em; text-align: right; vertical-align: top; white-space: nowrap; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
caption { caption-side: top; text-align: left; font-size: .92em; color: #555; padding-bottom: .3em; }
figure { margin: 1em 0; } figcaption { font-size: .85em; color: #555; }
svg { max-width: 100%; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: .5em; }
.warn { background: #fff4e0; border-left: 4px solid #e69f00; padding: .5em 1em; margin: 1em 0; }
.note { color: #555; font-size: .9em; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; word-break: break-all; }
details { margin: .5em 0 1em; }
"#;

/// HTML tables: name columns carry `class="l"` (left-aligned by the stylesheet), best values
/// are bold.
struct Html;

impl Markup for Html {
    fn escape(&self, s: &str) -> String {
        text(s).into_owned()
    }
    fn value(&self, v: &Value, digits: usize) -> String {
        self.escape(&plain(v, digits))
    }
    fn bold(&self, s: String) -> String {
        format!("<strong>{s}</strong>")
    }
    fn table_start(&self, caption: &str, _: Option<&str>, _: &[Align]) -> String {
        let mut out = String::from("<div class=\"scroll\"><table>");
        if !caption.is_empty() {
            let _ = writeln!(out, "\n<caption>{}</caption>", text(caption));
        }
        out
    }
    fn table_header(&self, cells: &[String], aligns: &[Align]) -> String {
        format!("<thead>{}</thead><tbody>\n", tr("th", cells, aligns))
    }
    fn table_row(&self, cells: &[String], aligns: &[Align]) -> String {
        tr("td", cells, aligns) + "\n"
    }
    fn table_end(&self) -> String {
        "</tbody></table></div>\n".into()
    }
}

fn tr(tag: &str, cells: &[String], aligns: &[Align]) -> String {
    let mut out = String::from("<tr>");
    for (c, a) in cells.iter().zip(aligns) {
        let class = if *a == Align::Left {
            " class=\"l\""
        } else {
            ""
        };
        let _ = write!(out, "<{tag}{class}>{c}</{tag}>");
    }
    out + "</tr>"
}

/// A chart, its caption, and exactly the numbers it was drawn from.
struct Figure {
    kind: &'static str,
    values: serde_json::Value,
    svg: String,
    caption: String,
}

/// One heading's worth of the report: figures, the tables holding their numbers, then notes.
/// Every part of the report is a list of these, written by one [`write_section`], so each
/// chart's table and figure markup is the same everywhere.
#[derive(Default)]
struct Section {
    /// `<h3>` content as HTML (the builder escapes); none continues the section above.
    title: Option<String>,
    id: Option<String>,
    figures: Vec<Figure>,
    /// Figures side by side (small multiples) rather than one per row.
    grid: bool,
    tables: Vec<Grid>,
    /// Fold the tables under this summary (tables too wide to read inline).
    fold: Option<&'static str>,
    /// HTML after the tables: notes, warnings.
    after: String,
}

fn write_section(out: &mut String, s: &Section) {
    match (&s.title, &s.id) {
        (Some(t), Some(id)) => _ = writeln!(out, "<h3 id=\"{}\">{t}</h3>", attr(id)),
        (Some(t), None) => _ = writeln!(out, "<h3>{t}</h3>"),
        _ => {}
    }
    if s.grid {
        out.push_str("<div class=\"grid\">\n");
    }
    for f in &s.figures {
        let _ = write!(
            out,
            "<figure class=\"chart\" data-chart=\"{}\" data-values=\"{}\">\n{}\n<figcaption>{}</figcaption></figure>\n",
            attr(f.kind),
            attr(&f.values.to_string()),
            strip_xml_decl(&f.svg),
            text(&f.caption)
        );
    }
    if s.grid {
        out.push_str("</div>\n");
    }
    if let Some(summary) = s.fold {
        let _ = writeln!(out, "<details><summary>{}</summary>", text(summary));
    }
    for t in &s.tables {
        out.push_str(&table::render(&Html, t));
    }
    if s.fold.is_some() {
        out.push_str("</details>\n");
    }
    out.push_str(&s.after);
}

fn note(html: &str) -> String {
    format!("<p class=\"note\">{html}</p>\n")
}

/// plotters writes no XML declaration today; strip one defensively (it is invalid mid-file).
fn strip_xml_decl(svg: &str) -> &str {
    match svg.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(svg, |(_, s)| s.trim_start()),
        None => svg,
    }
}

fn ms(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "–".into()
    }
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", x * 100.0)
    } else {
        "–".into()
    }
}

fn share_within(sorted: &[f64], limit: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.partition_point(|&x| x <= limit) as f64 / sorted.len() as f64
}

/// The sections of one group of compatible runs: which runs, the summary table, then one
/// section per chart.
fn group_sections(g: &Group) -> Result<Vec<Section>, ReportError> {
    let runs = g.runs.iter().map(|r| {
        let m = &r.manifest;
        vec![
            r.tag.clone(),
            r.path.display().to_string(),
            m.started_at.clone(),
            m.settings.regime.to_string(),
            m.machine.describe(),
            m.git_commit.clone().unwrap_or_else(|| "–".into()),
            if r.complete {
                "complete".into()
            } else {
                format!("INCOMPLETE: {}", r.interrupted.as_deref().unwrap_or(""))
            },
        ]
    });
    let runs_heads = [
        "run",
        "directory",
        "started",
        "regime",
        "machine",
        "commit",
        "status",
    ];
    let mut out = vec![
        Section {
            tables: vec![Grid::of(&runs_heads, runs.collect())],
            ..Default::default()
        },
        Section {
            title: Some("Summary".into()),
            tables: vec![table::build(g, &Column::ALL, 1, true)?.grid()],
            after: note("Latency = prefill + all decode steps, token ids ready → every head stopped. Hz = 1000 / mean. Speed-up = baseline latency / arm latency per case, median with bootstrap 95% interval. Head eff. = step efficiency of the head sweep at the arm's head count. Bold: best in column."),
            ..Default::default()
        },
    ];
    let arms: Vec<(String, &ArmView)> = g.rows().map(|(r, a)| (g.row_label(r, a), a)).collect();
    let names: Vec<String> = arms.iter().map(|(n, _)| n.clone()).collect();

    let curves: Vec<Curve> = arms
        .iter()
        .enumerate()
        .map(|(i, (name, a))| Curve {
            name: name.clone(),
            color: color(i),
            sorted_ms: &a.e2e_sorted,
        })
        .collect();
    out.push(chart(
        "Latency distribution",
        "cdf",
        "Share of calls finishing within x ms. Vertical lines: 16 Hz (62.5 ms) and 10 Hz (100 ms) frame deadlines.",
        latency::cdf("Latency CDF per arm", &curves)?,
        &["arm", "n", "min", "P50", "P90", "P95", "P99", "max", "mean ± σ", "≤ 62.5 ms", "≤ 100 ms"],
        arms.iter(),
        |(name, a)| {
            let d = &a.summary.e2e;
            let within = [62.5, 100.0].map(|limit| share_within(&a.e2e_sorted, limit));
            let value = json!({"row": name, "n": a.e2e_sorted.len(), "p50": d.p50, "p95": d.p95,
                               "within_62_5ms": within[0], "within_100ms": within[1]});
            let row = vec![
                name.clone(),
                d.n.to_string(),
                ms(d.min),
                ms(d.p50),
                ms(d.p90),
                ms(d.p95),
                ms(d.p99),
                ms(d.max),
                format!("{} ± {}", ms(d.mean), ms(d.stddev)),
                pct(within[0]),
                pct(within[1]),
            ];
            (value, row)
        },
    ));

    let xmax = latency::x_max(&curves);
    let edges = latency::bins(xmax, HISTOGRAM_BINS);
    let mut hist = Section {
        grid: true,
        fold: Some("Histogram bin counts"),
        ..Default::default()
    };
    let mut bin_rows = Vec::new();
    for (i, (name, a)) in arms.iter().enumerate() {
        let counts = latency::bin_counts(&a.e2e_sorted, &edges);
        hist.figures.push(Figure {
            kind: "histogram",
            values: json!({"row": name, "edges_ms": edges, "counts": counts}),
            svg: latency::histogram(name, color(i), &edges, &counts)?,
            caption: format!(
                "{name}: calls per {:.1} ms bin",
                xmax / HISTOGRAM_BINS as f64
            ),
        });
        bin_rows.push(
            std::iter::once(name.clone())
                .chain(counts.iter().map(usize::to_string))
                .collect(),
        );
    }
    let bin_heads: Vec<String> = std::iter::once("arm \\ bin start (ms)".to_string())
        .chain(edges[..HISTOGRAM_BINS].iter().map(|e| format!("{e:.0}")))
        .collect();
    hist.tables.push(Grid::of(&bin_heads, bin_rows));
    out.push(hist);

    let bars = |name: &str, color, value: fn(&ArmView) -> (f64, (f64, f64))| BarSeries {
        name: name.into(),
        color,
        values: arms.iter().map(|(_, a)| finite(value(a).0)).collect(),
        intervals: Some(arms.iter().map(|(_, a)| Some(value(a).1)).collect()),
    };
    let svg = charts::hbars(&HBars {
        title: "P50 and P95 end-to-end latency (bootstrap 95% intervals)".into(),
        x_desc: "latency (ms)".into(),
        categories: names.clone(),
        series: vec![
            bars("P50", color(0), |a| (a.summary.e2e.p50, a.p50_ci)),
            bars("P95", color(1), |a| (a.summary.e2e.p95, a.p95_ci)),
        ],
        stacked: false,
        lines: charts::deadline_lines(),
        digits: 1,
        suffix: String::new(),
    })?;
    out.push(chart(
        "P50 and P95 latency",
        "p50-p95",
        "Bars: nearest-rank P50 and P95; whiskers: percentile-bootstrap 95% intervals (2000 resamples, seeded).",
        svg,
        &["arm", "P50 ms", "95% CI", "P95 ms", "95% CI"],
        arms.iter(),
        |(name, a)| {
            let (p50, p95) = (a.summary.e2e.p50, a.summary.e2e.p95);
            let value = json!({"row": name, "p50": p50, "p50_ci95": [a.p50_ci.0, a.p50_ci.1],
                               "p95": p95, "p95_ci95": [a.p95_ci.0, a.p95_ci.1]});
            let row = vec![
                name.clone(),
                ms(p50),
                format!("{}–{}", ms(a.p50_ci.0), ms(a.p50_ci.1)),
                ms(p95),
                format!("{}–{}", ms(a.p95_ci.0), ms(a.p95_ci.1)),
            ];
            (value, row)
        },
    ));

    if arms
        .iter()
        .any(|(_, a)| a.summary.speedup_vs_baseline.is_some())
    {
        let baselines: Vec<String> = g
            .runs
            .iter()
            .filter_map(|r| {
                let b = r.manifest.settings.baseline_arm.as_ref()?;
                Some(format!("{}: {b}", r.tag))
            })
            .collect();
        let speedups: Vec<_> = arms
            .iter()
            .map(|(_, a)| a.summary.speedup_vs_baseline.as_ref())
            .collect();
        let svg = charts::hbars(&HBars {
            title: "Speed-up over the baseline (baseline latency / arm latency, per case)".into(),
            x_desc: "speed-up (×)".into(),
            categories: names.clone(),
            series: vec![BarSeries {
                name: "speed-up".into(),
                color: color(2),
                values: speedups.iter().map(|s| s.map(|r| r.median)).collect(),
                intervals: Some(
                    speedups
                        .iter()
                        .map(|s| s.map(|r| (r.ci95_low, r.ci95_high)))
                        .collect(),
                ),
            }],
            stacked: false,
            lines: vec![RefLine {
                at: 1.0,
                label: "1×".into(),
                color: charts::DEADLINE_16HZ,
            }],
            digits: 2,
            suffix: "×".into(),
        })?;
        out.push(chart(
            "Speed-up over the baseline arm",
            "speedup",
            format!(
                    "Median of per-case ratios (each case's median over repeats), bootstrap 95% interval. Baseline: {}.",
                    baselines.join("; ")
                ),
            svg,
            &["arm", "median", "95% CI", "geomean", "cases paired", "baseline"],
            arms.iter(),
            |(name, a)| {
                let value = json!({"row": name, "baseline": a.is_baseline,
                                   "speedup": a.summary.speedup_vs_baseline});
                let baseline = if a.is_baseline { "yes" } else { "" }.to_string();
                let row = match &a.summary.speedup_vs_baseline {
                    Some(r) => vec![
                        name.clone(),
                        format!("{:.2}×", r.median),
                        format!("{:.2}–{:.2}", r.ci95_low, r.ci95_high),
                        format!("{:.2}×", r.geomean),
                        r.n.to_string(),
                        baseline,
                    ],
                    None => [name, "–", "–", "–", "0", ""].map(String::from).to_vec(),
                };
                (value, row)
            },
        ));
    }

    let stack = |name: &str, color, value: fn(&ArmView) -> f64| BarSeries {
        name: name.into(),
        color,
        values: arms.iter().map(|(_, a)| finite(value(a))).collect(),
        intervals: None,
    };
    let svg = charts::hbars(&HBars {
        title: "Mean time per call: prefill + decode".into(),
        x_desc: "mean time per call (ms)".into(),
        categories: names.clone(),
        series: vec![
            stack("prefill", color(4), |a| a.summary.prefill.mean),
            stack("decode", color(5), |a| a.summary.decode.mean),
        ],
        stacked: true,
        lines: charts::deadline_lines(),
        digits: 1,
        suffix: String::new(),
    })?;
    out.push(chart(
        "Prefill and decode",
        "prefill-decode",
        "Mean prefill and mean decode time per call, stacked.",
        svg,
        &[
            "arm",
            "prefill ms",
            "decode ms",
            "prefilled tokens",
            "decoded tokens",
            "decode tok/s",
            "harness overhead ms",
        ],
        arms.iter(),
        |(name, a)| {
            let s = &a.summary;
            let value =
                json!({"row": name, "prefill_mean": s.prefill.mean, "decode_mean": s.decode.mean});
            let row = vec![
                name.clone(),
                ms(s.prefill.mean),
                ms(s.decode.mean),
                format!("{:.1}", s.mean_prefilled_tokens),
                format!("{:.1}", s.mean_decoded_tokens),
                format!("{:.0}", s.decode_tokens_per_s),
                format!("{:.2}", s.overhead_ms),
            ];
            (value, row)
        },
    ));

    let mut head_names: Vec<String> = Vec::new();
    for (h, _) in arms.iter().flat_map(|(_, a)| &a.head_tokens) {
        if !head_names.contains(h) {
            head_names.push(h.clone());
        }
    }
    let tokens = |a: &ArmView, h: &str| a.head_tokens.iter().find(|(n, _)| n == h).map(|(_, t)| *t);
    let svg = charts::hbars(&HBars {
        title: "Mean decoded tokens per head".into(),
        x_desc: "tokens per call".into(),
        categories: names.clone(),
        series: head_names
            .iter()
            .enumerate()
            .map(|(j, h)| BarSeries {
                name: h.clone(),
                color: color(j),
                values: arms.iter().map(|(_, a)| tokens(a, h)).collect(),
                intervals: None,
            })
            .collect(),
        stacked: true,
        lines: vec![],
        digits: 1,
        suffix: String::new(),
    })?;
    let mut heads = vec!["arm"];
    heads.extend(head_names.iter().map(String::as_str));
    heads.extend(["longest head", "slot util."]);
    out.push(chart(
        "Tokens per head",
        "head-tokens",
        "Mean tokens each head decoded (over the calls where it ran), stacked. With parallel heads, latency follows the longest head, not the sum.",
        svg,
        &heads,
        arms.iter(),
        |(name, a)| {
            let heads: Vec<_> = a
                .head_tokens
                .iter()
                .map(|(h, t)| json!({"head": h, "mean_tokens": t}))
                .collect();
            let value = json!({"row": name, "heads": heads,
                               "mean_longest_head_tokens": a.summary.mean_longest_head_tokens});
            let mut row = vec![name.clone()];
            row.extend(
                head_names
                    .iter()
                    .map(|h| tokens(a, h).map_or("–".into(), |t| format!("{t:.1}"))),
            );
            row.push(format!("{:.1}", a.summary.mean_longest_head_tokens));
            row.push(pct(a.summary.mean_slot_utilisation));
            (value, row)
        },
    ));

    let acc: Vec<(&String, &ArmView, f64, f64)> = arms
        .iter()
        .filter_map(|(name, a)| a.strict_legacy().map(|(s, l)| (name, *a, s, l)))
        .collect();
    if acc.is_empty() {
        out.push(Section {
            title: Some("Accuracy vs latency".into()),
            after: note("No accuracy recorded in these runs (the scenario has no gold calls, or the runs predate scoring)."),
            ..Default::default()
        });
        return Ok(out);
    }
    let points: Vec<Point> = acc
        .iter()
        .map(|&(name, a, s, _)| Point {
            name: name.clone(),
            latency_ms: a.summary.e2e.p50,
            accuracy: s,
        })
        .collect();
    let front = scatter::pareto_front(&points);
    let svg = scatter::accuracy_vs_latency(
        "Strict accuracy vs P50 latency (Pareto front ringed)",
        "strict accuracy (%)",
        &points,
    )?;
    out.push(chart(
        "Accuracy vs latency",
        "accuracy-latency",
        "Each arm a point, numbered as in the table below; ringed points are on the Pareto front (no other arm is both faster and more accurate).",
        svg,
        &["point · arm", "P50 ms", "strict", "legacy", "scored", "vs baseline pp (strict / legacy)", "Pareto"],
        acc.iter().enumerate(),
        |(k, &(name, a, s, l))| {
            let pareto = front.contains(&k);
            let p50 = a.summary.e2e.p50;
            let value =
                json!({"row": name, "p50": p50, "strict": s, "legacy": l, "pareto": pareto});
            let scored = a.accuracy().expect("filtered on accuracy");
            let row = vec![
                format!("{}. {name}", k + 1),
                ms(p50),
                pct(s),
                pct(l),
                scored.all.scored.to_string(),
                scored.vs_baseline_pp.map_or("–".into(), |d| {
                    format!("{:+.1} / {:+.1}", d.strict, d.legacy)
                }),
                if pareto { "yes" } else { "" }.into(),
            ];
            (value, row)
        },
    ));
    Ok(out)
}

/// A section of one chart and its table: `row` gives, per item, the numbers the chart draws
/// (its `data-values` entry) and the table row showing them, from one place.
fn chart<T>(
    title: &str,
    kind: &'static str,
    caption: impl Into<String>,
    svg: String,
    heads: &[&str],
    items: impl IntoIterator<Item = T>,
    row: impl Fn(T) -> (serde_json::Value, Vec<String>),
) -> Section {
    let (values, rows): (Vec<_>, Vec<_>) = items.into_iter().map(row).unzip();
    Section {
        title: Some(title.into()),
        figures: vec![Figure {
            kind,
            values: json!(values),
            svg,
            caption: caption.into(),
        }],
        tables: vec![Grid::of(heads, rows)],
        ..Default::default()
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn sweep_section(i: usize, source: &str, s: &HeadSweep) -> Result<Section, ReportError> {
    let b = &s.backend;
    let title = format!(
        "Step efficiency vs parallel heads · {} · {} ({}) · context {} tokens",
        b.name, b.architecture, b.quantization, s.context_tokens
    );
    let rows = s.points.iter().map(|p| {
        vec![
            p.heads.to_string(),
            format!("{:.2}", p.median_step_ms),
            format!("{:.2}", p.p95_step_ms),
            pct(p.step_efficiency),
            pct(p.parallel_overhead),
            p.samples.to_string(),
        ]
    });
    let heads = [
        "heads",
        "median step ms",
        "P95 step ms",
        "step efficiency",
        "parallel overhead",
        "samples",
    ];
    Ok(Section {
        title: Some(format!("Head sweep from {}", text(source))),
        id: Some(format!("sweep-{i}")),
        figures: vec![Figure {
            kind: "head-efficiency",
            values: serde_json::to_value(&s.points).expect("sweep points serialise"),
            svg: charts::heads::efficiency_curve(&title, s)?,
            caption: "step efficiency(N) = median step time with 1 sequence / with N sequences, at the same context; 100% = one more head is free.".into(),
        }],
        tables: vec![Grid::of(&heads, rows.collect())],
        after: note(&format!(
            "Model <code>{}</code> (SHA-256 <code>{}</code>), {} threads, {}.",
            text(&b.model_path),
            text(&b.model_sha256),
            b.threads,
            text(&b.version)
        )),
        ..Default::default()
    })
}

fn manifest_section(r: &RunView) -> Section {
    let m = &r.manifest;
    let st = &m.settings;
    let kv = [
        (
            "fcbench",
            format!("{} (schema {})", m.fcbench_version, m.schema),
        ),
        (
            "git commit",
            m.git_commit.clone().unwrap_or_else(|| "–".into()),
        ),
        ("started", m.started_at.clone()),
        (
            "machine",
            format!(
                "{} · {} · {} · {:.1} GiB",
                m.machine.hostname,
                m.machine.os,
                m.machine.describe(),
                m.machine.memory_bytes as f64 / (1u64 << 30) as f64
            ),
        ),
        ("mode / regime", format!("{} / {}", st.mode, st.regime)),
        (
            "threads · repeat · warm-up",
            format!("{} · {} · {}", st.threads, st.repeat, st.warmup),
        ),
        (
            "limit · seed · max head tokens",
            format!(
                "{} · {} · {}",
                st.limit.map_or("none".into(), |l| l.to_string()),
                st.seed,
                st.max_head_tokens
            ),
        ),
        (
            "content head · marker tokens",
            format!("{} · {}", st.content_head, st.map_markers),
        ),
        (
            "baseline arm",
            st.baseline_arm
                .as_ref()
                .map_or("none".into(), ToString::to_string),
        ),
        (
            "scenario",
            format!("{} ({} cases)", m.scenario.name, m.scenario.cases),
        ),
        ("command", m.args.join(" ")),
    ];
    let files = m
        .scenario
        .files
        .iter()
        .map(|f| vec![f.path.clone(), f.sha256.clone()]);
    let arms = m.arms.iter().map(|a| {
        let b = &a.backend_info;
        // The library's build, the binary's, and where it ran: three facts.
        let mut build = b.build.clone();
        if !b.binary.is_empty() {
            build.push_str(&format!(" · binary: {}", b.binary));
        }
        if let Some(p) = &b.placement {
            build.push_str(&format!(" · device: {}", p.summary()));
        }
        vec![
            a.label.to_string(),
            format!("{} {}", b.name, b.version),
            build,
            format!(
                "{} · {} · {} params · {:.1} MiB",
                b.architecture,
                b.quantization,
                b.parameters,
                b.model_bytes as f64 / (1u64 << 20) as f64
            ),
            b.model_path.clone(),
            b.model_sha256.clone(),
        ]
    });
    let templates = m
        .prompt_template_sha256
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone()]);
    let arm_heads = [
        "arm",
        "engine",
        "build",
        "model",
        "model file",
        "model SHA-256",
    ];
    Section {
        title: Some(format!(
            "{} · <code>{}</code>",
            text(&r.tag),
            text(&r.path.display().to_string())
        )),
        tables: vec![
            Grid::of(&["", "value"], kv.map(|(k, v)| vec![k.into(), v]).to_vec()),
            Grid::of(&["scenario file", "SHA-256"], files.collect()),
            Grid::of(&arm_heads, arms.collect()),
            Grid::of(
                &["protocol", "prompt template SHA-256"],
                templates.collect(),
            ),
        ],
        ..Default::default()
    }
}

/// One load directory: its chart and a table of every number the chart draws.
fn load_section(i: usize, run: &LoadRun) -> Result<Section, ReportError> {
    let r = &run.report;
    let title = format!(
        "{} · {} · {} API · SLO {} ms",
        run.tag, r.model, r.api, r.slo_ms
    );
    let first_error = r.levels.iter().find_map(|l| l.first_error.as_ref());
    Ok(Section {
        title: Some(format!(
            "{} ({})",
            text(&run.tag),
            text(&run.path.display().to_string())
        )),
        id: Some(format!("load-{i}")),
        figures: vec![Figure {
            kind: "load-sweep",
            values: serde_json::to_value(&r.levels).expect("load levels serialise"),
            svg: charts::load::sweep(&title, r)?,
            caption: "Left: client-side latency P50 and P95 over successful calls per level, with the SLO. Right: goodput (successful calls within the SLO per second) and achieved calls/s per level.".into(),
        }],
        tables: vec![crate::load::grid(run, 1)],
        after: first_error.map_or(String::new(), |e| {
            format!(
                "<div class=\"warn\"><strong>First error:</strong> {}</div>\n",
                text(e)
            )
        }),
        ..Default::default()
    })
}

/// Render the whole report.
pub fn render(data: &ReportData, title: &str) -> Result<String, ReportError> {
    let mut out = String::with_capacity(1 << 20);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        text(title),
        text(title)
    );
    let runs: usize = data.groups.iter().map(|g| g.runs.len()).sum();
    out.push_str(&note(&format!(
        "{} run director{} in {} group{}; every number is recomputed from the recorded calls (<code>calls.jsonl</code>), nothing was re-run. Deadlines: 16 Hz = 62.5 ms, 10 Hz = 100 ms.",
        runs,
        if runs == 1 { "y" } else { "ies" },
        data.groups.len(),
        if data.groups.len() == 1 { "" } else { "s" }
    )));
    if !data.loads.is_empty() {
        out.push_str(&note(&format!(
            "{} load sweep{} (<code>load.json</code>, written by <code>fcbench load</code>): see <a href=\"#load\">Load sweep</a>.",
            data.loads.len(),
            if data.loads.len() == 1 { "" } else { "s" }
        )));
    }
    for w in &data.warnings {
        let _ = writeln!(
            out,
            "<div class=\"warn\"><strong>Warning:</strong> {}</div>",
            text(w)
        );
    }
    // Each part: its id, its heading (HTML), its sections.
    let mut parts: Vec<(String, String, Vec<Section>)> = Vec::new();
    for (gi, g) in data.groups.iter().enumerate() {
        let heading = format!(
            "Scenario <code>{}</code> · {} decoding",
            text(&g.scenario),
            g.mode
        );
        parts.push((format!("group-{gi}"), heading, group_sections(g)?));
    }
    if !data.loads.is_empty() {
        let sections = data
            .loads
            .iter()
            .enumerate()
            .map(|(i, r)| load_section(i, r));
        parts.push((
            "load".into(),
            "Load sweep".into(),
            sections.collect::<Result<_, _>>()?,
        ));
    }
    let mut heads = data
        .sweeps
        .iter()
        .enumerate()
        .map(|(i, (src, s))| sweep_section(i, src, s))
        .collect::<Result<Vec<_>, _>>()?;
    if heads.is_empty() {
        heads.push(Section {
            after: note("No head sweep: run <code>fcbench heads --out RUN_DIR/heads.json</code>, or pass <code>--heads FILE</code>."),
            ..Default::default()
        });
    }
    parts.push(("heads".into(), "Head efficiency".into(), heads));
    let manifests = data
        .groups
        .iter()
        .flat_map(|g| &g.runs)
        .map(manifest_section);
    parts.push((
        "manifests".into(),
        "What was measured: run manifests".into(),
        manifests.collect(),
    ));
    for (id, heading, sections) in &parts {
        let _ = writeln!(out, "<section id=\"{id}\">\n<h2>{heading}</h2>");
        for s in sections {
            write_section(&mut out, s);
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    Ok(out)
}
