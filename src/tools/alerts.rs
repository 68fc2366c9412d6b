//! Alerts: the `alerts` component (docs/reference/scrypted-host.md §3.3).

use super::schema::{ok, page_bounds, tool, Page, DESTRUCTIVE_IDEMPOTENT, READ};
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use crate::host::Alert;
use schemars::JsonSchema;
use serde::Serialize;
use std::rc::Rc;

// ---------- list_alerts

pub const LIST_ALERTS: ToolDef = tool! {
    name: "list_alerts",
    title: "List alerts",
    description: "Lists Scrypted's persisted alerts (id, time, title, path, message), newest first. Pages with limit/offset; `truncated: true` means call again with the given offset.",
    input: ListAlertsArgs,
    output: ListAlertsOut,
    hints: READ,
    scope: Read,
    run: list_alerts,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ListAlertsArgs {
    /// Most alerts to return (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many alerts to skip (for paging; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
}

crate::fields::args!(ListAlertsArgs {
    limit: optional,
    offset: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct AlertOut {
    /// Alert id, for remove_alert.
    pub id: String,
    /// Unix time in ms.
    pub timestamp: u64,
    pub title: Option<String>,
    pub path: Option<String>,
    pub message: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListAlertsOut {
    pub alerts: Vec<AlertOut>,
    #[serde(flatten)]
    pub page: Page,
}

async fn list_alerts(tc: Rc<ToolContext>, a: ListAlertsArgs) -> ToolResult {
    let mut alerts = tc.ctx.host.alerts().await?;
    crate::order::sort_by_key(&mut alerts, |x| std::cmp::Reverse(x.timestamp));
    let total = alerts.len();
    let offset = a.offset.unwrap_or(0) as usize;
    let limit = page_bounds(a.limit, 100, 500);
    let out: Vec<AlertOut> = alerts
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|x| AlertOut {
            id: x.id,
            timestamp: x.timestamp,
            title: x.title.map(super::redact::text),
            path: x.path,
            message: x.message.map(super::redact::text),
        })
        .collect();
    let page = Page::new("list_alerts", offset, out.len(), total);
    ok(ListAlertsOut { alerts: out, page })
}

// ---------- remove_alert

pub const REMOVE_ALERT: ToolDef = tool! {
    name: "remove_alert",
    title: "Remove an alert",
    description: "Removes one alert by its id (from list_alerts).",
    input: RemoveAlertArgs,
    output: RemoveAlertOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: remove_alert,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct RemoveAlertArgs {
    /// The alert's id (`id` in list_alerts).
    pub id: String,
}

crate::fields::args!(RemoveAlertArgs { id: required });

#[derive(Debug, Serialize, JsonSchema)]
pub struct RemoveAlertOut {
    pub id: String,
    /// Always true.
    pub removed: bool,
    /// Alerts left.
    pub remaining: usize,
}

async fn remove_alert(tc: Rc<ToolContext>, a: RemoveAlertArgs) -> ToolResult {
    let alerts = tc.ctx.host.alerts().await?;
    if !alerts.iter().any(|x| x.id == a.id) {
        return Err(ToolError::failed(format!(
            "No alert with id '{}'; list_alerts shows the current ones.",
            a.id
        )));
    }
    tc.ctx.host.remove_alert(&a.id).await?;
    let remaining = tc.ctx.host.alerts().await?.len();
    ok(RemoveAlertOut {
        id: a.id,
        removed: true,
        remaining,
    })
}

/// Ids of the alerts in `before` that `after` no longer has.
pub fn ids_gone(before: Vec<Alert>, after: &[Alert]) -> Vec<String> {
    before
        .into_iter()
        .filter(|x| !after.iter().any(|y| y.id == x.id))
        .map(|x| x.id)
        .collect()
}

// ---------- clear_alerts

pub const CLEAR_ALERTS: ToolDef = tool! {
    name: "clear_alerts",
    title: "Clear all alerts",
    description: "Removes every Scrypted alert (the notifications list_alerts shows). Logs are kept; to remove only one alert use remove_alert. Answers the ids removed; with dry_run: true nothing is removed and the answer says what would be.",
    input: ClearAlertsArgs,
    output: ClearAlertsOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: clear_alerts,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ClearAlertsArgs {
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(ClearAlertsArgs { dry_run: optional });

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClearAlertsOut {
    /// Alerts removed (or that would be).
    pub removed: usize,
    /// Their ids.
    pub ids: Vec<String>,
    /// True when nothing was removed.
    pub dry_run: bool,
}

async fn clear_alerts(tc: Rc<ToolContext>, a: ClearAlertsArgs) -> ToolResult {
    let host = &tc.ctx.host;
    let before = host.alerts().await?;
    let ids: Vec<String> = if a.dry_run {
        before.into_iter().map(|x| x.id).collect()
    } else {
        host.clear_alerts().await?;
        ids_gone(before, &host.alerts().await?)
    };
    ok(ClearAlertsOut {
        removed: ids.len(),
        ids,
        dry_run: a.dry_run,
    })
}
