//! The MCP endpoint through `Plugin::handle` with real access tokens: every transport MUST
//! of reference/mcp-protocol.md §1.1 that the conformance suite does not check, dispatch
//! errors, pagination, resources, prompts and the audit trail. Tests that need a tool which
//! elicits, reports progress or waits live in `fixtures` (run with
//! `cargo test --features conformance-fixtures --test mcp`).

mod common;
#[path = "common/flow.rs"]
mod flow;

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

// ---------------------------------------------------------------------------------------
// Lifecycle and transport

#[test]
fn initialize_negotiates_and_opens_a_session() {
    let s = server();
    let mut c = s.client();
    let reply = c.initialize(V11, json!({}));
    let session = c.session.clone().unwrap();
    assert!(session.len() >= 32);
    assert!(session.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let result = reply.result();
    assert_eq!(result["protocolVersion"], V11);
    assert_eq!(result["serverInfo"]["name"], "scrypted-mcp");
    // The version Scrypted shows for the plugin: the package's.
    let package: Value = serde_json::from_str(include_str!("../package.json")).unwrap();
    assert_eq!(result["serverInfo"]["version"], package["version"]);
    assert!(result["instructions"]
        .as_str()
        .unwrap()
        .contains("get_server_info"));
    let caps = &result["capabilities"];
    // Only what we serve: no list-changed notifications, subscriptions only for the
    // conformance fixtures' watched resource.
    let resources = if cfg!(feature = "conformance-fixtures") {
        json!({"subscribe": true})
    } else {
        json!({})
    };
    assert_eq!(
        caps,
        &json!({"tools": {"listChanged": false}, "resources": resources,
                "prompts": {}, "logging": {}, "completions": {}})
    );
    assert!(
        result.get("resultType").is_none(),
        "2026 field leaked: {result}"
    );
    assert_eq!(reply.response()["id"], 0);

    for version in [V03, V06] {
        let mut c = s.client();
        assert_eq!(
            c.initialize(version, json!({})).result()["protocolVersion"],
            version
        );
    }
    // An unknown version gets our latest.
    let c = s.client();
    let reply = c.call(
        1,
        "initialize",
        json!({"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
    );
    assert_eq!(reply.result()["protocolVersion"], V11);
    // Two initializations give two sessions.
    assert_ne!(reply.header("mcp-session-id").unwrap(), session);
}

#[test]
fn initialize_without_protocol_version_is_invalid_params() {
    let s = server();
    let c = s.client();
    let reply = c.call(1, "initialize", json!({"capabilities": {}}));
    assert_eq!(reply.error_code(), -32602);
    assert!(reply.header("mcp-session-id").is_none());
}

#[test]
fn titles_and_structured_fields_are_absent_under_2025_03_26() {
    let s = server();
    let mut old = s.client();
    let info = old.initialize(V03, json!({})).result();
    assert!(info["serverInfo"].get("title").is_none(), "{info}");
    let mut new = s.client();
    let info = new.initialize(V06, json!({})).result();
    assert_eq!(info["serverInfo"]["title"], "MCP Server");
    let tools = old.call(2, "tools/list", json!({})).result();
    for tool in tools["tools"].as_array().unwrap() {
        assert!(
            tool.get("title").is_none() && tool.get("outputSchema").is_none(),
            "{tool}"
        );
    }
}

#[test]
fn no_token_is_401_with_challenge() {
    let s = server();
    let mut c = s.client();
    c.token = "garbage".into();
    let resp = c.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    assert_eq!(resp.status, 401);
    let challenge = resp.get_header("www-authenticate").unwrap();
    // RFC 9728 §5.1 / RFC 6750 §3: the PRM URL of this resource, and the error code.
    let prefix = format!(
        "Bearer resource_metadata=\"http://{HOST}/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource\", error=\"invalid_token\""
    );
    assert!(challenge.starts_with(&prefix), "{challenge}");
}

#[test]
fn foreign_origin_is_403_and_own_origin_passes() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    let mut req = c.request(
        "POST",
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
    );
    req.headers
        .insert("origin".into(), "http://evil.example.com".into());
    let resp = s.send(req);
    assert_eq!(resp.status, 403);
    assert_eq!(resp.body_json().unwrap()["error"]["code"], -32000);

    let mut req = c.request(
        "POST",
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
    );
    req.headers
        .insert("origin".into(), format!("http://{HOST}"));
    assert_eq!(read(s.send(req)).result(), json!({}));
    // No Origin at all (what non-browser clients send) passes too.
    c.accept = "application/json";
    assert_eq!(c.call(2, "ping", json!({})).result(), json!({}));
}

#[test]
fn missing_session_id_is_400_and_unknown_is_404() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    let session = c.session.take();
    let reply = c.call(1, "ping", json!({}));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json.as_ref().unwrap()["id"], Value::Null);
    c.session = Some("no-such-session".into());
    let reply = c.call(1, "ping", json!({}));
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), -32001);
    c.session = session;
    assert_eq!(c.call(1, "ping", json!({})).result(), json!({}));
}

#[test]
fn protocol_version_header_is_checked() {
    let s = server();
    let mut c = s.session(V06, json!({}));
    c.version = Some("2024-01-01");
    let reply = c.call(1, "ping", json!({}));
    assert_eq!(reply.status, 400, "{reply:?}");
    // Absent: assumed, and the request is served.
    c.version = None;
    assert_eq!(c.call(2, "ping", json!({})).result(), json!({}));
    c.version = Some(V06);
    assert_eq!(c.call(3, "ping", json!({})).result(), json!({}));
}

