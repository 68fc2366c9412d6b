//! Plugins: `getComponent('plugins')` (docs/reference/scrypted-host.md §3.1, §10), by concern:
//! - `lifecycle`: list, inspect, reload, kill, disconnect clients;
//! - `npm`: install, update all, query the registry;
//! - `storage`: read and write a device's storage;
//! - `devices`: device ids, mixins and consoles as the plugins component manages them.

pub mod devices;
pub mod lifecycle;
pub mod npm;
pub mod storage;

use super::resolve::Snapshot;
use super::{ToolContext, ToolError};
use futures::future::join_all;
use serde_json::Value;
use std::collections::BTreeMap;

/// The installed version of a plugin, from its package.json.
async fn version_of(tc: &ToolContext, plugin_id: &str) -> Option<String> {
    tc.ctx
        .host
        .package_json(plugin_id)
        .await
        .ok()
        .and_then(|p| p.get("version").and_then(Value::as_str).map(String::from))
}

/// Installed plugins with their versions: plugin id → (root id, version).
async fn installed_versions(
    tc: &ToolContext,
) -> Result<BTreeMap<String, (String, Option<String>)>, ToolError> {
    let snap = Snapshot::load(tc).await?;
    let plugins = snap.plugins();
    let versions = join_all(plugins.iter().map(|(_, p)| version_of(tc, p))).await;
    Ok(plugins
        .into_iter()
        .zip(versions)
        .map(|((id, plugin_id), version)| (plugin_id, (id, version)))
        .collect())
}
