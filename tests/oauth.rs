//! The authorization server and the bearer check, driven through `Plugin::handle` with a
//! fixed clock and an in-memory store.

mod common;
#[path = "common/flow.rs"]
mod flow;

use common::plugin;
use flow::{pkce, request, send, token_request, REDIRECT_URI, ROOT};
use futures::executor::block_on;
use scrypted_mcp::http::{Request, Response};
use scrypted_mcp::oauth;
use scrypted_mcp::store::Store;
use scrypted_mcp::Plugin;
use serde_json::{json, Value};
use std::cell::RefCell;

const HOST: &str = "192.168.1.10:11080";
const ISSUER: &str = "http://192.168.1.10:11080/endpoint/scrypted-mcp/public";
const MCP_URL: &str = "http://192.168.1.10:11080/endpoint/scrypted-mcp/public/mcp";
const PRM_URL: &str =
    "http://192.168.1.10:11080/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource";
const CLAUDE_AI: &str = "https://claude.ai/api/mcp/auth_callback";

fn get(path: &str) -> Request {
    request("GET", path, HOST)
}

fn json_post(path: &str, body: Value) -> Request {
    let mut req = request("POST", path, HOST);
    req.headers
        .insert("content-type".into(), "application/json".into());
    req.body = Some(body.to_string());
    req
}

fn register_with(p: &Plugin, uris: &[&str], name: &str) -> Response {
    send(
        p,
        json_post(
            "/register",
            json!({"client_name": name, "redirect_uris": uris, "token_endpoint_auth_method": "none"}),
        ),
    )
}

fn register_ok(p: &Plugin, uris: &[&str]) -> String {
    let resp = register_with(p, uris, "Test App");
    assert_eq!(resp.status, 201, "{:?}", resp.body_text());
    resp.body_json().unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn authorize_query(
    client_id: &str,
    redirect: Option<&str>,
    challenge: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "st-123");
    if let Some(r) = redirect {
        q.append_pair("redirect_uri", r);
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    q.finish()
}

/// GET /authorize with `authorize_query`'s parameters, not logged in.
fn authorize_get(
    client_id: &str,
    redirect: Option<&str>,
    challenge: &str,
    extra: &[(&str, &str)],
) -> Request {
    get(&format!(
        "/authorize?{}",
        authorize_query(client_id, redirect, challenge, extra)
    ))
}

/// GET /authorize as the logged-in admin.
fn authorize_as_admin(
    p: &Plugin,
    client_id: &str,
    redirect: Option<&str>,
    challenge: &str,
    extra: &[(&str, &str)],
) -> Response {
    send(
        p,
        as_admin(authorize_get(client_id, redirect, challenge, extra)),
    )
}

fn as_admin(mut req: Request) -> Request {
    req.username = Some("admin".into());
    req
}

fn location_params(resp: &Response) -> (url::Url, std::collections::BTreeMap<String, String>) {
    let url = url::Url::parse(resp.get_header("location").expect("location")).unwrap();
    let params = url.query_pairs().into_owned().collect();
    (url, params)
}

/// register (loopback) → authorize → code; returns (client_id, verifier, code).
fn code_for(p: &Plugin) -> (String, String, String) {
    let client_id = register_ok(p, &[REDIRECT_URI]);
    let (verifier, challenge) = pkce();
    let code = flow::authorize(p, HOST, &client_id, &challenge);
    (client_id, verifier, code)
}

/// The form fields of an authorization_code token request, in the order clients send them.
fn code_fields<'a>(
    code: &'a str,
    redirect: Option<&'a str>,
    verifier: &'a str,
    client_id: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![("grant_type", "authorization_code"), ("code", code)];
    if let Some(r) = redirect {
        fields.push(("redirect_uri", r));
    }
    fields.extend([("code_verifier", verifier), ("client_id", client_id)]);
    fields
}

fn exchange(p: &Plugin, client_id: &str, verifier: &str, code: &str) -> Response {
    token_request(
        p,
        HOST,
        &code_fields(code, Some(REDIRECT_URI), verifier, client_id),
    )
}

fn refresh(p: &Plugin, client_id: &str, refresh_token: &str) -> Response {
    token_request(
        p,
        HOST,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ],
    )
}

/// A refresh that must succeed; its JSON body.
fn refreshed(p: &Plugin, client_id: &str, refresh_token: &str) -> Value {
    let resp = refresh(p, client_id, refresh_token);
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    resp.body_json().unwrap()
}

fn error_of(resp: &Response) -> String {
    resp.body_json().unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string()
}

fn mcp_request(host: &str, token: Option<&str>) -> Request {
    let mut req = request("POST", "/mcp", host);
    if let Some(t) = token {
        req.headers
            .insert("authorization".into(), format!("Bearer {t}"));
    }
    req
}

fn authenticate(p: &Plugin, req: &Request) -> Result<oauth::AccessClaims, Response> {
    block_on(oauth::authenticate(&p.ctx, req))
}

fn challenge_of(resp: &Response) -> String {
    assert_eq!(resp.status, 401);
    resp.get_header("www-authenticate").unwrap().to_string()
}

// ---------------------------------------------------------------- metadata

