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
