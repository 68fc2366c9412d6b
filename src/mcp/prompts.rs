//! Prompts that turn the catalogue into guided work, and completion of their arguments
//! (and of resource template variables).
//!
//! `diagnose_plugin`, `health_report` and `security_review` gather their evidence by
//! running read-only tools for the caller, through `calls::invoke`: the one path every
//! tool run takes, so a prompt can never show what the caller's own tools/call could not
//! (and is audited like one). `review_recent_tool_calls` embeds the audit trail.

use super::calls;
use super::jsonrpc;
use super::peer::Call;
use crate::audit;
use crate::tools::resolve::Snapshot;
use rmcp::model::{
    CompleteRequestParams, CompletionInfo, ErrorData, GetPromptRequestParams, GetPromptResult,
    Prompt, PromptArgument, PromptMessage, Reference, Role,
};
use serde::{de, Deserialize, Deserializer};
use serde_json::{json, Map, Value};
use std::fmt::Write;

/// What health_report can concentrate on.
pub const FOCUS_AREAS: [&str; 6] = ["all", "server", "plugins", "devices", "alerts", "cluster"];
/// What security_review can concentrate on.
pub const REVIEW_AREAS: [&str; 5] = ["all", "users", "secrets", "network", "apps"];

/// The tools the prompts run: read-only, each of them (tests/mcp/prompts.rs checks it).
pub const PROMPT_TOOLS: [&str; 12] = [
    "list_plugins",
    "get_plugin_info",
    "list_devices",
    "get_logs",
    "list_alerts",
    "get_storage",
    "get_server_info",
    "list_cluster_workers",
    "list_users",
    "get_dotenv",
    "get_external_addresses",
    "get_cors",
];

fn argument(name: &str, description: &str, required: bool) -> PromptArgument {
    PromptArgument::new(name)
        .with_description(description)
        .with_required(required)
}

pub fn list() -> Vec<Prompt> {
    #[allow(unused_mut)]
    let mut list = vec![
        Prompt::new(
            "diagnose_plugin",
            Some(
                "Why is a plugin misbehaving? Gathers its process info, devices, recent logs, \
                 alerts and storage keys (secrets redacted) and asks for a verdict with evidence \
                 and a next step.",
            ),
            Some(vec![argument(
                "plugin_id",
                "The plugin's npm name, e.g. @scrypted/hue (completion lists the installed ones).",
                true,
            )]),
        )
        .with_title("Diagnose a plugin"),
        Prompt::new(
            "health_report",
            Some(
                "One overview of the server: version, plugins and their processes, devices \
                 offline, open alerts, recent warnings and errors, cluster workers, with \
                 findings ordered by severity.",
            ),
            Some(vec![argument(
                "focus",
                &format!(
                    "What to look at: one of {} (default all).",
                    FOCUS_AREAS.join(", ")
                ),
                false,
            )]),
        )
        .with_title("Server health report"),
        Prompt::new(
            "security_review",
            Some(
                "Who and what can reach this server: admin accounts, the names of the secrets \
                 in .env and the environment, external addresses and CORS origins of each \
                 plugin, and the MCP apps connected to this plugin with their scopes. Secret \
                 values are never shown.",
            ),
            Some(vec![argument(
                "area",
                &format!(
                    "What to review: one of {} (default all).",
                    REVIEW_AREAS.join(", ")
                ),
                false,
            )]),
        )
        .with_title("Security review"),
        Prompt::new(
            "review_recent_tool_calls",
            Some(
                "Summarize what AI clients recently did on this server through MCP, from \
                 the audit trail, and point out failures and refused actions.",
            ),
            None::<Vec<PromptArgument>>,
        )
        .with_title("Review recent tool calls"),
    ];
    #[cfg(feature = "conformance-fixtures")]
    list.extend(super::fixtures::prompts());
    list
}

