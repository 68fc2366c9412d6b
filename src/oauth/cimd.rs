//! Client ID Metadata Documents (MCP 2026-07-28 `basic/authorization/client-registration`,
//! draft-ietf-oauth-client-id-metadata-document-00): a `client_id` that is an https URL
//! with a path names a JSON document describing the client. `/authorize` fetches it for a
//! logged-in admin, checks it, and keeps it in memory as its cache headers allow. Such a
//! client has no registration in storage, so a registration flood cannot push it out; its
//! codes and grants name it by the URL.
//!
//! The fetch goes through the host (`resolveHost`, then `httpsGet` pinned to one address):
//! Rust decides which address is acceptable ([`super::addresses`]), the size limit and the
//! time budget; `host.js` only carries them out.

use super::addresses;
use super::clients::{self, ClientRecord};
use crate::store::Store;
use crate::Ctx;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use url::Url;

/// Longest URL client_id accepted (it is stored in every code and grant of the client).
const MAX_ID_LEN: usize = 512;
/// A document is a few hundred bytes; the draft's implementations use 5 KB.
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// The whole fetch, name resolution included.
pub const FETCH_BUDGET_MS: u64 = 5_000;
/// Without cache headers a document is kept this long; max-age is honoured up to a day.
const DEFAULT_TTL_MS: u64 = 5 * 60_000;
const MAX_TTL_MS: u64 = 24 * 3_600_000;
/// Documents kept in memory at once (each at most [`MAX_DOCUMENT_BYTES`]).
const CACHE_MAX: usize = 64;
const MAX_NAME: usize = 200;
const MAX_REDIRECT_URIS: usize = 20;

/// Storage key of the admin's allowance: `host:port` entries whose documents may be
/// fetched even though the host resolves to a private or loopback address.
pub const PRIVATE_HOSTS_KEY: &str = "settings.cimd_private_hosts";

/// Whether `client_id` is meant as a document URL. Our registrations are base64url tokens,
/// which never hold a `:`.
pub fn is_url_id(client_id: &str) -> bool {
    client_id.contains(':')
}

/// The client_id as a document URL, or why it cannot be one (draft §3: https, a path, no
/// userinfo, fragment or dot segments). It must be written exactly as the URL parser
/// writes it, since the document's `client_id` is compared with it character by character.
pub fn parse_client_id(id: &str) -> Result<Url, String> {
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "a URL client_id may be at most {MAX_ID_LEN} characters long"
        ));
    }
    let url = Url::parse(id).map_err(|_| format!("client_id {id} is not a URL"))?;
    if url.scheme() != "https" {
        return Err(format!(
            "client_id {id} is not an https URL; a client metadata document must be served over https"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "client_id {id} must not contain a user name or password"
        ));
    }
    if url.fragment().is_some() {
        return Err(format!("client_id {id} must not contain a fragment"));
    }
    if url.host().is_none() || url.path() == "/" {
        return Err(format!(
            "client_id {id} has no path; a client metadata document URL looks like https://app.example/oauth/client.json"
        ));
    }
    if url.as_str() != id {
        return Err(format!(
            "client_id {id} is not in normal form (no dot segments, lower-case host, no default port); it would be {}",
            url.as_str()
        ));
    }
    Ok(url)
}

/// The client a metadata document describes, fetched or from the cache. `Err` is the
/// reason, for an `invalid_client` answer; nothing is stored then.
pub async fn client(ctx: &Ctx, id: &str) -> Result<ClientRecord, String> {
    let url = parse_client_id(id)?;
    let now = ctx.clock.now_ms();
    if let Some(client) = ctx.oauth.cimd.get(id, now) {
        return Ok(client);
    }
    let answer = fetch(ctx, &url).await?;
    let client = validate(id, &answer.body, now)?;
    let ttl = ttl_ms(answer.cache_control.as_deref());
    if ttl > 0 {
        ctx.oauth.cimd.put(client.clone(), now, now + ttl);
    }
    Ok(client)
}

