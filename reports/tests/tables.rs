//! Golden files for each table format, from a synthetic run the test writes itself.

mod common;

use fcbench_core::protocol::Protocol;
use fcbench_core::record::DecodeMode;
use fcbench_reports::table::{self, exporter, Column, TableFormat};
use fcbench_reports::terminal::{self, Layout};

/// The default run table in a 100-column terminal.
const NARROW: Layout = Layout {
    width: 100,
    wide: false,
};

fn render(format: TableFormat, columns: &[Column]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), &common::Spec::default());
    let sweep_path = dir.join(fcbench_reports::data::HEADS_FILE);
    fcbench_core::rundir::write_json_atomic(&sweep_path, &common::sweep()).unwrap();
    let data = fcbench_reports::load(&[dir], None).unwrap();
    assert_eq!(data.groups.len(), 1);
    let t = table::build(&data.groups[0], columns, 1, true).unwrap();
    exporter(format).export(&t)
}

#[test]
fn markdown_table() {
    insta::assert_snapshot!(render(TableFormat::Markdown, &Column::ALL));
}

#[test]
fn latex_table() {
    insta::assert_snapshot!(render(TableFormat::Latex, &Column::DEFAULT));
}

#[test]
fn csv_table() {
    insta::assert_snapshot!(render(TableFormat::Csv, &Column::ALL));
}

#[test]
fn incompatible_runs_get_separate_tables_and_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let a = common::write_run(&tmp.path().join("a"), &common::Spec::default());
    let b = common::write_run(
        &tmp.path().join("b"),
        &common::Spec {
            mode: fcbench_core::record::DecodeMode::Free,
            ..Default::default()
        },
    );
    let c = common::write_run(&tmp.path().join("c"), &common::Spec::default());
    let data = fcbench_reports::load(&[a, b, c], None).unwrap();
    assert_eq!(data.groups.len(), 2, "forced runs together, free apart");
    assert_eq!(data.groups[0].runs.len(), 2);
    assert!(
        data.warnings.iter().any(|w| w.contains("never averaged")),
        "{:?}",
        data.warnings
    );
    // Side by side: every arm of both compatible runs is its own row, tagged by run.
    let t = table::build(&data.groups[0], &[Column::P50], 1, false).unwrap();
    assert_eq!(t.rows.len(), 6);
    assert_eq!(t.rows[0].run.as_deref(), Some("R1"));
    assert_eq!(t.rows[3].run.as_deref(), Some("R3"));
}

#[test]
fn a_broken_calls_line_names_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), &common::Spec::default());
    let path = dir.join("calls.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"case_id\": 5}";
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let e = fcbench_reports::load(&[dir], None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("calls.jsonl:2:"), "{e}");
}

#[test]
fn an_arm_without_a_successful_call_reads_back_and_says_so_in_every_table() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = common::Spec {
        failed_arm: Some(0),
        ..Default::default()
    };
    let dir = common::write_run(&tmp.path().join("run"), &spec);
    let summary_text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(
        summary_text.contains("null"),
        "means over no call are written as null"
    );
    let data = fcbench_reports::load(std::slice::from_ref(&dir), None).unwrap();
    assert!(
        data.warnings
            .iter()
            .any(|w| w.contains("simpletool: no successful calls (8 failed, 0 filtered)")),
        "{:?}",
        data.warnings
    );
    for format in [TableFormat::Markdown, TableFormat::Latex, TableFormat::Csv] {
        let t = table::build(&data.groups[0], &Column::ALL, 1, true).unwrap();
        let text = exporter(format).export(&t);
        assert!(!text.to_lowercase().contains("nan"), "{format:?}: {text}");
    }
    // The run's own terminal table, from the summary as read back.
    let run = fcbench_core::rundir::load_run(&dir).unwrap();
    let text = terminal::render(run.summary.as_ref().unwrap(), &run.manifest, NARROW);
    assert!(text.contains("no successful calls"), "{text}");
    assert!(!text.contains("NaN"), "{text}");
}

#[test]
fn a_cut_short_last_line_is_a_warning_not_silently_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), &common::Spec::default());
    let path = dir.join("calls.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let n = text.lines().count();
    // A SIGKILL in the middle of a write: the last record stops half-way, without newline.
    let cut = text.len() - 40;
    std::fs::write(&path, &text[..cut]).unwrap();
    let data = fcbench_reports::load(std::slice::from_ref(&dir), None).unwrap();
    let expected = format!("calls.jsonl:{n}: the last line is cut short");
    assert!(
        data.warnings.iter().any(|w| w.contains(&expected)),
        "{:?}",
        data.warnings
    );
    let run = fcbench_core::rundir::load_run(&dir).unwrap();
    assert_eq!(run.calls.len(), n - 1);
}

#[test]
fn unstable_timings_are_flagged_in_the_warnings_and_the_html_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), &common::Spec::default());
    // The second repeat of every simpletool call ran beside another job: three times slower.
    let path = dir.join("calls.jsonl");
    let text: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut r: fcbench_core::record::CallRecord = serde_json::from_str(l).unwrap();
            if r.arm.protocol == Protocol::SimpleTool && r.repeat == 1 {
                r.e2e_ms *= 3.0;
            }
            serde_json::to_string(&r).unwrap()
        })
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    let data = fcbench_reports::load(&[dir], None).unwrap();
    assert!(
        data.warnings.iter().any(|w| w.contains(
            "llama/gemma3-270m/simpletool: unstable timings (repeats of a case differ by 102% (median), over 25%)"
        )),
        "{:?}",
        data.warnings
    );
    let html = fcbench_reports::html::render(&data, "t").unwrap();
    assert!(html.contains("unstable timings (repeats of a case differ by"));
}

/// `fcbench run`'s table from the synthetic run, as its summary reads back.
fn run_table(spec: &common::Spec, layout: Layout) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), spec);
    let run = fcbench_core::rundir::load_run(&dir).unwrap();
    terminal::render(run.summary.as_ref().unwrap(), &run.manifest, layout)
}

#[test]
fn the_default_run_table_fits_a_100_column_terminal_and_keeps_the_essentials() {
    let text = run_table(&common::Spec::default(), NARROW);
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns:\n{text}",
            line.chars().count()
        );
    }
    for what in [
        "llama/gemma3-270m/simpletool",
        "P50",
        "P95",
        "Hz",
        "prefill|",
        "baseline",
        "--wide",
    ] {
        assert!(text.contains(what), "{what}:\n{text}");
    }
    assert!(!text.contains("slot util"), "{text}");
    let wide = run_table(
        &common::Spec::default(),
        Layout {
            width: 400,
            wide: true,
        },
    );
    assert!(
        wide.contains("slot util") && wide.contains("strict call | fn"),
        "{wide}"
    );
}

#[test]
fn forced_mode_shows_accuracy_as_not_applicable_and_free_mode_shows_it() {
    let wide = Layout {
        width: 400,
        wide: true,
    };
    let forced = run_table(&common::Spec::default(), wide);
    assert!(forced.contains("n/a (forced)"), "{forced}");
    assert!(!forced.contains("100.0%"), "{forced}");
    let free = run_table(
        &common::Spec {
            mode: DecodeMode::Free,
            ..Default::default()
        },
        wide,
    );
    assert!(
        !free.contains("n/a (forced)") && free.contains("100.0%"),
        "{free}"
    );
}
