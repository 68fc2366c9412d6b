//! MCP 2026-07-28 through `Plugin::handle` with real access tokens: the stateless
//! pipeline beside legacy sessions (era routing, `_meta`, the mirrored headers, every
//! rejection with its status and code), `server/discover`, result shapes and caching
//! hints, and `subscriptions/listen`. Tests that need a diagnostic tool of the
//! conformance fixtures live in `fixtures` (`cargo test --features conformance-fixtures
//! --test modern`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/flow.rs"]
mod flow;
#[path = "../common/reply.rs"]
mod reply;

mod devices;
#[cfg(feature = "conformance-fixtures")]
mod fixtures;
mod listen;
mod long_requests;
mod mrtr;
mod pipeline;
mod results;
mod scopes;
#[cfg(feature = "conformance-fixtures")]
mod task_input;
mod tasks;
mod uploads;

use futures::executor::block_on;
use reply::{read, Reply};
use scrypted_mcp::clock::FixedClock;
use scrypted_mcp::http::{Request, Response};
use scrypted_mcp::store::MemStore;
use scrypted_mcp::Plugin;
use serde_json::{json, Map, Value};
use std::rc::Rc;

const HOST: &str = "127.0.0.1:11080";
const V26: &str = "2026-07-28";

struct Server {
    plugin: Plugin,
    host: Rc<common::FakeBridge>,
    store: Rc<MemStore>,
    clock: Rc<FixedClock>,
    token: String,
}

/// A plugin and an access token for it.
fn server() -> Server {
    let (plugin, host, store, clock) = common::plugin();
    let token = flow::obtain_tokens(&plugin, HOST).access_token;
    Server {
        plugin,
        host,
        store,
        clock,
        token,
    }
}

impl Server {
    fn send(&self, req: Request) -> Response {
        block_on(self.plugin.handle(req))
    }

    fn post(&self, rpc: &Rpc) -> Reply {
        read(self.send(rpc.request(&self.token)))
    }

    /// Everything the plugin stores, to show a refused request changed nothing.
    fn stored(&self) -> std::collections::BTreeMap<String, String> {
        self.store.snapshot()
    }
}

/// One 2026-07-28 request, conformant unless a test breaks one part of it: the headers
/// mirror the body, `_meta` carries version, capabilities and client identity.
#[derive(Clone)]
struct Rpc {
    id: Value,
    method: String,
    params: Map<String, Value>,
    meta: Map<String, Value>,
    headers: Vec<(String, Option<String>)>,
    no_meta: bool,
}

/// The header `Mcp-Name` mirrors for `method`, as a conformant client sends it.
fn name_of(method: &str, params: &Value) -> Option<String> {
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return None,
    };
    params.get(field).and_then(Value::as_str).map(String::from)
}

fn rpc(method: &str, params: Value) -> Rpc {
    let Value::Object(params) = params else {
        panic!("params must be an object");
    };
    let mut meta = Map::new();
    meta.insert("io.modelcontextprotocol/protocolVersion".into(), json!(V26));
    meta.insert(
        "io.modelcontextprotocol/clientInfo".into(),
        json!({"name": "modern-test", "version": "1.0"}),
    );
    meta.insert(
        "io.modelcontextprotocol/clientCapabilities".into(),
        json!({}),
    );
    let mut headers = vec![
        (
            "accept".to_string(),
            Some("application/json, text/event-stream".to_string()),
        ),
        ("mcp-protocol-version".to_string(), Some(V26.to_string())),
        ("mcp-method".to_string(), Some(method.to_string())),
    ];
    if let Some(name) = name_of(method, &Value::Object(params.clone())) {
        headers.push(("mcp-name".to_string(), Some(name)));
    }
    Rpc {
        id: json!(1),
        method: method.to_string(),
        params,
        meta,
        headers,
        no_meta: false,
    }
}

impl Rpc {
    fn id(mut self, id: Value) -> Self {
        self.id = id;
        self
    }
    /// Sets (or with `None` removes) a header; names are case-insensitive.
    fn header(mut self, name: &str, value: Option<&str>) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.map(String::from)));
        self
    }
    fn meta(mut self, key: &str, value: Option<Value>) -> Self {
        let key = format!("io.modelcontextprotocol/{key}");
        match value {
            Some(v) => self.meta.insert(key, v),
            None => self.meta.remove(&key),
        };
        self
    }
    fn caps(self, caps: Value) -> Self {
        self.meta("clientCapabilities", Some(caps))
    }
    /// The retry of an MRTR round: `responses` and the `requestState` of `asked` (the
    /// `InputRequiredResult`), under id 2.
    fn answering(mut self, asked: &Value, responses: Value) -> Self {
        self.id = json!(2);
        self.params.insert("inputResponses".into(), responses);
        self.params
            .insert("requestState".into(), asked["requestState"].clone());
        self
    }
    fn without_meta(mut self) -> Self {
        self.no_meta = true;
        self
    }
    fn body(&self) -> Value {
        let mut params = self.params.clone();
        if !self.no_meta {
            params.insert("_meta".into(), Value::Object(self.meta.clone()));
        }
        json!({"jsonrpc": "2.0", "id": self.id, "method": self.method, "params": params})
    }
    fn request(&self, token: &str) -> Request {
        let mut req = flow::mcp_post(HOST, token, &self.body());
        for (name, value) in &self.headers {
            match value {
                Some(v) => req.headers.insert(name.clone(), v.clone()),
                None => req.headers.remove(name),
            };
        }
        req
    }
}

/// A JSON-RPC error answered with `status` and `code`, echoing the request id `id`.
fn assert_rejected(reply: &Reply, status: u16, code: i64, id: Value) {
    let response = reply.response();
    assert_eq!(reply.status, status, "{response}");
    assert_eq!(response["error"]["code"], code, "{response}");
    assert_eq!(response["id"], id, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{response}"
    );
}
