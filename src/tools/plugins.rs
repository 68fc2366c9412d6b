//! Plugins: `getComponent('plugins')` (docs/reference/scrypted-host.md §3.1, §10).

use super::redact::{redact_map, OMITTED, REDACTED};
use super::resolve::{refuse_own_device, refuse_own_plugin, self_plugin_id, Snapshot};
use super::schema::{
    ok, page_bounds, tool, Page, DESTRUCTIVE, DESTRUCTIVE_IDEMPOTENT, READ, READ_OPEN,
};
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use crate::host::Deferred;
use futures::future::join_all;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// Delay before a deferred self-ending action runs, so the answer leaves first.
pub const SELF_ACTION_DELAY_MS: u32 = 1500;

pub fn tools() -> Vec<ToolDef> {
    vec![
        tool! {
            name: "list_plugins",
            title: "List plugins",
            description: "Lists the installed Scrypted plugins (devices with the ScryptedPlugin interface) with their npm package id, device id, name and installed version. Pages with limit/offset; `truncated: true` means call again with the given offset.",
            input: ListPluginsArgs,
            output: ListPluginsOut,
            hints: READ,
            run: list_plugins,
        },
        tool! {
            name: "get_plugin_info",
            title: "Get plugin runtime info",
            description: "Runtime details of one installed plugin: process id (null when not running), connected clients, RPC object count, pending RPC calls, and a trimmed package.json. plugin_id is the npm package name (see list_plugins).",
            input: PluginIdArgs,
            output: PluginInfoOut,
            hints: READ,
            run: get_plugin_info,
        },
        tool! {
            name: "reload_plugin",
            title: "Reload plugin",
            description: "Restarts a plugin's process (Scrypted `reload`). In-flight work of that plugin is interrupted. Reloading this MCP plugin itself is allowed: the answer is sent first and the reload runs about 1.5 s later, which ends the current MCP session (reconnect afterwards).",
            input: PluginIdArgs,
            output: ReloadOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: reload_plugin,
        },
        tool! {
            name: "kill_plugin",
            title: "Stop plugin process",
            description: "Kills a plugin's process (Scrypted `kill`); its devices stop working until the plugin is reloaded (reload_plugin) or restarted on demand by Scrypted. Refused for this MCP plugin. Unknown plugin ids are reported as not found (Scrypted itself ignores them silently).",
            input: PluginIdArgs,
            output: KillOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: kill_plugin,
        },
        tool! {
            name: "install_plugin",
            title: "Install or update a plugin from npm",
            description: "Installs an npm package as a Scrypted plugin (Scrypted `installNpm`), or replaces the installed version. Needs internet access from the server; the package must be a Scrypted plugin. The server returns nothing, so this tool reads the plugin back afterwards and reports its device id and the version before and after. Refused for this MCP plugin itself (installing it would restart the server you are talking to mid-call); update it from the Scrypted UI.",
            input: InstallArgs,
            output: InstallOut,
            hints: super::Hints { read_only: false, destructive: true, idempotent: true, open_world: true },
            run: install_plugin,
        },
        tool! {
            name: "update_plugins",
            title: "Update all plugins",
            description: "Updates every installed plugin to its npm `latest` (Scrypted `updatePlugins`). Slow; needs internet. WARNING: Scrypted also UNINSTALLS plugins whose latest version is deprecated on npm. The server returns nothing, so this tool compares the installed plugins and versions before and after and reports what was updated, added and removed. When this MCP plugin itself has an update (or its npm state cannot be read), updating would restart it mid-answer: the tool then answers first with status \"scheduled\", the update runs shortly after, the session ends, and list_plugins after reconnecting shows the result.",
            input: NoArgs,
            output: UpdateOut,
            hints: super::Hints { read_only: false, destructive: true, idempotent: false, open_world: true },
            run: update_plugins,
        },
        tool! {
            name: "npm_info",
            title: "Query the npm registry",
            description: "GETs a path on the npm registry through Scrypted (`npmInfo`) and returns the JSON. Examples: '@scrypted/hue' (package document), '@scrypted/hue/latest' (latest manifest), '-/v1/search?text=keywords:scrypted' (plugin search, as the Scrypted UI does). Large `readme` fields and long version lists are trimmed; `trimmed` says what was left out.",
            input: NpmInfoArgs,
            output: NpmInfoOut,
            hints: READ_OPEN,
            run: npm_info,
        },
        tool! {
            name: "rename_device_id",
            title: "Change a device's id",
            description: "Changes a device's Scrypted id (`renameDeviceId`): Scrypted kills the owning plugin, waits 2 s, re-inserts the device under the new id (state kept) and reloads the plugin. Anything that referenced the old id (mixins, automations) must be updated by hand. Refused when the new id is already taken (Scrypted does not check and would overwrite that device) and for this MCP plugin's devices.",
            input: RenameArgs,
            output: RenameOut,
            hints: DESTRUCTIVE,
            run: rename_device_id,
        },
        tool! {
            name: "set_mixins",
            title: "Set a device's mixins",
            description: "Replaces the full list of mixin provider ids applied to a device (`setMixins`; not additive: to add one, read the current list with get_device and send it with the new id). Every mixin id must be an existing device; a device cannot be its own mixin. Refused for this MCP plugin's devices. Returns the list before and after.",
            input: SetMixinsArgs,
            output: SetMixinsOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: set_mixins,
        },
        tool! {
            name: "get_storage",
            title: "Read a device's storage",
            description: "Reads a device's key-value storage (`getStorage`), where plugins keep their configuration and often passwords and API keys. Values whose key looks secret (token, secret, auth, password, key, credential, private, cookie, salt) come back as \"[REDACTED]\" unless reveal_secrets is true; set_storage keeps the current value of any key sent with that placeholder. Answers are capped at 64 KB: the largest values then come back as \"[OMITTED]\" (listed in omitted_keys; read them with keys: [...]), which set_storage also keeps. This MCP plugin's own storage is refused.",
            input: GetStorageArgs,
            output: GetStorageOut,
            hints: READ,
            run: get_storage,
        },
        tool! {
            name: "set_storage",
            title: "Write a device's storage",
            description: "Writes a device's storage (`setStorage`) and pushes it live into the owning plugin. By default the given map REPLACES the whole storage (keys you leave out are deleted); with merge: true the given keys are added or changed and the rest kept. A value of \"[REDACTED]\" or \"[OMITTED]\" keeps that key's current value, so a get_storage → edit → set_storage round trip never destroys a secret or a value left out of a capped answer. This MCP plugin's own storage is refused. Returns the key names added, removed and changed (never values).",
            input: SetStorageArgs,
            output: SetStorageOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: set_storage,
        },
        tool! {
            name: "get_id_for_native_id",
            title: "Find a device id by native id",
            description: "Returns the Scrypted device id of the device a plugin knows by `native_id` (`getIdForNativeId`), or of the plugin's own root device when native_id is omitted (`getIdForPluginId`). Fails with a clear message when there is no such device.",
            input: NativeIdArgs,
            output: NativeIdOut,
            hints: READ,
            run: get_id_for_native_id,
        },
        tool! {
            name: "disconnect_clients",
            title: "Disconnect a plugin's clients",
            description: "Closes the engine.io (RPC) client connections of one plugin's host (`disconnectClients`), e.g. browser consoles and remote RPC clients; they reconnect on their own. Does not affect HTTP requests such as this MCP endpoint.",
            input: PluginIdArgs,
            output: DisconnectOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: disconnect_clients,
        },
        tool! {
            name: "clear_console",
            title: "Clear a device's console",
            description: "Empties the console (debug output) buffer of a device (`clearConsole`). The persisted logs (get_logs) are not touched.",
            input: DeviceIdArgs,
            output: ClearConsoleOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: clear_console,
        },
    ]
}