#[test]
fn protocol_version_header_is_checked_on_delete_and_get_too() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    c.version = Some("2024-01-01");
    for method in ["DELETE", "GET"] {
        let resp = s.send(c.request(method, None));
        assert_eq!(resp.status, 400, "{method}");
    }
    // The refused DELETE ended nothing.
    c.version = Some(V11);
    assert_eq!(c.call(1, "ping", json!({})).result(), json!({}));
    assert_eq!(s.send(c.request("DELETE", None)).status, 204);
}

#[test]
fn foreign_origin_is_403_even_without_a_token() {
    let s = server();
    let c = s.client();
    let mut req = c.request(
        "POST",
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
    );
    req.headers.remove("authorization");
    req.headers
        .insert("origin".into(), "http://evil.example.com".into());
    let resp = s.send(req);
    assert_eq!(resp.status, 403);
    assert!(resp.get_header("www-authenticate").is_none());
}

#[test]
fn initialize_in_a_batch_is_invalid_request() {
    let s = server();
    let c = s.client();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": V03, "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}});
    let reply = c.post(json!([init]));
    assert_eq!(
        (reply.status, reply.error_code()),
        (400, -32600),
        "{reply:?}"
    );
    assert!(reply.header("mcp-session-id").is_none());
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
}

#[test]
fn notifications_and_responses_are_202_without_body() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.notify("notifications/initialized", json!({}));
    assert_eq!((reply.status, reply.json.is_none()), (202, true));
    let reply = c.notify("notifications/unknown", json!({}));
    assert_eq!(reply.status, 202);
    // A response nobody waits for is accepted and dropped.
    let reply = c.post(json!({"jsonrpc": "2.0", "id": 99, "result": {}}));
    assert_eq!((reply.status, reply.json.is_none()), (202, true));
    // Cancelling an unknown request is ignored.
    let reply = c.notify("notifications/cancelled", json!({"requestId": 12345}));
    assert_eq!(reply.status, 202);
}

#[test]
fn batches_only_under_2025_03_26() {
    let s = server();
    let old = s.session(V03, json!({}));
    let reply = old.post(json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "id": 3}
    ]));
    assert_eq!(reply.status, 200, "{reply:?}");
    let answers = reply.json.unwrap();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 3, "{answers:?}");
    let by_id = |id: i64| answers.iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id(1)["result"], json!({}));
    assert_eq!(by_id(2)["error"]["code"], -32601);
    assert_eq!(by_id(3)["error"]["code"], -32600);
    // A batch of notifications only: 202.
    let reply = old.post(json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]));
    assert_eq!(reply.status, 202);
    let reply = old.post(json!([]));
    assert_eq!(reply.status, 400);

    for version in [V06, V11] {
        let c = s.session(version, json!({}));
        let reply = c.post(json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]));
        assert_eq!(reply.status, 400, "{version}");
        assert_eq!(reply.error_code(), -32600);
    }
}

#[test]
fn malformed_bodies_get_precise_codes() {
    let s = server();
    let c = s.session(V11, json!({}));
    let resp = read(c.post_raw("{not json"));
    assert_eq!(resp.status, 400);
    assert_eq!(resp.error_code(), -32700);
    assert_eq!(resp.json.as_ref().unwrap()["id"], Value::Null);
    let resp = read(c.post_raw(""));
    assert_eq!((resp.status, resp.error_code()), (400, -32700));
    let reply = c.post(json!({"jsonrpc": "1.0", "id": 5, "method": "ping"}));
    assert_eq!((reply.status, reply.error_code()), (400, -32600));
    assert_eq!(reply.response()["id"], 5);
    let reply = c.post(json!("ping"));
    assert_eq!((reply.status, reply.error_code()), (400, -32600));
    assert_eq!(c.call(1, "no/such/method", json!({})).error_code(), -32601);
    // initialize inside an existing session's batch position is refused, not re-run.
    let old = s.session(V03, json!({}));
    let reply =
        old.post(json!([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}]));
    assert_eq!(reply.json.unwrap()[0]["error"]["code"], -32600);
}

#[test]
fn get_is_405_with_allow() {
    let s = server();
    let c = s.session(V11, json!({}));
    let resp = s.send(c.request("GET", None));
    assert_eq!(resp.status, 405);
    assert_eq!(resp.get_header("allow"), Some("POST, DELETE"));
    let mut anonymous = c.request("GET", None);
    anonymous.headers.remove("authorization");
    assert_eq!(s.send(anonymous).status, 401);
}

#[test]
fn delete_ends_the_session_then_404() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    assert_eq!(s.send(c.request("DELETE", None)).status, 204);
    assert_eq!(c.call(1, "ping", json!({})).status, 404);
    assert_eq!(s.send(c.request("DELETE", None)).status, 404);
    c.session = None;
    assert_eq!(s.send(c.request("DELETE", None)).status, 400);
}

#[test]
fn session_is_bound_to_its_client() {
    let s = server();
    let owner = s.session(V11, json!({}));
    let mut other = s.client();
    assert_ne!(other.client_id, owner.client_id);
    other.session = owner.session.clone();
    let reply = other.call(1, "ping", json!({}));
    assert_eq!(reply.status, 404);
    assert_eq!(s.send(other.request("DELETE", None)).status, 404);
    // The owner still has it.
    assert_eq!(owner.call(2, "ping", json!({})).result(), json!({}));
}

