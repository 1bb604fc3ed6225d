//! Prompt renderings pinned against golden files: SimpleTool byte for byte against the
//! reproduction's own renderer, every protocol against reviewed insta snapshots.

use fcbench_core::protocol::{PlanOptions, Protocol};
use fcbench_scenarios::{load, parse_repro};

fn golden(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/golden/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn simpletool_prompt_matches_the_reproduction_byte_for_byte() {
    let simple = load("bfcl-exec-simple").unwrap();
    let multiple = load("bfcl-exec-multiple").unwrap();
    let mobile = parse_repro(
        &golden("mobile_actions_5_1.question.jsonl"),
        "mobile_actions_5_1.question.jsonl",
        None,
        "mobile_actions",
    )
    .unwrap();
    for (case, file) in [
        (&simple.cases[0], "simpletool_exec_simple_0.txt"),
        (&multiple.cases[3], "simpletool_exec_multiple_3.txt"),
        (&mobile[0], "simpletool_mobile_actions_5_1.txt"),
    ] {
        let plan = Protocol::SimpleTool
            .plan(case, &PlanOptions::default())
            .unwrap();
        let want = golden(file);
        for h in &plan.heads {
            assert_eq!(
                h.prompt,
                format!("{want}<{}>", h.name),
                "{file}, head {}",
                h.name
            );
        }
        assert!(
            want.starts_with(&plan.prefix),
            "{file}: prefix is a prefix of the prompt"
        );
    }
}

#[test]
fn head_plan_follows_the_widest_candidate_tool() {
    // exec_multiple_3 offers tools of several arities: heads = function + widest arity.
    let s = load("bfcl-exec-multiple").unwrap();
    for case in &s.cases {
        let plan = Protocol::SimpleTool.plan(case, &PlanOptions::default());
        match plan {
            Ok(p) => {
                let names: Vec<&str> = p.heads.iter().map(|h| h.name.as_str()).collect();
                let mut want = vec!["function".to_string()];
                want.extend((1..=case.max_arity()).map(|k| format!("arg{k}")));
                assert_eq!(names, want, "{}", case.id);
            }
            Err(e) => assert!(case.exceeds_arg_heads(), "{}: {e}", case.id),
        }
    }
    let with_content = Protocol::SimpleTool
        .plan(
            &s.cases[1],
            &PlanOptions {
                content_head: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(with_content.heads[0].name, "content");
    assert!(
        with_content.heads[0].reference.is_none(),
        "no gold exists for free text"
    );
}

#[test]
fn reference_outputs_render_the_gold_call_per_protocol() {
    let s = load("game").unwrap();
    let case = &s.cases[1]; // cast_spell meteor at (9,6) radius 2
    let st = Protocol::SimpleTool
        .plan(case, &PlanOptions::default())
        .unwrap();
    let refs: Vec<_> = st
        .heads
        .iter()
        .map(|h| h.reference.clone().unwrap())
        .collect();
    assert_eq!(
        refs,
        [
            "cast_spell</function>",
            "meteor</arg1>",
            "9</arg2>",
            "6</arg3>",
            "2</arg4>"
        ]
    );
    let fg = Protocol::FunctionGemma
        .plan(case, &PlanOptions::default())
        .unwrap();
    assert_eq!(
        fg.heads[0].reference.as_deref().unwrap(),
        "<start_function_call>call:cast_spell{spell:<escape>meteor<escape>,x:9,y:6,radius:2}<end_function_call>"
    );
    let js = Protocol::Json.plan(case, &PlanOptions::default()).unwrap();
    assert_eq!(
        js.heads[0].reference.as_deref().unwrap(),
        "<tool_call>\n{\"name\": \"cast_spell\", \"arguments\": {\"spell\": \"meteor\", \"x\": 9, \"y\": 6, \"radius\": 2}}\n</tool_call>"
    );
    // An argument the gold lets be omitted, beyond the tool's arity: null.
    let freeze = Protocol::SimpleTool
        .plan(&s.cases[6], &PlanOptions::default())
        .unwrap();
    assert_eq!(
        freeze.heads[4].reference.as_deref(),
        Some("1</arg4>"),
        "first non-empty acceptable value"
    );
    let zero = Protocol::SimpleTool
        .plan(&s.cases[4], &PlanOptions::default())
        .unwrap();
    assert_eq!(zero.heads[1].reference.as_deref(), Some("<|null|>"));
}

#[test]
fn every_protocol_renders_the_game_case_with_history() {
    let s = load("game").unwrap();
    let case = s.cases.iter().find(|c| !c.history.is_empty()).unwrap();
    for p in Protocol::ALL {
        let plan = p.plan(case, &PlanOptions::default()).unwrap();
        let mut text = format!("prefix length: {}\n", plan.prefix.len());
        for h in &plan.heads {
            text.push_str(&format!(
                "=== head {} (stops: {})\n{}\n=== reference\n{}\n",
                h.name,
                h.stops.join(" "),
                h.prompt,
                h.reference.as_deref().unwrap_or("-")
            ));
        }
        insta::assert_snapshot!(format!("game_history_{}", p.name()), text);
    }
}
