//! Logs: the `logger` component (docs/reference/scrypted-host.md §3.3).

use super::preview::NOTHING_CHANGED;
use super::resolve::{refuse_own_device, Snapshot};
use super::schema::{ok, tool, DESTRUCTIVE_IDEMPOTENT, READ};
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use crate::host::{Alert, DeviceLogger, LogEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// Scrypted log levels, least to most severe.
pub const LEVELS: &[&str] = &["v", "d", "i", "w", "e", "a"];
/// Longest message returned in full.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// A minimum log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Level {
    /// verbose
    #[serde(rename = "v", alias = "verbose")]
    V,
    /// debug
    #[serde(rename = "d", alias = "debug")]
    D,
    /// info
    #[serde(rename = "i", alias = "info")]
    I,
    /// warn
    #[serde(rename = "w", alias = "warn", alias = "warning")]
    W,
    /// error
    #[serde(rename = "e", alias = "error")]
    E,
    /// alert (also creates a persisted alert)
    #[serde(rename = "a", alias = "alert")]
    A,
}

impl Level {
    fn rank(self) -> usize {
        self as usize
    }
}

fn rank_of(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(2)
}

// ---------- get_logs

pub const GET_LOGS: ToolDef = tool! {
    name: "get_logs",
    title: "Read server logs",
    description: "Reads Scrypted's persisted logs (the last 48 h), newest first, filtered before returning: device_id (that device's log only), component (case-insensitive substring of the log path or title, e.g. \"zwave\" or \"/device/12\"), level (minimum severity: v verbose < d debug < i info < w warn < e error < a alert), since_ms (Unix time in ms; `now_ms` in every answer helps compute it). Returns at most `limit` entries (default 100, max 1000); `truncated: true` with `next` says how to page further back with offset. Messages longer than 2000 characters are cut.",
    input: GetLogsArgs,
    output: GetLogsOut,
    hints: READ,
    scope: Read,
    run: get_logs,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct GetLogsArgs {
    /// Only this device's log (Scrypted device id).
    #[serde(default)]
    pub device_id: Option<String>,
    /// Case-insensitive substring of the entry's path or title, e.g. "zwave" or "/device/12".
    #[serde(default)]
    pub component: Option<String>,
    /// Minimum level: "v" verbose, "d" debug, "i" info, "w" warn, "e" error, "a" alert.
    #[serde(default)]
    pub level: Option<Level>,
    /// Only entries at or after this Unix time in milliseconds.
    #[serde(default, alias = "sinceMs")]
    pub since_ms: Option<u64>,
    /// Most entries to return (default 100, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Matching entries to skip, newest first (for paging back; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
}

crate::fields::args!(GetLogsArgs {
    device_id: optional,
    component: optional,
    level: optional,
    since_ms: aliased("since_ms", &["sinceMs", "since_ms"], false),
    limit: optional,
    offset: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct LogOut {
    /// Unix time in ms.
    pub timestamp: u64,
    /// v, d, i, w, e or a as Scrypted logs them; a string, not an enum, because a plugin
    /// may log any level (server/src/logger.ts takes `level: string`).
    pub level: String,
    pub title: Option<String>,
    pub path: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetLogsOut {
    /// Matching entries, newest first.
    pub entries: Vec<LogOut>,
    /// `total` counts the entries matching the filters; more pages go further back.
    #[serde(flatten)]
    pub page: super::schema::Page,
    /// The server's current time (Unix ms), to compute since_ms.
    pub now_ms: u64,
}

fn cut(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message.to_string();
    }
    let mut s: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    s.push_str("… [cut]");
    s
}

async fn get_logs(tc: Rc<ToolContext>, a: GetLogsArgs) -> ToolResult {
    let mut name = None;
    if let Some(id) = &a.device_id {
        // The host's getLogger() would create a log for an unknown id: check first.
        let snap = Snapshot::load_of(&tc, &[id], &["name"]).await?;
        snap.require_device(id)?;
        name = snap.str_prop(id, "name").map(String::from);
    }
    let device = a.device_id.as_deref().map(|id| DeviceLogger {
        id,
        name: name.as_deref().unwrap_or(id),
    });
    let logs = tc.ctx.host.logs(device).await?;
    let component = a.component.as_deref().map(str::to_lowercase);
    let min = a.level.map_or(0, Level::rank);
    let mut matched: Vec<LogEntry> = logs
        .into_iter()
        .filter(|l| rank_of(&l.level) >= min)
        .filter(|l| a.since_ms.is_none_or(|s| l.timestamp >= s))
        .filter(|l| {
            component.as_ref().is_none_or(|c| {
                l.path.as_deref().unwrap_or("").to_lowercase().contains(c)
                    || l.title.as_deref().unwrap_or("").to_lowercase().contains(c)
            })
        })
        .collect();
    crate::order::sort_by_key(&mut matched, |x| std::cmp::Reverse(x.timestamp));
    let total = matched.len();
    let offset = a.offset.unwrap_or(0) as usize;
    let limit = super::schema::page_bounds(a.limit, 100, 1000);
    let entries: Vec<LogOut> = matched
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|l| LogOut {
            timestamp: l.timestamp,
            level: l.level,
            title: l.title.map(super::redact::text),
            path: l.path,
            message: super::redact::text(cut(&l.message)),
        })
        .collect();
    let page = super::schema::Page::new("get_logs", offset, entries.len(), total);
    ok(GetLogsOut {
        entries,
        page,
        now_ms: tc.ctx.clock.now_ms(),
    })
}

// ---------- clear_logs

pub const CLEAR_LOGS: ToolDef = tool! {
    name: "clear_logs",
    title: "Clear logs (and alerts)",
    description: "Clears Scrypted's logs with the logger's clear(): all logs, or only one device's log when device_id is given. WARNING: Scrypted's clear() ALSO DELETES THE ALERTS under the same path — all alerts when no device_id is given. It matches alert paths by prefix, so clearing device 1 would also delete the alerts of devices 12, 13, …: such a call is refused (nothing cleared, the other devices named) unless also_clear_other_devices_alerts is true. The answer reports how many log entries were removed and which alerts (their ids); with dry_run: true nothing is cleared and the answer says what would be. Clearing the log of one of this MCP plugin's own devices is refused.",
    input: ClearLogsArgs,
    output: ClearLogsOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: clear_logs,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ClearLogsArgs {
    /// Clear only this device's log (and its alerts); omit to clear everything.
    #[serde(default)]
    pub device_id: Option<String>,
    /// Scrypted's clear() also deletes the alerts of other devices whose id starts with this one's
    /// (device 1 → 12, 13, …); true accepts that, otherwise such a call is refused.
    #[serde(default)]
    pub also_clear_other_devices_alerts: bool,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(ClearLogsArgs {
    device_id: optional,
    also_clear_other_devices_alerts: optional,
    dry_run: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClearLogsOut {
    /// The device whose log was cleared; null for all logs.
    pub device_id: Option<String>,
    /// Log entries removed.
    pub logs_removed: usize,
    /// Alerts removed along with them.
    pub alerts_removed: usize,
    /// Their ids.
    pub alert_ids: Vec<String>,
    /// True when nothing was cleared (the counts say what would be).
    pub dry_run: bool,
    pub message: String,
}

/// The alerts a logger's clear() deletes: those whose path starts with the logger's path,
/// without a separator (logger.ts:55-75, docs/reference/scrypted-host.md §3.3), so clearing
/// device 1 also deletes device 12's alerts. The root's path is "".
fn alerts_cleared_with(alerts: &[Alert], device_id: Option<&str>) -> Vec<String> {
    let path = device_id
        .map(|d| format!("/device/{d}"))
        .unwrap_or_default();
    alerts
        .iter()
        .filter(|x| x.path.as_deref().unwrap_or_default().starts_with(&path))
        .map(|x| x.id.clone())
        .collect()
}

/// The other devices (sorted ids) whose alerts clearing `device_id`'s log would delete because
/// logger.clear() matches by prefix: "/device/1" also takes "/device/12".
fn other_devices_hit(alerts: &[Alert], device_id: &str) -> Vec<String> {
    let own = format!("/device/{device_id}");
    let mut ids: Vec<String> = alerts
        .iter()
        .filter_map(|x| x.path.as_deref()?.strip_prefix("/device/"))
        .map(|rest| rest.split('/').next().unwrap_or_default())
        .filter(|id| *id != device_id && format!("/device/{id}").starts_with(&own))
        .map(str::to_string)
        .collect();
    crate::order::sort(&mut ids);
    ids.dedup();
    ids
}

async fn clear_logs(tc: Rc<ToolContext>, a: ClearLogsArgs) -> ToolResult {
    let mut name = None;
    if let Some(id) = &a.device_id {
        let snap = Snapshot::load(&tc).await?;
        snap.require_device(id)?;
        // Its log holds its security warnings (token reuse): not erasable through it.
        refuse_own_device(&tc, &snap, id, "clearing its log").await?;
        name = snap.str_prop(id, "name").map(String::from);
    }
    let host = &tc.ctx.host;
    let device_id = a.device_id.as_deref();
    let device = device_id.map(|id| DeviceLogger {
        id,
        name: name.as_deref().unwrap_or(id),
    });
    let logs_before = host.logs(device).await?.len();
    let alerts_before = host.alerts().await?;
    if let Some(id) = device_id {
        let others = other_devices_hit(&alerts_before, id);
        if !others.is_empty() && !a.also_clear_other_devices_alerts {
            return Err(ToolError::failed(format!(
                "Refused, nothing was cleared: Scrypted's clear() matches alerts by path prefix, so clearing device {id}'s log would also delete the alerts of device(s) {}. Clear or keep those alerts first (clear_alerts), or call again with also_clear_other_devices_alerts: true.",
                others.join(", ")
            )));
        }
    }
    let (logs_removed, alert_ids) = if a.dry_run {
        (logs_before, alerts_cleared_with(&alerts_before, device_id))
    } else {
        host.clear_logs(device).await?;
        let logs_after = host.logs(device).await?.len();
        let gone = super::alerts::ids_gone(alerts_before, &host.alerts().await?);
        (logs_before.saturating_sub(logs_after), gone)
    };
    let of = device_id
        .map(|d| format!(" of device {d}"))
        .unwrap_or_default();
    let alerts_removed = alert_ids.len();
    ok(ClearLogsOut {
        message: if a.dry_run {
            format!("{NOTHING_CHANGED} Clearing would remove {logs_removed} log entries and {alerts_removed} alerts{of}.")
        } else {
            format!("Cleared {logs_removed} log entries and {alerts_removed} alerts{of}.")
        },
        device_id: a.device_id,
        logs_removed,
        alerts_removed,
        alert_ids,
        dry_run: a.dry_run,
    })
}
