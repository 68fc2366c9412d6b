//! `POST /token` (authorization_code and refresh_token grants) and `POST /revoke`
//! (RFC 7009).
//!
//! The grants are plain functions from the request's fields to a [`TokenResponse`] or an
//! [`OAuthError`], so they are tested without HTTP; `handle` turns either into the answer.

use super::authorize::valid_pkce_value;
use super::{
    bearer, cimd, clients, grants, jwt, normalise_resource, params, scope, OAuthError, Scope,
};
use crate::host::LogLevel;
use crate::http::{Request, Response};
use crate::store::StoreExt;
use crate::{config, crypto, Ctx};
use grants::{CodeRecord, GrantRecord};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// The request's fields: the body's form or JSON fields (`params::body_fields`).
pub type Params = BTreeMap<String, String>;

/// A successful token answer (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
    pub scope: String,
}

fn no_store(resp: Response) -> Response {
    resp.header("cache-control", "no-store")
        .header("pragma", "no-cache")
}

fn unknown_client() -> OAuthError {
    OAuthError::invalid_client(
        "unknown client_id: the client is not registered (or was revoked); register again",
    )
}

/// The registered client `client_id`, or `None` for a metadata-document client: it has no
/// registration, its document was checked at `/authorize`, and the code or grant it
/// presents names it exactly. The token endpoint never fetches a document.
fn client_of(
    store: &dyn crate::store::Store,
    client_id: &str,
) -> Result<Option<clients::ClientRecord>, OAuthError> {
    if cimd::is_url_id(client_id) {
        return cimd::parse_client_id(client_id)
            .map(|_| None)
            .map_err(OAuthError::invalid_client);
    }
    clients::get(store, client_id)
        .map(Some)
        .ok_or_else(unknown_client)
}

/// `client_id` from the body, else from HTTP Basic (some SDKs send only that).
fn client_id_of(req: &Request, params: &Params) -> Option<String> {
    if let Some(id) = params::get(params, "client_id") {
        return Some(id.to_string());
    }
    let auth = req.header("authorization")?;
    let (scheme, value) = auth.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(crypto::b64_decode(value)?).ok()?;
    let id = decoded.split(':').next()?;
    let id: String = form_urlencoded::parse(format!("x={id}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some(id).filter(|s| !s.is_empty())
}

pub async fn handle(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    if req.method != "POST" {
        return Err(OAuthError::method_not_allowed("POST, OPTIONS", "Use POST."));
    }
    let params = params::body_fields(req)?;
    let client_id = client_id_of(req, &params);
    let tokens = match params::get(&params, "grant_type") {
        Some("authorization_code") => code_grant(ctx, &params, client_id)?,
        Some("refresh_token") => refresh_grant(ctx, &params, client_id).await?,
        Some(other) => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other} is not supported; use authorization_code or refresh_token"
            )))
        }
        None => return Err(OAuthError::invalid_request("grant_type is required")),
    };
    let body = serde_json::to_value(&tokens).expect("serializable token response");
    Ok(no_store(Response::json(200, &body)))
}

/// The authorization_code grant: a code from `/authorize` with its PKCE verifier becomes
/// a new grant with its first refresh token and an access token.
pub fn code_grant(
    ctx: &Ctx,
    params: &Params,
    client_id: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let store = ctx.store.as_ref();
    let now = ctx.clock.now_ms();
    let client_id = client_id.ok_or_else(|| OAuthError::invalid_client("client_id is required"))?;
    let client = client_of(store, &client_id)?;
    let code = params::get(params, "code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let code_key = grants::code_key(code);
    let mut record = store
        .get_record::<CodeRecord>(&code_key)
        .ok_or_else(|| OAuthError::invalid_grant("unknown or expired authorization code"))?;
    if let Some(grant_id) = &record.used_grant {
        // RFC 6749 §10.5: a code used twice may have been stolen; revoke what it issued.
        grants::delete_grant(store, grant_id);
        ctx.oauth.forget_verified();
        ctx.host.log(
            LogLevel::Warn,
            &format!(
                "OAuth: authorization code for client {client_id} was used twice; the tokens issued from it are revoked."
            ),
        );
        return Err(OAuthError::invalid_grant(
            "authorization code already used; the tokens issued from it are revoked",
        ));
    }
    if record.exp_ms <= now {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    if record.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "authorization code was issued to another client",
        ));
    }
    match params::get(params, "redirect_uri") {
        Some(r) if r == record.redirect_uri => {}
        None if !record.redirect_uri_sent => {}
        _ => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri does not match the authorization request",
            ))
        }
    }
    let verifier = params::get(params, "code_verifier")
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let challenge = crypto::b64url(&crypto::sha256(verifier.as_bytes()));
    if !valid_pkce_value(verifier)
        || !crypto::constant_time_eq(challenge.as_bytes(), record.code_challenge.as_bytes())
    {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    check_resource(params, &record.resource, "code")?;

    let ttl_ms = config::read(store).refresh_token_ttl_sec * 1000;
    let grant_id = crypto::b64url(&crypto::random_bytes(16));
    let refresh_token = grants::new_refresh_token(&grant_id);
    let grant = GrantRecord {
        grant_id: grant_id.clone(),
        client_id: client_id.clone(),
        issuer: record.issuer.clone(),
        sub: record.sub.clone(),
        scope: record.scope.clone(),
        resource: record.resource.clone(),
        created_ms: now,
        refresh_hash: crypto::hash_secret(&refresh_token),
        exp_ms: now + ttl_ms,
        previous: Vec::new(),
    };
    record.used_grant = Some(grant_id);
    store.set_json(&code_key, &record);
    grants::put_grant(store, &grant);
    grants::sweep(store, now, Some(&client_id));
    if let Some(client) = &client {
        clients::touch(store, client, now);
    }
    Ok(issue(ctx, &grant, None, refresh_token))
}

