//! The HTTP call-level backend: one case → one request → head texts for the arm's protocol.

use fcbench_core::backend::{BackendError, BackendInfo, CallBackend, CallOutput, CallRequest};
use fcbench_core::protocol::{PlanOptions, Protocol};
use fcbench_core::record::{DecodeMode, HeadRecord, StopReason};
use fcbench_core::scenario::Case;
use serde_json::{json, Map, Value};
use std::io::BufRead;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Which API the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST /v1/function_call`: the server decodes SimpleTool's heads (arm protocol
    /// `simpletool`).
    SimpleTool,
    /// `POST /v1/chat/completions` with `tools` (vLLM, SGLang, llama-server, fcbench serve):
    /// one tool call (arm protocol `json`).
    OpenAi,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::SimpleTool => "simpletool",
            Api::OpenAi => "openai",
        }
    }

    /// The protocol whose parser reads this API's answers.
    pub fn protocol(self) -> Protocol {
        match self {
            Api::SimpleTool => Protocol::SimpleTool,
            Api::OpenAi => Protocol::Json,
        }
    }

    /// The contract requests follow, as recorded with every run (the arm's backend version).
    pub fn contract(self) -> &'static str {
        match self {
            Api::SimpleTool => "SimpleTool server API as rt_server.py (POST /v1/function_call; tools OpenAI-shaped, history as strings)",
            Api::OpenAi => "OpenAI chat completions with tools (POST /v1/chat/completions)",
        }
    }
}

/// What a run against `api` uses when the user names no protocol or mode: the API's own
/// protocol, and forced decoding only where the server has fcbench's forced-decoding extension
/// (fcbench serve); any other server decodes free. The line says so, for the run's output.
pub fn api_defaults(api: Api, server_forced: bool) -> (Protocol, DecodeMode, String) {
    let mode = if server_forced {
        DecodeMode::Forced
    } else {
        DecodeMode::Free
    };
    let why = if server_forced {
        "the server takes fcbench's forced-decoding extension"
    } else {
        "the server has no fcbench forced-decoding extension"
    };
    let line = format!(
        "--api {}: protocol {} and mode {mode} by default ({why}); --protocol/--mode override",
        api.name(),
        api.protocol()
    );
    (api.protocol(), mode, line)
}

impl FromStr for Api {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "simpletool" => Ok(Api::SimpleTool),
            "openai" => Ok(Api::OpenAi),
            _ => Err(format!("unknown API `{s}` (expected simpletool or openai)")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Base URL, e.g. `http://127.0.0.1:8899` (paths are appended).
    pub url: String,
    /// `None`: by the arm's protocol (`simpletool` → SimpleTool API, `json` → OpenAI API).
    pub api: Option<Api>,
    /// Model name sent in OpenAI requests; default: the first of the server's `/v1/models`.
    pub model: Option<String>,
    /// Whole-call timeout (connect + send + answer).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// OpenAI API: `stream: true` (server-sent events); records time to first chunk.
    pub stream: bool,
    /// Idle keep-alive connections kept per host (≥ the load driver's parallel clients).
    pub pool: usize,
}

impl HttpConfig {
    pub fn new(url: &str, api: impl Into<Option<Api>>) -> HttpConfig {
        HttpConfig {
            url: url.trim_end_matches('/').to_string(),
            api: api.into(),
            model: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            stream: false,
            pool: 64,
        }
    }
}

/// A client for one server. Cloning shares the connection pool (keep-alive: one TCP
/// connection per parallel client, reused call after call; plain HTTP, so no per-call TLS).
#[derive(Clone)]
pub struct HttpBackend {
    agent: ureq::Agent,
    cfg: HttpConfig,
    model: String,
    info: BackendInfo,
    /// `/health` lists fcbench's forced-decoding extension (fcbench serve does).
    forced: bool,
    /// Time to the first streamed chunk of the last call (OpenAI API with `stream`).
    pub last_ttft_ms: Option<f64>,
}

fn err(msg: String) -> BackendError {
    BackendError::Other(msg)
}

