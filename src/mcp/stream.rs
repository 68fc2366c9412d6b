//! The answer to one POST, driven by whoever pulls it: the handlers' future runs when the
//! shim asks for the next SSE chunk, so nothing is spawned and nothing runs unobserved.
//!
//! A 2026-07-28 request still running after a second or two is answered as a stream that
//! starts with a keep-alive comment and sends one every few seconds while it runs. The
//! transport counts a client's disconnect as cancellation, and Scrypted tells a plugin of
//! a closed connection only when it writes a chunk of a stream (`sendStream` looks at the
//! socket between chunks; before a response has started, nothing reaches the plugin), so
//! a JSON answer's request would run to its end unobserved.
//!
//! A legacy session's answer is held back the same way for a quarter of a minute, and its
//! stream sends a comment after each quarter minute of silence, so that nothing between
//! the client and us cuts it as idle while a tool works or waits for a person.

use super::session::SessionRef;
use crate::clock::Ticker;
use crate::Ctx;
use futures::channel::mpsc::UnboundedReceiver;
use futures::future::LocalBoxFuture;
use futures::stream::Stream;
use futures::{FutureExt, StreamExt};
use rmcp::model::ProtocolVersion;
use serde_json::Value;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// The period of `McpState`'s ticker.
const TICK_MS: u64 = 1_000;
/// When an answer whose work runs silent becomes a stream, and how often its stream then
/// sends a keep-alive comment, in ticks of `McpState`'s ticker (n ticks: n − 1 to n periods).
#[derive(Clone, Copy)]
pub struct Pace {
    /// Ticks of silent work before the answer, until then held back for JSON, is a stream.
    after: u32,
    /// Ticks of silence between two chunks of the stream.
    every: u32,
}

/// 2026-07-28: a disconnect is the request's cancellation, and Scrypted sees one only when
/// it writes a chunk, so a request still running after 1–2 s streams with a comment every
/// 1–2 s. Quick requests, nearly all of them, are answered with JSON.
pub const MODERN: Pace = Pace { after: 2, every: 2 };

/// A legacy session, where a disconnect cancels nothing: only so that nothing between the
/// client and us cuts a silent response as idle while a tool works or waits for a person
/// (14–15 s). Node's fetch (undici's `headersTimeout` and `bodyTimeout`, which the
/// TypeScript SDK's client uses) gives up after 300 s without a byte, many reverse proxies
/// and tunnels after 60–100 s (nginx's `proxy_read_timeout`, Cloudflare's 100 s).
pub const LEGACY: Pace = Pace {
    after: 15,
    every: 15,
};

/// An SSE comment, for every stream's keep-alive: the client ignores it, and writing it
/// lets Scrypted see a closed socket.
pub const KEEP_ALIVE: &str = ":\n\n";

impl Default for Ticker {
    fn default() -> Self {
        Ticker::new(TICK_MS)
    }
}

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

    /// Runs the handlers until they finish or emit their first message, or with a `pace`
    /// until they have run silent for its `after` ticks; the stream then keeps alive at that
    /// pace (`into_legacy_sse`, `into_modern_sse`). Without one (a client that takes no event
    /// stream) the answer waits for the work. Ticks are counted only for work that did not
    /// finish when first polled.
    pub async fn start(mut self, pace: Option<(&Rc<Ctx>, Pace)>) -> (Start, Option<KeepAlive>) {
        let mut alarm = None;
        let ran_long = futures::future::poll_fn(|cx| {
            if self.poll_progress(cx).is_ready() {
                return Poll::Ready(false);
            }
            match pace {
                Some((ctx, pace)) => alarm
                    .get_or_insert_with(|| ctx.mcp.ticker.ticks(&ctx.clock, pace.after))
                    .poll_unpin(cx)
                    .map(|()| true),
                None => Poll::Pending,
            }
        })
        .await;
        let keep_alive = pace.map(|(ctx, pace)| KeepAlive {
            ctx: ctx.clone(),
            ticks: pace.every,
            due: ran_long,
            wait: None,
        });
        let start = if self.work.is_none() && self.ready.iter().all(is_response) {
            Start::Done(self.ready.drain(..).collect())
        } else {
            Start::Streaming(self)
        };
        (start, keep_alive)
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

    /// A legacy session's SSE body: every message as one event with a session-unique id,
    /// then the end, and the keep-alive comments of `start`. From 2025-11-25 a priming event
    /// (an id, empty data) goes first, as the transport spec asks; older clients might try
    /// to parse the empty data, so they do not get it.
    pub fn into_legacy_sse(
        self,
        session: SessionRef,
        mut keep_alive: Option<KeepAlive>,
    ) -> SseStream {
        let primed = session.borrow().version < ProtocolVersion::V_2025_11_25;
        if let Some(keep_alive) = keep_alive.as_mut() {
            // The priming event opens the stream where there is one.
            keep_alive.due &= primed;
        }
        SseStream {
            exchange: self,
            session: Some(session),
            primed,
            keep_alive,
        }
    }

    /// A 2026-07-28 request's SSE body: its messages, no ids (its streams are not
    /// resumable), and keep-alive comments while the work runs.
    pub fn into_modern_sse(self, keep_alive: Option<KeepAlive>) -> SseStream {
        SseStream {
            exchange: self,
            session: None,
            primed: true,
            keep_alive,
        }
    }
}

/// The keep-alive comments of an answer's stream.
pub struct KeepAlive {
    ctx: Rc<Ctx>,
    /// Ticks from the last chunk to the next comment.
    ticks: u32,
    /// A comment goes out next: the stream began because the work ran long, and no
    /// priming event opens it (`into_legacy_sse`).
    due: bool,
    /// The ticks until the next comment, counted while the work runs.
    wait: Option<LocalBoxFuture<'static, ()>>,
}

impl KeepAlive {
    /// Ready when a comment is due: `ticks` after the last chunk.
    fn poll_due(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::take(&mut self.due) {
            return Poll::Ready(());
        }
        let (ctx, ticks) = (&self.ctx, self.ticks);
        let wait = self
            .wait
            .get_or_insert_with(|| ctx.mcp.ticker.ticks(&ctx.clock, ticks));
        let due = wait.poll_unpin(cx);
        if due.is_ready() {
            self.wait = None;
        }
        due
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
    keep_alive: Option<KeepAlive>,
}

impl Stream for SseStream {
    type Item = String;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        let this = self.get_mut();
        let next_id = |session: &Option<SessionRef>| {
            session
                .as_ref()
                .map(|s| s.borrow_mut().next_answer_event_id())
        };
        if !this.primed {
            this.primed = true;
            let id = next_id(&this.session).unwrap_or_default();
            return Poll::Ready(Some(priming_event(&id)));
        }
        if this.exchange.poll_progress(cx).is_pending() {
            return match this.keep_alive.as_mut().map(|k| k.poll_due(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(Some(KEEP_ALIVE.to_string())),
                _ => Poll::Pending,
            };
        }
        if let Some(keep_alive) = this.keep_alive.as_mut() {
            // The interval starts again after anything is sent, and a message that goes
            // out first makes the opening comment needless.
            keep_alive.wait = None;
            keep_alive.due = false;
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
