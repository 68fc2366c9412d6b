//! Devices: `systemManager` (state, device methods, removal) and @scrypted/core's users
//! provider, as js-shim/dev/runtime.mjs simulates them.

use super::*;

impl FakeBridge {
    pub(super) fn device_call(&self, method: &str, a: &Value) -> Answer {
        match method {
            "systemState" => Ok(self.system_state()),
            "deviceStates" => {
                let mut state = self.system_state();
                let state = state.as_object_mut().expect("the state is an object");
                let (ids, props) = (strings(a, "ids"), strings(a, "props"));
                state.retain(|id, _| ids.contains(id));
                for device in state.values_mut() {
                    let device = device.as_object_mut().expect("a device is an object");
                    device.retain(|prop, _| props.contains(prop));
                }
                Ok(Value::Object(std::mem::take(state)))
            }
            "deviceInfo" => {
                let id = text(a, "id")?;
                let devices = self.devices.borrow();
                // plugin.ts:88-91
                let d = devices
                    .get(&id)
                    .ok_or_else(|| Fail::Remote(format!("device {id} does not exist")))?;
                let mut info =
                    json!({"mixins": d.mixins, "pluginId": d.plugin_id, "storage": d.storage});
                if let Some(native) = &d.native_id {
                    info["nativeId"] = json!(native);
                }
                Ok(info)
            }
            "callDeviceMethod" => {
                let (id, name) = (text(a, "id")?, text(a, "method")?);
                let args = a["args"].as_array().cloned().unwrap_or_default();
                self.device_method(&id, &name, &args)
            }
            "removeDevice" => {
                let id = text(a, "id")?;
                if !self.has_device(&id) {
                    // runtime.ts removeDevice(findPluginDeviceById(id)) with no device.
                    return Err(Fail::reading("_id"));
                }
                self.remove_device(&id);
                Ok(Value::Null)
            }
            _ => unreachable!("{method}"),
        }
    }

    /// `getSystemState()`: device id → property → `{value}` (0.144.2, §14).
    pub fn system_state(&self) -> Value {
        let entry = |v: Value| json!({ "value": v });
        let mut out = Map::new();
        for d in self.devices.borrow().values() {
            let mut s = Map::new();
            s.insert("id".into(), entry(json!(d.id)));
            if let Some(n) = &d.native_id {
                s.insert("nativeId".into(), entry(json!(n)));
            }
            s.insert("pluginId".into(), entry(json!(d.plugin_id)));
            if let Some(p) = &d.provider_id {
                s.insert("providerId".into(), entry(json!(p)));
            }
            s.insert("name".into(), entry(json!(d.name)));
            s.insert("type".into(), entry(json!(d.kind)));
            if let Some(r) = &d.room {
                s.insert("room".into(), entry(json!(r)));
            }
            s.insert("interfaces".into(), entry(json!(d.interfaces)));
            s.insert("providedInterfaces".into(), entry(json!(d.interfaces)));
            s.insert("mixins".into(), entry(json!(d.mixins)));
            s.insert("info".into(), entry(d.info.clone()));
            for (k, v) in &d.state {
                s.insert(k.clone(), entry(v.clone()));
            }
            out.insert(d.id.clone(), Value::Object(s));
        }
        Value::Object(out)
    }

