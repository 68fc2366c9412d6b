//! Legacy sessions revived from their signed ids (src/mcp/session_id.rs): after an idle
//! hour, a plugin reload or a server restart the same id goes on working with the state
//! negotiated at `initialize`; a tampered id, another client's or user's token, a revoked
//! grant, a DELETE or revoke-all still end it.

use super::*;
use scrypted_mcp::store::Store;
use scrypted_mcp::tools::backup::CONFIRM_PHRASE;

impl Server {
    /// The same server after the plugin restarted (reload, server restart): a new Plugin
    /// over the same storage, host and clock, nothing kept in memory.
    fn restarted(&self) -> Server {
        Server {
            plugin: Plugin::new(self.host.clone(), self.store.clone(), self.clock.clone()),
            host: self.host.clone(),
            store: self.store.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl Client<'_> {
    /// The same client (token, session) talking to `server`.
    fn to<'b>(&self, server: &'b Server) -> Client<'b> {
        Client {
            server,
            token: self.token.clone(),
            refresh: self.refresh.clone(),
            client_id: self.client_id.clone(),
            session: self.session.clone(),
            version: self.version,
            accept: self.accept,
        }
    }

    /// Whether the session holds the elicitation capability: restore_backup refuses a
    /// client without it (a tool error) before reading its other arguments, and tells one
    /// with it that the arguments are incomplete (-32602 before 2025-11-25, a tool error
    /// from then on). Nothing is staged either way.
    fn can_elicit(&self, id: i64) -> bool {
        let reply = self.call(
            id,
            "tools/call",
            json!({"name": "restore_backup", "arguments": {"confirm": CONFIRM_PHRASE}}),
        );
        let answer = reply.response();
        if answer.get("error").is_some() {
            assert_eq!(reply.error_code(), -32602, "{answer}");
            return true;
        }
        let text = answer["result"]["content"][0]["text"].as_str().unwrap();
        if text.contains("did not declare the elicitation capability") {
            return false;
        }
        assert!(text.contains("Give chunk_base64"), "{text}");
        true
    }

    fn ping(&self, id: i64) -> u16 {
        let reply = self.call(id, "ping", json!({}));
        if reply.status == 200 {
            assert_eq!(reply.result(), json!({}));
        }
        reply.status
    }
}

#[test]
fn an_idle_session_is_revived_with_its_negotiated_state() {
    let s = server();
    let mut elicits = s.session(V11, json!({"elicitation": {}}));
    let mut plain = s.session(V03, json!({}));
    assert!(elicits.can_elicit(1));
    assert!(!plain.can_elicit(1));
    s.clock.advance_sec(2 * 60 * 60);
    elicits.refresh();
    plain.refresh();
    assert_eq!(
        scrypted_mcp::mcp::active_sessions(&s.plugin.ctx),
        0,
        "reaped from memory after the idle hour"
    );
    assert!(elicits.can_elicit(2), "capabilities survive");
    assert!(!plain.can_elicit(2));
    // The version survives: batches are part of 2025-03-26 only.
    let batch = json!([{"jsonrpc": "2.0", "id": 3, "method": "ping"}]);
    assert_eq!(plain.post(batch.clone()).status, 200);
    assert_eq!(elicits.post(batch).status, 400);
    assert_eq!(scrypted_mcp::mcp::active_sessions(&s.plugin.ctx), 2);
}

#[test]
fn a_session_survives_a_restart() {
    let s = server();
    let c = s.session(V06, json!({"elicitation": {}}));
    assert_eq!(c.ping(1), 200);
    let after = s.restarted();
    let c = c.to(&after);
    assert_eq!(c.ping(2), 200);
    assert!(c.can_elicit(3));
    // The revived session is live again: held in memory, the same id.
    assert_eq!(scrypted_mcp::mcp::active_sessions(&after.plugin.ctx), 1);
    let reply = c.call(4, "tools/list", json!({}));
    assert_eq!(reply.status, 200);
}

