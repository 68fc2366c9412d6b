//! Authorization codes and grants in plugin storage. Only hashes of codes and refresh
//! tokens are kept: storage is readable by other plugins and lands in every backup.
//!
//! A grant is one authorization: the family of refresh tokens rotated from one code, and
//! the access tokens minted from them (they carry the grant id, so deleting the grant
//! revokes them at once).

use crate::crypto;
use crate::oauth::Scope;
use crate::store::{Parsed, Store, StoreExt};
use serde::Serialize;
use std::rc::Rc;

pub const CODE_PREFIX: &str = "oauth.code.";
pub const GRANT_PREFIX: &str = "oauth.grant.";

/// How long a code may be exchanged.
pub const CODE_TTL_MS: u64 = 60_000;
/// How long a used code is remembered, so a replay can still revoke what it issued.
pub const USED_CODE_KEEP_MS: u64 = 10 * 60_000;
/// How long after its rotation a rotated-out refresh token is only refused, not taken as
/// theft: concurrent refreshes of one token, a retry after a lost answer (token.rs).
pub const REUSE_WINDOW_MS: u64 = 10_000;
/// Replaced refresh-token hashes remembered per grant, for reuse detection.
const MAX_PREVIOUS: usize = 8;
/// Codes kept at once, used ones included. A web page can make a logged-in admin's
/// browser request codes for a loopback client without any page shown, and each one
/// would otherwise grow the storage map that every write ships.
pub const MAX_CODES: usize = 32;
/// Pending (unused) codes one client may hold; a new one pushes out that client's oldest,
/// never another client's, so a flood through one client cannot evict a victim's code.
pub const MAX_PENDING_PER_CLIENT: usize = 4;
/// Live grants kept per client; the oldest goes first.
const MAX_GRANTS_PER_CLIENT: usize = 20;

/// Read back by `store::record`, like `GrantRecord` (one reader for every record type, issue
/// 12); host builds keep serde's derive to compare the two (`store::tests`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
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

/// A refresh token replaced by a newer one (`GrantRecord::rotate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
pub struct Previous {
    pub hash: String,
    /// When it stopped being current.
    pub replaced_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
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

crate::fields::args!(CodeRecord {
    client_id: required,
    issuer: required,
    redirect_uri: required,
    redirect_uri_sent: required,
    code_challenge: required,
    resource: required,
    sub: required,
    scope: required,
    exp_ms: required,
    used_grant: optional,
});

crate::fields::args!(GrantRecord {
    grant_id: required,
    client_id: required,
    issuer: required,
    sub: required,
    scope: required,
    resource: required,
    created_ms: required,
    refresh_hash: required,
    exp_ms: required,
    previous: optional,
});

// A grant's earlier refresh tokens are read inside it (`from_value`, a `Vec<Previous>`
// field), so by a `Deserialize` impl: the same reader in the wasm (`store::tests` compares it
// with the derive).
crate::fields::deserialize_by_fields!(Previous);
crate::fields::args!(Previous {
    hash: required,
    replaced_ms: required,
});

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
    store.get_record(&grant_key(grant_id))
}

/// [`get_grant`], the record parsed again only when its stored text changed (the bearer
/// check reads it on every request).
pub fn get_grant_memo(
    store: &dyn Store,
    memo: &Parsed<GrantRecord>,
    grant_id: &str,
) -> Option<Rc<GrantRecord>> {
    if grant_id.is_empty() || grant_id.len() > 64 {
        return None;
    }
    memo.get(store, &grant_key(grant_id))
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
        .filter_map(|k| store.get_record::<GrantRecord>(k))
        .collect()
}

/// Refresh tokens are `<grant id>.<secret>`, so a token finds its grant without an index
/// and an old token of a family is recognised as reuse.
pub fn new_refresh_token(grant_id: &str) -> String {
    format!("{grant_id}.{}", crypto::random_token())
}

/// Storage key of the HMAC key that once derived a refresh token's successor; no longer
/// written, removed by revoke-all where an older version left it.
pub const REFRESH_SECRET_KEY: &str = "oauth.refresh_secret";

pub fn grant_id_of(refresh_token: &str) -> Option<&str> {
    refresh_token.split_once('.').map(|(g, _)| g)
}

