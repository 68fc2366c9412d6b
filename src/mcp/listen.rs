//! `subscriptions/listen` (2026-07-28 basic/patterns/subscriptions.mdx): one long-lived
//! SSE response that first acknowledges the notifications the server will honour, then
//! carries each matching change tagged with the subscription id (the request's JSON-RPC
//! id), coalesced per resource (`subscriptions::Delivery`), and a keep-alive comment
//! whenever it has been idle for `KEEP_ALIVE_MS`. `taskIds` (the tasks extension) asks for
//! `notifications/tasks` of the caller's own tasks, each carrying what `tasks/get` would
//! answer at that moment.
//!
//! The stream ends when the client closes it (the response is dropped, and with it the
//! registration), or when the server ends it — the token behind it was revoked or
//! expired, checked before anything is delivered and at each keep-alive — with the
//! graceful closing result of the spec's "Graceful Closure".

use super::era::{META_SERVER_INFO, META_SUBSCRIPTION_ID};
use super::subscriptions::{Change, Delivery, Next, Registration};
use super::{content, identity, jsonrpc};
use crate::http::{Disconnect, Request, Response};
use crate::oauth::{self, AccessClaims};
use crate::Ctx;
use rmcp::model::{ErrorData, RequestId, SubscriptionFilter};
use serde_json::{json, Map, Value};
use std::rc::Rc;

/// Idle time after which a keep-alive comment goes out: well under the 60 s at which
/// common proxies (nginx's `proxy_read_timeout`) give up on a quiet response.
pub const KEEP_ALIVE_MS: u64 = 15_000;

/// Opens the stream, or answers why not (a malformed filter is -32602). `task_ids`: the
/// tasks it gets `notifications/tasks` for (`tasks::listened`, the caller's own).
pub async fn open(
    ctx: &Rc<Ctx>,
    req: &Request,
    claims: &AccessClaims,
    id: &RequestId,
    params: &Value,
    task_ids: Vec<String>,
) -> Result<Response, ErrorData> {
    let mut notifications = params.get("notifications").cloned().unwrap_or(Value::Null);
    if let Value::Object(n) = &mut notifications {
        // Not a field of rmcp's filter: `tasks::listened` read it.
        n.remove("taskIds");
    }
    let requested: SubscriptionFilter = jsonrpc::params(&notifications)?;
    let honoured = honoured(ctx, &requested).await;
    let mut acknowledged = serde_json::to_value(&honoured).unwrap_or_else(|_| json!({}));
    if let (Value::Object(a), false) = (&mut acknowledged, task_ids.is_empty()) {
        a.insert("taskIds".into(), json!(task_ids));
    }
    let filter = honoured;
    let wants = move |change: &Change| match change {
        Change::TaskStatus { id, .. } => task_ids.contains(id),
        other => other.wanted_by(&filter),
    };
    let (registration, changes) =
        ctx.mcp
            .listeners
            .register_interest(&claims.sub, &claims.client_id, Box::new(wants));
    let ack = notification(
        id,
        "notifications/subscriptions/acknowledged",
        json!({ "notifications": acknowledged }),
    );
    let listen = Listen {
        ctx: ctx.clone(),
        req: req.clone(),
        claims: claims.clone(),
        id: id.clone(),
        ack: Some(ack),
        delivery: Delivery::new(changes, ctx.clock.clone(), KEEP_ALIVE_MS),
        ended: false,
        _registration: registration,
    };
    let stream = futures::stream::unfold(listen, |mut listen| async move {
        let chunk = listen.next_chunk().await?;
        Some((chunk, listen))
    });
    Ok(Response::event_stream(Box::pin(stream), Disconnect::Cancel))
}

/// The part of the requested filter we serve: what our capabilities declare, and only
/// resources we have (an unknown URI would never be updated).
async fn honoured(ctx: &Ctx, requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut honoured = requested.supported_by(&identity::capabilities(true));
    let mut known: Vec<String> = Vec::new();
    for uri in honoured.resource_subscriptions.take().unwrap_or_default() {
        if !known.contains(&uri) && content::subscribable(ctx, &uri).await {
            known.push(uri);
        }
    }
    honoured.resource_subscriptions = (!known.is_empty()).then_some(known);
    honoured
}

struct Listen {
    ctx: Rc<Ctx>,
    /// The opening request, to check its token again.
    req: Request,
    claims: AccessClaims,
    id: RequestId,
    ack: Option<Value>,
    delivery: Delivery,
    ended: bool,
    /// Keeps the listener registered while the stream lives.
    _registration: Registration,
}

impl Listen {
    async fn next_chunk(&mut self) -> Option<String> {
        if let Some(ack) = self.ack.take() {
            return Some(event(&ack));
        }
        if self.ended {
            return None;
        }
        let next = self.delivery.next().await;
        let authorized =
            next != Next::Closed && authorized(&self.ctx, &self.req, &self.claims).await;
        match next {
            Next::KeepAlive if authorized => Some(super::stream::KEEP_ALIVE.to_string()),
            Next::Change(change) if authorized => Some(event(&notification(
                &self.id,
                change.method(),
                params(&change),
            ))),
            // Closed by the server (revocation), or its token no longer holds.
            _ => {
                self.ended = true;
                Some(event(&self.closing_result()))
            }
        }
    }

    fn closing_result(&self) -> Value {
        let mut meta = Map::new();
        meta.insert(META_SUBSCRIPTION_ID.into(), jsonrpc::id_to_value(&self.id));
        meta.insert(META_SERVER_INFO.into(), identity::server_info_json());
        jsonrpc::result(&self.id, json!({ "resultType": "complete", "_meta": meta }))
    }
}

/// The token that opened a stream (`req`) still verifies, for the same subject and client.
pub async fn authorized(ctx: &Ctx, req: &Request, opened_by: &AccessClaims) -> bool {
    match oauth::authenticate(ctx, req).await {
        Ok(claims) => claims.sub == opened_by.sub && claims.client_id == opened_by.client_id,
        Err(_) => false,
    }
}

pub fn params(change: &Change) -> Value {
    match change {
        Change::ResourceUpdated(uri) => json!({ "uri": uri }),
        Change::TaskStatus { task, .. } => task.clone(),
        _ => json!({}),
    }
}

/// A notification of this subscription: its `_meta` carries the subscription id.
fn notification(id: &RequestId, method: &str, mut params: Value) -> Value {
    if let Value::Object(p) = &mut params {
        p.insert(
            "_meta".into(),
            json!({ META_SUBSCRIPTION_ID: jsonrpc::id_to_value(id) }),
        );
    }
    jsonrpc::notification(method, params)
}

fn event(message: &Value) -> String {
    super::stream::sse_event(None, message)
}
