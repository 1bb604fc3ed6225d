//! Everything fcbench stores, as plain serde structs: one schema for every output format.
//! A run directory holds `manifest.json`, `calls.jsonl` (one [`CallRecord`] per line, flushed
//! per call) and `summary.json` ([`RunSummary`]).

use crate::arm::ArmId;
use crate::backend::BackendInfo;
use crate::markers::MarkerMap;
use crate::protocol::Protocol;
use crate::scenario::FunctionCall;
use serde::{Deserialize, Serialize};

/// Version of the record schema; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecodeMode {
    /// Greedy decoding until the stops.
    Free,
    /// Real forward passes, but the reference token is appended instead of the argmax.
    Forced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheRegime {
    /// KV cleared before each call: the whole prompt is prefilled inside the timing.
    Cold,
    /// The identical prompt was primed untimed first; only the heads' tags are prefilled.
    Warm,
    /// The system+tools prefix is prefilled once per tool set; each call prefills its suffix.
    Prefix,
}

display_via_serde!(DecodeMode, CacheRegime, StopReason);

/// Why a head stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `<|null|>`: the argument is not needed.
    Null,
    /// A closing tag or the protocol's end-of-call marker.
    Marker,
    /// End of turn / EOS.
    EndOfTurn,
    /// The per-head token cap.
    Length,
    /// Forced mode ran out of reference tokens without meeting a stop.
    ReferenceEnd,
}

/// One head of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadRecord {
    pub name: String,
    /// Decoded text, special tokens visible, the stop marker removed.
    pub text: String,
    /// Tokens decoded by this head (the stop marker's tokens included).
    pub tokens: usize,
    pub stop: StopReason,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_marker: Option<String>,
    /// Tokens of the head's own prompt tail (its tag) prefilled after the shared prompt.
    #[serde(default)]
    pub tail_tokens: usize,
    /// Forced mode: steps where the model's argmax equalled the reference token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argmax_agreed: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallStatus {
    Ok,
    Failed,
    /// Excluded before running (e.g. a tool wider than the six argument heads); counted.
    Filtered,
}

/// One timed call (or one failed/filtered case), as appended to `calls.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub case_id: String,
    pub dataset: String,
    /// Stored as its label, e.g. `llama/gemma3-270m/simpletool`.
    pub arm: ArmId,
    pub protocol: Protocol,
    pub mode: DecodeMode,
    pub regime: CacheRegime,
    /// Repetition index (0-based) of this case for this arm.
    pub repeat: u32,
    pub status: CallStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Tokens of the longest head prompt (shared prompt + its tail).
    pub prompt_tokens: usize,
    /// Shared-prompt tokens already in the KV cache when timing started.
    pub cached_tokens: usize,
    /// Tokens prefilled inside the timing (shared suffix + all head tails).
    pub prefilled_tokens: usize,
    pub heads: Vec<HeadRecord>,
    /// Prefill of the uncached shared prompt, the fork and the heads' tags.
    pub prefill_ms: f64,
    /// All decode steps after the prefill.
    pub decode_ms: f64,
    /// From token ids ready to every head stopped.
    pub e2e_ms: f64,
    /// Time spent inside the engine (prefill + steps); `e2e_ms - engine_ms` is fcbench's own
    /// overhead (argmax, stop matching, bookkeeping).
    pub engine_ms: f64,
    /// Wall time of each decode step, and how many sequences it carried.
    pub step_ms: Vec<f64>,
    pub step_batch: Vec<usize>,
    /// Σ head tokens / (heads × longest head tokens).
    pub slot_utilisation: f64,
    /// Forced mode: tokens the reference output cost (all heads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsed: Option<FunctionCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// Scores of the parsed call against the case's gold (absent when the case has no valid
    /// gold or was filtered; all false when the call failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Server-reported latency for call-level backends that give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_reported_ms: Option<f64>,
    /// Call-level streaming backends: time to the first token, client-side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
}

/// One call judged by both scorers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub strict: bool,
    pub strict_function: bool,
    pub legacy: bool,
    pub legacy_function: bool,
}

/// Correct counts over one group of rows (a dataset, a category, or all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupAccuracy {
    pub group: String,
    /// Rows in the input.
    pub input: usize,
    /// Excluded by the six-argument capacity filter.
    pub filtered: usize,
    /// Excluded for missing or invalid gold.
    pub invalid_gold: usize,
    /// Rows scored (the denominator).
    pub scored: usize,
    pub strict: usize,
    pub strict_function: usize,
    pub legacy: usize,
    pub legacy_function: usize,
}

