//! The replay agreement test: on every recorded file of the SimpleTool reproduction, fcbench's
//! per-row parsed calls and strict and legacy verdicts must equal the recorded ones. Fixtures
//! come from `FCBENCH_REPRO_DIR` (default `<workspace>/../shared/data/simpletool-repro`); when
//! they are absent the test says so and passes.

use fcbench_core::backend::{CallBackend, CallRequest};
use fcbench_core::protocol::{simpletool_decode_calls, Protocol};
use fcbench_core::record::DecodeMode;
use fcbench_core::scenario::{Case, GoldCall, Tool};
use fcbench_core::score::verdict;
use fcbench_replay::ReplayBackend;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::Path;

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// Mobile Actions: the 308 rows with questions, plus the rows whose question is not in the
/// excerpt. Those can still be scored: every row offers the same 7 tools (only their list order
/// is shuffled, and decoding finds a tool by name), the capacity filter depends on the tools
/// alone, and no row carries a structured `history` field. Only the query text is unknown.
fn mobile_cases(dir: &Path) -> Vec<Case> {
    let q = std::fs::read_to_string(dir.join("data/mobile_actions.head.jsonl")).unwrap();
    let a_path = dir.join("data/possible_answer/mobile_actions.jsonl");
    let a = std::fs::read_to_string(&a_path).unwrap();
    let mut cases = fcbench_scenarios::parse_repro(
        &q,
        "mobile_actions.head.jsonl",
        Some((&a, "possible_answer/mobile_actions.jsonl")),
        "mobile_actions",
    )
    .unwrap();
    let mut tools: Vec<Tool> = cases[0].tools.clone();
    tools.sort_by(|x, y| x.name.cmp(&y.name));
    for c in &cases {
        let mut t = c.tools.clone();
        t.sort_by(|x, y| x.name.cmp(&y.name));
        assert_eq!(t, tools, "{}: a different tool set", c.id);
    }
    let known: std::collections::HashSet<String> = cases.iter().map(|c| c.id.clone()).collect();
    for g in jsonl(&a_path) {
        let id = g["id"].as_str().unwrap().to_string();
        if known.contains(&id) {
            continue;
        }
        let gold: Vec<GoldCall> = g["ground_truth"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| GoldCall::from_json(c).unwrap())
            .collect();
        cases.push(Case {
            id,
            dataset: "mobile_actions".into(),
            query: String::new(),
            environment: vec![],
            history: vec![],
            tools: tools.clone(),
            gold: Some(gold),
            gold_error: None,
            has_history: false,
        });
    }
    cases
}

fn bfcl_cases(dir: &Path, name: &str) -> Vec<Case> {
    fcbench_scenarios::load_file(&dir.join(format!("data/{name}.json")))
        .unwrap()
        .cases
}

struct Tally {
    rows: usize,
    disagreements: Vec<String>,
}

fn check(dir: &Path, dataset: &str, cases: Vec<Case>) -> Tally {
    let results = dir.join(format!("results/RT-Qwen3-4B-eager/{dataset}.jsonl"));
    let mut backend = ReplayBackend::open(&results).unwrap();
    let strict: HashMap<String, Value> = jsonl(&dir.join(format!(
        "reports/RT-Qwen3-4B-eager/strict/{dataset}.details.jsonl"
    )))
    .into_iter()
    .map(|d| (d["id"].as_str().unwrap().to_string(), d))
    .collect();
    let legacy: HashMap<String, Value> =
        jsonl(&dir.join(format!("reports/RT-Qwen3-4B-eager/{dataset}.details.jsonl")))
            .into_iter()
            .map(|d| (d["id"].as_str().unwrap().to_string(), d))
            .collect();
    let mut t = Tally {
        rows: 0,
        disagreements: Vec::new(),
    };
    let mut bad = |id: &str, what: String| t.disagreements.push(format!("{dataset} {id}: {what}"));
    assert_eq!(
        backend.len(),
        strict.len(),
        "{dataset}: recorded rows vs verdicts"
    );
    let mut rows = 0;
    for case in &cases {
        let (Some(s), Some(l)) = (strict.get(&case.id), legacy.get(&case.id)) else {
            bad(&case.id, "no recorded verdict".into());
            continue;
        };
        rows += 1;
        // Exclusions: missing gold first, then the capacity filter (the reproduction's order).
        let ours = if case.gold.is_none() {
            Some("missing_ground_truth")
        } else if case.exceeds_arg_heads() {
            Some("tool_exceeds_six_parameters")
        } else {
            None
        };
        for (scorer, d) in [("strict", s), ("legacy", l)] {
            let theirs = d.get("excluded").and_then(Value::as_str);
            if theirs != ours {
                bad(
                    &case.id,
                    format!("{scorer} exclusion: recorded {theirs:?}, fcbench {ours:?}"),
                );
            }
        }
        if ours.is_some() {
            continue;
        }
        let req = CallRequest {
            case,
            protocol: Protocol::SimpleTool,
            mode: DecodeMode::Free,
            max_head_tokens: 128,
            content_head: false,
        };
        let out = backend.call(&req).unwrap();
        let texts: Vec<(String, String)> =
            out.heads.into_iter().map(|h| (h.name, h.text)).collect();
        let calls = simpletool_decode_calls(case, &texts);
        let v = verdict(case, &calls).expect("gold present");
        let calls_json = serde_json::to_value(&calls).unwrap();
        for (scorer, d, key) in [("strict", s, "prediction"), ("legacy", l, "result")] {
            if d[key] != calls_json {
                bad(
                    &case.id,
                    format!(
                        "{scorer} parsed calls: recorded {}, fcbench {calls_json}",
                        d[key]
                    ),
                );
            }
        }
        let pairs = [
            ("strict", s["strict_correct"].clone(), v.strict),
            ("legacy overall", l["overall_correct"].clone(), v.legacy),
            (
                "legacy function",
                l["func_correct"].clone(),
                v.legacy_function,
            ),
        ];
        for (what, recorded, ours) in pairs {
            if recorded != json!(ours) {
                bad(
                    &case.id,
                    format!("{what}: recorded {recorded}, fcbench {ours}; heads {texts:?}"),
                );
            }
        }
    }
    t.rows = rows;
    t
}

#[test]
fn replayed_verdicts_equal_the_recorded_ones_on_every_row() {
    let Some(dir) = fcbench_core::agreement::repro_fixtures_dir() else {
        return;
    };
    let sets = [
        (
            "BFCL_v3_exec_simple_dataset",
            bfcl_cases(&dir, "BFCL_v3_exec_simple_dataset"),
            100,
        ),
        (
            "BFCL_v3_exec_multiple_dataset",
            bfcl_cases(&dir, "BFCL_v3_exec_multiple_dataset"),
            50,
        ),
        ("mobile_actions", mobile_cases(&dir), 1283),
    ];
    let mut all = Vec::new();
    for (name, cases, expected) in sets {
        let t = check(&dir, name, cases);
        eprintln!(
            "{name}: {} rows compared, {} disagreements",
            t.rows,
            t.disagreements.len()
        );
        assert_eq!(t.rows, expected, "{name}: rows covered");
        all.extend(t.disagreements);
    }
    for d in &all {
        eprintln!("DISAGREE {d}");
    }
    assert!(all.is_empty(), "{} disagreements (listed above)", all.len());
}
