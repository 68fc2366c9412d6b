//! The two eras one endpoint serves (2026-07-28 basic/versioning.mdx, "Backward
//! Compatibility"): legacy revisions (2025-03-26 … 2025-11-25) open a session with
//! `initialize`, which then holds the negotiated version and the client's capabilities;
//! the modern revision (2026-07-28) carries them in every request's `_meta` and nothing
//! is remembered between requests.

use super::session::{self, SessionRef};
use crate::http::Request;
use rmcp::model::{ClientCapabilities, ErrorData, ProtocolVersion};
use serde_json::{json, Map, Value};
use std::rc::Rc;

/// The modern revisions we speak.
pub const MODERN_VERSIONS: [ProtocolVersion; 1] = [ProtocolVersion::V_2026_07_28];

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

pub fn modern(version: &str) -> Option<ProtocolVersion> {
    MODERN_VERSIONS
        .iter()
        .find(|v| v.as_str() == version)
        .cloned()
}

/// Every version we serve, newest first. `server/discover` and -32022 list the same
/// versions: a dual-era client that meets a legacy one there falls back to
/// `initialize`, which is what it should do.
pub fn all_versions() -> Vec<ProtocolVersion> {
    let legacy = session::SUPPORTED_VERSIONS.iter().rev();
    MODERN_VERSIONS.iter().chain(legacy).cloned().collect()
}

/// Whether a POST belongs to the modern era. The spec names the signals (per-request
/// `_meta` is modern, `initialize` is legacy) but no rule for mixed ones; this one is
/// derived from the conformance probes and the clients we know (digest §1.1): a modern
/// `MCP-Protocol-Version` header or a `_meta` protocol version makes a request modern,
/// unless it opens or continues a legacy session with a legacy (or no) version header.
/// Legacy clients send `initialize` without the header, and everything after it with
/// the session id and a legacy header, so they stay legacy whatever their `_meta` holds.
pub fn is_modern(req: &Request, body: &Value) -> bool {
    let header = req.header("mcp-protocol-version").map(str::trim);
    let modern_header = header.and_then(modern).is_some();
    let modern_meta = body
        .get("params")
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(META_PROTOCOL_VERSION))
        .is_some();
    if !modern_header && !modern_meta {
        return false;
    }
    let legacy_header = header.is_none_or(|h| session::supported(h).is_some());
    let legacy_opening = body.get("method").and_then(Value::as_str) == Some("initialize")
        || req.header("mcp-session-id").is_some();
    !(legacy_header && legacy_opening)
}

/// What a modern request says about its client, read from `params._meta`.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// As sent; not yet known to be one we serve.
    pub requested: String,
    pub capabilities: ClientCapabilities,
    // `clientInfo` (a SHOULD for clients) is not read: nothing uses it, and parsing it was a
    // clone and rmcp's Implementation/Icon deserialisers on every request (8 KB of wasm
    // before -Oz).
    /// Rank in `session::LOG_LEVELS`; `None`: the request asked for no log messages,
    /// so none may be sent.
    pub log_level: Option<usize>,
}

impl RequestMeta {
    /// `Err` (-32602, HTTP 400) when `_meta`, its protocol version (a string) or its
    /// client capabilities (an object) are missing, or the log level is not one.
    pub fn read(params: &Value) -> Result<RequestMeta, ErrorData> {
        let invalid = |why: &str| ErrorData::invalid_params(format!("Invalid params: {why}"), None);
        let Some(Value::Object(meta)) = params.get("_meta") else {
            return Err(invalid(
                "params._meta is required on every request of protocol 2026-07-28",
            ));
        };
        let Some(Value::String(requested)) = meta.get(META_PROTOCOL_VERSION) else {
            return Err(invalid(&format!(
                "params._meta[\"{META_PROTOCOL_VERSION}\"] must be a string"
            )));
        };
        let Some(capabilities @ Value::Object(_)) = meta.get(META_CLIENT_CAPABILITIES) else {
            return Err(invalid(&format!(
                "params._meta[\"{META_CLIENT_CAPABILITIES}\"] must be an object"
            )));
        };
        let log_level = match meta.get(META_LOG_LEVEL) {
            None => None,
            Some(level) => Some(level.as_str().and_then(session::log_rank).ok_or_else(|| {
                invalid(&format!(
                    "params._meta[\"{META_LOG_LEVEL}\"] must be one of {}",
                    session::LOG_LEVELS.join(", ")
                ))
            })?),
        };
        Ok(RequestMeta {
            requested: requested.clone(),
            capabilities: client_capabilities(Some(capabilities)),
            log_level,
        })
    }
}

/// The client of one request: a legacy session, or a modern request's own `_meta`.
#[derive(Clone)]
pub enum Era {
    Legacy(SessionRef),
    Modern(Rc<RequestMeta>),
}

impl Era {
    pub fn version(&self) -> ProtocolVersion {
        match self {
            Era::Legacy(session) => session.borrow().version.clone(),
            Era::Modern(_) => ProtocolVersion::V_2026_07_28,
        }
    }

    pub fn is_modern(&self) -> bool {
        matches!(self, Era::Modern(_))
    }

    /// The capabilities the client declared: at `initialize`, or on this request.
    pub fn declared(&self) -> ClientCapabilities {
        match self {
            Era::Legacy(session) => session.borrow().client_capabilities.clone(),
            Era::Modern(meta) => meta.capabilities.clone(),
        }
    }

    pub fn session(&self) -> Option<&SessionRef> {
        match self {
            Era::Legacy(session) => Some(session),
            Era::Modern(_) => None,
        }
    }

    /// Whether we can ask this client to fill in a form: a legacy session by a request
    /// on the stream, a modern client through an `InputRequiredResult` (`mrtr`). Form
    /// mode is what we send: `{}` means form; `{url: {}}` alone does not offer it.
    pub fn supports_elicitation(&self) -> bool {
        match self {
            Era::Legacy(session) => session.borrow().supports_elicitation(),
            Era::Modern(meta) => offers_form_elicitation(&meta.capabilities),
        }
    }

    pub fn supports_sampling(&self) -> bool {
        match self {
            Era::Legacy(session) => session.borrow().supports_sampling(),
            #[allow(deprecated)]
            Era::Modern(meta) => meta.capabilities.sampling.is_some(),
        }
    }

    /// The lowest log level to send, `None` for none at all.
    pub fn log_threshold(&self) -> Option<usize> {
        match self {
            Era::Legacy(session) => Some(session.borrow().log_level),
            Era::Modern(meta) => meta.log_level,
        }
    }
}

/// The client's capabilities. An entry we cannot read counts as absent rather than
/// refusing the client, and only that entry: one malformed sibling must not hide
/// `elicitation`.
pub(crate) fn client_capabilities(value: Option<&Value>) -> ClientCapabilities {
    let Some(Value::Object(entries)) = value else {
        return ClientCapabilities::default();
    };
    let readable: Map<String, Value> = crate::order::map(
        entries
            .iter()
            .filter(|(name, entry)| {
                serde_json::from_value::<ClientCapabilities>(json!({ *name: entry })).is_ok()
            })
            .map(|(name, entry)| (name.clone(), entry.clone())),
    );
    serde_json::from_value(Value::Object(readable)).unwrap_or_default()
}

/// Whether `capabilities` offer form elicitation, the mode we send: `{}` means form;
/// `{url: {}}` alone does not offer it.
pub fn offers_form_elicitation(capabilities: &rmcp::model::ClientCapabilities) -> bool {
    capabilities
        .elicitation
        .as_ref()
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}
