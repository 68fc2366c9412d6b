//! `getComponent('plugins')` (server/src/services/plugin.ts), as js-shim/dev/components.mjs
//! simulates it; each quirk's source is in tests/host-cases.json.

use super::*;

/// runtime.ts setupPluginHostAutoRestart: how long after its worker's exit a plugin runs again.
const AUTO_RESTART_MS: u64 = 60_000;

/// httpFetch's error for a registry 404 (server/src/fetch/http-fetch.ts:130).
const NPM_404: &str = "http response statusCode 404";

/// `a > b` for dotted numeric versions (semver.gt for the demo's plain versions).
fn version_gt(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) > parse(b)
}

impl FakeBridge {
    pub(super) fn plugin_call(&self, method: &str, a: &Value) -> Answer {
        let id = || text(a, "id");
        let plugin_id = || text(a, "pluginId");
        match method {
            "packageJson" => self.package_json(&plugin_id()?),
            "pluginInfo" => {
                let plugin_id = plugin_id()?;
                self.restart_if_due(&plugin_id);
                let package_json = self.package_json(&plugin_id)?;
                let plugins = self.plugins.borrow();
                let p = &plugins[&plugin_id];
                let mut info = json!({
                    "clientsCount": p.clients_count, "rpcObjects": p.rpc_objects,
                    "packageJson": package_json, "pendingResults": 0, "pendingResultCounts": {},
                    "id": self.root_id(&plugin_id),
                });
                if let Some(pid) = p.pid {
                    info["pid"] = json!(pid);
                }
                Ok(info)
            }
            "reloadPlugin" => self.reload(&plugin_id()?),
            "killPlugin" => {
                self.kill(&plugin_id()?);
                Ok(Value::Null)
            }
            "installNpm" => self.install(&text(a, "package")?, opt_text(a, "version")),
            "updatePlugins" => {
                let installed: Vec<(String, String)> = self
                    .plugins
                    .borrow()
                    .iter()
                    .map(|(k, p)| (k.clone(), p.version()))
                    .collect();
                for (plugin_id, version) in installed {
                    // The registry's 404 is caught per plugin.
                    let Some(entry) = self.npm.borrow().get(&plugin_id).cloned() else {
                        continue;
                    };
                    if entry.deprecated.is_some() {
                        if let Some(root) = self.root_id(&plugin_id) {
                            self.remove_device(&root);
                        }
                    } else if version_gt(&entry.latest(), &version) {
                        self.install(&plugin_id, None)?;
                    }
                }
                Ok(Value::Null)
            }
            "npmInfo" => self.npm_info(&text(a, "endpoint")?),
            "renameDeviceId" => {
                let (id, new_id) = (id()?, text(a, "newId")?);
                let Some(mut device) = self.devices.borrow().get(&id).cloned() else {
                    return Err(Fail::reading("pluginId"));
                };
                self.kill(&device.plugin_id);
                self.remove_device(&id);
                device.id = new_id.clone();
                // No collision check: the new id silently overwrites.
                self.devices.borrow_mut().insert(new_id, device.clone());
                self.reload(&device.plugin_id)
            }
            "setMixins" => {
                let (id, mixins) = (id()?, strings(a, "mixins"));
                if mixins.contains(&id) {
                    return Err(Fail::Remote(format!(
                        "setMixins: {id} has a mixin cycle. Cancelling change."
                    )));
                }
                let mut devices = self.devices.borrow_mut();
                let kind = devices
                    .get(&id)
                    .ok_or_else(|| Fail::reading("state"))?
                    .kind
                    .clone();
                // plugin-device.ts rebuildEntry: a MixinProvider whose canMixin declines
                // the device is removed from its mixins; other ids pass through.
                let declines = |m: &str| {
                    devices.get(m).is_some_and(|p| {
                        p.interfaces.iter().any(|i| i == "MixinProvider")
                            && p.mixin_types.as_ref().is_some_and(|t| !t.contains(&kind))
                    })
                };
                let mut kept: Vec<String> = Vec::new();
                for m in mixins {
                    if !kept.contains(&m) && !declines(&m) {
                        kept.push(m);
                    }
                }
                devices.get_mut(&id).unwrap().mixins = kept;
                drop(devices);
                self.descriptor_changed(&id);
                Ok(Value::Null)
            }
            "getStorage" => Ok(json!(self
                .devices
                .borrow()
                .get(&id()?)
                .map(|d| d.storage.clone())
                .unwrap_or_default())),
            "setStorage" => {
                let id = id()?;
                let mut devices = self.devices.borrow_mut();
                let d = devices.get_mut(&id).ok_or_else(|| {
                    Fail::Remote("Cannot set properties of undefined (setting 'storage')".into())
                })?;
                d.storage = a["storage"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    v.as_str()
                                        .map(String::from)
                                        .unwrap_or_else(|| v.to_string()),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Value::Null)
            }
            "idForPluginId" => Ok(json!(self.root_id(&plugin_id()?))),
            "idForNativeId" => {
                let native = opt_text(a, "nativeId");
                let plugin_id = plugin_id()?;
                Ok(json!(match native {
                    Some(n) => self.find_device(&plugin_id, &n),
                    None => self.root_id(&plugin_id),
                }))
            }
            "disconnectClients" => {
                if let Some(p) = self.plugins.borrow_mut().get_mut(&plugin_id()?) {
                    p.clients_count = 0;
                }
                Ok(Value::Null)
            }
            "clearConsole" => {
                let mut devices = self.devices.borrow_mut();
                let d = devices
                    .get_mut(&id()?)
                    .ok_or_else(|| Fail::reading("pluginId"))?;
                d.console.clear();
                Ok(Value::Null)
            }
            _ => unreachable!("{method}"),
        }
    }

