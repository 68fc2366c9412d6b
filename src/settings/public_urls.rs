//! The Public URLs setting: the origins the admin publishes the endpoint under through a
//! proxy or tunnel, the only ones forwarded headers may name (`crate::origin`).

use super::{shown, Setting, GROUP_CONFIGURATION};
use crate::origin::{self, PUBLIC_URLS_KEY};
use crate::store::Store;
use serde_json::{json, Value};

pub const KEY: &str = "public_urls";
/// More would only grow the storage map every write ships.
const MAX_URLS: usize = 16;

const HELP: &str = "The addresses this endpoint is published under through a reverse proxy \
or tunnel, as scheme://host[:port] (e.g. https://mcp.example.com), separated by commas. \
Scrypted tells plugins neither the client's address nor the scheme, so the plugin cannot \
tell a proxy's X-Forwarded-Proto / X-Forwarded-Host from the same headers sent by anyone: it \
honours them only when they name one of these addresses. Otherwise the URL is the one in the \
Host header (https when its port is Scrypted's https port). Tokens work only at the URL they \
were issued for. Empty: forwarded headers are ignored.";

pub fn setting(store: &dyn Store) -> Setting {
    Setting {
        key: KEY.to_string(),
        title: "Public URLs".to_string(),
        group: Some(GROUP_CONFIGURATION.to_string()),
        description: Some(HELP.to_string()),
        kind: Some("string".to_string()),
        value: Some(json!(origin::public_urls(store).join(", "))),
        ..Setting::default()
    }
}

/// Stores the list, normalised; refuses the whole value (changing nothing) when one entry
/// is not an origin.
pub fn put(store: &dyn Store, value: &Value) -> Result<String, String> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().unwrap_or("?").to_string())
            .collect::<Vec<_>>()
            .join(","),
        Value::Null => String::new(),
        other => return Err(format!("{KEY} must be text (got {}).", shown(other))),
    };
    let mut urls: Vec<String> = Vec::new();
    for entry in text.split(|c: char| c == ',' || c.is_whitespace()) {
        if entry.is_empty() {
            continue;
        }
        let url = origin::parse_public_url(entry).ok_or_else(|| {
            format!(
                "{KEY}: {} is not an address like https://mcp.example.com (http or https, a host and optionally a port, no path).",
                shown(&Value::String(entry.to_string()))
            )
        })?;
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    if urls.len() > MAX_URLS {
        return Err(format!("{KEY}: at most {MAX_URLS} addresses."));
    }
    if urls.is_empty() {
        store.remove(PUBLIC_URLS_KEY);
    } else {
        store.set(PUBLIC_URLS_KEY, &urls.join("\n"));
    }
    Ok(urls.join(", "))
}
