//! The Host trait: every Scrypted capability the plugin uses, one async method each.
//!
//! Implementations: `wasm::JsHost` (imported JS functions, see `js-shim/host.js`, which has
//! one entry per method here under the camelCase name given in each doc line), the Rust
//! fake in `tests/common`, and, behind the same `host.js`, the dev host's simulated
//! components. Adding a capability means: a method here, an entry in `host.js`, a
//! simulation in `js-shim/dev/`, and the fake — in one change.
//!
//! Results keep Scrypted's own shapes (reference/scrypted-host.md §3); quirks such as
//! "unknown id → TypeError" are *not* smoothed over here, because the tools must handle
//! them the way the real host behaves.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A failed host call. Scrypted's RPC keeps only the message (`e.code` is lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostError {
    pub message: String,
}

impl HostError {
    pub fn new(message: impl Into<String>) -> Self {
        HostError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type HostResult<T> = Result<T, HostError>;

/// `logger.getLogs()` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    #[serde(default)]
    pub title: Option<String>,
    pub timestamp: f64,
    pub level: String,
    pub message: String,
    #[serde(default)]
    pub path: Option<String>,
}

/// `alerts.getAlerts()` entry (`ScryptedAlert`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    #[serde(rename = "_id")]
    pub id: String,
    pub timestamp: f64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `users.getAllUsers()` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub admin: bool,
}

/// `getComponent('SCRYPTED_INSECURE_PORT' / 'SCRYPTED_SECURE_PORT')`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerPorts {
    pub insecure: u16,
    pub secure: u16,
}

/// `systemManager.getSystemState()`: device id → property → `{value, ...}`.
pub type SystemState = BTreeMap<String, Map<String, Value>>;

/// An action that ends our own process (or may): the host runs it from a timer after
/// `delay_ms`, so the MCP answer has left before the process dies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "action",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Deferred {
    RestartServer,
    UpdateServer,
    ReloadPlugin {
        plugin_id: String,
    },
    /// Base64 of the backup zip.
    RestoreBackup {
        data: String,
    },
    /// `plugins.updatePlugins()`, when it would update or remove this plugin.
    UpdatePlugins,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

#[async_trait(?Send)]
pub trait Host {
    // ---- endpoint and ports
    /// `endpointManager.getLocalEndpoint(undefined, {public: true, insecure})` — `localEndpoint`
    async fn local_endpoint(&self, insecure: bool) -> HostResult<String>;
    /// the port components — `serverPorts`
    async fn server_ports(&self) -> HostResult<ServerPorts>;

    // ---- devices
    /// `systemManager.getSystemState()` — `systemState`
    async fn system_state(&self) -> HostResult<SystemState>;
    /// `plugins.getDeviceInfo(id)`: `{mixins, pluginId, storage, nativeId}`; throws for unknown ids — `deviceInfo`
    async fn device_info(&self, id: &str) -> HostResult<Value>;
    /// `systemManager.getDeviceById(id)[method](...args)` — `callDeviceMethod`
    async fn call_device_method(
        &self,
        id: &str,
        method: &str,
        args: Vec<Value>,
    ) -> HostResult<Value>;
    /// `systemManager.removeDevice(id)` — `removeDevice`
    async fn remove_device(&self, id: &str) -> HostResult<()>;

    // ---- plugins (`getComponent('plugins')`)
    /// `getPackageJson(pluginId)` — `packageJson`
    async fn package_json(&self, plugin_id: &str) -> HostResult<Value>;
    /// `getPluginInfo(pluginId)`; unknown id → TypeError — `pluginInfo`
    async fn plugin_info(&self, plugin_id: &str) -> HostResult<Value>;
    /// `reload(pluginId)` — `reloadPlugin`
    async fn reload_plugin(&self, plugin_id: &str) -> HostResult<()>;
    /// `kill(pluginId)`; silent for unknown ids — `killPlugin`
    async fn kill_plugin(&self, plugin_id: &str) -> HostResult<()>;
    /// `installNpm(pkg, version?)`; returns nothing — `installNpm`
    async fn install_npm(&self, package: &str, version: Option<&str>) -> HostResult<()>;
    /// `updatePlugins()`; returns nothing, may uninstall deprecated plugins — `updatePlugins`
    async fn update_plugins(&self) -> HostResult<()>;
    /// `npmInfo(endpoint)` — `npmInfo`
    async fn npm_info(&self, endpoint: &str) -> HostResult<Value>;
    /// `renameDeviceId(id, newId)` — `renameDeviceId`
    async fn rename_device_id(&self, id: &str, new_id: &str) -> HostResult<()>;
    /// `setMixins(id, mixins)`; full replace — `setMixins`
    async fn set_mixins(&self, id: &str, mixins: Vec<String>) -> HostResult<()>;
    /// `getStorage(id)`; `{}` for unknown ids — `getStorage`
    async fn get_storage(&self, id: &str) -> HostResult<BTreeMap<String, String>>;
    /// `setStorage(id, map)`; full replace; unknown id → TypeError — `setStorage`
    async fn set_storage(&self, id: &str, storage: BTreeMap<String, String>) -> HostResult<()>;
    /// `getIdForPluginId(pluginId)` — `idForPluginId`
    async fn id_for_plugin_id(&self, plugin_id: &str) -> HostResult<Option<String>>;
    /// `getIdForNativeId(pluginId, nativeId)` — `idForNativeId`
    async fn id_for_native_id(
        &self,
        plugin_id: &str,
        native_id: &str,
    ) -> HostResult<Option<String>>;
    /// `disconnectClients(pluginId)` — `disconnectClients`
    async fn disconnect_clients(&self, plugin_id: &str) -> HostResult<()>;
    /// `clearConsole(id)`; unknown id → TypeError — `clearConsole`
    async fn clear_console(&self, id: &str) -> HostResult<()>;

