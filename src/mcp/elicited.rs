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
        Some("string") => value
            .as_str()
            .is_some_and(|text| allowed(value) && string_fits(property, text)),
        Some("boolean") => value.is_boolean(),
        Some("integer") => (value.is_i64() || value.is_u64()) && within(property, value),
        Some("number") => value.is_number() && within(property, value),
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

/// `minimum` / `maximum`, the bounds a form's number fields may carry.
fn within(property: &Value, value: &Value) -> bool {
    let Some(n) = value.as_f64() else {
        return false;
    };
    let bound = |key: &str| property.get(key).and_then(Value::as_f64);
    bound("minimum").is_none_or(|min| n >= min) && bound("maximum").is_none_or(|max| n <= max)
}

/// `minLength` / `maxLength` (in characters) and the four formats forms may use.
fn string_fits(property: &Value, text: &str) -> bool {
    let length = text.chars().count() as u64;
    let bound = |key: &str| property.get(key).and_then(Value::as_u64);
    if bound("minLength").is_some_and(|min| length < min)
        || bound("maxLength").is_some_and(|max| length > max)
    {
        return false;
    }
    match property.get("format").and_then(Value::as_str) {
        Some("uri") => url::Url::parse(text).is_ok(),
        Some("date") => full_date(text),
        // RFC 3339's `date-time` rule has "T" (either case) between date and time; chrono
        // also takes the space that the RFC's prose allows for readability, which the rule,
        // and so JSON Schema's format, does not.
        Some("date-time") => {
            text.as_bytes()
                .get(10)
                .is_some_and(|b| b.eq_ignore_ascii_case(&b'T'))
                && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        }
        // Full RFC 5322 parsing is out of proportion for a form answer the user typed;
        // one `@` between non-empty parts is what the clients' own form fields enforce.
        Some("email") => text.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        }),
        _ => true,
    }
}

/// RFC 3339's `full-date` (what JSON Schema's `date` format is): `YYYY-MM-DD`, four, two
/// and two digits, a day that exists (leap years by chrono). A few lines rather than
/// chrono's `parse_from_str`, whose run-time strftime parser is most of chrono's size in the
/// wasm (issue 12); it also accepted one-digit months and days, which `full-date` does not.
fn full_date(text: &str) -> bool {
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let number = |part: &str, width: usize| {
        (part.len() == width && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u32>().ok())
            .flatten()
    };
    match (number(y, 4), number(m, 2), number(d, 2)) {
        (Some(y), Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
        _ => false,
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

    #[test]
    fn checks_bounds_lengths_and_formats() {
        let schema = json!({
            "type": "object",
            "properties": {
                "age": {"type": "integer", "minimum": 0, "maximum": 150},
                "score": {"type": "number", "maximum": 1.5},
                "name": {"type": "string", "minLength": 2, "maxLength": 4},
                "mail": {"type": "string", "format": "email"},
                "site": {"type": "string", "format": "uri"},
                "day": {"type": "string", "format": "date"},
                "at": {"type": "string", "format": "date-time"}
            }
        });
        let ok = json!({"age": 150, "score": 1.5, "name": "éé", "mail": "a@b.example",
            "site": "https://x.example/p", "day": "2025-11-25", "at": "2025-11-25T10:00:00Z"});
        assert_eq!(conform(&schema, obj(ok)).unwrap().len(), 7);
        let leap = json!({"day": "2024-02-29", "at": "2024-02-29T23:59:60+01:00"});
        assert_eq!(conform(&schema, obj(leap)).unwrap().len(), 2);
        for at in ["2025-11-25t10:00:00.5z", "2025-11-25T10:00:00-00:00"] {
            assert_eq!(
                conform(&schema, obj(json!({ "at": at }))).unwrap().len(),
                1,
                "{at}"
            );
        }
        for bad in [
            json!({"age": -1}),
            json!({"age": 151}),
            json!({"score": 1.6}),
            json!({"name": "a"}),
            json!({"name": "abcde"}),
            json!({"mail": "no-at-sign"}),
            json!({"mail": "a@"}),
            json!({"site": "not a uri"}),
            json!({"day": "2025-13-01"}),
            json!({"day": "2025-02-29"}),
            json!({"day": "2025-1-05"}),
            json!({"day": "+2025-01-05"}),
            json!({"day": "2025-01-05T00:00:00Z"}),
            json!({"at": "yesterday"}),
            json!({"at": "2025-11-25 10:00:00Z"}),
            json!({"at": "2025-11-25_10:00:00Z"}),
            json!({"at": "2025-11-25T10:00:00"}),
        ] {
            assert!(conform(&schema, obj(bad.clone())).is_err(), "{bad}");
        }
    }
}
