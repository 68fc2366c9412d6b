//! Tool arguments are read by one reader (`src/fields.rs`), not serde's derive per type
//! (issue 12, wasm size); this keeps its answers serde's: for every tool, on good, wrong, null,
//! missing, unknown and aliased fields and their combinations, the parsed value or the error
//! message is what `serde_json::from_value` gives with the derive the host build keeps.

use scrypted_mcp::tools::{catalogue, schema};
use serde_json::{json, Map, Value};

/// Values of every JSON kind, and numbers at the edges of the integer fields.
fn pool() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(1),
        json!(-1),
        json!(1.5),
        json!(4_294_967_296u64),
        json!(""),
        json!("x"),
        json!("info"),
        json!([]),
        json!(["a"]),
        json!([1]),
        json!({}),
        json!({"k": "v"}),
        json!({"k": 1}),
    ]
}

/// A value the property's schema accepts.
fn good(property: &Value) -> Value {
    let kinds: Vec<&str> = match property.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if let Some(first) = property.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = property.get(key).and_then(Value::as_array) {
            return options
                .iter()
                .map(good)
                .find(|v| !v.is_null())
                .unwrap_or(Value::Null);
        }
    }
    if let Some(value) = property.get("const") {
        return value.clone();
    }
    match kinds.into_iter().find(|k| *k != "null") {
        Some("string") => json!("x"),
        Some("integer") | Some("number") => json!(64),
        Some("boolean") => json!(true),
        Some("array") => json!(["a"]),
        Some("object") => json!({"k": "v"}),
        _ => json!(1),
    }
}

fn inputs(properties: &Map<String, Value>) -> Vec<Value> {
    let names: Vec<&String> = properties.keys().collect();
    let full: Map<String, Value> = properties
        .iter()
        .map(|(k, p)| (k.clone(), good(p)))
        .collect();
    let mut all = vec![
        Value::Null,
        json!({}),
        json!("x"),
        json!([]),
        Value::Object(full.clone()),
    ];
    let with = |base: &Map<String, Value>, key: &str, value: Value| {
        let mut object = base.clone();
        object.insert(key.to_string(), value);
        Value::Object(object)
    };
    for unknown in ["aaa", "zzz", "sinceMs", "since_ms", "type", "device_type"] {
        all.push(with(&Map::new(), unknown, json!(1)));
        all.push(with(&full, unknown, json!(1)));
    }
    for name in &names {
        let mut without = full.clone();
        without.remove(*name);
        all.push(Value::Object(without.clone()));
        for value in pool() {
            all.push(with(&Map::new(), name, value.clone()));
            all.push(with(&full, name, value.clone()));
            // An unknown name before and after a wrong value: which error comes first.
            all.push(with(
                &with(&full, name, value.clone())
                    .as_object()
                    .unwrap()
                    .clone(),
                "aaa",
                json!(1),
            ));
            all.push(with(
                &with(&without, name, value.clone())
                    .as_object()
                    .unwrap()
                    .clone(),
                "zzz",
                json!(1),
            ));
            for other in &names {
                if other != name {
                    let wrong = with(&without, name, value.clone());
                    all.push(with(wrong.as_object().unwrap(), other, json!([1])));
                }
            }
        }
    }
    all.push(json!({"since_ms": 1, "sinceMs": 2}));
    all.push(json!({"sinceMs": "x", "since_ms": 1}));
    all.push(json!({"sinceMs": 1, "since_ms": "x"}));
    all.push(json!({"sinceMs": 1, "zzz": 1}));
    all
}

#[test]
fn every_tool_reads_its_arguments_as_serde_derive_does() {
    let mut compared = 0;
    for tool in catalogue() {
        let properties = schema::pinned(tool.name)
            .input
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for input in inputs(&properties) {
            let [own, serde] = (tool.args_both)(input.clone());
            assert_eq!(own, serde, "{}: {input}", tool.name);
            compared += 1;
        }
    }
    assert!(compared > 5_000, "{compared}");
}
