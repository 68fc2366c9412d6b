//! scrypted-mcp: an MCP server with its own OAuth 2.1 authorization server, run as a
//! Scrypted plugin. Rust decides, JavaScript carries: every decision about routing,
//! validation, OAuth, MCP framing, sessions, tools and settings is made here; the shim in
//! `js-shim/` only converts Scrypted's objects and calls host APIs when asked.
//!
//! The map of the code — data flow, what each file is for, contracts, storage layout —
//! is `docs/ARCHITECTURE.md`; the host, protocol, client and toolchain facts it rests on
//! are in `docs/reference/`.

pub mod admit;
pub mod audit;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod events;
pub mod fields;
pub mod host;
pub mod http;
pub mod manifest;
pub mod mcp;
pub mod oauth;
pub mod order;
pub mod origin;
pub mod settings;
pub mod store;
pub mod tools;
pub mod utc;

#[cfg(target_arch = "wasm32")]
pub mod wasm;

use clock::Clock;
use host::{Bridge, Host};
use http::{Request, Response};
use std::cell::RefCell;
use std::rc::Rc;
use store::Store;

/// Everything a request handler may touch. One per plugin instance, shared by `Rc`.
pub struct Ctx {
    pub host: Host,
    pub store: Rc<dyn Store>,
    pub clock: Rc<dyn Clock>,
    pub oauth: oauth::OAuthState,
    pub mcp: mcp::McpState,
    /// The audit trail, read from the plugin volume once.
    pub audit: audit::Trail,
    /// In-memory tool state (restore_backup's staged uploads).
    pub tools: tools::ToolsState,
    /// The device events seen since start, and the queue they arrive on.
    pub events: events::Events,
    /// The host name the last request of an admin's browser reached us by: the Settings
    /// tab's fallback when Scrypted knows no LAN address of its own.
    pub last_request_host: RefCell<Option<String>>,
}

/// The plugin facade the wasm exports wrap, and the Rust tests drive directly.
#[derive(Clone)]
pub struct Plugin {
    pub ctx: Rc<Ctx>,
}

impl Plugin {
    pub fn new(bridge: Rc<dyn Bridge>, store: Rc<dyn Store>, clock: Rc<dyn Clock>) -> Self {
        Plugin {
            ctx: Rc::new(Ctx {
                host: Host::new(bridge),
                store,
                clock,
                oauth: oauth::OAuthState::default(),
                mcp: mcp::McpState::default(),
                audit: audit::Trail::default(),
                tools: tools::ToolsState::default(),
                events: events::Events::default(),
                last_request_host: RefCell::default(),
            }),
        }
    }

    /// Asks the host, at start, what every request needs from it (the server's ports, for
    /// the public base URL), so the round trip overlaps Scrypted's own start-up of the
    /// plugin instead of delaying the first answer (issue 12, cold start). The wasm glue
    /// spawns it once; a request that comes first shares the same ask.
    pub async fn prefetch(&self) {
        self.ctx.oauth.server_ports(&self.ctx).await;
    }

    /// Answers one HTTP request that Scrypted routed to our endpoint.
    pub async fn handle(&self, req: Request) -> Response {
        let ctx = &self.ctx;
        // Only an admin's own browser: the Settings tab may show this host as the URL to
        // copy, so nobody else's Host header may get there.
        // Admin first: no MCP request needs that URL parse.
        if req.from_scrypted_admin() {
            if let Some(host) = origin::request_host_name(&req) {
                *ctx.last_request_host.borrow_mut() = Some(host);
            }
        }
        let path = req.local_path().to_string();
        let base = origin::base(ctx, &req).await;
        let cors = origin::cors(&req, &base);
        let response = if req.method == "OPTIONS" {
            origin::preflight(&req, &base)
        } else if path == "/mcp" {
            mcp::transport::handle(ctx, req, &base).await
        } else if let Some(response) = oauth::route(ctx, &req, &path).await {
            response
        } else if path == "/" {
            origin::hint_page(ctx, &req).await
        } else {
            Response::error(
                404,
                "not_found",
                &format!(
                    "No such path under this plugin: {path}. The MCP endpoint is .../public/mcp."
                ),
            )
        };
        cors.apply(response)
    }

    /// Asked before the body is read (`admit`): `Some(answer)` refuses the request on its
    /// head and body size alone, so a huge body never crosses into wasm.
    pub async fn admit(&self, head: &Request, body_bytes: usize) -> Option<Response> {
        let answer = admit::admit(&self.ctx, head, body_bytes).await?;
        let base = origin::base(&self.ctx, head).await;
        Some(origin::with_cors(head, &base, answer))
    }

    /// What the shim answers when `handle` itself fails: it is taken at start-up, since a
    /// failed (trapped) wasm instance can no longer answer anything.
    pub fn fallback_response() -> Response {
        Response::error(
            500,
            "internal_error",
            "The MCP plugin failed while answering this request; the plugin's console in \
             Scrypted has the details.",
        )
    }

    /// The Settings tab's message once the wasm has trapped, and the 503's description.
    pub const RESTARTING: &'static str = "The MCP plugin stopped after an internal error and \
        Scrypted is restarting it; try again in about 20 seconds. The plugin's console in \
        Scrypted has the details.";

    /// What the shim answers once the wasm has trapped, until Scrypted has restarted the
    /// plugin: `deviceManager.requestRestart` restarts it 15 s after the last request for
    /// one (plugin-host-api.ts), and a start takes well under the rest of the wait.
    pub fn restarting_response() -> Response {
        Response::error(503, "temporarily_unavailable", Self::RESTARTING)
            .header("retry-after", "20")
    }

    /// One event of the host's `systemManager.listen`: queued for [`Plugin::pump_events`].
    pub fn device_event(&self, event: host::DeviceEvent) {
        self.ctx.events.push(event);
    }

    /// Applies device events as they arrive; runs for the plugin's life (the wasm glue
    /// spawns it once).
    pub async fn pump_events(&self) {
        events::pump(self.ctx.clone(), mcp::device_changed).await
    }

    /// Runs tasks to their end as their host calls settle (`mcp::tasks::pump`); runs for
    /// the plugin's life (the wasm glue spawns it once).
    pub async fn pump_tasks(&self) {
        mcp::tasks::pump(self.ctx.clone()).await
    }

    /// Scrypted `Settings.getSettings()`.
    pub async fn get_settings(&self) -> Vec<settings::Setting> {
        settings::get_settings(&self.ctx).await
    }

    /// Scrypted `Settings.putSetting()`: `Err` carries a message a person can act on, and
    /// nothing is changed.
    pub async fn put_setting(&self, key: &str, value: serde_json::Value) -> Result<(), String> {
        settings::put_setting(&self.ctx, key, value).await
    }
}
