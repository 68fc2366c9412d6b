//! The modern era (2026-07-28): each POST is one request, served on its own. Version,
//! client capabilities and identity come from its `_meta`; no session is needed or
//! made. Before anything runs, `admit` checks what the revision requires of the request,
//! each failure with its own status and code, always echoing the request id:
//!
//! 1. `_meta` with a protocol version and client capabilities — else 400, -32602;
//! 2. `MCP-Protocol-Version` present and equal to it — else 400, -32020;
//! 3. a version we serve — else 400, -32022 listing `era::all_versions()`;
//! 4. `Mcp-Method` equal to the method — else 400, -32020;
//! 5. a method of this revision — else 404, -32601;
//! 6. `Mcp-Name` and `Mcp-Param-*` equal to the body — else 400, -32020;
//! 7. the client capabilities the tool needs — else 400, -32021.
//!
//! Errors of the method itself are HTTP 200 (no text of the revision asks otherwise).
//! Closing a response stream cancels the request (`Disconnect::Cancel`).

use super::era::{self, Era, RequestMeta};
use super::jsonrpc::{self, Message};
use super::mrtr::{self, Inputs};
use super::peer::{Call, RequestPeer};
use super::scopes::caller;
use super::server;
use super::stream::{self, Exchange, Start, Work};
use super::{calls, headers, listen, tasks};
use crate::http::{Disconnect, Request, Response};
use crate::oauth::AccessClaims;
use crate::Ctx;
use futures::channel::mpsc;
use futures::FutureExt;
use rmcp::model::{ErrorCode, ErrorData, RequestId};
use serde_json::{json, Value};
use std::rc::Rc;

pub async fn post(ctx: &Rc<Ctx>, req: &Request, claims: &AccessClaims, body: Value) -> Response {
    if !body.is_object() {
        let error = ErrorData::invalid_request(
            "Invalid request: protocol 2026-07-28 takes one JSON-RPC message per POST (no batches)",
            None,
        );
        return reject(None, 400, error);
    }
    match jsonrpc::parse_message(body) {
        Err(invalid) => reject(invalid.id.as_ref(), 400, invalid.error),
        // No client notification is defined on HTTP in 2026-07-28: accepted, ignored.
        Ok(Message::Notification { .. }) => Response::new(202),
        Ok(Message::Response { id, .. }) => {
            let error = ErrorData::invalid_request(
                "Invalid request: in protocol 2026-07-28 the server sends no requests, so clients send no responses",
                None,
            );
            reject(Some(&id), 400, error)
        }
        Ok(Message::Request { id, method, params }) => match admit(req, &method, &params) {
            Err((status, error)) => reject(Some(&id), status, error),
            Ok(meta) => {
                let checked =
                    super::scopes::check_request(ctx, req, claims, Some(&id), &method, &params);
                if let Err(response) = checked.await {
                    return response;
                }
                serve(ctx, req, claims, id, method, params, meta).await
            }
        },
    }
}

fn reject(id: Option<&RequestId>, status: u16, error: ErrorData) -> Response {
    Response::json(status, &jsonrpc::error(id, &error))
}

/// Steps 1–7 of the module comment: the request's `_meta` when it may run.
fn admit(req: &Request, method: &str, params: &Value) -> Result<RequestMeta, (u16, ErrorData)> {
    let bad = |error| (400, error);
    let meta = RequestMeta::read(params).map_err(bad)?;
    headers::check_protocol_version(req, &meta.requested).map_err(bad)?;
    if era::modern(&meta.requested).is_none() {
        // rmcp's `unsupported_protocol_version` wants a typed version; the request's
        // may be any string, and `data.requested` must echo it as sent.
        let data = json!({ "supported": era::all_versions(), "requested": meta.requested });
        return Err(bad(ErrorData::new(
            ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version",
            Some(data),
        )));
    }
    headers::check_method(req, method).map_err(bad)?;
    if !server::MODERN_METHODS.contains(&method) {
        return Err((404, jsonrpc::method_not_found(method)));
    }
    headers::check_name(req, method, params).map_err(bad)?;
    if method == "tools/call" {
        let name = params.get("name").and_then(Value::as_str).unwrap_or("");
        if let Some(schema) = calls::input_schema(name) {
            headers::check_params(req, schema, params.get("arguments")).map_err(bad)?;
            if let Some(missing) = missing_capabilities(name, &meta.capabilities) {
                return Err(bad(ErrorData::missing_required_client_capability(missing)));
            }
        }
    }
    Ok(meta)
}

