//! Device resources over `subscriptions/listen`: a device's state changes reach the streams
//! that subscribed to it, at most once a second per resource; a read shows the new state;
//! closing the stream frees its listener; nothing reaches other subscribers.

use super::listen::{listen, message, open, ready};
use super::*;
use common::{Pump, CAMERA_ID, LAMP_ID, LIGHT_ID};

const LIGHT: &str = "scrypted://devices/10";

fn read_resource(s: &Server, uri: &str) -> Value {
    let reply = s.post(&rpc("resources/read", json!({ "uri": uri })));
    let result = reply.result();
    assert_eq!(
        (result["ttlMs"].as_u64(), result["cacheScope"].as_str()),
        (Some(0), Some("private"))
    );
    serde_json::from_str(result["contents"][0]["text"].as_str().unwrap()).unwrap()
}

#[test]
fn devices_are_resources_the_same_snapshot_get_device_answers() {
    let s = server();
    let listed = s.post(&rpc("resources/list", json!({}))).result();
    assert!(listed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["uri"] == "scrypted://devices"));
    let templates = s.post(&rpc("resources/templates/list", json!({}))).result();
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "scrypted://devices/{id}"
    );
    let device = read_resource(&s, "scrypted://devices/12");
    let tool = s
        .post(&rpc(
            "tools/call",
            json!({"name": "get_device", "arguments": {"id": CAMERA_ID}}),
        ))
        .result();
    assert_eq!(device, tool["structuredContent"]);
    assert!(!device.to_string().contains("camera-PASSWORD-xyz"));
    let list = read_resource(&s, "scrypted://devices");
    assert_eq!(
        list["devices"].as_array().unwrap().len(),
        s.host.devices.borrow().len()
    );
    let missing = s.post(&rpc(
        "resources/read",
        json!({"uri": "scrypted://devices/999"}),
    ));
    assert_eq!(missing.response()["error"]["code"], -32602);
    // Completion of the template's id: device ids.
    let done = s
        .post(&rpc(
            "completion/complete",
            json!({"ref": {"type": "ref/resource", "uri": "scrypted://devices/{id}"},
                   "argument": {"name": "id", "value": "1"}}),
        ))
        .result();
    assert_eq!(
        done["completion"]["values"],
        json!(["1", "10", "11", "12", "13", "14", "15"])
    );
}

#[test]
fn three_quick_changes_and_a_later_one_arrive_coalesced_then_nothing_after_closing() {
    let s = server();
    let pump = Pump::new(&s.plugin);
    let asked = json!({"resourceSubscriptions": [LIGHT, "scrypted://devices/999"]});
    let mut stream = open(&s, &listen(asked).id(json!("dev-1")));
    let ack = message(ready(&mut stream));
    assert_eq!(
        ack["params"]["notifications"],
        json!({"resourceSubscriptions": [LIGHT]})
    );
    let mut lamp = open(
        &s,
        &listen(json!({"resourceSubscriptions": ["scrypted://devices/11"]})),
    );
    message(ready(&mut lamp));

    // Three changes within 100 ms: the first at once, the other two as one, a second later.
    s.host.set_device_state(LIGHT_ID, "on", json!(false));
    s.clock.advance_ms(40);
    s.host.set_device_state(LIGHT_ID, "brightness", json!(10));
    s.clock.advance_ms(40);
    s.host.set_device_state(LIGHT_ID, "brightness", json!(20));
    pump.run();
    let first = message(ready(&mut stream));
    assert_eq!(first["method"], "notifications/resources/updated");
    assert_eq!(first["params"]["uri"], LIGHT);
    assert_eq!(
        first["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "dev-1"
    );
    // The first went out when the pump ran (80 ms in): the next may a second after it.
    assert_eq!(ready(&mut stream), None, "held until the second is over");
    s.clock.advance_ms(999);
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1);
    assert_eq!(message(ready(&mut stream))["params"]["uri"], LIGHT);
    assert_eq!(ready(&mut stream), None, "two changes, one notification");
    assert_eq!(read_resource(&s, LIGHT)["state"]["brightness"], 20);

    // A later change goes out at once.
    s.clock.advance_ms(1500);
    s.host.set_device_state(LIGHT_ID, "on", json!(true));
    pump.run();
    assert_eq!(message(ready(&mut stream))["params"]["uri"], LIGHT);
    assert_eq!(read_resource(&s, LIGHT)["state"]["on"], true);
    assert_eq!(
        ready(&mut lamp),
        None,
        "another device's subscriber hears nothing"
    );

    // Closing the stream removes its listener; later changes reach nobody.
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), 2);
    drop(stream);
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), 1);
    s.clock.advance_ms(5000);
    s.host.set_device_state(LIGHT_ID, "on", json!(false));
    s.host.set_device_state(LAMP_ID, "on", json!(true));
    pump.run();
    assert_eq!(
        message(ready(&mut lamp))["params"]["uri"],
        "scrypted://devices/11"
    );
    drop(lamp);
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), 0);

    // The ring saw every change, in order.
    let events = s.plugin.ctx.events.records();
    let seen: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.device_id.as_deref().unwrap(),
                e.property.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("10", "on"),
            ("10", "brightness"),
            ("10", "brightness"),
            ("10", "on"),
            ("10", "on"),
            ("11", "on")
        ]
    );
}

#[test]
fn a_device_added_renamed_or_removed_updates_the_device_list() {
    let s = server();
    let pump = Pump::new(&s.plugin);
    let both = json!({"resourceSubscriptions": ["scrypted://devices", "scrypted://devices/15"]});
    let mut stream = open(&s, &listen(both));
    message(ready(&mut stream));
    block_on(s.plugin.ctx.host.remove_device("15")).unwrap();
    pump.run();
    let uris: Vec<Value> = (0..2)
        .map(|_| message(ready(&mut stream))["params"]["uri"].clone())
        .collect();
    assert_eq!(
        uris,
        [json!("scrypted://devices/15"), json!("scrypted://devices")]
    );
    assert_eq!(ready(&mut stream), None);
}
