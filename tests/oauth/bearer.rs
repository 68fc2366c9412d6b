//! The MCP endpoint's bearer check: the exact 401 challenge for every way a token can be
//! wrong, and the claims a good token carries.

use super::*;

fn b64(v: &Value) -> String {
    scrypted_mcp::crypto::b64url(v.to_string().as_bytes())
}

#[test]
fn bearer_failures_get_401_with_the_exact_challenge() {
    let (p, _, _, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let ok = authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).unwrap();
    assert_eq!(ok.aud, MCP_URL);

    // No token: the challenge without an error; username is never trusted.
    let mut req = mcp_request(HOST, None);
    req.username = Some("admin".into());
    let err = authenticate(&p, &req).unwrap_err();
    assert_eq!(
        challenge_of(&err),
        format!("Bearer resource_metadata=\"{PRM_URL}\", scope=\"scrypted:read scrypted:control scrypted:admin\"")
    );
    assert!(err.body_json().unwrap()["error"].is_string());

    let parts: Vec<&str> = t.access_token.split('.').collect();
    let claims: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[1]).unwrap()).unwrap();
    let header: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[0]).unwrap()).unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "kid": header["kid"]})),
        parts[1]
    );
    let hs256 = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "HS256", "kid": header["kid"]})),
        parts[1],
        parts[2]
    );
    // Self-signed: a different P-256 key claiming our kid.
    let other_store = scrypted_mcp::store::MemStore::default();
    let mut foreign = oauth::keys::current(&other_store, &RefCell::new(None));
    foreign.kid = header["kid"].as_str().unwrap().to_string();
    let self_signed = oauth::jwt::sign(&foreign, &claims);
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("someone-else");
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);

    for (token, what) in [
        ("garbage".to_string(), "garbage"),
        ("a.b.c".to_string(), "three garbage parts"),
        (alg_none, "alg none"),
        (hs256, "HS256"),
        (self_signed, "self-signed"),
        (tampered, "tampered claims"),
    ] {
        let err = authenticate(&p, &mcp_request(HOST, Some(&token))).unwrap_err();
        let challenge = challenge_of(&err);
        assert!(
            challenge.starts_with(&format!(
                "Bearer resource_metadata=\"{PRM_URL}\", error=\"invalid_token\", error_description=\""
            )),
            "{what}: {challenge}"
        );
        assert_eq!(error_of(&err), "invalid_token", "{what}");
    }
    // Not a Bearer header at all.
    let mut req = mcp_request(HOST, None);
    req.headers.insert("authorization".into(), "foo".into());
    assert!(challenge_of(&authenticate(&p, &req).unwrap_err()).contains("invalid_token"));

    // Wrong audience: the same token presented at another origin.
    let err = authenticate(&p, &mcp_request("10.0.0.9:11080", Some(&t.access_token))).unwrap_err();
    assert!(challenge_of(&err).contains(
        "resource_metadata=\"http://10.0.0.9:11080/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource\""
    ));

    // Expired: invalid_token too (clients refresh on it), even though it was cached.
    clock.advance_sec(3601);
    let err = authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).unwrap_err();
    assert!(challenge_of(&err).contains("expired"));
}

#[test]
fn access_token_claims_and_ttl_come_from_settings() {
    let (p, _, store, clock) = plugin();
    store.set("settings.access_token_ttl_sec", "120");
    let t = flow::obtain_tokens(&p, HOST);
    let parts: Vec<&str> = t.access_token.split('.').collect();
    let header: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[0]).unwrap()).unwrap();
    let claims: Value =
        serde_json::from_slice(&scrypted_mcp::crypto::b64url_decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert!(header["kid"].is_string());
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], MCP_URL);
    assert_eq!(claims["sub"], "admin");
    assert_eq!(claims["client_id"], t.client_id.as_str());
    assert_eq!(
        claims["scope"],
        "scrypted:read scrypted:control scrypted:admin"
    );
    assert!(claims["jti"].is_string());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        120
    );
    clock.advance_sec(121);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_err());
    // Storage holds no raw secrets.
    let snapshot = store.snapshot();
    let all: String = snapshot.values().cloned().collect();
    assert!(!all.contains(&t.refresh_token));
    assert!(!all.contains(&t.access_token));
}

#[test]
fn the_grant_is_read_again_only_when_the_host_was_asked_meanwhile() {
    let (p, host, store, clock) = plugin();
    let t = flow::obtain_tokens(&p, HOST);
    let counting = common::CountingReads::over(store, oauth::grants::GRANT_PREFIX);
    let p = Plugin::new(host, counting.clone(), clock.clone());
    let reads_of_one_request = || {
        counting.reads.set(0);
        assert!(authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).is_ok());
        counting.reads.get()
    };
    // Asking the host who is admin waits: the grant may end meanwhile, so it is read again.
    assert_eq!(reads_of_one_request(), 2);
    // The host's answer is still fresh: nothing waits, one read.
    assert_eq!(reads_of_one_request(), 1);
    clock.advance_ms(oauth::USER_CHECK_MS);
    assert_eq!(reads_of_one_request(), 2);
}

#[test]
fn tokens_used_in_turn_each_carry_their_own_claims_and_a_revoked_one_stops_at_once() {
    let (p, ..) = plugin();
    let a = flow::obtain_tokens(&p, HOST);
    let b = flow::obtain_tokens(&p, HOST);
    assert_ne!(a.client_id, b.client_id);
    for t in [&a, &b, &b, &a, &a, &b] {
        let claims = authenticate(&p, &mcp_request(HOST, Some(&t.access_token))).unwrap();
        assert_eq!(claims.client_id, t.client_id);
    }
    // Revoked right after its last use: the next request with it is refused.
    assert!(authenticate(&p, &mcp_request(HOST, Some(&b.access_token))).is_ok());
    let mut req = request("POST", "/revoke", HOST);
    req.body = Some(format!("token={}", b.access_token));
    assert_eq!(send(&p, req).status, 200);
    assert!(authenticate(&p, &mcp_request(HOST, Some(&b.access_token))).is_err());
    assert!(authenticate(&p, &mcp_request(HOST, Some(&a.access_token))).is_ok());
}
