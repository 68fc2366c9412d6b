//! `/authorize`: the browser step. The login is the user's Scrypted session (admins only);
//! loopback redirects are approved at once, any other redirect needs the admin's consent
//! on a CSRF-protected page, because open registration plus auto-approval to an https
//! redirect would let any web page collect an admin token from a logged-in browser.

use super::{cimd, clients, grants, normalise_resource, params, OAuthError, Scope};
use crate::http::{Request, Response};
use crate::origin::{self, html_escape, page, PublicBase};
use crate::{crypto, Ctx};
use clients::ClientRecord;
use std::collections::BTreeMap;

pub const CSRF_SECRET_KEY: &str = "oauth.csrf_secret";
/// How long a consent page may stay open before its form is refused.
const CONSENT_TTL_SEC: u64 = 600;

/// A validated authorization request.
struct AuthRequest {
    client: ClientRecord,
    redirect_uri: String,
    redirect_uri_sent: bool,
    state: Option<String>,
    code_challenge: String,
    resource: String,
    /// The highest scope asked for (`scope` absent or naming none of ours: everything,
    /// as before scopes existed; the admin may grant less).
    requested: Scope,
    /// What the client asked for, echoed into the consent form.
    params: BTreeMap<String, String>,
}

pub async fn handle(ctx: &Ctx, req: &Request) -> Result<Response, OAuthError> {
    let (fields, is_post) = match req.method.as_str() {
        // Not HEAD: a loopback approval writes a code, which a HEAD must not do.
        "GET" => (params::query_fields(req), false),
        "POST" => (params::body_fields(req), true),
        _ => {
            return Err(OAuthError::method_not_allowed(
                "GET, POST",
                "Use GET or POST.",
            ))
        }
    };
    // Before the request is known good, its errors are pages, never redirects.
    let params = match fields {
        Ok(params) => params,
        Err(params::ParamError::TooLarge) => {
            return Ok(error_page(413, "Request too large", "The form was too large."))
        }
        Err(params::ParamError::Repeated(name)) => {
            return Ok(error_page(
                400,
                "The app's request is invalid",
                &format!(
                    "invalid_request: the parameter {name} appears more than once. Start the connection again from your MCP client; if this repeats, report it to the app's developer."
                ),
            ))
        }
    };
    Ok(answer(ctx, req, params, is_post).await)
}

/// The browser's answer: a page, or a redirect to the client.
async fn answer(
    ctx: &Ctx,
    req: &Request,
    params: BTreeMap<String, String>,
    is_post: bool,
) -> Response {
    let base = origin::base(ctx, req).await;
    let store = ctx.store.as_ref();

    // Until client and redirect URI are known good, errors are shown here, never sent to
    // a redirect URI (RFC 6749 §4.1.2.1).
    let Some(client_id) = params::get(&params, "client_id") else {
        return error_page(
            400,
            "Missing client_id",
            "This authorization request has no client_id. Start the connection again from your MCP client.",
        );
    };
    let client = if cimd::is_url_id(client_id) {
        // Fetched only for a logged-in admin: anyone else could make this server send
        // requests wherever they like.
        if let Err(page) = admin(&base, req) {
            return page;
        }
        match cimd::client(ctx, client_id).await {
            Ok(client) => client,
            Err(reason) => {
                return error_page(
                    400,
                    "The app's client metadata was refused",
                    &format!("invalid_client: {reason}. Report this to the app's developer."),
                )
            }
        }
    } else {
        match clients::get(store, client_id) {
            Some(client) => client,
            None => return error_page(
                400,
                "Unknown client",
                "This client is not registered here (it may have been revoked). Remove the server in your MCP client and add it again so that it registers anew.",
            ),
        }
    };
    let sent = params::get(&params, "redirect_uri");
    let redirect_uri = match sent {
        Some(r)
            if client
                .redirect_uris
                .iter()
                .any(|reg| clients::redirect_matches(reg, r)) =>
        {
            r.to_string()
        }
        Some(r) => {
            return error_page(
                400,
                "Redirect URI not registered",
                &format!("The redirect URI {r} is not one this client registered."),
            )
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return error_page(
                400,
                "Missing redirect_uri",
                "This client registered several redirect URIs, so the request must name one.",
            )
        }
    };

    let username = match admin(&base, req) {
        Ok(username) => username,
        Err(page) => return page,
    };

    let state = params.get("state").cloned();
    let iss = super::iss_parameter(store).then_some(base.issuer.as_str());
    // RFC 9700 §4.11.2: redirect automatically only to a URI we trust. Registration is
    // open, so only loopback URIs are trusted before the admin has approved the client;
    // any other gets its errors as a page, or this endpoint is an open redirector.
    let trusted = clients::is_loopback_redirect(&redirect_uri);
    let fail = |error: OAuthError| {
        if !trusted {
            return error_page(
                400,
                "The app's request is invalid",
                &format!("{error}. Report this to the app's developer."),
            );
        }
        redirect(
            &redirect_uri,
            &[
                ("error", error.code),
                ("error_description", &error.description),
            ],
            state.as_deref(),
            iss,
        )
    };
    let deny = || {
        redirect(
            &redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", "the Scrypted admin denied the request"),
            ],
            state.as_deref(),
            iss,
        )
    };
    let canonical = base.mcp_url();
    let code_challenge = match check_request(&params, &canonical) {
        Ok(challenge) => challenge,
        Err(error) => return fail(error),
    };
    let request = AuthRequest {
        client,
        redirect_uri_sent: sent.is_some(),
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        code_challenge,
        resource: canonical,
        requested: params::get(&params, "scope")
            .and_then(Scope::highest)
            .unwrap_or(Scope::Admin),
        params,
    };

    if trusted {
        return approve(ctx, &base, &request, username);
    }
    if !is_post {
        return consent_page(ctx, req, &request, username);
    }
    let token = params::get(&request.params, "csrf").unwrap_or("");
    if !csrf_valid(ctx, token, &request, username) {
        return error_page(
            400,
            "This approval form has expired",
            "The consent form was too old or did not come from this page. Start the connection again from your MCP client.",
        );
    }
    if params::get(&request.params, "decision") == Some("approve") {
        approve(ctx, &base, &request, username)
    } else {
        // The admin saw the consent page naming this host and chose: the answer goes there.
        deny()
    }
}