#[test]
fn metadata_documents_have_the_required_fields_and_one_issuer() {
    let (p, ..) = plugin();
    let prm = send(&p, get("/.well-known/oauth-protected-resource"));
    assert_eq!(prm.status, 200);
    assert_eq!(prm.get_header("content-type"), Some("application/json"));
    let prm = prm.body_json().unwrap();
    assert_eq!(prm["resource"], MCP_URL);
    assert_eq!(prm["authorization_servers"], json!([ISSUER]));
    assert_eq!(prm["scopes_supported"], json!(["scrypted:admin"]));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    let prm_mcp = send(&p, get("/.well-known/oauth-protected-resource/mcp"));
    assert_eq!(prm_mcp.body_json().unwrap(), prm);

    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let mut req = get(path);
        req.headers
            .insert("mcp-protocol-version".into(), "2026-07-28".into());
        let resp = send(&p, req);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.get_header("content-type"), Some("application/json"));
        let m = resp.body_json().unwrap();
        assert_eq!(m["issuer"], ISSUER);
        assert_eq!(m["issuer"], prm["authorization_servers"][0]);
        assert_eq!(m["authorization_endpoint"], format!("{ISSUER}/authorize"));
        assert_eq!(m["token_endpoint"], format!("{ISSUER}/token"));
        assert_eq!(m["registration_endpoint"], format!("{ISSUER}/register"));
        assert_eq!(m["revocation_endpoint"], format!("{ISSUER}/revoke"));
        assert_eq!(m["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
        assert_eq!(m["subject_types_supported"], json!(["public"]));
        assert_eq!(m["id_token_signing_alg_values_supported"], json!(["ES256"]));
        assert_eq!(m["response_types_supported"], json!(["code"]));
        assert_eq!(
            m["grant_types_supported"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["token_endpoint_auth_methods_supported"], json!(["none"]));
        assert_eq!(m["scopes_supported"], json!(["scrypted:admin"]));
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        assert!(m.get("client_id_metadata_document_supported").is_none());
        assert!(!m.to_string().contains("offline_access"));
    }
}

#[test]
fn jwks_publishes_the_p256_key() {
    let (p, ..) = plugin();
    let resp = send(&p, get("/.well-known/jwks.json"));
    assert_eq!(resp.status, 200);
    let jwks = resp.body_json().unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    for c in ["x", "y"] {
        let bytes = scrypted_mcp::crypto::b64url_decode(key[c].as_str().unwrap()).unwrap();
        assert_eq!(bytes.len(), 32);
    }
    // The key persists: a second plugin on the same store publishes the same key.
    let again = send(&p, get("/.well-known/jwks.json")).body_json().unwrap();
    assert_eq!(again, jwks);
}

#[test]
fn issuer_follows_forwarded_headers_and_the_port() {
    let (p, ..) = plugin();
    let mut req = get("/.well-known/openid-configuration");
    req.headers
        .insert("x-forwarded-proto".into(), "https".into());
    req.headers
        .insert("x-forwarded-host".into(), "mcp.example.com".into());
    let m = send(&p, req).body_json().unwrap();
    assert_eq!(
        m["issuer"],
        "https://mcp.example.com/endpoint/scrypted-mcp/public"
    );

    let req = request(
        "GET",
        "/.well-known/openid-configuration",
        "192.168.1.10:10443",
    );
    let m = send(&p, req).body_json().unwrap();
    assert_eq!(
        m["issuer"],
        "https://192.168.1.10:10443/endpoint/scrypted-mcp/public"
    );

    // A hostile Host cannot inject markup or paths into the issuer.
    let req = request("GET", "/.well-known/openid-configuration", "evil\"/x<y>");
    let m = send(&p, req).body_json().unwrap();
    assert!(!m["issuer"].as_str().unwrap().contains('"'));
}

// ---------------------------------------------------------------- registration

#[test]
fn registration_accepts_every_major_client_redirect_set_in_one_call() {
    let (p, ..) = plugin();
    let sets: &[&[&str]] = &[
        // Cursor
        &[
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "https://www.cursor.com/agents/mcp/oauth/callback",
            "http://localhost:8787/callback",
        ],
        // VS Code
        &[
            "http://127.0.0.1:33418/",
            "http://127.0.0.1/",
            "https://vscode.dev/redirect",
            "https://insiders.vscode.dev/redirect",
        ],
        // claude.ai / Claude Desktop
        &[CLAUDE_AI, "https://claude.com/api/mcp/auth_callback"],
        // ChatGPT
        &[
            "https://chatgpt.com/connector/oauth/abc123",
            "https://chatgpt.com/connector_platform_oauth_redirect",
        ],
        // Claude Code, IPv6 loopback
        &[
            "http://localhost:54321/callback",
            "http://[::1]:3000/callback",
        ],
    ];
    for set in sets {
        let resp = register_with(&p, set, "App");
        assert_eq!(resp.status, 201, "{set:?}: {:?}", resp.body_text());
        assert_eq!(resp.get_header("cache-control"), Some("no-store"));
        let body = resp.body_json().unwrap();
        assert_eq!(body["redirect_uris"], json!(set));
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert_eq!(
            body["grant_types"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(body["response_types"], json!(["code"]));
        assert_eq!(body["client_name"], "App");
        assert!(body["client_id"].as_str().unwrap().len() >= 32);
        assert!(body["client_id_issued_at"].as_u64().is_some());
        assert!(!body.to_string().contains("null"), "{body}");
    }
}

#[test]
fn registration_omits_null_fields_and_answers_none_for_secret_methods() {
    let (p, _, store, _) = plugin();
    let resp = send(
        &p,
        json_post(
            "/register",
            json!({"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "client_secret_basic",
                   "client_uri": null, "logo_uri": null, "application_type": "native"}),
        ),
    );
    assert_eq!(resp.status, 201);
    let body = resp.body_json().unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert!(body.get("client_name").is_none());
    assert!(body.get("client_secret").is_none());
    assert!(!body.to_string().contains("null"));
    let id = body["client_id"].as_str().unwrap();
    let stored: Value =
        serde_json::from_str(&store.get(&format!("oauth.client.{id}")).unwrap()).unwrap();
    assert!(stored["created_ms"].as_u64().is_some());
    assert!(stored["last_used_ms"].as_u64().is_some());
}

#[test]
fn registration_refuses_hostile_redirect_uris_and_writes_nothing() {
    let (p, _, store, _) = plugin();
    for bad in [
        "javascript:alert(1)",
        "data:text/html,<script>x</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "https://claude.ai/cb#fragment",
        "http://evil.example.com/callback",
        "not a url",
        // url is built without IDNA tables (Cargo.toml): a non-ASCII host is refused
        // clearly instead of being parsed; its punycode form still works.
        "https://bücher.example/cb",
    ] {
        let before = store.writes.get();
        // A hostile URI anywhere in the list fails the whole registration.
        let resp = register_with(&p, &[CLAUDE_AI, bad], "Evil");
        assert_eq!(resp.status, 400, "{bad}");
        assert_eq!(error_of(&resp), "invalid_redirect_uri", "{bad}");
        assert_eq!(store.writes.get(), before, "{bad} wrote to storage");
    }
    assert_eq!(oauth::client_count(&p.ctx), 0);
}

#[test]
fn registration_size_is_bounded_because_storage_ships_whole() {
    // scrypted-host.md §5: every storage write ships the whole map, so what an
    // unauthenticated /register may store must stay small: 100 such clients would
    // otherwise put over a megabyte on every write.
    let (p, _, store, _) = plugin();
    let long: Vec<String> = (0..15)
        .map(|i| format!("https://app.example/{i}/{}", "x".repeat(900)))
        .collect();
    let uris: Vec<&str> = long.iter().map(String::as_str).collect();
    let before = store.writes.get();
    let resp = register_with(&p, &uris, "Bulky");
    assert_eq!(resp.status, 400, "{:?}", resp.body_text());
    assert_eq!(error_of(&resp), "invalid_redirect_uri");
    assert!(resp.body_text().unwrap().contains("4096"));
    assert_eq!(store.writes.get(), before);
    // Cursor's three URIs, or VS Code's four, are far inside the bound.
    register_ok(
        &p,
        &[
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "https://www.cursor.com/agents/mcp/oauth/callback",
            "http://localhost:8787/callback",
        ],
    );
}

#[test]
fn registration_refuses_bad_metadata() {
    let (p, _, store, _) = plugin();
    let cases = [
        json!({"redirect_uris": [REDIRECT_URI], "grant_types": ["client_credentials"]}),
        json!({"redirect_uris": [REDIRECT_URI], "grant_types": ["refresh_token"]}),
        json!({"redirect_uris": [REDIRECT_URI], "response_types": ["token"]}),
        json!({"redirect_uris": REDIRECT_URI}),
        json!({"redirect_uris": [REDIRECT_URI], "client_name": "x".repeat(500)}),
        json!([1, 2]),
    ];
    for body in cases {
        let resp = send(&p, json_post("/register", body.clone()));
        assert_eq!(resp.status, 400, "{body}");
        assert_eq!(error_of(&resp), "invalid_client_metadata", "{body}");
    }
    let resp = send(
        &p,
        json_post("/register", json!({"client_name": "no uris"})),
    );
    assert_eq!(error_of(&resp), "invalid_redirect_uri");
    let mut huge = request("POST", "/register", HOST);
    huge.body = Some(format!(
        "{{\"redirect_uris\":[\"{REDIRECT_URI}\"],\"x\":\"{}\"}}",
        "a".repeat(20_000)
    ));
    assert_eq!(send(&p, huge).status, 400);
    assert_eq!(store.writes.get(), 0);
}

#[test]
fn registration_cap_evicts_the_least_recently_used_idle_client() {
    let (p, _, store, clock) = plugin();
    store.set("settings.dcr_max_clients", "3");
    // Client A holds live tokens; B and C are idle, B older than C.
    let tokens_a = flow::obtain_tokens(&p, HOST);
    clock.advance_sec(120);
    let b = register_ok(&p, &[REDIRECT_URI]);
    clock.advance_sec(120);
    let c = register_ok(&p, &[REDIRECT_URI]);
    clock.advance_sec(120);
    assert_eq!(oauth::client_count(&p.ctx), 3);
    let d = register_ok(&p, &[REDIRECT_URI]);
    assert_eq!(oauth::client_count(&p.ctx), 3);
    let ids: Vec<String> = oauth::clients(&p.ctx)
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert!(ids.contains(&tokens_a.client_id));
    assert!(!ids.contains(&b), "LRU idle client evicted");
    assert!(ids.contains(&c) && ids.contains(&d));

    // When every client holds live tokens, registration is refused, nothing evicted.
    // With a cap of 1 and client A live, evicting the idle ones would not make room.
    store.set("settings.dcr_max_clients", "1");
    let writes = store.writes.get();
    let resp = register_with(&p, &[REDIRECT_URI], "One too many");
    assert_eq!(resp.status, 503, "{:?}", resp.body_text());
    assert_eq!(error_of(&resp), "temporarily_unavailable");
    assert!(resp.body_json().unwrap()["error_description"]
        .as_str()
        .unwrap()
        .contains("dcr_max_clients"));
    assert_eq!(store.writes.get(), writes);
    assert!(oauth::clients(&p.ctx)
        .iter()
        .any(|c| c.client_id == tokens_a.client_id && c.live_tokens));
}

#[test]
fn idle_registrations_expire_after_90_days_but_connected_apps_stay() {
    let (p, _, store, clock) = plugin();
    // A year-long refresh lifetime keeps A's grant live across the 90 days.
    store.set("settings.refresh_token_ttl_sec", "31536000");
    let connected = flow::obtain_tokens(&p, HOST);
    let idle = register_ok(&p, &[REDIRECT_URI]);
    clock.advance_sec(89 * 24 * 3600);
    register_ok(&p, &[REDIRECT_URI]);
    assert!(
        oauth::clients(&p.ctx).iter().any(|c| c.client_id == idle),
        "kept at 89 days"
    );
    clock.advance_sec(2 * 24 * 3600);
    let newer = register_ok(&p, &[REDIRECT_URI]);
    let ids: Vec<String> = oauth::clients(&p.ctx)
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert!(
        !ids.contains(&idle),
        "an idle registration is forgotten after 90 days"
    );
    assert!(
        ids.contains(&connected.client_id),
        "an app with live tokens stays"
    );
    assert!(ids.contains(&newer));
    // The forgotten client's next token request gets invalid_client, so it re-registers.
    let resp = flow::token_request(
        &p,
        HOST,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x.y"),
            ("client_id", &idle),
        ],
    );
    assert_eq!(
        (resp.status, error_of(&resp).as_str()),
        (401, "invalid_client")
    );
}

// ---------------------------------------------------------------- authorize

#[test]
fn authorize_without_login_shows_a_login_page() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (_, challenge) = pkce();
    let writes = store.writes.get();
    let resp = send(
        &p,
        authorize_get(&client_id, Some(REDIRECT_URI), &challenge, &[]),
    );
    assert_eq!(resp.status, 401);
    assert!(resp
        .get_header("content-type")
        .unwrap()
        .starts_with("text/html"));
    let html = resp.body_text().unwrap();
    assert!(html.contains("Log into Scrypted first"));
    assert!(html.contains("href=\"http://192.168.1.10:11080/login?redirect=http%3A%2F%2F192.168.1.10%3A11080%2Fendpoint"));
    assert!(html.contains("per scheme"));
    assert!(resp.get_header("location").is_none());
    assert_eq!(store.writes.get(), writes);
}

#[test]
fn authorize_refuses_non_admins_with_403() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (_, challenge) = pkce();
    let mut req = authorize_get(&client_id, Some(REDIRECT_URI), &challenge, &[]);
    req.username = Some("viewer".into());
    req.acl_id = Some("acl-test-1".into());
    let writes = store.writes.get();
    let resp = send(&p, req);
    assert_eq!(resp.status, 403);
    assert!(resp.body_text().unwrap().contains("not an admin"));
    assert_eq!(store.writes.get(), writes);
}

