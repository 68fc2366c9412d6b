//! The bridge, tested at the boundary:
//! - the shared host-behaviour cases (tests/host-cases.json) against the Rust fake bridge
//!   (the same cases run against the dev host through the real host.js in
//!   tests/js/host-cases.test.mjs);
//! - the typed host API sends every `host.js` entry and notice exactly the JSON `host.js`
//!   reads, and the list of names is read from js-shim/host.js, so none is forgotten;
//! - the ids the tests name are the demo data's.
// The list of every host.js entry below is one json! literal, longer than serde_json's
// macro expands within the default limit.
#![recursion_limit = "256"]

mod common;

use common::*;
use futures::executor::block_on;
use scrypted_mcp::host::{Bridge, Deferred, DeviceLogger, Host, LogLevel};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

const CASES: &str = include_str!("host-cases.json");
const HOST_JS: &str = include_str!("../js-shim/host.js");

// ---------------------------------------------------------------- the shared cases

/// Numbers compare by value (the fake answers 1.0 where JavaScript has 1).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// `match`: objects need the pattern's members (null = null or absent), arrays the same
/// length element by element, anything else the same value.
fn matches(pattern: &Value, actual: Option<&Value>) -> bool {
    match (pattern, actual) {
        (Value::Null, None | Some(Value::Null)) => true,
        (Value::Object(p), Some(Value::Object(a))) => p.iter().all(|(k, v)| matches(v, a.get(k))),
        (Value::Array(p), Some(Value::Array(a))) => {
            p.len() == a.len() && p.iter().zip(a).all(|(p, a)| matches(p, Some(a)))
        }
        (p, Some(a)) => same(p, a),
        _ => false,
    }
}

/// `{format, width, height}` of picture bytes, from their header (tests/js/helpers/picture.mjs
/// reads the same independently).
fn picture_info(bytes: &[u8]) -> Value {
    let format = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "png"
    } else {
        "unknown"
    };
    let size = imagesize::blob_size(bytes).ok();
    json!({"format": format, "width": size.map(|s| s.width), "height": size.map(|s| s.height)})
}

/// What is wrong with one step's outcome, if anything.
fn check(step: &Value, outcome: &Result<Value, String>) -> Option<String> {
    let answer = match (outcome, step.get("error")) {
        (Err(m), Some(pattern)) => {
            let re = regex_lite::Regex::new(pattern.as_str().unwrap()).unwrap();
            return (!re.is_match(m)).then(|| format!("error {m:?} does not match {pattern}"));
        }
        (Err(m), None) => return Some(format!("failed: {m:?}")),
        (Ok(v), Some(_)) => return Some(format!("answered {v} where an error was expected")),
        (Ok(v), None) => v,
    };
    if let Some(r) = step.get("result").filter(|r| !same(r, answer)) {
        return Some(format!("answered {answer}, expected {r}"));
    }
    if let Some(m) = step.get("match").filter(|m| !matches(m, Some(answer))) {
        return Some(format!("answered {answer}, which does not match {m}"));
    }
    let list = answer.as_array();
    if let Some(n) = step.get("length") {
        if list.map(Vec::len) != n.as_u64().map(|n| n as usize) {
            return Some(format!("answered {answer}, expected {n} entries"));
        }
    }
    if let Some(e) = step.get("each") {
        if !list.is_some_and(|l| l.iter().all(|x| matches(e, Some(x)))) {
            return Some(format!("answered {answer}, not every entry matches {e}"));
        }
    }
    if let Some(expected) = step.get("picture") {
        let bytes = scrypted_mcp::crypto::b64_decode(answer["data"].as_str().unwrap_or_default())
            .unwrap_or_default();
        let mut got = picture_info(&bytes);
        got["mimeType"] = answer["mimeType"].clone();
        if !matches(expected, Some(&got)) {
            return Some(format!("answered a picture {got}, expected {expected}"));
        }
    }
    if let Some(p) = step.get("pattern") {
        let re = regex_lite::Regex::new(p.as_str().unwrap()).unwrap();
        if !answer.as_str().is_some_and(|s| re.is_match(s)) {
            return Some(format!("answered {answer}, which does not match /{p}/"));
        }
    }
    None
}

