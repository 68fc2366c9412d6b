//! The tool catalogue against the fake host: each tool's logic, quirks and error paths,
//! asserted on what reached the (fake) Scrypted server.

mod common;
#[path = "common/flow.rs"]
mod flow;

use common::*;
use futures::executor::block_on;
use scrypted_mcp::crypto;
use scrypted_mcp::store::Store;
use scrypted_mcp::tools::{catalogue, Caller, Elicited, ToolContext, ToolError, ToolOutput};
use serde_json::{json, Map, Value};
use std::rc::Rc;

// ---------------------------------------------------------------- harness

struct H {
    plugin: scrypted_mcp::Plugin,
    host: Rc<FakeBridge>,
    store: Rc<scrypted_mcp::store::MemStore>,
    clock: Rc<scrypted_mcp::clock::FixedClock>,
    peer: Rc<FakePeer>,
    caller: Caller,
}

impl H {
    fn new() -> H {
        Self::with_peer(FakePeer::new(false))
    }

    fn with_peer(peer: FakePeer) -> H {
        let (plugin, host, store, clock) = plugin();
        H {
            plugin,
            host,
            store,
            clock,
            peer: Rc::new(peer),
            caller: admin_caller(),
        }
    }

    fn call(&self, name: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let def = catalogue()
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tool {name}"));
        let tc = Rc::new(ToolContext {
            ctx: self.plugin.ctx.clone(),
            caller: self.caller.clone(),
            peer: self.peer.clone(),
        });
        let result = block_on((def.run)(tc, args));
        if let Ok(out) = &result {
            let schema = Value::Object(def.output_schema());
            if let Err(e) = validate(&schema, &out.structured, "$") {
                panic!(
                    "{name}: result does not match its output schema: {e}\n{}",
                    out.structured
                );
            }
        }
        result
    }

    /// A successful call's structuredContent.
    fn ok(&self, name: &str, args: Value) -> Value {
        match self.call(name, args) {
            Ok(out) => out.structured,
            Err(e) => panic!("{name} failed: {e:?}"),
        }
    }

    /// A refused / failed call's message.
    fn failed(&self, name: &str, args: Value) -> String {
        match self.call(name, args) {
            Err(ToolError::Failed(m)) => m,
            other => panic!("{name}: expected Failed, got {other:?}"),
        }
    }

    /// Asserts the call fails with a message that contains `says`.
    fn fails_saying(&self, name: &str, args: Value, says: &str) {
        let msg = self.failed(name, args);
        assert!(msg.contains(says), "{name}: {msg:?} does not say {says:?}");
    }

    fn invalid(&self, name: &str, args: Value) -> String {
        match self.call(name, args) {
            Err(ToolError::InvalidParams(m)) => m,
            other => panic!("{name}: expected InvalidParams, got {other:?}"),
        }
    }

    fn mutations(&self) -> Vec<String> {
        self.host.mutating_calls()
    }

    /// Makes the host's `method` fail with "boom" and asserts `name` reports exactly that.
    fn reports_host_error(&self, method: &str, name: &str, args: Value) {
        self.reports_host_message(method, "boom", name, args);
    }

    /// Makes the host's `method` reject with `message` (all that survives Scrypted's RPC)
    /// and asserts `name` passes it on unchanged.
    fn reports_host_message(&self, method: &str, message: &str, name: &str, args: Value) {
        self.host.fail_with(method, message);
        assert_eq!(
            self.failed(name, args),
            format!("Scrypted reported an error: {message}")
        );
    }
}

fn caller(sub: &str, client_id: &str) -> Caller {
    Caller {
        sub: sub.into(),
        client_id: client_id.into(),
    }
}

