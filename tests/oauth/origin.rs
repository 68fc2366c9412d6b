//! The Origin rules, CORS headers and the hint page.

use super::*;

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
