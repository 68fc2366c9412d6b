//! JSON-RPC 2.0 framing, parsed by hand so every malformed message gets its precise code
//! (-32700 / -32600); the payloads inside are rmcp model types.

use crate::http::Response;
use crate::order;
use rmcp::model::{ErrorCode, ErrorData, RequestId};
use serde_json::{json, Map, Value};

/// One incoming message, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: RequestId,
        method: String,
        /// `Value::Null` when absent.
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// The client's answer to one of our requests (elicitation, sampling).
    Response {
        id: RequestId,
        outcome: Result<Value, ErrorData>,
    },
}

/// A message that is not valid JSON-RPC; `id` when one could be read, so the error can
/// still be matched to its request.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    pub id: Option<RequestId>,
    pub error: ErrorData,
}

fn invalid(id: Option<RequestId>, why: &str) -> Invalid {
    Invalid {
        id,
        error: ErrorData::invalid_request(format!("Invalid request: {why}"), None),
    }
}

/// Request ids are strings or integers; null, floats and others are refused.
pub fn parse_id(value: &Value) -> Option<RequestId> {
    match value {
        Value::String(s) => Some(RequestId::String(s.as_str().into())),
        Value::Number(n) => n.as_i64().map(RequestId::Number),
        _ => None,
    }
}

pub fn id_to_value(id: &RequestId) -> Value {
    id.clone().into_json_value()
}

pub fn parse_message(value: Value) -> Result<Message, Invalid> {
    let Value::Object(mut obj) = value else {
        return Err(invalid(None, "a message must be a JSON object"));
    };
    let raw_id = obj.remove("id");
    let id = match &raw_id {
        Some(v) => match parse_id(v) {
            Some(id) => Some(id),
            None => return Err(invalid(None, "id must be a string or an integer")),
        },
        None => None,
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid(id, "jsonrpc must be \"2.0\""));
    }
    let params = match obj.remove("params") {
        None => Value::Null,
        Some(p @ (Value::Object(_) | Value::Array(_))) => p,
        Some(_) => return Err(invalid(id, "params must be an object")),
    };
    if let Some(method) = obj.remove("method") {
        let Value::String(method) = method else {
            return Err(invalid(id, "method must be a string"));
        };
        return Ok(match id {
            Some(id) => Message::Request { id, method, params },
            None => Message::Notification { method, params },
        });
    }
    let Some(id) = id else {
        return Err(invalid(
            None,
            "neither a request, a notification nor a response",
        ));
    };
    match (obj.remove("result"), obj.remove("error")) {
        (Some(result), None) => Ok(Message::Response {
            id,
            outcome: Ok(result),
        }),
        (None, Some(error)) => match serde_json::from_value::<ErrorData>(error) {
            Ok(error) => Ok(Message::Response {
                id,
                outcome: Err(error),
            }),
            Err(_) => Err(invalid(Some(id), "malformed error object")),
        },
        _ => Err(invalid(
            Some(id),
            "a response carries exactly one of result and error",
        )),
    }
}

pub fn result(id: &RequestId, result: Value) -> Value {
    message([("id", id_to_value(id)), ("result", result)])
}

/// An error response; `id: null` when the request's id could not be read (the 2025
/// revisions require the member).
pub fn error(id: Option<&RequestId>, error: &ErrorData) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id.map(id_to_value).unwrap_or(Value::Null),
        "error": error,
    })
}

/// An HTTP error whose body is a JSON-RPC error without id, so MCP clients can read it.
pub fn rpc_error(status: u16, code: i32, message: &str) -> Response {
    let data = ErrorData::new(ErrorCode(code), message.to_string(), None);
    Response::json(status, &error(None, &data))
}

pub fn notification(method: &str, params: Value) -> Value {
    message([("method", method.into()), ("params", params)])
}

pub fn request(id: &RequestId, method: &str, params: Value) -> Value {
    message([
        ("id", id_to_value(id)),
        ("method", method.into()),
        ("params", params),
    ])
}

/// A JSON-RPC message of these members, moved into it: `json!` copies every `Value` it is
/// given (`to_value`, a deep copy), which was the whole answer once more on every request
/// (issue 12).
fn message<const N: usize>(members: [(&str, Value); N]) -> Value {
    let members = members
        .into_iter()
        .map(|(name, value)| (name.to_string(), value));
    let mut object: Map<String, Value> = order::map(members);
    object.insert("jsonrpc".into(), "2.0".into());
    Value::Object(object)
}

pub fn parse_error(detail: &str) -> ErrorData {
    ErrorData::parse_error(format!("Parse error: {detail}"), None)
}

pub fn method_not_found(method: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::METHOD_NOT_FOUND,
        format!("Method not found: {method}"),
        None,
    )
}

/// Deserializes request params (absent = `{}`) into an rmcp params type, or -32602.
pub fn params<T: serde::de::DeserializeOwned>(params: &Value) -> Result<T, ErrorData> {
    params_owned(params.clone())
}

/// [`params`] of params the caller has no more use for: moved, not copied.
pub fn params_owned<T: serde::de::DeserializeOwned>(params: Value) -> Result<T, ErrorData> {
    serde_json::from_value(params_object(params)).map_err(invalid_params)
}

/// Absent params are `{}`.
#[inline(never)]
fn params_object(params: Value) -> Value {
    if params.is_null() {
        json!({})
    } else {
        params
    }
}

/// One copy of the message for every params type.
#[inline(never)]
fn invalid_params(e: serde_json::Error) -> ErrorData {
    ErrorData::invalid_params(format!("Invalid params: {e}"), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        let m = parse_message(json!({"jsonrpc":"2.0","id":1,"method":"ping"})).unwrap();
        assert!(matches!(
            m,
            Message::Request {
                id: RequestId::Number(1),
                ..
            }
        ));
        let m =
            parse_message(json!({"jsonrpc":"2.0","method":"notifications/initialized"})).unwrap();
        assert!(matches!(m, Message::Notification { .. }));
        let m = parse_message(json!({"jsonrpc":"2.0","id":"a","result":{}})).unwrap();
        assert!(matches!(m, Message::Response { outcome: Ok(_), .. }));
        let m =
            parse_message(json!({"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"no"}}))
                .unwrap();
        assert!(matches!(
            m,
            Message::Response {
                outcome: Err(_),
                ..
            }
        ));
    }

    #[test]
    fn refuses_malformed_messages() {
        for bad in [
            json!([]),
            json!({"id":1,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":null,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":1.5,"method":"ping"}),
            json!({"jsonrpc":"2.0","id":1,"method":7}),
            json!({"jsonrpc":"2.0","id":1,"method":"x","params":3}),
            json!({"jsonrpc":"2.0","id":1}),
            json!({"jsonrpc":"2.0","result":{}}),
        ] {
            let e = parse_message(bad.clone()).unwrap_err();
            assert_eq!(e.error.code, ErrorCode::INVALID_REQUEST, "{bad}");
        }
    }
}
