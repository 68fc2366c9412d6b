//! get_recent_events: the ring of device events since start, newest first, filtered,
//! bounded, with secrets redacted.

use super::*;

#[test]
fn events_are_listed_newest_first_with_their_device_and_value() {
    let h = H::new();
    let pump = Pump::new(&h.plugin);
    assert!(h.host.set_device_state(LIGHT_ID, "on", json!(false)));
    h.clock.advance_ms(1000);
    assert!(h
        .host
        .set_device_state(CAMERA_ID, "motionDetected", json!(true)));
    assert!(
        !h.host
            .set_device_state(CAMERA_ID, "motionDetected", json!(true)),
        "same value"
    );
    h.host
        .set_device_state(LOCK_ID, "lockState", json!("Unlocked"));
    pump.run();

    let out = h.ok("get_recent_events", json!({}));
    let events = out["events"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str, Value)> = events
        .iter()
        .map(|e| {
            (
                e["device_id"].as_str().unwrap(),
                e["interface"].as_str().unwrap(),
                e["property"].as_str().unwrap(),
                e["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (LOCK_ID, "Lock", "lockState", json!("Unlocked")),
            (CAMERA_ID, "MotionSensor", "motionDetected", json!(true)),
            (LIGHT_ID, "OnOff", "on", json!(false)),
        ]
    );
    assert_eq!(events[1]["device_name"], "Front Door Camera");
    assert_eq!(events[2]["kind"], "state");
    assert_eq!(
        (events[2]["seq"].as_u64(), events[0]["seq"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(
        events[2]["time_ms"].as_u64(),
        Some(NOW_MS),
        "the server's event time"
    );
    assert_eq!(out["now_ms"].as_u64(), Some(NOW_MS + 1000));
    assert_eq!(out["seen_since_start"], 3);
    assert_eq!(out["truncated"], false);
}

#[test]
fn filters_by_device_interface_and_time() {
    let h = H::new();
    let pump = Pump::new(&h.plugin);
    h.host.set_device_state(LIGHT_ID, "on", json!(false));
    h.host.set_device_state(LIGHT_ID, "brightness", json!(20));
    h.host.set_device_state(LAMP_ID, "on", json!(true));
    pump.run();
    let ids = |args: Value| {
        h.ok("get_recent_events", args)["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(json!({"id": LIGHT_ID})), [2, 1]);
    assert_eq!(ids(json!({"interface": "OnOff"})), [3, 1]);
    assert_eq!(ids(json!({"since_ms": NOW_MS + 1})), Vec::<u64>::new());
    assert_eq!(ids(json!({"since_ms": NOW_MS})), [3, 2, 1]);
    let page = h.ok("get_recent_events", json!({"limit": 2}));
    assert_eq!(
        (page["total"].as_u64(), page["truncated"].as_bool()),
        (Some(3), Some(true))
    );
    assert!(page["next"].as_str().unwrap().contains("offset 2"));
    assert_eq!(ids(json!({"offset": 2})), [1]);
    h.invalid("get_recent_events", json!({"device": LIGHT_ID}));
}

#[test]
fn removals_descriptor_changes_and_alerts_are_events_too() {
    let h = H::new();
    let pump = Pump::new(&h.plugin);
    h.ok("set_mixins", json!({"id": CAMERA_ID, "mixins": []}));
    h.ok("remove_alert", json!({"id": "alert-1"}));
    block_on(h.plugin.ctx.host.remove_device(DOOR_ID)).unwrap();
    pump.run();
    let out = h.ok("get_recent_events", json!({}));
    let kinds: Vec<(&str, Value)> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["device_id"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("removed", json!(DOOR_ID)),
            ("alert", Value::Null),
            ("device", json!(CAMERA_ID)),
        ]
    );
    let events = out["events"].as_array().unwrap();
    assert_eq!(events[0]["device_name"], Value::Null, "gone");
    assert_eq!(
        events[2]["value"],
        json!({"name": "Front Door Camera", "type": "Camera", "room": "Porch"})
    );
}

#[test]
fn the_ring_keeps_the_latest_1000() {
    let h = H::new();
    let pump = Pump::new(&h.plugin);
    for i in 0..1005 {
        h.host
            .set_device_state(THERMO_ID, "temperature", json!(20 + i));
    }
    pump.run();
    let out = h.ok("get_recent_events", json!({"limit": 1000}));
    let events = out["events"].as_array().unwrap();
    assert_eq!(events.len(), 1000);
    assert_eq!(out["total"], 1000);
    assert_eq!(out["seen_since_start"], 1005);
    assert_eq!(events[0]["seq"], 1005);
    assert_eq!(events[999]["seq"], 6, "the oldest five are gone");
}

#[test]
fn secret_looking_values_are_redacted() {
    let h = H::new();
    let pump = Pump::new(&h.plugin);
    h.host
        .set_device_state(CAMERA_ID, "rtspPassword", json!("cam-secret-1"));
    h.host
        .set_device_state(CAMERA_ID, "note", json!("Bearer abc.def"));
    pump.run();
    let out = h.ok("get_recent_events", json!({}));
    assert!(!out.to_string().contains("cam-secret-1"));
    assert!(!out.to_string().contains("abc.def"));
    for e in out["events"].as_array().unwrap() {
        assert_eq!(
            (&e["value"], &e["redacted"]),
            (&json!("[REDACTED]"), &json!(true))
        );
    }
}

#[test]
fn the_system_state_is_read_only_when_a_device_on_the_page_needs_its_name() {
    let h = H::new();
    let pump = Pump::new(&h.plugin);
    h.host.set_device_state(LIGHT_ID, "on", json!(false));
    pump.run();
    let state_reads = || {
        let whole = h.host.calls_of("systemState").len();
        (whole, h.host.calls_of("deviceStates"))
    };
    let (whole, before) = state_reads();
    let out = h.ok("get_recent_events", json!({"since_ms": NOW_MS + 1}));
    assert_eq!(out["events"], json!([]));
    assert_eq!(
        state_reads(),
        (whole, before.clone()),
        "no event to name: no host call"
    );
    let out = h.ok("get_recent_events", json!({}));
    assert_eq!(out["events"][0]["device_name"], "Kitchen Light");
    let (whole_after, asked) = state_reads();
    assert_eq!(whole_after, whole, "the whole system state is never read");
    assert_eq!(asked.len(), before.len() + 1);
    // Each device on the page asked for once, no other device.
    let mut on_page: Vec<&str> = out["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["device_id"].as_str())
        .collect();
    on_page.sort_unstable();
    on_page.dedup();
    let mut ids: Vec<&str> = asked.last().unwrap()["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, on_page);
    // Of each, its name only: not every property with its metadata.
    assert_eq!(asked.last().unwrap()["props"], json!(["name"]));
}
