//! Client ID Metadata Documents (MCP 2026-07-28 client-registration; draft-ietf-oauth-
//! client-id-metadata-document-00): an https client_id is fetched through the host, checked,
//! cached, and takes no registration slot; every hostile document or address is refused with
//! `invalid_client` and nothing is stored. The network is the fake bridge's `dns` and `web`;
//! tests/js/cimd.test.mjs runs the same flow over real HTTPS through the real host.js.

use super::common::fake::Page;
use super::common::{merge_patch, FakeBridge};
use super::*;

const DOC_URL: &str = "https://app.example/oauth/client.json";
const PUBLIC_IP: &str = "93.184.215.14";

fn document(redirects: &[&str]) -> Value {
    json!({
        "client_id": DOC_URL,
        "client_name": "Example <App>",
        "redirect_uris": redirects,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

/// `app.example` resolves to a public address and serves `page` at [`DOC_URL`].
fn publish(host: &FakeBridge, page: Page) {
    host.dns
        .borrow_mut()
        .insert("app.example".into(), vec![PUBLIC_IP.into()]);
    host.web.borrow_mut().insert(DOC_URL.into(), page);
}

fn oauth_keys(store: &scrypted_mcp::store::MemStore) -> Vec<String> {
    store
        .snapshot()
        .into_keys()
        .filter(|k| k.starts_with("oauth.client.") || k.starts_with("oauth.code."))
        .collect()
}

/// An admin's /authorize for `client_id` that must be refused: a 400 page naming
/// `invalid_client` and `reason`, no redirect, nothing written.
fn refused(p: &Plugin, store: &scrypted_mcp::store::MemStore, client_id: &str, reason: &str) {
    let (_, challenge) = pkce();
    let writes = store.writes.get();
    let resp = authorize_as_admin(p, client_id, Some(REDIRECT_URI), &challenge, &[]);
    let html = resp.body_text().unwrap().to_string();
    assert_eq!(resp.status, 400, "{client_id}: {html}");
    assert!(resp.get_header("location").is_none(), "{client_id}");
    assert!(html.contains("invalid_client"), "{client_id}: {html}");
    assert!(
        html.contains(reason),
        "{client_id}: {reason:?} not in {html}"
    );
    assert_eq!(store.writes.get(), writes, "{client_id}: nothing stored");
}

#[test]
fn a_document_client_gets_tokens_without_a_registration_and_refreshes_by_its_url() {
    let (p, host, store, _) = plugin();
    publish(&host, Page::json(&document(&[REDIRECT_URI])));
    let (verifier, challenge) = pkce();
    let resp = authorize_as_admin(&p, DOC_URL, Some(REDIRECT_URI), &challenge, &[]);
    assert_eq!(resp.status, 302, "{:?}", resp.body_text());
    let (_, params) = location_params(&resp);
    // Resolved once, then fetched from exactly that address, within the limits.
    assert_eq!(
        host.calls_of("resolveHost"),
        vec![json!({"host": "app.example", "timeoutMs": 5000})]
    );
    assert_eq!(
        host.calls_of("httpsGet"),
        vec![json!({"url": DOC_URL, "address": PUBLIC_IP, "maxBytes": 5120, "timeoutMs": 5000})]
    );
    let tokens = exchange(&p, DOC_URL, &verifier, &params["code"]);
    assert_eq!(tokens.status, 200, "{:?}", tokens.body_text());
    let tokens = tokens.body_json().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let claims = authenticate(&p, &mcp_request(HOST, Some(access))).unwrap();
    assert_eq!(claims.client_id, DOC_URL);
    assert!(
        store
            .snapshot()
            .keys()
            .all(|k| !k.starts_with("oauth.client.")),
        "no registration stored"
    );
    let again = refreshed(&p, DOC_URL, tokens["refresh_token"].as_str().unwrap());
    assert!(authenticate(&p, &mcp_request(HOST, again["access_token"].as_str())).is_ok());
    // The token endpoint never fetches.
    assert_eq!(host.calls_of("httpsGet").len(), 1);
    // A code of this client is no good for another, and a bad URL client_id is invalid_client.
    let resp = refresh(&p, "http://app.example/oauth/client.json", "x.y");
    assert_eq!(resp.status, 401);
    assert_eq!(error_of(&resp), "invalid_client");
}

#[test]
fn the_consent_page_names_the_verified_host_and_the_name_as_a_claim() {
    let (p, host, _, _) = plugin();
    publish(&host, Page::json(&document(&[CLAUDE_AI])));
    let (verifier, challenge) = pkce();
    let page = consent_page_of(&p, authorize_get(DOC_URL, Some(CLAUDE_AI), &challenge, &[]));
    assert_eq!(page.status, 200);
    let html = page.body_text().unwrap().to_string();
    assert!(
        html.contains("Who vouches for this name: <b>app.example</b>, verified"),
        "{html}"
    );
    assert!(html.contains("published by <b>app.example</b>"), "{html}");
    assert!(html.contains(&format!("<code>{DOC_URL}</code>")), "{html}");
    assert!(
        html.contains("calls itself \u{201c}Example &lt;App&gt;\u{201d}"),
        "{html}"
    );
    let resp = flow::approve_consent(&p, HOST, "admin", page, None);
    assert_eq!(resp.status, 302);
    let (_, params) = location_params(&resp);
    let tokens = token_request(
        &p,
        HOST,
        &code_fields(&params["code"], Some(CLAUDE_AI), &verifier, DOC_URL),
    );
    assert_eq!(tokens.status, 200, "{:?}", tokens.body_text());
    // The consent POST used the cached document.
    assert_eq!(host.calls_of("httpsGet").len(), 1);
}

#[test]
fn hostile_documents_are_refused_and_nothing_is_stored() {
    let good = document(&[REDIRECT_URI]);
    let with = |patch: Value| {
        let mut doc = good.clone();
        merge_patch(&mut doc, &patch);
        Page::json(&doc)
    };
    let cases = [
        (
            with(json!({"client_id": "https://evil.example/oauth/client.json"})),
            "is not the URL it was fetched from",
        ),
        (
            with(json!({"redirect_uris": ["http://127.0.0.1:9999/other"]})),
            "Redirect URI not registered",
        ),
        (
            Page {
                body: format!("{{\"pad\": \"{}\"}}", "x".repeat(6000)),
                ..Page::json(&good)
            },
            "larger than 5120 bytes",
        ),
        (
            Page {
                status: 302,
                ..Page::json(&good)
            },
            "redirects are not followed",
        ),
        (
            Page {
                status: 404,
                ..Page::json(&good)
            },
            "answered HTTP 404",
        ),
        (
            Page {
                body: "<html>hello</html>".into(),
                ..Page::json(&good)
            },
            "did not answer a JSON object",
        ),
        (with(json!({"client_name": null})), "needs a client_name"),
        (
            with(json!({"token_endpoint_auth_method": "client_secret_basic"})),
            "only public clients",
        ),
        (
            with(json!({"client_secret": "s3cret"})),
            "must not contain a client_secret",
        ),
        (
            with(json!({"redirect_uris": ["javascript:alert(1)"]})),
            "is not allowed",
        ),
    ];
    for (page, reason) in cases {
        let (p, host, store, _) = plugin();
        publish(&host, page);
        if reason == "Redirect URI not registered" {
            // The document is fine; the request's redirect is not in it: a page, no code.
            let (_, challenge) = pkce();
            let writes = store.writes.get();
            let resp = authorize_as_admin(&p, DOC_URL, Some(REDIRECT_URI), &challenge, &[]);
            assert_eq!(resp.status, 400);
            assert!(resp.body_text().unwrap().contains(reason));
            assert_eq!(store.writes.get(), writes);
            continue;
        }
        refused(&p, &store, DOC_URL, reason);
        assert!(oauth_keys(&store).is_empty());
    }
}

#[test]
fn internal_addresses_and_non_document_urls_are_refused_before_any_fetch() {
    let (p, host, store, _) = plugin();
    publish(&host, Page::json(&document(&[REDIRECT_URI])));
    host.dns
        .borrow_mut()
        .insert("loopback.example".into(), vec!["127.0.0.1".into()]);
    host.dns.borrow_mut().insert(
        "mixed.example".into(),
        vec![PUBLIC_IP.into(), "10.0.0.7".into()],
    );
    for (client_id, reason) in [
        (
            "https://loopback.example/c.json",
            "resolves to 127.0.0.1, a loopback address",
        ),
        (
            "https://mixed.example/c.json",
            "resolves to 10.0.0.7, a private (RFC 1918) address",
        ),
        ("https://10.1.2.3/c.json", "a private (RFC 1918) address"),
        ("https://[::ffff:a9fe:a9fe]/c.json", "a link-local address"),
        ("https://[fd00::1]:8443/c.json", "unique local"),
        (
            "http://app.example/oauth/client.json",
            "is not an https URL",
        ),
        ("https://app.example", "has no path"),
        ("https://app.example/a/../oauth/client.json", "normal form"),
    ] {
        refused(&p, &store, client_id, reason);
    }
    assert!(!host.called("httpsGet"), "nothing was fetched");
    assert!(oauth_keys(&store).is_empty());

    // Not logged in: the login page, and nothing is even resolved.
    let (_, challenge) = pkce();
    let resp = send(
        &p,
        authorize_get(DOC_URL, Some(REDIRECT_URI), &challenge, &[]),
    );
    assert!(resp
        .body_text()
        .unwrap()
        .contains("Log into Scrypted first"));
    assert!(!host.called("httpsGet"));
}

#[test]
fn an_admin_allowance_lets_exactly_one_private_host_port_through() {
    let (p, host, store, _) = plugin();
    let url = "https://nas.lan:8443/client.json";
    let mut doc = document(&[REDIRECT_URI]);
    doc["client_id"] = json!(url);
    host.dns
        .borrow_mut()
        .insert("nas.lan".into(), vec!["192.168.1.20".into()]);
    host.web.borrow_mut().insert(url.into(), Page::json(&doc));
    refused(&p, &store, url, "an admin can allow nas.lan:8443");

    let err = block_on(p.put_setting("cimd_private_hosts", json!("nas.lan"))).unwrap_err();
    assert!(err.contains("not a host:port entry"), "{err}");
    block_on(p.put_setting("cimd_private_hosts", json!("nas.lan:443"))).unwrap();
    refused(&p, &store, url, "resolves to 192.168.1.20");

    block_on(p.put_setting("cimd_private_hosts", json!("NAS.lan:8443, other:1"))).unwrap();
    let (_, challenge) = pkce();
    let resp = authorize_as_admin(&p, url, Some(REDIRECT_URI), &challenge, &[]);
    assert_eq!(resp.status, 302, "{:?}", resp.body_text());
    assert_eq!(
        host.calls_of("httpsGet")[0]["address"],
        json!("192.168.1.20"),
        "pinned to the checked address"
    );
}

#[test]
fn documents_are_cached_as_their_headers_allow() {
    let (p, host, _, clock) = plugin();
    let authorize = |p: &Plugin| {
        let (_, challenge) = pkce();
        let resp = authorize_as_admin(p, DOC_URL, Some(REDIRECT_URI), &challenge, &[]);
        assert_eq!(resp.status, 302, "{:?}", resp.body_text());
    };
    publish(
        &host,
        Page {
            cache_control: Some("public, max-age=600".into()),
            ..Page::json(&document(&[REDIRECT_URI]))
        },
    );
    authorize(&p);
    clock.advance_sec(599);
    authorize(&p);
    assert_eq!(host.calls_of("httpsGet").len(), 1, "served from the cache");
    clock.advance_sec(2);
    authorize(&p);
    assert_eq!(
        host.calls_of("httpsGet").len(),
        2,
        "fetched again after max-age"
    );

    host.web
        .borrow_mut()
        .get_mut(DOC_URL)
        .unwrap()
        .cache_control = Some("no-store".into());
    clock.advance_sec(601);
    authorize(&p);
    authorize(&p);
    // Each authorization is the consent page and its form: two fetches each.
    assert_eq!(
        host.calls_of("httpsGet").len(),
        6,
        "no-store: fetched every time"
    );
}

/// Revoking a document client forgets its document: the next sign-in reads it afresh
/// instead of from the day its headers allowed it to be kept.
#[test]
fn a_revoked_document_client_is_read_afresh() {
    let (p, host, _, _) = plugin();
    publish(
        &host,
        Page {
            cache_control: Some("max-age=86400".into()),
            ..Page::json(&document(&[REDIRECT_URI]))
        },
    );
    let (verifier, challenge) = pkce();
    let resp = authorize_as_admin(&p, DOC_URL, Some(REDIRECT_URI), &challenge, &[]);
    let (_, params) = location_params(&resp);
    let tokens = exchange(&p, DOC_URL, &verifier, &params["code"]);
    assert_eq!(tokens.status, 200, "{:?}", tokens.body_text());
    assert_eq!(host.calls_of("httpsGet").len(), 1);
    block_on(p.put_setting(&format!("revoke_client:{DOC_URL}"), json!(true))).unwrap();
    let resp = authorize_as_admin(&p, DOC_URL, Some(REDIRECT_URI), &challenge, &[]);
    assert_eq!(resp.status, 302, "{:?}", resp.body_text());
    assert_eq!(
        host.calls_of("httpsGet").len(),
        2,
        "fetched again after the revoke"
    );
}

#[test]
fn document_clients_take_no_registration_slot_and_are_revoked_by_url() {
    let (p, host, store, clock) = plugin();
    publish(&host, Page::json(&document(&[REDIRECT_URI])));
    block_on(p.put_setting("dcr_max_clients", json!(1))).unwrap();
    let (verifier, challenge) = pkce();
    let resp = authorize_as_admin(&p, DOC_URL, Some(REDIRECT_URI), &challenge, &[]);
    let (_, params) = location_params(&resp);
    let tokens = exchange(&p, DOC_URL, &verifier, &params["code"])
        .body_json()
        .unwrap();
    // A registration flood: each new registration pushes out the last idle one (once past
    // its first minutes), never the document client, whose grant keeps working.
    for _ in 0..5 {
        register_ok(&p, &[REDIRECT_URI]);
        clock.advance_sec(11 * 60);
    }
    assert_eq!(oauth::client_count(&p.ctx), 1);
    let access = tokens["access_token"].as_str().unwrap();
    assert!(authenticate(&p, &mcp_request(HOST, Some(access))).is_ok());
    let listed = oauth::clients(&p.ctx);
    let app = listed.iter().find(|c| c.client_id == DOC_URL).unwrap();
    assert_eq!(
        app.client_name.as_deref(),
        Some("app.example (calls itself \u{201c}Example <App>\u{201d})")
    );
    assert!(app.live_tokens);

    block_on(p.put_setting(&format!("revoke_client:{DOC_URL}"), json!(true))).unwrap();
    assert!(authenticate(&p, &mcp_request(HOST, Some(access))).is_err());
    assert!(store.snapshot().values().all(|v| !v.contains(DOC_URL)));
}
