//! Devices through the plugins component: ids, mixins, storage, consoles, clients.

use super::*;
use scrypted_mcp::oauth::Scope;

#[test]
fn rename_device_id_renames() {
    let h = H::new();
    let out = h.ok(
        "rename_device_id",
        json!({"id": DOOR_ID, "new_id": "back-door"}),
    );
    assert_eq!(out["plugin_id"], "@scrypted/zwave");
    assert!(h.host.devices.borrow().contains_key("back-door"));
    assert!(!h.host.devices.borrow().contains_key(DOOR_ID));
}

/// Scrypted's renameDeviceId removes the device before re-inserting it (runtime.ts
/// removeDevice): a plugin's root device takes the plugin with it, a provider the devices
/// it provides. Both are refused, dry run or not, and nothing reaches the server.
#[test]
fn rename_device_id_refuses_a_plugin_root_and_a_provider() {
    let h = H::new();
    let msg = h.failed(
        "rename_device_id",
        json!({"id": HUE_ID, "new_id": "hue-bridge"}),
    );
    assert!(
        msg.contains("root device of the plugin @scrypted/hue")
            && msg.contains("Nothing was changed"),
        "{msg}"
    );
    let users_provider = "2";
    let msg = h.failed(
        "rename_device_id",
        json!({"id": users_provider, "new_id": "users", "dry_run": true}),
    );
    assert!(
        msg.contains("provides 1 other device") && msg.contains("20 (viewer)"),
        "{msg}"
    );
    h.fails_saying(
        "rename_device_id",
        json!({"id": ZWAVE_ID, "new_id": "zwave"}),
        "root device",
    );
    assert!(!h.host.called("renameDeviceId"));
    assert!(h.host.plugins.borrow().contains_key("@scrypted/hue"));
    for id in [HUE_ID, LIGHT_ID, users_provider, VIEWER_ID] {
        assert!(
            h.host.devices.borrow().contains_key(id),
            "device {id} is still there"
        );
    }
}

#[test]
fn rename_device_id_refuses_collisions_itself_and_unknown_ids() {
    let h = H::new();
    // A device renamed before (new ids are names, never numbers).
    h.host
        .add_device("porch", "@scrypted/zwave", "porch", "Porch Light");
    let msg = h.failed(
        "rename_device_id",
        json!({"id": DOOR_ID, "new_id": "porch"}),
    );
    assert!(
        msg.contains("already used") && msg.contains("Porch Light"),
        "{msg}"
    );
    h.fails_saying(
        "rename_device_id",
        json!({"id": "porch", "new_id": " porch "}),
        "same as id",
    );
    h.fails_saying(
        "rename_device_id",
        json!({"id": SELF_ID, "new_id": "mcp-self"}),
        "Refused",
    );
    h.fails_saying(
        "rename_device_id",
        json!({"id": "999", "new_id": "nowhere"}),
        "No device",
    );
    h.invalid("rename_device_id", json!({"id": DOOR_ID, "new_id": "a b"}));
    assert!(!h.host.called("renameDeviceId"));
    assert_eq!(h.host.prop("porch", "name"), Some(json!("Porch Light")));
}

/// Scrypted numbers the devices it creates from a counter (server level.ts nextId) and
/// upsertDevice (runtime.ts) stores a new device under that id without checking: a device
/// renamed to a number not yet handed out would be overwritten by the next device Scrypted
/// creates, e.g. a new user's account device. All-digit ids are refused, dry run or not.
#[test]
fn rename_device_id_refuses_numeric_ids_scrypted_hands_out_itself() {
    let h = H::new();
    for args in [
        json!({"id": THERMO_ID, "new_id": "100"}),
        json!({"id": THERMO_ID, "new_id": "100", "dry_run": true}),
        json!({"id": THERMO_ID, "new_id": "0042"}),
    ] {
        let msg = h.failed("rename_device_id", args);
        assert!(
            msg.contains("is all digits")
                && msg.contains("overwritten by the next device Scrypted creates")
                && msg.contains("\"front-door\"")
                && msg.contains("Nothing was changed"),
            "{msg}"
        );
    }
    assert!(!h.host.called("renameDeviceId"));
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    // The sensor keeps its id, so creating a device later takes nothing from it.
    h.ok(
        "add_user",
        json!({"username": "ops", "password": "ops-password", "admin": false}),
    );
    assert_eq!(h.host.devices.borrow()[THERMO_ID].name, "Hallway Sensor");
}

