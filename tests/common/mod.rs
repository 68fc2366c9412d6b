//! Shared test fixtures: `FakeHost`, an in-memory Scrypted that behaves the way
//! reference/scrypted-host.md §3 says the real server behaves, quirks included, and
//! records every call; `FakePeer`, a scriptable MCP client for tools that elicit; and
//! `plugin()`, a Plugin wired to all of them.
//!
//! Every host call is recorded in `calls` under its `host.js` (camelCase) name with its
//! arguments as JSON, so tests assert what reached the host, not what a tool said.
#![allow(dead_code)]

use async_trait::async_trait;
use scrypted_mcp::clock::FixedClock;
use scrypted_mcp::host::*;
use scrypted_mcp::store::MemStore;
use scrypted_mcp::tools::{Caller, Elicited, Peer};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// The fixed clock's start: 2026-11-21T10:00:00Z.
pub const NOW_MS: u64 = 1_795_255_200_000;

/// Our own plugin id (the manifest's npm name).
pub const SELF_PLUGIN: &str = "scrypted-mcp";
/// Device id of our own plugin's root device in the demo data.
pub const SELF_ID: &str = "3";
pub const CORE_ID: &str = "1";
pub const HUE_ID: &str = "4";
pub const AMCREST_ID: &str = "5";
pub const ZWAVE_ID: &str = "6";
pub const HOMEKIT_ID: &str = "7";
pub const LIGHT_ID: &str = "10";
pub const LAMP_ID: &str = "11";
pub const CAMERA_ID: &str = "12";
pub const LOCK_ID: &str = "13";
pub const THERMO_ID: &str = "14";
pub const DOOR_ID: &str = "15";

/// The "TypeError" Scrypted's RPC delivers when a plugins-component method meets an
/// unknown id.
pub fn type_error(reading: &str) -> HostError {
    HostError::new(format!(
        "TypeError: Cannot read properties of undefined (reading '{reading}')"
    ))
}

/// One installed plugin as the server keeps it.
#[derive(Debug, Clone)]
pub struct FakePlugin {
    /// Device id of the plugin root device.
    pub id: String,
    pub version: String,
    pub pid: Option<u32>,
    pub clients_count: u32,
    pub package_json: Value,
}

/// One npm package in the fake registry.
#[derive(Debug, Clone)]
pub struct NpmPackage {
    pub name: String,
    pub latest: String,
    pub deprecated: bool,
    pub display_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct FakeUser {
    pub username: String,
    pub password: String,
    /// `getAllUsers()`'s `admin` (`!aclId` on the real server).
    pub admin: bool,
    /// A restricted user's aclId: the id of its core `user:<name>` device.
    pub acl_id: Option<String>,
}

pub struct FakeHost {
    /// Every host call: (host.js name, arguments).
    pub calls: RefCell<Vec<(String, Value)>>,
    /// When set, removing a core `user:<name>` device leaves the account for later, as a
    /// core release hook that has not run yet by the time removeDevice returns would.
    pub core_release_is_late: std::cell::Cell<bool>,
    /// Every `defer(delay_ms, action)`.
    pub deferred: RefCell<Vec<(u32, Deferred)>>,
    /// `log(level, message)` lines.
    pub console: RefCell<Vec<(LogLevel, String)>>,
    pub settings_changed_count: Cell<u32>,
    /// Method name (host.js name) → error message: the next calls of it fail.
    pub fail: RefCell<BTreeMap<String, String>>,

    pub state: RefCell<SystemState>,
    /// Device id → storage map (`getStorage`/`setStorage`/`getDeviceInfo().storage`).
    pub storage: RefCell<BTreeMap<String, BTreeMap<String, String>>>,
    /// Plugin id → plugin.
    pub plugins: RefCell<BTreeMap<String, FakePlugin>>,
    /// Package → registry entry.
    pub registry: RefCell<BTreeMap<String, NpmPackage>>,
    /// Device id → console lines (`clearConsole` empties them).
    pub consoles: RefCell<BTreeMap<String, Vec<String>>>,
    pub logs: RefCell<Vec<LogEntry>>,
    pub alerts: RefCell<Vec<Alert>>,
    pub users: RefCell<Vec<FakeUser>>,
    pub version: RefCell<String>,
    pub env: RefCell<BTreeMap<String, String>>,
    /// `None` = `.env` absent (getDotEnv rejects with ENOENT).
    pub dotenv: RefCell<Option<String>>,
    pub local_addresses: RefCell<Option<Vec<String>>>,
    pub external: RefCell<BTreeMap<String, Vec<String>>>,
    pub cors_map: RefCell<BTreeMap<String, Vec<String>>>,
    pub cluster: RefCell<Value>,
    pub backup: RefCell<Vec<u8>>,
    next_device_id: Cell<u32>,
    next_pid: Cell<u32>,
}

fn v(value: Value) -> Value {
    json!({ "value": value })
}

fn strings(list: &[&str]) -> Value {
    Value::Array(list.iter().map(|s| json!(s)).collect())
}

/// A demo zip: the local-file-header magic, then a fake LevelDB dump holding secrets.
pub fn demo_backup_bytes() -> Vec<u8> {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(
        b"\x14\x00\x00\x00\x08\x00scrypted.db/000005.ldb users admin passwordHash=9f2c salt=11aa token=tok-admin-permanent plugins scrypted-mcp oauth.signing_jwk",
    );
    bytes.extend(std::iter::repeat_n(0x5au8, 4000));
    bytes
}

impl Default for FakeHost {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeHost {
    /// The demo server: core, our own plugin, Hue (two lights), Amcrest (a camera),
    /// Z-Wave (a lock and two sensors), HomeKit (a mixin provider); users admin + viewer;
    /// logs of several levels, two alerts; SCRYPTED_* env with secrets; a .env.
    pub fn new() -> Self {
        let host = FakeHost {
            calls: RefCell::default(),
            core_release_is_late: Default::default(),
            deferred: RefCell::default(),
            console: RefCell::default(),
            settings_changed_count: Cell::new(0),
            fail: RefCell::default(),
            state: RefCell::default(),
            storage: RefCell::default(),
            plugins: RefCell::default(),
            registry: RefCell::default(),
            consoles: RefCell::default(),
            logs: RefCell::default(),
            alerts: RefCell::default(),
            users: RefCell::default(),
            version: RefCell::new("0.144.2".into()),
            env: RefCell::default(),
            dotenv: RefCell::default(),
            local_addresses: RefCell::new(None),
            external: RefCell::default(),
            cors_map: RefCell::default(),
            cluster: RefCell::new(json!({})),
            backup: RefCell::new(demo_backup_bytes()),
            next_device_id: Cell::new(100),
            next_pid: Cell::new(4100),
        };
        host.seed();
        host
    }

