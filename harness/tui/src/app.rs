//! Dashboard state: fed by the runner's events, changed by keys, read by [`crate::ui`].
//! Time is passed in (never read from the clock here) so that a recorded event stream always
//! renders the same screen.

use fcbench_core::arm::ArmId;
use fcbench_core::protocol::Protocol;
use fcbench_core::record::{
    ArmSummary, CacheRegime, CallRecord, CallStatus, DecodeMode, RunSummary,
};
use fcbench_core::runner::RunEvent;
use fcbench_core::scenario::{Case, FunctionCall};
use fcbench_core::summary::summarise;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// Run settings the events do not carry (the CLI knows them from its arguments).
#[derive(Debug, Clone)]
pub struct Header {
    pub scenario: String,
    pub mode: DecodeMode,
    pub regime: CacheRegime,
    pub threads: usize,
    pub repeat: u32,
}

/// What the dashboard shows of a case besides its calls.
#[derive(Debug, Clone, Default)]
pub struct CaseInfo {
    pub query: String,
    /// `Case::reference_call()`: the gold call the parsed call is shown against.
    pub gold: Option<FunctionCall>,
}

impl CaseInfo {
    /// The cases of a run, by id, as the dashboard shows them.
    pub fn by_id(cases: &[Case]) -> HashMap<String, CaseInfo> {
        cases
            .iter()
            .map(|c| {
                let info = CaseInfo {
                    query: c.query.clone(),
                    gold: c.reference_call(),
                };
                (c.id.clone(), info)
            })
            .collect()
    }
}

/// What reaches the dashboard: the runner's events, then how the run ended.
#[derive(Debug)]
pub enum Feed {
    Event(RunEvent),
    /// The run returned: its directory, or the error that ended it.
    Done(Result<PathBuf, String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Arms,
    Latency,
    Call,
    Log,
}

impl Focus {
    fn next(self) -> Focus {
        match self {
            Focus::Arms => Focus::Latency,
            Focus::Latency => Focus::Call,
            Focus::Call => Focus::Log,
            Focus::Log => Focus::Arms,
        }
    }
}

/// What a key asks the event loop to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    /// Stop the run after the current call; the dashboard stays until results are written.
    Stop,
    /// Pause (true) or resume (false) between calls.
    Pause(bool),
    /// Leave now.
    Exit,
}

#[derive(Debug, Clone)]
pub struct CurrentCase {
    pub index: usize,
    pub case_id: String,
    pub query: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKind {
    Warning,
    Failed,
    Filtered,
    Info,
}

#[derive(Debug, Clone)]
pub struct LogLine {
    pub at: Duration,
    pub kind: LogKind,
    pub text: String,
}

/// The latest call of one arm and when it arrived (its head timeline replays from then).
#[derive(Debug, Clone)]
pub struct LastCall {
    pub record: CallRecord,
    pub received: Duration,
}

pub struct App {
    pub header: Header,
    /// Query and gold call per case id.
    cases: HashMap<String, CaseInfo>,
    pub arms: Vec<ArmId>,
    pub cases_total: usize,
    pub cases_done: usize,
    pub calls_done: usize,
    pub current: Option<CurrentCase>,
    pub records: Vec<CallRecord>,
    summaries: Vec<ArmSummary>,
    summaries_stale: bool,
    /// The runner's own latest summary: the source of fields the live recomputation lacks
    /// (accuracy is scored by the runner).
    pub run_summary: Option<RunSummary>,
    pub last_call: HashMap<ArmId, LastCall>,
    pub log: Vec<LogLine>,
    pub log_scroll: usize,
    pub started_at: Option<Duration>,
    pub first_case_at: Option<Duration>,
    pub now: Duration,
    pub paused: bool,
    pub stopping: bool,
    pub finished: Option<Result<PathBuf, String>>,
    pub focus: Focus,
    pub selected_arm: usize,
    pub help: bool,
}

impl App {
    pub fn new(header: Header, cases: HashMap<String, CaseInfo>) -> App {
        App {
            header,
            cases,
            arms: Vec::new(),
            cases_total: 0,
            cases_done: 0,
            calls_done: 0,
            current: None,
            records: Vec::new(),
            summaries: Vec::new(),
            summaries_stale: false,
            run_summary: None,
            last_call: HashMap::new(),
            log: Vec::new(),
            log_scroll: 0,
            started_at: None,
            first_case_at: None,
            now: Duration::ZERO,
            paused: false,
            stopping: false,
            finished: None,
            focus: Focus::Arms,
            selected_arm: 0,
            help: false,
        }
    }

