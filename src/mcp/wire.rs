//! Results on the wire, per era. rmcp models 2026-07-28: legacy revisions get the
//! fields they do not define removed; modern results get what 2026-07-28 asks of every
//! result (`resultType`, our identity in `_meta`) and of cacheable ones (`ttlMs`,
//! `cacheScope`).

use super::era::META_SERVER_INFO;
use rmcp::model::{CallToolResult, ProtocolVersion, ServerResult};
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
    let mut value = to_json(result);
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
    let mut value = to_json(result);
    if let Value::Object(obj) = &mut value {
        obj.entry("resultType").or_insert_with(|| json!("complete"));
        let meta = obj
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(meta) = meta {
            meta.insert(META_SERVER_INFO.into(), super::identity::server_info_json());
        }
    }
    value
}

/// The result as JSON, serialised as the rmcp type it holds. `ServerResult`'s own
/// (untagged) serialiser would carry every result type rmcp knows into the wasm, skills
/// and an elicitation answer among them, which we never send (issue 12). The JSON is
/// the same: an untagged variant serialises as its content.
fn to_json(result: ServerResult) -> Value {
    use serde_json::to_value;
    let result = match result {
        ServerResult::CallToolResult(r) => return call_tool_json(r),
        other => other,
    };
    let value = match &result {
        ServerResult::DiscoverResult(r) => to_value(r),
        ServerResult::InitializeResult(r) => to_value(r),
        ServerResult::CompleteResult(r) => to_value(r),
        ServerResult::GetPromptResult(r) => to_value(r),
        ServerResult::ListPromptsResult(r) => to_value(r),
        ServerResult::ListResourcesResult(r) => to_value(r),
        ServerResult::ListResourceTemplatesResult(r) => to_value(r),
        ServerResult::ReadResourceResult(r) => to_value(r),
        ServerResult::ListToolsResult(r) => to_value(r),
        ServerResult::CreateTaskResult(r) => to_value(r),
        ServerResult::GetTaskResult(r) => to_value(r),
        ServerResult::InputRequiredResult(r) => to_value(r),
        ServerResult::TaskAckResult(r) => to_value(r),
        ServerResult::EmptyResult(r) => to_value(r),
        _ => {
            debug_assert!(false, "a result type wire::to_json does not list");
            Ok(Value::Object(Map::new()))
        }
    };
    value.unwrap_or_else(|_| json!({}))
}

/// A tool's result: its `structuredContent`, the tool's whole answer as a `Value`, is moved
/// into the JSON rather than copied by `to_value` with the rest (issue 12). Maps are sorted
/// (serde_json without `preserve_order`), so the JSON is the same.
fn call_tool_json(mut r: CallToolResult) -> Value {
    let structured = r.structured_content.take();
    let mut value = serde_json::to_value(&r).unwrap_or_else(|_| json!({}));
    if let (Some(structured), Value::Object(obj)) = (structured, &mut value) {
        obj.insert("structuredContent".into(), structured);
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

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{
        CallToolResult, CompleteResult, CompletionInfo, ContentBlock, CreateTaskResult,
        DetailedTask, DiscoverResult, ElicitRequest, ElicitRequestParams, ElicitationSchema,
        EmptyResult, GetPromptResult, GetTaskResult, InitializeResult, InputRequest,
        InputRequiredResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        ListToolsResult, Prompt, PromptMessage, ReadResourceResult, ResourceContents, Role, Task,
        TaskAckResult, TaskPayload, TaskStatus,
    };

    fn every_result_we_send() -> Vec<ServerResult> {
        let caps = crate::mcp::identity::capabilities(true);
        let task = || Task::new("t1", TaskStatus::Working, "a", "b").with_ttl_ms(5);
        let asked = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: "sure?".into(),
            requested_schema: ElicitationSchema::new(Default::default()),
        };
        let question = InputRequest::Elicitation(ElicitRequest::new(asked));
        vec![
            ServerResult::DiscoverResult(DiscoverResult::new(vec![], caps.clone())),
            ServerResult::InitializeResult(
                InitializeResult::new(caps).with_server_info(crate::mcp::identity::server_info()),
            ),
            ServerResult::CompleteResult(CompleteResult::new(
                CompletionInfo::with_all_values(vec!["a".into()]).unwrap(),
            )),
            ServerResult::GetPromptResult(GetPromptResult::new(vec![PromptMessage::new_text(
                Role::User,
                "hi",
            )])),
            ServerResult::ListPromptsResult(ListPromptsResult::with_all_items(vec![Prompt::new(
                "p",
                Some("d"),
                None,
            )])),
            ServerResult::ListResourcesResult(ListResourcesResult::with_all_items(vec![])),
            ServerResult::ListResourceTemplatesResult(ListResourceTemplatesResult::with_all_items(
                vec![],
            )),
            ServerResult::ReadResourceResult(ReadResourceResult::new(vec![
                ResourceContents::text("x", "u:/"),
            ])),
            ServerResult::ListToolsResult(ListToolsResult::with_all_items(
                crate::mcp::calls::all_tools().to_vec(),
            )),
            ServerResult::CreateTaskResult(CreateTaskResult::new(task())),
            ServerResult::GetTaskResult(GetTaskResult::new(DetailedTask::new(
                task(),
                TaskPayload::InputRequired {
                    input_requests: [("k".to_string(), question.clone())].into(),
                },
            ))),
            ServerResult::CallToolResult(CallToolResult::success(vec![ContentBlock::text("r")])),
            ServerResult::CallToolResult(CallToolResult::structured(json!({"a": [1, {"b": "c"}]}))),
            ServerResult::CallToolResult(CallToolResult::structured_error(json!({"e": true}))),
            ServerResult::InputRequiredResult(InputRequiredResult::new(
                Some([("k".to_string(), question)].into()),
                Some("s".into()),
            )),
            ServerResult::TaskAckResult(TaskAckResult::new()),
            ServerResult::EmptyResult(EmptyResult {}),
        ]
    }

    /// Each result is written as rmcp's `ServerResult` writes it: to_json only picks the
    /// variant's serialiser.
    #[test]
    fn results_are_written_as_rmcp_writes_them() {
        for result in every_result_we_send() {
            let rmcp = serde_json::to_value(&result).unwrap();
            assert_eq!(to_json(result), rmcp);
        }
    }

    /// A result type added to what we send without a line in to_json fails every debug
    /// build that sends it, rather than going out as `{}`.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "does not list")]
    fn an_unlisted_result_type_is_caught() {
        use rmcp::model::{ElicitResult, ElicitationAction};
        to_json(ServerResult::ElicitResult(ElicitResult::new(
            ElicitationAction::Accept,
        )));
    }
}
