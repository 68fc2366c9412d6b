//! Lifecycle and Streamable HTTP transport: initialize and version negotiation, the
//! headers (session id, protocol version, Origin), batches, malformed bodies, GET and
//! DELETE, and how sessions are bound, reaped and bounded.

use super::*;

#[test]
fn initialize_negotiates_and_opens_a_session() {
    let s = server();
    let mut c = s.client();
    let reply = c.initialize(V11, json!({}));
    let session = c.session.clone().unwrap();
    assert!(session.len() >= 32);
    assert!(session.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let result = reply.result();
    assert_eq!(result["protocolVersion"], V11);
    assert_eq!(result["serverInfo"]["name"], "scrypted-mcp");
    // The version Scrypted shows for the plugin: the package's.
    let package: Value = serde_json::from_str(include_str!("../../package.json")).unwrap();
    assert_eq!(result["serverInfo"]["version"], package["version"]);
    assert!(result["instructions"]
        .as_str()
        .unwrap()
        .contains("get_server_info"));
    let caps = &result["capabilities"];
    // Only what we serve: no list-changed notifications; resource updates on the GET
    // stream.
    assert_eq!(
        caps,
        &json!({"tools": {"listChanged": false}, "resources": {"subscribe": true},
                "prompts": {}, "logging": {}, "completions": {}})
    );
    assert!(
        result.get("resultType").is_none(),
        "2026 field leaked: {result}"
    );
    assert_eq!(reply.response()["id"], 0);

    for version in [V03, V06] {
        let mut c = s.client();
        assert_eq!(
            c.initialize(version, json!({})).result()["protocolVersion"],
            version
        );
    }
    // An unknown version gets our latest.
    let c = s.client();
    let reply = c.call(
        1,
        "initialize",
        json!({"protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}),
    );
    assert_eq!(reply.result()["protocolVersion"], V11);
    // Two initializations give two sessions.
    assert_ne!(reply.header("mcp-session-id").unwrap(), session);
}

#[test]
fn initialize_without_protocol_version_is_invalid_params() {
    let s = server();
    let c = s.client();
    let reply = c.call(1, "initialize", json!({"capabilities": {}}));
    assert_eq!(reply.error_code(), -32602);
    assert!(reply.header("mcp-session-id").is_none());
}

#[test]
fn titles_and_structured_fields_are_absent_under_2025_03_26() {
    let s = server();
    let mut old = s.client();
    let info = old.initialize(V03, json!({})).result();
    assert!(info["serverInfo"].get("title").is_none(), "{info}");
    let mut new = s.client();
    let info = new.initialize(V06, json!({})).result();
    assert_eq!(info["serverInfo"]["title"], "MCP Server");
    let tools = old.call(2, "tools/list", json!({})).result();
    for tool in tools["tools"].as_array().unwrap() {
        assert!(
            tool.get("title").is_none() && tool.get("outputSchema").is_none(),
            "{tool}"
        );
    }
}

#[test]
fn no_token_is_401_with_challenge() {
    let s = server();
    let mut c = s.client();
    c.token = "garbage".into();
    let resp = c.post_raw(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    assert_eq!(resp.status, 401);
    let challenge = resp.get_header("www-authenticate").unwrap();
    // RFC 9728 §5.1 / RFC 6750 §3: the PRM URL of this resource, and the error code.
    let prefix = format!(
        "Bearer resource_metadata=\"http://{HOST}/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource\", error=\"invalid_token\""
    );
    assert!(challenge.starts_with(&prefix), "{challenge}");
}

#[test]
fn foreign_origin_is_403_and_own_origin_passes() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    let mut req = c.request(
        "POST",
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
    );
    req.headers
        .insert("origin".into(), "http://evil.example.com".into());
    let resp = s.send(req);
    assert_eq!(resp.status, 403);
    assert_eq!(resp.body_json().unwrap()["error"]["code"], -32000);

    let mut req = c.request(
        "POST",
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
    );
    req.headers
        .insert("origin".into(), format!("http://{HOST}"));
    assert_eq!(read(s.send(req)).result(), json!({}));
    // No Origin at all (what non-browser clients send) passes too.
    c.accept = "application/json";
    assert_eq!(c.call(2, "ping", json!({})).result(), json!({}));
}

#[test]
fn missing_session_id_is_400_and_unknown_is_404() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    let session = c.session.take();
    let reply = c.call(1, "ping", json!({}));
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json.as_ref().unwrap()["id"], Value::Null);
    c.session = Some("no-such-session".into());
    let reply = c.call(1, "ping", json!({}));
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code(), -32001);
    c.session = session;
    assert_eq!(c.call(1, "ping", json!({})).result(), json!({}));
}

