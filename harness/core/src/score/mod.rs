//! Scoring predicted calls against gold calls, as the SimpleTool reproduction does
//! (simpletool_eval/strict.py and rules.py in github.com/HaxxorCialtion/SimpleTool):
//!
//! - [`Strict`]: exactly one predicted call; it must be the target gold call (see
//!   [`Case::target_gold`]), name equal, no argument outside the target's parameters, every
//!   gold parameter matched (or omitted where `""` is acceptable);
//! - [`Legacy`] (the published SimpleTool numbers): the first predicted call only, its name may
//!   match any gold call, only gold parameters are checked.
//!
//! Both share [`values_equal`]. Rows are grouped per dataset and into the reproduction's
//! categories with [`category`].

mod value;

pub use value::{normalize, py_eq, py_float, py_str, values_equal};

use crate::record::Verdict;
use crate::scenario::{Case, FunctionCall, GoldCall};
use serde_json::Value;

/// Whether a prediction is right as a whole and in its function name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    pub correct: bool,
    pub function: bool,
}

/// A scoring rule. Implementations differ in which gold call counts and how strictly the
/// arguments are checked.
pub trait Scorer {
    fn name(&self) -> &'static str;
    /// Judge `predicted` (every call the output names, in order) against the case's gold.
    fn score(&self, case: &Case, gold: &[GoldCall], predicted: &[FunctionCall]) -> Score;
}

/// The reproduction's strict scorer (`strict_prediction`).
pub struct Strict;

/// The reproduction's legacy scorer (`evaluate_single_prediction`).
pub struct Legacy;

fn acceptable(v: &Value) -> &[Value] {
    match v {
        Value::Array(a) => a.as_slice(),
        other => std::slice::from_ref(other),
    }
}

fn is_empty_str(v: &Value) -> bool {
    v.as_str() == Some("")
}

/// One predicted call judged strictly against one gold call.
pub fn strict_call(pred: &FunctionCall, gold: &GoldCall) -> bool {
    if pred.name != gold.name {
        return false;
    }
    if pred.arguments.keys().any(|k| !gold.params.contains_key(k)) {
        return false;
    }
    gold.params.iter().all(|(key, acc)| {
        let acc = acceptable(acc);
        match pred.arguments.get(key) {
            None => acc.iter().any(is_empty_str),
            Some(p) => acc
                .iter()
                .filter(|v| !is_empty_str(v))
                .any(|v| values_equal(p, v)),
        }
    })
}

impl Scorer for Strict {
    fn name(&self) -> &'static str {
        "strict"
    }

    fn score(&self, case: &Case, gold: &[GoldCall], predicted: &[FunctionCall]) -> Score {
        let target = if case.has_history && gold.len() > 1 {
            gold.last()
        } else {
            gold.first()
        };
        let (Some(target), [pred]) = (target, predicted) else {
            return Score::default();
        };
        Score {
            correct: strict_call(pred, target),
            function: pred.name == target.name,
        }
    }
}

/// `check_param_match`: a missing (or empty) prediction is right only where `""` is acceptable.
fn legacy_param(pred: Option<&Value>, acc: &[Value]) -> bool {
    if acc.is_empty() {
        return pred.is_none_or(|p| p.is_null() || is_empty_str(p));
    }
    let optional = acc.iter().any(is_empty_str);
    match pred {
        None | Some(Value::Null) => optional,
        Some(p) if is_empty_str(p) => optional,
        Some(p) => acc
            .iter()
            .filter(|v| !is_empty_str(v))
            .any(|v| values_equal(p, v)),
    }
}

impl Scorer for Legacy {
    fn name(&self) -> &'static str {
        "legacy"
    }

    fn score(&self, _case: &Case, gold: &[GoldCall], predicted: &[FunctionCall]) -> Score {
        let Some(pred) = predicted.first() else {
            let both_empty = gold.is_empty();
            return Score {
                correct: both_empty,
                function: both_empty,
            };
        };
        let mut s = Score::default();
        for g in gold.iter().filter(|g| g.name == pred.name) {
            s.function = true;
            if g.params
                .iter()
                .all(|(k, acc)| legacy_param(pred.arguments.get(k), acceptable(acc)))
            {
                s.correct = true;
                break;
            }
        }
        s
    }
}

/// Both scorers' verdict on one prediction; `None` when the case has no valid gold.
pub fn verdict(case: &Case, predicted: &[FunctionCall]) -> Option<Verdict> {
    let gold = case.gold.as_deref()?;
    let s = Strict.score(case, gold, predicted);
    let l = Legacy.score(case, gold, predicted);
    Some(Verdict {
        strict: s.correct,
        strict_function: s.function,
        legacy: l.correct,
        legacy_function: l.function,
    })
}

/// The reproduction's strict-summary categories. BFCL datasets outside the three pairs belong
/// to none (as there); every other dataset is "Others".
pub fn category(dataset: &str) -> Option<&'static str> {
    Some(match dataset {
        "BFCL_v3_simple" | "BFCL_v3_multiple" => "BFCL Non-Live",
        "BFCL_v3_live_simple" | "BFCL_v3_live_multiple" => "BFCL Live",
        "BFCL_v3_exec_simple_dataset" | "BFCL_v3_exec_multiple_dataset" => "BFCL Exec",
        "mobile_actions" => "Mobile Actions",
        d if d.starts_with("BFCL") => return None,
        _ => "Others",
    })
}

