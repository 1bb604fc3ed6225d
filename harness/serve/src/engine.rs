//! The engine thread. llama.cpp sessions are not `Send`, so one thread owns every session and
//! takes jobs from a bounded channel, one at a time: concurrent requests are deliberately
//! *serialised* (never batched together), and each reply says how long it queued. A call whose
//! client has gone stops at the next forward pass ([`Cancellable`]), so an abandoned request
//! does not hold the engine.

use fcbench_core::backend::{
    BackendError, BackendInfo, BatchEntry, SeqId, TokenBackend, TokenId, Vocabulary,
};
use fcbench_core::decode::{CallOutcome, DecodeOptions, Decoder};
use fcbench_core::markers::MarkerMap;
use fcbench_core::protocol::{Parsed, PlanOptions, Protocol};
use fcbench_core::record::{CacheRegime, DecodeMode};
use fcbench_core::scenario::Case;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

/// One call for the engine.
pub struct Job {
    pub case: Case,
    /// `simpletool` (the function-call API) or `json` (chat completions).
    pub protocol: Protocol,
    pub mode: DecodeMode,
    pub max_head_tokens: usize,
    /// How the protocol renders the case: `<content>` head, system prompt, the client's own
    /// history strings, or its message verbatim as the user turn.
    pub plan: PlanOptions,
    /// Set when the client has gone (the handler's future was dropped): decoding stops at the
    /// next forward pass.
    pub cancel: Arc<AtomicBool>,
    pub enqueued: Instant,
    pub reply: oneshot::Sender<Result<Done, JobError>>,
}

/// A finished call.
#[derive(Debug)]
pub struct Done {
    pub outcome: CallOutcome,
    pub parsed: Parsed,
    /// From enqueue to the engine taking the job.
    pub queue_ms: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The request cannot be served as sent (→ 4xx).
    #[error("{0}")]
    Invalid(String),
    /// The engine failed (→ 500).
    #[error("{0}")]
    Engine(String),
    /// The client left; nobody reads this.
    #[error("cancelled: the client has gone")]
    Cancelled,
}

/// The flag of the job being decoded, shared by every session's [`Cancellable`].
type CurrentCancel = Rc<RefCell<Option<Arc<AtomicBool>>>>;

/// A session that refuses the next prefill or forward pass once the current job's client has
/// gone: the decoder then fails the call and clears the cache, and the engine moves on. One
/// atomic load per step; everything else is passed through.
pub struct Cancellable<'m> {
    inner: Box<dyn TokenBackend + 'm>,
    current: CurrentCancel,
}

impl Cancellable<'_> {
    fn check(&self) -> Result<(), BackendError> {
        match &*self.current.borrow() {
            Some(flag) if flag.load(Ordering::Relaxed) => {
                Err(BackendError::Other("cancelled: the client has gone".into()))
            }
            _ => Ok(()),
        }
    }
}

impl TokenBackend for Cancellable<'_> {
    fn info(&self) -> &BackendInfo {
        self.inner.info()
    }
    fn vocab(&self) -> &dyn Vocabulary {
        self.inner.vocab()
    }
    fn prefill(&mut self, seq: SeqId, start: u32, tokens: &[TokenId]) -> Result<(), BackendError> {
        self.check()?;
        self.inner.prefill(seq, start, tokens)
    }
    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        self.inner.fork(src, dst, len)
    }
    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        self.check()?;
        self.inner.step(batch)
    }
    fn logits(&self, row: usize) -> &[f32] {
        self.inner.logits(row)
    }
    fn truncate(&mut self, seq: SeqId, from_pos: u32) -> Result<(), BackendError> {
        self.inner.truncate(seq, from_pos)
    }
    fn clear(&mut self, seq: Option<SeqId>) {
        self.inner.clear(seq)
    }
    fn synchronize(&mut self) -> Result<(), BackendError> {
        self.inner.synchronize()
    }
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub regime: CacheRegime,
    /// Forced mode maps protocol markers the vocabulary lacks to spare tokens, as `fcbench run`
    /// does by default, so that forced results agree with in-process runs.
    pub map_markers: bool,
}

/// Where handlers send jobs.
#[derive(Clone)]
pub struct EngineHandle {
    tx: SyncSender<Job>,
    capacity: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the engine queue is full ({0} requests waiting); retry later")]
    Full(usize),
    #[error("the engine has stopped")]
    Stopped,
}

/// A bounded queue: beyond `capacity` waiting requests the server answers 503 at once instead
/// of letting latency grow without bound.
pub fn channel(capacity: usize) -> (EngineHandle, Receiver<Job>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(capacity);
    (EngineHandle { tx, capacity }, rx)
}

