//! The audit trail: bounded, newest first, one storage key, never argument contents; and
//! over `Plugin::handle`, one entry per tools/call, readable as an MCP resource.

mod common;
#[path = "common/flow.rs"]
mod flow;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use scrypted_mcp::audit::{self, args_hash, AuditEntry, KEY, MAX_ENTRIES};
use scrypted_mcp::http::Response;
use scrypted_mcp::store::{MemStore, Store};
use scrypted_mcp::Plugin;
use serde_json::{json, Value};

fn entry(store: &MemStore, i: u64, args: &serde_json::Value) -> AuditEntry {
    AuditEntry {
        time_ms: 1_700_000_000_000 + i * 1000,
        user: "admin".into(),
        client_id: format!("client-{}", i % 3),
        tool: format!("tool_{i}"),
        args_hash: args_hash(store, args),
        outcome: ["ok", "error", "refused", "invalid_params"][(i % 4) as usize].into(),
        elicitation: i.is_multiple_of(5).then(|| "decline".to_string()),
        dry_run: i.is_multiple_of(3),
    }
}

/// The documented construction, computed here independently: HMAC-SHA256 under the
/// per-install key in `audit.hash_key` (base64url) of "audit-args" NUL, then the canonical
/// JSON (keys sorted, no whitespace) NUL; lower-case hex.
fn expected_hash(store: &MemStore, canonical: &str) -> String {
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(store.get(audit::HASH_KEY).expect("the hash key is stored"))
        .unwrap();
    assert_eq!(key.len(), 32);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(b"audit-args\0");
    mac.update(canonical.as_bytes());
    mac.update(b"\0");
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn empty_trail_is_empty() {
    let store = MemStore::default();
    assert!(audit::recent(&store, 20).is_empty());
    assert_eq!(store.writes.get(), 0);
}

#[test]
fn recent_is_newest_first_and_limited() {
    let store = MemStore::default();
    for i in 0..5 {
        audit::record(&store, entry(&store, i, &json!({})));
    }
    let got = audit::recent(&store, 3);
    let tools: Vec<&str> = got.iter().map(|e| e.tool.as_str()).collect();
    assert_eq!(tools, ["tool_4", "tool_3", "tool_2"]);
    assert_eq!(
        got[0],
        entry(&store, 4, &json!({})),
        "every field round-trips"
    );
    assert_eq!(audit::recent(&store, 100).len(), 5);
}

#[test]
fn one_write_per_record_under_one_key() {
    let store = MemStore::default();
    let entries: Vec<AuditEntry> = (0..10)
        .map(|i| entry(&store, i, &json!({"i": i})))
        .collect();
    // Hashing made the hash key once; recording adds exactly one write each.
    let before = store.writes.get();
    for e in entries {
        audit::record(&store, e);
    }
    assert_eq!(store.writes.get() - before, 10);
    assert_eq!(
        store.keys(),
        vec![audit::HASH_KEY.to_string(), KEY.to_string()]
    );
}

#[test]
fn bounded_dropping_the_oldest() {
    let store = MemStore::default();
    let total = MAX_ENTRIES as u64 + 57;
    for i in 0..total {
        let mut e = entry(&store, i, &json!({"device": "lock", "n": i}));
        e.client_id = "one-client".into();
        audit::record(&store, e);
    }
    let all = audit::recent(&store, usize::MAX);
    assert_eq!(all.len(), MAX_ENTRIES);
    assert_eq!(all[0].tool, format!("tool_{}", total - 1));
    assert_eq!(
        all.last().unwrap().tool,
        format!("tool_{}", total - MAX_ENTRIES as u64)
    );
    // Storage ships whole on every write: the trail must stay small.
    let size = store.get(KEY).unwrap().len();
    assert!(size < 64 * 1024, "audit trail is {size} bytes");
}

/// Issue 8 item 9: a 200-item batch by one client used to erase a prior `set_dotenv` row
/// of another. Past the bound, the client holding the most rows loses its oldest.
#[test]
fn one_clients_volume_never_erases_anothers_rows() {
    let store = MemStore::default();
    let mut dotenv = entry(&store, 0, &json!({"text": "TZ=UTC"}));
    dotenv.tool = "set_dotenv".into();
    dotenv.client_id = "victim".into();
    audit::record(&store, dotenv.clone());
    for i in 1..=1000 {
        let mut e = entry(&store, i, &json!({}));
        e.client_id = "flood".into();
        audit::record(&store, e);
    }
    let all = audit::recent(&store, usize::MAX);
    assert_eq!(all.len(), MAX_ENTRIES);
    assert_eq!(all.last().unwrap(), &dotenv, "the victim's row survives");
    assert_eq!(all[0].tool, "tool_1000");
    assert_eq!(
        all[MAX_ENTRIES - 2].tool,
        format!("tool_{}", 1000 - (MAX_ENTRIES as u64 - 2))
    );
    // Two heavy clients share the loss: each keeps its newest rows.
    for i in 1001..1101 {
        let mut e = entry(&store, i, &json!({}));
        e.client_id = "second".into();
        audit::record(&store, e);
    }
    let all = audit::recent(&store, usize::MAX);
    let count = |c: &str| all.iter().filter(|e| e.client_id == c).count();
    assert_eq!(
        (count("victim"), count("flood"), count("second")),
        (1, 99, 100)
    );
}

#[test]
fn never_stores_argument_contents() {
    let store = MemStore::default();
    let args = json!({"password": "hunter2-secret", "username": "mallory", "nested": {"token": "tok-XYZZY"}});
    let mut e = entry(&store, 1, &args);
    e.tool = "add_user".into();
    audit::record(&store, e);
    for (key, value) in store.snapshot() {
        for secret in ["hunter2-secret", "mallory", "tok-XYZZY", "password"] {
            assert!(
                !value.contains(secret),
                "{key} holds argument contents: {value}"
            );
        }
    }
    let got = &audit::recent(&store, 1)[0];
    assert_eq!(
        got.args_hash,
        expected_hash(
            &store,
            r#"{"nested":{"token":"tok-XYZZY"},"password":"hunter2-secret","username":"mallory"}"#
        )
    );
}

#[test]
fn trails_written_before_the_dry_run_mark_still_load() {
    let store = MemStore::default();
    store.set(
        KEY,
        r#"[[1700000000000,"admin","c1","get_logs","ab","ok",null]]"#,
    );
    let got = audit::recent(&store, 10);
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].tool.as_str(), got[0].dry_run), ("get_logs", false));
    // Rows of calls that are not dry runs keep their seven elements.
    audit::record(
        &store,
        AuditEntry {
            dry_run: false,
            ..got[0].clone()
        },
    );
    audit::record(
        &store,
        AuditEntry {
            dry_run: true,
            ..got[0].clone()
        },
    );
    let rows: Vec<Vec<Value>> = serde_json::from_str(&store.get(KEY).unwrap()).unwrap();
    let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
    assert_eq!(lens, [7, 7, 8]);
    assert_eq!(rows[2][7], json!(true));
}

