//! `fcbench serve`: fcbench's own engine behind the SimpleTool server API and OpenAI-compatible
//! chat completions.

use crate::backends::EngineArgs;
use anyhow::{bail, Context, Result};
use fcbench_core::models::{self, DEFAULT_MODEL};
use fcbench_core::record::CacheRegime;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    /// Token-level backend that runs the model.
    #[arg(long, default_value = "llama")]
    pub backend: String,
    /// A known model name (`gemma3-270m`, `smollm2`) or a path to a GGUF file.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// Address to listen on. Loopback by default; anything else exposes the server to the
    /// network (it has no authentication, and CORS lets any web page call it unless
    /// --cors-origin restricts that).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port (0: pick a free one; the address is printed on stdout). 8899 is where SimpleTool's
    /// demo pages look for their server.
    #[arg(long, default_value_t = 8899)]
    pub port: u16,
    /// Origins whose web pages may call the server (repeatable or comma-separated, e.g.
    /// `http://localhost:3000`; `null` for pages opened from disk). Default: any origin, as
    /// SimpleTool's reference server.
    #[arg(long = "cors-origin", value_delimiter = ',')]
    pub cors_origin: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Context size (tokens) of each session; longer prompts get 400.
    #[arg(long, default_value_t = 4096)]
    pub ctx: usize,
    /// KV-cache policy between requests: `prefix` keeps the system+tools prefix of the last
    /// request (a game loop resends the same tools), `cold` clears it, `warm` keeps the whole
    /// shared prompt.
    #[arg(long, default_value = "prefix")]
    pub regime: CacheRegime,
    /// Per-head token cap when a function-call request gives no `max_tokens` (32, as the
    /// SimpleTool reference server).
    #[arg(long, default_value_t = fcbench_serve::api::REFERENCE_MAX_TOKENS)]
    pub max_tokens: usize,
    /// Token cap when a chat-completions request gives no `max_tokens` (the whole JSON call).
    #[arg(long, default_value_t = 128)]
    pub chat_max_tokens: usize,
    /// Largest request body in bytes (larger → 413).
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body: usize,
    /// Requests waiting for the engine, at most (more → 503 at once).
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// Forced requests: keep protocol markers split into pieces instead of mapping each to one
    /// spare token (as `fcbench run --no-marker-tokens`).
    #[arg(long)]
    pub no_marker_tokens: bool,
}

pub fn run(a: ServeArgs) -> Result<ExitCode> {
    if a.max_queue == 0 || a.max_body == 0 {
        bail!("--max-queue and --max-body must be at least 1");
    }
    let cors_origins = a
        .cors_origin
        .iter()
        .map(|o| {
            let o = o.trim();
            if o == "*" {
                bail!("--cors-origin `*`: any origin is the default; leave the flag out");
            }
            let ok = o == "null" || o.starts_with("http://") || o.starts_with("https://");
            if !ok || o.ends_with('/') {
                bail!("--cors-origin `{o}`: expected an origin such as http://localhost:3000 (scheme and host, no path), or `null`");
            }
            axum_header_value(o)
        })
        .collect::<Result<Vec<_>>>()?;
    let resolved = models::resolve(&a.model, &mut super::fetch_progress())
        .with_context(|| format!("model `{}`", a.model))?;
    let (handle, jobs) = fcbench_serve::channel(a.max_queue);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let engine_cfg = fcbench_serve::EngineConfig {
        regime: a.regime,
        map_markers: !a.no_marker_tokens,
    };
    // shared prompt + content + function + six argument heads
    let session_opts = a.engine.session(a.ctx, 9);
    let device = a.engine.options();
    let backend = a.backend.clone();
    eprintln!("loading {} on {backend}", resolved.path.display());
    // The engine thread owns the model and its sessions (llama.cpp sessions are not Send).
    let engine = std::thread::Builder::new()
        .name("fcbench-engine".into())
        .spawn(move || {
            let model = match crate::backends::load(&backend, &resolved, &device) {
                Ok(m) => {
                    for note in m.notes(&resolved) {
                        eprintln!("note: {note}");
                    }
                    m
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("{e:#}")));
                    return;
                }
            };
            let mut open = || model.session(&session_opts).map_err(|e| format!("{e:#}"));
            fcbench_serve::run_engine(&mut open, &engine_cfg, jobs, |r| {
                let _ = ready_tx.send(r);
            });
        })
        .context("starting the engine thread")?;
    let info = ready_rx
        .recv()
        .context("the engine thread stopped before it was ready")?
        .map_err(anyhow::Error::msg)
        .context("opening the model")?;
    let cfg = fcbench_serve::ServeConfig {
        bind: SocketAddr::new(a.bind, a.port),
        max_body: a.max_body,
        model: a.model.clone(),
        default_max_tokens: a.max_tokens,
        default_chat_max_tokens: a.chat_max_tokens,
        cors_origins,
    };
    if !a.bind.is_loopback() {
        eprintln!(
            "warning: listening on {}, reachable from other machines; fcbench serve has no authentication{}",
            a.bind,
            if a.cors_origin.is_empty() {
                ", and CORS lets a web page from any origin call it (--cors-origin restricts that)"
            } else {
                ""
            }
        );
    }
    let (model, ctx, max_body, queue) = (a.model.clone(), a.ctx, a.max_body, a.max_queue);
    fcbench_serve::serve(handle, cfg, info, |addr| {
        // stdout, flushed: scripts and tests wait for this line.
        println!("listening on http://{addr}");
        let _ = std::io::stdout().flush();
        eprintln!(
            "model {model}, context {ctx} tokens, max body {max_body} bytes; requests are serialised on one engine thread (queue up to {queue}); Ctrl-C or SIGTERM stops"
        );
    })
    .with_context(|| format!("serving on {}:{}", a.bind, a.port))?;
    engine
        .join()
        .map_err(|_| anyhow::anyhow!("the engine thread panicked"))?;
    eprintln!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn axum_header_value(origin: &str) -> Result<fcbench_serve::HeaderValue> {
    fcbench_serve::HeaderValue::from_str(origin)
        .with_context(|| format!("--cors-origin `{origin}`: not a valid header value"))
}
