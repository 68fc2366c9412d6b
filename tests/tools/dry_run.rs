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
    // [] returns to automatic selection, which Scrypted answers as unset.
    let out = preview(&h, "set_local_addresses", json!({"addresses": []}));
    assert_eq!(out["after"], Value::Null);
    assert_eq!(out["removed"], json!(["192.168.1.10"]));
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
