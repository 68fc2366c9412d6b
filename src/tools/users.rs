//! Users, managed the way Scrypted's own UI does: through @scrypted/core's user devices
//! when core is installed (Host `add_user` / `remove_user`), reference/scrypted-host.md §3.4.

use super::plugins::NoArgs;
use super::schema::{ok, tool, ADDITIVE, DESTRUCTIVE_IDEMPOTENT, READ};
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::rc::Rc;

pub fn tools() -> Vec<ToolDef> {
    vec![
        tool! {
            name: "list_users",
            title: "List users",
            description: "Lists the Scrypted user accounts: username and whether the user is an admin. Password hashes and tokens are never returned.",
            input: NoArgs,
            output: ListUsersOut,
            hints: READ,
            run: list_users,
        },
        tool! {
            name: "add_user",
            title: "Add a user",
            description: "Creates a Scrypted user account the way the Scrypted UI does (through @scrypted/core's Users device). admin: true creates an administrator with full control; admin: false creates a restricted user whose access is configured on its user device in the Scrypted UI. Refused if the username exists. The password travels through this conversation: suggest the user changes it in the Scrypted UI afterwards. Nothing secret is returned.",
            input: AddUserArgs,
            output: UserOut,
            hints: ADDITIVE,
            run: add_user,
        },
        tool! {
            name: "remove_user",
            title: "Remove a user",
            description: "Deletes a Scrypted user account (its user device in @scrypted/core); the user's logins and tokens stop working at once. Refused for the last admin and for the user who authorized this MCP connection.",
            input: RemoveUserArgs,
            output: RemoveUserOut,
            hints: DESTRUCTIVE_IDEMPOTENT,
            run: remove_user,
        },
    ]
}

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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddUserArgs {
    /// Login name: 1–64 letters, digits, '.', '_', '-' or '@'.
    pub username: String,
    /// Initial password, at least 8 characters.
    pub password: String,
    /// true: administrator (full control of the server); false: restricted user.
    pub admin: bool,
}

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
    tc.ctx
        .host
        .add_user(&a.username, &a.password, a.admin)
        .await?;
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

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveUserArgs {
    /// Login name of the user to delete.
    pub username: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RemoveUserOut {
    pub username: String,
    /// Always true.
    pub removed: bool,
    /// Users left.
    pub remaining: usize,
}

async fn remove_user(tc: Rc<ToolContext>, a: RemoveUserArgs) -> ToolResult {
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
    tc.ctx.host.remove_user(&a.username).await?;
    // Scrypted kills the user's cookies at once; do the same for their MCP tokens.
    crate::oauth::revoke_subject(&tc.ctx, &a.username);
    let remaining = tc.ctx.host.users().await?;
    if remaining.iter().any(|u| u.username == a.username) {
        return Err(ToolError::failed(format!(
            "Scrypted still lists '{}' after the removal; check the Scrypted UI.",
            a.username
        )));
    }
    ok(RemoveUserOut {
        username: a.username,
        removed: true,
        remaining: remaining.len(),
    })
}
