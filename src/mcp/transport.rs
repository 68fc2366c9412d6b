//! Streamable HTTP on `/mcp` (docs/reference/mcp-protocol.md §1.1): the checks every
//! request passes (Origin, token), then the era the request belongs to (`era::is_modern`)
//! picks the pipeline: `legacy` (sessions) or `modern` (stateless 2026-07-28).

use super::era;
use super::jsonrpc::{self, rpc_error};
use super::{legacy, modern};
use crate::http::{Request, Response};
use crate::oauth::{self, AccessClaims};
use crate::origin::PublicBase;
use crate::Ctx;
use serde_json::Value;
use std::rc::Rc;

/// `base` is this request's `origin::base`.
pub async fn handle(ctx: &Rc<Ctx>, req: Request, base: &PublicBase) -> Response {
    // Origin first: a DNS-rebinding page gets 403 whether or not it carries a token.
    if !crate::origin::origin_allowed(&req, base) {
        return rpc_error(403, -32000, "Forbidden: Origin not allowed");
    }
    let claims = match oauth::authenticate_at(ctx, &req, base).await {
        Ok(claims) => claims,
        Err(response) => return response,
    };
    let now = ctx.clock.now_ms();
    ctx.mcp.sessions.reap(now);
    if req.method == "POST" {
        return post(ctx, &req, &claims, now).await;
    }
    // 2026-07-28 has neither the GET stream nor sessions to DELETE: its updates travel on
    // subscriptions/listen.
    let modern = req
        .header("mcp-protocol-version")
        .and_then(|v| era::modern(v.trim()))
        .is_some();
    if !modern {
        if let Err(response) = legacy::check_version_header(&req) {
            return response;
        }
        match req.method.as_str() {
            "DELETE" => return legacy::delete(ctx, &req, &claims, now),
            "GET" => return legacy::get(ctx, &req, &claims, now),
            _ => {}
        }
    }
    let allow = if modern { "POST" } else { legacy::ALLOW };
    rpc_error(405, -32000, "Method not allowed").header("allow", allow)
}

async fn post(ctx: &Rc<Ctx>, req: &Request, claims: &AccessClaims, now: u64) -> Response {
    let body = req.body.as_deref().unwrap_or("");
    let parsed: Value = match serde_json::from_str(body) {
        Ok(value) => value,
        Err(e) => {
            let error = jsonrpc::parse_error(&e.to_string());
            return Response::json(400, &jsonrpc::error(None, &error));
        }
    };
    if era::is_modern(req, &parsed) {
        modern::post(ctx, req, claims, parsed).await
    } else {
        legacy::post(ctx, req, claims, now, parsed).await
    }
}
