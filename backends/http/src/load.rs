//! Load sweeps against a server: closed-loop parallel clients (`--concurrency`) or open-loop
//! Poisson arrivals (`--rate`), each level bounded in calls and in time, reporting latency
//! percentiles, achieved calls/s and goodput (calls within the real-time budget).

use crate::client::{Api, HttpBackend};
use fcbench_core::backend::{CallBackend, CallRequest};
use fcbench_core::protocol::Protocol;
use fcbench_core::record::DecodeMode;
use fcbench_core::scenario::Case;
use fcbench_core::stats::percentile_sorted;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One load level and what it measured: the stored types of `load.json`, shared with the
/// reports so that they need not depend on this client.
pub use fcbench_core::record::{LoadLevel as Level, LoadLevelResult as LevelResult};

#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Real-time budget: a call within it counts towards goodput.
    pub slo_ms: f64,
    /// Calls per level, at most.
    pub max_calls: usize,
    /// Time per level, at most (no new call starts after it).
    pub max_seconds: f64,
    /// Open loop: calls in flight at most (arrivals beyond it wait, and that wait counts).
    pub max_in_flight: usize,
    pub seed: u64,
    pub mode: DecodeMode,
    pub max_head_tokens: usize,
    pub content_head: bool,
}

struct Sample {
    ok: bool,
    ms: f64,
    server_ms: Option<f64>,
    error: Option<String>,
}

fn one(backend: &mut HttpBackend, case: &Case, o: &LoadOptions, since: Instant) -> Sample {
    let req = CallRequest {
        case,
        protocol: backend
            .config()
            .api
            .map_or(Protocol::SimpleTool, Api::protocol),
        mode: o.mode,
        max_head_tokens: o.max_head_tokens,
        content_head: o.content_head,
    };
    let r = backend.call(&req);
    let ms = since.elapsed().as_secs_f64() * 1e3;
    match r {
        Ok(out) => Sample {
            ok: true,
            ms,
            server_ms: out.engine_ms,
            error: None,
        },
        Err(e) => Sample {
            ok: false,
            ms,
            server_ms: None,
            error: Some(e.to_string()),
        },
    }
}

