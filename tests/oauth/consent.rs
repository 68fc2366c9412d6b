//! The consent page (issue 9; issue 8 items 3 and 16): every client's first authorization
//! shows it, loopback included; the admin may grant less; the same or less later is
//! silent; a cross-site or replayed form approves nothing; every page is locked down.

use super::*;
use scrypted_mcp::oauth::Scope;

const ALL: &str = "scrypted:read scrypted:control scrypted:admin";

/// A loopback client's authorization request for `scope`, as the admin: the answer.
fn ask(p: &Plugin, client_id: &str, scope: &str) -> (Response, String) {
    let (verifier, challenge) = pkce();
    let resp = consent_page_of(
        p,
        authorize_get(
            client_id,
            Some(REDIRECT_URI),
            &challenge,
            &[("scope", scope)],
        ),
    );
    (resp, verifier)
}

/// Exchanges the code of an approval redirect; the token response.
fn token_of(p: &Plugin, client_id: &str, verifier: &str, approved: &Response) -> Value {
    assert_eq!(approved.status, 302, "{:?}", approved.body_text());
    let (_, params) = location_params(approved);
    let resp = exchange(p, client_id, verifier, &params["code"]);
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    resp.body_json().unwrap()
}

fn codes(store: &dyn Store) -> usize {
    store
        .keys()
        .iter()
        .filter(|k| k.starts_with("oauth.code."))
        .count()
}

#[test]
fn a_loopback_client_sees_the_page_first_then_same_or_less_is_silent_and_more_asks_again() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (page, verifier) = ask(&p, &client_id, ALL);
    assert_eq!(page.status, 200, "no silent approval of a first visit");
    assert!(page.get_header("location").is_none());
    assert_eq!(codes(store.as_ref()), 0);
    let html = page.body_text().unwrap().to_string();
    assert!(html.contains("Who vouches for this name"), "{html}");
    assert!(html.contains("self-declared, not verified"));
    let (_, boxes) = flow::consent_form(&html);
    assert_eq!(boxes, ["grant_read", "grant_control", "grant_admin"]);

    // Untick admin: a token for read and control, as the response and the token say.
    let approved = flow::approve_consent(
        &p,
        HOST,
        "admin",
        page,
        Some(&["scrypted:read", "scrypted:control"]),
    );
    let tokens = token_of(&p, &client_id, &verifier, &approved);
    assert_eq!(tokens["scope"], "scrypted:read scrypted:control");
    let claims = authenticate(&p, &mcp_request(HOST, tokens["access_token"].as_str())).unwrap();
    assert_eq!(claims.scope, "scrypted:read scrypted:control");

    // The same or less: no page.
    for scope in ["scrypted:read scrypted:control", "scrypted:read"] {
        let (silent, verifier) = ask(&p, &client_id, scope);
        let tokens = token_of(&p, &client_id, &verifier, &silent);
        assert_eq!(tokens["scope"], Scope::highest(scope).unwrap().granted());
    }
    // More than granted (the step-up): the page again, offering what is asked.
    let (again, _) = ask(&p, &client_id, ALL);
    assert_eq!(again.status, 200);
    assert!(again.body_text().unwrap().contains("grant_admin"));
}

#[test]
fn unticking_everything_or_denying_gives_no_code() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (page, _) = ask(&p, &client_id, ALL);
    let denied = flow::approve_consent(&p, HOST, "admin", page, Some(&[]));
    assert_eq!(denied.status, 302);
    let (_, params) = location_params(&denied);
    assert_eq!(params["error"], "access_denied");
    assert_eq!(codes(store.as_ref()), 0);
    // Nothing was remembered: the next visit shows the page.
    assert_eq!(ask(&p, &client_id, "scrypted:read").0.status, 200);
}

/// The consent form of a fresh page, posted with `headers` added.
fn post_form_with(p: &Plugin, client_id: &str, headers: &[(&str, &str)]) -> Response {
    let (page, _) = ask(p, client_id, ALL);
    let (hidden, boxes) = flow::consent_form(page.body_text().unwrap());
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &hidden {
        form.append_pair(k, v);
    }
    for b in &boxes {
        form.append_pair(b, "on");
    }
    form.append_pair("decision", "approve");
    let mut req = as_admin(request("POST", "/authorize", HOST));
    req.headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    for (k, v) in headers {
        req.headers.insert(k.to_string(), v.to_string());
    }
    req.body = Some(form.finish());
    send(p, req)
}

