//! `subscriptions/listen` (2026-07-28 basic/patterns/subscriptions.mdx): one long-lived
//! SSE response that first acknowledges the notifications the server will honour, then
//! carries each matching change tagged with the subscription id (the request's JSON-RPC
//! id), and a keep-alive comment whenever it has been idle for `KEEP_ALIVE_MS`.
//!
//! The stream ends when the client closes it (the response is dropped, and with it the
//! registration), or when the server ends it — the token behind it was revoked or
//! expired, checked before anything is delivered and at each keep-alive — with the
//! graceful closing result of the spec's "Graceful Closure".

use super::era::{META_SERVER_INFO, META_SUBSCRIPTION_ID};
use super::subscriptions::{Change, Registration};
use super::{content, jsonrpc, server};
use crate::http::{Disconnect, Request, Response};
use crate::oauth::{self, AccessClaims};
use crate::Ctx;
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::{select, Either};
use futures::StreamExt;
use rmcp::model::{ErrorData, RequestId, SubscriptionFilter};
use serde_json::{json, Map, Value};
use std::rc::Rc;

/// Idle time after which a keep-alive comment goes out: well under the 60 s at which
/// common proxies (nginx's `proxy_read_timeout`) give up on a quiet response.
pub const KEEP_ALIVE_MS: u64 = 15_000;

/// Opens the stream, or answers why not (a malformed filter is -32602).
pub fn open(
    ctx: &Rc<Ctx>,
    req: &Request,
    claims: &AccessClaims,
    id: &RequestId,
    params: &Value,
) -> Result<Response, ErrorData> {
    let requested: SubscriptionFilter =
        jsonrpc::params(params.get("notifications").unwrap_or(&Value::Null))?;
    let honoured = honoured(&requested);
    let (registration, changes) =
        ctx.mcp
            .listeners
            .register(&claims.sub, &claims.client_id, honoured.clone());
    let ack = notification(
        id,
        "notifications/subscriptions/acknowledged",
        json!({ "notifications": honoured }),
    );
    let listen = Listen {
        ctx: ctx.clone(),
        req: req.clone(),
        claims: claims.clone(),
        id: id.clone(),
        ack: Some(ack),
        changes,
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
fn honoured(requested: &SubscriptionFilter) -> SubscriptionFilter {
    let mut honoured = requested.supported_by(&server::capabilities(true));
    honoured.resource_subscriptions = honoured
        .resource_subscriptions
        .map(|uris| {
            let mut known: Vec<String> = Vec::new();
            for uri in uris {
                if content::subscribable(&uri) && !known.contains(&uri) {
                    known.push(uri);
                }
            }
            known
        })
        .filter(|uris| !uris.is_empty());
    honoured
}

struct Listen {
    ctx: Rc<Ctx>,
    /// The opening request, to check its token again.
    req: Request,
    claims: AccessClaims,
    id: RequestId,
    ack: Option<Value>,
    changes: UnboundedReceiver<Change>,
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
        let tick = self.ctx.clock.clone().sleep(KEEP_ALIVE_MS);
        let next = match select(self.changes.next(), tick).await {
            Either::Left((change, _)) => change,
            Either::Right(((), _)) => {
                if self.authorized().await {
                    return Some(":\n\n".to_string());
                }
                None
            }
        };
        match next {
            Some(change) if self.authorized().await => Some(event(&notification(
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

    /// The token that opened the stream still verifies, for the same subject and client.
    async fn authorized(&self) -> bool {
        match oauth::authenticate(&self.ctx, &self.req).await {
            Ok(claims) => {
                claims.sub == self.claims.sub && claims.client_id == self.claims.client_id
            }
            Err(_) => false,
        }
    }

    fn closing_result(&self) -> Value {
        let mut meta = Map::new();
        meta.insert(META_SUBSCRIPTION_ID.into(), jsonrpc::id_to_value(&self.id));
        meta.insert(META_SERVER_INFO.into(), server::server_info_json());
        jsonrpc::result(&self.id, json!({ "resultType": "complete", "_meta": meta }))
    }
}

fn params(change: &Change) -> Value {
    match change {
        Change::ResourceUpdated(uri) => json!({ "uri": uri }),
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
