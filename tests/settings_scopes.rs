//! Scopes in the Settings tab (issue 9): read-only mode caps every grant, live tokens
//! included, on the next request, and lifts again; Connected apps shows each app's scope
//! and lowers it at once, never raises it.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tab.rs"]
mod tab;

use common::plugin;
use scrypted_mcp::Plugin;
use serde_json::{json, Value};
use tab::*;

/// A tools/call in a fresh 2025-06-18 session: the HTTP status, and `isError` when 200.
fn call(p: &Plugin, token: &str, tool: &str, args: Value) -> (u16, Option<Value>) {
    let session = flow::open_session(p, HOST, token, "scopes-settings");
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": tool, "arguments": args}});
    let resp = flow::rpc(p, HOST, token, Some(&session), body);
    let error = resp
        .body_json()
        .and_then(|b| b.pointer("/result/isError").cloned());
    (resp.status, error)
}

fn refresh_scope(p: &Plugin, t: &flow::Tokens) -> (String, flow::Tokens) {
    let resp = flow::token_request(
        p,
        HOST,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t.refresh_token),
            ("client_id", &t.client_id),
        ],
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    let b = resp.body_json().unwrap();
    let next = flow::Tokens {
        access_token: b["access_token"].as_str().unwrap().into(),
        refresh_token: b["refresh_token"].as_str().unwrap().into(),
        client_id: t.client_id.clone(),
    };
    (b["scope"].as_str().unwrap().to_string(), next)
}

#[test]
fn read_only_mode_downgrades_a_live_token_on_its_next_request_and_lifts_again() {
    let (p, host, ..) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    assert_eq!(call(&p, &t.access_token, "list_alerts", json!({})).0, 200);

    let mode = find(&get(&p), "read_only").clone();
    assert_eq!(
        (mode.kind.as_deref(), mode.value.clone()),
        (Some("boolean"), Some(json!(false)))
    );
    put(&p, "read_only", json!(true)).unwrap();
    assert_eq!(find(&get(&p), "read_only").value, Some(json!(true)));
    // The same, unexpired admin token: reads still work, clearing alerts is refused.
    assert_eq!(call(&p, &t.access_token, "list_alerts", json!({})).0, 200);
    assert_eq!(call(&p, &t.access_token, "clear_alerts", json!({})).0, 403);
    assert_eq!(host.mutating_calls(), Vec::<String>::new());
    // New tokens say so too.
    let (scope, t) = refresh_scope(&p, &t);
    assert_eq!(scope, "scrypted:read");

    put(&p, "read_only", json!("false")).unwrap();
    let (scope, t) = refresh_scope(&p, &t);
    assert_eq!(
        scope, "scrypted:read scrypted:control scrypted:admin",
        "the grant is intact"
    );
    assert_eq!(
        call(&p, &t.access_token, "clear_alerts", json!({})),
        (200, Some(json!(false)))
    );

    let refused = put(&p, "read_only", json!("maybe")).unwrap_err();
    assert!(refused.contains("true or false"), "{refused}");
}

#[test]
fn connected_apps_show_each_scope_and_lower_it_at_once_but_never_raise_it() {
    let (p, host, store, _) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let key = format!("scope:{}", t.client_id);
    let setting = find(&get(&p), &key).clone();
    assert_eq!(setting.value, Some(json!("Full admin")));
    assert_eq!(
        setting.choices,
        Some(vec![
            "Read only".into(),
            "Read and control devices".into(),
            "Full admin".into()
        ])
    );
    assert!(setting
        .description
        .unwrap()
        .contains("scrypted:read scrypted:control scrypted:admin"));

    put(&p, &key, json!("Read only")).unwrap();
    // The live token lost control at once.
    assert_eq!(call(&p, &t.access_token, "clear_alerts", json!({})).0, 403);
    assert_eq!(call(&p, &t.access_token, "list_alerts", json!({})).0, 200);
    let lowered = find(&get(&p), &key).clone();
    assert_eq!(lowered.value, Some(json!("Read only")));
    assert_eq!(lowered.choices, Some(vec!["Read only".to_string()]));

    // Raising here is refused and changes nothing.
    let before = store.snapshot();
    let refused = put(&p, &key, json!("Full admin")).unwrap_err();
    assert!(refused.contains("consent page"), "{refused}");
    assert_eq!(store.snapshot(), before);
    assert!(put(&p, &key, json!("root"))
        .unwrap_err()
        .contains("Choose one of"));
    assert!(put(&p, "scope:nobody", json!("Read only")).is_err());

    // Asking for admin again shows the consent page (the remembered consent was lowered).
    let (_, challenge) = flow::pkce();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &t.client_id)
        .append_pair("redirect_uri", flow::REDIRECT_URI)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("scope", "scrypted:admin")
        .finish();
    let mut req = flow::request("GET", &format!("/authorize?{query}"), HOST);
    req.username = Some("admin".into());
    assert_eq!(
        flow::send(&p, req).status,
        200,
        "the consent page, not a silent admin code"
    );
    assert_eq!(host.mutating_calls(), Vec::<String>::new());
}

/// Lowering an app in Connected apps covers the code it holds but has not exchanged yet too
/// (revoking does: `delete_client_grants` removes its codes): the grant that code makes holds
/// only the lowered level.
#[test]
fn lowering_an_app_also_lowers_the_code_it_has_not_exchanged() {
    let (p, _host, _store, _) = plugin();
    let t = flow::obtain_tokens(&p, HOST); // a live admin grant (lowering needs one)
    let (verifier, challenge) = flow::pkce();
    let code = flow::authorize(&p, HOST, &t.client_id, &challenge); // consent remembered: no page
    put(&p, &format!("scope:{}", t.client_id), json!("Read only")).unwrap();
    let resp = flow::exchange_code(&p, HOST, &t.client_id, &code, &verifier);
    let body = resp.body_json().expect("a token answer");
    assert_eq!(body["scope"], "scrypted:read", "{body}");
}

/// An app whose only hold is a code it has not exchanged yet (its first sign-in, just approved)
/// is lowered too: the code makes a grant of the lowered level.
#[test]
fn an_app_holding_only_an_unexchanged_code_is_lowered_too() {
    let (p, _host, _store, _) = plugin();
    let client_id = flow::register(&p, HOST);
    let (verifier, challenge) = flow::pkce();
    let code = flow::authorize(&p, HOST, &client_id, &challenge);
    put(&p, &format!("scope:{client_id}"), json!("Read only")).unwrap();
    let resp = flow::exchange_code(&p, HOST, &client_id, &code, &verifier);
    let body = resp.body_json().expect("a token answer");
    assert_eq!(body["scope"], "scrypted:read", "{body}");
}
