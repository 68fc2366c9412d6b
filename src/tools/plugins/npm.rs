//! The npm side of plugins: install one, update all, query the registry.

use super::{installed, installed_versions, version_of};
use crate::host::Deferred;
use crate::tools::resolve::{self_plugin_id, Snapshot};
use crate::tools::schema::{
    ok, tool, NoArgs, DESTRUCTIVE_IDEMPOTENT_OPEN, DESTRUCTIVE_OPEN, READ_OPEN,
};
use crate::tools::{ToolContext, ToolDef, ToolError, ToolResult, SELF_ACTION_DELAY_MS};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::rc::Rc;

// ---------- install_plugin

pub const INSTALL_PLUGIN: ToolDef = tool! {
    name: "install_plugin",
    title: "Install or update a plugin from npm",
    description: "Installs an npm package as a Scrypted plugin (Scrypted `installNpm`), or replaces the installed version. Needs internet access from the server; the package must be a Scrypted plugin. The server returns nothing, so this tool reads the plugin back afterwards and reports its device id and the version before and after. Refused for this MCP plugin itself (installing it would restart the server you are talking to mid-call); update it from the Scrypted UI.",
    input: InstallArgs,
    output: InstallOut,
    hints: DESTRUCTIVE_IDEMPOTENT_OPEN,
    scope: Admin,
    run: install_plugin,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct InstallArgs {
    /// npm package name of the plugin, e.g. "@scrypted/hue".
    pub package: String,
    /// Exact version (e.g. "1.2.3") or dist-tag (e.g. "beta") to install (default: latest);
    /// a dist-tag is looked up in the registry first. Ranges are not accepted.
    #[serde(default)]
    pub version: Option<String>,
}

crate::fields::args!(InstallArgs {
    package: required,
    version: optional
});

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstallChange {
    Installed,
    Updated,
    Reinstalled,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InstallOut {
    pub package: String,
    /// The version or dist-tag asked for, or null for latest.
    pub requested_version: Option<String>,
    /// "installed" (new), "updated" (version changed), "reinstalled" (same version).
    pub change: InstallChange,
    /// Device id of the plugin's root device.
    pub id: String,
    /// Installed version before the call; null when it was not installed.
    pub version_before: Option<String>,
    /// Installed version after the call, read back from the server.
    pub version_after: Option<String>,
    pub message: String,
}

/// npm package name rules (lower case, optional scope, ≤ 214 characters).
pub fn valid_npm_name(name: &str) -> bool {
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && !p.starts_with('_')
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
    };
    if name.is_empty() || name.len() > 214 {
        return false;
    }
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, pkg)) => part_ok(scope) && part_ok(pkg),
            None => false,
        },
        None => part_ok(name),
    }
}

/// A version or dist-tag as npm writes them; ranges are not (Scrypted installs one exact
/// version).
fn valid_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-+_".contains(c))
}

/// The exact version `asked` stands for in `package`'s registry document: itself when it is
/// published, else what the dist-tag of that name points at. Scrypted's `installNpm` looks
/// the version up as a key of `versions` only (server/src/runtime.ts), so a dist-tag it is
/// given fails there with a TypeError that names neither.
async fn resolve_version(
    tc: &ToolContext,
    package: &str,
    asked: &str,
) -> Result<String, ToolError> {
    let doc = tc.ctx.host.npm_info(package).await.map_err(|e| {
        ToolError::failed(format!(
            "The npm registry did not answer for {package}: {}. Nothing was installed. Check the package name (npm_info can look it up) and that the server can reach the npm registry.",
            e.message
        ))
    })?;
    if doc.get("versions").and_then(|v| v.get(asked)).is_some() {
        return Ok(asked.to_string());
    }
    let tags = doc.get("dist-tags").and_then(Value::as_object);
    if let Some(version) = tags.and_then(|t| t.get(asked)).and_then(Value::as_str) {
        return Ok(version.to_string());
    }
    let listed: Vec<String> = tags
        .into_iter()
        .flatten()
        .map(|(tag, v)| format!("{tag} → {}", v.as_str().unwrap_or("?")))
        .collect();
    Err(ToolError::failed(format!(
        "'{asked}' is neither a published version nor a dist-tag of {package} (dist-tags: {}). Give an exact version or a dist-tag; npm_info \"{package}\" lists the versions. Nothing was installed.",
        if listed.is_empty() { "none".to_string() } else { listed.join(", ") }
    )))
}

