//! The benchmark loop: arms interleaved case by case (A B A B …) so that ratios hold when the
//! machine's speed drifts, warm-up calls untimed, every call recorded (failed and filtered
//! cases included), results flushed as they come and `summary.json` kept current.

use crate::arm::ArmId;
use crate::backend::{BackendError, CallBackend, CallRequest, TokenBackend};
use crate::decode::{slot_utilisation, DecodeOptions, Decoder};
use crate::markers::MarkerMap;
use crate::protocol::{PlanError, PlanOptions, Protocol};
use crate::record::{
    ArmInfo, CallRecord, CallStatus, DecodeMode, Manifest, RunSettings, RunSummary, Verdict,
    SCHEMA_VERSION,
};
use crate::rundir::{RunDir, RunDirError};
use crate::scenario::Case;
use crate::summary::summarise;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What runs an arm's calls.
pub enum ArmEngine<'a> {
    /// A token-level backend driven by fcbench's own decoding engine.
    Tokens(Decoder<'a>),
    /// A call-level backend (server, recorded outputs): timed around the whole call.
    Calls(Box<dyn CallBackend + 'a>),
}

/// One arm ready to run: its own backend session (own KV cache) and protocol.
pub struct Arm<'a> {
    pub info: ArmInfo,
    pub engine: ArmEngine<'a>,
}

