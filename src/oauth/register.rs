//! `POST /register`: RFC 7591 dynamic client registration, public clients only.

use super::{clients, grants, params, OAuthError};
use crate::http::{Request, Response};
use crate::store::Store;
use crate::{crypto, settings, Ctx};
use clients::ClientRecord;
use serde_json::{json, Map, Value};

const MAX_REDIRECT_URIS: usize = 20;
/// Bytes of redirect URIs kept per client. Registration is unauthenticated and every
/// storage write ships the whole map, so a client record must stay small; real clients
/// register a few short URIs.
const MAX_REDIRECT_BYTES: usize = 4096;
const MAX_NAME: usize = 200;

/// A list of strings, or `default` when absent.
fn string_list(
    body: &Map<String, Value>,
    field: &str,
    default: &[&str],
) -> Result<Vec<String>, OAuthError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default.iter().map(|s| s.to_string()).collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                OAuthError::invalid_client_metadata(format!("{field} must be an array of strings"))
            }),
        Some(_) => Err(OAuthError::invalid_client_metadata(format!(
            "{field} must be an array of strings"
        ))),
    }
}

pub async fn handle(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    if req.method != "POST" {
        return Err(OAuthError::method_not_allowed(
            "POST, OPTIONS",
            "Register a client with POST.",
        ));
    }
    let body = req.body.as_deref().unwrap_or("");
    if body.len() > params::MAX_BODY {
        return Err(OAuthError::invalid_client_metadata(
            "registration request too large",
        ));
    }
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(body) else {
        return Err(OAuthError::invalid_client_metadata(
            "the body must be a JSON object of client metadata (RFC 7591)",
        ));
    };
    let client = register(ctx, &body)?;
    let mut out = json!({
        "client_id": client.client_id,
        "client_id_issued_at": client.issued_at,
        "redirect_uris": client.redirect_uris,
        "grant_types": client.grant_types,
        "response_types": client.response_types,
        "token_endpoint_auth_method": "none",
    });
    if let Some(name) = &client.client_name {
        out["client_name"] = json!(name);
    }
    Ok(Response::json(201, &out)
        .header("cache-control", "no-store")
        .header("pragma", "no-cache"))
}

/// Validates RFC 7591 client metadata and stores the new client. A refusal writes nothing.
pub fn register(ctx: &Ctx, body: &Map<String, Value>) -> Result<ClientRecord, OAuthError> {
    let store = ctx.store.as_ref();
    let redirect_uris = string_list(body, "redirect_uris", &[])?;
    if redirect_uris.is_empty() {
        return Err(OAuthError::invalid_redirect_uri(
            "redirect_uris must list at least one redirect URI",
        ));
    }
    if redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::invalid_redirect_uri("too many redirect_uris"));
    }
    let bytes: usize = redirect_uris.iter().map(String::len).sum();
    if bytes > MAX_REDIRECT_BYTES {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "redirect_uris take {bytes} bytes; at most {MAX_REDIRECT_BYTES} are accepted per client"
        )));
    }
    for uri in &redirect_uris {
        clients::validate_redirect_uri(uri).map_err(OAuthError::invalid_redirect_uri)?;
    }
    let grant_types = string_list(
        body,
        "grant_types",
        &["authorization_code", "refresh_token"],
    )?;
    if let Some(g) = grant_types
        .iter()
        .find(|g| *g != "authorization_code" && *g != "refresh_token")
    {
        return Err(OAuthError::invalid_client_metadata(format!(
            "grant type {g} is not supported; use authorization_code and refresh_token"
        )));
    }
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err(OAuthError::invalid_client_metadata(
            "grant_types must include authorization_code",
        ));
    }
    let response_types = string_list(body, "response_types", &["code"])?;
    if response_types.is_empty() || response_types.iter().any(|r| r != "code") {
        return Err(OAuthError::invalid_client_metadata(
            "only the response type \"code\" is supported",
        ));
    }
    let client_name = match body.get("client_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_NAME => {
            Some(s.trim().to_string()).filter(|s| !s.is_empty())
        }
        Some(_) => {
            return Err(OAuthError::invalid_client_metadata(format!(
                "client_name must be a string of at most {MAX_NAME} characters"
            )))
        }
    };
    // Every client is public: a requested `client_secret_*` or `private_key_jwt` is
    // answered with the method we actually apply, `none` (RFC 7591 §3.2.1 lets the server
    // replace requested values; the SDK clients use the echoed method).

    let now = ctx.clock.now_ms();
    make_room(ctx, now)?;
    grants::sweep(store, now, None);
    let client = ClientRecord {
        client_id: crypto::random_token(),
        client_name,
        redirect_uris,
        grant_types,
        response_types,
        issued_at: now / 1000,
        created_ms: now,
        last_used_ms: now,
    };
    clients::put(store, &client);
    Ok(client)
}

/// A registration without live tokens that has not been used for this long is forgotten
/// (the TTL workers-oauth-provider uses); its app simply registers again next time.
pub const IDLE_CLIENT_TTL_MS: u64 = 90 * 24 * 3600 * 1000;

/// Forgets idle registrations past [`IDLE_CLIENT_TTL_MS`], then keeps registrations under
/// `dcr_max_clients` by evicting the least recently used client that holds no live grant.
/// An attacker flooding `/register` can thus push out only idle registrations, never a
/// connected app. A refusal writes nothing.
fn make_room(ctx: &Ctx, now: u64) -> Result<(), OAuthError> {
    let store: &dyn Store = ctx.store.as_ref();
    let max = settings::config(store).dcr_max_clients.max(1) as usize;
    let live: std::collections::HashSet<String> = grants::all_grants(store)
        .into_iter()
        .filter(|g| g.live(now))
        .map(|g| g.client_id)
        .collect();
    let all = clients::all(store);
    let (mut idle, connected): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|c| !live.contains(&c.client_id));
    idle.sort_by_key(|c| c.last_used_ms);
    let expired = idle
        .iter()
        .take_while(|c| now.saturating_sub(c.last_used_ms) > IDLE_CLIENT_TTL_MS)
        .count();
    // Room needed beyond what expiry frees, taken from the least recently used idle ones.
    let kept = connected.len() + idle.len() - expired;
    let evicted = (kept + 1).saturating_sub(max);
    if expired + evicted > idle.len() {
        return Err(OAuthError::temporarily_unavailable(format!(
            "The limit of {max} registered clients is reached and every one of them holds \
             live tokens. An admin can revoke a client in the plugin's settings, or raise \
             \"dcr_max_clients\"."
        )));
    }
    for c in &idle[..expired + evicted] {
        grants::delete_client_grants(store, &c.client_id);
        store.remove(&clients::key(&c.client_id));
    }
    Ok(())
}