/// Checks `v` against a tool's output schema (draft 2020-12, as schemars generates it).
fn validate(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let validator = jsonschema::draft202012::new(schema).map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{at}{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn names(v: &Value, list: &str, field: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- catalogue

#[test]
fn catalogue_is_exactly_the_39_issue_tools() {
    let names: Vec<&str> = catalogue().iter().map(|t| t.name).collect();
    assert_eq!(names, ISSUE_TOOLS);
}

/// (name, readOnly, destructive, idempotent, openWorld)
const HINTS: &[(&str, bool, bool, bool, bool)] = &[
    ("list_plugins", true, false, true, false),
    ("get_plugin_info", true, false, true, false),
    ("reload_plugin", false, true, true, false),
    ("kill_plugin", false, true, true, false),
    ("install_plugin", false, true, true, true),
    ("update_plugins", false, true, false, true),
    ("npm_info", true, false, true, true),
    ("rename_device_id", false, true, false, false),
    ("set_mixins", false, true, true, false),
    ("get_storage", true, false, true, false),
    ("set_storage", false, true, true, false),
    ("get_id_for_native_id", true, false, true, false),
    ("disconnect_clients", false, true, true, false),
    ("clear_console", false, true, true, false),
    ("list_devices", true, false, true, false),
    ("get_device", true, false, true, false),
    ("call_device_method", false, true, false, false),
    ("get_logs", true, false, true, false),
    ("clear_logs", false, true, true, false),
    ("list_alerts", true, false, true, false),
    ("remove_alert", false, true, true, false),
    ("clear_alerts", false, true, true, false),
    ("get_server_info", true, false, true, false),
    ("restart_server", false, true, false, false),
    ("update_server", false, true, false, false),
    ("get_dotenv", true, false, true, false),
    ("set_dotenv", false, true, true, false),
    ("list_users", true, false, true, false),
    ("add_user", false, false, false, false),
    ("remove_user", false, true, true, false),
    ("get_local_addresses", true, false, true, false),
    ("set_local_addresses", false, true, true, false),
    ("get_external_addresses", true, false, true, false),
    ("set_external_addresses", false, true, true, false),
    ("get_cors", true, false, true, false),
    ("set_cors", false, true, true, false),
    ("list_cluster_workers", true, false, true, false),
    ("create_backup", true, false, true, false),
    ("restore_backup", false, true, false, false),
];

#[test]
fn annotations_are_true_to_each_tool() {
    let cat = catalogue();
    assert_eq!(cat.len(), HINTS.len());
    for (name, ro, de, id, ow) in HINTS {
        let t = cat.iter().find(|t| t.name == *name).unwrap();
        let h = t.hints;
        assert_eq!(
            (h.read_only, h.destructive, h.idempotent, h.open_world),
            (*ro, *de, *id, *ow),
            "{name}"
        );
        // A read-only tool is never destructive.
        assert!(!(h.read_only && h.destructive), "{name}");
    }
}

fn no_refs(v: &Value, tool: &str) {
    match v {
        Value::Object(o) => {
            assert!(!o.contains_key("$ref"), "{tool}: $ref left in schema");
            o.values().for_each(|x| no_refs(x, tool));
        }
        Value::Array(a) => a.iter().for_each(|x| no_refs(x, tool)),
        _ => {}
    }
}

/// JSON Schema 2020-12 defines `format` only for strings; schemars' `uint32` / `double`
/// markers make clients print warnings and strict validators refuse the schema.
#[test]
fn schemas_use_no_format_that_json_schema_does_not_define() {
    fn formats(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(f)) = m.get("format") {
                    out.push(f.clone());
                }
                m.values().for_each(|v| formats(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| formats(v, out)),
            _ => {}
        }
    }
    let defined = [
        "date-time",
        "date",
        "time",
        "duration",
        "email",
        "idn-email",
        "hostname",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uuid",
        "uri-template",
        "json-pointer",
        "relative-json-pointer",
        "regex",
    ];
    for t in catalogue() {
        let mut found = Vec::new();
        formats(&Value::Object(t.input_schema()), &mut found);
        formats(&Value::Object(t.output_schema()), &mut found);
        for f in found {
            assert!(defined.contains(&f.as_str()), "{}: format {f:?}", t.name);
        }
    }
}

/// MCP schemas default to JSON Schema 2020-12: every tool's input and output schema must
/// be a valid 2020-12 schema, and portable: no boolean subschema such as `items: true`
/// (OpenAPI-style validators that some clients use reject them; `{}` says the same).
#[test]
fn schemas_are_valid_2020_12_and_use_no_boolean_subschemas() {
    fn booleans(v: &Value, at: &str, out: &mut Vec<String>) {
        let Value::Object(m) = v else { return };
        for (k, x) in m {
            let here = format!("{at}/{k}");
            match (k.as_str(), x) {
                // Boolean-valued keywords that are not schemas.
                ("additionalProperties", Value::Bool(false)) | ("default" | "const", _) => {}
                ("enum" | "required" | "type" | "examples", _) => {}
                (_, Value::Bool(_)) => out.push(here),
                ("properties" | "$defs" | "patternProperties", Value::Object(props)) => {
                    for (name, p) in props {
                        if p.is_boolean() {
                            out.push(format!("{here}/{name}"));
                        }
                        booleans(p, &format!("{here}/{name}"), out);
                    }
                }
                (_, Value::Array(list)) => {
                    for (i, p) in list.iter().enumerate() {
                        if p.is_boolean() {
                            out.push(format!("{here}/{i}"));
                        }
                        booleans(p, &format!("{here}/{i}"), out);
                    }
                }
                (_, x) => booleans(x, &here, out),
            }
        }
    }
    for t in catalogue() {
        for (which, schema) in [("input", t.input_schema()), ("output", t.output_schema())] {
            let schema = Value::Object(schema);
            if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
                panic!("{} {which} schema is not valid 2020-12: {e}", t.name);
            }
            let mut found = Vec::new();
            booleans(&schema, "", &mut found);
            assert!(
                found.is_empty(),
                "{} {which}: boolean subschemas at {found:?}",
                t.name
            );
        }
    }
}

/// Output fields with a fixed set of values say so in the schema, so a client can rely on
/// them (tool, field of the output object, its values).
const ENUM_FIELDS: &[(&str, &str, &[&str])] = &[
    ("reload_plugin", "status", &["reloaded", "scheduled"]),
    ("kill_plugin", "status", &["killed"]),
    (
        "install_plugin",
        "change",
        &["installed", "updated", "reinstalled"],
    ),
    ("update_plugins", "status", &["updated", "scheduled"]),
    ("restart_server", "status", &["scheduled"]),
    ("restart_server", "action", &["restart", "update"]),
    ("update_server", "status", &["scheduled"]),
    ("update_server", "action", &["restart", "update"]),
    ("create_backup", "mime_type", &["application/zip"]),
    ("restore_backup", "status", &["staged", "scheduled"]),
];

#[test]
fn fixed_value_output_fields_carry_an_enum() {
    for (tool, field, values) in ENUM_FIELDS {
        let def = catalogue().iter().find(|t| t.name == *tool).unwrap();
        let schema = Value::Object(def.output_schema());
        let property = &schema["properties"][*field];
        assert_eq!(property["type"], "string", "{tool}.{field}: {property}");
        assert_eq!(
            property["enum"],
            json!(values),
            "{tool}.{field}: {property}"
        );
    }
    // And the answers keep to them (the harness validates every result against its schema,
    // so a value outside the enum fails there): one of each.
    let h = H::new();
    assert_eq!(
        h.ok("kill_plugin", json!({"plugin_id": "@scrypted/hue"}))["status"],
        "killed"
    );
    assert_eq!(h.ok("restart_server", json!({}))["action"], "restart");
}

#[test]
fn every_schema_is_a_self_contained_object_with_described_fields() {
    for t in catalogue() {
        let input = Value::Object(t.input_schema());
        assert_eq!(input["type"], "object", "{}", t.name);
        no_refs(&input, t.name);
        match input.get("properties").and_then(Value::as_object) {
            None => assert_eq!(
                input,
                json!({"type": "object", "additionalProperties": false}),
                "{}: no-arg schema",
                t.name
            ),
            Some(props) => {
                assert_eq!(input["additionalProperties"], false, "{}", t.name);
                for (k, p) in props {
                    let d = p["description"].as_str().unwrap_or("");
                    assert!(d.len() > 5, "{}.{k} has no description", t.name);
                }
            }
        }
        let output = Value::Object(t.output_schema());
        assert_eq!(output["type"], "object", "{}", t.name);
        no_refs(&output, t.name);
        assert!(t.description.len() > 40, "{}", t.name);
        assert!(!t.title.is_empty());
    }
}

#[test]
fn descriptions_state_the_quirks() {
    let cat = catalogue();
    let d = |n: &str| cat.iter().find(|t| t.name == n).unwrap().description;
    for (tool, says) in [
        ("clear_logs", "ALSO DELETES THE ALERTS"),
        ("set_cors", "MEMORY ONLY"),
        ("set_external_addresses", "MEMORY ONLY"),
        ("create_backup", "EVERY SECRET"),
        ("update_plugins", "UNINSTALLS"),
        ("restore_backup", "RESTORE FROM BACKUP"),
        // docs/reference/scrypted-host.md §10/§11: the rest of the reference's quirks a model must know.
        ("restore_backup", "elicitation"),
        // the 100 KB body limit → chunks
        ("restore_backup", "65536"),
        ("get_server_info", "[REDACTED]"),
        ("get_server_info", "getUpdateAvailable"),
        ("get_dotenv", "[REDACTED]"),
        ("set_dotenv", "[REDACTED]"),
        ("set_dotenv", "after restart"),
        ("get_storage", "refused"),
        ("set_storage", "refused"),
        ("set_storage", "REPLACES"),
        ("set_mixins", "not additive"),
        ("kill_plugin", "Refused for this MCP plugin"),
        ("reload_plugin", "answer is sent first"),
        ("restart_server", "answer is sent first"),
        ("update_server", "answer is sent first"),
        ("rename_device_id", "already taken"),
        ("install_plugin", "reads the plugin back"),
        ("call_device_method", "[REDACTED]"),
        ("list_plugins", "ScryptedPlugin"),
    ] {
        assert!(
            d(tool).contains(says),
            "{tool}'s description lacks {says:?}"
        );
    }
}

#[test]
fn arguments_that_do_not_fit_the_schema_are_invalid_params_and_change_nothing() {
    let h = H::new();
    assert!(h
        .invalid("list_devices", json!({"bogus": 1}))
        .contains("bogus"));
    assert!(h
        .invalid("get_plugin_info", json!({}))
        .contains("plugin_id"));
    assert!(h
        .invalid("set_mixins", json!({"id": "12", "mixins": "7"}))
        .contains("sequence"));
    assert!(h.invalid("clear_alerts", json!({"x": true})).contains("x"));
    h.invalid("list_plugins", json!([1, 2]));
    assert!(h.host.calls.borrow().is_empty());
    // Absent arguments are `{}`.
    h.ok("list_users", Value::Null);
}

// ---------------------------------------------------------------- plugins

#[test]
fn list_plugins_lists_only_scrypted_plugin_devices_with_versions() {
    let h = H::new();
    let out = h.ok("list_plugins", json!({}));
    let ids = names(&out, "plugins", "plugin_id");
    assert_eq!(
        ids,
        [
            "@scrypted/amcrest",
            "@scrypted/core",
            "@scrypted/homekit",
            "@scrypted/hue",
            "@scrypted/zwave",
            "scrypted-mcp"
        ]
    );
    assert_eq!(out["total"], 6);
    assert_eq!(out["truncated"], false);
    let hue = &out["plugins"][3];
    assert_eq!(hue["version"], "0.0.40");
    assert_eq!(hue["id"], HUE_ID);
    assert_eq!(hue["name"], "Hue");
    // Every one of the 14 devices has a pluginId, but only 6 are plugins.
    assert!(h.host.devices.borrow().len() > 6);
    assert_eq!(h.host.calls_of("packageJson").len(), 6);
}

#[test]
fn list_plugins_pages() {
    let h = H::new();
    let out = h.ok("list_plugins", json!({"limit": 2, "offset": 2}));
    assert_eq!(
        names(&out, "plugins", "plugin_id"),
        ["@scrypted/homekit", "@scrypted/hue"]
    );
    assert_eq!(out["truncated"], true);
    assert!(out["next"].as_str().unwrap().contains("offset 4"));
    assert_eq!(h.host.calls_of("packageJson").len(), 2);
}

#[test]
fn list_plugins_reports_a_host_failure() {
    let h = H::new();
    h.reports_host_message("systemState", "socket closed", "list_plugins", json!({}));
}

#[test]
fn get_plugin_info_trims_package_json() {
    let h = H::new();
    let out = h.ok("get_plugin_info", json!({"plugin_id": "@scrypted/hue"}));
    assert_eq!(out["pid"], 4004);
    assert_eq!(out["running"], true);
    assert_eq!(out["rpc_objects"], 42);
    assert_eq!(out["id"], HUE_ID);
    assert_eq!(out["package_json"]["version"], "0.0.40");
    assert!(out["package_json"].get("dependencies").is_none());
}

#[test]
fn get_plugin_info_unknown_is_not_found_before_the_host_type_error() {
    let h = H::new();
    let msg = h.failed("get_plugin_info", json!({"plugin_id": "@scrypted/nope"}));
    assert!(
        msg.contains("No installed plugin '@scrypted/nope'"),
        "{msg}"
    );
    assert!(!msg.contains("TypeError"));
    assert!(!h.host.called("pluginInfo"));
}

#[test]
fn reload_plugin_reloads_another_plugin_now() {
    let h = H::new();
    let out = h.ok("reload_plugin", json!({"plugin_id": "@scrypted/hue"}));
    assert_eq!(out["status"], "reloaded");
    assert_eq!(
        h.host.calls_of("reloadPlugin"),
        [json!({"pluginId": "@scrypted/hue"})]
    );
    assert_ne!(h.host.plugins.borrow()["@scrypted/hue"].pid, Some(4004));
    assert!(h.host.deferred().is_empty());
}

#[test]
fn reload_plugin_of_itself_answers_first_and_defers() {
    let h = H::new();
    let out = h.ok("reload_plugin", json!({"plugin_id": SELF_PLUGIN}));
    assert_eq!(out["status"], "scheduled");
    assert!(!h.host.called("reloadPlugin"));
    assert_eq!(
        h.host.deferred(),
        [deferred_call(
            1500,
            "reloadPlugin",
            json!({"pluginId": SELF_PLUGIN})
        )]
    );
}

#[test]
fn reload_plugin_unknown_is_not_found() {
    let h = H::new();
    h.fails_saying(
        "reload_plugin",
        json!({"plugin_id": "ghost"}),
        "No installed plugin",
    );
    assert!(h.mutations().is_empty());
    assert!(h.host.deferred().is_empty());
}

#[test]
fn kill_plugin_kills() {
    let h = H::new();
    let out = h.ok("kill_plugin", json!({"plugin_id": "@scrypted/zwave"}));
    assert_eq!(out["status"], "killed");
    assert_eq!(h.host.plugins.borrow()["@scrypted/zwave"].pid, None);
}

#[test]
fn kill_plugin_refuses_itself_and_unknown_ids() {
    let h = H::new();
    let msg = h.failed("kill_plugin", json!({"plugin_id": SELF_PLUGIN}));
    assert!(
        msg.contains("Refused") && msg.contains("MCP plugin"),
        "{msg}"
    );
    // Scrypted would silently ignore an unknown id; we say so.
    h.fails_saying(
        "kill_plugin",
        json!({"plugin_id": "ghost"}),
        "No installed plugin",
    );
    assert!(!h.host.called("killPlugin"));
    assert_eq!(h.host.plugins.borrow()[SELF_PLUGIN].pid, Some(4003));
}

#[test]
fn install_plugin_new_package_reports_what_changed() {
    let h = H::new();
    let out = h.ok("install_plugin", json!({"package": "@scrypted/ring"}));
    assert_eq!(out["change"], "installed");
    assert_eq!(out["version_before"], Value::Null);
    assert_eq!(out["version_after"], "0.0.160");
    let id = out["id"].as_str().unwrap().to_string();
    assert_eq!(h.host.prop(&id, "pluginId"), Some(json!("@scrypted/ring")));
    assert_eq!(
        h.host.calls_of("installNpm"),
        [json!({"package": "@scrypted/ring", "version": null})]
    );
    assert!(h.host.called("idForPluginId"));
}

#[test]
fn install_plugin_update_reports_before_and_after() {
    let h = H::new();
    let out = h.ok(
        "install_plugin",
        json!({"package": "@scrypted/hue", "version": "0.0.41"}),
    );
    assert_eq!(out["change"], "updated");
    assert_eq!(out["version_before"], "0.0.40");
    assert_eq!(out["version_after"], "0.0.41");
    assert_eq!(out["id"], HUE_ID);
}

#[test]
fn install_plugin_failures() {
    let h = H::new();
    let msg = h.failed(
        "install_plugin",
        json!({"package": "@scrypted/does-not-exist"}),
    );
    assert!(msg.contains("404") && msg.contains("npm_info"), "{msg}");
    h.invalid("install_plugin", json!({"package": "Not A Name"}));
    h.invalid(
        "install_plugin",
        json!({"package": "@scrypted/hue", "version": "1; rm -rf"}),
    );
    h.fails_saying("install_plugin", json!({"package": SELF_PLUGIN}), "Refused");
    assert_eq!(h.host.calls_of("installNpm").len(), 1);
}

#[test]
fn update_plugins_reports_updates_and_removed_deprecated_plugins() {
    let h = H::new();
    let out = h.ok("update_plugins", json!({}));
    assert_eq!(
        out["status"], "updated",
        "this plugin is current: updated at once"
    );
    assert_eq!(
        h.host.calls_of("npmInfo"),
        [json!({"endpoint": SELF_PLUGIN})],
        "checked this plugin's npm state first"
    );
    assert_eq!(h.host.calls_of("updatePlugins").len(), 1);
    assert!(h.host.deferred().is_empty());
    let updated = names(&out, "updated", "plugin_id");
    assert_eq!(
        updated,
        ["@scrypted/core", "@scrypted/homekit", "@scrypted/hue"]
    );
    assert_eq!(out["updated"][2]["before"], "0.0.40");
    assert_eq!(out["updated"][2]["after"], "0.0.41");
    assert_eq!(names(&out, "removed", "plugin_id"), ["@scrypted/zwave"]);
    assert!(!h.host.plugins.borrow().contains_key("@scrypted/zwave"));
    assert_eq!(out["unchanged"], 2);
}

/// Changes this plugin's entry in the fake npm registry.
fn own_npm_entry(h: &H, change: impl FnOnce(&mut NpmPackage)) {
    change(h.host.npm.borrow_mut().get_mut(SELF_PLUGIN).unwrap());
}

/// updatePlugins would replace this plugin and so end our process before the answer
/// left (docs/reference/scrypted-host.md §10): the answer goes first and the update runs after a delay.
/// Returns the answer's message.
fn assert_update_scheduled(h: &H) -> String {
    let versions = || -> Vec<String> {
        h.host
            .plugins
            .borrow()
            .values()
            .map(|p| p.version())
            .collect()
    };
    let versions_before = versions();
    let out = h.ok("update_plugins", json!({}));
    assert_eq!(out["status"], "scheduled");
    let message = out["message"].as_str().unwrap().to_string();
    assert!(message.contains("Reconnect"), "{message}");
    assert!(
        !h.host.called("updatePlugins"),
        "nothing updated before the answer"
    );
    assert_eq!(
        h.host.deferred(),
        [deferred_call(1500, "updatePlugins", json!({}))]
    );
    assert_eq!(versions_before, versions());
    message
}

/// The scheduled answer names what npm said about this plugin, nothing more.
#[test]
fn update_plugins_answers_first_when_this_plugin_has_an_update() {
    let h = H::new();
    own_npm_entry(&h, |p| p.versions.push("0.2.0".into()));
    let message = assert_update_scheduled(&h);
    assert!(message.contains("0.1.0 → 0.2.0"), "{message}");
}

#[test]
fn update_plugins_answers_first_when_this_plugin_is_deprecated_on_npm() {
    let h = H::new();
    own_npm_entry(&h, |p| p.deprecated = Some("no longer maintained".into()));
    let message = assert_update_scheduled(&h);
    assert!(
        message.contains("deprecated") && message.contains("uninstall"),
        "{message}"
    );
}

/// Real Scrypted 0.144.2 without network: `npmInfo` rejects with ECONNREFUSED (docs/reference/scrypted-host.md
/// §13). Nothing can be established about any update, so nothing is scheduled or changed.
#[test]
fn update_plugins_refuses_when_the_npm_registry_cannot_be_reached() {
    let h = H::new();
    let refused = "connect ECONNREFUSED 104.16.3.35:443";
    h.host.fail_with("npmInfo", refused);
    let msg = h.failed("update_plugins", json!({}));
    assert!(msg.contains("npm registry"), "{msg}");
    assert!(msg.contains(refused), "{msg}");
    assert!(msg.contains("Nothing was updated or scheduled"), "{msg}");
    assert!(!msg.contains("an update"), "claims no update: {msg}");
    assert!(h.host.deferred().is_empty(), "nothing scheduled");
    assert_eq!(h.mutations(), Vec::<String>::new(), "nothing changed");
}

/// Scrypted updates a plugin only when npm's `latest` is semver-greater than what runs
/// (server/src/services/plugin.ts `updatePlugins`), and skips a plugin npm does not know
/// (its per-plugin errors are caught). Neither replaces this plugin, so the update runs now.
#[test]
fn update_plugins_runs_at_once_when_scrypted_would_not_replace_this_plugin() {
    let h = H::new();
    own_npm_entry(&h, |p| p.versions = vec!["0.0.9".into()]);
    let out = h.ok("update_plugins", json!({}));
    assert_eq!(out["status"], "updated", "a newer local build is no update");
    assert!(h.host.deferred().is_empty());
    assert!(!names(&out, "updated", "plugin_id").contains(&SELF_PLUGIN.to_string()));

    let h = H::new();
    h.host.npm.borrow_mut().remove(SELF_PLUGIN);
    let out = h.ok("update_plugins", json!({}));
    assert_eq!(out["status"], "updated", "npm does not know this plugin");
    assert_eq!(h.host.calls_of("updatePlugins").len(), 1);
    assert!(h.host.deferred().is_empty());
}

#[test]
fn update_plugins_reports_a_host_failure() {
    let h = H::new();
    h.reports_host_message(
        "updatePlugins",
        "getaddrinfo ENOTFOUND registry.npmjs.org",
        "update_plugins",
        json!({}),
    );
}

#[test]
fn npm_info_trims_readme() {
    let h = H::new();
    let out = h.ok("npm_info", json!({"endpoint": "/@scrypted/hue"}));
    assert_eq!(
        h.host.calls_of("npmInfo"),
        [json!({"endpoint": "@scrypted/hue"})]
    );
    assert_eq!(out["result"]["dist-tags"]["latest"], "0.0.41");
    assert!(out["result"].get("readme").is_none());
    assert!(out["trimmed"]
        .as_array()
        .unwrap()
        .contains(&json!("readme")));
    let search = h.ok(
        "npm_info",
        json!({"endpoint": "-/v1/search?text=keywords:scrypted"}),
    );
    assert!(search["result"]["objects"].as_array().unwrap().len() >= 8);
}

#[test]
fn npm_info_failures() {
    let h = H::new();
    h.fails_saying("npm_info", json!({"endpoint": "@scrypted/nope"}), "404");
    h.invalid("npm_info", json!({"endpoint": "https://evil.example/x"}));
    h.invalid("npm_info", json!({"endpoint": "../../etc/passwd"}));
    assert_eq!(h.host.calls_of("npmInfo").len(), 1);
}

#[test]
fn rename_device_id_renames() {
    let h = H::new();
    let out = h.ok("rename_device_id", json!({"id": DOOR_ID, "new_id": "150"}));
    assert_eq!(out["plugin_id"], "@scrypted/zwave");
    assert!(h.host.devices.borrow().contains_key("150"));
    assert!(!h.host.devices.borrow().contains_key(DOOR_ID));
}

#[test]
fn rename_device_id_refuses_collisions_itself_and_unknown_ids() {
    let h = H::new();
    let msg = h.failed(
        "rename_device_id",
        json!({"id": DOOR_ID, "new_id": LIGHT_ID}),
    );
    assert!(
        msg.contains("already used") && msg.contains("Kitchen Light"),
        "{msg}"
    );
    h.fails_saying(
        "rename_device_id",
        json!({"id": SELF_ID, "new_id": "300"}),
        "Refused",
    );
    h.fails_saying(
        "rename_device_id",
        json!({"id": "999", "new_id": "300"}),
        "No device",
    );
    h.invalid("rename_device_id", json!({"id": DOOR_ID, "new_id": "a b"}));
    assert!(!h.host.called("renameDeviceId"));
    assert_eq!(h.host.prop(LIGHT_ID, "name"), Some(json!("Kitchen Light")));
}

#[test]
fn set_mixins_replaces_and_reads_back() {
    let h = H::new();
    let out = h.ok(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID, HOMEKIT_ID]}),
    );
    assert_eq!(out["before"], json!([]));
    assert_eq!(out["after"], json!([HOMEKIT_ID]));
    assert_eq!(
        h.host.calls_of("setMixins"),
        [json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID]})]
    );
    let out = h.ok("set_mixins", json!({"id": CAMERA_ID, "mixins": []}));
    assert_eq!(out["before"], json!([HOMEKIT_ID]));
    assert_eq!(h.host.prop(CAMERA_ID, "mixins"), Some(json!([])));
}