    // ---- logs and alerts
    /// `logger.getLogs()`, or `logger.getLogger('device').getLogger(id).getLogs()` — `logs`
    async fn logs(&self, device_id: Option<&str>) -> HostResult<Vec<LogEntry>>;
    /// `logger.clear()` (also deletes alerts under that path) — `clearLogs`
    async fn clear_logs(&self, device_id: Option<&str>) -> HostResult<()>;
    /// `alerts.getAlerts()` — `alerts`
    async fn alerts(&self) -> HostResult<Vec<Alert>>;
    /// `alerts.removeAlert({_id})` — `removeAlert`
    async fn remove_alert(&self, id: &str) -> HostResult<()>;
    /// `alerts.clearAlerts()` — `clearAlerts`
    async fn clear_alerts(&self) -> HostResult<()>;

    // ---- server
    /// `info.getVersion()` — `serverVersion`
    async fn server_version(&self) -> HostResult<String>;
    /// `info.getScryptedEnv()` (holds secrets) — `scryptedEnv`
    async fn scrypted_env(&self) -> HostResult<BTreeMap<String, String>>;
    /// `env-control.getDotEnv()`; a missing file rejects with a message naming ENOENT — `dotEnv`
    async fn dotenv(&self) -> HostResult<String>;
    /// `env-control.setDotEnv(text)` — `setDotEnv`
    async fn set_dotenv(&self, text: &str) -> HostResult<()>;

    // ---- users (the raw `users` component; `tools/users.rs` decides when core's
    // `users` DeviceCreator and `user:<name>` devices are used instead, §3.4)
    /// `users.getAllUsers()` — `users`
    async fn users(&self) -> HostResult<Vec<User>>;
    /// `users.addUser(username, password, aclId)`; `None` = admin, a non-admin's `aclId`
    /// must be a core `ScryptedUser` device id — `addUser`
    async fn add_user(
        &self,
        username: &str,
        password: &str,
        acl_id: Option<&str>,
    ) -> HostResult<()>;
    /// `users.removeUser(username)` — `removeUser`
    async fn remove_user(&self, username: &str) -> HostResult<()>;

    // ---- network
    /// `addresses.getLocalAddresses()`; `None` when unset — `localAddresses`
    async fn local_addresses(&self) -> HostResult<Option<Vec<String>>>;
    /// `addresses.setLocalAddresses(list)` — `setLocalAddresses`
    async fn set_local_addresses(&self, addresses: Vec<String>) -> HostResult<()>;
    /// `addresses.getExternalAddresses(id)` (memory only) — `externalAddresses`
    async fn external_addresses(&self, id: &str) -> HostResult<Vec<String>>;
    /// `addresses.setExternalAddresses(id, list)` — `setExternalAddresses`
    async fn set_external_addresses(&self, id: &str, addresses: Vec<String>) -> HostResult<()>;
    /// `cors.getCORS(id)` (memory only) — `cors`
    async fn cors(&self, id: &str) -> HostResult<Vec<String>>;
    /// `cors.setCORS(id, origins)` — `setCors`
    async fn set_cors(&self, id: &str, origins: Vec<String>) -> HostResult<()>;

    // ---- cluster and backup
    /// `cluster-fork.getClusterWorkers()` — `clusterWorkers`
    async fn cluster_workers(&self) -> HostResult<Value>;
    /// `backup.createBackup()` — `createBackup` (base64 over the bridge)
    async fn create_backup(&self) -> HostResult<Vec<u8>>;

    // ---- process-ending actions and housekeeping (synchronous, fire-and-forget)
    /// `setTimeout(() => <action>, delayMs)`: restart / update / reload / restore / plugin updates — `defer`
    fn defer(&self, delay_ms: u32, action: Deferred);
    /// the plugin console — `log`
    fn log(&self, level: LogLevel, message: &str);
    /// `onDeviceEvent('Settings', undefined)` so the UI re-fetches — `settingsChanged`
    fn settings_changed(&self);
}