impl<'a> Arm<'a> {
    /// Open an arm on a call-level backend.
    pub fn with_calls(id: ArmId, backend: Box<dyn CallBackend + 'a>) -> Arm<'a> {
        Arm {
            info: ArmInfo::new(id, backend.info(), MarkerMap::default()),
            engine: ArmEngine::Calls(backend),
        }
    }

    /// Open an arm on a backend session; markers are mapped to spare tokens only in forced
    /// mode with `map_markers`.
    pub fn new(id: ArmId, backend: &'a mut dyn TokenBackend, settings: &RunSettings) -> Arm<'a> {
        let map = settings.map_markers && settings.mode == DecodeMode::Forced;
        let markers = MarkerMap::build(backend.vocab(), &id.protocol.markers(), map);
        Arm {
            info: ArmInfo::new(id, backend.info(), markers.clone()),
            engine: ArmEngine::Tokens(Decoder::new(backend, markers)),
        }
    }
}

impl ArmInfo {
    fn new(id: ArmId, backend_info: &crate::backend::BackendInfo, markers: MarkerMap) -> Self {
        ArmInfo {
            backend: id.backend.clone(),
            model: id.model.clone(),
            protocol: id.protocol,
            label: id,
            backend_info: backend_info.clone(),
            markers,
        }
    }
}

/// What the runner tells its observer (the CLI's progress bar, the TUI) as it goes.
#[derive(Debug, Clone)]
pub enum RunEvent {
    Started {
        cases: usize,
        arms: Vec<ArmId>,
    },
    CaseStarted {
        index: usize,
        case_id: String,
        query: String,
    },
    Call(Box<CallRecord>),
    Warning(String),
    Summary(Box<RunSummary>),
    Finished {
        interrupted: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    RunDir(#[from] RunDirError),
    #[error("every call failed; first error: {0}")]
    AllFailed(String),
}

pub struct Runner<'a, 'o> {
    pub arms: Vec<Arm<'a>>,
    pub cases: Vec<Case>,
    pub settings: RunSettings,
    pub manifest: Manifest,
    pub stop: Arc<AtomicBool>,
    pub observer: &'o mut dyn FnMut(RunEvent),
}

impl Runner<'_, '_> {
    pub fn run(mut self, dir: &mut RunDir) -> Result<RunSummary, RunError> {
        dir.write_manifest(&self.manifest)?;
        let arm_labels: Vec<ArmId> = self.arms.iter().map(|a| a.info.label.clone()).collect();
        (self.observer)(RunEvent::Started {
            cases: self.cases.len(),
            arms: arm_labels.clone(),
        });
        let opts_for = |p: Protocol, s: &RunSettings| DecodeOptions {
            mode: s.mode,
            regime: s.regime,
            max_head_tokens: s.max_head_tokens,
            parallel: p.parallel(),
        };
        let plan_opts = PlanOptions {
            content_head: self.settings.content_head,
            ..Default::default()
        };
        // Warm-up: untimed calls on the first runnable case, every arm.
        if let Some(case) = self.cases.iter().find(|c| !c.exceeds_arg_heads()) {
            for arm in &mut self.arms {
                for _ in 0..self.settings.warmup {
                    if self.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let p = arm.info.protocol;
                    if let Err(e) = one_call(arm, case, &plan_opts, &opts_for(p, &self.settings)) {
                        (self.observer)(RunEvent::Warning(format!(
                            "warm-up of {} on {}: {e}",
                            arm.info.label, case.id
                        )));
                    }
                }
            }
        }
        let mut records: Vec<CallRecord> = Vec::new();
        let mut interrupted = false;
        let mut cases_done = 0;
        'cases: for (index, case) in self.cases.iter().enumerate() {
            (self.observer)(RunEvent::CaseStarted {
                index,
                case_id: case.id.clone(),
                query: case.query.clone(),
            });
            for repeat in 0..self.settings.repeat.max(1) {
                for arm in &mut self.arms {
                    if self.stop.load(Ordering::Relaxed) {
                        interrupted = true;
                        break 'cases;
                    }
                    if repeat > 0 && case.exceeds_arg_heads() {
                        continue; // a filtered case is recorded once per arm
                    }
                    let p = arm.info.protocol;
                    let rec = match one_call(arm, case, &plan_opts, &opts_for(p, &self.settings)) {
                        Ok(mut r) => {
                            r.repeat = repeat;
                            r
                        }
                        Err(CallError::Plan(e)) => failed(
                            arm,
                            case,
                            repeat,
                            &self.settings,
                            CallStatus::Filtered,
                            e.to_string(),
                        ),
                        Err(CallError::Backend(e)) => failed(
                            arm,
                            case,
                            repeat,
                            &self.settings,
                            CallStatus::Failed,
                            e.to_string(),
                        ),
                    };
                    if let Err(e) = dir.append_call(&rec) {
                        // Best effort (the disk may be full): mark the last summary as stopped,
                        // over the calls that were written; the write error is what we report.
                        let why = format!("stopped: {e}");
                        let s = self.summary(&records, &arm_labels, cases_done, Some(why));
                        let _ = dir.write_summary(&s);
                        return Err(e.into());
                    }
                    (self.observer)(RunEvent::Call(Box::new(rec.clone())));
                    records.push(rec);
                }
            }
            cases_done = index + 1;
            let s = self.summary(&records, &arm_labels, cases_done, None);
            dir.write_summary(&s)?;
            (self.observer)(RunEvent::Summary(Box::new(s)));
        }
        let why = interrupted.then(|| "interrupted (Ctrl-C or stop request)".to_string());
        let summary = self.summary(&records, &arm_labels, cases_done, why);
        dir.write_summary(&summary)?;
        (self.observer)(RunEvent::Summary(Box::new(summary.clone())));
        (self.observer)(RunEvent::Finished { interrupted });
        let ran: Vec<&CallRecord> = records
            .iter()
            .filter(|r| r.status != CallStatus::Filtered)
            .collect();
        if !ran.is_empty() && ran.iter().all(|r| r.status == CallStatus::Failed) {
            return Err(RunError::AllFailed(
                ran[0].error.clone().unwrap_or_default(),
            ));
        }
        Ok(summary)
    }

    fn summary(
        &self,
        records: &[CallRecord],
        arms: &[ArmId],
        cases_done: usize,
        interrupted: Option<String>,
    ) -> RunSummary {
        RunSummary {
            schema: SCHEMA_VERSION,
            complete: interrupted.is_none() && cases_done == self.cases.len(),
            interrupted,
            updated_at: now_rfc3339(),
            mode: self.settings.mode,
            regime: self.settings.regime,
            baseline_arm: self.settings.baseline_arm.clone(),
            cases_total: self.cases.len(),
            cases_done,
            arms: summarise(records, arms, self.settings.baseline_arm.as_ref()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum CallError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Plan, tokenize (untimed), decode (timed), parse (untimed).
fn one_call(
    arm: &mut Arm,
    case: &Case,
    plan_opts: &PlanOptions,
    opts: &DecodeOptions,
) -> Result<CallRecord, CallError> {
    let protocol = arm.info.protocol;
    // Planning also applies the six-argument filter, whatever the engine.
    let plan = protocol.plan(case, plan_opts)?;
    if opts.mode == DecodeMode::Forced && case.reference_call().is_none() {
        return Err(CallError::Backend(BackendError::Other(
            "forced mode needs a gold call, and this case has none".into(),
        )));
    }
    let out = match &mut arm.engine {
        ArmEngine::Tokens(decoder) => decoder.call(&plan, opts)?,
        ArmEngine::Calls(backend) => {
            let req = CallRequest {
                case,
                protocol,
                mode: opts.mode,
                max_head_tokens: opts.max_head_tokens,
                content_head: plan_opts.content_head,
            };
            let start = std::time::Instant::now();
            let reply = backend.call(&req)?;
            let e2e_ms = start.elapsed().as_secs_f64() * 1e3;
            let outcome = crate::decode::CallOutcome {
                heads: reply.heads,
                e2e_ms,
                // The engine's time is unknown; its own report is kept separately.
                engine_ms: e2e_ms,
                ..Default::default()
            };
            let mut rec = record(arm, case, opts, outcome, protocol);
            rec.engine_reported_ms = reply.engine_ms;
            rec.ttft_ms = reply.ttft_ms;
            return Ok(rec);
        }
    };
    Ok(record(arm, case, opts, out, protocol))
}

fn record(
    arm: &Arm,
    case: &Case,
    opts: &DecodeOptions,
    out: crate::decode::CallOutcome,
    protocol: Protocol,
) -> CallRecord {
    let texts: Vec<(String, String)> = out
        .heads
        .iter()
        .map(|h| (h.name.clone(), h.text.clone()))
        .collect();
    let parsed = protocol.parse(case, &texts);
    // Scorers see every call the output names (strict wants exactly one); the record keeps
    // the first.
    let verdict = crate::score::verdict(case, &parsed.calls());
    CallRecord {
        case_id: case.id.clone(),
        dataset: case.dataset.clone(),
        arm: arm.info.label.clone(),
        protocol,
        mode: opts.mode,
        regime: opts.regime,
        repeat: 0,
        status: CallStatus::Ok,
        error: None,
        prompt_tokens: out.prompt_tokens,
        cached_tokens: out.cached_tokens,
        prefilled_tokens: out.prefilled_tokens,
        slot_utilisation: slot_utilisation(&out.heads),
        heads: out.heads,
        prefill_ms: out.prefill_ms,
        decode_ms: out.decode_ms,
        e2e_ms: out.e2e_ms,
        engine_ms: out.engine_ms,
        step_ms: out.step_ms,
        step_batch: out.step_batch,
        reference_tokens: out.reference_tokens,
        parsed: parsed.call,
        parse_error: parsed.error,
        verdict,
        engine_reported_ms: None,
        ttft_ms: None,
    }
}

fn failed(
    arm: &Arm,
    case: &Case,
    repeat: u32,
    s: &RunSettings,
    status: CallStatus,
    error: String,
) -> CallRecord {
    CallRecord {
        case_id: case.id.clone(),
        dataset: case.dataset.clone(),
        arm: arm.info.label.clone(),
        protocol: arm.info.protocol,
        mode: s.mode,
        regime: s.regime,
        repeat,
        status,
        error: Some(error),
        prompt_tokens: 0,
        cached_tokens: 0,
        prefilled_tokens: 0,
        heads: Vec::new(),
        prefill_ms: 0.0,
        decode_ms: 0.0,
        e2e_ms: 0.0,
        engine_ms: 0.0,
        step_ms: Vec::new(),
        step_batch: Vec::new(),
        slot_utilisation: 0.0,
        reference_tokens: None,
        parsed: None,
        parse_error: None,
        // A failed call with gold is a wrong answer (counted, not dropped); a filtered case
        // is not scored.
        verdict: match status {
            CallStatus::Failed => case.gold.as_ref().map(|_| Verdict::default()),
            _ => None,
        },
        engine_reported_ms: None,
        ttft_ms: None,
    }
}

/// SHA-256 of each protocol's rendered prompts for a fixed probe case: changes whenever a
/// template changes, so runs with different prompts are never compared unknowingly.
pub fn prompt_template_hashes(
    protocols: &[Protocol],
) -> std::collections::BTreeMap<String, String> {
    let probe: Case = serde_json::from_value(serde_json::json!({
        "id": "probe", "dataset": "probe", "query": "Q", "environment": ["E"],
        "history": [{"name": "t", "arguments": {"a": 1}}], "has_history": true,
        "tools": [crate::scenario::Tool::from_json(&serde_json::json!({"name": "t",
            "description": "D", "parameters": {"type": "dict",
            "properties": {"a": {"type": "integer", "description": "A"}}, "required": ["a"]}}))
            .expect("probe tool")],
        "gold": [{"name": "t", "params": {"a": [1]}}]
    }))
    .expect("probe case");
    protocols
        .iter()
        .map(|p| {
            let plan = p
                .plan(
                    &probe,
                    &PlanOptions {
                        content_head: true,
                        ..Default::default()
                    },
                )
                .expect("probe plan");
            let text = serde_json::to_string(&plan).expect("plans serialise");
            (
                p.name().to_string(),
                crate::machine::sha256_hex(text.as_bytes()),
            )
        })
        .collect()
}

/// Shuffle the case order reproducibly.
pub fn shuffle_cases(cases: &mut [Case], seed: u64) {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    cases.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
}

/// Now, UTC, RFC 3339.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
