//! Method dispatch: what each MCP method answers, as rmcp model types, shaped for the
//! session's negotiated revision on the way out.

#![allow(deprecated)] // rmcp marks logging deprecated for 2026-07-28; we speak 2025.

use super::jsonrpc::{self, parse_id};
use super::peer::RequestPeer;
use super::session::{self, log_rank, SessionRef};
use super::{calls, content};
use crate::tools::Caller;
use crate::Ctx;
use rmcp::model::{
    ClientCapabilities, CompleteRequestParams, CompleteResult, ErrorData, Implementation,
    InitializeResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, PromptsCapability, ProtocolVersion,
    ResourcesCapability, ServerCapabilities, ServerResult, SetLevelRequestParams, ToolsCapability,
};
use serde_json::{json, Map, Value};
use std::rc::Rc;

/// One client request being served.
pub struct Call {
    pub ctx: Rc<Ctx>,
    pub caller: Caller,
    pub peer: Rc<RequestPeer>,
}

impl Call {
    pub fn session(&self) -> &SessionRef {
        self.peer.session()
    }
}

const INSTRUCTIONS: &str = "Tools for administering this Scrypted home-automation server: \
server information, plugins, devices, logs, alerts, users, network and backups. Start with \
read-only tools (get_server_info) to understand the server. Tools marked destructive change \
the server; they ask the user for confirmation when the client supports elicitation, and \
some restart Scrypted or this plugin after answering. The resource \
scrypted-mcp://audit/recent lists the latest tool calls; the prompt diagnose_server walks \
through a health check.";

/// Validates `initialize` params: the negotiated version, the client's capabilities, and
/// the result to send.
pub fn initialize(
    params: &Value,
) -> Result<(ProtocolVersion, ClientCapabilities, Value), ErrorData> {
    let Some(requested) = params.get("protocolVersion").and_then(Value::as_str) else {
        return Err(ErrorData::invalid_params(
            "initialize requires params.protocolVersion",
            Some(json!({ "supported": session::SUPPORTED_VERSIONS })),
        ));
    };
    let version = session::negotiate(requested);
    let capabilities = client_capabilities(params.get("capabilities"));

    let mut caps = ServerCapabilities::default();
    let mut tools = ToolsCapability::default();
    tools.list_changed = Some(false);
    caps.tools = Some(tools);
    let mut resources = ResourcesCapability::default();
    if cfg!(feature = "conformance-fixtures") {
        resources.subscribe = Some(true);
    }
    caps.resources = Some(resources);
    caps.prompts = Some(PromptsCapability::default());
    caps.logging = Some(Map::new());
    caps.completions = Some(Map::new());

    let manifest = &*crate::manifest::MANIFEST;
    let info = Implementation::new(manifest.name.clone(), manifest.version.clone())
        .with_title(manifest.display_name.clone());
    let result = InitializeResult::new(caps)
        .with_protocol_version(version.clone())
        .with_server_info(info)
        .with_instructions(INSTRUCTIONS);
    let wire = to_wire(ServerResult::InitializeResult(result), &version);
    Ok((version, capabilities, wire))
}

/// The client's capabilities. An entry we cannot read counts as absent rather than
/// refusing the client, and only that entry: one malformed sibling must not hide
/// `elicitation`.
fn client_capabilities(value: Option<&Value>) -> ClientCapabilities {
    let Some(Value::Object(entries)) = value else {
        return ClientCapabilities::default();
    };
    let readable: Map<String, Value> = entries
        .iter()
        .filter(|(name, entry)| {
            serde_json::from_value::<ClientCapabilities>(json!({ *name: entry })).is_ok()
        })
        .map(|(name, entry)| (name.clone(), entry.clone()))
        .collect();
    serde_json::from_value(Value::Object(readable)).unwrap_or_default()
}

