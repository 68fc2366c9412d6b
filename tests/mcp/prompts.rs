//! The prompts: each gathers real evidence from the demo server through read-only tools run
//! for the caller (audited like tools/call), names real ids, never shows a secret value,
//! and completes its arguments.

use super::*;
use scrypted_mcp::mcp::prompts::PROMPT_TOOLS;

/// Every secret value of the demo data (js-shim/dev/demo.json): storage, env, .env, users.
const DEMO_SECRETS: &[&str] = &[
    "hue-app-key-SECRET-abc123",
    "hue-secret-token-0000",
    "camera-PASSWORD-xyz",
    "0102030405060708090a0b0c0d0e0f10",
    "adm-TOKEN-5f1e9c",
    "cluster-SECRET-77aa",
    "webhook-AUTH-0042",
    "mqtt PASSWORD 9",
    "admin-password",
    "user-token-admin-6f1d2c9b8a",
];

/// The text of a prompt's only message, after checking the message is well formed.
fn prompt_text(c: &Client<'_>, id: i64, name: &str, arguments: Value) -> String {
    let got = c
        .call(
            id,
            "prompts/get",
            json!({"name": name, "arguments": arguments}),
        )
        .result();
    let messages = got["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{got}");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"]["type"], "text");
    assert!(got["description"].is_string(), "{got}");
    let text = messages[0]["content"]["text"].as_str().unwrap().to_string();
    for secret in DEMO_SECRETS {
        assert!(!text.contains(secret), "{name} shows the secret {secret:?}");
    }
    text
}

fn contains_all(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "missing {w:?} in:\n{text}");
    }
}

/// The tools the audit trail saw, oldest first.
fn audited_tools(s: &Server) -> Vec<String> {
    let mut tools: Vec<String> = scrypted_mcp::audit::recent(&s.plugin.ctx, 200)
        .into_iter()
        .map(|e| e.tool)
        .collect();
    tools.reverse();
    tools
}

