//! The HTML report parses, every SVG is well-formed, and each chart's numbers are the
//! summary's.

mod common;

use fcbench_core::record::RunSummary;
use serde_json::Value;
use std::time::Instant;

fn parse_options() -> roxmltree::ParsingOptions {
    roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    }
}

/// Equal up to JSON's float round trip (serde_json parses to within an ulp or so).
fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(
            approx(a, b),
            "{} = {a} vs {} = {b}",
            stringify!($a),
            stringify!($b)
        );
    }};
}

struct Rendered {
    html: String,
    summary: RunSummary,
}

fn render(spec: &common::Spec, with_sweep: bool) -> Rendered {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), spec);
    let sweep_path = tmp.path().join("heads.json");
    fcbench_core::rundir::write_json_atomic(&sweep_path, &common::sweep()).unwrap();
    let data = fcbench_reports::load(
        std::slice::from_ref(&dir),
        with_sweep.then_some(sweep_path.as_path()),
    )
    .unwrap();
    let html = fcbench_reports::html::render(&data, "test report").unwrap();
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    Rendered { html, summary }
}

/// Every `<svg>…</svg>` in the document, as text.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<svg") {
        let j = rest[i..].find("</svg>").expect("closed svg") + i + "</svg>".len();
        out.push(&rest[i..j]);
        rest = &rest[j..];
    }
    out
}

fn figures(doc: &roxmltree::Document) -> Vec<(String, Value, Vec<String>)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("figure"))
        .map(|f| {
            let kind = f.attribute("data-chart").unwrap().to_string();
            let values: Value = serde_json::from_str(f.attribute("data-values").unwrap()).unwrap();
            let texts: Vec<String> = f
                .descendants()
                .filter(|n| n.has_tag_name("text"))
                .filter_map(|n| n.text().map(|t| t.trim().to_string()))
                .collect();
            (kind, values, texts)
        })
        .collect()
}

