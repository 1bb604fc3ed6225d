//! `fcbench serve`'s HTTP layer against SimpleTool's reference contract (rt_server.py): CORS as a
//! browser sees it, JSON-only bodies, history as strings, the reference's answer fields and
//! typing, and abandoned requests that stop decoding. The engine behind it is a scripted
//! byte-level model (tests only): these are properties of the server, not of a model.

use fcbench_core::backend::{
    BackendError, BackendInfo, BatchEntry, SeqId, TokenBackend, TokenId, Vocabulary,
};
use fcbench_serve::{channel, router, run_engine, EngineConfig, HeaderValue, ServeConfig};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Bytes are tokens. Each head answers the script keyed by the last head tag in its sequence;
/// a prompt containing `RAMBLE` makes every head emit `a` forever (until cancelled or capped).
struct Scripted {
    info: BackendInfo,
    /// Bytes are tokens: core's scripted vocabulary with no special tokens.
    bytes: fcbench_core::scripted::Scripted,
    answers: Vec<(&'static str, &'static str)>,
    seqs: BTreeMap<SeqId, Vec<TokenId>>,
    rows: Vec<Vec<f32>>,
    step_delay: Duration,
    steps: Arc<AtomicUsize>,
    /// The text of sequence 0 after each prefill: the shared prompt.
    shared: Arc<Mutex<String>>,
}

impl Scripted {
    fn text(seq: &[TokenId]) -> String {
        String::from_utf8_lossy(&seq.iter().map(|&t| t as u8).collect::<Vec<_>>()).into_owned()
    }

    fn next(&self, seq: SeqId) -> TokenId {
        let text = Self::text(&self.seqs[&seq]);
        if text.contains("RAMBLE") {
            return b'a' as TokenId;
        }
        let best = self
            .answers
            .iter()
            .filter_map(|(key, answer)| text.rfind(key).map(|i| (i + key.len(), *answer)))
            .max_by_key(|(end, _)| *end);
        match best {
            Some((end, answer)) => {
                let done = text.len() - end;
                answer.as_bytes().get(done).map_or(b'~', |&b| b) as TokenId
            }
            None => b'?' as TokenId,
        }
    }

    fn row(tok: TokenId) -> Vec<f32> {
        let mut r = vec![0.0; 256];
        r[tok as usize] = 1.0;
        r
    }
}

impl TokenBackend for Scripted {
    fn info(&self) -> &BackendInfo {
        &self.info
    }
    fn vocab(&self) -> &dyn Vocabulary {
        &self.bytes
    }
    fn prefill(&mut self, seq: SeqId, _start: u32, tokens: &[TokenId]) -> Result<(), BackendError> {
        self.seqs.entry(seq).or_default().extend_from_slice(tokens);
        if seq == 0 {
            *self.shared.lock().unwrap() = Self::text(&self.seqs[&0]);
        }
        self.rows = vec![Self::row(self.next(seq))];
        Ok(())
    }
    fn fork(&mut self, src: SeqId, dst: SeqId, len: u32) -> Result<(), BackendError> {
        let head = self.seqs[&src][..len as usize].to_vec();
        self.seqs.insert(dst, head);
        Ok(())
    }
    fn step(&mut self, batch: &[BatchEntry]) -> Result<(), BackendError> {
        std::thread::sleep(self.step_delay);
        self.steps.fetch_add(1, Ordering::Relaxed);
        for e in batch {
            self.seqs.entry(e.seq).or_default().push(e.token);
        }
        self.rows = batch
            .iter()
            .filter(|e| e.logits)
            .map(|e| Self::row(self.next(e.seq)))
            .collect();
        Ok(())
    }
    fn logits(&self, row: usize) -> &[f32] {
        &self.rows[row]
    }
    fn truncate(&mut self, seq: SeqId, from: u32) -> Result<(), BackendError> {
        if let Some(s) = self.seqs.get_mut(&seq) {
            s.truncate(from as usize);
        }
        Ok(())
    }
    fn clear(&mut self, seq: Option<SeqId>) {
        match seq {
            Some(s) => {
                self.seqs.remove(&s);
            }
            None => self.seqs.clear(),
        }
    }
}

struct Server {
    addr: SocketAddr,
    steps: Arc<AtomicUsize>,
    shared: Arc<Mutex<String>>,
}

