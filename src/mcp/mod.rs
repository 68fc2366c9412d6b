//! The MCP server: Streamable HTTP transport for both eras, JSON-RPC framing, sessions,
//! dispatch.
//!
//! `transport` answers HTTP and picks the era (`era`): `legacy` serves sessions
//! (`session`; `session_id` revives one the server no longer holds from its signed id),
//! `modern` serves stateless 2026-07-28 requests after checking their headers (`headers`); `jsonrpc` frames messages; `server` dispatches methods and
//! `wire` shapes results per era; `calls` runs tools; `content` serves resources;
//! `prompts` serves prompts and completions; `peer` is the client as a tool sees it (`elicited` checks
//! its answers, `mrtr` carries a modern client's answers between rounds); `stream` turns a POST's handlers into an SSE body pulled by the shim;
//! `listen` serves `subscriptions/listen` and `updates` a legacy session's GET stream,
//! both from the listeners of `subscriptions`; `tasks` runs long tool calls as tasks of
//! the tasks extension (`task_input` holds what a running task asks).

pub mod calls;
pub mod content;
pub mod elicited;
pub mod era;
#[cfg(feature = "conformance-fixtures")]
pub mod fixtures;
pub mod headers;
pub mod identity;
pub mod jsonrpc;
pub mod legacy;
pub mod listen;
pub mod modern;
pub mod mrtr;
pub mod paging;
pub mod peer;
pub mod prompts;
pub mod scopes;
pub mod server;
pub mod session;
pub mod session_id;
pub mod stream;
pub mod subscriptions;
pub mod task_input;
pub mod tasks;
pub mod transport;
pub mod updates;
pub mod wire;

use crate::Ctx;
use subscriptions::Change;

#[derive(Default)]
pub struct McpState {
    pub(crate) sessions: session::Sessions,
    pub(crate) listeners: subscriptions::Listeners,
    /// `requestState`s already answered (`mrtr`).
    pub(crate) spent: mrtr::Spent,
    /// Tool calls running as tasks for 2026 clients (`tasks`).
    pub(crate) tasks: tasks::Tasks,
    /// The one timer long waits count their time in: 2026-07-28 answers (`stream`), a
    /// legacy session's requests to the client (`peer`).
    pub(crate) ticker: std::rc::Rc<crate::clock::Ticker>,
}

/// Tells every open `subscriptions/listen` stream that asked for it about `change`
/// (e.g. a resource whose contents changed).
pub fn publish(ctx: &Ctx, change: Change) {
    ctx.mcp.listeners.publish(&change);
}

/// Ends every session, listen stream and running task (revoke-all); no session id minted
/// so far revives.
pub fn close_all_sessions(ctx: &Ctx) {
    ctx.mcp.sessions.close_where(|_| true);
    session_id::forget_all(ctx);
    ctx.mcp.listeners.close_where(|_, _| true);
    ctx.mcp.tasks.cancel_where(ctx, |_| true);
}

/// Ends the sessions, listen streams and running tasks of one client (per-client revoke).
pub fn close_client_sessions(ctx: &Ctx, client_id: &str) {
    ctx.mcp.sessions.close_where(|s| s.client_id == client_id);
    ctx.mcp
        .listeners
        .close_where(|_, client| client == client_id);
    ctx.mcp
        .tasks
        .cancel_where(ctx, |owner| owner.client_id == client_id);
}

/// Stops the running tasks that what Settings just lowered (read-only mode, an app's
/// scope) no longer allows; a request's bearer check sees the lowering on its own.
pub fn authority_lowered(ctx: &Ctx) {
    ctx.mcp.tasks.cancel_unallowed(ctx);
}

/// Live sessions, after reaping those idle for over an hour.
pub fn active_sessions(ctx: &Ctx) -> usize {
    ctx.mcp.sessions.reap(ctx.clock.now_ms());
    ctx.mcp.sessions.len()
}

/// Open `subscriptions/listen` streams.
pub fn active_listeners(ctx: &Ctx) -> usize {
    ctx.mcp.listeners.len()
}

/// A device event reached the ring (`crate::events`): the subscribers of the resources it
/// changed (the device, and the device list when one came, went or was renamed) hear of it.
pub fn device_changed(ctx: &Ctx, record: &crate::events::EventRecord) {
    for change in content::changed_by(record) {
        publish(ctx, change);
    }
}
