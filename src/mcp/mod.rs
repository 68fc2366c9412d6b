//! The MCP server: Streamable HTTP transport, JSON-RPC framing, sessions, dispatch.
//!
//! `transport` answers HTTP; `jsonrpc` frames messages; `session` keeps per-session state;
//! `server` dispatches methods; `calls` runs tools; `content` serves resources, prompts and
//! completions; `peer` is the client as a tool sees it (`elicited` checks its answers); `stream` turns a POST's handlers
//! into an SSE body pulled by the shim.

pub mod calls;
pub mod content;
pub mod elicited;
#[cfg(feature = "conformance-fixtures")]
pub mod fixtures;
pub mod jsonrpc;
pub mod paging;
pub mod peer;
pub mod server;
pub mod session;
pub mod stream;
pub mod transport;

use crate::Ctx;

#[derive(Default)]
pub struct McpState {
    pub(crate) sessions: session::Sessions,
}

/// Ends every session (revoke-all).
pub fn close_all_sessions(ctx: &Ctx) {
    ctx.mcp.sessions.close_where(|_| true);
}

/// Ends the sessions opened by one client (per-client revoke).
pub fn close_client_sessions(ctx: &Ctx, client_id: &str) {
    ctx.mcp.sessions.close_where(|s| s.client_id == client_id);
}

/// Live sessions, after reaping those idle for over an hour.
pub fn active_sessions(ctx: &Ctx) -> usize {
    ctx.mcp.sessions.reap(ctx.clock.now_ms());
    ctx.mcp.sessions.len()
}