/// The logged-in Scrypted admin, or the page that says why there is none.
fn admin<'a>(base: &PublicBase, req: &'a Request) -> Result<&'a str, Response> {
    let Some(username) = req.username.as_deref().filter(|u| !u.is_empty()) else {
        return Err(login_page(base, req));
    };
    if req.acl_id.as_deref().is_some_and(|a| !a.is_empty()) {
        return Err(error_page(
            403,
            "Admins only",
            &format!(
                "You are logged into Scrypted as {username}, who is not an admin. The MCP server gives full control of Scrypted, so only an admin can connect an app. Log in as an admin and try again."
            ),
        ));
    }
    Ok(username)
}

/// The OAuth parameters of an authorization request whose client and redirect URI are
/// known good: response type, PKCE (S256 only), and the resource the token will be for
/// (absent means this MCP URL). Returns the code challenge.
fn check_request(params: &BTreeMap<String, String>, canonical: &str) -> Result<String, OAuthError> {
    if params::get(params, "response_type") != Some("code") {
        return Err(OAuthError::new(
            400,
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if params::get(params, "code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(
            "PKCE is required with code_challenge_method=S256",
        ));
    }
    let code_challenge = match params::get(params, "code_challenge") {
        Some(c) if valid_pkce_value(c) => c.to_string(),
        _ => {
            return Err(OAuthError::invalid_request(
                "code_challenge must be the base64url SHA-256 of the code verifier",
            ))
        }
    };
    if let Some(resource) = params::get(params, "resource") {
        if normalise_resource(resource) != normalise_resource(canonical) {
            return Err(OAuthError::invalid_target(format!(
                "this server only issues tokens for {canonical}"
            )));
        }
    }
    Ok(code_challenge)
}

/// RFC 7636 §4.1: 43–128 characters of the unreserved set.
pub fn valid_pkce_value(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn approve(ctx: &Ctx, base: &PublicBase, request: &AuthRequest, username: &str) -> Response {
    let store = ctx.store.as_ref();
    let now = ctx.clock.now_ms();
    let iss = super::iss_parameter(store).then_some(base.issuer.as_str());
    grants::sweep(store, now, None);
    if !grants::room_for_code(store, &request.client.client_id) {
        return redirect(
            &request.redirect_uri,
            &[
                ("error", "temporarily_unavailable"),
                (
                    "error_description",
                    "too many sign-ins are pending on this server; try again in a minute",
                ),
            ],
            request.state.as_deref(),
            iss,
        );
    }
    let code = crypto::random_token();
    let record = grants::CodeRecord {
        client_id: request.client.client_id.clone(),
        issuer: base.issuer.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_sent: request.redirect_uri_sent,
        code_challenge: request.code_challenge.clone(),
        resource: request.resource.clone(),
        sub: username.to_string(),
        scope: request.requested.min(super::scope::cap(store)).granted(),
        exp_ms: now + grants::CODE_TTL_MS,
        used_grant: None,
    };
    crate::store::StoreExt::set_json(store, &grants::code_key(&code), &record);
    if !cimd::is_url_id(&request.client.client_id) {
        clients::touch(store, &request.client, now);
    }
    redirect(
        &request.redirect_uri,
        &[("code", &code)],
        request.state.as_deref(),
        iss,
    )
}

/// 302 to the client's redirect URI with `params`, `state` and (RFC 9207) `iss`.
fn redirect(
    redirect_uri: &str,
    params: &[(&str, &str)],
    state: Option<&str>,
    iss: Option<&str>,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(400, "Bad redirect URI", "The redirect URI does not parse.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        if let Some(iss) = iss {
            query.append_pair("iss", iss);
        }
    }
    Response::new(302)
        .header("location", url.to_string())
        .header("cache-control", "no-store")
}

fn error_page(status: u16, title: &str, message: &str) -> Response {
    Response::html(
        status,
        page(title, &format!("<p>{}</p>", html_escape(message))),
    )
    .header("cache-control", "no-store")
}

fn login_page(base: &PublicBase, req: &Request) -> Response {
    let back = format!("{}{}", base.origin(), req.url);
    let login = format!(
        "{}/login?{}",
        base.origin(),
        form_urlencoded::Serializer::new(String::new())
            .append_pair("redirect", &back)
            .finish()
    );
    let body = format!(
        "<p>An app wants to connect to this Scrypted server's MCP endpoint. Only a \
Scrypted admin can allow that, and you are not logged in.</p>\
<p><a href=\"{login}\">Log into Scrypted</a> (or log in through the \
<a href=\"{ui}/\">Scrypted web UI</a>), then <a href=\"{back}\">come back to this page</a> \
or start the connection again from your app.</p>\
<p>Note: the Scrypted login cookie is kept per scheme. Log in at <code>{ui}</code>: a \
login over {other} does not count here.</p>",
        login = html_escape(&login),
        back = html_escape(&back),
        ui = html_escape(&base.origin()),
        other = if base.scheme == "https" {
            "http"
        } else {
            "https"
        },
    );
    Response::html(401, page("Log into Scrypted first", &body)).header("cache-control", "no-store")
}

/// HMAC over the user and everything the approval would grant, so a token is good only
/// for this user, this request and a limited time.
fn csrf_mac(secret: &[u8], issued: u64, request: &AuthRequest, username: &str) -> String {
    let issued = issued.to_string();
    crypto::b64url(&crypto::hmac_sha256(
        secret,
        &[
            "consent",
            &issued,
            username,
            &request.client.client_id,
            &request.redirect_uri,
            &request.code_challenge,
            request.state.as_deref().unwrap_or(""),
            &request.resource,
        ],
    ))
}

fn csrf_token(ctx: &Ctx, request: &AuthRequest, username: &str) -> String {
    let secret = crypto::stored_secret(ctx.store.as_ref(), CSRF_SECRET_KEY);
    let now = ctx.clock.now_sec();
    format!("{now}.{}", csrf_mac(&secret, now, request, username))
}

fn csrf_valid(ctx: &Ctx, token: &str, request: &AuthRequest, username: &str) -> bool {
    let Some(secret) = ctx
        .store
        .get(CSRF_SECRET_KEY)
        .and_then(|s| crypto::b64url_decode(&s))
    else {
        return false;
    };
    let Some((issued, mac)) = token.split_once('.') else {
        return false;
    };
    let Ok(issued) = issued.parse::<u64>() else {
        return false;
    };
    let now = ctx.clock.now_sec();
    if issued > now + 60 || now.saturating_sub(issued) > CONSENT_TTL_SEC {
        return false;
    }
    let expected = csrf_mac(&secret, issued, request, username);
    crypto::constant_time_eq(expected.as_bytes(), mac.as_bytes())
}

fn consent_page(ctx: &Ctx, req: &Request, request: &AuthRequest, username: &str) -> Response {
    let name = request
        .client
        .client_name
        .clone()
        .unwrap_or_else(|| "An unnamed app".to_string());
    let host = clients::redirect_host(&request.redirect_uri);
    let mut hidden = String::new();
    for key in [
        "response_type",
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
        "state",
        "scope",
        "resource",
    ] {
        if let Some(value) = request.params.get(key) {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{key}\" value=\"{}\">",
                html_escape(value)
            ));
        }
    }
    hidden.push_str(&format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        html_escape(&csrf_token(ctx, request, username))
    ));
    let body = format!(
        "<p>{who} wants full admin access to this Scrypted server through the MCP \
server, as <b>{user}</b>.</p>\
<p>If you approve, the access is sent to <b>{host}</b> (<code>{uri}</code>). Approve only \
if you started this connection yourself in an app you trust.</p>\
<form method=\"post\" action=\"{action}\">{hidden}\
<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        who = who(&request.client, &name),
        user = html_escape(username),
        host = html_escape(&host),
        uri = html_escape(&request.redirect_uri),
        action = html_escape(&format!("{}/authorize", req.root_path)),
    );
    Response::html(200, page("Connect an app to Scrypted?", &body))
        .header("cache-control", "no-store")
        .header("x-frame-options", "DENY")
        .header("content-security-policy", "frame-ancestors 'none'")
}

/// Who asks, as the consent page says it (HTML). A metadata-document client is named by
/// the host that serves its document (this server fetched it there, over https), its name
/// shown as its own claim, with the warning of [`cimd::vouch`] when it has one.
fn who(client: &ClientRecord, name: &str) -> String {
    match cimd::vouch(client) {
        Some(vouch) => format!(
            "An app published by <b>{host}</b> (verified: its description was fetched from \
<code>{url}</code>), which calls itself \u{201c}{name}\u{201d}{warning},",
            host = html_escape(&vouch.host),
            url = html_escape(&client.client_id),
            name = html_escape(&vouch.claimed_name),
            warning = vouch
                .warning
                .map(|w| format!(" (<b>careful</b>: {})", html_escape(&w)))
                .unwrap_or_default(),
        ),
        None => format!("<b>{}</b>", html_escape(name)),
    }
}
