//! The results table `fcbench run` prints (hyperfine-like): one row per arm.

use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width};
use fcbench_core::arm::ArmId;
use fcbench_core::record::{
    AccuracySummary, ArmSummary, DecodeMode, GroupAccuracy, Manifest, RunSummary,
};

fn ms(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "–".into()
    }
}

/// The speed-up cell: `median× [low–high]`, or `baseline` for the baseline arm itself.
pub fn speedup_cell(s: &ArmSummary, baseline: Option<&ArmId>) -> String {
    if baseline == Some(&s.arm) {
        return "baseline".into();
    }
    match &s.speedup_vs_baseline {
        Some(r) => format!("{:.2}× [{:.2}–{:.2}]", r.median, r.ci95_low, r.ci95_high),
        None => "–".into(),
    }
}

fn pct(correct: usize, g: &GroupAccuracy) -> String {
    let r = g.rate(correct);
    if r.is_finite() {
        format!("{:.1}%", r * 100.0)
    } else {
        "–".into()
    }
}

fn pp(x: f64) -> String {
    format!("{x:+.1}")
}

/// Forced decoding appends the gold tokens on token-level arms (call-level arms, with no
/// prefill of their own, answer for themselves): such an arm's accuracy is not the model's.
fn fed_gold(mode: DecodeMode, s: &ArmSummary) -> bool {
    mode == DecodeMode::Forced && s.prefill.mean > 0.0
}

/// Accuracy cells of the run table: strict and legacy (full call | function name), and the
/// difference to the baseline arm in percentage points on the rows both scored.
pub fn accuracy_cells(s: &ArmSummary, baseline: Option<&ArmId>) -> [String; 3] {
    let Some(a) = &s.accuracy else {
        return ["–".into(), "–".into(), "–".into()];
    };
    let g = &a.all;
    let delta = if baseline == Some(&s.arm) {
        "baseline".into()
    } else {
        match &a.vs_baseline_pp {
            Some(d) => format!("{} | {}", pp(d.strict), pp(d.legacy)),
            None => "–".into(),
        }
    };
    [
        format!("{} | {}", pct(g.strict, g), pct(g.strict_function, g)),
        format!("{} | {}", pct(g.legacy, g), pct(g.legacy_function, g)),
        delta,
    ]
}

/// How much of the run table to print, in how many columns.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Every line is wrapped to this many columns (the table's cells wrap, the arm never).
    pub width: u16,
    /// All columns; otherwise arm, n, P50, P95, Hz, prefill|decode and speed-up.
    pub wide: bool,
}

impl Layout {
    /// The terminal's width when stdout is one (comfy-table asks crossterm), else 100.
    pub fn detect(wide: bool) -> Layout {
        Layout {
            width: Table::new().width().unwrap_or(100),
            wide,
        }
    }
}

