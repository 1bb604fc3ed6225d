//! `fcbench tui`: the same run as `fcbench run`, watched live on a full-screen dashboard.
//! The run (model loading included: engine contexts are not `Send`) happens on its own thread;
//! its events reach the dashboard over a channel, and the same run directory is left behind.

use super::run::{execute, load_cases, RunArgs, RunOutcome};
use anyhow::{anyhow, Result};
use fcbench_tui::app::{App, CaseInfo, Feed, Header};
use fcbench_tui::term::{restore, run_dashboard, Exit, PauseGate};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

#[derive(clap::Args, Clone, Debug)]
pub struct TuiArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Close the dashboard when the run ends (default: stay open until `q`).
    #[arg(long)]
    pub exit_when_done: bool,
}

pub fn run(mut a: TuiArgs) -> Result<ExitCode> {
    if let Some(line) = a.run.apply_api_defaults()? {
        eprintln!("{line}");
    }
    let (scenario, cases) = load_cases(&a.run)?;
    let case_info = CaseInfo::by_id(&cases);
    let threads = a.run.engine.threads();
    let mut app = App::new(
        Header {
            scenario: scenario.meta.name.clone(),
            mode: a.run.mode(),
            regime: a.run.regime,
            threads,
            repeat: a.run.repeat,
        },
        case_info,
    );

    let stop = Arc::new(AtomicBool::new(false));
    let pause = Arc::new(PauseGate::default());
    // In raw mode Ctrl-C arrives as a key; this handler covers signals sent from outside.
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                restore();
                super::exit_now(130);
            }
        });
    }
    let (tx, rx) = mpsc::channel::<Feed>();
    let runner = {
        let (args, stop, pause) = (a.run.clone(), stop.clone(), pause.clone());
        std::thread::Builder::new()
            .name("fcbench-run".into())
            .spawn(move || -> Result<RunOutcome> {
                let mut observer = |e: fcbench_core::runner::RunEvent| {
                    let between_calls = matches!(e, fcbench_core::runner::RunEvent::Call(_));
                    // Unbounded channel: sending never waits on the dashboard.
                    let _ = tx.send(Feed::Event(e));
                    if between_calls {
                        pause.wait_while_paused(&stop);
                    }
                };
                let out = execute(&args, &mut observer, stop.clone());
                let _ = tx.send(Feed::Done(
                    out.as_ref()
                        .map(|o| o.dir.clone())
                        .map_err(|e| format!("{e:#}")),
                ));
                out
            })?
    };

    let exit = run_dashboard(&mut app, &rx, &stop, &pause, a.exit_when_done)?;
    if exit == Exit::Forced {
        // Every finished call is already in calls.jsonl; the one in flight is abandoned.
        eprintln!("quit before the run stopped; finished calls are in the run directory");
        super::exit_now(130);
    }
    let out = runner
        .join()
        .map_err(|_| anyhow!("the run's thread panicked"))??;
    print!(
        "{}",
        fcbench_reports::terminal::render(&out.summary, &out.manifest, a.run.layout())
    );
    println!("run directory: {}", out.dir.display());
    if stop.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}
