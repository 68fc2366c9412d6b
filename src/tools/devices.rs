//! Devices: `systemManager` state and device calls (docs/reference/scrypted-host.md §4, §10).

use super::redact::{redact_property, redact_settings};
use super::resolve::{
    admin_only_device, interfaces_of, is_own_device, prop_of, refuse_own_device, DeviceUse,
    Snapshot,
};
use super::schema::{ok, page_bounds, tool, Page, DESTRUCTIVE, READ};
use super::secrets::REDACTED;
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use crate::oauth::Scope;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};
use std::rc::Rc;

/// State properties left out of get_device unless include_bulky.
pub const BULKY_PROPERTIES: &[&str] = &[
    "pictureDimensions",
    "videoStreamOptions",
    "ptzCapabilities",
    "videoTextOverlays",
    "privacyMasks",
    "recordingStreamOptions",
    "objectDetectionTypes",
    "videoClips",
];
/// A property whose JSON is longer than this is bulky too.
pub const BULKY_BYTES: usize = 1024;
/// Largest call_device_method result returned in full.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// Methods of each Scrypted interface (`ScryptedInterfaceDescriptors`, @scrypted/types).
pub const INTERFACE_METHODS: &[(&str, &[&str])] = &[
    ("AirPurifier", &["setAirPurifierState"]),
    ("AudioVolumeControl", &["setAudioVolumes"]),
    ("Brightness", &["setBrightness"]),
    ("BufferConverter", &["convert"]),
    ("Camera", &["getPictureOptions", "takePicture"]),
    (
        "ChatCompletion",
        &["getChatCompletion", "streamChatCompletion"],
    ),
    ("ClusterForkInterface", &["forkInterface"]),
    ("ColorSettingHsv", &["setHsv"]),
    ("ColorSettingRgb", &["setRgb"]),
    (
        "ColorSettingTemperature",
        &[
            "getTemperatureMaxK",
            "getTemperatureMinK",
            "setColorTemperature",
        ],
    ),
    (
        "DeviceCreator",
        &["createDevice", "getCreateDeviceSettings"],
    ),
    ("DeviceDiscovery", &["adoptDevice", "discoverDevices"]),
    ("DeviceProvider", &["getDevice", "releaseDevice"]),
    ("Display", &["startDisplay", "stopDisplay"]),
    ("Dock", &["dock"]),
    ("EngineIOHandler", &["onConnection"]),
    ("Entry", &["closeEntry", "openEntry"]),
    ("EventRecorder", &["getRecordedEvents"]),
    ("Fan", &["setFan"]),
    ("HttpRequestHandler", &["onRequest"]),
    ("HumiditySetting", &["setHumidity"]),
    ("ImageEmbedding", &["getImageEmbedding"]),
    ("Intercom", &["startIntercom", "stopIntercom"]),
    ("LLMTools", &["callLLMTool", "getLLMTools"]),
    ("Lock", &["lock", "unlock"]),
    ("MediaConverter", &["convertMedia"]),
    (
        "MediaPlayer",
        &["getMediaStatus", "load", "seek", "skipNext", "skipPrevious"],
    ),
    ("Microphone", &["getAudioStream"]),
    ("MixinProvider", &["canMixin", "getMixin", "releaseMixin"]),
    ("Notifier", &["sendNotification"]),
    ("OauthClient", &["getOauthUrl", "onOauthCallback"]),
    (
        "ObjectDetection",
        &[
            "detectObjects",
            "generateObjectDetections",
            "getDetectionModel",
        ],
    ),
    ("ObjectDetector", &["getDetectionInput", "getObjectTypes"]),
    ("OnOff", &["turnOff", "turnOn"]),
    ("PanTiltZoom", &["ptzCommand"]),
    (
        "PasswordStore",
        &["addPassword", "getPasswords", "removePassword"],
    ),
    ("Pause", &["pause", "resume"]),
    ("PressButtons", &["pressButton"]),
    ("Program", &["run"]),
    ("PushHandler", &["onPush"]),
    ("Readme", &["getReadmeMarkdown"]),
    ("Reboot", &["reboot"]),
    ("Refresh", &["getRefreshFrequency", "refresh"]),
    ("Scene", &["activate", "deactivate", "isReversible"]),
    ("Scriptable", &["eval", "loadScripts", "saveScript"]),
    (
        "ScryptedDevice",
        &[
            "listen",
            "probe",
            "setMixins",
            "setName",
            "setRoom",
            "setType",
        ],
    ),
    ("ScryptedPlugin", &["getPluginJson"]),
    ("ScryptedUser", &["getScryptedUserAccessControl"]),
    (
        "SecuritySystem",
        &["armSecuritySystem", "disarmSecuritySystem"],
    ),
    ("Settings", &["getSettings", "putSetting"]),
    ("StartStop", &["start", "stop"]),
    ("StreamService", &["connectStream"]),
    ("TemperatureSetting", &["setTemperature"]),
    ("TextEmbedding", &["getTextEmbedding"]),
    ("Thermometer", &["setTemperatureUnit"]),
    ("TTYSettings", &["getTTYSettings"]),
    ("VideoCamera", &["getVideoStream", "getVideoStreamOptions"]),
    ("VideoCameraConfiguration", &["setVideoStreamOptions"]),
    ("VideoCameraMask", &["getPrivacyMasks", "setPrivacyMasks"]),
    (
        "VideoClips",
        &[
            "getVideoClip",
            "getVideoClips",
            "getVideoClipThumbnail",
            "removeVideoClips",
        ],
    ),
    ("VideoFrameGenerator", &["generateVideoFrames"]),
    (
        "VideoRecorder",
        &[
            "getRecordingStream",
            "getRecordingStreamCurrentTime",
            "getRecordingStreamOptions",
            "getRecordingStreamThumbnail",
        ],
    ),
    (
        "VideoRecorderManagement",
        &["deleteRecordingStream", "setRecordingActive"],
    ),
    (
        "VideoTextOverlays",
        &["getVideoTextOverlays", "setVideoTextOverlay"],
    ),
];

