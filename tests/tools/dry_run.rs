//! `dry_run: true` on every tool that replaces or removes state: the answer says exactly
//! what the real call then does, nothing reaches the host but reads, and an invalid dry
//! run fails exactly as the real call would.

use super::*;

/// Asserts a dry run of `args` fails exactly as the real call does (on a fresh host each),
/// and that neither wrote anything.
fn fails_like_the_real_call(name: &str, args: Value) {
    let mut dry = args.clone();
    dry["dry_run"] = json!(true);
    let (h_dry, h_real) = (H::new(), H::new());
    let preview = h_dry.call(name, dry);
    let real = h_real.call(name, args);
    assert!(real.is_err(), "{name}: the real call should fail: {real:?}");
    assert_eq!(preview, real, "{name}: the dry run fails as the real call");
    assert_eq!(h_dry.mutations(), Vec::<String>::new(), "{name}");
    assert_eq!(h_real.mutations(), Vec::<String>::new(), "{name}");
}

/// A successful dry run's answer; asserts the host saw only reads.
fn preview(h: &H, name: &str, mut args: Value) -> Value {
    args["dry_run"] = json!(true);
    let before = h.mutations();
    let out = h.ok(name, args);
    assert_eq!(out["dry_run"], true, "{name}: {out}");
    assert_eq!(h.mutations(), before, "{name} wrote in a dry run");
    out
}

// ---------- lists

#[test]
fn set_external_addresses_previews_the_list_it_then_writes() {
    let h = H::new();
    h.host.external.borrow_mut().insert(
        CAMERA_ID.into(),
        vec!["a.example.com".into(), "b.example.com".into()],
    );
    let args = json!({"id": CAMERA_ID, "addresses": ["b.example.com", "c.example.com"]});
    let out = preview(&h, "set_external_addresses", args.clone());
    assert_eq!(out["before"], json!(["a.example.com", "b.example.com"]));
    assert_eq!(out["after"], json!(["b.example.com", "c.example.com"]));
    assert_eq!(out["added"], json!(["c.example.com"]));
    assert_eq!(out["removed"], json!(["a.example.com"]));
    assert_eq!(
        h.host.external.borrow()[CAMERA_ID],
        ["a.example.com", "b.example.com"]
    );
    let real = h.ok("set_external_addresses", args);
    assert_eq!(real["dry_run"], false);
    for field in ["before", "after", "added", "removed", "reordered"] {
        assert_eq!(real[field], out[field], "{field}");
    }
    assert_eq!(
        h.host.external.borrow()[CAMERA_ID],
        ["b.example.com", "c.example.com"]
    );
}

#[test]
fn set_cors_previews_the_origins_it_then_writes() {
    let h = H::new();
    h.host
        .cors_map
        .borrow_mut()
        .insert(CAMERA_ID.into(), vec!["https://old.example".into()]);
    let args = json!({"id": CAMERA_ID, "origins": ["https://new.example"]});
    let out = preview(&h, "set_cors", args.clone());
    assert_eq!(
        (out["added"].clone(), out["removed"].clone()),
        (
            json!(["https://new.example"]),
            json!(["https://old.example"])
        )
    );
    assert_eq!(h.host.cors_map.borrow()[CAMERA_ID], ["https://old.example"]);
    let real = h.ok("set_cors", args);
    assert_eq!(
        (real["after"].clone(), real["added"].clone()),
        (out["after"].clone(), out["added"].clone())
    );
    assert_eq!(h.host.cors_map.borrow()[CAMERA_ID], ["https://new.example"]);
}

#[test]
fn set_local_addresses_previews_the_list_as_saved() {
    let h = H::new();
    let out = preview(
        &h,
        "set_local_addresses",
        json!({"addresses": ["192.168.1.10"]}),
    );
    assert_eq!(out["before"], Value::Null);
    assert_eq!(out["after"], json!(["192.168.1.10"]));
    assert_eq!(out["added"], json!(["192.168.1.10"]));
    assert_eq!(*h.host.local_addresses.borrow(), None);
    let real = h.ok(
        "set_local_addresses",
        json!({"addresses": ["192.168.1.10"]}),
    );
    assert_eq!(real["after"], out["after"]);
    // Interface names compare as saved, not as Scrypted resolves them: eth0 is
    // 192.168.1.10, yet saving "eth0" instead is a change.
    let out = preview(&h, "set_local_addresses", json!({"addresses": ["eth0"]}));
    assert_eq!(out["before"], json!(["192.168.1.10"]));
    assert_eq!(
        (out["added"].clone(), out["removed"].clone()),
        (json!(["eth0"]), json!(["192.168.1.10"]))
    );
    assert_eq!(out.get("resolved"), None);
    h.ok("set_local_addresses", json!({"addresses": ["eth0"]}));
    let out = preview(&h, "set_local_addresses", json!({"addresses": ["eth0"]}));
    assert_eq!(
        (out["added"].clone(), out["removed"].clone()),
        (json!([]), json!([])),
        "nothing would change"
    );
    // [] returns to automatic selection, which Scrypted answers as unset.
    let out = preview(&h, "set_local_addresses", json!({"addresses": []}));
    assert_eq!(out["after"], Value::Null);
    assert_eq!(out["removed"], json!(["eth0"]));
}

