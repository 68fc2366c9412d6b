//! Server: `info`, `service-control`, `env-control` (docs/reference/scrypted-host.md §3.2).

use super::preview::{text_diff, TextPreview, NOTHING_CHANGED};
use super::redact::{redact_dotenv, redact_dotenv_against, redact_map, restore_dotenv};
use super::schema::{ok, tool, NoArgs, DESTRUCTIVE, DESTRUCTIVE_IDEMPOTENT, READ};
use super::secrets::REDACTED;
use super::SELF_ACTION_DELAY_MS;
use super::{ToolContext, ToolDef, ToolError, ToolResult};
use crate::host::Deferred;
use schemars::JsonSchema;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Largest `.env` text set_dotenv writes.
pub const MAX_DOTENV_BYTES: usize = 64 * 1024;

// ---------- get_server_info

pub const GET_SERVER_INFO: ToolDef = tool! {
    name: "get_server_info",
    title: "Server version and environment",
    description: "The Scrypted server version and its SCRYPTED_* environment variables. Values whose names look secret (TOKEN, SECRET, AUTH…, PASSWORD, KEY, CREDENTIAL, …) are shown as \"[REDACTED]\" and listed in redacted_keys. Scrypted cannot report whether an update is available (its getUpdateAvailable always fails).",
    input: NoArgs,
    output: ServerInfoOut,
    hints: READ,
    scope: Read,
    run: get_server_info,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct ServerInfoOut {
    /// Scrypted server version.
    pub version: String,
    /// SCRYPTED_* variables; secret-looking values are "[REDACTED]".
    pub env: BTreeMap<String, String>,
    /// Names of the redacted variables.
    pub redacted_keys: Vec<String>,
    /// Always null: Scrypted cannot tell.
    pub update_available: Option<bool>,
}

/// How long get_server_info reuses what the host said. Both reads describe the running
/// server process (its version, its SCRYPTED_* environment), which cannot change while it
/// runs, and a restart restarts this plugin too; the bound is only a safety margin. On the
/// real host the two reads are four RPC round trips (component lookup, then the call),
/// most of what a get_server_info call cost (issue 12).
pub const SERVER_INFO_TTL_MS: u64 = 5_000;

/// The server's version and its SCRYPTED_* environment, redacted once per host read
/// (redaction looks at every name and value), and the names it redacted.
type ServerInfo = (String, BTreeMap<String, String>, Vec<String>);

/// The last successful answer of the two host reads and when it was read (ms); failures
/// are never kept.
#[derive(Default)]
pub struct ServerInfoCache(RefCell<Option<(u64, ServerInfo)>>);

async fn server_info(tc: &ToolContext) -> Result<ServerInfo, ToolError> {
    let cache = &tc.ctx.tools.server_info.0;
    let now = tc.ctx.clock.now_ms();
    if let Some((at, info)) = cache.borrow().as_ref() {
        if now.saturating_sub(*at) < SERVER_INFO_TTL_MS {
            return Ok(info.clone());
        }
    }
    let version = tc.ctx.host.server_version().await?;
    let (env, redacted_keys) = redact_map(&tc.ctx.host.scrypted_env().await?);
    let info = (version, env, redacted_keys);
    *cache.borrow_mut() = Some((now, info.clone()));
    Ok(info)
}

async fn get_server_info(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let (version, env, redacted_keys) = server_info(&tc).await?;
    ok(ServerInfoOut {
        version,
        env,
        redacted_keys,
        update_available: None,
    })
}

// ---------- the answer of restart_server and update_server

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scheduled {
    Scheduled,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerAction {
    Restart,
    Update,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScheduledOut {
    /// Always "scheduled": the action runs after this answer.
    pub status: Scheduled,
    /// "restart" or "update".
    pub action: ServerAction,
    /// Delay before the action, in ms.
    pub delay_ms: u32,
    pub message: String,
}

// ---------- restart_server

pub const RESTART_SERVER: ToolDef = tool! {
    name: "restart_server",
    title: "Restart the Scrypted server",
    description: "Restarts the whole Scrypted server (service-control restart: the process exits and Docker or the service manager must start it again). Every plugin stops, including this MCP server: the answer is sent first and the restart runs about 1.5 s later; reconnect after the server is back (usually under a minute). Confirm with the user first.",
    input: NoArgs,
    output: ScheduledOut,
    hints: DESTRUCTIVE,
    scope: Admin,
    run: restart_server,
};

async fn restart_server(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    tc.ctx
        .host
        .defer(SELF_ACTION_DELAY_MS, Deferred::RestartServer);
    ok(ScheduledOut {
        status: Scheduled::Scheduled,
        action: ServerAction::Restart,
        delay_ms: SELF_ACTION_DELAY_MS,
        message: "The Scrypted server restarts in about 1.5 s. This MCP session ends then; reconnect once the server is back. If nothing brings it back, it was not running under Docker or a service manager.".into(),
    })
}

// ---------- update_server

pub const UPDATE_SERVER: ToolDef = tool! {
    name: "update_server",
    title: "Update the Scrypted server",
    description: "Updates the Scrypted server (service-control update): calls the SCRYPTED_WEBHOOK_UPDATE webhook when configured (e.g. Watchtower), otherwise marks an update and restarts so the installer updates on start. The server goes down, including this MCP server: the answer is sent first and the update starts about 1.5 s later. Confirm with the user first.",
    input: NoArgs,
    output: ScheduledOut,
    hints: DESTRUCTIVE,
    scope: Admin,
    run: update_server,
};

async fn update_server(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let env = tc.ctx.host.scrypted_env().await?;
    let webhook = env
        .get("SCRYPTED_WEBHOOK_UPDATE")
        .is_some_and(|v| !v.trim().is_empty());
    tc.ctx
        .host
        .defer(SELF_ACTION_DELAY_MS, Deferred::UpdateServer);
    ok(ScheduledOut {
        status: Scheduled::Scheduled,
        action: ServerAction::Update,
        delay_ms: SELF_ACTION_DELAY_MS,
        message: if webhook {
            "The update starts in about 1.5 s through the SCRYPTED_WEBHOOK_UPDATE webhook; the server then goes down and this MCP session ends. Reconnect once it is back.".into()
        } else {
            "The update starts in about 1.5 s: Scrypted marks an update and restarts, and its installer updates on start. This MCP session ends then; reconnect once the server is back.".into()
        },
    })
}

// ---------- get_dotenv

pub const GET_DOTENV: ToolDef = tool! {
    name: "get_dotenv",
    title: "Read the server's .env file",
    description: "Reads <volume>/.env, the environment file Scrypted loads at start. Values of secret-looking keys are shown as \"[REDACTED]\" (listed in redacted_keys). To change the file, edit this text and pass it to set_dotenv: lines still holding \"[REDACTED]\" keep their current secret. A missing file is reported as exists: false with empty text.",
    input: NoArgs,
    output: DotEnvOut,
    hints: READ,
    scope: Read,
    run: get_dotenv,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct DotEnvOut {
    /// Whether the file exists.
    pub exists: bool,
    /// The file's text with secret values replaced by "[REDACTED]".
    pub text: String,
    /// Keys whose values were redacted.
    pub redacted_keys: Vec<String>,
}

/// The current `.env` text, `None` when the file does not exist (only the message text
/// tells, because the error code does not survive Scrypted's RPC).
async fn read_dotenv(tc: &ToolContext) -> Result<Option<String>, ToolError> {
    match tc.ctx.host.dotenv().await {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.message.contains("ENOENT") || e.message.contains("no such file") => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn get_dotenv(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let current = read_dotenv(&tc).await?;
    let exists = current.is_some();
    let (text, redacted_keys) = redact_dotenv(current.as_deref().unwrap_or(""));
    ok(DotEnvOut {
        exists,
        text,
        redacted_keys,
    })
}

// ---------- set_dotenv

pub const SET_DOTENV: ToolDef = tool! {
    name: "set_dotenv",
    title: "Write the server's .env file",
    description: "Overwrites <volume>/.env with the given text (the whole file). Any KEY=[REDACTED] line keeps that key's current value, so text from get_dotenv can be edited and written back without destroying secrets; a placeholder for a key that has no current value is refused and nothing is written. Takes effect only after restart_server. With dry_run: true nothing is written and `preview` holds the line diff against the current file (secrets redacted; a secret that would change shows as \"[REDACTED, changed]\").",
    input: SetDotEnvArgs,
    output: SetDotEnvOut,
    hints: DESTRUCTIVE_IDEMPOTENT,
    scope: Admin,
    run: set_dotenv,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SetDotEnvArgs {
    /// The complete new file, KEY=value lines; "KEY=[REDACTED]" keeps that key's current value.
    pub text: String,
    /// true: change nothing and answer what would change (the same checks run first).
    #[serde(default)]
    pub dry_run: bool,
}

crate::fields::args!(SetDotEnvArgs {
    text: required,
    dry_run: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct SetDotEnvOut {
    /// True when the file was written; false in a dry run.
    pub written: bool,
    /// True when nothing was written.
    pub dry_run: bool,
    /// Bytes written (or that would be).
    pub bytes: usize,
    /// Keys sent as "[REDACTED]" whose current values were kept.
    pub kept_secret_keys: Vec<String>,
    /// Always true: Scrypted reads .env only at start.
    pub restart_required: bool,
    pub message: String,
    /// In a dry run, the change to the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<DotEnvPreview>,
}

/// The change a set_dotenv would make, redacted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DotEnvPreview {
    /// Whether the file exists now (a missing file diffs as empty text).
    pub exists: bool,
    #[serde(flatten)]
    pub text: TextPreview,
    /// Secret keys whose value would change (or that would be added); neither value shown.
    pub changed_secret_keys: Vec<String>,
}

fn dotenv_preview(current: Option<&str>, text: &str) -> DotEnvPreview {
    let before = current.unwrap_or("");
    let (after, changed_secret_keys) = redact_dotenv_against(text, before);
    DotEnvPreview {
        exists: current.is_some(),
        text: text_diff(&redact_dotenv(before).0, &after),
        changed_secret_keys,
    }
}

async fn set_dotenv(tc: Rc<ToolContext>, a: SetDotEnvArgs) -> ToolResult {
    if a.text.len() > MAX_DOTENV_BYTES {
        return Err(ToolError::InvalidParams(format!(
            "text is {} bytes; a .env file over {MAX_DOTENV_BYTES} bytes is refused.",
            a.text.len()
        )));
    }
    let placeholders = a.text.contains(REDACTED);
    let current = if placeholders || a.dry_run {
        read_dotenv(&tc).await?
    } else {
        None
    };
    let (text, kept) = if placeholders {
        restore_dotenv(&a.text, current.as_deref().unwrap_or_default())
            .map_err(|e| ToolError::failed(format!("{e} Nothing was written.")))?
    } else {
        (a.text, Vec::new())
    };
    let (preview, message) = if a.dry_run {
        let preview = dotenv_preview(current.as_deref(), &text);
        (Some(preview), format!("{NOTHING_CHANGED} The diff shows what set_dotenv would write; it would take effect after restart_server."))
    } else {
        tc.ctx.host.set_dotenv(&text).await?;
        (
            None,
            ".env written; it takes effect after restart_server.".into(),
        )
    };
    ok(SetDotEnvOut {
        written: !a.dry_run,
        dry_run: a.dry_run,
        bytes: text.len(),
        kept_secret_keys: kept,
        restart_required: true,
        message,
        preview,
    })
}
