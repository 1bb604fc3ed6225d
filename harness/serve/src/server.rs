//! Routes, error mapping and the listener.

use crate::api::{self, FcbenchExtension, FunctionCallResponse, Invalid};
use crate::engine::{Done, EngineHandle, Job, JobError, SubmitError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fcbench_core::backend::BackendInfo;
use fcbench_core::protocol::Protocol;
use fcbench_core::record::DecodeMode;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    /// Largest request body, in bytes (larger → 413).
    pub max_body: usize,
    /// Model name reported by `/health` and `/v1/models`.
    pub model: String,
    /// Per-head token cap when a function-call request gives none (the reference: 32).
    pub default_max_tokens: usize,
    /// Token cap when a chat-completions request gives none (one whole JSON call).
    pub default_chat_max_tokens: usize,
    /// Origins a browser may call from; empty: any origin, as the reference server.
    pub cors_origins: Vec<HeaderValue>,
}

struct AppState {
    engine: EngineHandle,
    cfg: ServeConfig,
    info: BackendInfo,
}

/// Which error body shape a route answers with.
#[derive(Clone, Copy)]
enum Api {
    SimpleTool,
    OpenAi,
}

struct ApiError {
    api: Api,
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(api: Api, status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            api,
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        eprintln!("-> {} {}", self.status.as_u16(), self.message);
        let body = match self.api {
            Api::SimpleTool => json!({"success": false, "error": self.message}),
            Api::OpenAi => json!({"error": {
                "message": self.message,
                "type": if self.status.is_client_error() { "invalid_request_error" } else { "server_error" },
                "code": self.status.as_u16(),
            }}),
        };
        (self.status, Json(body)).into_response()
    }
}

/// Body bytes → a request: oversized → 413, not JSON → 400, wrong shape → 422; each with
/// serde's line/column and field.
fn decode_body<T: DeserializeOwned>(
    api: Api,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    check_json_content_type(api, headers)?;
    let bytes = body.map_err(|r| {
        let status = r.status();
        let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request body is larger than this server's limit (see `fcbench serve --max-body`)"
                .to_string()
        } else {
            format!("could not read the request body: {}", r.body_text())
        };
        ApiError::new(api, status, msg)
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let status = if e.is_data() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        let what = if e.is_data() {
            "invalid request"
        } else {
            "malformed JSON"
        };
        ApiError::new(api, status, format!("{what}: {e}"))
    })
}

/// Bodies are JSON: `application/json` (any parameters) or an `application/*+json` type; anything
/// else, or none, → 415, as axum's own `Json` extractor answers.
fn check_json_content_type(api: Api, headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if json {
        return Ok(());
    }
    let got = if ct.is_empty() {
        "no Content-Type".to_string()
    } else {
        format!("Content-Type `{ct}`")
    };
    Err(ApiError::new(
        api,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("expected a JSON body with `Content-Type: application/json`; got {got}"),
    ))
}

fn invalid(api: Api) -> impl Fn(Invalid) -> ApiError {
    move |e| ApiError::new(api, StatusCode::UNPROCESSABLE_ENTITY, e.0)
}

/// Sets the job's cancel flag when dropped before [`CancelOnDrop::disarm`]: hyper drops a
/// handler's future when its client disconnects, and this is how the engine hears of it.
struct CancelOnDrop(Option<Arc<AtomicBool>>);

impl CancelOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(flag) = &self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

/// Queue the job and wait for the engine; if the client goes while this waits, the engine
/// drops the job (queued) or stops decoding it at the next step.
async fn submit(state: &AppState, api: Api, mut job: Job) -> Result<Done, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    job.reply = tx;
    let guard = CancelOnDrop(Some(job.cancel.clone()));
    state.engine.submit(job).map_err(|e| {
        let status = match e {
            SubmitError::Full(_) | SubmitError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(api, status, e.to_string())
    })?;
    let answer = rx.await;
    guard.disarm();
    match answer {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(JobError::Invalid(m))) => Err(ApiError::new(api, StatusCode::BAD_REQUEST, m)),
        Ok(Err(JobError::Engine(m))) => {
            Err(ApiError::new(api, StatusCode::INTERNAL_SERVER_ERROR, m))
        }
        Ok(Err(e @ JobError::Cancelled)) => Err(ApiError::new(
            api,
            StatusCode::SERVICE_UNAVAILABLE,
            e.to_string(),
        )),
        Err(_) => Err(ApiError::new(
            api,
            StatusCode::SERVICE_UNAVAILABLE,
            "the engine has stopped",
        )),
    }
}