    fn package_json(&self, plugin_id: &str) -> Answer {
        self.plugins
            .borrow()
            .get(plugin_id)
            .map(|p| p.package_json.clone())
            .ok_or_else(|| Fail::reading("packageJson"))
    }

    /// plugin.ts reload → runtime.ts runPlugin(plugin._id) on the stored plugin doc.
    fn reload(&self, plugin_id: &str) -> Answer {
        let pid = self.new_pid();
        let mut plugins = self.plugins.borrow_mut();
        let p = plugins
            .get_mut(plugin_id)
            .ok_or_else(|| Fail::reading("_id"))?;
        p.pid = Some(pid);
        p.clients_count = 0;
        p.restart_at_ms = None;
        Ok(Value::Null)
    }

    /// plugin-host.ts kill: the worker goes (pid undefined), its clients are closed. Its exit
    /// counts as unexpected (runtime.ts setupPluginHostAutoRestart), so the plugin runs again
    /// 60 s later unless reloaded first (measured on a real 0.144.2).
    fn kill(&self, plugin_id: &str) {
        let now = self.now() as u64;
        if let Some(p) = self.plugins.borrow_mut().get_mut(plugin_id) {
            p.pid = None;
            p.clients_count = 0;
            p.restart_at_ms = Some(now + AUTO_RESTART_MS);
        }
    }

    /// A killed plugin whose 60 s are up runs again, with a new pid.
    fn restart_if_due(&self, plugin_id: &str) {
        let due = self
            .plugins
            .borrow()
            .get(plugin_id)
            .and_then(|p| p.restart_at_ms)
            .is_some_and(|at| self.now() as u64 >= at);
        if due {
            let _ = self.reload(plugin_id);
        }
    }

    /// runtime.ts installNpm: the registry document, the version's tarball, then runPlugin.
    fn install(&self, package: &str, version: Option<String>) -> Answer {
        let entry = self
            .npm
            .borrow()
            .get(package)
            .cloned()
            .ok_or_else(|| Fail::Remote(NPM_404.into()))?;
        let version = version.unwrap_or_else(|| entry.latest());
        if !entry.versions.contains(&version) {
            return Err(Fail::reading("dist"));
        }
        let pid = self.new_pid();
        if let Some(p) = self.plugins.borrow_mut().get_mut(package) {
            p.package_json["version"] = json!(version);
            p.pid = Some(pid);
            return Ok(Value::Null);
        }
        let id = self.new_id();
        let mut package_json = self.manifest(&entry, &version);
        package_json["scrypted"] = json!({"name": entry.display_name, "type": "API",
            "interfaces": ["ScryptedPlugin", "Settings"]});
        if let Some(m) = package_json.as_object_mut() {
            m.remove("deprecated");
        }
        self.plugins.borrow_mut().insert(
            package.into(),
            FakePlugin {
                pid: Some(pid),
                restart_at_ms: None,
                clients_count: 0,
                rpc_objects: 0,
                package_json,
            },
        );
        self.add_device(&id, package, "", &entry.display_name);
        let mut devices = self.devices.borrow_mut();
        let root = devices.get_mut(&id).expect("just added");
        root.native_id = None;
        root.interfaces = vec!["ScryptedPlugin".into(), "Settings".into()];
        Ok(Value::Null)
    }

    fn manifest(&self, entry: &NpmPackage, version: &str) -> Value {
        let mut m = json!({
            "name": entry.name, "version": version,
            "description": entry.description.clone()
                .unwrap_or_else(|| format!("{} plugin for Scrypted", entry.display_name)),
            "keywords": ["scrypted"], "scrypted": {"name": entry.display_name},
        });
        // npm marks deprecation per version: versions[v].deprecated holds the message.
        if let Some(msg) = entry
            .deprecated
            .as_ref()
            .filter(|_| version == entry.latest())
        {
            m["deprecated"] = json!(msg);
        }
        m
    }

    fn npm_info(&self, endpoint: &str) -> Answer {
        let endpoint = endpoint.trim_start_matches('/');
        if endpoint.starts_with("-/v1/search") {
            let objects: Vec<Value> = self
                .npm
                .borrow()
                .values()
                .map(|e| {
                    let m = self.manifest(e, &e.latest());
                    json!({"package": {"name": m["name"], "version": m["version"],
                        "description": m["description"], "keywords": m["keywords"]}})
                })
                .collect();
            return Ok(json!({"objects": objects, "total": objects.len()}));
        }
        let parts: Vec<&str> = endpoint.split('/').collect();
        let scoped = parts[0].starts_with('@') && parts.len() > 1;
        let (name, version) = if scoped {
            (format!("{}/{}", parts[0], parts[1]), parts.get(2))
        } else {
            (parts[0].to_string(), parts.get(1))
        };
        let npm = self.npm.borrow();
        let entry = npm.get(&name).ok_or_else(|| Fail::Remote(NPM_404.into()))?;
        if let Some(version) = version {
            let v = if *version == "latest" {
                entry.latest()
            } else {
                version.to_string()
            };
            if !entry.versions.contains(&v) {
                return Err(Fail::Remote(NPM_404.into()));
            }
            return Ok(self.manifest(entry, &v));
        }
        let versions: Map<String, Value> = entry
            .versions
            .iter()
            .map(|v| (v.clone(), self.manifest(entry, v)))
            .collect();
        Ok(json!({
            "name": entry.name,
            "dist-tags": {"latest": entry.latest()},
            "versions": versions,
            "time": {"modified": "2026-10-01T00:00:00.000Z"},
            "readme": format!("# {}\n\nA Scrypted plugin.\n", entry.display_name),
        }))
    }
}
