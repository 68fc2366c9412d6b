//! The Connected apps group: revoke all, the plugin-wide read-only mode, and per app its
//! details, the scope it holds (which the admin can lower) and its revoke button.

use super::{
    boolean_value, readonly, short, shown, Setting, GROUP_APPS, KEY_CLIENT_PREFIX, KEY_NO_CLIENTS,
    KEY_REVOKE_ALL, KEY_REVOKE_CLIENT_PREFIX,
};
use crate::oauth::{self, scope, Scope};
use crate::store::Store;
use crate::utc::format_time;
use crate::Ctx;
use serde_json::{json, Value};

/// The read-only mode switch (issue 9): on, every grant, new and existing, is capped at
/// `scrypted:read` from the next request on.
pub const KEY_READ_ONLY: &str = "read_only";
/// `scope:<client_id>`: the scope an app holds; choosing a lower one lowers it.
pub const KEY_SCOPE_PREFIX: &str = "scope:";

pub(super) fn client_label(client: &oauth::ClientSummary) -> String {
    match client.client_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => format!("Unnamed client {}", short(&client.client_id, 8)),
    }
}

fn read_only_setting(store: &dyn Store) -> Setting {
    Setting {
        key: KEY_READ_ONLY.to_string(),
        title: "Read-only mode".to_string(),
        group: Some(GROUP_APPS.to_string()),
        description: Some(
            "On: every app can only read (scrypted:read), whatever it was granted, from its \
             next request on; tools that change anything answer 403, and the ones still \
             running as tasks stop. Off: each app has what it was granted again. Default \
             off."
                .to_string(),
        ),
        kind: Some("boolean".to_string()),
        value: Some(json!(scope::read_only_mode(store))),
        ..Setting::default()
    }
}

pub(super) fn app_settings(store: &dyn Store, clients: &[oauth::ClientSummary]) -> Vec<Setting> {
    let mut settings = vec![
        Setting {
            key: KEY_REVOKE_ALL.to_string(),
            title: "Revoke all tokens & disconnect clients".to_string(),
            group: Some(GROUP_APPS.to_string()),
            description: Some(
                "Drops every refresh token and client registration, rotates the signing key so \
                 existing access tokens stop working at once, closes every MCP session and \
                 cancels every running task. Clients must sign in again."
                    .to_string(),
            ),
            kind: Some("button".to_string()),
            ..Setting::default()
        },
        read_only_setting(store),
    ];
    if clients.is_empty() {
        settings.push(readonly(
            GROUP_APPS,
            KEY_NO_CLIENTS,
            "Registered apps",
            Value::String("None yet. Apps appear here once they register.".to_string()),
        ));
    }
    for client in clients {
        let label = client_label(client);
        let hosts = if client.redirect_hosts.is_empty() {
            "none".to_string()
        } else {
            client.redirect_hosts.join(", ")
        };
        let last_used = match client.last_used_ms {
            0 => "never".to_string(),
            ms => format_time(ms),
        };
        let detail = format!(
            "Redirects to {hosts} · registered {} · last used {last_used} · {}",
            format_time(client.created_ms),
            if client.live_tokens {
                "holds live tokens"
            } else {
                "no live tokens"
            }
        );
        settings.push(Setting {
            subgroup: Some(label.clone()),
            description: Some(format!("Client id {}", client.client_id)),
            ..readonly(
                GROUP_APPS,
                &format!("{KEY_CLIENT_PREFIX}{}", client.client_id),
                &label,
                Value::String(detail),
            )
        });
        if let Some(held) = client.scope {
            settings.push(scope_setting(client, &label, held));
        }
        settings.push(Setting {
            key: format!("{KEY_REVOKE_CLIENT_PREFIX}{}", client.client_id),
            title: format!("Revoke {label}"),
            group: Some(GROUP_APPS.to_string()),
            subgroup: Some(label),
            description: Some(
                "Deletes this registration and its tokens, closes its sessions and cancels \
                 its running tasks; the app must register and sign in again."
                    .to_string(),
            ),
            kind: Some("button".to_string()),
            ..Setting::default()
        });
    }
    settings
}

/// What the app may do, as a choice of that level or any lower one.
fn scope_setting(client: &oauth::ClientSummary, label: &str, held: Scope) -> Setting {
    Setting {
        key: format!("{KEY_SCOPE_PREFIX}{}", client.client_id),
        title: format!("{label} may"),
        group: Some(GROUP_APPS.to_string()),
        subgroup: Some(label.to_string()),
        description: Some(format!(
            "Granted: {}. Choose a lower level to take rights away at once (its live tokens \
             included, and its running tasks that need more stop); to give more, the app asks again and you approve on the consent page.",
            held.granted()
        )),
        kind: Some("string".to_string()),
        choices: Some(
            Scope::ALL
                .into_iter()
                .filter(|s| *s <= held)
                .map(|s| s.label().to_string())
                .collect(),
        ),
        value: Some(json!(held.label())),
        ..Setting::default()
    }
}

pub(super) fn put_read_only(ctx: &Ctx, value: &Value) -> Result<(), String> {
    let on = boolean_value(value).ok_or_else(|| {
        format!(
            "{KEY_READ_ONLY} must be true or false (got {}).",
            shown(value)
        )
    })?;
    ctx.store.set(scope::READ_ONLY_KEY, &on.to_string());
    if on {
        crate::mcp::authority_lowered(ctx);
    }
    ctx.host.log(
        crate::host::LogLevel::Warn,
        &format!(
            "Setting {KEY_READ_ONLY} = {on}: every app can {} from its next request.",
            if on {
                "only read"
            } else {
                "do what it was granted again"
            }
        ),
    );
    Ok(())
}

/// Lowers what `client_id` holds to the chosen level (a label or a scope name).
pub(super) fn put_scope(ctx: &Ctx, client_id: &str, value: &Value) -> Result<(), String> {
    let chosen = value
        .as_str()
        .map(str::trim)
        .and_then(|v| {
            Scope::ALL
                .into_iter()
                .find(|s| s.label() == v || s.name() == v)
        })
        .ok_or_else(|| {
            format!(
                "Choose one of: {} (got {}).",
                Scope::ALL.map(Scope::label).join(", "),
                shown(value)
            )
        })?;
    let held = oauth::lower_client_scope(ctx, client_id, chosen)?;
    crate::mcp::authority_lowered(ctx);
    ctx.host.log(
        crate::host::LogLevel::Warn,
        &format!(
            "Client {client_id}: scope lowered from {} to {}.",
            held.name(),
            chosen.name()
        ),
    );
    Ok(())
}