#[test]
fn report_is_well_formed_self_contained_and_charts_match_the_summary() {
    let r = render(&common::Spec::default(), true);
    let doc = roxmltree::Document::parse_with_options(&r.html, parse_options())
        .expect("the report is well-formed XHTML");
    assert!(!r.html.contains("<script"), "no scripts");
    let external = r.html.matches("http://").count() + r.html.matches("https://").count();
    let namespaces = r.html.matches("xmlns=\"http://www.w3.org/").count();
    assert_eq!(
        external, namespaces,
        "no links outside the file except XML namespaces"
    );

    let svg_texts = svgs(&r.html);
    for s in &svg_texts {
        let d = roxmltree::Document::parse(s).expect("each SVG is well-formed on its own");
        assert!(d.root_element().has_tag_name("svg"));
    }
    let figs = figures(&doc);
    assert_eq!(figs.len(), svg_texts.len(), "one SVG per figure");
    let kinds: Vec<&str> = figs.iter().map(|f| f.0.as_str()).collect();
    for k in [
        "cdf",
        "p50-p95",
        "speedup",
        "prefill-decode",
        "head-tokens",
        "accuracy-latency",
        "head-efficiency",
    ] {
        assert_eq!(
            kinds.iter().filter(|x| **x == k).count(),
            1,
            "{k} in {kinds:?}"
        );
    }
    assert_eq!(kinds.iter().filter(|x| **x == "histogram").count(), 3);

    let arms = &r.summary.arms;
    let find = |kind: &str| figs.iter().find(|f| f.0 == kind).unwrap();
    let (_, v, texts) = find("p50-p95");
    for (i, a) in arms.iter().enumerate() {
        assert_close!(v[i]["p50"].as_f64().unwrap(), a.e2e.p50);
        assert_close!(v[i]["p95"].as_f64().unwrap(), a.e2e.p95);
        let (lo, hi) = (
            v[i]["p50_ci95"][0].as_f64().unwrap(),
            v[i]["p50_ci95"][1].as_f64().unwrap(),
        );
        assert!(lo <= a.e2e.p50 && a.e2e.p50 <= hi);
        // The labels drawn on the bars are the summary's numbers.
        assert!(texts.contains(&format!("{:.1}", a.e2e.p50)), "{texts:?}");
        assert!(texts.contains(&format!("{:.1}", a.e2e.p95)), "{texts:?}");
    }
    let (_, v, texts) = find("speedup");
    for (i, a) in arms.iter().enumerate() {
        let s = a.speedup_vs_baseline.as_ref().unwrap();
        assert_close!(v[i]["speedup"]["median"].as_f64().unwrap(), s.median);
        assert_close!(v[i]["speedup"]["ci95_low"].as_f64().unwrap(), s.ci95_low);
        assert!(texts.contains(&format!("{:.2}×", s.median)), "{texts:?}");
    }
    let (_, v, texts) = find("prefill-decode");
    for (i, a) in arms.iter().enumerate() {
        assert_close!(v[i]["prefill_mean"].as_f64().unwrap(), a.prefill.mean);
        assert_close!(v[i]["decode_mean"].as_f64().unwrap(), a.decode.mean);
        assert!(texts.contains(&format!("{:.1} + {:.1}", a.prefill.mean, a.decode.mean)));
    }
    let (_, v, _) = find("cdf");
    for (i, a) in arms.iter().enumerate() {
        assert_eq!(v[i]["n"].as_u64().unwrap() as usize, a.e2e.n);
        assert_close!(v[i]["p50"].as_f64().unwrap(), a.e2e.p50);
    }
    for (i, (_, v, _)) in figs.iter().filter(|f| f.0 == "histogram").enumerate() {
        let total: u64 = v["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(total as usize, arms[i].e2e.n);
    }
    let (_, v, _) = find("accuracy-latency");
    for (i, a) in arms.iter().enumerate() {
        let acc = &a.accuracy.as_ref().unwrap().all;
        assert_close!(v[i]["strict"].as_f64().unwrap(), acc.rate(acc.strict));
        assert_close!(v[i]["p50"].as_f64().unwrap(), a.e2e.p50);
    }
    // simpletool (fastest, 75%) and json (100%) are on the front; functiongemma (slowest, 50%)
    // is dominated.
    let front: Vec<bool> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pareto"].as_bool().unwrap())
        .collect();
    assert_eq!(front, [true, true, false]);
    let (_, v, texts) = find("head-efficiency");
    let sweep = common::sweep();
    for (i, p) in sweep.points.iter().enumerate() {
        assert_close!(v[i]["step_efficiency"].as_f64().unwrap(), p.step_efficiency);
        assert!(texts.contains(&format!("{:.0}%", p.step_efficiency * 100.0)));
    }
    // The manifest is there, so a reader knows what was measured.
    for needle in [
        "0123abcd",
        "Test CPU",
        "abc1234",
        "scenarios/game.jsonl",
        "prefix",
    ] {
        assert!(r.html.contains(needle), "{needle}");
    }
}

#[test]
fn without_accuracy_or_sweep_the_report_says_so() {
    let r = render(
        &common::Spec {
            accuracy: false,
            ..Default::default()
        },
        false,
    );
    roxmltree::Document::parse_with_options(&r.html, parse_options()).unwrap();
    assert!(!r.html.contains("data-chart=\"accuracy-latency\""));
    assert!(!r.html.contains("data-chart=\"head-efficiency\""));
    assert!(r.html.contains("No accuracy recorded"));
    assert!(r.html.contains("No head sweep"));
}

/// Not a timed assertion (the machine is shared): prints how long 10,000 calls take.
#[test]
fn render_time_of_ten_thousand_calls() {
    let spec = common::Spec {
        cases: 3334,
        repeat: 1,
        ..Default::default()
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), &spec);
    let t = Instant::now();
    let run = fcbench_core::rundir::load_run(&dir).unwrap();
    let parsed = t.elapsed();
    let t = Instant::now();
    let data = fcbench_reports::data::build(std::slice::from_ref(&run), None).unwrap();
    let recomputed = t.elapsed();
    let calls: usize = data.groups[0].runs[0]
        .arms
        .iter()
        .map(|a| a.summary.calls_ok)
        .sum();
    assert_eq!(calls, 10_002);
    let t = Instant::now();
    let html = fcbench_reports::html::render(&data, "big").unwrap();
    let rendered = t.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    println!(
        "10,002 calls: parse calls.jsonl {:.0} ms, recompute summaries and intervals {:.0} ms, render HTML {:.0} ms; total {:.0} ms, {:.1} MiB of HTML",
        ms(parsed),
        ms(recomputed),
        ms(rendered),
        ms(parsed + recomputed + rendered),
        html.len() as f64 / (1 << 20) as f64
    );
}
