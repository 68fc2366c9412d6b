//! What `admit` checks before a 2026-07-28 request runs, in order, each with the exact
//! status and code, the request id echoed, and nothing changed; and which requests are
//! modern at all (legacy clients keep their sessions).

use super::*;

/// A call that writes the audit trail when it runs: `list_plugins`, read-only.
fn list_plugins() -> Rpc {
    rpc(
        "tools/call",
        json!({"name": "list_plugins", "arguments": {}}),
    )
}

/// Posts a request that must be refused, and checks it left storage as it was.
fn refused(s: &Server, rpc: &Rpc, status: u16, code: i64) {
    let before = s.stored();
    let reply = s.post(rpc);
    assert_rejected(&reply, status, code, rpc.id.clone());
    assert_eq!(s.stored(), before, "a refused request changed nothing");
}

#[test]
fn a_modern_request_is_served_without_any_session() {
    let s = server();
    let reply = s.post(&rpc("tools/list", json!({})));
    assert_eq!(reply.status, 200);
    assert!(reply.result()["tools"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(reply.header("mcp-session-id"), None);
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
    // A tool call runs and is audited under the token's client.
    let reply = s.post(&list_plugins());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.result()["isError"], false);
    let audited = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(audited[0].tool, "list_plugins");
    assert_eq!(audited[0].outcome, "ok");
}

#[test]
fn meta_must_carry_version_and_capabilities() {
    let s = server();
    let discover = || rpc("server/discover", json!({}));
    refused(&s, &discover().id(json!(101)).without_meta(), 400, -32602);
    refused(
        &s,
        &discover().id(json!(102)).meta("protocolVersion", None),
        400,
        -32602,
    );
    refused(
        &s,
        &discover().meta("protocolVersion", Some(json!(20260728))),
        400,
        -32602,
    );
    refused(
        &s,
        &discover().id(json!("x")).meta("clientCapabilities", None),
        400,
        -32602,
    );
    refused(&s, &discover().caps(json!(["sampling"])), 400, -32602);
    refused(
        &s,
        &discover().meta("logLevel", Some(json!("loud"))),
        400,
        -32602,
    );
    // clientInfo is a SHOULD: served without it.
    let reply = s.post(&discover().meta("clientInfo", None));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.result()["resultType"], "complete");
}

#[test]
fn the_version_header_must_be_there_and_match_meta() {
    let s = server();
    // The header says 2026-07-28, _meta something else: a mismatch, not an unknown version.
    let mismatch = list_plugins().meta("protocolVersion", Some(json!("v999.0.0")));
    refused(&s, &mismatch.id(json!(302)), 400, -32020);
    // _meta without the header: HeaderMismatch too (the lead's decision Q2).
    refused(
        &s,
        &list_plugins().header("MCP-Protocol-Version", None),
        400,
        -32020,
    );
}

#[test]
fn an_unsupported_version_lists_every_served_one() {
    let s = server();
    let discovered = s.post(&rpc("server/discover", json!({}))).result();
    let v999 = list_plugins()
        .id(json!(301))
        .header("mcp-protocol-version", Some("v999.0.0"))
        .meta("protocolVersion", Some(json!("v999.0.0")));
    refused(&s, &v999, 400, -32022);
    let error = s.post(&v999).response()["error"].clone();
    assert_eq!(error["data"]["requested"], "v999.0.0");
    assert_eq!(error["data"]["supported"], discovered["supportedVersions"]);
    assert_eq!(
        error["data"]["supported"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    // A legacy version in _meta cannot be served statelessly: -32022 with the same list,
    // on which a dual-era client falls back to initialize.
    let legacy = list_plugins()
        .header("mcp-protocol-version", Some("2025-11-25"))
        .meta("protocolVersion", Some(json!("2025-11-25")));
    refused(&s, &legacy, 400, -32022);
}

#[test]
fn mcp_method_must_equal_the_method() {
    let s = server();
    refused(&s, &list_plugins().header("Mcp-Method", None), 400, -32020);
    refused(
        &s,
        &list_plugins().header("Mcp-Method", Some("tools/list")),
        400,
        -32020,
    );
    // Values are case-sensitive.
    refused(
        &s,
        &list_plugins().header("Mcp-Method", Some("TOOLS/CALL")),
        400,
        -32020,
    );
    // Surrounding whitespace is not part of the value.
    let padded = list_plugins().header("Mcp-Method", Some("  tools/call\t"));
    assert_eq!(s.post(&padded).status, 200);
}

#[test]
fn mcp_name_must_equal_the_name_or_uri() {
    let s = server();
    refused(&s, &list_plugins().header("Mcp-Name", None), 400, -32020);
    refused(
        &s,
        &list_plugins().header("Mcp-Name", Some("list_users")),
        400,
        -32020,
    );
    // The Base64 sentinel form decodes before comparing; a broken one is a mismatch.
    let encoded = list_plugins().header("Mcp-Name", Some("=?base64?bGlzdF9wbHVnaW5z?="));
    assert_eq!(s.post(&encoded).result()["isError"], false);
    let unpadded = list_plugins().header("Mcp-Name", Some("=?base64?bGlzdF9wbHVnaW5z=?="));
    refused(&s, &unpadded, 400, -32020);
    let padded = list_plugins().header("Mcp-Name", Some("  list_plugins  "));
    assert_eq!(s.post(&padded).status, 200);
    // Control characters cannot be in a header value.
    refused(
        &s,
        &list_plugins().header("Mcp-Name", Some("list\u{1}plugins")),
        400,
        -32020,
    );
    // resources/read mirrors the uri, prompts/get the name.
    let read = rpc(
        "resources/read",
        json!({"uri": "scrypted-mcp://audit/recent"}),
    );
    assert_eq!(s.post(&read).status, 200);
    refused(
        &s,
        &read.header("Mcp-Name", Some("scrypted-mcp://audit/other")),
        400,
        -32020,
    );
    let prompt = rpc("prompts/get", json!({"name": "health_report"}));
    assert_eq!(s.post(&prompt).status, 200);
    refused(&s, &prompt.header("Mcp-Name", None), 400, -32020);
}

#[test]
fn methods_this_revision_removed_or_never_had_are_404() {
    let s = server();
    for method in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "unknown/method",
    ] {
        refused(&s, &rpc(method, json!({})).id(json!(500)), 404, -32601);
    }
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
}

#[test]
fn errors_of_the_method_itself_are_200() {
    let s = server();
    let unknown = rpc(
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {}}),
    );
    let reply = s.post(&unknown.id(json!("call-7")));
    assert_rejected(&reply, 200, -32602, json!("call-7"));
    let bad_cursor = rpc("tools/list", json!({"cursor": "not-ours"}));
    assert_rejected(&s.post(&bad_cursor), 200, -32602, json!(1));
}