#[test]
fn idle_sessions_are_reaped_after_an_hour() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 1);
    s.clock.advance_sec(50 * 60);
    c.refresh();
    assert_eq!(c.call(1, "ping", json!({})).result(), json!({}));
    s.clock.advance_sec(50 * 60);
    c.refresh();
    assert_eq!(
        c.call(2, "ping", json!({})).result(),
        json!({}),
        "use keeps it alive"
    );
    s.clock.advance_sec(61 * 60);
    c.refresh();
    assert_eq!(c.call(3, "ping", json!({})).status, 404);
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
}

#[test]
fn session_count_is_bounded_by_forgetting_the_longest_idle() {
    let s = server();
    let first = s.session(V11, json!({}));
    s.clock.advance_ms(1);
    let mut c = s.client();
    c.initialize(V11, json!({}));
    let second = c.session.clone();
    for _ in 0..scrypted_mcp::mcp::session::MAX_SESSIONS - 2 {
        s.clock.advance_ms(1);
        c.initialize(V11, json!({}));
    }
    assert_eq!(
        scrypted_mcp::mcp::active_sessions(&s.plugin.ctx),
        scrypted_mcp::mcp::session::MAX_SESSIONS
    );
    // The first is touched, so the second is now the longest idle.
    s.clock.advance_ms(1);
    assert_eq!(first.call(1, "ping", json!({})).result(), json!({}));
    c.initialize(V11, json!({}));
    assert_eq!(
        scrypted_mcp::mcp::active_sessions(&s.plugin.ctx),
        scrypted_mcp::mcp::session::MAX_SESSIONS
    );
    assert_eq!(first.call(2, "ping", json!({})).result(), json!({}));
    c.session = second;
    assert_eq!(c.call(3, "ping", json!({})).status, 404);
}

#[test]
fn revoking_a_client_closes_its_sessions() {
    let s = server();
    let a = s.session(V11, json!({}));
    let b = s.session(V11, json!({}));
    scrypted_mcp::mcp::close_client_sessions(&s.plugin.ctx, &a.client_id);
    assert_eq!(a.call(1, "ping", json!({})).status, 404);
    assert_eq!(b.call(1, "ping", json!({})).result(), json!({}));
    scrypted_mcp::mcp::close_all_sessions(&s.plugin.ctx);
    assert_eq!(b.call(2, "ping", json!({})).status, 404);
}

// ---------------------------------------------------------------------------------------
// Methods

#[test]
fn logging_set_level_validates_the_level() {
    let s = server();
    let c = s.session(V11, json!({}));
    assert_eq!(
        c.call(1, "logging/setLevel", json!({"level": "debug"}))
            .result(),
        json!({})
    );
    assert_eq!(
        c.call(2, "logging/setLevel", json!({"level": "loud"}))
            .error_code(),
        -32602
    );
    assert_eq!(
        c.call(3, "logging/setLevel", json!({})).error_code(),
        -32602
    );
}

#[test]
fn tools_list_fits_one_page_and_refuses_foreign_cursors() {
    let s = server();
    let c = s.session(V11, json!({}));
    let result = c.call(1, "tools/list", json!({})).result();
    assert!(result.get("resultType").is_none());
    // Clients that ignore nextCursor must still see every tool.
    assert!(result.get("nextCursor").is_none(), "{result}");
    let tools = result["tools"].as_array().unwrap();
    let mut names = Vec::new();
    for tool in tools {
        assert!(
            tool["name"].is_string() && tool["description"].is_string(),
            "{tool}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        names.push(tool["name"].as_str().unwrap().to_string());
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicate tool names");
    for name in common::ISSUE_TOOLS {
        assert!(
            names.iter().any(|n| n == name),
            "{name} not on the first page"
        );
    }
    #[cfg(not(feature = "conformance-fixtures"))]
    assert_eq!(
        names.len(),
        common::ISSUE_TOOLS.len(),
        "exactly the 39 tools: {names:?}"
    );
    for cursor in ["not-a-cursor", "cGFnZTE6MA", ""] {
        let reply = c.call(2, "tools/list", json!({ "cursor": cursor }));
        assert_eq!(reply.error_code(), -32602, "{cursor}");
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

#[test]
fn catalogue_tools_are_listed_as_defined() {
    let s = server();
    let c = s.session(V11, json!({}));
    let listed = all_tools(&c);
    for def in scrypted_mcp::tools::catalogue() {
        let tool = listed
            .iter()
            .find(|t| t["name"] == def.name)
            .unwrap_or_else(|| panic!("{} not listed", def.name));
        assert_eq!(tool["title"], def.title);
        assert_eq!(tool["description"], def.description);
        assert_eq!(tool["inputSchema"], Value::Object(def.input_schema.clone()));
        match &def.output_schema {
            Some(schema) => assert_eq!(tool["outputSchema"], Value::Object(schema.clone())),
            None => assert!(tool.get("outputSchema").is_none()),
        }
        let a = &tool["annotations"];
        assert_eq!(a["title"], def.title);
        assert_eq!(a["readOnlyHint"], def.hints.read_only, "{}", def.name);
        assert_eq!(a["destructiveHint"], def.hints.destructive, "{}", def.name);
        assert_eq!(a["idempotentHint"], def.hints.idempotent, "{}", def.name);
        assert_eq!(a["openWorldHint"], def.hints.open_world, "{}", def.name);
    }
}

#[test]
fn a_catalogue_tool_answers_structured_content_mirrored_as_text() {
    let s = server();
    let c = s.session(V11, json!({}));
    let result = c
        .call(
            1,
            "tools/call",
            json!({"name": "get_server_info", "arguments": {}}),
        )
        .result();
    assert_ne!(result["isError"], true, "{result}");
    let structured = &result["structuredContent"];
    assert!(structured.is_object(), "{result}");
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text, structured);
    assert!(result.get("resultType").is_none());
    let entry = &scrypted_mcp::audit::recent(&*s.store, 1)[0];
    assert_eq!(
        (entry.tool.as_str(), entry.outcome.as_str()),
        ("get_server_info", "ok")
    );
    assert_eq!(entry.elicitation, None);
    let hash_with_empty_arguments = entry.args_hash.clone();

    // 2025-03-26 has no structuredContent: the text block carries the same JSON.
    let old = s.session(V03, json!({}));
    let result = old
        .call(1, "tools/call", json!({"name": "get_server_info"}))
        .result();
    assert!(result.get("structuredContent").is_none());
    let old_text: Value =
        serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&old_text, structured);
    // Omitted arguments are audited as the empty object they mean.
    assert_eq!(
        scrypted_mcp::audit::recent(&*s.store, 1)[0].args_hash,
        hash_with_empty_arguments
    );
}

/// restore_backup in one chunk: the real tool that asks the user through elicitation.
fn restore_call(id: i64) -> Value {
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend(std::iter::repeat_n(7u8, 500));
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "restore_backup", "arguments": {
        "confirm": "RESTORE FROM BACKUP",
        "chunk_base64": scrypted_mcp::crypto::b64(&zip),
        "chunk_index": 0,
        "total_chunks": 1,
        "sha256": scrypted_mcp::crypto::sha256_hex(&zip),
    }}})
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

