//! `FakeBridge`: an in-memory Scrypted behind a fake of `js-shim/host.js`, keyed by the
//! same method names and receiving the same JSON the real bridge sends, so the tests see
//! what would reach `host.js`. It starts from the demo data (`js-shim/dev/demo.json`) and
//! behaves the way the real server does (quirks included): `tests/host-cases.json` pins
//! that behaviour, and runs against this fake and against the dev host.
//!
//! Each `call` is recorded in `calls` as (method, args); `notify` in `notices`; every device
//! event it fires in `events`.

pub mod backups;
mod devices;
mod media;
mod net;
mod plugins;
mod services;

pub use media::{jpeg_picture, CAMERA_MODES, NATIVE_WIDTH};
pub use net::Page;

use async_trait::async_trait;
use scrypted_mcp::host::{Alert, Bridge, LogEntry, NetworkAddress};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// The peer route Scrypted's RPC appends to a remote error's message
/// (server/src/rpc.ts:229-231; js-shim/dev/rpc.mjs `RPC_ROUTE`).
pub const RPC_ROUTE: &str = "scrypted-mcp:host";

/// A device as the server keeps it (demo.json `devices`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: String,
    pub plugin_id: String,
    #[serde(default)]
    pub native_id: Option<String>,
    #[serde(default)]
    pub provider_id: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub room: Option<String>,
    pub interfaces: Vec<String>,
    #[serde(default = "empty_object")]
    pub info: Value,
    #[serde(default)]
    pub mixins: Vec<String>,
    #[serde(default)]
    pub storage: BTreeMap<String, String>,
    #[serde(default)]
    pub state: Map<String, Value>,
    /// The device's console buffer (`clearConsole` empties it).
    #[serde(default)]
    pub console: Vec<String>,
    /// For a MixinProvider: the device types its `canMixin` accepts (`None`: every type).
    #[serde(default)]
    pub mixin_types: Option<Vec<String>>,
    /// For a PasswordStore (a Z-Wave lock's user codes): what `getPasswords` answers.
    #[serde(default)]
    pub passwords: Vec<String>,
}

impl Device {
    /// A device created at run time (not from demo.json): no provider, room, mixins, storage or
    /// state yet.
    pub fn new(
        id: &str,
        plugin_id: &str,
        native_id: &str,
        name: &str,
        kind: &str,
        interfaces: &[&str],
    ) -> Self {
        Device {
            id: id.into(),
            plugin_id: plugin_id.into(),
            native_id: Some(native_id.into()),
            provider_id: None,
            name: name.into(),
            kind: kind.into(),
            room: None,
            interfaces: interfaces.iter().map(|i| i.to_string()).collect(),
            info: empty_object(),
            mixins: vec![],
            storage: BTreeMap::new(),
            state: Map::new(),
            console: vec![],
            mixin_types: None,
            passwords: vec![],
        }
    }
}

fn empty_object() -> Value {
    json!({})
}

/// A running plugin (demo.json `plugins`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FakePlugin {
    /// `None` once killed.
    pub pid: Option<u32>,
    /// When a killed plugin runs again by itself (runtime.ts setupPluginHostAutoRestart).
    #[serde(skip)]
    pub restart_at_ms: Option<u64>,
    #[serde(default)]
    pub clients_count: u32,
    #[serde(default)]
    pub rpc_objects: u32,
    pub package_json: Value,
}

