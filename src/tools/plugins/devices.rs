//! Devices as the plugins component manages them: ids, mixins, consoles.

use crate::oauth::Scope;
use crate::tools::preview::{list_delta, ListDelta, NOTHING_CHANGED};
use crate::tools::resolve::{
    admin_only_device, is_own_device, prop_of, refuse_own_device, self_plugin_id, DeviceUse,
    Snapshot,
};
use crate::tools::schema::{ok, tool, DeviceIdArgs, DESTRUCTIVE, DESTRUCTIVE_IDEMPOTENT, READ};
use crate::tools::{ToolContext, ToolDef, ToolError, ToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::rc::Rc;

// ---------- rename_device_id

pub const RENAME_DEVICE_ID: ToolDef = tool! {
    name: "rename_device_id",
    title: "Change a device's id",
    description: "Changes a device's Scrypted id (`renameDeviceId`): Scrypted kills the owning plugin, waits 2 s, re-inserts the device under the new id (state kept) and reloads the plugin. Anything that referenced the old id (mixins, automations) must be updated by hand. new_id is 1 to 128 ASCII letters, digits, '_' or '-' such as \"front-door\", never all digits (Scrypted numbers new devices from a counter without checking whether an id is taken, so the next device it creates would overwrite one renamed to a free number) nor __proto__, constructor or prototype. Refused when the new id is already taken (Scrypted does not check and would overwrite that device), for a plugin's root device and for a device that provides others (Scrypted removes the device before re-inserting it, which uninstalls a plugin and deletes what a provider provides), and for this MCP plugin's devices. With dry_run: true nothing changes and the answer says what would (old and new id, the plugin that would restart).",
    input: RenameArgs,
    output: RenameOut,
    hints: DESTRUCTIVE,
    scope: Admin,
    run: rename_device_id,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct RenameArgs {
    /// Current device id.
    pub id: String,
    /// New device id, such as "front-door": 1 to 128 ASCII letters, digits, '_' or '-', not
    /// all digits (those are Scrypted's own numbering), not __proto__, constructor or
    /// prototype, and not in use.
    pub new_id: String,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(RenameArgs {
    id: required,
    new_id: required,
    dry_run: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct RenameOut {
    pub id: String,
    pub new_id: String,
    /// Plugin that owns the device (it was restarted, or would be).
    pub plugin_id: Option<String>,
    /// True when nothing was changed.
    pub dry_run: bool,
    pub message: String,
}

async fn rename_device_id(tc: Rc<ToolContext>, a: RenameArgs) -> ToolResult {
    let new_id = a.new_id.trim();
    check_new_id(new_id)?;
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
    refuse_root_or_provider(&snap, &a.id)?;
    let plugin_id = snap.plugin_id_of(&a.id).map(String::from);
    let plugin = plugin_id.as_deref().unwrap_or("?");
    let message = if a.dry_run {
        format!(
            "{NOTHING_CHANGED} Device {} would become {new_id}, and its plugin {plugin} would restart.",
            a.id
        )
    } else {
        tc.ctx.host.rename_device_id(&a.id, new_id).await?;
        format!(
            "Device {} is now {new_id}; its plugin {plugin} was restarted. Update anything that referenced the old id.",
            a.id
        )
    };
    ok(RenameOut {
        message,
        dry_run: a.dry_run,
        id: a.id,
        new_id: new_id.to_string(),
        plugin_id,
    })
}

/// Refuses a `new_id` that is not a safe device id, before anything is read or changed:
/// - only ASCII letters, digits, '_' and '-' (no path, no spaces, no look-alikes);
/// - not all digits: Scrypted gives each new device the next number of a counter (server
///   level.ts `nextId`) and `upsertDevice` (runtime.ts) stores it under that id without
///   checking, so a device renamed to a number not yet handed out is overwritten by the next
///   device Scrypted creates (a new user's account device, say);
/// - not a name plain JavaScript objects answer to themselves (Scrypted keeps devices in an
///   object keyed by id).
fn check_new_id(new_id: &str) -> Result<(), ToolError> {
    const EXAMPLE: &str = "such as \"front-door\" or \"garage_light-2\"";
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if new_id.is_empty() || new_id.len() > 128 || !new_id.chars().all(allowed) {
        return Err(ToolError::InvalidParams(format!(
            "new_id must be 1 to 128 characters, each an ASCII letter, digit, '_' or '-', {EXAMPLE}. Nothing was changed."
        )));
    }
    if new_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ToolError::failed(format!(
            "Refused: new_id '{new_id}' is all digits. Scrypted numbers the devices it creates from a counter and does not check whether that id is taken, so a device renamed to a free number would be overwritten by the next device Scrypted creates (even a new user's account device). Use an id with a letter in it, {EXAMPLE}. Nothing was changed."
        )));
    }
    if ["__proto__", "constructor", "prototype"]
        .iter()
        .any(|r| new_id.eq_ignore_ascii_case(r))
    {
        return Err(ToolError::failed(format!(
            "Refused: new_id '{new_id}' is a name JavaScript objects use for themselves (__proto__, constructor, prototype), and Scrypted keeps its devices in objects keyed by id. Use another id, {EXAMPLE}. Nothing was changed."
        )));
    }
    Ok(())
}

/// Scrypted's `renameDeviceId` removes the device before it re-inserts it under the new id
/// (`removeDevice`, server/src/runtime.ts): that deletes every device it provides for good,
/// and for a plugin's root device it also uninstalls the plugin (its record and volume), after
/// which the rename itself fails. So only a device that provides nothing is renamed.
fn refuse_root_or_provider(snap: &Snapshot, id: &str) -> Result<(), ToolError> {
    if let Some((_, plugin)) = snap.plugins().into_iter().find(|(root, _)| root == id) {
        return Err(ToolError::failed(format!(
            "Refused: device {id} is the root device of the plugin {plugin}. Scrypted renames a device by removing it first, and removing a plugin's root device uninstalls the plugin with all its devices and data. Nothing was changed."
        )));
    }
    let provided: Vec<String> = snap
        .devices()
        .filter(|(other, m)| {
            other.as_str() != id && prop_of(m, "providerId").and_then(Value::as_str) == Some(id)
        })
        .map(|(other, _)| format!("{other} ({})", snap.str_prop(other, "name").unwrap_or("?")))
        .collect();
    if !provided.is_empty() {
        return Err(ToolError::failed(format!(
            "Refused: device {id} provides {} other device(s): {}. Scrypted renames a device by removing it first, and removing a provider deletes every device it provides for good. Nothing was changed.",
            provided.len(),
            provided.join(", ")
        )));
    }
    Ok(())
}

// ---------- set_mixins

pub const SET_MIXINS: ToolDef = tool! {
    name: "set_mixins",
    title: "Set a device's mixins",
    description: "Replaces the full list of mixin provider ids applied to a device (`setMixins`; not additive: to add one, read the current list with get_device and send it with the new id). Every mixin id must be an existing device; a device cannot be its own mixin. Refused for this MCP plugin's devices, as the device or as a mixin. Needs scrypted:admin when the device is a user's account, a script or an automation, or when a mixin being set or removed is one (a script or automation as a mixin provider runs its server-side code on the device's calls). Returns the list before and after, read back from the server: Scrypted drops a mixin whose provider's canMixin declines the device (e.g. a device type it does not support), and `dropped` lists those. With dry_run: true it only answers what would change (the list as it would be sent; only the real call shows what Scrypted drops).",
    input: SetMixinsArgs,
    output: SetMixinsOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: set_mixins,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SetMixinsArgs {
    /// Device id whose mixins are set.
    pub id: String,
    /// The complete new list of mixin provider device ids (replaces the current list;
    /// [] removes all mixins).
    pub mixins: Vec<String>,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(SetMixinsArgs {
    id: required,
    mixins: required,
    dry_run: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct SetMixinsOut {
    pub id: String,
    /// Mixins before the call.
    pub before: Vec<String>,
    /// Mixins after the call, read back from the server; in a dry run, the list that
    /// would be sent.
    pub after: Vec<String>,
    #[serde(flatten)]
    pub delta: ListDelta,
    /// Requested mixins the server did not keep (their provider declined this device);
    /// always empty in a dry run.
    pub dropped: Vec<String>,
    /// True when nothing was written.
    pub dry_run: bool,
    pub message: String,
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
    if let Some(what) = admin_only_device(&snap, &a.id, DeviceUse::Storage) {
        tc.require(
            Scope::Admin,
            &format!("Changing the mixins of device {} ({what})", a.id),
        )?;
    }
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
        if mixins.contains(m) {
            continue;
        }
        if is_own_device(&tc, &snap, m).await? {
            return Err(ToolError::failed(format!(
                "Refused: mixin '{m}' belongs to this MCP plugin ({}), whose devices are never applied to other devices. Nothing was changed.",
                self_plugin_id()
            )));
        }
        mixins.push(m.clone());
    }
    let before = string_list(snap.prop(&a.id, "mixins"));
    // A script or an automation as a mixin provider runs its code (set by an admin) on the
    // device's calls: adding one, keeping one in the list sent, or taking one away is an
    // admin's to do.
    for m in &mixins {
        if let Some(what) = admin_only_device(&snap, m, DeviceUse::Storage) {
            tc.require(
                Scope::Admin,
                &format!("Setting device {m} ({what}) as a mixin of device {}", a.id),
            )?;
        }
    }
    for m in before.iter().filter(|m| !mixins.contains(m)) {
        if let Some(what) = admin_only_device(&snap, m, DeviceUse::Storage) {
            tc.require(
                Scope::Admin,
                &format!("Removing device {m} ({what}) as a mixin of device {}", a.id),
            )?;
        }
    }
    if a.dry_run {
        return ok(SetMixinsOut {
            message: format!(
                "{NOTHING_CHANGED} Device {} would get mixins [{}]; a provider whose canMixin declines the device is dropped by Scrypted, which only the real call shows.",
                a.id,
                mixins.join(", ")
            ),
            id: a.id,
            delta: list_delta(&before, &mixins),
            before,
            after: mixins,
            dropped: Vec::new(),
            dry_run: true,
        });
    }
    tc.ctx.host.set_mixins(&a.id, mixins.clone()).await?;
    let after_snap = Snapshot::load(&tc).await?;
    let after = string_list(after_snap.prop(&a.id, "mixins"));
    let dropped: Vec<String> = mixins.into_iter().filter(|m| !after.contains(m)).collect();
    let message = if dropped.is_empty() {
        format!("Device {} now has mixins [{}].", a.id, after.join(", "))
    } else {
        let named: Vec<String> = dropped
            .iter()
            .map(|m| format!("{m} ({})", after_snap.str_prop(m, "name").unwrap_or("?")))
            .collect();
        format!(
            "Scrypted did not keep {} on device {} ({}): the provider's canMixin declined this device, so it cannot be a mixin here. Mixins now: [{}].",
            named.join(", "),
            a.id,
            after_snap.str_prop(&a.id, "type").unwrap_or("unknown type"),
            after.join(", ")
        )
    };
    ok(SetMixinsOut {
        id: a.id,
        delta: list_delta(&before, &after),
        before,
        after,
        dropped,
        dry_run: false,
        message,
    })
}

// ---------- get_id_for_native_id

pub const GET_ID_FOR_NATIVE_ID: ToolDef = tool! {
    name: "get_id_for_native_id",
    title: "Find a device id by native id",
    description: "Returns the Scrypted device id of the device a plugin knows by `native_id` (`getIdForNativeId`), or of the plugin's own root device when native_id is omitted (`getIdForPluginId`). Fails with a clear message when there is no such device.",
    input: NativeIdArgs,
    output: NativeIdOut,
    hints: READ,
    scope: Read,
    run: get_id_for_native_id,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct NativeIdArgs {
    /// Plugin id (npm package name) that owns the device.
    pub plugin_id: String,
    /// The plugin's own id for the device; omit for the plugin's root device.
    #[serde(default)]
    pub native_id: Option<String>,
}

crate::fields::args!(NativeIdArgs {
    plugin_id: required,
    native_id: optional
});

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

// ---------- clear_console

pub const CLEAR_CONSOLE: ToolDef = tool! {
    name: "clear_console",
    title: "Clear a device's console",
    description: "Empties the console (debug output) buffer of a device (`clearConsole`). The persisted logs (get_logs) are not touched. Refused for this MCP plugin's own devices (its console holds its security warnings).",
    input: DeviceIdArgs,
    output: ClearConsoleOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: clear_console,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClearConsoleOut {
    pub id: String,
    /// Always true.
    pub cleared: bool,
}

async fn clear_console(tc: Rc<ToolContext>, a: DeviceIdArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "clearing its console").await?;
    tc.ctx.host.clear_console(&a.id).await?;
    ok(ClearConsoleOut {
        id: a.id,
        cleared: true,
    })
}