#[test]
fn protocol_version_header_is_checked() {
    let s = server();
    let mut c = s.session(V06, json!({}));
    c.version = Some("2024-01-01");
    let reply = c.call(1, "ping", json!({}));
    assert_eq!(reply.status, 400, "{reply:?}");
    // Absent: assumed, and the request is served.
    c.version = None;
    assert_eq!(c.call(2, "ping", json!({})).result(), json!({}));
    c.version = Some(V06);
    assert_eq!(c.call(3, "ping", json!({})).result(), json!({}));
}

#[test]
fn protocol_version_header_is_checked_on_delete_and_get_too() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    c.version = Some("2024-01-01");
    for method in ["DELETE", "GET"] {
        let resp = s.send(c.request(method, None));
        assert_eq!(resp.status, 400, "{method}");
    }
    // The refused DELETE ended nothing.
    c.version = Some(V11);
    assert_eq!(c.call(1, "ping", json!({})).result(), json!({}));
    assert_eq!(s.send(c.request("DELETE", None)).status, 204);
}

#[test]
fn foreign_origin_is_403_even_without_a_token() {
    let s = server();
    let c = s.client();
    let mut req = c.request(
        "POST",
        Some(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
    );
    req.headers.remove("authorization");
    req.headers
        .insert("origin".into(), "http://evil.example.com".into());
    let resp = s.send(req);
    assert_eq!(resp.status, 403);
    assert!(resp.get_header("www-authenticate").is_none());
}

#[test]
fn initialize_in_a_batch_is_invalid_request() {
    let s = server();
    let c = s.client();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": V03, "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}});
    let reply = c.post(json!([init]));
    assert_eq!(
        (reply.status, reply.error_code()),
        (400, -32600),
        "{reply:?}"
    );
    assert!(reply.header("mcp-session-id").is_none());
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
}

#[test]
fn notifications_and_responses_are_202_without_body() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.notify("notifications/initialized", json!({}));
    assert_eq!((reply.status, reply.json.is_none()), (202, true));
    let reply = c.notify("notifications/unknown", json!({}));
    assert_eq!(reply.status, 202);
    // A response nobody waits for is accepted and dropped.
    let reply = c.post(json!({"jsonrpc": "2.0", "id": 99, "result": {}}));
    assert_eq!((reply.status, reply.json.is_none()), (202, true));
    // Cancelling an unknown request is ignored.
    let reply = c.notify("notifications/cancelled", json!({"requestId": 12345}));
    assert_eq!(reply.status, 202);
}

#[test]
fn batches_only_under_2025_03_26() {
    let s = server();
    let old = s.session(V03, json!({}));
    let reply = old.post(json!([
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "id": 3}
    ]));
    assert_eq!(reply.status, 200, "{reply:?}");
    let answers = reply.json.unwrap();
    let answers = answers.as_array().unwrap();
    assert_eq!(answers.len(), 3, "{answers:?}");
    let by_id = |id: i64| answers.iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(by_id(1)["result"], json!({}));
    assert_eq!(by_id(2)["error"]["code"], -32601);
    assert_eq!(by_id(3)["error"]["code"], -32600);
    // A batch of notifications only: 202.
    let reply = old.post(json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]));
    assert_eq!(reply.status, 202);
    let reply = old.post(json!([]));
    assert_eq!(reply.status, 400);

    for version in [V06, V11] {
        let c = s.session(version, json!({}));
        let reply = c.post(json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]));
        assert_eq!(reply.status, 400, "{version}");
        assert_eq!(reply.error_code(), -32600);
    }
}

