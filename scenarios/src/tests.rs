use super::*;

#[test]
fn builtins_load() {
    for name in builtin_names() {
        let s = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!s.cases.is_empty(), "{name}");
        assert!(!s.files.is_empty());
    }
    assert_eq!(load("bfcl-exec-simple").unwrap().cases.len(), 100);
}

#[test]
fn known_bad_gold_line_is_reported_not_fatal() {
    let s = load("bfcl-exec-multiple").unwrap();
    assert_eq!(s.cases.len(), 50);
    let bad: Vec<_> = s.gold_problems().collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, "exec_multiple_0");
    assert!(bad[0].1.contains(":1:"), "names the line: {}", bad[0].1);
}

#[test]
fn bad_question_line_names_file_line_and_field() {
    let text =
        "{\"id\":\"a\",\"query\":\"q\",\"tools\":[],\"gold\":null}\n{\"id\":\"b\",\"query\":3}\n";
    let e = parse_native(text, "x.jsonl").unwrap_err().to_string();
    assert_eq!(e, "x.jsonl:2: field `query`: expected a string");
    let e = parse_native("{\"id\":\"a\"", "x.jsonl")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("x.jsonl:1: field `(line)`: invalid JSON"),
        "{e}"
    );
    let e = parse_native(
        "{\"id\":\"a\",\"query\":\"q\",\"tools\":[{\"name\":\"f\"}],\"gold\":[{\"g\":{}}]}",
        "x.jsonl",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("field `gold`") && e.contains("`g`"), "{e}");
}

#[test]
fn header_tools_are_inherited_and_history_detected() {
    let s = load("game").unwrap();
    assert!(s.cases.iter().all(|c| c.tools.len() == 6));
    assert!(s.cases.iter().any(|c| c.has_history));
    assert!(query_has_history(
        "environment: []\nhistory: [turn_on_flashlight()]\n\nq"
    ));
    assert!(!query_has_history("environment: []\nhistory: []\n\nq"));
}

#[test]
fn mobile_actions_has_the_excerpt_with_gold_and_a_published_reference() {
    let s = load("mobile-actions").unwrap();
    assert_eq!(s.cases.len(), 308);
    assert!(s
        .cases
        .iter()
        .all(|c| c.gold.is_some() && c.tools.len() == 7));
    assert_eq!(s.cases[0].dataset, "mobile_actions");
    // The rows carry prior calls only inside the text; the reproduction's scorer (and so
    // fcbench's) targets their first gold call.
    assert!(s.cases.iter().all(|c| !c.has_history));
    assert!(s.meta.published_reference.is_some());
}

#[test]
fn demo_scenarios_have_gold_for_every_case_and_fit_six_heads() {
    for name in ["game", "robot-arm", "avatar"] {
        let s = load(name).unwrap();
        assert!(s.cases.len() >= 8, "{name}");
        for c in &s.cases {
            assert!(c.gold.is_some(), "{name} {}", c.id);
            assert!(!c.exceeds_arg_heads(), "{name} {}", c.id);
        }
    }
}

#[test]
fn structured_history_field_sets_the_history_target_rule() {
    let tools = r#"[{"name":"f","parameters":{"properties":{}}}]"#;
    let q = format!(
        "{{\"id\":\"a\",\"question\":[[{{\"role\":\"user\",\"content\":\"history: [f()]\\n\\nq\",\"history\":[\"f()\"]}}]],\"function\":{tools}}}\n{{\"id\":\"b\",\"question\":[[{{\"role\":\"user\",\"content\":\"history: [f()]\\n\\nq\"}}]],\"function\":{tools}}}"
    );
    let cases = parse_repro(&q, "q.json", None, "d").unwrap();
    assert!(cases[0].has_history);
    assert!(!cases[1].has_history);
}

#[test]
fn a_byte_order_mark_is_accepted_and_the_digest_is_the_files_own() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bom.jsonl");
    let text = "\u{feff}{\"id\":\"a\",\"query\":\"q\",\"tools\":[]}\n";
    std::fs::write(&f, text).unwrap();
    let s = load(f.to_str().unwrap()).unwrap();
    assert_eq!(s.cases[0].id, "a");
    assert_eq!(s.files[0].sha256, digest("x", text).sha256);
}

#[test]
fn a_binary_file_a_directory_and_a_missing_path_say_exactly_that() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("model.jsonl");
    std::fs::write(&bin, b"{\"id\":\"a\"}\n\x00\xff\xfe GGUF").unwrap();
    let e = load(bin.to_str().unwrap()).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "{}: not a text file: line 2 (byte 12) is not UTF-8; a scenario is UTF-8 JSON Lines",
            bin.display()
        )
    );
    let e = load(tmp.path().to_str().unwrap()).unwrap_err().to_string();
    assert!(e.contains("is a directory, not a scenario file"), "{e}");
    let missing = tmp.path().join("nope.jsonl");
    let e = load(missing.to_str().unwrap()).unwrap_err().to_string();
    assert_eq!(e, format!("{}: no such scenario file", missing.display()));
    // A bare word is still an unknown built-in, with the list.
    assert!(load("gmae")
        .unwrap_err()
        .to_string()
        .contains("use one of game"));
}
