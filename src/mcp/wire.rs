//! Results on the wire, per era. rmcp models 2026-07-28: legacy revisions get the
//! fields they do not define removed; modern results get what 2026-07-28 asks of every
//! result (`resultType`, our identity in `_meta`) and of cacheable ones (`ttlMs`,
//! `cacheScope`).

use super::era::META_SERVER_INFO;
use rmcp::model::{ProtocolVersion, ServerResult};
use serde_json::{json, Map, Value};

/// For a legacy session at `version`.
pub fn legacy(mut result: ServerResult, version: &ProtocolVersion) -> Value {
    result.strip_result_type_for_legacy_peer();
    // rmcp's strip above leaves the caching hints (SEP-2549) in place.
    match &mut result {
        ServerResult::ListToolsResult(r) => (r.ttl_ms, r.cache_scope) = (None, None),
        ServerResult::ListPromptsResult(r) => (r.ttl_ms, r.cache_scope) = (None, None),
        ServerResult::ListResourcesResult(r) => (r.ttl_ms, r.cache_scope) = (None, None),
        ServerResult::ListResourceTemplatesResult(r) => (r.ttl_ms, r.cache_scope) = (None, None),
        ServerResult::ReadResourceResult(r) => (r.ttl_ms, r.cache_scope) = (None, None),
        _ => {}
    }
    let mut value = serde_json::to_value(&result).unwrap_or_else(|_| json!({}));
    if *version < ProtocolVersion::V_2025_06_18 {
        strip_for_2025_03_26(&mut value);
    }
    value
}

/// For a 2026-07-28 request: every result says it is complete (basic/index.mdx
/// "ResultType") and who answered (`_meta["io.modelcontextprotocol/serverInfo"]`, a
/// SHOULD); cacheable results without hints get the conservative ones (immediately
/// stale, private).
pub fn modern(mut result: ServerResult) -> Value {
    result.fill_missing_cache_hints();
    let mut value = serde_json::to_value(&result).unwrap_or_else(|_| json!({}));
    if let Value::Object(obj) = &mut value {
        obj.entry("resultType").or_insert_with(|| json!("complete"));
        let meta = obj
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert(META_SERVER_INFO.into(), super::server::server_info_json());
        }
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
