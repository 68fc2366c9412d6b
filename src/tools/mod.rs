//! The tool catalogue: one file per Scrypted area (`plugins/` split by concern). Each tool
//! is one unit: a `const` [`ToolDef`] (name, title, description, annotations, and the Rust
//! types its schemas are generated from with schemars), then those types, then its async
//! function over the Host. What tools/list says of each tool is pinned in `schemas.jsonl`.
//!
//! The MCP server (`mcp::server`) lists `catalogue()` and calls `ToolDef::run`; it converts
//! `ToolError::InvalidParams` to JSON-RPC `-32602` and `ToolError::Failed` to an
//! `isError: true` result, and serializes `ToolOutput::structured` both as
//! `structuredContent` and as a text block.

pub mod alerts;
pub mod backup;
pub mod cameras;
pub mod cluster;
pub mod devices;
pub mod events;
pub mod logs;
pub mod network;
pub mod plugins;
pub mod preview;
pub mod redact;
pub mod resolve;
pub mod schema;
pub mod secrets;
pub mod server;
pub mod users;

pub use backup::ToolsState;

use crate::Ctx;
use async_trait::async_trait;
use futures::future::LocalBoxFuture;
use rmcp::model::{ContentBlock, ElicitationSchema};
use serde_json::{Map, Value};
use std::rc::Rc;

/// Who is calling: taken from the verified access token, never from Scrypted's `username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The Scrypted user who authorized the client (`sub`).
    pub sub: String,
    pub client_id: String,
    /// What the token may do right now (token, grant and read-only mode, the least).
    pub scope: crate::oauth::Scope,
}

/// What an elicitation request came back with.
#[derive(Debug, Clone, PartialEq)]
pub enum Elicited {
    Accept(Map<String, Value>),
    Decline,
    Cancel,
}

/// The client on the other end of one tools/call: elicitation, progress and log
/// notifications travel on that request's event stream.
#[async_trait(?Send)]
pub trait Peer {
    /// Whether the client declared the `elicitation` capability (form mode).
    fn supports_elicitation(&self) -> bool;
    /// Sends `elicitation/create {message, requestedSchema}` and waits for the answer.
    /// `Err` when the client answered with a JSON-RPC error, the session ended, or no
    /// answer came in time (`mcp::peer::ANSWER_TIMEOUT_MS`; audited as `cancel`). The
    /// schema is rmcp's type, built in code: parsing one from JSON is ~50 KB of wasm.
    async fn elicit(
        &self,
        message: &str,
        requested_schema: ElicitationSchema,
    ) -> Result<Elicited, String>;
    /// `notifications/progress`, when the request carried a progress token.
    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>);
    /// `notifications/message` at `level`, when at or above the session's log level.
    fn log(&self, level: &str, data: Value);
}

pub struct ToolContext {
    pub ctx: Rc<Ctx>,
    pub caller: Caller,
    pub peer: Rc<dyn Peer>,
}

impl ToolContext {
    /// Refuses, before anything runs, what only a token of `needed` may do: a tool whose
    /// arguments or device ask for more than the tool's own scope (the door checks that one).
    pub fn require(&self, needed: crate::oauth::Scope, what: &str) -> Result<(), ToolError> {
        if self.caller.scope >= needed {
            return Ok(());
        }
        Err(ToolError::Refused(needed.refusal(what, self.caller.scope)))
    }
}

/// A successful tool result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// `structuredContent`; conforms to the tool's output schema.
    pub structured: Value,
    /// Content blocks sent after the JSON text block (e.g. the backup as an embedded
    /// resource).
    pub extra_content: Vec<ContentBlock>,
}

