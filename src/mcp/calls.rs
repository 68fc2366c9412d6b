//! tools/list and tools/call over the catalogue (plus the conformance fixtures when that
//! feature is on), with an audit entry for every call.

use super::jsonrpc;
use super::peer::Call;
use super::subscriptions::Change;
use crate::audit::{self, AuditEntry, AuditedArgs};
use crate::oauth::{self, Scope};
use crate::tools::{self, redact, Caller, Peer, ToolContext, ToolDef, ToolError, ToolOutput};
use futures::future::LocalBoxFuture;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock, ErrorCode, ErrorData, ProtocolVersion,
    Tool, ToolAnnotations,
};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

thread_local! {
    // The tool list is built once (from the pinned schemas): the catalogue never changes while
    // the plugin runs.
    static LISTED: Rc<Vec<Tool>> = Rc::new(listed());
}

fn describe(def: &ToolDef) -> Tool {
    let hints = def.hints;
    let annotations = ToolAnnotations::with_title(def.title())
        .read_only(hints.read_only)
        .destructive(hints.destructive)
        .idempotent(hints.idempotent)
        .open_world(hints.open_world);
    let description = format!(
        "{} Needs OAuth scope {}.",
        def.description(),
        def.scope.name()
    );
    let mut tool = Tool::new(def.name, description, Arc::new(def.input_schema()))
        .with_title(def.title())
        .with_annotations(annotations)
        .with_raw_output_schema(Arc::new(def.output_schema()));
    let mut meta = Map::new();
    meta.insert(SCOPE_META.into(), Value::String(def.scope.name().into()));
    tool.meta = Some(rmcp::model::MetaObject(meta));
    tool
}

/// The `_meta` key of a listed tool that names the one OAuth scope calling it needs
/// (README, "Scopes"); namespaced as the spec asks of `_meta` keys.
pub const SCOPE_META: &str = "io.scrypted/scope";

/// The scope `name` needs: the catalogue's, `scrypted:read` for the conformance fixtures,
/// and `None` for a name that is no tool (the call fails as unknown).
pub fn scope_of(name: &str) -> Option<Scope> {
    if let Some(def) = tools::catalogue().iter().find(|d| d.name == name) {
        return Some(def.scope);
    }
    find_tool(name).map(|_| Scope::Read)
}

/// Every tool, in the catalogue's order: the same order on every call (2026-07-28
/// server/tools.mdx asks for a deterministic one) and not alphabetical, which would put
/// `add_user` first where clients that try "the first tool" would call it.
pub fn all_tools() -> Rc<Vec<Tool>> {
    LISTED.with(Rc::clone)
}

fn listed() -> Vec<Tool> {
    #[allow(unused_mut)]
    let mut list: Vec<Tool> = tools::catalogue().iter().map(describe).collect();
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::tools());
    list
}

pub fn find_tool(name: &str) -> Option<Tool> {
    all_tools().iter().find(|t| t.name == name).cloned()
}

/// The `inputSchema` of the tool `name`, read without building the tool list: a call needs
/// only its own tool's, and describing all of them was a large part of the first call
/// after a (re)start, when the wasm still runs baseline code (issue 12, cold start).
pub fn input_schema(name: &str) -> Option<Cow<'static, Map<String, Value>>> {
    if tools::catalogue().iter().any(|d| d.name == name) {
        return Some(Cow::Borrowed(&tools::schema::pinned(name).input));
    }
    find_tool(name).map(|tool| Cow::Owned((*tool.input_schema).clone()))
}

/// Runs a tools/call. Its params are moved into rmcp's type, not copied whole: a 2026-07-28
/// request's `_meta` (client info and capabilities) was most of what the copy copied (issue
/// 12). Only the name and arguments are copied, for the audit of a call that fails to read
/// (the move leaves nothing of it); reading the arguments apart would change which of two
/// faults the error names.
pub async fn call(call: &Call, params: Value) -> Result<CallToolResult, ErrorData> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let arguments = params.get("arguments").cloned();
    match jsonrpc::params_owned::<CallToolRequestParams>(params) {
        Ok(p) => invoke(call, &p.name, p.arguments.unwrap_or_default()).await,
        Err(e) => {
            // Malformed calls are audited too.
            let name = name.as_deref().unwrap_or("");
            let arguments = arguments.unwrap_or_else(|| Value::Object(Map::new()));
            let arguments = redact::for_audit(name, &arguments);
            let args = audit::audited_args(&*call.ctx.store, &arguments);
            let outcome = Err(e);
            record(call, name, args, &outcome, false);
            outcome
        }
    }
}