#[test]
fn one_message_per_post_and_no_responses_from_the_client() {
    let s = server();
    let mut batch = flow::mcp_post(HOST, &s.token, &json!([list_plugins().body()]));
    batch
        .headers
        .insert("mcp-protocol-version".into(), V26.into());
    let reply = read(s.send(batch));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code(), -32600);

    let answer = json!({"jsonrpc": "2.0", "id": 3, "result": {}});
    let mut response = flow::mcp_post(HOST, &s.token, &answer);
    response
        .headers
        .insert("mcp-protocol-version".into(), V26.into());
    assert_rejected(&read(s.send(response)), 400, -32600, json!(3));

    // Notifications carry nothing this revision defines on HTTP: accepted, no body.
    let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {}});
    let mut notification = flow::mcp_post(HOST, &s.token, &note);
    notification
        .headers
        .insert("mcp-protocol-version".into(), V26.into());
    let reply = read(s.send(notification));
    assert_eq!((reply.status, reply.json), (202, None));
}

#[test]
fn get_and_delete_have_no_modern_meaning() {
    let s = server();
    for method in ["GET", "DELETE"] {
        let mut req = flow::request(method, "/mcp", HOST);
        req.headers
            .insert("authorization".into(), format!("Bearer {}", s.token));
        req.headers
            .insert("mcp-protocol-version".into(), V26.into());
        let resp = s.send(req);
        assert_eq!(resp.status, 405, "{method}");
        assert_eq!(resp.get_header("allow"), Some("POST"));
    }
}

#[test]
fn legacy_clients_keep_their_sessions() {
    let s = server();
    // initialize as legacy clients send it: no version header (a `_meta` without the
    // modern keys changes nothing).
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2026-07-28", "capabilities": {},
        "clientInfo": {"name": "legacy", "version": "1"}, "_meta": {"progressToken": 1}}});
    let resp = s.send(flow::mcp_post(HOST, &s.token, &init));
    assert_eq!(resp.status, 200);
    let session = resp
        .get_header("mcp-session-id")
        .expect("a session")
        .to_string();
    // A client asking for 2026-07-28 in `initialize` (rmcp's legacy startup) gets our
    // newest legacy revision.
    assert_eq!(read(resp).result()["protocolVersion"], "2025-11-25");
    assert!(read(s.send(flow::mcp_post(HOST, &s.token, &init)))
        .result()
        .get("resultType")
        .is_none());
    // The session's requests, with a legacy header, stay legacy: ping exists there.
    let mut ping = flow::mcp_post(
        HOST,
        &s.token,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    );
    ping.headers
        .insert("mcp-session-id".into(), session.clone());
    ping.headers
        .insert("mcp-protocol-version".into(), "2025-11-25".into());
    assert_eq!(read(s.send(ping)).result(), json!({}));
    // With the modern header the session id is ignored: the request is modern.
    let modern = rpc("ping", json!({})).header("mcp-session-id", Some(&session));
    assert_rejected(&s.post(&modern), 404, -32601, json!(1));
}
