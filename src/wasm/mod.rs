//! wasm-bindgen exports, and the thin JS bridge under them: `bridge.call(method, args)` →
//! a promise, `bridge.notify(method, args)`, plugin storage and the clock, all of the object
//! `js-shim/host.js` builds. What the arguments and answers mean is decided in `crate::host`,
//! which `cargo test` runs over a fake of this same bridge.

use crate::clock::Clock;
use crate::host::Bridge;
use crate::http::{Body, Disconnect, Request, Response};
use crate::store::Store;
use crate::Plugin;
use async_trait::async_trait;
use futures::future::{FutureExt, LocalBoxFuture};
use futures::stream::{LocalBoxStream, StreamExt};
use js_sys::Promise;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Talc, not std's dlmalloc: the same speed per request here and 4.9 KB less wasm (issue
/// 12, docs/reference/wasm-toolchain.md "Size").
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen]
extern "C" {
    /// The bridge object built by `js-shim/host.js` (`createHost`).
    pub type HostBridge;

    /// Calls the host capability `method` (an entry of `host.js`) with one argument object,
    /// as JSON text; resolves to the answer as JSON text.
    #[wasm_bindgen(method, catch, js_name = callJson)]
    fn call_json(this: &HostBridge, method: &str, args: &str) -> Result<Promise, JsValue>;
    /// A fire-and-forget notice of `host.js`.
    #[wasm_bindgen(method)]
    fn notify(this: &HostBridge, method: &str, args: JsValue);
    /// The value's UTF-8 bytes ([`text`]).
    #[wasm_bindgen(method, js_name = storageGet)]
    fn storage_get(this: &HostBridge, key: &str) -> Option<Vec<u8>>;
    #[wasm_bindgen(method, js_name = storageSet)]
    fn storage_set(this: &HostBridge, key: &str, value: &str);
    #[wasm_bindgen(method, js_name = storageRemove)]
    fn storage_remove(this: &HostBridge, key: &str);
    #[wasm_bindgen(method, js_name = storageKeys)]
    fn storage_keys(this: &HostBridge) -> Vec<String>;
    #[wasm_bindgen(method, catch, js_name = volumeRead)]
    fn volume_read(this: &HostBridge, name: &str) -> Result<Option<String>, JsValue>;
    #[wasm_bindgen(method, catch, js_name = volumeAppend)]
    fn volume_append(this: &HostBridge, name: &str, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch, js_name = volumeReplace)]
    fn volume_replace(this: &HostBridge, name: &str, text: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    fn now(this: &HostBridge) -> f64;
    /// A promise that resolves after `ms` milliseconds (`setTimeout`).
    #[wasm_bindgen(method)]
    fn sleep(this: &HostBridge, ms: f64) -> Promise;
}

/// Plain data to a JS value through JSON text (`JSON.parse`), as everything else crosses:
/// serde-wasm-bindgen's own serializer and deserializer were a second set of serde
/// instances in the wasm (docs/reference/wasm-toolchain.md, "Size").
fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// A JS value read back through `JSON.stringify`; `None` for what JSON cannot hold
/// (`undefined`, a BigInt, a cycle) or what does not fit `T`.
fn from_js<T: DeserializeOwned>(value: &JsValue) -> Option<T> {
    let text = js_sys::JSON::stringify(value).ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

fn error_message(e: JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    if let Some(text) = e.as_string() {
        return text;
    }
    // Anything else thrown (a number, a plain object, null): its JSON text; what has none
    // (undefined, a function, a symbol, a BigInt) by its type. Not `JsValue`'s `Debug`,
    // which brought wasm-bindgen's value describer into the wasm and its glue (issue 12).
    match js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()) {
        Some(json) => json,
        None => format!("a thrown {}", e.js_typeof().as_string().unwrap_or_default()),
    }
}

pub struct JsBridge(Rc<HostBridge>);

