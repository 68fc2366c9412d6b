//! The Origin rules, CORS headers and the hint page.

use super::*;
use std::rc::Rc;

#[test]
fn cors_preflight_and_headers() {
    let (p, ..) = plugin();
    // A browser client on this machine (the MCP inspector) reaching us over loopback.
    let mut req = request("OPTIONS", "/mcp", "127.0.0.1:11080");
    req.headers
        .insert("origin".into(), "http://localhost:6274".into());
    let resp = send(&p, req);
    assert_eq!(resp.status, 204);
    assert_eq!(
        resp.get_header("access-control-allow-origin"),
        Some("http://localhost:6274")
    );
    let allow = resp.get_header("access-control-allow-headers").unwrap();
    for h in [
        "authorization",
        "mcp-session-id",
        "mcp-protocol-version",
        "last-event-id",
    ] {
        assert!(allow.contains(h));
    }
    // 2026-07-28 streamable-http: every POST carries Mcp-Method and Mcp-Name, and a tool's
    // x-mcp-header arguments as Mcp-Param-{Name}, whose names the browser asks for.
    let mut req = request("OPTIONS", "/mcp", "127.0.0.1:11080");
    req.headers
        .insert("origin".into(), "http://localhost:6274".into());
    req.headers.insert(
        "access-control-request-headers".into(),
        "authorization,content-type,mcp-method,mcp-name,mcp-protocol-version,Mcp-Param-Region,x-other,mcp-param-a b".into(),
    );
    let resp = send(&p, req);
    let allow: Vec<&str> = resp
        .get_header("access-control-allow-headers")
        .unwrap()
        .split(", ")
        .collect();
    for h in ["mcp-method", "mcp-name", "mcp-param-region"] {
        assert!(allow.contains(&h), "{h} in {allow:?}");
    }
    assert!(
        !allow.iter().any(|h| h.contains("other") || h.contains(' ')),
        "{allow:?}"
    );
    assert!(resp
        .get_header("vary")
        .unwrap()
        .contains("Access-Control-Request-Headers"));
    assert!(resp
        .get_header("access-control-allow-methods")
        .unwrap()
        .contains("DELETE"));
    let mut req = get("/.well-known/oauth-authorization-server");
    req.headers
        .insert("origin".into(), "https://inspector.example".into());
    let resp = send(&p, req);
    assert_eq!(
        resp.get_header("access-control-allow-origin"),
        Some("https://inspector.example")
    );
    assert!(resp
        .get_header("access-control-expose-headers")
        .unwrap()
        .contains("www-authenticate"));
    assert_eq!(resp.get_header("vary"), Some("Origin"));
}

#[test]
fn origin_allowed_rules() {
    use scrypted_mcp::origin::{base, origin_allowed};
    let (p, ..) = plugin();
    let with = |host: &str, origin: Option<&str>| {
        let mut req = request("POST", "/mcp", host);
        if let Some(o) = origin {
            req.headers.insert("origin".into(), o.into());
        }
        origin_allowed(&req, &block_on(base(&p.ctx, &req)))
    };
    assert!(with(HOST, None));
    assert!(with(HOST, Some("http://192.168.1.10:11080")));
    assert!(!with(HOST, Some("http://evil.example")));
    assert!(!with(HOST, Some("http://192.168.1.10:9999")));
    assert!(!with(HOST, Some("http://localhost:11080")));
    assert!(with("127.0.0.1:11080", Some("http://localhost:6274")));
    assert!(with("localhost:11080", Some("http://127.0.0.1:3000")));
    assert!(!with("127.0.0.1:11080", Some("http://evil.example")));
    assert!(!with(
        "127.0.0.1:11080",
        Some("http://127.0.0.1.evil.example.com")
    ));
    assert!(!with(HOST, Some("null")));
}

#[test]
fn hint_page_names_the_mcp_url() {
    let (p, ..) = plugin();
    let resp = send(&p, get("/"));
    assert_eq!(resp.status, 200);
    assert!(resp.body_text().unwrap().contains(MCP_URL));
}

#[test]
fn iss_parameter_can_be_switched_off_for_codex() {
    let (p, _, store, _) = plugin();
    store.set(oauth::ISS_PARAMETER_KEY, "false");
    let m = send(&p, get("/.well-known/openid-configuration"))
        .body_json()
        .unwrap();
    assert_eq!(m["authorization_response_iss_parameter_supported"], false);
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (_, challenge) = pkce();
    let resp = authorize_as_admin(&p, &client_id, Some(REDIRECT_URI), &challenge, &[]);
    let (_, params) = location_params(&resp);
    assert!(params.contains_key("code"));
    assert!(!params.contains_key("iss"));
}

/// The bridge of a host that holds its answer to `serverPorts` until `gate` opens.
struct SlowPorts {
    fake: Rc<super::common::FakeBridge>,
    gate: futures::future::Shared<futures::channel::oneshot::Receiver<()>>,
}

#[async_trait::async_trait(?Send)]
impl scrypted_mcp::host::Bridge for SlowPorts {
    async fn call(&self, method: &str, args: Value) -> Result<Value, String> {
        if method == "serverPorts" {
            let _ = self.gate.clone().await;
        }
        self.fake.call(method, args).await
    }
    fn notify(&self, method: &str, args: Value) {
        self.fake.notify(method, args)
    }
    fn volume_read(&self, name: &str) -> Result<Option<String>, String> {
        self.fake.volume_read(name)
    }
    fn volume_append(&self, name: &str, text: &str) -> Result<(), String> {
        self.fake.volume_append(name, text)
    }
    fn volume_replace(&self, name: &str, text: &str) -> Result<(), String> {
        self.fake.volume_replace(name, text)
    }
}

/// The server's ports are asked at start (`Plugin::prefetch`, issue 12: the round trip
/// overlaps Scrypted's start-up of the plugin), once: a first request that arrives while
/// that ask is out waits for the same answer, and later requests ask nothing.
#[test]
fn server_ports_are_asked_once_from_start() {
    use futures::{Future, FutureExt};
    use scrypted_mcp::host::Bridge;
    use std::task::Context;
    let (open, gate) = futures::channel::oneshot::channel();
    let fake = Rc::new(super::common::FakeBridge::new(super::common::NOW_MS));
    let bridge = Rc::new(SlowPorts {
        fake: fake.clone(),
        gate: gate.shared(),
    });
    let store = Rc::new(scrypted_mcp::store::MemStore::default());
    let clock = Rc::new(scrypted_mcp::clock::FixedClock::at_ms(
        super::common::NOW_MS,
    ));
    let p = Plugin::new(bridge as Rc<dyn Bridge>, store, clock);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let mut start = Box::pin(p.prefetch());
    let mut first = Box::pin(p.handle(get("/")));
    assert!(start.as_mut().poll(&mut cx).is_pending());
    assert!(first.as_mut().poll(&mut cx).is_pending());
    open.send(()).unwrap();
    block_on(start);
    let resp = block_on(first);
    assert_eq!(resp.status, 200);
    assert!(resp.body_text().unwrap().contains(MCP_URL));
    assert_eq!(fake.calls_of("serverPorts").len(), 1, "asked once");
    assert_eq!(send(&p, get("/")).status, 200);
    assert_eq!(fake.calls_of("serverPorts").len(), 1, "asked once");
}