/// Only ASCII letters, digits, '_' and '-': no paths, dots or spaces, and none of the names
/// a JavaScript object answers to itself (Scrypted keeps its devices in objects keyed by id).
#[test]
fn rename_device_id_takes_plain_names_only() {
    let h = H::new();
    for new_id in ["__proto__", "constructor", "Constructor", "PROTOTYPE"] {
        for dry_run in [true, false] {
            let msg = h.failed(
                "rename_device_id",
                json!({"id": THERMO_ID, "new_id": new_id, "dry_run": dry_run}),
            );
            assert!(
                msg.contains("a name JavaScript objects use for themselves")
                    && msg.contains("\"front-door\"")
                    && msg.contains("Nothing was changed"),
                "{new_id}: {msg}"
            );
        }
    }
    let too_long = "a".repeat(129);
    for new_id in [
        "../1",
        "a/b",
        "a.b",
        "tür",
        "door#1",
        "",
        "  ",
        too_long.as_str(),
    ] {
        let msg = h.invalid(
            "rename_device_id",
            json!({"id": THERMO_ID, "new_id": new_id}),
        );
        assert!(
            msg.contains("each an ASCII letter, digit, '_' or '-'")
                && msg.contains("\"front-door\""),
            "{new_id}: {msg}"
        );
    }
    assert!(!h.host.called("renameDeviceId"));
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    assert_eq!(h.host.devices.borrow()[THERMO_ID].name, "Hallway Sensor");

    // Plain names pass, and a real rename goes through.
    for new_id in [
        "front-door",
        "Garage_Light-2",
        "1st-floor",
        "_x",
        &"a".repeat(128),
    ] {
        let out = h.ok(
            "rename_device_id",
            json!({"id": THERMO_ID, "new_id": new_id, "dry_run": true}),
        );
        assert_eq!(out["new_id"], new_id);
    }
    assert!(!h.host.called("renameDeviceId"));
    let out = h.ok(
        "rename_device_id",
        json!({"id": THERMO_ID, "new_id": " hallway-sensor "}),
    );
    assert_eq!(out["new_id"], "hallway-sensor");
    assert_eq!(
        h.host.calls_of("renameDeviceId"),
        [json!({"id": THERMO_ID, "newId": "hallway-sensor"})]
    );
    assert_eq!(
        h.host.devices.borrow()["hallway-sensor"].name,
        "Hallway Sensor"
    );
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

/// A user's account device, a core Script and a core Automation are kept for admin tokens
/// by every other tool; their mixins too. A script or automation as a mixin provider runs
/// its server-side code on the device's calls: setting one as a mixin, keeping it in the
/// list sent, or removing it needs admin as well. Refused before anything is written.
#[test]
fn set_mixins_keeps_accounts_scripts_and_automations_for_admin_tokens() {
    let mut h = H::new();
    let automation = fake::Device::new(
        "90",
        "@scrypted/core",
        "automation:x",
        "Auto",
        "Automation",
        &["OnOff", "Settings"],
    );
    let script = fake::Device::new(
        "91",
        "@scrypted/core",
        "script:x",
        "Script",
        "Program",
        &["Scriptable", "Program", "MixinProvider", "Settings"],
    );
    h.host.devices.borrow_mut().insert("90".into(), automation);
    h.host.devices.borrow_mut().insert("91".into(), script);
    h.host
        .devices
        .borrow_mut()
        .get_mut(LAMP_ID)
        .unwrap()
        .mixins
        .push("91".into());
    h.caller.scope = Scope::Control;
    for (args, says) in [
        (
            json!({"id": VIEWER_ID, "mixins": [HOMEKIT_ID]}),
            "Changing the mixins of device 20 (a user's account)",
        ),
        (
            json!({"id": "90", "mixins": [HOMEKIT_ID]}),
            "Changing the mixins of device 90 (an automation",
        ),
        (
            json!({"id": "91", "mixins": [], "dry_run": true}),
            "Changing the mixins of device 91 (a script",
        ),
        (
            json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID, "91"]}),
            "Setting device 91 (a script",
        ),
        (
            json!({"id": LIGHT_ID, "mixins": ["90"], "dry_run": true}),
            "Setting device 90 (an automation",
        ),
        (
            json!({"id": LAMP_ID, "mixins": ["91", HOMEKIT_ID]}),
            "Setting device 91 (a script",
        ),
        (
            json!({"id": LAMP_ID, "mixins": []}),
            "Removing device 91 (a script",
        ),
    ] {
        let msg = h.failed("set_mixins", args.clone());
        assert!(
            msg.contains(says)
                && msg.contains("needs OAuth scope scrypted:admin")
                && msg.contains("Nothing was run"),
            "{args}: {msg}"
        );
    }
    assert!(h.host.calls_of("setMixins").is_empty());
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    assert_eq!(h.host.prop(VIEWER_ID, "mixins"), Some(json!([])));
    assert_eq!(h.host.prop(LAMP_ID, "mixins"), Some(json!(["91"])));

    // Operating the home still works with control.
    let out = h.ok(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID]}),
    );
    assert_eq!(out["after"], json!([HOMEKIT_ID]));

    h.caller.scope = Scope::Admin;
    h.ok(
        "set_mixins",
        json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID, "91"]}),
    );
    h.ok("set_mixins", json!({"id": LAMP_ID, "mixins": []}));
    h.ok("set_mixins", json!({"id": VIEWER_ID, "mixins": []}));
    assert_eq!(
        h.host.calls_of("setMixins"),
        [
            json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID]}),
            json!({"id": LIGHT_ID, "mixins": [HOMEKIT_ID, "91"]}),
            json!({"id": LAMP_ID, "mixins": []}),
            json!({"id": VIEWER_ID, "mixins": []}),
        ]
    );
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