fn job(
    case: fcbench_core::scenario::Case,
    protocol: Protocol,
    mode: DecodeMode,
    max_head_tokens: usize,
) -> Job {
    Job {
        case,
        protocol,
        mode,
        max_head_tokens,
        plan: Default::default(),
        cancel: Arc::new(AtomicBool::new(false)),
        enqueued: Instant::now(),
        // replaced in `submit`
        reply: tokio::sync::oneshot::channel().0,
    }
}

fn log(route: &str, done: &Done, start: Instant) {
    eprintln!(
        "{route} 200 queue={:.1}ms decode={:.1}ms total={:.1}ms prompt={} tokens",
        done.queue_ms,
        done.outcome.e2e_ms,
        start.elapsed().as_secs_f64() * 1e3,
        done.outcome.prompt_tokens
    );
}

async fn function_call(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FunctionCallResponse>, ApiError> {
    let start = Instant::now();
    let api = Api::SimpleTool;
    let req: api::FunctionCallRequest = decode_body(api, &headers, body)?;
    let query = api::last_user_text(&req.messages).map_err(invalid(api))?;
    let tools = api::parse_tools(&req.tools).map_err(invalid(api))?;
    let max = api::check_max_tokens(req.max_tokens, state.cfg.default_max_tokens)
        .map_err(invalid(api))?;
    let ext = req.fcbench.clone().unwrap_or_default();
    let history = api::render_history(&req.history, &tools);
    let case =
        api::build_case(query, tools, req.environment, vec![], &ext).map_err(invalid(api))?;
    let tools = case.tools.clone();
    let mut j = job(case, Protocol::SimpleTool, ext.mode, max);
    j.plan.content_head = req.include_content_head;
    j.plan.system = req.system.filter(|s| !s.is_empty());
    j.plan.history = Some(history);
    let done = submit(&state, api, j).await?;
    log("POST /v1/function_call", &done, start);
    // The reference's reading: heads trimmed; a function head that is empty or `<|null|>` is
    // no call.
    let heads: serde_json::Map<String, Value> = done
        .outcome
        .heads
        .iter()
        .map(|h| (h.name.clone(), Value::String(h.text.trim().to_string())))
        .collect();
    let function = heads
        .get("function")
        .and_then(Value::as_str)
        .filter(|f| !f.is_empty() && *f != "<|null|>")
        .map(str::to_string);
    let args = function
        .as_deref()
        .map(|f| api::reference_args(&tools, f, &heads))
        .unwrap_or_default();
    let content = heads
        .get("content")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Json(FunctionCallResponse {
        success: function.is_some(),
        error: function.is_none().then(|| "No function called".to_string()),
        function,
        args,
        heads,
        content,
        latency_ms: done.outcome.e2e_ms,
        parsed: done.parsed.call.clone(),
        queue_ms: done.queue_ms,
        server_ms: start.elapsed().as_secs_f64() * 1e3,
        prompt_tokens: done.outcome.prompt_tokens,
        mode: Some(ext.mode),
        head_records: done.outcome.heads,
    }))
}

