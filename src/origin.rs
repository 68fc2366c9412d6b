//! The public base URL of a request, CORS, and the hint page.
//!
//! Scrypted's `HttpRequest` carries no scheme and no remote address
//! (docs/reference/scrypted-host.md §6.4), so the plugin cannot tell a proxy's
//! `X-Forwarded-Proto` / `X-Forwarded-Host` from the same headers sent by any client.
//! They are therefore honoured only when the origin they name is one of the admin's
//! **Public URLs** (the setting naming the addresses the endpoint is published under);
//! otherwise the URL is the `Host` header's, with the scheme from comparing its port with
//! the server's own ports. Every reader of forwarded headers goes through [`base`].
//! Issuer, MCP URL and PRM URL all derive from one base, so metadata `issuer`, JWT `iss`
//! and RFC 9207 `iss` are always the same string.

use crate::http::{Request, Response};
use crate::store::Store;
use crate::Ctx;

/// Storage key of the Public URLs setting: normalised origins, one per line.
pub const PUBLIC_URLS_KEY: &str = "settings.public_urls";

/// Where the client reached us: `<scheme>://<host>` plus the plugin's root path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase {
    /// `http` or `https`.
    pub scheme: String,
    /// Host with port when not the scheme's default, as `url` normalises it.
    pub host: String,
    /// `<scheme>://<host><root_path>`, no trailing slash.
    pub issuer: String,
    /// Whether it came from forwarded headers naming one of the Public URLs.
    pub forwarded: bool,
}

/// The MCP endpoint's path under the issuer.
const MCP_PATH: &str = "/mcp";

impl PublicBase {
    /// `<scheme>://<host>`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.host)
    }
    /// The canonical MCP URL: the PRM `resource` and the access tokens' `aud`.
    pub fn mcp_url(&self) -> String {
        format!("{}{MCP_PATH}", self.issuer)
    }
    /// Whether `url` is [`Self::mcp_url`], compared without building it: the bearer check
    /// asks this of every request's `aud`.
    pub fn is_mcp_url(&self, url: &str) -> bool {
        url.strip_suffix(MCP_PATH) == Some(self.issuer.as_str())
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

fn header_value<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header(name).map(first_value).filter(|v| !v.is_empty())
}

/// The `Host` header, or `localhost` when there is none.
fn host_header(req: &Request) -> &str {
    header_value(req, "host").unwrap_or("localhost")
}

/// Normalises `host[:port]` through the URL parser and admits only the characters a host
/// name or IP address has, so a hostile Host header cannot smuggle paths, quotes or markup
/// into the URLs and headers we emit. `None` when it does not parse.
fn normalise_host(scheme: &str, host: &str) -> Option<String> {
    let url = url::Url::parse(&format!("{scheme}://{host}/")).ok()?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        return None;
    }
    let name = url.host_str()?;
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let ipv6 = |c: char| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '[' | ']');
    if !(name.chars().all(plain) || (name.starts_with('[') && name.chars().all(ipv6))) {
        return None;
    }
    Some(match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_string(),
    })
}

/// `scheme://host[:port]` of an http(s) URL that names only an origin (a trailing `/` is
/// fine), as [`base`] would produce it; `None` for anything else.
pub fn parse_public_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return None;
    }
    let host = normalise_host(url.scheme(), url.host_str()?)?;
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    Some(format!("{}://{host}", url.scheme()))
}

