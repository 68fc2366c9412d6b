//! Plugins: list, inspect, reload, kill, install, update all, npm.

use super::*;

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

/// Scrypted's installNpm reads `registry.versions[version]` only (runtime.ts): a dist-tag is
/// looked up first and the exact version it names is what reaches the server.
#[test]
fn install_plugin_takes_a_dist_tag_as_the_version_it_names() {
    let h = H::new();
    let latest = h.ok("npm_info", json!({"endpoint": "@scrypted/hue"}))["result"]["dist-tags"]
        ["latest"]
        .as_str()
        .unwrap()
        .to_string();
    let out = h.ok(
        "install_plugin",
        json!({"package": "@scrypted/hue", "version": "latest"}),
    );
    assert_eq!(out["version_after"], latest.as_str());
    assert_eq!(out["requested_version"], "latest");
    assert!(out["message"]
        .as_str()
        .unwrap()
        .contains(&format!("(latest is {latest})")));
    assert_eq!(
        h.host.calls_of("installNpm"),
        [json!({"package": "@scrypted/hue", "version": latest})]
    );

    let msg = h.failed(
        "install_plugin",
        json!({"package": "@scrypted/hue", "version": "nightly"}),
    );
    assert!(
        msg.contains("neither a published version nor a dist-tag")
            && msg.contains(&format!("latest → {latest}"))
            && msg.contains("Nothing was installed"),
        "{msg}"
    );
    let msg = h.invalid(
        "install_plugin",
        json!({"package": "@scrypted/hue", "version": "^1.2"}),
    );
    assert!(msg.contains("ranges"), "{msg}");
    assert_eq!(h.host.calls_of("installNpm").len(), 1);
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
