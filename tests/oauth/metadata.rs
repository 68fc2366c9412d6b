//! The discovery documents: protected-resource and authorization-server metadata, the
//! JWKS, and the issuer they all derive from the request.

use super::*;

#[test]
fn metadata_documents_have_the_required_fields_and_one_issuer() {
    let (p, ..) = plugin();
    let prm = send(&p, get("/.well-known/oauth-protected-resource"));
    assert_eq!(prm.status, 200);
    assert_eq!(prm.get_header("content-type"), Some("application/json"));
    let prm = prm.body_json().unwrap();
    assert_eq!(prm["resource"], MCP_URL);
    assert_eq!(prm["authorization_servers"], json!([ISSUER]));
    assert_eq!(
        prm["scopes_supported"],
        json!(["scrypted:read", "scrypted:control", "scrypted:admin"])
    );
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    let prm_mcp = send(&p, get("/.well-known/oauth-protected-resource/mcp"));
    assert_eq!(prm_mcp.body_json().unwrap(), prm);

    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let mut req = get(path);
        req.headers
            .insert("mcp-protocol-version".into(), "2026-07-28".into());
        let resp = send(&p, req);
        assert_eq!(resp.status, 200, "{path}");
        assert_eq!(resp.get_header("content-type"), Some("application/json"));
        let m = resp.body_json().unwrap();
        assert_eq!(m["issuer"], ISSUER);
        assert_eq!(m["issuer"], prm["authorization_servers"][0]);
        assert_eq!(m["authorization_endpoint"], format!("{ISSUER}/authorize"));
        assert_eq!(m["token_endpoint"], format!("{ISSUER}/token"));
        assert_eq!(m["registration_endpoint"], format!("{ISSUER}/register"));
        assert_eq!(m["revocation_endpoint"], format!("{ISSUER}/revoke"));
        assert_eq!(m["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
        assert_eq!(m["subject_types_supported"], json!(["public"]));
        assert_eq!(m["id_token_signing_alg_values_supported"], json!(["ES256"]));
        assert_eq!(m["response_types_supported"], json!(["code"]));
        assert_eq!(
            m["grant_types_supported"],
            json!(["authorization_code", "refresh_token"])
        );
        assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(m["token_endpoint_auth_methods_supported"], json!(["none"]));
        assert_eq!(
            m["scopes_supported"],
            json!(["scrypted:read", "scrypted:control", "scrypted:admin"])
        );
        assert_eq!(m["authorization_response_iss_parameter_supported"], true);
        // MCP 2026-07-28 client-registration: CIMD is served (tests/oauth/cimd.rs).
        assert_eq!(m["client_id_metadata_document_supported"], true);
        assert!(!m.to_string().contains("offline_access"));
    }
}

#[test]
fn jwks_publishes_the_p256_key() {
    let (p, ..) = plugin();
    let resp = send(&p, get("/.well-known/jwks.json"));
    assert_eq!(resp.status, 200);
    let jwks = resp.body_json().unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    for c in ["x", "y"] {
        let bytes = scrypted_mcp::crypto::b64url_decode(key[c].as_str().unwrap()).unwrap();
        assert_eq!(bytes.len(), 32);
    }
    // The key persists: a second plugin on the same store publishes the same key.
    let again = send(&p, get("/.well-known/jwks.json")).body_json().unwrap();
    assert_eq!(again, jwks);
}

#[test]
fn issuer_follows_forwarded_headers_of_a_public_url_and_the_port() {
    let (p, ..) = plugin();
    let forwarded = |proto: &str, host: &str| {
        let mut req = get("/.well-known/openid-configuration");
        req.headers.insert("x-forwarded-proto".into(), proto.into());
        req.headers.insert("x-forwarded-host".into(), host.into());
        send(&p, req).body_json().unwrap()["issuer"].clone()
    };
    // Issue 8 item 12: nobody can tell a proxy's headers from a client's (no remote
    // address), so they count only for an origin the admin listed.
    assert_eq!(forwarded("https", "mcp.example.com"), ISSUER);
    block_on(p.put_setting(
        "public_urls",
        json!("https://mcp.example.com/, http://lan.example:8080"),
    ))
    .unwrap();
    assert_eq!(
        forwarded("https", "mcp.example.com"),
        "https://mcp.example.com/endpoint/scrypted-mcp/public"
    );
    assert_eq!(
        forwarded("http", "lan.example:8080"),
        "http://lan.example:8080/endpoint/scrypted-mcp/public"
    );
    // The same host over the other scheme, another port or another host: not listed.
    assert_eq!(forwarded("http", "mcp.example.com"), ISSUER);
    assert_eq!(forwarded("https", "mcp.example.com:8443"), ISSUER);
    assert_eq!(forwarded("https", "evil.example"), ISSUER);

    let req = request(
        "GET",
        "/.well-known/openid-configuration",
        "192.168.1.10:10443",
    );
    let m = send(&p, req).body_json().unwrap();
    assert_eq!(
        m["issuer"],
        "https://192.168.1.10:10443/endpoint/scrypted-mcp/public"
    );

    // A hostile Host cannot inject markup or paths into the issuer.
    let req = request("GET", "/.well-known/openid-configuration", "evil\"/x<y>");
    let m = send(&p, req).body_json().unwrap();
    assert!(!m["issuer"].as_str().unwrap().contains('"'));

    // Host after host: each request gets its own, nothing is kept from the one before.
    let secure = "https://192.168.1.10:10443/endpoint/scrypted-mcp/public";
    for (host, issuer) in [
        (HOST, ISSUER),
        ("192.168.1.10:10443", secure),
        (HOST, ISSUER),
    ] {
        let req = request("GET", "/.well-known/openid-configuration", host);
        assert_eq!(send(&p, req).body_json().unwrap()["issuer"], issuer);
    }
}