/// Issue 8 item 9: a 200-item batch replaced the whole audit trail in one POST. A batch
/// over the bound is refused whole: nothing in it runs, nothing is audited.
#[test]
fn oversized_batches_are_refused_whole() {
    use scrypted_mcp::mcp::legacy::MAX_BATCH;
    let s = server();
    let old = s.session(V03, json!({}));
    let call = |id: usize| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "get_server_info", "arguments": {}}})
    };
    let before = s.host.calls.borrow().len();
    let batch: Vec<Value> = (0..=MAX_BATCH).map(call).collect();
    let reply = old.post(Value::Array(batch));
    assert_eq!((reply.status, reply.error_code()), (400, -32600));
    let message = reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains(&format!("at most {MAX_BATCH}")) && message.contains("51"),
        "{message}"
    );
    assert!(scrypted_mcp::audit::recent(&s.plugin.ctx, 10).is_empty());
    assert_eq!(
        s.host.calls.borrow().len(),
        before,
        "nothing reached the host"
    );
    // At the bound it runs.
    let batch: Vec<Value> = (0..MAX_BATCH).map(call).collect();
    let reply = old.post(Value::Array(batch));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json.unwrap().as_array().unwrap().len(), MAX_BATCH);
}

#[test]
fn malformed_bodies_get_precise_codes() {
    let s = server();
    let c = s.session(V11, json!({}));
    let resp = read(c.post_raw("{not json"));
    assert_eq!(resp.status, 400);
    assert_eq!(resp.error_code(), -32700);
    assert_eq!(resp.json.as_ref().unwrap()["id"], Value::Null);
    let resp = read(c.post_raw(""));
    assert_eq!((resp.status, resp.error_code()), (400, -32700));
    let reply = c.post(json!({"jsonrpc": "1.0", "id": 5, "method": "ping"}));
    assert_eq!((reply.status, reply.error_code()), (400, -32600));
    assert_eq!(reply.response()["id"], 5);
    let reply = c.post(json!("ping"));
    assert_eq!((reply.status, reply.error_code()), (400, -32600));
    assert_eq!(c.call(1, "no/such/method", json!({})).error_code(), -32601);
    // initialize inside an existing session's batch position is refused, not re-run.
    let old = s.session(V03, json!({}));
    let reply =
        old.post(json!([{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}]));
    assert_eq!(reply.json.unwrap()[0]["error"]["code"], -32600);
}

#[test]
fn get_opens_the_sessions_update_stream_and_nothing_else() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    let resp = s.send(c.request("GET", None));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.get_header("content-type"), Some("text/event-stream"));
    assert_eq!(resp.on_disconnect, scrypted_mcp::http::Disconnect::Cancel);
    let mut json_only = c.request("GET", None);
    json_only
        .headers
        .insert("accept".into(), "application/json".into());
    assert_eq!(s.send(json_only).status, 406);
    let mut anonymous = c.request("GET", None);
    anonymous.headers.remove("authorization");
    assert_eq!(s.send(anonymous).status, 401);
    let mut modern = c.request("GET", None);
    modern
        .headers
        .insert("mcp-protocol-version".into(), "2026-07-28".into());
    let resp = s.send(modern);
    assert_eq!((resp.status, resp.get_header("allow")), (405, Some("POST")));
    let mut unknown = c.request("GET", None);
    unknown
        .headers
        .insert("mcp-session-id".into(), "no-such-session".into());
    assert_eq!(s.send(unknown).status, 404);
    c.session = None;
    assert_eq!(s.send(c.request("GET", None)).status, 400);
}

