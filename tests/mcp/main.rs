//! The MCP endpoint through `Plugin::handle` with real access tokens: every transport MUST
//! of docs/reference/mcp-protocol.md §1.1 that the conformance suite does not check, dispatch
//! errors, pagination, resources, prompts and the audit trail. Tests that need a tool which
//! elicits, reports progress or waits live in `fixtures` (run with
//! `cargo test --features conformance-fixtures --test mcp`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/flow.rs"]
mod flow;
#[path = "../common/reply.rs"]
mod reply;

#[cfg(feature = "conformance-fixtures")]
mod fixtures;
mod methods;
mod prompts;
mod revival;
mod scopes;
mod subscriptions;
mod transport;

use futures::executor::block_on;
use futures::StreamExt;
use reply::{next_message, parse_event, read, Reply};
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
    host: Rc<common::FakeBridge>,
    store: Rc<MemStore>,
    clock: Rc<FixedClock>,
}

fn server() -> Server {
    let (plugin, host, store, clock) = common::plugin();
    Server {
        plugin,
        host,
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

impl Server {
    fn send(&self, req: Request) -> Response {
        block_on(self.plugin.handle(req))
    }

    fn client(&self) -> Client<'_> {
        self.client_with(flow::obtain_tokens(&self.plugin, HOST))
    }

    /// A client holding `tokens`, before `initialize`.
    fn client_with(&self, tokens: flow::Tokens) -> Client<'_> {
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
