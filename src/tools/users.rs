//! Users, managed the way Scrypted's own UI does (docs/reference/scrypted-host.md §3.4): when
//! @scrypted/core's `users` DeviceCreator is present, a user is added with its
//! `createDevice({username, password, admin})` and removed by removing its `user:<name>`
//! device (core's `releaseDevice` then calls `users.removeUser`). Without core, only the
//! raw `users` component is left: admins go through `users.addUser(u, p, undefined)`, and a
//! restricted user is refused, because its `aclId` must be a core `ScryptedUser` device id.
//! The decision is made here; the Host methods are plain calls.

use super::resolve::interfaces_of;
use super::schema::{ok, tool, NoArgs, ADDITIVE, DESTRUCTIVE_IDEMPOTENT, READ};
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use std::rc::Rc;

/// The plugin that owns the canonical user devices.
const CORE: &str = "@scrypted/core";
/// Native id of core's `UsersCore` provider.
const CORE_USERS: &str = "users";

/// Device id of core's `users` provider when it is installed and is a `DeviceCreator`.
async fn core_users_provider(tc: &ToolContext) -> Result<Option<String>, ToolError> {
    let host = &tc.ctx.host;
    let Some(id) = host.id_for_native_id(CORE, CORE_USERS).await? else {
        return Ok(None);
    };
    let state = host.system_state().await?;
    let creator = state
        .get(&id)
        .and_then(serde_json::Value::as_object)
        .is_some_and(|m| interfaces_of(m).iter().any(|i| i == "DeviceCreator"));
    Ok(creator.then_some(id))
}

/// Native id of a user's device in core.
fn user_native_id(username: &str) -> String {
    format!("user:{username}")
}

// ---------- list_users

