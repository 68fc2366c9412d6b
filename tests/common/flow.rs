//! A complete OAuth flow over `Plugin::handle`, for tests that need a valid access token.
//!
//! Include it with `#[path = "common/flow.rs"] mod flow;`.
#![allow(dead_code)]

use scrypted_mcp::http::{Headers, Request, Response};
use scrypted_mcp::Plugin;

/// The plugin's public endpoint prefix, as Scrypted passes it in `rootPath`.
pub const ROOT: &str = "/endpoint/scrypted-mcp/public";

/// The loopback redirect URI `obtain_tokens` registers.
pub const REDIRECT_URI: &str = "http://127.0.0.1:33418/callback";

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub client_id: String,
}

/// A request to `ROOT + path_and_query` with `Host: origin_host`.
pub fn request(method: &str, path_and_query: &str, origin_host: &str) -> Request {
    let mut headers = Headers::default();
    headers.insert("host".to_string(), origin_host.to_string());
    Request {
        method: method.to_string(),
        url: format!("{ROOT}{path_and_query}"),
        root_path: ROOT.to_string(),
        headers,
        body: None,
        username: None,
        acl_id: None,
    }
}

pub fn send(plugin: &Plugin, req: Request) -> Response {
    futures::executor::block_on(plugin.handle(req))
}

/// POST /register with a public client using `REDIRECT_URI`; returns the client id.
pub fn register(plugin: &Plugin, origin_host: &str) -> String {
    let mut req = request("POST", "/register", origin_host);
    req.headers
        .insert("content-type".into(), "application/json".into());
    req.body = Some(
        serde_json::json!({
            "client_name": "flow test client",
            "redirect_uris": [REDIRECT_URI],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        })
        .to_string(),
    );
    let resp = send(plugin, req);
    assert_eq!(resp.status, 201, "register: {:?}", resp.body_text());
    resp.body_json().unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = scrypted_mcp::crypto::random_token();
    let challenge =
        scrypted_mcp::crypto::b64url(&scrypted_mcp::crypto::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// GET /authorize as the logged-in admin `admin`; returns the redirect URL (code, state,
/// and `iss` unless switched off).
pub fn authorize_redirect(
    plugin: &Plugin,
    origin_host: &str,
    client_id: &str,
    challenge: &str,
) -> url::Url {
    authorize_scoped(plugin, origin_host, client_id, challenge, "scrypted:admin")
}

/// GET /authorize asking for `scope`; returns the redirect URL.
pub fn authorize_scoped(
    plugin: &Plugin,
    origin_host: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
) -> url::Url {
    authorize_as(plugin, origin_host, client_id, challenge, scope, "admin")
}

/// GET /authorize asking for `scope`, as the logged-in Scrypted admin `username`.
pub fn authorize_as(
    plugin: &Plugin,
    origin_host: &str,
    client_id: &str,
    challenge: &str,
    scope: &str,
    username: &str,
) -> url::Url {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "flow-state")
        .append_pair("scope", scope)
        .finish();
    let mut req = request("GET", &format!("/authorize?{query}"), origin_host);
    req.username = Some(username.into());
    let resp = approve_consent(plugin, origin_host, username, send(plugin, req), None);
    assert_eq!(resp.status, 302, "authorize: {:?}", resp.body_text());
    url::Url::parse(resp.get_header("location").unwrap()).unwrap()
}

/// The hidden fields (the CSRF token among them) and the scope checkboxes of a consent page.
pub fn consent_form(html: &str) -> (Vec<(String, String)>, Vec<String>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = tag[start..].find('"')?;
        Some(html_escape::decode_html_entities(&tag[start..start + len]).into_owned())
    };
    let mut hidden = Vec::new();
    let mut boxes = Vec::new();
    for tag in html.split("<input").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let (Some(kind), Some(name)) = (attr(tag, "type"), attr(tag, "name")) else {
            continue;
        };
        match kind.as_str() {
            "hidden" => hidden.push((name, attr(tag, "value").unwrap_or_default())),
            "checkbox" => boxes.push(name),
            _ => {}
        }
    }
    (hidden, boxes)
}

/// The one way the Rust suites pass the consent page, as the admin `username` at the
/// browser would:
/// when `page` is the consent page, POSTs its form (same origin) with the checkboxes of
/// `grant` ticked (`None`: every scope it shows) and `decision=approve`; any other answer
/// is returned as it is.
pub fn approve_consent(
    plugin: &Plugin,
    origin_host: &str,
    username: &str,
    page: Response,
    grant: Option<&[&str]>,
) -> Response {
    let html = page.body_text().unwrap_or_default().to_string();
    if page.status != 200 || !html.contains("name=\"csrf\"") {
        return page;
    }
    let (hidden, boxes) = consent_form(&html);
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &hidden {
        form.append_pair(k, v);
    }
    for b in boxes {
        let scope = format!("scrypted:{}", b.trim_start_matches("grant_"));
        if grant.is_none_or(|g| g.contains(&scope.as_str())) {
            form.append_pair(&b, "on");
        }
    }
    form.append_pair("decision", "approve");
    let mut req = request("POST", "/authorize", origin_host);
    req.username = Some(username.into());
    req.headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    req.headers
        .insert("origin".into(), format!("http://{origin_host}"));
    req.body = Some(form.finish());
    send(plugin, req)
}

