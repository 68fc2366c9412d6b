//! Method dispatch: what each MCP method answers, as rmcp model types, shaped for the
//! request's era and revision on the way out (`wire`).

#![allow(deprecated)] // rmcp marks logging deprecated for 2026-07-28; we still serve it.

use super::era::{self, Era};
use super::identity::{capabilities, server_info};
use super::jsonrpc::{self, parse_id};
use super::peer::Call;
use super::session::{self, log_rank, SessionRef};
use super::{calls, content, prompts, tasks, wire};
use rmcp::model::{
    CacheScope, ClientCapabilities, CompleteResult, DiscoverResult, ErrorCode, ErrorData,
    InitializeResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerResult, SetLevelRequestParams,
};
use serde_json::{json, Value};
use std::rc::Rc;

const INSTRUCTIONS: &str = "Tools for administering this Scrypted home-automation server: \
server information, plugins, devices, logs, alerts, users, network and backups. Start with \
read-only tools (get_server_info) to understand the server. Tools marked destructive change \
the server; they ask the user for confirmation when the client supports elicitation, and \
some restart Scrypted or this plugin after answering. The resource \
scrypted-mcp://audit/recent lists the latest tool calls; the prompts health_report, \
diagnose_plugin and security_review gather the evidence for common jobs.";

/// How long clients may cache what only a plugin update changes (discover, the lists):
/// an update reloads the plugin, which ends every listen stream, so clients refetch.
pub const STATIC_TTL_MS: u64 = 60 * 60 * 1000;

/// The methods of 2026-07-28 we serve; any other is 404 + -32601 in that era.
pub const MODERN_METHODS: [&str; 13] = [
    "server/discover",
    "subscriptions/listen",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
];

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
    let client = era::client_capabilities(params.get("capabilities"));
    let result = InitializeResult::new(capabilities(false))
        .with_protocol_version(version.clone())
        .with_server_info(server_info())
        .with_instructions(INSTRUCTIONS);
    let wire = wire::legacy(ServerResult::InitializeResult(result), &version);
    Ok((version, client, wire))
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

/// One page of a list method's items, cacheable by anyone for `STATIC_TTL_MS`: the
/// lists are the same for every user and change only with a plugin update. A macro
/// because rmcp generates each list result as its own struct (same `with_all_items`,
/// `next_cursor` and cache hints, no shared trait).
macro_rules! paged {
    ($result:ident, $items:expr, $params:expr) => {{
        let (items, next) = super::paging::page(&$items, cursor($params)?.as_deref())?;
        let mut result = $result::with_all_items(items);
        result.next_cursor = next;
        result.ttl_ms = Some(STATIC_TTL_MS);
        result.cache_scope = Some(CacheScope::Public);
        ServerResult::$result(result)
    }};
}

pub async fn dispatch(call: Rc<Call>, method: &str, params: Value) -> Result<Value, ErrorData> {
    let era = call.era().clone();
    let result = match (method, era.session()) {
        ("server/discover", None) => discover(),
        ("ping", Some(_)) => ServerResult::empty(()),
        ("logging/setLevel", Some(session)) => set_level(session, &params)?,
        ("completion/complete", _) => {
            let p = prompts::completion_params(&params)?;
            ServerResult::CompleteResult(CompleteResult::new(prompts::complete(&call, &p).await?))
        }
        ("tools/list", _) => paged!(ListToolsResult, *calls::all_tools(), &params),
        ("tools/call", None) if tasks::wanted(&params, &era.declared()) => {
            tasks::start(call.clone(), params).await?
        }
        ("tools/call", _) => ServerResult::CallToolResult(calls::call(&call, params).await?),
        ("tasks/get" | "tasks/update" | "tasks/cancel", None) => {
            tasks::method(&call.ctx, &call.caller, &era.declared(), method, &params)?
        }
        ("resources/list", _) => paged!(ListResourcesResult, content::resources(), &params),
        ("resources/templates/list", _) => {
            paged!(ListResourceTemplatesResult, content::templates(), &params)
        }
        ("resources/read", _) => {
            let read = content::read(&call, &params).await;
            ServerResult::ReadResourceResult(read.map_err(|e| not_found_for(&era, e))?)
        }
        ("resources/subscribe" | "resources/unsubscribe", Some(session)) => {
            content::subscription(&call, session, method, &params).await?
        }
        ("prompts/list", _) => paged!(ListPromptsResult, prompts::list(), &params),
        ("prompts/get", _) => ServerResult::GetPromptResult(prompts::get(&call, &params).await?),
        ("initialize", Some(_)) => {
            return Err(ErrorData::invalid_request(
                "initialize must be sent alone, without a session id",
                None,
            ))
        }
        _ => return Err(jsonrpc::method_not_found(method)),
    };
    // A handler that asked for input it did not get: the answer is the question.
    let result = match call.peer.inputs().and_then(|i| i.input_required(&call.ctx)) {
        Some(input) => ServerResult::InputRequiredResult(input),
        None => result,
    };
    Ok(match &era {
        Era::Legacy(_) => wire::legacy(result, &era.version()),
        Era::Modern(_) => wire::modern(result),
    })
}

/// 2026-07-28 renumbered "resource not found" to -32602 (-32002 must not be sent).
fn not_found_for(era: &Era, error: ErrorData) -> ErrorData {
    if era.is_modern() && error.code == ErrorCode::RESOURCE_NOT_FOUND {
        return ErrorData::invalid_params(error.message, error.data);
    }
    error
}

/// Supported versions, capabilities and identity; public for an hour, like the lists.
fn discover() -> ServerResult {
    let mut result = DiscoverResult::new(era::all_versions(), capabilities(true))
        .with_server_info(server_info())
        .with_ttl_ms(STATIC_TTL_MS)
        .with_cache_scope(CacheScope::Public);
    result.instructions = Some(INSTRUCTIONS.into());
    ServerResult::DiscoverResult(result)
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
