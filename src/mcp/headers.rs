//! The request headers 2026-07-28 requires to mirror the body (SEP-2243,
//! basic/transports/streamable-http.mdx "Request Metadata" and "Server Validation"):
//! `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name` and the `Mcp-Param-{Name}` headers
//! of tool parameters annotated with `x-mcp-header`. Any mismatch, absence or malformed
//! value is `HeaderMismatch` (-32020, HTTP 400).
//!
//! Hand-written: rmcp 3.9 has this validation only as a `pub(crate)` part of its
//! tokio/hyper server transport, which cannot run in our wasm.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rmcp::model::ErrorData;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use crate::http::Request;

const BASE64_PREFIX: &str = "=?base64?";
const BASE64_SUFFIX: &str = "?=";

fn mismatch(message: String) -> ErrorData {
    ErrorData::header_mismatch(format!("Header mismatch: {message}"), None)
}

/// The header's value without surrounding whitespace (RFC 9110 §5.5: optional
/// whitespace is not part of the value); `Err` when it holds characters a header
/// value may not carry. Names are matched case-insensitively (`Request` keeps them
/// lower-case).
fn header<'a>(req: &'a Request, name: &str) -> Result<Option<&'a str>, ErrorData> {
    let Some(value) = req.header(name) else {
        return Ok(None);
    };
    let value = value.trim_matches([' ', '\t']);
    if !value
        .chars()
        .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
    {
        return Err(mismatch(format!("{name} contains invalid characters")));
    }
    Ok(Some(value))
}

/// Decodes the Base64 sentinel form `=?base64?…?=` (exact lowercase markers, standard
/// alphabet with padding, UTF-8 inside); anything without both markers is literal.
fn decode(value: &str) -> Option<String> {
    match value
        .strip_prefix(BASE64_PREFIX)
        .and_then(|inner| inner.strip_suffix(BASE64_SUFFIX))
    {
        Some(inner) => String::from_utf8(STANDARD.decode(inner).ok()?).ok(),
        None => Some(value.to_string()),
    }
}

/// `MCP-Protocol-Version` must be present and equal the `_meta` protocol version.
pub fn check_protocol_version(req: &Request, requested: &str) -> Result<(), ErrorData> {
    match header(req, "mcp-protocol-version")? {
        None => Err(mismatch(
            "the MCP-Protocol-Version header is required".into(),
        )),
        Some(value) if value != requested => Err(mismatch(format!(
            "MCP-Protocol-Version header '{value}' does not match params._meta protocol version '{requested}'"
        ))),
        Some(_) => Ok(()),
    }
}

/// `Mcp-Method` must be present and equal `method` (values are case-sensitive).
pub fn check_method(req: &Request, method: &str) -> Result<(), ErrorData> {
    match header(req, "mcp-method")? {
        None => Err(mismatch("the Mcp-Method header is required".into())),
        Some(value) if value != method => Err(mismatch(format!(
            "Mcp-Method header '{value}' does not match body method '{method}'"
        ))),
        Some(_) => Ok(()),
    }
}

/// The body field `Mcp-Name` mirrors for `method`, if it has one.
fn name_field(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        // The tasks extension routes its methods by task (SEP-2663 "Routing Headers").
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    }
}

/// `Mcp-Name` must be present and equal `params.name` / `params.uri` after decoding,
/// for the methods that carry one. A body without the field is left to the method's
/// own -32602.
pub fn check_name(req: &Request, method: &str, params: &Value) -> Result<(), ErrorData> {
    let Some(field) = name_field(method) else {
        return Ok(());
    };
    let Some(expected) = params.get(field).and_then(Value::as_str) else {
        return Ok(());
    };
    let Some(raw) = header(req, "mcp-name")? else {
        return Err(mismatch(format!(
            "the Mcp-Name header is required for {method}"
        )));
    };
    let value = decode(raw).ok_or_else(|| mismatch("Mcp-Name is not valid Base64".into()))?;
    if value != expected {
        return Err(mismatch(format!(
            "Mcp-Name header '{value}' does not match params.{field} '{expected}'"
        )));
    }
    Ok(())
}

/// One `x-mcp-header` annotation: the chain of `properties` keys to the parameter, and
/// the header name part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub path: Vec<String>,
    pub header: String,
}