#[test]
fn authorize_requires_pkce_s256() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (verifier, challenge) = pkce();
    let writes = store.writes.get();
    for query in [
        // plain
        authorize_query(&client_id, Some(REDIRECT_URI), &verifier, &[]).replace("S256", "plain"),
        // no method
        authorize_query(&client_id, Some(REDIRECT_URI), &challenge, &[])
            .replace("&code_challenge_method=S256", ""),
        // no challenge
        authorize_query(&client_id, Some(REDIRECT_URI), "", &[]),
    ] {
        let resp = send(&p, as_admin(get(&format!("/authorize?{query}"))));
        assert_eq!(resp.status, 302, "{query}");
        let (url, params) = location_params(&resp);
        assert!(url.as_str().starts_with(REDIRECT_URI));
        assert_eq!(params["error"], "invalid_request");
        assert_eq!(params["state"], "st-123");
        assert_eq!(params["iss"], ISSUER);
        assert!(!params.contains_key("code"));
    }
    assert_eq!(store.writes.get(), writes);
}

#[test]
fn authorize_errors_for_an_unconsented_non_loopback_redirect_are_pages_not_redirects() {
    // RFC 9700 §4.11.2: the AS redirects automatically only to a URI it trusts. With open
    // registration, an https redirect is trusted only once the admin approved it, so an
    // error found before that is shown here: otherwise anyone could register
    // https://evil.example/ and use this server as an open redirector for admins.
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &["https://evil.example/phish"]);
    let (verifier, challenge) = pkce();
    let writes = store.writes.get();
    for (query, code) in [
        (
            authorize_query(&client_id, None, &verifier, &[]).replace("S256", "plain"),
            "invalid_request",
        ),
        (
            authorize_query(&client_id, None, &challenge, &[])
                .replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            authorize_query(
                &client_id,
                None,
                &challenge,
                &[("resource", "https://other.example/mcp")],
            ),
            "invalid_target",
        ),
    ] {
        let resp = send(&p, as_admin(get(&format!("/authorize?{query}"))));
        assert_eq!(resp.status, 400, "{query}");
        assert!(resp.get_header("location").is_none(), "{query}");
        assert!(resp.body_text().unwrap().contains(code), "{code}");
    }
    assert_eq!(store.writes.get(), writes);
}