// ---------- shared argument types

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginIdArgs {
    /// Plugin id: its npm package name, e.g. "@scrypted/hue" (see list_plugins).
    pub plugin_id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceIdArgs {
    /// Scrypted device id (a numeric string such as "12"; see list_devices).
    pub id: String,
}

// ---------- list_plugins

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPluginsArgs {
    /// Most plugins to return (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many plugins to skip (for paging; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
}

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

async fn list_plugins(tc: Rc<ToolContext>, a: ListPluginsArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    let mut plugins = snap.plugins();
    plugins.sort_by(|a, b| a.1.cmp(&b.1));
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

// ---------- reload_plugin / kill_plugin

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReloadOut {
    pub plugin_id: String,
    /// "reloaded" (done), or "scheduled" for this MCP plugin (runs after the answer).
    pub status: String,
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
            status: "scheduled".into(),
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
        status: "reloaded".into(),
        delay_ms: None,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KillOut {
    pub plugin_id: String,
    /// Always "killed".
    pub status: String,
    pub message: String,
}

async fn kill_plugin(tc: Rc<ToolContext>, a: PluginIdArgs) -> ToolResult {
    refuse_own_plugin(&a.plugin_id, "killing it")?;
    let snap = Snapshot::load(&tc).await?;
    snap.require_plugin(&a.plugin_id)?;
    tc.ctx.host.kill_plugin(&a.plugin_id).await?;
    ok(KillOut {
        message: format!(
            "Plugin {} was stopped. Use reload_plugin to start it again.",
            a.plugin_id
        ),
        plugin_id: a.plugin_id,
        status: "killed".into(),
    })
}

// ---------- install_plugin / update_plugins

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallArgs {
    /// npm package name of the plugin, e.g. "@scrypted/hue".
    pub package: String,
    /// Version or dist-tag to install (default: latest).
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InstallOut {
    pub package: String,
    /// The version asked for, or null for latest.
    pub requested_version: Option<String>,
    /// "installed" (new), "updated" (version changed), "reinstalled" (same version).
    pub change: String,
    /// Device id of the plugin's root device.
    pub id: String,
    /// Installed version before the call; null when it was not installed.
    pub version_before: Option<String>,
    /// Installed version after the call, read back from the server.
    pub version_after: Option<String>,
    pub message: String,
}

/// npm package name rules (lower case, optional scope, ≤ 214 characters).
pub fn valid_npm_name(name: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && !p.starts_with('_')
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
    };
    if name.is_empty() || name.len() > 214 {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, pkg)) => part_ok(scope) && part_ok(pkg),
            None => false,
        },
        None => part_ok(name),
    }
}

fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-+~^<>=*".contains(c))
}

async fn install_plugin(tc: Rc<ToolContext>, a: InstallArgs) -> ToolResult {
    if !valid_npm_name(&a.package) {
        return Err(ToolError::InvalidParams(format!(
            "'{}' is not a valid npm package name (lower case, optional @scope/, e.g. \"@scrypted/hue\").",
            a.package
        )));
    }
    if let Some(v) = &a.version {
        if !valid_version(v) {
            return Err(ToolError::InvalidParams(format!(
                "'{v}' is not a valid version or dist-tag."
            )));
        }
    }
    if a.package == self_plugin_id() {
        return Err(ToolError::failed(format!(
            "Refused: '{}' is this MCP plugin; installing it restarts the server you are talking to before it can answer. Update it from the Scrypted web UI.",
            a.package
        )));
    }
    let snap = Snapshot::load(&tc).await?;
    let version_before = match snap.plugin_root(&a.package) {
        Some(_) => version_of(&tc, &a.package).await,
        None => None,
    };
    let was_installed = snap.plugin_root(&a.package).is_some();
    tc.ctx
        .host
        .install_npm(&a.package, a.version.as_deref())
        .await
        .map_err(|e| {
            ToolError::failed(format!(
                "Installing {} failed: {}. Check the package name and version (npm_info can look them up) and that the server can reach the npm registry.",
                a.package, e.message
            ))
        })?;
    let Some(id) = tc.ctx.host.id_for_plugin_id(&a.package).await? else {
        return Err(ToolError::failed(format!(
            "Scrypted accepted the install of {} but no plugin with that id exists afterwards; the package is probably not a Scrypted plugin (it needs dist/plugin.zip).",
            a.package
        )));
    };
    let version_after = version_of(&tc, &a.package).await;
    let change = if !was_installed {
        "installed"
    } else if version_before != version_after {
        "updated"
    } else {
        "reinstalled"
    };
    ok(InstallOut {
        message: format!(
            "{} {}: {} → {}.",
            a.package,
            change,
            version_before.as_deref().unwrap_or("not installed"),
            version_after.as_deref().unwrap_or("unknown version")
        ),
        package: a.package,
        requested_version: a.version,
        change: change.into(),
        id,
        version_before,
        version_after,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionChange {
    pub plugin_id: String,
    /// Version before the update (null if unknown or not installed).
    pub before: Option<String>,
    /// Version after the update (null if uninstalled or unknown).
    pub after: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UpdateOut {
    /// "updated" (done, changes below), or "scheduled" (this MCP plugin updates too, so the
    /// update runs after this answer; the lists are then empty).
    pub status: String,
    /// Plugins whose version changed.
    pub updated: Vec<VersionChange>,
    /// Plugins that were installed before and are gone now (deprecated on npm).
    pub removed: Vec<VersionChange>,
    /// Plugins that appeared (dependencies installed along the way).
    pub added: Vec<VersionChange>,
    /// Plugins left at the same version.
    pub unchanged: usize,
    pub message: String,
}

/// Whether `updatePlugins` would replace or remove this plugin (and so end our process
/// before the answer leaves): its npm `latest` differs from what runs, or is deprecated.
/// Unknown counts as yes: answering first is the safe side.
async fn self_update_pending(tc: &ToolContext, installed: Option<&String>) -> bool {
    let Ok(doc) = tc.ctx.host.npm_info(self_plugin_id()).await else {
        return true;
    };
    let Some(latest) = doc.pointer("/dist-tags/latest").and_then(Value::as_str) else {
        return true;
    };
    let deprecated = doc
        .get("versions")
        .and_then(|v| v.get(latest))
        .and_then(|m| m.get("deprecated"))
        .is_some();
    deprecated || installed.map(String::as_str) != Some(latest)
}

async fn update_plugins(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let before = installed_versions(&tc).await?;
    let own = before.get(self_plugin_id()).and_then(|(_, v)| v.as_ref());
    if self_update_pending(&tc, own).await {
        tc.ctx
            .host
            .defer(SELF_ACTION_DELAY_MS, Deferred::UpdatePlugins);
        return ok(UpdateOut {
            status: "scheduled".into(),
            updated: Vec::new(),
            removed: Vec::new(),
            added: Vec::new(),
            unchanged: 0,
            message: format!(
                "This MCP plugin has an update too, so updating now would cut this answer off. The update of every plugin starts in about {} s; the MCP session ends when this plugin restarts. Reconnect afterwards and call list_plugins to see the versions.",
                SELF_ACTION_DELAY_MS as f64 / 1000.0
            ),
        });
    }
    tc.ctx.host.update_plugins().await?;
    let after = installed_versions(&tc).await?;
    let mut updated = Vec::new();
    let mut removed = Vec::new();
    let mut added = Vec::new();
    let mut unchanged = 0;
    let ids: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for id in ids {
        let b = before.get(id).map(|(_, v)| v.clone());
        let a = after.get(id).map(|(_, v)| v.clone());
        match (b, a) {
            (Some(b), Some(a)) if a == b => unchanged += 1,
            (Some(b), Some(a)) => updated.push(VersionChange {
                plugin_id: id.clone(),
                before: b,
                after: a,
            }),
            (Some(b), None) => removed.push(VersionChange {
                plugin_id: id.clone(),
                before: b,
                after: None,
            }),
            (None, Some(a)) => added.push(VersionChange {
                plugin_id: id.clone(),
                before: None,
                after: a,
            }),
            (None, None) => {}
        }
    }
    ok(UpdateOut {
        status: "updated".into(),
        message: format!(
            "{} updated, {} removed, {} added, {} unchanged.",
            updated.len(),
            removed.len(),
            added.len(),
            unchanged
        ),
        updated,
        removed,
        added,
        unchanged,
    })
}

// ---------- npm_info

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NpmInfoArgs {
    /// Registry path without the registry host, e.g. "@scrypted/hue",
    /// "@scrypted/hue/latest" or "-/v1/search?text=keywords:scrypted".
    pub endpoint: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NpmInfoOut {
    pub endpoint: String,
    /// The registry's JSON answer (trimmed, see `trimmed`).
    pub result: Value,
    /// What was left out to keep the answer small.
    pub trimmed: Vec<String>,
}

/// Versions kept in full when a package document lists many.
const NPM_VERSIONS_KEPT: usize = 10;

fn trim_npm(mut v: Value, trimmed: &mut Vec<String>) -> Value {
    if let Some(obj) = v.as_object_mut() {
        if obj.remove("readme").is_some() {
            trimmed.push("readme".into());
        }
        let latest = obj
            .get("dist-tags")
            .and_then(|d| d.get("latest"))
            .and_then(Value::as_str)
            .map(String::from);
        if let Some(Value::Object(versions)) = obj.get_mut("versions") {
            for (_, manifest) in versions.iter_mut() {
                if let Some(m) = manifest.as_object_mut() {
                    m.remove("readme");
                }
            }
            if versions.len() > NPM_VERSIONS_KEPT {
                let all: Vec<String> = versions.keys().cloned().collect();
                let kept: Map<String, Value> = versions
                    .iter()
                    .filter(|(k, _)| Some(k.as_str()) == latest.as_deref())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                trimmed.push(format!(
                    "versions: {} manifests left out; only the latest is kept in full, all version numbers are in version_list",
                    all.len() - kept.len()
                ));
                *versions = kept;
                obj.insert("version_list".into(), json!(all));
            }
        }
        if obj.remove("time").is_some() {
            trimmed.push("time".into());
        }
    }
    v
}

async fn npm_info(tc: Rc<ToolContext>, a: NpmInfoArgs) -> ToolResult {
    let endpoint = a.endpoint.trim().trim_start_matches('/').to_string();
    if endpoint.is_empty()
        || endpoint.contains("://")
        || endpoint.contains("..")
        || endpoint.chars().any(char::is_whitespace)
    {
        return Err(ToolError::InvalidParams(format!(
            "'{}' is not a registry path: give a path such as \"@scrypted/hue\" or \"-/v1/search?text=keywords:scrypted\", without the registry host.",
            a.endpoint
        )));
    }
    let raw = tc.ctx.host.npm_info(&endpoint).await.map_err(|e| {
        ToolError::failed(format!(
            "The npm registry did not answer {endpoint}: {}. Check the package name (it is case-sensitive) or search with \"-/v1/search?text=<words>\".",
            e.message
        ))
    })?;
    let mut trimmed = Vec::new();
    let result = trim_npm(raw, &mut trimmed);
    ok(NpmInfoOut {
        endpoint,
        result,
        trimmed,
    })
}

// ---------- rename_device_id

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameArgs {
    /// Current device id.
    pub id: String,
    /// New device id; must not be in use.
    pub new_id: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RenameOut {
    pub id: String,
    pub new_id: String,
    /// Plugin that owns the device (it was restarted).
    pub plugin_id: Option<String>,
    pub message: String,
}

async fn rename_device_id(tc: Rc<ToolContext>, a: RenameArgs) -> ToolResult {
    let new_id = a.new_id.trim();
    if new_id.is_empty() || new_id.len() > 128 || new_id.chars().any(char::is_whitespace) {
        return Err(ToolError::InvalidParams(
            "new_id must be 1 to 128 characters without spaces.".into(),
        ));
    }
    if new_id == a.id {
        return Err(ToolError::failed(
            "new_id is the same as id; nothing to do.",
        ));
    }
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "renaming it").await?;
    if snap.device(new_id).is_some() {
        return Err(ToolError::failed(format!(
            "Refused: id '{new_id}' is already used by device '{}'. Scrypted does not check and would overwrite it; pick a free id.",
            snap.str_prop(new_id, "name").unwrap_or("?")
        )));
    }
    let plugin_id = snap.plugin_id_of(&a.id).map(String::from);
    tc.ctx.host.rename_device_id(&a.id, new_id).await?;
    ok(RenameOut {
        message: format!(
            "Device {} is now {new_id}; its plugin {} was restarted. Update anything that referenced the old id.",
            a.id,
            plugin_id.as_deref().unwrap_or("?")
        ),
        id: a.id,
        new_id: new_id.to_string(),
        plugin_id,
    })
}

// ---------- set_mixins

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMixinsArgs {
    /// Device id whose mixins are set.
    pub id: String,
    /// The complete new list of mixin provider device ids (replaces the current list;
    /// [] removes all mixins).
    pub mixins: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SetMixinsOut {
    pub id: String,
    /// Mixins before the call.
    pub before: Vec<String>,
    /// Mixins after the call, read back from the server.
    pub after: Vec<String>,
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

async fn set_mixins(tc: Rc<ToolContext>, a: SetMixinsArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "changing its mixins").await?;
    let mut mixins: Vec<String> = Vec::new();
    for m in &a.mixins {
        if m == &a.id {
            return Err(ToolError::failed(format!(
                "Device {m} cannot be a mixin of itself."
            )));
        }
        if snap.device(m).is_none() {
            return Err(ToolError::failed(format!(
                "Mixin '{m}' is not a device id; use list_devices with interface \"MixinProvider\" to find mixin providers."
            )));
        }
        if snap.plugin_id_of(m) == Some(self_plugin_id()) {
            return Err(ToolError::failed(format!(
                "Refused: mixin '{m}' belongs to this MCP plugin."
            )));
        }
        if !mixins.contains(m) {
            mixins.push(m.clone());
        }
    }
    let before = string_list(snap.prop(&a.id, "mixins"));
    tc.ctx.host.set_mixins(&a.id, mixins).await?;
    let after_snap = Snapshot::load(&tc).await?;
    let after = string_list(after_snap.prop(&a.id, "mixins"));
    ok(SetMixinsOut {
        id: a.id,
        before,
        after,
    })
}

// ---------- get_storage / set_storage

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetStorageArgs {
    /// Scrypted device id (see list_devices).
    pub id: String,
    /// Return secret-looking values in clear text (default false: they come back as
    /// "[REDACTED]"). Only set this when the user explicitly needs the secret.
    #[serde(default)]
    pub reveal_secrets: bool,
    /// Only these keys (default all): how to read values a capped answer left out.
    #[serde(default)]
    pub keys: Option<Vec<String>>,
}

/// Largest storage answer, in bytes of keys and values; larger values are left out.
pub const STORAGE_OUTPUT_BYTES: usize = 64 * 1024;

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetStorageOut {
    pub id: String,
    /// Key → value; secret-looking values are "[REDACTED]" unless reveal_secrets.
    pub storage: BTreeMap<String, String>,
    /// Keys whose values were redacted.
    pub redacted_keys: Vec<String>,
    pub count: usize,
    /// Keys whose values were left out (shown as "[OMITTED]") to keep the answer under
    /// 64 KB, largest first.
    pub omitted_keys: Vec<String>,
    /// True when values were left out; see `next`.
    pub truncated: bool,
    /// How to read the values left out, when truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Replaces the largest values with [`OMITTED`] until the map fits `budget` bytes.
fn cap_values(storage: &mut BTreeMap<String, String>, budget: usize) -> Vec<String> {
    let size = |m: &BTreeMap<String, String>| m.iter().map(|(k, v)| k.len() + v.len()).sum();
    let mut total: usize = size(storage);
    let mut by_size: Vec<(usize, String)> =
        storage.iter().map(|(k, v)| (v.len(), k.clone())).collect();
    by_size.sort_by(|a, b| b.cmp(a));
    let mut omitted = Vec::new();
    for (len, key) in by_size {
        if total <= budget {
            break;
        }
        total = total - len + OMITTED.len();
        storage.insert(key.clone(), OMITTED.to_string());
        omitted.push(key);
    }
    omitted
}

async fn get_storage(tc: Rc<ToolContext>, a: GetStorageArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "reading its storage").await?;
    let mut storage = tc.ctx.host.get_storage(&a.id).await?;
    if let Some(keys) = &a.keys {
        storage.retain(|k, _| keys.contains(k));
    }
    let (mut storage, redacted_keys) = if a.reveal_secrets {
        (storage, Vec::new())
    } else {
        redact_map(&storage)
    };
    let omitted_keys = cap_values(&mut storage, STORAGE_OUTPUT_BYTES);
    let next = (!omitted_keys.is_empty()).then(|| {
        format!(
            "Values of omitted_keys were left out to keep this answer under {} KB. Read them with get_storage and keys: [...] (a few at a time). set_storage keeps the current value of any key sent as \"{OMITTED}\".",
            STORAGE_OUTPUT_BYTES / 1024
        )
    });
    ok(GetStorageOut {
        id: a.id,
        count: storage.len(),
        storage,
        redacted_keys,
        truncated: next.is_some(),
        omitted_keys,
        next,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStorageArgs {
    /// Scrypted device id (see list_devices).
    pub id: String,
    /// Key → string value. A value of "[REDACTED]" or "[OMITTED]" keeps that key's
    /// current value.
    pub storage: BTreeMap<String, String>,
    /// false (default): `storage` replaces the whole map, deleting keys left out.
    /// true: only the given keys are added or changed.
    #[serde(default)]
    pub merge: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SetStorageOut {
    pub id: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
    /// Keys sent as "[REDACTED]" or "[OMITTED]" whose current value was kept.
    pub kept_secret_keys: Vec<String>,
    /// Keys stored after the write.
    pub count: usize,
}

async fn set_storage(tc: Rc<ToolContext>, a: SetStorageArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "writing its storage").await?;
    let current = tc.ctx.host.get_storage(&a.id).await?;
    let mut next = if a.merge {
        current.clone()
    } else {
        BTreeMap::new()
    };
    let mut kept = Vec::new();
    for (k, v) in a.storage {
        if v == REDACTED || v == OMITTED {
            let Some(cur) = current.get(&k) else {
                return Err(ToolError::failed(format!(
                    "Key '{k}' was sent as {v} but has no current value to keep; give a real value or leave the key out. Nothing was written."
                )));
            };
            kept.push(k.clone());
            next.insert(k, cur.clone());
        } else {
            next.insert(k, v);
        }
    }
    let added = next
        .keys()
        .filter(|k| !current.contains_key(*k))
        .cloned()
        .collect();
    let removed = current
        .keys()
        .filter(|k| !next.contains_key(*k))
        .cloned()
        .collect();
    let changed = next
        .iter()
        .filter(|(k, v)| current.get(*k).is_some_and(|c| c != *v))
        .map(|(k, _)| k.clone())
        .collect();
    let count = next.len();
    tc.ctx.host.set_storage(&a.id, next).await?;
    ok(SetStorageOut {
        id: a.id,
        added,
        removed,
        changed,
        kept_secret_keys: kept,
        count,
    })
}

// ---------- get_id_for_native_id

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeIdArgs {
    /// Plugin id (npm package name) that owns the device.
    pub plugin_id: String,
    /// The plugin's own id for the device; omit for the plugin's root device.
    #[serde(default)]
    pub native_id: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NativeIdOut {
    pub plugin_id: String,
    pub native_id: Option<String>,
    /// The Scrypted device id.
    pub id: String,
}

async fn get_id_for_native_id(tc: Rc<ToolContext>, a: NativeIdArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_plugin(&a.plugin_id)?;
    let found = match &a.native_id {
        Some(native) => tc.ctx.host.id_for_native_id(&a.plugin_id, native).await?,
        None => tc.ctx.host.id_for_plugin_id(&a.plugin_id).await?,
    };
    let Some(id) = found else {
        return Err(ToolError::failed(format!(
            "Plugin {} has no device with native id '{}'. list_devices with plugin_id shows its devices and their native ids.",
            a.plugin_id,
            a.native_id.as_deref().unwrap_or("")
        )));
    };
    ok(NativeIdOut {
        plugin_id: a.plugin_id,
        native_id: a.native_id,
        id,
    })
}

// ---------- disconnect_clients / clear_console

#[derive(Debug, Serialize, JsonSchema)]
pub struct DisconnectOut {
    pub plugin_id: String,
    /// Always true.
    pub disconnected: bool,
}

async fn disconnect_clients(tc: Rc<ToolContext>, a: PluginIdArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_plugin(&a.plugin_id)?;
    tc.ctx.host.disconnect_clients(&a.plugin_id).await?;
    ok(DisconnectOut {
        plugin_id: a.plugin_id,
        disconnected: true,
    })
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClearConsoleOut {
    pub id: String,
    /// Always true.
    pub cleared: bool,
}

async fn clear_console(tc: Rc<ToolContext>, a: DeviceIdArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    tc.ctx.host.clear_console(&a.id).await?;
    ok(ClearConsoleOut {
        id: a.id,
        cleared: true,
    })
}