/// A zip with no entries: only its end-of-central-directory record, base64.
const EMPTY_ZIP: &str = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==";
#[test]
fn every_host_behaviour_case_holds_for_the_fake_bridge() {
    let cases: Value = serde_json::from_str(CASES).unwrap();
    let mut failures = Vec::new();
    let mut steps = 0;
    for case in cases["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut data = demo();
        if let Some(given) = case.get("given") {
            merge_patch(&mut data, given);
        }
        let bridge = FakeBridge::from_demo(&data, NOW_MS);
        let received = Rc::new(RefCell::new(Vec::new()));
        let sink = received.clone();
        bridge.listen(move |event| sink.borrow_mut().push(event));
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            steps += 1;
            if let Some(ms) = step.get("advanceMs").and_then(Value::as_u64) {
                bridge.advance(ms);
                continue;
            }
            let method = step["call"].as_str().unwrap();
            let mut outcome = block_on(bridge.call(method, step["args"].clone()));
            let fired = Value::Array(received.borrow_mut().drain(..).collect());
            let problem = match step.get("events") {
                Some(expected) if !matches(expected, Some(&fired)) => {
                    Some(format!("events {fired} do not match {expected}"))
                }
                _ => check(step, &outcome),
            };
            if let Some(problem) = problem {
                failures.push(format!("{name}, step {} ({method}): {problem}", i + 1));
                break;
            }
            // The caller's copy changes; the server's must not (the RPC-copy case).
            if let (Ok(answer), Some(edit)) = (&mut outcome, step.get("edit")) {
                merge_patch(answer, edit);
            }
        }
    }
    assert!(steps > 100, "the table has its steps ({steps})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------- every host.js name

/// The member names of `const <table> = { ... };` in js-shim/host.js.
fn host_js_names(table: &str) -> BTreeSet<String> {
    let start = HOST_JS
        .find(&format!("const {table} = {{"))
        .unwrap_or_else(|| panic!("host.js has no `const {table}`"));
    let body = &HOST_JS[start..];
    let body = &body[..body.find("\n  };").expect("the table ends")];
    body.lines()
        .filter_map(|l| {
            let l = l.strip_prefix("    ")?;
            let (name, rest) = l.split_once(':')?;
            let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric());
            (is_name && rest.starts_with(' ')).then(|| name.to_string())
        })
        .collect()
}

/// Recorded (method, args) as `[[method, args], ...]`.
fn pairs(recorded: &std::cell::RefCell<Vec<(String, Value)>>) -> Value {
    recorded
        .borrow()
        .iter()
        .map(|(m, a)| json!([m, a]))
        .collect()
}