#[test]
fn the_prompts_are_listed_with_their_arguments() {
    let s = server();
    let c = s.session(V11, json!({}));
    let list = c.call(1, "prompts/list", json!({})).result();
    let prompts = list["prompts"].as_array().unwrap();
    let args = |name: &str| {
        let p = prompts.iter().find(|p| p["name"] == name).unwrap();
        assert!(
            p["description"].is_string() && p["title"].is_string(),
            "{p}"
        );
        p["arguments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| {
                        (
                            x["name"].as_str().unwrap().to_string(),
                            x["required"] == true,
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(args("diagnose_plugin"), [("plugin_id".to_string(), true)]);
    assert_eq!(args("health_report"), [("focus".to_string(), false)]);
    assert_eq!(args("security_review"), [("area".to_string(), false)]);
    assert_eq!(args("review_recent_tool_calls"), []);
}

#[test]
fn diagnose_plugin_shows_its_process_devices_logs_alerts_and_storage_keys() {
    let s = server();
    let c = s.session(V11, json!({}));
    let text = prompt_text(
        &c,
        1,
        "diagnose_plugin",
        json!({"plugin_id": "@scrypted/zwave"}),
    );
    contains_all(
        &text,
        &[
            "@scrypted/zwave",
            "device id is 6",
            "\"pid\": 4006",
            "Front Door Lock",
            "\"13\"",
            "node 9 not responding",
            "alert-1",
            "alert-2",
            "\"networkKey\": \"set, secret-looking name\"",
            "Checklist",
        ],
    );
    // Storage values stay out, even of keys whose name does not look secret.
    let hue = prompt_text(
        &c,
        2,
        "diagnose_plugin",
        json!({"plugin_id": "@scrypted/hue"}),
    );
    contains_all(
        &hue,
        &[
            "\"bridgeUsername\": \"set\"",
            "\"api-token\": \"set, secret-looking name\"",
        ],
    );
    assert!(
        hue.contains("\"bridgeAddress\": \"set\""),
        "not even a plain value: {hue}"
    );
    // Another plugin's evidence stays out.
    assert!(!text.contains("rtsp stream stalled"), "{text}");
    assert!(!text.contains("polling bridge"), "{text}");
    let once = [
        "get_plugin_info",
        "list_devices",
        "get_logs",
        "list_alerts",
        "get_storage",
    ];
    assert_eq!(audited_tools(&s), [once, once].concat());
}

#[test]
fn diagnose_plugin_needs_an_installed_plugin() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.call(1, "prompts/get", json!({"name": "diagnose_plugin"}));
    assert_eq!(reply.error_code(), -32602);
    assert!(reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("needs plugin_id"));
    let reply = c.call(
        2,
        "prompts/get",
        json!({"name": "diagnose_plugin", "arguments": {"plugin_id": "@scrypted/nope"}}),
    );
    assert_eq!(reply.error_code(), -32602);
    let message = reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with(
            "No installed plugin '@scrypted/nope'. Installed: @scrypted/amcrest, @scrypted/core,"
        ),
        "{message}"
    );
    assert!(audited_tools(&s).is_empty(), "nothing ran");
}

#[test]
fn health_report_covers_server_plugins_devices_alerts_and_cluster() {
    let s = server();
    let c = s.session(V11, json!({}));
    let text = prompt_text(&c, 1, "health_report", json!({}));
    contains_all(
        &text,
        &[
            "0.144.2",
            "@scrypted/hue",
            "@scrypted/homekit",
            "Kitchen Light",
            "alert-1",
            "battery low: 20%",
            "failed to fetch snapshot: timeout",
            "Cluster workers",
            "get_recent_events",
        ],
    );
    assert!(
        !text.contains("heal network step"),
        "verbose entries are left out"
    );
    let cluster = prompt_text(&c, 2, "health_report", json!({"focus": "cluster"}));
    assert!(
        cluster.contains("Cluster workers") && !cluster.contains("@scrypted/hue"),
        "{cluster}"
    );
    let reply = c.call(
        3,
        "prompts/get",
        json!({"name": "health_report", "arguments": {"focus": "bogus"}}),
    );
    assert_eq!(reply.error_code(), -32602);
}

#[test]
fn security_review_names_admins_secret_names_exposure_and_connected_apps() {
    let s = server();
    let c = s.session(V11, json!({}));
    let text = prompt_text(&c, 1, "security_review", json!({}));
    contains_all(
        &text,
        &[
            "\"username\": \"admin\"",
            "\"admin\": true",
            "SCRYPTED_ADMIN_TOKEN",
            "SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION",
            "MQTT_PASSWORD",
            "https://scrypted.home.example.org",
            "https://dashboard.home.example.org",
            &c.client_id,
            "scrypted:admin",
        ],
    );
    let apps = prompt_text(&c, 2, "security_review", json!({"area": "apps"}));
    assert!(
        apps.contains(&c.client_id) && !apps.contains("MQTT_PASSWORD"),
        "{apps}"
    );
}

#[test]
fn every_tool_a_prompt_runs_is_read_only() {
    let s = server();
    let c = s.session(V11, json!({}));
    prompt_text(
        &c,
        1,
        "diagnose_plugin",
        json!({"plugin_id": "@scrypted/hue"}),
    );
    prompt_text(&c, 2, "health_report", json!({}));
    prompt_text(&c, 3, "security_review", json!({}));
    let ran = audited_tools(&s);
    for tool in &ran {
        assert!(
            PROMPT_TOOLS.contains(&tool.as_str()),
            "{tool} is not in PROMPT_TOOLS"
        );
    }
    for name in PROMPT_TOOLS {
        let def = scrypted_mcp::tools::catalogue()
            .iter()
            .find(|t| t.name == name)
            .unwrap();
        assert!(def.hints.read_only && !def.hints.destructive, "{name}");
        assert!(
            ran.iter().any(|t| t == name),
            "{name} is listed but never run"
        );
    }
}

#[test]
fn completion_offers_installed_plugins_and_the_fixed_choices() {
    let s = server();
    let c = s.session(V11, json!({}));
    let complete = |id: i64, prompt: &str, argument: &str, value: &str| {
        c.call(
            id,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": prompt},
                   "argument": {"name": argument, "value": value}}),
        )
        .result()["completion"]["values"]
            .clone()
    };
    assert_eq!(
        complete(1, "diagnose_plugin", "plugin_id", "@scrypted/h"),
        json!(["@scrypted/homekit", "@scrypted/hue"])
    );
    assert_eq!(
        complete(2, "diagnose_plugin", "plugin_id", "SCRY"),
        json!(["scrypted-mcp"])
    );
    assert_eq!(
        complete(3, "health_report", "focus", "c"),
        json!(["cluster"])
    );
    assert_eq!(
        complete(4, "security_review", "area", ""),
        json!(["all", "users", "secrets", "network", "apps"])
    );
    assert_eq!(complete(5, "review_recent_tool_calls", "x", ""), json!([]));
    let reply = c.call(
        6,
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}}),
    );
    assert_eq!(reply.error_code(), -32602);
}
