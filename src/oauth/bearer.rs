//! The MCP endpoint's bearer check: only our own ES256 access token counts, never
//! Scrypted's `username` (which Scrypted also fills from its own bearer tokens).
//!
//! A good signature is not enough: the signing key sits in plugin storage, which every
//! backup carries. So a token must also match a live grant (its user, client, issuer and
//! resource), live no longer than the configured access-token lifetime, and belong to a
//! user who is still a Scrypted admin, asked of the host at most every few seconds.

use super::{cimd, clients, grants, jwt, scope, AccessClaims, OAuthError, Scope};
use crate::host::LogLevel;
use crate::http::Request;
use crate::origin::{self, PublicBase};
use crate::{config, crypto, Ctx};
use serde_json::Value;

/// A token whose signature has been checked, kept until its `exp`: ES256 verification
/// costs ~0.75 ms in wasm, every request carries the token, and the per-request checks
/// below (issuer, audience, expiry, client, grant) are cheap.
#[derive(Debug, Clone)]
pub struct Verified {
    claims: AccessClaims,
    iss: String,
    iat: u64,
}

/// Cached verifications beyond this are dropped (expired ones first).
const CACHE_MAX: usize = 512;

/// How long the host's answer "this user is an admin" is trusted. A removed or demoted
/// admin loses access within this time; within it, a burst of requests costs one host call.
pub const USER_CHECK_MS: u64 = 3_000;

/// How far in the future an `iat` may lie (clock steps between minting and checking).
const IAT_SKEW_SEC: u64 = 60;

pub async fn authenticate(ctx: &Ctx, req: &Request) -> Result<AccessClaims, OAuthError> {
    authenticate_at(ctx, req, &origin::base(ctx, req).await).await
}

/// [`authenticate`] for a caller that already has this request's [`origin::base`].
pub async fn authenticate_at(
    ctx: &Ctx,
    req: &Request,
    base: &PublicBase,
) -> Result<AccessClaims, OAuthError> {
    let Some(auth) = req.header("authorization") else {
        return Err(challenge(base, None));
    };
    let token = match auth.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(challenge(
                base,
                Some("the Authorization header must be \"Bearer <access token>\""),
            ))
        }
    };
    let claims = check(ctx, base, token).map_err(|reason| challenge(base, Some(reason)))?;
    // Answered from the cache, the admin check does not wait: nothing can run between the
    // two checks, so the second would read what the first just read.
    let (admin, waited) = match cached_admin(ctx, &claims.sub) {
        Some(admin) => (Ok(admin), false),
        None => (ask_admin(ctx, &claims.sub).await, true),
    };
    match admin {
        Ok(true) => {}
        Ok(false) => {
            let ended = super::revoke_subject(ctx, &claims.sub);
            ctx.host.log(
                LogLevel::Warn,
                &format!(
                    "OAuth: {} is no longer a Scrypted admin (removed or demoted outside MCP); their {ended} grant(s) are revoked.",
                    claims.sub
                ),
            );
            return Err(challenge(
                base,
                Some("the user of this token no longer exists or is no longer a Scrypted admin"),
            ));
        }
        Err(e) => {
            return Err(OAuthError::temporarily_unavailable(format!(
                "could not check the token's user with Scrypted: {e}; try again"
            )))
        }
    }
    if !waited {
        return Ok(claims);
    }
    // The grant may have ended while the host answered.
    check(ctx, base, token).map_err(|reason| challenge(base, Some(reason)))
}

/// Whether `sub` is still a Scrypted admin, as the host said less than [`USER_CHECK_MS`]
/// ago; `None` when it must be asked again ([`ask_admin`]).
fn cached_admin(ctx: &Ctx, sub: &str) -> Option<bool> {
    let now = ctx.clock.now_ms();
    let &(at, admin) = ctx.oauth.admins.borrow().get(sub)?;
    (at <= now && now - at < USER_CHECK_MS).then_some(admin)
}

/// Whether `sub` is still a Scrypted admin, from the host's user list (one answer
/// refreshes every user's entry).
async fn ask_admin(ctx: &Ctx, sub: &str) -> Result<bool, crate::host::HostError> {
    let users = ctx.host.users().await?;
    let now = ctx.clock.now_ms();
    let mut cache = ctx.oauth.admins.borrow_mut();
    cache.clear();
    for user in &users {
        cache.insert(user.username.clone(), (now, user.admin));
    }
    let admin = cache.get(sub).is_some_and(|&(_, admin)| admin);
    cache.insert(sub.to_string(), (now, admin));
    Ok(admin)
}

fn check(ctx: &Ctx, base: &PublicBase, token: &str) -> Result<AccessClaims, &'static str> {
    if token.is_empty() || token.len() > 4096 {
        return Err("malformed access token");
    }
    let now = ctx.clock.now_sec();
    let cache_key = cache_key(ctx, token);
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
    if !base.is_mcp_url(&claims.aud) {
        return Err("access token is for another resource");
    }
    if verified.iat > now + IAT_SKEW_SEC {
        return Err("access token was issued in the future");
    }
    let store = ctx.store.as_ref();
    let ttl_sec = config::number(store, "access_token_ttl_sec");
    if claims.exp.saturating_sub(verified.iat) > ttl_sec {
        return Err("access token lives longer than this server issues tokens for");
    }
    // A metadata-document client has no registration; its grant (checked next) is the check.
    if !cimd::is_url_id(&claims.client_id)
        && !clients::registered(store, &ctx.oauth.parsed_clients, &claims.client_id)
    {
        return Err("the client of this token is no longer registered");
    }
    let grant = grants::get_grant_memo(store, &ctx.oauth.parsed_grants, &claims.grant_id)
        .filter(|g| g.live(ctx.clock.now_ms()))
        .ok_or("access token revoked")?;
    // Whoever holds the signing key (any backup has it) must still name a live grant
    // exactly as it was granted.
    if grant.client_id != claims.client_id
        || grant.sub != claims.sub
        || grant.issuer != verified.iss
        || grant.resource != claims.aud
    {
        return Err("access token does not match its grant");
    }
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

/// `token`'s key in the verified cache: its hash, kept for the token checked last. A client
/// sends the same token with every request, and hashing its ~640 characters was ~3 % of a
/// request's instructions (issue 12). The key is a pure function of the token, so what the
/// cache holds and forgets is as before. The last token's own text stays in memory (as the
/// request that carried it did) until another token replaces it: it never leaves the
/// process. It is compared in constant time, like everything else a guess could be timed
/// against.
fn cache_key(ctx: &Ctx, token: &str) -> String {
    let mut last = ctx.oauth.last_token.borrow_mut();
    if let Some((seen, key)) = last.as_ref() {
        if crypto::constant_time_eq(seen.as_bytes(), token.as_bytes()) {
            return key.clone();
        }
    }
    let key = crypto::hash_secret(token);
    *last = Some((token.to_string(), key.clone()));
    key
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
        iat: claims.get("iat").and_then(Value::as_u64)?,
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
    let prm = quoted(&base.prm_url());
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
        Some(reason) => (
            format!(
                "Bearer resource_metadata=\"{prm}\", error=\"invalid_token\", error_description=\"{}\"",
                quoted(reason)
            ),
            OAuthError::new(401, "invalid_token", reason),
        ),
    };
    OAuthError {
        challenge: Some(header),
        ..error
    }
}

/// Text for an RFC 9110 §5.6.4 quoted-string: quotes and backslashes are escaped, control
/// characters dropped, so nothing from a request can end the string or the header.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