#[test]
fn authorize_errors_before_redirect_validation_are_pages_not_redirects() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI, "http://localhost:9/cb"]);
    let (_, challenge) = pkce();
    let writes = store.writes.get();
    for (query, needle) in [
        (
            authorize_query(
                &client_id,
                Some("https://evil.example.com/cb"),
                &challenge,
                &[],
            ),
            "not one this client registered",
        ),
        // localhost and 127.0.0.1 never match each other
        (
            authorize_query(
                &client_id,
                Some("http://localhost:33418/callback"),
                &challenge,
                &[],
            ),
            "not one this client registered",
        ),
        (
            authorize_query(&client_id, None, &challenge, &[]),
            "several redirect URIs",
        ),
        (
            authorize_query("no-such-client", Some(REDIRECT_URI), &challenge, &[]),
            "not registered",
        ),
        (
            authorize_query(&client_id, Some(REDIRECT_URI), &challenge, &[])
                .replace(&format!("client_id={client_id}"), ""),
            "no client_id",
        ),
    ] {
        let resp = send(&p, as_admin(get(&format!("/authorize?{query}"))));
        assert_eq!(resp.status, 400, "{query}");
        assert!(resp.get_header("location").is_none());
        assert!(resp.body_text().unwrap().contains(needle), "{needle}");
    }
    assert_eq!(store.writes.get(), writes);
}

#[test]
fn authorize_loopback_redirects_at_once_on_any_port_with_state_and_iss() {
    let (p, ..) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (_, challenge) = pkce();
    let other_port = "http://127.0.0.1:5555/callback";
    let resp = authorize_as_admin(
        &p,
        &client_id,
        Some(other_port),
        &challenge,
        &[("scope", "scrypted:admin offline_access")],
    );
    assert_eq!(resp.status, 302);
    let (url, params) = location_params(&resp);
    assert_eq!(url.port(), Some(5555));
    assert_eq!(url.path(), "/callback");
    assert!(!params["code"].is_empty());
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], ISSUER);

    // With exactly one registered URI, redirect_uri may be omitted.
    let resp = authorize_as_admin(&p, &client_id, None, &challenge, &[]);
    assert_eq!(resp.status, 302);
    assert!(resp
        .get_header("location")
        .unwrap()
        .starts_with(REDIRECT_URI));
}

#[test]
fn authorize_resource_defaults_normalises_and_rejects_others() {
    let (p, ..) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (verifier, challenge) = pkce();
    for ok in [
        MCP_URL.to_string(),
        format!("{MCP_URL}/"),
        format!("{MCP_URL}?foo=bar"),
        "HTTP://192.168.1.10:11080/endpoint/scrypted-mcp/public/mcp".to_string(),
    ] {
        let resp = authorize_as_admin(
            &p,
            &client_id,
            Some(REDIRECT_URI),
            &challenge,
            &[("resource", &ok)],
        );
        let (_, params) = location_params(&resp);
        assert!(params.contains_key("code"), "{ok}: {params:?}");
        // The token is always for the canonical URL.
        let token = exchange(&p, &client_id, &verifier, &params["code"]);
        assert_eq!(token.status, 200);
        let access = token.body_json().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let claims = authenticate(&p, &mcp_request(HOST, Some(&access))).unwrap();
        assert_eq!(claims.aud, MCP_URL);
    }
    for bad in [
        "http://192.168.1.10:11080/endpoint/other/public/mcp",
        "https://192.168.1.10:11080/endpoint/scrypted-mcp/public/mcp",
        "urn:x",
    ] {
        let resp = authorize_as_admin(
            &p,
            &client_id,
            Some(REDIRECT_URI),
            &challenge,
            &[("resource", bad)],
        );
        let (_, params) = location_params(&resp);
        assert_eq!(params["error"], "invalid_target", "{bad}");
        assert_eq!(params["state"], "st-123");
    }
}

