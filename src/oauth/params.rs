//! Request parameters from a query string or a body, in every form a host delivers them.

use crate::http::Request;
use std::collections::BTreeMap;

/// Larger bodies are refused before parsing: no legitimate OAuth request comes near it.
pub const MAX_BODY: usize = 16 * 1024;

/// Why a request's fields were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamError {
    TooLarge,
    /// RFC 6749 §3.1: parameters must not be included more than once. A repeated
    /// `redirect_uri` or `state` would otherwise mean one thing to us and another to
    /// whoever checked the first copy.
    Repeated(String),
}

impl From<ParamError> for super::OAuthError {
    fn from(e: ParamError) -> Self {
        match e {
            ParamError::TooLarge => super::OAuthError::invalid_request("request body too large"),
            ParamError::Repeated(name) => super::OAuthError::invalid_request(format!(
                "parameter {name} is repeated; send each parameter once"
            )),
        }
    }
}

pub type Fields = Result<BTreeMap<String, String>, ParamError>;

/// The body's fields. Scrypted turns a form post into a JSON object string of the fields
/// (docs/reference/scrypted-host.md §6.2), where a repeated field arrives as an array;
/// other hosts hand over the raw `a=b&c=d` string.
pub fn body_fields(req: &Request) -> Fields {
    let body = req.body.as_deref().unwrap_or("");
    if body.len() > MAX_BODY {
        return Err(ParamError::TooLarge);
    }
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(trimmed) {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let value = match v {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Array(_) => return Err(ParamError::Repeated(k)),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => continue,
                };
                out.insert(k, value);
            }
            return Ok(out);
        }
    }
    form_pairs(body)
}

/// The query string's fields; a repeated one is refused as in [`body_fields`].
pub fn query_fields(req: &Request) -> Fields {
    form_pairs(req.query())
}

/// `a=b&c=d` decoded by the form library's pair iterator; a repeated key is refused.
pub fn form_pairs(text: &str) -> Fields {
    let mut out = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(text.as_bytes()) {
        match out.entry(k.into_owned()) {
            std::collections::btree_map::Entry::Occupied(e) => {
                return Err(ParamError::Repeated(e.key().clone()))
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(v.into_owned());
            }
        }
    }
    Ok(out)
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
        assert_eq!(
            body_fields(&req(&"a".repeat(MAX_BODY + 1))),
            Err(ParamError::TooLarge)
        );
    }

    #[test]
    fn a_repeated_field_is_refused_in_every_form() {
        let repeated = Err(ParamError::Repeated("state".into()));
        assert_eq!(body_fields(&req("state=a&code=c&state=b")), repeated);
        assert_eq!(body_fields(&req("state=a&state=a")), repeated);
        assert_eq!(
            body_fields(&req(r#"{"state":["a","b"],"code":"c"}"#)),
            repeated
        );
        assert_eq!(form_pairs("state=&state=x"), repeated);
    }
}
