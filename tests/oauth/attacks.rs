//! Issue 8 (hardening), the OAuth side: each attack the review ran, reproduced against the
//! logic, with the exact answer and what must not have changed.

use super::*;
use scrypted_mcp::clock::Clock;
use scrypted_mcp::crypto::{b64url, b64url_decode};
use scrypted_mcp::oauth::{grants, jwt, keys};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&b64url_decode(payload).unwrap()).unwrap()
}

/// A token signed with the plugin's own key (as anyone holding a backup can).
fn forge(p: &Plugin, claims: &Value) -> String {
    jwt::sign(&p.ctx.oauth.key(p.ctx.store.as_ref()), claims)
}

fn refused(p: &Plugin, token: &str) -> String {
    let err = authenticate(p, &mcp_request(HOST, Some(token))).unwrap_err();
    assert_eq!(error_of(&err), "invalid_token");
    challenge_of(&err)
}

fn set_admin(host: &common::fake::FakeBridge, username: &str, admin: bool) {
    for u in host.users.borrow_mut().iter_mut() {
        if u.username == username {
            u.acl_id = (!admin).then(|| common::VIEWER_ID.to_string());
        }
    }
}

// ---- item 1: a removed or demoted admin

#[test]
fn a_demoted_admin_loses_mcp_access_within_seconds_and_their_grants_end() {
    let (p, host, _, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let other = flow::obtain_tokens(&p, HOST);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
    let asked = host.calls_of("users").len();
    // Within the check interval the host is not asked again.
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
    assert_eq!(host.calls_of("users").len(), asked);

    set_admin(&host, "admin", false);
    clock.advance_ms(oauth::USER_CHECK_MS);
    let challenge = refused(&p, &t.access_token);
    assert!(
        challenge.contains("no longer a Scrypted admin"),
        "{challenge}"
    );
    // Every grant of the user ended, not only this client's.
    assert_eq!(oauth::refresh_token_count(&p.ctx), 0);
    assert!(refused(&p, &other.access_token).contains("revoked"));
    assert_eq!(
        error_of(&refresh(&p, &t.client_id, &t.refresh_token)),
        "invalid_grant"
    );
    assert!(host
        .console_lines()
        .iter()
        .any(|(l, m)| l == "warn" && m.contains("no longer a Scrypted admin")));
}

#[test]
fn a_removed_admin_loses_mcp_access() {
    let (p, host, _, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    host.users.borrow_mut().retain(|u| u.username != "admin");
    clock.advance_ms(oauth::USER_CHECK_MS);
    refused(&p, &t.access_token);
    assert_eq!(oauth::refresh_token_count(&p.ctx), 0);
}

#[test]
fn when_the_host_cannot_say_who_is_admin_the_request_waits_and_nothing_is_revoked() {
    let (p, host, store, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    clock.advance_ms(oauth::USER_CHECK_MS);
    host.fail_with("users", "engine.io connection lost");
    let before = store.snapshot();
    let err = authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).unwrap_err();
    assert_eq!(err.status, 503);
    assert_eq!(error_of(&err), "temporarily_unavailable");
    assert_eq!(store.snapshot(), before);
    host.fail.borrow_mut().clear();
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
}

// ---- item 4: tokens forged with the signing key (any backup holds it)

#[test]
fn forged_tokens_must_match_a_live_grant_and_the_configured_lifetime() {
    let (p, host, store, clock) = plugin();
    host.add_admin("admin2");
    let t = flow::obtain_tokens(&p, HOST);
    let other = flow::obtain_tokens(&p, HOST);
    let good = claims_of(&t.access_token);
    let now = clock.now_sec();
    let forged = |edit: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        edit(&mut c);
        forge(&p, &c)
    };
    let before = store.snapshot();
    for (what, token) in [
        (
            "another admin's name",
            forged(&|c| c["sub"] = json!("admin2")),
        ),
        (
            "another client of the same user",
            forged(&|c| c["client_id"] = json!(other.client_id)),
        ),
        ("no grant", forged(&|c| c["gid"] = json!("no-such-grant"))),
        (
            "ten years",
            forged(&|c| c["exp"] = json!(now + 10 * 365 * 86400)),
        ),
        (
            "one second over the lifetime",
            forged(&|c| c["exp"] = json!(c["iat"].as_u64().unwrap() + 3601)),
        ),
        (
            "issued in the future",
            forged(&|c| {
                c["iat"] = json!(now + 3600);
                c["exp"] = json!(now + 3700);
            }),
        ),
        (
            "no iat",
            forged(&|c| {
                c.as_object_mut().unwrap().remove("iat");
            }),
        ),
    ] {
        let err = authenticate(&p, &mcp_request(HOST, Some(&token))).unwrap_err();
        assert_eq!(error_of(&err), "invalid_token", "{what}");
    }
    assert_eq!(store.snapshot(), before);
    // The genuine token still works; so does one minted exactly as we mint.
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
    assert!(authenticate(&p, &mcp_request(HOST, Some(&forged(&|_| {})))).is_ok());
}

/// RFC 8707 / RFC 9068: a token is for the resource its `aud` names, exactly. Each near
/// miss is refused by the audience check itself (its own reason), before the grant's.
#[test]
fn a_token_for_any_other_audience_than_this_mcp_url_is_refused() {
    let (p, _host, store, _clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let good = claims_of(&t.access_token);
    assert_eq!(good["aud"], MCP_URL);
    let before = store.snapshot();
    for aud in [
        ISSUER.to_string(),
        format!("{ISSUER}/"),
        format!("{ISSUER}/mcp/"),
        format!("{ISSUER}/mcp/mcp"),
        format!("{ISSUER}/MCP"),
        format!("{ISSUER}x/mcp"),
        "/mcp".to_string(),
        "http://elsewhere.example/endpoint/scrypted-mcp/public/mcp".to_string(),
    ] {
        let mut claims = good.clone();
        claims["aud"] = json!(aud);
        let challenge = refused(&p, &forge(&p, &claims));
        assert!(challenge.contains("another resource"), "{aud}: {challenge}");
    }
    assert_eq!(store.snapshot(), before);
}

#[test]
fn a_plugin_started_on_restored_storage_replaces_the_signing_key() {
    let (p, host, store, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let kid = p.ctx.oauth.key(store.as_ref()).kid;
    // What create_backup leaves in the copy the host takes: the mark.
    p.ctx.oauth.mark_key_backed_up(store.as_ref());
    assert_eq!(
        store.get(keys::BACKED_UP_KEY).as_deref(),
        Some(kid.as_str())
    );
    // While it runs, this plugin keeps its key.
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
    let backup = store.snapshot();
    keys::clear_backed_up(store.as_ref());

    // The server restored from it: a fresh plugin over that storage.
    let restored = std::rc::Rc::new(scrypted_mcp::store::MemStore::default());
    for (k, v) in &backup {
        restored.set(k, v);
    }
    let p2 = scrypted_mcp::Plugin::new(host.clone(), restored.clone(), clock.clone());
    let err = block_on(oauth::authenticate(
        &p2.ctx,
        &mcp_request(HOST, Some(&t.access_token)),
    ))
    .unwrap_err();
    assert_eq!(error_of(&err), "invalid_token");
    assert_ne!(p2.ctx.oauth.key(restored.as_ref()).kid, kid);
    assert_eq!(restored.get(keys::BACKED_UP_KEY), None);
    // A restart without a restore keeps the key.
    let p3 = scrypted_mcp::Plugin::new(host.clone(), store.clone(), clock.clone());
    assert!(block_on(oauth::authenticate(
        &p3.ctx,
        &mcp_request(HOST, Some(&t.access_token))
    ))
    .is_ok());
}

// ---- item 16: malleated signatures, quotes in the challenge

const ALL_SCOPES: &str = "scrypted:read scrypted:control scrypted:admin";

#[test]
fn a_high_s_signature_is_refused() {
    use p256::ecdsa::Signature;
    let (p, _, _, _) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let parts: Vec<&str> = t.access_token.split('.').collect();
    let sig = Signature::from_slice(&b64url_decode(parts[2]).unwrap()).unwrap();
    // (r, n − s) is the same signature's other encoding; ours is always the low one.
    assert_eq!(sig.normalize_s(), sig, "we sign low-S");
    let (r, s) = sig.split_scalars();
    let high = Signature::from_scalars(r, -s).unwrap();
    let malleated = format!("{}.{}.{}", parts[0], parts[1], b64url(&high.to_bytes()));
    assert!(refused(&p, &malleated).contains("low-S"));
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
}

#[test]
fn quotes_from_the_request_never_reach_www_authenticate() {
    let (p, ..) = plugin();
    let evil = "mcp.example.com\", error=\"x";
    let mut req = mcp_request(HOST, None);
    req.headers.insert("x-forwarded-host".into(), evil.into());
    let err = authenticate(&p, &req).unwrap_err();
    assert_eq!(
        challenge_of(&err),
        format!("Bearer resource_metadata=\"{PRM_URL}\", scope=\"{ALL_SCOPES}\"")
    );
    // Even from a listed proxy, a host with a quote is no host.
    block_on(p.put_setting("public_urls", json!("https://mcp.example.com"))).unwrap();
    let err = authenticate(&p, &req).unwrap_err();
    assert_eq!(
        challenge_of(&err),
        format!("Bearer resource_metadata=\"{PRM_URL}\", scope=\"{ALL_SCOPES}\"")
    );
    let req = mcp_request("a\"b.example", Some("x"));
    let challenge = challenge_of(&authenticate(&p, &req).unwrap_err());
    assert!(!challenge.contains("a\"b"), "{challenge}");
}

// ---- item 13: repeated parameters

#[test]
fn repeated_parameters_are_invalid_request_everywhere_and_write_nothing() {
    let (p, _, store, _) = plugin();
    let (client_id, verifier, code) = code_for(&p);
    let before = store.snapshot();
    let form = |path: &str, body: &str| {
        let mut req = request("POST", path, HOST);
        req.headers.insert(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        );
        req.body = Some(body.into());
        send(&p, req)
    };
    let code_body = format!(
        "grant_type=authorization_code&code={code}&code_verifier={verifier}&client_id={client_id}&redirect_uri={}",
        urlencode(REDIRECT_URI)
    );
    for (path, body, name) in [
        (
            "/token",
            format!("{code_body}&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fx"),
            "redirect_uri",
        ),
        ("/token", format!("{code_body}&code={code}"), "code"),
        (
            "/token",
            format!("grant_type=refresh_token&{code_body}"),
            "grant_type",
        ),
        ("/revoke", "token=a&token=b".to_string(), "token"),
    ] {
        let resp = form(path, &body);
        assert_eq!(resp.status, 400, "{path} {name}");
        let json = resp.body_json().unwrap();
        assert_eq!(json["error"], "invalid_request", "{path} {name}");
        assert!(
            json["error_description"].as_str().unwrap().contains(name),
            "{json}"
        );
    }
    // Scrypted's JSON form of a repeated field: an array.
    let resp = send(
        &p,
        json_post(
            "/token",
            json!({"grant_type": "authorization_code", "code": [code, "x"], "client_id": client_id,
                   "code_verifier": verifier, "redirect_uri": REDIRECT_URI}),
        ),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(error_of(&resp), "invalid_request");
    assert_eq!(store.snapshot(), before);
    // The code is still good.
    assert_eq!(exchange(&p, &client_id, &verifier, &code).status, 200);

    // /authorize: a page (no redirect anywhere), naming the parameter; no code stored.
    let (_, challenge) = pkce();
    let before = store.snapshot();
    for extra in [
        ("state", "second"),
        ("redirect_uri", "http://127.0.0.1:1/evil"),
    ] {
        let resp = authorize_as_admin(&p, &client_id, Some(REDIRECT_URI), &challenge, &[extra]);
        assert_eq!(resp.status, 400, "{extra:?}");
        assert_eq!(resp.get_header("location"), None);
        let page = resp.body_text().unwrap();
        assert!(
            page.contains("invalid_request") && page.contains(extra.0),
            "{page}"
        );
    }
    assert_eq!(store.snapshot(), before);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---- item 14: pending codes per client

fn pending_codes(p: &Plugin, client_id: &str) -> usize {
    let store = p.ctx.store.as_ref();
    store
        .keys()
        .iter()
        .filter(|k| k.starts_with(grants::CODE_PREFIX))
        .filter_map(|k| scrypted_mcp::store::StoreExt::get_json::<grants::CodeRecord>(store, k))
        .filter(|c| c.client_id == client_id && c.used_grant.is_none())
        .count()
}

#[test]
fn a_flood_of_authorizations_never_evicts_another_clients_pending_code() {
    let (p, _, store, _) = plugin();
    let (victim, verifier, code) = code_for(&p);
    // 40 silent authorizations through several attacker clients.
    let attackers: Vec<String> = (0..8).map(|_| register_ok(&p, &[REDIRECT_URI])).collect();
    let mut refused_at = None;
    for i in 0..40 {
        let (_, challenge) = pkce();
        let resp = authorize_as_admin(&p, &attackers[i % 8], Some(REDIRECT_URI), &challenge, &[]);
        assert_eq!(resp.status, 302);
        let (_, params) = location_params(&resp);
        if params.get("error").map(String::as_str) == Some("temporarily_unavailable") {
            refused_at.get_or_insert(i);
        }
    }
    for a in &attackers {
        assert!(pending_codes(&p, a) <= grants::MAX_PENDING_PER_CLIENT);
    }
    let codes = store
        .keys()
        .iter()
        .filter(|k| k.starts_with(grants::CODE_PREFIX))
        .count();
    assert!(codes <= grants::MAX_CODES, "{codes}");
    assert_eq!(refused_at, Some(31), "the 32nd code finds no room");
    // The victim's code survived all of it.
    assert_eq!(exchange(&p, &victim, &verifier, &code).status, 200);
}

#[test]
fn one_clients_new_code_pushes_out_only_its_own_oldest() {
    let (p, _, _, clock) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let mut issued = Vec::new();
    for _ in 0..grants::MAX_PENDING_PER_CLIENT + 1 {
        clock.advance_sec(1);
        let (verifier, challenge) = pkce();
        issued.push((verifier, flow::authorize(&p, HOST, &client_id, &challenge)));
    }
    assert_eq!(
        pending_codes(&p, &client_id),
        grants::MAX_PENDING_PER_CLIENT
    );
    let (verifier, code) = &issued[0];
    assert_eq!(
        error_of(&exchange(&p, &client_id, verifier, code)),
        "invalid_grant"
    );
    let (verifier, code) = issued.last().unwrap();
    assert_eq!(exchange(&p, &client_id, verifier, code).status, 200);
}

// ---- item 5: our own CORS decision replaces Scrypted's

#[test]
fn authorize_is_never_readable_cross_origin_and_nothing_allows_credentials() {
    let (p, ..) = plugin();
    let client_id = register_ok(&p, &[CLAUDE_AI]);
    let (_, challenge) = pkce();
    for method in ["GET", "OPTIONS"] {
        let mut req = as_admin(authorize_get(&client_id, Some(CLAUDE_AI), &challenge, &[]));
        req.method = method.into();
        req.headers
            .insert("origin".into(), "https://evil.example".into());
        let resp = send(&p, req);
        assert_eq!(
            resp.get_header("access-control-allow-origin"),
            Some("http://192.168.1.10:11080"),
            "{method}"
        );
        assert_eq!(
            resp.get_header("access-control-allow-credentials"),
            Some("false")
        );
    }
    // /mcp: a foreign origin is not echoed; the metadata and /token are readable without
    // credentials.
    let mut req = mcp_request(HOST, None);
    req.headers
        .insert("origin".into(), "https://evil.example".into());
    let resp = send(&p, req);
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.get_header("access-control-allow-origin"),
        Some("http://192.168.1.10:11080")
    );
    for path in ["/token", "/.well-known/oauth-authorization-server"] {
        let mut req = request(if path == "/token" { "POST" } else { "GET" }, path, HOST);
        req.headers
            .insert("origin".into(), "https://app.example".into());
        let resp = send(&p, req);
        assert_eq!(
            resp.get_header("access-control-allow-origin"),
            Some("https://app.example"),
            "{path}"
        );
        assert_eq!(
            resp.get_header("access-control-allow-credentials"),
            Some("false")
        );
    }
}

// ---- item 12: forwarded headers only for a Public URL

#[test]
fn a_token_minted_through_a_forged_forwarded_origin_is_for_the_real_one() {
    let (p, ..) = plugin();
    let mut req = get("/.well-known/oauth-protected-resource");
    req.headers
        .insert("x-forwarded-proto".into(), "https".into());
    req.headers
        .insert("x-forwarded-host".into(), "public.example".into());
    let prm = send(&p, req).body_json().unwrap();
    assert_eq!(prm["resource"], MCP_URL);

    // Listed: tokens minted there work there, and not on the LAN port.
    block_on(p.put_setting("public_urls", json!("https://public.example"))).unwrap();
    let t = flow::obtain_tokens(&p, HOST);
    let mut via_proxy = mcp_request(HOST, Some(&t.access_token));
    via_proxy
        .headers
        .insert("x-forwarded-proto".into(), "https".into());
    via_proxy
        .headers
        .insert("x-forwarded-host".into(), "public.example".into());
    let err = authenticate(&p, &via_proxy).unwrap_err();
    assert_eq!(error_of(&err), "invalid_token");
    assert!(challenge_of(&err).contains("another issuer"));
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
}

#[test]
fn public_urls_setting_refuses_anything_but_origins_and_changes_nothing() {
    let (p, _, store, _) = plugin();
    block_on(p.put_setting("public_urls", json!("https://a.example"))).unwrap();
    let before = store.snapshot();
    for bad in [
        "https://a.example/path",
        "ftp://a.example",
        "https://user:pw@a.example",
        "https://a.example?x=1",
        "not a url",
        "https://ok.example, https://b\"ad.example",
    ] {
        let err = block_on(p.put_setting("public_urls", json!(bad))).unwrap_err();
        assert!(err.contains("public_urls"), "{bad}: {err}");
        assert_eq!(store.snapshot(), before, "{bad}");
    }
    block_on(p.put_setting("public_urls", json!(""))).unwrap();
    assert_eq!(store.get(scrypted_mcp::origin::PUBLIC_URLS_KEY), None);
}