    /// Advance the dashboard's clock (time since it opened).
    pub fn tick(&mut self, now: Duration) {
        self.now = now;
    }

    pub fn on_feed(&mut self, f: Feed) {
        match f {
            Feed::Event(e) => self.on_event(e),
            Feed::Done(r) => {
                match &r {
                    Ok(dir) => {
                        self.push_log(LogKind::Info, format!("results in {}", dir.display()))
                    }
                    Err(e) => self.push_log(LogKind::Failed, format!("run ended: {e}")),
                }
                self.finished = Some(r);
            }
        }
    }

    pub fn on_event(&mut self, e: RunEvent) {
        match e {
            RunEvent::Started { cases, arms } => {
                self.cases_total = cases;
                self.arms = arms;
                self.started_at = Some(self.now);
                self.summaries_stale = true;
            }
            RunEvent::CaseStarted {
                index,
                case_id,
                query,
            } => {
                self.first_case_at.get_or_insert(self.now);
                self.current = Some(CurrentCase {
                    index,
                    case_id,
                    query,
                });
            }
            RunEvent::Call(r) => {
                self.calls_done += 1;
                match r.status {
                    CallStatus::Ok => {}
                    CallStatus::Failed => self.push_log(
                        LogKind::Failed,
                        format!(
                            "failed: {} on {}: {}",
                            r.arm.short(&self.arms),
                            r.case_id,
                            r.error.as_deref().unwrap_or("")
                        ),
                    ),
                    CallStatus::Filtered => self.push_log(
                        LogKind::Filtered,
                        format!(
                            "filtered: {} on {}: {}",
                            r.arm.short(&self.arms),
                            r.case_id,
                            r.error.as_deref().unwrap_or("")
                        ),
                    ),
                }
                self.last_call.insert(
                    r.arm.clone(),
                    LastCall {
                        record: (*r).clone(),
                        received: self.now,
                    },
                );
                self.records.push(*r);
                self.summaries_stale = true;
            }
            RunEvent::Warning(w) => self.push_log(LogKind::Warning, w),
            RunEvent::Summary(s) => {
                self.cases_done = s.cases_done;
                self.cases_total = s.cases_total;
                self.run_summary = Some(*s);
                self.summaries_stale = true;
            }
            RunEvent::Finished { interrupted } => {
                if interrupted {
                    self.push_log(LogKind::Info, "run interrupted; results written".into());
                }
            }
        }
    }

    fn push_log(&mut self, kind: LogKind, text: String) {
        self.log.push(LogLine {
            at: self.now,
            kind,
            text,
        });
    }

    /// Per-arm summaries of the calls so far, by the same library code as `run`'s table.
    pub fn summaries(&mut self) -> &[ArmSummary] {
        if self.summaries_stale {
            let baseline = self.baseline().cloned();
            let mut s = summarise(&self.records, &self.arms, baseline.as_ref());
            if let Some(rs) = &self.run_summary {
                for a in &mut s {
                    if a.accuracy.is_none() {
                        a.accuracy = rs
                            .arms
                            .iter()
                            .find(|x| x.arm == a.arm)
                            .and_then(|x| x.accuracy.clone());
                    }
                }
            }
            self.summaries = s;
            self.summaries_stale = false;
        }
        &self.summaries
    }

    /// The baseline arm: the runner's choice once known, else the first FunctionGemma arm
    /// (the runner's default rule).
    pub fn baseline(&self) -> Option<&ArmId> {
        if let Some(rs) = &self.run_summary {
            return rs.baseline_arm.as_ref();
        }
        self.arms
            .iter()
            .find(|a| a.protocol == Protocol::FunctionGemma)
    }

    pub fn gold(&self, case_id: &str) -> Option<&FunctionCall> {
        self.cases.get(case_id)?.gold.as_ref()
    }

