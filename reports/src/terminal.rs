//! The results table `fcbench run` prints (hyperfine-like): one row per arm.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, Table};
use fcbench_core::record::{ArmSummary, Manifest, RunSummary};

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

/// Render the per-arm table with a header line saying exactly what was measured.
pub fn render(summary: &RunSummary, manifest: &Manifest) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
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
    ]);
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
        let row = vec![
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
        t.add_row(row.into_iter().map(Cell::new));
    }
    for i in 2..12 {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let st = &manifest.settings;
    let filtered: usize = summary.arms.first().map_or(0, |a| a.cases_filtered);
    let mut out = format!(
        "mode: {} · regime: {} · threads: {} · cases: {}/{}{} · repeat: {} · warm-up: {} · machine: {} ({} cores)\n",
        summary.mode,
        summary.regime,
        st.threads,
        summary.cases_done,
        summary.cases_total,
        if filtered > 0 { format!(" ({filtered} filtered: tool wider than 6 args)") } else { String::new() },
        st.repeat,
        st.warmup,
        manifest.machine.cpu_model,
        manifest.machine.cpu_cores,
    );
    out.push_str(&t.to_string());
    out.push('\n');
    out.push_str("latency = prefill + all decode steps, token ids ready → every head stopped; Hz = 1000/mean, P50 Hz = 1000/P50; speed-up = baseline/arm per case (median, bootstrap 95% CI)");
    if summary.mode == fcbench_core::record::DecodeMode::Forced {
        out.push_str("; agree = steps where argmax equalled the forced reference token");
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