async fn install_plugin(tc: Rc<ToolContext>, a: InstallArgs) -> ToolResult {
    if !valid_npm_name(&a.package) {
        return Err(ToolError::InvalidParams(format!(
            "'{}' is not a valid npm package name (lower case, optional @scope/, e.g. \"@scrypted/hue\").",
            a.package
        )));
    }
    if let Some(v) = &a.version {
        if !valid_version(v) {
            return Err(ToolError::InvalidParams(format!(
                "'{v}' is not a version or dist-tag: give one exact version such as \"1.2.3\" or a dist-tag such as \"beta\" (Scrypted installs one exact version, so ranges such as ^1.2 are not accepted)."
            )));
        }
    }
    if a.package == self_plugin_id() {
        return Err(ToolError::failed(format!(
            "Refused: '{}' is this MCP plugin; installing it restarts the server you are talking to before it can answer. Update it from the Scrypted web UI.",
            a.package
        )));
    }
    let snap = Snapshot::load(&tc).await?;
    let version_before = match snap.plugin_root(&a.package) {
        Some(_) => version_of(&tc, &a.package).await,
        None => None,
    };
    let was_installed = snap.plugin_root(&a.package).is_some();
    let version = match &a.version {
        Some(asked) => Some(resolve_version(&tc, &a.package, asked).await?),
        None => None,
    };
    tc.ctx
        .host
        .install_npm(&a.package, version.as_deref())
        .await
        .map_err(|e| {
            ToolError::failed(format!(
                "Installing {} failed: {}. Check the package name and version (npm_info can look them up) and that the server can reach the npm registry.",
                a.package, e.message
            ))
        })?;
    let Some(id) = tc.ctx.host.id_for_plugin_id(&a.package).await? else {
        return Err(ToolError::failed(format!(
            "Scrypted accepted the install of {} but no plugin with that id exists afterwards; the package is probably not a Scrypted plugin (it needs dist/plugin.zip).",
            a.package
        )));
    };
    let version_after = version_of(&tc, &a.package).await;
    let (change, done) = if !was_installed {
        (InstallChange::Installed, "installed")
    } else if version_before != version_after {
        (InstallChange::Updated, "updated")
    } else {
        (InstallChange::Reinstalled, "reinstalled")
    };
    ok(InstallOut {
        message: format!(
            "{} {done}: {} → {}{}.",
            a.package,
            version_before.as_deref().unwrap_or("not installed"),
            version_after.as_deref().unwrap_or("unknown version"),
            match (&a.version, &version) {
                (Some(asked), Some(exact)) if asked != exact => format!(" ({asked} is {exact})"),
                _ => String::new(),
            }
        ),
        package: a.package,
        requested_version: a.version,
        change,
        id,
        version_before,
        version_after,
    })
}

// ---------- update_plugins

pub const UPDATE_PLUGINS: ToolDef = tool! {
    name: "update_plugins",
    title: "Update all plugins",
    description: "Updates every installed plugin whose npm `latest` is newer than the installed version (Scrypted `updatePlugins`). Slow; needs internet: when the npm registry cannot be reached the tool says so and changes nothing. WARNING: Scrypted also UNINSTALLS plugins whose latest version is deprecated on npm. The server returns nothing, so this tool compares the installed plugins and versions before and after and reports what was updated, added and removed. When npm offers this MCP plugin itself a newer (or deprecated) version, updating would restart it mid-answer: the tool then answers first with status \"scheduled\" and the version npm offers, the update runs shortly after, the session ends, and list_plugins after reconnecting shows the result.",
    input: NoArgs,
    output: UpdateOut,
    hints: DESTRUCTIVE_OPEN,
    scope: Admin,
    run: update_plugins,
};

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    Updated,
    Scheduled,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UpdateOut {
    /// "updated" (done, changes below), or "scheduled" (npm offers this MCP plugin a newer
    /// or deprecated version, so the update runs after this answer; the lists are then
    /// empty).
    pub status: UpdateStatus,
    /// Plugins whose version changed.
    pub updated: Vec<VersionChange>,
    /// Plugins that were installed before and are gone now (deprecated on npm).
    pub removed: Vec<VersionChange>,
    /// Plugins that appeared (dependencies installed along the way).
    pub added: Vec<VersionChange>,
    /// Plugins left at the same version.
    pub unchanged: usize,
    pub message: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionChange {
    pub plugin_id: String,
    /// Version before the update (null if unknown or not installed).
    pub before: Option<String>,
    /// Version after the update (null if uninstalled or unknown).
    pub after: Option<String>,
}

/// A version as npm's `semver` reads it (a leading "v" or "=" allowed).
fn semver(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.trim().trim_start_matches(['v', '='])).ok()
}

