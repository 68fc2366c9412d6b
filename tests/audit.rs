//! The audit trail: bounded, newest first, one line per call in the plugin volume (none in
//! plugin storage), durable, moved over from earlier versions' storage key, never argument
//! contents; and
//! over `Plugin::handle`, one entry per tools/call, readable as an MCP resource.

mod common;
#[path = "common/flow.rs"]
mod flow;

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use scrypted_mcp::audit::{
    self, args_hash, AuditEntry, FILE, LEGACY_KEY, MAX_ENTRIES, REWRITE_AT_LINES,
};
use scrypted_mcp::http::Response;
use scrypted_mcp::store::{MemStore, Store};
use scrypted_mcp::Plugin;
use serde_json::{json, Value};
use std::rc::Rc;

use common::fake::FakeBridge;
use scrypted_mcp::clock::FixedClock;

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

/// A plugin over the fake host, driven through its audit trail; the fake host keeps the
/// volume's files (`FakeBridge::volume`) across restarts, as the real directory does.
struct Trail {
    plugin: Plugin,
    host: Rc<FakeBridge>,
    store: Rc<MemStore>,
}

impl Trail {
    fn new() -> Trail {
        let (plugin, host, store, _clock) = common::plugin();
        Trail {
            plugin,
            host,
            store,
        }
    }
    /// The plugin restarted (a reload, an update, a crash Scrypted survived): a new Plugin
    /// over the same storage and volume, nothing kept in memory.
    fn restarted(&self) -> Trail {
        Trail {
            plugin: Plugin::new(
                self.host.clone(),
                self.store.clone(),
                Rc::new(FixedClock::at_ms(common::NOW_MS)),
            ),
            host: self.host.clone(),
            store: self.store.clone(),
        }
    }
    fn entry(&self, i: u64, args: &Value) -> AuditEntry {
        entry(&self.store, i, args)
    }
    fn record(&self, e: AuditEntry) {
        audit::record(&self.plugin.ctx, e);
    }
    fn recent(&self, limit: usize) -> Vec<AuditEntry> {
        audit::recent(&self.plugin.ctx, limit)
    }
    /// The trail's file as it is on disk now.
    fn file(&self) -> Option<String> {
        self.host.volume.borrow().get(FILE).cloned()
    }
    fn file_rows(&self) -> Vec<Vec<Value>> {
        self.file()
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is one JSON row"))
            .collect()
    }
    /// The kept rows, oldest first, as the file's rows are: `[time_ms, user, client_id,
    /// tool, args_hash, outcome, elicitation]`, and `true` after them on a dry run.
    fn kept_rows(&self) -> Vec<Vec<Value>> {
        let mut kept = self.recent(usize::MAX);
        kept.reverse();
        kept.into_iter()
            .map(|e| {
                let mut row = vec![
                    json!(e.time_ms),
                    json!(e.user),
                    json!(e.client_id),
                    json!(e.tool),
                    json!(e.args_hash),
                    json!(e.outcome),
                    json!(e.elicitation),
                ];
                if e.dry_run {
                    row.push(json!(true));
                }
                row
            })
            .collect()
    }
    fn errors_logged(&self) -> Vec<String> {
        self.host
            .notices
            .borrow()
            .iter()
            .filter(|(n, a)| n == "log" && a["level"] == "error")
            .map(|(_, a)| a["message"].as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn empty_trail_is_empty() {
    let t = Trail::new();
    assert!(t.recent(20).is_empty());
    assert_eq!(t.store.writes.get(), 0);
    assert_eq!(t.file(), None, "reading creates no file");
}

#[test]
fn recent_is_newest_first_and_limited() {
    let t = Trail::new();
    for i in 0..5 {
        t.record(t.entry(i, &json!({})));
    }
    let got = t.recent(3);
    let tools: Vec<&str> = got.iter().map(|e| e.tool.as_str()).collect();
    assert_eq!(tools, ["tool_4", "tool_3", "tool_2"]);
    assert_eq!(got[0], t.entry(4, &json!({})), "every field round-trips");
    assert_eq!(t.recent(100).len(), 5);
    // The same after a restart, read back from the volume.
    assert_eq!(t.restarted().recent(100), t.recent(100));
}

/// Scrypted ships the whole storage map on every storage write (scrypted-host.md §5): a
/// call's row goes to the volume, and plugin storage is not written at all.
#[test]
fn each_record_appends_one_line_to_the_volume_and_writes_no_storage() {
    let t = Trail::new();
    let entries: Vec<AuditEntry> = (0..10).map(|i| t.entry(i, &json!({"i": i}))).collect();
    // Hashing made the hash key once.
    let before = t.store.writes.get();
    for (n, e) in entries.into_iter().enumerate() {
        t.record(e);
        // Durable when record returns: the row is in the file already.
        assert_eq!(t.file_rows().len(), n + 1);
    }
    assert_eq!(t.store.writes.get(), before);
    assert_eq!(t.store.keys(), vec![audit::HASH_KEY.to_string()]);
    let tools: Vec<Value> = t.file_rows().iter().map(|r| r[3].clone()).collect();
    assert_eq!(
        tools,
        (0..10)
            .map(|i| json!(format!("tool_{i}")))
            .collect::<Vec<_>>()
    );
}

#[test]
fn bounded_dropping_the_oldest() {
    let t = Trail::new();
    let total = MAX_ENTRIES as u64 * 5 + 57;
    for i in 0..total {
        let mut e = t.entry(i, &json!({"device": "lock", "n": i}));
        e.client_id = "one-client".into();
        t.record(e);
        // The file is rewritten with the kept rows now and then: it stays bounded too.
        assert!(t.file_rows().len() <= REWRITE_AT_LINES);
    }
    let all = t.recent(usize::MAX);
    assert_eq!(all.len(), MAX_ENTRIES);
    assert_eq!(all[0].tool, format!("tool_{}", total - 1));
    assert_eq!(
        all.last().unwrap().tool,
        format!("tool_{}", total - MAX_ENTRIES as u64)
    );
    let again = t.restarted();
    assert_eq!(again.recent(usize::MAX), all);
    assert_eq!(
        again.file_rows().len(),
        MAX_ENTRIES,
        "a start brings the file down to the rows kept"
    );
}

/// Issue 8 item 9: a 200-item batch by one client used to erase a prior `set_dotenv` row
/// of another. Past the bound, the client holding the most rows loses its oldest.
#[test]
fn one_clients_volume_never_erases_anothers_rows() {
    let t = Trail::new();
    let mut dotenv = t.entry(0, &json!({"text": "TZ=UTC"}));
    dotenv.tool = "set_dotenv".into();
    dotenv.client_id = "victim".into();
    t.record(dotenv.clone());
    for i in 1..=1000 {
        let mut e = t.entry(i, &json!({}));
        e.client_id = "flood".into();
        t.record(e);
    }
    let all = t.recent(usize::MAX);
    assert_eq!(all.len(), MAX_ENTRIES);
    assert_eq!(all.last().unwrap(), &dotenv, "the victim's row survives");
    assert_eq!(all[0].tool, "tool_1000");
    assert_eq!(
        all[MAX_ENTRIES - 2].tool,
        format!("tool_{}", 1000 - (MAX_ENTRIES as u64 - 2))
    );
    // Two heavy clients share the loss: each keeps its newest rows.
    for i in 1001..1101 {
        let mut e = t.entry(i, &json!({}));
        e.client_id = "second".into();
        t.record(e);
    }
    let all = t.recent(usize::MAX);
    let count = |c: &str| all.iter().filter(|e| e.client_id == c).count();
    assert_eq!(
        (count("victim"), count("flood"), count("second")),
        (1, 99, 100)
    );
    // A restart reads the very same trail back.
    assert_eq!(t.restarted().recent(usize::MAX), all);
    // Evictions now take rows from between the victim's and the newest: a rewrite writes
    // exactly the rows kept, in order.
    let mut rewrites = 0;
    for i in 1101..1101 + REWRITE_AT_LINES as u64 {
        let before = t.file_rows().len();
        let mut e = t.entry(i, &json!({}));
        e.client_id = ["flood", "second", "third"][i as usize % 3].into();
        t.record(e);
        if t.file_rows().len() < before {
            rewrites += 1;
            assert_eq!(t.file_rows(), t.kept_rows(), "rewritten at call {i}");
        }
    }
    assert_eq!(rewrites, 1);
}

#[test]
fn never_stores_argument_contents() {
    let t = Trail::new();
    let args = json!({"password": "hunter2-secret", "username": "mallory", "nested": {"token": "tok-XYZZY"}});
    let mut e = t.entry(1, &args);
    e.tool = "add_user".into();
    t.record(e);
    let files = t.host.volume.borrow().clone();
    for (key, value) in t.store.snapshot().into_iter().chain(files) {
        for secret in ["hunter2-secret", "mallory", "tok-XYZZY", "password"] {
            assert!(
                !value.contains(secret),
                "{key} holds argument contents: {value}"
            );
        }
    }
    let got = &t.recent(1)[0];
    assert_eq!(
        got.args_hash,
        expected_hash(
            &t.store,
            r#"{"nested":{"token":"tok-XYZZY"},"password":"hunter2-secret","username":"mallory"}"#
        )
    );
}

/// An installed plugin's trail (plugin storage, `audit.log`, as earlier versions wrote it)
/// survives the update: moved into the volume, then the key removed.
#[test]
fn an_earlier_versions_trail_moves_from_storage_to_the_volume() {
    let t = Trail::new();
    // Rows exactly as the earlier version stored them, dry-run mark and all.
    let stored = r#"[[1700000000000,"admin","c1","get_logs","ab","ok",null],[1700000001000,"admin","c2","clear_alerts","cd","ok","accept",true]]"#;
    t.store.set(LEGACY_KEY, stored);
    let got = t.recent(10);
    let seen: Vec<(&str, &str, Option<&str>, bool)> = got
        .iter()
        .map(|e| {
            (
                e.tool.as_str(),
                e.client_id.as_str(),
                e.elicitation.as_deref(),
                e.dry_run,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("clear_alerts", "c2", Some("accept"), true),
            ("get_logs", "c1", None, false)
        ]
    );
    assert_eq!(t.store.get(LEGACY_KEY), None, "the storage copy is gone");
    assert_eq!(t.file_rows().len(), 2, "once the volume holds it");
    // New calls go after it, and a restart reads it all from the volume.
    t.record(t.entry(9, &json!({})));
    let after = t.restarted().recent(10);
    assert_eq!(after.len(), 3);
    assert_eq!(after[0].tool, "tool_9");
    assert_eq!(after[1..], got[..]);
}

/// The file was written from the storage copy, then the process died before the key was
/// removed: the next start removes the key and does not add its rows twice.
#[test]
fn a_move_interrupted_after_writing_the_file_is_not_repeated() {
    let t = Trail::new();
    let stored = r#"[[1700000000000,"admin","c1","get_logs","ab","ok",null]]"#;
    t.store.set(LEGACY_KEY, stored);
    t.host.volume.borrow_mut().insert(
        FILE.into(),
        "[1700000000000,\"admin\",\"c1\",\"get_logs\",\"ab\",\"ok\",null]\n".into(),
    );
    assert_eq!(t.recent(10).len(), 1);
    assert_eq!(t.store.get(LEGACY_KEY), None);
}

#[test]
fn rows_without_the_dry_run_mark_keep_seven_elements() {
    let t = Trail::new();
    let first = t.entry(1, &json!({}));
    t.record(AuditEntry {
        dry_run: false,
        elicitation: None,
        ..first.clone()
    });
    t.record(AuditEntry {
        dry_run: true,
        ..first
    });
    let lens: Vec<usize> = t.file_rows().iter().map(Vec::len).collect();
    assert_eq!(lens, [7, 8]);
    assert_eq!(t.file_rows()[1][7], json!(true));
}

#[test]
fn unreadable_stored_trail_starts_over() {
    let t = Trail::new();
    t.store.set(LEGACY_KEY, "not json");
    assert!(t.recent(20).is_empty());
    t.record(t.entry(7, &json!({})));
    assert_eq!(t.recent(20).len(), 1);
    assert_eq!(t.store.get(LEGACY_KEY), None);
}

/// A crash in the middle of an append leaves a torn last line: it is skipped, and the file
/// rewritten without it before the next row could be glued onto it.
#[test]
fn a_torn_last_line_is_skipped_and_never_glued_to_the_next_row() {
    let t = Trail::new();
    t.record(t.entry(1, &json!({})));
    t.record(t.entry(2, &json!({})));
    let whole = t.file().unwrap();
    let torn = &whole[..whole.len() - 9];
    t.host.volume.borrow_mut().insert(FILE.into(), torn.into());
    let t2 = t.restarted();
    let tools = |t: &Trail| -> Vec<String> { t.recent(10).into_iter().map(|e| e.tool).collect() };
    assert_eq!(tools(&t2), ["tool_1"]);
    assert_eq!(t2.file_rows().len(), 1, "rewritten without the torn line");
    t2.record(t2.entry(3, &json!({})));
    assert_eq!(t2.file_rows().len(), 2, "every line parses");
    assert_eq!(tools(&t2.restarted()), ["tool_3", "tool_1"]);
}

/// A write that fails (disk full, permissions) is logged; the row is kept in memory and the
/// next row that can be written brings the file up to date.
#[test]
fn a_failed_write_is_logged_and_caught_up_by_the_next() {
    let t = Trail::new();
    t.record(t.entry(1, &json!({})));
    t.host.fail.borrow_mut().insert(
        "volumeAppend".into(),
        "ENOSPC: no space left on device, write".into(),
    );
    t.record(t.entry(2, &json!({})));
    let errors = t.errors_logged();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("ENOSPC") && errors[0].contains(FILE),
        "{}",
        errors[0]
    );
    assert_eq!(t.recent(10).len(), 2, "kept in memory");
    assert_eq!(t.file_rows().len(), 1);
    t.host.fail.borrow_mut().clear();
    t.record(t.entry(3, &json!({})));
    let tools: Vec<String> = t
        .restarted()
        .recent(10)
        .into_iter()
        .map(|e| e.tool)
        .collect();
    assert_eq!(tools, ["tool_3", "tool_2", "tool_1"]);
}

/// A file that cannot be read at start (EIO, permissions) may still hold the trail: it is
/// appended to, never rewritten from the rows in memory, so no earlier row is lost, even
/// when a later write fails (which, with the file read, brings it up to date by a rewrite).
#[test]
fn a_file_that_could_not_be_read_is_never_rewritten_over() {
    let t = Trail::new();
    for i in 1..=3 {
        t.record(t.entry(i, &json!({})));
    }
    let t = t.restarted();
    let fail = |method: &str, error: &str| {
        t.host.fail.borrow_mut().insert(method.into(), error.into());
    };
    fail("volumeRead", "EIO: i/o error, read");
    t.record(t.entry(4, &json!({})));
    fail("volumeAppend", "ENOSPC: no space left on device, write");
    t.record(t.entry(5, &json!({})));
    t.host.fail.borrow_mut().remove("volumeAppend");
    t.record(t.entry(6, &json!({})));
    assert!(
        t.errors_logged()[0].contains("EIO"),
        "{:?}",
        t.errors_logged()
    );
    t.host.fail.borrow_mut().clear();
    let tools: Vec<String> = t
        .restarted()
        .recent(10)
        .into_iter()
        .map(|e| e.tool)
        .collect();
    // tool_5 could be written nowhere: its loss is logged (ENOSPC), the others are all kept.
    assert_eq!(tools, ["tool_6", "tool_4", "tool_3", "tool_2", "tool_1"]);
}

#[test]
fn a_dry_run_is_audited_as_one_whatever_its_outcome() {
    let (plugin, _host, _store, _clock) = common::plugin();
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
    let got: Vec<(String, bool)> = audit::recent(&plugin.ctx, 10)
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
    let (plugin, host, store, clock) = common::plugin();
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

    let entries = audit::recent(&plugin.ctx, 10);
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
    let files = host.volume.borrow().clone();
    for (key, value) in store.snapshot().into_iter().chain(files) {
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
    let rows = audit::recent(&plugin.ctx, 3);
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