/// Scrypted keeps a mixin only when its provider's canMixin accepts the device
/// (plugin-device.ts `rebuildEntry` removes the others after setMixins returned); HomeKit
/// has no accessory type for an `Entry` such as the back door contact.
#[test]
fn set_mixins_says_which_requested_mixins_the_host_dropped() {
    let h = H::new();
    let out = h.ok("set_mixins", json!({"id": DOOR_ID, "mixins": [HOMEKIT_ID]}));
    assert_eq!(out["after"], json!([]));
    assert_eq!(out["dropped"], json!([HOMEKIT_ID]));
    let msg = out["message"].as_str().unwrap();
    assert!(msg.contains(HOMEKIT_ID) && msg.contains("HomeKit"), "{msg}");
    assert!(msg.contains("canMixin"), "{msg}");
    // All applied: nothing dropped.
    let out = h.ok(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID]}),
    );
    assert_eq!(out["dropped"], json!([]));
}

#[test]
fn set_mixins_refusals() {
    let h = H::new();
    h.fails_saying(
        "set_mixins",
        json!({"id": SELF_ID, "mixins": [HOMEKIT_ID]}),
        "Refused",
    );
    h.fails_saying(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": [SELF_ID]}),
        "Refused",
    );
    h.fails_saying(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": ["999"]}),
        "not a device",
    );
    h.fails_saying(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": [LIGHT_ID]}),
        "itself",
    );
    h.fails_saying(
        "set_mixins",
        json!({"id": "999", "mixins": []}),
        "No device",
    );
    assert!(!h.host.called("setMixins"));
}