/// What `updatePlugins` will do to this plugin, decided the way Scrypted decides it
/// (server/src/services/plugin.ts): remove it when npm's latest is deprecated, install the
/// latest when it is semver-greater than what runs, and skip it when any step of that
/// check fails. `Some(reason)`: it will be replaced or removed, which ends our process.
async fn self_update(
    tc: &ToolContext,
    installed: Option<&str>,
) -> Result<Option<String>, ToolError> {
    let doc = match tc.ctx.host.npm_info(self_plugin_id()).await {
        Ok(doc) => doc,
        // The registry answered and does not know this package (a local build): Scrypted's
        // own lookup fails the same way and skips this plugin.
        Err(e) if e.message.contains("statusCode 404") => return Ok(None),
        Err(e) => {
            return Err(ToolError::failed(format!(
                "The npm registry did not answer the update check: {}. Nothing was updated or scheduled. Check the Scrypted server's internet access (npm_info shows what the registry answers) and try again.",
                e.message
            )))
        }
    };
    let Some(latest) = doc.pointer("/dist-tags/latest").and_then(Value::as_str) else {
        return Ok(None);
    };
    // JavaScript truthiness, as Scrypted tests `versions[latest].deprecated`.
    let deprecated = doc
        .get("versions")
        .and_then(|v| v.get(latest))
        .and_then(|m| m.get("deprecated"))
        .is_some_and(|d| !matches!(d, Value::Null | Value::Bool(false)) && d != "");
    if deprecated {
        return Ok(Some(format!(
            "npm marks this MCP plugin's latest version ({latest}) deprecated, so Scrypted will uninstall this plugin"
        )));
    }
    let Some(installed) = installed else {
        return Err(ToolError::failed(format!(
            "This MCP plugin's installed version could not be read, so whether updating replaces it (npm's latest is {latest}) cannot be told. Nothing was updated or scheduled."
        )));
    };
    Ok(match (semver(latest), semver(installed)) {
        (Some(l), Some(i)) if l.cmp_precedence(&i).is_gt() => Some(format!(
            "npm offers this MCP plugin an update ({installed} → {latest})"
        )),
        _ => None,
    })
}

async fn update_plugins(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    let before = installed_versions(&tc).await?;
    let own = installed(&before, self_plugin_id()).and_then(Option::as_deref);
    if let Some(reason) = self_update(&tc, own).await? {
        tc.ctx
            .host
            .defer(SELF_ACTION_DELAY_MS, Deferred::UpdatePlugins);
        return ok(UpdateOut {
            status: UpdateStatus::Scheduled,
            updated: Vec::new(),
            removed: Vec::new(),
            added: Vec::new(),
            unchanged: 0,
            message: format!(
                "{reason}; updating now would cut this answer off. The update of every plugin starts in about {} s; the MCP session ends when this plugin restarts. Reconnect afterwards and call list_plugins to see the versions.",
                SELF_ACTION_DELAY_MS as f64 / 1000.0
            ),
        });
    }
    tc.ctx.host.update_plugins().await?;
    let after = installed_versions(&tc).await?;
    let mut updated = Vec::new();
    let mut removed = Vec::new();
    let mut added = Vec::new();
    let mut unchanged = 0;
    let (ids_before, ids_after) = (
        before.iter().map(|(id, _)| id),
        after.iter().map(|(id, _)| id),
    );
    for id in crate::order::union_keys(ids_before, ids_after) {
        let b = installed(&before, id).cloned();
        let a = installed(&after, id).cloned();
        match (b, a) {
            (Some(b), Some(a)) if a == b => unchanged += 1,
            (Some(b), Some(a)) => updated.push(VersionChange {
                plugin_id: id.clone(),
                before: b,
                after: a,
            }),
            (Some(b), None) => removed.push(VersionChange {
                plugin_id: id.clone(),
                before: b,
                after: None,
            }),
            (None, Some(a)) => added.push(VersionChange {
                plugin_id: id.clone(),
                before: None,
                after: a,
            }),
            (None, None) => {}
        }
    }
    ok(UpdateOut {
        status: UpdateStatus::Updated,
        message: format!(
            "{} updated, {} removed, {} added, {} unchanged.",
            updated.len(),
            removed.len(),
            added.len(),
            unchanged
        ),
        updated,
        removed,
        added,
        unchanged,
    })
}