pub async fn get(call: &Call, params: &Value) -> Result<GetPromptResult, ErrorData> {
    let p: GetPromptRequestParams = jsonrpc::params(params)?;
    let arguments = p.arguments.unwrap_or_default();
    let arg = |name: &str| arguments.get(name).and_then(Value::as_str).map(str::trim);
    match p.name.as_str() {
        "diagnose_plugin" => diagnose_plugin(call, arg("plugin_id")).await,
        "health_report" => {
            let focus = choice(arg("focus"), &FOCUS_AREAS, "focus")?;
            health_report(call, focus).await
        }
        "security_review" => {
            let area = choice(arg("area"), &REVIEW_AREAS, "area")?;
            security_review(call, area).await
        }
        "review_recent_tool_calls" => Ok(review_recent_tool_calls(call)),
        #[cfg(feature = "conformance-fixtures")]
        super::fixtures::mrtr::PROMPT => super::fixtures::mrtr::get_prompt(call).await,
        #[cfg(feature = "conformance-fixtures")]
        name if super::fixtures::has_prompt(name) => super::fixtures::get_prompt(name, &arguments),
        name => Err(ErrorData::invalid_params(
            format!("Unknown prompt: {name}"),
            None,
        )),
    }
}

/// An optional argument with a fixed set of values; absent or empty is the first.
fn choice<'a>(value: Option<&str>, allowed: &[&'a str], name: &str) -> Result<&'a str, ErrorData> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(allowed[0]),
        Some(v) => allowed.iter().find(|a| **a == v).copied().ok_or_else(|| {
            ErrorData::invalid_params(
                format!("{name} must be one of {}, not {v:?}", allowed.join(", ")),
                None,
            )
        }),
    }
}