#[test]
fn get_storage_redacts_secrets_unless_asked() {
    let h = H::new();
    let out = h.ok("get_storage", json!({"id": CAMERA_ID}));
    assert_eq!(out["storage"]["ip"], "192.168.1.40");
    assert_eq!(out["storage"]["password"], "[REDACTED]");
    assert_eq!(out["redacted_keys"], json!(["password"]));
    assert!(!out.to_string().contains("camera-PASSWORD-xyz"));
    let out = h.ok(
        "get_storage",
        json!({"id": CAMERA_ID, "reveal_secrets": true}),
    );
    assert_eq!(out["storage"]["password"], "camera-PASSWORD-xyz");
}

#[test]
fn get_storage_refuses_own_plugin_and_unknown_ids() {
    let h = H::new();
    h.host
        .add_device("50", SELF_PLUGIN, "helper", "MCP helper device");
    for id in [SELF_ID, "50"] {
        h.host
            .devices
            .borrow_mut()
            .get_mut(id)
            .unwrap()
            .storage
            .insert(
                "oauth.signing_jwk".into(),
                "{\"kty\":\"EC\",\"d\":\"SELF-SECRET-SIGNING-KEY\"}".into(),
            );
    }
    for id in [SELF_ID, "50"] {
        let msg = h.failed("get_storage", json!({"id": id, "reveal_secrets": true}));
        assert!(
            msg.contains("Refused") && !msg.contains("SELF-SECRET"),
            "{msg}"
        );
    }
    // Scrypted answers {} for unknown ids; we say not found.
    h.fails_saying("get_storage", json!({"id": "999"}), "No device");
    assert!(!h.host.called("getStorage"));
}

#[test]
fn get_storage_uses_the_hosts_own_root_id_too() {
    // The system state does not show our root device, but getIdForPluginId does.
    let h = H::new();
    h.host
        .devices
        .borrow_mut()
        .get_mut(SELF_ID)
        .unwrap()
        .interfaces
        .clear();
    h.fails_saying("get_storage", json!({"id": SELF_ID}), "Refused");
    assert!(h.host.called("idForPluginId"));
    assert!(!h.host.called("getStorage"));
}

#[test]
fn set_storage_round_trip_keeps_redacted_secrets() {
    let h = H::new();
    let mut storage = h.ok("get_storage", json!({"id": CAMERA_ID}))["storage"].clone();
    storage["ip"] = json!("192.168.1.41");
    let out = h.ok("set_storage", json!({"id": CAMERA_ID, "storage": storage}));
    assert_eq!(out["kept_secret_keys"], json!(["password"]));
    assert_eq!(out["changed"], json!(["ip"]));
    let stored = h.host.devices.borrow()[CAMERA_ID].storage.clone();
    assert_eq!(stored["password"], "camera-PASSWORD-xyz");
    assert_eq!(stored["ip"], "192.168.1.41");
    assert_eq!(stored["username"], "admin");
}

#[test]
fn get_storage_caps_its_output_and_a_round_trip_keeps_what_it_left_out() {
    // Issue §"What every tool must do": output stays usable by a model, capped with a
    // `truncated` marker and how to get the rest; and the set_storage round trip must not
    // destroy what was left out (as with redacted secrets).
    let h = H::new();
    let big = "x".repeat(50_000);
    h.host
        .devices
        .borrow_mut()
        .get_mut(LOCK_ID)
        .unwrap()
        .storage
        .extend([
            ("snapshot_a".to_string(), big.clone()),
            ("snapshot_b".to_string(), big.clone()),
        ]);
    let out = h.ok("get_storage", json!({"id": LOCK_ID}));
    assert!(out.to_string().len() < 70_000, "capped");
    assert_eq!(out["truncated"], true);
    assert_eq!(out["storage"]["nodeId"], "5");
    let omitted: Vec<String> = serde_json::from_value(out["omitted_keys"].clone()).unwrap();
    assert_eq!(omitted.len(), 1, "{omitted:?}");
    assert_eq!(out["storage"][&omitted[0]], "[OMITTED]");
    assert!(out["next"].as_str().unwrap().contains("keys"));
    // The rest, by key.
    let rest = h.ok("get_storage", json!({"id": LOCK_ID, "keys": [omitted[0]]}));
    assert_eq!(rest["storage"][&omitted[0]].as_str(), Some(big.as_str()));
    assert_eq!(rest["truncated"], false);
    assert_eq!(rest["count"], 1);

    // Writing the capped answer back keeps the omitted value.
    let mut storage = out["storage"].clone();
    storage["nodeId"] = json!("6");
    let written = h.ok("set_storage", json!({"id": LOCK_ID, "storage": storage}));
    assert_eq!(written["changed"], json!(["nodeId"]));
    let stored = h.host.devices.borrow()[LOCK_ID].storage.clone();
    assert_eq!(stored["snapshot_a"], big);
    assert_eq!(stored["snapshot_b"], big);
    assert_eq!(stored["nodeId"], "6");
}

#[test]
fn set_storage_replaces_by_default_and_merges_when_asked() {
    let h = H::new();
    let out = h.ok("set_storage", json!({"id": LOCK_ID, "storage": {"a": "1"}}));
    assert_eq!(out["removed"], json!(["nodeId"]));
    assert_eq!(h.host.devices.borrow()[LOCK_ID].storage.len(), 1);
    h.ok(
        "set_storage",
        json!({"id": LOCK_ID, "storage": {"b": "2"}, "merge": true}),
    );
    let s = h.host.devices.borrow()[LOCK_ID].storage.clone();
    assert_eq!((s["a"].as_str(), s["b"].as_str()), ("1", "2"));
}

#[test]
fn set_storage_refusals_write_nothing() {
    let h = H::new();
    h.fails_saying(
        "set_storage",
        json!({"id": SELF_ID, "storage": {}}),
        "Refused",
    );
    let msg = h.failed(
        "set_storage",
        json!({"id": CAMERA_ID, "storage": {"apiKey": "[REDACTED]"}}),
    );
    assert!(
        msg.contains("apiKey") && msg.contains("Nothing was written"),
        "{msg}"
    );
    h.fails_saying(
        "set_storage",
        json!({"id": "999", "storage": {"a": "b"}}),
        "No device",
    );
    assert!(!h.host.called("setStorage"));
    assert_eq!(h.host.devices.borrow()[CAMERA_ID].storage.len(), 3);
}

#[test]
fn get_id_for_native_id_finds_devices_and_roots() {
    let h = H::new();
    let out = h.ok(
        "get_id_for_native_id",
        json!({"plugin_id": "@scrypted/hue", "native_id": "hue-light-2"}),
    );
    assert_eq!(out["id"], LAMP_ID);
    let out = h.ok(
        "get_id_for_native_id",
        json!({"plugin_id": "@scrypted/hue"}),
    );
    assert_eq!(out["id"], HUE_ID);
    assert_eq!(
        h.host.calls_of("idForNativeId"),
        [json!({"pluginId": "@scrypted/hue", "nativeId": "hue-light-2"})]
    );
}

#[test]
fn get_id_for_native_id_not_found() {
    let h = H::new();
    h.fails_saying(
        "get_id_for_native_id",
        json!({"plugin_id": "@scrypted/hue", "native_id": "zz"}),
        "no device with native id 'zz'",
    );
    h.fails_saying(
        "get_id_for_native_id",
        json!({"plugin_id": "ghost", "native_id": "zz"}),
        "No installed plugin",
    );
}

#[test]
fn disconnect_clients_disconnects() {
    let h = H::new();
    h.ok("disconnect_clients", json!({"plugin_id": "@scrypted/core"}));
    assert_eq!(h.host.plugins.borrow()["@scrypted/core"].clients_count, 0);
    h.fails_saying(
        "disconnect_clients",
        json!({"plugin_id": "ghost"}),
        "No installed plugin",
    );
    assert_eq!(h.host.calls_of("disconnectClients").len(), 1);
}

#[test]
fn clear_console_clears_and_unknown_is_not_found() {
    let h = H::new();
    h.ok("clear_console", json!({"id": CAMERA_ID}));
    assert!(h.host.devices.borrow()[CAMERA_ID].console.is_empty());
    let msg = h.failed("clear_console", json!({"id": "999"}));
    assert!(msg.contains("No device") && !msg.contains("TypeError"));
    assert_eq!(h.host.calls_of("clearConsole").len(), 1);
}

// ---------------------------------------------------------------- devices

#[test]
fn list_devices_filters() {
    let h = H::new();
    let ids = |args: Value| names(&h.ok("list_devices", args), "devices", "id");
    assert_eq!(ids(json!({"interface": "OnOff"})), [LIGHT_ID, LAMP_ID]);
    assert_eq!(ids(json!({"type": "Camera"})), [CAMERA_ID]);
    assert_eq!(ids(json!({"name": "DOOR"})), [CAMERA_ID, LOCK_ID, DOOR_ID]);
    assert_eq!(ids(json!({"room": "kitchen"})), [LIGHT_ID, DOOR_ID]);
    assert_eq!(
        ids(json!({"plugin_id": "@scrypted/zwave"})),
        [ZWAVE_ID, LOCK_ID, THERMO_ID, DOOR_ID]
    );
    let page = h.ok("list_devices", json!({"limit": 3}));
    assert_eq!(page["truncated"], true);
    assert_eq!(page["total"], h.host.devices.borrow().len());
    assert!(page["next"].as_str().unwrap().contains("offset 3"));
}

#[test]
fn list_devices_rejects_unknown_arguments() {
    let h = H::new();
    assert!(h
        .invalid("list_devices", json!({"kind": "Light"}))
        .contains("kind"));
    h.invalid("list_devices", json!({"limit": -1}));
}

#[test]
fn get_device_leaves_out_bulky_fields_and_storage_values() {
    let h = H::new();
    let out = h.ok("get_device", json!({"id": CAMERA_ID}));
    assert_eq!(out["name"], "Front Door Camera");
    assert_eq!(out["state"]["motionDetected"], false);
    let omitted = out["omitted"].as_array().unwrap();
    assert!(omitted.contains(&json!("videoStreamOptions")));
    assert!(omitted.contains(&json!("pictureDimensions")));
    assert!(out["state"].get("videoStreamOptions").is_none());
    assert_eq!(out["storage_keys"], json!(["ip", "password", "username"]));
    assert!(!out.to_string().contains("camera-PASSWORD-xyz"));
    assert_eq!(out["mixins"], json!([HOMEKIT_ID]));
    assert!(out["methods"]
        .as_array()
        .unwrap()
        .contains(&json!("takePicture")));
    assert_eq!(h.host.calls_of("deviceInfo"), [json!({"id": CAMERA_ID})]);

    let full = h.ok(
        "get_device",
        json!({"id": CAMERA_ID, "include_bulky": true}),
    );
    assert_eq!(full["state"]["videoStreamOptions"][0]["id"], "channel0");
    assert_eq!(full["omitted"], json!([]));
}

