//! Per-tool scopes in the legacy era (issue 9): a read-only token lists every tool, runs
//! every read tool, and gets HTTP 403 `insufficient_scope` on the others with nothing
//! changed on the host; stepping up (authorizing again with more) then succeeds.

use super::*;
use common::{CAMERA_ID, VIEWER_ID};
use scrypted_mcp::oauth::Scope;
use scrypted_mcp::tools::catalogue;

impl Server {
    /// A session whose token was authorized for `scope` only.
    fn scoped(&self, scope: &str) -> Client<'_> {
        let client_id = flow::register(&self.plugin, HOST);
        let tokens = flow::tokens_for(&self.plugin, HOST, &client_id, scope);
        let mut c = self.client_with(tokens);
        c.initialize(V06, json!({}));
        c
    }
}

/// Arguments each read tool answers successfully with on the demo server.
fn read_args(tool: &str) -> Value {
    match tool {
        "get_plugin_info" => json!({"plugin_id": "@scrypted/hue"}),
        "npm_info" => json!({"endpoint": "@scrypted/hue"}),
        "get_storage" | "get_device" => json!({"id": "12"}),
        "get_id_for_native_id" => json!({"plugin_id": "@scrypted/hue", "native_id": "hue-light-1"}),
        "get_camera_snapshot" => json!({"id": "12"}),
        "get_external_addresses" | "get_cors" => json!({"id": "@scrypted/core"}),
        _ => json!({}),
    }
}

/// One tool of each scope above read, with arguments that would change the host.
const HIGHER: [(&str, &str, Scope); 2] = [
    (
        "call_device_method",
        r#"{"id": "13", "method": "unlock", "args": []}"#,
        Scope::Control,
    ),
    ("set_dotenv", r#"{"text": "HACKED=1\n"}"#, Scope::Admin),
];

fn call_tool(c: &Client<'_>, id: i64, name: &str, args: Value) -> Reply {
    c.call(id, "tools/call", json!({"name": name, "arguments": args}))
}

#[test]
fn every_tool_is_listed_with_its_scope_in_the_description_and_meta() {
    let s = server();
    let c = s.scoped("scrypted:read");
    let listed = all_tools(&c);
    // Every tool (and the conformance fixtures' too when that feature is on).
    assert!(
        listed.len() >= catalogue().len(),
        "a read token lists every tool"
    );
    for def in catalogue() {
        let tool = listed.iter().find(|t| t["name"] == def.name).unwrap();
        let needs = format!("Needs OAuth scope {}.", def.scope.name());
        assert!(
            tool["description"].as_str().unwrap().ends_with(&needs),
            "{}: {}",
            def.name,
            tool["description"]
        );
        assert_eq!(
            tool["_meta"]["io.scrypted/scope"],
            def.scope.name(),
            "{}",
            def.name
        );
    }
}

#[test]
fn a_read_token_runs_every_read_tool() {
    let s = server();
    let c = s.scoped("scrypted:read");
    let reads: Vec<_> = catalogue()
        .iter()
        .filter(|d| d.scope == Scope::Read)
        .collect();
    assert!(reads.len() >= 18, "{} read tools", reads.len());
    for (i, def) in reads.iter().enumerate() {
        let reply = call_tool(&c, 10 + i as i64, def.name, read_args(def.name));
        assert_eq!(reply.status, 200, "{}: {reply:?}", def.name);
        let result = reply.result();
        assert_ne!(result["isError"], true, "{}: {result}", def.name);
    }
    assert_eq!(s.host.mutating_calls(), Vec::<String>::new());
}

#[test]
fn a_call_beyond_the_scope_is_403_insufficient_scope_runs_nothing_and_is_audited() {
    let s = server();
    let c = s.scoped("scrypted:read");
    for (i, (name, args, needed)) in HIGHER.iter().enumerate() {
        let before = s.store.snapshot();
        let reply = call_tool(&c, 50 + i as i64, name, serde_json::from_str(args).unwrap());
        assert_eq!(reply.status, 403, "{name}: {reply:?}");
        let challenge = reply.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with("Bearer error=\"insufficient_scope\""),
            "{challenge}"
        );
        assert!(
            challenge.contains(&format!("scope=\"{}\"", needed.name())),
            "{challenge}"
        );
        assert!(
            challenge.contains(&format!(
                "resource_metadata=\"http://{HOST}{}/.well-known/oauth-protected-resource\"",
                flow::ROOT
            )),
            "{challenge}"
        );
        let error = &reply.response()["error"];
        assert_eq!(reply.response()["id"], 50 + i as i64);
        assert!(
            error["message"].as_str().unwrap().contains(needed.name()),
            "{error}"
        );
        // Only the audit trail moved.
        let mut after = s.store.snapshot();
        let mut before = before;
        before.retain(|k, _| !k.starts_with("audit."));
        after.retain(|k, _| !k.starts_with("audit."));
        assert_eq!(before, after, "{name} stored nothing");
        let last = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
        assert_eq!(
            (last.tool.as_str(), last.outcome.as_str()),
            (*name, "refused")
        );
    }
    assert_eq!(s.host.mutating_calls(), Vec::<String>::new());
}

