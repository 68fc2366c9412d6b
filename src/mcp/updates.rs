//! A legacy session's GET stream (2025-11-25 basic/transports.mdx, "Listening for
//! Messages from the Server"): `notifications/resources/updated` for the resources the
//! session subscribed to, coalesced (`subscriptions::Delivery`), with keep-alives while
//! idle. One per session: a newer GET ends the older one, as the spec lets a server send
//! each message on one stream only. The stream ends when the client closes it (its
//! listener goes with it), when the session ends, or when the token that opened it no
//! longer verifies.

use super::listen::{authorized, params, KEEP_ALIVE_MS};
use super::session::{Session, SessionRef};
use super::stream::{priming_event, sse_event};
use super::subscriptions::{Change, Delivery, Next, Registration};
use crate::http::{Disconnect, Request, Response};
use crate::oauth::AccessClaims;
use crate::Ctx;
use rmcp::model::ProtocolVersion;
use std::cell::RefCell;
use std::rc::{Rc, Weak};

pub fn open(ctx: &Rc<Ctx>, req: &Request, claims: &AccessClaims, session: &SessionRef) -> Response {
    let watched: Weak<RefCell<Session>> = Rc::downgrade(session);
    // Asked at each change, so later subscribes and unsubscribes count.
    let wants = Box::new(move |change: &Change| match change {
        Change::ResourceUpdated(uri) => watched
            .upgrade()
            .is_some_and(|s| s.borrow().subscriptions.contains(uri)),
        _ => false,
    });
    let (registration, changes) =
        ctx.mcp
            .listeners
            .register_interest(&claims.sub, &claims.client_id, wants);
    let replaced = session.borrow_mut().get_stream.replace(registration.id());
    if let Some(older) = replaced {
        ctx.mcp.listeners.close(older);
    }
    let primed = session.borrow().version < ProtocolVersion::V_2025_11_25;
    let stream = Updates {
        ctx: ctx.clone(),
        req: req.clone(),
        claims: claims.clone(),
        session: Rc::downgrade(session),
        delivery: Delivery::new(changes, ctx.clock.clone(), KEEP_ALIVE_MS),
        primed,
        _registration: registration,
    };
    let body = futures::stream::unfold(stream, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((chunk, s))
    });
    Response::event_stream(Box::pin(body), Disconnect::Cancel)
}

struct Updates {
    ctx: Rc<Ctx>,
    req: Request,
    claims: AccessClaims,
    session: Weak<RefCell<Session>>,
    delivery: Delivery,
    primed: bool,
    /// Keeps the listener registered while the stream lives.
    _registration: Registration,
}

impl Updates {
    async fn next_chunk(&mut self) -> Option<String> {
        let session = self.session.upgrade()?;
        if !self.primed {
            self.primed = true;
            let id = session.borrow_mut().next_event_id();
            return Some(priming_event(&id));
        }
        drop(session);
        let next = self.delivery.next().await;
        // The session may have ended, or the token stopped verifying, while it waited.
        let session = self.session.upgrade()?;
        if next == Next::Closed || !authorized(&self.ctx, &self.req, &self.claims).await {
            return None;
        }
        match next {
            Next::Change(change) => {
                let message = crate::mcp::jsonrpc::notification(change.method(), params(&change));
                let id = session.borrow_mut().next_event_id();
                Some(sse_event(Some(&id), &message))
            }
            _ => Some(super::stream::KEEP_ALIVE.to_string()),
        }
    }
}