pub const LIST_USERS: ToolDef = tool! {
    name: "list_users",
    title: "List users",
    description: "Lists the Scrypted user accounts: username and whether the user is an admin. Password hashes and tokens are never returned.",
    input: NoArgs,
    output: ListUsersOut,
    hints: READ,
    scope: Read,
    run: list_users,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserEntry {
    pub username: String,
    pub admin: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ListUsersOut {
    pub users: Vec<UserEntry>,
    pub total: usize,
    /// How many users are admins.
    pub admins: usize,
}

async fn list_users(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let users: Vec<UserEntry> = tc
        .ctx
        .host
        .users()
        .await?
        .into_iter()
        .map(|u| UserEntry {
            username: u.username,
            admin: u.admin,
        })
        .collect();
    ok(ListUsersOut {
        total: users.len(),
        admins: users.iter().filter(|u| u.admin).count(),
        users,
    })
}

// ---------- add_user

pub const ADD_USER: ToolDef = tool! {
    name: "add_user",
    title: "Add a user",
    description: "Creates a Scrypted user account the way the Scrypted UI does (through @scrypted/core's Users device). admin: true creates an administrator with full control; admin: false creates a restricted user whose access is configured on its user device in the Scrypted UI (needs @scrypted/core; without it only admins can be added). Refused if the username exists. The password travels through this conversation: suggest the user changes it in the Scrypted UI afterwards. Nothing secret is returned.",
    input: AddUserArgs,
    output: UserOut,
    hints: ADDITIVE,
    scope: Admin,
    run: add_user,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct AddUserArgs {
    /// Login name: 1–64 letters, digits, '.', '_', '-' or '@'.
    pub username: String,
    /// Initial password, at least 8 characters.
    pub password: String,
    /// true: administrator (full control of the server); false: restricted user.
    pub admin: bool,
}

crate::fields::args!(AddUserArgs {
    username: required,
    password: required,
    admin: required
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserOut {
    pub username: String,
    pub admin: bool,
    /// Always true.
    pub created: bool,
}

fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
}

async fn add_user(tc: Rc<ToolContext>, a: AddUserArgs) -> ToolResult {
    if !valid_username(&a.username) {
        return Err(ToolError::InvalidParams(
            "username must be 1–64 letters, digits, '.', '_', '-' or '@'.".into(),
        ));
    }
    if a.password.chars().count() < 8 {
        return Err(ToolError::InvalidParams(
            "password must have at least 8 characters.".into(),
        ));
    }
    let users = tc.ctx.host.users().await?;
    if users.iter().any(|u| u.username == a.username) {
        return Err(ToolError::failed(format!(
            "User '{}' already exists; nothing was changed. Remove it first to recreate it.",
            a.username
        )));
    }
    match core_users_provider(&tc).await? {
        Some(provider) => {
            // As the UI does: core creates the `user:<name>` device (a restricted user's
            // aclId) and calls `users.addUser` itself.
            let settings = json!({
                "username": a.username,
                "password": a.password,
                "admin": a.admin,
            });
            tc.ctx
                .host
                .call_device_method(&provider, "createDevice", vec![settings])
                .await?;
        }
        None if a.admin => {
            tc.ctx.host.add_user(&a.username, &a.password, None).await?;
        }
        None => {
            return Err(ToolError::failed(format!(
                "Refused: a restricted (admin: false) user needs @scrypted/core, whose user device for '{}' would hold its access list, and core's Users device is not available on this server; nothing was changed. Install @scrypted/core, or add the user with admin: true.",
                a.username
            )));
        }
    }
    let after = tc.ctx.host.users().await?;
    let Some(created) = after.into_iter().find(|u| u.username == a.username) else {
        return Err(ToolError::failed(format!(
            "Scrypted accepted the new user '{}' but does not list it; check the Scrypted UI.",
            a.username
        )));
    };
    ok(UserOut {
        username: created.username,
        admin: created.admin,
        created: true,
    })
}

// ---------- remove_user

pub const REMOVE_USER: ToolDef = tool! {
    name: "remove_user",
    title: "Remove a user",
    description: "Deletes a Scrypted user account (its user device in @scrypted/core); the user's logins and tokens stop working at once. Refused for the last admin and for the user who authorized this MCP connection. The user's MCP connections (grants) end with it. With dry_run: true nothing is removed and the answer says what would be (the account, its user device, the grants).",
    input: RemoveUserArgs,
    output: RemoveUserOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Admin,
    run: remove_user,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct RemoveUserArgs {
    /// Login name of the user to delete.
    pub username: String,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(RemoveUserArgs {
    username: required,
    dry_run: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct RemoveUserOut {
    pub username: String,
    /// Whether the user was an admin.
    pub admin: bool,
    /// True when the account was removed; false in a dry run.
    pub removed: bool,
    /// True when nothing was changed.
    pub dry_run: bool,
    /// The user's device in @scrypted/core removed with it (or that would be); null when
    /// the account is removed through the raw users component.
    pub device_id: Option<String>,
    /// This plugin's grants (connected MCP apps) of the user that ended (or would end).
    pub mcp_grants_ended: usize,
    /// Users left (or that would be left).
    pub remaining: usize,
}

/// One remove_user at a time: its checks (not the caller, not the last admin) read the
/// users before it writes, so two at once, two admins removing each other, could both
/// pass and leave the server without an admin. Cleared when the run ends or is dropped.
struct OneRemoval<'a>(&'a std::cell::Cell<bool>);

impl<'a> OneRemoval<'a> {
    fn begin(flag: &'a std::cell::Cell<bool>) -> Result<Self, ToolError> {
        if flag.replace(true) {
            return Err(ToolError::failed(
                "Another remove_user is running; nothing was changed. Try again once it has \
                 answered."
                    .to_string(),
            ));
        }
        Ok(OneRemoval(flag))
    }
}

impl Drop for OneRemoval<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

async fn remove_user(tc: Rc<ToolContext>, a: RemoveUserArgs) -> ToolResult {
    let _one = OneRemoval::begin(&tc.ctx.tools.removing_user)?;
    let users = tc.ctx.host.users().await?;
    let Some(user) = users.iter().find(|u| u.username == a.username) else {
        return Err(ToolError::failed(format!(
            "No user '{}'; list_users shows the accounts.",
            a.username
        )));
    };
    if a.username == tc.caller.sub {
        return Err(ToolError::failed(format!(
            "Refused: '{}' is the user who authorized this MCP connection; removing it would cut off this session. Remove it from the Scrypted UI while logged in as another admin.",
            a.username
        )));
    }
    if user.admin && users.iter().filter(|u| u.admin).count() <= 1 {
        return Err(ToolError::failed(format!(
            "Refused: '{}' is the last admin; the server would have no administrator. Add another admin first.",
            a.username
        )));
    }
    // As the UI does: remove the user's device in core, whose releaseDevice removes the
    // user; the raw component only when core has no device for this user.
    let device = match core_users_provider(&tc).await? {
        Some(_) => {
            tc.ctx
                .host
                .id_for_native_id(CORE, &user_native_id(&a.username))
                .await?
        }
        None => None,
    };
    if a.dry_run {
        return ok(RemoveUserOut {
            admin: user.admin,
            removed: false,
            dry_run: true,
            device_id: device,
            mcp_grants_ended: crate::oauth::grants_of_subject(&tc.ctx, &a.username),
            remaining: users.len() - 1,
            username: a.username,
        });
    }
    let admin = user.admin;
    match &device {
        Some(id) => tc.ctx.host.remove_device(id).await?,
        None => tc.ctx.host.remove_user(&a.username).await?,
    }
    // Scrypted kills the user's cookies at once; do the same for their MCP tokens.
    let mcp_grants_ended = crate::oauth::revoke_subject(&tc.ctx, &a.username);
    // From here on something was removed: an error says so.
    let after = |e: crate::host::HostError| {
        ToolError::failed(format!(
            "'{}' was removed ({}) and its {mcp_grants_ended} MCP sign-in(s) ended, but \
             checking the result failed: {}. list_users shows whether the account is gone.",
            a.username,
            device
                .as_deref()
                .map_or("its account".to_string(), |id| format!("its device {id}")),
            e.message
        ))
    };
    let mut remaining = tc.ctx.host.users().await.map_err(after)?;
    if remaining.iter().any(|u| u.username == a.username) {
        // Core removes the account from its releaseDevice hook; should that not have run
        // by the time removeDevice returned, remove the account the way core would.
        tc.ctx.host.remove_user(&a.username).await.map_err(after)?;
        remaining = tc.ctx.host.users().await.map_err(after)?;
    }
    if remaining.iter().any(|u| u.username == a.username) {
        return Err(ToolError::failed(format!(
            "Scrypted still lists '{}' after the removal; check the Scrypted UI.",
            a.username
        )));
    }
    ok(RemoveUserOut {
        username: a.username,
        admin,
        removed: true,
        dry_run: false,
        device_id: device,
        mcp_grants_ended,
        remaining: remaining.len(),
    })
}
