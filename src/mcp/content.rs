//! Resources: the audit trail, the device list (`scrypted://devices`) and each device's
//! state (`scrypted://devices/{id}`, the snapshot get_device answers), which clients can
//! subscribe to; legacy `resources/subscribe`; and the values completion offers for
//! template variables. (Prompts and completion itself: `prompts`.)

use super::jsonrpc;
use super::peer::Call;
use super::session::SessionRef;
use super::subscriptions::Change;
use crate::audit;
use crate::events::{EventKind, EventRecord};
use crate::tools::devices::{device_snapshot, summaries};
use crate::tools::resolve::Snapshot;
use crate::tools::{Peer, ToolContext};
use crate::Ctx;
use rmcp::model::{
    CacheScope, ErrorData, ReadResourceRequestParams, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, ServerResult,
};
use serde_json::{json, Value};
use std::rc::Rc;

pub const AUDIT_URI: &str = "scrypted-mcp://audit/recent";
pub const AUDIT_LIMIT: usize = 50;
pub const DEVICES_URI: &str = "scrypted://devices";
pub const DEVICE_TEMPLATE: &str = "scrypted://devices/{id}";

pub fn device_uri(id: &str) -> String {
    format!("{DEVICES_URI}/{id}")
}

/// The device id of a `scrypted://devices/{id}` URI.
fn device_id(uri: &str) -> Option<&str> {
    uri.strip_prefix(DEVICES_URI)?
        .strip_prefix('/')
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

pub fn resources() -> Vec<Resource> {
    #[allow(unused_mut)]
    let mut list = vec![
        Resource::new(AUDIT_URI, "audit-recent")
            .with_title("Recent tool calls")
            .with_description(format!(
                "The latest {AUDIT_LIMIT} MCP tool calls on this server, newest first: time, \
                 user, client, tool, outcome and a hash of the arguments."
            ))
            .with_mime_type("application/json"),
        Resource::new(DEVICES_URI, "devices")
            .with_title("Devices")
            .with_description(
                "Every Scrypted device: id, name, type, room, plugin and interfaces. \
                 Subscribers hear when a device is added, removed, renamed or moved.",
            )
            .with_mime_type("application/json"),
    ];
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::resources());
    list
}

pub fn templates() -> Vec<ResourceTemplate> {
    #[allow(unused_mut)]
    let mut list = vec![ResourceTemplate::new(DEVICE_TEMPLATE, "device")
        .with_title("A device's state")
        .with_description(
            "One device's state, interfaces, mixins and storage key names: what get_device \
             answers, secrets redacted. Subscribers hear when its state changes, at most once \
             a second.",
        )
        .with_mime_type("application/json")];
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::templates());
    list
}

/// Whether a listener may subscribe to `uri`: a resource we have, so one whose changes
/// we publish (`mcp::publish`) — a listed one, or an existing device.
pub async fn subscribable(ctx: &Ctx, uri: &str) -> bool {
    if resources().iter().any(|r| r.uri == uri) {
        return true;
    }
    match device_id(uri) {
        Some(id) => ctx
            .host
            .system_state()
            .await
            .is_ok_and(|state| state.contains_key(id)),
        None => false,
    }
}

fn not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found("Resource not found", Some(json!({ "uri": uri })))
}

/// JSON contents that change at any moment and may name what only this caller may see:
/// stale at once, for this authorization context only.
fn live_json(uri: &str, value: &impl serde::Serialize) -> ReadResourceResult {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type("application/json")
    ])
    .with_ttl_ms(0)
    .with_cache_scope(CacheScope::Private)
}

pub async fn read(call: &Call, params: &Value) -> Result<ReadResourceResult, ErrorData> {
    let p: ReadResourceRequestParams = jsonrpc::params(params)?;
    let uri = p.uri.as_str();
    if uri == AUDIT_URI {
        return Ok(live_json(uri, &audit::recent(&call.ctx, AUDIT_LIMIT)));
    }
    if uri == DEVICES_URI || device_id(uri).is_some() {
        return read_devices(call, uri).await;
    }
    #[cfg(feature = "conformance-fixtures")]
    if let Some(result) = super::fixtures::read(uri) {
        return Ok(result);
    }
    Err(not_found(uri))
}

/// The device list, or one device's snapshot; a host failure is an internal error with
/// the host's message.
async fn read_devices(call: &Call, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let failed = |e: crate::tools::ToolError| {
        let message = match e {
            crate::tools::ToolError::Failed(m)
            | crate::tools::ToolError::Refused(m)
            | crate::tools::ToolError::InvalidParams(m) => m,
        };
        let message = crate::tools::redact::text(message);
        ErrorData::internal_error(message, Some(json!({ "uri": uri })))
    };
    let tc = ToolContext {
        ctx: call.ctx.clone(),
        caller: call.caller.clone(),
        peer: call.peer.clone() as Rc<dyn Peer>,
    };
    let snap = Snapshot::load(&tc).await.map_err(failed)?;
    match device_id(uri) {
        None => Ok(live_json(uri, &json!({ "devices": summaries(&snap) }))),
        Some(id) if snap.device(id).is_some() => {
            let device = device_snapshot(&tc, &snap, id.to_string(), false)
                .await
                .map_err(failed)?;
            Ok(live_json(uri, &device))
        }
        Some(_) => Err(not_found(uri)),
    }
}

/// Legacy `resources/subscribe` / `unsubscribe`: the session's set of URIs, which its GET
/// stream delivers updates of. Unknown resources are -32002, as a read of them is.
pub async fn subscription(
    call: &Call,
    session: &SessionRef,
    method: &str,
    params: &Value,
) -> Result<ServerResult, ErrorData> {
    let uri = params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| ErrorData::invalid_params("uri is required", None))?;
    if method == "resources/subscribe" {
        if !subscribable(&call.ctx, uri).await {
            return Err(not_found(uri));
        }
        let subscriptions = &mut session.borrow_mut().subscriptions;
        if !subscriptions.iter().any(|s| s == uri) {
            subscriptions.push(uri.to_string());
        }
    } else {
        session.borrow_mut().subscriptions.retain(|s| s != uri);
    }
    Ok(ServerResult::empty(()))
}

/// The resources a device event changed, for `mcp::device_changed`.
pub fn changed_by(record: &EventRecord) -> Vec<Change> {
    let Some(id) = &record.device_id else {
        return Vec::new();
    };
    let device = Change::ResourceUpdated(device_uri(id));
    match record.kind {
        EventKind::State => vec![device],
        EventKind::Device | EventKind::Removed => {
            vec![device, Change::ResourceUpdated(DEVICES_URI.into())]
        }
        EventKind::Alert => Vec::new(),
    }
}

/// The values a template variable can take, for completion: device ids, in id order.
pub async fn template_values(call: &Call, uri: &str, variable: &str) -> Vec<String> {
    if uri != DEVICE_TEMPLATE || variable != "id" {
        return Vec::new();
    }
    match call.ctx.host.system_state().await {
        Ok(state) => summaries(&Snapshot { state })
            .into_iter()
            .map(|d| d.id)
            .collect(),
        Err(_) => Vec::new(),
    }
}
