//! fcbench's HTTP call-level backend: benchmark any server that speaks the SimpleTool server
//! API (`POST /v1/function_call`) or OpenAI-compatible chat completions with `tools` (vLLM,
//! SGLang, llama-server, `fcbench serve`), and sweep load against it.

pub mod client;
pub mod load;

pub use client::{api_defaults, Api, HttpBackend, HttpConfig, FORCED_EXTENSION};
