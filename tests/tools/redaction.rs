//! Secrets inside free text (log lines, alerts, host errors, command lines, commented-out
//! `.env` lines) and in the places a read token sees them: none reaches a client in clear
//! (a review of 2026-12-08 found each of these shown as written).

use super::*;
use scrypted_mcp::host::{Alert, LogEntry};

fn reader() -> H {
    let mut h = H::new();
    h.caller.scope = scrypted_mcp::oauth::Scope::Read;
    h
}

/// Stores `entries` in device `id`'s storage, as its plugin would have.
fn store(h: &H, id: &str, entries: &[(&str, &str)]) {
    let mut devices = h.host.devices.borrow_mut();
    let storage = &mut devices.get_mut(id).unwrap().storage;
    for (key, value) in entries {
        storage.insert(key.to_string(), value.to_string());
    }
}

fn hidden(what: &str, v: &Value) {
    let s = v.to_string();
    assert!(!s.contains("hunter2"), "{what} shows the secret: {s}");
}

#[test]
fn hides_storage_ffmpeg_inputs() {
    let h = reader();
    store(
        &h,
        CAMERA_ID,
        &[(
            "ffmpegInputs",
            r#"["-rtsp_transport tcp -i rtsp://admin:hunter2@10.0.0.5:554/s1"]"#,
        )],
    );
    let out = h.ok("get_storage", json!({"id": CAMERA_ID}));
    hidden("get_storage ffmpegInputs", &out["storage"]["ffmpegInputs"]);
    assert_eq!(
        out["storage"]["ffmpegInputs"],
        r#"["-rtsp_transport tcp -i rtsp://admin:[REDACTED]@10.0.0.5:554/s1"]"#
    );
    // Written back as shown, the stored value is kept.
    h.ok(
        "set_storage",
        json!({"id": CAMERA_ID, "storage": out["storage"]}),
    );
    assert!(h.host.devices.borrow()[CAMERA_ID].storage["ffmpegInputs"].contains("hunter2"));
}

#[test]
fn hides_storage_free_text() {
    let h = reader();
    store(
        &h,
        CAMERA_ID,
        &[(
            "snapshotCommand",
            "ffmpeg -i rtsp://admin:hunter2@10.0.0.5/s1 -frames 1 -",
        )],
    );
    let out = h.ok("get_storage", json!({"id": CAMERA_ID}));
    hidden("get_storage free text", &out["storage"]["snapshotCommand"]);
}

#[test]
fn hides_logs() {
    let h = reader();
    // A URL, and a plugin's config logged as JSON.
    for message in [
        "rtsp://admin:hunter2@10.0.0.5:554/s1",
        r#"{"user":"u","password":"hunter2"}"#,
    ] {
        h.host.logs.borrow_mut().push(LogEntry {
            title: Some("RTSP Camera".into()),
            timestamp: NOW_MS,
            level: "e".into(),
            message: message.into(),
            path: Some(format!("/device/{CAMERA_ID}")),
        });
    }
    let out = h.ok("get_logs", json!({"limit": 2}));
    hidden("get_logs", &out["entries"]);
    let shown: Vec<&str> = out["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        shown.contains(&r#"{"password":"[REDACTED]","user":"u"}"#),
        "{shown:?}"
    );
}

#[test]
fn hides_alerts() {
    let h = reader();
    h.host.alerts.borrow_mut().push(Alert {
        id: "a-x".into(),
        timestamp: NOW_MS + 1,
        title: Some("Camera".into()),
        path: Some("/device/12".into()),
        message: Some("Stream failed: rtsp://admin:hunter2@10.0.0.5/s1 timed out".into()),
    });
    let out = h.ok("list_alerts", json!({"limit": 1}));
    hidden("list_alerts", &out["alerts"][0]["message"]);
    assert_eq!(
        out["alerts"][0]["message"],
        "Stream failed: rtsp://admin:[REDACTED]@10.0.0.5/s1 timed out"
    );
}

#[test]
fn hides_device_state_free_text() {
    let h = reader();
    h.host.set_device_state(
        CAMERA_ID,
        "lastError",
        json!("GET http://admin:hunter2@10.0.0.5/snap.jpg failed"),
    );
    let out = h.ok("get_device", json!({"id": CAMERA_ID}));
    hidden("get_device free text", &out["state"]["lastError"]);
    let pump = Pump::new(&h.plugin);
    h.host.set_device_state(
        CAMERA_ID,
        "lastError",
        json!("GET http://admin:hunter2@10.0.0.6/snap.jpg failed"),
    );
    pump.run();
    let out = h.ok("get_recent_events", json!({"limit": 1}));
    hidden("get_recent_events state", &out["events"][0]["value"]);
}