/// A server on a free loopback port, its engine on its own thread, both living until the test
/// process ends.
fn start(cors_origins: &[&str], step_delay: Duration) -> Server {
    let steps = Arc::new(AtomicUsize::new(0));
    let shared = Arc::new(Mutex::new(String::new()));
    let (handle, jobs) = channel(8);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (s2, sh2) = (steps.clone(), shared.clone());
    std::thread::spawn(move || {
        let mut open = || -> Result<Box<dyn TokenBackend>, String> {
            Ok(Box::new(Scripted {
                info: BackendInfo {
                    name: "scripted".into(),
                    context_size: 1 << 16,
                    max_sequences: 9,
                    ..Default::default()
                },
                bytes: fcbench_core::scripted::Scripted::new(&[], &[]),
                answers: vec![
                    ("<function>", "move</function>"),
                    ("<arg1>", " Up </arg1>"),
                    ("<arg2>", "-5</arg2>"),
                    ("<arg3>", "<|null|>"),
                    ("<content>", "On my way.</content>"),
                ],
                seqs: BTreeMap::new(),
                rows: vec![],
                step_delay,
                steps: s2.clone(),
                shared: sh2.clone(),
            }))
        };
        let cfg = EngineConfig {
            regime: fcbench_core::record::CacheRegime::Prefix,
            map_markers: false,
        };
        run_engine(&mut open, &cfg, jobs, |r| {
            let _ = ready_tx.send(r);
        });
    });
    let info = ready_rx.recv().unwrap().unwrap();
    let cfg = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        max_body: 1 << 20,
        model: "scripted".into(),
        default_max_tokens: fcbench_serve::api::REFERENCE_MAX_TOKENS,
        default_chat_max_tokens: 128,
        cors_origins: cors_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).unwrap())
            .collect(),
    };
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind(cfg.bind).await.unwrap();
            addr_tx.send(l.local_addr().unwrap()).unwrap();
            axum::serve(l, router(handle, cfg, info)).await.unwrap();
        });
    });
    Server {
        addr: addr_rx.recv().unwrap(),
        steps,
        shared,
    }
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One raw HTTP/1.1 exchange, extra headers as given.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_string(),
    }
}

const JSON: (&str, &str) = ("Content-Type", "application/json");

fn tools() -> Value {
    json!([{"type": "function", "function": {"name": "move", "description": "Move.",
        "parameters": {"type": "object", "properties": {
            "direction": {"type": "string"}, "steps": {"type": "integer"}, "speed": {"type": "number"}}}}}])
}

fn request(query: &str, history: Value) -> String {
    json!({"messages": [{"role": "user", "content": query}], "tools": tools(),
        "environment": ["hp=3"], "history": history})
    .to_string()
}

#[test]
fn a_browser_preflight_is_answered_and_every_answer_allows_any_origin() {
    let s = start(&[], Duration::ZERO);
    let pre = http(
        s.addr,
        "OPTIONS",
        "/v1/function_call",
        &[
            ("Origin", "null"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        "",
    );
    assert!(pre.status == 200 || pre.status == 204, "{}", pre.body);
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    let methods = pre.header("access-control-allow-methods").unwrap_or("");
    assert!(
        methods.contains('*') || methods.contains("POST"),
        "{methods}"
    );
    let allowed = pre.header("access-control-allow-headers").unwrap_or("");
    assert!(
        allowed.contains('*') || allowed.contains("content-type"),
        "{allowed}"
    );

    let origin = ("Origin", "http://game.example");
    let ok = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON, origin],
        &request("go up", json!([])),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));
    let bad = http(s.addr, "POST", "/v1/function_call", &[JSON, origin], "{}");
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        bad.header("access-control-allow-origin"),
        Some("*"),
        "errors too"
    );
    let health = http(s.addr, "GET", "/health", &[origin], "");
    assert_eq!(health.header("access-control-allow-origin"), Some("*"));
    let h = health.json();
    assert_eq!(
        (h["status"].as_str(), h["loaded"].as_bool()),
        (Some("ok"), Some(true)),
        "{h}"
    );
}

#[test]
fn cors_origin_limits_which_pages_may_call() {
    let s = start(&["http://game.example"], Duration::ZERO);
    let body = request("go up", json!([]));
    let mine = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON, ("Origin", "http://game.example")],
        &body,
    );
    assert_eq!(
        mine.header("access-control-allow-origin"),
        Some("http://game.example")
    );
    let other = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON, ("Origin", "http://evil.example")],
        &body,
    );
    assert_eq!(
        other.header("access-control-allow-origin"),
        None,
        "{:?}",
        other.headers
    );
}