#[test]
fn oauth_pages_escape_everything_a_client_or_request_controls() {
    // Open registration lets anyone choose client_name and the redirect URI's query, and
    // any link can carry state: none may become markup on a page shown to a logged-in
    // admin (reference/client-compat.md §4.2: the consent page names the client).
    let (p, ..) = plugin();
    let evil = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    let redirect = "https://app.example/cb?x=%22%3E%3Cscript%3E";
    let resp = register_with(&p, &[redirect], evil);
    let client_id = resp.body_json().unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, challenge) = pkce();
    let query = authorize_query(&client_id, Some(redirect), &challenge, &[]).replace(
        "state=st-123",
        "state=%22%3E%3Cscript%3Ealert(3)%3C%2Fscript%3E",
    );
    let pages = [
        // consent page
        send(&p, as_admin(get(&format!("/authorize?{query}")))),
        // login page, with a hostile path and Host
        send(&p, {
            let mut r = get(&format!("/authorize?{query}&x=%3Cscript%3E"));
            r.headers
                .insert("host".into(), "evil\"><script>.example".into());
            r
        }),
        // unregistered redirect URI error page
        authorize_as_admin(
            &p,
            &client_id,
            Some("https://x.example/\"><script>"),
            &challenge,
            &[],
        ),
    ];
    for page in pages {
        let html = page.body_text().unwrap();
        assert!(html.starts_with("<!doctype html>"), "{html}");
        for markup in ["<script", "<img"] {
            assert!(!html.contains(markup), "{markup} unescaped in {html}");
        }
    }
}

fn consent_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in html.split("<input type=\"hidden\" ").skip(1) {
        let name = part
            .split("name=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let value = part
            .split("value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let value = value
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        out.push((name.to_string(), value));
    }
    out
}

fn consent_post(
    fields: &[(String, String)],
    decision: &str,
    json_form: bool,
    user: &str,
) -> Request {
    let mut req = request("POST", "/authorize", HOST);
    req.username = Some(user.into());
    req.headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    let mut all: Vec<(String, String)> = fields.to_vec();
    all.push(("decision".into(), decision.into()));
    req.body = Some(if json_form {
        // What Scrypted delivers for a form post.
        let map: serde_json::Map<String, Value> = all
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Value::Object(map).to_string()
    } else {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &all {
            s.append_pair(k, v);
        }
        s.finish()
    });
    req
}

#[test]
fn authorize_https_redirect_needs_csrf_protected_consent() {
    let (p, host, store, clock) = plugin();
    host.add_user("admin2", "x", None);
    let resp = send(
        &p,
        json_post(
            "/register",
            json!({"client_name": "Claude <web>", "redirect_uris": [CLAUDE_AI, "https://claude.com/api/mcp/auth_callback"]}),
        ),
    );
    let client_id = resp.body_json().unwrap()["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (verifier, challenge) = pkce();
    let page = authorize_as_admin(&p, &client_id, Some(CLAUDE_AI), &challenge, &[]);
    assert_eq!(page.status, 200);
    assert!(page.get_header("location").is_none());
    assert_eq!(page.get_header("x-frame-options"), Some("DENY"));
    let html = page.body_text().unwrap().to_string();
    assert!(html.contains("Claude &lt;web&gt;"), "client named, escaped");
    assert!(html.contains("<b>claude.ai</b>"), "redirect host named");
    assert!(html.contains(&format!("action=\"{ROOT}/authorize\"")));
    let fields = consent_fields(&html);
    assert!(fields.iter().any(|(k, _)| k == "csrf"));

    // Forged, missing or foreign CSRF tokens: a page, no redirect, no write.
    let writes = store.writes.get();
    let mut forged = fields.clone();
    for f in forged.iter_mut() {
        if f.0 == "csrf" {
            f.1 = format!("{}.AAAA", p.ctx.clock.now_sec());
        }
    }
    let no_csrf: Vec<_> = fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect();
    let mut other_state = fields.clone();
    for f in other_state.iter_mut() {
        if f.0 == "state" {
            f.1 = "changed".into();
        }
    }
    for (attempt, user) in [
        (&forged, "admin"),
        (&no_csrf, "admin"),
        (&other_state, "admin"),
        (&fields, "admin2"),
    ] {
        let resp = send(&p, consent_post(attempt, "approve", true, user));
        assert_eq!(resp.status, 400);
        assert!(resp.get_header("location").is_none());
    }
    assert_eq!(store.writes.get(), writes);

    // Deny (raw form body) → access_denied at the client, with state and iss.
    let resp = send(&p, consent_post(&fields, "deny", false, "admin"));
    assert_eq!(resp.status, 302);
    let (url, params) = location_params(&resp);
    assert!(url.as_str().starts_with(CLAUDE_AI));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], ISSUER);
    assert_eq!(store.writes.get(), writes);

    // Approve (Scrypted's JSON form body) → a code that works.
    let resp = send(&p, consent_post(&fields, "approve", true, "admin"));
    assert_eq!(resp.status, 302);
    let (_, params) = location_params(&resp);
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], ISSUER);
    let token = token_request(
        &p,
        HOST,
        &code_fields(&params["code"], Some(CLAUDE_AI), &verifier, &client_id),
    );
    assert_eq!(token.status, 200, "{:?}", token.body_text());

    // A consent form older than ten minutes is refused.
    let (_, challenge) = pkce();
    let page = authorize_as_admin(&p, &client_id, Some(CLAUDE_AI), &challenge, &[]);
    let fields = consent_fields(page.body_text().unwrap());
    clock.advance_sec(601);
    let resp = send(&p, consent_post(&fields, "approve", true, "admin"));
    assert_eq!(resp.status, 400);
}

// ---------------------------------------------------------------- token

#[test]
fn token_accepts_raw_and_json_form_bodies_with_no_store() {
    let (p, ..) = plugin();
    // Raw form.
    let (client_id, verifier, code) = code_for(&p);
    let resp = exchange(&p, &client_id, &verifier, &code);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.get_header("cache-control"), Some("no-store"));
    assert_eq!(resp.get_header("content-type"), Some("application/json"));
    let body = resp.body_json().unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "scrypted:admin");
    assert!(body["refresh_token"].as_str().unwrap().len() > 40);
    let claims = authenticate(&p, &mcp_request(HOST, body["access_token"].as_str())).unwrap();
    assert_eq!(claims.sub, "admin");
    assert_eq!(claims.client_id, client_id);
    assert_eq!(claims.scope, "scrypted:admin");

    // Scrypted's JSON-object form.
    let (client_id, verifier, code) = code_for(&p);
    let mut req = request("POST", "/token", HOST);
    req.headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    req.body = Some(
        json!({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
               "code_verifier": verifier, "client_id": client_id, "resource": MCP_URL})
        .to_string(),
    );
    let resp = send(&p, req);
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    assert_eq!(resp.get_header("cache-control"), Some("no-store"));
}

