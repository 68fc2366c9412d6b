//! Request parameters from a query string or a body, in every form a host delivers them.

use crate::http::Request;
use std::collections::BTreeMap;

/// Larger bodies are refused before parsing: no legitimate OAuth request comes near it.
pub const MAX_BODY: usize = 16 * 1024;

/// The body's fields. Scrypted turns a form post into a JSON object string of the fields
/// (docs/reference/scrypted-host.md §6.2); other hosts hand over the raw `a=b&c=d` string.
/// Repeated keys keep their first value. `None` when the body is too large.
pub fn body_fields(req: &Request) -> Option<BTreeMap<String, String>> {
    let body = req.body.as_deref().unwrap_or("");
    if body.len() > MAX_BODY {
        return None;
    }
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed) {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let value = match v {
                    serde_json::Value::String(s) => s,
                    // A repeated form field arrives as an array: keep the first value.
                    serde_json::Value::Array(items) => match items.into_iter().next() {
                        Some(serde_json::Value::String(s)) => s,
                        _ => continue,
                    },
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                out.insert(k, value);
            }
            return Some(out);
        }
    }
    Some(form_pairs(body))
}

/// `a=b&c=d` decoded; the first value of a repeated key wins.
pub fn form_pairs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// A parameter that is present and not empty.
pub fn get<'a>(params: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    params
        .get(key)
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Request {
        Request {
            body: Some(body.to_string()),
            ..Default::default()
        }
    }

    #[test]
    fn raw_form_and_scrypted_json_form_give_the_same_fields() {
        let raw = body_fields(&req("grant_type=authorization_code&code=abc%2Bdef")).unwrap();
        let json = body_fields(&req(
            r#"{"grant_type":"authorization_code","code":"abc+def"}"#,
        ))
        .unwrap();
        assert_eq!(raw, json);
        assert_eq!(raw["code"], "abc+def");
    }

    #[test]
    fn oversized_body_is_refused() {
        assert!(body_fields(&req(&"a".repeat(MAX_BODY + 1))).is_none());
    }
}
