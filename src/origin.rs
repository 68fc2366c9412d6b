//! The public base URL of a request, CORS, and the hint page.
//!
//! Scrypted's `HttpRequest` carries no scheme (docs/reference/scrypted-host.md §6.4), so the
//! scheme comes from `x-forwarded-proto`, else from comparing the Host port with the
//! server's own port settings. Issuer, MCP URL and PRM URL all derive from one base, so
//! metadata `issuer`, JWT `iss` and RFC 9207 `iss` are always the same string.

use crate::http::{Request, Response};
use crate::Ctx;

/// Where the client reached us: `<scheme>://<host>` plus the plugin's root path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase {
    /// `http` or `https`.
    pub scheme: String,
    /// Host with port when not the scheme's default, as `url` normalises it.
    pub host: String,
    /// `<scheme>://<host><root_path>`, no trailing slash.
    pub issuer: String,
}

impl PublicBase {
    /// `<scheme>://<host>`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
    /// The canonical MCP URL: the PRM `resource` and the access tokens' `aud`.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.issuer)
    }
    /// The RFC 9728 document named in every 401 challenge.
    pub fn prm_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource", self.issuer)
    }
    /// An endpoint under the issuer, e.g. `endpoint("/token")`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }
}

/// The first value of a possibly comma-joined forwarded header.
fn first_value(value: &str) -> &str {
    value.split(',').next().unwrap_or("").trim()
}

/// The Host the client used: `x-forwarded-host` first, else `host`.
fn raw_host(req: &Request) -> &str {
    req.header("x-forwarded-host")
        .map(first_value)
        .filter(|h| !h.is_empty())
        .or_else(|| req.header("host").map(str::trim))
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost")
}

fn forwarded_scheme(req: &Request) -> Option<String> {
    req.header("x-forwarded-proto")
        .map(|p| first_value(p).to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https")
}

/// Normalises `host[:port]` through the URL parser, so a hostile Host header cannot
/// smuggle paths, quotes or markup into the URLs we emit. `None` when it does not parse.
fn normalise_host(scheme: &str, host: &str) -> Option<String> {
    let url = url::Url::parse(&format!("{scheme}://{host}/")).ok()?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return None;
    }
    let name = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_string(),
    })
}

/// The host name (no port) of the `Host` header the client sent: the address it reached
/// this server by. A proxy's `x-forwarded-host` does not count: it names the proxy, which
/// does not answer on Scrypted's ports.
pub fn request_host_name(req: &Request) -> Option<String> {
    let host = req
        .header("host")
        .map(str::trim)
        .filter(|h| !h.is_empty())?;
    let url = url::Url::parse(&format!("http://{host}/")).ok()?;
    if url.path() != "/" || !url.username().is_empty() {
        return None;
    }
    url.host_str().map(String::from)
}

fn host_port(host: &str) -> Option<u16> {
    url::Url::parse(&format!("http://{host}/"))
        .ok()
        .and_then(|u| u.port())
}

/// The public base URL of this request.
pub async fn base(ctx: &Ctx, req: &Request) -> PublicBase {
    let host = raw_host(req);
    let scheme = match forwarded_scheme(req) {
        Some(s) => s,
        None => {
            let port = host_port(host);
            let ports = ctx.oauth.server_ports(ctx).await;
            match (port, ports) {
                (Some(p), Some(ports)) if p == ports.secure => "https".to_string(),
                _ => "http".to_string(),
            }
        }
    };
    let host = normalise_host(&scheme, host).unwrap_or_else(|| "localhost".to_string());
    let issuer = format!("{scheme}://{host}{}", req.root_path.trim_end_matches('/'));
    PublicBase {
        scheme,
        host,
        issuer,
    }
}

