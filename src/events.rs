//! What the plugin saw happen on the server: the events of Scrypted's one
//! `systemManager.listen` stream (docs/reference/scrypted-host.md §14), kept in a bounded
//! in-memory ring since the plugin started, and handed to the MCP server so subscribed
//! clients hear that a device changed.
//!
//! The shim's listener calls the wasm export `deviceEvent`, which only enqueues
//! ([`Events::push`]): the callback runs between any two of our tasks, so it touches no
//! state. [`pump`] takes events off the queue one by one and decides everything: the
//! record (values redacted), the ring's bound, and which resources changed.
//!
//! One global listener serves every client: it costs Scrypted nothing (every plugin
//! process already receives every state change, §14) and the ring needs it whether or
//! not anyone subscribed. Per-client interest lives in the MCP server's listener
//! registry, and goes away with the last subscriber.

use crate::host::DeviceEvent;
use crate::tools::redact::redact_property;
use crate::Ctx;
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::StreamExt;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// The ring keeps the latest this many events; older ones are dropped.
pub const RING_CAPACITY: usize = 1000;

/// What kind of change an event was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A state property of a device changed (Scrypted reports only real changes).
    State,
    /// A device was added, or its name, room, type, interfaces or mixins changed.
    Device,
    /// A device was removed.
    Removed,
    /// An alert was raised (`value` holds it) or alerts were removed (`value` null).
    Alert,
}

/// One event as the ring keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EventRecord {
    /// Order of arrival since the plugin started: 1, 2, ...
    pub seq: u64,
    /// Unix time in ms: the server's event time, or the plugin's clock when Scrypted gives
    /// none (device added, changed or removed).
    pub time_ms: u64,
    pub kind: EventKind,
    /// The device; null for alerts.
    pub device_id: Option<String>,
    /// The Scrypted interface the event belongs to (e.g. "OnOff", "MotionSensor").
    pub interface: Option<String>,
    /// The state property that changed (e.g. "on", "motionDetected").
    pub property: Option<String>,
    /// The new value, "[REDACTED]" where it looks secret. For `device` events a summary
    /// (name, type, room); for alerts the alert's title and message.
    pub value: Value,
    /// True when (part of) the value was redacted.
    pub redacted: bool,
}

/// The queue between the shim's listener and [`pump`], and the ring of records.
pub struct Events {
    tx: UnboundedSender<DeviceEvent>,
    rx: RefCell<Option<UnboundedReceiver<DeviceEvent>>>,
    ring: RefCell<VecDeque<EventRecord>>,
    seq: Cell<u64>,
}

impl Default for Events {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded();
        Events {
            tx,
            rx: RefCell::new(Some(rx)),
            ring: RefCell::default(),
            seq: Cell::new(0),
        }
    }
}

impl Events {
    /// Enqueues one event of the host's listener; nothing else happens here.
    pub fn push(&self, event: DeviceEvent) {
        let _ = self.tx.unbounded_send(event);
    }

    /// The records, oldest first.
    pub fn records(&self) -> Vec<EventRecord> {
        self.ring.borrow().iter().cloned().collect()
    }

    /// The records `keep` takes, newest first: how many there are, and those from `offset`
    /// on, at most `limit` (only these are copied: the ring holds up to 1,000).
    pub fn page(
        &self,
        keep: impl Fn(&EventRecord) -> bool,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<EventRecord>) {
        let ring = self.ring.borrow();
        let mut total = 0;
        let mut page = Vec::new();
        for record in ring.iter().rev().filter(|r| keep(r)) {
            if total >= offset && page.len() < limit {
                page.push(record.clone());
            }
            total += 1;
        }
        (total, page)
    }

    /// The events seen since start, including those the ring dropped.
    pub fn seen(&self) -> u64 {
        self.seq.get()
    }

    fn record(&self, ctx: &Ctx, event: DeviceEvent) -> EventRecord {
        let seq = self.seq.get() + 1;
        self.seq.set(seq);
        let record = to_record(seq, ctx.clock.now_ms(), event);
        let mut ring = self.ring.borrow_mut();
        if ring.len() == RING_CAPACITY {
            ring.pop_front();
        }
        ring.push_back(record.clone());
        record
    }
}