impl EngineHandle {
    pub fn submit(&self, job: Job) -> Result<(), SubmitError> {
        self.tx.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => SubmitError::Full(self.capacity),
            TrySendError::Disconnected(_) => SubmitError::Stopped,
        })
    }
}

const SLOTS: [(Protocol, DecodeMode); 4] = [
    (Protocol::SimpleTool, DecodeMode::Free),
    (Protocol::SimpleTool, DecodeMode::Forced),
    (Protocol::Json, DecodeMode::Free),
    (Protocol::Json, DecodeMode::Forced),
];

/// Own the sessions and serve jobs until every [`EngineHandle`] is dropped. One session per
/// (protocol, mode), so each keeps its own cached prefix and marker map. `ready` gets the
/// backend's description once the sessions are open, or why they could not be.
pub fn run_engine<'m>(
    open: &mut dyn FnMut() -> Result<Box<dyn TokenBackend + 'm>, String>,
    cfg: &EngineConfig,
    jobs: Receiver<Job>,
    ready: impl FnOnce(Result<BackendInfo, String>),
) {
    let current: CurrentCancel = Rc::new(RefCell::new(None));
    let mut sessions = Vec::new();
    for _ in SLOTS {
        match open() {
            Ok(inner) => sessions.push(Cancellable {
                inner,
                current: current.clone(),
            }),
            Err(e) => return ready(Err(e)),
        }
    }
    let mut decoders: Vec<Decoder> = sessions
        .iter_mut()
        .zip(SLOTS)
        .map(|(s, (p, mode))| {
            let map = cfg.map_markers && mode == DecodeMode::Forced;
            let markers = MarkerMap::build(s.vocab(), &p.markers(), map);
            Decoder::new(s, markers)
        })
        .collect();
    ready(Ok(decoders[0].backend().info().clone()));
    while let Ok(job) = jobs.recv() {
        let queue_ms = job.enqueued.elapsed().as_secs_f64() * 1e3;
        if job.reply.is_closed() || job.cancel.load(Ordering::Relaxed) {
            // The client gave up (timeout, disconnect) while queued: decoding for nobody would
            // only lengthen the queue behind it.
            eprintln!("skipped a request whose client left after queue={queue_ms:.1}ms");
            continue;
        }
        let slot = SLOTS
            .iter()
            .position(|&(p, m)| p == job.protocol && m == job.mode);
        let result = match slot {
            None => Err(JobError::Invalid(format!(
                "protocol {} is not served",
                job.protocol
            ))),
            // A panic inside the engine must not take the server down with it.
            Some(i) => {
                *current.borrow_mut() = Some(job.cancel.clone());
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    one_job(&mut decoders[i], &job, cfg)
                }))
                .unwrap_or_else(|_| {
                    Err(JobError::Engine("the engine panicked on this call".into()))
                });
                *current.borrow_mut() = None;
                // A failure after the flag was set is the cancellation, whatever the decoder
                // made of it.
                if r.is_err() && job.cancel.load(Ordering::Relaxed) {
                    Err(JobError::Cancelled)
                } else {
                    r
                }
            }
        };
        if matches!(result, Err(JobError::Cancelled)) {
            eprintln!(
                "cancelled a request whose client left during decoding (queue={queue_ms:.1}ms, {:.1}ms after it started)",
                job.enqueued.elapsed().as_secs_f64() * 1e3 - queue_ms
            );
            continue;
        }
        let _ = job.reply.send(result.map(|(outcome, parsed)| Done {
            outcome,
            parsed,
            queue_ms,
        }));
    }
}

fn one_job(
    decoder: &mut Decoder,
    job: &Job,
    cfg: &EngineConfig,
) -> Result<(CallOutcome, Parsed), JobError> {
    let plan = job
        .protocol
        .plan(&job.case, &job.plan)
        .map_err(|e| JobError::Invalid(e.to_string()))?;
    let backend_err = |e: BackendError| match e {
        BackendError::ContextOverflow { .. } | BackendError::Tokenize(_) => {
            JobError::Invalid(e.to_string())
        }
        other => JobError::Engine(other.to_string()),
    };
    let opts = DecodeOptions {
        mode: job.mode,
        regime: cfg.regime,
        max_head_tokens: job.max_head_tokens,
        parallel: job.protocol.parallel(),
    };
    let outcome = decoder.call(&plan, &opts).map_err(backend_err)?;
    let texts: Vec<(String, String)> = outcome
        .heads
        .iter()
        .map(|h| (h.name.clone(), h.text.clone()))
        .collect();
    let parsed = job.protocol.parse(&job.case, &texts);
    Ok((outcome, parsed))
}
