//! Helpers of the Settings tab suites (tests/settings.rs, tests/settings_changes.rs):
//! getSettings / putSetting as Scrypted's UI calls them, and the OAuth and MCP requests
//! whose answers show a setting took effect.
//!
//! Include it with `#[path = "common/tab.rs"] mod tab;` next to `mod common;` and
//! `#[path = "common/flow.rs"] mod flow;`.
#![allow(dead_code)]

use crate::common::FakeBridge;
use crate::flow::{self, initialize_body, request, token_request, Tokens};
use futures::executor::block_on;
use scrypted_mcp::http::Response;
use scrypted_mcp::oauth;
use scrypted_mcp::settings::Setting;
use scrypted_mcp::store::MemStore;
use scrypted_mcp::Plugin;
use serde_json::{json, Value};

pub const HOST: &str = "192.168.1.10:11080";

pub fn get(plugin: &Plugin) -> Vec<Setting> {
    block_on(plugin.get_settings())
}

pub fn put(plugin: &Plugin, key: &str, value: Value) -> Result<(), String> {
    block_on(plugin.put_setting(key, value))
}

pub fn find<'a>(settings: &'a [Setting], key: &str) -> &'a Setting {
    settings
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key} in {settings:#?}"))
}

pub fn value_str(settings: &[Setting], key: &str) -> String {
    match &find(settings, key).value {
        Some(Value::String(s)) => s.clone(),
        other => panic!("{key} has no string value: {other:?}"),
    }
}

/// POST initialize with `access_token`: passes or fails the bearer check.
pub fn mcp_post(plugin: &Plugin, access_token: &str) -> Response {
    flow::rpc(
        plugin,
        HOST,
        access_token,
        None,
        initialize_body("settings-test"),
    )
}

pub fn open_session(plugin: &Plugin, access_token: &str) -> String {
    flow::open_session(plugin, HOST, access_token, "settings-test")
}

pub fn session_post(plugin: &Plugin, access_token: &str, session: &str, body: Value) -> Response {
    flow::rpc(plugin, HOST, access_token, Some(session), body)
}

pub fn ping(plugin: &Plugin, access_token: &str, session: &str) -> u16 {
    session_post(
        plugin,
        access_token,
        session,
        json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}),
    )
    .status
}

pub fn sessions_shown(plugin: &Plugin) -> Value {
    find(&get(plugin), "status_sessions").value.clone().unwrap()
}

/// Whether the access token passes the MCP endpoint's bearer check.
pub fn token_works(plugin: &Plugin, access_token: &str) -> Result<(), Response> {
    let mut req = request("POST", "/mcp", HOST);
    req.headers
        .insert("authorization".into(), format!("Bearer {access_token}"));
    block_on(oauth::authenticate(&plugin.ctx, &req)).map(|_| ())
}

pub fn refresh(plugin: &Plugin, tokens: &Tokens, with_client_id: bool) -> Response {
    let mut fields = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens.refresh_token.as_str()),
    ];
    if with_client_id {
        fields.push(("client_id", tokens.client_id.as_str()));
    }
    token_request(plugin, HOST, &fields)
}

pub fn error_code(resp: &Response) -> String {
    resp.body_json()
        .and_then(|b| b["error"].as_str().map(String::from))
        .unwrap_or_default()
}

/// A refused put: the message, and proof that nothing changed.
pub fn assert_refused(
    plugin: &Plugin,
    host: &FakeBridge,
    store: &MemStore,
    key: &str,
    value: Value,
    message: &str,
) {
    let before = store.snapshot();
    let writes = store.writes.get();
    let changed = host.settings_changed_count();
    let err = put(plugin, key, value.clone()).expect_err(&format!("{key} = {value} accepted"));
    assert!(
        err.contains(message),
        "{key} = {value}: message {err:?} lacks {message:?}"
    );
    assert_eq!(
        store.writes.get(),
        writes,
        "{key} = {value} wrote to storage"
    );
    assert_eq!(store.snapshot(), before);
    assert_eq!(
        host.settings_changed_count(),
        changed,
        "{key} = {value} signalled a change"
    );
}
