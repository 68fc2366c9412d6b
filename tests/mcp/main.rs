//! The MCP endpoint through `Plugin::handle` with real access tokens: every transport MUST
//! of docs/reference/mcp-protocol.md §1.1 that the conformance suite does not check, dispatch
//! errors, pagination, resources, prompts and the audit trail. Tests that need a tool which
//! elicits, reports progress or waits live in `fixtures` (run with
//! `cargo test --features conformance-fixtures --test mcp`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/flow.rs"]
mod flow;

#[cfg(feature = "conformance-fixtures")]
mod fixtures;
mod methods;
mod transport;

use futures::executor::block_on;
use futures::StreamExt;
use scrypted_mcp::clock::FixedClock;
use scrypted_mcp::http::{Body, Request, Response};
use scrypted_mcp::store::MemStore;
use scrypted_mcp::Plugin;
use serde_json::{json, Value};
use std::rc::Rc;

const HOST: &str = "127.0.0.1:11080";
const V03: &str = "2025-03-26";
const V06: &str = "2025-06-18";
const V11: &str = "2025-11-25";

struct Server {
    plugin: Plugin,
    store: Rc<MemStore>,
    clock: Rc<FixedClock>,
}

fn server() -> Server {
    let (plugin, _host, store, clock) = common::plugin();
    Server {
        plugin,
        store,
        clock,
    }
}

/// One MCP client: a token, and the session it opened.
struct Client<'a> {
    server: &'a Server,
    token: String,
    refresh: String,
    client_id: String,
    session: Option<String>,
    version: Option<&'static str>,
    accept: &'static str,
}

/// A response with its body read: JSON, or the SSE events as parsed messages with ids.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    json: Option<Value>,
    events: Vec<(String, Value)>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// The JSON-RPC response: the JSON body, or the SSE event carrying a result/error.
    fn response(&self) -> Value {
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
    fn result(&self) -> Value {
        let r = self.response();
        assert!(r.get("error").is_none(), "unexpected error: {r}");
        r["result"].clone()
    }
    fn error_code(&self) -> i64 {
        self.response()["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("no error in {:?}", self.response()))
    }
    #[cfg_attr(not(feature = "conformance-fixtures"), allow(dead_code))]
    fn notifications(&self, method: &str) -> Vec<Value> {
        self.events
            .iter()
            .map(|(_, m)| m)
            .filter(|m| m["method"] == method)
            .cloned()
            .collect()
    }
}

/// One SSE event: its id and its message, `Value::Null` for a priming event (empty data).
fn parse_event(chunk: &str) -> (String, Value) {
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
fn next_message(
    stream: &mut futures::stream::LocalBoxStream<'static, String>,
) -> Option<(String, Value)> {
    loop {
        let (id, message) = parse_event(&block_on(stream.next())?);
        if !message.is_null() {
            return Some((id, message));
        }
    }
}

fn read(response: Response) -> Reply {
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

impl Server {
    fn send(&self, req: Request) -> Response {
        block_on(self.plugin.handle(req))
    }

    fn client(&self) -> Client<'_> {
        let tokens = flow::obtain_tokens(&self.plugin, HOST);
        Client {
            server: self,
            token: tokens.access_token,
            refresh: tokens.refresh_token,
            client_id: tokens.client_id,
            session: None,
            version: None,
            accept: "application/json, text/event-stream",
        }
    }

    /// A client that has initialized a session at `version` with `capabilities`.
    fn session(&self, version: &'static str, capabilities: Value) -> Client<'_> {
        let mut c = self.client();
        c.initialize(version, capabilities);
        c
    }
}

impl Client<'_> {
    fn request(&self, method: &str, body: Option<String>) -> Request {
        let mut req = flow::request(method, "/mcp", HOST);
        let h = &mut req.headers;
        h.insert("authorization".into(), format!("Bearer {}", self.token));
        h.insert("accept".into(), self.accept.into());
        h.insert("content-type".into(), "application/json".into());
        if let Some(s) = &self.session {
            h.insert("mcp-session-id".into(), s.clone());
        }
        if let Some(v) = self.version {
            h.insert("mcp-protocol-version".into(), v.into());
        }
        req.body = body;
        req
    }

    fn post_raw(&self, body: &str) -> Response {
        self.server.send(self.request("POST", Some(body.into())))
    }

    fn post(&self, message: Value) -> Reply {
        read(self.post_raw(&message.to_string()))
    }

    fn call(&self, id: i64, method: &str, params: Value) -> Reply {
        self.post(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
    }

    fn notify(&self, method: &str, params: Value) -> Reply {
        self.post(json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    fn initialize(&mut self, version: &'static str, capabilities: Value) -> Reply {
        let reply = self.call(
            0,
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": capabilities,
                "clientInfo": {"name": "mcp-test", "version": "1.0"}
            }),
        );
        assert_eq!(reply.status, 200, "{reply:?}");
        self.session = Some(reply.header("mcp-session-id").unwrap().to_string());
        self.version = Some(version);
        let initialized = self.notify("notifications/initialized", json!({}));
        assert_eq!(initialized.status, 202);
        reply
    }

    /// A new access token for the same client and user.
    fn refresh(&mut self) {
        let resp = flow::token_request(
            &self.server.plugin,
            HOST,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &self.refresh),
                ("client_id", &self.client_id),
            ],
        );
        assert_eq!(resp.status, 200, "{:?}", resp.body_text());
        let body = resp.body_json().unwrap();
        self.token = body["access_token"].as_str().unwrap().to_string();
        self.refresh = body["refresh_token"].as_str().unwrap().to_string();
    }
}

/// Every page of tools/list, concatenated.
fn all_tools(c: &Client<'_>) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = None::<String>;
    for id in 100.. {
        let params = cursor.as_ref().map_or(json!({}), |c| json!({"cursor": c}));
        let result = c.call(id, "tools/list", params).result();
        all.extend(result["tools"].as_array().unwrap().clone());
        match result["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.into()),
            None => return all,
        }
    }
    unreachable!()
}

fn open_stream(
    c: &Client<'_>,
    message: &Value,
) -> futures::stream::LocalBoxStream<'static, String> {
    let resp = c.post_raw(&message.to_string());
    assert_eq!(resp.get_header("content-type"), Some("text/event-stream"));
    match resp.body {
        Body::Stream(s) => s,
        Body::Text(t) => panic!("expected a stream, got {t}"),
    }
}
