//! A real `fcbench serve` on SmolLM2-135M on a loopback port: the HTTP backend against it with
//! both APIs (agreeing with in-process runs on the same cases), a short load sweep, and bad
//! input that must get the right 4xx while the server stays up.

mod common;
use assert_cmd::cargo::CommandCargoExt;
use common::read_calls;
use fcbench_core::backend::{CallBackend, CallRequest};
use fcbench_core::record::{CallStatus, DecodeMode};
use fcbench_core::scenario::Case;
use fcbench_http::{Api, HttpBackend, HttpConfig};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Small enough to keep each call short on two shared cores.
const HEAD_TOKENS: &str = "8";

struct Server {
    child: Child,
    url: String,
    addr: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = common::serve_smollm2()
            .args(["--max-tokens", HEAD_TOKENS])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let url = common::listening_url(&mut child);
        let addr = url.trim_start_matches("http://").to_string();
        Server { child, url, addr }
    }

    /// SIGTERM, then the exit status and everything the server logged.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = self.child.wait().unwrap();
        let mut log = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut log)
            .unwrap();
        (status, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request; the body is written from another thread so that an early answer
/// (413 before the body is read) is still seen.
fn http(addr: &str, method: &str, path: &str, body: Vec<u8>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(head.as_bytes());
        let _ = w.write_all(&body);
    });
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let _ = writer.join();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn tool_json(props: usize) -> serde_json::Value {
    let p: serde_json::Map<String, serde_json::Value> = (1..=props)
        .map(|k| (format!("p{k}"), serde_json::json!({"type": "integer"})))
        .collect();
    serde_json::json!({"name": "move", "description": "Move.", "parameters": {"type": "dict", "properties": p}})
}

fn call_body(query: &str, props: usize) -> Vec<u8> {
    serde_json::json!({"messages": [{"role": "user", "content": query}], "tools": [tool_json(props)], "max_tokens": 2})
        .to_string()
        .into_bytes()
}

fn cases(n: usize) -> Vec<Case> {
    let s = fcbench_scenarios::load("game").unwrap();
    s.cases.into_iter().take(n).collect()
}

