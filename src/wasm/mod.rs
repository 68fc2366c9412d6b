//! wasm-bindgen exports and the Host / Store / Clock implementations over the JS bridge
//! object that `js-shim/plugin.js` passes in (its methods are in `js-shim/host.js`).

use crate::clock::Clock;
use crate::host::*;
use crate::http::{Body, Request};
use crate::store::Store;
use crate::Plugin;
use async_trait::async_trait;
use futures::stream::{LocalBoxStream, StreamExt};
use js_sys::Promise;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

#[wasm_bindgen]
extern "C" {
    /// The bridge object built by `js-shim/plugin.js`.
    pub type HostBridge;

    /// Calls the host capability `method` (an entry of `host.js`) with one argument object.
    #[wasm_bindgen(method, catch)]
    fn call(this: &HostBridge, method: &str, args: JsValue) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method)]
    fn defer(this: &HostBridge, delay_ms: u32, action: JsValue);
    #[wasm_bindgen(method)]
    fn log(this: &HostBridge, level: &str, message: &str);
    #[wasm_bindgen(method, js_name = settingsChanged)]
    fn settings_changed(this: &HostBridge);
    #[wasm_bindgen(method, js_name = storageGet)]
    fn storage_get(this: &HostBridge, key: &str) -> Option<String>;
    #[wasm_bindgen(method, js_name = storageSet)]
    fn storage_set(this: &HostBridge, key: &str, value: &str);
    #[wasm_bindgen(method, js_name = storageRemove)]
    fn storage_remove(this: &HostBridge, key: &str);
    #[wasm_bindgen(method, js_name = storageKeys)]
    fn storage_keys(this: &HostBridge) -> Vec<String>;
    #[wasm_bindgen(method)]
    fn now(this: &HostBridge) -> f64;
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