/// Runs one tool for the client behind `call`, and audits it. Every tool run takes this
/// path (tools/call, and the prompts that gather their evidence through tools), so what a
/// call must pass, and what the audit trail sees, holds for all of them.
pub async fn invoke(
    call: &Call,
    name: &str,
    arguments: Map<String, Value>,
) -> Result<CallToolResult, ErrorData> {
    // Wrapped once: the audit hashes this value and the tool runs on it.
    let arguments = Value::Object(arguments);
    let args = audit::audited_args(&*call.ctx.store, &redact::for_audit(name, &arguments));
    if let Some(needed) = scope_of(name).filter(|needed| *needed > call.caller.scope) {
        // tools/call is refused with 403 before it gets here (mcp::scopes); this keeps
        // every other path to a tool (the prompts) inside the token's scope too.
        let message = format!(
            "{name} needs OAuth scope {}, which this token lacks; nothing was run.",
            needed.name()
        );
        record_outcome(call, name, args, "refused");
        return Ok(CallToolResult::error(vec![ContentBlock::text(message)]));
    }
    let mut unfinished = Unfinished {
        call,
        tool: name,
        args: Some(args),
    };
    let (outcome, refused) = run(call, name, arguments).await;
    if let Some(args) = unfinished.args.take() {
        record(call, name, args, &outcome, refused);
    }
    outcome.or_else(|error| refused_arguments_as_result(call, name, error))
}

/// Arguments a tool refused are a tool execution error from 2025-11-25 on, "Input validation
/// errors" (server/tools, "Error Handling"): a result with `isError`, which clients hand to the
/// model so it can correct them. Earlier revisions list "Invalid arguments" among protocol
/// errors, and an unknown tool is one in every revision: those stay -32602.
fn refused_arguments_as_result(
    call: &Call,
    name: &str,
    error: ErrorData,
) -> Result<CallToolResult, ErrorData> {
    let known = tools::catalogue().iter().any(|d| d.name == name);
    if error.code == ErrorCode::INVALID_PARAMS
        && known
        && call.peer.version() >= ProtocolVersion::V_2025_11_25
    {
        return Ok(CallToolResult::error(vec![ContentBlock::text(
            error.message,
        )]));
    }
    Err(error)
}

/// A tool run that ends without an outcome — its future dropped by `tasks/cancel`,
/// `notifications/cancelled` or a closed stream, after it may have changed the server —
/// still leaves its audit entry, as `cancelled`.
struct Unfinished<'a> {
    call: &'a Call,
    tool: &'a str,
    /// Taken when the run ends with an outcome (`record`).
    args: Option<AuditedArgs>,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if let Some(args) = self.args.take() {
            record_outcome(self.call, self.tool, args, "cancelled");
        }
    }
}

/// A tool's run, stopped before any step after its first once the grant behind the call no
/// longer allows the tool ([`oauth::grant_allows`]): a user removed or demoted, a revoke or
/// a scope lowered while a long call runs ends it at its next step, as it ends a task. The
/// first step goes unchecked: the bearer check has just passed.
async fn while_allowed(
    call: &Call,
    def: &ToolDef,
    run: LocalBoxFuture<'static, tools::ToolResult>,
) -> tools::ToolResult {
    let mut run = run;
    let mut first = true;
    futures::future::poll_fn(|cx| {
        if !std::mem::take(&mut first) && !oauth::grant_allows(&call.ctx, &call.grant_id, def.scope)
        {
            return Poll::Ready(Err(ToolError::Refused(format!(
                "{} stopped before its next step: the sign-in behind this call ended or no \
                 longer allows it (its user was removed or is no longer an admin, the app was \
                 revoked, or its scope was lowered). What it did before the stop stays done; \
                 the audit trail has the call.",
                def.name
            ))));
        }
        run.as_mut().poll(cx)
    })
    .await
}