    pub fn query(&self, case_id: &str) -> Option<&str> {
        match self.cases.get(case_id) {
            Some(c) => Some(&c.query),
            None => self
                .current
                .as_ref()
                .filter(|c| c.case_id == case_id)
                .map(|c| c.query.as_str()),
        }
    }

    pub fn calls_total(&self) -> usize {
        self.cases_total * self.arms.len() * self.header.repeat.max(1) as usize
    }

    /// Calls per second since the first case started.
    pub fn calls_per_s(&self) -> Option<f64> {
        let t = self.now.checked_sub(self.first_case_at?)?.as_secs_f64();
        (t > 0.0 && self.calls_done > 0).then(|| self.calls_done as f64 / t)
    }

    pub fn eta(&self) -> Option<Duration> {
        let rate = self.calls_per_s()?;
        let left = self.calls_total().saturating_sub(self.calls_done);
        Some(Duration::from_secs_f64(left as f64 / rate))
    }

    pub fn elapsed(&self) -> Duration {
        self.now
            .saturating_sub(self.started_at.unwrap_or(Duration::ZERO))
    }

    pub fn selected_arm(&self) -> Option<&ArmId> {
        self.arms.get(self.selected_arm)
    }

    /// The selected arm's name, short of what all arms share (empty before the run starts).
    pub fn selected_name(&self) -> String {
        self.selected_arm()
            .map(|a| a.short(&self.arms))
            .unwrap_or_default()
    }

    /// e2e latencies (ms) of the successful calls of one arm, in order.
    pub fn latencies(&self, arm: &ArmId) -> Vec<f64> {
        self.records
            .iter()
            .filter(|r| &r.arm == arm && r.status == CallStatus::Ok)
            .map(|r| r.e2e_ms)
            .collect()
    }

    pub fn on_key(&mut self, k: KeyEvent) -> Action {
        if k.kind != KeyEventKind::Press {
            return Action::None;
        }
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        if self.help && !ctrl_c {
            // Any key closes the help overlay.
            self.help = false;
            return Action::None;
        }
        match k.code {
            _ if ctrl_c => {
                if self.stopping || self.finished.is_some() {
                    Action::Exit
                } else {
                    self.stop_requested()
                }
            }
            KeyCode::Char('q') | KeyCode::Esc => {
                if self.finished.is_some() {
                    Action::Exit
                } else if self.stopping {
                    Action::None
                } else {
                    self.stop_requested()
                }
            }
            KeyCode::Char('p') | KeyCode::Char(' ') => {
                if self.stopping || self.finished.is_some() {
                    return Action::None;
                }
                self.paused = !self.paused;
                Action::Pause(self.paused)
            }
            KeyCode::Tab => {
                self.focus = self.focus.next();
                Action::None
            }
            KeyCode::Right => {
                if !self.arms.is_empty() {
                    self.selected_arm = (self.selected_arm + 1) % self.arms.len();
                }
                Action::None
            }
            KeyCode::Left => {
                if !self.arms.is_empty() {
                    self.selected_arm = (self.selected_arm + self.arms.len() - 1) % self.arms.len();
                }
                Action::None
            }
            KeyCode::Up if self.focus == Focus::Log => {
                self.log_scroll = (self.log_scroll + 1).min(self.log.len().saturating_sub(1));
                Action::None
            }
            KeyCode::Down if self.focus == Focus::Log => {
                self.log_scroll = self.log_scroll.saturating_sub(1);
                Action::None
            }
            KeyCode::Char('?') => {
                self.help = true;
                Action::None
            }
            _ => Action::None,
        }
    }

    fn stop_requested(&mut self) -> Action {
        self.stopping = true;
        self.paused = false;
        self.push_log(
            LogKind::Info,
            "stopping after the current call; writing results".into(),
        );
        Action::Stop
    }