/// One tool's answer, run for the caller: its structured content, or `{"error": message}`
/// when it failed (the model should see that too), or `{"skipped": why}` when the token's
/// scope does not cover the tool, which then is not called.
async fn read(call: &Call, tool: &str, args: Value) -> Result<Value, ErrorData> {
    if let Some(needed) = calls::scope_of(tool).filter(|n| *n > call.caller.scope) {
        return Ok(json!({
            "skipped": format!("{tool} needs OAuth scope {}, which this app was not granted", needed.name())
        }));
    }
    let args = match args {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let result = calls::invoke(call, tool, args).await?;
    if result.is_error == Some(true) {
        let text: Vec<String> = result
            .content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect();
        return Ok(json!({ "error": text.join(" ") }));
    }
    Ok(result.structured_content.unwrap_or(Value::Null))
}

/// A titled section holding one tool's answer as JSON.
fn section(out: &mut String, title: &str, source: &str, value: &Value) {
    let json = serde_json::to_string_pretty(value).unwrap_or_default();
    let _ = write!(out, "\n## {title} ({source})\n```json\n{json}\n```\n");
}

fn user_text(text: String, description: &str) -> GetPromptResult {
    GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
        .with_description(description)
}

/// The entries of `list` (an array under `key`) whose `path` is one of `paths`.
fn with_paths(value: &Value, key: &str, paths: &[String]) -> Value {
    let kept: Vec<Value> = value[key]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| {
                    e["path"]
                        .as_str()
                        .is_some_and(|p| paths.iter().any(|x| x == p))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Value::Array(kept)
}

// ---------- diagnose_plugin

async fn diagnose_plugin(
    call: &Call,
    plugin_id: Option<&str>,
) -> Result<GetPromptResult, ErrorData> {
    let Some(plugin_id) = plugin_id.filter(|p| !p.is_empty()) else {
        return Err(ErrorData::invalid_params(
            "diagnose_plugin needs plugin_id: an installed plugin's npm name, e.g. @scrypted/hue",
            None,
        ));
    };
    let installed = installed_plugins(call).await;
    let Some((root, _)) = installed.iter().find(|(_, p)| p == plugin_id) else {
        let names: Vec<&str> = installed.iter().map(|(_, p)| p.as_str()).collect();
        return Err(ErrorData::invalid_params(
            format!(
                "No installed plugin '{plugin_id}'. Installed: {}.",
                names.join(", ")
            ),
            None,
        ));
    };
    let info = read(call, "get_plugin_info", json!({ "plugin_id": plugin_id })).await?;
    let devices = read(
        call,
        "list_devices",
        json!({ "plugin_id": plugin_id, "limit": 500 }),
    )
    .await?;
    let mut paths = vec![format!("/plugin/{plugin_id}")];
    for d in devices["devices"].as_array().into_iter().flatten() {
        if let Some(id) = d["id"].as_str() {
            paths.push(format!("/device/{id}"));
        }
    }
    let logs = read(call, "get_logs", json!({ "limit": 1000 })).await?;
    let alerts = read(call, "list_alerts", json!({ "limit": 500 })).await?;
    let storage = storage_keys(&read(call, "get_storage", json!({ "id": root })).await?);

    let mut text = format!(
        "Diagnose the Scrypted plugin {plugin_id} (its device id is {root}). Below is what \
         its read-only tools reported just now. Work through the checklist, cite the evidence \
         (log lines, alert ids, device ids) for each finding, and do not change anything.\n"
    );
    section(&mut text, "Process", "get_plugin_info", &info);
    section(&mut text, "Its devices", "list_devices", &devices);
    section(
        &mut text,
        "Its recent log entries, newest first",
        "get_logs",
        &with_paths(&logs, "entries", &paths),
    );
    section(
        &mut text,
        "Open alerts of the plugin and its devices",
        "list_alerts",
        &with_paths(&alerts, "alerts", &paths),
    );
    section(
        &mut text,
        "Storage keys (its configuration; values not shown)",
        "get_storage",
        &storage,
    );
    text.push_str(
        "\nChecklist:\n\
         1. Process: is it running (pid not null)? Many pending RPC calls or results point \
         at a stuck plugin.\n\
         2. Logs: errors and warnings, how often and since when; a repeating message means a \
         retry loop (credentials, address, network).\n\
         3. Alerts: which are still open, and do they match the log errors?\n\
         4. Devices: are any offline (online: false) or missing state a healthy device has?\n\
         5. Configuration: are the storage keys a working setup needs present and set? Their \
         values are left out, as any may be a credential: never ask the user to paste one \
         into this conversation.\n\
         6. The console output of the plugin is not readable through this server: if the \
         evidence above is not enough, ask the user to look at the plugin's console in the \
         Scrypted web UI.\n\
         Answer with a verdict, the evidence for it, and the next step: the tool that would \
         fix it (e.g. reload_plugin) and whether that changes anything on the server.\n",
    );
    Ok(user_text(text, &format!("Diagnosis of {plugin_id}")))
}

/// get_storage's answer reduced to what a diagnosis needs: each key, and whether it holds
/// a value. Values stay out: a key that does not look secret (Hue's `bridgeUsername` is
/// its API key) may still hold one.
fn storage_keys(answer: &Value) -> Value {
    let Some(storage) = answer["storage"].as_object() else {
        return answer.clone();
    };
    let secret: Vec<&str> = answer["redacted_keys"]
        .as_array()
        .map(|k| k.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // Inserted, not collected: `collect()` would bring std's sort for these pairs (`order::map`).
    let keys: Map<String, Value> = crate::order::map(storage.iter().map(|(k, v)| {
        let set = if v.as_str().is_some_and(str::is_empty) {
            "empty"
        } else {
            "set"
        };
        let what = if secret.contains(&k.as_str()) {
            format!("{set}, secret-looking name")
        } else {
            set.to_string()
        };
        (k.clone(), Value::String(what))
    }));
    Value::Object(keys)
}

/// `(root device id, plugin id)` of every installed plugin, sorted by plugin id.
async fn installed_plugins(call: &Call) -> Vec<(String, String)> {
    let Ok(state) = call.ctx.host.system_state().await else {
        return Vec::new();
    };
    let mut plugins = Snapshot { state }.plugins();
    crate::order::sort_by(&mut plugins, |a, b| a.1.cmp(&b.1));
    plugins
}

// ---------- health_report

async fn health_report(call: &Call, focus: &str) -> Result<GetPromptResult, ErrorData> {
    let wants = |area: &str| focus == "all" || focus == area;
    let mut text = format!(
        "Write a health report of my Scrypted server{}. Below is what its read-only tools \
         reported just now. Order the findings by severity (broken, degraded, worth a look), \
         give the evidence for each (ids, log lines, times) and a suggested fix, and say \
         which fixes would change the server. Do not change anything.\n",
        if focus == "all" {
            String::new()
        } else {
            format!(", concentrating on {focus}")
        }
    );
    // (areas it belongs to, title, tool, arguments)
    let parts = [
        (&["server"][..], "Server", "get_server_info", json!({})),
        (
            &["plugins"],
            "Plugins",
            "list_plugins",
            json!({ "limit": 500 }),
        ),
        (
            &["devices"],
            "Devices",
            "list_devices",
            json!({ "limit": 500 }),
        ),
        (
            &["alerts", "plugins", "devices"],
            "Open alerts",
            "list_alerts",
            json!({ "limit": 100 }),
        ),
        (
            &["alerts", "plugins", "devices"],
            "Warnings and errors, newest first",
            "get_logs",
            json!({ "level": "w", "limit": 50 }),
        ),
        (
            &["cluster"],
            "Cluster workers",
            "list_cluster_workers",
            json!({}),
        ),
    ];
    for (areas, title, tool, args) in parts {
        if areas.iter().any(|a| wants(a)) {
            section(&mut text, title, tool, &read(call, tool, args).await?);
        }
    }
    text.push_str(
        "\nFor the state of one device use get_device; for what changed recently, \
         get_recent_events (it knows only what happened since this plugin started).\n",
    );
    Ok(user_text(text, "Scrypted health report"))
}

// ---------- security_review

async fn security_review(call: &Call, area: &str) -> Result<GetPromptResult, ErrorData> {
    let wants = |a: &str| area == "all" || area == a;
    let mut text = format!(
        "Review the security of my Scrypted server{}. Below is what its read-only tools \
         reported just now; secret values are redacted and must stay so: judge them by their \
         names only. List the risks by severity with the evidence for each, and suggest the \
         change that would remove each (and the tool that would make it). Do not change \
         anything.\n",
        if area == "all" {
            String::new()
        } else {
            format!(", only the area: {area}")
        }
    );
    if wants("users") {
        let users = read(call, "list_users", json!({})).await?;
        section(&mut text, "User accounts", "list_users", &users);
    }
    if wants("secrets") {
        let env = read(call, "get_server_info", json!({})).await?;
        let dotenv = read(call, "get_dotenv", json!({})).await?;
        let names = json!({
            "environment_secret_names": env.get("redacted_keys"),
            "dotenv_secret_names": dotenv.get("redacted_keys"),
            "dotenv_error": dotenv.get("error"),
        });
        section(
            &mut text,
            "Names of secrets (values never shown)",
            "get_server_info, get_dotenv",
            &names,
        );
    }
    if wants("network") {
        let mut exposure = Vec::new();
        for (_, plugin_id) in installed_plugins(call).await {
            let external = read(call, "get_external_addresses", json!({ "id": plugin_id })).await?;
            let cors = read(call, "get_cors", json!({ "id": plugin_id })).await?;
            exposure.push(json!({
                "plugin_id": plugin_id,
                "external_addresses": external.get("addresses"),
                "cors_origins": cors.get("origins"),
                "env_cors_origins": cors.get("env_origins"),
            }));
        }
        section(
            &mut text,
            "External addresses and CORS origins per plugin (memory only, lost on restart)",
            "get_external_addresses, get_cors",
            &Value::Array(exposure),
        );
    }
    if wants("apps") {
        section(
            &mut text,
            "MCP apps connected to this plugin",
            "the plugin's OAuth grants",
            &connected_apps(call),
        );
    }
    text.push_str(
        "\nThings to weigh: more admins than people who need them; secrets kept in .env \
         that a backup or a plugin could read; wildcard (*) or unknown CORS origins; \
         external addresses that expose plugins to the internet; connected apps nobody \
         recognises or has used lately (the plugin's Settings tab revokes them).\n",
    );
    Ok(user_text(text, "Scrypted security review"))
}

/// The registered clients with the scopes of their live grants (Settings → Connected apps).
fn connected_apps(call: &Call) -> Value {
    let now = call.ctx.clock.now_ms();
    let grants = crate::oauth::grants::all_grants(call.ctx.store.as_ref());
    let apps: Vec<Value> = crate::oauth::clients(&call.ctx)
        .into_iter()
        .map(|c| {
            let mut scopes: Vec<&str> = grants
                .iter()
                .filter(|g| g.client_id == c.client_id && g.live(now))
                .flat_map(|g| g.scope.split_whitespace())
                .collect();
            crate::order::sort(&mut scopes);
            scopes.dedup();
            json!({
                "client_id": c.client_id,
                "client_name": c.client_name,
                "redirect_hosts": c.redirect_hosts,
                "scopes": scopes,
                "live_tokens": c.live_tokens,
                "last_used": crate::utc::format_time(c.last_used_ms),
            })
        })
        .collect();
    Value::Array(apps)
}

// ---------- review_recent_tool_calls

fn review_recent_tool_calls(call: &Call) -> GetPromptResult {
    let entries = audit::recent(&call.ctx, super::content::AUDIT_LIMIT);
    let json = serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into());
    GetPromptResult::new(vec![
        PromptMessage::new_resource(
            Role::User,
            super::content::AUDIT_URI.to_string(),
            Some("application/json".into()),
            Some(json),
            None,
            None,
            None,
        ),
        PromptMessage::new_text(
            Role::User,
            "Above is the audit trail of recent MCP tool calls on my Scrypted server \
             (newest first). Summarize who did what, list failed, refused and \
             invalid calls, and flag anything that looks unexpected.",
        ),
    ])
    .with_description("Recent MCP activity")
}

// ---------- completion

/// `completion/complete`'s params as rmcp's `CompleteRequestParams`, read by
/// [`mirror::CompleteRequestParams`] rather than by rmcp's derive, which reads `ref` (an
/// internally tagged enum)
/// through serde's buffering `Content` and a second deserialiser for each variant type:
/// 12.6 KB of the wasm before `-Oz` for one small object (issue 12). What is accepted and
/// every error message are the derive's; the test below compares both readers.
pub fn completion_params(params: &Value) -> Result<CompleteRequestParams, ErrorData> {
    let read: mirror::CompleteRequestParams = jsonrpc::params(params)?;
    let mut p = CompleteRequestParams::new(read.reference.0, read.argument);
    p.meta = read.meta;
    p.context = read.context;
    Ok(p)
}

/// `CompleteRequestParams`' fields, `ref` read by [`Tagged`]. Named as rmcp's type: serde's
/// messages name the struct.
mod mirror {
    use super::Tagged;
    use rmcp::model::{ArgumentInfo, CompletionContext, RequestMetaObject};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct CompleteRequestParams {
        #[serde(rename = "_meta", default)]
        pub meta: Option<RequestMetaObject>,
        #[serde(rename = "ref")]
        pub reference: Tagged,
        pub argument: ArgumentInfo,
        pub context: Option<CompletionContext>,
    }
}

/// A `Reference` read as JSON, then as the variant type its `type` names. Only the object
/// form the spec defines is taken; serde's derive would also take a sequence starting with
/// the tag, which no MCP message carries.
struct Tagged(Reference);

impl<'de> Deserialize<'de> for Tagged {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Value::Object(mut fields) = Value::deserialize(deserializer)? else {
            return Err(de::Error::custom(
                "ref must be an object with \"type\": \"ref/prompt\" or \"ref/resource\"",
            ));
        };
        let reference = match fields.remove("type") {
            Some(Value::String(tag)) => match tag.as_str() {
                "ref/resource" => {
                    serde_json::from_value(Value::Object(fields)).map(Reference::Resource)
                }
                "ref/prompt" => {
                    serde_json::from_value(Value::Object(fields)).map(Reference::Prompt)
                }
                _ => {
                    return Err(de::Error::unknown_variant(
                        &tag,
                        &["ref/resource", "ref/prompt"],
                    ))
                }
            },
            _ => {
                return Err(de::Error::custom(
                    "ref's type must be the string \"ref/prompt\" or \"ref/resource\"",
                ))
            }
        };
        reference.map(Tagged).map_err(de::Error::custom)
    }
}

/// The values offered for an argument of a prompt or a variable of a resource template,
/// those starting with what was typed (case-insensitive), at most 100 (the spec's cap).
pub async fn complete(call: &Call, p: &CompleteRequestParams) -> Result<CompletionInfo, ErrorData> {
    let typed = p.argument.value.to_lowercase();
    let candidates: Vec<String> = match &p.r#ref {
        Reference::Prompt(prompt) => match (prompt.name.as_str(), p.argument.name.as_str()) {
            ("diagnose_plugin", "plugin_id") => installed_plugins(call)
                .await
                .into_iter()
                .map(|(_, plugin)| plugin)
                .collect(),
            ("health_report", "focus") => FOCUS_AREAS.iter().map(|s| s.to_string()).collect(),
            ("security_review", "area") => REVIEW_AREAS.iter().map(|s| s.to_string()).collect(),
            (name, _) if list().iter().any(|pr| pr.name == name) => Vec::new(),
            (name, _) => {
                return Err(ErrorData::invalid_params(
                    format!("Unknown prompt: {name}"),
                    None,
                ))
            }
        },
        Reference::Resource(r) => {
            super::content::template_values(call, &r.uri, &p.argument.name).await
        }
        _ => Vec::new(),
    };
    let values: Vec<String> = candidates
        .into_iter()
        .filter(|v| v.to_lowercase().starts_with(&typed))
        .take(CompletionInfo::MAX_VALUES)
        .collect();
    CompletionInfo::with_all_values(values).map_err(|e| ErrorData::internal_error(e, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `completion_params` takes what rmcp's derive takes in the spec's object form, reads it
    /// into the same value and refuses the rest with the same error; a `ref` that is not an
    /// object with a string `type` is refused as invalid params naming `ref` (the derive
    /// also took a sequence such as `["ref/prompt", "p"]`, a form no MCP message has).
    #[test]
    fn completion_params_are_read_as_rmcp_reads_them() {
        let prompt = json!({"type": "ref/prompt", "name": "health_report"});
        let argument = json!({"name": "focus", "value": "c"});
        let references = [
            prompt.clone(),
            json!({"type": "ref/prompt", "name": "p", "title": "T"}),
            json!({"type": "ref/prompt", "name": "p", "title": null}),
            json!({"type": "ref/resource", "uri": "scrypted-mcp://x/{id}"}),
            json!({"uri": "u", "type": "ref/resource", "extra": 1}),
            json!({"type": "ref/other", "name": "p"}),
            json!({"type": 1, "name": "p"}),
            json!({"type": null}),
            json!({"name": "p"}),
            json!({"type": "ref/prompt"}),
            json!({"type": "ref/prompt", "name": 5}),
            json!({"type": "ref/prompt", "name": "p", "title": 5}),
            json!({"type": "ref/resource", "uri": ["u"]}),
            json!(["ref/prompt", "p"]),
            json!(["ref/prompt", "p", "T"]),
            json!(["ref/prompt", "p", "T", "x"]),
            json!(["ref/resource"]),
            json!([7, "p"]),
            json!([]),
            json!("ref/prompt"),
            json!(null),
            json!(true),
            json!(-3),
            json!(2.5),
            json!(7),
        ];
        let mut cases = vec![
            json!(null),
            json!({}),
            json!([]),
            json!({"argument": argument}),
            json!([null, prompt, argument]),
            json!([null, prompt, argument, null, 1]),
        ];
        for reference in references {
            cases.push(json!({"ref": reference, "argument": argument}));
            cases.push(json!({"ref": reference}));
            cases.push(json!({"ref": reference, "argument": {"name": "x"}}));
        }
        for extra in [
            json!({"context": {"arguments": {"a": "b"}}}),
            json!({"context": 3}),
            json!({"context": {"arguments": {"a": 1}}}),
            json!({"_meta": {"progressToken": 1}}),
            json!({"_meta": 5}),
            json!({"unknown": 1}),
        ] {
            let mut case = json!({"ref": prompt, "argument": argument});
            let fields = case.as_object_mut().unwrap();
            fields.extend(extra.as_object().unwrap().clone());
            cases.push(case);
        }
        let mut read = 0;
        for case in &cases {
            let ours = completion_params(case);
            let spec_form = case["ref"]["type"].is_string() || case.get("ref").is_none();
            if !spec_form {
                let e = ours.unwrap_err();
                assert_eq!(e.code, rmcp::model::ErrorCode::INVALID_PARAMS, "{case}");
                // Fields are read in key order: an invalid `argument` is refused before `ref`.
                if case["argument"] != json!({"name": "x"}) {
                    assert!(e.message.contains("ref"), "{case}: {}", e.message);
                }
                continue;
            }
            match (ours, jsonrpc::params::<CompleteRequestParams>(case)) {
                (Ok(ours), Ok(derived)) => {
                    assert_eq!(ours, derived, "{case}");
                    read += 1;
                }
                (Err(ours), Err(derived)) => {
                    assert_eq!(
                        (ours.code, ours.message),
                        (derived.code, derived.message),
                        "{case}"
                    )
                }
                (ours, derived) => panic!("{case}: {ours:?}, rmcp's derive {derived:?}"),
            }
        }
        assert!(
            read > 0 && read < cases.len(),
            "{read} of {} read",
            cases.len()
        );
    }
}
