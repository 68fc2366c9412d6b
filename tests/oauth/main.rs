//! The authorization server and the bearer check, driven through `Plugin::handle` with a
//! fixed clock and an in-memory store; `grants` drives the grant logic directly, without
//! HTTP. This file holds the shared helpers; each endpoint has its own module.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/flow.rs"]
mod flow;

mod attacks;
mod authorize;
mod bearer;
mod cimd;
mod consent;
mod grants;
mod metadata;
mod origin;
mod register;
mod scopes;
mod token;

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

/// GET /authorize as the logged-in admin, who approves the consent page if one is shown.
fn authorize_as_admin(
    p: &Plugin,
    client_id: &str,
    redirect: Option<&str>,
    challenge: &str,
    extra: &[(&str, &str)],
) -> Response {
    let page = consent_page_of(p, authorize_get(client_id, redirect, challenge, extra));
    flow::approve_consent(p, HOST, "admin", page, None)
}

/// `get` (an /authorize request) as the logged-in admin: the consent page (or what comes
/// instead).
fn consent_page_of(p: &Plugin, get: Request) -> Response {
    send(p, as_admin(get))
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