#[test]
fn the_typed_api_sends_every_host_js_entry_and_notice_the_json_it_reads() {
    let bridge = Rc::new(FakeBridge::new(NOW_MS));
    let host = Host::new(bridge.clone());
    let storage: BTreeMap<String, String> = [("k".to_string(), "v".to_string())].into();
    let _ = block_on(async {
        (
            host.ip_address().await,
            host.server_ports().await,
            host.endpoint_path().await,
            host.network_addresses().await,
            host.system_state().await,
            host.device_states(&[CAMERA_ID, "404"], &["name"]).await,
            host.device_info(CAMERA_ID).await,
            host.call_device_method(LIGHT_ID, "setBrightness", vec![json!(30)])
                .await,
            host.remove_device(DOOR_ID).await,
            host.take_picture(CAMERA_ID, 640, 10_000).await,
            host.package_json("@scrypted/hue").await,
            host.plugin_info("@scrypted/hue").await,
            host.reload_plugin("@scrypted/hue").await,
            host.kill_plugin("@scrypted/amcrest").await,
        )
    });
    let _ = block_on(async {
        (
            host.install_npm("@scrypted/ring", Some("0.0.160")).await,
            host.install_npm("@scrypted/unifi-protect", None).await,
            host.update_plugins().await,
            host.npm_info("@scrypted/hue").await,
            host.rename_device_id(THERMO_ID, "140").await,
            host.set_mixins(CAMERA_ID, vec![HOMEKIT_ID.into()]).await,
            host.get_storage(LOCK_ID).await,
            host.set_storage(LOCK_ID, storage).await,
            host.id_for_plugin_id("@scrypted/core").await,
            host.id_for_native_id("@scrypted/core", "users").await,
            host.disconnect_clients("@scrypted/core").await,
            host.clear_console(CAMERA_ID).await,
        )
    });
    let _ = block_on(async {
        (
            host.logs(None).await,
            host.logs(Some(DeviceLogger {
                id: CAMERA_ID,
                name: "Front Door Camera",
            }))
            .await,
            host.clear_logs(Some(DeviceLogger {
                id: LOCK_ID,
                name: "Front Door Lock",
            }))
            .await,
            host.clear_logs(None).await,
            host.alerts().await,
            host.remove_alert("alert-1").await,
            host.clear_alerts().await,
            host.server_version().await,
            host.scrypted_env().await,
            host.dotenv().await,
            host.set_dotenv("TZ=UTC\n").await,
        )
    });
    let _ = block_on(async {
        (
            host.users().await,
            host.add_user("u1", "pw", None).await,
            host.add_user("u2", "pw", Some(VIEWER_ID)).await,
            host.remove_user("u1").await,
            host.local_addresses().await,
            host.saved_local_addresses().await,
            host.set_local_addresses(vec!["eth0".into()]).await,
            host.external_addresses(CAMERA_ID).await,
            host.set_external_addresses(CAMERA_ID, vec!["cam.example.com".into()])
                .await,
            host.cors(SELF_PLUGIN).await,
            host.set_cors(SELF_PLUGIN, vec!["https://claude.ai".into()])
                .await,
            host.cluster_workers().await,
            host.create_backup().await,
            host.backup_entries(EMPTY_ZIP).await,
            host.resolve_host("app.example", 5000).await,
            host.https_get(
                "https://app.example/client.json",
                "93.184.215.14".parse().unwrap(),
                5120,
                4000,
            )
            .await,
        )
    });
    for action in [
        Deferred::RestartServer,
        Deferred::UpdateServer,
        Deferred::ReloadPlugin {
            plugin_id: SELF_PLUGIN.into(),
        },
        Deferred::RestoreBackup {
            data: "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==".into(),
        },
        Deferred::UpdatePlugins,
    ] {
        host.defer(1500, action);
    }
    host.log(LogLevel::Warn, "careful");
    host.settings_changed();

    let expected = json!([
        ["ipAddress", {}],
        ["serverPorts", {}],
        ["endpointPath", {}],
        ["networkAddresses", {}],
        ["systemState", {}],
        ["deviceStates", {"ids": ["12", "404"], "props": ["name"]}],
        ["deviceInfo", {"id": "12"}],
        ["callDeviceMethod", {"id": "10", "method": "setBrightness", "args": [30]}],
        ["removeDevice", {"id": "15"}],
        ["takePicture", {"id": "12", "width": 640, "timeoutMs": 10000}],
        ["packageJson", {"pluginId": "@scrypted/hue"}],
        ["pluginInfo", {"pluginId": "@scrypted/hue"}],
        ["reloadPlugin", {"pluginId": "@scrypted/hue"}],
        ["killPlugin", {"pluginId": "@scrypted/amcrest"}],
        ["installNpm", {"package": "@scrypted/ring", "version": "0.0.160"}],
        ["installNpm", {"package": "@scrypted/unifi-protect", "version": null}],
        ["updatePlugins", {}],
        ["npmInfo", {"endpoint": "@scrypted/hue"}],
        ["renameDeviceId", {"id": "14", "newId": "140"}],
        ["setMixins", {"id": "12", "mixins": ["7"]}],
        ["getStorage", {"id": "13"}],
        ["setStorage", {"id": "13", "storage": {"k": "v"}}],
        ["idForPluginId", {"pluginId": "@scrypted/core"}],
        ["idForNativeId", {"pluginId": "@scrypted/core", "nativeId": "users"}],
        ["disconnectClients", {"pluginId": "@scrypted/core"}],
        ["clearConsole", {"id": "12"}],
        ["logs", {"path": []}],
        ["logs", {"path": ["device", "12"], "titles": ["Devices", "Front Door Camera"]}],
        ["clearLogs", {"path": ["device", "13"], "titles": ["Devices", "Front Door Lock"]}],
        ["clearLogs", {"path": []}],
        ["alerts", {}],
        ["removeAlert", {"id": "alert-1"}],
        ["clearAlerts", {}],
        ["serverVersion", {}],
        ["scryptedEnv", {}],
        ["dotEnv", {}],
        ["setDotEnv", {"text": "TZ=UTC\n"}],
        ["users", {}],
        ["addUser", {"username": "u1", "password": "pw", "aclId": null}],
        ["addUser", {"username": "u2", "password": "pw", "aclId": "20"}],
        ["removeUser", {"username": "u1"}],
        ["localAddresses", {}],
        ["savedLocalAddresses", {}],
        ["setLocalAddresses", {"addresses": ["eth0"]}],
        ["externalAddresses", {"id": "12"}],
        ["setExternalAddresses", {"id": "12", "addresses": ["cam.example.com"]}],
        ["cors", {"id": "scrypted-mcp"}],
        ["setCors", {"id": "scrypted-mcp", "origins": ["https://claude.ai"]}],
        ["clusterWorkers", {}],
        ["createBackup", {}],
        ["backupEntries", {"data": EMPTY_ZIP}],
        ["resolveHost", {"host": "app.example", "timeoutMs": 5000}],
        ["httpsGet", {"url": "https://app.example/client.json", "address": "93.184.215.14", "maxBytes": 5120, "timeoutMs": 4000}],
    ]);
    assert_eq!(pairs(&bridge.calls), expected);

    let deferred =
        |method: &str, args: Value| json!({"delayMs": 1500, "method": method, "args": args});
    assert_eq!(
        pairs(&bridge.notices),
        json!([
            ["defer", deferred("restartServer", json!({}))],
            ["defer", deferred("updateServer", json!({}))],
            ["defer", deferred("reloadPlugin", json!({"pluginId": "scrypted-mcp"}))],
            ["defer", deferred("restoreBackup", json!({"data": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}))],
            ["defer", deferred("updatePlugins", json!({}))],
            ["log", {"level": "warn", "message": "[scrypted-mcp] careful"}],
            ["settingsChanged", {}],
        ])
    );

    // Every entry of host.js is sent (directly, or as a deferred action), and nothing else.
    let mut sent: BTreeSet<String> = bridge.call_names().into_iter().collect();
    sent.extend(
        bridge
            .deferred()
            .iter()
            .map(|d| d["method"].as_str().unwrap().to_string()),
    );
    assert_eq!(sent, host_js_names("entries"));
    let noticed: BTreeSet<String> = bridge
        .notices
        .borrow()
        .iter()
        .map(|(m, _)| m.clone())
        .collect();
    assert_eq!(noticed, host_js_names("notices"));
}

