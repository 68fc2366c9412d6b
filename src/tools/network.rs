//! Network: `addresses` and `cors` (docs/reference/scrypted-host.md §3.5).

use super::preview::{list_delta, ListDelta};
use super::resolve::{is_own_device, self_plugin_id, Snapshot};
use super::schema::{ok, tool, NoArgs, DESTRUCTIVE_IDEMPOTENT, READ};
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use std::rc::Rc;

/// Said in every result of a memory-only setting.
pub const MEMORY_ONLY: &str = "Kept in the Scrypted server's memory only: lost when the server restarts, and other plugins (e.g. Scrypted Cloud) may overwrite it at startup.";

const MAX_ENTRIES: usize = 64;

// ---------- checks of the lists the set_ tools write

fn check_list(list: &[String], what: &str, valid: impl Fn(&str) -> bool) -> Result<(), ToolError> {
    if list.len() > MAX_ENTRIES {
        return Err(ToolError::InvalidParams(format!(
            "At most {MAX_ENTRIES} {what}s."
        )));
    }
    for item in list {
        if !valid(item) {
            return Err(ToolError::InvalidParams(format!(
                "'{item}' is not a valid {what}; nothing was changed."
            )));
        }
    }
    Ok(())
}

/// An IP address or an interface / host name.
fn valid_address(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && (s.parse::<std::net::IpAddr>().is_ok()
            || s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-_%".contains(c)))
}

// ---------- get_local_addresses

pub const GET_LOCAL_ADDRESSES: ToolDef = tool! {
    name: "get_local_addresses",
    title: "Get local addresses",
    description: "The LAN addresses (IPs or interface names) Scrypted uses to build local URLs; null when none are configured (Scrypted then picks automatically).",
    input: NoArgs,
    output: LocalAddressesOut,
    hints: READ,
    scope: Read,
    run: get_local_addresses,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct LocalAddressesOut {
    /// Configured addresses; null when unset (automatic).
    pub addresses: Option<Vec<String>>,
    /// Whether any are configured.
    pub configured: bool,
}

async fn get_local_addresses(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let addresses = tc.ctx.host.local_addresses().await?;
    ok(LocalAddressesOut {
        configured: addresses.as_ref().is_some_and(|a| !a.is_empty()),
        addresses,
    })
}

// ---------- set_local_addresses

pub const SET_LOCAL_ADDRESSES: ToolDef = tool! {
    name: "set_local_addresses",
    title: "Set local addresses",
    description: "Replaces the list of LAN addresses (IP addresses or network interface names such as \"eth0\") Scrypted uses for local URLs; saved in the database. A wrong value breaks local URLs for cameras and apps; [] returns to automatic selection. Returns the list as saved before and after, the entries added and removed, and the addresses Scrypted then resolves them to; with dry_run: true it only answers what would change.",
    input: SetLocalAddressesArgs,
    output: SetLocalAddressesOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Admin,
    run: set_local_addresses,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SetLocalAddressesArgs {
    /// The complete new list: IP addresses (e.g. "192.168.1.10") or interface names (e.g. "eth0").
    pub addresses: Vec<String>,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(SetLocalAddressesArgs {
    addresses: required,
    dry_run: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct SetLocalAddressesOut {
    /// The list as saved (interface names as written); null when unset.
    pub before: Option<Vec<String>>,
    /// The list as saved after the call (in a dry run, as it would be saved).
    pub after: Option<Vec<String>>,
    /// What Scrypted answers after the write: interface names resolved to their addresses,
    /// addresses this machine lacks dropped. Absent in a dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<String>>,
    #[serde(flatten)]
    pub delta: ListDelta,
    /// True when nothing was written.
    pub dry_run: bool,
}

async fn set_local_addresses(tc: Rc<ToolContext>, a: SetLocalAddressesArgs) -> ToolResult {
    check_list(&a.addresses, "address", valid_address)?;
    let host = &tc.ctx.host;
    let before = host.saved_local_addresses().await?;
    let (after, resolved) = if a.dry_run {
        // Scrypted answers unset for an empty list (addresses.ts getLocalAddresses).
        ((!a.addresses.is_empty()).then_some(a.addresses), None)
    } else {
        host.set_local_addresses(a.addresses).await?;
        (
            host.saved_local_addresses().await?,
            host.local_addresses().await?,
        )
    };
    let none = Vec::new();
    ok(SetLocalAddressesOut {
        delta: list_delta(
            before.as_ref().unwrap_or(&none),
            after.as_ref().unwrap_or(&none),
        ),
        before,
        after,
        resolved,
        dry_run: a.dry_run,
    })
}

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct TargetArgs {
    /// A plugin id (npm package name, e.g. "@scrypted/cloud") or a device id.
    pub id: String,
}

crate::fields::args!(TargetArgs { id: required });

/// Plugin ids and device ids are both keys of these maps: accept either, refuse others.
async fn check_target(tc: &ToolContext, id: &str) -> Result<(), ToolError> {
    known_target(&Snapshot::load(tc).await?, id)
}

fn known_target(snap: &Snapshot, id: &str) -> Result<(), ToolError> {
    if snap.device(id).is_some() || snap.plugin_root(id).is_some() {
        return Ok(());
    }
    Err(ToolError::failed(format!(
        "'{id}' is neither an installed plugin id nor a device id; see list_plugins and list_devices."
    )))
}

// ---------- get_external_addresses

pub const GET_EXTERNAL_ADDRESSES: ToolDef = tool! {
    name: "get_external_addresses",
    title: "Get external addresses",
    description: "The external addresses registered for a plugin or device id. These live in server memory only (lost on restart, rewritten by plugins such as Scrypted Cloud at startup).",
    input: TargetArgs,
    output: AddressesOut,
    hints: READ,
    scope: Read,
    run: get_external_addresses,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct AddressesOut {
    pub id: String,
    pub addresses: Vec<String>,
    /// Always false: memory only.
    pub persisted: bool,
    pub note: String,
}

async fn get_external_addresses(tc: Rc<ToolContext>, a: TargetArgs) -> ToolResult {
    check_target(&tc, &a.id).await?;
    let addresses = tc
        .ctx
        .host
        .external_addresses(&a.id)
        .await?
        .into_iter()
        .map(super::redact::text)
        .collect();
    ok(AddressesOut {
        id: a.id,
        addresses,
        persisted: false,
        note: MEMORY_ONLY.into(),
    })
}

// ---------- set_external_addresses

pub const SET_EXTERNAL_ADDRESSES: ToolDef = tool! {
    name: "set_external_addresses",
    title: "Set external addresses (until restart)",
    description: "Replaces the external addresses registered for a plugin or device id. MEMORY ONLY: the change lasts until the Scrypted server restarts and plugins may overwrite it at startup. Returns the list before and after, and the entries added and removed; with dry_run: true it only answers what would change.",
    input: SetAddressesArgs,
    output: ListChangeOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Admin,
    run: set_external_addresses,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SetAddressesArgs {
    /// A plugin id (npm package name) or a device id.
    pub id: String,
    /// The complete new list of external addresses (host names, IPs or URLs).
    pub addresses: Vec<String>,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(SetAddressesArgs {
    id: required,
    addresses: required,
    dry_run: optional
});

/// What set_external_addresses and set_cors answer: a memory-only list, before and after.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ListChangeOut {
    pub id: String,
    pub before: Vec<String>,
    pub after: Vec<String>,
    #[serde(flatten)]
    pub delta: ListDelta,
    /// True when nothing was written.
    pub dry_run: bool,
    /// Always false: memory only, lost on restart.
    pub persisted: bool,
    pub note: String,
}

impl ListChangeOut {
    fn new(id: String, before: Vec<String>, after: Vec<String>, dry_run: bool) -> Self {
        ListChangeOut {
            id,
            delta: list_delta(&before, &after),
            dry_run,
            before,
            after,
            persisted: false,
            note: MEMORY_ONLY.into(),
        }
    }
}

async fn set_external_addresses(tc: Rc<ToolContext>, a: SetAddressesArgs) -> ToolResult {
    check_list(&a.addresses, "external address", |s| {
        !s.is_empty() && s.len() <= 2048 && !s.chars().any(char::is_whitespace)
    })?;
    check_target(&tc, &a.id).await?;
    let before = tc.ctx.host.external_addresses(&a.id).await?;
    let after = if a.dry_run {
        a.addresses
    } else {
        let host = &tc.ctx.host;
        host.set_external_addresses(&a.id, a.addresses).await?;
        host.external_addresses(&a.id).await?
    };
    ok(ListChangeOut::new(a.id, before, after, a.dry_run))
}

/// `scheme://host[:port]` exactly, as browsers send in `Origin`.
fn valid_origin(s: &str) -> bool {
    if s == "*" {
        return false;
    }
    match url::Url::parse(s) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.origin().ascii_serialization() == s
        }
        Err(_) => false,
    }
}

// ---------- get_cors

pub const GET_CORS: ToolDef = tool! {
    name: "get_cors",
    title: "Get CORS origins",
    description: "The CORS origins Scrypted keeps under a plugin's or device's id, and those of SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS. Scrypted allows every one of them, whatever id it is kept under, on every route of the server (its management API included) with credentials: a page of such an origin reads Scrypted's answers with the visitor's login (this MCP plugin's own endpoint sets its own CORS rules). The per-id lists live in server memory only (lost on restart).",
    input: TargetArgs,
    output: CorsOut,
    hints: READ,
    scope: Read,
    run: get_cors,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct CorsOut {
    pub id: String,
    /// Origins kept under this id (memory only); Scrypted allows them on every route, not
    /// only this id's.
    pub origins: Vec<String>,
    /// SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS as Scrypted reads it (split at commas, nothing
    /// trimmed: an entry with a space around it never matches), allowed on every route
    /// (persistent).
    pub env_origins: Vec<String>,
    /// Always false: the per-id list is memory only.
    pub persisted: bool,
    pub note: String,
}

async fn env_origins(tc: &ToolContext) -> Result<Vec<String>, ToolError> {
    let env = tc.ctx.host.scrypted_env().await?;
    Ok(env
        .get("SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS")
        .map(|v| {
            // As `getAccessControlAllowOrigin` (runtime.ts) does: no trimming.
            v.split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default())
}

async fn get_cors(tc: Rc<ToolContext>, a: TargetArgs) -> ToolResult {
    check_target(&tc, &a.id).await?;
    let origins = tc.ctx.host.cors(&a.id).await?;
    ok(CorsOut {
        id: a.id,
        origins,
        env_origins: env_origins(&tc).await?,
        persisted: false,
        note: MEMORY_ONLY.into(),
    })
}

// ---------- set_cors

pub const SET_CORS: ToolDef = tool! {
    name: "set_cors",
    title: "Set CORS origins (until restart)",
    description: "Replaces the CORS origins (e.g. \"https://app.example.com\") kept under a plugin's or device's id. WARNING: Scrypted allows an origin on any id's list on EVERY route of the server, its management API included, with credentials: a page of that origin that a logged-in Scrypted user (an admin included) visits can act as that user. Add only an origin you trust as much as your admins. MEMORY ONLY: the change lasts until the Scrypted server restarts; for a permanent setting use SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS in .env (set_dotenv). Returns the list before and after, and the origins added and removed; with dry_run: true it only answers what would change.",
    input: SetCorsArgs,
    output: ListChangeOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Admin,
    run: set_cors,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SetCorsArgs {
    /// A plugin id (npm package name) or a device id.
    pub id: String,
    /// The complete new list of origins, each "scheme://host[:port]" without a path,
    /// e.g. "https://app.example.com". [] removes them all.
    pub origins: Vec<String>,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(SetCorsArgs {
    id: required,
    origins: required,
    dry_run: optional
});

async fn set_cors(tc: Rc<ToolContext>, a: SetCorsArgs) -> ToolResult {
    check_list(
        &a.origins,
        "origin (scheme://host[:port], no path)",
        valid_origin,
    )?;
    let snap = Snapshot::load(&tc).await?;
    known_target(&snap, &a.id)?;
    // Our own answers override Scrypted's CORS headers (crate::origin::with_cors), but an
    // origin listed here would still be Scrypted's word that the site may read this
    // plugin's pages with an admin's login: refused outright.
    if a.id == self_plugin_id() || is_own_device(&tc, &snap, &a.id).await? {
        return Err(ToolError::failed(format!(
            "Refused: '{}' is this MCP plugin ({}). Its sign-in pages must never be readable by other sites with an admin's login, so its CORS origins cannot be set. Nothing was changed.",
            a.id,
            self_plugin_id()
        )));
    }
    let before = tc.ctx.host.cors(&a.id).await?;
    let after = if a.dry_run {
        a.origins
    } else {
        tc.ctx.host.set_cors(&a.id, a.origins).await?;
        tc.ctx.host.cors(&a.id).await?
    };
    ok(ListChangeOut::new(a.id, before, after, a.dry_run))
}
