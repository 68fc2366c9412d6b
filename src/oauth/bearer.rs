//! The MCP endpoint's bearer check: only our own ES256 access token counts, never
//! Scrypted's `username` (which Scrypted also fills from its own bearer tokens).

use super::{cimd, clients, grants, jwt, scope, AccessClaims, OAuthError, Scope};
use crate::http::Request;
use crate::origin::{self, PublicBase};
use crate::{crypto, Ctx};
use serde_json::Value;

/// A token whose signature has been checked, kept until its `exp`: ES256 verification
/// costs ~0.75 ms in wasm, every request carries the token, and the per-request checks
/// below (issuer, audience, expiry, client, grant) are cheap.
#[derive(Debug, Clone)]
pub struct Verified {
    claims: AccessClaims,
    iss: String,
}

/// Cached verifications beyond this are dropped (expired ones first).
const CACHE_MAX: usize = 512;

pub async fn authenticate(ctx: &Ctx, req: &Request) -> Result<AccessClaims, OAuthError> {
    let base = origin::base(ctx, req).await;
    let Some(auth) = req.header("authorization") else {
        return Err(challenge(&base, None));
    };
    let token = match auth.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(challenge(
                &base,
                Some("the Authorization header must be \"Bearer <access token>\""),
            ))
        }
    };
    check(ctx, &base, token).map_err(|reason| challenge(&base, Some(reason)))
}

fn check(ctx: &Ctx, base: &PublicBase, token: &str) -> Result<AccessClaims, &'static str> {
    if token.is_empty() || token.len() > 4096 {
        return Err("malformed access token");
    }
    let now = ctx.clock.now_sec();
    let cache_key = crypto::hash_secret(token);
    let cached = ctx.oauth.verified.borrow().get(&cache_key).cloned();
    let verified = match cached {
        Some(v) => v,
        None => {
            let key = ctx.oauth.key(ctx.store.as_ref());
            let claims = jwt::verify(&key, token)?;
            let verified = parse(&claims).ok_or("access token lacks required claims")?;
            remember(ctx, cache_key, verified.clone(), now);
            verified
        }
    };
    let claims = &verified.claims;
    if claims.exp <= now {
        return Err("access token expired");
    }
    if verified.iss != base.issuer {
        return Err("access token was issued by another issuer");
    }
    if claims.aud != base.mcp_url() {
        return Err("access token is for another resource");
    }
    let store = ctx.store.as_ref();
    // A metadata-document client has no registration; its grant (checked next) is the check.
    if !cimd::is_url_id(&claims.client_id) && clients::get(store, &claims.client_id).is_none() {
        return Err("the client of this token is no longer registered");
    }
    let grant = match grants::get_grant(store, &claims.grant_id) {
        Some(g) if g.client_id == claims.client_id && g.live(ctx.clock.now_ms()) => g,
        _ => return Err("access token revoked"),
    };
    // What this request may do is the least of the token's scope, the grant's (the admin
    // may have lowered it in Settings since) and read-only mode's cap: a live token never
    // outlasts a lowering.
    let level = Scope::of_grant(&claims.scope)
        .min(Scope::of_grant(&grant.scope))
        .min(scope::cap(store));
    Ok(AccessClaims {
        scope: level.granted(),
        ..verified.claims
    })
}

fn parse(claims: &Value) -> Option<Verified> {
    let s = |name: &str| claims.get(name).and_then(Value::as_str).map(String::from);
    Some(Verified {
        claims: AccessClaims {
            sub: s("sub")?,
            client_id: s("client_id")?,
            scope: s("scope")?,
            jti: s("jti")?,
            aud: s("aud")?,
            exp: claims.get("exp").and_then(Value::as_u64)?,
            grant_id: s("gid")?,
        },
        iss: s("iss")?,
    })
}

fn remember(ctx: &Ctx, key: String, verified: Verified, now: u64) {
    let mut cache = ctx.oauth.verified.borrow_mut();
    if cache.len() >= CACHE_MAX {
        cache.retain(|_, v| v.claims.exp > now);
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
    }
    cache.insert(key, verified);
}

/// Drops one token from the cache (revocation).
pub fn forget(ctx: &Ctx, token: &str) {
    ctx.oauth
        .verified
        .borrow_mut()
        .remove(&crypto::hash_secret(token));
}

/// The grant id inside an access token with a valid signature, for `/revoke`.
pub fn grant_of(ctx: &Ctx, token: &str) -> Option<(String, String)> {
    let key = ctx.oauth.key(ctx.store.as_ref());
    let claims = jwt::verify(&key, token).ok()?;
    let v = parse(&claims)?;
    Some((v.claims.grant_id, v.claims.client_id))
}

/// The 401 answer. `reason` is set when a token was sent (RFC 6750 §3.1).
fn challenge(base: &PublicBase, reason: Option<&str>) -> OAuthError {
    let prm = base.prm_url();
    let (header, error) = match reason {
        None => (
            format!(
                "Bearer resource_metadata=\"{prm}\", scope=\"{}\"",
                scope::all_names()
            ),
            OAuthError::new(
                401,
                "unauthorized",
                "This MCP endpoint needs an OAuth access token; the resource_metadata in \
                 WWW-Authenticate says where to get one.",
            ),
        ),
        Some(reason) => {
            let reason: String = reason.chars().filter(|c| *c != '"' && *c != '\\').collect();
            (
                format!(
                    "Bearer resource_metadata=\"{prm}\", error=\"invalid_token\", error_description=\"{reason}\""
                ),
                OAuthError::new(401, "invalid_token", reason),
            )
        }
    };
    OAuthError {
        challenge: Some(header),
        ..error
    }
}
