//! Legacy resource subscriptions: `resources/subscribe` edits the session's set, and its
//! GET stream carries `notifications/resources/updated` for those resources, coalesced at
//! one per resource per second; unsubscribing, a newer GET stream and the session's end
//! each stop it, and nothing crosses to another session.

use super::*;
use common::{Pump, LAMP_ID, LIGHT_ID};
use futures::stream::LocalBoxStream;
use futures::FutureExt;

const LIGHT: &str = "scrypted://devices/10";
const LAMP: &str = "scrypted://devices/11";

type Events = LocalBoxStream<'static, String>;

/// Opens the session's GET stream and reads its priming event.
fn get_stream(c: &Client<'_>) -> Events {
    let resp = c.server.send(c.request("GET", None));
    assert_eq!(resp.status, 200);
    let Body::Stream(mut stream) = resp.body else {
        panic!("not a stream");
    };
    let priming = stream.next().now_or_never().unwrap().unwrap();
    assert!(
        priming.starts_with("id: ") && priming.ends_with("data: \n\n"),
        "{priming:?}"
    );
    stream
}

fn ready(stream: &mut Events) -> Option<Option<String>> {
    stream.next().now_or_never()
}

/// The URI of the update that is ready now, after checking it is one without `_meta`.
fn update(stream: &mut Events) -> Value {
    let chunk = ready(stream)
        .expect("an update is ready")
        .expect("the stream goes on");
    let (id, message) = parse_event(&chunk);
    assert!(!id.is_empty(), "resumable ids on legacy streams");
    assert_eq!(message["method"], "notifications/resources/updated");
    assert!(message["params"].get("_meta").is_none(), "{message}");
    message["params"]["uri"].clone()
}

fn subscribe(c: &Client<'_>, id: i64, method: &str, uri: &str) -> Reply {
    c.call(id, method, json!({ "uri": uri }))
}

#[test]
fn a_session_hears_of_what_it_subscribed_to_on_its_get_stream() {
    let s = server();
    let pump = Pump::new(&s.plugin);
    let c = s.session(V11, json!({}));
    let other = s.session(V11, json!({}));
    assert_eq!(
        subscribe(&c, 1, "resources/subscribe", LIGHT).result(),
        json!({})
    );
    assert_eq!(
        subscribe(&other, 1, "resources/subscribe", LAMP).result(),
        json!({})
    );
    let mut stream = get_stream(&c);
    let mut others = get_stream(&other);
    assert_eq!(ready(&mut stream), None);

    // Three changes within 100 ms: the first at once, the others as one a second later.
    s.host.set_device_state(LIGHT_ID, "on", json!(false));
    s.clock.advance_ms(50);
    s.host.set_device_state(LIGHT_ID, "brightness", json!(5));
    s.host.set_device_state(LIGHT_ID, "brightness", json!(6));
    pump.run();
    assert_eq!(update(&mut stream), LIGHT);
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1000);
    assert_eq!(update(&mut stream), LIGHT);
    assert_eq!(ready(&mut stream), None);
    assert_eq!(ready(&mut others), None, "another session's subscription");
    let read = c
        .call(2, "resources/read", json!({ "uri": LIGHT }))
        .result();
    let state: Value = serde_json::from_str(read["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            state["state"]["on"].clone(),
            state["state"]["brightness"].clone()
        ),
        (json!(false), json!(6))
    );

    // Unsubscribed: nothing more, while the other session still hears its lamp.
    assert_eq!(
        subscribe(&c, 3, "resources/unsubscribe", LIGHT).result(),
        json!({})
    );
    s.clock.advance_ms(5000);
    s.host.set_device_state(LIGHT_ID, "on", json!(true));
    s.host.set_device_state(LAMP_ID, "on", json!(true));
    pump.run();
    assert_eq!(ready(&mut stream), None);
    assert_eq!(update(&mut others), LAMP);
}

#[test]
fn unknown_resources_cannot_be_subscribed_to() {
    let s = server();
    let c = s.session(V11, json!({}));
    for uri in [
        "scrypted://devices/999",
        "scrypted://nothing",
        "scrypted://devices/10/x",
    ] {
        assert_eq!(
            subscribe(&c, 1, "resources/subscribe", uri).error_code(),
            -32002,
            "{uri}"
        );
    }
    assert_eq!(
        subscribe(&c, 2, "resources/subscribe", "scrypted://devices").result(),
        json!({})
    );
    let reply = c.call(3, "resources/subscribe", json!({}));
    assert_eq!(reply.error_code(), -32602);
}

#[test]
fn a_newer_get_stream_or_the_sessions_end_stops_the_older_one() {
    let s = server();
    let active = || scrypted_mcp::mcp::active_listeners(&s.plugin.ctx);
    let c = s.session(V06, json!({}));
    subscribe(&c, 1, "resources/subscribe", LIGHT).result();
    let mut first = get_stream_unprimed(&c);
    assert_eq!(active(), 1);
    let mut second = get_stream_unprimed(&c);
    assert_eq!(ready(&mut first), Some(None), "replaced");
    assert_eq!(active(), 1);
    assert_eq!(s.send(c.request("DELETE", None)).status, 204);
    assert_eq!(ready(&mut second), Some(None), "the session ended");
    assert_eq!(active(), 0);
}

/// A 2025-06-18 session's GET stream: no priming event.
fn get_stream_unprimed(c: &Client<'_>) -> Events {
    let resp = c.server.send(c.request("GET", None));
    let Body::Stream(stream) = resp.body else {
        panic!("not a stream");
    };
    stream
}
