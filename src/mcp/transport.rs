//! Streamable HTTP: POST / GET / DELETE on `/mcp`.

use crate::http::{Request, Response};
use crate::Ctx;
use std::rc::Rc;

pub async fn handle(ctx: &Rc<Ctx>, req: Request) -> Response {
    let _ = (ctx, req);
    Response::error(501, "not_implemented", "MCP transport not built yet")
}