/// The same two cases in-process and over HTTP, both APIs, free and forced: the same head texts
/// and the same parsed calls.
#[test]
fn http_backend_agrees_with_the_in_process_engine() {
    let tmp = tempfile::tempdir().unwrap();
    // The default `prefix` regime on both sides: each (protocol, mode) has its own session on
    // the server, as each arm has in-process, and both see the same cases in the same order.
    let server = Server::start(&[]);
    for mode in ["free", "forced"] {
        let dir = tmp.path().join(mode);
        Command::cargo_bin("fcbench")
            .unwrap()
            .args([
                "run",
                "--model",
                "smollm2",
                "--arm",
                "llama:smollm2:simpletool",
                "--arm",
                "llama:smollm2:json",
            ])
            .args([
                "--mode", mode, "--limit", "2", "--repeat", "1", "--warmup", "0",
            ])
            .args([
                "--threads",
                "1",
                "--max-head-tokens",
                HEAD_TOKENS,
                "-q",
                "--out",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .status()
            .unwrap()
            .success()
            .then_some(())
            .expect("in-process run");
        let local = read_calls(&dir);
        let mode: DecodeMode = mode.parse().unwrap();
        for api in [Api::SimpleTool, Api::OpenAi] {
            let mut b = HttpBackend::connect(HttpConfig::new(&server.url, api)).unwrap();
            for case in cases(2) {
                let req = CallRequest {
                    case: &case,
                    protocol: api.protocol(),
                    mode,
                    max_head_tokens: HEAD_TOKENS.parse().unwrap(),
                    content_head: false,
                };
                let out = b
                    .call(&req)
                    .unwrap_or_else(|e| panic!("{api:?} {mode} {}: {e}", case.id));
                assert!(
                    out.engine_ms.is_some_and(|ms| ms > 0.0),
                    "server latency reported"
                );
                let texts: Vec<(String, String)> = out
                    .heads
                    .iter()
                    .map(|h| (h.name.clone(), h.text.clone()))
                    .collect();
                let parsed = api.protocol().parse(&case, &texts);
                let mine = local
                    .iter()
                    .find(|r| r.case_id == case.id && r.protocol == api.protocol())
                    .expect("in-process record");
                assert_eq!(mine.status, CallStatus::Ok, "{mine:?}");
                let local_texts: Vec<(String, String)> = mine
                    .heads
                    .iter()
                    .map(|h| (h.name.clone(), h.text.clone()))
                    .collect();
                assert_eq!(texts, local_texts, "{api:?} {mode} {}: head texts", case.id);
                assert_eq!(
                    parsed.call, mine.parsed,
                    "{api:?} {mode} {}: parsed call",
                    case.id
                );
            }
        }
    }
    // Streaming answers carry the same call.
    let mut plain = HttpBackend::connect(HttpConfig::new(&server.url, Api::OpenAi)).unwrap();
    let mut cfg = HttpConfig::new(&server.url, Api::OpenAi);
    cfg.stream = true;
    let mut streamed = HttpBackend::connect(cfg).unwrap();
    let case = &cases(1)[0];
    let req = CallRequest {
        case,
        protocol: Api::OpenAi.protocol(),
        mode: DecodeMode::Free,
        max_head_tokens: 8,
        content_head: false,
    };
    let a = plain.call(&req).unwrap();
    let b = streamed.call(&req).unwrap();
    assert_eq!(a.heads[0].text, b.heads[0].text);
    assert!(streamed.last_ttft_ms.is_some());
    assert_eq!(
        b.ttft_ms, streamed.last_ttft_ms,
        "TTFT travels with the call into its record"
    );

    // A short load sweep through the CLI (bounded in calls and time: on a shared machine a
    // level may end on time before its calls are done).
    let out = Command::cargo_bin("fcbench")
        .unwrap()
        .args([
            "load",
            "--url",
            &server.url,
            "--concurrency",
            "1,2",
            "--calls",
            "2",
            "--limit",
            "2",
        ])
        .args([
            "--max-head-tokens",
            "2",
            "--slo-ms",
            "1000000",
            "--max-seconds",
            "120",
        ])
        .args(["--warmup", "0", "--out"])
        .arg(tmp.path().join("load"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 clients"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("load/load.json")).unwrap())
            .unwrap();
    let levels = report["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    for level in levels {
        assert!(level["calls"].as_u64().unwrap() >= 1, "{level}");
        assert_eq!(level["failed"], 0, "{level}");
        assert_eq!(level["goodput_share"], 1.0, "{level}");
    }
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
}

#[test]
fn bad_input_gets_the_right_status_and_the_server_stays_up() {
    let server = Server::start(&["--max-queue", "4"]);
    let a = server.addr.as_str();
    let ok = |(s, b): (u16, String)| {
        assert_eq!(s, 200, "{b}");
        b
    };
    let health = ok(http(a, "GET", "/health", vec![]));
    assert!(
        health.contains(r#""status":"ok""#) && health.contains(r#""model":"smollm2""#),
        "{health}"
    );

    let (s, b) = http(a, "POST", "/v1/function_call", b"{\"messages\": [".to_vec());
    assert_eq!((s, b.contains("malformed JSON")), (400, true), "{b}");
    let (s, b) = http(a, "POST", "/v1/function_call", br#"{"tools": []}"#.to_vec());
    assert_eq!(
        (s, b.contains("missing field `messages`")),
        (422, true),
        "{b}"
    );
    let (s, b) = http(a, "POST", "/v1/function_call", call_body("go", 7));
    assert_eq!((s, b.contains("has 7 properties")), (422, true), "{b}");
    let (s, b) = http(a, "POST", "/v1/chat/completions", call_body("go", 7));
    assert_eq!((s, b.contains("has 7 properties")), (422, true), "{b}");
    let long = "move the unit to the left ".repeat(2000);
    let (s, b) = http(a, "POST", "/v1/function_call", call_body(&long, 2));
    assert_eq!(
        (s, b.contains("does not fit the context")),
        (400, true),
        "{b}"
    );
    let (s, b) = http(a, "POST", "/v1/chat/completions", call_body(&long, 2));
    assert_eq!(
        (s, b.contains("does not fit the context")),
        (400, true),
        "{b}"
    );
    let (s, b) = http(a, "POST", "/v1/function_call", vec![b'a'; 10 << 20]);
    assert_eq!((s, b.contains("larger than")), (413, true), "{b}");
    let (s, _) = http(a, "GET", "/v1/nothing", vec![]);
    assert_eq!(s, 404);

    // Many clients at once: each is answered (200, or 503 when the queue of 4 is full), none
    // is dropped.
    let statuses: Vec<u16> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..24)
            .map(|i| {
                sc.spawn(move || {
                    http(
                        a,
                        "POST",
                        "/v1/function_call",
                        call_body(&format!("move {i}"), 2),
                    )
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                let (s, b) = h.join().unwrap();
                assert!(s == 200 || s == 503, "{s} {b}");
                if s == 200 {
                    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
                    assert!(v["queue_ms"].as_f64().unwrap() >= 0.0, "{b}");
                } else {
                    assert!(b.contains("queue is full"), "{b}");
                }
                s
            })
            .collect()
    });
    assert!(statuses.contains(&200), "{statuses:?}");
    assert_eq!(statuses.len(), 24);

    // Still up, still correct.
    ok(http(a, "GET", "/health", vec![]));
    let b = ok(http(
        a,
        "POST",
        "/v1/function_call",
        call_body("move to 3", 2),
    ));
    assert!(b.contains(r#""heads""#), "{b}");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("queue="), "queue time is logged: {log}");
    assert!(log.contains("stopped"), "{log}");
}