#[async_trait(?Send)]
impl Bridge for JsBridge {
    async fn call(&self, method: &str, args: Value) -> Result<Value, String> {
        let promise = self
            .0
            .call_json(method, &crate::http::json_text(&args))
            .map_err(error_message)?;
        let answer = JsFuture::from(promise).await.map_err(error_message)?;
        let text = answer
            .as_string()
            .ok_or_else(|| format!("unexpected answer from {method}: not JSON text"))?;
        serde_json::from_str(&text).map_err(|e| format!("unexpected answer from {method}: {e}"))
    }
    fn notify(&self, method: &str, args: Value) {
        self.0.notify(method, to_js(&args));
    }
    fn volume_read(&self, name: &str) -> Result<Option<String>, String> {
        self.0.volume_read(name).map_err(error_message)
    }
    fn volume_append(&self, name: &str, text: &str) -> Result<(), String> {
        self.0.volume_append(name, text).map_err(error_message)
    }
    fn volume_replace(&self, name: &str, text: &str) -> Result<(), String> {
        self.0.volume_replace(name, text).map_err(error_message)
    }
}

pub struct JsStore(Rc<HostBridge>);

impl Store for JsStore {
    fn get(&self, key: &str) -> Option<String> {
        self.0.storage_get(key).map(text)
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
    fn sleep(self: Rc<Self>, ms: u64) -> futures::future::LocalBoxFuture<'static, ()> {
        let timer = JsFuture::from(self.0.sleep(ms as f64));
        Box::pin(async move {
            let _ = timer.await;
        })
    }
}

/// A text answer is one string, `"<status> <headers>\n<body>"`, which the shim splits: one
/// crossing instead of an object built field by field (issue 12). A stream answer is
/// `{status, headers, stream: EventStream}`. `headers` is JSON text of the object `res.send`
/// takes (a repeated name's values as an array); JSON text holds no raw newline.
fn response_to_js(response: Response) -> JsValue {
    let headers = headers_json(&response.headers);
    match response.body {
        Body::Text(text) => {
            let mut out = String::with_capacity(headers.len() + text.len() + 8);
            out.push_str(&response.status.to_string());
            out.push(' ');
            out.push_str(&headers);
            out.push('\n');
            out.push_str(&text);
            JsValue::from_str(&out)
        }
        Body::Stream(stream) => {
            let out = js_sys::Object::new();
            let set = |k: &str, v: &JsValue| {
                js_sys::Reflect::set(&out, &JsValue::from_str(k), v).ok();
            };
            set("status", &JsValue::from(response.status));
            set("headers", &JsValue::from_str(&headers));
            set(
                "stream",
                &EventStream::new(stream, response.on_disconnect).into(),
            );
            out.into()
        }
    }
}

/// `[(name, value)...]` as the JSON object `res.send` takes, a name given more than once
/// with its values as an array (Node's `setHeader` takes one).
fn headers_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(&HeaderObject(headers)).unwrap_or_else(|_| "{}".into())
}

struct HeaderObject<'a>(&'a [(String, String)]);

impl Serialize for HeaderObject<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for (i, (name, value)) in self.0.iter().enumerate() {
            if self.0[..i].iter().any(|(n, _)| n == name) {
                continue; // written with its first value
            }
            let rest = &self.0[i..];
            if rest.iter().filter(|(n, _)| n == name).count() == 1 {
                map.serialize_entry(name, value)?;
            } else {
                let values: Vec<&str> = rest
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .collect();
                map.serialize_entry(name, &values)?;
            }
        }
        map.end()
    }
}

/// Text the shim sends as its UTF-8 bytes (`Buffer.from(text)`): the request head and body
/// and storage values, a few KB per request. A `String` parameter would be copied into the
/// wasm by wasm-bindgen's glue a character at a time in JS (its `passStringToWasm0`), which
/// was 9.6 % of a request's instructions at steady state; bytes are copied by the engine in one go (issue 12).
/// Node encodes a lone surrogate as U+FFFD, as that glue does, so the bytes are UTF-8; were
/// they not, the same replacement is made here.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The shim's JSON text of a request head (`headBytes` in js-shim/plugin.js), as bytes.
fn parse_head(head: Vec<u8>) -> Result<Request, JsValue> {
    serde_json::from_str(&text(head))
        .map_err(|e| JsValue::from_str(&format!("bad request head: {e}")))
}

