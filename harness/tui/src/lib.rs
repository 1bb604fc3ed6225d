//! `fcbench tui`: a live dashboard over a running benchmark. The run happens on its own thread
//! and reaches the dashboard as [`app::Feed`]s over a channel; the dashboard draws at most
//! 20 times a second and never blocks the runner.

pub mod app;
pub mod term;
pub mod ui;

pub use app::{Action, App, Feed, Header};
pub use term::{run_dashboard, PauseGate};