/// Methods call_device_method will not call even when an interface has them.
const BLOCKED_METHODS: &[&str] = &["listen", "setMixins"];

/// Methods that administer Scrypted rather than operate the home, so they need scrypted:admin
/// where call_device_method itself needs control: they make, remove or adopt devices (core's
/// Users provider makes accounts, admins among them, with `createDevice`), run, change or read
/// a script's code, manage a lock's user codes, or reach a plugin's internals (cluster forks,
/// HTTP, engine.io and push handlers, OAuth callbacks, mixins, media streams).
pub const ADMIN_METHODS: &[&str] = &[
    "addPassword",
    "adoptDevice",
    "connectStream",
    "createDevice",
    "eval",
    "forkInterface",
    "getMixin",
    "getPasswords",
    "loadScripts",
    "onConnection",
    "onOauthCallback",
    "onPush",
    "onRequest",
    "releaseDevice",
    "releaseMixin",
    "removePassword",
    "saveScript",
];

/// The callable methods of a device with these interfaces.
pub fn methods_for(interfaces: &[String]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (iface, methods) in INTERFACE_METHODS {
        if *iface == "ScryptedDevice" || interfaces.iter().any(|i| i == iface) {
            for m in *methods {
                if !BLOCKED_METHODS.contains(m) && !out.contains(m) {
                    out.push(m);
                }
            }
        }
    }
    crate::order::sort(&mut out);
    out
}

// ---------- list_devices

