//! Resources: the audit trail, and the values completion offers for template variables.
//! (Prompts and completion itself: `prompts`.)

use super::jsonrpc;
use super::server::Call;
use crate::audit;
use crate::Ctx;
use rmcp::model::{
    CacheScope, ErrorData, ReadResourceRequestParams, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};
use serde_json::Value;

pub const AUDIT_URI: &str = "scrypted-mcp://audit/recent";
pub const AUDIT_LIMIT: usize = 50;

pub fn resources() -> Vec<Resource> {
    #[allow(unused_mut)]
    let mut list = vec![Resource::new(AUDIT_URI, "audit-recent")
        .with_title("Recent tool calls")
        .with_description(format!(
            "The latest {AUDIT_LIMIT} MCP tool calls on this server, newest first: time, \
             user, client, tool, outcome and a hash of the arguments."
        ))
        .with_mime_type("application/json")];
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::resources());
    list
}

pub fn templates() -> Vec<ResourceTemplate> {
    #[allow(unused_mut)]
    let mut list = Vec::new();
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::templates());
    list
}

/// Whether a listener may subscribe to `uri`: a resource we have, so one whose changes
/// we publish (`mcp::publish`).
pub fn subscribable(uri: &str) -> bool {
    resources().iter().any(|r| r.uri == uri)
}

pub fn read(ctx: &Ctx, params: &Value) -> Result<ReadResourceResult, ErrorData> {
    let p: ReadResourceRequestParams = jsonrpc::params(params)?;
    if p.uri == AUDIT_URI {
        let entries = audit::recent(&*ctx.store, AUDIT_LIMIT);
        let text = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
        // Changes with every tool call, and names users and clients: stale at once,
        // and for this authorization context only.
        return Ok(ReadResourceResult::new(vec![
            ResourceContents::text(text, AUDIT_URI).with_mime_type("application/json")
        ])
        .with_ttl_ms(0)
        .with_cache_scope(CacheScope::Private));
    }
    #[cfg(feature = "conformance-fixtures")]
    if let Some(result) = super::fixtures::read(&p.uri) {
        return Ok(result);
    }
    Err(ErrorData::resource_not_found(
        "Resource not found",
        Some(serde_json::json!({ "uri": p.uri })),
    ))
}

/// The values a template variable can take, for completion.
pub async fn template_values(_call: &Call, _uri: &str, _variable: &str) -> Vec<String> {
    Vec::new()
}
