//! The consent step of `/authorize` (issue 9, issue 8 items 3 and 16): the page that names
//! the app and who vouches for that name and lets the admin grant less than asked; the
//! checks on its form (same-origin only, a CSRF token that is good once); and what each
//! (app, Scrypted user) pair was granted, so a later request for the same or less is
//! approved without a page.
//!
//! Every client's first authorization shows the page, loopback clients included: any web
//! page can register a client with a loopback redirect, so "loopback" says nothing about
//! who asks.

use super::cimd;
use super::clients::{self, ClientRecord};
use super::Scope;
use crate::http::{Request, Response};
use crate::origin::{html_escape, page, PublicBase};
use crate::store::{Store, StoreExt};
use crate::{crypto, Ctx};
use serde::Serialize;

pub const CSRF_SECRET_KEY: &str = "oauth.csrf_secret";
/// Hashes of consent tokens already used, and the floor below which every token counts as
/// used (raised when the list is full), so a token is good once however many are used.
pub const CSRF_USED_KEY: &str = "oauth.csrf_used";
/// How long a consent page may stay open before its form is refused.
const CONSENT_TTL_SEC: u64 = 600;
/// Used tokens remembered at once; the oldest go first, and the floor rises past them.
const USED_MAX: usize = 32;

/// What the consent form's token is bound to: everything the approval would grant.
pub struct Bound<'a> {
    pub username: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: &'a str,
    pub state: &'a str,
    pub resource: &'a str,
    pub requested: Scope,
}

// ---------- remembered consent

/// The scope this user last granted this client, for this redirect URI, on the consent
/// page, if any. Per redirect URI because the page named its host: approving a client's
/// loopback redirect says nothing about another URI it registered. It lives in the
/// client's record, so it goes when the client is revoked or evicted.
pub fn remembered(client: &ClientRecord, username: &str, redirect_uri: &str) -> Option<Scope> {
    client
        .consent
        .get(&consent_key(username, redirect_uri))
        .and_then(|s| Scope::highest(s))
}

/// Remembers `granted` for (client, user, redirect URI): the admin's latest answer, so
/// granting less than before also lowers what later requests get without a page.
pub fn remember(
    store: &dyn Store,
    client: &ClientRecord,
    username: &str,
    redirect_uri: &str,
    granted: Scope,
) {
    if cimd::is_url_id(&client.client_id) {
        // A metadata-document client has no stored record (it takes no registration
        // slot), so its approval is not remembered: each sign-in shows the page.
        return;
    }
    let mut client = client.clone();
    client.consent.insert(
        consent_key(username, redirect_uri),
        granted.name().to_string(),
    );
    clients::put(store, &client);
}

/// A Scrypted username has no space; a redirect URI has none either (it is a URL). A
/// loopback URI counts without its port: native apps listen on a new port each time
/// (RFC 8252 §7.3), and it is the same computer either way.
fn consent_key(username: &str, redirect_uri: &str) -> String {
    let mut uri = redirect_uri.to_string();
    if clients::is_loopback_redirect(redirect_uri) {
        if let Ok(mut url) = url::Url::parse(redirect_uri) {
            let _ = url.set_port(None);
            uri = url.to_string();
        }
    }
    format!("{username} {uri}")
}

/// Lowers what every user of this client granted to at most `cap` (Settings, Connected
/// apps), so asking again for more shows the page again.
pub fn lower(store: &dyn Store, client: &ClientRecord, cap: Scope) {
    let mut client = client.clone();
    for scope in client.consent.values_mut() {
        let lowered = Scope::of_grant(scope).min(cap);
        *scope = lowered.name().to_string();
    }
    clients::put(store, &client);
}

// ---------- the form's checks