#[test]
fn set_mixins_previews_the_list_it_then_sends() {
    let h = H::new();
    let args = json!({"id": CAMERA_ID, "mixins": [HUE_ID, HUE_ID]});
    let out = preview(&h, "set_mixins", args.clone());
    assert_eq!(out["before"], json!([HOMEKIT_ID]));
    assert_eq!(out["after"], json!([HUE_ID]));
    assert_eq!(
        (out["added"].clone(), out["removed"].clone()),
        (json!([HUE_ID]), json!([HOMEKIT_ID]))
    );
    assert!(
        out["message"].as_str().unwrap().contains("Dry run"),
        "{out}"
    );
    assert_eq!(h.host.prop(CAMERA_ID, "mixins"), Some(json!([HOMEKIT_ID])));
    let real = h.ok("set_mixins", args);
    for field in ["before", "after", "added", "removed"] {
        assert_eq!(real[field], out[field], "{field}");
    }
}

#[test]
fn invalid_list_dry_runs_fail_like_the_real_call() {
    fails_like_the_real_call("set_mixins", json!({"id": LIGHT_ID, "mixins": [LIGHT_ID]}));
    fails_like_the_real_call("set_mixins", json!({"id": SELF_ID, "mixins": []}));
    fails_like_the_real_call("set_local_addresses", json!({"addresses": ["http://x/"]}));
    fails_like_the_real_call(
        "set_external_addresses",
        json!({"id": "@nobody/x", "addresses": []}),
    );
    fails_like_the_real_call(
        "set_cors",
        json!({"id": CAMERA_ID, "origins": ["https://a.example/path"]}),
    );
}

// ---------- maps

#[test]
fn set_storage_previews_values_but_never_secrets() {
    let h = H::new();
    let current = h.host.devices.borrow()[CAMERA_ID].storage.clone();
    let mut storage = h.ok("get_storage", json!({"id": CAMERA_ID}))["storage"].clone();
    storage["ip"] = json!("192.168.1.41");
    storage["username"] = json!("viewer");
    storage["password"] = json!("a-NEW-secret");
    storage["zone"] = json!("garden");
    let args = json!({"id": CAMERA_ID, "storage": storage});
    let out = preview(&h, "set_storage", args.clone());
    assert_eq!(h.host.devices.borrow()[CAMERA_ID].storage, current);
    let changes = out["changes"].as_array().unwrap();
    let change = |key: &str| changes.iter().find(|c| c["key"] == key).cloned().unwrap();
    assert_eq!(
        change("ip"),
        json!({"key": "ip", "change": "changed", "before": current["ip"], "after": "192.168.1.41"})
    );
    assert_eq!(
        change("password"),
        json!({"key": "password", "change": "changed", "before": "[REDACTED]", "after": "[REDACTED]"})
    );
    assert_eq!(
        change("zone"),
        json!({"key": "zone", "change": "added", "after": "garden"})
    );
    assert!(!out.to_string().contains("a-NEW-secret"), "{out}");
    assert!(!out.to_string().contains(&current["password"]));
    let real = h.ok("set_storage", args);
    assert_eq!(
        real["changes"],
        Value::Null,
        "the real call names keys only"
    );
    for field in ["added", "removed", "changed", "kept_secret_keys", "count"] {
        assert_eq!(real[field], out[field], "{field}");
    }
    let stored = h.host.devices.borrow()[CAMERA_ID].storage.clone();
    assert_eq!(stored["password"], "a-NEW-secret");
    assert_eq!(stored["zone"], "garden");
}

#[test]
fn set_storage_dry_run_fails_like_the_real_call() {
    fails_like_the_real_call(
        "set_storage",
        json!({"id": CAMERA_ID, "storage": {"nope": "[REDACTED]"}}),
    );
    fails_like_the_real_call("set_storage", json!({"id": SELF_ID, "storage": {}}));
    fails_like_the_real_call("set_storage", json!({"id": "999", "storage": {}}));
}

