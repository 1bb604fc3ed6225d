//! The data a benchmark runs on: cases (a query, its candidate tools, optional context) and
//! their gold calls. Loading files into these types is `fcbench-scenarios`' job.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A function call: a name and arguments keyed by parameter name, in the tool's order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: Map<String, Value>,
}

/// One candidate tool. `raw` is kept verbatim because prompts render it byte for byte, and the
/// insertion order of its `properties` is the argument order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: String,
    /// Parameter names in schema insertion order (never alphabetical, never `required` order).
    pub params: Vec<Param>,
    pub required: Vec<String>,
    pub raw: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Param {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub description: String,
    pub raw: Value,
}

impl Tool {
    /// Build from the SimpleTool/BFCL tool schema (`{"name","description","parameters":{...}}`).
    pub fn from_json(raw: &Value) -> Result<Tool, String> {
        let obj = raw.as_object().ok_or("tool is not an object")?;
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .ok_or("tool has no string field `name`")?
            .to_string();
        let description = obj
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let parameters = obj.get("parameters").cloned().unwrap_or(Value::Null);
        let mut params = Vec::new();
        if let Some(props) = parameters.get("properties") {
            let props = props.as_object().ok_or(format!(
                "tool `{name}`: `parameters.properties` is not an object"
            ))?;
            for (pname, p) in props {
                params.push(Param {
                    name: pname.clone(),
                    ty: p
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("string")
                        .to_string(),
                    description: p
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    raw: p.clone(),
                });
            }
        }
        let required = parameters
            .get("required")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Tool {
            name,
            description,
            params,
            required,
            raw: raw.clone(),
        })
    }
}

/// One acceptable gold call: for each parameter, the list of acceptable values
/// (`""` among them means the parameter may be omitted).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GoldCall {
    pub name: String,
    pub params: Map<String, Value>,
}

impl GoldCall {
    /// Parse the possible-answer form `{fname: {param: [acceptable…]}}`.
    pub fn from_json(v: &Value) -> Result<GoldCall, String> {
        let obj = v.as_object().ok_or("gold call is not an object")?;
        if obj.len() != 1 {
            return Err(format!(
                "gold call must have exactly one function name, found {}",
                obj.len()
            ));
        }
        let (name, params) = obj.iter().next().expect("len checked");
        let params = params
            .as_object()
            .ok_or(format!("gold call `{name}`: parameters are not an object"))?;
        for (p, acc) in params {
            if !acc.is_array() {
                return Err(format!(
                    "gold call `{name}`: parameter `{p}` is not a list of acceptable values"
                ));
            }
        }
        Ok(GoldCall {
            name: name.clone(),
            params: params.clone(),
        })
    }

    /// The reference call a model trained for the task would produce: the first acceptable
    /// non-empty value of each parameter, in the tool's parameter order where known.
    pub fn reference_call(&self, tool: Option<&Tool>) -> FunctionCall {
        let mut arguments = Map::new();
        let order: Vec<String> = match tool {
            Some(t) => t.params.iter().map(|p| p.name.clone()).collect(),
            None => self.params.keys().cloned().collect(),
        };
        for name in order {
            let Some(acc) = self.params.get(&name).and_then(Value::as_array) else {
                continue;
            };
            if let Some(v) = acc.iter().find(|v| v.as_str() != Some("")) {
                arguments.insert(name, v.clone());
            }
        }
        FunctionCall {
            name: self.name.clone(),
            arguments,
        }
    }
}

/// One benchmark case.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Case {
    pub id: String,
    /// Dataset the case comes from (for per-dataset accuracy and categories).
    pub dataset: String,
    /// The user's request, verbatim.
    pub query: String,
    /// Context lines shown to the model (`environment: [...]`).
    #[serde(default)]
    pub environment: Vec<String>,
    /// Calls already made (`history: [...]`).
    #[serde(default)]
    pub history: Vec<FunctionCall>,
    pub tools: Vec<Tool>,
    /// Acceptable gold calls, or `None` when the row has no (valid) gold answer.
    pub gold: Option<Vec<GoldCall>>,
    /// Why `gold` is missing, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_error: Option<String>,
    /// The row states prior calls (its own `history`, or one inside the query text); the
    /// history-aware target rule uses the last gold call then.
    #[serde(default)]
    pub has_history: bool,
}

/// SimpleTool models have six argument heads.
pub const MAX_ARG_HEADS: usize = 6;

impl Case {
    /// Widest candidate tool (number of parameters).
    pub fn max_arity(&self) -> usize {
        self.tools.iter().map(|t| t.params.len()).max().unwrap_or(0)
    }

    /// Rows with any candidate tool wider than the six argument heads are filtered (counted).
    pub fn exceeds_arg_heads(&self) -> bool {
        self.max_arity() > MAX_ARG_HEADS
    }

    pub fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// The gold call a single predicted call is judged against: the last one when the row has
    /// prior history and several gold calls, else the first.
    pub fn target_gold(&self) -> Option<&GoldCall> {
        let gold = self.gold.as_ref()?;
        if self.has_history && gold.len() > 1 {
            gold.last()
        } else {
            gold.first()
        }
    }

    /// The reference call used for forced decoding.
    pub fn reference_call(&self) -> Option<FunctionCall> {
        let g = self.target_gold()?;
        Some(g.reference_call(self.tool(&g.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_keeps_property_insertion_order() {
        let t = Tool::from_json(
            &json!({"name":"f","description":"d","parameters":{"type":"dict",
            "properties":{"z":{"type":"integer"},"a":{"type":"string"}},"required":["a","z"]}}),
        )
        .unwrap();
        let names: Vec<_> = t.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["z", "a"]);
        assert_eq!(t.required, ["a", "z"]);
    }

    #[test]
    fn reference_call_skips_omittable_and_follows_tool_order() {
        let g = GoldCall::from_json(&json!({"f":{"a":["", "x"],"z":[3],"o":[""]}})).unwrap();
        let t = Tool::from_json(
            &json!({"name":"f","parameters":{"properties":{"z":{},"a":{},"o":{}}}}),
        )
        .unwrap();
        let c = g.reference_call(Some(&t));
        assert_eq!(
            serde_json::to_string(&c.arguments).unwrap(),
            r#"{"z":3,"a":"x"}"#
        );
    }

    #[test]
    fn gold_call_rejects_non_list_values() {
        assert!(GoldCall::from_json(&json!({"f":{"a":3}})).is_err());
        assert!(GoldCall::from_json(&json!({"f":{}, "g":{}})).is_err());
    }
}