/// HTTP status of a method's answer: 404 for an unknown method, 400 for the errors the
/// revision sends with it, 200 for everything else.
fn status_of(response: &Value) -> u16 {
    let code = response
        .get("error")
        .and_then(|error| error.get("code"))
        .and_then(Value::as_i64)
        .map(|c| ErrorCode(c as i32));
    match code {
        Some(ErrorCode::METHOD_NOT_FOUND) => 404,
        Some(
            ErrorCode::HEADER_MISMATCH
            | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
            | ErrorCode::UNSUPPORTED_PROTOCOL_VERSION,
        ) => 400,
        _ => 200,
    }
}

async fn serve(
    ctx: &Rc<Ctx>,
    req: &Request,
    claims: &AccessClaims,
    id: RequestId,
    method: String,
    params: Value,
    meta: RequestMeta,
) -> Response {
    if method == "subscriptions/listen" {
        let opened = match tasks::listened(ctx, &caller(claims), &params, &meta.capabilities) {
            Ok(task_ids) => listen::open(ctx, req, claims, &id, &params, task_ids).await,
            Err(error) => Err(error),
        };
        return opened.unwrap_or_else(|error| {
            let answer = jsonrpc::error(Some(&id), &error);
            Response::json(status_of(&answer), &answer)
        });
    }
    let caller = caller(claims);
    let (tx, rx) = mpsc::unbounded();
    let out = req.accepts_event_stream().then(|| tx.clone());
    drop(tx);
    let mut peer = RequestPeer::new(ctx, Era::Modern(Rc::new(meta.clone())), out, &params);
    if mrtr::METHODS.contains(&method.as_str()) {
        // A forged, foreign or expired requestState stops the request before it runs.
        match Inputs::read(ctx, &caller, &meta.capabilities, &method, &params) {
            Ok(inputs) => peer = peer.with_inputs(inputs),
            Err(error) => return reject(Some(&id), 200, error),
        }
    }
    let call = Rc::new(Call {
        ctx: ctx.clone(),
        caller,
        grant_id: claims.grant_id.clone(),
        peer: Rc::new(peer),
    });
    let work: Work = async move {
        vec![match server::dispatch(call, &method, params).await {
            Ok(result) => jsonrpc::result(&id, result),
            Err(error) => jsonrpc::error(Some(&id), &error),
        }]
    }
    .boxed_local();
    // A client that takes no event stream gets JSON however long the work runs.
    let streams = req.accepts_event_stream().then_some((ctx, stream::MODERN));
    match Exchange::new(work, rx).start(streams).await {
        (Start::Done(mut responses), _) => {
            let answer = responses.remove(0);
            Response::json(status_of(&answer), &answer)
        }
        (Start::Streaming(exchange), keep_alive) => Response::event_stream(
            Box::pin(exchange.into_modern_sse(keep_alive)),
            Disconnect::Cancel,
        ),
    }
}

/// The client capabilities calling `name` needs that `declared` lacks, if any: the tasks
/// extension for a tool that runs only as a task (none of the catalogue's), form elicitation
/// for restore_backup, which asks the user through MRTR before it restores and refuses
/// every call of a client that cannot answer (a 2026-07-28 client declares per request, and
/// -32021 names what to declare; a legacy session's client gets the tool's own refusal),
/// and what a conformance fixture needs.
fn missing_capabilities(
    name: &str,
    declared: &rmcp::model::ClientCapabilities,
) -> Option<rmcp::model::ClientCapabilities> {
    if let Some(missing) = super::tasks::missing_capabilities(name, declared) {
        return Some(missing);
    }
    if name == crate::tools::backup::RESTORE_BACKUP.name && !era::offers_form_elicitation(declared)
    {
        return serde_json::from_value(serde_json::json!({ "elicitation": { "form": {} } })).ok();
    }
    #[cfg(feature = "conformance-fixtures")]
    if let Some(missing) = super::fixtures::missing_capabilities(name, declared) {
        return Some(missing);
    }
    None
}