#[test]
fn a_dry_run_is_audited_as_one_whatever_its_outcome() {
    let (plugin, _host, store, _clock) = common::plugin();
    let (token, session, _) = session(&plugin);
    let ok = call_tool(
        &plugin,
        &token,
        &session,
        "clear_alerts",
        json!({"dry_run": true}),
    );
    assert_eq!(ok["result"]["isError"], json!(false), "{ok}");
    let bad = json!({"dry_run": true, "bogus": 1});
    let invalid = call_tool(&plugin, &token, &session, "clear_alerts", bad);
    assert_eq!(invalid["error"]["code"], json!(-32602), "{invalid}");
    let real = call_tool(
        &plugin,
        &token,
        &session,
        "clear_alerts",
        json!({"dry_run": false}),
    );
    assert_eq!(real["result"]["isError"], json!(false), "{real}");
    let got: Vec<(String, bool)> = audit::recent(store.as_ref(), 10)
        .into_iter()
        .map(|e| (e.outcome, e.dry_run))
        .collect();
    let want = [("ok", false), ("invalid_params", true), ("ok", true)];
    assert_eq!(got, want.map(|(o, d)| (o.to_string(), d)), "newest first");
    // The resource marks only the dry runs.
    let resp = rpc(
        &plugin,
        &token,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 9, "method": "resources/read",
               "params": {"uri": "scrypted-mcp://audit/recent"}}),
    );
    let body = resp.body_json().unwrap();
    let listed: Vec<Value> =
        serde_json::from_str(body["result"]["contents"][0]["text"].as_str().unwrap()).unwrap();
    let marks: Vec<&Value> = listed.iter().map(|e| &e["dry_run"]).collect();
    assert_eq!(marks, [&Value::Null, &json!(true), &json!(true)]);
}