/// Deletes expired codes and grants, and the oldest grants of `client_id` beyond its
/// quota. Called whenever we write, so storage stays bounded.
pub fn sweep(store: &dyn Store, now_ms: u64, client_id: Option<&str>) {
    for key in store.keys_with_prefix(CODE_PREFIX) {
        let keep = store
            .get_record::<CodeRecord>(&key)
            .is_some_and(|c| keep_until(&c) > now_ms);
        if !keep {
            store.remove(&key);
        }
    }
    let mut mine = Vec::new();
    for key in store.keys_with_prefix(GRANT_PREFIX) {
        match store.get_record::<GrantRecord>(&key) {
            Some(g) if g.live(now_ms) => {
                if Some(g.client_id.as_str()) == client_id {
                    mine.push(g);
                }
            }
            _ => store.remove(&key),
        }
    }
    if mine.len() > MAX_GRANTS_PER_CLIENT {
        crate::order::sort_by_key(&mut mine, |g| g.created_ms);
        for g in &mine[..mine.len() - MAX_GRANTS_PER_CLIENT] {
            store.remove(&grant_key(&g.grant_id));
        }
    }
}

fn keep_until(c: &CodeRecord) -> u64 {
    if c.used_grant.is_some() {
        c.exp_ms.saturating_sub(CODE_TTL_MS) + USED_CODE_KEEP_MS
    } else {
        c.exp_ms
    }
}

/// Makes room for one more pending code of `client_id` (after [`sweep`]): that client's
/// oldest pending codes beyond its quota go, then the oldest used codes (kept only to
/// catch a replay) while storage holds [`MAX_CODES`]. Another client's pending code is
/// never removed: `false` when all the room is taken by them (they expire within a
/// minute).
pub fn room_for_code(store: &dyn Store, client_id: &str) -> bool {
    let mut mine = Vec::new();
    let mut used = Vec::new();
    let mut total = 0;
    for key in store.keys_with_prefix(CODE_PREFIX) {
        let Some(c) = store.get_record::<CodeRecord>(&key) else {
            continue;
        };
        total += 1;
        if c.used_grant.is_some() {
            used.push((c.exp_ms, key));
        } else if c.client_id == client_id {
            mine.push((c.exp_ms, key));
        }
    }
    crate::order::sort(&mut mine);
    let over = (mine.len() + 1).saturating_sub(MAX_PENDING_PER_CLIENT);
    crate::order::sort(&mut used);
    let spare = (total - over + 1).saturating_sub(MAX_CODES);
    for (_, key) in mine.iter().take(over).chain(used.iter().take(spare)) {
        store.remove(key);
    }
    total - over - spare.min(used.len()) < MAX_CODES
}

/// The pending (unexchanged, unexpired) codes of a client, with their storage keys.
fn pending_codes(store: &dyn Store, client_id: &str, now_ms: u64) -> Vec<(String, CodeRecord)> {
    store
        .keys_with_prefix(CODE_PREFIX)
        .into_iter()
        .filter_map(|key| store.get_record::<CodeRecord>(&key).map(|c| (key, c)))
        .filter(|(_, c)| c.client_id == client_id && c.used_grant.is_none() && c.exp_ms > now_ms)
        .collect()
}

/// The highest level among a client's pending codes, if it holds any.
pub fn pending_code_level(store: &dyn Store, client_id: &str, now_ms: u64) -> Option<Scope> {
    pending_codes(store, client_id, now_ms)
        .iter()
        .map(|(_, c)| Scope::of_grant(&c.scope))
        .max()
}

/// Caps the pending codes of a client at `cap`: a grant made from one later holds no more
/// than the client was lowered to (Settings, Connected apps).
pub fn lower_pending_codes(store: &dyn Store, client_id: &str, cap: Scope, now_ms: u64) {
    for (key, mut c) in pending_codes(store, client_id, now_ms) {
        let lowered = Scope::of_grant(&c.scope).min(cap).granted();
        if lowered != c.scope {
            c.scope = lowered;
            store.set_json(&key, &c);
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
            .get_record::<CodeRecord>(&key)
            .is_none_or(|c| c.client_id == client_id)
        {
            store.remove(&key);
        }
    }
}