/// Form fields, expected status, expected error code.
type TokenCase<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

#[test]
fn token_errors_are_json_with_the_right_status_and_write_nothing() {
    let (p, _, store, _) = plugin();
    let (client_id, verifier, code) = code_for(&p);
    let (other_verifier, _) = pkce();
    let writes = store.writes.get();
    let cases: Vec<TokenCase> = vec![
        (
            vec![("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (vec![("code", &code)], 400, "invalid_request"),
        (
            code_fields(&code, Some(REDIRECT_URI), &other_verifier, &client_id),
            400,
            "invalid_grant",
        ),
        (
            code_fields(
                &code,
                Some("http://127.0.0.1:1/callback"),
                &verifier,
                &client_id,
            ),
            400,
            "invalid_grant",
        ),
        (
            code_fields(&code, None, &verifier, &client_id),
            400,
            "invalid_grant",
        ),
        (
            code_fields("nope", Some(REDIRECT_URI), &verifier, &client_id),
            400,
            "invalid_grant",
        ),
        (
            [
                code_fields(&code, Some(REDIRECT_URI), &verifier, &client_id),
                vec![("resource", "http://other.example/mcp")],
            ]
            .concat(),
            400,
            "invalid_target",
        ),
        (
            code_fields(&code, Some(REDIRECT_URI), &verifier, "unknown"),
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "abc.def"),
                ("client_id", &client_id),
            ],
            400,
            "invalid_grant",
        ),
    ];
    for (fields, status, error) in cases {
        let resp = token_request(&p, HOST, &fields);
        assert_eq!(resp.status, status, "{fields:?}: {:?}", resp.body_text());
        assert_eq!(error_of(&resp), error, "{fields:?}");
        assert!(resp.body_json().unwrap()["error_description"].is_string());
        assert_eq!(resp.get_header("cache-control"), Some("no-store"));
        assert_eq!(resp.get_header("content-type"), Some("application/json"));
    }
    assert_eq!(store.writes.get(), writes);
    // The code survived the failed attempts.
    assert_eq!(exchange(&p, &client_id, &verifier, &code).status, 200);
}

#[test]
fn code_is_single_use_and_a_replay_revokes_what_it_issued() {
    let (p, host, ..) = plugin();
    let (client_id, verifier, code) = code_for(&p);
    let first = exchange(&p, &client_id, &verifier, &code)
        .body_json()
        .unwrap();
    let access = first["access_token"].as_str().unwrap();
    assert!(authenticate(&p, &mcp_request(HOST, Some(access))).is_ok());

    let replay = exchange(&p, &client_id, &verifier, &code);
    assert_eq!(replay.status, 400);
    assert_eq!(error_of(&replay), "invalid_grant");
    let err = authenticate(&p, &mcp_request(HOST, Some(access))).unwrap_err();
    assert!(challenge_of(&err).contains("error=\"invalid_token\""));
    let r = refresh(&p, &client_id, first["refresh_token"].as_str().unwrap());
    assert_eq!(error_of(&r), "invalid_grant");
    assert!(host
        .console_lines()
        .iter()
        .any(|(l, m)| l == "warn" && m.contains("used twice")));
}

#[test]
fn codes_and_refresh_tokens_are_bound_to_their_client() {
    // RFC 6749 §4.1.3 / §6: a code or refresh token presented by another client is
    // invalid_grant; RFC 7009 §2.1: another client's revocation request is refused
    // (answered 200 without revoking).
    let (p, ..) = plugin();
    let other = register_ok(&p, &[REDIRECT_URI]);
    let (client_id, verifier, code) = code_for(&p);
    let stolen = exchange(&p, &other, &verifier, &code);
    assert_eq!(stolen.status, 400);
    assert_eq!(error_of(&stolen), "invalid_grant");
    let own = exchange(&p, &client_id, &verifier, &code);
    assert_eq!(own.status, 200, "the rightful client still gets its tokens");
    let own = own.body_json().unwrap();
    let refresh_token = own["refresh_token"].as_str().unwrap();

    let stolen = refresh(&p, &other, refresh_token);
    assert_eq!(stolen.status, 400);
    assert_eq!(error_of(&stolen), "invalid_grant");

    let mut req = request("POST", "/revoke", HOST);
    req.body = Some(format!("token={refresh_token}&client_id={other}"));
    assert_eq!(send(&p, req).status, 200);
    assert!(authenticate(&p, &mcp_request(HOST, own["access_token"].as_str())).is_ok());
    assert_eq!(refresh(&p, &client_id, refresh_token).status, 200);
}

#[test]
fn pending_codes_are_bounded_because_storage_ships_whole() {
    // A web page can send a logged-in admin's browser to /authorize again and again (a
    // loopback client is approved without a page): each visit stores a code, and every
    // storage write ships the whole map (scrypted-host.md §5), so codes must be capped.
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let mut last = None;
    for _ in 0..100 {
        let (verifier, challenge) = pkce();
        last = Some((verifier, flow::authorize(&p, HOST, &client_id, &challenge)));
    }
    let codes = store
        .keys()
        .iter()
        .filter(|k| k.starts_with("oauth.code."))
        .count();
    assert!(codes <= 32, "{codes} codes stored");
    // The newest code still works.
    let (verifier, code) = last.unwrap();
    assert_eq!(exchange(&p, &client_id, &verifier, &code).status, 200);
}

#[test]
fn code_expires_after_60_seconds() {
    let (p, _, _, clock) = plugin();
    let (client_id, verifier, code) = code_for(&p);
    clock.advance_sec(61);
    let resp = exchange(&p, &client_id, &verifier, &code);
    assert_eq!(resp.status, 400);
    assert_eq!(error_of(&resp), "invalid_grant");

    let (client_id, verifier, code) = code_for(&p);
    clock.advance_sec(59);
    assert_eq!(exchange(&p, &client_id, &verifier, &code).status, 200);
}

#[test]
fn refresh_rotates_every_time() {
    let (p, _, _, clock) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    clock.advance_sec(10);
    let r1 = refresh(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(r1.status, 200, "{:?}", r1.body_text());
    assert_eq!(r1.get_header("cache-control"), Some("no-store"));
    let b1 = r1.body_json().unwrap();
    assert_ne!(b1["refresh_token"], t0.refresh_token.as_str());
    assert_ne!(b1["access_token"], t0.access_token.as_str());
    assert_eq!(b1["expires_in"], 3600);
    assert_eq!(b1["scope"], "scrypted:admin");
    assert!(authenticate(&p, &mcp_request(HOST, b1["access_token"].as_str())).is_ok());
    // Narrowing or repeating the scope and sending the resource are fine; widening is not.
    clock.advance_sec(10);
    let r2 = token_request(
        &p,
        HOST,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", b1["refresh_token"].as_str().unwrap()),
            ("client_id", &t0.client_id),
            ("scope", "scrypted:admin offline_access"),
            ("resource", &format!("{MCP_URL}/")),
        ],
    );
    assert_eq!(r2.status, 200, "{:?}", r2.body_text());
    let b2 = r2.body_json().unwrap();
    let wide = token_request(
        &p,
        HOST,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", b2["refresh_token"].as_str().unwrap()),
            ("scope", "scrypted:admin root"),
        ],
    );
    assert_eq!(error_of(&wide), "invalid_scope");
    assert_eq!(oauth::refresh_token_count(&p.ctx), 1);
}

