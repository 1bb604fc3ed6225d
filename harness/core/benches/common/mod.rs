//! Shared by the benches: a game-like case (three tools, environment, history, gold) and the
//! short criterion settings that keep `cargo bench` quick on a 2-core machine.

use fcbench_core::scenario::{Case, Tool};
use serde_json::json;

#[allow(dead_code)]
pub fn game_case() -> Case {
    let tool = |v| Tool::from_json(&v).expect("valid tool");
    let tools = vec![
        tool(
            json!({"name": "move_to", "description": "Move the player to a map position.",
            "parameters": {"type": "dict", "properties": {
                "x": {"type": "integer", "description": "column"},
                "y": {"type": "integer", "description": "row"},
                "speed": {"type": "string", "enum": ["walk", "run"]}}, "required": ["x", "y"]}}),
        ),
        tool(
            json!({"name": "attack", "description": "Attack a target with a weapon.",
            "parameters": {"type": "dict", "properties": {
                "target": {"type": "string"}, "weapon": {"type": "string"},
                "power": {"type": "number"}}, "required": ["target"]}}),
        ),
        tool(
            json!({"name": "say", "description": "Say something to a character.",
            "parameters": {"type": "dict", "properties": {
                "to": {"type": "string"}, "text": {"type": "string"}}, "required": ["text"]}}),
        ),
    ];
    serde_json::from_value(json!({
        "id": "bench-0", "dataset": "bench",
        "query": "Run over to the goblin at 12, 7 and hit it with the axe as hard as you can",
        "environment": ["player at (3, 4)", "goblin at (12, 7)", "inventory: axe, bow"],
        "history": [{"name": "say", "arguments": {"to": "goblin", "text": "Stop right there!"}}],
        "tools": tools,
        "gold": [{"name": "attack", "params": {"target": ["goblin"], "weapon": ["axe"], "power": [1.0]}}]
    }))
    .expect("valid case")
}

/// Criterion settings for these micro-benchmarks: few samples, short windows.
#[allow(dead_code)] // each bench includes this module; not every bench uses every item
pub fn quick() -> criterion::Criterion {
    criterion::Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
}
