//! Shared test fixtures: `FakeBridge` (tests/common/fake), an in-memory Scrypted behind a
//! fake of `js-shim/host.js` that starts from the one demo data set
//! (`js-shim/dev/demo.json`) and behaves as tests/host-cases.json says the real server does;
//! `FakePeer`, a scriptable MCP client; and `plugin()`, a Plugin wired to them.
//!
//! Every host call is recorded under its `host.js` name with the JSON arguments `host.js`
//! would receive, so tests assert what reached the host, not what a tool said.
#![allow(dead_code, unused_imports)]

pub mod demo;
pub mod fake;
pub mod peer;

pub use demo::{demo, merge_patch};
pub use fake::{Device, FakeBridge, FakePlugin, FakeUser, NpmPackage};
pub use peer::{FakePeer, ProgressNote};

use futures::future::LocalBoxFuture;
use scrypted_mcp::clock::FixedClock;
use scrypted_mcp::store::MemStore;
use scrypted_mcp::tools::Caller;
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::task::Context;

/// The fixed clock's start: 2026-11-21T10:00:00Z.
pub const NOW_MS: u64 = 1_795_255_200_000;

/// Our own plugin id (the manifest's npm name).
pub const SELF_PLUGIN: &str = "scrypted-mcp";
// Device ids of the demo data (js-shim/dev/demo.json; checked by tests/host_cases.rs).
/// Our own plugin's root device.
pub const SELF_ID: &str = "3";
pub const CORE_ID: &str = "1";
pub const HUE_ID: &str = "4";
pub const AMCREST_ID: &str = "5";
pub const ZWAVE_ID: &str = "6";
pub const HOMEKIT_ID: &str = "7";
pub const LIGHT_ID: &str = "10";
pub const LAMP_ID: &str = "11";
pub const CAMERA_ID: &str = "12";
pub const LOCK_ID: &str = "13";
pub const THERMO_ID: &str = "14";
pub const DOOR_ID: &str = "15";
/// The non-admin demo user's core `user:viewer` device (its aclId).
pub const VIEWER_ID: &str = "20";

/// A `defer` notice as host.js receives it.
pub fn deferred_call(delay_ms: u32, method: &str, args: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"delayMs": delay_ms, "method": method, "args": args})
}

/// The caller the tests use: the admin, through client "test-client".
pub fn admin_caller() -> Caller {
    Caller {
        sub: "admin".into(),
        client_id: "test-client".into(),
        scope: scrypted_mcp::oauth::Scope::Admin,
    }
}

/// A Plugin over a fresh FakeBridge (the demo server), MemStore and a clock at `NOW_MS`.
pub fn plugin() -> (
    scrypted_mcp::Plugin,
    Rc<FakeBridge>,
    Rc<MemStore>,
    Rc<FixedClock>,
) {
    plugin_over(FakeBridge::new(NOW_MS))
}

/// A Plugin over `host`, a fresh MemStore and a clock at `NOW_MS`.
pub fn plugin_over(
    host: FakeBridge,
) -> (
    scrypted_mcp::Plugin,
    Rc<FakeBridge>,
    Rc<MemStore>,
    Rc<FixedClock>,
) {
    let host = Rc::new(host);
    let store = Rc::new(MemStore::default());
    let clock = Rc::new(FixedClock::at_ms(NOW_MS));
    let plugin = scrypted_mcp::Plugin::new(host.clone(), store.clone(), clock.clone());
    // What js-shim/plugin.js does: the host's one event listener feeds the plugin's queue.
    let ctx = Rc::downgrade(&plugin.ctx);
    host.listen(move |event| {
        if let Some(ctx) = ctx.upgrade() {
            let event = serde_json::from_value(event).expect("a listenToDevices event");
            scrypted_mcp::Plugin { ctx }.device_event(event);
        }
    });
    (plugin, host, store, clock)
}

/// The plugin's event pump (`Plugin::pump_events`, which the wasm glue spawns), driven by
/// hand: `run` applies every event queued so far.
pub struct Pump(RefCell<LocalBoxFuture<'static, ()>>);

impl Pump {
    pub fn new(plugin: &scrypted_mcp::Plugin) -> Pump {
        let plugin = plugin.clone();
        Pump(RefCell::new(Box::pin(
            async move { plugin.pump_events().await },
        )))
    }

    pub fn run(&self) {
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        assert!(
            self.0.borrow_mut().as_mut().poll(&mut cx).is_pending(),
            "the pump runs for the plugin's life"
        );
    }
}

/// The catalogue the plugin must list, in order: the 39 tools of issue 3, with issue 11's
/// camera snapshot and recent events after the device tools.
pub const CATALOGUE_TOOLS: [&str; 41] = [
    "list_plugins",
    "get_plugin_info",
    "reload_plugin",
    "kill_plugin",
    "install_plugin",
    "update_plugins",
    "npm_info",
    "rename_device_id",
    "set_mixins",
    "get_storage",
    "set_storage",
    "get_id_for_native_id",
    "disconnect_clients",
    "clear_console",
    "list_devices",
    "get_device",
    "call_device_method",
    "get_camera_snapshot",
    "get_recent_events",
    "get_logs",
    "clear_logs",
    "list_alerts",
    "remove_alert",
    "clear_alerts",
    "get_server_info",
    "restart_server",
    "update_server",
    "get_dotenv",
    "set_dotenv",
    "list_users",
    "add_user",
    "remove_user",
    "get_local_addresses",
    "set_local_addresses",
    "get_external_addresses",
    "set_external_addresses",
    "get_cors",
    "set_cors",
    "list_cluster_workers",
    "create_backup",
    "restore_backup",
];

/// A plugin's storage that counts the reads of the keys starting with `prefix`: what a
/// request reads from storage is its cost on a real host (each read crosses into JS).
pub struct CountingReads {
    pub inner: Rc<MemStore>,
    pub prefix: &'static str,
    pub reads: std::cell::Cell<usize>,
}

impl CountingReads {
    pub fn over(inner: Rc<MemStore>, prefix: &'static str) -> Rc<Self> {
        Rc::new(CountingReads {
            inner,
            prefix,
            reads: Default::default(),
        })
    }
}

impl scrypted_mcp::store::Store for CountingReads {
    fn get(&self, key: &str) -> Option<String> {
        if key.starts_with(self.prefix) {
            self.reads.set(self.reads.get() + 1);
        }
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &str) {
        self.inner.set(key, value)
    }
    fn remove(&self, key: &str) {
        self.inner.remove(key)
    }
    fn keys(&self) -> Vec<String> {
        self.inner.keys()
    }
}