    /// `systemManager.getDeviceById(id)[method](...args)`.
    fn device_method(&self, id: &str, method: &str, args: &[Value]) -> Answer {
        let Some(d) = self.devices.borrow().get(id).cloned() else {
            // getDeviceById answers undefined; host.js then reads the method off it.
            return Err(Fail::Local(format!(
                "Cannot read properties of undefined (reading '{method}')"
            )));
        };
        let has = |i: &str| d.interfaces.iter().any(|x| x == i);
        let arg0 = args.first().cloned().unwrap_or(Value::Null);
        let set = |prop: &str, v: Value| self.set_prop(id, prop, v);
        let state = |prop: &str| d.state.get(prop).cloned().unwrap_or(Value::Null);
        match method {
            "turnOn" if has("OnOff") => set("on", json!(true)),
            "turnOff" if has("OnOff") => set("on", json!(false)),
            "setBrightness" if has("Brightness") => match arg0.as_f64() {
                Some(b) if (0.0..=100.0).contains(&b) => set("brightness", arg0),
                _ => {
                    return Err(Fail::Remote(format!(
                        "brightness must be a number 0-100, got {arg0}"
                    )))
                }
            },
            "lock" if has("Lock") => set("lockState", json!("Locked")),
            "unlock" if has("Lock") => set("lockState", json!("Unlocked")),
            "refresh" if has("Refresh") => {}
            "getRefreshFrequency" if has("Refresh") => return Ok(json!(30)),
            "takePicture" if has("Camera") => {
                return Ok(json!({"mimeType": "image/jpeg", "sourceId": id, "__mediaObject": true}))
            }
            "getPictureOptions" if has("Camera") => return Ok(state("pictureOptions")),
            "getVideoStreamOptions" if has("VideoCamera") => {
                return Ok(state("videoStreamOptions"))
            }
            // What a typical plugin answers: its settings with their values, secrets included.
            "getSettings" if has("Settings") => {
                return Ok(Value::Array(
                    d.storage
                        .iter()
                        .map(|(k, v)| {
                            let mut s = json!({"key": k, "title": k, "value": v});
                            if k.to_lowercase().contains("password") {
                                s["type"] = json!("password");
                            }
                            s
                        })
                        .collect(),
                ))
            }
            "putSetting" if has("Settings") => {
                let key = arg0.as_str().unwrap_or_default().to_string();
                let value = match args.get(1) {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => "undefined".into(),
                };
                if let Some(dev) = self.devices.borrow_mut().get_mut(id) {
                    dev.storage.insert(key, value);
                }
            }
            // zwave PasswordStoreToUserCode.ts: the lock's user codes.
            "getPasswords" if has("PasswordStore") => return Ok(json!(d.passwords)),
            "addPassword" if has("PasswordStore") => {
                if let Some(dev) = self.devices.borrow_mut().get_mut(id) {
                    dev.passwords
                        .push(arg0.as_str().unwrap_or_default().to_string());
                }
            }
            "removePassword" if has("PasswordStore") => {
                if let Some(dev) = self.devices.borrow_mut().get_mut(id) {
                    dev.passwords.retain(|p| Some(p.as_str()) != arg0.as_str());
                }
            }
            "createDevice" if self.is_core_users(&d) => return self.core_create_user(id, &arg0),
            "getPluginJson" if has("ScryptedPlugin") => {
                return Ok(self
                    .plugins
                    .borrow()
                    .get(&d.plugin_id)
                    .map(|p| p.package_json.clone())
                    .unwrap_or(Value::Null))
            }
            // plugin-device.ts:382
            _ => return Err(Fail::Remote(format!("{method} not implemented"))),
        }
        Ok(Value::Null)
    }

    fn is_core_users(&self, d: &Device) -> bool {
        d.plugin_id == "@scrypted/core" && d.native_id.as_deref() == Some("users")
    }

    /// runtime.ts removeDevice: the devices it provides first; a plugin root takes its
    /// plugin along; core's releaseDevice removes a `user:<name>` device's account.
    pub fn remove_device(&self, id: &str) {
        let Some(d) = self.devices.borrow_mut().remove(id) else {
            return;
        };
        let provided: Vec<String> = self
            .devices
            .borrow()
            .values()
            .filter(|o| o.provider_id.as_deref() == Some(id))
            .map(|o| o.id.clone())
            .collect();
        for other in provided {
            self.remove_device(&other);
        }
        // The devices it provided went first (runtime.ts removeDevice), each with its event.
        self.device_removed(id);
        match d.native_id.as_deref() {
            None => {
                self.plugins.borrow_mut().remove(&d.plugin_id);
            }
            Some(native) if d.plugin_id == "@scrypted/core" => {
                if let Some(name) = native.strip_prefix("user:") {
                    if !self.core_release_is_late.get() {
                        self.users.borrow_mut().retain(|u| u.username != name);
                    }
                }
            }
            Some(_) => {}
        }
    }