/// The annotations of a tool's input schema, checked against the constraints of
/// "Custom Headers from Tool Parameters": non-empty RFC 9110 tokens, case-insensitively
/// unique, on string/integer/boolean parameters reached through `properties` alone.
/// Only the root's `properties` chains are walked: our own schemas put no annotation
/// anywhere else (a test checks every listed tool).
pub fn annotations(schema: &Map<String, Value>) -> Result<Vec<Annotation>, String> {
    let mut found = Vec::new();
    collect(schema, &mut Vec::new(), &mut found)?;
    // A handful of annotations: a list, not one more `BTreeSet<String>` in the wasm.
    let mut seen: Vec<String> = Vec::new();
    for a in &found {
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if a.header.is_empty() || !a.header.chars().all(token) {
            return Err(format!("x-mcp-header '{}' is not an HTTP token", a.header));
        }
        let lower = a.header.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(format!("x-mcp-header '{}' is used twice", a.header));
        }
        seen.push(lower);
    }
    Ok(found)
}

fn collect(
    schema: &Map<String, Value>,
    path: &mut Vec<String>,
    found: &mut Vec<Annotation>,
) -> Result<(), String> {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return Ok(());
    };
    for (name, property) in properties {
        let Value::Object(property) = property else {
            continue;
        };
        path.push(name.clone());
        if let Some(header) = property.get("x-mcp-header") {
            let Value::String(header) = header else {
                return Err(format!(
                    "x-mcp-header of '{}' is not a string",
                    path.join(".")
                ));
            };
            let kind = property.get("type").and_then(Value::as_str);
            if !matches!(kind, Some("string" | "integer" | "boolean")) {
                // The type named as written, not by `Option`'s `Debug` (issue 12).
                let kind = match kind {
                    Some(kind) => format!("a '{kind}'"),
                    None => "an untyped".to_string(),
                };
                return Err(format!(
                    "x-mcp-header '{header}' is on {kind} parameter; only string, integer and boolean are allowed"
                ));
            }
            found.push(Annotation {
                path: path.clone(),
                header: header.clone(),
            });
        }
        collect(property, path, found)?;
        path.pop();
    }
    Ok(())
}