/// Issue 8 item 3: a consent form posted from another origin is refused whatever it
/// carries. `Sec-Fetch-Site` decides where a browser sends it (every current one does);
/// otherwise `Origin`, which browsers send on every POST. A client that sends neither (a
/// test, a script) still needs the CSRF token.
pub fn cross_site(req: &Request, base: &PublicBase) -> bool {
    if let Some(site) = req.header("sec-fetch-site") {
        return site.trim() != "same-origin";
    }
    match req.header("origin") {
        Some(origin) => origin.trim() != base.origin(),
        None => false,
    }
}

/// HMAC over the user and everything the approval would grant, so a token is good only
/// for this user, this request and a limited time. The nonce makes each page's token its
/// own, so spending one spends no other.
fn mac(secret: &[u8], issued: u64, nonce: &str, b: &Bound) -> String {
    let issued = issued.to_string();
    crypto::b64url(&crypto::hmac_sha256(
        secret,
        &[
            "consent",
            &issued,
            nonce,
            b.username,
            b.client_id,
            b.redirect_uri,
            b.code_challenge,
            b.state,
            b.resource,
            b.requested.name(),
        ],
    ))
}

pub fn csrf_token(ctx: &Ctx, b: &Bound) -> String {
    let secret = crypto::stored_secret(ctx.store.as_ref(), CSRF_SECRET_KEY);
    let now = ctx.clock.now_sec();
    let nonce = crypto::b64url(&crypto::random_bytes(12));
    format!("{now}.{nonce}.{}", mac(&secret, now, &nonce, b))
}

/// Read back by `store::record` (one reader for every record type, issue 12); host builds
/// keep serde's derive to compare.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize, PartialEq))]
struct Used {
    /// Tokens issued before this second count as used.
    floor: u64,
    /// (issued second, hash of the token), oldest first.
    tokens: Vec<(u64, String)>,
}

crate::fields::args!(Used {
    floor: required,
    tokens: required,
});

/// Checks the token and, when it is good, spends it: a second POST of the same form is
/// refused (issue 8 item 16).
pub fn spend_csrf(ctx: &Ctx, token: &str, b: &Bound) -> bool {
    let store = ctx.store.as_ref();
    let Some(secret) = store
        .get(CSRF_SECRET_KEY)
        .and_then(|s| crypto::b64url_decode(&s))
    else {
        return false;
    };
    let mut parts = token.splitn(3, '.');
    let (Some(issued), Some(nonce), Some(given)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(issued) = issued.parse::<u64>() else {
        return false;
    };
    let now = ctx.clock.now_sec();
    if issued > now + 60 || now.saturating_sub(issued) > CONSENT_TTL_SEC {
        return false;
    }
    let expected = mac(&secret, issued, nonce, b);
    if !crypto::constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return false;
    }
    let hash = crypto::hash_secret(token);
    let mut used: Used = store.get_record(CSRF_USED_KEY).unwrap_or_default();
    if issued < used.floor || used.tokens.iter().any(|(_, h)| *h == hash) {
        return false;
    }
    used.tokens
        .retain(|(at, _)| now.saturating_sub(*at) <= CONSENT_TTL_SEC);
    used.tokens.push((issued, hash));
    crate::order::sort(&mut used.tokens);
    while used.tokens.len() > USED_MAX {
        let (at, _) = used.tokens.remove(0);
        used.floor = used.floor.max(at + 1);
    }
    store.set_json(CSRF_USED_KEY, &used);
    true
}

/// The scope the admin ticked: the highest level whose every lower level is ticked too
/// (the scopes nest, so "admin without read" means nothing), at most what was asked.
/// `None` when not even read was ticked.
pub fn ticked(
    params: &std::collections::BTreeMap<String, String>,
    requested: Scope,
) -> Option<Scope> {
    Scope::ALL
        .into_iter()
        .filter(|s| *s <= requested)
        .take_while(|s| params.contains_key(&field(*s)))
        .last()
}

/// The checkbox of `scope` on the page.
fn field(scope: Scope) -> String {
    format!("grant_{}", scope.name().trim_start_matches("scrypted:"))
}