/// Applies queued events as they come, for as long as the plugin runs (the wasm glue
/// spawns it once; a second call returns at once): each goes into the ring, then to
/// `reached_ring` (the MCP subscribers, given by the caller so that the ring does not
/// depend on the MCP server that reads it).
pub async fn pump(ctx: Rc<Ctx>, reached_ring: impl Fn(&Ctx, &EventRecord)) {
    let Some(mut rx) = ctx.events.rx.borrow_mut().take() else {
        return;
    };
    while let Some(event) = rx.next().await {
        let record = ctx.events.record(&ctx, event);
        reached_ring(&ctx, &record);
    }
}

fn to_record(seq: u64, now_ms: u64, event: DeviceEvent) -> EventRecord {
    let interface = event.event_interface.clone();
    let (kind, device_id, property, value) = match interface.as_deref() {
        Some("Logger") => (EventKind::Alert, None, None, alert_summary(&event.value)),
        // server/src/state.ts removeDevice: `property: 'id'`, the removed id as the data.
        Some("ScryptedDevice") if event.property.as_deref() == Some("id") => {
            let removed = event.value.as_str().map(String::from).or(event.id);
            (EventKind::Removed, removed, None, Value::Null)
        }
        Some("ScryptedDevice") => (
            EventKind::Device,
            event.id,
            None,
            device_summary(&event.value),
        ),
        _ => (EventKind::State, event.id, event.property, event.value),
    };
    let mut value = value;
    let redacted = redact_property(property.as_deref().unwrap_or(""), &mut value);
    EventRecord {
        seq,
        time_ms: event.event_time.unwrap_or(now_ms),
        kind,
        device_id,
        interface,
        property,
        value,
        redacted,
    }
}

/// A descriptor event carries the device's whole state map (`{prop: {value}}`); the ring
/// keeps what names the device, not its every property.
fn device_summary(state: &Value) -> Value {
    let mut out = Map::new();
    for key in ["name", "type", "room"] {
        if let Some(v) = state.pointer(&format!("/{key}/value")) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// An alert's log entry (`{title, message, path, ...}`); nothing when alerts were removed.
fn alert_summary(entry: &Value) -> Value {
    if !entry.is_object() {
        return Value::Null;
    }
    json!({ "title": entry.get("title"), "message": entry.get("message") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(v: Value) -> DeviceEvent {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn each_kind_of_listen_event_becomes_its_record() {
        let state = to_record(
            1,
            5,
            event(
                json!({"id": "10", "eventInterface": "OnOff", "property": "on",
                         "eventTime": 1000.0, "value": false}),
            ),
        );
        assert_eq!(
            (
                state.kind,
                state.device_id.as_deref(),
                state.property.as_deref(),
                state.time_ms
            ),
            (EventKind::State, Some("10"), Some("on"), 1000)
        );
        let removed = to_record(
            2,
            5,
            event(
                json!({"id": null, "eventInterface": "ScryptedDevice", "property": "id",
                         "eventTime": null, "value": "15"}),
            ),
        );
        assert_eq!(
            (removed.kind, removed.device_id.as_deref(), removed.time_ms),
            (EventKind::Removed, Some("15"), 5)
        );
        let device = to_record(
            3,
            5,
            event(json!({"id": "11", "eventInterface": "ScryptedDevice",
                         "value": {"name": {"value": "Lamp"}, "room": {"value": "Den"},
                                   "interfaces": {"value": ["OnOff"]}}})),
        );
        assert_eq!(device.value, json!({"name": "Lamp", "room": "Den"}));
        let alert = to_record(
            4,
            5,
            event(json!({"eventInterface": "Logger",
                         "value": {"title": "Hue", "message": "bridge offline", "path": "/x"}})),
        );
        assert_eq!(
            (alert.kind, alert.value),
            (
                EventKind::Alert,
                json!({"title": "Hue", "message": "bridge offline"})
            )
        );
    }

    #[test]
    fn secret_values_are_redacted_in_the_record() {
        let r = to_record(
            1,
            5,
            event(
                json!({"id": "12", "eventInterface": "Settings", "property": "apiToken",
                         "value": "abc"}),
            ),
        );
        assert_eq!((r.value, r.redacted), (json!("[REDACTED]"), true));
    }
}
