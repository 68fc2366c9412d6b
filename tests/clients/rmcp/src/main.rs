//! rmcp 3.11 (crates.io), the Rust MCP SDK Codex is built on, as a real client of the
//! plugin: signs in headlessly (`approve`, the one sign-in of the Rust client) and connects
//! with the auto lifecycle (server/discover first, initialize only as a fallback). Prints
//! one JSON line.
//!
//!     rmcp-client tools|restore|snapshot MCP_URL COOKIE [REDIRECT_URI]
//!
//! `tools` lists the tools and calls get_server_info: {protocolVersion, tools, call:
//! {isError, structured}}. `restore` runs create_backup, then restore_backup of it in
//! 64 KiB chunks, confirming when asked: {protocolVersion, asked, sha256, call}.
//! `snapshot` takes the demo camera's picture (device 12): {protocolVersion, isError,
//! images: the image contents' MIME types}.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, ErrorData, Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::transport::auth::{AuthClient, AuthorizationRequest, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientHandler, RoleClient};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

/// Loopback, never served: `approve` reads the code from the redirect itself (a test may
/// name another, which the server approves only through its consent page).
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
/// Scrypted refuses request bodies over 100 KB: the zip travels in chunks of 64 KiB.
const CHUNK: usize = 65536;

/// What the user does in the browser: opens the authorization URL logged in to Scrypted
/// and approves, at once or on the consent page by pressing Approve (its form posted back
/// with its hidden fields, CSRF token and every scope ticked). Returns the redirect back to the client.
async fn approve(authorization_url: &str, cookie: &str) -> Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut r = http
        .get(authorization_url)
        .header("cookie", cookie)
        .send()
        .await?;
    if r.status() == 200 {
        let page = r.text().await?;
        let (action, mut fields) = consent_form(&page)?;
        fields.push(("decision".into(), "approve".into()));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&fields)
            .finish();
        r = http
            .post(url::Url::parse(authorization_url)?.join(&action)?)
            .header("cookie", cookie)
            .header("origin", origin_of(authorization_url)?)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
    }
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().map(String::from));
    match location {
        Some(Ok(to)) if status == 302 => Ok(to),
        _ => bail!(
            "/authorize answered {status}, expected a 302: {}",
            r.text().await?
        ),
    }
}

/// The origin a browser sends with the consent form: the authorization page's own.
fn origin_of(authorization_url: &str) -> Result<String> {
    Ok(url::Url::parse(authorization_url)?
        .origin()
        .ascii_serialization())
}

/// The consent page's form: its action and hidden fields. Read by hand from the one page
/// this server renders (attributes in double quotes, HTML-escaped values): an HTML parser
/// would be a heavy build for two tag names.
fn consent_form(page: &str) -> Result<(String, Vec<(String, String)>)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = start + tag[start..].find('"')?;
        Some(html_escape::decode_html_entities(&tag[start..end]).into_owned())
    };
    let tags = |name: &str| -> Vec<&str> {
        page.match_indices(&format!("<{name} "))
            .filter_map(|(i, _)| page[i..].find('>').map(|end| &page[i..i + end]))
            .collect()
    };
    let action = tags("form")
        .first()
        .and_then(|form| attr(form, "action"))
        .context("the authorization page has no consent form")?;
    // Hidden fields as they are; every scope checkbox ticked, as the page shows them.
    let fields: Vec<(String, String)> = tags("input")
        .into_iter()
        .filter_map(|input| match attr(input, "type").as_deref() {
            Some("hidden") => Some((
                attr(input, "name")?,
                attr(input, "value").unwrap_or_default(),
            )),
            Some("checkbox") => Some((attr(input, "name")?, "on".into())),
            _ => None,
        })
        .collect();
    if !fields.iter().any(|(name, _)| name == "csrf") {
        bail!("the consent form has no CSRF token");
    }
    Ok((action, fields))
}

/// Registers, signs in and returns the authorized HTTP client the transport uses.
async fn sign_in(
    mcp_url: &str,
    cookie: &str,
    redirect_uri: &str,
) -> Result<AuthClient<reqwest::Client>> {
    let mut oauth = OAuthState::new(mcp_url, None).await?;
    oauth
        .start_authorization(AuthorizationRequest::new(redirect_uri).with_client_name("rmcp-3.11"))
        .await?;
    let back = approve(&oauth.get_authorization_url().await?, cookie).await?;
    oauth.handle_callback_url(&back).await?;
    let manager = oauth
        .into_authorization_manager()
        .context("not authorized after the callback")?;
    Ok(AuthClient::new(reqwest::Client::default(), manager))
}

/// The user at the keyboard: picks RESTORE whenever asked, and remembers what was asked.
#[derive(Default)]
struct Confirming {
    asked: Mutex<Vec<String>>,
}