/// The tools that replace or remove state, each taking `dry_run`.
const PREVIEWING: &[&str] = &[
    "set_storage",
    "set_mixins",
    "set_local_addresses",
    "set_external_addresses",
    "set_cors",
    "set_dotenv",
    "rename_device_id",
    "remove_user",
    "clear_logs",
    "clear_alerts",
];

#[test]
fn every_replacing_tool_declares_and_describes_dry_run() {
    for name in PREVIEWING {
        let def = catalogue().iter().find(|t| t.name == *name).unwrap();
        let prop = def.input_schema()["properties"]["dry_run"].clone();
        assert_eq!(prop["type"], "boolean", "{name}: {prop}");
        assert_eq!(prop["default"], false, "{name}: {prop}");
        assert!(
            prop["description"]
                .as_str()
                .is_some_and(|d| d.contains("nothing")),
            "{name}: {prop}"
        );
        assert!(def.description.contains("dry_run: true"), "{name}");
        let out = Value::Object(def.output_schema());
        assert_eq!(out["properties"]["dry_run"]["type"], "boolean", "{name}");
    }
}

// ---------- text

#[test]
fn set_dotenv_previews_a_redacted_line_diff() {
    let h = H::new();
    let current = h.host.dotenv.borrow().clone().unwrap();
    let text = h.ok("get_dotenv", json!({}))["text"]
        .as_str()
        .unwrap()
        .replace("TZ=Europe/Berlin", "TZ=UTC")
        .replace(
            "SCRYPTED_CLUSTER_SECRET=[REDACTED]",
            "SCRYPTED_CLUSTER_SECRET=a-NEW-secret",
        );
    let args = json!({"text": text});
    let out = preview(&h, "set_dotenv", args.clone());
    assert_eq!(h.host.dotenv.borrow().as_deref(), Some(current.as_str()));
    assert_eq!(out["written"], false);
    let p = &out["preview"];
    assert_eq!(p["exists"], true);
    assert_eq!(
        (p["lines_added"].clone(), p["lines_removed"].clone()),
        (json!(2), json!(2))
    );
    let diff = p["diff"].as_str().unwrap();
    for line in [
        "-SCRYPTED_CLUSTER_SECRET=[REDACTED]\n",
        "+SCRYPTED_CLUSTER_SECRET=[REDACTED, changed]\n",
        "-TZ=Europe/Berlin\n",
        "+TZ=UTC\n",
        " SCRYPTED_ADMIN_TOKEN=[REDACTED]\n",
    ] {
        assert!(diff.contains(line), "{line:?} not in\n{diff}");
    }
    assert_eq!(p["changed_secret_keys"], json!(["SCRYPTED_CLUSTER_SECRET"]));
    for secret in [
        "a-NEW-secret",
        "cluster-SECRET-77aa",
        "adm-TOKEN-5f1e9c",
        "mqtt PASSWORD 9",
    ] {
        assert!(!out.to_string().contains(secret), "{secret} shown: {out}");
    }
    let real = h.ok("set_dotenv", args);
    assert_eq!(
        (real["written"].clone(), real["preview"].clone()),
        (json!(true), Value::Null)
    );
    assert_eq!(
        (real["bytes"].clone(), real["kept_secret_keys"].clone()),
        (out["bytes"].clone(), out["kept_secret_keys"].clone())
    );
    let written = current
        .replace("TZ=Europe/Berlin", "TZ=UTC")
        .replace("cluster-SECRET-77aa", "a-NEW-secret");
    assert_eq!(h.host.dotenv.borrow().as_deref(), Some(written.as_str()));
}

#[test]
fn set_dotenv_previews_a_new_file() {
    let h = H::new();
    *h.host.dotenv.borrow_mut() = None;
    let out = preview(&h, "set_dotenv", json!({"text": "TZ=UTC\n"}));
    assert_eq!(out["preview"]["exists"], false);
    assert_eq!(
        out["preview"]["diff"],
        "--- before\n+++ after\n@@ -0,0 +1 @@\n+TZ=UTC\n"
    );
    assert_eq!(*h.host.dotenv.borrow(), None);
}

#[test]
fn set_dotenv_dry_run_fails_like_the_real_call() {
    fails_like_the_real_call("set_dotenv", json!({"text": "NEW_TOKEN=[REDACTED]\n"}));
    fails_like_the_real_call("set_dotenv", json!({"text": "X".repeat(64 * 1024 + 1)}));
}

// ---------- removals

