//! The Scrypted Settings tab (the configuration it writes is read by `crate::config`).
//!
//! The tab (`get_settings`) has these groups, in order:
//! - **Endpoint**: the MCP URL over HTTPS and over HTTP, read-only, with a hint on which to use.
//! - **Configuration**: the numeric settings of `scrypted-manifest.json`, validated here,
//!   the RFC 9207 `iss` compatibility switch, and the Public URLs forwarded headers may name.
//! - **Status**: active MCP sessions, registered clients, persisted refresh tokens, computed
//!   when the tab is opened.
//! - **Connected apps** (`apps`): the revoke-all button, read-only mode, then each
//!   registered client with the scope it holds (lowerable) and its own
//!   revoke button.
//! - **Audit trail**: the latest tool calls.
//!
//! `put_setting` accepts the configuration keys and the buttons; everything else is refused
//! with a message and changes nothing.

mod apps;
mod endpoint;
mod public_urls;

use crate::audit;
use crate::config::{self, CONFIG_KEYS, KEY_PREFIX};
use crate::manifest::number_setting;
use crate::oauth;
use crate::store::Store;
use crate::utc::format_time;
use crate::{mcp, Ctx};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One entry of Scrypted's `Setting` type (docs/reference/scrypted-host.md §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    pub key: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subgroup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<[i64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    /// The values a `string` setting may take (Scrypted shows a drop-down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

// ---- keys and groups

pub const GROUP_ENDPOINT: &str = "Endpoint";
pub const GROUP_CONFIGURATION: &str = "Configuration";
pub const GROUP_STATUS: &str = "Status";
pub const GROUP_APPS: &str = "Connected apps";
pub const GROUP_AUDIT: &str = "Audit trail";

pub const KEY_ENDPOINT_HTTPS: &str = "endpoint_https";
pub const KEY_ENDPOINT_HTTP: &str = "endpoint_http";
pub const KEY_STATUS_SESSIONS: &str = "status_sessions";
pub const KEY_STATUS_LISTENERS: &str = "status_listeners";
pub const KEY_STATUS_CLIENTS: &str = "status_clients";
pub const KEY_STATUS_REFRESH_TOKENS: &str = "status_refresh_tokens";
/// The revoke-all button.
pub const KEY_REVOKE_ALL: &str = "revoke_all";
/// `revoke_client:<client_id>`: one client's revoke button.
pub const KEY_REVOKE_CLIENT_PREFIX: &str = "revoke_client:";
/// `client:<client_id>`: one client's read-only description.
pub const KEY_CLIENT_PREFIX: &str = "client:";
pub const KEY_NO_CLIENTS: &str = "clients_none";
pub const KEY_AUDIT: &str = "audit_recent";

/// How many audit entries the tab shows.
pub const AUDIT_SHOWN: usize = 20;

pub(super) fn readonly(group: &str, key: &str, title: &str, value: Value) -> Setting {
    Setting {
        key: key.to_string(),
        title: title.to_string(),
        group: Some(group.to_string()),
        kind: Some(
            match value {
                Value::Number(_) => "integer",
                _ => "string",
            }
            .to_string(),
        ),
        readonly: Some(true),
        value: Some(value),
        ..Setting::default()
    }
}

fn described(mut setting: Setting, description: &str) -> Setting {
    setting.description = Some(description.to_string());
    setting
}

// ---- getSettings

pub async fn get_settings(ctx: &Ctx) -> Vec<Setting> {
    let mut settings = endpoint::endpoint_settings(ctx).await;
    settings.extend(configuration_settings(ctx.store.as_ref()));
    settings.push(iss_parameter_setting(ctx.store.as_ref()));
    settings.push(private_hosts_setting(ctx.store.as_ref()));
    settings.push(public_urls::setting(ctx.store.as_ref()));
    settings.extend(status_settings(ctx));
    let clients = oauth::clients(ctx);
    settings.extend(apps::app_settings(ctx.store.as_ref(), &clients));
    settings.push(audit_setting(ctx, &clients));
    settings
}

