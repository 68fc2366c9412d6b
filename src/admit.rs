//! What a request's head and body size decide before its body crosses into wasm (issue 8
//! item 15). The shim hands over the head and the body's size first; a body nobody may
//! send is refused without being copied, which a 30 MB `application/octet-stream` POST
//! (Scrypted reads up to 100 MB of `application/*` as a Buffer, docs/reference/
//! scrypted-host.md §6.2) otherwise costs as a 110 MB JSON string crossing into wasm.

use crate::http::Request;
use crate::http::Response;
use crate::mcp::jsonrpc::rpc_error;
use crate::{oauth, origin, Ctx};

/// Largest body any route reads. Scrypted's JSON, form and text parsers stop at 100 KB
/// (§6.2); only an `application/*` Buffer can be larger, and no route of ours reads one
/// (restore_backup takes its zip in chunks inside JSON-RPC calls).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Largest body an MCP POST may carry without a valid access token. An unauthenticated
/// client has nothing to say beyond `initialize` and the 401 it gets back.
pub const MAX_ANONYMOUS_MCP_BODY_BYTES: usize = 64 * 1024;

/// A body up to this size is never refused by [`admit`] (nothing in it decides on less), so
/// the shim sends it with the head in one call instead of asking `admit` first (the wasm's
/// `handle` still runs `admit` on what it was not asked about).
pub const SENT_WITH_HEAD: usize = MAX_ANONYMOUS_MCP_BODY_BYTES;

/// `Some(answer)` when the request must be refused on its head and body size alone;
/// `None` lets it through to `Plugin::handle`.
pub async fn admit(ctx: &Ctx, head: &Request, body_bytes: usize) -> Option<Response> {
    let mcp = head.local_path() == "/mcp";
    if body_bytes > MAX_BODY_BYTES {
        let message = format!(
            "Payload Too Large: the body is {body_bytes} characters; this plugin reads at most {MAX_BODY_BYTES}. Send MCP messages as application/json (Scrypted takes up to 100 KB), and a backup in restore_backup's chunks."
        );
        return Some(if mcp {
            rpc_error(413, -32600, &message)
        } else {
            Response::error(413, "invalid_request", &message)
        });
    }
    if mcp && body_bytes > MAX_ANONYMOUS_MCP_BODY_BYTES {
        // The same answers, in the same order, as the transport gives: Origin, then token.
        let base = origin::base(ctx, head).await;
        if !origin::origin_allowed(head, &base) {
            return Some(rpc_error(403, -32000, "Forbidden: Origin not allowed"));
        }
        if let Err(response) = oauth::authenticate(ctx, head).await {
            return Some(response);
        }
    }
    None
}