#[test]
fn every_deferred_action_is_an_entry_the_fake_runs() {
    let bridge = Rc::new(FakeBridge::new(NOW_MS));
    let host = Host::new(bridge.clone());
    host.defer(
        1500,
        Deferred::RestoreBackup {
            data: scrypted_mcp::crypto::b64(&fake::demo_backup_bytes()),
        },
    );
    host.defer(
        1500,
        Deferred::ReloadPlugin {
            plugin_id: "@scrypted/hue".into(),
        },
    );
    assert!(
        bridge.calls.borrow().is_empty(),
        "nothing runs before the timer"
    );
    assert_eq!(bridge.run_deferred(), [Ok(Value::Null), Ok(Value::Null)]);
    assert_eq!(bridge.restored.borrow().len(), 1);
    assert_ne!(bridge.plugins.borrow()["@scrypted/hue"].pid, Some(4004));
}

// ---------------------------------------------------------------- the demo data

#[test]
fn the_ids_the_tests_name_are_the_demo_datas() {
    let bridge = FakeBridge::new(NOW_MS);
    let devices = bridge.devices.borrow();
    for (id, plugin, native) in [
        (CORE_ID, "@scrypted/core", None),
        (SELF_ID, SELF_PLUGIN, None),
        (HUE_ID, "@scrypted/hue", None),
        (AMCREST_ID, "@scrypted/amcrest", None),
        (ZWAVE_ID, "@scrypted/zwave", None),
        (HOMEKIT_ID, "@scrypted/homekit", None),
        (LIGHT_ID, "@scrypted/hue", Some("hue-light-1")),
        (LAMP_ID, "@scrypted/hue", Some("hue-light-2")),
        (CAMERA_ID, "@scrypted/amcrest", Some("amcrest-front")),
        (LOCK_ID, "@scrypted/zwave", Some("zwave-5")),
        (THERMO_ID, "@scrypted/zwave", Some("zwave-7")),
        (DOOR_ID, "@scrypted/zwave", Some("zwave-9")),
        (VIEWER_ID, "@scrypted/core", Some("user:viewer")),
    ] {
        let d = &devices[id];
        assert_eq!(
            (d.plugin_id.as_str(), d.native_id.as_deref()),
            (plugin, native),
            "{id}"
        );
    }
    let viewer = bridge.users.borrow()[1].clone();
    assert_eq!(
        (viewer.username.as_str(), viewer.acl_id.as_deref()),
        ("viewer", Some(VIEWER_ID))
    );
}