fn configuration_settings(store: &dyn Store) -> Vec<Setting> {
    let current = config::read(store);
    let value_of = |key: &str| match key {
        "dcr_max_clients" => Some(current.dcr_max_clients),
        "access_token_ttl_sec" => Some(current.access_token_ttl_sec),
        "refresh_token_ttl_sec" => Some(current.refresh_token_ttl_sec),
        "max_restore_mb" => Some(current.max_restore_mb),
        _ => None,
    };
    CONFIG_KEYS
        .iter()
        .map(|&key| {
            let spec = number_setting(key);
            Setting {
                key: key.to_string(),
                title: spec.title.to_string(),
                group: Some(GROUP_CONFIGURATION.to_string()),
                description: Some(format!(
                    "{} Default {}, allowed {}–{}.",
                    spec.description, spec.default, spec.min, spec.max
                )),
                kind: Some("integer".to_string()),
                range: Some([spec.min, spec.max]),
                value: value_of(key).map(|v| json!(v)),
                ..Setting::default()
            }
        })
        .collect()
}

/// The RFC 9207 switch. Stored under [`oauth::ISS_PARAMETER_KEY`], which the OAuth code
/// reads on every request. A boolean, so it is not among the manifest's numeric settings.
pub const KEY_ISS_PARAMETER: &str = "iss_parameter";

fn iss_parameter_setting(store: &dyn Store) -> Setting {
    Setting {
        key: KEY_ISS_PARAMETER.to_string(),
        title: "Send the iss parameter (RFC 9207)".to_string(),
        group: Some(GROUP_CONFIGURATION.to_string()),
        description: Some(
            "On: sign-in redirects carry the issuer (iss) and the metadata advertises \
             authorization_response_iss_parameter_supported, which protects clients against \
             mix-up attacks. Turn off only if Codex CLI fails to sign in: it mishandles the \
             parameter. Default on."
                .to_string(),
        ),
        kind: Some("boolean".to_string()),
        value: Some(json!(oauth::iss_parameter(store))),
        ..Setting::default()
    }
}

/// The admin's allowance for client metadata documents on private hosts, stored under
/// [`oauth::cimd::PRIVATE_HOSTS_KEY`]. Empty by default: documents are then fetched only
/// from public addresses.
pub const KEY_CIMD_PRIVATE_HOSTS: &str = "cimd_private_hosts";

fn private_hosts_setting(store: &dyn Store) -> Setting {
    Setting {
        key: KEY_CIMD_PRIVATE_HOSTS.to_string(),
        title: "Allow metadata documents from these private hosts".to_string(),
        group: Some(GROUP_CONFIGURATION.to_string()),
        description: Some(
            "Apps may name themselves by the https URL of a client metadata document, which \
             this server fetches. Hosts that resolve to loopback, private or link-local \
             addresses are refused unless listed here as host:port (e.g. nas.lan:8443), \
             separated by commas. Empty by default."
                .to_string(),
        ),
        kind: Some("string".to_string()),
        value: Some(json!(store
            .get(oauth::cimd::PRIVATE_HOSTS_KEY)
            .unwrap_or_default())),
        ..Setting::default()
    }
}