/// Run one level over `cases` (cycled) and summarise it. `stop` ends it early (Ctrl-C).
pub fn run_level(
    backend: &HttpBackend,
    cases: &[Case],
    level: Level,
    o: &LoadOptions,
    stop: &AtomicBool,
) -> LevelResult {
    assert!(!cases.is_empty(), "a load level needs cases");
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(o.max_seconds.max(0.0));
    let samples: Mutex<Vec<Sample>> = Mutex::new(Vec::new());
    match level {
        Level::Concurrency(n) => {
            let next = AtomicUsize::new(0);
            std::thread::scope(|s| {
                for _ in 0..n.max(1) {
                    let mut b = backend.clone();
                    let (next, samples) = (&next, &samples);
                    s.spawn(move || loop {
                        if stop.load(Ordering::Relaxed) || Instant::now() >= deadline {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= o.max_calls {
                            break;
                        }
                        let r = one(&mut b, &cases[i % cases.len()], o, Instant::now());
                        samples.lock().expect("no panics while held").push(r);
                    });
                }
            });
        }
        Level::Rate(rate) => {
            let exp = Exp::new(rate.max(1e-9)).expect("positive rate");
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(o.seed);
            let (tx, rx) = mpsc::channel::<(usize, Instant)>();
            let rx = Arc::new(Mutex::new(rx));
            std::thread::scope(|s| {
                for _ in 0..o.max_in_flight.max(1) {
                    let mut b = backend.clone();
                    let (rx, samples) = (rx.clone(), &samples);
                    s.spawn(move || loop {
                        let job = rx.lock().expect("no panics while held").recv();
                        let Ok((i, at)) = job else { break };
                        let r = one(&mut b, &cases[i % cases.len()], o, at);
                        samples.lock().expect("no panics while held").push(r);
                    });
                }
                let mut at = start;
                for i in 0..o.max_calls {
                    at += Duration::from_secs_f64(exp.sample(&mut rng));
                    if at >= deadline || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Some(wait) = at.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if tx.send((i, at)).is_err() {
                        break;
                    }
                }
                drop(tx);
            });
        }
    }
    summarise(
        level,
        samples.into_inner().expect("threads joined"),
        start.elapsed().as_secs_f64(),
        o.slo_ms,
    )
}

fn summarise(level: Level, samples: Vec<Sample>, wall_s: f64, slo_ms: f64) -> LevelResult {
    let mut ok: Vec<f64> = samples.iter().filter(|s| s.ok).map(|s| s.ms).collect();
    ok.sort_by(f64::total_cmp);
    let mut server: Vec<f64> = samples.iter().filter_map(|s| s.server_ms).collect();
    server.sort_by(f64::total_cmp);
    let good = ok.iter().filter(|&&ms| ms <= slo_ms).count();
    let calls = samples.len();
    let per_s = |n: usize| {
        if wall_s > 0.0 {
            n as f64 / wall_s
        } else {
            f64::NAN
        }
    };
    LevelResult {
        level,
        calls,
        ok: ok.len(),
        failed: calls - ok.len(),
        p50_ms: percentile_sorted(&ok, 50.0),
        p95_ms: percentile_sorted(&ok, 95.0),
        max_ms: ok.last().copied().unwrap_or(f64::NAN),
        achieved_per_s: per_s(ok.len()),
        goodput_share: if calls == 0 {
            f64::NAN
        } else {
            good as f64 / calls as f64
        },
        goodput_per_s: per_s(good),
        wall_s,
        server_p50_ms: (!server.is_empty()).then(|| percentile_sorted(&server, 50.0)),
        first_error: samples.iter().find_map(|s| s.error.clone()),
    }
}

/// A plain-text table of a sweep.
pub fn render_table(results: &[LevelResult], slo_ms: f64) -> String {
    let mut s = format!(
        "{:<14} {:>6} {:>6} {:>9} {:>9} {:>9} {:>9} {:>10} {:>10}\n",
        "level",
        "calls",
        "failed",
        "P50 ms",
        "P95 ms",
        "srv P50",
        "calls/s",
        format!("≤{slo_ms:.0}ms"),
        "good/s"
    );
    for r in results {
        s.push_str(&format!(
            "{:<14} {:>6} {:>6} {:>9.1} {:>9.1} {:>9} {:>9.2} {:>9.1}% {:>10.2}\n",
            r.level.to_string(),
            r.calls,
            r.failed,
            r.p50_ms,
            r.p95_ms,
            r.server_p50_ms
                .map_or("-".to_string(), |v| format!("{v:.1}")),
            r.achieved_per_s,
            r.goodput_share * 100.0,
            r.goodput_per_s,
        ));
    }
    if let Some(e) = results.iter().find_map(|r| r.first_error.as_ref()) {
        s.push_str(&format!("first error: {e}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goodput_counts_successes_within_the_slo_over_all_calls() {
        let s = |ok, ms| Sample {
            ok,
            ms,
            server_ms: None,
            error: (!ok).then(|| "boom".into()),
        };
        let r = summarise(
            Level::Concurrency(2),
            vec![s(true, 50.0), s(true, 90.0), s(true, 150.0), s(false, 10.0)],
            2.0,
            100.0,
        );
        assert_eq!((r.calls, r.ok, r.failed), (4, 3, 1));
        assert_eq!((r.p50_ms, r.p95_ms), (90.0, 150.0));
        assert_eq!(r.goodput_share, 0.5);
        assert_eq!((r.achieved_per_s, r.goodput_per_s), (1.5, 1.0));
        assert_eq!(r.first_error.as_deref(), Some("boom"));
        assert!(render_table(&[r], 100.0).contains("50.0%"));
    }
}
