//! The typed host API: one method per capability, each naming the `host.js` entry it calls
//! (`— entryName`) and the Scrypted call behind it (docs/reference/scrypted-host.md §10).

use super::*;

/// Scrypted's defaults when a port component answers nothing usable
/// (server/src/server-settings.ts:3-4).
const DEFAULT_INSECURE_PORT: u16 = 11080;
const DEFAULT_SECURE_PORT: u16 = 10443;

/// The console prefix of every plugin log line.
const LOG_PREFIX: &str = "[scrypted-mcp] ";

/// `takePicture`'s answer.
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(not(target_arch = "wasm32"), serde(rename_all = "camelCase"))]
#[derive(Debug, PartialEq)]
struct Answer {
    mime_type: Option<String>,
    data: String,
}

/// One address of `resolveHost`'s answer.
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[derive(Debug, PartialEq)]
struct Resolved {
    address: String,
}

// Read field by field in the wasm, as the host's other answers (`super`'s
// `deserialize_by_fields!`).
crate::fields::deserialize_by_fields!(Answer, Resolved);
crate::fields::args!(Answer {
    mime_type: optional("mimeType"),
    data: required,
});
crate::fields::args!(Resolved { address: required });

/// A system state as it arrives, checked to be an object of device objects. Kept as that JSON:
/// no deserialiser, no second copy of the map.
fn device_map(entry: &str, raw: Value) -> HostResult<SystemState> {
    let state = match raw {
        Value::Object(state) => state,
        Value::Null => SystemState::new(),
        _ => {
            return Err(HostError::new(format!(
                "unexpected answer from {entry}: not an object"
            )))
        }
    };
    match state.iter().find(|(_, device)| !device.is_object()) {
        Some((id, _)) => Err(HostError::new(format!(
            "unexpected answer from {entry}: device {id} is not an object"
        ))),
        None => Ok(state),
    }
}

impl Host {
    // ---- endpoint and addresses

