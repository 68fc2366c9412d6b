//! The OAuth 2.1 authorization server, and the bearer check of the MCP endpoint.
//!
//! Storage layout (plugin storage, bounded, secrets hashed):
//! - `oauth.signing_key`: the ES256 key, PKCS#8 PEM;
//! - `oauth.signing_key_public`: its public half, bound to that PEM (`keys`);
//! - `oauth.csrf_secret`: HMAC key for consent-form tokens;
//! - `oauth.csrf_used`: hashes of consent-form tokens already used (`consent`);
//! - `oauth.signing_key_backed_up`: set only while a backup is taken (`keys`);
//! - `oauth.client.<client_id>`: registered clients;
//! - `oauth.code.<hash of code>`: authorization codes (60 s, single use);
//! - `oauth.grant.<grant_id>`: grants, holding the hash of their current refresh token.

mod addresses;
mod authorize;
mod bearer;
pub mod cimd;
pub mod clients;
pub mod consent;
mod error;
pub mod grants;
pub mod jwt;
pub mod keys;
mod metadata;
pub mod params;
pub mod register;
pub mod scope;
pub mod token;

pub use bearer::USER_CHECK_MS;
pub use error::OAuthError;
pub use scope::Scope;

use crate::host::ServerPorts;
use crate::http::{Request, Response};
use crate::store::Store;
use crate::Ctx;
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use std::cell::RefCell;
use std::collections::HashMap;

/// Storage key of the RFC 9207 compatibility switch: `"false"` stops advertising
/// `authorization_response_iss_parameter_supported` and sending `iss` on the redirect
/// (Codex CLI mishandles it, docs/reference/client-compat.md §1). Unset means on.
pub const ISS_PARAMETER_KEY: &str = "settings.iss_parameter";

pub fn iss_parameter(store: &dyn Store) -> bool {
    store.get(ISS_PARAMETER_KEY).as_deref() != Some("false")
}

/// In-memory state: caches only. Everything that must survive a restart is in storage.
#[derive(Default)]
pub struct OAuthState {
    key: RefCell<Option<keys::Key>>,
    verified: RefCell<HashMap<String, bearer::Verified>>,
    /// The token checked last and its key in `verified` (`bearer::cache_key`).
    last_token: RefCell<Option<(String, String)>>,
    /// user name → (when the host was asked, whether the user is an admin).
    admins: RefCell<HashMap<String, (u64, bool)>>,
    ports: RefCell<Option<ServerPorts>>,
    /// The host's answer to the ports question while it is being asked: the ask made at
    /// start (`Plugin::prefetch`) and a first request share it instead of asking twice.
    asking_ports: RefCell<Option<Shared<LocalBoxFuture<'static, Option<ServerPorts>>>>>,
    /// The bearer check's client and grant records, kept with their stored text.
    pub(crate) parsed_clients: crate::store::Parsed<clients::ClientRecord>,
    pub(crate) parsed_grants: crate::store::Parsed<grants::GrantRecord>,
    /// Client metadata documents checked lately (`cimd`).
    cimd: cimd::Cache,
    /// When `/register` last read every client record to forget idle ones (`register`).
    pub(crate) clients_swept_ms: std::cell::Cell<Option<u64>>,
    /// Until when a full registry has no client to evict (`register`): a flood is refused
    /// by counting keys, without reading every record again.
    pub(crate) registry_full_until_ms: std::cell::Cell<u64>,
}

impl OAuthState {
    /// The current signing key (made on first use).
    pub fn key(&self, store: &dyn Store) -> keys::Key {
        keys::current(store, &self.key)
    }

    /// Marks the current key as held by the backup about to be taken (`keys`).
    pub fn mark_key_backed_up(&self, store: &dyn Store) {
        keys::mark_backed_up(store, &self.key)
    }

    /// The server's http/https ports, asked once (at start, `Plugin::prefetch`): they change
    /// only with a server restart, which restarts us too.
    pub async fn server_ports(&self, ctx: &Ctx) -> Option<ServerPorts> {
        if let Some(ports) = *self.ports.borrow() {
            return Some(ports);
        }
        let asking = self
            .asking_ports
            .borrow_mut()
            .get_or_insert_with(|| {
                let host = ctx.host.clone();
                async move { host.server_ports().await.ok() }
                    .boxed_local()
                    .shared()
            })
            .clone();
        let ports = asking.await;
        // A failed ask is asked again by the next request.
        self.asking_ports.borrow_mut().take();
        if ports.is_some() {
            *self.ports.borrow_mut() = ports;
        }
        ports
    }