/// Issue 8 item 7: secrets shown in clear before — by key (`MQTT_PASS`, `DB_PWD`, `pin`)
/// and by value (URL userinfo, webhooks, JWTs, a Hue app key, a PEM private key), also
/// inside JSON text (the RTSP plugin keeps its `urls` as a JSON list) — are hidden,
/// ordinary values stay, and a round trip of what was shown keeps every stored value.
#[test]
fn storage_secrets_by_key_and_value_are_hidden_and_round_trip() {
    let h = H::new();
    let secrets = [
        ("MQTT_PASS", "mqtt-pw-1"),
        ("DB_PWD", "db-pw-2"),
        ("pin", "4711"),
        ("rtsp", "rtsp://admin:cam-pw-3@192.168.1.40:554/s1"),
        (
            "notify",
            "https://hooks.slack.com/services/T0A/B0B/slackSecret4",
        ),
        (
            "session",
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl",
        ),
        ("bridge", "Qw3rTy9UiOp1AsDfGh2JkLzX4cVbNm8Q"),
        (
            "urls",
            r#"["rtsp://admin:cam-pw-5@192.168.1.5:554/cam/realmonitor"]"#,
        ),
        ("broker", r#"{"host":"broker","password":"mqtt-pw-6"}"#),
        (
            "cert",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0\n-----END PRIVATE KEY-----",
        ),
    ];
    let ordinary = [
        ("mac", "00:11:22:33:44:55"),
        ("uuid", "3f2c9a1e-7b4d-4c1a-9e2f-0a1b2c3d4e5f"),
        ("bypass", "true"),
        ("stream", "rtsp://192.168.1.40:554/s1"),
        ("zones", r#"["front","back"]"#),
    ];
    {
        let mut devices = h.host.devices.borrow_mut();
        let storage = &mut devices.get_mut(CAMERA_ID).unwrap().storage;
        for (k, v) in secrets.iter().chain(&ordinary) {
            storage.insert(k.to_string(), v.to_string());
        }
    }
    let before = h.host.devices.borrow()[CAMERA_ID].storage.clone();
    let out = h.ok("get_storage", json!({"id": CAMERA_ID}));
    let text = out.to_string();
    for (k, v) in secrets {
        assert!(!text.contains(v), "{k} shown: {text}");
        assert!(
            out["redacted_keys"].as_array().unwrap().contains(&json!(k)),
            "{k}"
        );
    }
    for (k, v) in ordinary {
        assert_eq!(out["storage"][k], v, "{k}");
    }
    assert_eq!(
        out["storage"]["rtsp"],
        "rtsp://admin:[REDACTED]@192.168.1.40:554/s1"
    );
    assert_eq!(
        out["storage"]["urls"],
        r#"["rtsp://admin:[REDACTED]@192.168.1.5:554/cam/realmonitor"]"#
    );
    assert_eq!(
        out["storage"]["broker"],
        r#"{"host":"broker","password":"[REDACTED]"}"#
    );
    let mut edited = out["storage"].clone();
    edited["ip"] = json!("192.168.1.41");
    h.ok("set_storage", json!({"id": CAMERA_ID, "storage": edited}));
    let mut expected = before;
    expected.insert("ip".into(), "192.168.1.41".into());
    assert_eq!(h.host.devices.borrow()[CAMERA_ID].storage, expected);
    // The placeholder in a URL that no longer matches the stored one would store it: refused.
    let msg = h.failed(
        "set_storage",
        json!({"id": CAMERA_ID, "merge": true,
               "storage": {"rtsp": "rtsp://admin:[REDACTED]@10.0.0.9:554/s1"}}),
    );
    assert!(
        msg.contains("rtsp") && msg.contains("Nothing was written"),
        "{msg}"
    );
    assert_eq!(h.host.devices.borrow()[CAMERA_ID].storage, expected);
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

/// Issue 8 item 11: this plugin's console, log and clients hold its security warnings
/// (token reuse); its own clients cannot wipe them.
#[test]
fn own_console_and_clients_are_refused() {
    let h = H::new();
    if let Some(own) = h.host.devices.borrow_mut().get_mut(SELF_ID) {
        own.console
            .push("refresh token reuse: grant revoked".into());
    }
    let console_before = h.host.devices.borrow()[SELF_ID].console.clone();
    let clients_before = h.host.plugins.borrow()[SELF_PLUGIN].clients_count;
    let msg = h.failed("clear_console", json!({"id": SELF_ID}));
    assert!(
        msg.starts_with("Refused:") && msg.contains(SELF_PLUGIN),
        "{msg}"
    );
    let msg = h.failed("disconnect_clients", json!({"plugin_id": SELF_PLUGIN}));
    assert!(
        msg.starts_with("Refused:") && msg.contains("security warnings"),
        "{msg}"
    );
    assert!(!h.host.called("clearConsole"));
    assert!(!h.host.called("disconnectClients"));
    assert_eq!(h.host.devices.borrow()[SELF_ID].console, console_before);
    assert_eq!(
        h.host.plugins.borrow()[SELF_PLUGIN].clients_count,
        clients_before
    );
}