/// Resolves the host once, refuses if any of its addresses is internal (unless the admin
/// allowed this host:port), and fetches from the first address only.
async fn fetch(ctx: &Ctx, url: &Url) -> Result<crate::host::HttpsAnswer, String> {
    let started = ctx.clock.now_ms();
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![ip.into()],
        Some(url::Host::Ipv6(ip)) => vec![ip.into()],
        _ => ctx
            .host
            .resolve_host(host, FETCH_BUDGET_MS)
            .await
            .map_err(|e| format!("the host {host} of the client_id could not be resolved: {e}"))?,
    };
    let Some(&address) = addresses.first() else {
        return Err(format!("the host {host} of the client_id has no address"));
    };
    if !private_host_allowed(ctx.store.as_ref(), host, port) {
        for ip in &addresses {
            if let Some(kind) = addresses::refused(*ip) {
                return Err(format!(
                    "the host {host} of the client_id resolves to {ip}, {kind}; metadata documents \
                     are fetched only from public addresses (an admin can allow {host}:{port} in \
                     the plugin's settings)"
                ));
            }
        }
    }
    let left = FETCH_BUDGET_MS
        .saturating_sub(ctx.clock.now_ms().saturating_sub(started))
        .max(1);
    let answer = ctx
        .host
        .https_get(url.as_str(), address, MAX_DOCUMENT_BYTES, left)
        .await
        .map_err(|e| format!("fetching the client metadata document {url} failed: {e}"))?;
    match answer.status {
        200 => Ok(answer),
        s @ 300..=399 => Err(format!(
            "{url} answered a redirect (HTTP {s}); a client metadata document must be served at its own URL, redirects are not followed"
        )),
        s => Err(format!("{url} answered HTTP {s}, not the client metadata document")),
    }
}

/// The document checked against the MCP revision's and the draft's rules; the client it
/// describes (not stored).
fn validate(id: &str, body: &str, now_ms: u64) -> Result<ClientRecord, String> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "the client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes"
        ));
    }
    let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(body) else {
        return Err(format!("{id} did not answer a JSON object"));
    };
    match doc.get("client_id").and_then(Value::as_str) {
        Some(declared) if declared == id => {}
        Some(declared) => {
            return Err(format!(
                "the document's client_id {declared} is not the URL it was fetched from, {id}"
            ))
        }
        None => return Err("the document has no client_id".into()),
    }
    let client_name = match doc
        .get("client_name")
        .and_then(Value::as_str)
        .map(str::trim)
    {
        Some(name) if !name.is_empty() && name.chars().count() <= MAX_NAME => name.to_string(),
        _ => {
            return Err(format!(
                "the document needs a client_name of 1 to {MAX_NAME} characters"
            ))
        }
    };
    let redirect_uris = strings(&doc, "redirect_uris")?.unwrap_or_default();
    if redirect_uris.is_empty() || redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(format!(
            "the document must list 1 to {MAX_REDIRECT_URIS} redirect_uris"
        ));
    }
    for uri in &redirect_uris {
        clients::validate_redirect_uri(uri)?;
    }
    if doc.contains_key("client_secret") || doc.contains_key("client_secret_expires_at") {
        return Err("a client metadata document must not contain a client_secret".into());
    }
    match doc.get("token_endpoint_auth_method") {
        None | Some(Value::Null) => {}
        Some(Value::String(m)) if m == "none" => {}
        Some(other) => {
            let other = crate::http::json_text(other);
            return Err(format!(
                "token_endpoint_auth_method is {other}; this server accepts only public clients (\"none\")"
            ));
        }
    }
    let grant_types = strings(&doc, "grant_types")?
        .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]);
    if !grant_types.iter().any(|g| g == "authorization_code") {
        return Err("the document's grant_types lack authorization_code".into());
    }
    let response_types = strings(&doc, "response_types")?.unwrap_or_else(|| vec!["code".into()]);
    if !response_types.iter().any(|r| r == "code") {
        return Err("the document's response_types lack code".into());
    }
    Ok(ClientRecord {
        client_id: id.to_string(),
        client_name: Some(client_name),
        redirect_uris,
        grant_types,
        response_types,
        issued_at: now_ms / 1000,
        created_ms: now_ms,
        last_used_ms: now_ms,
        consent: Default::default(),
    })
}

/// A list of strings, `None` when absent.
fn strings(doc: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, String> {
    match doc.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("the document's {field} must be an array of strings")),
        Some(_) => Err(format!(
            "the document's {field} must be an array of strings"
        )),
    }
}