// ---------- the page

/// The line that says who vouches for the app's name (HTML). A registered (DCR) client
/// named itself; a metadata-document client's description was fetched from its host.
pub fn who_vouches(client: &ClientRecord) -> String {
    match cimd::vouch(client) {
        Some(vouch) => format!(
            "<b>{host}</b>, verified: this server fetched the app's description from it over https.",
            host = html_escape(&vouch.host),
        ),
        None => "Nobody: the app chose this name itself when it registered (self-declared, not verified)."
            .to_string(),
    }
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

pub struct Page<'a> {
    pub client: &'a ClientRecord,
    pub redirect_uri: &'a str,
    pub action: String,
    pub username: &'a str,
    pub requested: Scope,
    pub read_only_mode: bool,
    /// Hidden fields: the authorization request as received, and the CSRF token.
    pub hidden: Vec<(&'a str, String)>,
}

pub fn page_response(p: &Page) -> Response {
    let name = p
        .client
        .client_name
        .clone()
        .unwrap_or_else(|| "An unnamed app".to_string());
    let host = clients::redirect_host(p.redirect_uri);
    let mut hidden = String::new();
    for (key, value) in &p.hidden {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{key}\" value=\"{}\">",
            html_escape(value)
        ));
    }
    let mut boxes = String::new();
    for scope in Scope::ALL.into_iter().filter(|s| *s <= p.requested) {
        boxes.push_str(&format!(
            "<p><label><input type=\"checkbox\" name=\"{field}\" value=\"on\" checked> \
<b>{label}</b> <code>{name}</code><br>{words}</label></p>",
            field = field(scope),
            label = html_escape(scope.label()),
            name = scope.name(),
            words = html_escape(scope.plain_words()),
        ));
    }
    let read_only = if p.read_only_mode {
        "<p><b>Read-only mode is on</b> (plugin Settings): whatever you tick, the app can only read.</p>"
    } else {
        ""
    };
    let body = format!(
        "<p>{who} wants to connect to this Scrypted server through the MCP server, \
acting as <b>{user}</b>.</p>\
<p class=\"vouch\">Who vouches for this name: {vouch}</p>\
<p>If you approve, the access is sent to <b>{host}</b> (<code>{uri}</code>). Approve only \
if you started this connection yourself in an app you trust.</p>\
<form method=\"post\" action=\"{action}\">{hidden}\
<fieldset><legend>Allow the app to (untick to grant less):</legend>{boxes}</fieldset>{read_only}\
<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        who = who(p.client, &name),
        user = html_escape(p.username),
        vouch = who_vouches(p.client),
        host = html_escape(&host),
        uri = html_escape(p.redirect_uri),
        action = html_escape(&p.action),
    );
    // The approval's 302 to the app is a navigation of this form, which CSP's
    // form-action also governs: allow the app's redirect target, nothing else.
    let csp = format!(
        "{}; form-action 'self' {}",
        crate::http::PAGE_CSP_BASE,
        form_target(p.redirect_uri)
    );
    Response::html(200, page("Connect an app to Scrypted?", &body))
        .header("cache-control", "no-store")
        .header("content-security-policy", csp)
        // Not no-referrer here: under it a browser posts the form with `Origin: null`,
        // which `cross_site` must refuse. same-origin still sends nothing to the app.
        .header("referrer-policy", "same-origin")
}

/// The CSP source expression of a redirect URI: its origin, or its scheme for a custom
/// scheme (`cursor:`), which has no origin.
fn form_target(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spent consent tokens read back as serde's derive read them.
    #[test]
    fn used_reads_as_its_derive_did() {
        crate::store::tests::reads_as_derive(&Used::default());
        crate::store::tests::reads_as_derive(&Used {
            floor: 7,
            tokens: vec![(8, "h1".into()), (9, "h2".into())],
        });
    }
}