fn next_event(stream: &mut futures::stream::LocalBoxStream<'static, String>) -> Option<Value> {
    next_message(stream).map(|(_, message)| message)
}

#[test]
fn restore_backup_asks_the_user_through_elicitation() {
    let s = server();
    let c = s.session(V11, json!({"elicitation": {}}));
    let mut stream = open_stream(&c, &restore_call(1));
    let ask = next_event(&mut stream).unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["params"]["mode"], "form");
    let decision = &ask["params"]["requestedSchema"]["properties"]["decision"];
    assert_eq!(decision["enum"][0], "RESTORE", "{ask}");
    let answer = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"decision": "RESTORE"}}});
    assert_eq!(c.post(answer).status, 202);
    let done = next_event(&mut stream).unwrap();
    assert_eq!(done["id"], 1);
    assert_eq!(
        done["result"]["structuredContent"]["status"], "scheduled",
        "{done}"
    );
    assert!(next_event(&mut stream).is_none());
    let entry = &scrypted_mcp::audit::recent(&*s.store, 1)[0];
    assert_eq!(
        (entry.tool.as_str(), entry.outcome.as_str()),
        ("restore_backup", "ok")
    );
    assert_eq!(entry.elicitation.as_deref(), Some("accept"));

    for (answer, audited) in [
        (json!({"action": "decline"}), "decline"),
        (json!({"action": "cancel"}), "cancel"),
    ] {
        let mut stream = open_stream(&c, &restore_call(2));
        let ask = next_event(&mut stream).unwrap();
        c.post(json!({"jsonrpc": "2.0", "id": ask["id"], "result": answer}));
        let done = next_event(&mut stream).unwrap();
        assert_eq!(done["result"]["isError"], true, "{done}");
        let entry = &scrypted_mcp::audit::recent(&*s.store, 1)[0];
        assert_eq!(
            (entry.outcome.as_str(), entry.elicitation.as_deref()),
            ("refused", Some(audited))
        );
    }

    // A client without the capability is refused at once, as plain JSON.
    let plain = s.session(V11, json!({}));
    let reply = plain.post(restore_call(3));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.result()["isError"], true);
    let entry = &scrypted_mcp::audit::recent(&*s.store, 1)[0];
    assert_eq!(
        (entry.outcome.as_str(), entry.elicitation.as_deref()),
        ("refused", Some("unsupported"))
    );
}

/// 2025-11-25 transports: "the server SHOULD immediately send an SSE event consisting of
/// an event ID and an empty data field"; earlier revisions do not define it.
#[test]
fn sse_streams_are_primed_from_2025_11_25_only() {
    let s = server();
    let c = s.session(V11, json!({"elicitation": {}}));
    let mut stream = open_stream(&c, &restore_call(1));
    let first = block_on(stream.next()).unwrap();
    let (prime_id, message) = parse_event(&first);
    assert!(message.is_null(), "{first:?}");
    assert_eq!(first, format!("id: {prime_id}\ndata: \n\n"));
    let (ask_id, ask) = next_message(&mut stream).unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    assert!(
        ask_id.parse::<u64>().unwrap() > prime_id.parse::<u64>().unwrap(),
        "ids stay unique across the priming event"
    );

    let old = s.session(V06, json!({"elicitation": {}}));
    let mut stream = open_stream(&old, &restore_call(1));
    let (_, first) = parse_event(&block_on(stream.next()).unwrap());
    assert_eq!(
        first["method"], "elicitation/create",
        "no priming before 2025-11-25"
    );
}

/// Clients are untrusted: one malformed capability entry must not hide the well-formed
/// ones (elicitation decides whether restore_backup can ask the user at all).
#[test]
fn a_malformed_capability_does_not_hide_elicitation() {
    let s = server();
    let c = s.session(
        V11,
        json!({"elicitation": {}, "experimental": 5, "roots": "yes"}),
    );
    let mut stream = open_stream(&c, &restore_call(1));
    assert_eq!(
        next_event(&mut stream).unwrap()["method"],
        "elicitation/create"
    );
}