#[test]
fn hides_alert_event() {
    let h = reader();
    let pump = Pump::new(&h.plugin);
    h.host.fire(None, "Logger", None, None, json!({"title": "Cam", "message": "login rtsp://admin:hunter2@cam/s1 refused", "path": "/device/12"}));
    pump.run();
    let out = h.ok("get_recent_events", json!({"limit": 1}));
    hidden("get_recent_events alert", &out["events"][0]["value"]);
}

#[test]
fn hides_dotenv() {
    let h = reader();
    *h.host.dotenv.borrow_mut() = Some(
        "# SCRYPTED_ADMIN_TOKEN=hunter2Qw3rTy9UiOp1AsDfGh2JkLzX4\nMQTT_PASSWORD: hunter2\nCAM_URL=rtsp://admin:hunter2@cam # front door\nOK_URL=rtsp://admin:s3cr3t@cam/s1 # front\n".into());
    let original = h.host.dotenv.borrow().clone().unwrap();
    let out = h.ok("get_dotenv", json!({}));
    hidden("get_dotenv", &out["text"]);
    assert!(!out["text"].as_str().unwrap().contains("s3cr3t"));
    // The text written back as shown keeps every line it hid.
    let mut h = h;
    h.caller.scope = scrypted_mcp::oauth::Scope::Admin;
    h.ok("set_dotenv", json!({"text": out["text"]}));
    assert_eq!(h.host.dotenv.borrow().as_deref(), Some(original.as_str()));
}

#[test]
fn hides_server_env() {
    let h = reader();
    h.host.env.borrow_mut().insert(
        "SCRYPTED_NVR_ARGS".into(),
        "--url rtsp://admin:hunter2@cam".into(),
    );
    let out = h.ok("get_server_info", json!({}));
    hidden("server env", &out["env"]);
}

#[test]
fn hides_cluster_external() {
    let h = reader();
    *h.host.cluster.borrow_mut() = json!({"w1": {"id": "w1", "name": "gpu", "labels": [], "mode": "client", "address": "10.0.0.9", "forks": [{"id": "x", "env": {"TOKEN": "hunter2"}}]}});
    let out = h.ok("list_cluster_workers", json!({}));
    hidden("cluster", &out["workers"]);
    h.host.external.borrow_mut().insert(
        "@scrypted/core".into(),
        vec!["https://user:hunter2@example.com".into()],
    );
    let out = h.ok("get_external_addresses", json!({"id": "@scrypted/core"}));
    hidden("external", &out["addresses"]);
}

#[test]
fn hides_homekit_pairing_codes() {
    let h = reader();
    store(
        &h,
        HOMEKIT_ID,
        &[
            ("pincode", "031-45-154"),
            ("qrCode", "X-HM://0023ISYWY3154"),
            ("bridgeUsername", "vRc2uLoTz3zk7v9xOXS5wMEO8dT-RHMtR4tu4tRr"),
        ],
    );
    let out = h.ok("get_storage", json!({"id": HOMEKIT_ID}));
    // The HomeKit pairing code, in its own key and inside the setup URI.
    assert_eq!(out["storage"]["pincode"], "[REDACTED]");
    assert_eq!(out["storage"]["qrCode"], "[REDACTED]");
    assert_eq!(out["storage"]["bridgeUsername"], "[REDACTED]");
}

#[test]
fn hides_control_stream_options() {
    let mut h = H::new();
    h.caller.scope = scrypted_mcp::oauth::Scope::Control;
    h.host.set_device_state(CAMERA_ID, "videoStreamOptions", json!([{"id": "channel0", "name": "Stream 1", "url": "rtsp://admin:hunter2@10.0.0.5:554/s1", "container": "rtsp"}]));
    let dev = h.ok(
        "get_device",
        json!({"id": CAMERA_ID, "include_bulky": true}),
    );
    let out = h.ok(
        "call_device_method",
        json!({"id": CAMERA_ID, "method": "getVideoStreamOptions"}),
    );
    // The same answer as get_device's state shows.
    assert_eq!(out["result"], dev["state"]["videoStreamOptions"]);
    hidden("call_device_method getVideoStreamOptions", &out["result"]);
}

/// A code kept as a number inside a state value is hidden by its name's last word; other
/// numbers stay, whatever their names read like.
#[test]
fn hides_codes_kept_as_numbers() {
    let h = reader();
    h.host.set_device_state(
        LOCK_ID,
        "config",
        json!({"alarmPin": 4711, "PIN_CODE": 1234, "pinCount": 3, "keyframeInterval": 40}),
    );
    let out = h.ok("get_device", json!({"id": LOCK_ID}));
    assert_eq!(
        out["state"]["config"],
        json!({"alarmPin": "[REDACTED]", "PIN_CODE": "[REDACTED]", "pinCount": 3, "keyframeInterval": 40})
    );
}
