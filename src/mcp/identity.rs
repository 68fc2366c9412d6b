//! Who we are and what we offer, as `initialize`, `server/discover`,
//! `subscriptions/listen` and every 2026-07-28 result say it.

use rmcp::model::{
    Implementation, PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
    TASKS_EXTENSION_ID,
};
use serde_json::{json, Map, Value};

/// Our identity, as `initialize` and every 2026-07-28 result's `_meta` carry it.
pub fn server_info() -> Implementation {
    let manifest = &crate::manifest::MANIFEST;
    Implementation::new(manifest.name, manifest.version).with_title(manifest.display_name)
}

/// Made once: every 2026-07-28 result carries it, and a copy of the `Value` costs less than
/// serialising the `Implementation` again (issue 12).
pub fn server_info_json() -> Value {
    thread_local! {
        static INFO: Value = serde_json::to_value(server_info()).unwrap_or_default();
    }
    INFO.with(Value::clone)
}

/// What we offer. Both eras: tools, resources, prompts, logging (per session in legacy,
/// per request in modern) and completions. Resource subscriptions (devices change state,
/// the audit resource changes with every tool call) travel on `subscriptions/listen` in
/// the modern era, on the session's GET stream in the legacy one. List-changed
/// notifications only where something can change a list while we run: the fixtures'
/// triggers. Our own lists change only with a plugin update, which restarts us and ends
/// every stream.
pub fn capabilities(modern: bool) -> ServerCapabilities {
    let fixtures = cfg!(feature = "conformance-fixtures");
    let mut caps = ServerCapabilities::default();
    let mut tools = ToolsCapability::default();
    tools.list_changed = Some(modern && fixtures);
    caps.tools = Some(tools);
    let mut resources = ResourcesCapability::default();
    resources.subscribe = Some(true);
    caps.resources = Some(resources);
    let mut prompts = PromptsCapability::default();
    if modern && fixtures {
        prompts.list_changed = Some(true);
    }
    caps.prompts = Some(prompts);
    caps.logging = Some(Map::new());
    caps.completions = Some(Map::new());
    if modern {
        // Extensions are negotiated per request in 2026-07-28 (`tasks`).
        caps.extensions = serde_json::from_value(json!({ TASKS_EXTENSION_ID: {} })).ok();
    }
    caps
}