/// How long a document may be kept, from its `Cache-Control`. Hand-parsed: three
/// directives matter here and no crate in the tree reads the header.
fn ttl_ms(cache_control: Option<&str>) -> u64 {
    let mut ttl = DEFAULT_TTL_MS;
    for directive in cache_control.unwrap_or_default().split(',') {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "no-store" | "no-cache" => return 0,
            "max-age" => {
                if let Ok(sec) = value.trim().trim_matches('"').parse::<u64>() {
                    ttl = sec.saturating_mul(1000).min(MAX_TTL_MS);
                }
            }
            _ => {}
        }
    }
    ttl
}

/// Whether the admin allowed `host:port` to resolve to internal addresses.
fn private_host_allowed(store: &dyn Store, host: &str, port: u16) -> bool {
    let wanted = format!("{}:{port}", host.to_ascii_lowercase());
    store
        .get(PRIVATE_HOSTS_KEY)
        .is_some_and(|list| list.split(',').any(|entry| entry.trim() == wanted))
}

/// The allowance as the admin typed it (entries separated by commas, spaces or lines),
/// checked and written in normal form: `host:port, host:port`. Empty clears it.
pub fn parse_private_hosts(text: &str) -> Result<String, String> {
    let mut entries = Vec::new();
    for entry in text
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|e| !e.is_empty())
    {
        let normal = Url::parse(&format!("https://{entry}/"))
            .ok()
            .filter(|u| u.username().is_empty() && u.password().is_none() && u.path() == "/")
            .and_then(|u| Some(format!("{}:{}", u.host_str()?, u.port_or_known_default()?)));
        match normal {
            Some(n) if n == entry.to_ascii_lowercase() => entries.push(n),
            _ => {
                return Err(format!(
                    "{entry} is not a host:port entry (e.g. localhost:8443 or [::1]:8443)"
                ))
            }
        }
    }
    Ok(entries.join(", "))
}

/// What vouches for a metadata-document client's name, for the consent page (plain text);
/// `None` for a registered client, whose name nobody vouches for.
pub struct Vouch {
    /// The host that serves the document: what the admin trusts.
    pub host: String,
    /// The self-declared name, a claim of that host.
    pub claimed_name: String,
    /// MCP 2026-07-28 security considerations: a document cannot stop localhost
    /// impersonation, so a client whose every redirect is loopback gets a warning.
    pub warning: Option<String>,
}

pub fn vouch(client: &ClientRecord) -> Option<Vouch> {
    let url = parse_client_id(&client.client_id).ok()?;
    let loopback_only = !client.redirect_uris.is_empty()
        && client
            .redirect_uris
            .iter()
            .all(|u| clients::is_loopback_redirect(u));
    Some(Vouch {
        host: url.host_str()?.to_string(),
        claimed_name: client.client_name.clone().unwrap_or_default(),
        warning: loopback_only.then(|| {
            "its sign-in returns only to the computer that started it (a loopback address), so \
             any program on that computer could present this app's identity"
                .to_string()
        }),
    })
}

/// Checked documents in memory, bounded in count; lost on restart on purpose.
#[derive(Default)]
pub struct Cache {
    entries: RefCell<HashMap<String, (ClientRecord, u64)>>,
}

impl Cache {
    fn get(&self, id: &str, now_ms: u64) -> Option<ClientRecord> {
        let entries = self.entries.borrow();
        let (client, until) = entries.get(id)?;
        (*until > now_ms).then(|| client.clone())
    }

    fn put(&self, client: ClientRecord, now_ms: u64, until_ms: u64) {
        let mut entries = self.entries.borrow_mut();
        entries.retain(|_, (_, until)| *until > now_ms);
        while entries.len() >= CACHE_MAX {
            let Some(soonest) = entries
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            entries.remove(&soonest);
        }
        entries.insert(client.client_id.clone(), (client, until_ms));
    }

    /// The client of a document that is (or was lately) in memory, expired or not.
    pub fn known(&self, id: &str) -> Option<ClientRecord> {
        self.entries.borrow().get(id).map(|(c, _)| c.clone())
    }

    pub fn clear(&self) {
        self.entries.borrow_mut().clear();
    }