#[test]
fn get_device_hides_own_storage_keys_and_reports_unknown_ids() {
    let h = H::new();
    let own = h.ok("get_device", json!({"id": SELF_ID}));
    assert_eq!(own["storage_keys"], json!([]));
    assert!(!own.to_string().contains("oauth.signing_jwk"));
    let msg = h.failed("get_device", json!({"id": "999"}));
    assert!(msg.contains("No device") && !msg.contains("TypeError"));
}

#[test]
fn call_device_method_calls_interface_methods() {
    let h = H::new();
    let out = h.ok(
        "call_device_method",
        json!({"id": LIGHT_ID, "method": "turnOff"}),
    );
    assert_eq!(out["result"], Value::Null);
    assert_eq!(h.host.prop(LIGHT_ID, "on"), Some(json!(false)));
    h.ok(
        "call_device_method",
        json!({"id": LIGHT_ID, "method": "setBrightness", "args": [25]}),
    );
    assert_eq!(h.host.prop(LIGHT_ID, "brightness"), Some(json!(25)));
    h.ok(
        "call_device_method",
        json!({"id": LOCK_ID, "method": "unlock"}),
    );
    assert_eq!(h.host.prop(LOCK_ID, "lockState"), Some(json!("Unlocked")));
    let settings = h.ok(
        "call_device_method",
        json!({"id": CAMERA_ID, "method": "getSettings"}),
    );
    assert_eq!(settings["result"][0]["key"], "ip");
    assert_eq!(
        h.host.calls_of("callDeviceMethod")[1],
        json!({"id": LIGHT_ID, "method": "setBrightness", "args": [25]})
    );
}

#[test]
fn call_device_method_refusals() {
    let h = H::new();
    let msg = h.failed(
        "call_device_method",
        json!({"id": LIGHT_ID, "method": "unlock"}),
    );
    assert!(
        msg.contains("no method unlock") && msg.contains("turnOn"),
        "{msg}"
    );
    h.fails_saying(
        "call_device_method",
        json!({"id": "999", "method": "turnOn"}),
        "No device",
    );
    h.fails_saying(
        "call_device_method",
        json!({"id": SELF_ID, "method": "getSettings"}),
        "Refused",
    );
    h.fails_saying(
        "call_device_method",
        json!({"id": LIGHT_ID, "method": "setMixins", "args": [[]]}),
        "set_mixins",
    );
    h.invalid(
        "call_device_method",
        json!({"id": LIGHT_ID, "method": "constructor.prototype"}),
    );
    assert!(!h.host.called("callDeviceMethod"));
}

#[test]
fn call_device_method_redacts_password_settings_and_refuses_the_placeholder_back() {
    // Issue §"Secrets are not echoed"; docs/reference/client-compat.md §11 #12: password-typed settings
    // (camera credentials) are never returned, and writing the placeholder back must not
    // replace the real password with it.
    let h = H::new();
    let out = h.call(
        "call_device_method",
        json!({"id": CAMERA_ID, "method": "getSettings"}),
    );
    let out = out.expect("getSettings");
    let text = format!("{:?}", out);
    assert!(!text.contains("camera-PASSWORD-xyz"), "{text}");
    let s = out.structured;
    assert_eq!(s["result"][0]["value"], "192.168.1.40");
    assert_eq!(s["result"][1]["value"], "[REDACTED]");
    assert_eq!(s["redacted_keys"], json!(["password"]));

    let calls = h.host.calls_of("callDeviceMethod").len();
    let msg = h.failed(
        "call_device_method",
        json!({"id": CAMERA_ID, "method": "putSetting", "args": ["password", "[REDACTED]"]}),
    );
    assert!(
        msg.contains("[REDACTED]") && msg.contains("Nothing was changed"),
        "{msg}"
    );
    assert_eq!(h.host.calls_of("callDeviceMethod").len(), calls);
}

#[test]
fn call_device_method_reports_host_errors() {
    let h = H::new();
    let msg = h.failed(
        "call_device_method",
        json!({"id": LIGHT_ID, "method": "setBrightness", "args": ["bright"]}),
    );
    assert!(msg.contains("brightness must be a number"), "{msg}");
}

// ---------------------------------------------------------------- logs and alerts

#[test]
fn get_logs_filters_before_returning() {
    let h = H::new();
    let out = h.ok("get_logs", json!({"level": "e"}));
    // newest first, errors and alerts
    assert_eq!(names(&out, "entries", "level"), ["e", "a", "e"]);
    assert_eq!(out["now_ms"], NOW_MS);

    let out = h.ok("get_logs", json!({"component": "ZWAVE"}));
    assert_eq!(out["total"], 2);

    let since = NOW_MS - 61 * 60_000;
    let out = h.ok("get_logs", json!({"sinceMs": since}));
    assert_eq!(out["total"], 3);

    let out = h.ok("get_logs", json!({"device_id": CAMERA_ID}));
    assert_eq!(out["total"], 2);
    assert!(h
        .host
        .calls_of("logs")
        .contains(&json!({"path": ["device", CAMERA_ID]})));

    let out = h.ok("get_logs", json!({"limit": 2}));
    assert_eq!(out["entries"].as_array().unwrap().len(), 2);
    assert_eq!(out["truncated"], true);
    assert!(out["next"].as_str().unwrap().contains("offset 2"));
}

#[test]
fn get_logs_cuts_long_messages() {
    let h = H::new();
    h.host.logs.borrow_mut()[0].message = "x".repeat(10_000);
    let out = h.ok("get_logs", json!({"level": "v", "limit": 1000}));
    let last = out["entries"].as_array().unwrap().last().unwrap()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.len() < 2100 && last.ends_with("[cut]"));
}

#[test]
fn get_logs_failures() {
    let h = H::new();
    h.invalid("get_logs", json!({"level": "loud"}));
    // An unknown device is refused before getLogger() would create a log for it.
    h.fails_saying("get_logs", json!({"device_id": "999"}), "No device");
    assert!(!h.host.called("logs"));
}

#[test]
fn clear_logs_clears_everything_including_alerts() {
    let h = H::new();
    let out = h.ok("clear_logs", json!({}));
    assert_eq!(out["logs_removed"], 10);
    assert_eq!(out["alerts_removed"], 2);
    assert!(h.host.logs.borrow().is_empty());
    assert!(h.host.alerts.borrow().is_empty());
    assert_eq!(h.host.calls_of("clearLogs"), [json!({"path": []})]);
}

#[test]
fn clear_logs_of_one_device_clears_only_its_log_and_alerts() {
    let h = H::new();
    let out = h.ok("clear_logs", json!({"device_id": LOCK_ID}));
    assert_eq!(out["logs_removed"], 1);
    assert_eq!(out["alerts_removed"], 1);
    assert_eq!(h.host.logs.borrow().len(), 9);
    assert_eq!(h.host.alerts.borrow()[0].id, "alert-2");
    assert_eq!(
        h.host.calls_of("clearLogs"),
        [json!({"path": ["device", LOCK_ID]})]
    );
}

#[test]
fn clear_logs_unknown_device_is_refused() {
    let h = H::new();
    h.fails_saying("clear_logs", json!({"device_id": "999"}), "No device");
    assert!(!h.host.called("clearLogs"));
    assert_eq!(h.host.logs.borrow().len(), 10);
}

/// Scrypted's log and alert times are `Date.now()` integers; the real host showed
/// `1796172523324.0` in the text content. Both renderings carry the same integers.
#[test]
fn log_and_alert_timestamps_are_integer_milliseconds() {
    let h = H::new();
    let logs = h.ok("get_logs", json!({}));
    let alerts = h.ok("list_alerts", json!({}));
    for (out, list) in [(&logs, "entries"), (&alerts, "alerts")] {
        for e in out[list].as_array().unwrap() {
            assert!(e["timestamp"].is_u64(), "{list}: {}", e["timestamp"]);
        }
        assert!(!out.to_string().contains(".0,"), "{out}");
    }
    assert_eq!(logs["entries"][0]["timestamp"], NOW_MS - 5 * 60_000);
    assert_eq!(alerts["alerts"][0]["timestamp"], NOW_MS - 20 * 60_000);
}

/// Across the wasm bridge a JavaScript number may arrive as a float; the host types take
/// it as whole milliseconds, so no tool can print `….0`.
#[test]
fn host_times_decode_as_integer_milliseconds() {
    use scrypted_mcp::host::{Alert, LogEntry};
    let log: LogEntry = serde_json::from_value(
        json!({"timestamp": 1796172523324.0, "level": "i", "message": "m", "title": "t", "path": "/"}),
    )
    .unwrap();
    assert_eq!(log.timestamp, 1_796_172_523_324);
    assert!(serde_json::to_string(&log)
        .unwrap()
        .contains("\"timestamp\":1796172523324,"));
    let alert: Alert =
        serde_json::from_value(json!({"_id": "a", "timestamp": 1796172523324u64})).unwrap();
    assert_eq!(alert.timestamp, 1_796_172_523_324);
    assert!(serde_json::from_value::<Alert>(json!({"_id": "a", "timestamp": -1.0})).is_err());
}

#[test]
fn list_alerts_newest_first_and_pages() {
    let h = H::new();
    let out = h.ok("list_alerts", json!({}));
    assert_eq!(names(&out, "alerts", "id"), ["alert-2", "alert-1"]);
    let out = h.ok("list_alerts", json!({"limit": 1}));
    assert_eq!(out["truncated"], true);
    h.invalid("list_alerts", json!({"limit": "all"}));
}

#[test]
fn remove_alert_removes_one() {
    let h = H::new();
    let out = h.ok("remove_alert", json!({"id": "alert-1"}));
    assert_eq!(out["remaining"], 1);
    assert_eq!(h.host.calls_of("removeAlert"), [json!({"id": "alert-1"})]);
    h.fails_saying("remove_alert", json!({"id": "alert-9"}), "No alert");
    assert_eq!(h.host.calls_of("removeAlert").len(), 1);
}