#[test]
fn delete_ends_the_session_then_404() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    let deleted = s.send(c.request("DELETE", None));
    assert_eq!((deleted.status, deleted.body_text()), (204, Some("")));
    assert_eq!(c.call(1, "ping", json!({})).status, 404);
    assert_eq!(s.send(c.request("DELETE", None)).status, 404);
    c.session = None;
    assert_eq!(s.send(c.request("DELETE", None)).status, 400);
}

#[test]
fn session_is_bound_to_its_client() {
    let s = server();
    let owner = s.session(V11, json!({}));
    let mut other = s.client();
    assert_ne!(other.client_id, owner.client_id);
    other.session = owner.session.clone();
    let reply = other.call(1, "ping", json!({}));
    assert_eq!(reply.status, 404);
    assert_eq!(s.send(other.request("DELETE", None)).status, 404);
    // The owner still has it.
    assert_eq!(owner.call(2, "ping", json!({})).result(), json!({}));
}

#[test]
fn session_is_bound_to_its_user() {
    let s = server();
    let owner = s.session(V11, json!({}));
    // The same client, authorized by another Scrypted admin in their own browser.
    s.host.add_admin("second-admin");
    let tokens = flow::tokens_as(
        &s.plugin,
        HOST,
        &owner.client_id,
        "scrypted:admin",
        "second-admin",
    );
    let other = Client {
        server: &s,
        token: tokens.access_token,
        refresh: String::new(),
        client_id: owner.client_id.clone(),
        session: owner.session.clone(),
        version: owner.version,
        accept: owner.accept,
    };
    assert_eq!(other.call(1, "ping", json!({})).status, 404);
    assert_eq!(s.send(other.request("DELETE", None)).status, 404);
    assert_eq!(owner.call(2, "ping", json!({})).result(), json!({}));
}

#[test]
fn idle_sessions_leave_memory_after_an_hour_and_revive() {
    let s = server();
    let mut c = s.session(V11, json!({}));
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 1);
    s.clock.advance_sec(50 * 60);
    c.refresh();
    assert_eq!(c.call(1, "ping", json!({})).result(), json!({}));
    s.clock.advance_sec(50 * 60);
    c.refresh();
    assert_eq!(
        c.call(2, "ping", json!({})).result(),
        json!({}),
        "use keeps it alive"
    );
    s.clock.advance_sec(61 * 60);
    c.refresh();
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
    // Revived from its signed id (tests/mcp/revival.rs).
    assert_eq!(c.call(3, "ping", json!({})).result(), json!({}));
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 1);
}

/// Issue 8 item 10: 257 initializes by client B used to evict client A's session. One
/// client's excess now costs only its own longest-idle sessions.
#[test]
fn one_clients_sessions_never_push_out_anothers() {
    use scrypted_mcp::mcp::session::{MAX_SESSIONS, MAX_SESSIONS_PER_CLIENT};
    let s = server();
    let victim = s.session(V11, json!({}));
    s.clock.advance_ms(1);
    let mut flood = s.client();
    flood.initialize(V11, json!({}));
    let floods_first = flood.session.clone();
    for _ in 0..MAX_SESSIONS {
        s.clock.advance_ms(1);
        flood.initialize(V11, json!({}));
    }
    assert_eq!(
        scrypted_mcp::mcp::active_sessions(&s.plugin.ctx),
        1 + MAX_SESSIONS_PER_CLIENT
    );
    assert_eq!(victim.call(1, "ping", json!({})).result(), json!({}));
    assert_eq!(flood.call(2, "ping", json!({})).result(), json!({}));
    // Its own oldest left memory; its signed id revives it (tests/mcp/revival.rs), at
    // the cost of another of its own: the cap holds, the victim stays.
    flood.session = floods_first;
    assert_eq!(flood.call(3, "ping", json!({})).result(), json!({}));
    assert_eq!(
        scrypted_mcp::mcp::active_sessions(&s.plugin.ctx),
        1 + MAX_SESSIONS_PER_CLIENT
    );
    assert_eq!(victim.call(4, "ping", json!({})).result(), json!({}));
}