/// A boolean from what Scrypted sends: `true`/`false`, or the strings "true"/"false".
pub(super) fn boolean_value(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn status_settings(ctx: &Ctx) -> Vec<Setting> {
    vec![
        described(
            readonly(
                GROUP_STATUS,
                KEY_STATUS_SESSIONS,
                "Active MCP sessions",
                json!(mcp::active_sessions(ctx)),
            ),
            "Sessions idle for over an hour leave memory; their next request brings them back. Reopen the tab to refresh.",
        ),
        described(
            readonly(
                GROUP_STATUS,
                KEY_STATUS_LISTENERS,
                "Open subscription streams",
                json!(mcp::active_listeners(ctx)),
            ),
            "Clients of MCP 2026-07-28 have no sessions; they keep a stream open to hear of \
             changes, which closes when they disconnect.",
        ),
        readonly(
            GROUP_STATUS,
            KEY_STATUS_CLIENTS,
            "Registered clients",
            json!(oauth::client_count(ctx)),
        ),
        readonly(
            GROUP_STATUS,
            KEY_STATUS_REFRESH_TOKENS,
            "Persisted refresh tokens",
            json!(oauth::refresh_token_count(ctx)),
        ),
    ]
}

fn audit_setting(ctx: &Ctx, clients: &[oauth::ClientSummary]) -> Setting {
    let entries = audit::recent(ctx, AUDIT_SHOWN);
    let text = if entries.is_empty() {
        "No tool calls yet.".to_string()
    } else {
        entries
            .iter()
            .map(|e| audit_line(e, clients))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Setting {
        kind: Some("textarea".to_string()),
        ..described(
            readonly(
                GROUP_AUDIT,
                KEY_AUDIT,
                "Latest tool calls",
                Value::String(text),
            ),
            &format!(
                "Newest first; the last {} calls are kept. Arguments are never stored, only \
                 a hash of them. Also readable by MCP clients as scrypted-mcp://audit/recent.",
                audit::MAX_ENTRIES
            ),
        )
    }
}

fn audit_line(entry: &audit::AuditEntry, clients: &[oauth::ClientSummary]) -> String {
    let client = clients
        .iter()
        .find(|c| c.client_id == entry.client_id)
        .map(apps::client_label)
        .unwrap_or_else(|| short(&entry.client_id, 12).to_string());
    let elicitation = entry
        .elicitation
        .as_deref()
        .map(|e| format!(" (confirmation: {e})"))
        .unwrap_or_default();
    let dry_run = if entry.dry_run { " (dry run)" } else { "" };
    format!(
        "{}  {}  {}  {}{}  {}{}  args#{}",
        format_time(entry.time_ms),
        entry.user,
        client,
        entry.tool,
        dry_run,
        entry.outcome,
        elicitation,
        short(&entry.args_hash, 12)
    )
}

pub(super) fn short(text: &str, chars: usize) -> &str {
    match text.char_indices().nth(chars) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

// ---- putSetting

/// An integer from what Scrypted sends: a number, or a numeric string ("3600", "3.6e3"),
/// as long as it has no fractional part. A string that is not an integer is read as a
/// JSON number (serde_json's parser, already in the wasm), not by `f64::from_str`, whose
/// float parser and its 10 KB table were in the wasm for this and one header check
/// (issue 12); that also refuses Rust-only forms such as `5.` or `+5.0`.
fn integer_value(value: &Value) -> Option<i64> {
    let from_number = |n: &serde_json::Number| {
        let from_float =
            |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() <= 9.0e15).then_some(f as i64);
        n.as_i64().or_else(|| n.as_f64().and_then(from_float))
    };
    match value {
        Value::Number(n) => from_number(n),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| {
                s.parse::<serde_json::Number>()
                    .ok()
                    .as_ref()
                    .and_then(from_number)
            })
        }
        _ => None,
    }
}

/// A short rendering of a refused value for the error message: strings as typed (the UI
/// sends most values as strings), anything else as JSON.
pub(super) fn shown(value: &Value) -> String {
    let text = match value {
        Value::Null => "nothing".to_string(),
        Value::String(s) if s.trim().is_empty() => "nothing".to_string(),
        Value::String(s) => s.trim().to_string(),
        other => crate::http::json_text(other),
    };
    if text.chars().count() > 40 {
        format!("{}…", short(&text, 40))
    } else {
        text
    }
}

fn is_readonly_key(key: &str) -> bool {
    [
        KEY_ENDPOINT_HTTPS,
        KEY_ENDPOINT_HTTP,
        KEY_STATUS_SESSIONS,
        KEY_STATUS_LISTENERS,
        KEY_STATUS_CLIENTS,
        KEY_STATUS_REFRESH_TOKENS,
        KEY_NO_CLIENTS,
        KEY_AUDIT,
    ]
    .contains(&key)
        || key.starts_with(KEY_CLIENT_PREFIX)
}