    /// `getComponent('SCRYPTED_IP_ADDRESS')`: the LAN address Scrypted builds local URLs
    /// from; `None` when it found no usable one (§13) — `ipAddress`
    pub async fn ip_address(&self) -> HostResult<Option<String>> {
        let raw = self.raw("ipAddress", json!({})).await?;
        Ok(raw
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from))
    }
    /// the port components, with Scrypted's defaults for anything unusable — `serverPorts`
    pub async fn server_ports(&self) -> HostResult<ServerPorts> {
        let raw = self.raw("serverPorts", json!({})).await?;
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
            insecure: port("insecure", DEFAULT_INSECURE_PORT),
            secure: port("secure", DEFAULT_SECURE_PORT),
        })
    }
    /// `endpointManager.getPath(undefined, {public: true})`: `/endpoint/<pkg>/public/` — `endpointPath`
    pub async fn endpoint_path(&self) -> HostResult<String> {
        self.get("endpointPath", json!({})).await
    }
    /// `os.networkInterfaces()` of the machine Scrypted runs on, flattened — `networkAddresses`
    pub async fn network_addresses(&self) -> HostResult<Vec<NetworkAddress>> {
        self.list("networkAddresses", json!({})).await
    }

    // ---- devices

    /// `systemManager.getSystemState()` — `systemState`
    pub async fn system_state(&self) -> HostResult<SystemState> {
        device_map("systemState", self.raw("systemState", json!({})).await?)
    }
    /// `systemManager.getSystemState()` of the devices `ids` only (unknown ones left out), and of
    /// each only the properties `props` it has: what a tool naming a few devices reads, without
    /// copying every device's state, or every property of a device (with its metadata) for its
    /// name — `deviceStates`
    pub async fn device_states(&self, ids: &[&str], props: &[&str]) -> HostResult<SystemState> {
        let list = |xs: &[&str]| xs.iter().map(|&x| Value::from(x)).collect::<Vec<Value>>();
        let raw = self
            .raw(
                "deviceStates",
                json!({ "ids": list(ids), "props": list(props) }),
            )
            .await?;
        device_map("deviceStates", raw)
    }
    /// `plugins.getDeviceInfo(id)`: `{mixins, pluginId, storage, nativeId}`; throws for
    /// unknown ids — `deviceInfo`
    pub async fn device_info(&self, id: &str) -> HostResult<Value> {
        self.get("deviceInfo", json!({ "id": id })).await
    }
    /// `systemManager.getDeviceById(id)[method](...args)` — `callDeviceMethod`
    pub async fn call_device_method(
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
    /// `getDeviceById(id).takePicture({reason: 'event', picture: {width}, timeout})`, then
    /// `mediaManager.convertMediaObjectToBuffer(mo, 'image/jpeg')` (§14): `reason: 'event'`
    /// makes the Snapshot mixin fail instead of answering a cached or drawn error image;
    /// `width` and `timeout_ms` are requests the camera may ignore — `takePicture`
    pub async fn take_picture(&self, id: &str, width: u32, timeout_ms: u32) -> HostResult<Picture> {
        let answer: Answer = self
            .get(
                "takePicture",
                json!({ "id": id, "width": width, "timeoutMs": timeout_ms }),
            )
            .await?;
        let bytes = crate::crypto::b64_decode(&answer.data)
            .ok_or_else(|| HostError::new("takePicture returned invalid base64"))?;
        Ok(Picture {
            mime_type: answer.mime_type,
            bytes,
        })
    }
    /// `systemManager.removeDevice(id)` — `removeDevice`
    pub async fn remove_device(&self, id: &str) -> HostResult<()> {
        self.unit("removeDevice", json!({ "id": id })).await
    }

    // ---- plugins (`getComponent('plugins')`)

    /// `getPackageJson(pluginId)` — `packageJson`
    pub async fn package_json(&self, plugin_id: &str) -> HostResult<Value> {
        self.get("packageJson", json!({ "pluginId": plugin_id }))
            .await
    }
    /// `getPluginInfo(pluginId)`; unknown id → TypeError — `pluginInfo`
    pub async fn plugin_info(&self, plugin_id: &str) -> HostResult<Value> {
        self.get("pluginInfo", json!({ "pluginId": plugin_id }))
            .await
    }
    /// `reload(pluginId)`; unknown id → TypeError — `reloadPlugin`
    pub async fn reload_plugin(&self, plugin_id: &str) -> HostResult<()> {
        self.unit("reloadPlugin", json!({ "pluginId": plugin_id }))
            .await
    }
    /// `kill(pluginId)`; silent for unknown ids — `killPlugin`
    pub async fn kill_plugin(&self, plugin_id: &str) -> HostResult<()> {
        self.unit("killPlugin", json!({ "pluginId": plugin_id }))
            .await
    }
    /// `installNpm(pkg, version?)`; returns nothing — `installNpm`
    pub async fn install_npm(&self, package: &str, version: Option<&str>) -> HostResult<()> {
        self.unit(
            "installNpm",
            json!({ "package": package, "version": version }),
        )
        .await
    }
    /// `updatePlugins()`; returns nothing, may uninstall deprecated plugins — `updatePlugins`
    pub async fn update_plugins(&self) -> HostResult<()> {
        self.unit("updatePlugins", json!({})).await
    }
    /// `npmInfo(endpoint)` — `npmInfo`
    pub async fn npm_info(&self, endpoint: &str) -> HostResult<Value> {
        self.get("npmInfo", json!({ "endpoint": endpoint })).await
    }
    /// `renameDeviceId(id, newId)` — `renameDeviceId`
    pub async fn rename_device_id(&self, id: &str, new_id: &str) -> HostResult<()> {
        self.unit("renameDeviceId", json!({ "id": id, "newId": new_id }))
            .await
    }
    /// `setMixins(id, mixins)`; full replace — `setMixins`
    pub async fn set_mixins(&self, id: &str, mixins: Vec<String>) -> HostResult<()> {
        self.unit("setMixins", json!({ "id": id, "mixins": mixins }))
            .await
    }
    /// `getStorage(id)`; `{}` for unknown ids — `getStorage`
    pub async fn get_storage(&self, id: &str) -> HostResult<BTreeMap<String, String>> {
        let storage: Option<_> = self.get("getStorage", json!({ "id": id })).await?;
        Ok(storage.unwrap_or_default())
    }
    /// `setStorage(id, map)`; full replace; unknown id → TypeError — `setStorage`
    pub async fn set_storage(&self, id: &str, storage: BTreeMap<String, String>) -> HostResult<()> {
        self.unit("setStorage", json!({ "id": id, "storage": storage }))
            .await
    }
    /// `getIdForPluginId(pluginId)` — `idForPluginId`
    pub async fn id_for_plugin_id(&self, plugin_id: &str) -> HostResult<Option<String>> {
        self.get("idForPluginId", json!({ "pluginId": plugin_id }))
            .await
    }
    /// `getIdForNativeId(pluginId, nativeId)` — `idForNativeId`
    pub async fn id_for_native_id(
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
    /// `disconnectClients(pluginId)` — `disconnectClients`
    pub async fn disconnect_clients(&self, plugin_id: &str) -> HostResult<()> {
        self.unit("disconnectClients", json!({ "pluginId": plugin_id }))
            .await
    }
    /// `clearConsole(id)`; unknown id → TypeError — `clearConsole`
    pub async fn clear_console(&self, id: &str) -> HostResult<()> {
        self.unit("clearConsole", json!({ "id": id })).await
    }

    // ---- logs and alerts

    /// `logger.getLogs()` of the whole tree, or of one device's logger — `logs`
    pub async fn logs(&self, device: Option<DeviceLogger<'_>>) -> HostResult<Vec<LogEntry>> {
        self.list("logs", logger_at(device)).await
    }
    /// `logger.clear()` of the root or one device's logger; also deletes the alerts whose
    /// path starts with the logger's — `clearLogs`
    pub async fn clear_logs(&self, device: Option<DeviceLogger<'_>>) -> HostResult<()> {
        self.unit("clearLogs", logger_at(device)).await
    }
    /// `alerts.getAlerts()` — `alerts`
    pub async fn alerts(&self) -> HostResult<Vec<Alert>> {
        self.list("alerts", json!({})).await
    }
    /// `alerts.removeAlert({_id})` — `removeAlert`
    pub async fn remove_alert(&self, id: &str) -> HostResult<()> {
        self.unit("removeAlert", json!({ "id": id })).await
    }
    /// `alerts.clearAlerts()` — `clearAlerts`
    pub async fn clear_alerts(&self) -> HostResult<()> {
        self.unit("clearAlerts", json!({})).await
    }

    // ---- server

    /// `info.getVersion()` — `serverVersion`
    pub async fn server_version(&self) -> HostResult<String> {
        self.get("serverVersion", json!({})).await
    }
    /// `info.getScryptedEnv()` (holds secrets) — `scryptedEnv`
    pub async fn scrypted_env(&self) -> HostResult<BTreeMap<String, String>> {
        let env: Option<BTreeMap<String, Value>> = self.get("scryptedEnv", json!({})).await?;
        // Every value is a string on the real host; anything else is shown as JSON.
        Ok(crate::order::map(env.unwrap_or_default().into_iter().map(
            |(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, crate::http::json_text(&other)),
            },
        )))
    }
    /// `env-control.getDotEnv()`; a missing file rejects with a message naming ENOENT — `dotEnv`
    pub async fn dotenv(&self) -> HostResult<String> {
        self.get("dotEnv", json!({})).await
    }
    /// `env-control.setDotEnv(text)` — `setDotEnv`
    pub async fn set_dotenv(&self, text: &str) -> HostResult<()> {
        self.unit("setDotEnv", json!({ "text": text })).await
    }

    // ---- users (the raw `users` component; `tools/users.rs` decides when core's
    // `users` DeviceCreator and `user:<name>` devices are used instead, §3.4)

    /// `users.getAllUsers()` — `users`
    pub async fn users(&self) -> HostResult<Vec<User>> {
        self.list("users", json!({})).await
    }
    /// `users.addUser(username, password, aclId)`; `None` = admin, a non-admin's `aclId`
    /// must be a core `ScryptedUser` device id — `addUser`
    pub async fn add_user(
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
    /// `users.removeUser(username)` — `removeUser`
    pub async fn remove_user(&self, username: &str) -> HostResult<()> {
        self.unit("removeUser", json!({ "username": username }))
            .await
    }

    // ---- network

    /// `addresses.getLocalAddresses()`; `None` when unset — `localAddresses`
    pub async fn local_addresses(&self) -> HostResult<Option<Vec<String>>> {
        self.get("localAddresses", json!({})).await
    }
    /// `addresses.getLocalAddresses(true)`: the list as saved, interface names unresolved;
    /// `None` when unset — `savedLocalAddresses`
    pub async fn saved_local_addresses(&self) -> HostResult<Option<Vec<String>>> {
        self.get("savedLocalAddresses", json!({})).await
    }
    /// `addresses.setLocalAddresses(list)` — `setLocalAddresses`
    pub async fn set_local_addresses(&self, addresses: Vec<String>) -> HostResult<()> {
        self.unit("setLocalAddresses", json!({ "addresses": addresses }))
            .await
    }
    /// `addresses.getExternalAddresses(id)` (memory only) — `externalAddresses`
    pub async fn external_addresses(&self, id: &str) -> HostResult<Vec<String>> {
        self.list("externalAddresses", json!({ "id": id })).await
    }
    /// `addresses.setExternalAddresses(id, list)` — `setExternalAddresses`
    pub async fn set_external_addresses(&self, id: &str, addresses: Vec<String>) -> HostResult<()> {
        self.unit(
            "setExternalAddresses",
            json!({ "id": id, "addresses": addresses }),
        )
        .await
    }
    /// `cors.getCORS(id)` (memory only) — `cors`
    pub async fn cors(&self, id: &str) -> HostResult<Vec<String>> {
        self.list("cors", json!({ "id": id })).await
    }
    /// `cors.setCORS(id, origins)` — `setCors`
    pub async fn set_cors(&self, id: &str, origins: Vec<String>) -> HostResult<()> {
        self.unit("setCors", json!({ "id": id, "origins": origins }))
            .await
    }

    // ---- cluster and backup

    /// `cluster-fork.getClusterWorkers()`; `{}` outside cluster-server mode — `clusterWorkers`
    pub async fn cluster_workers(&self) -> HostResult<Value> {
        let workers: Option<Value> = self.get("clusterWorkers", json!({})).await?;
        Ok(workers.unwrap_or_else(|| json!({})))
    }
    /// `backup.createBackup()`: the zip's bytes (base64 over the bridge) — `createBackup`
    pub async fn create_backup(&self) -> HostResult<Vec<u8>> {
        let b64: String = self.get("createBackup", json!({})).await?;
        crate::crypto::b64_decode(&b64)
            .ok_or_else(|| HostError::new("createBackup returned invalid base64"))
    }
    /// The names in a backup zip (base64), read and tested as `backup.restore` will (adm-zip's
    /// constructor and `test()`); its error when restore would refuse it — `backupEntries`
    pub async fn backup_entries(&self, data_b64: &str) -> HostResult<Vec<String>> {
        self.get("backupEntries", json!({ "data": data_b64 })).await
    }

    // ---- the outside network (Node's own clients, not Scrypted's)

    /// `dns.promises.lookup(host, {all: true})`: every address the host name resolves to
    /// (an IP literal answers itself); fails after `timeout_ms` — `resolveHost`
    pub async fn resolve_host(&self, host: &str, timeout_ms: u64) -> HostResult<Vec<IpAddr>> {
        let list: Vec<Resolved> = self
            .list(
                "resolveHost",
                json!({ "host": host, "timeoutMs": timeout_ms }),
            )
            .await?;
        list.iter()
            .map(|r| {
                r.address.parse().map_err(|_| {
                    HostError::new(format!("resolveHost answered a non-address: {}", r.address))
                })
            })
            .collect()
    }
    /// `https.get(url)` with the connection pinned to `address` (the `lookup` option, so no
    /// second DNS answer is used; the certificate is still checked against the URL's host),
    /// no redirects followed, aborted past `max_bytes` of body or `timeout_ms` in all
    /// — `httpsGet`
    pub async fn https_get(
        &self,
        url: &str,
        address: IpAddr,
        max_bytes: usize,
        timeout_ms: u64,
    ) -> HostResult<HttpsAnswer> {
        self.get(
            "httpsGet",
            json!({
                "url": url,
                "address": address.to_string(),
                "maxBytes": max_bytes,
                "timeoutMs": timeout_ms,
            }),
        )
        .await
    }

    // ---- process-ending actions and housekeeping (fire-and-forget notices)

    /// `setTimeout(() => <the action's entry>(args), delayMs)`: restart / update / reload /
    /// restore / plugin updates (`restartServer`, `updateServer`, `reloadPlugin`,
    /// `restoreBackup`, `updatePlugins`) — `defer`
    pub fn defer(&self, delay_ms: u32, action: Deferred) {
        let (method, args) = action.call();
        self.bridge.notify(
            "defer",
            json!({ "delayMs": delay_ms, "method": method, "args": args }),
        );
    }
    /// a line on the plugin console — `log`
    pub fn log(&self, level: LogLevel, message: &str) {
        self.bridge.notify(
            "log",
            json!({ "level": level, "message": format!("{LOG_PREFIX}{message}") }),
        );
    }
    /// A file of the plugin volume (`Bridge::volume_read`) — `volumeRead`
    pub fn volume_read(&self, name: &str) -> HostResult<Option<String>> {
        self.bridge.volume_read(name).map_err(HostError::new)
    }
    /// `Bridge::volume_append` — `volumeAppend`
    pub fn volume_append(&self, name: &str, text: &str) -> HostResult<()> {
        self.bridge
            .volume_append(name, text)
            .map_err(HostError::new)
    }
    /// `Bridge::volume_replace` — `volumeReplace`
    pub fn volume_replace(&self, name: &str, text: &str) -> HostResult<()> {
        self.bridge
            .volume_replace(name, text)
            .map_err(HostError::new)
    }
    /// `deviceManager.onDeviceEvent(nativeId, 'Settings', undefined)` so the UI re-fetches
    /// — `settingsChanged`
    pub fn settings_changed(&self) {
        self.bridge.notify("settingsChanged", json!({}));
    }
}

/// One device's logger: its id, and its name, the title `getLogger` gives the logger when it
/// does not exist yet. logger.ts keeps a child with the title it was first given, and the
/// server's own later entries for the device carry it: the one runtime.ts getDeviceLogger
/// gives, the device's name (and `Devices` for their parent).
#[derive(Debug, Clone, Copy)]
pub struct DeviceLogger<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

/// The logger of the whole tree (`[]`, the root), or of one device: the UI's
/// `getLogger('device').getLogger(id)` (docs/reference/scrypted-host.md §3.3), with the title
/// of each step.
fn logger_at(device: Option<DeviceLogger<'_>>) -> Value {
    match device {
        None => json!({ "path": [] }),
        Some(d) => json!({ "path": ["device", d.id], "titles": ["Devices", d.name] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::cell::RefCell;

    /// Answers each method with a fixed value (or error), as a real host might.
    struct Answers(RefCell<BTreeMap<&'static str, Result<Value, String>>>);

    #[async_trait(?Send)]
    impl Bridge for Answers {
        async fn call(&self, method: &str, _args: Value) -> Result<Value, String> {
            self.0
                .borrow()
                .get(method)
                .cloned()
                .unwrap_or(Ok(Value::Null))
        }
        fn notify(&self, _method: &str, _args: Value) {}
        fn volume_read(&self, _name: &str) -> Result<Option<String>, String> {
            Ok(None)
        }
        fn volume_append(&self, _name: &str, _text: &str) -> Result<(), String> {
            Ok(())
        }
        fn volume_replace(&self, _name: &str, _text: &str) -> Result<(), String> {
            Ok(())
        }
    }

    fn host(answers: &[(&'static str, Result<Value, String>)]) -> Host {
        Host::new(Rc::new(Answers(RefCell::new(
            answers.iter().cloned().collect(),
        ))))
    }

    #[test]
    fn ports_fall_back_to_scrypted_defaults_for_unusable_answers() {
        for (raw, expected) in [
            (json!({"insecure": 8080, "secure": "8443"}), (8080, 8443)),
            (json!({"insecure": null, "secure": 0}), (11080, 10443)),
            (json!({"insecure": "x", "secure": 70000}), (11080, 10443)),
            (Value::Null, (11080, 10443)),
        ] {
            let ports = block_on(host(&[("serverPorts", Ok(raw.clone()))]).server_ports()).unwrap();
            assert_eq!((ports.insecure, ports.secure), expected, "{raw}");
        }
    }

    #[test]
    fn undefined_answers_become_empty_lists_and_maps() {
        let h = host(&[]);
        assert!(block_on(h.external_addresses("1")).unwrap().is_empty());
        assert!(block_on(h.cors("1")).unwrap().is_empty());
        assert!(block_on(h.logs(None)).unwrap().is_empty());
        assert!(block_on(h.get_storage("1")).unwrap().is_empty());
        assert_eq!(block_on(h.cluster_workers()).unwrap(), json!({}));
        assert_eq!(block_on(h.local_addresses()).unwrap(), None);
        assert_eq!(block_on(h.ip_address()).unwrap(), None);
        assert_eq!(block_on(h.id_for_plugin_id("x")).unwrap(), None);
    }

    #[test]
    fn an_ip_address_that_is_not_a_string_is_none() {
        for raw in [json!(""), json!(42), json!({})] {
            assert_eq!(
                block_on(host(&[("ipAddress", Ok(raw))]).ip_address()).unwrap(),
                None
            );
        }
    }

    #[test]
    fn the_backup_arrives_as_base64_and_bad_base64_is_an_error() {
        let h = host(&[("createBackup", Ok(json!("UEsDBA==")))]);
        assert_eq!(block_on(h.create_backup()).unwrap(), b"PK\x03\x04");
        let h = host(&[("createBackup", Ok(json!("not base64!")))]);
        assert_eq!(
            block_on(h.create_backup()).unwrap_err().message,
            "createBackup returned invalid base64"
        );
    }

    #[test]
    fn an_answer_of_the_wrong_shape_names_the_entry() {
        let h = host(&[("users", Ok(json!("nobody")))]);
        let e = block_on(h.users()).unwrap_err();
        assert!(
            e.message.starts_with("unexpected answer from users:"),
            "{e}"
        );
    }

    #[test]
    fn the_system_state_is_an_object_of_device_objects() {
        let state = json!({"1": {"name": {"value": "Hub"}}, "2": {}});
        let h = host(&[
            ("systemState", Ok(state.clone())),
            ("deviceStates", Ok(state.clone())),
        ]);
        assert_eq!(Value::Object(block_on(h.system_state()).unwrap()), state);
        assert_eq!(
            Value::Object(block_on(h.device_states(&["1", "2"], &["name"])).unwrap()),
            state
        );
        assert!(block_on(host(&[]).system_state()).unwrap().is_empty());
        for entry in ["systemState", "deviceStates"] {
            for (raw, why) in [
                (json!([]), "not an object"),
                (json!({"1": {}, "7": "x"}), "device 7 is not an object"),
            ] {
                let h = host(&[(entry, Ok(raw))]);
                let e = match entry {
                    "systemState" => block_on(h.system_state()),
                    _ => block_on(h.device_states(&["1", "7"], &["name"])),
                }
                .unwrap_err();
                assert_eq!(e.message, format!("unexpected answer from {entry}: {why}"));
            }
        }
    }

    #[test]
    fn the_rpc_peer_route_is_dropped_from_host_messages() {
        let h = host(&[(
            "pluginInfo",
            Err(
                "Cannot read properties of undefined (reading 'packageJson')\nscrypted-mcp:host"
                    .into(),
            ),
        )]);
        assert_eq!(
            block_on(h.plugin_info("x")).unwrap_err().message,
            "Cannot read properties of undefined (reading 'packageJson')"
        );
        for kept in [
            "connect ECONNREFUSED 127.0.0.1:443",
            "one line\nsee http://example.com/x",
            "a:b",
        ] {
            assert_eq!(HostError::from_host(kept).message, kept);
        }
        assert_eq!(
            HostError::from_host("boom\nhost:@scrypted/core\nengine.io-client:api").message,
            "boom"
        );
    }

    /// The host's answers are read by `fields::deserialize` in the wasm and by serde's
    /// derive here: the same answers from both (`fields::same_as_derive`), as JSON values
    /// (`Host::get`) and as text (device events).
    #[test]
    fn host_answers_read_by_fields_as_the_derive_reads_them() {
        use crate::fields::same_as_derive;
        let inputs = same_as_derive::<LogEntry>(
            "LogEntry",
            json!({"title": "t", "timestamp": 1796172523324.4, "level": "i", "message": "m", "path": "p"}),
        ) + same_as_derive::<Alert>(
            "Alert",
            json!({"_id": "a", "timestamp": 5, "title": "t", "path": "p", "message": "m"}),
        ) + same_as_derive::<User>("User", json!({"username": "u", "admin": true}))
            + same_as_derive::<NetworkAddress>(
                "NetworkAddress",
                json!({"address": "10.0.0.2", "family": "IPv4", "internal": false}),
            )
            + same_as_derive::<HttpsAnswer>(
                "HttpsAnswer",
                json!({"status": 200, "cacheControl": "max-age=60", "contentType": "application/json", "body": "{}"}),
            )
            + same_as_derive::<DeviceEvent>(
                "DeviceEvent",
                json!({"id": "7", "eventInterface": "OnOff", "property": "on", "eventTime": 1796172523324.0, "mixinId": "9", "value": true}),
            )
            + same_as_derive::<Answer>("Answer", json!({"mimeType": "image/jpeg", "data": "AAAA"}))
            + same_as_derive::<Resolved>("Resolved", json!({"address": "10.0.0.2"}));
        assert!(inputs > 400, "{inputs}");
        // The one difference: an array of the fields' values, which the derive reads.
        let array = json!(["10.0.0.2"]);
        assert!(serde_json::from_value::<Resolved>(array.clone()).is_ok());
        let e = crate::fields::deserialize::<_, Resolved>(array, "Resolved").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid type: sequence, expected struct Resolved"
        );
    }
}
