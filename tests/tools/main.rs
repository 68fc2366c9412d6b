//! The tool catalogue against the fake host: each tool's logic, quirks and error paths,
//! asserted on what reached the (fake) Scrypted server. This file holds the harness; each
//! tool area has its own module.

#[path = "../common/mod.rs"]
mod common;
#[path = "../common/flow.rs"]
mod flow;

mod args;
mod backup;
mod cameras;
mod catalogue;
mod devices;
mod dry_run;
mod events;
mod logs;
mod network;
mod pinned;
mod plugin_devices;
mod plugins;
mod redaction;
mod server;
mod users;

use common::*;
use futures::executor::block_on;
use scrypted_mcp::crypto;
use scrypted_mcp::store::Store;
use scrypted_mcp::tools::{catalogue, Caller, Elicited, ToolContext, ToolError, ToolOutput};
use serde_json::{json, Map, Value};
use std::rc::Rc;

struct H {
    plugin: scrypted_mcp::Plugin,
    host: Rc<FakeBridge>,
    store: Rc<scrypted_mcp::store::MemStore>,
    clock: Rc<scrypted_mcp::clock::FixedClock>,
    peer: Rc<FakePeer>,
    caller: Caller,
}

impl H {
    fn new() -> H {
        Self::with_peer(FakePeer::new(false))
    }

    fn with_peer(peer: FakePeer) -> H {
        let (plugin, host, store, clock) = plugin();
        H {
            plugin,
            host,
            store,
            clock,
            peer: Rc::new(peer),
            caller: admin_caller(),
        }
    }

    /// A run of the tool, not polled yet: a test drives it (to a held host call, say).
    fn start(
        &self,
        name: &str,
        args: Value,
    ) -> futures::future::LocalBoxFuture<'static, Result<ToolOutput, ToolError>> {
        let def = catalogue()
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tool {name}"));
        let tc = Rc::new(ToolContext {
            ctx: self.plugin.ctx.clone(),
            caller: self.caller.clone(),
            peer: self.peer.clone(),
        });
        (def.run)(tc, args)
    }

    fn call(&self, name: &str, args: Value) -> Result<ToolOutput, ToolError> {
        let def = catalogue()
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tool {name}"));
        let result = block_on(self.start(name, args));
        if let Ok(out) = &result {
            let schema = Value::Object(def.output_schema());
            if let Err(e) = validate(&schema, &out.structured, "$") {
                panic!(
                    "{name}: result does not match its output schema: {e}\n{}",
                    out.structured
                );
            }
        }
        result
    }

    /// A successful call's structuredContent.
    fn ok(&self, name: &str, args: Value) -> Value {
        match self.call(name, args) {
            Ok(out) => out.structured,
            Err(e) => panic!("{name} failed: {e:?}"),
        }
    }

    /// A refused / failed call's message.
    fn failed(&self, name: &str, args: Value) -> String {
        match self.call(name, args) {
            Err(ToolError::Failed(m) | ToolError::Refused(m)) => m,
            other => panic!("{name}: expected Failed, got {other:?}"),
        }
    }

    /// Asserts the call fails with a message that contains `says`.
    fn fails_saying(&self, name: &str, args: Value, says: &str) {
        let msg = self.failed(name, args);
        assert!(msg.contains(says), "{name}: {msg:?} does not say {says:?}");
    }

    fn invalid(&self, name: &str, args: Value) -> String {
        match self.call(name, args) {
            Err(ToolError::InvalidParams(m)) => m,
            other => panic!("{name}: expected InvalidParams, got {other:?}"),
        }
    }

    fn mutations(&self) -> Vec<String> {
        self.host.mutating_calls()
    }

    /// Makes the host's `method` fail with "boom" and asserts `name` reports exactly that.
    fn reports_host_error(&self, method: &str, name: &str, args: Value) {
        self.reports_host_message(method, "boom", name, args);
    }

    /// Makes the host's `method` reject with `message` (all that survives Scrypted's RPC)
    /// and asserts `name` passes it on unchanged.
    fn reports_host_message(&self, method: &str, message: &str, name: &str, args: Value) {
        self.host.fail_with(method, message);
        assert_eq!(
            self.failed(name, args),
            format!("Scrypted reported an error: {message}")
        );
    }
}

fn caller(sub: &str, client_id: &str) -> Caller {
    Caller {
        sub: sub.into(),
        client_id: client_id.into(),
        scope: scrypted_mcp::oauth::Scope::Admin,
    }
}

/// Checks `v` against a tool's output schema (draft 2020-12, as schemars generates it).
fn validate(schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let validator = jsonschema::draft202012::new(schema).map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{at}{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn names(v: &Value, list: &str, field: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect()
}
