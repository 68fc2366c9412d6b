//! `POST /token` and `POST /revoke` over HTTP: body forms, error answers, code replay,
//! refresh rotation, one winner per refresh token and reuse detection, and revocation.

use super::*;

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
    assert_eq!(
        body["scope"],
        "scrypted:read scrypted:control scrypted:admin"
    );
    assert!(body["refresh_token"].as_str().unwrap().len() > 40);
    let claims = authenticate(&p, &mcp_request(HOST, body["access_token"].as_str())).unwrap();
    assert_eq!(claims.sub, "admin");
    assert_eq!(claims.client_id, client_id);
    assert_eq!(
        claims.scope,
        "scrypted:read scrypted:control scrypted:admin"
    );

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
    // storage write ships the whole map (docs/reference/scrypted-host.md §5), so codes
    // must be capped.
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
    assert_eq!(b1["scope"], "scrypted:read scrypted:control scrypted:admin");
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
fn a_rotated_out_refresh_token_never_yields_a_token() {
    // Issue 8 item 2: the grace window used to hand the live successor to anyone holding
    // the old token. Now the old token gets nothing, and the grant lives on.
    let (p, _, store, clock) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    let r1 = refreshed(&p, &t0.client_id, &t0.refresh_token);
    clock.advance_sec(5);
    let before = store.keys();
    let retry = refresh(&p, &t0.client_id, &t0.refresh_token);
    assert_eq!(retry.status, 400, "{:?}", retry.body_text());
    assert_eq!(error_of(&retry), "invalid_grant");
    assert!(retry.body_json().unwrap().get("refresh_token").is_none());
    assert_eq!(store.keys(), before);
    // The winner's tokens still work.
    assert!(authenticate(&p, &mcp_request(HOST, r1["access_token"].as_str())).is_ok());
    let r2 = refresh(&p, &t0.client_id, r1["refresh_token"].as_str().unwrap());
    assert_eq!(r2.status, 200, "{:?}", r2.body_text());
    assert_eq!(oauth::refresh_token_count(&p.ctx), 1);
}

#[test]
fn refresh_reuse_after_the_window_revokes_the_family() {
    let (p, host, _, clock) = plugin();
    let t0 = flow::obtain_tokens(&p, HOST);
    let r1 = refreshed(&p, &t0.client_id, &t0.refresh_token);
    clock.advance_sec(11);
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
    assert!(store.keys().iter().all(|k| !k.starts_with("oauth.")
        || k == "oauth.signing_key"
        || k == "oauth.signing_key_public"));
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