impl FakePlugin {
    pub fn version(&self) -> String {
        self.package_json["version"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// A package of the npm registry (demo.json `npm`); its latest is its last version.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NpmPackage {
    pub name: String,
    pub display_name: String,
    pub versions: Vec<String>,
    /// npm's deprecation message of the latest version.
    #[serde(default)]
    pub deprecated: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

impl NpmPackage {
    pub fn latest(&self) -> String {
        self.versions.last().cloned().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FakeUser {
    pub username: String,
    pub password: String,
    /// A restricted user's aclId: the id of its core `user:<name>` device. None = admin.
    #[serde(default)]
    pub acl_id: Option<String>,
    #[serde(default)]
    pub token: String,
}

/// demo.json `server`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub version: String,
    #[serde(default)]
    pub ip_address: Option<String>,
    pub insecure_port: u16,
    pub secure_port: u16,
}

/// Why a call failed: thrown on the server side of the RPC (the message gains the peer
/// route), or in `host.js` itself.
pub enum Fail {
    Remote(String),
    Local(String),
}

impl Fail {
    /// The TypeError the server throws when an id finds no record.
    pub fn reading(property: &str) -> Fail {
        Fail::Remote(format!(
            "Cannot read properties of undefined (reading '{property}')"
        ))
    }
}

pub type Answer = Result<Value, Fail>;

/// The plugin's `systemManager.listen` callback.
pub type EventSink = Rc<dyn Fn(Value)>;

pub struct FakeBridge {
    /// Every `call`: (host.js method, arguments).
    pub calls: RefCell<Vec<(String, Value)>>,
    /// Every `notify`: (host.js notice, arguments).
    pub notices: RefCell<Vec<(String, Value)>>,
    /// Method → message: the next calls of it fail with exactly that message.
    pub fail: RefCell<BTreeMap<String, String>>,
    /// When set, removing a core `user:<name>` device leaves the account for later, as a
    /// core release hook that has not run yet by the time removeDevice returns would.
    pub core_release_is_late: Cell<bool>,
    /// Methods whose calls wait until `release` (an npm install that takes minutes).
    held: RefCell<BTreeSet<String>>,
    held_waiters: RefCell<Vec<std::task::Waker>>,

    pub server: RefCell<Server>,
    pub network_interfaces: RefCell<BTreeMap<String, Vec<NetworkAddress>>>,
    pub devices: RefCell<BTreeMap<String, Device>>,
    /// Plugin id → running plugin.
    pub plugins: RefCell<BTreeMap<String, FakePlugin>>,
    pub npm: RefCell<BTreeMap<String, NpmPackage>>,
    pub users: RefCell<Vec<FakeUser>>,
    pub logs: RefCell<Vec<LogEntry>>,
    /// Logger paths that exist (`getLogger` creates missing ones).
    pub loggers: RefCell<BTreeSet<String>>,
    pub alerts: RefCell<Vec<Alert>>,
    pub env: RefCell<BTreeMap<String, String>>,
    /// `None` = `.env` absent.
    pub dotenv: RefCell<Option<String>>,
    pub local_addresses: RefCell<Option<Vec<String>>>,
    pub external: RefCell<BTreeMap<String, Vec<String>>>,
    pub cors_map: RefCell<BTreeMap<String, Vec<String>>>,
    pub cluster: RefCell<Value>,
    pub backup: RefCell<Vec<u8>>,
    /// Every backup `restoreBackup` accepted.
    pub restored: RefCell<Vec<Vec<u8>>>,
    /// Every device event fired, as `listenToDevices` hands it to the wasm.
    pub events: RefCell<Vec<Value>>,
    /// The plugin's `systemManager.listen` callback.
    pub event_sink: RefCell<Option<EventSink>>,
    /// Device id → camera mode (`CAMERA_MODES`; default `jpeg`).
    pub camera_modes: RefCell<BTreeMap<String, String>>,
    /// Host name → the addresses `resolveHost` answers (IP literals answer themselves).
    pub dns: RefCell<BTreeMap<String, Vec<String>>>,
    /// URL → what `httpsGet` answers; any other URL is refused.
    pub web: RefCell<BTreeMap<String, Page>>,
    /// The plugin volume's files (`SCRYPTED_PLUGIN_VOLUME`): name → text. Outlives a
    /// plugin restart, as the directory does; `fail` with `volumeRead`, `volumeAppend` or
    /// `volumeReplace` makes that operation throw.
    pub volume: RefCell<BTreeMap<String, String>>,
    next_id: Cell<u32>,
    next_pid: Cell<u32>,
    now_ms: Cell<u64>,
}

fn field<T: serde::de::DeserializeOwned + Default>(demo: &Value, key: &str) -> T {
    match demo.get(key) {
        Some(v) if !v.is_null() => {
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("demo.json {key}: {e}"))
        }
        _ => T::default(),
    }
}

/// demo.json's `key` entries, each `minutesAgo` turned into a `timestamp` before `now_ms`.
fn timed<T: serde::de::DeserializeOwned>(demo: &Value, key: &str, now_ms: u64) -> Vec<T> {
    field::<Vec<Value>>(demo, key)
        .into_iter()
        .map(|mut entry| {
            let ago = entry["minutesAgo"].as_f64().unwrap_or(0.0) * 60_000.0;
            entry["timestamp"] = json!(now_ms as f64 - ago);
            serde_json::from_value(entry).unwrap_or_else(|e| panic!("demo.json {key}: {e}"))
        })
        .collect()
}

impl FakeBridge {
    /// The server of `demo` (demo.json, possibly patched) at time `now_ms`.
    pub fn from_demo(demo: &Value, now_ms: u64) -> Self {
        let logs: Vec<LogEntry> = timed(demo, "logs", now_ms);
        let alerts: Vec<Alert> = timed(demo, "alerts", now_ms);
        let devices: Vec<Device> = field(demo, "devices");
        let plugins: Vec<FakePlugin> = field(demo, "plugins");
        let npm: Vec<NpmPackage> = field(demo, "npm");
        FakeBridge {
            calls: RefCell::default(),
            notices: RefCell::default(),
            fail: RefCell::default(),
            core_release_is_late: Cell::new(false),
            held: RefCell::default(),
            held_waiters: RefCell::default(),
            server: RefCell::new(
                serde_json::from_value(demo["server"].clone()).expect("demo.json server"),
            ),
            network_interfaces: RefCell::new(field(demo, "networkInterfaces")),
            devices: RefCell::new(devices.into_iter().map(|d| (d.id.clone(), d)).collect()),
            plugins: RefCell::new(
                plugins
                    .into_iter()
                    .map(|p| (p.package_json["name"].as_str().unwrap().to_string(), p))
                    .collect(),
            ),
            npm: RefCell::new(npm.into_iter().map(|p| (p.name.clone(), p)).collect()),
            users: RefCell::new(field(demo, "users")),
            loggers: RefCell::new(logs.iter().filter_map(|l| l.path.clone()).collect()),
            logs: RefCell::new(logs),
            alerts: RefCell::new(alerts),
            env: RefCell::new(field(demo, "env")),
            dotenv: RefCell::new(field(demo, "dotenv")),
            local_addresses: RefCell::new(field(demo, "localAddresses")),
            external: RefCell::new(field(demo, "externalAddresses")),
            cors_map: RefCell::new(field(demo, "cors")),
            cluster: RefCell::new(demo.get("clusterWorkers").cloned().unwrap_or(json!({}))),
            backup: RefCell::new(demo_backup_bytes()),
            restored: RefCell::default(),
            events: RefCell::default(),
            event_sink: RefCell::default(),
            camera_modes: RefCell::new(field(demo, "cameraModes")),
            dns: RefCell::default(),
            web: RefCell::default(),
            volume: RefCell::default(),
            next_id: Cell::new(demo["nextId"].as_u64().unwrap_or(100) as u32),
            next_pid: Cell::new(demo["nextPid"].as_u64().unwrap_or(4100) as u32),
            now_ms: Cell::new(now_ms),
        }
    }

    /// The demo server at `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self::from_demo(&super::demo::demo(), now_ms)
    }

    /// One `host.js` entry, by name, over this server.
    pub fn dispatch(&self, method: &str, a: &Value) -> Answer {
        match method {
            "ipAddress" => Ok(json!(self.server.borrow().ip_address)),
            "serverPorts" => {
                let s = self.server.borrow();
                Ok(json!({"insecure": s.insecure_port, "secure": s.secure_port}))
            }
            "endpointPath" => Ok(json!("/endpoint/scrypted-mcp/public/")),
            "networkAddresses" => Ok(json!(self
                .network_interfaces
                .borrow()
                .values()
                .flatten()
                .collect::<Vec<_>>())),
            "systemState" | "deviceStates" | "deviceInfo" | "callDeviceMethod" | "removeDevice" => {
                self.device_call(method, a)
            }
            "takePicture" => self.take_picture(a),
            "resolveHost" | "httpsGet" => self.net_call(method, a),
            "packageJson" | "pluginInfo" | "reloadPlugin" | "killPlugin" | "installNpm"
            | "updatePlugins" | "npmInfo" | "renameDeviceId" | "setMixins" | "getStorage"
            | "setStorage" | "idForPluginId" | "idForNativeId" | "disconnectClients"
            | "clearConsole" => self.plugin_call(method, a),
            _ => self.service_call(method, a),
        }
    }

    // ---- helpers for tests

    /// Arguments of every recorded call of `name`.
    pub fn calls_of(&self, name: &str) -> Vec<Value> {
        args_of(&self.calls, name)
    }

    pub fn called(&self, name: &str) -> bool {
        self.calls.borrow().iter().any(|(n, _)| n == name)
    }

    /// Names of every call, in order.
    pub fn call_names(&self) -> Vec<String> {
        self.calls.borrow().iter().map(|(n, _)| n.clone()).collect()
    }

    /// Calls that change something on the server (anything but reads), and deferred actions.
    pub fn mutating_calls(&self) -> Vec<String> {
        const READS: &[&str] = &[
            "ipAddress",
            "serverPorts",
            "endpointPath",
            "networkAddresses",
            "systemState",
            "deviceStates",
            "deviceInfo",
            "takePicture",
            "packageJson",
            "pluginInfo",
            "npmInfo",
            "getStorage",
            "idForPluginId",
            "idForNativeId",
            "logs",
            "alerts",
            "serverVersion",
            "scryptedEnv",
            "dotEnv",
            "users",
            "localAddresses",
            "savedLocalAddresses",
            "externalAddresses",
            "cors",
            "clusterWorkers",
            "createBackup",
            "backupEntries",
            "resolveHost",
            "httpsGet",
        ];
        let mut names: Vec<String> = self
            .call_names()
            .into_iter()
            .filter(|n| !READS.contains(&n.as_str()))
            .collect();
        names.extend(
            self.deferred()
                .iter()
                .map(|d| format!("defer {}", d["method"].as_str().unwrap_or_default())),
        );
        names
    }

    /// Every `defer` notice's arguments: `{delayMs, method, args}`.
    pub fn deferred(&self) -> Vec<Value> {
        self.notices_of("defer")
    }

    pub fn notices_of(&self, name: &str) -> Vec<Value> {
        args_of(&self.notices, name)
    }

    /// The plugin console: (level, message) of every `log` notice.
    pub fn console_lines(&self) -> Vec<(String, String)> {
        self.notices_of("log")
            .iter()
            .map(|n| {
                let text = |k: &str| n[k].as_str().unwrap_or_default().to_string();
                (text("level"), text("message"))
            })
            .collect()
    }

    /// How many times the plugin said its settings changed.
    pub fn settings_changed_count(&self) -> usize {
        self.notices_of("settingsChanged").len()
    }

    /// Runs every deferred action now, as the host's timers would; returns their answers.
    pub fn run_deferred(&self) -> Vec<Result<Value, String>> {
        self.deferred()
            .iter()
            .map(|d| {
                let method = d["method"].as_str().unwrap_or_default();
                futures::executor::block_on(self.call(method, d["args"].clone()))
            })
            .collect()
    }

    /// Another Scrypted admin, as if added in Scrypted's UI.
    pub fn add_admin(&self, username: &str) {
        self.users.borrow_mut().push(FakeUser {
            username: username.into(),
            password: format!("{username}-password"),
            acl_id: None,
            token: String::new(),
        });
    }

    /// Makes every later call of `name` fail with `message`.
    pub fn fail_with(&self, name: &str, message: &str) {
        self.fail
            .borrow_mut()
            .insert(name.to_string(), message.to_string());
    }

    pub fn now(&self) -> f64 {
        self.now_ms.get() as f64
    }

    /// Moves the server's clock on (host cases' `advanceMs`).
    pub fn advance(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get() + ms);
    }

    fn new_id(&self) -> String {
        let n = self.next_id.get();
        self.next_id.set(n + 1);
        n.to_string()
    }

    /// Calls of `method` wait from now until `release(method)`.
    pub fn hold(&self, method: &str) {
        self.held.borrow_mut().insert(method.to_string());
    }

    /// The held calls of `method` go on.
    pub fn release(&self, method: &str) {
        self.held.borrow_mut().remove(method);
        for waker in self.held_waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    fn new_pid(&self) -> u32 {
        let n = self.next_pid.get();
        self.next_pid.set(n + 1);
        n
    }
}

#[async_trait(?Send)]
impl Bridge for FakeBridge {
    async fn call(&self, method: &str, args: Value) -> Result<Value, String> {
        self.calls
            .borrow_mut()
            .push((method.to_string(), args.clone()));
        if let Some(message) = self.fail.borrow().get(method) {
            return Err(message.clone());
        }
        // A held call waits, as the host's own call would while it works.
        futures::future::poll_fn(|cx| {
            if self.held.borrow().contains(method) {
                self.held_waiters.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .await;
        if method == "takePicture" && self.camera_mode(args["id"].as_str().unwrap_or("")) == "hang"
        {
            // A camera that never answers.
            return futures::future::pending().await;
        }
        match self.dispatch(method, &args) {
            Ok(answer) => Ok(answer),
            Err(Fail::Remote(m)) => Err(format!("{m}\n{RPC_ROUTE}")),
            Err(Fail::Local(m)) => Err(m),
        }
    }

    fn notify(&self, method: &str, args: Value) {
        assert!(
            ["defer", "log", "settingsChanged"].contains(&method),
            "unknown host notice: {method}"
        );
        self.notices.borrow_mut().push((method.to_string(), args));
    }

    fn volume_read(&self, name: &str) -> Result<Option<String>, String> {
        self.volume_failure("volumeRead")?;
        Ok(self.volume.borrow().get(name).cloned())
    }

    fn volume_append(&self, name: &str, text: &str) -> Result<(), String> {
        self.volume_failure("volumeAppend")?;
        self.volume
            .borrow_mut()
            .entry(name.to_string())
            .or_default()
            .push_str(text);
        Ok(())
    }

    fn volume_replace(&self, name: &str, text: &str) -> Result<(), String> {
        self.volume_failure("volumeReplace")?;
        self.volume
            .borrow_mut()
            .insert(name.to_string(), text.to_string());
        Ok(())
    }
}

impl FakeBridge {
    /// The message a `fail` entry sets for a volume operation (Node's fs errors are local:
    /// no RPC route).
    fn volume_failure(&self, op: &str) -> Result<(), String> {
        match self.fail.borrow().get(op) {
            Some(message) => Err(message.clone()),
            None => Ok(()),
        }
    }
}

/// The arguments of every recorded `name`.
fn args_of(recorded: &RefCell<Vec<(String, Value)>>, name: &str) -> Vec<Value> {
    recorded
        .borrow()
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, a)| a.clone())
        .collect()
}

// ---- argument access: what host.js reads from its argument object

pub fn text(a: &Value, key: &str) -> Result<String, Fail> {
    match &a[key] {
        Value::String(s) => Ok(s.clone()),
        other => Err(Fail::Local(format!(
            "fake bridge: argument {key} is not a string: {other}"
        ))),
    }
}

pub fn opt_text(a: &Value, key: &str) -> Option<String> {
    a[key].as_str().map(String::from)
}

pub fn strings(a: &Value, key: &str) -> Vec<String> {
    a[key]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The demo server's backup: a database whose log holds its secrets, laid out as a real one.
pub fn demo_backup_bytes() -> Vec<u8> {
    let mut log = b"users admin passwordHash=9f2c salt=11aa token=tok-admin-permanent plugins scrypted-mcp oauth.signing_jwk ".to_vec();
    log.extend(std::iter::repeat_n(0x5au8, 4000));
    backups::backup_of(&log)
}