pub const LIST_DEVICES: ToolDef = tool! {
    name: "list_devices",
    title: "List devices",
    description: "Lists Scrypted devices (id, name, type, room, plugin, interfaces), optionally filtered by interface (exact, e.g. \"OnOff\"), type (exact, e.g. \"Camera\"), name (case-insensitive substring), room or plugin_id. Pages with limit/offset; `truncated: true` means call again with the given offset. Use get_device for a device's state.",
    input: ListDevicesArgs,
    output: ListDevicesOut,
    hints: READ,
    scope: Read,
    run: list_devices,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct ListDevicesArgs {
    /// Only devices that implement this interface (exact, e.g. "OnOff", "Camera", "MixinProvider").
    #[serde(default)]
    pub interface: Option<String>,
    /// Only devices of this type (exact, e.g. "Light", "Camera", "Lock", "Sensor").
    #[serde(default, rename = "type")]
    pub device_type: Option<String>,
    /// Only devices whose name contains this text (case-insensitive).
    #[serde(default)]
    pub name: Option<String>,
    /// Only devices in this room (case-insensitive, exact).
    #[serde(default)]
    pub room: Option<String>,
    /// Only devices of this plugin (npm package name).
    #[serde(default)]
    pub plugin_id: Option<String>,
    /// Most devices to return (default 100, at most 500).
    #[serde(default)]
    pub limit: Option<u32>,
    /// How many matching devices to skip (for paging; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
}

crate::fields::args!(ListDevicesArgs {
    interface: optional,
    device_type: optional("type"),
    name: optional,
    room: optional,
    plugin_id: optional,
    limit: optional,
    offset: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeviceSummary {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub device_type: Option<String>,
    pub room: Option<String>,
    pub plugin_id: Option<String>,
    /// The owning plugin's id for this device; null for plugin root devices.
    pub native_id: Option<String>,
    pub interfaces: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListDevicesOut {
    pub devices: Vec<DeviceSummary>,
    /// Devices matching the filters, in all.
    #[serde(flatten)]
    pub page: Page,
}

fn opt_str(m: &Map<String, Value>, k: &str) -> Option<String> {
    prop_of(m, k).and_then(Value::as_str).map(String::from)
}

fn numeric_key(id: &str) -> (u64, String) {
    (id.parse::<u64>().unwrap_or(u64::MAX), id.to_string())
}

/// Every device of a snapshot, in id order (list_devices, and the `scrypted://devices`
/// resource).
pub fn summaries(snap: &Snapshot) -> Vec<DeviceSummary> {
    let mut all: Vec<DeviceSummary> = snap
        .devices()
        .map(|(id, m)| DeviceSummary {
            id: id.clone(),
            name: opt_str(m, "name"),
            device_type: opt_str(m, "type"),
            room: opt_str(m, "room").filter(|r| !r.is_empty()),
            plugin_id: opt_str(m, "pluginId"),
            native_id: opt_str(m, "nativeId"),
            interfaces: interfaces_of(m),
        })
        .collect();
    crate::order::sort_by_key(&mut all, |d| numeric_key(&d.id));
    all
}

async fn list_devices(tc: Rc<ToolContext>, a: ListDevicesArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    let name = a.name.as_deref().map(str::to_lowercase);
    let room = a.room.as_deref().map(str::to_lowercase);
    let matched: Vec<DeviceSummary> = summaries(&snap)
        .into_iter()
        .filter(|d| {
            a.interface
                .as_ref()
                .is_none_or(|i| d.interfaces.contains(i))
                && a.device_type
                    .as_ref()
                    .is_none_or(|t| d.device_type.as_ref() == Some(t))
                && name.as_ref().is_none_or(|n| {
                    d.name
                        .as_deref()
                        .is_some_and(|dn| dn.to_lowercase().contains(n))
                })
                && room
                    .as_ref()
                    .is_none_or(|r| d.room.as_deref().is_some_and(|dr| dr.to_lowercase() == *r))
                && a.plugin_id
                    .as_ref()
                    .is_none_or(|p| d.plugin_id.as_ref() == Some(p))
        })
        .collect();
    let total = matched.len();
    let offset = a.offset.unwrap_or(0) as usize;
    let limit = page_bounds(a.limit, 100, 500);
    let devices: Vec<DeviceSummary> = matched.into_iter().skip(offset).take(limit).collect();
    let page = Page::new("list_devices", offset, devices.len(), total);
    ok(ListDevicesOut { devices, page })
}

// ---------- get_device

pub const GET_DEVICE: ToolDef = tool! {
    name: "get_device",
    title: "Get a device",
    description: "Every state property of one device (on, brightness, lockState, temperature, …) plus its interfaces, mixins and the NAMES of its storage keys. Secret-looking state values come back as \"[REDACTED]\" (listed in redacted_keys). The same snapshot is the resource scrypted://devices/{id}, which clients can subscribe to. Bulky properties (camera stream options, picture dimensions, PTZ capabilities and anything over 1 KB) are left out and listed in `omitted` unless include_bulky is true. Storage VALUES are never returned here, because plugins keep passwords and API keys there; read them with get_storage (which redacts secrets by default).",
    input: GetDeviceArgs,
    output: GetDeviceOut,
    hints: READ,
    scope: Read,
    run: get_device,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct GetDeviceArgs {
    /// Scrypted device id (see list_devices).
    pub id: String,
    /// Include bulky properties such as camera stream options (default false).
    #[serde(default)]
    pub include_bulky: bool,
}

crate::fields::args!(GetDeviceArgs {
    id: required,
    include_bulky: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct GetDeviceOut {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub device_type: Option<String>,
    pub plugin_id: Option<String>,
    pub native_id: Option<String>,
    pub interfaces: Vec<String>,
    /// Mixin provider device ids applied to this device.
    pub mixins: Vec<String>,
    /// Every other state property: name → value.
    pub state: Map<String, Value>,
    /// State properties whose values were (partly) redacted as secret-looking.
    pub redacted_keys: Vec<String>,
    /// Bulky properties left out (ask again with include_bulky: true).
    pub omitted: Vec<String>,
    /// Names of the device's storage keys; values via get_storage. Empty for this MCP
    /// plugin's own devices.
    pub storage_keys: Vec<String>,
    /// Methods call_device_method can call on this device.
    pub methods: Vec<String>,
}

async fn get_device(tc: Rc<ToolContext>, a: GetDeviceArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    ok(device_snapshot(&tc, &snap, a.id, a.include_bulky).await?)
}

/// get_device's answer for a device `snap` holds (also the `scrypted://devices/{id}`
/// resource).
pub async fn device_snapshot(
    tc: &ToolContext,
    snap: &Snapshot,
    id: String,
    include_bulky: bool,
) -> Result<GetDeviceOut, ToolError> {
    let device = snap.require_device(&id)?.clone();
    // This plugin's storage key names (client ids, token hashes) stay private too.
    let own = is_own_device(tc, snap, &id).await?;
    let info = tc.ctx.host.device_info(&id).await?;
    let mut state = Map::new();
    let mut omitted = Vec::new();
    let mut redacted_keys = Vec::new();
    const TOP: &[&str] = &[
        "id",
        "name",
        "type",
        "pluginId",
        "nativeId",
        "interfaces",
        "mixins",
    ];
    for (k, p) in &device {
        if TOP.contains(&k.as_str()) {
            continue;
        }
        let mut value = p.get("value").cloned().unwrap_or(Value::Null);
        let bulky = BULKY_PROPERTIES.contains(&k.as_str())
            || serde_json::to_string(&value).map_or(0, |s| s.len()) > BULKY_BYTES;
        if bulky && !include_bulky {
            omitted.push(k.clone());
        } else {
            if redact_property(k, &mut value) {
                redacted_keys.push(k.clone());
            }
            state.insert(k.clone(), value);
        }
    }
    let storage_keys = if own {
        Vec::new()
    } else {
        info.get("storage")
            .and_then(Value::as_object)
            .map(|s| s.keys().cloned().collect())
            .unwrap_or_default()
    };
    let ids = |list: &Value| -> Option<Vec<String>> {
        let list = list.as_array()?;
        Some(
            list.iter()
                .filter_map(|m| m.as_str().map(String::from))
                .collect(),
        )
    };
    let mixins = info
        .get("mixins")
        .and_then(ids)
        .or_else(|| prop_of(&device, "mixins").and_then(ids))
        .unwrap_or_default();
    let interfaces = interfaces_of(&device);
    Ok(GetDeviceOut {
        id,
        name: opt_str(&device, "name"),
        device_type: opt_str(&device, "type"),
        plugin_id: opt_str(&device, "pluginId"),
        native_id: opt_str(&device, "nativeId"),
        methods: methods_for(&interfaces)
            .into_iter()
            .map(String::from)
            .collect(),
        interfaces,
        mixins,
        state,
        redacted_keys,
        omitted,
        storage_keys,
    })
}

// ---------- call_device_method

pub const CALL_DEVICE_METHOD: ToolDef = tool! {
    name: "call_device_method",
    title: "Call a device method",
    description: "Calls a method of a device's Scrypted interfaces with JSON arguments, e.g. turnOn / turnOff (OnOff), setBrightness [50] (Brightness), lock / unlock (Lock), getSettings / putSetting [\"key\", value] (Settings), setName [\"New name\"]. The method must belong to one of the device's interfaces (get_device lists them); listen and setMixins are not callable here (use set_mixins). This is full control of the device (locks, alarms, cameras): confirm with the user before actions with physical effect. Results that are not JSON (media objects, buffers) come back as Scrypted serialized them; results over 64 KB are cut off. Methods that make, remove or adopt devices (createDevice, releaseDevice, adoptDevice), run, change or read a script (eval, saveScript, loadScripts), manage a lock's user codes (addPassword, removePassword, getPasswords) or reach a plugin's internals (forkInterface, onRequest, onConnection, onPush, onOauthCallback, getMixin, releaseMixin, connectStream), any method of a user's account device, and any method of an automation but turnOn / turnOff (its actions are code), need scrypted:admin. Password-typed and secret-looking setting values (e.g. from getSettings) and lock codes come back as \"[REDACTED]\", the settings listed in redacted_keys; the placeholder is refused as an argument, so it can never overwrite the real secret. Refused for this MCP plugin's own devices.",
    input: CallArgs,
    output: CallOut,
    hints: DESTRUCTIVE,
    scope: Control,
    run: call_device_method,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct CallArgs {
    /// Scrypted device id (see list_devices).
    pub id: String,
    /// Method name, e.g. "turnOn", "setBrightness", "getSettings".
    pub method: String,
    /// Positional arguments as JSON values (default none), e.g. [50] for setBrightness.
    #[serde(default)]
    pub args: Vec<Value>,
}

crate::fields::args!(CallArgs {
    id: required,
    method: required,
    args: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct CallOut {
    pub id: String,
    pub method: String,
    /// What the method returned (null for void methods).
    pub result: Value,
    /// True when the result was longer than 64 KB and was cut off (result is then a
    /// string prefix of its JSON).
    pub truncated: bool,
    /// Keys of settings in the result whose values were replaced by "[REDACTED]"
    /// (password-typed or secret-looking).
    pub redacted_keys: Vec<String>,
}

async fn call_device_method(tc: Rc<ToolContext>, a: CallArgs) -> ToolResult {
    if a.method.is_empty()
        || !a
            .method
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ToolError::InvalidParams(format!(
            "'{}' is not a method name.",
            a.method
        )));
    }
    let snap = Snapshot::load(&tc).await?;
    let device = snap.require_device(&a.id)?;
    let interfaces = interfaces_of(device);
    refuse_own_device(&tc, &snap, &a.id, "calling its methods").await?;
    if BLOCKED_METHODS.contains(&a.method.as_str()) {
        return Err(ToolError::failed(format!(
            "{} cannot be called through call_device_method{}.",
            a.method,
            if a.method == "setMixins" {
                "; use set_mixins"
            } else {
                ""
            }
        )));
    }
    let methods = methods_for(&interfaces);
    if !methods.contains(&a.method.as_str()) {
        return Err(ToolError::failed(format!(
            "Device {} ({}) has no method {} on its interfaces [{}]. Callable methods: {}.",
            a.id,
            snap.str_prop(&a.id, "name").unwrap_or("?"),
            a.method,
            interfaces.join(", "),
            methods.join(", ")
        )));
    }
    if ADMIN_METHODS.contains(&a.method.as_str()) {
        tc.require(Scope::Admin, &format!("call_device_method {}", a.method))?;
    }
    if let Some(what) = admin_only_device(&snap, &a.id, DeviceUse::Method(&a.method)) {
        tc.require(
            Scope::Admin,
            &format!("Calling a method of device {} ({what})", a.id),
        )?;
    }
    // Anywhere in the arguments: a list or record shown with a placeholder inside it
    // (getSettings' `multiple` settings) sent back would store the placeholder too.
    if a.args.iter().any(|v| v.to_string().contains(REDACTED)) {
        return Err(ToolError::failed(format!(
            "An argument is the redaction placeholder {REDACTED}, which stands for a secret this tool did not show; sending it would store the placeholder itself. Give the real value, or leave that setting alone. Nothing was changed."
        )));
    }
    let mut result = tc
        .ctx
        .host
        .call_device_method(&a.id, &a.method, a.args)
        .await?;
    if a.method == "getPasswords" {
        // A lock's user codes: only how many there are is shown.
        if let Value::Array(codes) = &mut result {
            codes.fill(Value::String(REDACTED.into()));
        }
    }
    let redacted_keys = redact_settings(&mut result);
    // Whatever else a method answers (a camera's stream options with their URLs) is shown
    // as get_device shows state; a Setting's `key` field names the setting, no secret.
    if a.method != "getSettings" {
        redact_property("", &mut result);
    }
    let text = serde_json::to_string(&result).unwrap_or_default();
    let (result, truncated) = if text.len() > MAX_RESULT_BYTES {
        let mut end = MAX_RESULT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        (Value::String(text[..end].to_string()), true)
    } else {
        (result, false)
    };
    ok(CallOut {
        id: a.id,
        method: a.method,
        result,
        truncated,
        redacted_keys,
    })
}