/// `text` wrapped at spaces to `width` columns, by comfy-table's own wrapping (which measures
/// display width, so `×` and `–` count once).
fn wrap(text: &str, width: u16) -> String {
    let mut t = Table::new();
    t.load_preset(NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .add_row([text]);
    t.column_mut(0).expect("one column").set_padding((0, 0));
    t.lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Render the per-arm table with a header line saying exactly what was measured, every line
/// within `layout.width` (a label longer than that is never cut).
pub fn render(summary: &RunSummary, manifest: &Manifest, layout: Layout) -> String {
    let with_accuracy = summary.arms.iter().any(|a| a.accuracy.is_some());
    let baseline = summary.baseline_arm.as_ref();
    // (header, shown by default, right-aligned)
    let mut columns = vec![
        ("arm", true, false),
        ("quant", false, false),
        ("n", true, true),
        ("mean ± σ ms", false, true),
        ("P50\nms", true, true),
        ("P95\nms", true, true),
        ("Hz", true, true),
        ("P50 Hz", false, true),
        ("prefill|\ndecode ms", true, true),
        ("heads", false, true),
        ("tok longest|all", false, true),
        ("slot util", false, true),
        ("speed-up\n[95% CI]", true, false),
        ("agree", false, true),
    ];
    if with_accuracy {
        columns.extend([
            ("strict call | fn", false, true),
            ("legacy call | fn", false, true),
            ("Δpp strict | legacy", false, true),
        ]);
    }
    let mut rows = Vec::new();
    for s in &summary.arms {
        let quant = manifest
            .arms
            .iter()
            .find(|a| a.label == s.arm)
            .map(|a| a.backend_info.quantization.clone())
            .unwrap_or_default();
        let mut n = s.calls_ok.to_string();
        if s.calls_failed > 0 {
            n.push_str(&format!(" ({} failed)", s.calls_failed));
        }
        if s.calls_ok == 0 {
            // Every statistic of this arm is over no call: dashes, and a line under the
            // table saying so once, instead of NaNs.
            let mut row = vec![s.arm.to_string(), quant, n];
            row.resize(columns.len(), "–".into());
            rows.push(row);
            continue;
        }
        let mut row = vec![
            s.arm.to_string(),
            quant,
            n,
            format!("{} ± {}", ms(s.e2e.mean), ms(s.e2e.stddev)),
            ms(s.e2e.p50),
            ms(s.e2e.p95),
            format!("{:.1}", s.hz),
            format!("{:.1}", s.p50_hz),
            format!("{} | {}", ms(s.prefill.mean), ms(s.decode.mean)),
            format!("{:.1}", s.mean_heads),
            format!(
                "{:.1} | {:.1}",
                s.mean_longest_head_tokens, s.mean_decoded_tokens
            ),
            format!("{:.0}%", s.mean_slot_utilisation * 100.0),
            speedup_cell(s, baseline),
            s.argmax_agreement
                .map(|a| format!("{:.0}%", a * 100.0))
                .unwrap_or_else(|| "–".into()),
        ];
        if with_accuracy {
            row.extend(if fed_gold(summary.mode, s) {
                [
                    "n/a (forced)".into(),
                    "n/a (forced)".into(),
                    "n/a (forced)".into(),
                ]
            } else {
                accuracy_cells(s, baseline)
            });
        }
        rows.push(row);
    }
    let shown = |i: &usize| layout.wide || columns[*i].1;
    let keep: Vec<usize> = (0..columns.len()).filter(shown).collect();
    let mut t = Table::new();
    // UTF8_FULL_CONDENSED without the outer frame: two columns more for the numbers.
    t.load_preset("     ═╪ ┆          ")
        .set_header(keep.iter().map(|&i| columns[i].0));
    for row in rows {
        t.add_row(keep.iter().map(|&i| Cell::new(&row[i])));
    }
    for (c, &i) in keep.iter().enumerate() {
        let col = t.column_mut(c).expect("column");
        if columns[i].2 {
            col.set_cell_alignment(CellAlignment::Right);
        }
        // Only the speed-up may wrap (at its space); the arm, which a reader copies into
        // --baseline, and the numbers never do.
        col.set_constraint(if columns[i].0 == "speed-up\n[95% CI]" {
            ColumnConstraint::LowerBoundary(Width::Fixed(11))
        } else {
            ColumnConstraint::ContentWidth
        });
    }
    if !layout.wide {
        t.set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(layout.width);
    }
    let st = &manifest.settings;
    let filtered: usize = summary.arms.first().map_or(0, |a| a.cases_filtered);
    let mut head = vec![format!(
        "mode: {} · regime: {} · threads: {} · cases: {}/{}{} · repeat: {} · warm-up: {} · machine: {}",
        summary.mode,
        summary.regime,
        st.threads,
        summary.cases_done,
        summary.cases_total,
        if filtered > 0 { format!(" ({filtered} filtered: tool wider than 6 args)") } else { String::new() },
        st.repeat,
        st.warmup,
        manifest.machine.describe(),
    )];
    // Where each engine ran, once per distinct placement (a GPU arm beside CPU arms shows).
    for arm in &manifest.arms {
        if let Some(p) = &arm.backend_info.placement {
            let line = format!("device ({}): {}", arm.backend, p.summary());
            if !head.contains(&line) {
                head.push(line);
            }
        }
    }
    let mut legend = String::from("times in ms; latency = prefill + all decode steps, token ids ready → every head stopped; Hz = 1000/mean; speed-up = baseline/arm per case (median, bootstrap 95% CI)");
    if layout.wide {
        legend.push_str("; P50 Hz = 1000/P50");
        if summary.mode == DecodeMode::Forced {
            legend.push_str("; agree = steps where argmax equalled the forced reference token");
        }
        if with_accuracy {
            legend.push_str("; accuracy = full call | function name, strict and legacy scorers, each case once (first repeat), failed calls wrong");
            if summary.mode == DecodeMode::Forced {
                legend.push_str("; n/a (forced): token-level arms decode the gold tokens in forced mode, so their accuracy is not the model's");
            }
        }
    } else {
        legend.push_str("; --wide for every column (quantisation, mean ± σ, heads, tokens, slot use, agreement, accuracy)");
    }
    let mut tail = vec![legend];
    // fcbench's own cost inside the timing (argmax, stop matching, bookkeeping): shown so a
    // reader can see the harness does not distort what it measures.
    let ids: Vec<ArmId> = summary.arms.iter().map(|a| a.arm.clone()).collect();
    let overheads: Vec<String> = summary
        .arms
        .iter()
        .filter(|a| a.calls_ok > 0 && a.prefill.n > 0 && a.prefill.mean > 0.0)
        .map(|a| {
            format!(
                "{} {:.2} ms ({:.2}%)",
                a.arm.short(&ids),
                a.overhead_ms,
                a.overhead_share * 100.0
            )
        })
        .collect();
    if !overheads.is_empty() {
        tail.push(format!(
            "fcbench overhead per call (e2e − engine time, mean): {}",
            overheads.join(", ")
        ));
    }
    for a in summary.arms.iter().filter(|a| a.calls_ok == 0) {
        tail.push(format!("{}: no successful calls", a.arm));
    }
    // Like hyperfine's outlier warning: a figure taken on a busy machine says so.
    for a in &summary.arms {
        if let Some(w) = a.stability.as_ref().and_then(|s| s.warning()) {
            tail.push(format!("warning: {}: {w}", a.arm));
        }
    }
    if let Some(why) = summary
        .arms
        .iter()
        .find_map(|a| a.stability.as_ref()?.not_measured.as_deref())
    {
        tail.push(format!("noise: not measured ({why})"));
    }
    if !summary.complete {
        tail.push(format!(
            "INCOMPLETE: {}",
            summary
                .interrupted
                .as_deref()
                .unwrap_or("run still in progress")
        ));
    }
    let wrapped = |lines: Vec<String>| {
        lines
            .iter()
            .map(|l| wrap(l, layout.width) + "\n")
            .collect::<String>()
    };
    format!("{}{t}\n{}", wrapped(head), wrapped(tail))
}

fn group_row(g: &GroupAccuracy) -> Vec<String> {
    let cell = |c: usize| {
        if g.scored == 0 {
            "–".to_string()
        } else {
            format!("{} {:.2}%", c, g.rate(c) * 100.0)
        }
    };
    vec![
        g.group.clone(),
        g.input.to_string(),
        g.filtered.to_string(),
        g.invalid_gold.to_string(),
        g.scored.to_string(),
        cell(g.strict),
        cell(g.strict_function),
        cell(g.legacy),
        cell(g.legacy_function),
    ]
}

/// One arm's accuracy per dataset, per category and pooled (micro), with its denominators:
/// input rows, filtered by the six-argument capacity filter, missing/invalid gold, scored.
pub fn accuracy_table(a: &AccuracySummary) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "dataset / category",
        "input",
        "filtered",
        "invalid gold",
        "scored",
        "strict call",
        "strict fn",
        "legacy call",
        "legacy fn",
    ]);
    for g in &a.by_dataset {
        t.add_row(group_row(g));
    }
    for g in &a.by_category {
        let mut r = group_row(g);
        r[0] = format!("[{}]", g.group);
        t.add_row(r);
    }
    t.add_row(group_row(&a.all));
    for i in 1..9 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// The accuracy tables of every arm that has gold to score, each under its arm label, fitted
