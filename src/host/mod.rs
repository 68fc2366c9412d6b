//! The Scrypted host, as the plugin sees it: a [`Bridge`] to `js-shim/host.js`, and the
//! typed [`Host`] API the tools call, written once over any bridge.
//!
//! The bridge is the tested boundary. In the plugin it is `wasm::JsBridge` (a method name
//! of `host.js` plus JSON arguments → a promise); in `cargo test` it is the bridge-level
//! fake of `tests/common`, keyed by the same names and receiving the same JSON. So every
//! argument encoding and result decoding lives here, in code `cargo test` compiles and
//! runs, and `host.js` only converts and calls Scrypted's API (`Host` methods name the
//! `host.js` entry they use).
//!
//! Results keep Scrypted's own shapes (docs/reference/scrypted-host.md §3); quirks such as
//! "unknown id → TypeError" are *not* smoothed over here, because the tools must handle
//! them the way the real host behaves. What is decided here: defaults for answers the
//! host leaves `undefined`, the logger path of a device and its titles, and the plugin
//! console prefix.

mod api;

pub use api::DeviceLogger;

use async_trait::async_trait;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::rc::Rc;

/// The JS side of the host: `bridge.callJson` / `bridge.notify` of `js-shim/host.js`.
#[async_trait(?Send)]
pub trait Bridge {
    /// One `host.js` entry: its answer as plain JSON (`undefined` arrives as `null`), or
    /// the message of what it threw — all that crosses Scrypted's RPC (§2).
    async fn call(&self, method: &str, args: Value) -> Result<Value, String>;
    /// A fire-and-forget `host.js` notice (`defer`, `log`, `settingsChanged`): nothing to
    /// wait for, nothing comes back.
    fn notify(&self, method: &str, args: Value);
    /// The text of the file `name` in this plugin's own volume (`SCRYPTED_PLUGIN_VOLUME`,
    /// docs/reference/scrypted-host.md §5), `None` if there is none. Synchronous, like
    /// plugin storage; only this plugin's process touches these files.
    fn volume_read(&self, name: &str) -> Result<Option<String>, String>;
    /// Appends `text` to the file `name`; once it returns, the bytes are in the file.
    fn volume_append(&self, name: &str, text: &str) -> Result<(), String>;
    /// Replaces the file `name` with `text` all at once (a temporary file renamed over it):
    /// a crash leaves the old text or the new, never a mix.
    fn volume_replace(&self, name: &str, text: &str) -> Result<(), String>;
}

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

    /// The host's message without the peer route Scrypted's RPC appends to every remote
    /// error (`RPCResultError`: `"<message>\n<self>:<peer>"`, e.g. `"...\nscrypted-mcp:host"`,
    /// server/src/rpc.ts:229-231): the route tells a person nothing.
    pub fn from_host(message: &str) -> Self {
        let mut lines: Vec<&str> = message.lines().collect();
        while lines.len() > 1 && lines.last().is_some_and(|l| is_rpc_route(l)) {
            lines.pop();
        }
        HostError::new(lines.join("\n"))
    }
}

/// `"<self>:<peer>"`: two peer names, no spaces (plugin ids may hold `@` and `/`).
fn is_rpc_route(line: &str) -> bool {
    match line.split_once(':') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && !line.contains(char::is_whitespace)
                && !b.contains(':')
                && !b.starts_with('/')
        }
        None => false,
    }
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type HostResult<T> = Result<T, HostError>;

/// A JavaScript time (`Date.now()`, whole ms) as an integer. JavaScript has only one
/// number type, and a typed `f64` would print as `1796172523324.0` in every text that
/// shows it; whole milliseconds are what Scrypted stores.
#[cfg(not(target_arch = "wasm32"))]
fn unix_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ms::deserialize(d).map(|Ms(ms)| ms)
}

/// [`unix_ms`] of a time that may be absent (`null`).
#[cfg(not(target_arch = "wasm32"))]
fn opt_unix_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Option::<Ms>::deserialize(d)?.map(|Ms(ms)| ms))
}