#[test]
fn refresh_grace_window_retry_gets_the_same_successor() {
    // Issue §4 and client-compat.md §6: the just-replaced token is honoured within the
    // grace window "with the same successor", so a client that kept the first answer is
    // not later taken for a thief.
    let (p, _, _, clock) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    let r1 = refreshed(&p, &t0.client_id, &t0.refresh_token);
    clock.advance_sec(30);
    // The same refresh from a second place (or a retry after a lost answer): honoured.
    let r2 = refreshed(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(r2["refresh_token"], r1["refresh_token"]);
    assert!(authenticate(&p, &mcp_request(HOST, r2["access_token"].as_str())).is_ok());
    assert!(authenticate(&p, &mcp_request(HOST, r1["access_token"].as_str())).is_ok());
    // Long after the window, the successor both answers carried is still the current one.
    clock.advance_sec(600);
    let r3 = refresh(&p, &t0.client_id, r1["refresh_token"].as_str().unwrap());
    assert_eq!(r3.status, 200, "{:?}", r3.body_text());
    assert_eq!(oauth::refresh_token_count(&p.ctx), 1);
    // And the original token, now outside its window, is reuse.
    let reuse = refresh(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(error_of(&reuse), "invalid_grant");
}

#[test]
fn refresh_retry_after_the_successor_was_used_still_leaves_one_current_token() {
    let (p, _, _, clock) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    let r1 = refreshed(&p, &t0.client_id, &t0.refresh_token);
    clock.advance_sec(5);
    let r2 = refreshed(&p, &t0.client_id, r1["refresh_token"].as_str().unwrap());
    clock.advance_sec(5);
    // A late retry of t0, within its window, after its successor was itself rotated.
    let late = refreshed(&p, &t0.client_id, &t0.refresh_token);
    assert_ne!(late["refresh_token"], r1["refresh_token"]);
    assert_ne!(late["refresh_token"], r2["refresh_token"]);
    clock.advance_sec(1);
    let r3 = refresh(&p, &t0.client_id, late["refresh_token"].as_str().unwrap());
    assert_eq!(r3.status, 200);
    assert_eq!(oauth::refresh_token_count(&p.ctx), 1);
}

#[test]
fn refresh_reuse_outside_the_grace_window_revokes_the_family() {
    let (p, host, _, clock) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    let r1 = refreshed(&p, &t0.client_id, &t0.refresh_token);
    clock.advance_sec(61);
    let reuse = refresh(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(reuse.status, 400);
    assert_eq!(error_of(&reuse), "invalid_grant");
    // The whole family is gone: the successor and its access token too.
    let r = refresh(&p, &t0.client_id, r1["refresh_token"].as_str().unwrap());
    assert_eq!(error_of(&r), "invalid_grant");
    assert!(authenticate(&p, &mcp_request(HOST, r1["access_token"].as_str())).is_err());
    assert_eq!(oauth::refresh_token_count(&p.ctx), 0);
    assert!(host
        .console_lines()
        .iter()
        .any(|(l, m)| l == "warn" && m.contains("re-used")));
}

#[test]
fn refresh_rechecks_that_the_user_is_still_an_admin() {
    let (p, host, ..) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    for u in host.users.borrow_mut().iter_mut() {
        if u.username == "admin" {
            u.acl_id = Some(common::VIEWER_ID.into());
        }
    }
    let r = refresh(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(error_of(&r), "invalid_grant");
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t0.access_token))).is_err());
}

#[test]
fn deleted_client_gets_invalid_client_and_its_tokens_stop() {
    let (p, ..) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    let summary = oauth::clients(&p.ctx);
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].client_name.as_deref(), Some("flow test client"));
    assert_eq!(summary[0].redirect_hosts, vec!["127.0.0.1".to_string()]);
    assert!(summary[0].live_tokens);
    assert!(oauth::revoke_client(&p.ctx, &t0.client_id));
    assert!(!oauth::revoke_client(&p.ctx, &t0.client_id));
    let r = refresh(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(r.status, 401);
    assert_eq!(error_of(&r), "invalid_client");
    let err = authenticate(&p, &mcp_request(HOST, Some(&t0.access_token))).unwrap_err();
    assert!(challenge_of(&err).contains("invalid_token"));
    assert_eq!(oauth::client_count(&p.ctx), 0);
    assert_eq!(oauth::refresh_token_count(&p.ctx), 0);
    // Re-registration works at once.
    let t1 = flow::obtain_tokens(&p, HOST);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t1.access_token))).is_ok());
}

#[test]
fn revoke_all_ends_every_token_and_a_new_flow_works() {
    let (p, _, store, _) = plugin();
    let a = flow::obtain_tokens(&p, HOST);
    let b = flow::obtain_tokens(&p, HOST);
    let jwks_before = send(&p, get("/.well-known/jwks.json")).body_json().unwrap();
    oauth::revoke_all(&p.ctx);
    assert_ne!(
        send(&p, get("/.well-known/jwks.json")).body_json().unwrap(),
        jwks_before,
        "signing key rotated"
    );
    for t in [&a, &b] {
        assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_err());
        assert_eq!(refresh(&p, &t.client_id, &t.refresh_token).status, 401);
    }
    assert_eq!(oauth::client_count(&p.ctx), 0);
    assert_eq!(oauth::refresh_token_count(&p.ctx), 0);
    assert!(store
        .keys()
        .iter()
        .all(|k| !k.starts_with("oauth.") || k == "oauth.signing_key"));
    let c = flow::obtain_tokens(&p, HOST);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&c.access_token))).is_ok());
}