/// A body size from JS; past usize (or NaN) is as good as too large.
fn body_size(bytes: f64) -> usize {
    if bytes.is_finite() && bytes >= 0.0 {
        bytes.min(usize::MAX as f64) as usize
    } else {
        usize::MAX
    }
}

/// The future's answer at once when its first poll is ready (a request that waits on no host
/// promise: most of them), else a Promise of it, which the shim awaits. A Promise for every
/// request was ~1 KB of JS heap (the promise, its executor's closures, the scheduler's `then`
/// and microtask; issue 12, bench/alloc.mjs). A pending first poll handed its waits a waker
/// that does nothing; `future_to_promise` polls the future again before it is woken, so
/// each wait is handed the real waker then and what happened meanwhile is seen by that poll.
fn now_or_promise(
    mut future: LocalBoxFuture<'static, Result<JsValue, JsValue>>,
) -> Result<JsValue, JsValue> {
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(answer) => answer,
        Poll::Pending => Ok(promise(future).into()),
    }
}

/// A Promise of the future's answer. Every caller's future is boxed to one type, so
/// `future_to_promise` is compiled once rather than once per caller, each copy with that
/// caller's future inlined into it (~1.8 KB of wasm; issue 12).
fn promise(future: LocalBoxFuture<'static, Result<JsValue, JsValue>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(future)
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
        let plugin = Plugin::new(
            Rc::new(JsBridge(bridge.clone())),
            Rc::new(JsStore(bridge.clone())),
            Rc::new(JsClock(bridge)),
        );
        let pump = plugin.clone();
        wasm_bindgen_futures::spawn_local(async move { pump.pump_events().await });
        let tasks = plugin.clone();
        wasm_bindgen_futures::spawn_local(async move { tasks.pump_tasks().await });
        let prefetch = plugin.clone();
        wasm_bindgen_futures::spawn_local(async move { prefetch.prefetch().await });
        WasmPlugin { plugin }
    }

    /// One event of Scrypted's `systemManager.listen`, as `js-shim/host.js`
    /// `listenToDevices` flattens it: queued, never thrown back into Scrypted's callback.
    #[wasm_bindgen(js_name = deviceEvent)]
    pub fn device_event(&self, event: JsValue) {
        if let Some(event) = from_js(&event) {
            self.plugin.device_event(event);
        }
    }

    /// The answer the shim sends when `handle` fails (a trap leaves this instance unable to
    /// answer anything, so the shim asks for it up front, at construction).
    #[wasm_bindgen(js_name = fallbackResponse)]
    pub fn fallback_response(&self) -> JsValue {
        response_to_js(Plugin::fallback_response())
    }

    /// The answer to every request after a trap, asked for up front for the same reason.
    #[wasm_bindgen(js_name = restartingResponse)]
    pub fn restarting_response(&self) -> JsValue {
        response_to_js(Plugin::restarting_response())
    }

    /// What the Settings tab shows after a trap, asked for up front likewise.
    #[wasm_bindgen(js_name = restartingMessage)]
    pub fn restarting_message(&self) -> String {
        Plugin::RESTARTING.to_string()
    }

    /// Bodies up to this size (a string's length, a Buffer's bytes) go to `handle` with
    /// the head at once: `admit` refuses none of them.
    #[wasm_bindgen(js_name = sentWithHead)]
    pub fn sent_with_head(&self) -> f64 {
        crate::admit::SENT_WITH_HEAD as f64
    }

    /// The request headers Rust reads: `{names, prefix}`, names in lower case and the
    /// prefix of a family (`crate::http::HEADERS_READ`). The shim hands over only these.
    #[wasm_bindgen(js_name = headersRead)]
    pub fn headers_read(&self) -> JsValue {
        to_js(&serde_json::json!({
            "names": crate::http::HEADERS_READ,
            "prefix": crate::http::HEADER_PREFIX_READ,
        }))
    }

    /// Called with the request's head (no body, JSON text as bytes) and the body's size (a string's
    /// length, a Buffer's bytes) before the body is read: `null` (go on with `handle`) or the
    /// answer to send instead, or a Promise of that ([`now_or_promise`]).
    pub fn admit(&self, head: Vec<u8>, body_bytes: f64) -> Result<JsValue, JsValue> {
        let plugin = self.plugin.clone();
        now_or_promise(
            async move {
                let head = parse_head(head)?;
                Ok(match plugin.admit(&head, body_size(body_bytes)).await {
                    Some(response) => response_to_js(response),
                    None => JsValue::NULL,
                })
            }
            .boxed_local(),
        )
    }

    /// The request's head and its body (each as UTF-8 bytes, [`text`]); `unadmitted_bytes`
    /// is the body's size when `admit` was not asked about this head, and is asked first.
    /// What [`response_to_js`] makes, or a Promise of it ([`now_or_promise`]).
    pub fn handle(
        &self,
        head: Vec<u8>,
        body: Option<Vec<u8>>,
        unadmitted_bytes: Option<f64>,
    ) -> Result<JsValue, JsValue> {
        let plugin = self.plugin.clone();
        now_or_promise(
            async move {
                let head = parse_head(head)?;
                let body = body.map(text);
                if let Some(bytes) = unadmitted_bytes {
                    if let Some(answer) = plugin.admit(&head, body_size(bytes)).await {
                        return Ok(response_to_js(answer));
                    }
                }
                Ok(response_to_js(
                    plugin.handle(Request { body, ..head }).await,
                ))
            }
            .boxed_local(),
        )
    }

    /// Resolves to Scrypted `Setting[]`.
    #[wasm_bindgen(js_name = getSettings)]
    pub fn get_settings(&self) -> Promise {
        let plugin = self.plugin.clone();
        promise(async move { Ok(to_js(&plugin.get_settings().await)) }.boxed_local())
    }

    /// Resolves when stored; rejects with an Error whose message says what is wrong.
    #[wasm_bindgen(js_name = putSetting)]
    pub fn put_setting(&self, key: String, value: JsValue) -> Promise {
        let plugin = self.plugin.clone();
        promise(
            async move {
                let value: Value = from_js(&value).unwrap_or(Value::Null);
                plugin
                    .put_setting(&key, value)
                    .await
                    .map(|_| JsValue::UNDEFINED)
                    .map_err(|m| js_sys::Error::new(&m).into())
            }
            .boxed_local(),
        )
    }
}

