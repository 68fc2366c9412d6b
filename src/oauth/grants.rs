//! Authorization codes and grants in plugin storage. Only hashes of codes and refresh
//! tokens are kept: storage is readable by other plugins and lands in every backup.
//!
//! A grant is one authorization: the family of refresh tokens rotated from one code, and
//! the access tokens minted from them (they carry the grant id, so deleting the grant
//! revokes them at once).

use crate::crypto;
use crate::store::{Store, StoreExt};
use serde::{Deserialize, Serialize};

pub const CODE_PREFIX: &str = "oauth.code.";
pub const GRANT_PREFIX: &str = "oauth.grant.";

/// How long a code may be exchanged.
pub const CODE_TTL_MS: u64 = 60_000;
/// How long a used code is remembered, so a replay can still revoke what it issued.
pub const USED_CODE_KEEP_MS: u64 = 10 * 60_000;
/// The window in which a just-replaced refresh token is still honoured (client retries,
/// clients refreshing from two places at once).
pub const REFRESH_GRACE_MS: u64 = 60_000;
/// Replaced refresh-token hashes remembered per grant, for reuse detection.
const MAX_PREVIOUS: usize = 8;
/// Codes kept at once, used ones included; the oldest goes first. A web page can make a
/// logged-in admin's browser request codes for a loopback client without any page shown,
/// and each one would otherwise grow the storage map that every write ships.
const MAX_CODES: usize = 32;
/// Live grants kept per client; the oldest goes first.
const MAX_GRANTS_PER_CLIENT: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub client_id: String,
    /// The issuer the code was issued under; tokens from it carry this `iss`.
    pub issuer: String,
    pub redirect_uri: String,
    /// Whether `/authorize` received `redirect_uri` explicitly (then `/token` must send it).
    pub redirect_uri_sent: bool,
    pub code_challenge: String,
    pub resource: String,
    pub sub: String,
    pub scope: String,
    pub exp_ms: u64,
    /// Set once exchanged: the grant it created, revoked if the code comes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_grant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Previous {
    pub hash: String,
    /// When it stopped being current.
    pub replaced_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub grant_id: String,
    pub client_id: String,
    /// The issuer (and so the origin) the grant belongs to; `resource` is its MCP URL.
    pub issuer: String,
    pub sub: String,
    pub scope: String,
    pub resource: String,
    pub created_ms: u64,
    /// Hash of the one current refresh token.
    pub refresh_hash: String,
    /// The grant (and every token from it) ends here unless refreshed.
    pub exp_ms: u64,
    #[serde(default)]
    pub previous: Vec<Previous>,
}

impl GrantRecord {
    pub fn live(&self, now_ms: u64) -> bool {
        self.exp_ms > now_ms
    }

    /// Makes `new_hash` current and remembers the replaced one.
    pub fn rotate(&mut self, new_hash: String, now_ms: u64, exp_ms: u64) {
        let old = std::mem::replace(&mut self.refresh_hash, new_hash);
        self.previous.insert(
            0,
            Previous {
                hash: old,
                replaced_ms: now_ms,
            },
        );
        self.previous.truncate(MAX_PREVIOUS);
        self.exp_ms = exp_ms;
    }
}

pub fn code_key(code: &str) -> String {
    format!("{CODE_PREFIX}{}", crypto::hash_secret(code))
}

pub fn grant_key(grant_id: &str) -> String {
    format!("{GRANT_PREFIX}{grant_id}")
}

pub fn get_grant(store: &dyn Store, grant_id: &str) -> Option<GrantRecord> {
    if grant_id.is_empty() || grant_id.len() > 64 {
        return None;
    }
    store.get_json(&grant_key(grant_id))
}

pub fn put_grant(store: &dyn Store, grant: &GrantRecord) {
    store.set_json(&grant_key(&grant.grant_id), grant);
}

pub fn delete_grant(store: &dyn Store, grant_id: &str) {
    let key = grant_key(grant_id);
    if store.get(&key).is_some() {
        store.remove(&key);
    }
}

pub fn all_grants(store: &dyn Store) -> Vec<GrantRecord> {
    store
        .keys_with_prefix(GRANT_PREFIX)
        .iter()
        .filter_map(|k| store.get_json::<GrantRecord>(k))
        .collect()
}

/// Refresh tokens are `<grant id>.<secret>`, so a token finds its grant without an index
/// and an old token of a family is recognised as reuse.
pub fn new_refresh_token(grant_id: &str) -> String {
    format!("{grant_id}.{}", crypto::random_token())
}

/// Storage key of the HMAC key that derives a refresh token's successor.
pub const REFRESH_SECRET_KEY: &str = "oauth.refresh_secret";

/// The successor of a refresh token: derived from the token itself under a stored key, so
/// a retry within the grace window gets the very token the first answer carried (only
/// hashes are stored, so it could not be looked up), while whoever holds only the old
/// token or only storage cannot compute it.
pub fn successor(store: &dyn Store, grant_id: &str, presented: &str) -> String {
    let secret = crypto::stored_secret(store, REFRESH_SECRET_KEY);
    let mac = crypto::hmac_sha256(&secret, &["refresh-successor", presented]);
    format!("{grant_id}.{}", crypto::b64url(&mac))
}

pub fn grant_id_of(refresh_token: &str) -> Option<&str> {
    refresh_token.split_once('.').map(|(g, _)| g)
}

/// Deletes expired codes and grants, the oldest codes beyond [`MAX_CODES`] less one (room
/// for the code a caller may add next), and the
/// oldest grants of `client_id` beyond its quota. Called whenever we write, so storage
/// stays bounded.
pub fn sweep(store: &dyn Store, now_ms: u64, client_id: Option<&str>) {
    let mut codes = Vec::new();
    for key in store.keys_with_prefix(CODE_PREFIX) {
        let expired = match store.get_json::<CodeRecord>(&key) {
            Some(c) => {
                let keep_until = if c.used_grant.is_some() {
                    c.exp_ms.saturating_sub(CODE_TTL_MS) + USED_CODE_KEEP_MS
                } else {
                    c.exp_ms
                };
                codes.push((c.exp_ms, key.clone()));
                keep_until <= now_ms
            }
            None => true,
        };
        if expired {
            codes.retain(|(_, k)| *k != key);
            store.remove(&key);
        }
    }
    // Room for the one code a caller may add next.
    if codes.len() >= MAX_CODES {
        codes.sort();
        for (_, key) in &codes[..=codes.len() - MAX_CODES] {
            store.remove(key);
        }
    }
    let mut mine = Vec::new();
    for key in store.keys_with_prefix(GRANT_PREFIX) {
        match store.get_json::<GrantRecord>(&key) {
            Some(g) if g.live(now_ms) => {
                if Some(g.client_id.as_str()) == client_id {
                    mine.push(g);
                }
            }
            _ => store.remove(&key),
        }
    }
    if mine.len() > MAX_GRANTS_PER_CLIENT {
        mine.sort_by_key(|g| g.created_ms);
        for g in &mine[..mine.len() - MAX_GRANTS_PER_CLIENT] {
            store.remove(&grant_key(&g.grant_id));
        }
    }
}

/// Deletes every grant and pending code of a client.
pub fn delete_client_grants(store: &dyn Store, client_id: &str) {
    for g in all_grants(store) {
        if g.client_id == client_id {
            store.remove(&grant_key(&g.grant_id));
        }
    }
    for key in store.keys_with_prefix(CODE_PREFIX) {
        if store
            .get_json::<CodeRecord>(&key)
            .is_none_or(|c| c.client_id == client_id)
        {
            store.remove(&key);
        }
    }
}