#[test]
fn a_cross_site_post_of_the_form_approves_nothing() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let _ = ask(&p, &client_id, ALL); // the CSRF secret exists from here on
    for headers in [
        vec![("origin", "http://127.0.0.1:4444")],
        vec![("origin", "null")],
        vec![("origin", "http://192.168.1.10:11080.evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        // Another port of the same host is "same-site" to a browser, not same-origin.
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "http://192.168.1.10:4444"),
        ],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let before = store.snapshot();
        let resp = post_form_with(&p, &client_id, &headers);
        assert_eq!(resp.status, 403, "{headers:?}");
        assert!(resp.get_header("location").is_none());
        assert!(resp.body_text().unwrap().contains("another site"));
        assert_eq!(store.snapshot(), before, "{headers:?}: nothing stored");
    }
    // From the page itself: approved.
    let ok = post_form_with(
        &p,
        &client_id,
        &[
            ("origin", "http://192.168.1.10:11080"),
            ("sec-fetch-site", "same-origin"),
        ],
    );
    assert_eq!(ok.status, 302, "{:?}", ok.body_text());
}

#[test]
fn a_consent_form_is_good_once() {
    let (p, _, store, _) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (page, _) = ask(&p, &client_id, ALL);
    let html = page.body_text().unwrap().to_string();
    let replay = || {
        flow::approve_consent(
            &p,
            HOST,
            "admin",
            Response::html(200, html.clone()),
            Some(&["scrypted:read"]),
        )
    };
    assert_eq!(replay().status, 302);
    let before = store.snapshot();
    let second = replay();
    assert_eq!(second.status, 400, "a spent CSRF token is refused");
    assert!(second.body_text().unwrap().contains("already used"));
    assert_eq!(store.snapshot(), before);
}

#[test]
fn every_page_is_locked_down_and_the_consent_form_may_go_only_to_the_app() {
    let (p, ..) = plugin();
    let https = register_ok(&p, &[CLAUDE_AI]);
    let loopback = register_ok(&p, &[REDIRECT_URI]);
    let (_, challenge) = pkce();
    let pages = [
        (
            consent_page_of(&p, authorize_get(&https, Some(CLAUDE_AI), &challenge, &[])),
            "https://claude.ai",
        ),
        (ask(&p, &loopback, ALL).0, "http://127.0.0.1:33418"),
    ];
    let login = send(&p, authorize_get(&https, Some(CLAUDE_AI), &challenge, &[]));
    let hint = send(&p, get("/"));
    for (page, target) in pages
        .iter()
        .map(|(r, t)| (r, Some(*t)))
        .chain([(&login, None), (&hint, None)])
    {
        assert_eq!(page.status, 200);
        let csp = page.get_header("content-security-policy").unwrap();
        assert!(
            csp.starts_with(
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
            ),
            "{csp}"
        );
        match target {
            Some(t) => assert!(csp.ends_with(&format!("form-action 'self' {t}")), "{csp}"),
            None => assert!(csp.ends_with("form-action 'none'"), "{csp}"),
        }
        assert_eq!(page.get_header("x-content-type-options"), Some("nosniff"));
        let referrer = if target.is_some() {
            "same-origin"
        } else {
            "no-referrer"
        };
        assert_eq!(page.get_header("referrer-policy"), Some(referrer));
        assert_eq!(page.get_header("x-frame-options"), Some("DENY"));
        assert!(!page.body_text().unwrap().contains("<script"));
    }
}

#[test]
fn read_only_mode_caps_what_the_page_grants() {
    let (p, _, store, _) = plugin();
    store.set(oauth::scope::READ_ONLY_KEY, "true");
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let (page, verifier) = ask(&p, &client_id, ALL);
    assert!(page.body_text().unwrap().contains("Read-only mode is on"));
    let approved = flow::approve_consent(&p, HOST, "admin", page, None);
    let tokens = token_of(&p, &client_id, &verifier, &approved);
    assert_eq!(tokens["scope"], "scrypted:read");
}

#[test]
fn an_approval_holds_for_the_redirect_it_named_not_for_another_of_the_same_client() {
    let (p, _, store, _) = plugin();
    // A client registering a loopback and a foreign redirect: approving the loopback one
    // (the page names 127.0.0.1) must not let a later request send a code to the other.
    let client_id = register_ok(&p, &[REDIRECT_URI, "https://evil.example/cb"]);
    let (page, _) = ask(&p, &client_id, ALL);
    assert_eq!(
        flow::approve_consent(&p, HOST, "admin", page, None).status,
        302
    );
    let (_, challenge) = pkce();
    let other = consent_page_of(
        &p,
        authorize_get(&client_id, Some("https://evil.example/cb"), &challenge, &[]),
    );
    assert_eq!(other.status, 200, "a page, not a silent redirect");
    assert!(other.get_header("location").is_none());
    assert!(other.body_text().unwrap().contains("<b>evil.example</b>"));
    assert_eq!(codes(store.as_ref()), 1, "only the approved one's code");
    // The loopback one on another port (a native app's next run) stays approved.
    let another_port = consent_page_of(
        &p,
        authorize_get(
            &client_id,
            Some("http://127.0.0.1:5555/callback"),
            &challenge,
            &[],
        ),
    );
    assert_eq!(another_port.status, 302);
}