/// The whole map stays bounded: when it is full, the client holding the most sessions
/// loses its longest idle, never a client with one.
#[test]
fn session_count_is_bounded_at_the_heaviest_clients_expense() {
    use scrypted_mcp::mcp::session::{Owner, Sessions, MAX_SESSIONS, MAX_SESSIONS_PER_CLIENT};
    let sessions = Sessions::default();
    let owner = |client_id| Owner {
        sub: "admin",
        client_id,
    };
    let open = |client_id, now| {
        let s = sessions.create(
            scrypted_mcp::crypto::random_token(),
            owner(client_id),
            rmcp::model::ProtocolVersion::V_2025_11_25,
            Default::default(),
            now,
        );
        let id = s.borrow().id.clone();
        id
    };
    let victim = open("victim", 0);
    let clients: Vec<String> = (0..MAX_SESSIONS / MAX_SESSIONS_PER_CLIENT)
        .map(|c| format!("client-{c}"))
        .collect();
    let mut opened: Vec<Vec<String>> = vec![Vec::new(); clients.len()];
    let mut now = 1;
    for (c, client) in clients.iter().enumerate() {
        for _ in 0..MAX_SESSIONS_PER_CLIENT {
            now += 1;
            opened[c].push(open(client.as_str(), now));
        }
    }
    assert_eq!(sessions.len(), MAX_SESSIONS);
    assert!(sessions.lookup(&victim, owner("victim"), now).is_some());
    // The last client was one short of its cap when the map filled, so its last open
    // cost the first of the full clients (ties go to the id sorting first) its oldest.
    let alive = |c: usize, i: usize| {
        sessions
            .lookup(&opened[c][i], owner(&clients[c]), now)
            .is_some()
    };
    assert!(!alive(0, 0));
    assert!(alive(0, 1) && alive(1, 0));
    assert!(alive(clients.len() - 1, MAX_SESSIONS_PER_CLIENT - 1));
}

#[test]
fn revoking_a_client_closes_its_sessions() {
    let s = server();
    let a = s.session(V11, json!({}));
    let b = s.session(V11, json!({}));
    // What the Settings tab's buttons do.
    scrypted_mcp::oauth::revoke_client(&s.plugin.ctx, &a.client_id);
    scrypted_mcp::mcp::close_client_sessions(&s.plugin.ctx, &a.client_id);
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 1);
    assert_eq!(a.call(1, "ping", json!({})).status, 401);
    assert_eq!(b.call(1, "ping", json!({})).result(), json!({}));
    scrypted_mcp::oauth::revoke_all(&s.plugin.ctx);
    scrypted_mcp::mcp::close_all_sessions(&s.plugin.ctx);
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 0);
    assert_eq!(b.call(2, "ping", json!({})).status, 401);
}

