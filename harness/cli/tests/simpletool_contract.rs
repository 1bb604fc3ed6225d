//! fcbench against SimpleTool's server contract from both sides, judged by the contract's own
//! pydantic models (ci/simpletool/contract_server.py: FastAPI + pydantic + uvicorn from PyPI,
//! the reference's models with a scripted engine behind them):
//! `fcbench run --backend http --api simpletool` completes a scenario with history against that
//! server, and the requests it sent, replayed to `fcbench serve` on the real small model, get
//! answers that validate as the reference's `FCResponse`.

mod common;
use assert_cmd::cargo::CommandCargoExt;
use common::read_calls;
use fcbench_core::agreement::{cached_or_skip, skip_or_fail};
use fcbench_core::protocol::{PlanOptions, Protocol};
use fcbench_core::record::CallStatus;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A scenario whose cases include history.
const SCENARIO: &str = "robot-arm";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The interpreter with the contract server's packages (`FCBENCH_PYTHON`, else `python3`).
fn python() -> Option<String> {
    let py = std::env::var("FCBENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import fastapi, pydantic, uvicorn"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip_or_fail(&format!(
            "`{py}` cannot import fastapi, pydantic and uvicorn (install ci/simpletool/requirements.txt into a venv and set FCBENCH_PYTHON to its python, as .ci/run does)"
        ));
        return None;
    }
    Some(py)
}

/// A child that prints `listening on URL` first; killed when dropped.
struct Listening {
    child: Child,
    url: String,
}

impl Listening {
    fn start(mut cmd: Command) -> Listening {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let url = common::listening_url(&mut child);
        Listening { child, url }
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POST a JSON body; the status and the body of the answer.
fn post(url: &str, path: &str, body: &str) -> (u16, String) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[test]
fn fcbench_speaks_the_reference_contract_as_client_and_as_server() {
    let Some(py) = python() else { return };
    let Some(_) = cached_or_skip("smollm2") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let script = repo().join("ci/simpletool/contract_server.py");
    let record = tmp.path().join("requests.jsonl");

    // 1. fcbench as the client of a server built from the reference's models.
    let mut cmd = Command::new(&py);
    cmd.arg(&script).arg("serve").arg("--record").arg(&record);
    let reference = Listening::start(cmd);
    let out = Command::cargo_bin("fcbench")
        .unwrap()
        .args(["run", "--backend", "http", "--api", "simpletool", "--url"])
        .arg(&reference.url)
        .args([
            "--protocol",
            "simpletool",
            "--mode",
            "free",
            "--scenario",
            SCENARIO,
        ])
        .args([
            "--repeat",
            "1",
            "--warmup",
            "0",
            "--max-head-tokens",
            "4",
            "-q",
            "--out",
        ])
        .arg(tmp.path().join("run"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(reference);
    let scenario = fcbench_scenarios::load(SCENARIO).unwrap();
    let calls = read_calls(&tmp.path().join("run"));
    assert_eq!(calls.len(), scenario.cases.len());
    for c in &calls {
        assert_eq!(c.status, CallStatus::Ok, "{} was refused: {c:?}", c.case_id);
    }
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("run/manifest.json")).unwrap(),
    )
    .unwrap();
    let version = manifest["arms"][0]["backend_info"]["version"]
        .as_str()
        .unwrap();
    assert!(
        version.contains("rt_server.py"),
        "the record names the contract: {version}"
    );

    // What the reference server made of each request: the same user turn and the same heads as
    // fcbench's own prompt for the case, history included.
    let recorded: Vec<Value> = std::fs::read_to_string(&record)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recorded.len(), scenario.cases.len());
    let with_history: Vec<_> = scenario
        .cases
        .iter()
        .filter(|c| !c.history.is_empty())
        .collect();
    assert!(
        !with_history.is_empty(),
        "{SCENARIO} has cases with history"
    );
    for case in &scenario.cases {
        let r = recorded
            .iter()
            .find(|r| r["request"]["messages"][0]["content"] == case.query.as_str())
            .unwrap_or_else(|| panic!("no request for case {}", case.id));
        let plan = Protocol::SimpleTool
            .plan(case, &PlanOptions::default())
            .unwrap();
        let turn = format!(
            "<|im_start|>user\n{}<|im_end|>",
            r["user_turn"].as_str().unwrap()
        );
        assert!(
            plan.heads[0].prompt.contains(&turn),
            "case {}: the reference rendered {turn:?}, fcbench's prompt is {:?}",
            case.id,
            plan.heads[0].prompt
        );
        assert_eq!(r["heads"], plan.heads.len(), "case {}: head count", case.id);
    }

    // 2. The same requests to fcbench serve (real model): answers the reference's response
    // model accepts, every field present.
    let serve = Listening::start(common::serve_smollm2());
    let answers = tmp.path().join("answers.jsonl");
    let mut f = std::fs::File::create(&answers).unwrap();
    for r in &recorded {
        let (status, body) = post(&serve.url, "/v1/function_call", &r["request"].to_string());
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        let heads: Vec<&String> = v["heads"].as_object().unwrap().keys().collect();
        assert_eq!(heads.len() as u64, r["heads"].as_u64().unwrap(), "{body}");
        writeln!(f, "{body}").unwrap();
    }
    drop(f);
    let out = Command::new(&py)
        .arg(&script)
        .arg("validate")
        .arg(&answers)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = recorded.len();
    assert!(
        said.contains(&format!("{n} answers, {n} valid FCResponse")),
        "{said}"
    );
    println!("{}", said.trim());
}
