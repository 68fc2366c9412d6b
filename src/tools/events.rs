//! Recent device events: the ring of `crate::events`, filtered and paged.

use super::resolve::{prop_of, Snapshot};
use super::schema::{ok, page_bounds, tool, Page, READ};
use super::{ToolContext, ToolDef, ToolResult};
use crate::events::{EventRecord, RING_CAPACITY};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::rc::Rc;

pub const GET_RECENT_EVENTS: ToolDef = tool! {
    name: "get_recent_events",
    title: "Recent device events",
    description: "What happened on the server since this plugin last started (it knows nothing from before that, and keeps only the latest 1,000 events): device state changes (lights on/off, motion, doors, locks, temperatures, ...), devices added, changed or removed, and alerts raised or removed. Newest first. Filters: since_ms (Unix time in ms; `now_ms` in every answer helps compute it, e.g. now_ms - 600000 for the last ten minutes), id (one device), interface (exact, e.g. \"MotionSensor\"). Pages with limit/offset. Secret-looking values are \"[REDACTED]\". Scrypted does not report object detections or settings changes here.",
    input: RecentEventsArgs,
    output: RecentEventsOut,
    hints: READ,
    scope: Read,
    run: get_recent_events,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct RecentEventsArgs {
    /// Only events at or after this Unix time in milliseconds (default: all the plugin has).
    #[serde(default, alias = "sinceMs")]
    pub since_ms: Option<u64>,
    /// Only events of this device (Scrypted device id).
    #[serde(default)]
    pub id: Option<String>,
    /// Only events of this interface (exact, e.g. "OnOff", "MotionSensor", "Logger" for alerts).
    #[serde(default)]
    pub interface: Option<String>,
    /// Most events to return (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Matching events to skip, newest first (for paging back; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
}

crate::fields::args!(RecentEventsArgs {
    since_ms: aliased("since_ms", &["sinceMs", "since_ms"], false),
    id: optional,
    interface: optional,
    limit: optional,
    offset: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct EventOut {
    #[serde(flatten)]
    pub event: EventRecord,
    /// The device's current name; null when it is gone.
    pub device_name: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RecentEventsOut {
    /// Matching events, newest first.
    pub events: Vec<EventOut>,
    #[serde(flatten)]
    pub page: Page,
    /// The server's current time (Unix ms), to compute since_ms.
    pub now_ms: u64,
    /// Events seen since the plugin started; the oldest beyond the latest 1,000 are gone.
    pub seen_since_start: u64,
}

async fn get_recent_events(tc: Rc<ToolContext>, a: RecentEventsArgs) -> ToolResult {
    let since = a.since_ms.unwrap_or(0);
    let offset = a.offset.unwrap_or(0) as usize;
    let limit = page_bounds(a.limit, 100, RING_CAPACITY as u32);
    let (total, page) = tc.ctx.events.page(
        |r| {
            r.time_ms >= since
                && a.id
                    .as_ref()
                    .is_none_or(|id| r.device_id.as_ref() == Some(id))
                && a.interface
                    .as_ref()
                    .is_none_or(|i| r.interface.as_ref() == Some(i))
        },
        offset,
        limit,
    );
    // Names come from the state of the page's devices, asked of the host only when one
    // needs naming.
    // A page names few devices: a linear check is less code in the wasm than a sort or a set.
    let mut ids: Vec<&str> = Vec::new();
    for id in page.iter().filter_map(|r| r.device_id.as_deref()) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let snap = match ids.is_empty() {
        true => None,
        false => Some(Snapshot::load_of(&tc, &ids, &["name"]).await?),
    };
    let events: Vec<EventOut> = page
        .into_iter()
        .map(|r| EventOut {
            device_name: r
                .device_id
                .as_deref()
                .zip(snap.as_ref())
                .and_then(|(id, snap)| snap.device(id))
                .and_then(|m| prop_of(m, "name"))
                .and_then(Value::as_str)
                .map(String::from),
            event: r,
        })
        .collect();
    let page = Page::new("get_recent_events", offset, events.len(), total);
    ok(RecentEventsOut {
        events,
        page,
        now_ms: tc.ctx.clock.now_ms(),
        seen_since_start: tc.ctx.events.seen(),
    })
}