    /// Drops one document (its client was revoked): the next sign-in reads it afresh.
    pub fn forget(&self, id: &str) {
        self.entries.borrow_mut().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_urls_with_a_path_in_normal_form_are_document_urls() {
        assert!(parse_client_id("https://app.example/oauth/client.json").is_ok());
        assert!(parse_client_id("https://app.example:8443/c?v=1").is_ok());
        for (bad, why) in [
            ("http://app.example/client.json", "not an https URL"),
            ("https://app.example", "has no path"),
            ("https://app.example/", "has no path"),
            ("https://user@app.example/c.json", "user name or password"),
            ("https://app.example/c.json#x", "fragment"),
            ("https://app.example/a/../c.json", "normal form"),
            ("https://APP.example/c.json", "normal form"),
            ("https://app.example:443/c.json", "normal form"),
            ("cursor://x", "not an https URL"),
            ("not a url:", "not a URL"),
        ] {
            let e = parse_client_id(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(!is_url_id("k3J9x_Yq-registration-token"));
        assert!(is_url_id("https://app.example/c.json"));
    }

    #[test]
    fn cache_lifetime_follows_cache_control_within_bounds() {
        assert_eq!(ttl_ms(None), DEFAULT_TTL_MS);
        assert_eq!(ttl_ms(Some("public, max-age=60")), 60_000);
        assert_eq!(ttl_ms(Some("max-age=31536000")), MAX_TTL_MS);
        assert_eq!(ttl_ms(Some("no-store")), 0);
        assert_eq!(ttl_ms(Some("max-age=600, no-cache")), 0);
        assert_eq!(ttl_ms(Some("max-age=junk")), DEFAULT_TTL_MS);
    }

    #[test]
    fn the_allowance_is_exact_host_port_entries() {
        assert_eq!(
            parse_private_hosts("localhost:8443,\n[::1]:9000  Nas.lan:443").as_deref(),
            Ok("localhost:8443, [::1]:9000, nas.lan:443")
        );
        assert_eq!(parse_private_hosts("  ").as_deref(), Ok(""));
        for bad in ["localhost", "a/b:1", "u@h:1", "h:99999", "http://h:1"] {
            assert!(parse_private_hosts(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_document_client_is_vouched_for_by_its_host_with_a_warning_when_loopback_only() {
        let doc = |redirects: &[&str]| {
            let body = serde_json::json!({
                "client_id": "https://app.example/c.json",
                "client_name": "Look-alike",
                "redirect_uris": redirects,
            });
            validate("https://app.example/c.json", &body.to_string(), 0).unwrap()
        };
        let local = vouch(&doc(&["http://127.0.0.1:3000/cb", "http://localhost/cb"])).unwrap();
        assert_eq!(local.host, "app.example");
        assert_eq!(local.claimed_name, "Look-alike");
        assert!(local
            .warning
            .unwrap()
            .contains("any program on that computer"));
        let web = vouch(&doc(&[
            "http://127.0.0.1:3000/cb",
            "https://app.example/cb",
        ]))
        .unwrap();
        assert_eq!(web.warning, None);
        let registered = ClientRecord {
            client_id: "k3J9x_Yq".into(),
            ..doc(&["http://127.0.0.1/cb"])
        };
        assert!(vouch(&registered).is_none());
    }

    #[test]
    fn the_cache_is_bounded_and_forgets_expired_documents() {
        let cache = Cache::default();
        let record = |i: usize| ClientRecord {
            client_id: format!("https://a.example/{i}"),
            client_name: Some(format!("app {i}")),
            redirect_uris: vec![],
            grant_types: vec![],
            response_types: vec![],
            issued_at: 0,
            created_ms: 1_000,
            last_used_ms: 1_000,
            consent: Default::default(),
        };
        for i in 0..CACHE_MAX + 10 {
            cache.put(record(i), 1_000, 10_000 + i as u64);
        }
        assert_eq!(cache.entries.borrow().len(), CACHE_MAX);
        assert!(
            cache.get("https://a.example/0", 1_000).is_none(),
            "soonest evicted"
        );
        let last = format!("https://a.example/{}", CACHE_MAX + 9);
        assert!(cache.get(&last, 1_000).is_some());
        assert!(cache.get(&last, 10_000 + CACHE_MAX as u64 + 9).is_none());
    }
}