#[test]
fn unknown_tool_is_invalid_params_and_audited() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.call(
        1,
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {"b": 1, "a": 2}}),
    );
    assert_eq!(reply.error_code(), -32602);
    assert!(reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no_such_tool"));
    let trail = scrypted_mcp::audit::recent(&*s.store, 10);
    let entry = &trail[0];
    assert_eq!(entry.tool, "no_such_tool");
    assert_eq!(entry.outcome, "invalid_params");
    assert_eq!(entry.user, "admin");
    assert_eq!(entry.client_id, c.client_id);
    assert_eq!(entry.elicitation, None);
    // The hash is of the arguments, whatever order the client wrote them in.
    let hash_of = |id: i64, arguments: &str| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"no_such_tool","arguments":{arguments}}}}}"#
        );
        assert_eq!(read(c.post_raw(&body)).error_code(), -32602);
        scrypted_mcp::audit::recent(&*s.store, 1)[0]
            .args_hash
            .clone()
    };
    let sent_b_first = hash_of(3, r#"{"b":1,"a":2}"#);
    assert_eq!(hash_of(4, r#"{"a":2,"b":1}"#), sent_b_first);
    assert_eq!(entry.args_hash, sent_b_first);
    assert_ne!(hash_of(5, r#"{"a":2,"b":2}"#), sent_b_first);
    // Arguments that are not an object are invalid params too.
    let reply = c.call(
        2,
        "tools/call",
        json!({"name": "no_such_tool", "arguments": "x"}),
    );
    assert_eq!(reply.error_code(), -32602);
}

#[test]
fn audit_resource_lists_recent_calls() {
    let s = server();
    let c = s.session(V11, json!({}));
    c.call(1, "tools/call", json!({"name": "missing_tool"}));
    let list = c.call(2, "resources/list", json!({})).result();
    let audit = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["uri"] == "scrypted-mcp://audit/recent")
        .unwrap()
        .clone();
    assert_eq!(audit["mimeType"], "application/json");
    assert!(audit["name"].is_string());
    let read = c
        .call(
            3,
            "resources/read",
            json!({"uri": "scrypted-mcp://audit/recent"}),
        )
        .result();
    let contents = &read["contents"][0];
    assert_eq!(contents["mimeType"], "application/json");
    let entries: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(entries[0]["tool"], "missing_tool");
    let reply = c.call(
        4,
        "resources/read",
        json!({"uri": "scrypted-mcp://nothing"}),
    );
    assert_eq!(reply.error_code(), -32002);
    #[cfg(not(feature = "conformance-fixtures"))]
    assert_eq!(
        c.call(5, "resources/templates/list", json!({})).result(),
        json!({"resourceTemplates": []}),
        "no templates in production"
    );
    assert_eq!(
        c.call(6, "resources/list", json!({"cursor": "zz"}))
            .error_code(),
        -32602
    );
}

#[test]
fn prompts_and_completions() {
    let s = server();
    let c = s.session(V11, json!({}));
    let list = c.call(1, "prompts/list", json!({})).result();
    let prompts = list["prompts"].as_array().unwrap();
    for name in ["diagnose_server", "review_recent_tool_calls"] {
        let p = prompts.iter().find(|p| p["name"] == name).unwrap();
        assert!(p["description"].is_string(), "{p}");
    }
    let got = c
        .call(
            2,
            "prompts/get",
            json!({"name": "diagnose_server", "arguments": {"focus": "plugins"}}),
        )
        .result();
    let text = got["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(
        text.contains("get_server_info") && text.contains("plugins"),
        "{text}"
    );
    assert_eq!(got["messages"][0]["role"], "user");
    let reply = c.call(
        3,
        "prompts/get",
        json!({"name": "diagnose_server", "arguments": {"focus": "bogus"}}),
    );
    assert_eq!(reply.error_code(), -32602);
    assert_eq!(
        c.call(4, "prompts/get", json!({"name": "nope"}))
            .error_code(),
        -32602
    );
    let review = c
        .call(
            5,
            "prompts/get",
            json!({"name": "review_recent_tool_calls"}),
        )
        .result();
    assert_eq!(review["messages"][0]["content"]["type"], "resource");
    assert_eq!(
        review["messages"][0]["content"]["resource"]["uri"],
        "scrypted-mcp://audit/recent"
    );

    let done = c
        .call(6, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "diagnose_server"}, "argument": {"name": "focus", "value": "p"}}))
        .result();
    assert_eq!(
        done["completion"]["values"],
        json!(["plugins", "performance"])
    );
    assert_eq!(done["completion"]["hasMore"], false);
    let reply = c.call(7, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}}));
    assert_eq!(reply.error_code(), -32602);
    let reply = c.call(8, "completion/complete", json!({"ref": {"type": "ref/resource", "uri": "scrypted-mcp://x/{id}"}, "argument": {"name": "id", "value": ""}}));
    assert_eq!(reply.result()["completion"]["values"], json!([]));
}

#[test]
fn ping_answers_empty_object_as_json() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.call(7, "ping", json!({}));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json.unwrap(),
        json!({"jsonrpc": "2.0", "id": 7, "result": {}})
    );
    let reply = c.post(json!({"jsonrpc": "2.0", "id": "str-id", "method": "ping"}));
    assert_eq!(reply.response()["id"], "str-id");
}