#[test]
fn clear_alerts_clears_and_reports_failures() {
    let h = H::new();
    assert_eq!(h.ok("clear_alerts", json!({}))["removed"], 2);
    assert!(h.host.alerts.borrow().is_empty());
    assert_eq!(h.host.logs.borrow().len(), 10);
    let h = H::new();
    h.reports_host_message("clearAlerts", "db locked", "clear_alerts", json!({}));
}

// ---------------------------------------------------------------- server

const SECRETS: &[&str] = &[
    "adm-TOKEN-5f1e9c",
    "cluster-SECRET-77aa",
    "webhook-AUTH-0042",
    "mqtt PASSWORD 9",
];

fn assert_no_secrets(v: &Value) {
    let text = v.to_string();
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked: {text}");
    }
}

#[test]
fn get_server_info_redacts_secret_environment() {
    let h = H::new();
    let out = h.ok("get_server_info", json!({}));
    assert_eq!(out["version"], "0.144.2");
    assert_eq!(out["env"]["SCRYPTED_ADMIN_TOKEN"], "[REDACTED]");
    assert_eq!(out["env"]["SCRYPTED_CLUSTER_SECRET"], "[REDACTED]");
    assert_eq!(
        out["env"]["SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION"],
        "[REDACTED]"
    );
    assert_eq!(out["env"]["SCRYPTED_VOLUME"], "/server/volume");
    assert_eq!(out["redacted_keys"].as_array().unwrap().len(), 3);
    assert_no_secrets(&out);
}

#[test]
fn get_server_info_reports_host_failure() {
    let h = H::new();
    // A missing method fails remotely with this text (docs/reference/scrypted-host.md §2, RPC proxy quirks).
    h.reports_host_message(
        "scryptedEnv",
        "target info does not have method getScryptedEnv",
        "get_server_info",
        json!({}),
    );
}

#[test]
fn restart_server_answers_first_and_defers() {
    let h = H::new();
    let out = h.ok("restart_server", json!({}));
    assert_eq!(out["status"], "scheduled");
    assert_eq!(
        h.host.deferred(),
        [deferred_call(1500, "restartServer", json!({}))]
    );
    assert_eq!(h.mutations(), ["defer restartServer"]);
    let h = H::new();
    h.invalid("restart_server", json!({"now": true}));
    assert!(h.host.deferred().is_empty());
}

#[test]
fn update_server_answers_first_and_defers() {
    let h = H::new();
    let out = h.ok("update_server", json!({}));
    assert!(out["message"].as_str().unwrap().contains("webhook"));
    assert_eq!(
        h.host.deferred(),
        [deferred_call(1500, "updateServer", json!({}))]
    );
    let h = H::new();
    h.reports_host_error("scryptedEnv", "update_server", json!({}));
    assert!(h.host.deferred().is_empty());
}

#[test]
fn get_dotenv_redacts_and_handles_a_missing_file() {
    let h = H::new();
    let out = h.ok("get_dotenv", json!({}));
    assert_eq!(out["exists"], true);
    let text = out["text"].as_str().unwrap();
    assert!(text.contains("SCRYPTED_ADMIN_TOKEN=[REDACTED]"));
    assert!(text.contains("MQTT_PASSWORD=[REDACTED]"));
    assert!(text.contains("TZ=Europe/Berlin"));
    assert_no_secrets(&out);
    *h.host.dotenv.borrow_mut() = None;
    let out = h.ok("get_dotenv", json!({}));
    assert_eq!(
        (out["exists"].clone(), out["text"].clone()),
        (json!(false), json!(""))
    );
}

#[test]
fn get_dotenv_reports_other_errors() {
    let h = H::new();
    h.reports_host_message(
        "dotEnv",
        "EACCES: permission denied, open '/server/volume/.env'",
        "get_dotenv",
        json!({}),
    );
}