/// A time in ms as the host sends it (a JavaScript number), read as whole ms; the field
/// type `fields` reads such times as.
#[derive(Default)]
struct Ms(u64);

impl<'de> Deserialize<'de> for Ms {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ms = f64::deserialize(d)?;
        if ms.is_finite() && ms >= 0.0 {
            Ok(Ms(ms.round() as u64))
        } else {
            Err(serde::de::Error::custom(format!(
                "{ms} is not a time in ms"
            )))
        }
    }
}

/// `logger.getLogs()` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
pub struct LogEntry {
    #[serde(default)]
    pub title: Option<String>,
    /// Unix time in ms.
    #[serde(deserialize_with = "unix_ms")]
    pub timestamp: u64,
    pub level: String,
    pub message: String,
    #[serde(default)]
    pub path: Option<String>,
}

/// `alerts.getAlerts()` entry (`ScryptedAlert`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
pub struct Alert {
    #[serde(rename = "_id")]
    pub id: String,
    /// Unix time in ms.
    #[serde(deserialize_with = "unix_ms")]
    pub timestamp: u64,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// `users.getAllUsers()` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
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

/// One address of this machine (`os.networkInterfaces()`, flattened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
pub struct NetworkAddress {
    pub address: String,
    /// `IPv4` or `IPv6`.
    pub family: String,
    /// Loopback.
    pub internal: bool,
}

/// The answer of an https GET (`httpsGet`): the status, the two headers Rust reads, and
/// the body as text (at most the requested size).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(rename_all = "camelCase")]
pub struct HttpsAnswer {
    pub status: u16,
    #[serde(default)]
    pub cache_control: Option<String>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub body: String,
}

/// `systemManager.getSystemState()`: device id → property → `{value, ...}`; every device's
/// entry is an object (`Host::system_state` checks it). serde_json's own map, not a typed
/// `BTreeMap<String, Map>`: that would be one more copy of the B-tree code and of its
/// deserialiser in the wasm.
pub type SystemState = Map<String, Value>;

/// A camera picture: the bytes `mediaManager.convertMediaObjectToBuffer(mo, 'image/jpeg')`
/// gave (base64 over the bridge) and the MediaObject's own mime type. The bytes need not
/// be a JPEG: Scrypted's built-in image converter passes any `image/*` through unchanged
/// (docs/reference/scrypted-host.md §14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub mime_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// One event of `systemManager.listen`, as `js-shim/plugin.js` hands it to the wasm: the
/// callback's `(eventSource, eventDetails, eventData)` flattened (§14). `id` is `None`
/// for a device removal (whose `value` is the removed id) and for alerts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[serde(rename_all = "camelCase")]
pub struct DeviceEvent {
    #[serde(default)]
    pub id: Option<String>,
    /// `OnOff`, `MotionSensor`, ..., `ScryptedDevice` (descriptor, add, remove), `Logger`
    /// (alerts).
    #[serde(default)]
    pub event_interface: Option<String>,
    #[serde(default)]
    pub property: Option<String>,
    /// The server's time of a property change (Unix ms); absent for `ScryptedDevice`
    /// events.
    #[serde(default, deserialize_with = "opt_unix_ms")]
    pub event_time: Option<u64>,
    #[serde(default)]
    pub mixin_id: Option<String>,
    #[serde(default)]
    pub value: Value,
}

// The host's answers are read field by field in the wasm (`fields::deserialize`, issue 12:
// no derived deserialiser per answer type); host builds derive them, and `tests` below
// compares the two.
crate::fields::deserialize_by_fields!(
    LogEntry,
    Alert,
    User,
    NetworkAddress,
    HttpsAnswer,
    DeviceEvent
);

impl crate::fields::Args for LogEntry {
    fn read(fields: &mut crate::fields::Fields) -> Self {
        LogEntry {
            title: fields.optional("title"),
            timestamp: fields.required::<Ms>("timestamp").0,
            level: fields.required("level"),
            message: fields.required("message"),
            path: fields.optional("path"),
        }
    }
}

impl crate::fields::Args for Alert {
    fn read(fields: &mut crate::fields::Fields) -> Self {
        Alert {
            id: fields.required("_id"),
            timestamp: fields.required::<Ms>("timestamp").0,
            title: fields.optional("title"),
            path: fields.optional("path"),
            message: fields.optional("message"),
        }
    }
}

crate::fields::args!(User {
    username: required,
    admin: required,
});

crate::fields::args!(NetworkAddress {
    address: required,
    family: required,
    internal: required,
});

crate::fields::args!(HttpsAnswer {
    status: required,
    cache_control: optional("cacheControl"),
    content_type: optional("contentType"),
    body: optional,
});

impl crate::fields::Args for DeviceEvent {
    fn read(fields: &mut crate::fields::Fields) -> Self {
        DeviceEvent {
            id: fields.optional("id"),
            event_interface: fields.optional("eventInterface"),
            property: fields.optional("property"),
            event_time: fields.optional::<Option<Ms>>("eventTime").map(|Ms(ms)| ms),
            mixin_id: fields.optional("mixinId"),
            value: fields.optional("value"),
        }
    }
}

/// An action that ends our own process (or may): the host runs it from a timer after
/// `delay_ms`, so the MCP answer has left before the process dies.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl Deferred {
    /// The `host.js` entry that runs it, and its arguments.
    pub fn call(&self) -> (&'static str, Value) {
        match self {
            Deferred::RestartServer => ("restartServer", json!({})),
            Deferred::UpdateServer => ("updateServer", json!({})),
            Deferred::ReloadPlugin { plugin_id } => {
                ("reloadPlugin", json!({ "pluginId": plugin_id }))
            }
            Deferred::RestoreBackup { data } => ("restoreBackup", json!({ "data": data })),
            Deferred::UpdatePlugins => ("updatePlugins", json!({})),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

/// What the tools call: every Scrypted capability the plugin uses, typed, over a bridge.
/// Cheap to clone.
#[derive(Clone)]
pub struct Host {
    bridge: Rc<dyn Bridge>,
}

impl Host {
    pub fn new(bridge: Rc<dyn Bridge>) -> Self {
        Host { bridge }
    }

    // Combinators, not async fns: an async fn is a state machine of its own for every answer
    // type, wrapped around the bridge's (already boxed) future (issue 12, wasm size).
    fn raw<'a>(
        &'a self,
        method: &'a str,
        args: Value,
    ) -> impl Future<Output = HostResult<Value>> + 'a {
        self.bridge
            .call(method, args)
            .map(|answer| answer.map_err(|m| HostError::from_host(&m)))
    }

    fn get<'a, T: DeserializeOwned + 'a>(
        &'a self,
        method: &'a str,
        args: Value,
    ) -> impl Future<Output = HostResult<T>> + 'a {
        self.raw(method, args)
            .map(move |value| serde_json::from_value(value?).map_err(|e| unexpected(method, e)))
    }

    /// An entry whose answer is `undefined` on the real host (or does not matter).
    fn unit<'a>(
        &'a self,
        method: &'a str,
        args: Value,
    ) -> impl Future<Output = HostResult<()>> + 'a {
        self.raw(method, args).map(|answer| answer.map(drop))
    }

    /// A list the host answers `undefined` for when nothing is set.
    fn list<'a, T: DeserializeOwned + 'a>(
        &'a self,
        method: &'a str,
        args: Value,
    ) -> impl Future<Output = HostResult<Vec<T>>> + 'a {
        self.get::<Option<Vec<T>>>(method, args)
            .map(|list| list.map(Option::unwrap_or_default))
    }
}

/// One copy of the message for every answer type `Host::get` reads.
#[inline(never)]
fn unexpected(method: &str, e: serde_json::Error) -> HostError {
    HostError::new(format!("unexpected answer from {method}: {e}"))
}
