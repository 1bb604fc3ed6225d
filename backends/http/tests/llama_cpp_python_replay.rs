//! The OpenAI API client against llama-cpp-python's own server (`python -m llama_cpp.server`,
//! PyPI, on SmolLM2), replayed: that server's wheel takes too long to build for CI, so its real
//! answers were recorded once through ci/llama-cpp-python/record_proxy.py (the fixture's first
//! line says how) and are served back here, request by request. A request the client would send
//! differently today finds no recorded answer and fails the test.

use fcbench_core::backend::{CallBackend, CallRequest};
use fcbench_core::protocol::Protocol;
use fcbench_core::record::DecodeMode;
use fcbench_http::{api_defaults, Api, HttpBackend, HttpConfig};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

const FIXTURE: &str = "tests/data/llama-cpp-python-smollm2.jsonl";

struct Exchange {
    method: String,
    path: String,
    request: Option<Value>,
    status: u16,
    response: String,
}

fn fixture() -> (Value, Vec<Exchange>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut meta = Value::Null;
    let mut exchanges = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
        if let Some(m) = v.get("meta") {
            meta = m.clone();
            continue;
        }
        let field = |k: &str| {
            v.get(k)
                .unwrap_or_else(|| panic!("{}:{}: no field `{k}`", path.display(), i + 1))
        };
        exchanges.push(Exchange {
            method: field("method").as_str().unwrap().to_string(),
            path: field("path").as_str().unwrap().to_string(),
            request: field("request")
                .as_str()
                .map(|s| serde_json::from_str(s).unwrap()),
            status: field("status").as_u64().unwrap() as u16,
            response: field("response").as_str().unwrap().to_string(),
        });
    }
    (meta, exchanges)
}

/// Serves the recorded answers: GETs by path, POSTs by an equal JSON body. Anything else gets
/// 500 saying it was never recorded.
fn replay(exchanges: Vec<Exchange>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 16384];
            let (head, body) = loop {
                let n = c.read(&mut chunk).unwrap_or(0);
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0usize);
                    if buf.len() >= end + 4 + len {
                        break (text[..end].to_string(), text[end + 4..].to_string());
                    }
                }
                if n == 0 {
                    break (text, String::new());
                }
            };
            let mut first = head.split_whitespace();
            let (method, path) = (first.next().unwrap_or(""), first.next().unwrap_or(""));
            let sent: Option<Value> = serde_json::from_str(&body).ok();
            let found = exchanges.iter().find(|x| {
                x.method == method && x.path == path && (method == "GET" || x.request == sent)
            });
            let (status, answer) = match found {
                Some(x) => (x.status, x.response.clone()),
                None => (
                    500,
                    format!(
                        "{{\"error\":{{\"message\":\"not recorded: {method} {path} {}\"}}}}",
                        body.replace('"', "'")
                    ),
                ),
            };
            let _ = write!(
                c,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    url
}

#[test]
fn llama_cpp_python_server_answers_replay_with_default_arguments() {
    let (meta, exchanges) = fixture();
    assert!(
        meta["server"]
            .as_str()
            .unwrap_or("")
            .starts_with("llama-cpp-python"),
        "{meta}"
    );
    let contents: Vec<String> = exchanges
        .iter()
        .filter(|x| x.method == "POST")
        .map(|x| {
            let v: Value = serde_json::from_str(&x.response).unwrap();
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let url = replay(exchanges);

    // That server has no /health (404): readiness is /v1/models, which also names the model.
    let mut b = HttpBackend::connect(HttpConfig::new(&url, Api::OpenAi)).unwrap();
    assert!(
        b.model().ends_with("SmolLM2-135M-Instruct.Q4_1.gguf"),
        "{}",
        b.model()
    );
    assert!(!b.supports_forced());
    // Defaults follow the API: its protocol, free decoding (no forced-decoding extension).
    let (protocol, mode, line) = api_defaults(Api::OpenAi, b.supports_forced());
    assert_eq!((protocol, mode), (Protocol::Json, DecodeMode::Free));
    assert!(line.contains("protocol json and mode free"), "{line}");

    // The recorded session: `fcbench run` over the game scenario, one call per case, as
    // `fcbench run` sends it by default (128 tokens).
    let scenario = fcbench_scenarios::load("game").unwrap();
    assert_eq!(scenario.cases.len(), contents.len());
    for (case, content) in scenario.cases.iter().zip(&contents) {
        let out = b
            .call(&CallRequest {
                case,
                protocol,
                mode,
                max_head_tokens: 128,
                content_head: false,
            })
            .unwrap_or_else(|e| panic!("{}: {e}", case.id));
        assert_eq!(&out.heads[0].text, content, "{}", case.id);
        assert!(out.heads[0].tokens > 0, "usage.completion_tokens is kept");
        // SmolLM2 without a tool-call chat format answers in prose: the json protocol reads no
        // call from it, an honest wrong answer rather than a failed request.
        let parsed = protocol.parse(case, &[("call".into(), out.heads[0].text.clone())]);
        assert!(parsed.call.is_none(), "{}: {parsed:?}", case.id);
    }
}