/// to `layout` like the run table; empty when no arm has.
pub fn render_accuracy(summary: &RunSummary, layout: Layout) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: String| {
        out.push_str(&wrap(&text, layout.width));
        out.push('\n');
    };
    let mut omitted = 0;
    for s in &summary.arms {
        let Some(a) = &s.accuracy else { continue };
        // Forced token-level arms decode the gold tokens: their breakdown says nothing about
        // the model, so it is left out (call-level arms, with prefill 0, answer for themselves).
        if fed_gold(summary.mode, s) {
            omitted += 1;
            continue;
        }
        out.push_str(&format!("accuracy · {}\n", s.arm));
        let mut t = accuracy_table(a);
        if !layout.wide {
            t.set_content_arrangement(ContentArrangement::Dynamic)
                .set_width(layout.width);
        }
        out.push_str(&format!("{t}\n"));
        if let Some(d) = &a.vs_baseline_pp {
            line(
                &mut out,
                format!(
                    "vs baseline on the same rows: strict {} pp (fn {}), legacy {} pp (fn {})",
                    pp(d.strict),
                    pp(d.strict_function),
                    pp(d.legacy),
                    pp(d.legacy_function)
                ),
            );
        }
    }
    if omitted > 0 {
        line(&mut out, format!("accuracy breakdown left out for {omitted} forced arm(s): forced decoding appends the gold tokens; run with --mode free for the model's accuracy"));
    }
    if out.lines().any(|l| l.starts_with("accuracy · ")) {
        line(&mut out, "cells: correct and rate over scored rows; [categories] pool their datasets (micro); strict = exactly one call, the target gold call, no extra arguments; legacy = first call against any gold call, gold parameters only (SimpleTool's published rule)".into());
    }
    out
}

