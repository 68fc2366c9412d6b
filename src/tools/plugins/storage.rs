//! A device's key-value storage, with secrets redacted and large answers capped.

use crate::oauth::Scope;
use crate::tools::preview::{map_delta, EntryChange};
use crate::tools::redact::{redact_map, stands_for, OMITTED};
use crate::tools::resolve::{admin_only_device, refuse_own_device, DeviceUse, Snapshot};
use crate::tools::schema::{ok, tool, DESTRUCTIVE_IDEMPOTENT, READ};
use crate::tools::secrets::REDACTED;
use crate::tools::{ToolContext, ToolDef, ToolError, ToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::rc::Rc;

// ---------- get_storage

pub const GET_STORAGE: ToolDef = tool! {
    name: "get_storage",
    title: "Read a device's storage",
    description: "Reads a device's key-value storage (`getStorage`), where plugins keep their configuration and often passwords and API keys. Values whose key looks secret (token, secret, auth, password, pass, pwd, pin, key, credential, private, cookie, salt) come back as \"[REDACTED]\" unless reveal_secrets is true (which needs scrypted:admin), and so do values that look secret whatever their key (JWTs, long random tokens, webhook URLs, a URL's password: only that part is replaced); set_storage keeps the current value of any key sent back as shown. Answers are capped at 64 KB: the largest values then come back as \"[OMITTED]\" (listed in omitted_keys; read them with keys: [...]), which set_storage also keeps. This MCP plugin's own storage is refused, and a user's account device, a script or an automation (an account, or code that runs on the server) needs scrypted:admin.",
    input: GetStorageArgs,
    output: GetStorageOut,
    hints: READ,
    scope: Read,
    run: get_storage,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct GetStorageArgs {
    /// Scrypted device id (see list_devices).
    pub id: String,
    /// Return secret-looking values in clear text (default false: they come back as
    /// "[REDACTED]"). Needs scrypted:admin. Only set this when the user explicitly needs the
    /// secret.
    #[serde(default)]
    pub reveal_secrets: bool,
    /// Only these keys (default all): how to read values a capped answer left out.
    #[serde(default)]
    pub keys: Option<Vec<String>>,
}

crate::fields::args!(GetStorageArgs {
    id: required,
    reveal_secrets: optional,
    keys: optional
});

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
    crate::order::sort_by(&mut by_size, |a, b| b.cmp(a));
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
    if a.reveal_secrets {
        tc.require(Scope::Admin, "get_storage with reveal_secrets: true")?;
    }
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "reading its storage").await?;
    // Code (a script's, an automation's) often carries the keys it calls with, in no form the
    // redaction can tell from the code around it.
    if let Some(what) = admin_only_device(&snap, &a.id, DeviceUse::Storage) {
        tc.require(
            Scope::Admin,
            &format!("Reading the storage of device {} ({what})", a.id),
        )?;
    }
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

// ---------- set_storage

pub const SET_STORAGE: ToolDef = tool! {
    name: "set_storage",
    title: "Write a device's storage",
    description: "Writes a device's storage (`setStorage`) and pushes it live into the owning plugin. By default the given map REPLACES the whole storage (keys you leave out are deleted); with merge: true the given keys are added or changed and the rest kept. A value of \"[REDACTED]\" or \"[OMITTED]\" (or a value exactly as get_storage showed it, e.g. a URL with \"[REDACTED]\" for its password) keeps that key's current value, so a get_storage → edit → set_storage round trip never destroys a secret or a value left out of a capped answer. This MCP plugin's own storage is refused, and a user's account device, a script or an automation (an account, or code that runs on the server) needs scrypted:admin. Returns the key names added, removed and changed (never values). With dry_run: true nothing is written and `changes` shows each entry's value before and after (secrets as \"[REDACTED]\": a changed secret says only \"changed\").",
    input: SetStorageArgs,
    output: SetStorageOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Control,
    run: set_storage,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
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
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(SetStorageArgs {
    id: required,
    storage: required,
    merge: optional,
    dry_run: optional
});

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
    /// True when nothing was written.
    pub dry_run: bool,
    /// In a dry run, each entry that would change, with its values before and after.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<EntryChange>>,
}

async fn set_storage(tc: Rc<ToolContext>, a: SetStorageArgs) -> ToolResult {
    let snap = Snapshot::load(&tc).await?;
    snap.require_device(&a.id)?;
    refuse_own_device(&tc, &snap, &a.id, "writing its storage").await?;
    if let Some(what) = admin_only_device(&snap, &a.id, DeviceUse::Storage) {
        tc.require(
            Scope::Admin,
            &format!("Writing the storage of device {} ({what})", a.id),
        )?;
    }
    let current = tc.ctx.host.get_storage(&a.id).await?;
    let mut next = if a.merge {
        current.clone()
    } else {
        BTreeMap::new()
    };
    let mut kept = Vec::new();
    for (k, v) in a.storage {
        if v == OMITTED || v.contains(REDACTED) {
            // The placeholder, or the value as get_storage showed it, keeps the current one.
            let Some(cur) = current
                .get(&k)
                .filter(|cur| v == OMITTED || stands_for(&k, &v, cur))
            else {
                return Err(ToolError::failed(format!(
                    "Key '{k}' was sent as {v}, which stands for no current value (none, or get_storage showed it otherwise); give the full value or leave the key out. Nothing was written."
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
    let changes = if a.dry_run {
        Some(map_delta(&current, &next))
    } else {
        tc.ctx.host.set_storage(&a.id, next).await?;
        None
    };
    ok(SetStorageOut {
        id: a.id,
        added,
        removed,
        changed,
        kept_secret_keys: kept,
        count,
        dry_run: a.dry_run,
        changes,
    })
}