#[test]
fn dotenv_redaction_round_trip_keeps_every_secret() {
    let h = H::new();
    let original = h.host.dotenv.borrow().clone().unwrap();
    let text = h.ok("get_dotenv", json!({}))["text"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = text.replace("TZ=Europe/Berlin", "TZ=UTC") + "NEW_FLAG=1\n";
    let out = h.ok("set_dotenv", json!({"text": edited}));
    assert_eq!(out["restart_required"], true);
    assert_eq!(
        out["kept_secret_keys"],
        json!([
            "SCRYPTED_ADMIN_TOKEN",
            "SCRYPTED_CLUSTER_SECRET",
            "MQTT_PASSWORD"
        ])
    );
    let written = h.host.dotenv.borrow().clone().unwrap();
    assert_eq!(
        written,
        original.replace("TZ=Europe/Berlin", "TZ=UTC") + "NEW_FLAG=1\n"
    );
    assert_no_secrets(&out);
}

#[test]
fn set_dotenv_refuses_a_placeholder_without_a_value() {
    let h = H::new();
    let msg = h.failed(
        "set_dotenv",
        json!({"text": "OTHER_TOKEN=[REDACTED]\nTZ=UTC\n"}),
    );
    assert!(
        msg.contains("OTHER_TOKEN") && msg.contains("Nothing was written"),
        "{msg}"
    );
    assert!(!h.host.called("setDotEnv"));
    h.invalid(
        "set_dotenv",
        json!({"text": "A=".to_string() + &"x".repeat(70_000)}),
    );
    assert!(!h.host.called("setDotEnv"));
}

#[test]
fn set_dotenv_creates_a_missing_file() {
    let h = H::new();
    *h.host.dotenv.borrow_mut() = None;
    h.ok("set_dotenv", json!({"text": "TZ=UTC\n"}));
    assert_eq!(h.host.dotenv.borrow().as_deref(), Some("TZ=UTC\n"));
}

// ---------------------------------------------------------------- users

#[test]
fn list_users_returns_only_names_and_roles() {
    let h = H::new();
    let out = h.ok("list_users", json!({}));
    assert_eq!(
        out["users"],
        json!([{"username": "admin", "admin": true}, {"username": "viewer", "admin": false}])
    );
    assert_eq!(out["admins"], 1);
    assert!(!out.to_string().contains("pass"));
    let h = H::new();
    h.reports_host_error("users", "list_users", json!({}));
}

/// The fake's user entry for `name`: (admin, aclId).
fn user_entry(h: &H, name: &str) -> Option<(bool, Option<String>)> {
    h.host
        .users
        .borrow()
        .iter()
        .find(|u| u.username == name)
        .map(|u| (u.acl_id.is_none(), u.acl_id.clone()))
}

/// A second admin, "ops", so that "admin" is neither the caller nor the last admin.
fn add_ops_admin(h: &H) {
    h.host.add_user("ops", "ops-password", None);
}

/// `name` went through the raw users component, not a device removal.
fn assert_removed_by_the_component(h: &H, name: &str) {
    assert_eq!(h.host.calls_of("removeUser"), [json!({ "username": name })]);
    assert!(!h.host.called("removeDevice"));
    assert!(user_entry(h, name).is_none());
}

/// add_user that must succeed, and its answer.
fn assert_adds_user(h: &H, username: &str, password: &str, admin: bool) {
    let out = h.ok(
        "add_user",
        json!({"username": username, "password": password, "admin": admin}),
    );
    assert_eq!(
        out,
        json!({"username": username, "admin": admin, "created": true})
    );
}

/// The id of core's `user:<name>` device in the fake, if any.
fn core_user_device(h: &H, name: &str) -> Option<String> {
    h.host
        .find_device("@scrypted/core", &format!("user:{name}"))
}

#[test]
fn add_user_with_core_goes_through_cores_users_device_creator() {
    // docs/reference/scrypted-host.md §3.4: the UI creates users with core's UsersCore.createDevice
    let h = H::new();
    assert_adds_user(&h, "ops", "s3cret-pass", true);
    assert_eq!(
        h.host.calls_of("callDeviceMethod"),
        [json!({"id": "2", "method": "createDevice",
                "args": [{"username": "ops", "password": "s3cret-pass", "admin": true}]})]
    );
    assert!(!h.host.called("addUser"), "no raw users.addUser");
    assert_eq!(h.mutations(), ["callDeviceMethod"]);
    assert!(core_user_device(&h, "ops").is_some());
    assert_eq!(user_entry(&h, "ops"), Some((true, None)));

    // A restricted user: its aclId is the id of the user:<name> device core created.
    let h = H::new();
    assert_adds_user(&h, "guest", "guest-pass", false);
    assert!(!h.host.called("addUser"));
    let device = core_user_device(&h, "guest").expect("core's user:guest device");
    assert_eq!(user_entry(&h, "guest"), Some((false, Some(device))));
}

#[test]
fn add_user_without_core_adds_admins_raw_and_refuses_restricted_users() {
    let h = H::new();
    h.host.remove_core_users_provider();
    assert_adds_user(&h, "ops", "s3cret-pass", true);
    assert_eq!(
        h.host.calls_of("addUser"),
        [json!({"username": "ops", "password": "s3cret-pass", "aclId": null})]
    );
    assert!(!h.host.called("callDeviceMethod"));
    assert_eq!(h.mutations(), ["addUser"]);

    let h = H::new();
    h.host.remove_core_users_provider();
    let msg = h.failed(
        "add_user",
        json!({"username": "guest", "password": "guest-pass", "admin": false}),
    );
    assert!(msg.contains("@scrypted/core"), "{msg}");
    assert!(msg.contains("nothing was changed"), "{msg}");
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    assert_eq!(h.host.users.borrow().len(), 2);
    assert!(core_user_device(&h, "guest").is_none());

    // core installed, but its users device is not a DeviceCreator: the same as no core
    let h = H::new();
    let provider = h.host.find_device("@scrypted/core", "users").unwrap();
    h.host
        .devices
        .borrow_mut()
        .get_mut(&provider)
        .unwrap()
        .interfaces = vec!["ScryptedUser".into()];
    h.fails_saying(
        "add_user",
        json!({"username": "guest", "password": "guest-pass", "admin": false}),
        "@scrypted/core",
    );
    assert!(h.mutations().is_empty());
}

#[test]
fn add_user_host_failures_are_reported() {
    let h = H::new();
    let ops = json!({"username": "ops", "password": "s3cret-pass", "admin": true});
    h.reports_host_error("callDeviceMethod", "add_user", ops.clone());
    assert!(user_entry(&h, "ops").is_none());
    let h = H::new();
    h.host.remove_core_users_provider();
    h.reports_host_error("addUser", "add_user", ops);
    assert!(user_entry(&h, "ops").is_none());
}

#[test]
fn add_user_refusals() {
    let h = H::new();
    h.fails_saying(
        "add_user",
        json!({"username": "viewer", "password": "long-enough", "admin": false}),
        "already exists",
    );
    h.invalid(
        "add_user",
        json!({"username": "x", "password": "short", "admin": false}),
    );
    h.invalid(
        "add_user",
        json!({"username": "bad name", "password": "long-enough", "admin": false}),
    );
    h.invalid(
        "add_user",
        json!({"username": "x", "password": "long-enough"}),
    );
    assert!(!h.host.called("addUser"));
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
}

#[test]
fn remove_user_with_core_removes_the_users_device() {
    // docs/reference/scrypted-host.md §3.4: removing core's user:<name> device; core's releaseDevice removes the user
    let h = H::new();
    let out = h.ok("remove_user", json!({"username": "viewer"}));
    assert_eq!(
        out,
        json!({"username": "viewer", "removed": true, "remaining": 1})
    );
    assert_eq!(h.host.calls_of("removeDevice"), [json!({"id": "20"})]);
    assert!(!h.host.called("removeUser"), "no raw users.removeUser");
    assert!(!h.host.devices.borrow().contains_key("20"));
    assert!(user_entry(&h, "viewer").is_none());
}

#[test]
fn remove_user_finishes_the_removal_when_cores_release_hook_is_late() {
    let h = H::new();
    h.host.core_release_is_late.set(true);
    let out = h.ok("remove_user", json!({"username": "viewer"}));
    assert_eq!(out["removed"], true);
    assert_eq!(h.host.calls_of("removeDevice"), [json!({"id": "20"})]);
    assert_eq!(
        h.host.calls_of("removeUser"),
        [json!({"username": "viewer"})],
        "the account is removed the way core would"
    );
    assert!(user_entry(&h, "viewer").is_none());
}

#[test]
fn remove_user_with_core_but_no_device_for_the_user_falls_back_to_the_component() {
    // e.g. an admin created before core, or by the raw component
    let mut h = H::new();
    add_ops_admin(&h);
    h.caller = caller("ops", "c");
    h.ok("remove_user", json!({"username": "admin"}));
    assert_removed_by_the_component(&h, "admin");
}

#[test]
fn remove_user_without_core_uses_the_component() {
    let h = H::new();
    h.host.remove_core_users_provider();
    let out = h.ok("remove_user", json!({"username": "viewer"}));
    assert_eq!(out["remaining"], 1);
    assert_removed_by_the_component(&h, "viewer");
}

#[test]
fn remove_user_host_failures_are_reported_and_change_nothing() {
    let h = H::new();
    h.reports_host_error("removeDevice", "remove_user", json!({"username": "viewer"}));
    assert!(user_entry(&h, "viewer").is_some());
    assert!(h.host.devices.borrow().contains_key("20"));
    let h = H::new();
    h.host.remove_core_users_provider();
    h.reports_host_error("removeUser", "remove_user", json!({"username": "viewer"}));
    assert!(user_entry(&h, "viewer").is_some());
}

#[test]
fn remove_user_refuses_the_caller_the_last_admin_and_unknown_users() {
    let h = H::new();
    h.fails_saying(
        "remove_user",
        json!({"username": "admin"}),
        "authorized this MCP connection",
    );
    let mut h = H::new();
    h.caller = caller("ops", "c");
    h.fails_saying("remove_user", json!({"username": "admin"}), "last admin");
    h.fails_saying("remove_user", json!({"username": "ghost"}), "No user");
    assert!(!h.host.called("removeUser"));
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    assert_eq!(h.host.users.borrow().len(), 2);
}

#[test]
fn remove_user_ends_the_removed_users_mcp_tokens_at_once() {
    // Scrypted kills a removed user's cookies at once (docs/reference/scrypted-host.md §3.4); an MCP access token
    // of that user must not live on until it expires.
    let mut h = H::new();
    add_ops_admin(&h);
    let host = "192.168.1.10:11080";
    let admins_token = flow::obtain_tokens(&h.plugin, host).access_token;
    let mcp = |token: &str| {
        let req = flow::mcp_post(host, token, &flow::initialize_body("t"));
        flow::send(&h.plugin, req).status
    };
    assert_eq!(mcp(&admins_token), 200, "the token works before");
    h.caller = caller("ops", "c");
    h.ok("remove_user", json!({"username": "admin"}));
    assert_eq!(
        mcp(&admins_token),
        401,
        "the removed user's token stops at once"
    );
}

// ---------------------------------------------------------------- network

#[test]
fn local_addresses_get_and_set() {
    let h = H::new();
    let out = h.ok("get_local_addresses", json!({}));
    assert_eq!(
        (out["addresses"].clone(), out["configured"].clone()),
        (Value::Null, json!(false))
    );
    let out = h.ok(
        "set_local_addresses",
        json!({"addresses": ["192.168.1.10", "eth0", "fe80::1"]}),
    );
    assert_eq!(out["before"], Value::Null);
    assert_eq!(
        h.host.calls_of("setLocalAddresses"),
        [json!({"addresses": ["192.168.1.10", "eth0", "fe80::1"]})]
    );
    // What Scrypted then answers: eth0 resolved to its (not link-local) address, and the
    // address this machine does not have dropped (addresses.ts getLocalAddresses).
    assert_eq!(out["after"], json!(["192.168.1.10", "192.168.1.10"]));
    assert_eq!(h.ok("get_local_addresses", json!({}))["configured"], true);
}

#[test]
fn local_addresses_failures() {
    let h = H::new();
    h.invalid(
        "set_local_addresses",
        json!({"addresses": ["http://192.168.1.10/"]}),
    );
    h.invalid("set_local_addresses", json!({"addresses": [""]}));
    assert!(!h.host.called("setLocalAddresses"));
    h.reports_host_error("localAddresses", "get_local_addresses", json!({}));
}

#[test]
fn external_addresses_are_memory_only() {
    let h = H::new();
    h.host
        .external
        .borrow_mut()
        .insert("@scrypted/hue".into(), vec!["hue.example.com".into()]);
    let out = h.ok("get_external_addresses", json!({"id": "@scrypted/hue"}));
    assert_eq!(out["addresses"], json!(["hue.example.com"]));
    assert_eq!(out["persisted"], false);
    let out = h.ok(
        "set_external_addresses",
        json!({"id": CAMERA_ID, "addresses": ["https://cam.example.com"]}),
    );
    assert_eq!(out["after"], json!(["https://cam.example.com"]));
    assert_eq!(out["persisted"], false);
    assert!(out["note"].as_str().unwrap().contains("memory only"));
    assert_eq!(
        h.host.external.borrow()[CAMERA_ID],
        ["https://cam.example.com"]
    );
}

#[test]
fn external_addresses_unknown_target() {
    let h = H::new();
    h.fails_saying(
        "get_external_addresses",
        json!({"id": "@nobody/x"}),
        "neither",
    );
    h.fails_saying(
        "set_external_addresses",
        json!({"id": "@nobody/x", "addresses": []}),
        "neither",
    );
    h.invalid(
        "set_external_addresses",
        json!({"id": CAMERA_ID, "addresses": ["a b"]}),
    );
    assert!(!h.host.called("setExternalAddresses"));
}

#[test]
fn cors_get_and_set_say_memory_only() {
    let h = H::new();
    h.host.env.borrow_mut().insert(
        "SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS".into(),
        "https://a.example, https://b.example".into(),
    );
    let out = h.ok("get_cors", json!({"id": SELF_PLUGIN}));
    assert_eq!(out["origins"], json!([]));
    assert_eq!(
        out["env_origins"],
        json!(["https://a.example", "https://b.example"])
    );
    let out = h.ok(
        "set_cors",
        json!({"id": SELF_PLUGIN, "origins": ["https://claude.ai", "http://localhost:6274"]}),
    );
    assert_eq!(
        out["after"],
        json!(["https://claude.ai", "http://localhost:6274"])
    );
    assert_eq!(out["persisted"], false);
    assert!(out["note"]
        .as_str()
        .unwrap()
        .contains("lost when the server restarts"));
    assert_eq!(h.host.cors_map.borrow()[SELF_PLUGIN].len(), 2);
}

#[test]
fn cors_rejects_bad_origins_and_unknown_targets() {
    let h = H::new();
    h.invalid(
        "set_cors",
        json!({"id": SELF_PLUGIN, "origins": ["https://claude.ai/path"]}),
    );
    h.invalid("set_cors", json!({"id": SELF_PLUGIN, "origins": ["*"]}));
    h.invalid(
        "set_cors",
        json!({"id": SELF_PLUGIN, "origins": ["claude.ai"]}),
    );
    h.fails_saying("set_cors", json!({"id": "ghost", "origins": []}), "neither");
    h.fails_saying("get_cors", json!({"id": "ghost"}), "neither");
    assert!(!h.host.called("setCors"));
}

// ---------------------------------------------------------------- cluster

#[test]
fn list_cluster_workers_outside_and_inside_cluster_mode() {
    let h = H::new();
    let out = h.ok("list_cluster_workers", json!({}));
    assert_eq!(
        (out["count"].clone(), out["cluster_mode"].clone()),
        (json!(0), json!(false))
    );
    assert!(out["message"]
        .as_str()
        .unwrap()
        .contains("not running in cluster-server mode"));
    *h.host.cluster.borrow_mut() = json!({"w1": {"name": "nuc", "labels": ["@scrypted/coreml"], "forks": [], "mode": "client", "address": "192.168.1.30"}});
    let out = h.ok("list_cluster_workers", json!({}));
    assert_eq!(out["workers"][0]["id"], "w1");
    assert_eq!(out["cluster_mode"], true);
}

#[test]
fn list_cluster_workers_reports_failure() {
    let h = H::new();
    h.reports_host_error("clusterWorkers", "list_cluster_workers", json!({}));
}

// ---------------------------------------------------------------- backup

#[test]
fn create_backup_returns_an_embedded_zip_resource_and_summary() {
    let h = H::new();
    let out = h.call("create_backup", json!({})).unwrap();
    let bytes = h.host.backup.borrow().clone();
    assert_eq!(out.structured["bytes"], bytes.len());
    assert_eq!(out.structured["sha256"], crypto::sha256_hex(&bytes));
    assert!(out.structured["warning"]
        .as_str()
        .unwrap()
        .contains("every secret"));
    assert_eq!(out.extra_content.len(), 1);
    // As it goes on the wire: the MCP `EmbeddedResource` with `BlobResourceContents`.
    let block = serde_json::to_value(&out.extra_content[0]).unwrap();
    assert_eq!(block["type"], "resource");
    assert_eq!(block["resource"]["mimeType"], "application/zip");
    assert_eq!(
        block["resource"]["uri"],
        "scrypted-mcp://backup/20261121T100000Z.zip"
    );
    assert_eq!(
        crypto::b64_decode(block["resource"]["blob"].as_str().unwrap()).unwrap(),
        bytes
    );
    assert_eq!(h.mutations(), Vec::<String>::new());
}

#[test]
fn create_backup_refuses_one_over_max_restore_mb() {
    let h = H::new();
    h.store.set("settings.max_restore_mb", "1");
    *h.host.backup.borrow_mut() = vec![b'P'; 2 * 1024 * 1024];
    h.fails_saying("create_backup", json!({}), "max_restore_mb");
}

const CONFIRM: &str = "RESTORE FROM BACKUP";

fn accept() -> Elicited {
    let mut m = Map::new();
    m.insert("decision".into(), json!("RESTORE"));
    Elicited::Accept(m)
}

/// A zip-looking backup of `len` bytes.
fn zip_bytes(len: usize) -> Vec<u8> {
    let mut b = b"PK\x03\x04".to_vec();
    b.extend((0..len - 4).map(|i| (i * 7 % 251) as u8));
    b
}

fn one_shot(bytes: &[u8]) -> Value {
    json!({
        "confirm": CONFIRM,
        "chunk_base64": crypto::b64(bytes),
        "chunk_index": 0,
        "total_chunks": 1,
        "sha256": crypto::sha256_hex(bytes),
    })
}

/// Stages the first `count` chunks of a `total`-chunk upload, each `chunk`; the upload id.
fn stage(h: &H, chunk: &str, count: usize, total: usize) -> String {
    let first = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "chunk_base64": chunk, "chunk_index": 0, "total_chunks": total}),
    );
    let id = first["upload_id"].as_str().unwrap().to_string();
    for i in 1..count {
        h.ok(
            "restore_backup",
            json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": chunk, "chunk_index": i, "total_chunks": total}),
        );
    }
    id
}