#[test]
fn remove_user_previews_the_account_its_device_and_its_grants() {
    let h = H::new();
    let args = json!({"username": "viewer"});
    let out = preview(&h, "remove_user", args.clone());
    assert_eq!(
        out,
        json!({"username": "viewer", "admin": false, "removed": false, "dry_run": true,
               "device_id": VIEWER_ID, "mcp_grants_ended": 0, "remaining": 1})
    );
    assert!(h.host.users.borrow().iter().any(|u| u.username == "viewer"));
    let real = h.ok("remove_user", args);
    assert_eq!(
        real,
        json!({"username": "viewer", "admin": false, "removed": true, "dry_run": false,
                            "device_id": VIEWER_ID, "mcp_grants_ended": 0, "remaining": 1})
    );
}

#[test]
fn remove_user_dry_run_fails_like_the_real_call() {
    fails_like_the_real_call("remove_user", json!({"username": "nobody"}));
    // The caller, who is also the last admin.
    fails_like_the_real_call("remove_user", json!({"username": "admin"}));
}

#[test]
fn clear_logs_previews_the_entries_and_alerts_it_then_removes() {
    let h = H::new();
    // logger.ts clear(): alerts whose path merely starts with the logger's go too.
    h.host.alerts.borrow_mut().push(scrypted_mcp::host::Alert {
        id: "alert-130".into(),
        timestamp: NOW_MS,
        title: Some("device 130".into()),
        path: Some("/device/130".into()),
        message: Some("x".into()),
    });
    let logs = h.host.logs.borrow().clone();
    // Device 130's alert would go too: without the consent to that, nothing happens.
    let refused = h.call("clear_logs", json!({"device_id": LOCK_ID, "dry_run": true}));
    assert!(refused.is_err(), "{refused:?}");
    let args = json!({"device_id": LOCK_ID, "also_clear_other_devices_alerts": true});
    let out = preview(&h, "clear_logs", args.clone());
    assert_eq!(out["alert_ids"], json!(["alert-1", "alert-130"]));
    assert_eq!(out["alerts_removed"], 2);
    let under = logs
        .iter()
        .filter(|l| l.path.as_deref() == Some("/device/13"))
        .count();
    assert!(under > 0);
    assert_eq!(out["logs_removed"], under);
    assert_eq!(*h.host.logs.borrow(), logs);
    assert_eq!(h.host.alerts.borrow().len(), 3);
    let real = h.ok("clear_logs", args);
    for field in ["logs_removed", "alerts_removed", "alert_ids"] {
        assert_eq!(real[field], out[field], "{field}");
    }
    let out = preview(&h, "clear_logs", json!({}));
    assert_eq!(out["alert_ids"], json!(["alert-2"]));
    assert_eq!(out["logs_removed"], h.host.logs.borrow().len());
}

#[test]
fn clear_alerts_previews_the_ids_it_then_removes() {
    let h = H::new();
    let out = preview(&h, "clear_alerts", json!({}));
    assert_eq!(
        out,
        json!({"removed": 2, "ids": ["alert-1", "alert-2"], "dry_run": true})
    );
    assert_eq!(h.host.alerts.borrow().len(), 2);
    let real = h.ok("clear_alerts", json!({}));
    assert_eq!(
        real,
        json!({"removed": 2, "ids": ["alert-1", "alert-2"], "dry_run": false})
    );
}

#[test]
fn rename_device_id_previews_old_and_new_id() {
    let h = H::new();
    let args = json!({"id": LAMP_ID, "new_id": "hue-lamp"});
    let out = preview(&h, "rename_device_id", args.clone());
    assert_eq!(
        (out["id"].clone(), out["new_id"].clone()),
        (json!(LAMP_ID), json!("hue-lamp"))
    );
    assert_eq!(out["plugin_id"], "@scrypted/hue");
    assert!(out["message"].as_str().unwrap().contains("would"), "{out}");
    assert!(h.host.devices.borrow().contains_key(LAMP_ID));
    let real = h.ok("rename_device_id", args);
    assert_eq!(
        (
            real["id"].clone(),
            real["new_id"].clone(),
            real["plugin_id"].clone()
        ),
        (
            out["id"].clone(),
            out["new_id"].clone(),
            out["plugin_id"].clone()
        )
    );
    assert!(h.host.devices.borrow().contains_key("hue-lamp"));
}

#[test]
fn invalid_removals_fail_like_the_real_call() {
    fails_like_the_real_call("clear_logs", json!({"device_id": "999"}));
    // Device 1's clear() would take device 13's alert with it.
    fails_like_the_real_call("clear_logs", json!({"device_id": CORE_ID}));
    fails_like_the_real_call(
        "rename_device_id",
        json!({"id": LAMP_ID, "new_id": LIGHT_ID}),
    );
    fails_like_the_real_call("rename_device_id", json!({"id": LAMP_ID, "new_id": "a b"}));
    fails_like_the_real_call(
        "rename_device_id",
        json!({"id": SELF_ID, "new_id": "mcp-self"}),
    );
}
