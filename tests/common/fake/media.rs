//! Cameras and device events, as js-shim/dev/media.mjs and events.mjs simulate them
//! (docs/reference/scrypted-host.md §14):
//! - `takePicture` answers `{mimeType, data: base64}`: a real JPEG (jpeg-encoder) of the
//!   requested width, 16:9, unless the camera's mode says otherwise (`CAMERA_MODES`);
//! - a state property set to a different value fires one event in the JSON
//!   `js-shim/host.js` `listenToDevices` hands the wasm; the same value fires none; removals,
//!   descriptor changes and alerts fire theirs. Events are recorded in `events` and handed to
//!   the listener (`listen`), which in the plugin only queues them.

use super::*;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use scrypted_mcp::crypto;
use std::rc::Rc;

/// media.mjs `CAMERA_MODES`.
pub const CAMERA_MODES: [&str; 6] = ["jpeg", "noise", "native", "png", "fail", "hang"];
/// Width of a camera's pictures when none is asked for, or in `native` mode.
pub const NATIVE_WIDTH: u32 = 1920;

/// A real 1×1 PNG.
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// The property → interface entries of the demo's properties (ScryptedInterfaceDescriptors).
const PROPERTY_INTERFACES: &[(&str, &str)] = &[
    ("on", "OnOff"),
    ("brightness", "Brightness"),
    ("colorTemperature", "ColorSettingTemperature"),
    ("lockState", "Lock"),
    ("batteryLevel", "Battery"),
    ("online", "Online"),
    ("motionDetected", "MotionSensor"),
    ("temperature", "Thermometer"),
    ("temperatureUnit", "Thermometer"),
    ("humidity", "HumiditySensor"),
    ("binaryState", "BinarySensor"),
    ("entryOpen", "EntrySensor"),
];

/// A JPEG `width` wide, 16:9: a gradient, or per-pixel noise (which compresses badly).
pub fn jpeg_picture(width: u32, noise: bool) -> Vec<u8> {
    let height = (width * 9).div_ceil(16).max(1);
    let mut seed: u32 = 12345;
    let mut rgb = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = if noise { (seed >> 24) as u8 } else { 0 };
            rgb.push((x * 255 / width) as u8 ^ n);
            rgb.push((y * 255 / height) as u8 ^ n);
            rgb.push(128 ^ n);
        }
    }
    let mut out = Vec::new();
    // Full-resolution colour, as jpeg-js (the dev host's encoder) writes it.
    let mut encoder = Encoder::new(&mut out, 80);
    encoder.set_sampling_factor(SamplingFactor::R_4_4_4);
    encoder
        .encode(&rgb, width as u16, height as u16, ColorType::Rgb)
        .expect("encodes");
    out
}

impl FakeBridge {
    /// host.js `takePicture` over `getDeviceById(id).takePicture(...)` and the media manager.
    pub(super) fn take_picture(&self, a: &Value) -> Answer {
        let id = text(a, "id")?;
        let Some(d) = self.devices.borrow().get(&id).cloned() else {
            return Err(Fail::Local(
                "Cannot read properties of undefined (reading 'takePicture')".into(),
            ));
        };
        if !d.interfaces.iter().any(|i| i == "Camera") {
            // plugin-device.ts:382, as for every method the device's interfaces lack.
            return Err(Fail::Remote("takePicture not implemented".into()));
        }
        let mode = self.camera_mode(&id);
        let asked = a["width"].as_u64().filter(|w| *w > 0).map(|w| w as u32);
        let width = match (mode.as_str(), asked) {
            ("native", _) | (_, None) => NATIVE_WIDTH,
            (_, Some(w)) => w.min(7680),
        };
        let (mime, bytes) = match mode.as_str() {
            "fail" => return Err(Fail::Remote("Camera offline".into())),
            "png" => ("image/png", crypto::b64_decode(PNG_1X1).unwrap()),
            "noise" => ("image/jpeg", jpeg_picture(width, true)),
            _ => ("image/jpeg", jpeg_picture(width, false)),
        };
        Ok(json!({"mimeType": mime, "data": crypto::b64(&bytes)}))
    }

    pub fn camera_mode(&self, id: &str) -> String {
        self.camera_modes
            .borrow()
            .get(id)
            .cloned()
            .unwrap_or_else(|| "jpeg".into())
    }

    /// POST /__devhost/camera {id, mode}.
    pub fn set_camera_mode(&self, id: &str, mode: &str) {
        assert!(CAMERA_MODES.contains(&mode), "{mode}");
        self.camera_modes
            .borrow_mut()
            .insert(id.to_string(), mode.to_string());
    }

    /// Where the plugin's listener takes events (`systemManager.listen`).
    pub fn listen(&self, sink: impl Fn(Value) + 'static) {
        *self.event_sink.borrow_mut() = Some(Rc::new(sink));
    }

    /// One event as `listenToDevices` flattens it.
    pub fn fire(
        &self,
        id: Option<&str>,
        interface: &str,
        property: Option<&str>,
        time: Option<f64>,
        value: Value,
    ) {
        let event = json!({
            "id": id, "eventId": format!("ev-{}", self.events.borrow().len() + 1),
            "eventInterface": interface, "property": property, "eventTime": time,
            "mixinId": null, "value": value,
        });
        self.events.borrow_mut().push(event.clone());
        let sink = self.event_sink.borrow().clone();
        if let Some(sink) = sink {
            sink(event);
        }
    }

    /// state.ts setPluginDeviceState: the value, then an event when it differs from the
    /// current one. Returns whether it changed.
    pub fn set_device_state(&self, id: &str, property: &str, value: Value) -> bool {
        let changed = match self.devices.borrow_mut().get_mut(id) {
            Some(d) if d.state.get(property) != Some(&value) => {
                d.state.insert(property.into(), value.clone());
                true
            }
            _ => false,
        };
        if changed {
            let interface = PROPERTY_INTERFACES
                .iter()
                .find(|(p, _)| *p == property)
                .map_or("Unknown", |(_, i)| *i);
            self.fire(Some(id), interface, Some(property), Some(self.now()), value);
        }
        changed
    }

    /// A device was added or its descriptor changed: its whole state map.
    pub(super) fn descriptor_changed(&self, id: &str) {
        let state = self.system_state()[id].clone();
        self.fire(Some(id), "ScryptedDevice", None, None, state);
    }

    /// A device was removed: no source, property `id`, the removed id.
    pub(super) fn device_removed(&self, id: &str) {
        self.fire(None, "ScryptedDevice", Some("id"), None, json!(id));
    }

    /// Alerts were removed or cleared (services/alerts.ts 17, 21).
    pub(super) fn alerts_changed(&self) {
        self.fire(None, "Logger", None, None, Value::Null);
    }
}
