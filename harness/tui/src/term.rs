//! The terminal side: raw mode and the alternate screen (restored on every exit path, panics
//! included, by ratatui's `init`/`restore`), the ≤ 20 fps event loop, and the pause gate the
//! runner's observer waits on.

use crate::app::{Action, App, Feed};
use ratatui::crossterm::event::{self, Event};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// At most 20 frames a second: the dashboard must not compete with the run for the CPU.
pub const FRAME: Duration = Duration::from_millis(50);
/// Redraw at least this often when nothing arrives (clock, head timeline replay).
const IDLE_REDRAW: Duration = Duration::from_millis(250);

/// Pause between calls. The observer runs between calls on the runner's thread, so waiting
/// there holds the run without touching a timed region.
#[derive(Default)]
pub struct PauseGate {
    paused: Mutex<bool>,
    changed: Condvar,
}

impl PauseGate {
    pub fn set(&self, paused: bool) {
        *self.paused.lock().unwrap_or_else(|e| e.into_inner()) = paused;
        self.changed.notify_all();
    }

    pub fn is_paused(&self) -> bool {
        *self.paused.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Block while paused, unless `stop` is set (checked at least every 100 ms).
    pub fn wait_while_paused(&self, stop: &AtomicBool) {
        let mut p = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        while *p && !stop.load(Ordering::SeqCst) {
            p = self
                .changed
                .wait_timeout(p, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Leave raw mode and the alternate screen (for exits that bypass [`run_dashboard`]).
pub fn restore() {
    ratatui::restore();
}

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run returned (finished, stopped, or failed); its thread can be joined.
    RunReturned,
    /// The user forced an exit while the run was still going.
    Forced,
}

/// Open the dashboard, feed it from `rx` until the run has returned and the user (or
/// `exit_when_done`) closes it, then restore the terminal.
pub fn run_dashboard(
    app: &mut App,
    rx: &Receiver<Feed>,
    stop: &AtomicBool,
    pause: &PauseGate,
    exit_when_done: bool,
) -> io::Result<Exit> {
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, app, rx, stop, pause, exit_when_done);
    ratatui::try_restore()?;
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: &Receiver<Feed>,
    stop: &AtomicBool,
    pause: &PauseGate,
    exit_when_done: bool,
) -> io::Result<Exit> {
    let t0 = Instant::now();
    let mut last_draw: Option<Instant> = None;
    let mut dirty = true;
    loop {
        let frame_start = Instant::now();
        // Drain without blocking: the runner never waits on the dashboard.
        loop {
            match rx.try_recv() {
                Ok(f) => {
                    app.on_feed(f);
                    dirty = true;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    if app.finished.is_none() {
                        app.on_feed(Feed::Done(
                            Err("the run's thread ended unexpectedly".into()),
                        ));
                        dirty = true;
                    }
                    break;
                }
            }
        }
        // A stop from outside (SIGINT/SIGTERM handler) shows like a pressed q.
        if stop.load(Ordering::SeqCst) && !app.stopping && app.finished.is_none() {
            app.stopping = true;
            dirty = true;
        }
        app.tick(t0.elapsed());
        if dirty || last_draw.is_none_or(|t| t.elapsed() >= IDLE_REDRAW) {
            terminal.draw(|f| crate::ui::draw(f, app))?;
            last_draw = Some(Instant::now());
            dirty = false;
        }
        if app.should_exit(exit_when_done) {
            return Ok(Exit::RunReturned);
        }
        let wait = FRAME.saturating_sub(frame_start.elapsed());
        if event::poll(wait)? {
            // Handle everything queued so a burst of keys costs one frame.
            loop {
                match event::read()? {
                    Event::Key(k) => match app.on_key(k) {
                        Action::None => {}
                        Action::Stop => {
                            stop.store(true, Ordering::SeqCst);
                            pause.set(false);
                        }
                        Action::Pause(p) => pause.set(p),
                        Action::Exit => {
                            return Ok(if app.finished.is_some() {
                                Exit::RunReturned
                            } else {
                                Exit::Forced
                            });
                        }
                    },
                    Event::Resize(..) => {}
                    _ => {}
                }
                dirty = true;
                if !event::poll(Duration::ZERO)? {
                    break;
                }
            }
            // Keep the frame rate bounded even under a key storm.
            let spent = frame_start.elapsed();
            if spent < FRAME {
                std::thread::sleep(FRAME - spent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn gate_blocks_until_resumed_or_stopped() {
        let gate = Arc::new(PauseGate::default());
        let stop = Arc::new(AtomicBool::new(false));
        gate.set(true);
        let (g, s) = (gate.clone(), stop.clone());
        let t = std::thread::spawn(move || g.wait_while_paused(&s));
        std::thread::sleep(Duration::from_millis(50));
        assert!(!t.is_finished(), "paused: the runner waits");
        gate.set(false);
        t.join().unwrap();

        gate.set(true);
        let (g, s) = (gate.clone(), stop.clone());
        let t = std::thread::spawn(move || g.wait_while_paused(&s));
        stop.store(true, Ordering::SeqCst);
        t.join().unwrap();
        assert!(gate.is_paused(), "a stop ends the wait without unpausing");
    }
}