/// A published figure that fcbench cannot measure here (e.g. the fine-tuned FunctionGemma's
/// Mobile Actions accuracy), printed apart from measured rows and labelled as such.
pub fn render_published_reference(reference: &serde_json::Value) -> String {
    let label = reference
        .get("label")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("published reference");
    let mut fields: Vec<String> = Vec::new();
    if let Some(o) = reference.as_object() {
        for (k, v) in o {
            if k == "label" || k == "source" {
                continue;
            }
            let shown = match v {
                serde_json::Value::Number(n) if n.as_f64().is_some_and(|x| x <= 1.0) => {
                    format!("{:.0}%", n.as_f64().unwrap_or(0.0) * 100.0)
                }
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.push(format!("{k}: {shown}"));
        }
    }
    let mut out = format!(
        "PUBLISHED REFERENCE (not measured): {label} — {}\n",
        fields.join(", ")
    );
    if let Some(src) = reference.get("source").and_then(serde_json::Value::as_str) {
        out.push_str(&format!("  source: {src}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fcbench_core::record::AccuracyDelta;

    fn group(name: &str, input: usize, filtered: usize, scored: usize, ok: usize) -> GroupAccuracy {
        GroupAccuracy {
            group: name.into(),
            input,
            filtered,
            invalid_gold: input - filtered - scored,
            scored,
            strict: ok,
            strict_function: scored,
            legacy: ok + 1,
            legacy_function: scored,
        }
    }

    #[test]
    fn accuracy_table_shows_denominators_and_rates() {
        let a = AccuracySummary {
            all: group("All (micro)", 50, 0, 49, 41),
            by_dataset: vec![group("BFCL_v3_exec_multiple_dataset", 50, 0, 49, 41)],
            by_category: vec![group("BFCL Exec", 50, 0, 49, 41)],
            vs_baseline_pp: None,
        };
        let t = accuracy_table(&a).to_string();
        assert!(t.contains("BFCL_v3_exec_multiple_dataset"), "{t}");
        assert!(t.contains("[BFCL Exec]"), "{t}");
        assert!(t.contains("41 83.67%"), "{t}");
        assert!(t.contains("42 85.71%"), "{t}");
        let row = t.lines().find(|l| l.contains("All (micro)")).unwrap();
        let cells: Vec<&str> = row.split('┆').map(str::trim).collect();
        assert_eq!(
            &cells[1..5],
            ["50", "0", "1", "49"],
            "input/filtered/invalid/scored"
        );
    }

    #[test]
    fn accuracy_cells_show_delta_or_baseline() {
        let id = |b: &str| ArmId::new(b, "m", fcbench_core::protocol::Protocol::Json);
        let mut s = ArmSummary {
            accuracy: Some(AccuracySummary {
                all: group("All", 10, 0, 10, 5),
                vs_baseline_pp: Some(AccuracyDelta {
                    strict: 20.0,
                    strict_function: 0.0,
                    legacy: -10.0,
                    legacy_function: 0.0,
                }),
                ..Default::default()
            }),
            ..fcbench_core::summary::summarise_arm(&id("x"), &[])
        };
        let c = accuracy_cells(&s, Some(&id("base")));
        assert_eq!(c[0], "50.0% | 100.0%");
        assert_eq!(c[2], "+20.0 | -10.0");
        assert_eq!(accuracy_cells(&s, Some(&id("x")))[2], "baseline");
        s.accuracy = None;
        assert_eq!(accuracy_cells(&s, None)[0], "–");
    }
}