/// The admin's Public URLs, normalised.
pub fn public_urls(store: &dyn Store) -> Vec<String> {
    store
        .get(PUBLIC_URLS_KEY)
        .unwrap_or_default()
        .lines()
        .filter_map(parse_public_url)
        .collect()
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

/// The public base URL of this request: the forwarded origin when it is one of the
/// Public URLs, else the `Host` header's.
pub async fn base(ctx: &Ctx, req: &Request) -> PublicBase {
    let host = host_header(req);
    let secure = ctx.oauth.server_ports(ctx).await.map(|ports| ports.secure);
    let (scheme, own_host) = host_base(host, secure);
    let root = req.root_path.trim_end_matches('/');
    let make = |scheme: &str, host: String, forwarded: bool| PublicBase {
        issuer: format!("{scheme}://{host}{root}"),
        scheme: scheme.to_string(),
        host,
        forwarded,
    };
    let forwarded_host = header_value(req, "x-forwarded-host");
    let forwarded_scheme = header_value(req, "x-forwarded-proto").map(str::to_ascii_lowercase);
    if forwarded_host.is_some() || forwarded_scheme.is_some() {
        let fscheme = forwarded_scheme.as_deref().unwrap_or(scheme);
        if let Some(fhost) = normalise_host(fscheme, forwarded_host.unwrap_or(host)) {
            let listed = public_urls(ctx.store.as_ref());
            if matches!(fscheme, "http" | "https")
                && listed.contains(&format!("{fscheme}://{fhost}"))
            {
                return make(fscheme, fhost, true);
            }
        }
    }
    make(
        scheme,
        own_host.unwrap_or_else(|| "localhost".to_string()),
        false,
    )
}

/// The scheme a `Host` header implies (https on the server's secure port) and the host
/// normalised for that scheme. Two URL parses, most of what [`base`] costs; a client sends
/// the same Host on every request, so the last answer is kept (it depends on nothing else).
fn host_base(host: &str, secure: Option<u16>) -> (&'static str, Option<String>) {
    type Last = Option<(String, Option<u16>, &'static str, Option<String>)>;
    thread_local! {
        static LAST: std::cell::RefCell<Last> = const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((h, s, scheme, own)) = last.as_ref() {
            if h == host && *s == secure {
                return (*scheme, own.clone());
            }
        }
        let scheme = match (host_port(host), secure) {
            (Some(p), Some(secure)) if p == secure => "https",
            _ => "http",
        };
        let own = normalise_host(scheme, host);
        *last = Some((host.to_string(), secure, scheme, own.clone()));
        (scheme, own)
    })
}

/// Whether a host (as the `url` crate gives it: IPv6 in brackets, no port) is this
/// machine's loopback. The Origin check and the OAuth redirect-URI rules both use it.
pub fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether a browser `Origin` may talk to the MCP endpoint: no Origin (most AI clients
/// send none), our own origin, or any loopback origin when we are reached over loopback.
/// Without a trusted forwarded origin our scheme is a guess, so the Origin's own scheme
/// is taken and only host and port must match.
pub fn origin_allowed(req: &Request, base: &PublicBase) -> bool {
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
    if base.forwarded && scheme != base.scheme && !is_loopback_host(origin_host) {
        return false;
    }
    let Ok(own) = url::Url::parse(&format!("{scheme}://{}/", base.host)) else {
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
/// What a 2025 client sends, and the request metadata every 2026-07-28 POST carries.
const ALLOW_HEADERS: &str = "authorization, content-type, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name, last-event-id";
const EXPOSE_HEADERS: &str = "mcp-session-id, www-authenticate";

/// CORS preflight answer for browser-based clients.
pub fn preflight(req: &Request, base: &PublicBase) -> Response {
    let response = Response::new(204)
        .header("access-control-allow-methods", ALLOW_METHODS)
        .header("access-control-allow-headers", allowed_headers(req))
        .header("access-control-max-age", "600")
        .header("vary", "Access-Control-Request-Headers");
    with_cors(req, base, response)
}

/// [`ALLOW_HEADERS`] and the `Mcp-Param-*` names the preflight asks for (header-name
/// characters only): 2026-07-28 `Mcp-Param-{Name}` headers carry a tool's `x-mcp-header`
/// arguments, so their names are not known in advance.
fn allowed_headers(req: &Request) -> String {
    let asked = req.header("access-control-request-headers").unwrap_or("");
    let params = asked.split(',').map(str::trim).filter(|name| {
        name.len() > crate::http::HEADER_PREFIX_READ.len()
            && name
                .get(..crate::http::HEADER_PREFIX_READ.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(crate::http::HEADER_PREFIX_READ))
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let mut allowed = ALLOW_HEADERS.to_string();
    for name in params {
        allowed.push_str(", ");
        allowed.push_str(&name.to_ascii_lowercase());
    }
    allowed
}

/// Our own CORS decision, set on every answer because it replaces Scrypted's: Scrypted
/// echoes any Origin an admin listed for this plugin (`set_cors`, `.env`) and adds
/// `Access-Control-Allow-Credentials: true` to every endpoint response, which would let
/// that site read the consent page (and its CSRF token) with the admin's cookie.
///
/// - `/authorize`: never readable cross-origin; the allowed origin is our own.
/// - `/mcp`: only the origins [`origin_allowed`] admits.
/// - metadata, `/register`, `/token`, `/revoke`, the hint page: any origin, so browser
///   clients can sign in; they carry no cookie-bound data.
///
/// Credentials are never allowed: nothing here is read with cookies cross-origin (the MCP
/// endpoint takes a bearer token).
pub fn with_cors(req: &Request, base: &PublicBase, response: Response) -> Response {
    cors(req, base).apply(response)
}

/// The CORS decision of [`with_cors`], taken from the request before it is handed on, so
/// the answer can carry it without the request (body and all) being kept or copied.
pub fn cors(req: &Request, base: &PublicBase) -> Cors {
    let origin = req
        .header("origin")
        .map(str::trim)
        .filter(|o| !o.is_empty());
    let allow_origin = origin.map(|origin| {
        let allowed = match req.local_path() {
            "/authorize" => false,
            "/mcp" => origin_allowed(req, base),
            _ => true,
        };
        if allowed {
            origin.to_string()
        } else {
            base.origin()
        }
    });
    Cors { allow_origin }
}

/// See [`cors`].
pub struct Cors {
    allow_origin: Option<String>,
}

impl Cors {
    pub fn apply(self, response: Response) -> Response {
        let response = match self.allow_origin {
            Some(allow) => response.header("access-control-allow-origin", allow),
            None => response,
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
            .header("access-control-allow-credentials", "false")
            .header("access-control-expose-headers", EXPOSE_HEADERS)
            .header("vary", vary)
    }
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