/// Category order of the reproduction's summary.
pub const CATEGORIES: [&str; 5] = [
    "BFCL Non-Live",
    "BFCL Live",
    "BFCL Exec",
    "Mobile Actions",
    "Others",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(gold: Value, has_history: bool) -> Case {
        let gold = gold
            .as_array()
            .unwrap()
            .iter()
            .map(|g| GoldCall::from_json(g).unwrap())
            .collect();
        Case {
            id: "c".into(),
            dataset: "d".into(),
            query: "q".into(),
            environment: vec![],
            history: vec![],
            tools: vec![],
            gold: Some(gold),
            gold_error: None,
            has_history,
        }
    }

    fn call(name: &str, args: Value) -> FunctionCall {
        FunctionCall {
            name: name.into(),
            arguments: args.as_object().unwrap().clone(),
        }
    }

    fn both(c: &Case, p: &[FunctionCall]) -> (bool, bool, bool, bool) {
        let v = verdict(c, p).unwrap();
        (v.strict, v.strict_function, v.legacy, v.legacy_function)
    }

    #[test]
    fn exact_call_is_right_under_both() {
        let c = case(json!([{"f": {"a": [1], "b": ["x", ""]}}]), false);
        assert_eq!(
            both(&c, &[call("f", json!({"a": "1"}))]),
            (true, true, true, true)
        );
        assert_eq!(
            both(&c, &[call("f", json!({"a": 1, "b": "X "}))]),
            (true, true, true, true)
        );
    }

    #[test]
    fn extra_argument_fails_strict_only() {
        let c = case(json!([{"f": {"a": [1]}}]), false);
        assert_eq!(
            both(&c, &[call("f", json!({"a": 1, "z": 2}))]),
            (false, true, true, true)
        );
    }

    #[test]
    fn missing_required_fails_both_missing_optional_passes() {
        let c = case(json!([{"f": {"a": [1], "b": [""]}}]), false);
        assert_eq!(
            both(&c, &[call("f", json!({}))]),
            (false, true, false, true)
        );
        assert_eq!(
            both(&c, &[call("f", json!({"a": 1}))]),
            (true, true, true, true)
        );
        // "" is never a value to match: only the permission to omit.
        assert_eq!(
            both(&c, &[call("f", json!({"a": 1, "b": "x"}))]),
            (false, true, false, true)
        );
    }

    #[test]
    fn several_predicted_calls_fail_strict_legacy_takes_the_first() {
        let c = case(json!([{"f": {"a": [1]}}]), false);
        let p = [call("f", json!({"a": 1})), call("g", json!({}))];
        assert_eq!(both(&c, &p), (false, false, true, true));
    }

    #[test]
    fn no_call_is_wrong() {
        let c = case(json!([{"f": {}}]), false);
        assert_eq!(both(&c, &[]), (false, false, false, false));
    }

    #[test]
    fn strict_targets_last_gold_with_history_legacy_any() {
        let g = json!([{"f": {}}, {"g": {"a": ["x"]}}]);
        let first = [call("f", json!({}))];
        let last = [call("g", json!({"a": "x"}))];
        let fresh = case(g.clone(), false);
        assert_eq!(both(&fresh, &first), (true, true, true, true));
        assert_eq!(both(&fresh, &last), (false, false, true, true));
        let later = case(g, true);
        assert_eq!(both(&later, &first), (false, false, true, true));
        assert_eq!(both(&later, &last), (true, true, true, true));
    }

    #[test]
    fn legacy_tries_every_gold_call_of_that_name() {
        let c = case(json!([{"f": {"a": [1]}}, {"f": {"a": [2]}}]), false);
        assert_eq!(
            both(&c, &[call("f", json!({"a": 2}))]),
            (false, true, true, true)
        );
    }

    #[test]
    fn legacy_empty_acceptable_list_wants_nothing() {
        let c = case(json!([{"f": {"a": []}}]), false);
        assert!(both(&c, &[call("f", json!({}))]).2);
        assert!(!both(&c, &[call("f", json!({"a": "v"}))]).2);
    }

    #[test]
    fn list_valued_parameters_are_wrapped_once_more() {
        let c = case(json!([{"f": {"numbers": [[22, 24]]}}]), false);
        assert!(
            verdict(&c, &[call("f", json!({"numbers": [22, 24]}))])
                .unwrap()
                .strict
        );
        assert!(
            !verdict(&c, &[call("f", json!({"numbers": [24, 22]}))])
                .unwrap()
                .strict
        );
    }

    #[test]
    fn no_gold_no_verdict() {
        let mut c = case(json!([{"f": {}}]), false);
        c.gold = None;
        assert!(verdict(&c, &[]).is_none());
    }

    #[test]
    fn categories() {
        assert_eq!(category("BFCL_v3_exec_simple_dataset"), Some("BFCL Exec"));
        assert_eq!(category("mobile_actions"), Some("Mobile Actions"));
        assert_eq!(category("BFCL_v3_parallel"), None);
        assert_eq!(category("game"), Some("Others"));
    }
}