    fn forget_verified(&self) {
        self.verified.borrow_mut().clear();
        self.admins.borrow_mut().clear();
    }
}

/// What a verified access token says. The MCP endpoint trusts nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub sub: String,
    pub client_id: String,
    pub scope: String,
    pub jti: String,
    pub aud: String,
    pub exp: u64,
    /// The grant the token came from (its `gid`): refreshes keep it, revocation ends it.
    pub grant_id: String,
}

/// Answers the OAuth and metadata paths; `None` for paths that are not ours. The one place
/// an [`OAuthError`] becomes HTTP.
pub async fn route(ctx: &Ctx, req: &Request, path: &str) -> Option<Response> {
    let answer = match path {
        "/.well-known/oauth-protected-resource" | "/.well-known/oauth-protected-resource/mcp" => {
            metadata::protected_resource(ctx, req).await
        }
        "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" => {
            metadata::authorization_server(ctx, req).await
        }
        "/.well-known/jwks.json" => metadata::jwks(ctx, req),
        "/register" => register::handle(ctx, req).await,
        "/authorize" => authorize::handle(ctx, req).await,
        "/token" => token::handle(ctx, req).await,
        "/revoke" => token::revoke(ctx, req).await,
        _ => return None,
    };
    Some(answer.unwrap_or_else(Response::from))
}

/// Verifies the `Authorization: Bearer` access token of an MCP request against this
/// request's canonical MCP URL. `Err` is the complete answer to send: 401 with
/// `WWW-Authenticate: Bearer resource_metadata="..."` (plus `error="invalid_token"` when a
/// bad token was sent).
pub async fn authenticate(ctx: &Ctx, req: &Request) -> Result<AccessClaims, Response> {
    bearer::authenticate(ctx, req).await.map_err(Response::from)
}

/// [`authenticate`] for a caller that already has this request's [`crate::origin::base`]
/// (the MCP endpoint: computed once per request, it is not free).
pub async fn authenticate_at(
    ctx: &Ctx,
    req: &Request,
    base: &crate::origin::PublicBase,
) -> Result<AccessClaims, Response> {
    bearer::authenticate_at(ctx, req, base)
        .await
        .map_err(Response::from)
}

/// A registered client, for the settings tab's connected-apps list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_hosts: Vec<String>,
    pub created_ms: u64,
    pub last_used_ms: u64,
    pub live_tokens: bool,
    /// The highest scope among its live grants.
    pub scope: Option<Scope>,
}

/// Revoke-all: every grant, code and client registration goes, and the signing key is
/// replaced so access tokens already out there stop verifying at once. Sessions are
/// closed by the caller.
pub fn revoke_all(ctx: &Ctx) {
    let store = ctx.store.as_ref();
    for key in store.keys() {
        if key.starts_with(clients::PREFIX)
            || key.starts_with(grants::GRANT_PREFIX)
            || key.starts_with(grants::CODE_PREFIX)
            || key == consent::CSRF_SECRET_KEY
            || key == consent::CSRF_USED_KEY
            || key == grants::REFRESH_SECRET_KEY
        {
            store.remove(&key);
        }
    }
    keys::rotate(store, &ctx.oauth.key);
    ctx.oauth.forget_verified();
    ctx.oauth.cimd.clear();
    ctx.host.log(
        crate::host::LogLevel::Info,
        "OAuth: all tokens and client registrations revoked; signing key rotated.",
    );
}

/// Deletes one client with its grants: its tokens stop working and its next token
/// request gets `invalid_client`, on which well-behaved clients register again; a
/// document client's document is read afresh at its next sign-in.
/// `false` when no such client was registered.
pub fn revoke_client(ctx: &Ctx, client_id: &str) -> bool {
    let store = ctx.store.as_ref();
    let existed = clients::get(store, client_id).is_some()
        || grants::all_grants(store)
            .iter()
            .any(|g| g.client_id == client_id);
    grants::delete_client_grants(store, client_id);
    if existed {
        store.remove(&clients::key(client_id));
    }
    ctx.oauth.forget_verified();
    ctx.oauth.cimd.forget(client_id);
    existed
}

