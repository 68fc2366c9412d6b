//! Compact ES256 JWTs (RFC 7519 / RFC 7515). Hand-written because the JWT crates either
//! pull in ring/openssl (no wasm32) or a second P-256 implementation; with p256 already
//! here, a JWS is three base64url parts and one signature.

use super::keys::Key;
use crate::crypto;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::Signature;
use serde_json::{json, Value};

/// Signs `claims` as an RFC 9068 access token.
pub fn sign(key: &Key, claims: &Value) -> String {
    let header = json!({ "alg": "ES256", "typ": "at+jwt", "kid": key.kid });
    let signing_input = format!(
        "{}.{}",
        crypto::b64url(crate::http::json_text(&header).as_bytes()),
        crypto::b64url(crate::http::json_text(claims).as_bytes())
    );
    // p256 does not normalise S when signing; `verify` refuses high S, so sign low.
    // `try_sign`, not `sign`: `sign` is `try_sign(..).expect(..)`, whose error `Debug` the
    // wasm would carry (issue 12). ECDSA with a parsed key does not fail.
    let signature: Signature = key
        .signing()
        .try_sign(signing_input.as_bytes())
        .unwrap_or_else(|e| panic!("ES256 signing failed: {e}"));
    let signature = signature.normalize_s();
    format!("{signing_input}.{}", crypto::b64url(&signature.to_bytes()))
}

/// Checks the header and signature and returns the claims. Only ES256 with our current
/// key id and a low-S signature is accepted, so `alg: none`, HS256 confusion, foreign keys
/// and malleated signatures all fail here.
pub fn verify(key: &Key, token: &str) -> Result<Value, &'static str> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a JWT");
    };
    let header: Value = crypto::b64url_json(h).ok_or("malformed JWT header")?;
    if header["alg"] != "ES256" {
        return Err("unsupported JWT algorithm");
    }
    if header["kid"] != key.kid.as_str() {
        return Err("token was signed with a key that is no longer valid");
    }
    let sig_bytes = crypto::b64url_decode(s).ok_or("malformed JWT signature")?;
    let signature = Signature::from_slice(&sig_bytes).map_err(|_| "malformed JWT signature")?;
    // (r, n − s) verifies as well as (r, s): only the low-S form counts, so each token has
    // exactly one valid encoding (one cache entry, one identity for revocation).
    if signature.normalize_s() != signature {
        return Err("JWT signature is not in low-S form");
    }
    let signing_input = &token[..h.len() + 1 + p.len()];
    key.verifying
        .verify(signing_input.as_bytes(), &signature)
        .map_err(|_| "bad token signature")?;
    let claims: Value = crypto::b64url_json(p).ok_or("malformed JWT claims")?;
    if !claims.is_object() {
        return Err("malformed JWT claims");
    }
    Ok(claims)
}
