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
use crate::data::{Group, ReportData, RunView};
use crate::table::{self, plain, Column, Table, TableExporter};
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
td.best { font-weight: bold; }
caption { caption-side: top; text-align: left; font-size: .92em; color: #555; padding-bottom: .3em; }
figure { margin: 1em 0; } figcaption { font-size: .85em; color: #555; }
svg { max-width: 100%; height: auto; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: .5em; }
.warn { background: #fff4e0; border-left: 4px solid #e69f00; padding: .5em 1em; margin: 1em 0; }
.note { color: #555; font-size: .9em; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; word-break: break-all; }
details { margin: .5em 0 1em; }
"#;

/// Render a [`Table`] as an HTML `<table>` (the report's summary table).
pub struct HtmlTable;

impl TableExporter for HtmlTable {
    fn export(&self, t: &Table) -> String {
        let mut out = String::from("<div class=\"scroll\"><table class=\"summary\">\n");
        let _ = writeln!(out, "<caption>{}</caption>", text(&t.caption));
        out.push_str("<thead><tr>");
        for h in t.label_headers() {
            let _ = write!(out, "<th class=\"l\">{}</th>", text(h));
        }
        for c in &t.columns {
            let _ = write!(out, "<th>{}</th>", text(c.header()));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for r in &t.rows {
            out.push_str("<tr>");
            for l in r.labels() {
                let _ = write!(out, "<td class=\"l\">{}</td>", text(l));
            }
            for c in &r.cells {
                let class = if c.best { " class=\"best\"" } else { "" };
                let _ = write!(out, "<td{class}>{}</td>", text(&plain(&c.value, t.digits)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
        out
    }
}

/// A small table: headers, then rows of already formatted cells (first column left-aligned).
fn simple_table(out: &mut String, headers: &[&str], rows: &[Vec<String>]) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for (i, h) in headers.iter().enumerate() {
        let class = if i == 0 { " class=\"l\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", text(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if i == 0 { " class=\"l\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", text(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
}

fn figure(out: &mut String, kind: &str, values: &serde_json::Value, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure class=\"chart\" data-chart=\"{}\" data-values=\"{}\">\n{}\n<figcaption>{}</figcaption></figure>\n",
        attr(kind),
        attr(&values.to_string()),
        strip_xml_decl(svg),
        text(caption)
    );
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

fn group_section(out: &mut String, gi: usize, g: &Group) -> Result<(), ReportError> {
    let _ = writeln!(
        out,
        "<section class=\"group\" id=\"group-{gi}\">\n<h2>Scenario <code>{}</code> · {} decoding</h2>",
        text(&g.scenario),
        g.mode
    );
    let mut runs_rows = Vec::new();
    for r in &g.runs {
        let m = &r.manifest;
        runs_rows.push(vec![
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
        ]);
    }
    simple_table(
        out,
        &[
            "run",
            "directory",
            "started",
            "regime",
            "machine",
            "commit",
            "status",
        ],
        &runs_rows,
    );

    let rows: Vec<_> = g.rows().collect();
    let names: Vec<String> = rows.iter().map(|(r, a)| g.row_label(r, a)).collect();

    // Summary table: every column.
    let t = table::build(g, &Column::ALL, 1, true)?;
    out.push_str("<h3>Summary</h3>\n");
    out.push_str(&HtmlTable.export(&t));
    out.push_str("<p class=\"note\">Latency = prefill + all decode steps, token ids ready → every head stopped. Hz = 1000 / mean. Speed-up = baseline latency / arm latency per case, median with bootstrap 95% interval. Head eff. = step efficiency of the head sweep at the arm's head count. Bold: best in column.</p>\n");

    // Latency distributions.
    out.push_str("<h3>Latency distribution</h3>\n");
    let curves: Vec<Curve> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| Curve {
            name: names[i].clone(),
            color: color(i),
            sorted_ms: &a.e2e_sorted,
        })
        .collect();
    let cdf_values: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            json!({"row": names[i], "n": a.e2e_sorted.len(),
                   "p50": a.summary.e2e.p50, "p95": a.summary.e2e.p95,
                   "within_62_5ms": share_within(&a.e2e_sorted, 62.5),
                   "within_100ms": share_within(&a.e2e_sorted, 100.0)})
        })
        .collect();
    let svg = latency::cdf("Latency CDF per arm", &curves)?;
    figure(
        out,
        "cdf",
        &json!(cdf_values),
        &svg,
        "Share of calls finishing within x ms. Vertical lines: 16 Hz (62.5 ms) and 10 Hz (100 ms) frame deadlines.",
    );
    let dist_rows: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            let d = &a.summary.e2e;
            vec![
                names[i].clone(),
                d.n.to_string(),
                ms(d.min),
                ms(d.p50),
                ms(d.p90),
                ms(d.p95),
                ms(d.p99),
                ms(d.max),
                format!("{} ± {}", ms(d.mean), ms(d.stddev)),
                pct(share_within(&a.e2e_sorted, 62.5)),
                pct(share_within(&a.e2e_sorted, 100.0)),
            ]
        })
        .collect();
    simple_table(
        out,
        &[
            "arm",
            "n",
            "min",
            "P50",
            "P90",
            "P95",
            "P99",
            "max",
            "mean ± σ",
            "≤ 62.5 ms",
            "≤ 100 ms",
        ],
        &dist_rows,
    );
    let xmax = latency::x_max(&curves);
    let edges = latency::bins(xmax, HISTOGRAM_BINS);
    out.push_str("<div class=\"grid\">\n");
    let mut bin_rows = Vec::new();
    for (i, (_, a)) in rows.iter().enumerate() {
        let counts = latency::bin_counts(&a.e2e_sorted, &edges);
        let svg = latency::histogram(&names[i], color(i), &edges, &counts)?;
        figure(
            out,
            "histogram",
            &json!({"row": names[i], "edges_ms": edges, "counts": counts}),
            &svg,
            &format!(
                "{}: calls per {:.1} ms bin",
                names[i],
                xmax / HISTOGRAM_BINS as f64
            ),
        );
        let mut r = vec![names[i].clone()];
        r.extend(counts.iter().map(|c| c.to_string()));
        bin_rows.push(r);
    }
    out.push_str("</div>\n<details><summary>Histogram bin counts</summary>\n");
    let bin_heads: Vec<String> = std::iter::once("arm \\ bin start (ms)".to_string())
        .chain(edges[..HISTOGRAM_BINS].iter().map(|e| format!("{e:.0}")))
        .collect();
    simple_table(
        out,
        &bin_heads.iter().map(String::as_str).collect::<Vec<_>>(),
        &bin_rows,
    );
    out.push_str("</details>\n");

    // P50 / P95 with bootstrap intervals.
    out.push_str("<h3>P50 and P95 latency</h3>\n");
    let p50: Vec<Option<f64>> = rows
        .iter()
        .map(|(_, a)| finite(a.summary.e2e.p50))
        .collect();
    let p95: Vec<Option<f64>> = rows
        .iter()
        .map(|(_, a)| finite(a.summary.e2e.p95))
        .collect();
    let svg = charts::hbars(&HBars {
        title: "P50 and P95 end-to-end latency (bootstrap 95% intervals)".into(),
        x_desc: "latency (ms)".into(),
        categories: names.clone(),
        series: vec![
            BarSeries {
                name: "P50".into(),
                color: color(0),
                values: p50.clone(),
                intervals: Some(rows.iter().map(|(_, a)| Some(a.p50_ci)).collect()),
            },
            BarSeries {
                name: "P95".into(),
                color: color(1),
                values: p95.clone(),
                intervals: Some(rows.iter().map(|(_, a)| Some(a.p95_ci)).collect()),
            },
        ],
        stacked: false,
        lines: charts::deadline_lines(),
        digits: 1,
        suffix: String::new(),
    })?;
    let values: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            json!({"row": names[i], "p50": a.summary.e2e.p50, "p50_ci95": [a.p50_ci.0, a.p50_ci.1],
                   "p95": a.summary.e2e.p95, "p95_ci95": [a.p95_ci.0, a.p95_ci.1]})
        })
        .collect();
    figure(out, "p50-p95", &json!(values), &svg, "Bars: nearest-rank P50 and P95; whiskers: percentile-bootstrap 95% intervals (2000 resamples, seeded).");
    let pr: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            vec![
                names[i].clone(),
                ms(a.summary.e2e.p50),
                format!("{}–{}", ms(a.p50_ci.0), ms(a.p50_ci.1)),
                ms(a.summary.e2e.p95),
                format!("{}–{}", ms(a.p95_ci.0), ms(a.p95_ci.1)),
            ]
        })
        .collect();
    simple_table(out, &["arm", "P50 ms", "95% CI", "P95 ms", "95% CI"], &pr);

    // Speed-up over the baseline.
    let has_speedup = rows
        .iter()
        .any(|(_, a)| a.summary.speedup_vs_baseline.is_some());
    if has_speedup {
        out.push_str("<h3>Speed-up over the baseline arm</h3>\n");
        let baselines: Vec<String> = g
            .runs
            .iter()
            .filter_map(|r| {
                r.manifest
                    .settings
                    .baseline_arm
                    .as_ref()
                    .map(|b| format!("{}: {b}", r.tag))
            })
            .collect();
        let sp: Vec<Option<f64>> = rows
            .iter()
            .map(|(_, a)| a.summary.speedup_vs_baseline.as_ref().map(|r| r.median))
            .collect();
        let svg = charts::hbars(&HBars {
            title: "Speed-up over the baseline (baseline latency / arm latency, per case)".into(),
            x_desc: "speed-up (×)".into(),
            categories: names.clone(),
            series: vec![BarSeries {
                name: "speed-up".into(),
                color: color(2),
                values: sp,
                intervals: Some(
                    rows.iter()
                        .map(|(_, a)| {
                            a.summary
                                .speedup_vs_baseline
                                .as_ref()
                                .map(|r| (r.ci95_low, r.ci95_high))
                        })
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
        let values: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, (_, a))| {
                json!({"row": names[i], "baseline": a.is_baseline,
                       "speedup": a.summary.speedup_vs_baseline})
            })
            .collect();
        figure(
            out,
            "speedup",
            &json!(values),
            &svg,
            &format!(
                "Median of per-case ratios (each case's median over repeats), bootstrap 95% interval. Baseline: {}.",
                baselines.join("; ")
            ),
        );
        let sr: Vec<Vec<String>> = rows
            .iter()
            .enumerate()
            .map(|(i, (_, a))| match &a.summary.speedup_vs_baseline {
                Some(r) => vec![
                    names[i].clone(),
                    format!("{:.2}×", r.median),
                    format!("{:.2}–{:.2}", r.ci95_low, r.ci95_high),
                    format!("{:.2}×", r.geomean),
                    r.n.to_string(),
                    if a.is_baseline {
                        "yes".into()
                    } else {
                        String::new()
                    },
                ],
                None => vec![
                    names[i].clone(),
                    "–".into(),
                    "–".into(),
                    "–".into(),
                    "0".into(),
                    String::new(),
                ],
            })
            .collect();
        simple_table(
            out,
            &[
                "arm",
                "median",
                "95% CI",
                "geomean",
                "cases paired",
                "baseline",
            ],
            &sr,
        );
    }

    // Prefill vs decode.
    out.push_str("<h3>Prefill and decode</h3>\n");
    let svg = charts::hbars(&HBars {
        title: "Mean time per call: prefill + decode".into(),
        x_desc: "mean time per call (ms)".into(),
        categories: names.clone(),
        series: vec![
            BarSeries {
                name: "prefill".into(),
                color: color(4),
                values: rows
                    .iter()
                    .map(|(_, a)| finite(a.summary.prefill.mean))
                    .collect(),
                intervals: None,
            },
            BarSeries {
                name: "decode".into(),
                color: color(5),
                values: rows
                    .iter()
                    .map(|(_, a)| finite(a.summary.decode.mean))
                    .collect(),
                intervals: None,
            },
        ],
        stacked: true,
        lines: charts::deadline_lines(),
        digits: 1,
        suffix: String::new(),
    })?;
    let values: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            json!({"row": names[i], "prefill_mean": a.summary.prefill.mean,
                   "decode_mean": a.summary.decode.mean})
        })
        .collect();
    figure(
        out,
        "prefill-decode",
        &json!(values),
        &svg,
        "Mean prefill and mean decode time per call, stacked.",
    );
    let pd: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            let s = &a.summary;
            vec![
                names[i].clone(),
                ms(s.prefill.mean),
                ms(s.decode.mean),
                format!("{:.1}", s.mean_prefilled_tokens),
                format!("{:.1}", s.mean_decoded_tokens),
                format!("{:.0}", s.decode_tokens_per_s),
                format!("{:.2}", s.overhead_ms),
            ]
        })
        .collect();
    simple_table(
        out,
        &[
            "arm",
            "prefill ms",
            "decode ms",
            "prefilled tokens",
            "decoded tokens",
            "decode tok/s",
            "harness overhead ms",
        ],
        &pd,
    );

    // Tokens per head.
    out.push_str("<h3>Tokens per head</h3>\n");
    let mut head_names: Vec<String> = Vec::new();
    for (_, a) in &rows {
        for (h, _) in &a.head_tokens {
            if !head_names.contains(h) {
                head_names.push(h.clone());
            }
        }
    }
    let series: Vec<BarSeries> = head_names
        .iter()
        .enumerate()
        .map(|(j, h)| BarSeries {
            name: h.clone(),
            color: color(j),
            values: rows
                .iter()
                .map(|(_, a)| a.head_tokens.iter().find(|(n, _)| n == h).map(|(_, t)| *t))
                .collect(),
            intervals: None,
        })
        .collect();
    let svg = charts::hbars(&HBars {
        title: "Mean decoded tokens per head".into(),
        x_desc: "tokens per call".into(),
        categories: names.clone(),
        series,
        stacked: true,
        lines: vec![],
        digits: 1,
        suffix: String::new(),
    })?;
    let values: Vec<_> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            json!({"row": names[i], "heads": a.head_tokens.iter().map(|(h, t)| json!({"head": h, "mean_tokens": t})).collect::<Vec<_>>(),
                   "mean_longest_head_tokens": a.summary.mean_longest_head_tokens})
        })
        .collect();
    figure(
        out,
        "head-tokens",
        &json!(values),
        &svg,
        "Mean tokens each head decoded (over the calls where it ran), stacked. With parallel heads, latency follows the longest head, not the sum.",
    );
    let mut headers = vec!["arm".to_string()];
    headers.extend(head_names.iter().cloned());
    headers.push("longest head".into());
    headers.push("slot util.".into());
    let hr: Vec<Vec<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, (_, a))| {
            let mut r = vec![names[i].clone()];
            for h in &head_names {
                r.push(
                    a.head_tokens
                        .iter()
                        .find(|(n, _)| n == h)
                        .map_or("–".into(), |(_, t)| format!("{t:.1}")),
                );
            }
            r.push(format!("{:.1}", a.summary.mean_longest_head_tokens));
            r.push(pct(a.summary.mean_slot_utilisation));
            r
        })
        .collect();
    simple_table(
        out,
        &headers.iter().map(String::as_str).collect::<Vec<_>>(),
        &hr,
    );

    // Accuracy vs latency.
    let acc: Vec<(usize, f64, f64)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, (_, a))| a.strict_legacy().map(|(s, l)| (i, s, l)))
        .collect();
    out.push_str("<h3>Accuracy vs latency</h3>\n");
    if acc.is_empty() {
        out.push_str("<p class=\"note\">No accuracy recorded in these runs (the scenario has no gold calls, or the runs predate scoring).</p>\n");
    } else {
        let points: Vec<Point> = acc
            .iter()
            .map(|&(i, s, _)| Point {
                name: names[i].clone(),
                latency_ms: rows[i].1.summary.e2e.p50,
                accuracy: s,
            })
            .collect();
        let front = scatter::pareto_front(&points);
        let svg = scatter::accuracy_vs_latency(
            "Strict accuracy vs P50 latency (Pareto front ringed)",
            "strict accuracy (%)",
            &points,
        )?;
        let values: Vec<_> = points
            .iter()
            .enumerate()
            .map(|(k, p)| {
                json!({"row": p.name, "p50": p.latency_ms, "strict": p.accuracy,
                       "legacy": acc[k].2, "pareto": front.contains(&k)})
            })
            .collect();
        figure(
            out,
            "accuracy-latency",
            &json!(values),
            &svg,
            "Each arm a point, numbered as in the table below; ringed points are on the Pareto front (no other arm is both faster and more accurate).",
        );
        let ar: Vec<Vec<String>> = acc
            .iter()
            .enumerate()
            .map(|(k, &(i, s, l))| {
                let a = rows[i].1.accuracy().expect("filtered on accuracy");
                vec![
                    format!("{}. {}", k + 1, names[i]),
                    ms(rows[i].1.summary.e2e.p50),
                    pct(s),
                    pct(l),
                    a.all.scored.to_string(),
                    a.vs_baseline_pp.map_or("–".into(), |d| {
                        format!("{:+.1} / {:+.1}", d.strict, d.legacy)
                    }),
                    if front.contains(&k) {
                        "yes".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        simple_table(
            out,
            &[
                "point · arm",
                "P50 ms",
                "strict",
                "legacy",
                "scored",
                "vs baseline pp (strict / legacy)",
                "Pareto",
            ],
            &ar,
        );
    }
    out.push_str("</section>\n");
    Ok(())
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn sweep_section(
    out: &mut String,
    i: usize,
    source: &str,
    s: &HeadSweep,
) -> Result<(), ReportError> {
    let title = format!(
        "Step efficiency vs parallel heads · {} · {} ({}) · context {} tokens",
        s.backend.name, s.backend.architecture, s.backend.quantization, s.context_tokens
    );
    let svg = charts::heads::efficiency_curve(&title, s)?;
    let _ = writeln!(
        out,
        "<h3 id=\"sweep-{i}\">Head sweep from {}</h3>",
        text(source)
    );
    figure(
        out,
        "head-efficiency",
        &serde_json::to_value(&s.points).expect("sweep points serialise"),
        &svg,
        "step efficiency(N) = median step time with 1 sequence / with N sequences, at the same context; 100% = one more head is free.",
    );
    let rows: Vec<Vec<String>> = s
        .points
        .iter()
        .map(|p| {
            vec![
                p.heads.to_string(),
                format!("{:.2}", p.median_step_ms),
                format!("{:.2}", p.p95_step_ms),
                pct(p.step_efficiency),
                pct(p.parallel_overhead),
                p.samples.to_string(),
            ]
        })
        .collect();
    simple_table(
        out,
        &[
            "heads",
            "median step ms",
            "P95 step ms",
            "step efficiency",
            "parallel overhead",
            "samples",
        ],
        &rows,
    );
    let _ = writeln!(
        out,
        "<p class=\"note\">Model <code>{}</code> (SHA-256 <code>{}</code>), {} threads, {}.</p>",
        text(&s.backend.model_path),
        text(&s.backend.model_sha256),
        s.backend.threads,
        text(&s.backend.version)
    );
    Ok(())
}

fn manifest_section(out: &mut String, r: &RunView) {
    let m = &r.manifest;
    let st = &m.settings;
    let _ = writeln!(
        out,
        "<h3>{} · <code>{}</code></h3>",
        text(&r.tag),
        text(&r.path.display().to_string())
    );
    let kv = vec![
        vec![
            "fcbench".into(),
            format!("{} (schema {})", m.fcbench_version, m.schema),
        ],
        vec![
            "git commit".into(),
            m.git_commit.clone().unwrap_or_else(|| "–".into()),
        ],
        vec!["started".into(), m.started_at.clone()],
        vec![
            "machine".into(),
            format!(
                "{} · {} · {} · {:.1} GiB",
                m.machine.hostname,
                m.machine.os,
                m.machine.describe(),
                m.machine.memory_bytes as f64 / (1u64 << 30) as f64
            ),
        ],
        vec![
            "mode / regime".into(),
            format!("{} / {}", st.mode, st.regime),
        ],
        vec![
            "threads · repeat · warm-up".into(),
            format!("{} · {} · {}", st.threads, st.repeat, st.warmup),
        ],
        vec![
            "limit · seed · max head tokens".into(),
            format!(
                "{} · {} · {}",
                st.limit.map_or("none".into(), |l| l.to_string()),
                st.seed,
                st.max_head_tokens
            ),
        ],
        vec![
            "content head · marker tokens".into(),
            format!("{} · {}", st.content_head, st.map_markers),
        ],
        vec![
            "baseline arm".into(),
            st.baseline_arm
                .as_ref()
                .map_or("none".into(), ToString::to_string),
        ],
        vec![
            "scenario".into(),
            format!("{} ({} cases)", m.scenario.name, m.scenario.cases),
        ],
        vec!["command".into(), m.args.join(" ")],
    ];
    simple_table(out, &["", "value"], &kv);
    let files: Vec<Vec<String>> = m
        .scenario
        .files
        .iter()
        .map(|f| vec![f.path.clone(), f.sha256.clone()])
        .collect();
    simple_table(out, &["scenario file", "SHA-256"], &files);
    let arms: Vec<Vec<String>> = m
        .arms
        .iter()
        .map(|a| {
            let b = &a.backend_info;
            vec![
                a.label.to_string(),
                format!("{} {}", b.name, b.version),
                {
                    // The library's build, the binary's, and where it ran: three facts.
                    let mut build = b.build.clone();
                    if !b.binary.is_empty() {
                        build.push_str(&format!(" · binary: {}", b.binary));
                    }
                    if let Some(p) = &b.placement {
                        build.push_str(&format!(" · device: {}", p.summary()));
                    }
                    build
                },
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
        })
        .collect();
    simple_table(
        out,
        &[
            "arm",
            "engine",
            "build",
            "model",
            "model file",
            "model SHA-256",
        ],
        &arms,
    );
    let tpl: Vec<Vec<String>> = m
        .prompt_template_sha256
        .iter()
        .map(|(k, v)| vec![k.clone(), v.clone()])
        .collect();
    simple_table(out, &["protocol", "prompt template SHA-256"], &tpl);
}

/// The "Load sweep" section: one chart and one table (every number the chart draws) per load
/// directory.
fn load_section(out: &mut String, runs: &[crate::load::LoadRun]) -> Result<(), ReportError> {
    out.push_str("<section id=\"load\">\n<h2>Load sweep</h2>\n");
    for (i, run) in runs.iter().enumerate() {
        let r = &run.report;
        let title = format!(
            "{} · {} · {} API · SLO {} ms",
            run.tag, r.model, r.api, r.slo_ms
        );
        let svg = charts::load::sweep(&title, r)?;
        let _ = writeln!(
            out,
            "<h3 id=\"load-{i}\">{} ({})</h3>",
            text(&run.tag),
            text(&run.path.display().to_string())
        );
        figure(
            out,
            "load-sweep",
            &serde_json::to_value(&r.levels).expect("load levels serialise"),
            &svg,
            "Left: client-side latency P50 and P95 over successful calls per level, with the SLO. Right: goodput (successful calls within the SLO per second) and achieved calls/s per level.",
        );
        let rows: Vec<Vec<String>> = crate::load::rows(run, 1)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| c.unwrap_or_else(|| "–".into()))
                    .collect()
            })
            .collect();
        simple_table(out, &crate::load::HEADERS, &rows);
        let _ = writeln!(
            out,
            "<p class=\"note\">{}</p>",
            text(&crate::load::caption(run))
        );
        if let Some(e) = r.levels.iter().find_map(|l| l.first_error.as_ref()) {
            let _ = writeln!(
                out,
                "<div class=\"warn\"><strong>First error:</strong> {}</div>",
                text(e)
            );
        }
    }
    out.push_str("</section>\n");
    Ok(())
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
    let _ = writeln!(
        out,
        "<p class=\"note\">{} run director{} in {} group{}; every number is recomputed from the recorded calls (<code>calls.jsonl</code>), nothing was re-run. Deadlines: 16 Hz = 62.5 ms, 10 Hz = 100 ms.</p>",
        runs,
        if runs == 1 { "y" } else { "ies" },
        data.groups.len(),
        if data.groups.len() == 1 { "" } else { "s" }
    );
    if !data.loads.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} load sweep{} (<code>load.json</code>, written by <code>fcbench load</code>): see <a href=\"#load\">Load sweep</a>.</p>",
            data.loads.len(),
            if data.loads.len() == 1 { "" } else { "s" }
        );
    }
    for w in &data.warnings {
        let _ = writeln!(
            out,
            "<div class=\"warn\"><strong>Warning:</strong> {}</div>",
            text(w)
        );
    }
    for (gi, g) in data.groups.iter().enumerate() {
        group_section(&mut out, gi, g)?;
    }
    if !data.loads.is_empty() {
        load_section(&mut out, &data.loads)?;
    }
    out.push_str("<section id=\"heads\">\n<h2>Head efficiency</h2>\n");
    if data.sweeps.is_empty() {
        out.push_str("<p class=\"note\">No head sweep: run <code>fcbench heads --out RUN_DIR/heads.json</code>, or pass <code>--heads FILE</code>.</p>\n");
    }
    for (i, (src, s)) in data.sweeps.iter().enumerate() {
        sweep_section(&mut out, i, src, s)?;
    }
    out.push_str(
        "</section>\n<section id=\"manifests\">\n<h2>What was measured: run manifests</h2>\n",
    );
    for g in &data.groups {
        for r in &g.runs {
            manifest_section(&mut out, r);
        }
    }
    out.push_str("</section>\n</body>\n</html>\n");
    Ok(out)
}