/// Whether grant `grant_id` still allows what needs `needed`: it lives, and its scope under
/// read-only mode's cap reaches `needed`, as a request's bearer check would find now. What
/// a call or task was started with stops standing once its grant ends, however it ends (its
/// user removed or no longer an admin, a revoke, a reused refresh token, expiry), or once
/// the admin lowers it in Settings.
pub fn grant_allows(ctx: &Ctx, grant_id: &str, needed: Scope) -> bool {
    grants::get_grant_memo(&*ctx.store, &ctx.oauth.parsed_grants, grant_id).is_some_and(|g| {
        g.live(ctx.clock.now_ms())
            && Scope::of_grant(&g.scope).min(scope::cap(&*ctx.store)) >= needed
    })
}

/// How many grants [`revoke_subject`] would end for `sub`.
pub fn grants_of_subject(ctx: &Ctx, sub: &str) -> usize {
    grants::all_grants(ctx.store.as_ref())
        .iter()
        .filter(|g| g.sub == sub)
        .count()
}

/// Ends every grant a Scrypted user holds (the user was removed): their access tokens
/// stop verifying at once instead of living on until they expire. Returns how many.
pub fn revoke_subject(ctx: &Ctx, sub: &str) -> usize {
    let store = ctx.store.as_ref();
    let mut ended = 0;
    for g in grants::all_grants(store) {
        if g.sub == sub {
            store.remove(&grants::grant_key(&g.grant_id));
            ended += 1;
        }
    }
    ctx.oauth.forget_verified();
    ended
}

/// Registered clients, most recently used first.
pub fn clients(ctx: &Ctx) -> Vec<ClientSummary> {
    let store = ctx.store.as_ref();
    let now = ctx.clock.now_ms();
    let mut live: HashMap<String, Scope> = HashMap::new();
    for g in grants::all_grants(store)
        .into_iter()
        .filter(|g| g.live(now))
    {
        let level = Scope::of_grant(&g.scope);
        let held = live.entry(g.client_id).or_insert(level);
        *held = (*held).max(level);
    }
    let mut out: Vec<ClientSummary> = clients::all(store)
        .into_iter()
        .map(|c| {
            let mut hosts: Vec<String> = c
                .redirect_uris
                .iter()
                .map(|u| clients::redirect_host(u))
                .collect();
            hosts.dedup();
            ClientSummary {
                live_tokens: live.contains_key(&c.client_id),
                scope: live.get(&c.client_id).copied(),
                client_id: c.client_id,
                client_name: c.client_name,
                redirect_hosts: hosts,
                created_ms: c.created_ms,
                last_used_ms: c.last_used_ms,
            }
        })
        .collect();
    out.extend(document_clients(ctx, now));
    crate::order::sort_by_key(&mut out, |c| std::cmp::Reverse(c.last_used_ms));
    out
}

/// Metadata-document clients have no registration: they are listed while they hold a
/// grant, named by the host that publishes their document (what the admin trusted) and,
/// when its document is in memory, by what they call themselves.
fn document_clients(ctx: &Ctx, now: u64) -> Vec<ClientSummary> {
    // One entry a client id, in the order of their ids (as a map gave them). A list: a few
    // clients, and a `BTreeMap<String, ClientSummary>` was its own copy of the B-tree code
    // in the wasm (issue 12).
    let mut by_id: Vec<ClientSummary> = Vec::new();
    for g in grants::all_grants(ctx.store.as_ref()) {
        let Ok(url) = cimd::parse_client_id(&g.client_id) else {
            continue;
        };
        let used = g.previous.first().map_or(g.created_ms, |p| p.replaced_ms);
        let at = match by_id.iter().position(|c| c.client_id == g.client_id) {
            Some(at) => at,
            None => {
                by_id.push(summary_of_document_client(ctx, &g, &url, used));
                by_id.len() - 1
            }
        };
        let entry = &mut by_id[at];
        entry.created_ms = entry.created_ms.min(g.created_ms);
        entry.last_used_ms = entry.last_used_ms.max(used);
        entry.live_tokens |= g.live(now);
        if g.live(now) {
            entry.scope = entry.scope.max(Some(Scope::of_grant(&g.scope)));
        }
    }
    crate::order::sort_by(&mut by_id, |a, b| a.client_id.cmp(&b.client_id));
    by_id
}