/// The message a failed response carries, in either API's error shape, else the raw body.
fn error_message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let m = v
        .get("error")
        .and_then(|e| {
            e.as_str()
                .or_else(|| e.get("message").and_then(Value::as_str))
        })
        .or_else(|| v.get("detail").and_then(Value::as_str));
    match m {
        Some(m) => m.to_string(),
        None => body.chars().take(300).collect(),
    }
}

impl HttpBackend {
    /// Connect and describe the server. The SimpleTool API needs `/health` (the reference
    /// server has it). For OpenAI-compatible servers `/health` is optional and asked with a
    /// short timeout; when it is missing (llama-cpp-python's server answers 404), failing or
    /// slow (a busy single-worker server), readiness is `GET /v1/models`. An unreachable server
    /// is an error here, before any call is timed.
    pub fn connect(cfg: HttpConfig) -> Result<HttpBackend, BackendError> {
        if !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://")) {
            return Err(err(format!(
                "--url `{}`: expected http://host:port",
                cfg.url
            )));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(cfg.connect_timeout)
            .timeout(cfg.timeout)
            .max_idle_connections_per_host(cfg.pool.max(1))
            .max_idle_connections(cfg.pool.max(1))
            .no_delay(true)
            .user_agent(concat!("fcbench/", env!("CARGO_PKG_VERSION")))
            .build();
        let get = |path: &str, timeout: Duration| -> Result<Value, String> {
            let url = format!("{}{path}", cfg.url);
            match agent.get(&url).timeout(timeout).call() {
                // Some servers answer `/health` with an empty 200.
                Ok(r) => Ok(read_json(r).unwrap_or(Value::Null)),
                Err(ureq::Error::Status(code, r)) => {
                    let m = error_message(&r.into_string().unwrap_or_default());
                    Err(format!("{url}: HTTP {code}: {m}"))
                }
                Err(e) => Err(format!("cannot reach {url}: {e}")),
            }
        };
        let (health, models) = match cfg.api {
            Some(Api::SimpleTool) => (get("/health", cfg.timeout), None),
            _ => {
                let health = get("/health", cfg.timeout.min(HEALTH_TIMEOUT));
                (health, Some(get("/v1/models", cfg.timeout)))
            }
        };
        let body = match (&health, &models) {
            (Ok(h), _) => h.clone(),
            (Err(e), None) => return Err(err(e.clone())),
            (Err(_), Some(Ok(_))) => Value::Null,
            (Err(h), Some(Err(m))) => {
                return Err(err(format!("the server is not ready: {h}; {m}")))
            }
        };
        let models = models.and_then(Result::ok);
        let model = cfg
            .model
            .clone()
            .or_else(|| {
                models
                    .as_ref()
                    .and_then(|m| m.pointer("/data/0/id"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| {
                body.get("model")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "unknown".into());
        let version = body
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        // What the server says about its engine, where it says it (fcbench serve does).
        let server: Option<BackendInfo> = body
            .get("backend")
            .and_then(|b| serde_json::from_value(b.clone()).ok());
        let forced = body
            .get("extensions")
            .and_then(Value::as_array)
            .is_some_and(|x| x.iter().any(|e| e == FORCED_EXTENSION));
        let info = BackendInfo {
            name: "http".into(),
            version: format!(
                "{}; server {version}",
                cfg.api.map_or(
                    "by arm protocol: simpletool → SimpleTool server API, json → OpenAI chat completions",
                    Api::contract
                )
            ),
            build: server
                .as_ref()
                .map(|s| format!("remote {} {} ({})", s.name, s.version, s.build))
                .unwrap_or_else(|| "remote".into()),
            model_path: format!("{} ({model})", cfg.url),
            model_sha256: server
                .as_ref()
                .map(|s| s.model_sha256.clone())
                .unwrap_or_default(),
            model_bytes: server.as_ref().map_or(0, |s| s.model_bytes),
            architecture: server
                .as_ref()
                .map(|s| s.architecture.clone())
                .unwrap_or_default(),
            quantization: server
                .as_ref()
                .map(|s| s.quantization.clone())
                .unwrap_or_default(),
            parameters: server.as_ref().map_or(0, |s| s.parameters),
            context_size: server.as_ref().map_or(0, |s| s.context_size),
            max_sequences: server.as_ref().map_or(0, |s| s.max_sequences),
            threads: server.as_ref().map_or(0, |s| s.threads),
            // Where the server says its engine ran (its GPU, not this client's machine).
            placement: server.as_ref().and_then(|s| s.placement.clone()),
            binary: String::new(),
        };
        Ok(HttpBackend {
            agent,
            cfg,
            model,
            info,
            forced,
            last_ttft_ms: None,
        })
    }

    /// The server takes fcbench's forced-decoding extension (its `/health` says so).
    pub fn supports_forced(&self) -> bool {
        self.forced
    }

    pub fn config(&self) -> &HttpConfig {
        &self.cfg
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The API a protocol is served by.
    pub fn api_for(&self, protocol: Protocol) -> Result<Api, BackendError> {
        let by_protocol = match protocol {
            Protocol::SimpleTool => Some(Api::SimpleTool),
            Protocol::Json => Some(Api::OpenAi),
            _ => None,
        };
        match (self.cfg.api, by_protocol) {
            (Some(a), Some(b)) if a == b => Ok(a),
            (None, Some(b)) => Ok(b),
            (Some(a), _) => Err(err(format!(
                "the {} API answers protocol {}, not {protocol}",
                a.name(),
                a.protocol()
            ))),
            (None, None) => Err(err(format!(
                "no HTTP API serves protocol {protocol} (simpletool → /v1/function_call, json → /v1/chat/completions)"
            ))),
        }
    }

    /// The request body for one case.
    pub fn body(&self, api: Api, req: &CallRequest) -> Result<Value, BackendError> {
        let case = req.case;
        let forced = (req.mode == DecodeMode::Forced)
            .then(|| json!({"mode": "forced", "reference": case.reference_call()}));
        let mut body = match api {
            // The reference server reads each tool's `function` object and takes history
            // as strings, shown as sent: both as fcbench's own prompt renders them.
            Api::SimpleTool => json!({
                "messages": [{"role": "user", "content": case.query}],
                "tools": case.tools.iter().map(|t| openai_tool(&t.raw)).collect::<Vec<_>>(),
                "environment": case.environment,
                "history": simpletool_history(case),
                "include_content_head": req.content_head,
                "max_tokens": req.max_head_tokens,
                "temperature": 0.0,
            }),
            Api::OpenAi => json!({
                "model": self.model,
                "messages": [{"role": "user", "content": json_user_turn(case)?}],
                "tools": case.tools.iter()
                    .map(|t| json!({"type": "function", "function": t.raw}))
                    .collect::<Vec<_>>(),
                "tool_choice": "auto",
                "max_tokens": req.max_head_tokens,
                "temperature": 0.0,
                "stream": self.cfg.stream,
            }),
        };
        if let Some(f) = forced {
            // fcbench's own extension; other servers ignore it, which `call` detects.
            body["fcbench"] = f;
        }
        Ok(body)
    }

    fn post(&self, path: &str, body: &Value) -> Result<ureq::Response, BackendError> {
        let url = format!("{}{path}", self.cfg.url);
        match self
            .agent
            .post(&url)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
        {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(code, r)) => {
                let m = error_message(&r.into_string().unwrap_or_default());
                Err(err(format!("HTTP {code} from {url}: {m}")))
            }
            Err(e) => Err(err(format!("request to {url} failed: {e}"))),
        }
    }

    fn call_simpletool(&mut self, req: &CallRequest) -> Result<CallOutput, BackendError> {
        let resp = self.post("/v1/function_call", &self.body(Api::SimpleTool, req)?)?;
        let v: Value = read_json(resp)?;
        check_forced(req.mode, v.get("mode"))?;
        let heads = match v.get("head_records") {
            Some(h) if h.as_array().is_some_and(|a| !a.is_empty()) => {
                serde_json::from_value(h.clone())
                    .map_err(|e| err(format!("unparsable `head_records`: {e}")))?
            }
            _ => simpletool_heads(req.case, &v)?,
        };
        Ok(CallOutput {
            heads,
            engine_ms: v.get("latency_ms").and_then(Value::as_f64),
            ttft_ms: None,
        })
    }

    fn call_openai(&mut self, req: &CallRequest) -> Result<CallOutput, BackendError> {
        let start = Instant::now();
        let resp = self.post("/v1/chat/completions", &self.body(Api::OpenAi, req)?)?;
        let (message, finish, usage, extras) = if self.cfg.stream {
            let (m, f, x, ttft) = read_stream(resp, start)?;
            self.last_ttft_ms = ttft;
            (m, f, Value::Null, x)
        } else {
            let v = read_json(resp)?;
            let choice = v
                .pointer("/choices/0")
                .ok_or_else(|| err("answer has no `choices[0]`".into()))?;
            (
                choice.get("message").cloned().unwrap_or(Value::Null),
                choice
                    .get("finish_reason")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                v.get("usage").cloned().unwrap_or(Value::Null),
                v.get("fcbench").cloned().unwrap_or(Value::Null),
            )
        };
        check_forced(req.mode, extras.get("mode"))?;
        let text = match message.pointer("/tool_calls/0/function") {
            Some(f) => {
                let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                // `arguments` is a JSON string in the OpenAI API; keep it as sent if it is not.
                let args = match f.get("arguments") {
                    Some(Value::String(s)) => {
                        serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                    }
                    Some(other) => other.clone(),
                    None => json!({}),
                };
                serde_json::to_string(&json!({"name": name, "arguments": args}))
                    .map_err(|e| err(e.to_string()))?
            }
            // No tool call: the raw content (a model without a tool parser may still have
            // written `<tool_call>{…}</tool_call>`, which the json protocol reads).
            None => message
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        };
        let head = match extras.pointer("/head_records/0") {
            Some(h) => serde_json::from_value(h.clone())
                .map_err(|e| err(format!("unparsable `fcbench.head_records`: {e}")))?,
            None => HeadRecord {
                name: "call".into(),
                text,
                tokens: usage
                    .get("completion_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as usize,
                stop: if finish.as_deref() == Some("length") {
                    StopReason::Length
                } else {
                    StopReason::Marker
                },
                stop_marker: None,
                tail_tokens: 0,
                argmax_agreed: None,
            },
        };
        Ok(CallOutput {
            heads: vec![head],
            engine_ms: extras.get("latency_ms").and_then(Value::as_f64),
            ttft_ms: if self.cfg.stream {
                self.last_ttft_ms
            } else {
                None
            },
        })
    }
}

impl CallBackend for HttpBackend {
    fn info(&self) -> &BackendInfo {
        &self.info
    }

    fn call(&mut self, req: &CallRequest) -> Result<CallOutput, BackendError> {
        match self.api_for(req.protocol)? {
            Api::SimpleTool => self.call_simpletool(req),
            Api::OpenAi => self.call_openai(req),
        }
    }
}

fn read_json(resp: ureq::Response) -> Result<Value, BackendError> {
    let text = resp
        .into_string()
        .map_err(|e| err(format!("reading the answer: {e}")))?;
    serde_json::from_str(&text).map_err(|e| {
        err(format!(
            "unparsable answer ({e}): {}",
            text.chars().take(200).collect::<String>()
        ))
    })
}

fn check_forced(mode: DecodeMode, echoed: Option<&Value>) -> Result<(), BackendError> {
    if mode == DecodeMode::Forced && echoed.and_then(Value::as_str) != Some("forced") {
        return Err(err(
            "the server did not decode in forced mode (an fcbench extension); use --mode free against this server".into(),
        ));
    }
    Ok(())
}

/// Heads from a SimpleTool server that sends only `heads` (texts) or only `function`/`args`.
fn simpletool_heads(case: &Case, v: &Value) -> Result<Vec<HeadRecord>, BackendError> {
    let head = |name: &str, text: String| HeadRecord {
        name: name.into(),
        stop: if matches!(text.trim(), "" | "<|null|>") {
            StopReason::Null
        } else {
            StopReason::Marker
        },
        text,
        tokens: 0,
        stop_marker: None,
        tail_tokens: 0,
        argmax_agreed: None,
    };
    if let Some(h) = v
        .get("heads")
        .and_then(Value::as_object)
        .filter(|h| !h.is_empty())
    {
        return Ok(h
            .iter()
            .map(|(k, t)| head(k, t.as_str().map_or_else(|| t.to_string(), str::to_string)))
            .collect());
    }
    let Some(function) = v.get("function") else {
        return Err(err("answer has neither `heads` nor `function`".into()));
    };
    let name = function.as_str().unwrap_or("").to_string();
    let mut heads = vec![head("function", name.clone())];
    let empty = Map::new();
    let args = v.get("args").and_then(Value::as_object).unwrap_or(&empty);
    if let Some(tool) = case.tool(&name) {
        for (k, p) in tool.params.iter().enumerate() {
            let text = match args.get(&p.name) {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            heads.push(head(&format!("arg{}", k + 1), text));
        }
    }
    Ok(heads)
}

/// Read an SSE stream of chat-completion chunks into one message.
fn read_stream(
    resp: ureq::Response,
    start: Instant,
) -> Result<(Value, Option<String>, Value, Option<f64>), BackendError> {
    let mut content = String::new();
    let mut name = String::new();
    let mut args = String::new();
    let mut finish = None;
    let mut extras = Value::Null;
    let mut ttft = None;
    let mut saw_tool = false;
    for line in std::io::BufReader::new(resp.into_reader()).lines() {
        let line = line.map_err(|e| err(format!("reading the stream: {e}")))?;
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.trim();
        if data == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| err(format!("unparsable stream chunk ({e}): {data}")))?;
        if let Some(x) = chunk.get("fcbench") {
            extras = x.clone();
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            continue;
        };
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            finish = Some(f.to_string());
        }
        let delta = choice.get("delta").cloned().unwrap_or(Value::Null);
        let mut got = false;
        if let Some(c) = delta.get("content").and_then(Value::as_str) {
            got |= !c.is_empty();
            content.push_str(c);
        }
        if let Some(f) = delta.pointer("/tool_calls/0/function") {
            saw_tool = true;
            got = true;
            if let Some(n) = f.get("name").and_then(Value::as_str) {
                name.push_str(n);
            }
            if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                args.push_str(a);
            }
        }
        if got && ttft.is_none() {
            ttft = Some(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut message = json!({"role": "assistant", "content": content});
    if saw_tool {
        message["tool_calls"] =
            json!([{"type": "function", "function": {"name": name, "arguments": args}}]);
    }
    Ok((message, finish, extras, ttft))
}

/// `/health` waits at most this long for an OpenAI-compatible server before readiness falls
/// back to `/v1/models`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// The `extensions` entry of fcbench serve's `/health` for forced decoding (kept equal to
/// `fcbench_serve::FORCED_EXTENSION`, which this crate does not depend on).
pub const FORCED_EXTENSION: &str = "fcbench.forced";

/// A tool as OpenAI's `{type: "function", function: {…}}`, as the SimpleTool prompt shows it;
/// a tool that already has a `type` is sent as it is.
pub fn openai_tool(raw: &Value) -> Value {
    if raw.get("type").is_some() {
        raw.clone()
    } else {
        json!({"type": "function", "function": raw})
    }
}

/// A case's history as the SimpleTool server API carries it: one string per prior call,
/// rendered as the scenario's `history: [...]` line shows it.
pub fn simpletool_history(case: &Case) -> Vec<String> {
    case.history
        .iter()
        .map(|c| fcbench_core::protocol::history_entry(case, c))
        .collect()
}

/// The user turn fcbench's `json` protocol renders for a case (environment, history and query):
/// sent as the user message, so any server sees the same context as an in-process run.
pub fn json_user_turn(case: &Case) -> Result<String, BackendError> {
    let plan = Protocol::Json
        .plan(case, &PlanOptions::default())
        .map_err(|e| err(e.to_string()))?;
    let prompt = &plan.heads[0].prompt;
    const OPEN: &str = "<|im_start|>user\n";
    const CLOSE: &str = "<|im_end|>\n<|im_start|>assistant\n";
    let start = prompt
        .rfind(OPEN)
        .ok_or_else(|| err("json prompt has no user turn".into()))?
        + OPEN.len();
    let end = prompt
        .rfind(CLOSE)
        .filter(|&e| e >= start)
        .ok_or_else(|| err("json prompt has no assistant turn".into()))?;
    Ok(prompt[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        let tool = fcbench_core::scenario::Tool::from_json(&json!({
            "name": "move", "description": "Move.",
            "parameters": {"type": "dict", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}}
        }))
        .unwrap();
        serde_json::from_value(json!({
            "id": "c", "dataset": "t", "query": "go to 3,4", "environment": ["hp=3"],
            "tools": [tool], "gold": [{"name": "move", "params": {"x": [3], "y": [4]}}]
        }))
        .unwrap()
    }

    #[test]
    fn the_user_turn_carries_environment_history_and_query() {
        assert_eq!(
            json_user_turn(&case()).unwrap(),
            "environment: [\"hp=3\"]\nhistory: []\n\ngo to 3,4"
        );
    }

    #[test]
    fn heads_are_rebuilt_from_function_and_args_in_schema_order() {
        let v = json!({"function": "move", "args": {"y": 4, "x": 3}});
        let heads = simpletool_heads(&case(), &v).unwrap();
        let texts: Vec<_> = heads
            .iter()
            .map(|h| (h.name.as_str(), h.text.as_str()))
            .collect();
        assert_eq!(texts, [("function", "move"), ("arg1", "3"), ("arg2", "4")]);
    }

    #[test]
    fn error_bodies_of_both_apis_give_their_message() {
        assert_eq!(
            error_message(r#"{"success":false,"error":"bad tool"}"#),
            "bad tool"
        );
        assert_eq!(
            error_message(r#"{"error":{"message":"too long","code":400}}"#),
            "too long"
        );
        assert_eq!(error_message("gateway down"), "gateway down");
    }

    /// A one-connection-per-answer server that replies with `answers` in turn.
    fn canned(answers: Vec<&'static str>) -> String {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        std::thread::spawn(move || {
            for a in answers {
                let (mut c, _) = l.accept().unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head and the body (Content-Length) before answering.
                loop {
                    let n = c.read(&mut chunk).unwrap_or(0);
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_ascii_lowercase();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                let _ = c.write_all(a.as_bytes());
            }
        });
        url
    }

    fn reply(status: &str, body: &str) -> &'static str {
        Box::leak(
            format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_boxed_str(),
        )
    }

    #[test]
    fn server_errors_and_garbage_are_failed_calls_with_the_reason() {
        let url = canned(vec![
            reply("200 OK", r#"{"status":"ok","model":"m","version":"1"}"#),
            reply(
                "503 Service Unavailable",
                r#"{"success":false,"error":"queue full"}"#,
            ),
            reply("200 OK", "<html>not json</html>"),
            reply("200 OK", r#"{"function":"move","args":{"x":3}}"#),
        ]);
        let mut b = HttpBackend::connect(HttpConfig::new(&url, Api::SimpleTool)).unwrap();
        assert_eq!(b.model(), "m");
        let c = case();
        let req = CallRequest {
            case: &c,
            protocol: Protocol::SimpleTool,
            mode: DecodeMode::Free,
            max_head_tokens: 8,
            content_head: false,
        };
        let e = b.call(&req).unwrap_err().to_string();
        assert!(e.contains("HTTP 503") && e.contains("queue full"), "{e}");
        let e = b.call(&req).unwrap_err().to_string();
        assert!(e.contains("unparsable answer"), "{e}");
        let out = b.call(&req).unwrap();
        assert_eq!(out.heads[1].text, "3");
        // The protocol an API cannot answer is refused before any request.
        let json = CallRequest {
            protocol: Protocol::Json,
            ..req.clone()
        };
        assert!(b
            .call(&json)
            .unwrap_err()
            .to_string()
            .contains("answers protocol simpletool"));
        let forced = CallRequest {
            mode: DecodeMode::Forced,
            ..req
        };
        let e = b.call(&forced).unwrap_err().to_string();
        assert!(e.contains("request to") || e.contains("forced"), "{e}");
    }

    #[test]
    fn simpletool_requests_carry_history_as_strings_and_tools_openai_shaped() {
        let mut c = case();
        c.history =
            vec![
                serde_json::from_value(json!({"name": "move", "arguments": {"y": 2, "x": 1}}))
                    .unwrap(),
            ];
        let url = canned(vec![reply("200 OK", r#"{"status":"ok","loaded":true}"#)]);
        let b = HttpBackend::connect(HttpConfig::new(&url, Api::SimpleTool)).unwrap();
        assert!(
            b.info().version.contains("rt_server.py"),
            "{}",
            b.info().version
        );
        assert!(!b.supports_forced());
        let req = CallRequest {
            case: &c,
            protocol: Protocol::SimpleTool,
            mode: DecodeMode::Free,
            max_head_tokens: 8,
            content_head: false,
        };
        let body = b.body(Api::SimpleTool, &req).unwrap();
        assert_eq!(body["history"], json!(["move(x=1, y=2)"]));
        assert_eq!(body["tools"][0]["type"], "function");
        assert_eq!(body["tools"][0]["function"]["name"], "move");
        assert_eq!(body["environment"], json!(["hp=3"]));
    }

    #[test]
    fn openai_readiness_falls_back_to_models_when_health_is_missing_or_slow() {
        let models = r#"{"object":"list","data":[{"id":"smol.gguf","object":"model"}]}"#;
        let url = canned(vec![
            reply("404 Not Found", r#"{"detail":"Not Found"}"#),
            reply("200 OK", models),
        ]);
        let b = HttpBackend::connect(HttpConfig::new(&url, Api::OpenAi)).unwrap();
        assert_eq!(b.model(), "smol.gguf");
        assert!(!b.supports_forced());

        // `/health` that does not answer within HEALTH_TIMEOUT (a busy server).
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        let held = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (slow, _) = l.accept().unwrap();
            let (mut c, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf);
            let body = r#"{"data":[{"id":"m"}]}"#;
            let _ = write!(
                c,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            drop(slow);
        });
        let t = Instant::now();
        let b = HttpBackend::connect(HttpConfig::new(&url, Api::OpenAi)).unwrap();
        assert_eq!(b.model(), "m");
        assert!(
            t.elapsed() < HEALTH_TIMEOUT + Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        held.join().unwrap();

        // Neither: both reasons are given.
        let url = canned(vec![
            reply("404 Not Found", "{}"),
            reply(
                "503 Service Unavailable",
                r#"{"error":{"message":"loading"}}"#,
            ),
        ]);
        let e = HttpBackend::connect(HttpConfig::new(&url, Api::OpenAi))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("/health: HTTP 404") && e.contains("/v1/models: HTTP 503: loading"),
            "{e}"
        );
    }

    #[test]
    fn api_defaults_follow_the_api_and_the_servers_extension() {
        let (p, m, line) = api_defaults(Api::OpenAi, false);
        assert_eq!((p, m), (Protocol::Json, DecodeMode::Free));
        assert!(line.contains("protocol json and mode free"), "{line}");
        let (p, m, _) = api_defaults(Api::OpenAi, true);
        assert_eq!((p, m), (Protocol::Json, DecodeMode::Forced));
        let (p, m, _) = api_defaults(Api::SimpleTool, false);
        assert_eq!((p, m), (Protocol::SimpleTool, DecodeMode::Free));
    }

    #[test]
    fn an_unreachable_server_is_a_clear_error() {
        let mut cfg = HttpConfig::new("http://127.0.0.1:1", Api::SimpleTool);
        cfg.connect_timeout = Duration::from_millis(500);
        let e = HttpBackend::connect(cfg).err().unwrap().to_string();
        assert!(e.contains("cannot reach http://127.0.0.1:1/health"), "{e}");
        assert!(HttpBackend::connect(HttpConfig::new("localhost:8080", Api::OpenAi)).is_err());
    }
}