/// GET /authorize as the logged-in admin `admin`; returns the code from the redirect.
pub fn authorize(plugin: &Plugin, origin_host: &str, client_id: &str, challenge: &str) -> String {
    authorize_redirect(plugin, origin_host, client_id, challenge)
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code in redirect")
}

/// POST /token with a raw form body; returns the response.
pub fn token_request(plugin: &Plugin, origin_host: &str, fields: &[(&str, &str)]) -> Response {
    let mut req = request("POST", "/token", origin_host);
    req.headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    req.body = Some(form.finish());
    send(plugin, req)
}

/// POST /token exchanging `code` (issued for [`REDIRECT_URI`]) with its PKCE verifier.
pub fn exchange_code(
    plugin: &Plugin,
    origin_host: &str,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> Response {
    token_request(
        plugin,
        origin_host,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
            ("client_id", client_id),
        ],
    )
}

/// register → authorize (as "admin") → token, all over `Plugin::handle`.
pub fn obtain_tokens(plugin: &Plugin, origin_host: &str) -> Tokens {
    let client_id = register(plugin, origin_host);
    tokens_for(plugin, origin_host, &client_id, "scrypted:admin")
}

/// authorize `client_id` for `scope` (as "admin") → token: a new grant.
pub fn tokens_for(plugin: &Plugin, origin_host: &str, client_id: &str, scope: &str) -> Tokens {
    tokens_as(plugin, origin_host, client_id, scope, "admin")
}

/// authorize `client_id` for `scope` as the Scrypted admin `username` → token.
pub fn tokens_as(
    plugin: &Plugin,
    origin_host: &str,
    client_id: &str,
    scope: &str,
    username: &str,
) -> Tokens {
    let client_id = client_id.to_string();
    let (verifier, challenge) = pkce();
    let code = authorize_as(plugin, origin_host, &client_id, &challenge, scope, username)
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code in redirect");
    let resp = exchange_code(plugin, origin_host, &client_id, &code, &verifier);
    assert_eq!(resp.status, 200, "token: {:?}", resp.body_text());
    let body = resp.body_json().unwrap();
    Tokens {
        access_token: body["access_token"].as_str().unwrap().to_string(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
        client_id,
    }
}

/// A JSON POST to /mcp with `Authorization: Bearer <token>`.
pub fn mcp_post(origin_host: &str, token: &str, body: &serde_json::Value) -> Request {
    let mut req = request("POST", "/mcp", origin_host);
    req.headers
        .insert("authorization".into(), format!("Bearer {token}"));
    req.headers
        .insert("content-type".into(), "application/json".into());
    req.body = Some(body.to_string());
    req
}

/// Marks `req` as part of the initialized (2025-06-18) session `id`.
pub fn in_session(req: &mut Request, id: &str) {
    req.headers.insert("mcp-session-id".into(), id.into());
    req.headers
        .insert("mcp-protocol-version".into(), "2025-06-18".into());
}

/// A 2025-06-18 `initialize` request from a client named `client_name`.
pub fn initialize_body(client_name: &str) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": client_name, "version": "1"}
        }
    })
}

/// A JSON-RPC POST to /mcp answered as plain JSON, inside `session` when given.
pub fn rpc(
    plugin: &Plugin,
    origin_host: &str,
    token: &str,
    session: Option<&str>,
    body: serde_json::Value,
) -> Response {
    let mut req = mcp_post(origin_host, token, &body);
    req.headers
        .insert("accept".into(), "application/json".into());
    if let Some(id) = session {
        in_session(&mut req, id);
    }
    send(plugin, req)
}

/// initialize + notifications/initialized as client `client_name`; returns the session id.
pub fn open_session(plugin: &Plugin, origin_host: &str, token: &str, client_name: &str) -> String {
    let resp = rpc(
        plugin,
        origin_host,
        token,
        None,
        initialize_body(client_name),
    );
    assert_eq!(resp.status, 200, "initialize: {:?}", resp.body_text());
    let id = resp
        .get_header("mcp-session-id")
        .expect("session id")
        .to_string();
    let note = serde_json::json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let resp = rpc(plugin, origin_host, token, Some(&id), note);
    assert_eq!(resp.status, 202, "initialized: {:?}", resp.body_text());
    id
}