// ---------- npm_info

pub const NPM_INFO: ToolDef = tool! {
    name: "npm_info",
    title: "Query the npm registry",
    description: "GETs a path on the npm registry through Scrypted (`npmInfo`) and returns the JSON. Examples: '@scrypted/hue' (package document), '@scrypted/hue/latest' (latest manifest), '-/v1/search?text=keywords:scrypted' (plugin search, as the Scrypted UI does). Large `readme` fields and long version lists are trimmed; `trimmed` says what was left out.",
    input: NpmInfoArgs,
    output: NpmInfoOut,
    hints: READ_OPEN,
    scope: Read,
    run: npm_info,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct NpmInfoArgs {
    /// Registry path without the registry host, e.g. "@scrypted/hue",
    /// "@scrypted/hue/latest" or "-/v1/search?text=keywords:scrypted".
    pub endpoint: String,
}

crate::fields::args!(NpmInfoArgs { endpoint: required });

#[derive(Debug, Serialize, JsonSchema)]
pub struct NpmInfoOut {
    pub endpoint: String,
    /// The registry's JSON answer (trimmed, see `trimmed`).
    pub result: Value,
    /// What was left out to keep the answer small.
    pub trimmed: Vec<String>,
}

/// Versions kept in full when a package document lists many.
const NPM_VERSIONS_KEPT: usize = 10;

fn trim_npm(mut v: Value, trimmed: &mut Vec<String>) -> Value {
    if let Some(obj) = v.as_object_mut() {
        if obj.remove("readme").is_some() {
            trimmed.push("readme".into());
        }
        let latest = obj
            .get("dist-tags")
            .and_then(|d| d.get("latest"))
            .and_then(Value::as_str)
            .map(String::from);
        if let Some(Value::Object(versions)) = obj.get_mut("versions") {
            for (_, manifest) in versions.iter_mut() {
                if let Some(m) = manifest.as_object_mut() {
                    m.remove("readme");
                }
            }
            if versions.len() > NPM_VERSIONS_KEPT {
                let all: Vec<String> = versions.keys().cloned().collect();
                let kept: Map<String, Value> = crate::order::map(
                    versions
                        .iter()
                        .filter(|(k, _)| Some(k.as_str()) == latest.as_deref())
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                trimmed.push(format!(
                    "versions: {} manifests left out; only the latest is kept in full, all version numbers are in version_list",
                    all.len() - kept.len()
                ));
                *versions = kept;
                obj.insert("version_list".into(), json!(all));
            }
        }
        if obj.remove("time").is_some() {
            trimmed.push("time".into());
        }
    }
    v
}

async fn npm_info(tc: Rc<ToolContext>, a: NpmInfoArgs) -> ToolResult {
    let endpoint = a.endpoint.trim().trim_start_matches('/').to_string();
    if endpoint.is_empty()
        || endpoint.contains("://")
        || endpoint.contains("..")
        || endpoint.chars().any(char::is_whitespace)
    {
        return Err(ToolError::InvalidParams(format!(
            "'{}' is not a registry path: give a path such as \"@scrypted/hue\" or \"-/v1/search?text=keywords:scrypted\", without the registry host.",
            a.endpoint
        )));
    }
    let raw = tc.ctx.host.npm_info(&endpoint).await.map_err(|e| {
        ToolError::failed(format!(
            "The npm registry did not answer {endpoint}: {}. Check the package name (it is case-sensitive) or search with \"-/v1/search?text=<words>\".",
            e.message
        ))
    })?;
    let mut trimmed = Vec::new();
    let result = trim_npm(raw, &mut trimmed);
    ok(NpmInfoOut {
        endpoint,
        result,
        trimmed,
    })
}