/// Issue 8 item 15: the shim asks `admit` with the head and the body's size before the
/// body crosses into wasm. Too large for anyone → 413; an MCP POST over the anonymous
/// limit → the transport's own 403 / 401 unless its token verifies; everything else
/// goes on to `handle`.
#[test]
fn oversized_bodies_are_refused_on_their_head() {
    use scrypted_mcp::admit::{MAX_ANONYMOUS_MCP_BODY_BYTES, MAX_BODY_BYTES, SENT_WITH_HEAD};
    let s = server();
    let c = s.session(V11, json!({}));
    let admit = |req: Request, bytes: usize| block_on(s.plugin.admit(&req, bytes));
    let with_token = c.request("POST", None);
    let mut anonymous = c.request("POST", None);
    anonymous.headers.remove("authorization");
    let mut forged = anonymous.clone();
    forged.headers.insert(
        "authorization".into(),
        "Bearer eyJhbGciOiJub25lIn0.e30.".into(),
    );
    let mut foreign = with_token.clone();
    foreign
        .headers
        .insert("origin".into(), "http://evil.example".into());
    let oauth = flow::request("POST", "/register", HOST);
    // What the shim sends with the head unasked passes whatever the head says.
    for head in [&with_token, &anonymous, &forged, &foreign, &oauth] {
        assert!(admit(head.clone(), SENT_WITH_HEAD).is_none());
    }

    let too_big = admit(with_token.clone(), MAX_BODY_BYTES + 1).expect("refused");
    let body: Value = serde_json::from_str(too_big.body_text().unwrap()).unwrap();
    assert_eq!(
        (too_big.status, body["error"]["code"].clone()),
        (413, json!(-32600))
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Payload Too Large"));
    let refused = admit(oauth.clone(), MAX_BODY_BYTES + 1).expect("refused");
    assert_eq!(refused.status, 413);
    assert_eq!(refused.body_json().unwrap()["error"], "invalid_request");
    assert!(
        admit(oauth, MAX_ANONYMOUS_MCP_BODY_BYTES + 1).is_none(),
        "its own checks"
    );

    let over = MAX_ANONYMOUS_MCP_BODY_BYTES + 1;
    let challenge = admit(anonymous.clone(), over).expect("refused");
    assert_eq!(challenge.status, 401);
    assert!(challenge
        .get_header("www-authenticate")
        .unwrap()
        .starts_with("Bearer resource_metadata="));
    let forged = admit(forged, over).expect("refused");
    assert_eq!(forged.status, 401);
    assert!(forged
        .get_header("www-authenticate")
        .unwrap()
        .contains("invalid_token"));
    assert_eq!(admit(foreign, over).expect("refused").status, 403);
    assert!(admit(with_token.clone(), over).is_none());
    assert!(admit(with_token, MAX_BODY_BYTES).is_none());
    assert!(admit(anonymous, MAX_ANONYMOUS_MCP_BODY_BYTES).is_none());
}

/// install_plugin (id 5) with the host's npm install held until `release("installNpm")`: a
/// call whose work runs silent, as a big plugin's install over a slow link does.
fn held_install(s: &Server, c: &Client<'_>) -> futures::future::LocalBoxFuture<'static, Response> {
    use futures::FutureExt;
    s.host.hold("installNpm");
    let install = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "install_plugin", "arguments": {"package": "@scrypted/ring"}}});
    let plugin = s.plugin.clone();
    let req = c.request("POST", Some(install.to_string()));
    async move { plugin.handle(req).await }.boxed_local()
}