fn nothing_restored(h: &H) {
    assert!(h.host.deferred().is_empty(), "a restore was scheduled");
}

#[test]
fn restore_accepted_schedules_the_restore_after_the_answer() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(5000);
    let out = h.ok("restore_backup", one_shot(&data));
    assert_eq!(out["status"], "scheduled");
    assert_eq!(out["delay_ms"], 1500);
    assert_eq!(
        h.host.deferred(),
        [deferred_call(
            1500,
            "restoreBackup",
            json!({"data": crypto::b64(&data)})
        )]
    );
    let asked = h.peer.asked.borrow();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].0.contains("5000 bytes"));
    assert_eq!(asked[0].1["properties"]["decision"]["enum"][0], "RESTORE");
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
}

/// On a real 0.144.2 the plugins came back from the packages stored in the restored
/// database within about 2 s, with no network (docs/reference/scrypted-host.md §13): no npm, no internet.
#[test]
fn restore_says_plugins_come_back_from_the_backup_not_npm() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let out = h.ok("restore_backup", one_shot(&zip_bytes(5000)));
    let description = catalogue()
        .iter()
        .find(|t| t.name == "restore_backup")
        .unwrap()
        .description;
    let asked = h.peer.asked.borrow()[0].0.clone();
    for text in [out["message"].as_str().unwrap(), description, &asked] {
        assert!(!text.contains("npm"), "{text}");
        assert!(!text.contains("internet"), "{text}");
        assert!(!text.contains("several minutes"), "{text}");
    }
    for text in [out["message"].as_str().unwrap(), description] {
        assert!(text.contains("from the backup"), "{text}");
    }
}

#[test]
fn restore_in_chunks_stages_then_restores() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(150_000);
    let chunks: Vec<&[u8]> = data.chunks(65_536).collect();
    assert_eq!(chunks.len(), 3);
    let first = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "chunk_base64": crypto::b64(chunks[0]), "chunk_index": 0, "total_chunks": 3}),
    );
    assert_eq!(first["status"], "staged");
    assert_eq!(first["missing_chunks"], json!([1, 2]));
    let id = first["upload_id"].as_str().unwrap().to_string();
    // Out of order is fine.
    let out = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": crypto::b64(chunks[2]), "chunk_index": 2, "total_chunks": 3}),
    );
    assert_eq!(out["received_chunks"], 2);
    let out = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": crypto::b64(chunks[1]), "chunk_index": 1, "total_chunks": 3}),
    );
    assert_eq!(out["complete"], true);
    assert_eq!(out["received_bytes"], 150_000);
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
    assert_eq!(h.peer.progress.borrow().len(), 3);
    let out = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "sha256": crypto::sha256_hex(&data)}),
    );
    assert_eq!(out["status"], "scheduled");
    assert_eq!(
        h.host.deferred(),
        [deferred_call(
            1500,
            "restoreBackup",
            json!({"data": crypto::b64(&data)})
        )]
    );
}

#[test]
fn restore_wrong_confirm_is_refused_before_anything() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let mut args = one_shot(&zip_bytes(100));
    for wrong in ["restore from backup", "RESTORE FROM BACKUP ", "yes"] {
        args["confirm"] = json!(wrong);
        h.fails_saying("restore_backup", args.clone(), "Nothing was restored");
    }
    h.invalid("restore_backup", json!({"chunk_base64": "UEsDBA=="}));
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
}

#[test]
fn restore_without_elicitation_support_is_refused() {
    let h = H::with_peer(FakePeer::new(false));
    let msg = h.failed("restore_backup", one_shot(&zip_bytes(100)));
    assert!(
        msg.contains("elicitation") && msg.contains("Nothing was restored"),
        "{msg}"
    );
    nothing_restored(&h);
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
}

#[test]
fn restore_declined_cancelled_or_not_chosen_restores_nothing() {
    let mut other = Map::new();
    other.insert("decision".into(), json!("KEEP CURRENT SERVER"));
    for (answer, says) in [
        (Ok(Elicited::Decline), "declined"),
        (Ok(Elicited::Cancel), "cancelled"),
        (Ok(Elicited::Accept(other)), "chose not to restore"),
        (Ok(Elicited::Accept(Map::new())), "chose not to restore"),
        (Err("session closed".to_string()), "dialog failed"),
    ] {
        let peer = FakePeer::new(true);
        peer.answers.borrow_mut().push(answer);
        let h = H::with_peer(peer);
        let msg = h.failed("restore_backup", one_shot(&zip_bytes(100)));
        assert!(
            msg.contains(says) && msg.contains("Nothing was restored"),
            "{msg}"
        );
        assert_eq!(h.peer.asked.borrow().len(), 1);
        nothing_restored(&h);
    }
}

#[test]
fn restore_oversized_is_refused() {
    let h = H::with_peer(FakePeer::answering(accept()));
    h.store.set("settings.max_restore_mb", "1");
    // 17 chunks of 64 KiB exceed 1 MB.
    let mut args = one_shot(&zip_bytes(100));
    args["total_chunks"] = json!(17);
    h.fails_saying("restore_backup", args, "max_restore_mb");
    // Chunks that add up past the bound.
    stage(&h, &crypto::b64(&zip_bytes(65_536)), 16, 16);
    assert_eq!(h.plugin.ctx.tools.staged_bytes(), 1024 * 1024);
    // A single chunk over 64 KiB.
    h.invalid("restore_backup", json!({"confirm": CONFIRM, "chunk_base64": crypto::b64(&zip_bytes(65_537)), "chunk_index": 0, "total_chunks": 1}));
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
}

#[test]
fn restore_bad_checksum_or_not_a_zip_is_refused_without_asking() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let mut args = one_shot(&zip_bytes(1000));
    args["sha256"] = json!(crypto::sha256_hex(b"something else"));
    let msg = h.failed("restore_backup", args);
    assert!(
        msg.contains("Checksum mismatch") && msg.contains("Nothing was restored"),
        "{msg}"
    );
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
    let not_zip = vec![7u8; 1000];
    h.fails_saying("restore_backup", one_shot(&not_zip), "not a zip");
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
}

#[test]
fn restore_uploads_expire_and_belong_to_their_caller() {
    let mut h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(1000);
    let id = stage(&h, &crypto::b64(&data[..500]), 1, 2);
    let second = json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": crypto::b64(&data[500..]), "chunk_index": 1, "total_chunks": 2, "sha256": crypto::sha256_hex(&data)});
    let me = h.caller.clone();
    h.caller = caller("admin", "another-client");
    h.fails_saying("restore_backup", second.clone(), "No staged upload");
    h.caller = me;
    h.clock.advance_ms(31 * 60 * 1000);
    h.fails_saying("restore_backup", second, "No staged upload");
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
    nothing_restored(&h);
}

#[test]
fn restore_of_an_incomplete_upload_is_refused() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(1000);
    let id = stage(&h, &crypto::b64(&data[..500]), 1, 2);
    let msg = h.failed(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "sha256": crypto::sha256_hex(&data)}),
    );
    assert!(msg.contains("incomplete") && msg.contains("[1]"), "{msg}");
    nothing_restored(&h);
}

#[test]
fn restore_staging_space_is_shared_across_connections() {
    let mut h = H::with_peer(FakePeer::answering(accept()));
    h.store.set("settings.max_restore_mb", "1");
    let chunk = crypto::b64(&zip_bytes(65_536));
    stage(&h, &chunk, 15, 16);
    // 15 of 16 MiB-sixteenths staged by one connection; another one gets one chunk in, not two.
    h.caller = caller("admin", "second");
    let other_id = stage(&h, &chunk, 1, 2);
    let msg = h.failed("restore_backup", json!({"confirm": CONFIRM, "upload_id": other_id, "chunk_base64": chunk, "chunk_index": 1, "total_chunks": 2}));
    assert!(msg.contains("other connections"), "{msg}");
    assert_eq!(h.plugin.ctx.tools.staged_bytes(), 1024 * 1024);
    nothing_restored(&h);
}
