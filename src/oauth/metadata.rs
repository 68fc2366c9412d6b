//! Discovery documents: RFC 9728 protected-resource metadata, RFC 8414 AS metadata (the
//! same document, OIDC-shaped, also at `openid-configuration`), and the JWKS.
//! They ignore `MCP-Protocol-Version`: clients send it on discovery too.

use super::{scope, OAuthError};
use crate::http::{Request, Response};
use crate::origin;
use crate::Ctx;
use serde_json::json;

fn only_get(req: &Request) -> Result<(), OAuthError> {
    match req.method.as_str() {
        "GET" | "HEAD" => Ok(()),
        _ => Err(OAuthError::method_not_allowed(
            "GET, HEAD, OPTIONS",
            "Use GET for metadata.",
        )),
    }
}

fn document(value: serde_json::Value) -> Response {
    // Derived from the request's origin, so a shared cache must not replay it elsewhere.
    Response::json(200, &value).header("cache-control", "no-store")
}

pub async fn protected_resource(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    only_get(req)?;
    let base = origin::base(ctx, req).await;
    Ok(document(json!({
        "resource": base.mcp_url(),
        "authorization_servers": [base.issuer],
        "scopes_supported": scope::supported(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Scrypted MCP server",
    })))
}

pub async fn authorization_server(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    only_get(req)?;
    let base = origin::base(ctx, req).await;
    Ok(document(json!({
        "issuer": base.issuer,
        "authorization_endpoint": base.endpoint("/authorize"),
        "token_endpoint": base.endpoint("/token"),
        "registration_endpoint": base.endpoint("/register"),
        "revocation_endpoint": base.endpoint("/revoke"),
        "jwks_uri": base.endpoint("/.well-known/jwks.json"),
        "scopes_supported": scope::supported(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "client_id_metadata_document_supported": true,
        "revocation_endpoint_auth_methods_supported": ["none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "authorization_response_iss_parameter_supported": super::iss_parameter(ctx.store.as_ref()),
    })))
}

pub fn jwks(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    only_get(req)?;
    let key = ctx.oauth.key(ctx.store.as_ref());
    Ok(Response::json(200, &json!({ "keys": [key.jwk()] })).header("cache-control", "no-cache"))
}