impl ClientHandler for Confirming {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = &request {
            self.asked.lock().unwrap().push(message.clone());
        }
        Ok(ElicitResult::new(ElicitationAction::Accept)
            .with_content(json!({"decision": "RESTORE"})))
    }

    fn get_info(&self) -> ClientConfig {
        // Form elicitation: what restore_backup's confirmation asks through.
        let capabilities: ClientCapabilities =
            serde_json::from_value(json!({"elicitation": {"form": {}}})).expect("capabilities");
        ClientConfig::new(capabilities, Implementation::new("rmcp-client", "3.11.0"))
    }
}

type Client = RunningService<RoleClient, Confirming>;

fn call(name: &str, arguments: Value) -> CallToolRequestParams {
    let Value::Object(arguments) = arguments else {
        unreachable!("tool arguments are an object")
    };
    CallToolRequestParams::new(name.to_string()).with_arguments(arguments)
}

fn outcome(result: &CallToolResult) -> Value {
    json!({"isError": result.is_error.unwrap_or(false), "structured": result.structured_content})
}

async fn tools(client: &Client) -> Result<Value> {
    let tools = client.list_all_tools().await?;
    let result = client.call_tool(call("get_server_info", json!({}))).await?;
    Ok(json!({
        "tools": tools.iter().map(|t| t.name.to_string()).collect::<Vec<_>>(),
        "call": outcome(&result),
    }))
}

async fn restore(client: &Client) -> Result<Value> {
    let backup = serde_json::to_value(client.call_tool(call("create_backup", json!({}))).await?)?;
    let blob = backup["content"]
        .as_array()
        .and_then(|c| c.iter().find_map(|item| item["resource"]["blob"].as_str()))
        .context("create_backup embeds no backup")?;
    let data = STANDARD.decode(blob)?;
    let sha256: String = Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let chunks: Vec<&[u8]> = data.chunks(CHUNK).collect();
    let mut upload = None::<String>;
    let mut last = None;
    for (i, chunk) in chunks.iter().enumerate() {
        let mut args = Map::new();
        args.insert("confirm".into(), json!("RESTORE FROM BACKUP"));
        args.insert("chunk_base64".into(), json!(STANDARD.encode(chunk)));
        args.insert("chunk_index".into(), json!(i));
        args.insert("total_chunks".into(), json!(chunks.len()));
        if let Some(id) = &upload {
            args.insert("upload_id".into(), json!(id));
        }
        if i == chunks.len() - 1 {
            args.insert("sha256".into(), json!(sha256));
        }
        let result = client
            .call_tool(call("restore_backup", Value::Object(args)))
            .await?;
        if let Some(id) = result
            .structured_content
            .as_ref()
            .and_then(|s| s["upload_id"].as_str())
        {
            upload = Some(id.to_string());
        }
        last = Some(result);
    }
    let asked = client.service().asked.lock().unwrap().clone();
    Ok(json!({"asked": asked, "sha256": sha256, "call": outcome(&last.context("no chunk")?)}))
}

async fn snapshot(client: &Client) -> Result<Value> {
    let result = serde_json::to_value(
        client
            .call_tool(call("get_camera_snapshot", json!({"id": "12"})))
            .await?,
    )?;
    let images: Vec<&Value> = result["content"]
        .as_array()
        .map(|c| c.iter().filter(|item| item["type"] == "image").collect())
        .unwrap_or_default();
    Ok(json!({
        "isError": result["isError"],
        "images": images.iter().map(|i| &i["mimeType"]).collect::<Vec<_>>(),
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (what, mcp_url, cookie, redirect_uri) = match args.as_slice() {
        [_, what, url, cookie] => (what, url, cookie, REDIRECT_URI),
        [_, what, url, cookie, redirect] => (what, url, cookie, redirect.as_str()),
        _ => bail!("usage: rmcp-client tools|restore|snapshot MCP_URL COOKIE [REDIRECT_URI]"),
    };
    let http = sign_in(mcp_url, cookie, redirect_uri).await?;
    let transport = StreamableHttpClientTransport::with_client(
        http,
        StreamableHttpClientTransportConfig::with_uri(mcp_url.as_str()),
    );
    let client = Confirming::default()
        .serve_with_lifecycle(
            transport,
            ClientLifecycleMode::Auto {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                legacy_version: None,
            },
        )
        .await?;
    let mut out = match what.as_str() {
        "tools" => tools(&client).await?,
        "restore" => restore(&client).await?,
        "snapshot" => snapshot(&client).await?,
        other => bail!("unknown run {other}: tools, restore or snapshot"),
    };
    out["protocolVersion"] = json!(client
        .peer_info()
        .map(|p| p.protocol_version.as_str().to_string()));
    println!("{out}");
    client.cancel().await?;
    Ok(())
}
