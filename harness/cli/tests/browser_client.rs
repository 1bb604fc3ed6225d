//! A SimpleTool browser client against `fcbench serve`: headless Chromium opens a page from
//! `file://` (origin `null`, so every call is cross-origin and preflighted) that calls the
//! server with `fetch()` as SimpleTool's client template does (JSON POST, history as strings,
//! a 100 ms decision loop that skips a tick while a call is pending) for 20 s on the real small
//! model, then posts what it saw to a listener of this test.

mod common;
use fcbench_core::agreement::{cached_or_skip, skip_or_fail};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SESSION_MS: u64 = 20_000;

const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>fcbench: a SimpleTool client</title></head>
<body><pre id="status">running</pre><script>
const SERVER = "__SERVER__", REPORT = "__REPORT__", SESSION_MS = __SESSION_MS__;
const TOOLS = [{type: "function", function: {name: "move", description: "Move the paddle.",
  parameters: {type: "object", properties: {direction: {type: "string", enum: ["up", "down", "stay"],
  description: "Where the paddle goes"}}, required: ["direction"]}}}];
const FIELDS = ["success", "function", "args", "heads", "latency_ms"];
const history = [];
const seen = {answered: 0, no_call: 0, fetch_errors: [], bad_answers: [], ms: [], server_ms: []};
let pending = false, ballY = 200, paddleY = 220;
setInterval(() => { ballY = 200 + Math.round(150 * Math.sin(performance.now() / 700)); }, 50);

async function callAI() {
  const diff = ballY - paddleY;
  const query = diff > 0
    ? `Ball is ${diff}px BELOW paddle. Move DOWN to intercept. Choose: up/down/stay`
    : `Ball is ${-diff}px ABOVE paddle. Move UP to intercept. Choose: up/down/stay`;
  const env = [`ball_y=${ballY}`, `paddle_y=${paddleY}`, `diff=${diff}`];
  const t0 = performance.now();
  try {
    const r = await fetch(`${SERVER}/v1/function_call`, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({messages: [{role: "user", content: query}], tools: TOOLS,
        environment: env, history: history.slice(-6), include_content_head: false}),
    });
    const d = await r.json();
    const missing = FIELDS.filter(k => !(k in d));
    if (!r.ok || missing.length) { seen.bad_answers.push({status: r.status, missing, body: d}); return; }
    seen.answered++;
    seen.ms.push(performance.now() - t0);
    seen.server_ms.push(d.latency_ms);
    if (!d.success) { seen.no_call++; return; }
    const v = d.args?.direction ?? d.heads?.arg1;
    const direction = (v === null || v === undefined) ? "" : String(v).trim().toLowerCase();
    history.push(`move(direction="${direction}")`);
    paddleY += direction === "up" ? -10 : direction === "down" ? 10 : 0;
  } catch (e) {
    seen.fetch_errors.push(String(e));
  }
}

// The client template's health check first (`loaded === true || status === 'ok'`), then the
// decision loop.
let loop = null;
fetch(`${SERVER}/health`, {signal: AbortSignal.timeout(3000)})
  .then(r => r.json())
  .then(d => { seen.health = d.loaded === true || d.status === "ok"; })
  .catch(e => { seen.fetch_errors.push(`health: ${e}`); })
  .finally(() => {
    loop = setInterval(async () => {
      if (pending) return;
      pending = true;
      await callAI();
      pending = false;
    }, 100);
  });

setTimeout(async () => {
  clearInterval(loop);
  while (pending) await new Promise(r => setTimeout(r, 20));
  const mean = a => a.length ? a.reduce((x, y) => x + y, 0) / a.length : null;
  const report = {health: seen.health === true, answered: seen.answered, no_call: seen.no_call, fetch_errors: seen.fetch_errors,
    bad_answers: seen.bad_answers, mean_ms: mean(seen.ms), server_mean_ms: mean(seen.server_ms),
    last_history: history.slice(-6)};
  document.getElementById("status").textContent =
    `answered ${report.answered}, mean ${report.mean_ms?.toFixed(1)} ms, errors ${report.fetch_errors.length}`;
  // A simple request (text/plain, no-cors): the report needs no CORS of its own.
  await fetch(REPORT, {method: "POST", mode: "no-cors", body: JSON.stringify(report)});
}, SESSION_MS);
</script></body></html>
"#;

/// Kills the whole process group (Chromium starts helpers) when dropped.
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pgid = self.0.id().to_string();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status();
        let _ = self.0.wait();
    }
}

/// The first POST body to arrive at `l`, within `limit`.
fn first_report(l: TcpListener, limit: Duration) -> Option<String> {
    l.set_nonblocking(true).unwrap();
    let start = Instant::now();
    while start.elapsed() < limit {
        let Ok((mut c, _)) = l.accept() else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        c.set_nonblocking(false).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let body = loop {
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
                    break text[end + 4..].to_string();
                }
            }
            if n == 0 {
                break String::new();
            }
        };
        let _ = c.write_all(
            b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n",
        );
        if text_is_post(&buf) {
            return Some(body);
        }
    }
    None
}

fn text_is_post(raw: &[u8]) -> bool {
    raw.starts_with(b"POST ")
}

#[test]
fn a_simpletool_page_in_headless_chromium_plays_against_fcbench_serve() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    if !Command::new(&chromium)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        skip_or_fail(&format!(
            "no `{chromium}` to run (apt-get install chromium, or set CHROMIUM)"
        ));
        return;
    }
    let Some(_) = cached_or_skip("smollm2") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut serve = common::serve_smollm2()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    // Read the log as it comes, so that the server never blocks on a full pipe.
    let mut err = serve.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = err.read_to_string(&mut log);
        log
    });
    let url = common::listening_url(&mut serve);
    let serve = Group(serve);

    let report = TcpListener::bind("127.0.0.1:0").unwrap();
    let page = PAGE
        .replace("__SERVER__", &url)
        .replace(
            "__REPORT__",
            &format!("http://{}/report", report.local_addr().unwrap()),
        )
        .replace("__SESSION_MS__", &SESSION_MS.to_string());
    let page_path = tmp.path().join("client.html");
    std::fs::write(&page_path, page).unwrap();
    let chrome = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .arg(format!("file://{}", page_path.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let chrome = Group(chrome);
    let body = first_report(report, Duration::from_millis(SESSION_MS + 60_000));
    drop(chrome);
    let _ = Command::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status();
    let log = log_reader.join().unwrap();
    drop(serve);
    let body = body.unwrap_or_else(|| panic!("the page never reported; server log:\n{log}"));
    let r: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    println!(
        "page session ({} s): {} calls answered ({} without a call), mean latency {:.1} ms as the page saw it ({:.1} ms server decode), {} fetch errors, {} answers lacking fields; last history {}",
        SESSION_MS / 1000,
        r["answered"],
        r["no_call"],
        r["mean_ms"].as_f64().unwrap_or(f64::NAN),
        r["server_mean_ms"].as_f64().unwrap_or(f64::NAN),
        r["fetch_errors"].as_array().map_or(0, Vec::len),
        r["bad_answers"].as_array().map_or(0, Vec::len),
        r["last_history"]
    );
    assert_eq!(r["fetch_errors"], serde_json::json!([]), "{r}\n{log}");
    assert_eq!(r["bad_answers"], serde_json::json!([]), "{r}\n{log}");
    assert_eq!(r["health"], true, "the page's health check: {r}");
    assert!(r["answered"].as_u64().unwrap() > 0, "{r}\n{log}");
    assert!(
        log.contains("POST /v1/function_call 200"),
        "the server logged the page's calls:\n{log}"
    );
}