/// Whether a host (as the `url` crate gives it: IPv6 in brackets, no port) is this
/// machine's loopback. The Origin check and the OAuth redirect-URI rules both use it.
pub fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether a browser `Origin` may talk to the MCP endpoint: no Origin (most AI clients
/// send none), our own origin, or any loopback origin when we are reached over loopback.
/// Synchronous, so the scheme is taken from the Origin itself unless a proxy told us.
pub fn origin_allowed(req: &Request) -> bool {
    let Some(origin) = req.header("origin").map(str::trim) else {
        return true;
    };
    let Ok(origin_url) = url::Url::parse(origin) else {
        return false;
    };
    let Some(origin_host) = origin_url.host_str() else {
        return false;
    };
    let scheme = origin_url.scheme();
    if scheme != "http" && scheme != "https" {
        return false;
    }
    if let Some(proto) = forwarded_scheme(req) {
        if proto != scheme && !is_loopback_host(origin_host) {
            return false;
        }
    }
    let Ok(own) = url::Url::parse(&format!("{scheme}://{}/", raw_host(req))) else {
        return false;
    };
    let Some(own_host) = own.host_str() else {
        return false;
    };
    if is_loopback_host(own_host) && is_loopback_host(origin_host) {
        return true;
    }
    own_host.eq_ignore_ascii_case(origin_host)
        && own.port_or_known_default() == origin_url.port_or_known_default()
}

const ALLOW_METHODS: &str = "GET, POST, DELETE, OPTIONS";
const ALLOW_HEADERS: &str =
    "authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id";
const EXPOSE_HEADERS: &str = "mcp-session-id, www-authenticate";

/// CORS preflight answer for browser-based clients.
pub fn preflight(req: &Request) -> Response {
    let response = Response::new(204)
        .header("access-control-allow-methods", ALLOW_METHODS)
        .header("access-control-allow-headers", ALLOW_HEADERS)
        .header("access-control-max-age", "600");
    with_cors(req, response)
}

/// Adds our own CORS headers (Scrypted's do not expose `Mcp-Session-Id`).
///
/// `/authorize` gets none: Scrypted adds `Access-Control-Allow-Credentials: true` to every
/// endpoint response, so echoing the Origin there would let any web page read the consent
/// page (and its CSRF token) with the admin's cookie.
pub fn with_cors(req: &Request, response: Response) -> Response {
    if req.local_path() == "/authorize" {
        return response;
    }
    let response = match req.header("origin") {
        Some(origin) if !origin.is_empty() => {
            response.header("access-control-allow-origin", origin.trim())
        }
        _ => response,
    };
    let vary = match response.get_header("vary") {
        Some(v)
            if v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("origin")) =>
        {
            v.to_string()
        }
        Some(v) => format!("{v}, Origin"),
        None => "Origin".to_string(),
    };
    response
        .header("access-control-expose-headers", EXPOSE_HEADERS)
        .header("vary", vary)
}

/// Escapes text for HTML element content and double-quoted attribute values (the only
/// kind of attribute our pages write).
pub fn html_escape(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).into_owned()
}

/// A minimal, self-contained HTML page (no external assets: the endpoint may be offline).
pub fn page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:40em;\
margin:3em auto;padding:0 1em;line-height:1.5}}code{{background:#eee;padding:0 .3em;\
word-break:break-all}}button{{font-size:1em;padding:.4em 1.2em;margin-right:1em}}</style>\
</head><body><h1>{title}</h1>{body_html}</body></html>",
        title = html_escape(title),
    )
}

/// `GET /`: a short page telling a person what this endpoint is.
pub async fn hint_page(ctx: &Ctx, req: &Request) -> Response {
    let base = base(ctx, req).await;
    let mcp = html_escape(&base.mcp_url());
    let body = format!(
        "<p>This is the <b>Scrypted MCP server</b>: a Model Context Protocol endpoint that \
lets AI assistants manage this Scrypted server, protected by OAuth.</p>\
<p>Add this URL to your MCP client (Claude, ChatGPT, Cursor, VS Code, ...):</p>\
<p><code>{mcp}</code></p>\
<p>The client opens a browser window to sign in: log into Scrypted as an admin on the \
same scheme (http or https) as this URL, then approve the client.</p>"
    );
    Response::html(200, page("Scrypted MCP server", &body))
}
