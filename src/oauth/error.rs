//! OAuth errors as values. The endpoints' logic (registration, the grants, revocation, the
//! bearer check) returns an [`OAuthError`]; it is turned into HTTP in one place,
//! [`OAuthError::response`], so the logic can be tested without HTTP and every endpoint
//! answers errors the same way: the RFC 6749 §5.2 JSON body, never cached.
//!
//! `/authorize` is the exception in form, not in content: before the client and its
//! redirect URI are trusted, errors are pages for the person at the browser; after, they
//! travel to the redirect URI as `error` and `error_description` (RFC 6749 §4.1.2.1).

use crate::http::Response;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    /// The RFC 6749 §5.2 / RFC 7591 §3.2.2 / RFC 8707 / RFC 6750 error code.
    pub code: &'static str,
    /// A sentence a person can act on.
    pub description: String,
    /// The `Allow` header of a 405.
    pub allow: Option<&'static str>,
    /// The `WWW-Authenticate` header of a 401 from the MCP endpoint (RFC 6750 §3).
    pub challenge: Option<String>,
}

impl OAuthError {
    pub fn new(status: u16, code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            code,
            description: description.into(),
            allow: None,
            challenge: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }

    /// 401: the client is unknown (or was revoked); clients register again on it.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    pub fn unsupported_grant_type(description: impl Into<String>) -> Self {
        Self::new(400, "unsupported_grant_type", description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_scope", description)
    }

    /// RFC 8707 §2: the `resource` is not one this server issues tokens for.
    pub fn invalid_target(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_target", description)
    }

    /// RFC 7591 §3.2.2.
    pub fn invalid_client_metadata(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_client_metadata", description)
    }

    /// RFC 7591 §3.2.2.
    pub fn invalid_redirect_uri(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_redirect_uri", description)
    }

    /// 503: the server cannot act now (a full client table, an unreachable host).
    pub fn temporarily_unavailable(description: impl Into<String>) -> Self {
        Self::new(503, "temporarily_unavailable", description)
    }

    pub fn method_not_allowed(allow: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            allow: Some(allow),
            ..Self::new(405, "method_not_allowed", description)
        }
    }

    /// The HTTP answer: `{error, error_description}`, `Cache-Control: no-store` (RFC 6749
    /// §5.1 asks it of token answers; no error answer is worth caching either), and the
    /// `Allow` or `WWW-Authenticate` header when set.
    pub fn response(&self) -> Response {
        let mut response = Response::error(self.status, self.code, &self.description)
            .header("cache-control", "no-store")
            .header("pragma", "no-cache");
        if let Some(allow) = self.allow {
            response = response.header("allow", allow);
        }
        if let Some(challenge) = &self.challenge {
            response = response.header("www-authenticate", challenge.clone());
        }
        response
    }
}

impl From<OAuthError> for Response {
    fn from(error: OAuthError) -> Response {
        error.response()
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_rfc_6749_body_uncached_with_its_headers() {
        let r = OAuthError::method_not_allowed("POST, OPTIONS", "Use POST.").response();
        assert_eq!(r.status, 405);
        assert_eq!(
            r.body_json().unwrap(),
            serde_json::json!({"error": "method_not_allowed", "error_description": "Use POST."})
        );
        assert_eq!(r.get_header("content-type"), Some("application/json"));
        assert_eq!(r.get_header("cache-control"), Some("no-store"));
        assert_eq!(r.get_header("allow"), Some("POST, OPTIONS"));
        assert_eq!(r.get_header("www-authenticate"), None);
        assert_eq!(OAuthError::invalid_client("x").response().status, 401);
        assert_eq!(
            OAuthError::temporarily_unavailable("x").response().status,
            503
        );
    }
}
