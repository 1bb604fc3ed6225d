//! `fcbench`: benchmark real-time function calling. Thin layer over `fcbench-core`: argument
//! parsing, progress display, and wiring backends to the runner.

mod backends;
mod cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "fcbench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios on every arm (backend × model × protocol) and print the results table.
    Run(cmd::run::RunArgs),
    /// Sweep the number of parallel heads (1…8) and print the step-efficiency curve.
    Heads(cmd::heads::HeadsArgs),
    /// What this build is and sees: backends, engine library, ggml devices, GPUs.
    Doctor(cmd::doctor::DoctorArgs),
    /// Gate CI on recorded runs: exit 0 pass, 1 regression, 2 not comparable.
    Gate(cmd::gate::GateArgs),
    /// List, fetch or re-quantise models.
    #[command(subcommand)]
    Models(cmd::models::ModelsCommand),
    /// List the built-in scenarios.
    Scenarios,
    /// Run like `run`, watched live on a full-screen dashboard (same arguments, same run directory).
    Tui(cmd::tui::TuiArgs),
    /// Write a self-contained HTML report (charts and tables) from recorded run directories.
    Report(cmd::report::ReportArgs),
    /// Print a paper-ready latency table (LaTeX, Markdown or CSV) from recorded run directories.
    Table(cmd::table::TableArgs),
    /// Serve a model over HTTP: the SimpleTool server API and OpenAI-compatible chat completions.
    #[cfg(feature = "serve")]
    Serve(cmd::serve::ServeArgs),
    /// Sweep parallel clients or arrival rates against a server: latency, calls/s, goodput.
    #[cfg(feature = "http")]
    Load(cmd::load::LoadArgs),
}

fn main() -> std::process::ExitCode {
    cmd::file_size_limit_is_an_error();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Heads(a) => cmd::heads::run(a),
        Command::Doctor(a) => cmd::doctor::run(a),
        Command::Gate(a) => cmd::gate::run(a),
        Command::Models(c) => cmd::models::run(c),
        Command::Scenarios => cmd::scenarios(),
        Command::Tui(a) => cmd::tui::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Table(a) => cmd::table::run(a),
        #[cfg(feature = "serve")]
        Command::Serve(a) => cmd::serve::run(a),
        #[cfg(feature = "http")]
        Command::Load(a) => cmd::load::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
