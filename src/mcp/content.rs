//! Resources, prompts and completions: the audit trail as a resource, and prompts that
//! walk an assistant through common jobs with the read-only tools.

use super::jsonrpc;
use crate::audit;
use crate::Ctx;
use rmcp::model::{
    CacheScope, CompleteRequestParams, CompletionInfo, ErrorData, GetPromptRequestParams,
    GetPromptResult, Prompt, PromptArgument, PromptMessage, ReadResourceRequestParams,
    ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate, Role,
};
use serde_json::Value;

pub const AUDIT_URI: &str = "scrypted-mcp://audit/recent";
const AUDIT_LIMIT: usize = 50;

const FOCUS_AREAS: [&str; 6] = [
    "all",
    "plugins",
    "devices",
    "logs",
    "network",
    "performance",
];

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

pub fn prompts() -> Vec<Prompt> {
    let focus = PromptArgument::new("focus")
        .with_description(format!(
            "What to look at: one of {}",
            FOCUS_AREAS.join(", ")
        ))
        .with_required(false);
    #[allow(unused_mut)]
    let mut list = vec![
        Prompt::new(
            "diagnose_server",
            Some(
                "Health check of this Scrypted server with the read-only tools: version, \
                 plugins, recent errors and alerts, with findings ordered by severity.",
            ),
            Some(vec![focus]),
        )
        .with_title("Diagnose the Scrypted server"),
        Prompt::new(
            "review_recent_tool_calls",
            Some(
                "Summarize what AI clients recently did on this server through MCP, from \
                 the audit trail, and point out failures and refused actions.",
            ),
            None::<Vec<PromptArgument>>,
        )
        .with_title("Review recent tool calls"),
    ];
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::prompts());
    list
}

pub fn get_prompt(ctx: &Ctx, params: &Value) -> Result<GetPromptResult, ErrorData> {
    let p: GetPromptRequestParams = jsonrpc::params(params)?;
    let arguments = p.arguments.unwrap_or_default();
    let arg = |name: &str| {
        arguments
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match p.name.as_str() {
        "diagnose_server" => {
            let focus = arg("focus").unwrap_or_else(|| "all".into());
            if !FOCUS_AREAS.contains(&focus.as_str()) {
                return Err(ErrorData::invalid_params(
                    format!("focus must be one of {}", FOCUS_AREAS.join(", ")),
                    None,
                ));
            }
            let scope = if focus == "all" {
                String::new()
            } else {
                format!(" Concentrate on {focus}.")
            };
            let text = format!(
                "Diagnose my Scrypted server.{scope} Use only read-only tools: start with \
                 get_server_info, then look at recent error and warning logs, open alerts, \
                 and the state of installed plugins. Do not change anything. Report your \
                 findings as a short list ordered by severity; give the evidence for each \
                 and a suggested fix, and say which fixes would need a destructive tool."
            );
            Ok(
                GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                    .with_description("Scrypted health check"),
            )
        }
        "review_recent_tool_calls" => {
            let entries = audit::recent(&*ctx.store, AUDIT_LIMIT);
            let json = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
            Ok(GetPromptResult::new(vec![
                PromptMessage::new_resource(
                    Role::User,
                    AUDIT_URI.to_string(),
                    Some("application/json".into()),
                    Some(json),
                    None,
                    None,
                    None,
                ),
                PromptMessage::new_text(
                    Role::User,
                    "Above is the audit trail of recent MCP tool calls on my Scrypted server \
                     (newest first). Summarize who did what, list failed, refused and \
                     invalid calls, and flag anything that looks unexpected.",
                ),
            ])
            .with_description("Recent MCP activity"))
        }
        #[cfg(feature = "conformance-fixtures")]
        name if super::fixtures::has_prompt(name) => super::fixtures::get_prompt(name, &arguments),
        name => Err(ErrorData::invalid_params(
            format!("Unknown prompt: {name}"),
            None,
        )),
    }
}

pub fn complete(p: &CompleteRequestParams) -> Result<CompletionInfo, ErrorData> {
    let values: Vec<String> = match &p.r#ref {
        Reference::Prompt(prompt) => match (prompt.name.as_str(), p.argument.name.as_str()) {
            ("diagnose_server", "focus") => FOCUS_AREAS
                .iter()
                .filter(|v| v.starts_with(p.argument.value.as_str()))
                .map(|v| v.to_string())
                .collect(),
            (name, _) if prompts().iter().any(|pr| pr.name == name) => Vec::new(),
            (name, _) => {
                return Err(ErrorData::invalid_params(
                    format!("Unknown prompt: {name}"),
                    None,
                ))
            }
        },
        // No template has enumerable values.
        _ => Vec::new(),
    };
    CompletionInfo::with_all_values(values).map_err(|e| ErrorData::internal_error(e, None))
}