/// Each annotated parameter present (and not null) in `arguments` must come with its
/// `Mcp-Param-{Name}` header holding the same value; one absent from the body must come
/// without it. Integers compare numerically (`42` = `42.0`).
pub fn check_params(
    req: &Request,
    schema: Cow<'static, Map<String, Value>>,
    arguments: Option<&Value>,
) -> Result<(), ErrorData> {
    // Our own schemas: an invalid annotation is our bug, not the client's.
    let annotations = annotations_of(schema).map_err(|e| ErrorData::internal_error(e, None))?;
    for Annotation { path, header: name } in annotations.iter() {
        let full = format!("Mcp-Param-{name}");
        let raw = header(req, &full)?;
        let body = arguments
            .and_then(|a| path.iter().try_fold(a, |v, key| v.get(key)))
            .filter(|v| !v.is_null());
        match (raw, body) {
            (None, None) => {}
            (Some(_), None) => {
                return Err(mismatch(format!(
                    "{full} is sent but arguments.{} is absent",
                    path.join(".")
                )))
            }
            (None, Some(_)) => {
                return Err(mismatch(format!(
                    "{full} is required when arguments.{} is given",
                    path.join(".")
                )))
            }
            (Some(raw), Some(body)) => {
                let value =
                    decode(raw).ok_or_else(|| mismatch(format!("{full} is not valid Base64")))?;
                if !carries(body, &value) {
                    let body = crate::http::json_text(body);
                    return Err(mismatch(format!(
                        "{full} '{value}' does not match arguments.{} {body}",
                        path.join(".")
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A schema's [`annotations`], found once for a schema that lives as long as the process (a
/// catalogue tool's pinned one): walking it again on every call was ~1 % of a call (issue 12).
fn annotations_of(schema: Cow<'static, Map<String, Value>>) -> Result<Rc<[Annotation]>, String> {
    type Known = Vec<(*const Map<String, Value>, Rc<[Annotation]>)>;
    thread_local! {
        static KNOWN: RefCell<Known> = const { RefCell::new(Vec::new()) };
    }
    let schema = match schema {
        Cow::Borrowed(schema) => schema,
        Cow::Owned(schema) => return annotations(&schema).map(Rc::from),
    };
    let at: *const Map<String, Value> = schema;
    let known =
        KNOWN.with_borrow(|known| known.iter().find(|(s, _)| *s == at).map(|(_, a)| a.clone()));
    if let Some(found) = known {
        return Ok(found);
    }
    let found: Rc<[Annotation]> = annotations(schema)?.into();
    KNOWN.with_borrow_mut(|known| known.push((at, found.clone())));
    Ok(found)
}

/// Whether a header's decoded `value` is the argument `body`: the same string, `true` or
/// `false`, or the same number (`42` = `42.0`).
fn carries(body: &Value, value: &str) -> bool {
    match body {
        Value::String(s) => s == value,
        Value::Bool(b) => b.to_string() == value,
        // Read as a JSON number (serde_json's parser), not by `f64::from_str`, whose float
        // parser and its 10 KB table were in the wasm for this and one setting (issue 12);
        // Rust-only forms (`+1`, `.5`, `inf`) do not match.
        Value::Number(n) => {
            value
                .parse::<serde_json::Number>()
                .ok()
                .and_then(|v| v.as_f64())
                == n.as_f64()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_header_carries_the_same_string_boolean_or_number() {
        for (body, value, carried) in [
            (json!("eu"), "eu", true),
            (json!(true), "true", true),
            (json!(42), "42", true),
            (json!(42), "42.0", true),
            (json!(42), "4.2e1", true),
            (json!(4.2), "4.20", true),
            (json!(-1), "-1", true),
            (json!("eu"), "EU", false),
            (json!(true), "1", false),
            (json!(42), "43", false),
            (json!(42), "+42", false),
            (json!(42), " 42", false),
            (json!(0.5), ".5", false),
            (json!(42), "42.", false),
            (json!(42), "inf", false),
            (json!(null), "null", false),
        ] {
            assert_eq!(carries(&body, value), carried, "{body} {value}");
        }
    }

    #[test]
    fn base64_sentinel_needs_both_markers_and_padding() {
        assert_eq!(decode("=?base64?SGVsbG8=?=").as_deref(), Some("Hello"));
        assert_eq!(decode("=?base64?SGVsbG8?="), None);
        assert_eq!(decode("=?base64?SGVs!!!bG8=?="), None);
        assert_eq!(decode("SGVsbG8=").as_deref(), Some("SGVsbG8="));
        assert_eq!(
            decode("=?base64?SGVsbG8=").as_deref(),
            Some("=?base64?SGVsbG8=")
        );
        assert_eq!(
            decode("=?BASE64?SGVsbG8=?=").as_deref(),
            Some("=?BASE64?SGVsbG8=?=")
        );
    }

    /// A pinned schema's annotations are kept after its first call: later calls must still
    /// be checked against them, and another pinned schema must not get them.
    #[test]
    fn a_pinned_schemas_annotations_still_check_every_call() {
        let pinned = |schema: Value| -> &'static Map<String, Value> {
            Box::leak(Box::new(schema.as_object().unwrap().clone()))
        };
        let annotated = pinned(json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"}}}));
        let plain = pinned(json!({"type": "object", "properties": {
            "region": {"type": "string"}}}));
        let request = |headers: &[(&str, &str)]| Request {
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Request::default()
        };
        let with = request(&[("mcp-param-region", "eu")]);
        let without = request(&[]);
        let arguments = json!({"region": "eu"});
        for _ in 0..3 {
            assert!(check_params(&with, Cow::Borrowed(annotated), Some(&arguments)).is_ok());
            let refused = check_params(&without, Cow::Borrowed(annotated), Some(&arguments));
            assert!(refused
                .unwrap_err()
                .message
                .contains("Mcp-Param-Region is required"));
            assert!(check_params(&without, Cow::Borrowed(plain), Some(&arguments)).is_ok());
            let sent = check_params(&with, Cow::Borrowed(plain), Some(&arguments));
            assert!(sent.is_ok(), "no annotation: the header is not read");
        }
    }

    #[test]
    fn annotations_follow_properties_chains_and_refuse_bad_ones() {
        let schema = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "nested": {"type": "object", "properties": {
                "id": {"type": "integer", "x-mcp-header": "Id"}}}}});
        let found = annotations(schema.as_object().unwrap()).unwrap();
        assert_eq!(found.len(), 2);
        assert!(found.contains(&Annotation {
            path: vec!["nested".into(), "id".into()],
            header: "Id".into()
        }));
        for bad in [
            json!({"properties": {"x": {"type": "number", "x-mcp-header": "X"}}}),
            json!({"properties": {"x": {"type": "string", "x-mcp-header": "a b"}}}),
            json!({"properties": {"x": {"type": "string", "x-mcp-header": ""}}}),
            json!({"properties": {"x": {"type": "string", "x-mcp-header": "A"},
                                  "y": {"type": "string", "x-mcp-header": "a"}}}),
        ] {
            assert!(annotations(bad.as_object().unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_header_on_a_wrong_type_names_the_type() {
        let refused = |property: Value| {
            let schema = json!({"properties": {"x": property}});
            annotations(schema.as_object().unwrap()).unwrap_err()
        };
        assert_eq!(
            refused(json!({"type": "number", "x-mcp-header": "X"})),
            "x-mcp-header 'X' is on a 'number' parameter; only string, integer and boolean are allowed"
        );
        assert_eq!(
            refused(json!({"x-mcp-header": "X"})),
            "x-mcp-header 'X' is on an untyped parameter; only string, integer and boolean are allowed"
        );
    }
}
