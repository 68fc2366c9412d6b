//! `POST /register`: RFC 7591 dynamic client registration, public clients only.

use super::{clients, grants, OAuthError};
use crate::http::{Request, Response};
use crate::store::{Store, StoreExt};
use crate::{config, crypto, Ctx};
use clients::ClientRecord;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// Registration is unauthenticated and every storage write ships the whole map, so a
/// client record must stay small: real clients register one to three short URIs. With
/// these bounds a record stays under 3.5 KB, and the registry under `dcr_max_clients` ×
/// 3.5 KB (350 KB at the default 100).
pub const MAX_REDIRECT_URIS: usize = 5;
/// Bytes of one redirect URI.
pub const MAX_REDIRECT_URI_BYTES: usize = 512;
const MAX_NAME: usize = 200;
/// Bytes of a whole registration request: real clients send well under 1 KB.
pub const MAX_METADATA_BYTES: usize = 4096;

/// A client registered this recently is never evicted: its user may be on the consent
/// page, and its app has yet to come back with the code.
pub const PROTECTED_CLIENT_MS: u64 = 10 * 60 * 1000;

/// How often a registration reads every client record to forget the idle ones; in
/// between, it counts keys only, so its cost does not grow with the registry.
const SWEEP_EVERY_MS: u64 = 3600 * 1000;

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
    if body.len() > MAX_METADATA_BYTES {
        return Err(OAuthError::invalid_client_metadata(format!(
            "the registration request is {} bytes; client metadata of at most {MAX_METADATA_BYTES} bytes is accepted",
            body.len()
        )));
    }
    let Ok(Value::Object(body_fields)) = serde_json::from_str::<Value>(body) else {
        return Err(OAuthError::invalid_client_metadata(
            "the body must be a JSON object of client metadata (RFC 7591)",
        ));
    };
    if let Some(key) = duplicate_key(body) {
        return Err(OAuthError::invalid_client_metadata(format!(
            "the field \"{key}\" appears twice; send each field once"
        )));
    }
    let client = match register(ctx, &body_fields) {
        Ok(client) => client,
        // A flood meets a full registry: it is told when a slot may free up, and nobody
        // registered is pushed out for it.
        Err(e) if e.code == "temporarily_unavailable" => {
            let until = ctx.oauth.registry_full_until_ms.get();
            let retry = until
                .saturating_sub(ctx.clock.now_ms())
                .div_ceil(1000)
                .max(1);
            return Ok(e.response().header("retry-after", retry.to_string()));
        }
        Err(e) => return Err(e),
    };
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
        return Err(OAuthError::invalid_redirect_uri(format!(
            "{} redirect_uris given; at most {MAX_REDIRECT_URIS} are accepted per client",
            redirect_uris.len()
        )));
    }
    if let Some(long) = redirect_uris
        .iter()
        .find(|u| u.len() > MAX_REDIRECT_URI_BYTES)
    {
        return Err(OAuthError::invalid_redirect_uri(format!(
            "a redirect URI of {} bytes; at most {MAX_REDIRECT_URI_BYTES} bytes each are accepted",
            long.len()
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
        consent: Default::default(),
    };
    clients::put(store, &client);
    Ok(client)
}

/// A registration without live tokens that has not been used for this long is forgotten
/// (the TTL workers-oauth-provider uses); its app simply registers again next time.
pub const IDLE_CLIENT_TTL_MS: u64 = 90 * 24 * 3600 * 1000;

/// Clients that must not be evicted: holding live tokens or a pending code, or
/// registered within [`PROTECTED_CLIENT_MS`].
fn protected_ids(store: &dyn Store, now: u64) -> HashSet<String> {
    let live = grants::all_grants(store)
        .into_iter()
        .filter(|g| g.live(now))
        .map(|g| g.client_id);
    let codes = store.keys_with_prefix(grants::CODE_PREFIX);
    let pending = codes
        .iter()
        .filter_map(|k| store.get_record::<grants::CodeRecord>(k))
        .filter(|c| c.used_grant.is_none() && c.exp_ms > now)
        .map(|c| c.client_id);
    live.chain(pending).collect()
}

fn is_young(c: &ClientRecord, now: u64) -> bool {
    now.saturating_sub(c.created_ms) < PROTECTED_CLIENT_MS
}

/// Forgets idle registrations past [`IDLE_CLIENT_TTL_MS`] (at most once per
/// [`SWEEP_EVERY_MS`]), then keeps registrations under `dcr_max_clients` by evicting the
/// least recently used client that is not protected (live tokens, a pending code, or
/// registered in the last [`PROTECTED_CLIENT_MS`]). A flood of `/register` thus pushes out
/// only idle, settled registrations, never a connected app or one mid-consent; when none
/// is left, it is refused (503 with Retry-After). A refusal writes nothing. Below the cap
/// it only counts keys: the cost of a registration does not grow with the registry.
fn make_room(ctx: &Ctx, now: u64) -> Result<(), OAuthError> {
    let store: &dyn Store = ctx.store.as_ref();
    let max = config::read(store).dcr_max_clients.max(1) as usize;
    let swept = &ctx.oauth.clients_swept_ms;
    let sweep_due = swept
        .get()
        .is_none_or(|at| now.saturating_sub(at) >= SWEEP_EVERY_MS);
    let full_until = &ctx.oauth.registry_full_until_ms;
    let count = store.keys_with_prefix(clients::PREFIX).len();
    if !sweep_due && count < max {
        return Ok(());
    }
    if count >= max && now < full_until.get() {
        return Err(full(max));
    }
    swept.set(Some(now));
    let protected = protected_ids(store, now);
    let (mut idle, kept): (Vec<_>, Vec<_>) = clients::all(store)
        .into_iter()
        .partition(|c| !protected.contains(&c.client_id) && !is_young(c, now));
    crate::order::sort_by_key(&mut idle, |c| c.last_used_ms);
    let expired = idle
        .iter()
        .take_while(|c| now.saturating_sub(c.last_used_ms) > IDLE_CLIENT_TTL_MS)
        .count();
    // Room needed beyond what expiry frees, taken from the least recently used idle ones.
    let remaining = kept.len() + idle.len() - expired;
    let evicted = (remaining + 1).saturating_sub(max);
    if expired + evicted > idle.len() {
        for c in &idle[..expired] {
            forget(store, &c.client_id);
        }
        // Nothing can go before the youngest protection lapses (a minute when only
        // tokens and pending codes protect the clients).
        let lapse = kept
            .iter()
            .filter(|c| is_young(c, now))
            .map(|c| c.created_ms + PROTECTED_CLIENT_MS)
            .min()
            .unwrap_or(now + 60_000);
        full_until.set(lapse);
        return Err(full(max));
    }
    for c in &idle[..expired + evicted] {
        forget(store, &c.client_id);
    }
    Ok(())
}

fn full(max: usize) -> OAuthError {
    OAuthError::temporarily_unavailable(format!(
        "The limit of {max} registered clients is reached and every one of them holds live \
         tokens, is waiting for its user's approval, or registered in the last {} minutes. \
         Try again later; an admin can revoke a client in the plugin's settings, or raise \
         \"dcr_max_clients\".",
        PROTECTED_CLIENT_MS / 60_000
    ))
}

fn forget(store: &dyn Store, client_id: &str) {
    grants::delete_client_grants(store, client_id);
    store.remove(&clients::key(client_id));
}

/// The first object key that appears twice, at any depth. serde_json (like every JSON
/// parser we have) silently keeps the last of duplicates, and a client whose metadata
/// means two things must be told, not guessed at (Scrypted's own JSON parser collapses
/// them before us for `application/json`; a `text/plain` body arrives as sent).
fn duplicate_key(text: &str) -> Option<String> {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    struct Walk;
    impl<'de> DeserializeSeed<'de> for Walk {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(Walk)
        }
    }
    impl<'de> Visitor<'de> for Walk {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Walk)?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(A::Error::custom(key));
                }
                map.next_value_seed(Walk)?;
            }
            Ok(())
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    Walk.deserialize(&mut de).err().map(|e| {
        // The custom error's text is the key; serde_json appends the position.
        let text = e.to_string();
        text.split(" at line ").next().unwrap_or(&text).to_string()
    })
}
