//! What a call leaves in llama.cpp's KV cache: after a wide call (six heads) and a narrow one
//! (two heads) on one session, only sequence 0 holds cells, so every call is timed on the
//! cache a fresh engine would have. Real model (SmolLM2, fetched on first use like the CLI
//! tests).

use fcbench_core::backend::{EngineOptions, SessionOptions, TokenBackend};
use fcbench_core::decode::{prepare, DecodeOptions, Decoder};
use fcbench_core::markers::MarkerMap;
use fcbench_core::protocol::{PlanOptions, Protocol};
use fcbench_core::record::{CacheRegime, DecodeMode};
use fcbench_core::scenario::{Case, Tool};
use fcbench_llama::LlamaModel;

fn case(params: &[&str]) -> Case {
    let props: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|p| (p.to_string(), serde_json::json!({"type": "integer"})))
        .collect();
    let tool = Tool::from_json(&serde_json::json!({
        "name": "move", "description": "Move the arm.",
        "parameters": {"type": "dict", "properties": props}
    }))
    .unwrap();
    let gold: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|p| (p.to_string(), serde_json::json!([1])))
        .collect();
    serde_json::from_value(serde_json::json!({
        "id": format!("c{}", params.len()), "dataset": "t", "query": "move it", "tools": [tool],
        "gold": [{"name": "move", "params": gold}]
    }))
    .unwrap()
}

#[test]
fn after_wide_and_narrow_calls_only_sequence_0_holds_cells() {
    let m = fcbench_core::models::resolve("smollm2", &mut |_| {}).expect("smollm2");
    let model = LlamaModel::load(&m.path, &m.sha256, &EngineOptions::default()).unwrap();
    let mut s = model
        .session(&SessionOptions {
            threads: 2,
            context_size: 4096,
            max_sequences: 9,
        })
        .unwrap();
    let p = Protocol::SimpleTool;
    let markers = MarkerMap::build(s.vocab(), &p.markers(), true);
    let wide = case(&["a", "b", "c", "d", "e", "f"]);
    let narrow = case(&["a"]);
    let calls: Vec<_> = [&wide, &narrow, &wide, &narrow]
        .iter()
        .map(|c| {
            let plan = p.plan(c, &PlanOptions::default()).unwrap();
            prepare(s.vocab(), &markers, &plan, DecodeMode::Forced).unwrap()
        })
        .collect();
    assert_eq!(calls[0].heads.len(), 7);
    assert_eq!(calls[1].heads.len(), 2);
    let opts = DecodeOptions {
        mode: DecodeMode::Forced,
        regime: CacheRegime::Prefix,
        max_head_tokens: 16,
        parallel: true,
    };
    let mut d = Decoder::new(&mut s, markers);
    for call in &calls {
        d.run(call, &opts).unwrap();
    }
    drop(d);
    let last = &calls[3];
    assert_eq!(s.cells(Some(0)), last.shared.len());
    assert_eq!(
        s.cells(None),
        last.shared.len(),
        "head sequences 1..=8 must hold nothing between calls"
    );
    assert_eq!(s.info().max_sequences, 9);
}
