//! Legacy session ids that carry their own negotiated state, signed, so a session the
//! server no longer holds (reaped after an idle hour, or lost with a plugin reload or a
//! server restart) is revived from its id instead of answering 404. The TypeScript SDK
//! 1.32.2 and Python `mcp` 2.3.0 clients do not re-initialize after a 404 (measured,
//! docs/reference/client-compat.md §13), so a lost session was a dead connection.
//!
//! The id is `s1.<base64url(JSON state)>.<base64url(HMAC-SHA256)>` under a key kept in
//! plugin storage (so it survives reloads and restarts, and revoke-all replaces it). The
//! state names the version and client capabilities negotiated at `initialize`, the token's
//! subject and client, and the grant it was opened under. Reviving checks what a live
//! lookup checks (the presenting token's subject and client) and more: the grant must
//! still be live, so a revoked grant, a deleted client or a removed user ends the session
//! for good. A DELETEd session is remembered (bounded) so its id is not revived.
//!
//! Hand-written framing over the crate's HMAC: a JWT library would bring a second
//! signing stack for what is three base64url fields.

use super::session::{self, Owner, SessionRef};
use crate::oauth::{grants, AccessClaims};
use crate::store::StoreExt;
use crate::{crypto, Ctx};
use rmcp::model::{ClientCapabilities, ProtocolVersion};
use serde::Serialize;

/// Storage key of the HMAC key that signs session ids.
pub const SECRET_KEY: &str = "mcp.session_secret";
/// Storage key of the ids ended by DELETE (hashes), newest last.
pub const ENDED_KEY: &str = "mcp.ended_sessions";
/// How many ended ids are remembered; an older one revives, which only its own client,
/// user and still-live grant could ask for.
pub const ENDED_MAX: usize = 256;
const PREFIX: &str = "s1.";
/// Past this, `experimental` capabilities are left out of the id (headers have limits;
/// no tool reads them).
const STATE_MAX: usize = 2048;

/// What a session id carries. Read back by `store::record` (one reader for every record
/// type, issue 12): the state is parsed as a `Value` and `caps` read from it, as `initialize`
/// reads them (rmcp's capability types read from text were a second copy of their
/// deserialisers in the wasm, 12 KB before -Oz). Host builds keep serde's derive to compare.
#[derive(Serialize)]
#[cfg_attr(
    not(target_arch = "wasm32"),
    derive(serde::Deserialize, Debug, PartialEq)
)]
struct State {
    v: String,
    caps: ClientCapabilities,
    sub: String,
    cid: String,
    gid: String,
    /// Randomness: two sessions with the same state have different ids.
    n: String,
}

crate::fields::args!(State {
    v: required,
    caps: required,
    sub: required,
    cid: required,
    gid: required,
    n: required,
});

/// A new session id for a session negotiated at `initialize` under `claims`.
pub fn mint(
    ctx: &Ctx,
    claims: &AccessClaims,
    version: &ProtocolVersion,
    caps: &ClientCapabilities,
) -> String {
    let mut state = State {
        v: version.as_str().to_string(),
        caps: caps.clone(),
        sub: claims.sub.clone(),
        cid: claims.client_id.clone(),
        gid: claims.grant_id.clone(),
        n: crypto::b64url(&crypto::random_bytes(12)),
    };
    let mut json = serde_json::to_string(&state).expect("serializable state");
    if json.len() > STATE_MAX {
        state.caps.experimental = None;
        json = serde_json::to_string(&state).expect("serializable state");
    }
    let body = crypto::b64url(json.as_bytes());
    let key = crypto::stored_secret(ctx.store.as_ref(), SECRET_KEY);
    let mac = crypto::hmac_sha256(&key, &[PREFIX, &body]);
    format!("{PREFIX}{body}.{}", crypto::b64url(&mac))
}

/// The session `id` names, opened afresh from the id's own state, when the id is ours,
/// untampered, not ended, presented by its own subject and client, and its grant is live.
/// `None` answers exactly like an unknown id.
pub fn revive(ctx: &Ctx, id: &str, claims: &AccessClaims, now_ms: u64) -> Option<SessionRef> {
    let state = verify(ctx, id)?;
    let same = |a: &str, b: &str| crypto::constant_time_eq(a.as_bytes(), b.as_bytes());
    if !same(&state.sub, &claims.sub) || !same(&state.cid, &claims.client_id) {
        return None;
    }
    let grant = grants::get_grant(ctx.store.as_ref(), &state.gid)?;
    if grant.client_id != state.cid || grant.sub != state.sub || !grant.live(now_ms) {
        return None;
    }
    if ended(ctx).contains(&crypto::hash_secret(id)) {
        return None;
    }
    let version = session::supported(&state.v)?;
    let owner = Owner {
        sub: &claims.sub,
        client_id: &claims.client_id,
    };
    Some(
        ctx.mcp
            .sessions
            .create(id.to_string(), owner, version, state.caps, now_ms),
    )
}

/// Remembers that `id` was ended by its client (DELETE): it must answer 404 from now on.
pub fn end(ctx: &Ctx, id: &str) {
    let mut list = ended(ctx);
    list.push(crypto::hash_secret(id));
    if list.len() > ENDED_MAX {
        list.drain(..list.len() - ENDED_MAX);
    }
    ctx.store.set_json(ENDED_KEY, &list);
}

/// Revoke-all: every id minted so far stops verifying.
pub fn forget_all(ctx: &Ctx) {
    ctx.store.remove(SECRET_KEY);
    ctx.store.remove(ENDED_KEY);
}

fn verify(ctx: &Ctx, id: &str) -> Option<State> {
    let (body, mac) = id.strip_prefix(PREFIX)?.split_once('.')?;
    let mac = crypto::b64url_decode(mac)?;
    // Read, never made here: an id presented before any was minted is simply unknown.
    let key = crypto::b64url_decode(&ctx.store.get(SECRET_KEY)?)?;
    let expected = crypto::hmac_sha256(&key, &[PREFIX, body]);
    if !crypto::constant_time_eq(&mac, &expected) {
        return None;
    }
    crypto::b64url_record(body)
}

fn ended(ctx: &Ctx) -> Vec<String> {
    ctx.store.get_json(ENDED_KEY).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session id's state reads back as serde's derive read it, capabilities and all.
    #[test]
    fn state_reads_as_its_derive_did() {
        let caps: ClientCapabilities = serde_json::from_value(serde_json::json!({
            "roots": { "listChanged": true },
            "elicitation": {},
            "experimental": { "x": { "a": 1 } }
        }))
        .unwrap();
        for caps in [ClientCapabilities::default(), caps] {
            crate::store::tests::reads_as_derive(&State {
                v: "2025-06-18".into(),
                caps,
                sub: "admin".into(),
                cid: "c1".into(),
                gid: "g1".into(),
                n: "bm9uY2U".into(),
            });
        }
    }
}
