//! fcbench's HTTP server: the SimpleTool server API (`POST /v1/function_call`, multi-head
//! parallel decoding) and OpenAI-compatible `POST /v1/chat/completions` (one sequentially
//! decoded tool call, protocol `json`) over fcbench's own decoding engine.
//!
//! One engine thread owns the backend sessions ([`engine::run_engine`]); the HTTP side (axum on
//! a small tokio runtime, [`server::serve`]) validates requests and queues them to it.

pub mod api;
pub mod engine;
pub mod server;

pub use axum::http::HeaderValue;
pub use engine::{channel, run_engine, EngineConfig, EngineHandle};
pub use server::{router, serve, ServeConfig, FORCED_EXTENSION};