/// A legacy request whose work runs silent (an npm install that takes minutes) is answered
/// as a stream after a quarter minute, and the stream sends a comment after each quarter
/// minute of silence: a response that sends nothing is cut by Node's fetch after 300 s
/// and by proxies and tunnels after 60–100 s, while the install goes on without its answer.
#[test]
fn a_long_legacy_request_streams_after_a_quarter_minute_and_keeps_alive() {
    use futures::FutureExt;
    let s = server();
    for (version, first) in [(V11, "id: "), (V03, ":\n\n")] {
        let c = s.session(version, json!({}));
        let mut answer = held_install(&s, &c);
        assert!((&mut answer).now_or_never().is_none());
        for _ in 0..14 {
            s.clock.advance_ms(1_000);
            assert!(
                (&mut answer).now_or_never().is_none(),
                "JSON is still possible"
            );
        }
        s.clock.advance_ms(1_000);
        let resp = answer.now_or_never().expect("a stream after 15 s");
        assert_eq!(resp.get_header("content-type"), Some("text/event-stream"));
        let Body::Stream(mut stream) = resp.body else {
            panic!("not a stream")
        };
        // The priming event opens a 2025-11-25 stream; an older one opens with a comment.
        let opening = stream
            .next()
            .now_or_never()
            .flatten()
            .expect("an opening chunk");
        assert!(opening.starts_with(first), "{version}: {opening:?}");
        assert!(stream.next().now_or_never().is_none());
        for second in 1..=15 {
            s.clock.advance_ms(1_000);
            match stream.next().now_or_never() {
                None => assert!(second < 15, "{version}: no comment after {second} s"),
                Some(chunk) => {
                    assert_eq!(chunk.as_deref(), Some(":\n\n"));
                    assert!(second >= 14, "{version}: a comment after {second} s");
                    break;
                }
            }
        }
        s.host.release("installNpm");
        let (_, message) = next_message(&mut stream).expect("the answer");
        assert_eq!(message["id"], 5);
        assert_ne!(message["result"]["isError"], true, "{message}");
        assert!(
            block_on(stream.next()).is_none(),
            "the stream ends after the answer"
        );
    }
    // A client that takes no event stream gets JSON, however long the work runs.
    let mut json_only = s.session(V11, json!({}));
    json_only.accept = "application/json";
    let mut answer = held_install(&s, &json_only);
    for _ in 0..60 {
        s.clock.advance_ms(1_000);
        assert!((&mut answer).now_or_never().is_none());
    }
    s.host.release("installNpm");
    let resp = answer
        .now_or_never()
        .expect("the answer once the install ends");
    assert_eq!(resp.get_header("content-type"), Some("application/json"));
}

/// A POST's answer stream marks its event ids (`post-…`), so a GET that asks to resume one
/// (a client whose call was cancelled or cut before its answer) is told 405: nothing is
/// replayed. Before, such a GET opened the session's GET stream in place of the live one,
/// which the client then reopened, ending the other, once a second for as long as it ran.
#[test]
fn a_posts_stream_is_not_resumed_and_the_get_stream_stays() {
    use futures::FutureExt;
    let s = server();
    let c = s.session(V11, json!({}));
    let Body::Stream(mut updates) = s.send(c.request("GET", None)).body else {
        panic!("the GET stream")
    };
    let priming = updates.next().now_or_never().flatten().unwrap();
    let get_id = parse_event(&priming).0;
    assert!(get_id.parse::<u64>().is_ok(), "{priming:?}");
    let mut answer = held_install(&s, &c);
    assert!((&mut answer).now_or_never().is_none());
    let started = (1..=15).find_map(|_| {
        s.clock.advance_ms(1_000);
        (&mut answer).now_or_never()
    });
    let Body::Stream(mut stream) = started.expect("a stream after 15 s").body else {
        panic!("not a stream")
    };
    let opening = stream.next().now_or_never().flatten().unwrap();
    let post_id = parse_event(&opening).0;
    assert!(post_id.starts_with("post-"), "{opening:?}");

    // The GET stream's own keep-alive came meanwhile.
    while let Some(chunk) = updates.next().now_or_never() {
        assert_eq!(chunk.as_deref(), Some(":\n\n"));
    }
    let mut resume = c.request("GET", None);
    resume.headers.insert("last-event-id".into(), post_id);
    let refused = s.send(resume);
    assert_eq!(refused.status, 405, "not a stream");
    let refused = read(refused);
    assert_eq!(refused.header("allow"), Some("GET, POST, DELETE"));
    let message = refused.json.as_ref().unwrap()["error"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("cannot be resumed"), "{message}");
    assert!(
        updates.next().now_or_never().is_none(),
        "the session's GET stream goes on"
    );
    // Resuming the GET stream itself reopens it (in place of the old one, which ends).
    let mut reopen = c.request("GET", None);
    reopen.headers.insert("last-event-id".into(), get_id);
    assert_eq!(s.send(reopen).status, 200);
    assert_eq!(
        updates.next().now_or_never(),
        Some(None),
        "the old GET stream ended"
    );
    s.host.release("installNpm");
    assert_eq!(next_message(&mut stream).unwrap().1["id"], 5);
}
