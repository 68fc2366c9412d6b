//! The other components: logger, alerts, info, service-control, env-control, users,
//! addresses, cors, cluster-fork and backup, as js-shim/dev/components.mjs and runtime.mjs
//! simulate them.

use super::*;
use scrypted_mcp::crypto;

const MISSING_DOTENV: &str = "ENOENT: no such file or directory, open '/server/volume/.env'";

/// The logger at `path` (logger ids from the root): `""` is the root, children are
/// `<parent path>/<id>` (server/src/logger.ts:81).
fn logger_path(a: &Value) -> String {
    strings(a, "path")
        .iter()
        .map(|id| format!("/{id}"))
        .collect()
}

/// Whether an entry at `entry_path` belongs to the logger at `path` or its children.
fn under(path: &str, entry_path: &str) -> bool {
    path.is_empty() || entry_path == path || entry_path.starts_with(&format!("{path}/"))
}

/// `map[id] || []` (addresses.ts getExternalAddresses 13-15, cors.ts getCORS 11-13).
fn listed(map: &RefCell<BTreeMap<String, Vec<String>>>, id: &str) -> Value {
    json!(map.borrow().get(id).cloned().unwrap_or_default())
}

impl FakeBridge {
    pub(super) fn service_call(&self, method: &str, a: &Value) -> Answer {
        match method {
            "logs" => {
                let path = self.logger(a);
                let mut logs: Vec<LogEntry> = self
                    .logs
                    .borrow()
                    .iter()
                    .filter(|l| under(&path, l.path.as_deref().unwrap_or_default()))
                    .cloned()
                    .collect();
                logs.sort_by_key(|x| x.timestamp);
                Ok(json!(logs))
            }
            "clearLogs" => {
                let path = self.logger(a);
                // logger.ts:55-75: alerts whose path starts with the logger's (no separator),
                // then its logs and its children's.
                self.alerts
                    .borrow_mut()
                    .retain(|x| !x.path.as_deref().unwrap_or_default().starts_with(&path));
                self.logs
                    .borrow_mut()
                    .retain(|l| !under(&path, l.path.as_deref().unwrap_or_default()));
                Ok(Value::Null)
            }
            "alerts" => Ok(json!(*self.alerts.borrow())),
            "removeAlert" => {
                let id = text(a, "id")?;
                self.alerts.borrow_mut().retain(|x| x.id != id);
                self.alerts_changed();
                Ok(Value::Null)
            }
            "clearAlerts" => {
                self.alerts.borrow_mut().clear();
                self.alerts_changed();
                Ok(Value::Null)
            }
            "serverVersion" => Ok(json!(self.server.borrow().version)),
            "scryptedEnv" => Ok(json!(*self.env.borrow())),
            "dotEnv" => match &*self.dotenv.borrow() {
                Some(text) => Ok(json!(text)),
                None => Err(Fail::Remote(MISSING_DOTENV.into())),
            },
            "setDotEnv" => {
                *self.dotenv.borrow_mut() = Some(text(a, "text")?);
                Ok(Value::Null)
            }
            // What a restart loses: CORS origins and external addresses live only in memory.
            "restartServer" | "updateServer" => {
                self.forget_memory_only();
                Ok(Value::Null)
            }
            // host.js reads the zip with the library backup.ts restores with.
            "backupEntries" => {
                let bytes = crypto::b64_decode(&text(a, "data")?).unwrap_or_default();
                backups::entries(&bytes)
                    .map(|names| json!(names))
                    .map_err(Fail::Local)
            }
            "restoreBackup" => {
                let bytes = crypto::b64_decode(&text(a, "data")?).unwrap_or_default();
                backups::entries(&bytes).map_err(Fail::Remote)?;
                self.restored.borrow_mut().push(bytes);
                self.forget_memory_only();
                Ok(Value::Null)
            }
            "users" => Ok(Value::Array(
                self.users
                    .borrow()
                    .iter()
                    .map(|u| json!({"username": u.username, "admin": u.acl_id.is_none()}))
                    .collect(),
            )),
            "addUser" => {
                let acl_id = opt_text(a, "aclId");
                self.add_user(
                    &text(a, "username")?,
                    &text(a, "password")?,
                    acl_id.as_deref(),
                );
                Ok(Value::Null)
            }
            "removeUser" => {
                let username = text(a, "username")?;
                self.users.borrow_mut().retain(|u| u.username != username);
                Ok(Value::Null)
            }
            "localAddresses" => Ok(json!(self.resolved_local_addresses())),
            "savedLocalAddresses" => Ok(json!(self.saved_local_addresses())),
            "setLocalAddresses" => {
                *self.local_addresses.borrow_mut() = Some(strings(a, "addresses"));
                Ok(Value::Null)
            }
            "externalAddresses" => Ok(listed(&self.external, &text(a, "id")?)),
            "setExternalAddresses" => {
                let id = text(a, "id")?;
                self.external
                    .borrow_mut()
                    .insert(id, strings(a, "addresses"));
                Ok(Value::Null)
            }
            "cors" => Ok(listed(&self.cors_map, &text(a, "id")?)),
            "setCors" => {
                let id = text(a, "id")?;
                self.cors_map.borrow_mut().insert(id, strings(a, "origins"));
                Ok(Value::Null)
            }
            "clusterWorkers" => Ok(self.cluster.borrow().clone()),
            "createBackup" => Ok(json!(crypto::b64(&self.backup.borrow()))),
            _ => Err(Fail::Local(format!("unknown host capability: {method}"))),
        }
    }

    /// The logger at the call's `path`; `getLogger` creates any that is missing.
    fn logger(&self, a: &Value) -> String {
        let path = logger_path(a);
        let mut at = String::new();
        for id in strings(a, "path") {
            at = format!("{at}/{id}");
            self.loggers.borrow_mut().insert(at.clone());
        }
        path
    }

    fn forget_memory_only(&self) {
        self.cors_map.borrow_mut().clear();
        self.external.borrow_mut().clear();
    }

    /// addresses.ts getLocalAddresses(raw = true): the saved list; unset or empty is undefined.
    fn saved_local_addresses(&self) -> Option<Vec<String>> {
        let configured = self.local_addresses.borrow().clone()?;
        configured.first()?;
        Some(configured)
    }

    /// addresses.ts getLocalAddresses: unset (or an empty list) is undefined; interface
    /// names resolve to their addresses (not link-local); addresses this machine does not
    /// have are dropped.
    fn resolved_local_addresses(&self) -> Option<Vec<String>> {
        let configured = self.saved_local_addresses()?;
        let nis = self.network_interfaces.borrow();
        let all: Vec<&str> = nis.values().flatten().map(|n| n.address.as_str()).collect();
        let mut out = Vec::new();
        for entry in configured {
            match nis.get(&entry) {
                Some(list) => out.extend(list.iter().map(|n| n.address.clone()).filter(|a| {
                    !a.starts_with("169.254.") && !a.to_lowercase().starts_with("fe80:")
                })),
                None if all.contains(&entry.as_str()) => out.push(entry),
                None => {}
            }
        }
        Some(out)
    }
}