/// A pull stream of SSE chunks: `next()` resolves to the next string, or `undefined` at the end.
#[wasm_bindgen]
pub struct EventStream {
    inner: Rc<RefCell<Option<LocalBoxStream<'static, String>>>>,
    on_disconnect: Disconnect,
}

impl EventStream {
    fn new(stream: LocalBoxStream<'static, String>, on_disconnect: Disconnect) -> Self {
        EventStream {
            inner: Rc::new(RefCell::new(Some(stream))),
            on_disconnect,
        }
    }
}

#[wasm_bindgen]
impl EventStream {
    pub fn next(&self) -> Promise {
        let inner = self.inner.clone();
        promise(
            async move {
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
            }
            .boxed_local(),
        )
    }

    /// Called by the shim when the client went away; the response decided what that
    /// means (`http::Disconnect`): run the work to its end in the background and drop
    /// what it would have sent, or drop the stream, which cancels the work and frees
    /// what it held (a `subscriptions/listen` stream would otherwise live forever).
    pub fn close(&self) {
        let Some(mut stream) = self.inner.borrow_mut().take() else {
            return;
        };
        match self.on_disconnect {
            Disconnect::Finish => {
                wasm_bindgen_futures::spawn_local(
                    async move { while stream.next().await.is_some() {} },
                )
            }
            Disconnect::Cancel => drop(stream),
        }
    }
}