/// What `document_clients` lists for a client first seen in grant `g`.
fn summary_of_document_client(
    ctx: &Ctx,
    g: &grants::GrantRecord,
    url: &url::Url,
    used: u64,
) -> ClientSummary {
    let host = url.host_str().unwrap_or_default().to_string();
    let known = ctx.oauth.cimd.known(&g.client_id);
    let mut redirect_hosts: Vec<String> = known
        .iter()
        .flat_map(|c| c.redirect_uris.iter().map(|u| clients::redirect_host(u)))
        .collect();
    redirect_hosts.dedup();
    ClientSummary {
        client_name: Some(match known.and_then(|c| c.client_name) {
            Some(name) => format!("{host} (calls itself \u{201c}{name}\u{201d})"),
            None => host,
        }),
        client_id: g.client_id.clone(),
        redirect_hosts,
        created_ms: g.created_ms,
        last_used_ms: used,
        live_tokens: false,
        scope: None,
    }
}

/// Lowers what a client holds to at most `cap` (Settings, Connected apps): every live
/// grant, so its access tokens (which the bearer check caps by their grant) lose the rest
/// on their next request, its codes not yet exchanged, and what its users consented to, so
/// asking for more shows the consent page again. Returns what it held; raising is refused.
pub fn lower_client_scope(ctx: &Ctx, client_id: &str, cap: Scope) -> Result<Scope, String> {
    let store = ctx.store.as_ref();
    let now = ctx.clock.now_ms();
    let live: Vec<_> = grants::all_grants(store)
        .into_iter()
        .filter(|g| g.client_id == client_id && g.live(now))
        .collect();
    let pending = grants::pending_code_level(store, client_id, now);
    let Some(held) = live
        .iter()
        .map(|g| Scope::of_grant(&g.scope))
        .chain(pending)
        .max()
    else {
        return Err(format!(
            "{client_id} holds no live grant and no sign-in in progress (it was revoked, or its sign-in expired): there is nothing to lower."
        ));
    };
    if cap > held {
        return Err(format!(
            "This app holds {}; here a level can only be lowered. To give it more, the app asks again and you approve on the consent page.",
            held.granted()
        ));
    }
    for mut g in live {
        let lowered = Scope::of_grant(&g.scope).min(cap).granted();
        if lowered != g.scope {
            g.scope = lowered;
            grants::put_grant(store, &g);
        }
    }
    grants::lower_pending_codes(store, client_id, cap, now);
    // A metadata-document client has no record, and no remembered consent to lower.
    if let Some(client) = clients::get(store, client_id) {
        consent::lower(store, &client, cap);
    }
    ctx.oauth.forget_verified();
    Ok(held)
}

/// Persisted refresh tokens: one per live grant.
pub fn refresh_token_count(ctx: &Ctx) -> usize {
    let now = ctx.clock.now_ms();
    grants::all_grants(ctx.store.as_ref())
        .iter()
        .filter(|g| g.live(now))
        .count()
}

pub fn client_count(ctx: &Ctx) -> usize {
    use crate::store::StoreExt;
    ctx.store.keys_with_prefix(clients::PREFIX).len()
}

/// `resource` compared after normalisation (docs/reference/client-compat.md §5): lower-case
/// host and no default port (the URL parser does both), no query or fragment, no trailing
/// slash. `None` for anything that is not an http(s) URL.
pub fn normalise_resource(resource: &str) -> Option<String> {
    let url = url::Url::parse(resource.trim()).ok()?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!(
        "{}://{}{}{}",
        url.scheme(),
        host,
        port,
        url.path().trim_end_matches('/')
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_normalisation() {
        let canonical = "http://192.168.1.5:11080/endpoint/scrypted-mcp/public/mcp";
        for same in [
            canonical,
            "http://192.168.1.5:11080/endpoint/scrypted-mcp/public/mcp/",
            "http://192.168.1.5:11080/endpoint/scrypted-mcp/public/mcp?x=1",
            "HTTP://192.168.1.5:11080/endpoint/scrypted-mcp/public/mcp",
        ] {
            assert_eq!(
                normalise_resource(same).as_deref(),
                Some(canonical),
                "{same}"
            );
        }
        assert_eq!(
            normalise_resource("https://h.example:443/x/mcp/").as_deref(),
            Some("https://h.example/x/mcp")
        );
        assert_ne!(
            normalise_resource("http://192.168.1.5:11080/other/mcp").as_deref(),
            Some(canonical)
        );
    }
}