impl GroupAccuracy {
    pub fn rate(&self, correct: usize) -> f64 {
        if self.scored == 0 {
            f64::NAN
        } else {
            correct as f64 / self.scored as f64
        }
    }
}

/// Accuracy of one arm: pooled, per dataset and per category, and against the baseline arm.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccuracySummary {
    pub all: GroupAccuracy,
    pub by_dataset: Vec<GroupAccuracy>,
    pub by_category: Vec<GroupAccuracy>,
    /// This arm minus the baseline arm, in percentage points, on the same rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vs_baseline_pp: Option<AccuracyDelta>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AccuracyDelta {
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub strict: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub strict_function: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub legacy: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub legacy_function: f64,
}

impl CallRecord {
    pub fn decoded_tokens(&self) -> usize {
        self.heads.iter().map(|h| h.tokens).sum()
    }
}

/// One arm = backend × model × protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmInfo {
    /// The arm's identity; the three fields below repeat it (the manifest has always had them).
    pub label: ArmId,
    pub backend: String,
    /// Model name as given (`gemma3-270m`, or a path).
    pub model: String,
    pub protocol: Protocol,
    pub backend_info: BackendInfo,
    pub markers: MarkerMap,
}

/// Machine facts stamped on every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MachineInfo {
    pub hostname: String,
    pub os: String,
    pub cpu_model: String,
    pub cpu_cores: usize,
    pub memory_bytes: u64,
    /// GPUs the machine has (whether or not a run used them: the arms' `placement` says that).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpus: Vec<GpuInfo>,
}

impl MachineInfo {
    /// `AMD EPYC (2 cores)`, plus `· GPU: NVIDIA H200 (driver 580.…, CUDA 13.0)` where present.
    pub fn describe(&self) -> String {
        let mut s = format!("{} ({} cores)", self.cpu_model, self.cpu_cores);
        for g in &self.gpus {
            s.push_str(&format!(" · GPU: {}", g.describe()));
        }
        s
    }
}

/// One GPU as the vendor's tool reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    pub name: String,
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    #[serde(default)]
    pub driver: Option<String>,
    /// The runtime the driver supports, e.g. `CUDA 13.0`.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Where this came from (`nvidia-smi`).
    pub source: String,
}

impl GpuInfo {
    pub fn describe(&self) -> String {
        let mut extra = Vec::new();
        if let Some(m) = self.memory_bytes {
            extra.push(format!("{} GiB", m >> 30));
        }
        if let Some(d) = &self.driver {
            extra.push(format!("driver {d}"));
        }
        if let Some(r) = &self.runtime {
            extra.push(r.clone());
        }
        if extra.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, extra.join(", "))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub name: String,
    /// Files the cases came from, each with its SHA-256.
    pub files: Vec<FileDigest>,
    pub cases: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDigest {
    pub path: String,
    pub sha256: String,
}

/// Settings that shape every number of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub mode: DecodeMode,
    pub regime: CacheRegime,
    pub threads: usize,
    pub repeat: u32,
    pub warmup: u32,
    pub limit: Option<usize>,
    pub seed: u64,
    pub max_head_tokens: usize,
    pub content_head: bool,
    pub map_markers: bool,
    pub baseline_arm: Option<ArmId>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub fcbench_version: String,
    pub git_commit: Option<String>,
    pub started_at: String,
    pub machine: MachineInfo,
    pub settings: RunSettings,
    pub scenario: ScenarioInfo,
    pub arms: Vec<ArmInfo>,
    /// SHA-256 of each protocol's prompt templates (rendered for a fixed probe case).
    pub prompt_template_sha256: std::collections::BTreeMap<String, String>,
    /// The full command line.
    pub args: Vec<String>,
}

/// Distribution of one latency measure, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    pub n: usize,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub mean: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub stddev: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub min: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub max: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub p50: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub p90: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub p95: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub p99: f64,
}

