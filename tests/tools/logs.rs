//! Logs and alerts.

use super::*;

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

    assert!(
        !h.host.called("deviceStates"),
        "no device named, none checked"
    );
    let out = h.ok("get_logs", json!({"device_id": CAMERA_ID}));
    assert_eq!(out["total"], 2);
    assert!(h.host.calls_of("logs").contains(
        &json!({"path": ["device", CAMERA_ID], "titles": ["Devices", "Front Door Camera"]})
    ));
    // The device is checked by its own state only.
    assert!(!h.host.called("systemState"));
    assert_eq!(
        h.host.calls_of("deviceStates"),
        [json!({"ids": [CAMERA_ID], "props": ["name"]})]
    );

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
    // The logger gets the device's name if getLogger has to make it (runtime.ts
    // getDeviceLogger's title), so the server's own later entries keep their title.
    assert_eq!(
        h.host.calls_of("clearLogs"),
        [json!({"path": ["device", LOCK_ID], "titles": ["Devices", "Front Door Lock"]})]
    );
    h.ok("get_logs", json!({"device_id": THERMO_ID}));
    assert_eq!(
        h.host.calls_of("logs").last(),
        Some(&json!({"path": ["device", THERMO_ID], "titles": ["Devices", "Hallway Sensor"]}))
    );
}

/// logger.ts clear() deletes every alert whose path starts with the logger's, so clearing the
/// core plugin's device "1" would take the lock's ("13") alert with it.
#[test]
fn clear_logs_that_would_delete_other_devices_alerts_is_refused_and_changes_nothing() {
    let h = H::new();
    let logs = h.host.logs.borrow().clone();
    let alerts = h.host.alerts.borrow().clone();
    let msg = h.failed("clear_logs", json!({"device_id": CORE_ID}));
    assert!(msg.contains("nothing was cleared"), "{msg}");
    assert!(msg.contains(&format!("device(s) {LOCK_ID}.")), "{msg}");
    assert!(
        msg.contains("also_clear_other_devices_alerts: true"),
        "{msg}"
    );
    assert!(h.host.calls_of("clearLogs").is_empty());
    assert_eq!(*h.host.logs.borrow(), logs);
    assert_eq!(*h.host.alerts.borrow(), alerts);

    let out = h.ok(
        "clear_logs",
        json!({"device_id": CORE_ID, "also_clear_other_devices_alerts": true}),
    );
    assert_eq!(out["alert_ids"], json!(["alert-1"]));
    assert_eq!(h.host.alerts.borrow()[0].id, "alert-2");
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

/// Issue 8 item 11: this plugin's own log is where its warnings go; not through its tools.
#[test]
fn clear_logs_of_this_plugin_is_refused() {
    let h = H::new();
    let before = h.host.logs.borrow().len();
    let msg = h.failed("clear_logs", json!({"device_id": SELF_ID}));
    assert!(
        msg.starts_with("Refused:") && msg.contains("clearing its log"),
        "{msg}"
    );
    assert!(!h.host.called("clearLogs"));
    assert_eq!(h.host.logs.borrow().len(), before);
}