/// RFC 8707: a `resource` sent to `/token` must be the one the code or grant is for
/// (after normalisation, docs/reference/client-compat.md §5); `invalid_target` otherwise.
fn check_resource(params: &Params, expected: &str, what: &str) -> Result<(), OAuthError> {
    match params::get(params, "resource") {
        Some(resource) if normalise_resource(resource) != normalise_resource(expected) => Err(
            OAuthError::invalid_target(format!("this {what} is for the resource {expected}")),
        ),
        _ => Ok(()),
    }
}

/// The refresh_token grant: rotation on every use, one winner per token, reuse of a
/// rotated-out token after a short window revokes the whole grant, and the user must
/// still be a Scrypted admin.
pub async fn refresh_grant(
    ctx: &Ctx,
    params: &Params,
    client_id: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let presented = params::get(params, "refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let grant_id = grants::grant_id_of(presented)
        .ok_or_else(|| OAuthError::invalid_grant("unknown refresh token"))?;
    let revoked = || OAuthError::invalid_grant("unknown, expired or revoked refresh token");
    // A deleted client must hear `invalid_client` (not `invalid_grant`): that is the
    // signal on which clients register again.
    if let Some(id) = &client_id {
        client_of(ctx.store.as_ref(), id)?;
    }
    let before = grants::get_grant(ctx.store.as_ref(), grant_id).ok_or_else(revoked)?;
    if client_id.as_ref().is_some_and(|id| *id != before.client_id) {
        return Err(OAuthError::invalid_grant(
            "refresh token was issued to another client",
        ));
    }
    // The user may have been deleted or demoted since the grant; ask before touching the
    // grant, and decide everything after the await without yielding again, so concurrent
    // refreshes of one grant are serialized by the single JS thread.
    let still_admin = match ctx.host.users().await {
        Ok(users) => users.iter().any(|u| u.username == before.sub && u.admin),
        Err(e) => {
            return Err(OAuthError::temporarily_unavailable(format!(
                "could not check the user: {e}"
            )))
        }
    };

    let store = ctx.store.as_ref();
    let now = ctx.clock.now_ms();
    let mut grant = grants::get_grant(store, grant_id).ok_or_else(revoked)?;
    let Ok(client) = client_of(store, &grant.client_id) else {
        grants::delete_grant(store, grant_id);
        return Err(unknown_client());
    };
    if !grant.live(now) {
        grants::delete_grant(store, grant_id);
        return Err(OAuthError::invalid_grant("refresh token expired"));
    }
    if !still_admin {
        grants::delete_grant(store, grant_id);
        ctx.oauth.forget_verified();
        return Err(OAuthError::invalid_grant(
            "the user of this grant no longer exists or is no longer an admin",
        ));
    }

    // One winner per refresh token. Rotation is decided here, after the last await, so
    // of many concurrent refreshes of one token exactly the first rotates it and every
    // other finds it rotated out. A rotated-out token never yields a refresh token again:
    // - within REUSE_WINDOW_MS of its rotation (concurrent refreshes, a retry after a
    //   lost answer) it only gets `invalid_grant`, and the grant lives on;
    // - after that window its use means two parties hold the family (a stolen token, or
    //   a client replaying old state), and the whole grant ends, the current holder
    //   included.
    // A client that lost the answer is left without a working refresh token: it does
    // what every OAuth client does on `invalid_grant`, authorize again, which an admin's
    // browser session answers without a page for loopback apps (and with the consent
    // page otherwise). So the lost answer costs one browser round trip, and a thief
    // holding an old token gains nothing from it.
    let hash = crypto::hash_secret(presented);
    if !crypto::constant_time_eq(hash.as_bytes(), grant.refresh_hash.as_bytes()) {
        let previous = grant
            .previous
            .iter()
            .find(|p| crypto::constant_time_eq(hash.as_bytes(), p.hash.as_bytes()));
        return Err(match previous {
            Some(p) if now.saturating_sub(p.replaced_ms) <= grants::REUSE_WINDOW_MS => {
                OAuthError::invalid_grant(
                    "refresh token was already used (rotated); use the refresh token of the latest answer, or authorize again",
                )
            }
            Some(_) => {
                grants::delete_grant(store, grant_id);
                ctx.oauth.forget_verified();
                ctx.host.log(
                    LogLevel::Warn,
                    &format!(
                        "OAuth: client {} ({}) re-used an old refresh token: a bug in the client or a stolen token. The whole grant is revoked; the app must reconnect.",
                        client
                            .as_ref()
                            .and_then(|c| c.client_name.as_deref())
                            .unwrap_or("unnamed"),
                        grant.client_id
                    ),
                );
                OAuthError::invalid_grant(
                    "refresh token was already used; the grant is revoked, authorize again",
                )
            }
            None => OAuthError::invalid_grant("unknown refresh token"),
        });
    }
    // RFC 6749 §6: a narrower scope narrows this answer's token; the grant keeps what the
    // admin approved, so a later refresh without `scope` may have it again.
    let narrower = narrowed_scope(params, &grant)?;
    check_resource(params, &grant.resource, "grant")?;

    let refresh_token = grants::new_refresh_token(grant_id);
    let ttl_ms = config::read(store).refresh_token_ttl_sec * 1000;
    grant.rotate(crypto::hash_secret(&refresh_token), now, now + ttl_ms);
    grants::put_grant(store, &grant);
    grants::sweep(store, now, Some(&grant.client_id));
    if let Some(client) = &client {
        clients::touch(store, client, now);
    }
    Ok(issue(ctx, &grant, narrower, refresh_token))
}

/// The `scope` of a refresh request: `None` when absent or the same as granted, the
/// narrower level when narrower; `invalid_scope` for anything beyond the grant or unknown
/// (scopes are hierarchical: asking for `scrypted:read` of an admin grant narrows it).
fn narrowed_scope(params: &Params, grant: &GrantRecord) -> Result<Option<Scope>, OAuthError> {
    let Some(requested) = params::get(params, "scope") else {
        return Ok(None);
    };
    scope::check_requested(requested)?;
    let held = Scope::of_grant(&grant.scope);
    for name in requested.split_ascii_whitespace() {
        match Scope::from_name(name) {
            Some(s) if s <= held => {}
            _ if name == "offline_access" => {}
            _ => {
                return Err(OAuthError::invalid_scope(format!(
                    "scope {name} was not granted ({}); a refresh may only narrow the scope: authorize again to get more",
                    grant.scope
                )))
            }
        }
    }
    Ok(Scope::highest(requested).filter(|s| *s < held))
}

/// A fresh access token for the grant (narrowed to `narrower` when given), with the given
/// refresh token.
fn issue(
    ctx: &Ctx,
    grant: &GrantRecord,
    narrower: Option<Scope>,
    refresh_token: String,
) -> TokenResponse {
    let store = ctx.store.as_ref();
    let ttl = config::read(store).access_token_ttl_sec;
    let now = ctx.clock.now_sec();
    let key = ctx.oauth.key(store);
    // Read-only mode caps what is issued without touching the grant: switched off, the
    // next refresh gives the grant's own scope again.
    let scope = Scope::of_grant(&grant.scope)
        .min(narrower.unwrap_or(Scope::Admin))
        .min(scope::cap(store))
        .granted();
    let claims = json!({
        "iss": grant.issuer,
        "aud": grant.resource,
        "sub": grant.sub,
        "client_id": grant.client_id,
        "scope": scope,
        "iat": now,
        "exp": now + ttl,
        "jti": crypto::b64url(&crypto::random_bytes(16)),
        "gid": grant.grant_id,
    });
    TokenResponse {
        access_token: jwt::sign(&key, &claims),
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token,
        scope,
    }
}

/// RFC 7009: always 200, whether or not the token was known.
pub async fn revoke(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    if req.method != "POST" {
        return Err(OAuthError::method_not_allowed("POST, OPTIONS", "Use POST."));
    }
    let params = params::body_fields(req)?;
    let token = params::get(&params, "token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let client_id = client_id_of(req, &params);
    let store = ctx.store.as_ref();
    let target = if token.matches('.').count() == 2 {
        bearer::forget(ctx, token);
        bearer::grant_of(ctx, token)
    } else {
        grants::grant_id_of(token)
            .and_then(|id| grants::get_grant(store, id))
            .filter(|g| {
                let hash = crypto::hash_secret(token);
                g.refresh_hash == hash || g.previous.iter().any(|p| p.hash == hash)
            })
            .map(|g| (g.grant_id, g.client_id))
    };
    if let Some((grant_id, owner)) = target {
        if client_id.as_deref().is_none_or(|c| c == owner) {
            grants::delete_grant(store, &grant_id);
            ctx.oauth.forget_verified();
        }
    }
    Ok(no_store(Response::new(200)))
}
