//! The grant logic without HTTP: `oauth::token::code_grant` / `refresh_grant` and
//! `oauth::register::register` called with plain fields, answering a `TokenResponse` or a
//! typed `OAuthError` (RFC 6749 §5.2 code, status, description). A refusal changes nothing
//! in storage.

use super::*;
use scrypted_mcp::oauth::grants::{self, CodeRecord};
use scrypted_mcp::oauth::token::{code_grant, refresh_grant, Params, TokenResponse};
use scrypted_mcp::oauth::{register::register, OAuthError};

/// What an admin grant holds: every scope up to admin.
const SCOPE: &str = "scrypted:read scrypted:control scrypted:admin";
use scrypted_mcp::store::{MemStore, StoreExt};
use std::collections::BTreeMap;

/// Every key and value in storage, to prove a refusal wrote nothing.
fn snapshot(store: &MemStore) -> BTreeMap<String, String> {
    store
        .keys()
        .into_iter()
        .map(|k| (k.clone(), store.get(&k).unwrap()))
        .collect()
}

fn fields(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn new_client(p: &Plugin) -> String {
    let metadata = json!({"client_name": "direct", "redirect_uris": [REDIRECT_URI]});
    register(&p.ctx, metadata.as_object().unwrap())
        .unwrap()
        .client_id
}

/// An authorization code as `/authorize` leaves it in storage; returns (verifier, code).
fn stored_code(p: &Plugin, client_id: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let code = scrypted_mcp::crypto::random_token();
    let record = CodeRecord {
        client_id: client_id.to_string(),
        issuer: ISSUER.to_string(),
        redirect_uri: REDIRECT_URI.to_string(),
        redirect_uri_sent: true,
        code_challenge: challenge,
        resource: MCP_URL.to_string(),
        sub: "admin".to_string(),
        scope: SCOPE.to_string(),
        exp_ms: p.ctx.clock.now_ms() + grants::CODE_TTL_MS,
        used_grant: None,
    };
    p.ctx.store.set_json(&grants::code_key(&code), &record);
    (verifier, code)
}

fn exchange_fields<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ]
}

/// A new client with a fresh grant: its id and the first token answer.
fn granted(p: &Plugin) -> (String, TokenResponse) {
    let client_id = new_client(p);
    let (verifier, code) = stored_code(p, &client_id);
    let params = fields(&exchange_fields(&code, &verifier));
    let tokens = code_grant(&p.ctx, &params, Some(client_id.clone())).unwrap();
    (client_id, tokens)
}

fn refreshing(
    p: &Plugin,
    client_id: &str,
    refresh_token: &str,
    extra: &[(&str, &str)],
) -> Result<TokenResponse, OAuthError> {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    pairs.extend_from_slice(extra);
    block_on(refresh_grant(
        &p.ctx,
        &fields(&pairs),
        Some(client_id.to_string()),
    ))
}

/// The error's status and code, after checking it says something a person can act on.
fn kind(error: OAuthError) -> (u16, &'static str) {
    assert!(error.description.len() > 10, "{error:?}");
    assert_eq!((error.allow, error.challenge.as_deref()), (None, None));
    (error.status, error.code)
}

#[test]
fn a_code_becomes_tokens_once_and_its_replay_revokes_them() {
    let (p, host, ..) = plugin();
    let client_id = new_client(&p);
    let (verifier, code) = stored_code(&p, &client_id);
    let params = fields(&exchange_fields(&code, &verifier));

    let tokens = code_grant(&p.ctx, &params, Some(client_id.clone())).unwrap();
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.scope, SCOPE);
    let manifest: Value =
        serde_json::from_str(include_str!("../../scrypted-manifest.json")).unwrap();
    assert_eq!(
        json!(tokens.expires_in),
        manifest["settings"]["access_token_ttl_sec"]["default"]
    );
    let claims = authenticate(&p, &mcp_request(HOST, Some(&tokens.access_token))).unwrap();
    assert_eq!(
        (
            claims.sub.as_str(),
            claims.client_id.as_str(),
            claims.aud.as_str()
        ),
        ("admin", client_id.as_str(), MCP_URL)
    );

    let replay = code_grant(&p.ctx, &params, Some(client_id.clone())).unwrap_err();
    assert_eq!(
        replay,
        OAuthError::invalid_grant(
            "authorization code already used; the tokens issued from it are revoked"
        )
    );
    assert!(authenticate(&p, &mcp_request(HOST, Some(&tokens.access_token))).is_err());
    assert_eq!(
        kind(refreshing(&p, &client_id, &tokens.refresh_token, &[]).unwrap_err()),
        (400, "invalid_grant")
    );
    assert!(host
        .console_lines()
        .iter()
        .any(|(_, m)| m.contains("used twice")));
}

