//! The tool catalogue: one file per Scrypted area; each tool is a schema (generated from a
//! Rust type with schemars), annotations, and an async function over the Host.
//!
//! The MCP server (`mcp::server`) lists `catalogue()` and calls `ToolDef::run`; it converts
//! `ToolError::InvalidParams` to JSON-RPC `-32602` and `ToolError::Failed` to an
//! `isError: true` result, and serializes `ToolOutput::structured` both as
//! `structuredContent` and as a text block.

pub mod alerts;
pub mod backup;
pub mod cluster;
pub mod devices;
pub mod logs;
pub mod network;
pub mod plugins;
pub mod redact;
pub mod resolve;
pub mod schema;
pub mod server;
pub mod users;

pub use backup::ToolsState;

use crate::Ctx;
use async_trait::async_trait;
use futures::future::LocalBoxFuture;
use serde_json::{Map, Value};
use std::rc::Rc;

/// Who is calling: taken from the verified access token, never from Scrypted's `username`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The Scrypted user who authorized the client (`sub`).
    pub sub: String,
    pub client_id: String,
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
    /// `Err` when the client answered with a JSON-RPC error or the session ended.
    async fn elicit(&self, message: &str, requested_schema: Value) -> Result<Elicited, String>;
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

/// A successful tool result.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    /// `structuredContent`; conforms to the tool's output schema.
    pub structured: Value,
    /// Content blocks sent after the JSON text block (e.g. the backup as an embedded
    /// resource), as MCP content JSON.
    pub extra_content: Vec<Value>,
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

pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input_schema: Map<String, Value>,
    pub output_schema: Option<Map<String, Value>>,
    pub hints: Hints,
    pub run: fn(Rc<ToolContext>, Value) -> LocalBoxFuture<'static, ToolResult>,
}

/// Every tool, in a stable order (tools/list pages through this).
pub fn catalogue() -> Vec<ToolDef> {
    let mut tools = Vec::with_capacity(39);
    tools.extend(plugins::tools());
    tools.extend(devices::tools());
    tools.extend(logs::tools());
    tools.extend(alerts::tools());
    tools.extend(server::tools());
    tools.extend(users::tools());
    tools.extend(network::tools());
    tools.extend(cluster::tools());
    tools.extend(backup::tools());
    tools
}
