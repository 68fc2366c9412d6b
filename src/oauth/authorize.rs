//! `/authorize`: the browser step. The login is the user's Scrypted session (admins only);
//! a client's first authorization by a user, and any later one asking for more than that
//! user granted, needs the admin's consent on a page (`consent`), because registration is
//! open: any web page can register a client, loopback redirect or not, and must not
//! collect a token from a logged-in browser without a click.

use super::{cimd, clients, consent, grants, normalise_resource, params, scope, OAuthError, Scope};
use crate::http::{Request, Response};
use crate::origin::{self, html_escape, page, PublicBase};
use crate::{crypto, Ctx};
use clients::ClientRecord;
use std::collections::BTreeMap;

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
        // Not HEAD: a remembered approval writes a code, which a HEAD must not do.
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

    if !is_post {
        if consent::remembered(&request.client, username, &request.redirect_uri)
            .is_some_and(|s| s >= request.requested)
        {
            return approve(ctx, &base, &request, username, request.requested);
        }
        return consent_page(ctx, req, &request, username);
    }
    if consent::cross_site(req, &base) {
        return error_page(
            403,
            "Approval refused: it came from another site",
            "This approval was sent by a page of another site, not by the consent page of this server, so it was ignored. If you want to connect the app, start the connection again from the app and approve on this server's own page.",
        );
    }
    let bound = bound(&request, username);
    if !consent::spend_csrf(
        ctx,
        params::get(&request.params, "csrf").unwrap_or(""),
        &bound,
    ) {
        return error_page(
            400,
            "This approval form has expired",
            "The consent form was too old, was already used, or did not come from this page. Start the connection again from your MCP client.",
        );
    }
    let granted = consent::ticked(&request.params, request.requested);
    match (params::get(&request.params, "decision"), granted) {
        (Some("approve"), Some(granted)) => {
            let store = ctx.store.as_ref();
            consent::remember(
                store,
                &request.client,
                username,
                &request.redirect_uri,
                granted,
            );
            approve(ctx, &base, &request, username, granted)
        }
        // The admin saw the consent page naming this host and chose: the answer goes there.
        _ => deny(),
    }
}

fn bound<'a>(request: &'a AuthRequest, username: &'a str) -> consent::Bound<'a> {
    consent::Bound {
        username,
        client_id: &request.client.client_id,
        redirect_uri: &request.redirect_uri,
        code_challenge: &request.code_challenge,
        state: request.state.as_deref().unwrap_or(""),
        resource: &request.resource,
        requested: request.requested,
    }
}

fn consent_page(ctx: &Ctx, req: &Request, request: &AuthRequest, username: &str) -> Response {
    let mut hidden: Vec<(&str, String)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "code_challenge",
        "code_challenge_method",
        "state",
        "scope",
        "resource",
    ]
    .into_iter()
    .filter_map(|key| request.params.get(key).map(|v| (key, v.clone())))
    .collect();
    hidden.push(("csrf", consent::csrf_token(ctx, &bound(request, username))));
    consent::page_response(&consent::Page {
        client: &request.client,
        redirect_uri: &request.redirect_uri,
        action: format!("{}/authorize", req.root_path),
        username,
        requested: request.requested,
        read_only_mode: scope::read_only_mode(ctx.store.as_ref()),
        hidden,
    })
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
    if let Some(requested) = params::get(params, "scope") {
        scope::check_requested(requested)?;
    }
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

/// Issues a code for `granted` (capped by read-only mode) and sends the browser back.
fn approve(
    ctx: &Ctx,
    base: &PublicBase,
    request: &AuthRequest,
    username: &str,
    granted: Scope,
) -> Response {
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
        scope: granted.min(scope::cap(store)).granted(),
        exp_ms: now + grants::CODE_TTL_MS,
        used_grant: None,
    };
    crate::store::StoreExt::set_json(store, &grants::code_key(&code), &record);
    // Read back: the consent just remembered is in the stored record, not in ours.
    if let Some(client) = clients::get(store, &request.client.client_id) {
        clients::touch(store, &client, now);
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
    // 200, not 401: a page for a person, and fastmcp's OAuth helper probes this URL first
    // and gives up on a 401 (issue 9).
    Response::html(200, page("Log into Scrypted first", &body)).header("cache-control", "no-store")
}
