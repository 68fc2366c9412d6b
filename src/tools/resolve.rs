//! Looking ids up before calling the host (so an unknown id is a clear "not found"
//! rather than a host TypeError), and recognising this plugin's own devices.

use super::{ToolContext, ToolError};
use crate::host::SystemState;
use crate::manifest::MANIFEST;
use serde_json::{Map, Value};

/// This plugin's id (its npm package name).
pub fn self_plugin_id() -> &'static str {
    MANIFEST.name
}

/// A system-state snapshot with lookups over Scrypted's `{property: {value}}` shape.
pub struct Snapshot {
    pub state: SystemState,
}

impl Snapshot {
    pub async fn load(tc: &ToolContext) -> Result<Snapshot, ToolError> {
        Ok(Snapshot {
            state: tc.ctx.host.system_state().await?,
        })
    }

    /// The devices `ids` only (unknown ones absent), each with the properties `props` only
    /// (those it has), for a tool that names a few devices.
    pub async fn load_of(
        tc: &ToolContext,
        ids: &[&str],
        props: &[&str],
    ) -> Result<Snapshot, ToolError> {
        Ok(Snapshot {
            state: tc.ctx.host.device_states(ids, props).await?,
        })
    }

    pub fn device(&self, id: &str) -> Option<&Map<String, Value>> {
        self.state.get(id).and_then(Value::as_object)
    }

    /// `(device id, its properties)` of every device, in id order as text.
    pub fn devices(&self) -> impl Iterator<Item = (&String, &Map<String, Value>)> {
        self.state
            .iter()
            .filter_map(|(id, device)| Some((id, device.as_object()?)))
    }

    /// A property's value.
    pub fn prop<'a>(&'a self, id: &str, name: &str) -> Option<&'a Value> {
        self.device(id).and_then(|m| prop_of(m, name))
    }

    pub fn str_prop<'a>(&'a self, id: &str, name: &str) -> Option<&'a str> {
        self.prop(id, name).and_then(Value::as_str)
    }

    pub fn interfaces(&self, id: &str) -> Vec<String> {
        self.device(id).map(interfaces_of).unwrap_or_default()
    }

    pub fn plugin_id_of(&self, id: &str) -> Option<&str> {
        self.str_prop(id, "pluginId")
    }

    /// `(device id, plugin id)` of every plugin root device (interface `ScryptedPlugin`).
    pub fn plugins(&self) -> Vec<(String, String)> {
        self.devices()
            .filter(|(_, m)| interfaces_of(m).iter().any(|i| i == "ScryptedPlugin"))
            .filter_map(|(id, m)| {
                prop_of(m, "pluginId")
                    .and_then(Value::as_str)
                    .map(|p| (id.clone(), p.to_string()))
            })
            .collect()
    }

    /// The root device id of an installed plugin.
    pub fn plugin_root(&self, plugin_id: &str) -> Option<String> {
        self.plugins()
            .into_iter()
            .find(|(_, p)| p == plugin_id)
            .map(|(id, _)| id)
    }

    pub fn require_device(&self, id: &str) -> Result<&Map<String, Value>, ToolError> {
        self.device(id).ok_or_else(|| {
            ToolError::failed(format!(
                "No device with id '{id}'. Device ids are Scrypted's numeric ids as strings; use list_devices to find them."
            ))
        })
    }

    /// The root device id of `plugin_id`, or a not-found error.
    pub fn require_plugin(&self, plugin_id: &str) -> Result<String, ToolError> {
        self.plugin_root(plugin_id).ok_or_else(|| {
            ToolError::failed(format!(
                "No installed plugin '{plugin_id}'. Plugin ids are npm package names such as '@scrypted/core'; use list_plugins to see them."
            ))
        })
    }

    /// Whether device `id` belongs to this plugin (its root device or any device whose
    /// `pluginId` is ours). `own_root` is the host's `getIdForPluginId(self)`.
    pub fn is_own_device(&self, id: &str, own_root: Option<&str>) -> bool {
        own_root == Some(id)
            || self.plugin_root(self_plugin_id()).as_deref() == Some(id)
            || self.plugin_id_of(id) == Some(self_plugin_id())
    }
}

/// What a tool does to a device, for [`admin_only_device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceUse<'a> {
    /// Reads or writes its storage.
    Storage,
    /// Calls this method of it.
    Method(&'a str),
}

/// Why using device `id` so is administering Scrypted rather than operating the home
/// (scrypted:admin, not read or control), or `None`:
/// - a user's account device (core's `User`): any method (its `password` setting sets that
///   user's password, admins' included), its storage;
/// - code that runs on the server: a script's storage (core's `Script` keeps its code there;
///   its methods that read, change or run code are `ADMIN_METHODS`), and an automation's
///   storage and every method but switching it (core's `Automation`, type `Automation`: its
///   actions and conditions are JavaScript or shell scripts, set by `putSetting` and kept in
///   storage).
pub fn admin_only_device(snap: &Snapshot, id: &str, what: DeviceUse) -> Option<&'static str> {
    let interfaces = snap.interfaces(id);
    let has = |name: &str| interfaces.iter().any(|i| i == name);
    let switching = matches!(what, DeviceUse::Method("turnOn" | "turnOff"));
    if has("ScryptedUser") {
        Some("a user's account")
    } else if what == DeviceUse::Storage && has("Scriptable") {
        Some("a script, whose storage is code that runs on the server")
    } else if snap.str_prop(id, "type") == Some("Automation") && !switching {
        Some("an automation, whose actions and conditions are code that runs on the server")
    } else {
        None
    }
}

pub fn prop_of<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name).and_then(|p| p.get("value"))
}

pub fn interfaces_of(m: &Map<String, Value>) -> Vec<String> {
    prop_of(m, "interfaces")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether device `id` belongs to this plugin. Resolves our root id with the host's
/// `getIdForPluginId` as well as the snapshot, so neither view alone can miss it.
pub async fn is_own_device(tc: &ToolContext, snap: &Snapshot, id: &str) -> Result<bool, ToolError> {
    let own_root = tc.ctx.host.id_for_plugin_id(self_plugin_id()).await?;
    Ok(snap.is_own_device(id, own_root.as_deref()))
}

/// Refuses when device `id` belongs to this plugin (see [`is_own_device`]).
pub async fn refuse_own_device(
    tc: &ToolContext,
    snap: &Snapshot,
    id: &str,
    what: &str,
) -> Result<(), ToolError> {
    if is_own_device(tc, snap, id).await? {
        return Err(ToolError::failed(format!(
            "Refused: device '{id}' belongs to this MCP plugin ({}), and {what} is blocked for it so that its keys, tokens and process stay out of reach of its own clients.",
            self_plugin_id()
        )));
    }
    Ok(())
}

/// Refuses when `plugin_id` is this plugin; `why` finishes the sentence "{what} …".
pub fn refuse_own_plugin(plugin_id: &str, what: &str) -> Result<(), ToolError> {
    refuse_own_plugin_because(
        plugin_id,
        what,
        "would cut off the connection you are using",
    )
}

/// Refuses when `plugin_id` is this plugin, saying why `what` is blocked.
pub fn refuse_own_plugin_because(plugin_id: &str, what: &str, why: &str) -> Result<(), ToolError> {
    if plugin_id == self_plugin_id() {
        return Err(ToolError::failed(format!(
            "Refused: '{plugin_id}' is this MCP plugin; {what} {why}. Do it from the Scrypted web UI instead."
        )));
    }
    Ok(())
}