#[test]
fn a_body_not_declared_as_json_gets_415() {
    let s = start(&[], Duration::ZERO);
    let body = request("go up", json!([]));
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = ct.map(|c| ("Content-Type", c)).into_iter().collect();
        let a = http(s.addr, "POST", "/v1/function_call", &headers, &body);
        assert_eq!(a.status, 415, "{ct:?}: {}", a.body);
        assert!(
            a.json()["error"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{}",
            a.body
        );
    }
    let a = http(
        s.addr,
        "POST",
        "/v1/chat/completions",
        &[("Content-Type", "text/plain")],
        "{}",
    );
    assert_eq!(a.status, 415, "{}", a.body);
    let a = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[("Content-Type", "application/json; charset=utf-8")],
        &body,
    );
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn history_strings_and_call_objects_reach_the_prompt_as_the_reference_shows_them() {
    let s = start(&[], Duration::ZERO);
    // Eight entries: the reference shows the last six; a call object is rendered as a scenario's
    // history is (the tool's parameter order, strings quoted).
    let history = json!(["h1", "h2", "h3", "h4", "h5", "down",
        {"name": "move", "arguments": {"steps": 2, "direction": "up"}}, "stay"]);
    let a = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &request("go up", history),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let prompt = s.shared.lock().unwrap().clone();
    assert!(
        prompt.contains(
            "<|im_start|>user\nenvironment: [\"hp=3\"]\nhistory: [h3, h4, h5, down, move(direction=\"up\", steps=2), stay]\n\ngo up<|im_end|>"
        ),
        "{prompt}"
    );
    // `null` is the empty list, as the reference's Optional fields.
    let body = json!({"messages": [{"role": "user", "content": "go"}], "tools": tools(),
        "environment": null, "history": null});
    let a = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &body.to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(s
        .shared
        .lock()
        .unwrap()
        .contains("environment: []\nhistory: []\n\ngo<|im_end|>"));
    let a = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &request("go", json!([3])),
    );
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body
            .contains("a history entry is a string or a call object"),
        "{}",
        a.body
    );
}

#[test]
fn the_answer_has_the_reference_fields_and_typing_and_fcbench_extras_beside_them() {
    let s = start(&[], Duration::ZERO);
    let a = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &request("go up", json!(["down"])),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    assert_eq!(v["success"], true);
    assert_eq!(v["function"], "move");
    // Heads trimmed and stop-free; args typed the reference's way: `Up` lower-cased, `-5` a
    // float (float("-5")), a null head absent.
    assert_eq!(
        v["heads"],
        json!({"function": "move", "arg1": "Up", "arg2": "-5", "arg3": ""})
    );
    assert_eq!(v["args"], json!({"direction": "up", "steps": -5.0}));
    assert_eq!(v["content"], Value::Null);
    assert_eq!(v["error"], Value::Null);
    assert!(v["latency_ms"].as_f64().unwrap() > 0.0);
    // fcbench's own reading stays under its extension fields.
    assert_eq!(
        v["parsed"],
        json!({"name": "move", "arguments": {"direction": "Up", "steps": -5}})
    );
    assert_eq!(v["mode"], "free");
    assert_eq!(v["head_records"].as_array().unwrap().len(), 4);

    let with_content = json!({"messages": [{"role": "user", "content": "go"}], "tools": tools(),
        "include_content_head": true});
    let v = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &with_content.to_string(),
    )
    .json();
    assert_eq!(v["content"], "On my way.");
    assert_eq!(v["heads"]["content"], "On my way.");

    // The reference's default cap is 32 tokens per head: a rambling head stops there.
    let v = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &request("RAMBLE", json!([])),
    )
    .json();
    assert_eq!(v["success"], true, "{v}");
    assert_eq!(v["heads"]["function"].as_str().unwrap().len(), 32, "{v}");
    assert_eq!(v["head_records"][0]["stop"], "length", "{v}");
}

#[test]
fn a_request_whose_client_left_stops_at_the_next_decode_step() {
    // 20 ms a step, 2048 tokens a head: about 40 s if it ran to the cap.
    let s = start(&[], Duration::from_millis(20));
    let body = json!({"messages": [{"role": "user", "content": "RAMBLE"}], "tools": tools(),
        "max_tokens": 2048})
    .to_string();
    let mut c = TcpStream::connect(s.addr).unwrap();
    let head = format!(
        "POST /v1/function_call HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    let t = Instant::now();
    while s.steps.load(Ordering::Relaxed) < 5 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "decoding never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(c); // the client gives up, as a game frame that timed out
    let left = s.steps.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(600));
    let settled = s.steps.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        s.steps.load(Ordering::Relaxed),
        settled,
        "decoding went on after the client left"
    );
    assert!(
        settled - left < 25,
        "stopped {} steps after the client left",
        settled - left
    );
    // The engine is free for the next frame at once.
    let t = Instant::now();
    let a = http(
        s.addr,
        "POST",
        "/v1/function_call",
        &[JSON],
        &request("go up", json!([])),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}