/// The tool's answer, and whether the tool refused the call for want of scope (the audit
/// says `refused` then, as for a refusal at the door).
async fn run(
    call: &Call,
    name: &str,
    arguments: Value,
) -> (Result<CallToolResult, ErrorData>, bool) {
    #[cfg(feature = "conformance-fixtures")]
    if let Some(outcome) = super::fixtures::call_tool(call, name, &arguments).await {
        return (outcome, false);
    }
    let Some(def) = tools::catalogue().iter().find(|d| d.name == name) else {
        let unknown = ErrorData::invalid_params(format!("Unknown tool: {name}"), None);
        return (Err(unknown), false);
    };
    let context = Rc::new(ToolContext {
        ctx: call.ctx.clone(),
        caller: call.caller.clone(),
        peer: call.peer.clone() as Rc<dyn Peer>,
    });
    // A tool's message may quote the host's, which may quote a credential (a camera URL).
    let error = |message| {
        let message = redact::text(message);
        Ok(CallToolResult::error(vec![ContentBlock::text(message)]))
    };
    match while_allowed(call, def, (def.run)(context, arguments)).await {
        Ok(output) => (success(def, output), false),
        Err(ToolError::InvalidParams(message)) => {
            let message = redact::text(message);
            (Err(ErrorData::invalid_params(message, None)), false)
        }
        Err(ToolError::Failed(message)) => (error(message), false),
        Err(ToolError::Refused(message)) => (error(message), true),
    }
}

/// `structuredContent`, the same JSON as text for clients that read only text, then the
/// tool's extra blocks.
fn success(def: &ToolDef, output: ToolOutput) -> Result<CallToolResult, ErrorData> {
    if !output.structured.is_object() {
        // The output schema promises an object; anything else would break that promise.
        return Err(ErrorData::internal_error(
            format!(
                "tool {} produced output that does not match its outputSchema",
                def.name
            ),
            None,
        ));
    }
    let mut content = vec![ContentBlock::text(crate::http::json_text(
        &output.structured,
    ))];
    content.extend(output.extra_content);
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(output.structured);
    Ok(result)
}

fn record(
    call: &Call,
    tool: &str,
    args: AuditedArgs,
    outcome: &Result<CallToolResult, ErrorData>,
    refused_by_scope: bool,
) {
    let elicitation = call.peer.elicitation_outcome();
    let refused =
        refused_by_scope || matches!(elicitation, Some("decline" | "cancel" | "unsupported"));
    let outcome = match outcome {
        // The call asked a modern client for input: it ran nothing, the retry will.
        _ if call.peer.awaiting_input() => "input_required",
        Ok(r) if r.is_error != Some(true) => "ok",
        Ok(_) if refused => "refused",
        Ok(_) => "error",
        Err(e) if e.code == ErrorCode::INVALID_PARAMS => "invalid_params",
        Err(_) => "error",
    };
    record_outcome(call, tool, args, outcome);
}

/// One audit entry for `tool` by this call's client.
fn record_outcome(call: &Call, tool: &str, args: AuditedArgs, outcome: &str) {
    let elicitation = call.peer.elicitation_outcome();
    audit_entry(&call.ctx, &call.caller, tool, args, outcome, elicitation);
}

/// One audit entry, and the audit resource's update.
pub fn audit_entry(
    ctx: &crate::Ctx,
    caller: &Caller,
    tool: &str,
    args: AuditedArgs,
    outcome: &str,
    elicitation: Option<&str>,
) {
    // Unknown tool names come from the client: bound what we store.
    let tool: String = tool.chars().take(128).collect();
    audit::record(
        ctx,
        AuditEntry {
            time_ms: ctx.clock.now_ms(),
            user: caller.sub.clone(),
            client_id: caller.client_id.clone(),
            tool,
            args_hash: args.hash,
            outcome: outcome.to_string(),
            elicitation: elicitation.map(String::from),
            dry_run: args.dry_run,
        },
    );
    super::publish(
        ctx,
        Change::ResourceUpdated(super::content::AUDIT_URI.into()),
    );
}