/// Notifications from the client: nothing is answered.
pub fn notify(session: &SessionRef, method: &str, params: &Value) {
    if method == "notifications/cancelled" {
        let Some(id) = params.get("requestId").and_then(parse_id) else {
            return;
        };
        // Take the handle first: aborting runs the request's guards, which borrow again.
        let handle = session.borrow_mut().cancel(&id);
        if let Some(handle) = handle {
            handle.abort();
        }
    }
    // notifications/initialized, progress and roots changes need no action.
}

/// One page of a list method's items. A macro because rmcp generates each list result as
/// its own struct (same `with_all_items` and `next_cursor`, no shared trait).
macro_rules! paged {
    ($result:ident, $items:expr, $params:expr) => {{
        let (items, next) = super::paging::page(&$items, cursor($params)?.as_deref())?;
        let mut result = $result::with_all_items(items);
        result.next_cursor = next;
        ServerResult::$result(result)
    }};
}

pub async fn dispatch(call: Rc<Call>, method: &str, params: Value) -> Result<Value, ErrorData> {
    let version = call.peer.version();
    let result = match method {
        "ping" => ServerResult::empty(()),
        "logging/setLevel" => set_level(call.session(), &params)?,
        "completion/complete" => {
            let p: CompleteRequestParams = jsonrpc::params(&params)?;
            ServerResult::CompleteResult(CompleteResult::new(content::complete(&p)?))
        }
        "tools/list" => paged!(ListToolsResult, calls::all_tools(), &params),
        "tools/call" => ServerResult::CallToolResult(calls::call(&call, &params).await?),
        "resources/list" => paged!(ListResourcesResult, content::resources(), &params),
        "resources/templates/list" => {
            paged!(ListResourceTemplatesResult, content::templates(), &params)
        }
        "resources/read" => ServerResult::ReadResourceResult(content::read(&call.ctx, &params)?),
        #[cfg(feature = "conformance-fixtures")]
        "resources/subscribe" | "resources/unsubscribe" => {
            super::fixtures::subscription(call.session(), method, &params)?
        }
        "prompts/list" => paged!(ListPromptsResult, content::prompts(), &params),
        "prompts/get" => ServerResult::GetPromptResult(content::get_prompt(&call.ctx, &params)?),
        "initialize" => {
            return Err(ErrorData::invalid_request(
                "initialize must be sent alone, without a session id",
                None,
            ))
        }
        _ => return Err(jsonrpc::method_not_found(method)),
    };
    Ok(to_wire(result, &version))
}

fn cursor(params: &Value) -> Result<Option<String>, ErrorData> {
    let p: PaginatedRequestParams = jsonrpc::params(params)?;
    Ok(p.cursor)
}

fn set_level(session: &SessionRef, params: &Value) -> Result<ServerResult, ErrorData> {
    let p: SetLevelRequestParams = jsonrpc::params(params)?;
    let name = serde_json::to_value(p.level).unwrap_or_default();
    let rank = name
        .as_str()
        .and_then(log_rank)
        .ok_or_else(|| ErrorData::invalid_params("Invalid log level", None))?;
    session.borrow_mut().log_level = rank;
    Ok(ServerResult::empty(()))
}

/// Serializes a result for the negotiated revision: rmcp models 2026-07-28, so fields
/// the older revisions do not define are removed.
pub fn to_wire(mut result: ServerResult, version: &ProtocolVersion) -> Value {
    result.strip_result_type_for_legacy_peer();
    let mut value = serde_json::to_value(&result).unwrap_or_else(|_| json!({}));
    if *version < ProtocolVersion::V_2025_06_18 {
        strip_for_2025_03_26(&mut value);
    }
    value
}

/// 2025-06-18 added titles, output schemas and structured content.
fn strip_for_2025_03_26(value: &mut Value) {
    let Value::Object(obj) = value else {
        return;
    };
    obj.remove("structuredContent");
    if let Some(Value::Object(info)) = obj.get_mut("serverInfo") {
        info.remove("title");
    }
    for list in ["tools", "prompts", "resources", "resourceTemplates"] {
        if let Some(Value::Array(items)) = obj.get_mut(list) {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove("title");
                item.remove("outputSchema");
            }
        }
    }
}
