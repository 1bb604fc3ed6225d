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
    /// List, fetch or re-quantise models.
    #[command(subcommand)]
    Models(cmd::models::ModelsCommand),
    /// List the built-in scenarios.
    Scenarios,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Heads(a) => cmd::heads::run(a),
        Command::Models(c) => cmd::models::run(c),
        Command::Scenarios => cmd::scenarios(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