    fn seed(&self) {
        let plugin_root = |id: &str, plugin_id: &str, name: &str, ty: &str, ifaces: &[&str]| {
            let mut all = vec!["ScryptedPlugin"];
            all.extend_from_slice(ifaces);
            let mut m = Map::new();
            m.insert("id".into(), v(json!(id)));
            m.insert("name".into(), v(json!(name)));
            m.insert("type".into(), v(json!(ty)));
            m.insert("interfaces".into(), v(strings(&all)));
            m.insert("pluginId".into(), v(json!(plugin_id)));
            m.insert("mixins".into(), v(json!([])));
            m.insert(
                "info".into(),
                v(json!({"manufacturer": "Scrypted", "model": plugin_id})),
            );
            (id.to_string(), m)
        };
        let mut st = SystemState::new();
        for (id, m) in [
            plugin_root(
                CORE_ID,
                "@scrypted/core",
                "Scrypted Core",
                "Builtin",
                &[
                    "DeviceProvider",
                    "HttpRequestHandler",
                    "EngineIOHandler",
                    "Settings",
                    "Readme",
                    "ScryptedSystemDevice",
                ],
            ),
            plugin_root(
                SELF_ID,
                SELF_PLUGIN,
                "MCP Server",
                "API",
                &["HttpRequestHandler", "Settings"],
            ),
            plugin_root(
                HUE_ID,
                "@scrypted/hue",
                "Hue",
                "DeviceProvider",
                &["DeviceProvider", "Settings"],
            ),
            plugin_root(
                AMCREST_ID,
                "@scrypted/amcrest",
                "Amcrest Plugin",
                "DeviceProvider",
                &["DeviceProvider", "DeviceCreator", "Settings"],
            ),
            plugin_root(
                ZWAVE_ID,
                "@scrypted/zwave",
                "Z-Wave",
                "DeviceProvider",
                &["DeviceProvider", "Settings"],
            ),
            plugin_root(
                HOMEKIT_ID,
                "@scrypted/homekit",
                "HomeKit",
                "DeviceProvider",
                &["MixinProvider", "Settings"],
            ),
        ] {
            st.insert(id, m);
        }

        let child = |id: &str,
                     plugin_id: &str,
                     provider: &str,
                     native_id: &str,
                     name: &str,
                     ty: &str,
                     room: &str,
                     ifaces: &[&str],
                     props: Value| {
            let mut m = Map::new();
            m.insert("id".into(), v(json!(id)));
            m.insert("nativeId".into(), v(json!(native_id)));
            m.insert("providerId".into(), v(json!(provider)));
            m.insert("name".into(), v(json!(name)));
            m.insert("type".into(), v(json!(ty)));
            m.insert("room".into(), v(json!(room)));
            m.insert("interfaces".into(), v(strings(ifaces)));
            m.insert("pluginId".into(), v(json!(plugin_id)));
            m.insert("mixins".into(), v(json!([])));
            if let Value::Object(p) = props {
                for (k, val) in p {
                    m.insert(k, v(val));
                }
            }
            (id.to_string(), m)
        };
        let users_dev = child(
            "2",
            "@scrypted/core",
            CORE_ID,
            "users",
            "Users",
            "Builtin",
            "",
            &["DeviceCreator", "DeviceProvider", "ScryptedUser"],
            json!({}),
        );
        let viewer_dev = child(
            "20",
            "@scrypted/core",
            "2",
            "user:viewer",
            "viewer",
            "Person",
            "",
            &["ScryptedUser", "Settings"],
            json!({}),
        );
        let light = child(
            LIGHT_ID,
            "@scrypted/hue",
            HUE_ID,
            "hue-light-1",
            "Kitchen Light",
            "Light",
            "Kitchen",
            &["OnOff", "Brightness", "Refresh", "Online"],
            json!({"on": true, "brightness": 80, "online": true}),
        );
        let lamp = child(
            LAMP_ID,
            "@scrypted/hue",
            HUE_ID,
            "hue-light-2",
            "Living Room Lamp",
            "Light",
            "Living Room",
            &["OnOff", "Brightness", "ColorSettingTemperature", "Online"],
            json!({"on": false, "brightness": 40, "colorTemperature": 2700, "online": true}),
        );
        let camera = child(
            CAMERA_ID,
            "@scrypted/amcrest",
            AMCREST_ID,
            "amcrest-front",
            "Front Door Camera",
            "Camera",
            "Porch",
            &[
                "Camera",
                "VideoCamera",
                "MotionSensor",
                "Settings",
                "Intercom",
                "VideoCameraConfiguration",
                "Online",
            ],
            json!({
                "motionDetected": false,
                "online": true,
                "pictureDimensions": {"width": 3840, "height": 2160},
                "videoStreamOptions": [
                    {"id": "channel0", "name": "Main Stream", "container": "rtsp",
                     "video": {"codec": "h264", "width": 3840, "height": 2160, "bitrate": 8192000, "fps": 20, "keyframeInterval": 40},
                     "audio": {"codec": "aac", "sampleRate": 16000}},
                    {"id": "channel1", "name": "Sub Stream", "container": "rtsp",
                     "video": {"codec": "h264", "width": 640, "height": 480, "bitrate": 512000, "fps": 15},
                     "audio": {"codec": "aac"}}
                ],
                "ptzCapabilities": {"pan": false, "tilt": false, "zoom": false},
                "info": {"manufacturer": "Amcrest", "model": "IP8M-2496EB", "firmware": "V2.800.0000000.3.R", "ip": "192.168.1.40", "serialNumber": "AMC0123456789"}
            }),
        );
        let lock = child(
            LOCK_ID,
            "@scrypted/zwave",
            ZWAVE_ID,
            "zwave-5",
            "Front Door Lock",
            "Lock",
            "Porch",
            &["Lock", "Battery", "Online"],
            json!({"lockState": "Locked", "batteryLevel": 76, "online": true}),
        );
        let thermo = child(
            THERMO_ID,
            "@scrypted/zwave",
            ZWAVE_ID,
            "zwave-7",
            "Hallway Sensor",
            "Sensor",
            "Hallway",
            &["Thermometer", "HumiditySensor", "Battery"],
            json!({"temperature": 21.5, "temperatureUnit": "C", "humidity": 44, "batteryLevel": 90}),
        );
        let door = child(
            DOOR_ID,
            "@scrypted/zwave",
            ZWAVE_ID,
            "zwave-9",
            "Back Door Contact",
            "Entry",
            "Kitchen",
            &["BinarySensor", "Battery"],
            json!({"binaryState": false, "batteryLevel": 55}),
        );
        for (id, m) in [
            users_dev, viewer_dev, light, lamp, camera, lock, thermo, door,
        ] {
            st.insert(id, m);
        }
        // HomeKit is a mixin on the camera.
        st.get_mut(CAMERA_ID)
            .unwrap()
            .insert("mixins".into(), v(json!([HOMEKIT_ID])));
        *self.state.borrow_mut() = st;

        let mut storage = BTreeMap::new();
        let s = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        storage.insert(
            SELF_ID.to_string(),
            s(&[
                (
                    "oauth.signing_jwk",
                    "{\"kty\":\"EC\",\"d\":\"SELF-SECRET-SIGNING-KEY\"}",
                ),
                ("settings.max_restore_mb", "500"),
            ]),
        );
        storage.insert(
            HUE_ID.to_string(),
            s(&[
                ("bridgeAddress", "192.168.1.20"),
                ("bridgeUsername", "hue-app-key-SECRET-abc123"),
            ]),
        );
        storage.insert(
            CAMERA_ID.to_string(),
            s(&[
                ("ip", "192.168.1.40"),
                ("username", "admin"),
                ("password", "camera-PASSWORD-xyz"),
            ]),
        );
        storage.insert(LOCK_ID.to_string(), s(&[("nodeId", "5")]));
        *self.storage.borrow_mut() = storage;

        let plugin = |id: &str, plugin_id: &str, version: &str, pid: u32, name: &str| {
            (
                plugin_id.to_string(),
                FakePlugin {
                    id: id.into(),
                    version: version.into(),
                    pid: Some(pid),
                    clients_count: 1,
                    package_json: json!({
                        "name": plugin_id,
                        "version": version,
                        "description": format!("{name} plugin for Scrypted"),
                        "keywords": ["scrypted"],
                        "scrypted": {"name": name, "type": "API", "interfaces": ["ScryptedPlugin"]},
                        "dependencies": {"@scrypted/sdk": "^0.5.46", "some-big-dep": "^1.0.0"},
                        "devDependencies": {"typescript": "^5.0.0"}
                    }),
                },
            )
        };
        *self.plugins.borrow_mut() = [
            plugin(CORE_ID, "@scrypted/core", "0.3.120", 4001, "Scrypted Core"),
            plugin(SELF_ID, SELF_PLUGIN, "0.1.0", 4003, "MCP Server"),
            plugin(HUE_ID, "@scrypted/hue", "0.0.40", 4004, "Hue"),
            plugin(
                AMCREST_ID,
                "@scrypted/amcrest",
                "0.0.150",
                4005,
                "Amcrest Plugin",
            ),
            plugin(ZWAVE_ID, "@scrypted/zwave", "0.1.80", 4006, "Z-Wave"),
            plugin(HOMEKIT_ID, "@scrypted/homekit", "1.2.60", 4007, "HomeKit"),
        ]
        .into_iter()
        .collect();

        let pkg = |name: &str, latest: &str, deprecated: bool, display: &str| {
            (
                name.to_string(),
                NpmPackage {
                    name: name.into(),
                    latest: latest.into(),
                    deprecated,
                    display_name: display.into(),
                },
            )
        };
        *self.registry.borrow_mut() = [
            pkg("@scrypted/core", "0.3.121", false, "Scrypted Core"),
            pkg(SELF_PLUGIN, "0.1.0", false, "MCP Server"),
            pkg("@scrypted/hue", "0.0.41", false, "Hue"),
            pkg("@scrypted/amcrest", "0.0.150", false, "Amcrest Plugin"),
            pkg("@scrypted/zwave", "0.1.80", true, "Z-Wave"),
            pkg("@scrypted/homekit", "1.2.61", false, "HomeKit"),
            pkg("@scrypted/ring", "0.0.160", false, "Ring"),
            pkg("@scrypted/unifi-protect", "0.0.180", false, "Unifi Protect"),
        ]
        .into_iter()
        .collect();

        self.consoles.borrow_mut().insert(
            CAMERA_ID.into(),
            vec!["rtsp connected".into(), "motion started".into()],
        );

        let now = NOW_MS as f64;
        let log = |mins: f64, level: &str, title: &str, path: &str, msg: &str| LogEntry {
            title: Some(title.into()),
            timestamp: now - mins * 60_000.0,
            level: level.into(),
            message: msg.into(),
            path: Some(path.into()),
        };
        *self.logs.borrow_mut() = vec![
            log(
                300.0,
                "i",
                "Scrypted",
                "/",
                "Scrypted server 0.144.2 started",
            ),
            log(
                290.0,
                "i",
                "Scrypted Core",
                "/plugin/@scrypted/core",
                "core plugin loaded",
            ),
            log(
                240.0,
                "d",
                "Hue",
                "/plugin/@scrypted/hue",
                "polling bridge 192.168.1.20",
            ),
            log(
                200.0,
                "w",
                "Front Door Camera",
                "/device/12",
                "rtsp stream stalled, reconnecting",
            ),
            log(
                180.0,
                "e",
                "Front Door Camera",
                "/device/12",
                "failed to fetch snapshot: timeout",
            ),
            log(120.0, "i", "Kitchen Light", "/device/10", "turned on"),
            log(
                90.0,
                "a",
                "Front Door Lock",
                "/device/13",
                "battery low: 20%",
            ),
            log(
                60.0,
                "v",
                "Z-Wave",
                "/plugin/@scrypted/zwave",
                "heal network step 3/7",
            ),
            log(
                30.0,
                "e",
                "Z-Wave",
                "/plugin/@scrypted/zwave",
                "node 9 not responding",
            ),
            log(
                5.0,
                "i",
                "MCP Server",
                "/plugin/scrypted-mcp",
                "listening on /endpoint/scrypted-mcp/public/mcp",
            ),
        ];
        *self.alerts.borrow_mut() = vec![
            Alert {
                id: "alert-1".into(),
                timestamp: now - 90.0 * 60_000.0,
                title: Some("Front Door Lock".into()),
                path: Some("/device/13".into()),
                message: Some("battery low: 20%".into()),
            },
            Alert {
                id: "alert-2".into(),
                timestamp: now - 20.0 * 60_000.0,
                title: Some("Z-Wave".into()),
                path: Some("/plugin/@scrypted/zwave".into()),
                message: Some("controller firmware update available".into()),
            },
        ];
        *self.users.borrow_mut() = vec![
            FakeUser {
                username: "admin".into(),
                password: "admin-pass".into(),
                admin: true,
                acl_id: None,
            },
            FakeUser {
                username: "viewer".into(),
                password: "viewer-pass".into(),
                admin: false,
                acl_id: Some("20".into()),
            },
        ];
        *self.env.borrow_mut() = [
            ("SCRYPTED_VOLUME", "/server/volume"),
            ("SCRYPTED_INSECURE_PORT", "11080"),
            ("SCRYPTED_SECURE_PORT", "10443"),
            ("SCRYPTED_INSTALL_ENVIRONMENT", "docker"),
            ("SCRYPTED_ADMIN_TOKEN", "adm-TOKEN-5f1e9c"),
            ("SCRYPTED_CLUSTER_SECRET", "cluster-SECRET-77aa"),
            (
                "SCRYPTED_WEBHOOK_UPDATE",
                "http://watchtower:8080/v1/update",
            ),
            (
                "SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION",
                "Bearer webhook-AUTH-0042",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        *self.dotenv.borrow_mut() = Some(
            "# Scrypted environment\nSCRYPTED_INSTALL_ENVIRONMENT=docker\nSCRYPTED_ADMIN_TOKEN=adm-TOKEN-5f1e9c\nSCRYPTED_CLUSTER_SECRET=cluster-SECRET-77aa\nMQTT_PASSWORD=\"mqtt PASSWORD 9\"\nTZ=Europe/Berlin\n"
                .into(),
        );
        self.next_device_id.set(100);
    }

    // ---- helpers for tests

    fn record(&self, name: &str, args: Value) -> HostResult<()> {
        self.calls.borrow_mut().push((name.to_string(), args));
        match self.fail.borrow().get(name) {
            Some(msg) => Err(HostError::new(msg.clone())),
            None => Ok(()),
        }
    }

    /// Arguments of every recorded call of `name`.
    pub fn calls_of(&self, name: &str) -> Vec<Value> {
        self.calls
            .borrow()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .collect()
    }

    pub fn called(&self, name: &str) -> bool {
        self.calls.borrow().iter().any(|(n, _)| n == name)
    }

    /// Names of every call, in order.
    pub fn call_names(&self) -> Vec<String> {
        self.calls.borrow().iter().map(|(n, _)| n.clone()).collect()
    }

    /// Calls that change something on the server (anything but reads).
    pub fn mutating_calls(&self) -> Vec<String> {
        const READS: &[&str] = &[
            "localEndpoint",
            "serverPorts",
            "systemState",
            "deviceInfo",
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
            "externalAddresses",
            "cors",
            "clusterWorkers",
            "createBackup",
        ];
        self.call_names()
            .into_iter()
            .filter(|n| !READS.contains(&n.as_str()))
            .collect()
    }

    /// Makes every later call of `name` fail with `message`.
    pub fn fail_with(&self, name: &str, message: &str) {
        self.fail
            .borrow_mut()
            .insert(name.to_string(), message.to_string());
    }

    /// A state property's value.
    pub fn prop(&self, id: &str, property: &str) -> Option<Value> {
        self.state
            .borrow()
            .get(id)
            .and_then(|m| m.get(property))
            .and_then(|p| p.get("value"))
            .cloned()
    }

    fn set_prop(&self, id: &str, property: &str, value: Value) {
        if let Some(m) = self.state.borrow_mut().get_mut(id) {
            m.insert(property.into(), v(value));
        }
    }

    fn has_device(&self, id: &str) -> bool {
        self.state.borrow().contains_key(id)
    }

    /// Adds a child device to the system state (e.g. one belonging to our own plugin).
    pub fn add_device(&self, id: &str, plugin_id: &str, native_id: &str, name: &str) {
        let mut m = Map::new();
        m.insert("id".into(), v(json!(id)));
        m.insert("nativeId".into(), v(json!(native_id)));
        m.insert("name".into(), v(json!(name)));
        m.insert("type".into(), v(json!("API")));
        m.insert("interfaces".into(), v(json!(["Settings"])));
        m.insert("pluginId".into(), v(json!(plugin_id)));
        m.insert("mixins".into(), v(json!([])));
        self.state.borrow_mut().insert(id.into(), m);
    }

    /// Installs `package` at `version` as a plugin (root device + plugin record).
    fn install(&self, package: &str, version: &str, display: &str) {
        let existing = self.plugins.borrow().get(package).map(|p| p.id.clone());
        let pid = self.next_pid.get();
        self.next_pid.set(pid + 1);
        let id = match existing {
            Some(id) => id,
            None => {
                let n = self.next_device_id.get();
                self.next_device_id.set(n + 1);
                let id = n.to_string();
                let mut m = Map::new();
                m.insert("id".into(), v(json!(id)));
                m.insert("name".into(), v(json!(display)));
                m.insert("type".into(), v(json!("API")));
                m.insert(
                    "interfaces".into(),
                    v(json!(["ScryptedPlugin", "Settings"])),
                );
                m.insert("pluginId".into(), v(json!(package)));
                m.insert("mixins".into(), v(json!([])));
                self.state.borrow_mut().insert(id.clone(), m);
                id
            }
        };
        self.plugins.borrow_mut().insert(
            package.into(),
            FakePlugin {
                id,
                version: version.into(),
                pid: Some(pid),
                clients_count: 0,
                package_json: json!({
                    "name": package, "version": version, "keywords": ["scrypted"],
                    "scrypted": {"name": display, "type": "API", "interfaces": ["ScryptedPlugin", "Settings"]}
                }),
            },
        );
    }

    /// Uninstalls a plugin: its root device and every device it owns.
    fn uninstall(&self, plugin_id: &str) {
        self.plugins.borrow_mut().remove(plugin_id);
        self.state.borrow_mut().retain(|_, m| {
            m.get("pluginId").and_then(|p| p.get("value")) != Some(&json!(plugin_id))
        });
    }

    fn plugin_of_device(&self, id: &str) -> Option<String> {
        self.prop(id, "pluginId")
            .and_then(|p| p.as_str().map(String::from))
    }

    /// The device of `plugin_id` with `native_id` (`getIdForNativeId`).
    pub fn find_device(&self, plugin_id: &str, native_id: &str) -> Option<String> {
        self.state
            .borrow()
            .iter()
            .find(|(_, m)| {
                m.get("pluginId").and_then(|p| p.get("value")) == Some(&json!(plugin_id))
                    && m.get("nativeId").and_then(|p| p.get("value")) == Some(&json!(native_id))
            })
            .map(|(id, _)| id.clone())
    }

    /// A server without @scrypted/core's `users` DeviceCreator (device "2"), e.g. core
    /// uninstalled or an old core.
    pub fn remove_core_users_provider(&self) {
        if let Some(id) = self.find_device("@scrypted/core", "users") {
            self.state.borrow_mut().remove(&id);
        }
    }

    /// `users.addUser(username, password, aclId)`: like the server, an existing name is
    /// overwritten.
    fn users_add(&self, username: &str, password: &str, acl_id: Option<&str>) {
        let mut users = self.users.borrow_mut();
        users.retain(|u| u.username != username);
        users.push(FakeUser {
            username: username.into(),
            password: password.into(),
            admin: acl_id.is_none(),
            acl_id: acl_id.map(String::from),
        });
    }

    /// core's `UsersCore.createDevice({username, password, admin})` (plugins/core/src/user.ts):
    /// a `user:<name>` device under the users provider, then `users.addUser` with that
    /// device's id as a restricted user's aclId. Returns the device id.
    fn core_create_user(&self, provider: &str, settings: &Value) -> HostResult<Value> {
        let field = |k: &str| settings.get(k).and_then(Value::as_str).unwrap_or_default();
        let (username, password) = (field("username"), field("password"));
        if username.is_empty() || password.is_empty() {
            return Err(HostError::new("username and password are required"));
        }
        let admin = settings.get("admin").and_then(Value::as_bool) == Some(true);
        let native_id = format!("user:{username}");
        let id = match self.find_device("@scrypted/core", &native_id) {
            Some(id) => id,
            None => {
                let n = self.next_device_id.get();
                self.next_device_id.set(n + 1);
                let id = n.to_string();
                self.add_device(&id, "@scrypted/core", &native_id, username);
                self.set_prop(&id, "providerId", json!(provider));
                self.set_prop(&id, "type", json!("Person"));
                self.set_prop(&id, "interfaces", json!(["ScryptedUser", "Settings"]));
                id
            }
        };
        self.users_add(username, password, (!admin).then_some(id.as_str()));
        Ok(json!(id))
    }
}

#[async_trait(?Send)]
impl Host for FakeHost {
    async fn local_endpoint(&self, insecure: bool) -> HostResult<String> {
        self.record("localEndpoint", json!({"insecure": insecure}))?;
        Ok(if insecure {
            "http://192.168.1.10:11080/endpoint/scrypted-mcp/public/".into()
        } else {
            "https://192.168.1.10:10443/endpoint/scrypted-mcp/public/".into()
        })
    }

    async fn server_ports(&self) -> HostResult<ServerPorts> {
        self.record("serverPorts", json!({}))?;
        Ok(ServerPorts {
            insecure: 11080,
            secure: 10443,
        })
    }

    async fn system_state(&self) -> HostResult<SystemState> {
        self.record("systemState", json!({}))?;
        Ok(self.state.borrow().clone())
    }

    async fn device_info(&self, id: &str) -> HostResult<Value> {
        self.record("deviceInfo", json!({"id": id}))?;
        if !self.has_device(id) {
            return Err(type_error("pluginId"));
        }
        let storage = self.storage.borrow().get(id).cloned().unwrap_or_default();
        Ok(json!({
            "mixins": self.prop(id, "mixins").unwrap_or(json!([])),
            "pluginId": self.prop(id, "pluginId"),
            "nativeId": self.prop(id, "nativeId"),
            "storage": storage,
        }))
    }

    async fn call_device_method(
        &self,
        id: &str,
        method: &str,
        args: Vec<Value>,
    ) -> HostResult<Value> {
        self.record(
            "callDeviceMethod",
            json!({"id": id, "method": method, "args": args}),
        )?;
        if !self.has_device(id) {
            return Err(type_error(method));
        }
        let arg0 = args.first().cloned().unwrap_or(Value::Null);
        let is_core_users = self.prop(id, "pluginId") == Some(json!("@scrypted/core"))
            && self.prop(id, "nativeId") == Some(json!("users"));
        match method {
            "createDevice" if is_core_users => return self.core_create_user(id, &arg0),
            "turnOn" => self.set_prop(id, "on", json!(true)),
            "turnOff" => self.set_prop(id, "on", json!(false)),
            "setBrightness" => {
                let Some(n) = arg0.as_f64() else {
                    return Err(HostError::new("brightness must be a number"));
                };
                self.set_prop(id, "brightness", json!(n));
            }
            "lock" => self.set_prop(id, "lockState", json!("Locked")),
            "unlock" => self.set_prop(id, "lockState", json!("Unlocked")),
            "refresh" => {}
            "getSettings" => {
                return Ok(json!([
                    {"key": "ip", "title": "IP Address", "value": "192.168.1.40"},
                    {"key": "password", "title": "Password", "type": "password", "value": "camera-PASSWORD-xyz"}
                ]))
            }
            "getVideoStreamOptions" => {
                return Ok(self.prop(id, "videoStreamOptions").unwrap_or(json!([])))
            }
            _ => {
                return Err(HostError::new(format!(
                    "target {id} does not have method {method}"
                )))
            }
        }
        Ok(Value::Null)
    }

    async fn remove_device(&self, id: &str) -> HostResult<()> {
        self.record("removeDevice", json!({"id": id}))?;
        let removed = self.state.borrow_mut().remove(id);
        self.storage.borrow_mut().remove(id);
        // core's UsersCore.releaseDevice → users.removeUser
        let native = removed
            .as_ref()
            .filter(|m| {
                m.get("pluginId").and_then(|p| p.get("value")) == Some(&json!("@scrypted/core"))
            })
            .and_then(|m| m.get("nativeId").and_then(|p| p.get("value")))
            .and_then(Value::as_str)
            .and_then(|n| n.strip_prefix("user:"))
            .map(String::from);
        if let Some(username) = native.filter(|_| !self.core_release_is_late.get()) {
            self.users.borrow_mut().retain(|u| u.username != username);
        }
        Ok(())
    }

    async fn package_json(&self, plugin_id: &str) -> HostResult<Value> {
        self.record("packageJson", json!({"pluginId": plugin_id}))?;
        self.plugins
            .borrow()
            .get(plugin_id)
            .map(|p| p.package_json.clone())
            .ok_or_else(|| type_error("packageJson"))
    }

    async fn plugin_info(&self, plugin_id: &str) -> HostResult<Value> {
        self.record("pluginInfo", json!({"pluginId": plugin_id}))?;
        let plugins = self.plugins.borrow();
        let p = plugins.get(plugin_id).ok_or_else(|| type_error("pid"))?;
        Ok(json!({
            "pid": p.pid,
            "clientsCount": p.clients_count,
            "rpcObjects": 42,
            "packageJson": p.package_json,
            "pendingResults": 0,
            "pendingResultCounts": {},
            "id": p.id,
        }))
    }

    async fn reload_plugin(&self, plugin_id: &str) -> HostResult<()> {
        self.record("reloadPlugin", json!({"pluginId": plugin_id}))?;
        let pid = self.next_pid.get();
        let mut plugins = self.plugins.borrow_mut();
        let p = plugins
            .get_mut(plugin_id)
            .ok_or_else(|| type_error("packageJson"))?;
        self.next_pid.set(pid + 1);
        p.pid = Some(pid);
        Ok(())
    }

    async fn kill_plugin(&self, plugin_id: &str) -> HostResult<()> {
        self.record("killPlugin", json!({"pluginId": plugin_id}))?;
        // Silent for unknown ids.
        if let Some(p) = self.plugins.borrow_mut().get_mut(plugin_id) {
            p.pid = None;
            p.clients_count = 0;
        }
        Ok(())
    }

    async fn install_npm(&self, package: &str, version: Option<&str>) -> HostResult<()> {
        self.record("installNpm", json!({"pkg": package, "version": version}))?;
        let entry = self
            .registry
            .borrow()
            .get(package)
            .cloned()
            .ok_or_else(|| {
                HostError::new(format!("Request failed with status code 404: {package}"))
            })?;
        let version = version.unwrap_or(&entry.latest).to_string();
        self.install(package, &version, &entry.display_name);
        Ok(())
    }

    async fn update_plugins(&self) -> HostResult<()> {
        self.record("updatePlugins", json!({}))?;
        let installed: Vec<(String, String)> = self
            .plugins
            .borrow()
            .iter()
            .map(|(k, p)| (k.clone(), p.version.clone()))
            .collect();
        for (plugin_id, version) in installed {
            let Some(entry) = self.registry.borrow().get(&plugin_id).cloned() else {
                continue;
            };
            if entry.deprecated {
                // The quirk: deprecated plugins are removed.
                self.uninstall(&plugin_id);
            } else if entry.latest != version {
                self.install(&plugin_id, &entry.latest, &entry.display_name);
            }
        }
        Ok(())
    }

    async fn npm_info(&self, endpoint: &str) -> HostResult<Value> {
        self.record("npmInfo", json!({"endpoint": endpoint}))?;
        if let Some(query) = endpoint.strip_prefix("-/v1/search?") {
            let objects: Vec<Value> = self
                .registry
                .borrow()
                .values()
                .map(|p| {
                    json!({"package": {"name": p.name, "version": p.latest,
                        "description": format!("{} for Scrypted", p.display_name),
                        "keywords": ["scrypted"]}})
                })
                .collect();
            return Ok(json!({"objects": objects, "total": objects.len(), "query": query}));
        }
        let parts: Vec<&str> = endpoint.trim_start_matches('/').split('/').collect();
        let scoped = parts[0].starts_with('@') && parts.len() > 1;
        let (name, version) = if scoped {
            (
                format!("{}/{}", parts[0], parts[1]),
                parts.get(2).map(|s| s.to_string()),
            )
        } else {
            (parts[0].to_string(), parts.get(1).map(|s| s.to_string()))
        };
        let registry = self.registry.borrow();
        let p = registry
            .get(&name)
            .ok_or_else(|| HostError::new("Request failed with status code 404"))?;
        let mut manifest = json!({"name": p.name, "version": p.latest, "keywords": ["scrypted"],
            "scrypted": {"name": p.display_name}});
        if p.deprecated {
            manifest["deprecated"] = json!("this package is no longer maintained");
        }
        match version {
            Some(ver) if ver == "latest" || ver == p.latest => Ok(manifest),
            Some(_) => Err(HostError::new("Request failed with status code 404")),
            None => Ok(json!({
                "name": p.name,
                "dist-tags": {"latest": p.latest},
                "versions": {p.latest.clone(): manifest},
                "time": {"modified": "2026-10-01T00:00:00.000Z"},
                "readme": "x".repeat(20_000),
            })),
        }
    }

    async fn rename_device_id(&self, id: &str, new_id: &str) -> HostResult<()> {
        self.record("renameDeviceId", json!({"id": id, "newId": new_id}))?;
        // No collision check: the quirk is that the new id silently overwrites.
        let mut st = self.state.borrow_mut();
        let mut m = st.remove(id).ok_or_else(|| type_error("pluginId"))?;
        m.insert("id".into(), v(json!(new_id)));
        st.insert(new_id.into(), m);
        drop(st);
        let mut storage = self.storage.borrow_mut();
        if let Some(s) = storage.remove(id) {
            storage.insert(new_id.into(), s);
        }
        Ok(())
    }

    async fn set_mixins(&self, id: &str, mixins: Vec<String>) -> HostResult<()> {
        self.record("setMixins", json!({"id": id, "mixins": mixins}))?;
        if !self.has_device(id) {
            return Err(type_error("mixins"));
        }
        if mixins.iter().any(|m| m == id) {
            return Err(HostError::new(format!("mixin cycle detected on {id}")));
        }
        let mut deduped: Vec<String> = Vec::new();
        for m in mixins {
            if !deduped.contains(&m) {
                deduped.push(m);
            }
        }
        self.set_prop(id, "mixins", json!(deduped));
        Ok(())
    }

    async fn get_storage(&self, id: &str) -> HostResult<BTreeMap<String, String>> {
        self.record("getStorage", json!({"id": id}))?;
        Ok(self.storage.borrow().get(id).cloned().unwrap_or_default())
    }

    async fn set_storage(&self, id: &str, storage: BTreeMap<String, String>) -> HostResult<()> {
        self.record("setStorage", json!({"id": id, "storage": storage}))?;
        if !self.has_device(id) {
            return Err(type_error("storage"));
        }
        self.storage.borrow_mut().insert(id.into(), storage);
        Ok(())
    }

    async fn id_for_plugin_id(&self, plugin_id: &str) -> HostResult<Option<String>> {
        self.record("idForPluginId", json!({"pluginId": plugin_id}))?;
        Ok(self.plugins.borrow().get(plugin_id).map(|p| p.id.clone()))
    }

    async fn id_for_native_id(
        &self,
        plugin_id: &str,
        native_id: &str,
    ) -> HostResult<Option<String>> {
        self.record(
            "idForNativeId",
            json!({"pluginId": plugin_id, "nativeId": native_id}),
        )?;
        Ok(self.find_device(plugin_id, native_id))
    }

    async fn disconnect_clients(&self, plugin_id: &str) -> HostResult<()> {
        self.record("disconnectClients", json!({"pluginId": plugin_id}))?;
        if let Some(p) = self.plugins.borrow_mut().get_mut(plugin_id) {
            p.clients_count = 0;
        }
        Ok(())
    }

    async fn clear_console(&self, id: &str) -> HostResult<()> {
        self.record("clearConsole", json!({"id": id}))?;
        if !self.has_device(id) {
            return Err(type_error("nativeId"));
        }
        self.consoles.borrow_mut().insert(id.into(), Vec::new());
        Ok(())
    }

    async fn logs(&self, device_id: Option<&str>) -> HostResult<Vec<LogEntry>> {
        self.record("logs", json!({"deviceId": device_id}))?;
        let logs = self.logs.borrow();
        Ok(match device_id {
            None => logs.clone(),
            // getLogger('device').getLogger(id) creates a missing child: empty, no error.
            Some(id) => {
                let path = format!("/device/{id}");
                logs.iter()
                    .filter(|l| l.path.as_deref() == Some(path.as_str()))
                    .cloned()
                    .collect()
            }
        })
    }

    async fn clear_logs(&self, device_id: Option<&str>) -> HostResult<()> {
        self.record("clearLogs", json!({"deviceId": device_id}))?;
        match device_id {
            None => {
                // Root clear: every log and every alert.
                self.logs.borrow_mut().clear();
                self.alerts.borrow_mut().clear();
            }
            Some(id) => {
                let path = format!("/device/{id}");
                self.logs
                    .borrow_mut()
                    .retain(|l| l.path.as_deref() != Some(path.as_str()));
                self.alerts
                    .borrow_mut()
                    .retain(|a| a.path.as_deref() != Some(path.as_str()));
            }
        }
        Ok(())
    }

    async fn alerts(&self) -> HostResult<Vec<Alert>> {
        self.record("alerts", json!({}))?;
        Ok(self.alerts.borrow().clone())
    }

    async fn remove_alert(&self, id: &str) -> HostResult<()> {
        self.record("removeAlert", json!({"_id": id}))?;
        self.alerts.borrow_mut().retain(|a| a.id != id);
        Ok(())
    }

    async fn clear_alerts(&self) -> HostResult<()> {
        self.record("clearAlerts", json!({}))?;
        self.alerts.borrow_mut().clear();
        Ok(())
    }

    async fn server_version(&self) -> HostResult<String> {
        self.record("serverVersion", json!({}))?;
        Ok(self.version.borrow().clone())
    }

    async fn scrypted_env(&self) -> HostResult<BTreeMap<String, String>> {
        self.record("scryptedEnv", json!({}))?;
        Ok(self.env.borrow().clone())
    }

    async fn dotenv(&self) -> HostResult<String> {
        self.record("dotEnv", json!({}))?;
        self.dotenv.borrow().clone().ok_or_else(|| {
            HostError::new("ENOENT: no such file or directory, open '/server/volume/.env'")
        })
    }

    async fn set_dotenv(&self, text: &str) -> HostResult<()> {
        self.record("setDotEnv", json!({"text": text}))?;
        *self.dotenv.borrow_mut() = Some(text.to_string());
        Ok(())
    }

    async fn users(&self) -> HostResult<Vec<User>> {
        self.record("users", json!({}))?;
        Ok(self
            .users
            .borrow()
            .iter()
            .map(|u| User {
                username: u.username.clone(),
                admin: u.admin,
            })
            .collect())
    }

    async fn add_user(
        &self,
        username: &str,
        password: &str,
        acl_id: Option<&str>,
    ) -> HostResult<()> {
        self.record(
            "addUser",
            json!({"username": username, "password": password, "aclId": acl_id}),
        )?;
        self.users_add(username, password, acl_id);
        Ok(())
    }

    /// The raw component: core's `user:<name>` device (if any) stays, out of sync, as on
    /// the real server.
    async fn remove_user(&self, username: &str) -> HostResult<()> {
        self.record("removeUser", json!({"username": username}))?;
        self.users.borrow_mut().retain(|u| u.username != username);
        Ok(())
    }

    async fn local_addresses(&self) -> HostResult<Option<Vec<String>>> {
        self.record("localAddresses", json!({}))?;
        Ok(self.local_addresses.borrow().clone())
    }

    async fn set_local_addresses(&self, addresses: Vec<String>) -> HostResult<()> {
        self.record("setLocalAddresses", json!({"addresses": addresses}))?;
        *self.local_addresses.borrow_mut() = Some(addresses);
        Ok(())
    }

    async fn external_addresses(&self, id: &str) -> HostResult<Vec<String>> {
        self.record("externalAddresses", json!({"id": id}))?;
        Ok(self.external.borrow().get(id).cloned().unwrap_or_default())
    }

    async fn set_external_addresses(&self, id: &str, addresses: Vec<String>) -> HostResult<()> {
        self.record(
            "setExternalAddresses",
            json!({"id": id, "addresses": addresses}),
        )?;
        self.external.borrow_mut().insert(id.into(), addresses);
        Ok(())
    }

    async fn cors(&self, id: &str) -> HostResult<Vec<String>> {
        self.record("cors", json!({"id": id}))?;
        Ok(self.cors_map.borrow().get(id).cloned().unwrap_or_default())
    }

    async fn set_cors(&self, id: &str, origins: Vec<String>) -> HostResult<()> {
        self.record("setCors", json!({"id": id, "origins": origins}))?;
        self.cors_map.borrow_mut().insert(id.into(), origins);
        Ok(())
    }

    async fn cluster_workers(&self) -> HostResult<Value> {
        self.record("clusterWorkers", json!({}))?;
        Ok(self.cluster.borrow().clone())
    }

    async fn create_backup(&self) -> HostResult<Vec<u8>> {
        self.record("createBackup", json!({}))?;
        Ok(self.backup.borrow().clone())
    }

    fn defer(&self, delay_ms: u32, action: Deferred) {
        let _ = self.record(
            "defer",
            json!({"delayMs": delay_ms, "action": serde_json::to_value(&action).unwrap()}),
        );
        self.deferred.borrow_mut().push((delay_ms, action));
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.console.borrow_mut().push((level, message.to_string()));
    }

    fn settings_changed(&self) {
        self.settings_changed_count
            .set(self.settings_changed_count.get() + 1);
    }
}

/// One `notifications/progress`: (progress, total, message).
pub type ProgressNote = (f64, Option<f64>, Option<String>);

/// A scriptable MCP client: whether it declared elicitation, and the answers it gives.
pub struct FakePeer {
    pub elicitation: bool,
    /// Answers popped in order; when empty, `elicit` returns `Err`.
    pub answers: RefCell<Vec<Result<Elicited, String>>>,
    /// Every `(message, requestedSchema)` elicited.
    pub asked: RefCell<Vec<(String, Value)>>,
    pub progress: RefCell<Vec<ProgressNote>>,
    pub logs: RefCell<Vec<(String, Value)>>,
}

impl FakePeer {
    pub fn new(elicitation: bool) -> Self {
        FakePeer {
            elicitation,
            answers: RefCell::default(),
            asked: RefCell::default(),
            progress: RefCell::default(),
            logs: RefCell::default(),
        }
    }

    /// A peer that supports elicitation and will give `answer`.
    pub fn answering(answer: Elicited) -> Self {
        let peer = Self::new(true);
        peer.answers.borrow_mut().push(Ok(answer));
        peer
    }
}

#[async_trait(?Send)]
impl Peer for FakePeer {
    fn supports_elicitation(&self) -> bool {
        self.elicitation
    }
    async fn elicit(&self, message: &str, requested_schema: Value) -> Result<Elicited, String> {
        self.asked
            .borrow_mut()
            .push((message.to_string(), requested_schema));
        let mut answers = self.answers.borrow_mut();
        if answers.is_empty() {
            return Err("no answer scripted".into());
        }
        answers.remove(0)
    }
    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        self.progress
            .borrow_mut()
            .push((progress, total, message.map(String::from)));
    }
    fn log(&self, level: &str, data: Value) {
        self.logs.borrow_mut().push((level.to_string(), data));
    }
}

/// The caller the tests use: the admin, through client "test-client".
pub fn admin_caller() -> Caller {
    Caller {
        sub: "admin".into(),
        client_id: "test-client".into(),
    }
}

/// A Plugin over a fresh FakeHost, MemStore and a clock at `NOW_MS`.
pub fn plugin() -> (
    scrypted_mcp::Plugin,
    Rc<FakeHost>,
    Rc<MemStore>,
    Rc<FixedClock>,
) {
    let host = Rc::new(FakeHost::new());
    let store = Rc::new(MemStore::default());
    let clock = Rc::new(FixedClock::at_ms(NOW_MS));
    let plugin = scrypted_mcp::Plugin::new(host.clone(), store.clone(), clock.clone());
    (plugin, host, store, clock)
}

/// The 39 tools issue 3 names, in its order: the catalogue the plugin must list.
pub const ISSUE_TOOLS: [&str; 39] = [
    "list_plugins",
    "get_plugin_info",
    "reload_plugin",
    "kill_plugin",
    "install_plugin",
    "update_plugins",
    "npm_info",
    "rename_device_id",
    "set_mixins",
    "get_storage",
    "set_storage",
    "get_id_for_native_id",
    "disconnect_clients",
    "clear_console",
    "list_devices",
    "get_device",
    "call_device_method",
    "get_logs",
    "clear_logs",
    "list_alerts",
    "remove_alert",
    "clear_alerts",
    "get_server_info",
    "restart_server",
    "update_server",
    "get_dotenv",
    "set_dotenv",
    "list_users",
    "add_user",
    "remove_user",
    "get_local_addresses",
    "set_local_addresses",
    "get_external_addresses",
    "set_external_addresses",
    "get_cors",
    "set_cors",
    "list_cluster_workers",
    "create_backup",
    "restore_backup",
];