impl ToolOutput {
    pub fn new(structured: Value) -> Self {
        ToolOutput {
            structured,
            extra_content: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolError {
    /// The arguments do not fit the schema: JSON-RPC `-32602`.
    InvalidParams(String),
    /// The call ran and failed, or was refused: `isError: true` with this message.
    Failed(String),
    /// The token's scope does not cover what the arguments or the device reach
    /// ([`ToolContext::require`]): `isError: true` as `Failed`, audited as `refused`.
    Refused(String),
}

impl ToolError {
    pub fn failed(message: impl Into<String>) -> Self {
        ToolError::Failed(message.into())
    }
}

impl From<crate::host::HostError> for ToolError {
    fn from(e: crate::host::HostError) -> Self {
        ToolError::Failed(format!("Scrypted reported an error: {}", e.message))
    }
}

pub type ToolResult = Result<ToolOutput, ToolError>;

/// MCP tool annotations (hints only, but they must be true to what the tool does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
}

/// One tool: what tools/list says about it and the function tools/call runs. Each is a
/// `const` built by [`schema::tool!`] directly above its function, so the definition and
/// the code read as one unit.
pub struct ToolDef {
    pub name: &'static str,
    /// The title and description as written beside the tool. Host builds only: the plugin
    /// serves them from `schemas.jsonl` with the schemas ([`ToolDef::title`]), where they are
    /// carried compressed (issue 12, wasm size).
    #[cfg(not(target_arch = "wasm32"))]
    pub title: &'static str,
    #[cfg(not(target_arch = "wasm32"))]
    pub description: &'static str,
    /// Generates the `inputSchema` from the argument type. Host builds only: the plugin serves
    /// the generated schemas pinned in `schemas.jsonl` ([`schema::pinned`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub input: fn() -> Map<String, Value>,
    /// Generates the `outputSchema` from the result type (host builds only, as `input`).
    #[cfg(not(target_arch = "wasm32"))]
    pub output: fn() -> Map<String, Value>,
    /// `schema::parse` and serde's derive on the same arguments, each answer as Debug text
    /// (host builds only: `tests/tools/args.rs` keeps them equal).
    #[cfg(not(target_arch = "wasm32"))]
    pub args_both: fn(Value) -> [String; 2],
    pub hints: Hints,
    /// The one OAuth scope a token needs to call it (issue 9): the tool is listed to
    /// everyone, and a call without it is refused with 403 before anything runs.
    pub scope: crate::oauth::Scope,
    pub run: fn(Rc<ToolContext>, Value) -> LocalBoxFuture<'static, ToolResult>,
}

impl ToolDef {
    pub fn title(&self) -> &'static str {
        &schema::pinned(self.name).title
    }

    pub fn description(&self) -> &'static str {
        &schema::pinned(self.name).description
    }

    pub fn input_schema(&self) -> Map<String, Value> {
        schema::pinned(self.name).input.clone()
    }

    pub fn output_schema(&self) -> Map<String, Value> {
        schema::pinned(self.name).output.clone()
    }
}

/// Delay before a deferred self-ending action runs, so the answer leaves first.
pub const SELF_ACTION_DELAY_MS: u32 = 1500;

/// Every tool, in a stable order (tools/list pages through this).
pub fn catalogue() -> &'static [ToolDef] {
    use plugins::{devices as plugin_devices, lifecycle, npm, storage};
    &[
        lifecycle::LIST_PLUGINS,
        lifecycle::GET_PLUGIN_INFO,
        lifecycle::RELOAD_PLUGIN,
        lifecycle::KILL_PLUGIN,
        npm::INSTALL_PLUGIN,
        npm::UPDATE_PLUGINS,
        npm::NPM_INFO,
        plugin_devices::RENAME_DEVICE_ID,
        plugin_devices::SET_MIXINS,
        storage::GET_STORAGE,
        storage::SET_STORAGE,
        plugin_devices::GET_ID_FOR_NATIVE_ID,
        lifecycle::DISCONNECT_CLIENTS,
        plugin_devices::CLEAR_CONSOLE,
        devices::LIST_DEVICES,
        devices::GET_DEVICE,
        devices::CALL_DEVICE_METHOD,
        cameras::GET_CAMERA_SNAPSHOT,
        events::GET_RECENT_EVENTS,
        logs::GET_LOGS,
        logs::CLEAR_LOGS,
        alerts::LIST_ALERTS,
        alerts::REMOVE_ALERT,
        alerts::CLEAR_ALERTS,
        server::GET_SERVER_INFO,
        server::RESTART_SERVER,
        server::UPDATE_SERVER,
        server::GET_DOTENV,
        server::SET_DOTENV,
        users::LIST_USERS,
        users::ADD_USER,
        users::REMOVE_USER,
        network::GET_LOCAL_ADDRESSES,
        network::SET_LOCAL_ADDRESSES,
        network::GET_EXTERNAL_ADDRESSES,
        network::SET_EXTERNAL_ADDRESSES,
        network::GET_CORS,
        network::SET_CORS,
        cluster::LIST_CLUSTER_WORKERS,
        backup::CREATE_BACKUP,
        backup::RESTORE_BACKUP,
    ]
}