fn error_message(e: JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

pub struct JsHost(Rc<HostBridge>);

impl JsHost {
    async fn raw(&self, method: &str, args: Value) -> HostResult<JsValue> {
        let promise = self
            .0
            .call(method, to_js(&args))
            .map_err(|e| HostError::new(error_message(e)))?;
        JsFuture::from(promise)
            .await
            .map_err(|e| HostError::new(error_message(e)))
    }

    async fn get<T: DeserializeOwned>(&self, method: &str, args: Value) -> HostResult<T> {
        let value = self.raw(method, args).await?;
        serde_wasm_bindgen::from_value(value)
            .map_err(|e| HostError::new(format!("unexpected answer from {method}: {e}")))
    }

    async fn unit(&self, method: &str, args: Value) -> HostResult<()> {
        self.raw(method, args).await.map(|_| ())
    }
}

#[async_trait(?Send)]
impl Host for JsHost {
    async fn local_endpoint(&self, insecure: bool) -> HostResult<String> {
        self.get("localEndpoint", json!({ "insecure": insecure }))
            .await
    }
    async fn server_ports(&self) -> HostResult<ServerPorts> {
        // Scrypted's defaults when a port component answers nothing usable.
        let raw: Value = self.get("serverPorts", json!({})).await?;
        let port = |name: &str, default: u16| {
            match &raw[name] {
                Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .filter(|p| *p != 0)
            .unwrap_or(default)
        };
        Ok(ServerPorts {
            insecure: port("insecure", 11080),
            secure: port("secure", 10443),
        })
    }
    async fn system_state(&self) -> HostResult<SystemState> {
        self.get("systemState", json!({})).await
    }
    async fn device_info(&self, id: &str) -> HostResult<Value> {
        self.get("deviceInfo", json!({ "id": id })).await
    }
    async fn call_device_method(
        &self,
        id: &str,
        method: &str,
        args: Vec<Value>,
    ) -> HostResult<Value> {
        self.get(
            "callDeviceMethod",
            json!({ "id": id, "method": method, "args": args }),
        )
        .await
    }
    async fn remove_device(&self, id: &str) -> HostResult<()> {
        self.unit("removeDevice", json!({ "id": id })).await
    }
    async fn package_json(&self, plugin_id: &str) -> HostResult<Value> {
        self.get("packageJson", json!({ "pluginId": plugin_id }))
            .await
    }
    async fn plugin_info(&self, plugin_id: &str) -> HostResult<Value> {
        self.get("pluginInfo", json!({ "pluginId": plugin_id }))
            .await
    }
    async fn reload_plugin(&self, plugin_id: &str) -> HostResult<()> {
        self.unit("reloadPlugin", json!({ "pluginId": plugin_id }))
            .await
    }
    async fn kill_plugin(&self, plugin_id: &str) -> HostResult<()> {
        self.unit("killPlugin", json!({ "pluginId": plugin_id }))
            .await
    }
    async fn install_npm(&self, package: &str, version: Option<&str>) -> HostResult<()> {
        self.unit(
            "installNpm",
            json!({ "package": package, "version": version }),
        )
        .await
    }
    async fn update_plugins(&self) -> HostResult<()> {
        self.unit("updatePlugins", json!({})).await
    }
    async fn npm_info(&self, endpoint: &str) -> HostResult<Value> {
        self.get("npmInfo", json!({ "endpoint": endpoint })).await
    }
    async fn rename_device_id(&self, id: &str, new_id: &str) -> HostResult<()> {
        self.unit("renameDeviceId", json!({ "id": id, "newId": new_id }))
            .await
    }
    async fn set_mixins(&self, id: &str, mixins: Vec<String>) -> HostResult<()> {
        self.unit("setMixins", json!({ "id": id, "mixins": mixins }))
            .await
    }
    async fn get_storage(&self, id: &str) -> HostResult<BTreeMap<String, String>> {
        self.get("getStorage", json!({ "id": id })).await
    }
    async fn set_storage(&self, id: &str, storage: BTreeMap<String, String>) -> HostResult<()> {
        self.unit("setStorage", json!({ "id": id, "storage": storage }))
            .await
    }
    async fn id_for_plugin_id(&self, plugin_id: &str) -> HostResult<Option<String>> {
        self.get("idForPluginId", json!({ "pluginId": plugin_id }))
            .await
    }
    async fn id_for_native_id(
        &self,
        plugin_id: &str,
        native_id: &str,
    ) -> HostResult<Option<String>> {
        self.get(
            "idForNativeId",
            json!({ "pluginId": plugin_id, "nativeId": native_id }),
        )
        .await
    }
    async fn disconnect_clients(&self, plugin_id: &str) -> HostResult<()> {
        self.unit("disconnectClients", json!({ "pluginId": plugin_id }))
            .await
    }
    async fn clear_console(&self, id: &str) -> HostResult<()> {
        self.unit("clearConsole", json!({ "id": id })).await
    }
    async fn logs(&self, device_id: Option<&str>) -> HostResult<Vec<LogEntry>> {
        self.get("logs", json!({ "deviceId": device_id })).await
    }
    async fn clear_logs(&self, device_id: Option<&str>) -> HostResult<()> {
        self.unit("clearLogs", json!({ "deviceId": device_id }))
            .await
    }
    async fn alerts(&self) -> HostResult<Vec<Alert>> {
        self.get("alerts", json!({})).await
    }
    async fn remove_alert(&self, id: &str) -> HostResult<()> {
        self.unit("removeAlert", json!({ "id": id })).await
    }
    async fn clear_alerts(&self) -> HostResult<()> {
        self.unit("clearAlerts", json!({})).await
    }
    async fn server_version(&self) -> HostResult<String> {
        self.get("serverVersion", json!({})).await
    }
    async fn scrypted_env(&self) -> HostResult<BTreeMap<String, String>> {
        self.get("scryptedEnv", json!({})).await
    }
    async fn dotenv(&self) -> HostResult<String> {
        self.get("dotEnv", json!({})).await
    }
    async fn set_dotenv(&self, text: &str) -> HostResult<()> {
        self.unit("setDotEnv", json!({ "text": text })).await
    }
    async fn users(&self) -> HostResult<Vec<User>> {
        self.get("users", json!({})).await
    }
    async fn add_user(
        &self,
        username: &str,
        password: &str,
        acl_id: Option<&str>,
    ) -> HostResult<()> {
        self.unit(
            "addUser",
            json!({ "username": username, "password": password, "aclId": acl_id }),
        )
        .await
    }
    async fn remove_user(&self, username: &str) -> HostResult<()> {
        self.unit("removeUser", json!({ "username": username }))
            .await
    }
    async fn local_addresses(&self) -> HostResult<Option<Vec<String>>> {
        self.get("localAddresses", json!({})).await
    }
    async fn set_local_addresses(&self, addresses: Vec<String>) -> HostResult<()> {
        self.unit("setLocalAddresses", json!({ "addresses": addresses }))
            .await
    }
    async fn external_addresses(&self, id: &str) -> HostResult<Vec<String>> {
        // Unset ids answer undefined.
        let list: Option<Vec<String>> = self.get("externalAddresses", json!({ "id": id })).await?;
        Ok(list.unwrap_or_default())
    }
    async fn set_external_addresses(&self, id: &str, addresses: Vec<String>) -> HostResult<()> {
        self.unit(
            "setExternalAddresses",
            json!({ "id": id, "addresses": addresses }),
        )
        .await
    }
    async fn cors(&self, id: &str) -> HostResult<Vec<String>> {
        let list: Option<Vec<String>> = self.get("cors", json!({ "id": id })).await?;
        Ok(list.unwrap_or_default())
    }
    async fn set_cors(&self, id: &str, origins: Vec<String>) -> HostResult<()> {
        self.unit("setCors", json!({ "id": id, "origins": origins }))
            .await
    }
    async fn cluster_workers(&self) -> HostResult<Value> {
        let workers: Option<Value> = self.get("clusterWorkers", json!({})).await?;
        Ok(workers.unwrap_or_else(|| json!({})))
    }
    async fn create_backup(&self) -> HostResult<Vec<u8>> {
        let b64: String = self.get("createBackup", json!({})).await?;
        crate::crypto::b64_decode(&b64)
            .ok_or_else(|| HostError::new("createBackup returned invalid base64"))
    }
    fn defer(&self, delay_ms: u32, action: Deferred) {
        self.0.defer(delay_ms, to_js(&action));
    }
    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        self.0.log(level, message);
    }
    fn settings_changed(&self) {
        self.0.settings_changed();
    }
}

pub struct JsStore(Rc<HostBridge>);

impl Store for JsStore {
    fn get(&self, key: &str) -> Option<String> {
        self.0.storage_get(key)
    }
    fn set(&self, key: &str, value: &str) {
        self.0.storage_set(key, value)
    }
    fn remove(&self, key: &str) {
        self.0.storage_remove(key)
    }
    fn keys(&self) -> Vec<String> {
        self.0.storage_keys()
    }
}

pub struct JsClock(Rc<HostBridge>);

impl Clock for JsClock {
    fn now_ms(&self) -> u64 {
        self.0.now() as u64
    }
}

/// The plugin as JS sees it.
#[wasm_bindgen]
pub struct WasmPlugin {
    plugin: Plugin,
}

#[wasm_bindgen]
impl WasmPlugin {
    #[wasm_bindgen(constructor)]
    pub fn new(bridge: HostBridge) -> WasmPlugin {
        let bridge = Rc::new(bridge);
        WasmPlugin {
            plugin: Plugin::new(
                Rc::new(JsHost(bridge.clone())),
                Rc::new(JsStore(bridge.clone())),
                Rc::new(JsClock(bridge)),
            ),
        }
    }

    /// Resolves to `{status, headers: [[name, value]...], body?: string, stream?: EventStream}`.
    pub fn handle(&self, request: JsValue) -> Promise {
        let plugin = self.plugin.clone();
        future_to_promise(async move {
            let request: Request = serde_wasm_bindgen::from_value(request)
                .map_err(|e| JsValue::from_str(&format!("bad request object: {e}")))?;
            let response = plugin.handle(request).await;
            let out = js_sys::Object::new();
            let set = |k: &str, v: &JsValue| {
                js_sys::Reflect::set(&out, &JsValue::from_str(k), v).ok();
            };
            set("status", &JsValue::from(response.status));
            set("headers", &to_js(&response.headers));
            match response.body {
                Body::Text(text) => set("body", &JsValue::from_str(&text)),
                Body::Stream(stream) => set("stream", &EventStream::new(stream).into()),
            }
            Ok(out.into())
        })
    }

    /// Resolves to Scrypted `Setting[]`.
    #[wasm_bindgen(js_name = getSettings)]
    pub fn get_settings(&self) -> Promise {
        let plugin = self.plugin.clone();
        future_to_promise(async move { Ok(to_js(&plugin.get_settings().await)) })
    }

    /// Resolves when stored; rejects with an Error whose message says what is wrong.
    #[wasm_bindgen(js_name = putSetting)]
    pub fn put_setting(&self, key: String, value: JsValue) -> Promise {
        let plugin = self.plugin.clone();
        future_to_promise(async move {
            let value: Value = serde_wasm_bindgen::from_value(value).unwrap_or(Value::Null);
            plugin
                .put_setting(&key, value)
                .await
                .map(|_| JsValue::UNDEFINED)
                .map_err(|m| js_sys::Error::new(&m).into())
        })
    }
}

/// A pull stream of SSE chunks: `next()` resolves to the next string, or `undefined` at the end.
#[wasm_bindgen]
pub struct EventStream {
    inner: Rc<RefCell<Option<LocalBoxStream<'static, String>>>>,
}

impl EventStream {
    fn new(stream: LocalBoxStream<'static, String>) -> Self {
        EventStream {
            inner: Rc::new(RefCell::new(Some(stream))),
        }
    }
}

#[wasm_bindgen]
impl EventStream {
    pub fn next(&self) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            // The borrow lasts for one poll only, never across an await.
            let item = futures::future::poll_fn(|cx| match inner.borrow_mut().as_mut() {
                Some(s) => s.poll_next_unpin(cx),
                None => std::task::Poll::Ready(None),
            })
            .await;
            Ok(match item {
                Some(chunk) => JsValue::from_str(&chunk),
                None => JsValue::UNDEFINED,
            })
        })
    }

    /// Called by the shim when the client went away. Disconnection is not cancellation
    /// (MCP transports spec): the request's work runs on to its end in the background,
    /// and what it would have sent is dropped. Cancelling is `notifications/cancelled`.
    pub fn close(&self) {
        if let Some(mut stream) = self.inner.borrow_mut().take() {
            wasm_bindgen_futures::spawn_local(
                async move { while stream.next().await.is_some() {} },
            );
        }
    }
}