#[test]
fn a_batch_with_one_call_beyond_the_scope_is_refused_whole() {
    let s = server();
    let mut c = s.scoped("scrypted:read");
    // Batches exist only in 2025-03-26.
    c.initialize(V03, json!({}));
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_devices", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "clear_alerts", "arguments": {}}},
    ]);
    let reply = c.post(batch);
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply
        .header("www-authenticate")
        .unwrap()
        .contains("scope=\"scrypted:control\""));
    assert_eq!(
        s.host
            .call_names()
            .iter()
            .filter(|n| n.contains("Alert"))
            .count(),
        0
    );
    assert_eq!(s.host.mutating_calls(), Vec::<String>::new());
}

#[test]
fn control_runs_device_methods_but_not_admin_tools_and_step_up_then_succeeds() {
    let s = server();
    let c = s.scoped("scrypted:control");
    let unlock = call_tool(
        &c,
        1,
        "call_device_method",
        json!({"id": "13", "method": "unlock", "args": []}),
    );
    assert_eq!(unlock.status, 200, "{unlock:?}");
    assert_ne!(unlock.result()["isError"], true);
    let dotenv = call_tool(&c, 2, "set_dotenv", json!({"text": "A=1\n"}));
    assert_eq!(dotenv.status, 403);
    // Step up: the same client authorizes again for admin and retries.
    let tokens = flow::tokens_for(
        &s.plugin,
        HOST,
        &c.client_id,
        "scrypted:read scrypted:control scrypted:admin",
    );
    let mut admin = Client {
        token: tokens.access_token,
        session: None,
        version: None,
        ..c
    };
    admin.initialize(V06, json!({}));
    let retried = call_tool(&admin, 3, "set_dotenv", json!({"text": "A=1\n"}));
    assert_eq!(retried.status, 200, "{retried:?}");
    assert_ne!(retried.result()["isError"], true, "{retried:?}");
    let writes = s.host.mutating_calls();
    assert!(
        writes.iter().any(|n| n.to_lowercase().contains("dotenv")),
        "{writes:?}"
    );
}

#[test]
fn scopes_follow_what_a_tool_can_change_and_the_readme_table_is_the_code() {
    for def in catalogue() {
        // Read is exactly the read-only tools, except the backup, which holds every secret.
        let expect_read = def.hints.read_only && def.name != "create_backup";
        assert_eq!(def.scope == Scope::Read, expect_read, "{}", def.name);
    }
    let readme = include_str!("../../README.md");
    for scope in Scope::ALL {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", scope.name())))
            .unwrap_or_else(|| panic!("README has no row for {}", scope.name()));
        let tools_cell = row.trim_end_matches('|').rsplit('|').next().unwrap();
        let listed: Vec<&str> = tools_cell
            .split(',')
            .map(|t| t.trim().trim_matches('`'))
            .collect();
        let coded: Vec<&str> = catalogue()
            .iter()
            .filter(|d| d.scope == scope)
            .map(|d| d.name)
            .collect();
        assert_eq!(listed, coded, "README row of {}", scope.name());
    }
}

#[test]
fn security_review_with_a_read_only_token_runs_only_tools_that_token_may_call() {
    let s = server();
    let c = s.scoped("scrypted:read");
    let reply = c.call(
        9,
        "prompts/get",
        json!({"name": "security_review", "arguments": {}}),
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let text = reply.result()["messages"][0]["content"]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("SCRYPTED_ADMIN_TOKEN"),
        "the secret names are there"
    );
    assert!(
        !text.contains("skipped"),
        "every check it makes is within read: {text}"
    );
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 50);
    assert!(!trail.is_empty());
    for entry in trail {
        let def = catalogue().iter().find(|d| d.name == entry.tool).unwrap();
        assert_eq!(def.scope, Scope::Read, "{} is read", entry.tool);
        assert_eq!(entry.outcome, "ok", "{}", entry.tool);
    }
}

/// Read's words on the consent page are "Secrets stay redacted": get_storage is read, but its
/// reveal_secrets needs admin, so a read (or control) token gets the refusal, not the secret.
#[test]
fn revealing_stored_secrets_needs_an_admin_token() {
    let s = server();
    let password = s.host.devices.borrow()[CAMERA_ID].storage["password"].clone();
    for scope in ["scrypted:read", "scrypted:read scrypted:control"] {
        let c = s.scoped(scope);
        let reply = call_tool(
            &c,
            1,
            "get_storage",
            json!({"id": CAMERA_ID, "reveal_secrets": true}),
        );
        let result = reply.result();
        assert_eq!(result["isError"], true, "{scope}: {result}");
        assert!(!result.to_string().contains(&password), "{scope}: {result}");
        assert!(
            result
                .to_string()
                .contains("needs OAuth scope scrypted:admin"),
            "{scope}: {result}"
        );
        let redacted = call_tool(&c, 2, "get_storage", json!({"id": CAMERA_ID})).result();
        assert_eq!(
            redacted["structuredContent"]["storage"]["password"],
            "[REDACTED]"
        );
    }
    let c = s.scoped("scrypted:read scrypted:control scrypted:admin");
    let reply = call_tool(
        &c,
        3,
        "get_storage",
        json!({"id": CAMERA_ID, "reveal_secrets": true}),
    );
    assert_eq!(
        reply.result()["structuredContent"]["storage"]["password"],
        password
    );
}

