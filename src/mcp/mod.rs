//! The MCP server: Streamable HTTP transport, JSON-RPC framing, sessions, dispatch.

pub mod transport;

use crate::Ctx;

#[derive(Default)]
pub struct McpState {}

/// Ends every session (revoke-all).
pub fn close_all_sessions(ctx: &Ctx) {
    let _ = ctx;
}

/// Ends the sessions opened by one client (per-client revoke).
pub fn close_client_sessions(ctx: &Ctx, client_id: &str) {
    let _ = (ctx, client_id);
}

/// Live sessions, after reaping those idle for over an hour.
pub fn active_sessions(ctx: &Ctx) -> usize {
    let _ = ctx;
    0
}
