//! Load directories (`fcbench load`: `load.json`, an empty `calls.jsonl`, no manifest) in the
//! tables and the HTML report, alone and next to a normal run directory.

mod common;

use fcbench_reports::table::TableFormat;
use serde_json::json;
use std::path::{Path, PathBuf};

/// What `fcbench load` writes, with one level that had no successful call (NaN → null).
fn write_load_dir(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("calls.jsonl"), "").unwrap();
    let load = json!({
        "started_at": "2026-11-27T05:00:00Z",
        "url": "http://127.0.0.1:8080",
        "api": "simpletool",
        "model": "smollm2",
        "scenario": "game",
        "cases": 2,
        "mode": "free",
        "slo_ms": 250.0,
        "calls_per_level": 8,
        "max_seconds_per_level": 30.0,
        "machine": {"hostname": "h", "os": "linux", "cpu_model": "Test CPU", "cpu_cores": 2, "memory_bytes": 1},
        "levels": [
            {"level": {"concurrency": 1}, "calls": 8, "ok": 8, "failed": 0, "p50_ms": 123.456,
             "p95_ms": 201.25, "max_ms": 240.0, "achieved_per_s": 7.5, "goodput_share": 1.0,
             "goodput_per_s": 7.5, "wall_s": 1.0667, "server_p50_ms": 100.0},
            {"level": {"concurrency": 4}, "calls": 8, "ok": 7, "failed": 1, "p50_ms": 310.5,
             "p95_ms": 612.75, "max_ms": 700.0, "achieved_per_s": 11.25, "goodput_share": 0.375,
             "goodput_per_s": 4.5, "wall_s": 0.6222, "first_error": "timed out"},
            {"level": {"concurrency": 8}, "calls": 8, "ok": 0, "failed": 8, "p50_ms": null,
             "p95_ms": null, "max_ms": null, "achieved_per_s": 0.0, "goodput_share": 0.0,
             "goodput_per_s": 0.0, "wall_s": 1.0}
        ]
    });
    std::fs::write(
        dir.join("load.json"),
        serde_json::to_string_pretty(&load).unwrap(),
    )
    .unwrap();
    dir.to_path_buf()
}

#[test]
fn tables_show_every_level_against_the_stated_slo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_load_dir(&tmp.path().join("load"));
    let data = fcbench_reports::load(&[dir], None).unwrap();
    assert!(data.groups.is_empty());
    assert_eq!(data.loads.len(), 1);

    let md = fcbench_reports::load::export(&data.loads, TableFormat::Markdown, 1);
    assert!(md.contains("250 ms SLO"), "{md}");
    assert!(
        md.contains("| 1 clients | 8 | 8 | 0 | 123.5 | 201.2 | 240.0 | 7.50 | 100.0 | 7.50 |"),
        "{md}"
    );
    assert!(
        md.contains("| 4 clients | 8 | 7 | 1 | 310.5 | 612.8 | 700.0 | 11.25 | 37.5 | 4.50 |"),
        "{md}"
    );
    assert!(
        md.contains("| 8 clients | 8 | 0 | 8 | – | – | – | 0.00 | 0.0 | 0.00 |"),
        "{md}"
    );

    let tex = fcbench_reports::load::export(&data.loads, TableFormat::Latex, 1);
    assert!(
        tex.contains("\\toprule") && tex.contains("Goodput (\\%)"),
        "{tex}"
    );
    assert!(
        tex.contains("8 clients & 8 & 0 & 8 & -- & -- & -- & 0.00 & 0.0 & 0.00 \\\\"),
        "{tex}"
    );

    let csv = fcbench_reports::load::export(&data.loads, TableFormat::Csv, 1);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "run,level_kind,level,calls,ok,failed,p50_ms,p95_ms,max_ms,achieved_per_s,goodput_share,goodput_per_s,slo_ms"
    );
    assert_eq!(
        lines.next().unwrap(),
        "L1,concurrency,1,8,8,0,123.456,201.25,240,7.5,1,7.5,250"
    );
    assert_eq!(lines.nth(1).unwrap(), "L1,concurrency,8,8,0,8,,,,0,0,0,250");
}

#[test]
fn the_report_parses_and_its_load_section_holds_the_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let load = write_load_dir(&tmp.path().join("load"));
    let run = common::write_run(&tmp.path().join("run"), &common::Spec::default());
    let data = fcbench_reports::load(&[run, load], None).unwrap();
    assert_eq!(data.groups.len(), 1, "the run directory still reports");
    assert_eq!(data.loads.len(), 1);
    let html = fcbench_reports::html::render(&data, "load report").unwrap();
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    let section = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("load"))
        .expect("a load section");
    let fig = section
        .descendants()
        .find(|n| n.attribute("data-chart") == Some("load-sweep"))
        .expect("a load chart");
    let values: serde_json::Value =
        serde_json::from_str(fig.attribute("data-values").unwrap()).unwrap();
    assert_eq!(values[1]["p95_ms"], 612.75);
    assert!(values[2]["p50_ms"].is_null());
    assert!(fig.descendants().any(|n| n.has_tag_name("svg")));
    let cells: Vec<&str> = section
        .descendants()
        .filter(|n| n.has_tag_name("td"))
        .filter_map(|n| n.text())
        .collect();
    for want in [
        "123.5", "201.2", "612.8", "700.0", "11.25", "37.5", "4.50", "–",
    ] {
        assert!(cells.contains(&want), "{want} not in {cells:?}");
    }
    assert!(html.contains("timed out"));
}

#[test]
fn a_broken_load_json_names_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("load");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("load.json"), "{\n  \"url\": 3\n}").unwrap();
    let e = fcbench_reports::load(&[dir], None).unwrap_err().to_string();
    assert!(e.contains("load.json:2:"), "{e}");
}
