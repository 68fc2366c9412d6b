//! The OAuth 2.1 authorization server.

use crate::http::{Request, Response};
use crate::Ctx;

#[derive(Default)]
pub struct OAuthState {}

/// What a verified access token says. The MCP endpoint trusts nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub aud: String,
    pub exp: u64,
}

/// Answers the OAuth and metadata paths; `None` for paths that are not ours.
pub async fn route(ctx: &Ctx, req: &Request, path: &str) -> Option<Response> {
    let _ = (ctx, req, path);
    None
}

/// Verifies the `Authorization: Bearer` access token of an MCP request against this
/// request's canonical MCP URL. `Err` is the complete answer to send: 401 with
/// `WWW-Authenticate: Bearer resource_metadata="..."` (plus `error="invalid_token"` when a
/// bad token was sent).
pub async fn authenticate(ctx: &Ctx, req: &Request) -> Result<AccessClaims, Response> {
    let _ = (ctx, req);
    Err(Response::error(401, "invalid_token", "not implemented"))
}
