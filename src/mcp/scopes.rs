//! Scope enforcement at the door (issue 9): a request whose token lacks the scope its
//! method or tool needs is answered HTTP 403 with an RFC 6750 `insufficient_scope`
//! challenge before anything runs, in both eras, so MCP clients can step up
//! (2026-07-28 basic/authorization "Scope Challenge Handling"). A refused tool call is
//! audited as `refused`.

use super::calls;
use super::jsonrpc;
use crate::http::{Request, Response};
use crate::oauth::{scope, AccessClaims, Scope};
use crate::tools::redact;
use crate::tools::Caller;
use crate::{audit, origin, Ctx};
use rmcp::model::{ErrorCode, ErrorData, RequestId};
use serde_json::{Map, Value};

/// The scope a request needs: the tool's for tools/call, read for what shows the
/// server's state; `None` for what any valid token may do (lists, discovery, ping,
/// session housekeeping) and for unknown tools (they fail as unknown).
pub fn required(method: &str, params: &Value) -> Option<Scope> {
    match method {
        "tools/call" => params
            .get("name")
            .and_then(Value::as_str)
            .and_then(calls::scope_of),
        "resources/read"
        | "resources/subscribe"
        | "prompts/get"
        | "completion/complete"
        | "subscriptions/listen" => Some(Scope::Read),
        _ => None,
    }
}

/// `Err(403 answer)` when a request among `messages` (a legacy POST's body: one message or
/// a batch) needs more than the token holds; the first such request is named.
pub async fn check(
    ctx: &Ctx,
    req: &Request,
    claims: &AccessClaims,
    messages: &[Value],
) -> Result<(), Response> {
    for message in messages {
        let (Some(method), Some(id)) = (
            message.get("method").and_then(Value::as_str),
            message.get("id"),
        ) else {
            continue;
        };
        let absent = Value::Null;
        let params = message.get("params").unwrap_or(&absent);
        let id = jsonrpc::parse_id(id);
        check_request(ctx, req, claims, id.as_ref(), method, params).await?;
    }
    Ok(())
}

/// [`check`] for one request, read where it lies (a 2026-07-28 POST's: its params are not
/// copied into a message for this).
pub async fn check_request(
    ctx: &Ctx,
    req: &Request,
    claims: &AccessClaims,
    id: Option<&RequestId>,
    method: &str,
    params: &Value,
) -> Result<(), Response> {
    let held = Scope::of_grant(&claims.scope);
    let Some(needed) = required(method, params).filter(|n| *n > held) else {
        return Ok(());
    };
    let what = match params.get("name").and_then(Value::as_str) {
        Some(tool) if method == "tools/call" => {
            let empty = Value::Object(Map::new());
            // Hashed as every audited call is: secrets redacted first.
            let arguments = redact::for_audit(tool, params.get("arguments").unwrap_or(&empty));
            let args = audit::audited_args(&*ctx.store, &arguments);
            calls::audit_entry(ctx, &caller(claims), tool, args, "refused", None);
            format!("the tool {tool}")
        }
        _ => method.to_string(),
    };
    let description = needed.refusal(&what, held);
    let base = origin::base(ctx, req).await;
    let error = ErrorData::new(
        ErrorCode(-32000),
        format!("Forbidden: insufficient_scope: {description}"),
        Some(serde_json::json!({ "scope": needed.name() })),
    );
    Err(Response::json(403, &jsonrpc::error(id, &error))
        .header(
            "www-authenticate",
            scope::insufficient_challenge(&base, needed, &description),
        )
        .header("cache-control", "no-store"))
}

/// Who calls, for the tools and the audit trail: the token's subject, client and scope.
pub(super) fn caller(claims: &AccessClaims) -> Caller {
    Caller {
        sub: claims.sub.clone(),
        client_id: claims.client_id.clone(),
        scope: Scope::of_grant(&claims.scope),
    }
}
