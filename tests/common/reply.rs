//! An MCP endpoint answer read back: status, headers, and the JSON body or the SSE
//! events as parsed messages.
//!
//! Include it with `#[path = "common/reply.rs"] mod reply;` (or `../common/…` from a
//! suite folder).
#![allow(dead_code)]

use futures::executor::block_on;
use futures::stream::LocalBoxStream;
use futures::StreamExt;
use scrypted_mcp::http::{Body, Response};
use serde_json::Value;

/// A response with its body read: JSON, or the SSE events as parsed messages with ids.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub json: Option<Value>,
    pub events: Vec<(String, Value)>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// The JSON-RPC response: the JSON body, or the SSE event carrying a result/error.
    pub fn response(&self) -> Value {
        if let Some(json) = &self.json {
            return json.clone();
        }
        self.events
            .iter()
            .map(|(_, m)| m)
            .find(|m| m.get("method").is_none())
            .cloned()
            .unwrap_or_else(|| panic!("no response in {self:?}"))
    }
    pub fn result(&self) -> Value {
        let r = self.response();
        assert!(r.get("error").is_none(), "unexpected error: {r}");
        r["result"].clone()
    }
    pub fn error_code(&self) -> i64 {
        self.response()["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error in {:?}", self.response()))
    }
    pub fn notifications(&self, method: &str) -> Vec<Value> {
        self.events
            .iter()
            .map(|(_, m)| m)
            .filter(|m| m["method"] == method)
            .cloned()
            .collect()
    }
}

/// One SSE event: its id (empty when it has none) and its message, `Value::Null` for
/// an event without data (a priming event).
pub fn parse_event(chunk: &str) -> (String, Value) {
    let mut id = String::new();
    let mut data = String::new();
    for line in chunk.lines() {
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            // The SSE format drops one space after the colon.
            data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    assert!(chunk.ends_with("\n\n"), "event not terminated: {chunk:?}");
    if data.is_empty() {
        return (id, Value::Null);
    }
    (id, serde_json::from_str(&data).unwrap())
}

/// The next message on a stream, past a priming event.
pub fn next_message(stream: &mut LocalBoxStream<'static, String>) -> Option<(String, Value)> {
    loop {
        let (id, message) = parse_event(&block_on(stream.next())?);
        if !message.is_null() {
            return Some((id, message));
        }
    }
}

/// Reads the whole body; an SSE body is read to its end.
pub fn read(response: Response) -> Reply {
    let status = response.status;
    let headers = response.headers.clone();
    match response.body {
        Body::Text(text) => Reply {
            status,
            headers,
            json: (!text.is_empty()).then(|| serde_json::from_str(&text).unwrap()),
            events: Vec::new(),
        },
        Body::Stream(stream) => {
            let chunks: Vec<String> = block_on(stream.collect());
            let mut events: Vec<(String, Value)> = chunks.iter().map(|c| parse_event(c)).collect();
            // A priming event (2025-11-25) may only come first.
            if events.first().is_some_and(|(_, m)| m.is_null()) {
                events.remove(0);
            }
            assert!(events.iter().all(|(_, m)| !m.is_null()), "{chunks:?}");
            Reply {
                status,
                headers,
                json: None,
                events,
            }
        }
    }
}