/// A ratio with its bootstrap 95% interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatioEstimate {
    /// Median of per-case ratios.
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub median: f64,
    /// Geometric mean of per-case ratios.
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub geomean: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub ci95_low: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub ci95_high: f64,
    /// Cases paired.
    pub n: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    pub arm: ArmId,
    pub protocol: Option<Protocol>,
    pub calls_ok: usize,
    pub calls_failed: usize,
    pub cases_filtered: usize,
    pub e2e: Distribution,
    pub prefill: Distribution,
    pub decode: Distribution,
    /// Serial rate: 1000 / mean e2e ms.
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub hz: f64,
    /// 1000 / P50 e2e ms.
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub p50_hz: f64,
    /// Decoded tokens per second of decode time (all heads).
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub decode_tokens_per_s: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub mean_prefilled_tokens: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub mean_decoded_tokens: f64,
    /// Mean over calls of the longest head's tokens (what latency follows under parallel heads).
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub mean_longest_head_tokens: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub mean_heads: f64,
    pub capped_heads: usize,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub mean_slot_utilisation: f64,
    /// Mean harness overhead per call (e2e − engine time) and its share of e2e.
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub overhead_ms: f64,
    #[serde(default = "nan", deserialize_with = "f64_or_nan")]
    pub overhead_share: f64,
    /// Forced mode: share of steps where argmax agreed with the reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argmax_agreement: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_reference_tokens: Option<f64>,
    /// Speed-up over the baseline arm (baseline e2e / this arm's e2e, paired by case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup_vs_baseline: Option<RatioEstimate>,
    /// Calls whose output parsed into a call.
    pub parsed_calls: usize,
    /// Present when the scenario has gold calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<AccuracySummary>,
    /// Whether the latencies were stable enough to trust (see `noise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<crate::noise::Stability>,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub schema: u32,
    /// False while the run is going on, or when it was interrupted.
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    pub updated_at: String,
    pub mode: DecodeMode,
    pub regime: CacheRegime,
    pub baseline_arm: Option<ArmId>,
    pub cases_total: usize,
    pub cases_done: usize,
    pub arms: Vec<ArmSummary>,
}

/// File name of a load sweep (`fcbench load`) inside its run directory.
pub const LOAD_FILE: &str = "load.json";

/// One load level of `fcbench load`; the same JSON shape as the HTTP driver's `Level`
/// (`{"concurrency": 4}` or `{"rate": 10.0}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadLevel {
    /// Parallel clients, closed loop.
    Concurrency(usize),
    /// Mean arrival rate in calls/s, open loop.
    Rate(f64),
}

impl LoadLevel {
    /// The level as a number on a chart's x axis.
    pub fn value(&self) -> f64 {
        match *self {
            LoadLevel::Concurrency(n) => n as f64,
            LoadLevel::Rate(r) => r,
        }
    }
}

impl std::fmt::Display for LoadLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadLevel::Concurrency(n) => write!(f, "{n} clients"),
            LoadLevel::Rate(r) => write!(f, "{r} calls/s"),
        }
    }
}

/// What one load level measured (client-side latencies over successful calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadLevelResult {
    pub level: LoadLevel,
    pub calls: usize,
    pub ok: usize,
    pub failed: usize,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p50_ms: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub p95_ms: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub max_ms: f64,
    /// Successful calls per second of the level's wall time.
    #[serde(deserialize_with = "f64_or_nan")]
    pub achieved_per_s: f64,
    /// Share of all calls that succeeded within the SLO.
    #[serde(deserialize_with = "f64_or_nan")]
    pub goodput_share: f64,
    /// Calls per second that succeeded within the SLO.
    #[serde(deserialize_with = "f64_or_nan")]
    pub goodput_per_s: f64,
    #[serde(deserialize_with = "f64_or_nan")]
    pub wall_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// `load.json`: a load sweep against one server. Plain data here (not in the HTTP crate) so
/// that the reports read it without depending on the HTTP client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    pub started_at: String,
    pub url: String,
    /// `simpletool` or `openai`.
    pub api: String,
    pub model: String,
    pub scenario: String,
    pub cases: usize,
    pub mode: DecodeMode,
    /// The real-time budget goodput was counted against.
    pub slo_ms: f64,
    pub calls_per_level: usize,
    pub max_seconds_per_level: f64,
    pub machine: MachineInfo,
    #[serde(default)]
    pub levels: Vec<LoadLevelResult>,
}

/// JSON has no NaN: serde_json writes a NaN (a statistic over no successful call) as `null`;
/// read it back, or its absence, as NaN ("no data"), so a run whose arm never succeeded
/// (Ctrl-C in the first case, every case filtered or failed) can always be read back.
fn f64_or_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn nan() -> f64 {
    f64::NAN
}
