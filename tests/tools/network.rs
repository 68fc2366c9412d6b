//! Network (addresses, CORS) and cluster workers.

use super::*;

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
    assert_eq!(out["resolved"], json!(["192.168.1.10", "192.168.1.10"]));
    assert_eq!(out["after"], json!(["192.168.1.10", "eth0", "fe80::1"]));
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
    // As runtime.ts getAccessControlAllowOrigin splits it: " https://b.example" never matches.
    assert_eq!(
        out["env_origins"],
        json!(["https://a.example", " https://b.example"])
    );
    let out = h.ok(
        "set_cors",
        json!({"id": "@scrypted/core", "origins": ["https://claude.ai", "http://localhost:6274"]}),
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
    assert_eq!(h.host.cors_map.borrow()["@scrypted/core"].len(), 2);
}

#[test]
fn set_cors_refuses_this_plugin_and_writes_nothing() {
    // Issue 8 item 5: an origin listed for this plugin could read its consent page with
    // an admin's cookie.
    let h = H::new();
    let before = h.host.cors_map.borrow().clone();
    for id in [SELF_PLUGIN, SELF_ID] {
        h.fails_saying(
            "set_cors",
            json!({"id": id, "origins": ["https://evil.example"]}),
            "is this MCP plugin",
        );
    }
    assert!(h.host.calls_of("setCors").is_empty());
    assert_eq!(*h.host.cors_map.borrow(), before);
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