// ---------------------------------------------------------------------------------------
// Streams, elicitation, progress, cancellation: these need the fixture tools.

#[cfg(feature = "conformance-fixtures")]
mod fixtures {
    use super::*;
    use futures::stream::LocalBoxStream;

    fn elicit_caps() -> Value {
        json!({"elicitation": {"form": {}}, "sampling": {}})
    }

    fn open(c: &Client<'_>, message: Value) -> LocalBoxStream<'static, String> {
        open_stream(c, &message)
    }

    fn next(stream: &mut LocalBoxStream<'static, String>) -> Option<(String, Value)> {
        next_message(stream)
    }

    fn call_tool(id: i64, name: &str, arguments: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
    }

    /// A call that waits for the client: test_elicitation asks first.
    fn waiting_call(id: i64) -> Value {
        call_tool(id, "test_elicitation", json!({"message": "m"}))
    }

    #[test]
    fn fixture_catalogue_is_listed() {
        let s = server();
        let c = s.session(V11, json!({}));
        let all = all_tools(&c);
        let json_schema = all
            .iter()
            .find(|t| t["name"] == "json_schema_2020_12_tool")
            .unwrap();
        assert_eq!(
            json_schema["inputSchema"]["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(
            json_schema["inputSchema"]["$defs"]["address"]["type"],
            "object"
        );
        assert_eq!(json_schema["inputSchema"]["additionalProperties"], false);
        for name in [
            "test_simple_text",
            "test_elicitation",
            "test_tool_with_progress",
            "test_sampling",
        ] {
            assert!(all.iter().any(|t| t["name"] == name), "{name}");
        }
    }

    #[test]
    fn content_fixtures_have_exact_payloads() {
        let s = server();
        let c = s.session(V11, json!({}));
        let r = c.post(call_tool(1, "test_simple_text", json!({}))).result();
        assert_eq!(
            r["content"],
            json!([{"type": "text", "text": "This is a simple text response for testing."}])
        );
        assert!(r.get("structuredContent").is_none() && r.get("resultType").is_none());
        let r = c
            .post(call_tool(2, "test_image_content", json!({})))
            .result();
        assert_eq!(r["content"][0]["type"], "image");
        assert_eq!(r["content"][0]["mimeType"], "image/png");
        let r = c
            .post(call_tool(3, "test_audio_content", json!({})))
            .result();
        assert_eq!(r["content"][0]["mimeType"], "audio/wav");
        let r = c
            .post(call_tool(4, "test_embedded_resource", json!({})))
            .result();
        assert_eq!(
            r["content"][0],
            json!({"type": "resource", "resource": {"uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}})
        );
        let r = c
            .post(call_tool(5, "test_multiple_content_types", json!({})))
            .result();
        let types: Vec<&str> = r["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["text", "image", "resource"]);
        assert_eq!(
            r["content"][2]["resource"]["text"],
            r#"{"test":"data","value":123}"#
        );
        let r = c
            .post(call_tool(6, "test_error_handling", json!({})))
            .result();
        assert_eq!(r["isError"], true);
        assert_eq!(
            r["content"][0]["text"],
            "This tool intentionally returns an error for testing"
        );
        let trail = scrypted_mcp::audit::recent(&*s.store, 1);
        assert_eq!(
            (trail[0].tool.as_str(), trail[0].outcome.as_str()),
            ("test_error_handling", "error")
        );

        let r = c
            .call(
                7,
                "resources/read",
                json!({"uri": "test://template/123/data"}),
            )
            .result();
        let body: Value = serde_json::from_str(r["contents"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(body["id"], "123");
        assert_eq!(r["contents"][0]["mimeType"], "application/json");
        let r = c
            .call(8, "resources/read", json!({"uri": "test://static-binary"}))
            .result();
        assert_eq!(r["contents"][0]["mimeType"], "image/png");
        assert!(r["contents"][0]["blob"].is_string());
        assert_eq!(
            c.call(
                9,
                "resources/subscribe",
                json!({"uri": "test://watched-resource"})
            )
            .result(),
            json!({})
        );
        assert_eq!(
            c.call(
                10,
                "resources/unsubscribe",
                json!({"uri": "test://watched-resource"})
            )
            .result(),
            json!({})
        );
        let r = c.call(11, "prompts/get", json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}})).result();
        assert_eq!(
            r["messages"][0]["content"]["text"],
            "Prompt with arguments: arg1='a', arg2='b'"
        );
        assert_eq!(
            c.call(
                12,
                "prompts/get",
                json!({"name": "test_prompt_with_arguments"})
            )
            .error_code(),
            -32602
        );
        let r = c
            .call(13, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "argument": {"name": "arg1", "value": ""}}))
            .result();
        // Free-text arguments have nothing to enumerate.
        assert_eq!(r["completion"]["values"], json!([]));
    }

    #[test]
    fn notifications_stream_before_the_response_with_unique_ids() {
        let s = server();
        let c = s.session(V11, json!({}));
        c.call(1, "logging/setLevel", json!({"level": "debug"}));
        let reply = c.post(call_tool(2, "test_tool_with_logging", json!({})));
        assert_eq!(reply.header("content-type"), Some("text/event-stream"));
        let logs = reply.notifications("notifications/message");
        let data: Vec<&str> = logs
            .iter()
            .map(|l| l["params"]["data"].as_str().unwrap())
            .collect();
        assert_eq!(
            data,
            [
                "Tool execution started",
                "Tool processing data",
                "Tool execution completed"
            ]
        );
        assert!(logs.iter().all(|l| l["params"]["level"] == "info"));
        let last = reply.events.last().unwrap();
        assert_eq!(last.1["id"], 2, "the response comes last");
        let again = c.post(call_tool(3, "test_tool_with_logging", json!({})));
        let mut ids: Vec<u64> = reply
            .events
            .iter()
            .chain(&again.events)
            .map(|(id, _)| id.parse().unwrap())
            .collect();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        // Above the session's level nothing is sent: the answer is plain JSON.
        c.call(4, "logging/setLevel", json!({"level": "error"}));
        let quiet = c.post(call_tool(5, "test_tool_with_logging", json!({})));
        assert_eq!(quiet.header("content-type"), Some("application/json"));
        // A client that takes only JSON gets JSON, without the notifications.
        let mut json_only = s.session(V11, json!({}));
        json_only.accept = "application/json";
        let reply = json_only.post(call_tool(1, "test_tool_with_logging", json!({})));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(
            reply.result()["content"][0]["text"],
            "Tool with logging executed successfully"
        );
    }

    #[test]
    fn progress_follows_the_request_token() {
        let s = server();
        let c = s.session(V11, json!({}));
        let reply = c.post(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "progress-test-1"}}}));
        let progress = reply.notifications("notifications/progress");
        let values: Vec<f64> = progress
            .iter()
            .map(|p| p["params"]["progress"].as_f64().unwrap())
            .collect();
        assert_eq!(values, [0.0, 50.0, 100.0]);
        assert!(progress
            .iter()
            .all(|p| p["params"]["progressToken"] == "progress-test-1"
                && p["params"]["total"] == 100.0));
        assert_eq!(reply.result()["content"][0]["text"], "progress-test-1");
        // Without a token: no progress, so a plain JSON answer.
        let reply = c.post(call_tool(2, "test_tool_with_progress", json!({})));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        // An integer token is echoed as an integer.
        let reply = c.post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
            "params": {"name": "test_tool_with_progress", "_meta": {"progressToken": 7}}}));
        assert_eq!(
            reply.notifications("notifications/progress")[0]["params"]["progressToken"],
            7
        );
    }

    /// Calls test_elicitation, answers the elicitation with `answer`, returns the tool's
    /// text and the elicitation request the client saw.
    fn elicit_round(c: &Client<'_>, answer: Value) -> (String, Value) {
        let mut stream = open(
            c,
            call_tool(10, "test_elicitation", json!({"message": "Who are you?"})),
        );
        let (_, request) = next(&mut stream).unwrap();
        assert_eq!(request["method"], "elicitation/create");
        let id = request["id"].clone();
        let reply = c.post(json!({"jsonrpc": "2.0", "id": id, "result": answer}));
        assert_eq!(reply.status, 202);
        let (_, response) = next(&mut stream).unwrap();
        assert!(
            next(&mut stream).is_none(),
            "the stream ends after the response"
        );
        (
            response["result"]["content"][0]["text"]
                .as_str()
                .unwrap()
                .to_string(),
            request,
        )
    }

    #[test]
    fn elicitation_accept_decline_cancel() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let (text, request) = elicit_round(
            &c,
            json!({"action": "accept", "content": {"username": "u", "email": "e@x"}}),
        );
        assert_eq!(
            text,
            r#"User response: action=accept, content={"email":"e@x","username":"u"}"#
        );
        let params = &request["params"];
        assert_eq!(params["message"], "Who are you?");
        assert_eq!(params["mode"], "form");
        assert_eq!(
            params["requestedSchema"]["required"],
            json!(["username", "email"])
        );
        let trail = scrypted_mcp::audit::recent(&*s.store, 1);
        assert_eq!(trail[0].elicitation.as_deref(), Some("accept"));
        assert_eq!(trail[0].outcome, "ok");

        let (text, _) = elicit_round(&c, json!({"action": "decline"}));
        assert!(text.contains("action=decline"), "{text}");
        assert_eq!(
            scrypted_mcp::audit::recent(&*s.store, 1)[0]
                .elicitation
                .as_deref(),
            Some("decline")
        );
        let (text, _) = elicit_round(&c, json!({"action": "cancel"}));
        assert!(text.contains("action=cancel"), "{text}");

        // 2025-06-18 predates `mode`.
        let old = s.session(V06, json!({"elicitation": {}}));
        let (_, request) = elicit_round(&old, json!({"action": "decline"}));
        assert!(request["params"].get("mode").is_none(), "{request}");
    }

    #[test]
    fn elicitation_error_answer_and_unsupported_client() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let mut stream = open(&c, waiting_call(1));
        let (_, request) = next(&mut stream).unwrap();
        let reply = c.post(json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "no"}}));
        assert_eq!(reply.status, 202);
        let (_, response) = next(&mut stream).unwrap();
        assert_eq!(response["result"]["isError"], true);
        // An "accept" whose content does not fit the schema is not passed on.
        let (text, _) = elicit_round(
            &c,
            json!({"action": "accept", "content": {"username": 5, "email": "e"}}),
        );
        assert!(
            text.starts_with("Elicitation not supported or error"),
            "{text}"
        );
        let (text, _) = elicit_round(
            &c,
            json!({"action": "accept", "content": {"username": "u"}}),
        );
        assert!(text.contains("required field email"), "{text}");

        for (version, caps) in [
            (V11, json!({})),
            (V03, json!({"elicitation": {}})),
            (V11, json!({"elicitation": {"url": {}}})),
        ] {
            let c = s.session(version, caps.clone());
            let reply = c.post(waiting_call(1));
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{caps}"
            );
            assert_eq!(reply.result()["isError"], true);
            let entry = &scrypted_mcp::audit::recent(&*s.store, 1)[0];
            assert_eq!(
                (entry.outcome.as_str(), entry.elicitation.as_deref()),
                ("refused", Some("unsupported"))
            );
        }
        // Without an event stream there is no way to ask.
        let mut json_only = s.session(V11, elicit_caps());
        json_only.accept = "application/json";
        assert_eq!(json_only.post(waiting_call(1)).result()["isError"], true);
    }

    #[test]
    fn elicitation_schema_fixtures_pass_through() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        for tool in [
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
        ] {
            let mut stream = open(&c, call_tool(1, tool, json!({})));
            let (_, request) = next(&mut stream).unwrap();
            let props = &request["params"]["requestedSchema"]["properties"];
            if tool.ends_with("defaults") {
                assert_eq!(props["name"]["default"], "John Doe");
                assert_eq!(props["age"]["default"], 30);
                assert_eq!(props["score"]["default"], 95.5);
                assert_eq!(props["status"]["default"], "active");
                assert_eq!(props["verified"]["default"], true);
            } else {
                assert_eq!(props["legacyEnum"]["enumNames"][0], "Option One");
                assert_eq!(props["titledSingle"]["oneOf"][1]["const"], "value2");
                assert_eq!(
                    props["titledMulti"]["items"]["anyOf"][2]["title"],
                    "Third Choice"
                );
                assert_eq!(props["untitledMulti"]["items"]["enum"][0], "option1");
            }
            // What the conformance client answers.
            let content = if tool.ends_with("defaults") {
                json!({"name": "Jane", "age": 31, "score": 90.5, "status": "pending", "verified": false})
            } else {
                json!({"untitledSingle": "option1", "titledSingle": "value1", "legacyEnum": "opt1",
                       "untitledMulti": ["option1", "option2"], "titledMulti": ["value1", "value2"]})
            };
            c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": content}}));
            let (_, response) = next(&mut stream).unwrap();
            let text = response["result"]["content"][0]["text"].as_str().unwrap();
            assert_eq!(
                text,
                format!("Elicitation completed: action=accept, content={content}")
            );
        }
    }

    #[test]
    fn sampling_round_trip() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let mut stream = open(&c, call_tool(1, "test_sampling", json!({"prompt": "Hi"})));
        let (_, request) = next(&mut stream).unwrap();
        assert_eq!(request["method"], "sampling/createMessage");
        assert_eq!(request["params"]["maxTokens"], 100);
        assert_eq!(request["params"]["messages"][0]["content"]["text"], "Hi");
        c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "Hello"}, "model": "m"}}));
        let (_, response) = next(&mut stream).unwrap();
        assert_eq!(
            response["result"]["content"][0]["text"],
            "LLM response: Hello"
        );
    }

    #[test]
    fn cancellation_stops_the_request_without_answer() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let mut stream = open(&c, waiting_call(41));
        let (_, request) = next(&mut stream).unwrap();
        let reply = c.notify(
            "notifications/cancelled",
            json!({"requestId": 41, "reason": "user"}),
        );
        assert_eq!(reply.status, 202);
        assert!(
            next(&mut stream).is_none(),
            "no response after cancellation"
        );
        // The parked elicitation is gone: a late answer is simply accepted.
        let reply =
            c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept"}}));
        assert_eq!(reply.status, 202);
        // The id may be used again once finished.
        assert_eq!(c.call(41, "ping", json!({})).result(), json!({}));
    }

    #[test]
    fn a_reused_id_survives_the_cancelled_run_ending() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let mut old = open(&c, waiting_call(7));
        next(&mut old).unwrap();
        c.notify("notifications/cancelled", json!({"requestId": 7}));
        // Reused before the cancelled run has even been dropped.
        let mut new = open(&c, waiting_call(7));
        next(&mut new).unwrap();
        drop(old);
        c.notify("notifications/cancelled", json!({"requestId": 7}));
        assert!(
            next(&mut new).is_none(),
            "the new run was still cancellable"
        );
    }

    #[test]
    fn concurrent_posts_each_get_their_answer() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let mut first = open(&c, waiting_call(1));
        let (_, request) = next(&mut first).unwrap();
        // While the first waits, others are served.
        assert_eq!(c.call(2, "ping", json!({})).result(), json!({}));
        let mut second = open(
            &c,
            call_tool(3, "test_elicitation", json!({"message": "n"})),
        );
        let (_, request2) = next(&mut second).unwrap();
        assert_ne!(request["id"], request2["id"]);
        // A second request with an id still in flight is refused.
        assert_eq!(c.call(1, "ping", json!({})).error_code(), -32600);
        c.post(json!({"jsonrpc": "2.0", "id": request2["id"], "result": {"action": "decline"}}));
        c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "cancel"}}));
        let (_, r2) = next(&mut second).unwrap();
        let (_, r1) = next(&mut first).unwrap();
        assert_eq!((r1["id"].clone(), r2["id"].clone()), (json!(1), json!(3)));
        assert!(r1["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("cancel"));
        assert!(r2["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("decline"));
    }

    #[test]
    fn deleting_the_session_ends_a_waiting_tool() {
        let s = server();
        let c = s.session(V11, elicit_caps());
        let mut stream = open(&c, waiting_call(1));
        next(&mut stream).unwrap();
        assert_eq!(s.send(c.request("DELETE", None)).status, 204);
        assert!(next(&mut stream).is_none());
    }
}
