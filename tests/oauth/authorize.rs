//! `/authorize`: login and admin checks, PKCE and resource rules, where errors go (a page
//! or the redirect URI), and the CSRF-protected consent page for non-loopback redirects.

use super::*;

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
    // 200, not 401: fastmcp 4.2.3 probes this URL and gives up on a 401 (issue 9).
    assert_eq!(resp.status, 200);
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
fn authorize_loopback_redirects_on_any_port_with_state_and_iss() {
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
    // admin (docs/reference/client-compat.md §4.2: the consent page names the client).
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
    flow::consent_form(html).0
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
    let page = consent_page_of(
        &p,
        authorize_get(&client_id, Some(CLAUDE_AI), &challenge, &[]),
    );
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
            f.1 = format!("{}.AAAA.AAAA", p.ctx.clock.now_sec());
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

    // Deny (raw form body) → access_denied at the client, with state and iss; no code.
    let resp = send(&p, consent_post(&fields, "deny", false, "admin"));
    assert_eq!(resp.status, 302);
    let (url, params) = location_params(&resp);
    assert!(url.as_str().starts_with(CLAUDE_AI));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "st-123");
    assert_eq!(params["iss"], ISSUER);
    assert!(store.keys().iter().all(|k| !k.starts_with("oauth.code.")));

    // Approve (Scrypted's JSON form body, every scope ticked) on a fresh page → a code
    // that works. (The denied form was spent: tests/oauth/consent.rs.)
    let page = consent_page_of(
        &p,
        authorize_get(&client_id, Some(CLAUDE_AI), &challenge, &[]),
    );
    let mut fields = consent_fields(page.body_text().unwrap());
    for scope in ["read", "control", "admin"] {
        fields.push((format!("grant_{scope}"), "on".into()));
    }
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

    // A consent form older than ten minutes is refused (another app: this one is now
    // approved and would get no page).
    let client_id = register_ok(&p, &[CLAUDE_AI]);
    let (_, challenge) = pkce();
    let page = consent_page_of(
        &p,
        authorize_get(&client_id, Some(CLAUDE_AI), &challenge, &[]),
    );
    let fields = consent_fields(page.body_text().unwrap());
    clock.advance_sec(601);
    let resp = send(&p, consent_post(&fields, "approve", true, "admin"));
    assert_eq!(resp.status, 400);
}