    /// True when the event loop should close the dashboard.
    pub fn should_exit(&self, exit_when_done: bool) -> bool {
        match &self.finished {
            Some(Err(_)) => true,
            Some(Ok(_)) => exit_when_done || self.stopping,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn app() -> App {
        let mut a = App::new(
            Header {
                scenario: "game".into(),
                mode: DecodeMode::Forced,
                regime: CacheRegime::Prefix,
                threads: 2,
                repeat: 1,
            },
            HashMap::new(),
        );
        a.on_event(RunEvent::Started {
            cases: 2,
            arms: vec![
                "llama/m/simpletool".parse().unwrap(),
                "llama/m/functiongemma".parse().unwrap(),
            ],
        });
        a
    }

    #[test]
    fn labels_drop_shared_parts() {
        let id = |s: &str| s.parse::<ArmId>().unwrap();
        let arms = vec![id("llama/m/json"), id("llama/m/simpletool")];
        assert_eq!(id("llama/m/json").short(&arms), "json");
        let arms = vec![id("llama/a/json"), id("llama//x/b.gguf/json")];
        let a = id("llama//x/b.gguf/json");
        assert_eq!(
            [a.backend.as_str(), a.model.as_str(), a.protocol.name()],
            ["llama", "/x/b.gguf", "json"]
        );
        assert_eq!(id("llama/a/json").short(&arms), "a/json");
        // Two backends: the backend is what tells arms apart, so it is shown.
        let arms = vec![id("llama/m/json"), id("candle/m/json")];
        assert_eq!(id("candle/m/json").short(&arms), "candle/json");
    }

    #[test]
    fn q_stops_then_waits_then_exits_when_done() {
        let mut a = app();
        assert_eq!(a.on_key(key(KeyCode::Char('q'))), Action::Stop);
        assert!(a.stopping);
        // Results not yet written: a second q does not abandon them.
        assert_eq!(a.on_key(key(KeyCode::Char('q'))), Action::None);
        assert!(!a.should_exit(false));
        a.on_feed(Feed::Done(Ok("runs/x".into())));
        assert!(a.should_exit(false));
    }

    #[test]
    fn esc_stops_and_q_exits_after_a_finished_run() {
        let mut a = app();
        a.on_feed(Feed::Done(Ok("runs/x".into())));
        assert!(!a.should_exit(false), "stays open to be read");
        assert!(a.should_exit(true));
        assert_eq!(a.on_key(key(KeyCode::Esc)), Action::Exit);
    }

    #[test]
    fn ctrl_c_stops_then_forces_exit() {
        let mut a = app();
        let cc = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(a.on_key(cc), Action::Stop);
        assert_eq!(a.on_key(cc), Action::Exit);
    }

    #[test]
    fn a_failed_run_closes_the_dashboard() {
        let mut a = app();
        a.on_feed(Feed::Done(Err("model not found".into())));
        assert!(a.should_exit(false));
    }

    #[test]
    fn p_toggles_pause_and_stop_resumes() {
        let mut a = app();
        assert_eq!(a.on_key(key(KeyCode::Char('p'))), Action::Pause(true));
        assert_eq!(a.on_key(key(KeyCode::Char('p'))), Action::Pause(false));
        assert_eq!(a.on_key(key(KeyCode::Char('p'))), Action::Pause(true));
        assert_eq!(a.on_key(key(KeyCode::Char('q'))), Action::Stop);
        assert!(!a.paused, "a stop request releases the pause");
        assert_eq!(a.on_key(key(KeyCode::Char('p'))), Action::None);
    }

    #[test]
    fn tab_cycles_focus_and_arrows_wrap_arms() {
        let mut a = app();
        let seen: Vec<Focus> = (0..4)
            .map(|_| {
                a.on_key(key(KeyCode::Tab));
                a.focus
            })
            .collect();
        assert_eq!(seen, [Focus::Latency, Focus::Call, Focus::Log, Focus::Arms]);
        assert_eq!(a.selected_arm, 0);
        a.on_key(key(KeyCode::Left));
        assert_eq!(a.selected_arm, 1);
        a.on_key(key(KeyCode::Right));
        assert_eq!(a.selected_arm, 0);
    }

    #[test]
    fn help_opens_and_any_key_closes_it_without_acting() {
        let mut a = app();
        a.on_key(key(KeyCode::Char('?')));
        assert!(a.help);
        assert_eq!(a.on_key(key(KeyCode::Char('q'))), Action::None);
        assert!(!a.help && !a.stopping);
    }

    #[test]
    fn key_releases_are_ignored() {
        let mut a = app();
        let mut k = key(KeyCode::Char('q'));
        k.kind = KeyEventKind::Release;
        assert_eq!(a.on_key(k), Action::None);
        assert!(!a.stopping);
    }
}