#[test]
fn code_grant_refusals_are_typed_and_write_nothing() {
    let (p, _host, store, clock) = plugin();
    let client_id = new_client(&p);
    let other_client = new_client(&p);
    let (verifier, code) = stored_code(&p, &client_id);
    let (other_verifier, _) = pkce();
    let good = exchange_fields(&code, &verifier);
    let with = |key: &str, value: Option<&str>| -> Params {
        let mut params = fields(&good);
        match value {
            Some(v) => params.insert(key.to_string(), v.to_string()),
            None => params.remove(key),
        };
        params
    };
    let mine = Some(client_id.as_str());
    let cases = [
        ("no client", fields(&good), None, (401, "invalid_client")),
        (
            "unknown client",
            fields(&good),
            Some("nobody"),
            (401, "invalid_client"),
        ),
        (
            "another client",
            fields(&good),
            Some(other_client.as_str()),
            (400, "invalid_grant"),
        ),
        (
            "no code",
            with("code", None),
            mine,
            (400, "invalid_request"),
        ),
        (
            "unknown code",
            with("code", Some("nope")),
            mine,
            (400, "invalid_grant"),
        ),
        (
            "no verifier",
            with("code_verifier", None),
            mine,
            (400, "invalid_request"),
        ),
        (
            "wrong verifier",
            with("code_verifier", Some(&other_verifier)),
            mine,
            (400, "invalid_grant"),
        ),
        (
            "redirect_uri left out after being sent",
            with("redirect_uri", None),
            mine,
            (400, "invalid_grant"),
        ),
        (
            "another resource",
            with("resource", Some("http://elsewhere.example/mcp")),
            mine,
            (400, "invalid_target"),
        ),
    ];
    let before = snapshot(&store);
    for (what, params, client, expected) in cases {
        let error = code_grant(&p.ctx, &params, client.map(String::from)).unwrap_err();
        assert_eq!(kind(error), expected, "{what}");
        assert_eq!(snapshot(&store), before, "{what} wrote something");
    }
    clock.advance_ms(grants::CODE_TTL_MS);
    let expired = code_grant(&p.ctx, &fields(&good), Some(client_id)).unwrap_err();
    assert_eq!(
        expired,
        OAuthError::invalid_grant("authorization code expired")
    );
    assert_eq!(snapshot(&store), before);
}

#[test]
fn refresh_grant_rotates_refuses_a_retry_and_revokes_on_reuse() {
    let (p, _host, store, clock) = plugin();
    let (client_id, first) = granted(&p);

    let second = refreshing(&p, &client_id, &first.refresh_token, &[]).unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    // A retry inside the reuse window gets no token at all, and changes nothing.
    clock.advance_ms(grants::REUSE_WINDOW_MS);
    let before = snapshot(&store);
    let error = refreshing(&p, &client_id, &first.refresh_token, &[]).unwrap_err();
    assert_eq!(
        error,
        OAuthError::invalid_grant(
            "refresh token was already used (rotated); use the refresh token of the latest answer, or authorize again"
        )
    );
    assert_eq!(snapshot(&store), before);

    // Narrowing is fine; widening or another resource is refused and changes nothing.
    let narrowed = refreshing(&p, &client_id, &second.refresh_token, &[("scope", SCOPE)]).unwrap();
    let before = snapshot(&store);
    for (extra, expected) in [
        (("scope", "scrypted:admin other"), (400, "invalid_scope")),
        (
            ("resource", "http://elsewhere.example/mcp"),
            (400, "invalid_target"),
        ),
    ] {
        let error = refreshing(&p, &client_id, &narrowed.refresh_token, &[extra]).unwrap_err();
        assert_eq!(kind(error), expected, "{extra:?}");
        assert_eq!(snapshot(&store), before, "{extra:?}");
    }
    let stranger = new_client(&p);
    let before = snapshot(&store);
    let error = refreshing(&p, &stranger, &narrowed.refresh_token, &[]).unwrap_err();
    assert_eq!(
        error,
        OAuthError::invalid_grant("refresh token was issued to another client")
    );
    assert_eq!(snapshot(&store), before);

    // The first token again, after the reuse window: the whole grant ends.
    clock.advance_ms(1);
    let error = refreshing(&p, &client_id, &first.refresh_token, &[]).unwrap_err();
    assert_eq!(
        error,
        OAuthError::invalid_grant(
            "refresh token was already used; the grant is revoked, authorize again"
        )
    );
    assert_eq!(
        kind(refreshing(&p, &client_id, &narrowed.refresh_token, &[]).unwrap_err()),
        (400, "invalid_grant")
    );
    assert_eq!(oauth::refresh_token_count(&p.ctx), 0);
}

#[test]
fn refresh_grant_answers_503_when_the_host_cannot_say_who_is_admin() {
    let (p, host, store, _) = plugin();
    let (client_id, tokens) = granted(&p);
    host.fail_with("users", "engine.io connection lost");
    let before = snapshot(&store);
    let error = refreshing(&p, &client_id, &tokens.refresh_token, &[]).unwrap_err();
    assert_eq!(
        error,
        OAuthError::temporarily_unavailable("could not check the user: engine.io connection lost")
    );
    assert_eq!(snapshot(&store), before);
    host.fail.borrow_mut().clear();
    assert!(refreshing(&p, &client_id, &tokens.refresh_token, &[]).is_ok());
}

#[test]
fn registration_refusals_are_typed_and_write_nothing() {
    let (p, _host, store, _) = plugin();
    let before = snapshot(&store);
    for (metadata, expected) in [
        (json!({}), (400, "invalid_redirect_uri")),
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            (400, "invalid_redirect_uri"),
        ),
        (
            json!({"redirect_uris": "http://127.0.0.1/cb"}),
            (400, "invalid_client_metadata"),
        ),
        (
            json!({"redirect_uris": [REDIRECT_URI], "grant_types": ["client_credentials"]}),
            (400, "invalid_client_metadata"),
        ),
        (
            json!({"redirect_uris": [REDIRECT_URI], "response_types": ["token"]}),
            (400, "invalid_client_metadata"),
        ),
    ] {
        let error = register(&p.ctx, metadata.as_object().unwrap()).unwrap_err();
        assert_eq!(kind(error), expected, "{metadata}");
        assert_eq!(snapshot(&store), before, "{metadata}");
    }
    let client = register(
        &p.ctx,
        json!({"redirect_uris": [REDIRECT_URI], "client_name": "  App  "})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(client.client_name.as_deref(), Some("App"));
    assert_eq!(client.grant_types, ["authorization_code", "refresh_token"]);
    assert_eq!(
        oauth::clients::get(store.as_ref(), &client.client_id),
        Some(client)
    );
}
