//! `POST /register`: which redirect URIs and metadata are accepted, what the answer
//! holds, and the bounds on what registration may store.

use super::*;

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
    // docs/reference/scrypted-host.md §5: every storage write ships the whole map, so what an
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
    assert_eq!(error_of(&resp), "invalid_client_metadata");
    assert!(resp.body_text().unwrap().contains("at most 4096 bytes"));
    // Issue 8 item 8: at most 5 redirect URIs of at most 512 bytes each.
    let six: Vec<String> = (0..6).map(|i| format!("https://app.example/{i}")).collect();
    let six: Vec<&str> = six.iter().map(String::as_str).collect();
    let resp = register_with(&p, &six, "Six");
    assert_eq!(
        (resp.status, error_of(&resp).as_str()),
        (400, "invalid_redirect_uri")
    );
    assert!(resp
        .body_text()
        .unwrap()
        .contains("6 redirect_uris given; at most 5"));
    let long = format!("https://app.example/{}", "x".repeat(500));
    let resp = register_with(&p, &[long.as_str()], "Long");
    assert_eq!(
        (resp.status, error_of(&resp).as_str()),
        (400, "invalid_redirect_uri")
    );
    assert!(resp.body_text().unwrap().contains("at most 512 bytes"));
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
    clock.advance_sec(11 * 60);
    let b = register_ok(&p, &[REDIRECT_URI]);
    clock.advance_sec(11 * 60);
    let c = register_ok(&p, &[REDIRECT_URI]);
    clock.advance_sec(11 * 60);
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
    // d registered just now: its protection lapses in 10 minutes.
    assert_eq!(resp.get_header("retry-after"), Some("600"));
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

/// Issue 8 item 8: a registration flood evicted clients that had just registered or were
/// mid-consent. Those are protected now; the flood is told to come back later.
#[test]
fn a_flood_never_evicts_a_young_client_or_one_holding_a_pending_code() {
    let (p, _, store, clock) = plugin();
    store.set("settings.dcr_max_clients", "3");
    // A: registered and at the consent step (a pending code) long ago; B: just registered.
    let a = flow::register(&p, HOST);
    let (_verifier, challenge) = flow::pkce();
    clock.advance_sec(30 * 60);
    let code = flow::authorize(&p, HOST, &a, &challenge);
    clock.advance_sec(1);
    let b = register_ok(&p, &[REDIRECT_URI]);
    let c = register_ok(&p, &[REDIRECT_URI]);
    let writes = store.writes.get();
    for _ in 0..50 {
        let resp = register_with(&p, &[REDIRECT_URI], "flood");
        assert_eq!(resp.status, 503);
        assert_eq!(error_of(&resp), "temporarily_unavailable");
        assert_eq!(resp.get_header("retry-after"), Some("600"));
    }
    assert_eq!(
        store.writes.get(),
        writes,
        "nothing written, nobody evicted"
    );
    let ids: Vec<String> = oauth::clients(&p.ctx)
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert!(ids.contains(&a) && ids.contains(&b) && ids.contains(&c));
    assert!(!code.is_empty());
    // Once B and C are settled and idle (and A's code expired), the LRU idle one goes.
    clock.advance_sec(11 * 60);
    let d = register_ok(&p, &[REDIRECT_URI]);
    let ids: Vec<String> = oauth::clients(&p.ctx)
        .into_iter()
        .map(|c| c.client_id)
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&a) && ids.contains(&d));
}

/// Issue 8 item 8: duplicated fields in the registration body are refused, not guessed.
#[test]
fn duplicate_fields_in_the_registration_body_are_refused() {
    let (p, _, store, _) = plugin();
    let mut req = request("POST", "/register", HOST);
    req.headers
        .insert("content-type".into(), "text/plain".into());
    req.body = Some(format!(
        r#"{{"redirect_uris":["{REDIRECT_URI}"],"client_name":"Good","client_name":"Evil"}}"#
    ));
    let resp = send(&p, req);
    assert_eq!(
        (resp.status, error_of(&resp).as_str()),
        (400, "invalid_client_metadata")
    );
    assert!(resp
        .body_text()
        .unwrap()
        .contains(r#"the field \"client_name\" appears twice"#));
    assert_eq!(store.writes.get(), 0);
    assert_eq!(oauth::client_count(&p.ctx), 0);
}