pub async fn put_setting(ctx: &Ctx, key: &str, value: serde_json::Value) -> Result<(), String> {
    if CONFIG_KEYS.contains(&key) {
        let spec = number_setting(key);
        let number = integer_value(&value)
            .filter(|n| (spec.min..=spec.max).contains(n))
            .ok_or_else(|| {
                format!(
                    "{key} must be an integer between {} and {} (got {}).",
                    spec.min,
                    spec.max,
                    shown(&value)
                )
            })?;
        ctx.store
            .set(&format!("{KEY_PREFIX}{key}"), &number.to_string());
        ctx.host.log(
            crate::host::LogLevel::Info,
            &format!("Setting {key} = {number}"),
        );
    } else if key == KEY_ISS_PARAMETER {
        let on = boolean_value(&value)
            .ok_or_else(|| format!("{key} must be true or false (got {}).", shown(&value)))?;
        ctx.store.set(oauth::ISS_PARAMETER_KEY, &on.to_string());
        ctx.host.log(
            crate::host::LogLevel::Info,
            &format!("Setting {key} = {on}"),
        );
    } else if key == KEY_CIMD_PRIVATE_HOSTS {
        let text = match &value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            other => {
                let other = crate::http::json_text(other);
                return Err(format!("{key} must be text (got {other})."));
            }
        };
        let normal = oauth::cimd::parse_private_hosts(&text)?;
        if normal.is_empty() {
            ctx.store.remove(oauth::cimd::PRIVATE_HOSTS_KEY);
        } else {
            ctx.store.set(oauth::cimd::PRIVATE_HOSTS_KEY, &normal);
        }
        ctx.host.log(
            crate::host::LogLevel::Info,
            &format!("Setting {key} = {normal}"),
        );
    } else if key == public_urls::KEY {
        let urls = public_urls::put(ctx.store.as_ref(), &value)?;
        ctx.host.log(
            crate::host::LogLevel::Info,
            &format!("Setting {key} = {urls}"),
        );
    } else if key == apps::KEY_READ_ONLY {
        apps::put_read_only(ctx, &value)?;
    } else if let Some(client_id) = key.strip_prefix(apps::KEY_SCOPE_PREFIX) {
        apps::put_scope(ctx, client_id, &value)?;
    } else if key == KEY_REVOKE_ALL {
        oauth::revoke_all(ctx);
        mcp::close_all_sessions(ctx);
    } else if let Some(client_id) = key.strip_prefix(KEY_REVOKE_CLIENT_PREFIX) {
        let found = oauth::revoke_client(ctx, client_id);
        mcp::close_client_sessions(ctx, client_id);
        if !found {
            return Err(format!(
                "No registered client {client_id}: it was already revoked or evicted."
            ));
        }
        ctx.host.log(
            crate::host::LogLevel::Warn,
            &format!("Revoked client {client_id} and closed its MCP sessions."),
        );
    } else if is_readonly_key(key) {
        return Err(format!("{key} is read-only."));
    } else {
        return Err(format!(
            "Unknown setting {key}. Settable: {}, {KEY_ISS_PARAMETER}, {KEY_CIMD_PRIVATE_HOSTS}, {}, {}, each app's scope, and the revoke buttons.",
            CONFIG_KEYS.join(", "),
            public_urls::KEY,
            apps::KEY_READ_ONLY
        ));
    }
    ctx.host.settings_changed();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::integer_value;
    use serde_json::json;

    #[test]
    fn integer_settings_read_integers_and_json_numbers_without_a_fraction() {
        for (sent, read) in [
            (json!(3600), Some(3600)),
            (json!(3600.0), Some(3600)),
            (json!(" 3600 "), Some(3600)),
            (json!("+3600"), Some(3600)),
            (json!("-5"), Some(-5)),
            (json!("3600.0"), Some(3600)),
            (json!("3.6e3"), Some(3600)),
            (json!("36E2"), Some(3600)),
            (json!("3600.5"), None),
            (json!("1e16"), None),
            (json!("5."), None),
            (json!("+5.0"), None),
            (json!(".5e1"), None),
            (json!("inf"), None),
            (json!("NaN"), None),
            (json!("abc"), None),
            (json!(""), None),
            (json!(true), None),
        ] {
            assert_eq!(integer_value(&sent), read, "{sent}");
        }
    }
}