/// A control token cannot make itself an admin through a device: core's Users provider makes
/// admins (plugins/core/src/user.ts createDevice), and a user's device stores that user's
/// access settings.
#[test]
fn a_control_token_cannot_administer_accounts_through_devices() {
    let s = server();
    let c = s.scoped("scrypted:read scrypted:control");
    let reply = call_tool(
        &c,
        1,
        "call_device_method",
        json!({"id": "2", "method": "createDevice",
               "args": [{"username": "mallory", "password": "correct-horse", "admin": true}]}),
    );
    assert_eq!(reply.result()["isError"], true, "{:?}", reply.result());
    let reply = call_tool(
        &c,
        2,
        "set_storage",
        json!({"id": VIEWER_ID, "storage": {"acl": "all"}, "merge": true}),
    );
    assert_eq!(reply.result()["isError"], true, "{:?}", reply.result());
    assert!(!s
        .host
        .users
        .borrow()
        .iter()
        .any(|u| u.username == "mallory"));
    assert!(!s.host.devices.borrow()[VIEWER_ID]
        .storage
        .contains_key("acl"));
    // Audited as a refusal at the door is: the scope, not the call, failed.
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 2);
    let outcomes: Vec<(&str, &str)> = trail
        .iter()
        .map(|e| (e.tool.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("set_storage", "refused"),
            ("call_device_method", "refused")
        ],
        "{trail:?}"
    );
}

/// A long call stops before its next step once the sign-in behind it no longer allows the
/// tool: here install_plugin's npm install is held while its user stops being an admin
/// (which ends their grants), or while the admin lowers the app to control in Settings.
/// The answer says so, the audit says `refused`, and nothing after the install runs.
#[test]
fn a_long_call_stops_at_its_next_step_once_its_sign_in_no_longer_allows_it() {
    use futures::FutureExt;
    for lowered in [false, true] {
        let s = server();
        let mut c = s.session(V11, json!({}));
        c.accept = "application/json";
        s.host.hold("installNpm");
        let install = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "install_plugin", "arguments": {"package": "@scrypted/ring"}}});
        let plugin = s.plugin.clone();
        let req = c.request("POST", Some(install.to_string()));
        let mut answer = async move { plugin.handle(req).await }.boxed_local();
        assert!(
            (&mut answer).now_or_never().is_none(),
            "held at the install"
        );
        if lowered {
            let key = format!("scope:{}", c.client_id);
            block_on(s.plugin.put_setting(&key, json!("scrypted:control"))).unwrap();
        } else {
            assert_eq!(
                scrypted_mcp::oauth::revoke_subject(&s.plugin.ctx, "admin"),
                1
            );
        }
        let before = s.host.calls_of("idForPluginId").len();
        s.host.release("installNpm");
        let reply = read(block_on(answer));
        let result = reply.result();
        assert_eq!(result["isError"], true, "lowered {lowered}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(
            text.starts_with("install_plugin stopped before its next step"),
            "{text}"
        );
        assert_eq!(
            s.host.calls_of("idForPluginId").len(),
            before,
            "nothing after the install ran"
        );
        let audited = scrypted_mcp::audit::recent(&s.plugin.ctx, 5);
        let last = audited
            .iter()
            .rfind(|e| e.tool == "install_plugin")
            .unwrap();
        assert_eq!(last.outcome, "refused");
    }
}

/// A host's error message can quote a credential (a camera's snapshot URL with its
/// password): the tool's error, as the client gets it, shows the rest of the message only.
#[test]
fn a_host_error_reaches_the_client_without_the_credentials_it_quotes() {
    let s = server();
    let c = s.scoped("scrypted:read");
    s.host.fail_with(
        "takePicture",
        "request to http://admin:hunter2@10.0.0.5/cgi-bin/snapshot.cgi failed, reason: connect ECONNREFUSED",
    );
    s.host
        .fail_with("getStorage", "bad url rtsp://admin:hunter2@x");
    for (id, tool, args) in [
        (7, "get_camera_snapshot", json!({"id": "12"})),
        (8, "get_storage", json!({"id": "12"})),
    ] {
        let result = call_tool(&c, id, tool, args).result();
        assert_eq!(result["isError"], true, "{tool}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(!text.contains("hunter2"), "{tool}: {text}");
        assert!(text.contains("admin:[REDACTED]@"), "{tool}: {text}");
    }
}