#[test]
fn args_hash_is_a_keyed_hash_of_canonical_json() {
    let store = MemStore::default();
    let a = json!({"b": 1, "a": {"y": [1, 2, {"k": "v"}], "x": null}});
    let b: serde_json::Value =
        serde_json::from_str(r#"{"a":{"x":null,"y":[1,2,{"k":"v"}]},"b":1}"#).unwrap();
    assert_eq!(
        args_hash(&store, &a),
        args_hash(&store, &b),
        "key order does not matter"
    );
    assert_ne!(
        args_hash(&store, &a),
        args_hash(&store, &json!({"b": 2, "a": {}}))
    );
    assert_eq!(
        args_hash(&store, &a),
        expected_hash(&store, r#"{"a":{"x":null,"y":[1,2,{"k":"v"}]},"b":1}"#)
    );
    let h = args_hash(&store, &json!({}));
    assert_eq!(h, expected_hash(&store, "{}"));
    // Not the plain SHA-256 of "{}": someone reading storage cannot test guesses of
    // short arguments (a password) against the trail without the stored key.
    assert_ne!(
        h,
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    let other_store = MemStore::default();
    assert_ne!(
        h,
        args_hash(&other_store, &json!({})),
        "the key is per install"
    );
}

#[test]
fn unreadable_trail_starts_over() {
    let store = MemStore::default();
    store.set(KEY, "not json");
    assert!(audit::recent(&store, 20).is_empty());
    audit::record(&store, entry(&store, 7, &json!({})));
    assert_eq!(audit::recent(&store, 20).len(), 1);
}

// ---- over the MCP endpoint

const HOST: &str = "192.168.1.10:11080";

fn rpc(plugin: &Plugin, token: &str, session: Option<&str>, body: Value) -> Response {
    flow::rpc(plugin, HOST, token, session, body)
}

/// An initialized MCP session: (access token, session id, client id).
fn session(plugin: &Plugin) -> (String, String, String) {
    let tokens = flow::obtain_tokens(plugin, HOST);
    let id = flow::open_session(plugin, HOST, &tokens.access_token, "audit-test");
    (tokens.access_token, id, tokens.client_id)
}

fn call_tool(plugin: &Plugin, token: &str, session: &str, name: &str, args: Value) -> Value {
    let resp = rpc(
        plugin,
        token,
        Some(session),
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
               "params": {"name": name, "arguments": args}}),
    );
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    resp.body_json().unwrap()
}

#[test]
fn every_tool_call_is_audited_without_its_arguments() {
    let (plugin, _host, store, clock) = common::plugin();
    let (token, session, client_id) = session(&plugin);
    let calls = [
        ("get_server_info", json!({})),
        (
            "get_plugin_info",
            json!({"plugin_id": "no-such-plugin-secret-ish"}),
        ),
        (
            "restore_backup",
            json!({"confirm": "RESTORE FROM BACKUP", "chunk_base64": "c2VjcmV0LWNodW5r",
                   "chunk_index": 0, "total_chunks": 1}),
        ),
        (
            "no_such_tool",
            json!({"password": "hunter2-secret", "token": "tok-XYZZY"}),
        ),
    ];
    let mut answers = Vec::new();
    for (name, args) in &calls {
        clock.advance_sec(1);
        answers.push(call_tool(&plugin, &token, &session, name, args.clone()));
    }
    assert_eq!(
        answers[0]["result"]["isError"],
        json!(false),
        "{}",
        answers[0]
    );
    assert_eq!(
        answers[1]["result"]["isError"],
        json!(true),
        "{}",
        answers[1]
    );
    assert_eq!(
        answers[2]["result"]["isError"],
        json!(true),
        "{}",
        answers[2]
    );
    assert_eq!(answers[3]["error"]["code"], json!(-32602), "{}", answers[3]);

    let entries = audit::recent(store.as_ref(), 10);
    let got: Vec<(&str, &str, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e.tool.as_str(),
                e.outcome.as_str(),
                e.elicitation.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("no_such_tool", "invalid_params", None),
            ("restore_backup", "refused", Some("unsupported")),
            ("get_plugin_info", "error", None),
            ("get_server_info", "ok", None),
        ],
        "one entry per call, newest first"
    );
    // Each entry hashes its own call's arguments (canonical JSON, written out here).
    let canonical = [
        "{}",
        r#"{"plugin_id":"no-such-plugin-secret-ish"}"#,
        r#"{"chunk_base64":"c2VjcmV0LWNodW5r","chunk_index":0,"confirm":"RESTORE FROM BACKUP","total_chunks":1}"#,
        // Issue 8 item 6: secrets enter the hash as the placeholder.
        r#"{"password":"[REDACTED]","token":"[REDACTED]"}"#,
    ];
    for (entry, canonical) in entries.iter().rev().zip(canonical) {
        assert_eq!(
            entry.args_hash,
            expected_hash(&store, canonical),
            "{}",
            entry.tool
        );
        assert_eq!(entry.user, "admin");
        assert_eq!(
            entry.client_id, client_id,
            "the client the token was issued to"
        );
    }
    assert_eq!(entries[0].time_ms, common::NOW_MS + 4000);
    for (key, value) in store.snapshot() {
        for secret in [
            "hunter2-secret",
            "tok-XYZZY",
            "c2VjcmV0LWNodW5r",
            "no-such-plugin-secret-ish",
        ] {
            assert!(!value.contains(secret), "{key} holds argument contents");
        }
    }

    // The same trail, as the MCP resource.
    let resp = rpc(
        &plugin,
        &token,
        Some(&session),
        json!({"jsonrpc": "2.0", "id": 8, "method": "resources/read",
               "params": {"uri": "scrypted-mcp://audit/recent"}}),
    );
    let body = resp.body_json().unwrap();
    let text = body["result"]["contents"][0]["text"].as_str().unwrap();
    let listed: Vec<AuditEntry> = serde_json::from_str(text).unwrap();
    assert_eq!(listed, entries);
    assert!(!text.contains("hunter2-secret"));
}

