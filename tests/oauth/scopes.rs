//! Scopes at the authorization server (issue 9): what a code asked for is what the token
//! and the token response say; a refresh may narrow the new token but never widen.

use super::*;

const ALL: &str = "scrypted:read scrypted:control scrypted:admin";

fn claims_scope(p: &Plugin, token: &str) -> String {
    authenticate(p, &mcp_request(HOST, Some(token)))
        .unwrap()
        .scope
}

/// Every stored key and value: what a refused request must leave as it was.
fn snapshot(p: &Plugin) -> Vec<(String, Option<String>)> {
    p.ctx
        .store
        .keys()
        .into_iter()
        .map(|k| (k.clone(), p.ctx.store.get(&k)))
        .collect()
}

fn refresh_with(p: &Plugin, client_id: &str, refresh_token: &str, scope: &str) -> Response {
    token_request(
        p,
        HOST,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
            ("scope", scope),
        ],
    )
}

#[test]
fn a_read_grant_refreshes_to_read_and_cannot_widen() {
    let (p, ..) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let t = flow::tokens_for(&p, HOST, &client_id, "scrypted:read");
    assert_eq!(claims_scope(&p, &t.access_token), "scrypted:read");
    // Without `scope`: the grant's own.
    let t = refreshed(&p, &client_id, &t.refresh_token);
    assert_eq!(t["scope"], "scrypted:read");
    let refresh_token = t["refresh_token"].as_str().unwrap();
    let store_before = snapshot(&p);
    for wider in ["scrypted:control", "scrypted:admin", ALL] {
        let resp = refresh_with(&p, &client_id, refresh_token, wider);
        assert_eq!(resp.status, 400, "{wider}");
        assert_eq!(error_of(&resp), "invalid_scope", "{wider}");
        let said = resp.body_json().unwrap()["error_description"].to_string();
        assert!(said.contains("authorize again"), "{said}");
    }
    assert_eq!(
        snapshot(&p),
        store_before,
        "a refused refresh stores nothing"
    );
    // The refresh token still works.
    let same = refreshed(&p, &client_id, refresh_token);
    assert_eq!(same["scope"], "scrypted:read");
    assert_eq!(
        claims_scope(&p, same["access_token"].as_str().unwrap()),
        "scrypted:read"
    );
}

#[test]
fn a_narrower_scope_on_refresh_narrows_the_new_token_only() {
    let (p, ..) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    assert_eq!(claims_scope(&p, &t.access_token), ALL);
    let resp = refresh_with(&p, &t.client_id, &t.refresh_token, "scrypted:read");
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    let narrowed = resp.body_json().unwrap();
    assert_eq!(narrowed["scope"], "scrypted:read");
    assert_eq!(
        claims_scope(&p, narrowed["access_token"].as_str().unwrap()),
        "scrypted:read"
    );
    // RFC 6749 §6: the grant keeps what was approved; omitting scope asks for all of it.
    let again = refreshed(
        &p,
        &t.client_id,
        narrowed["refresh_token"].as_str().unwrap(),
    );
    assert_eq!(again["scope"], ALL);
}

#[test]
fn unknown_scopes_at_authorize_are_ignored_and_none_known_asks_for_everything() {
    let (p, ..) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    let t = flow::tokens_for(&p, HOST, &client_id, "openid scrypted:control");
    assert_eq!(
        claims_scope(&p, &t.access_token),
        "scrypted:read scrypted:control"
    );
    let t = flow::tokens_for(&p, HOST, &client_id, "openid");
    assert_eq!(claims_scope(&p, &t.access_token), ALL);
}

#[test]
fn the_401_challenge_names_every_scope() {
    let (p, ..) = plugin();
    let err = authenticate(&p, &mcp_request(HOST, None)).unwrap_err();
    let challenge = challenge_of(&err);
    assert!(
        challenge.ends_with(&format!("scope=\"{ALL}\"")),
        "{challenge}"
    );
}

/// RFC 6749 §3.3: a scope token is printable ASCII but `"` and `\`, and tokens are
/// separated by spaces. A request joining `scrypted:read` to another name by a vertical tab
/// or a no-break space asks for read in a form we cannot read: it is refused, never read as
/// naming none of ours (which asks for everything) or left unnarrowed.
#[test]
fn a_scope_holding_a_character_no_scope_may_hold_is_refused_not_widened() {
    let (p, ..) = plugin();
    let client_id = register_ok(&p, &[REDIRECT_URI]);
    // The admin approved everything for this app once: a later /authorize that asks for
    // no more is answered without a page.
    let t = flow::tokens_for(&p, HOST, &client_id, ALL);
    let store_before = snapshot(&p);
    let (_, challenge) = pkce();
    for (bad, code) in [
        ("scrypted:read\u{b}offline_access", "U+000B"),
        ("scrypted:read\u{a0}offline_access", "U+00A0"),
    ] {
        let resp = consent_page_of(
            &p,
            authorize_get(
                &client_id,
                Some(REDIRECT_URI),
                &challenge,
                &[("scope", bad)],
            ),
        );
        let (_, params) = location_params(&resp);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some("invalid_scope"),
            "{bad:?}: {params:?}"
        );
        assert!(params["error_description"].contains(code), "{params:?}");
        assert!(!params.contains_key("code"), "{bad:?}: {params:?}");

        let resp = refresh_with(&p, &client_id, &t.refresh_token, bad);
        assert_eq!(resp.status, 400, "{bad:?}: {:?}", resp.body_text());
        assert_eq!(error_of(&resp), "invalid_scope", "{bad:?}");
        let said = resp.body_json().unwrap()["error_description"].to_string();
        assert!(said.contains(code) && said.contains("spaces"), "{said}");
    }
    assert_eq!(
        snapshot(&p),
        store_before,
        "a refused request stores nothing"
    );
    // The refresh token still works, and narrows when asked in the RFC's form.
    let narrowed = refresh_with(
        &p,
        &client_id,
        &t.refresh_token,
        "scrypted:read offline_access",
    );
    assert_eq!(narrowed.status, 200, "{:?}", narrowed.body_text());
    assert_eq!(narrowed.body_json().unwrap()["scope"], "scrypted:read");
}
