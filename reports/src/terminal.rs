//! The results table `fcbench run` prints (hyperfine-like): one row per arm.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use fcbench_core::record::{AccuracySummary, ArmSummary, GroupAccuracy, Manifest, RunSummary};

fn ms(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "–".into()
    }
}

/// The speed-up cell: `median× [low–high]`, or `baseline` for the baseline arm itself.
pub fn speedup_cell(s: &ArmSummary, baseline: Option<&str>) -> String {
    if baseline == Some(s.arm.as_str()) {
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

/// Accuracy cells of the run table: strict and legacy (full call | function name), and the
/// difference to the baseline arm in percentage points on the rows both scored.
pub fn accuracy_cells(s: &ArmSummary, baseline: Option<&str>) -> [String; 3] {
    let Some(a) = &s.accuracy else {
        return ["–".into(), "–".into(), "–".into()];
    };
    let g = &a.all;
    let delta = if baseline == Some(s.arm.as_str()) {
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

/// Render the per-arm table with a header line saying exactly what was measured.
pub fn render(summary: &RunSummary, manifest: &Manifest) -> String {
    let with_accuracy = summary.arms.iter().any(|a| a.accuracy.is_some());
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    let mut header = vec![
        "arm",
        "quant",
        "n",
        "mean ± σ ms",
        "P50",
        "P95",
        "Hz",
        "P50 Hz",
        "prefill|decode ms",
        "heads",
        "tok longest|all",
        "slot util",
        "speedup vs baseline",
        "agree",
    ];
    if with_accuracy {
        header.extend([
            "strict call | fn",
            "legacy call | fn",
            "Δpp strict | legacy",
        ]);
    }
    let header_len = header.len();
    t.set_header(header);
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
            // Every statistic of this arm is over no call: say so once instead of NaNs.
            let mut row = vec![s.arm.clone(), quant, n, "no successful calls".into()];
            row.resize(header_len, "–".into());
            t.add_row(row.into_iter().map(Cell::new));
            continue;
        }
        let mut row = vec![
            s.arm.clone(),
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
            speedup_cell(s, summary.baseline_arm.as_deref()),
            s.argmax_agreement
                .map(|a| format!("{:.0}%", a * 100.0))
                .unwrap_or_else(|| "–".into()),
        ];
        if with_accuracy {
            row.extend(accuracy_cells(s, summary.baseline_arm.as_deref()));
        }
        t.add_row(row.into_iter().map(Cell::new));
    }
    let last = if with_accuracy { 17 } else { 12 };
    for i in (2..12).chain(14..last) {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let st = &manifest.settings;
    let filtered: usize = summary.arms.first().map_or(0, |a| a.cases_filtered);
    let mut out = format!(
        "mode: {} · regime: {} · threads: {} · cases: {}/{}{} · repeat: {} · warm-up: {} · machine: {}\n",
        summary.mode,
        summary.regime,
        st.threads,
        summary.cases_done,
        summary.cases_total,
        if filtered > 0 { format!(" ({filtered} filtered: tool wider than 6 args)") } else { String::new() },
        st.repeat,
        st.warmup,
        manifest.machine.describe(),
    );
    // Where each engine ran, once per distinct placement (a GPU arm beside CPU arms shows).
    let mut placements: Vec<String> = Vec::new();
    for arm in &manifest.arms {
        if let Some(p) = &arm.backend_info.placement {
            let line = format!("device ({}): {}", arm.backend, p.summary());
            if !placements.contains(&line) {
                placements.push(line);
            }
        }
    }
    for line in placements {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str("latency = prefill + all decode steps, token ids ready → every head stopped; Hz = 1000/mean, P50 Hz = 1000/P50; speed-up = baseline/arm per case (median, bootstrap 95% CI)");
    if summary.mode == fcbench_core::record::DecodeMode::Forced {
        out.push_str("; agree = steps where argmax equalled the forced reference token");
    }
    if with_accuracy {
        out.push_str("; accuracy = full call | function name, strict and legacy scorers, each case once (first repeat), failed calls wrong");
        if summary.mode == fcbench_core::record::DecodeMode::Forced {
            out.push_str(
                " (forced token-level arms append the gold tokens, so their accuracy is not the model's; call-level arms are unaffected)",
            );
        }
    }
    // fcbench's own cost inside the timing (argmax, stop matching, bookkeeping): shown so a
    // reader can see the harness does not distort what it measures.
    let overheads: Vec<String> = summary
        .arms
        .iter()
        .filter(|a| a.calls_ok > 0 && a.prefill.n > 0 && a.prefill.mean > 0.0)
        .map(|a| {
            format!(
                "{} {:.2} ms ({:.2}%)",
                a.arm.rsplit('/').next().unwrap_or(&a.arm),
                a.overhead_ms,
                a.overhead_share * 100.0
            )
        })
        .collect();
    if !overheads.is_empty() {
        out.push_str(&format!(
            "\nfcbench overhead per call (e2e − engine time, mean): {}",
            overheads.join(", ")
        ));
    }
    // Like hyperfine's outlier warning: a figure taken on a busy machine says so.
    for a in &summary.arms {
        if let Some(w) = a.stability.as_ref().and_then(|s| s.warning()) {
            out.push_str(&format!("\nwarning: {}: {w}", a.arm));
        }
    }
    if let Some(why) = summary
        .arms
        .iter()
        .find_map(|a| a.stability.as_ref()?.not_measured.as_deref())
    {
        out.push_str(&format!("\nnoise: not measured ({why})"));
    }
    if !summary.complete {
        out.push_str(&format!(
            "\nINCOMPLETE: {}",
            summary
                .interrupted
                .as_deref()
                .unwrap_or("run still in progress")
        ));
    }
    out.push('\n');
    out
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

/// The accuracy tables of every arm that has gold to score, each under its arm label; empty
/// when no arm has.
pub fn render_accuracy(summary: &RunSummary) -> String {
    let mut out = String::new();
    let forced = summary.mode == fcbench_core::record::DecodeMode::Forced;
    let mut omitted = 0;
    for s in &summary.arms {
        let Some(a) = &s.accuracy else { continue };
        // Forced token-level arms decode the gold tokens: their breakdown says nothing about
        // the model, so it is left out (call-level arms, with prefill 0, answer for themselves).
        if forced && s.prefill.mean > 0.0 {
            omitted += 1;
            continue;
        }
        out.push_str(&format!("accuracy · {}\n", s.arm));
        out.push_str(&accuracy_table(a).to_string());
        out.push('\n');
        if let Some(d) = &a.vs_baseline_pp {
            out.push_str(&format!(
                "vs baseline on the same rows: strict {} pp (fn {}), legacy {} pp (fn {})\n",
                pp(d.strict),
                pp(d.strict_function),
                pp(d.legacy),
                pp(d.legacy_function)
            ));
        }
    }
    if omitted > 0 {
        out.push_str(&format!(
            "accuracy breakdown left out for {omitted} forced arm(s): forced decoding appends the gold tokens; run with --mode free for the model's accuracy\n"
        ));
    }
    if out.lines().any(|l| l.starts_with("accuracy · ")) {
        out.push_str("cells: correct and rate over scored rows; [categories] pool their datasets (micro); strict = exactly one call, the target gold call, no extra arguments; legacy = first call against any gold call, gold parameters only (SimpleTool's published rule)\n");
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
        let mut s = ArmSummary {
            arm: "x".into(),
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
            ..Default::default()
        };
        let c = accuracy_cells(&s, Some("base"));
        assert_eq!(c[0], "50.0% | 100.0%");
        assert_eq!(c[2], "+20.0 | -10.0");
        assert_eq!(accuracy_cells(&s, Some("x"))[2], "baseline");
        s.accuracy = None;
        assert_eq!(accuracy_cells(&s, None)[0], "–");
    }
}
