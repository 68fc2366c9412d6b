//! Per-tool scopes in the 2026-07-28 era (issue 9): the same 403 `insufficient_scope`
//! challenge as a legacy session gets, before anything runs.

use super::*;

/// A server whose token was authorized for `scrypted:read` only.
fn read_only() -> Server {
    let mut s = server();
    let client_id = flow::register(&s.plugin, HOST);
    s.token = flow::tokens_for(&s.plugin, HOST, &client_id, "scrypted:read").access_token;
    s
}

#[test]
fn a_read_token_lists_and_reads_but_an_admin_tool_is_403_and_changes_nothing() {
    let s = read_only();
    let listed = s.post(&rpc("tools/list", json!({})));
    assert_eq!(listed.status, 200);
    let names: Vec<String> = listed.result()["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n == "set_cors"),
        "admin tools are listed: {names:?}"
    );
    let read = s.post(&rpc(
        "tools/call",
        json!({"name": "get_cors", "arguments": {"id": "@scrypted/core"}}),
    ));
    assert_eq!(read.status, 200, "{read:?}");
    assert_ne!(read.result()["isError"], true);

    let before = s.stored();
    let call = rpc(
        "tools/call",
        json!({"name": "set_cors", "arguments": {"id": "@scrypted/core", "origins": ["https://evil.example"]}}),
    )
    .id(json!("up-7"));
    let reply = s.post(&call);
    assert_eq!(reply.status, 403, "{reply:?}");
    assert_eq!(reply.response()["id"], "up-7");
    let challenge = reply.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer error=\"insufficient_scope\", scope=\"scrypted:admin\", resource_metadata=\"http://"), "{challenge}");
    let mut after = s.stored();
    after.retain(|k, _| !k.starts_with("audit."));
    let mut before = before;
    before.retain(|k, _| !k.starts_with("audit."));
    assert_eq!(before, after);
    let audited = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
    assert_eq!(
        (audited.tool.as_str(), audited.outcome.as_str()),
        ("set_cors", "refused")
    );
    assert_eq!(s.host.mutating_calls(), Vec::<String>::new());
}
