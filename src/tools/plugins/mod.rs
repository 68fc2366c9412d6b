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

/// The installed version of a plugin, from its package.json.
async fn version_of(tc: &ToolContext, plugin_id: &str) -> Option<String> {
    tc.ctx
        .host
        .package_json(plugin_id)
        .await
        .ok()
        .and_then(|p| p.get("version").and_then(Value::as_str).map(String::from))
}

/// Installed plugins with their versions: (plugin id, version), one entry a plugin. A
/// list, not a map: `update_plugins` compares two of them once, and a `BTreeMap` of this
/// value type was its own copy of the B-tree code in the wasm (issue 12).
async fn installed_versions(tc: &ToolContext) -> Result<Vec<(String, Option<String>)>, ToolError> {
    let snap = Snapshot::load(tc).await?;
    let plugins = snap.plugins();
    let versions = join_all(plugins.iter().map(|(_, p)| version_of(tc, p))).await;
    Ok(plugins
        .into_iter()
        .zip(versions)
        .map(|((_, plugin_id), version)| (plugin_id, version))
        .collect())
}

/// The version `installed` lists for `plugin_id`: `None` when the plugin is not installed,
/// `Some(None)` when its version is unknown.
fn installed<'a>(
    installed: &'a [(String, Option<String>)],
    plugin_id: &str,
) -> Option<&'a Option<String>> {
    installed
        .iter()
        .find(|(id, _)| id == plugin_id)
        .map(|(_, version)| version)
}
