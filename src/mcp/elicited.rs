//! Checks an accepted elicitation answer against the schema we asked with: clients are
//! untrusted, and a tool acting on "confirm" must get a boolean, not whatever was sent.

use serde_json::{Map, Value};

/// The answer with only the fields the schema declares, or why it does not conform.
pub fn conform(schema: &Value, content: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for name in required.iter().filter_map(Value::as_str) {
        if !content.contains_key(name) {
            return Err(format!("the answer lacks the required field {name}"));
        }
    }
    let mut kept = Map::new();
    for (name, value) in content {
        // Undeclared fields are dropped rather than passed on to the tool.
        let Some(property) = properties.get(&name) else {
            continue;
        };
        if !fits(property, &value) {
            return Err(format!(
                "the answer's field {name} does not match the requested schema"
            ));
        }
        kept.insert(name, value);
    }
    Ok(kept)
}

fn fits(property: &Value, value: &Value) -> bool {
    let allowed = |v: &Value| {
        let listed = |key: &str| {
            property
                .get(key)
                .and_then(Value::as_array)
                .map(|options| options.iter().any(|o| o == v || o.get("const") == Some(v)))
        };
        listed("enum").or_else(|| listed("oneOf")).unwrap_or(true)
    };
    match property.get("type").and_then(Value::as_str) {
        Some("string") => value.is_string() && allowed(value),
        Some("boolean") => value.is_boolean(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("array") => value.as_array().is_some_and(|items| {
            let item_schema = property.get("items").cloned().unwrap_or(Value::Null);
            items.iter().all(|item| {
                let listed = |key: &str| {
                    item_schema
                        .get(key)
                        .and_then(Value::as_array)
                        .map(|options| {
                            options
                                .iter()
                                .any(|o| o == item || o.get("const") == Some(item))
                        })
                };
                item.is_string() && listed("enum").or_else(|| listed("anyOf")).unwrap_or(true)
            })
        }),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn keeps_conforming_answers_and_refuses_the_rest() {
        let schema = json!({
            "type": "object",
            "properties": {
                "confirm": {"type": "boolean"},
                "count": {"type": "integer"},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "titled": {"type": "string", "oneOf": [{"const": "x", "title": "X"}]},
                "many": {"type": "array", "items": {"anyOf": [{"const": "p"}, {"const": "q"}]}}
            },
            "required": ["confirm"]
        });
        let ok = conform(
            &schema,
            obj(json!({"confirm": true, "count": 3, "mode": "b", "titled": "x", "many": ["q"], "extra": 1})),
        )
        .unwrap();
        assert_eq!(ok.len(), 5, "the undeclared field is dropped");
        for bad in [
            json!({}),
            json!({"confirm": "yes"}),
            json!({"confirm": true, "count": 1.5}),
            json!({"confirm": true, "mode": "c"}),
            json!({"confirm": true, "titled": "y"}),
            json!({"confirm": true, "many": ["r"]}),
        ] {
            assert!(conform(&schema, obj(bad.clone())).is_err(), "{bad}");
        }
    }
}