#[test]
fn a_tampered_or_foreign_id_is_not_revived() {
    let s = server();
    let c = s.session(V11, json!({}));
    let id = c.session.clone().unwrap();
    let after = s.restarted();
    let mut c = c.to(&after);
    let (body, mac) = id.strip_prefix("s1.").unwrap().split_once('.').unwrap();
    // The state rewritten (another user), the signature kept.
    let mut state: Value =
        serde_json::from_slice(&base64_url_decode(body)).expect("the id carries JSON state");
    state["sub"] = json!("second-admin");
    let forged = format!("s1.{}.{mac}", base64_url(state.to_string().as_bytes()));
    let mut flipped = id.clone().into_bytes();
    let last = flipped.len() - 2;
    flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        forged,
        String::from_utf8(flipped).unwrap(),
        "s1.e30.AAAA".into(),
        "not-an-id".into(),
    ] {
        c.session = Some(bad.clone());
        assert_eq!(c.ping(1), 404, "{bad}");
    }
    assert_eq!(scrypted_mcp::mcp::active_sessions(&after.plugin.ctx), 0);
    c.session = Some(id);
    assert_eq!(c.ping(2), 200);
}

#[test]
fn another_clients_or_users_token_does_not_revive_it() {
    let s = server();
    let owner = s.session(V11, json!({}));
    let after = s.restarted();
    let mut stranger = after.client();
    stranger.session = owner.session.clone();
    stranger.version = owner.version;
    assert_eq!(stranger.ping(1), 404, "another client");
    // The same client, authorized by another Scrypted admin.
    s.host.add_admin("second-admin");
    let mut other_user = owner.to(&after);
    other_user.token = flow::tokens_as(
        &after.plugin,
        HOST,
        &owner.client_id,
        "scrypted:admin",
        "second-admin",
    )
    .access_token;
    assert_eq!(other_user.ping(2), 404, "another user");
    assert_eq!(owner.to(&after).ping(3), 200);
}

#[test]
fn a_revoked_grant_ends_the_session_for_good() {
    let s = server();
    let c = s.session(V11, json!({}));
    let mut req = flow::request("POST", "/revoke", HOST);
    req.headers.insert(
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    );
    req.body = Some(format!("token={}&client_id={}", c.refresh, c.client_id));
    assert_eq!(s.send(req).status, 200);
    let after = s.restarted();
    // The same client and user come back with a new grant: the old session stays gone.
    let fresh = flow::tokens_for(&after.plugin, HOST, &c.client_id, "scrypted:admin");
    let mut c = c.to(&after);
    c.token = fresh.access_token;
    assert_eq!(c.ping(1), 404);
}

#[test]
fn a_deleted_session_stays_deleted() {
    let s = server();
    let c = s.session(V11, json!({}));
    assert_eq!(s.send(c.request("DELETE", None)).status, 204);
    assert_eq!(c.ping(1), 404);
    assert_eq!(
        c.to(&s.restarted()).ping(2),
        404,
        "not revived after a restart"
    );
}

#[test]
fn revoke_all_ends_every_session_for_good() {
    let s = server();
    let c = s.session(V11, json!({}));
    // What the Settings tab's revoke-all does, then a restart.
    scrypted_mcp::oauth::revoke_all(&s.plugin.ctx);
    scrypted_mcp::mcp::close_all_sessions(&s.plugin.ctx);
    assert_eq!(
        s.store.get("mcp.session_secret"),
        None,
        "the signing key is gone"
    );
    let after = s.restarted();
    // Even a token the new key would accept cannot bring it back: its signature no longer
    // verifies (the client registers again after revoke-all).
    let mut fresh = after.client();
    fresh.session = c.session.clone();
    fresh.version = c.version;
    assert_eq!(fresh.ping(1), 404);
}

fn base64_url(data: &[u8]) -> String {
    scrypted_mcp::crypto::b64url(data)
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    scrypted_mcp::crypto::b64url_decode(text).unwrap()
}
