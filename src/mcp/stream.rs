//! The answer to one POST, driven by whoever pulls it: the handlers' future runs when the
//! shim asks for the next SSE chunk, so nothing is spawned and nothing runs unobserved.

use super::session::SessionRef;
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::LocalBoxFuture;
use futures::stream::Stream;
use futures::{FutureExt, StreamExt};
use rmcp::model::ProtocolVersion;
use serde_json::Value;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

/// What the POST's handlers produce: their responses (none for cancelled requests).
pub type Work = LocalBoxFuture<'static, Vec<Value>>;

pub struct Exchange {
    work: Option<Work>,
    /// Notifications and requests the handlers emit while they run.
    events: UnboundedReceiver<Value>,
    /// Messages ready to go out, in order.
    ready: VecDeque<Value>,
}

/// How the first wait ended: everything done before anything was emitted (answer with
/// JSON), or a message to stream (answer with SSE).
pub enum Start {
    Done(Vec<Value>),
    Streaming(Exchange),
}

impl Exchange {
    pub fn new(work: Work, events: UnboundedReceiver<Value>) -> Self {
        Exchange {
            work: Some(work),
            events,
            ready: VecDeque::new(),
        }
    }

    /// Runs the handlers until they finish or emit their first message.
    pub async fn start(mut self) -> Start {
        futures::future::poll_fn(|cx| self.poll_progress(cx)).await;
        if self.work.is_none() && self.ready.iter().all(is_response) {
            Start::Done(self.ready.drain(..).collect())
        } else {
            Start::Streaming(self)
        }
    }

    /// Ready when a message is queued or the work has finished.
    fn poll_progress(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            match self.events.poll_next_unpin(cx) {
                Poll::Ready(Some(message)) => {
                    self.ready.push_back(message);
                    continue;
                }
                Poll::Ready(None) | Poll::Pending => {}
            }
            if !self.ready.is_empty() {
                return Poll::Ready(());
            }
            let Some(work) = self.work.as_mut() else {
                return Poll::Ready(());
            };
            match work.poll_unpin(cx) {
                Poll::Ready(responses) => {
                    self.work = None;
                    // Anything emitted just before the end goes out before the responses.
                    while let Ok(message) = self.events.try_recv() {
                        self.ready.push_back(message);
                    }
                    self.ready.extend(responses);
                    return Poll::Ready(());
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// The SSE body: every message as one event, then the end. In a legacy session each
    /// event has a session-unique id, and from 2025-11-25 a priming event (an id, empty
    /// data) goes first, as the transport spec asks; older clients might try to parse the
    /// empty data, so they do not get it. 2026-07-28 streams are not resumable: no ids.
    pub fn into_sse(self, session: Option<SessionRef>) -> SseStream {
        let primed = session
            .as_ref()
            .is_none_or(|s| s.borrow().version < ProtocolVersion::V_2025_11_25);
        SseStream {
            exchange: self,
            session,
            primed,
        }
    }
}

fn is_response(message: &Value) -> bool {
    message.get("method").is_none()
}

pub struct SseStream {
    exchange: Exchange,
    /// Numbers the events of a legacy session.
    session: Option<SessionRef>,
    /// Whether the priming event has gone out (or is not wanted).
    primed: bool,
}

impl Stream for SseStream {
    type Item = String;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        let this = self.get_mut();
        let next_id =
            |session: &Option<SessionRef>| session.as_ref().map(|s| s.borrow_mut().next_event_id());
        if !this.primed {
            this.primed = true;
            let id = next_id(&this.session).unwrap_or_default();
            return Poll::Ready(Some(priming_event(&id)));
        }
        if this.exchange.poll_progress(cx).is_pending() {
            return Poll::Pending;
        }
        match this.exchange.ready.pop_front() {
            Some(message) => {
                Poll::Ready(Some(sse_event(next_id(&this.session).as_deref(), &message)))
            }
            None => Poll::Ready(None),
        }
    }
}

pub fn sse_event(id: Option<&str>, message: &Value) -> String {
    let message = crate::http::json_text(message);
    match id {
        Some(id) => format!("id: {id}\nevent: message\ndata: {message}\n\n"),
        None => format!("event: message\ndata: {message}\n\n"),
    }
}

/// An event with an id and empty data: it tells the client which id to resume after.
pub fn priming_event(id: &str) -> String {
    format!("id: {id}\ndata: \n\n")
}
