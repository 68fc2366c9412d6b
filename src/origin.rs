//! The public base URL of a request, CORS, and the hint page.

use crate::http::{Request, Response};
use crate::Ctx;

/// CORS preflight answer for browser-based clients.
pub fn preflight(req: &Request) -> Response {
    let _ = req;
    Response::new(204)
}

/// Adds our own CORS headers (Scrypted's do not expose `Mcp-Session-Id`).
pub fn with_cors(req: &Request, response: Response) -> Response {
    let _ = req;
    response
}

/// `GET /`: a short page telling a person what this endpoint is.
pub async fn hint_page(ctx: &Ctx, req: &Request) -> Response {
    let _ = (ctx, req);
    Response::html(200, "<p>scrypted-mcp</p>")
}