    /// core's `UsersCore.createDevice({username, password, admin})` (plugins/core/src/user.ts):
    /// a `user:<name>` device under the users provider, then `users.addUser` with that
    /// device's id as a restricted user's aclId. Returns the device id.
    fn core_create_user(&self, provider: &str, settings: &Value) -> Answer {
        let field = |k: &str| settings.get(k).and_then(Value::as_str).unwrap_or_default();
        let (username, password) = (field("username"), field("password"));
        if username.is_empty() || password.is_empty() {
            return Err(Fail::Remote("username and password are required".into()));
        }
        let admin = settings.get("admin").and_then(Value::as_bool) == Some(true);
        let native_id = format!("user:{username}");
        let id = match self.find_device("@scrypted/core", &native_id) {
            Some(id) => id,
            None => {
                let id = self.new_id();
                self.devices.borrow_mut().insert(
                    id.clone(),
                    Device {
                        provider_id: Some(provider.into()),
                        ..Device::new(
                            &id,
                            "@scrypted/core",
                            &native_id,
                            username,
                            "Person",
                            &["ScryptedUser", "Settings"],
                        )
                    },
                );
                self.descriptor_changed(&id);
                id
            }
        };
        self.add_user(username, password, (!admin).then_some(id.as_str()));
        Ok(json!(id))
    }

    /// users.ts addUser: an existing name is replaced in place.
    pub fn add_user(&self, username: &str, password: &str, acl_id: Option<&str>) {
        let user = FakeUser {
            username: username.into(),
            password: password.into(),
            acl_id: acl_id.map(String::from),
            token: format!("user-token-{username}-{}", self.new_pid()),
        };
        let mut users = self.users.borrow_mut();
        match users.iter_mut().find(|u| u.username == username) {
            Some(existing) => *existing = user,
            None => users.push(user),
        }
    }

    // ---- helpers for tests

    /// A device's property as `getSystemState` shows it.
    pub fn prop(&self, id: &str, property: &str) -> Option<Value> {
        self.system_state()
            .get(id)
            .and_then(|m| m.get(property))
            .and_then(|p| p.get("value"))
            .cloned()
    }

    fn set_prop(&self, id: &str, property: &str, value: Value) {
        self.set_device_state(id, property, value);
    }

    pub fn has_device(&self, id: &str) -> bool {
        self.devices.borrow().contains_key(id)
    }

    /// Adds a child device (e.g. one belonging to our own plugin).
    pub fn add_device(&self, id: &str, plugin_id: &str, native_id: &str, name: &str) {
        let device = Device::new(id, plugin_id, native_id, name, "API", &["Settings"]);
        self.devices.borrow_mut().insert(id.into(), device);
    }

    /// The device of `plugin_id` with `native_id` (`getIdForNativeId`).
    pub fn find_device(&self, plugin_id: &str, native_id: &str) -> Option<String> {
        self.devices
            .borrow()
            .values()
            .find(|d| d.plugin_id == plugin_id && d.native_id.as_deref() == Some(native_id))
            .map(|d| d.id.clone())
    }

    /// The root device id of an installed plugin.
    pub fn root_id(&self, plugin_id: &str) -> Option<String> {
        if !self.plugins.borrow().contains_key(plugin_id) {
            return None;
        }
        self.devices
            .borrow()
            .values()
            .find(|d| d.plugin_id == plugin_id && d.native_id.is_none())
            .map(|d| d.id.clone())
    }

    /// A server without @scrypted/core's `users` DeviceCreator (device "2"), e.g. core
    /// uninstalled or an old core.
    pub fn remove_core_users_provider(&self) {
        if let Some(id) = self.find_device("@scrypted/core", "users") {
            self.devices.borrow_mut().remove(&id);
        }
    }
}
