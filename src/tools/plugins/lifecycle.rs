//! Plugin processes: list, inspect, reload, kill, disconnect clients.

use super::version_of;
use crate::host::Deferred;
use crate::tools::resolve::{
    refuse_own_plugin, refuse_own_plugin_because, self_plugin_id, Snapshot,
};
use crate::tools::schema::{
    ok, page_bounds, tool, Page, PluginIdArgs, DESTRUCTIVE_IDEMPOTENT, READ,
};
use crate::tools::{ToolContext, ToolDef, ToolResult, SELF_ACTION_DELAY_MS};
use futures::future::join_all;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use std::rc::Rc;

// ---------- list_plugins

pub const LIST_PLUGINS: ToolDef = tool! {
    name: "list_plugins",
    title: "List plugins",
    description: "Lists the installed Scrypted plugins (devices with the ScryptedPlugin interface) with their npm package id, device id, name and installed version. Pages with limit/offset; `truncated: true` means call again with the given offset.",
    input: ListPluginsArgs,
    output: ListPluginsOut,
    hints: READ,
    scope: Read,
    run: list_plugins,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ListPluginsArgs {
    /// Most plugins to return (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many plugins to skip (for paging; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
}

crate::fields::args!(ListPluginsArgs {
    limit: optional,
    offset: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct PluginSummary {
    /// npm package name, used as plugin_id by the other tools.
    pub plugin_id: String,
    /// Device id of the plugin's root device.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Installed version (from its package.json); null when it could not be read.
    pub version: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListPluginsOut {
    pub plugins: Vec<PluginSummary>,
    /// Installed plugins in all.
    #[serde(flatten)]
    pub page: Page,
}

async fn list_plugins(tc: Rc<ToolContext>, a: ListPluginsArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    let mut plugins = snap.plugins();
    crate::order::sort_by(&mut plugins, |a, b| a.1.cmp(&b.1));
    let total = plugins.len();
    let offset = a.offset.unwrap_or(0) as usize;
    let limit = page_bounds(a.limit, 100, 500);
    let page: Vec<(String, String)> = plugins.into_iter().skip(offset).take(limit).collect();
    // One package.json read per listed plugin, in parallel.
    let versions = join_all(page.iter().map(|(_, p)| version_of(&tc, p))).await;
    let out: Vec<PluginSummary> = page
        .into_iter()
        .zip(versions)
        .map(|((id, plugin_id), version)| PluginSummary {
            name: snap.str_prop(&id, "name").map(String::from),
            plugin_id,
            id,
            version,
        })
        .collect();
    let page = Page::new("list_plugins", offset, out.len(), total);
    ok(ListPluginsOut { plugins: out, page })
}

// ---------- get_plugin_info

pub const GET_PLUGIN_INFO: ToolDef = tool! {
    name: "get_plugin_info",
    title: "Get plugin runtime info",
    description: "Runtime details of one installed plugin: process id (null when not running), connected clients, RPC object count, pending RPC calls, and a trimmed package.json. plugin_id is the npm package name (see list_plugins).",
    input: PluginIdArgs,
    output: PluginInfoOut,
    hints: READ,
    scope: Read,
    run: get_plugin_info,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct PluginInfoOut {
    pub plugin_id: String,
    /// Device id of the plugin's root device.
    pub id: String,
    /// Process id of the plugin host; null when the plugin is not running.
    pub pid: Option<Value>,
    /// Whether the plugin has a running process.
    pub running: bool,
    /// Connected engine.io (RPC) clients.
    pub clients_count: Option<Value>,
    /// Live RPC objects.
    pub rpc_objects: Option<Value>,
    /// RPC calls awaiting a result.
    pub pending_results: Option<Value>,
    /// Pending RPC calls by method.
    pub pending_result_counts: Option<Value>,
    /// package.json without dependency lists.
    pub package_json: Value,
}

/// package.json without the bulky dependency maps.
fn trim_package_json(p: &Value) -> Value {
    let mut out = Map::new();
    if let Some(obj) = p.as_object() {
        for key in [
            "name",
            "version",
            "description",
            "license",
            "author",
            "homepage",
            "keywords",
            "scrypted",
        ] {
            if let Some(v) = obj.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
    }
    Value::Object(out)
}

async fn get_plugin_info(tc: Rc<ToolContext>, a: PluginIdArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    let root = snap.require_plugin(&a.plugin_id)?;
    let info = tc.ctx.host.plugin_info(&a.plugin_id).await?;
    let field = |k: &str| info.get(k).cloned().filter(|v| !v.is_null());
    let pid = field("pid");
    ok(PluginInfoOut {
        plugin_id: a.plugin_id,
        id: field("id")
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or(root),
        running: pid.is_some(),
        pid,
        clients_count: field("clientsCount"),
        rpc_objects: field("rpcObjects"),
        pending_results: field("pendingResults"),
        pending_result_counts: field("pendingResultCounts"),
        package_json: trim_package_json(info.get("packageJson").unwrap_or(&Value::Null)),
    })
}

// ---------- reload_plugin

pub const RELOAD_PLUGIN: ToolDef = tool! {
    name: "reload_plugin",
    title: "Reload plugin",
    description: "Restarts a plugin's process (Scrypted `reload`). In-flight work of that plugin is interrupted. Reloading this MCP plugin itself is allowed: the answer is sent first and the reload runs about 1.5 s later, which ends the current MCP session (reconnect afterwards).",
    input: PluginIdArgs,
    output: ReloadOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: reload_plugin,
};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReloadStatus {
    Reloaded,
    Scheduled,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReloadOut {
    pub plugin_id: String,
    /// "reloaded" (done), or "scheduled" for this MCP plugin (runs after the answer).
    pub status: ReloadStatus,
    /// Delay before a scheduled reload, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
    pub message: String,
}

async fn reload_plugin(tc: Rc<ToolContext>, a: PluginIdArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_plugin(&a.plugin_id)?;
    if a.plugin_id == self_plugin_id() {
        tc.ctx.host.defer(
            SELF_ACTION_DELAY_MS,
            Deferred::ReloadPlugin {
                plugin_id: a.plugin_id.clone(),
            },
        );
        return ok(ReloadOut {
            plugin_id: a.plugin_id,
            status: ReloadStatus::Scheduled,
            delay_ms: Some(SELF_ACTION_DELAY_MS),
            message: format!(
                "This MCP plugin will reload in about {} s; the current MCP session ends then. Reconnect afterwards.",
                SELF_ACTION_DELAY_MS as f64 / 1000.0
            ),
        });
    }
    tc.ctx.host.reload_plugin(&a.plugin_id).await?;
    ok(ReloadOut {
        message: format!("Plugin {} was reloaded.", a.plugin_id),
        plugin_id: a.plugin_id,
        status: ReloadStatus::Reloaded,
        delay_ms: None,
    })
}

// ---------- kill_plugin

pub const KILL_PLUGIN: ToolDef = tool! {
    name: "kill_plugin",
    title: "Stop plugin process",
    description: "Kills a plugin's process (Scrypted `kill`); its devices stop working until it runs again. Scrypted takes the process's exit as unexpected and starts the plugin again by itself about 60 s later (reload_plugin starts it at once); to keep a plugin off, remove it in the Scrypted UI. Refused for this MCP plugin. Unknown plugin ids are reported as not found (Scrypted itself ignores them silently).",
    input: PluginIdArgs,
    output: KillOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Admin,
    run: kill_plugin,
};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KillStatus {
    Killed,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KillOut {
    pub plugin_id: String,
    /// Always "killed".
    pub status: KillStatus,
    pub message: String,
}

async fn kill_plugin(tc: Rc<ToolContext>, a: PluginIdArgs) -> ToolResult {
    refuse_own_plugin(&a.plugin_id, "killing it")?;
    let snap = Snapshot::load(&tc).await?;
    snap.require_plugin(&a.plugin_id)?;
    tc.ctx.host.kill_plugin(&a.plugin_id).await?;
    ok(KillOut {
        message: format!(
            "Plugin {} was stopped. Scrypted starts it again by itself in about 60 s; reload_plugin starts it at once.",
            a.plugin_id
        ),
        plugin_id: a.plugin_id,
        status: KillStatus::Killed,
    })
}

// ---------- disconnect_clients

pub const DISCONNECT_CLIENTS: ToolDef = tool! {
    name: "disconnect_clients",
    title: "Disconnect a plugin's clients",
    description: "Closes the engine.io (RPC) client connections of one plugin's host (`disconnectClients`), e.g. browser consoles and remote RPC clients; they reconnect on their own. Does not affect HTTP requests such as this MCP endpoint. Refused for this MCP plugin.",
    input: PluginIdArgs,
    output: DisconnectOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: disconnect_clients,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct DisconnectOut {
    pub plugin_id: String,
    /// Always true.
    pub disconnected: bool,
}

async fn disconnect_clients(tc: Rc<ToolContext>, a: PluginIdArgs) -> ToolResult {
    // Its console watchers are how an admin sees this plugin's warnings (token reuse).
    refuse_own_plugin_because(
        &a.plugin_id,
        "disconnecting its clients",
        "would cut off the consoles that show its security warnings",
    )?;
    let snap = Snapshot::load(&tc).await?;
    snap.require_plugin(&a.plugin_id)?;
    tc.ctx.host.disconnect_clients(&a.plugin_id).await?;
    ok(DisconnectOut {
        plugin_id: a.plugin_id,
        disconnected: true,
    })
}
