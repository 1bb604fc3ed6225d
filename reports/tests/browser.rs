//! Opens a report in headless Chromium (Debian's `chromium`), takes a screenshot and checks the
//! page rendered without errors. Without Chromium (`apt-get install -y chromium`) it says so and
//! skips, or fails under `CI=true`. The screenshot is kept under the target's test tmpdir
//! (path printed) for a human to look at.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        fcbench_core::agreement::skip_or_fail("no chromium on PATH (apt-get install -y chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = common::write_run(&tmp.path().join("run"), &common::Spec::default());
    fcbench_core::rundir::write_json_atomic(
        &dir.join(fcbench_reports::data::HEADS_FILE),
        &common::sweep(),
    )
    .unwrap();
    let data = fcbench_reports::load(&[dir], None).unwrap();
    let html = fcbench_reports::html::render(&data, "fcbench browser check").unwrap();
    let page = tmp.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let shot = out_dir.join("fcbench-report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tmp.path().join("profile");
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1400,4000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    // Page errors (script, console, resource loads) are logged as CONSOLE lines or with
    // "Uncaught"/"Failed to load"; the report should produce none.
    let page_errors: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains(":CONSOLE")
                || l.contains("Uncaught")
                || l.contains("Failed to load")
                || l.contains("net::ERR_")
        })
        .collect();
    assert!(page_errors.is_empty(), "page errors: {page_errors:#?}");
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.len() > 10_000,
        "screenshot suspiciously small: {} bytes",
        png.len()
    );
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    println!("screenshot: {} ({} bytes)", shot.display(), png.len());
}