async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let start = Instant::now();
    let api = Api::OpenAi;
    let req: api::ChatRequest = decode_body(api, &headers, body)?;
    let query = api::last_user_text(&req.messages).map_err(invalid(api))?;
    let tools = api::parse_tools(&req.tools).map_err(invalid(api))?;
    let max = api::check_max_tokens(
        req.max_completion_tokens.or(req.max_tokens),
        state.cfg.default_chat_max_tokens,
    )
    .map_err(invalid(api))?;
    let ext: FcbenchExtension = req.fcbench.clone().unwrap_or_default();
    let case = api::build_case(query, tools, vec![], vec![], &ext).map_err(invalid(api))?;
    let mut j = job(case, Protocol::Json, ext.mode, max);
    // The client already rendered its context into the message.
    j.plan.bare_user_turn = true;
    let done = submit(&state, api, j).await?;
    log("POST /v1/chat/completions", &done, start);

    let head = done.outcome.heads.first();
    let text = head.map(|h| h.text.clone()).unwrap_or_default();
    let completion_tokens = head.map(|h| h.tokens).unwrap_or(0);
    let length = head.is_some_and(|h| h.stop == fcbench_core::record::StopReason::Length);
    let tool_calls: Option<Value> = done.parsed.call.as_ref().map(|c| {
        json!([{
            "id": "call_0",
            "type": "function",
            "function": {"name": c.name, "arguments": serde_json::to_string(&c.arguments).unwrap_or_default()},
        }])
    });
    let finish = if tool_calls.is_some() {
        "tool_calls"
    } else if length {
        "length"
    } else {
        "stop"
    };
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let model = req.model.unwrap_or_else(|| state.cfg.model.clone());
    let extras = json!({
        "queue_ms": done.queue_ms,
        "latency_ms": done.outcome.e2e_ms,
        "server_ms": start.elapsed().as_secs_f64() * 1e3,
        "mode": ext.mode,
        "raw": text,
        "head_records": done.outcome.heads,
    });
    let content = if tool_calls.is_some() {
        Value::Null
    } else {
        Value::String(text)
    };
    if !req.stream {
        let mut message = json!({"role": "assistant", "content": content});
        if let Some(tc) = tool_calls {
            message["tool_calls"] = tc;
        }
        return Ok(Json(json!({
            "id": "chatcmpl-fcbench",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": done.outcome.prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": done.outcome.prompt_tokens + completion_tokens,
            },
            "fcbench": extras,
        }))
        .into_response());
    }
    // Streamed: the call is decoded whole before the first chunk (the engine has no per-token
    // callback), so time to first chunk here equals the decode time.
    let chunk = |delta: Value, finish: Option<&str>, extra: Option<&Value>| {
        let mut c = json!({
            "id": "chatcmpl-fcbench",
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        if let Some(x) = extra {
            c["fcbench"] = x.clone();
        }
        Event::default().data(c.to_string())
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        None,
        None,
    )];
    match (&tool_calls, &content) {
        (Some(tc), _) => {
            let mut tc = tc.clone();
            tc[0]["index"] = json!(0);
            events.push(chunk(json!({"tool_calls": tc}), None, None));
        }
        (None, Value::String(s)) => events.push(chunk(json!({"content": s}), None, None)),
        _ => {}
    }
    events.push(chunk(json!({}), Some(finish), Some(&extras)));
    events.push(Event::default().data("[DONE]"));
    let stream =
        futures_util::stream::iter(events.into_iter().map(Ok::<_, std::convert::Infallible>));
    Ok(Sse::new(stream).into_response())
}

async fn health(State(state): State<Arc<AppState>>) -> Json<Value> {
    // `status` and `loaded` as the reference answers (the model is loaded before the port
    // opens); the rest are fcbench's.
    Json(json!({
        "status": "ok",
        "loaded": true,
        "server": "fcbench",
        "extensions": [FORCED_EXTENSION],
        "version": env!("CARGO_PKG_VERSION"),
        "model": state.cfg.model,
        "backend": state.info,
        "queueing": "serialised: one engine thread, requests decoded one at a time in arrival order",
    }))
}

async fn models(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(
        json!({"object": "list", "data": [{"id": state.cfg.model, "object": "model", "owned_by": "fcbench"}]}),
    )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        Api::SimpleTool,
        StatusCode::NOT_FOUND,
        format!("no route {uri}; routes: GET /health, GET /v1/models, POST /v1/function_call, POST /v1/chat/completions"),
    )
}

/// What `/health` lists when this server takes `fcbench: {mode: "forced", reference}` in
/// requests (clients pick their default decoding mode by it).
pub const FORCED_EXTENSION: &str = "fcbench.forced";

/// CORS as the reference has it (any origin, any method and header; preflight answered), or
/// restricted to `origins`. Credentials are not allowed: the reference's
/// `allow_credentials=True` with `*` is a combination the CORS standard refuses for credentialed
/// requests, and no SimpleTool client sends credentials.
fn cors(origins: &[HeaderValue]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods(Any)
        .allow_headers(Any)
        .max_age(std::time::Duration::from_secs(600));
    if origins.is_empty() {
        layer.allow_origin(Any)
    } else {
        layer.allow_origin(AllowOrigin::list(origins.iter().cloned()))
    }
}

pub fn router(engine: EngineHandle, cfg: ServeConfig, info: BackendInfo) -> Router {
    let limit = cfg.max_body;
    let cors = cors(&cfg.cors_origins);
    let state = Arc::new(AppState { engine, cfg, info });
    Router::new()
        .route("/health", get(health))
        .route("/v1/models", get(models))
        .route("/v1/function_call", post(function_call))
        .route("/v1/chat/completions", post(chat_completions))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(cors)
        .with_state(state)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("shutting down: finishing requests in flight");
}

/// Bind, call `on_listening` with the bound address (port 0 picks a free port), and serve until
/// Ctrl-C/SIGTERM; requests in flight finish first.
pub fn serve(
    engine: EngineHandle,
    cfg: ServeConfig,
    info: BackendInfo,
    on_listening: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.bind).await?;
        on_listening(listener.local_addr()?);
        axum::serve(listener, router(engine, cfg, info))
            .with_graceful_shutdown(shutdown_signal())
            .await
    })
}
