//! Registered clients in plugin storage (`oauth.client.<id>`), and the redirect-URI rules
//! they are held to.

use crate::origin::is_loopback_host;
use crate::store::{Parsed, Store, StoreExt};
use serde::Serialize;

pub const PREFIX: &str = "oauth.client.";

/// Read back by `store::record` (one reader for every record type, issue 12); host builds
/// keep serde's derive to compare the two (`store::tests`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
pub struct ClientRecord {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    /// Seconds, for `client_id_issued_at`.
    pub issued_at: u64,
    pub created_ms: u64,
    pub last_used_ms: u64,
    /// What each Scrypted user granted this client on the consent page ("user redirect"
    /// → scope):
    /// a later request for the same or less needs no page (`consent::remembered`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub consent: std::collections::BTreeMap<String, String>,
}

crate::fields::args!(ClientRecord {
    client_id: required,
    client_name: optional,
    redirect_uris: required,
    grant_types: required,
    response_types: required,
    issued_at: required,
    created_ms: required,
    last_used_ms: required,
    consent: optional,
});

pub fn key(client_id: &str) -> String {
    format!("{PREFIX}{client_id}")
}

pub fn get(store: &dyn Store, client_id: &str) -> Option<ClientRecord> {
    if client_id.is_empty() || client_id.len() > 128 {
        return None;
    }
    store.get_record(&key(client_id))
}

/// Whether [`get`] finds the client, its record parsed again only when its stored text
/// changed (the bearer check asks on every request).
pub fn registered(store: &dyn Store, memo: &Parsed<ClientRecord>, client_id: &str) -> bool {
    if client_id.is_empty() || client_id.len() > 128 {
        return false;
    }
    memo.get(store, &key(client_id)).is_some()
}

pub fn put(store: &dyn Store, client: &ClientRecord) {
    store.set_json(&key(&client.client_id), client);
}

pub fn all(store: &dyn Store) -> Vec<ClientRecord> {
    store
        .keys_with_prefix(PREFIX)
        .iter()
        .filter_map(|k| store.get_record::<ClientRecord>(k))
        .collect()
}

/// Marks a client used, at most once a minute: every write ships the whole storage map.
pub fn touch(store: &dyn Store, client: &ClientRecord, now_ms: u64) {
    if now_ms.saturating_sub(client.last_used_ms) >= 60_000 {
        let mut client = client.clone();
        client.last_used_ms = now_ms;
        put(store, &client);
    }
}

/// Why a redirect URI is refused at registration, or `Ok` for https, loopback http and
/// private-use schemes such as `cursor://` (docs/reference/client-compat.md §4.2).
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("redirect URI too long".into());
    }
    if uri.contains('#') {
        return Err(format!("redirect URI must not contain a fragment: {uri}"));
    }
    let url = url::Url::parse(uri).map_err(|_| format!("redirect URI is not a URL: {uri}"))?;
    match url.scheme() {
        "javascript" | "data" | "vbscript" | "file" | "about" | "blob" | "filesystem" => Err(
            format!("redirect URI scheme {}: is not allowed", url.scheme()),
        ),
        "https" => match url.host_str() {
            Some(_) => Ok(()),
            None => Err(format!("https redirect URI needs a host: {uri}")),
        },
        "http" => match url.host_str() {
            Some(h) if is_loopback_host(h) => Ok(()),
            _ => Err(format!(
                "http redirect URIs must use a loopback host (localhost, 127.0.0.1, [::1]): {uri}"
            )),
        },
        _ => Ok(()),
    }
}

/// Whether `requested` matches the registered `registered`: exactly, or for http on a
/// loopback host, with any port (RFC 8252 §7.3). `localhost` and `127.0.0.1` never match
/// each other.
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    a.scheme() == "http"
        && b.scheme() == "http"
        && a.host_str().is_some_and(is_loopback_host)
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
        && a.fragment().is_none()
        && b.fragment().is_none()
        && a.username() == b.username()
        && b.username().is_empty()
        && b.password().is_none()
}

/// Whether a redirect URI goes to this machine (approved without a consent page).
pub fn is_loopback_redirect(uri: &str) -> bool {
    url::Url::parse(uri)
        .ok()
        .is_some_and(|u| u.scheme() == "http" && u.host_str().is_some_and(is_loopback_host))
}

/// What a person should read as "where the code goes": the host for http(s), else
/// `scheme://host` for private-use schemes.
pub fn redirect_host(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
            u.host_str().unwrap_or("").to_string()
        }
        Ok(u) => format!("{}://{}", u.scheme(), u.host_str().unwrap_or("")),
        Err(_) => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_matches_any_port_but_not_other_hosts() {
        let reg = "http://127.0.0.1:33418/callback";
        assert!(redirect_matches(reg, "http://127.0.0.1:5555/callback"));
        assert!(redirect_matches(reg, "http://127.0.0.1/callback"));
        assert!(!redirect_matches(reg, "http://localhost:33418/callback"));
        assert!(!redirect_matches(reg, "http://127.0.0.1:33418/other"));
        assert!(!redirect_matches(
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.ai:444/api/mcp/auth_callback"
        ));
    }

    #[test]
    fn hostile_redirect_uris_are_refused() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "vbscript:x",
            "file:///etc/passwd",
            "https://a.example/cb#frag",
            "http://evil.example/cb",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
        for good in [
            "cursor://anysphere.cursor-mcp/oauth/callback",
            "http://localhost:8787/callback",
            "http://[::1]:1/cb",
            "https://vscode.dev/redirect",
        ] {
            assert!(validate_redirect_uri(good).is_ok(), "{good}");
        }
    }
}