#[test]
fn revocation_endpoint_always_answers_200_and_revokes() {
    let (p, ..) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let mut req = request("POST", "/revoke", HOST);
    req.body = Some(format!("token=garbage&client_id={}", t.client_id));
    assert_eq!(send(&p, req).status, 200);
    let mut req = request("POST", "/revoke", HOST);
    req.body = Some(
        json!({"token": t.refresh_token, "token_type_hint": "refresh_token", "client_id": t.client_id})
            .to_string(),
    );
    assert_eq!(send(&p, req).status, 200);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_err());

    let t = flow::obtain_tokens(&p, HOST);
    let mut req = request("POST", "/revoke", HOST);
    req.body = Some(format!("token={}", t.access_token));
    assert_eq!(send(&p, req).status, 200);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_err());
    assert_eq!(refresh(&p, &t.client_id, &t.refresh_token).status, 400);

    // A malformed request is an RFC 6749 §5.2 error (RFC 7009 §2.2.1), not a silent 200.
    let mut req = request("POST", "/revoke", HOST);
    req.body = Some(format!("token={}", "a".repeat(20_000)));
    let resp = send(&p, req);
    assert_eq!(resp.status, 400);
    assert_eq!(error_of(&resp), "invalid_request");
    let resp = send(&p, request("POST", "/revoke", HOST));
    assert_eq!(resp.status, 400);
    assert_eq!(error_of(&resp), "invalid_request");
}

// ---------------------------------------------------------------- bearer check

fn b64(v: &Value) -> String {
    scrypted_mcp::crypto::b64url(v.to_string().as_bytes())
}

#[test]
fn bearer_failures_get_401_with_the_exact_challenge() {
    let (p, _, _, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let ok = authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).unwrap();
    assert_eq!(ok.aud, MCP_URL);

    // No token: the challenge without an error; username is never trusted.
    let mut req = mcp_request(HOST, None);
    req.username = Some("admin".into());
    let err = authenticate(&p, &req).unwrap_err();
    assert_eq!(
        challenge_of(&err),
        format!("Bearer resource_metadata=\"{PRM_URL}\"")
    );
    assert!(err.body_json().unwrap()["error"].is_string());

    let parts: Vec<&str> = t.access_token.split('.').collect();
    let claims: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[1]).unwrap()).unwrap();
    let header: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[0]).unwrap()).unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": header["kid"]})),
        parts[1]
    );
    let hs256 = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "HS256", "kid": header["kid"]})),
        parts[1],
        parts[2]
    );
    // Self-signed: a different P-256 key claiming our kid.
    let other_store = scrypted_mcp::store::MemStore::default();
    let mut foreign = oauth::keys::current(&other_store, &RefCell::new(None));
    foreign.kid = header["kid"].as_str().unwrap().to_string();
    let self_signed = oauth::jwt::sign(&foreign, &claims);
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);

    for (token, what) in [
        ("garbage".to_string(), "garbage"),
        ("a.b.c".to_string(), "three garbage parts"),
        (alg_none, "alg none"),
        (hs256, "HS256"),
        (self_signed, "self-signed"),
        (tampered, "tampered claims"),
    ] {
        let err = authenticate(&p, &mcp_request(HOST, Some(&token))).unwrap_err();
        let challenge = challenge_of(&err);
        assert!(
            challenge.starts_with(&format!(
                "Bearer resource_metadata=\"{PRM_URL}\", error=\"invalid_token\", error_description=\""
            )),
            "{what}: {challenge}"
        );
        assert_eq!(error_of(&err), "invalid_token", "{what}");
    }
    // Not a Bearer header at all.
    let mut req = mcp_request(HOST, None);
    req.headers.insert("authorization".into(), "foo".into());
    assert!(challenge_of(&authenticate(&p, &req).unwrap_err()).contains("invalid_token"));

    // Wrong audience: the same token presented at another origin.
    let err = authenticate(&p, &mcp_request("10.0.0.9:11080", Some(&t.access_token))).unwrap_err();
    assert!(challenge_of(&err).contains(
        "resource_metadata=\"http://10.0.0.9:11080/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource\""
    ));

    // Expired: invalid_token too (clients refresh on it), even though it was cached.
    clock.advance_sec(3601);
    let err = authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).unwrap_err();
    assert!(challenge_of(&err).contains("expired"));
}

#[test]
fn access_token_claims_and_ttl_come_from_settings() {
    let (p, _, store, clock) = plugin();
    store.set("settings.access_token_ttl_sec", "120");
    let t = flow::obtain_tokens(&p, HOST);
    let parts: Vec<&str> = t.access_token.split('.').collect();
    let header: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[0]).unwrap()).unwrap();
    let claims: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], MCP_URL);
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["client_id"], t.client_id.as_str());
    assert_eq!(claims["scope"], "scrypted:admin");
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        120
    );
    clock.advance_sec(121);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_err());
    // Storage holds no raw secrets.
    let snapshot = store.snapshot();
    let all: String = snapshot.values().cloned().collect();
    assert!(!all.contains(&t.refresh_token));
    assert!(!all.contains(&t.access_token));
}

// ---------------------------------------------------------------- origin, CORS, hint

#[test]
fn cors_preflight_and_headers() {
    let (p, ..) = plugin();
    let mut req = request("OPTIONS", "/mcp", HOST);
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
    use scrypted_mcp::origin::origin_allowed;
    let with = |host: &str, origin: Option<&str>| {
        let mut req = request("POST", "/mcp", host);
        if let Some(o) = origin {
            req.headers.insert("origin".into(), o.into());
        }
        origin_allowed(&req)
    };
    assert!(with(HOST, None));
    assert!(with(HOST, Some("http://192.168.1.10:11080")));
    assert!(!with(HOST, Some("http://evil.example")));
    assert!(!with(HOST, Some("http://192.168.1.10:9999")));
    assert!(!with(HOST, Some("http://localhost:11080")));
    assert!(with("127.0.0.1:11080", Some("http://localhost:6274")));
    assert!(with("localhost:11080", Some("http://127.0.0.1:3000")));
    assert!(!with("127.0.0.1:11080", Some("http://evil.example")));
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
