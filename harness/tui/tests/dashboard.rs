//! Snapshot tests of the dashboard, driven by a recorded event stream: the calls of a real run
//! (`fcbench run --limit 2 --repeat 1`, gemma3-270m, four protocols; `fixtures/calls.jsonl`)
//! replayed as the runner emits them, with the clock advanced by each call's measured e2e time.

use fcbench_core::record::{CacheRegime, CallRecord, CallStatus, DecodeMode, RunSummary};
use fcbench_core::runner::RunEvent;
use fcbench_core::summary::summarise;
use fcbench_tui::app::{App, CaseInfo, Feed, Header};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::time::Duration;

fn recorded_calls() -> Vec<CallRecord> {
    include_str!("fixtures/calls.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("fixture line is a CallRecord"))
        .collect()
}

fn new_app() -> App {
    let scenario = fcbench_scenarios::load("game").expect("built-in scenario");
    let cases = CaseInfo::by_id(&scenario.cases);
    App::new(
        Header {
            scenario: "game".into(),
            mode: DecodeMode::Forced,
            regime: CacheRegime::Prefix,
            threads: 2,
            repeat: 1,
        },
        cases,
    )
}

/// Replay the fixture through the app as the runner would, stopping after `calls` calls.
fn replay(app: &mut App, calls: usize) {
    replay_failing(app, calls, None)
}

/// As [`replay`], with call number `fail` turned into a failed call as the runner records one.
fn replay_failing(app: &mut App, calls: usize, fail: Option<usize>) {
    let scenario = fcbench_scenarios::load("game").unwrap();
    let recs = recorded_calls();
    let mut arms: Vec<fcbench_core::arm::ArmId> = Vec::new();
    for r in &recs {
        if !arms.contains(&r.arm) {
            arms.push(r.arm.clone());
        }
    }
    let mut case_ids: Vec<String> = Vec::new();
    for r in &recs {
        if !case_ids.contains(&r.case_id) {
            case_ids.push(r.case_id.clone());
        }
    }
    let baseline = arms
        .iter()
        .find(|a| a.protocol == fcbench_core::protocol::Protocol::FunctionGemma)
        .cloned();
    let mut now = Duration::from_secs(3); // model loading
    app.tick(now);
    app.on_event(RunEvent::Started {
        cases: case_ids.len(),
        arms: arms.clone(),
    });
    let mut done: Vec<CallRecord> = Vec::new();
    for (index, id) in case_ids.iter().enumerate() {
        let case = scenario.cases.iter().find(|c| &c.id == id).unwrap();
        app.on_event(RunEvent::CaseStarted {
            index,
            case_id: id.clone(),
            query: case.query.clone(),
        });
        for r in recs.iter().filter(|r| &r.case_id == id) {
            if done.len() == calls {
                return;
            }
            now += Duration::from_secs_f64(r.e2e_ms / 1e3);
            app.tick(now);
            let mut r = r.clone();
            if fail == Some(done.len()) {
                r.status = CallStatus::Failed;
                r.error = Some("decode failed: llama_decode returned 1 (KV cache full)".into());
                r.heads.clear();
                r.step_ms.clear();
                r.step_batch.clear();
                (r.prefill_ms, r.decode_ms, r.e2e_ms, r.engine_ms) = (0.0, 0.0, 0.0, 0.0);
                r.parsed = None;
            }
            app.on_event(RunEvent::Call(Box::new(r.clone())));
            done.push(r);
        }
        app.on_event(RunEvent::Summary(Box::new(RunSummary {
            schema: 1,
            complete: index + 1 == case_ids.len(),
            interrupted: None,
            updated_at: String::new(),
            mode: DecodeMode::Forced,
            regime: CacheRegime::Prefix,
            baseline_arm: baseline.clone(),
            cases_total: case_ids.len(),
            cases_done: index + 1,
            arms: summarise(&done, &arms, baseline.as_ref()),
        })));
    }
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| fcbench_tui::ui::draw(f, app)).unwrap();
    t.backend().to_string()
}

#[test]
fn main_layout_80x24_mid_run() {
    let mut app = new_app();
    replay(&mut app, 6);
    app.on_event(RunEvent::Warning(
        "llama/gemma3-270m/json: no spare token left for <x>; these markers cost several tokens each"
            .into(),
    ));
    insta::assert_snapshot!(render(&mut app, 80, 24));
}

#[test]
fn main_layout_160x48_finished() {
    let mut app = new_app();
    // A failed call lands in the log and in the arm's failure count, never kills the view.
    replay_failing(&mut app, usize::MAX, Some(6));
    app.on_event(RunEvent::Finished { interrupted: false });
    app.on_feed(Feed::Done(Ok("runs/20261127-031500-game".into())));
    app.tick(app.now + Duration::from_secs(60)); // every head timeline fully replayed
    insta::assert_snapshot!(render(&mut app, 160, 48));
}

#[test]
fn compact_view_when_the_terminal_is_small() {
    let mut app = new_app();
    replay(&mut app, 5);
    insta::assert_snapshot!(render(&mut app, 60, 14));
}

#[test]
fn help_overlay_and_arm_switch() {
    let mut app = new_app();
    replay(&mut app, usize::MAX);
    app.on_key(KeyEvent::new(KeyCode::Right, KeyModifiers::NONE));
    app.on_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE));
    insta::assert_snapshot!(render(&mut app, 80, 24));
}

#[test]
fn head_timeline_replays_step_by_step() {
    let mut app = new_app();
    replay(&mut app, 1);
    let r = app.last_call.values().next().unwrap().record.clone();
    // Mid-way through the recorded decode, only the first steps are drawn.
    let mid = Duration::from_secs_f64((r.prefill_ms + r.step_ms[0] + 1.0) / 1e3);
    assert_eq!(fcbench_tui::ui::revealed_steps(&r, mid), 2);
    assert_eq!(fcbench_tui::ui::revealed_steps(&r, Duration::ZERO), 0);
}

#[test]
fn no_size_panics() {
    let mut app = new_app();
    replay(&mut app, usize::MAX);
    app.help = true;
    for (w, h) in [
        (1, 1),
        (10, 3),
        (79, 24),
        (80, 23),
        (80, 24),
        (200, 60),
        (300, 20),
    ] {
        render(&mut app, w, h);
    }
    let mut empty = new_app();
    for (w, h) in [(1, 1), (80, 24), (160, 48)] {
        render(&mut empty, w, h);
    }
}

#[test]
fn an_arm_timed_on_a_busy_machine_is_marked_unstable_in_the_table() {
    let mut app = new_app();
    replay(&mut app, usize::MAX);
    let before = render(&mut app, 160, 48);
    assert!(!before.contains("⚠"), "{before}");
    // A second repeat of the first arm's cases, three times slower: its repeats disagree
    // (core::noise's verdict, computed from the calls the dashboard holds).
    let first = recorded_calls()[0].arm.clone();
    for r in recorded_calls().into_iter().filter(|r| r.arm == first) {
        let mut slow = r.clone();
        slow.repeat = 1;
        slow.e2e_ms *= 3.0;
        app.on_event(RunEvent::Call(Box::new(slow)));
    }
    let after = render(&mut app, 160, 48);
    assert!(after.contains("simpletool ⚠"), "{after}");
    assert!(after.contains("⚠ = unstable timings"), "{after}");
}