/// Issue 8 item 6: a dictionary of 7 words recovered an `add_user` password from the
/// trail and the key stored beside it. Secrets now enter the hash as the placeholder, so
/// no guess can be confirmed: two different passwords leave the same hash.
#[test]
fn secret_arguments_never_enter_the_hash() {
    let (plugin, _host, store, clock) = common::plugin();
    let (token, session, _) = session(&plugin);
    for (name, password) in [("eve", "hunter2"), ("eve", "correct horse")] {
        clock.advance_sec(1);
        call_tool(
            &plugin,
            &token,
            &session,
            "add_user",
            json!({"username": name, "password": password, "admin": false}),
        );
    }
    call_tool(
        &plugin,
        &token,
        &session,
        "set_dotenv",
        json!({"text": "TZ=UTC\nMQTT_PASS=hunter2\n"}),
    );
    let rows = audit::recent(store.as_ref(), 3);
    assert_eq!(
        rows[1].args_hash, rows[2].args_hash,
        "the password is not in it"
    );
    for guess in ["hunter2", "correct horse", "password"] {
        let guessed = expected_hash(
            &store,
            &format!(r#"{{"admin":false,"password":"{guess}","username":"eve"}}"#),
        );
        assert_ne!(rows[1].args_hash, guessed, "{guess}");
    }
    assert_eq!(
        rows[1].args_hash,
        expected_hash(
            &store,
            r#"{"admin":false,"password":"[REDACTED]","username":"eve"}"#
        )
    );
    assert_eq!(
        rows[0].args_hash,
        expected_hash(&store, r#"{"text":"TZ=UTC\nMQTT_PASS=[REDACTED]\n"}"#)
    );
}
