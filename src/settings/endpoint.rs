//! The Endpoint group: the MCP URL to copy, over HTTPS and over HTTP.
//!
//! Scrypted's own local endpoint is `<scheme>://<SCRYPTED_IP_ADDRESS>:<port><path>`
//! (server/src/plugin/endpoint.ts:75-81). With no usable LAN address (only loopback,
//! link-local, CGNAT or test-range addresses: server/src/ip.ts) that component is
//! `undefined` and Scrypted's URL reads `http://undefined:11080/...` (docs/reference/scrypted-host.md §13). So the
//! URL is built here from the same parts, and without an IP address it falls back to the
//! host name the admin's own browser last reached us by (a request Scrypted logged in as an
//! admin, e.g. the sign-in page), else to this machine's own addresses, with a note.

use super::{described, readonly, Setting, GROUP_ENDPOINT, KEY_ENDPOINT_HTTP, KEY_ENDPOINT_HTTPS};
use crate::host::{HostResult, NetworkAddress, ServerPorts};
use crate::Ctx;
use serde_json::Value;

const HTTPS_HINT: &str = "For clients that accept Scrypted's own certificate. Log into Scrypted \
    over https in the browser that completes the sign-in: the login cookie is per scheme.";
const HTTP_HINT: &str = "For clients on this network (Claude Code, Cursor, VS Code, Codex); log \
    into Scrypted over http first. Cloud clients (claude.ai, ChatGPT) need a public HTTPS URL: \
    see the README.";

/// Where the URLs point, and why when it is not Scrypted's own LAN address.
struct Address {
    /// Host names, best first, each ready for a URL (IPv6 in brackets).
    hosts: Vec<String>,
    note: Option<String>,
}

pub(super) async fn endpoint_settings(ctx: &Ctx) -> Vec<Setting> {
    let (https, http, note) = match parts(ctx).await {
        Ok((ports, path, address)) => (
            urls("https", ports.secure, &path, &address.hosts),
            urls("http", ports.insecure, &path, &address.hosts),
            address.note,
        ),
        Err(e) => {
            let unavailable = vec![format!("unavailable: {e}")];
            (unavailable.clone(), unavailable, None)
        }
    };
    vec![
        setting(
            KEY_ENDPOINT_HTTPS,
            "MCP URL (HTTPS)",
            https,
            HTTPS_HINT,
            &note,
        ),
        setting(KEY_ENDPOINT_HTTP, "MCP URL (HTTP)", http, HTTP_HINT, &note),
    ]
}

/// The first URL is the value; others are named in the description.
fn setting(
    key: &str,
    title: &str,
    urls: Vec<String>,
    hint: &str,
    note: &Option<String>,
) -> Setting {
    let mut description = hint.to_string();
    if let Some(note) = note {
        description = format!("{note} {description}");
    }
    if urls.len() > 1 {
        description = format!(
            "{description} Other addresses of this machine: {}.",
            urls[1..].join(", ")
        );
    }
    let value = urls.into_iter().next().unwrap_or_default();
    described(
        readonly(GROUP_ENDPOINT, key, title, Value::String(value)),
        &description,
    )
}

async fn parts(ctx: &Ctx) -> HostResult<(ServerPorts, String, Address)> {
    let path = ctx.host.endpoint_path().await?;
    let ports = ctx.host.server_ports().await?;
    let address = match ctx.host.ip_address().await {
        Ok(Some(ip)) => Address {
            hosts: vec![url_host(&ip)],
            note: None,
        },
        Ok(None) => {
            fallback(
                ctx,
                "Scrypted found no usable LAN address (SCRYPTED_IP_ADDRESS is \
             unset: it skips loopback, link-local, CGNAT and test-range addresses)",
            )
            .await
        }
        Err(e) => {
            fallback(
                ctx,
                &format!(
                    "Scrypted did not say its LAN address \
             (SCRYPTED_IP_ADDRESS: {e})"
                ),
            )
            .await
        }
    };
    Ok((ports, path, address))
}

async fn fallback(ctx: &Ctx, why: &str) -> Address {
    let last = ctx.last_request_host.borrow().clone();
    // Not fatal: without them the last request's address may still do.
    let own: Vec<String> = match ctx.host.network_addresses().await {
        Ok(list) => usable(list),
        Err(_) => Vec::new(),
    };
    let (hosts, shown) = match last {
        Some(host) => {
            let shown = format!("the address your browser last reached this plugin by ({host})");
            let others: Vec<String> = own.into_iter().filter(|h| *h != host).collect();
            (std::iter::once(host).chain(others).collect(), shown)
        }
        None if !own.is_empty() => (own, "this machine's own address".to_string()),
        None => (Vec::new(), String::new()),
    };
    let note = if hosts.is_empty() {
        format!("{why}, and this machine reports no other address: use the address you reach Scrypted by.")
    } else {
        format!("{why}; shown is {shown}.")
    };
    Address {
        hosts,
        note: Some(note),
    }
}

/// This machine's addresses a client elsewhere could use: not loopback, not link-local
/// (169.254/16, fe80::/10); IPv4 first, as Scrypted orders them.
fn usable(list: Vec<NetworkAddress>) -> Vec<String> {
    let mut ipv4 = Vec::new();
    let mut ipv6 = Vec::new();
    for a in list.into_iter().filter(|a| !a.internal) {
        let Ok(ip) = a.address.parse::<std::net::IpAddr>() else {
            continue;
        };
        let link_local = match ip {
            std::net::IpAddr::V4(v4) => v4.is_link_local() || v4.is_loopback(),
            std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80 || v6.is_loopback(),
        };
        if link_local {
            continue;
        }
        let host = url_host(&a.address);
        let list = if ip.is_ipv4() { &mut ipv4 } else { &mut ipv6 };
        if !list.contains(&host) {
            list.push(host);
        }
    }
    ipv4.extend(ipv6);
    ipv4
}

/// An address as a URL's host: IPv6 in brackets (endpoint.ts `getUrlSafeIp`).
fn url_host(address: &str) -> String {
    if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]")
    } else {
        address.to_string()
    }
}

/// `<scheme>://<host>:<port><path>mcp` for each host; "unavailable: ..." when there is none.
fn urls(scheme: &str, port: u16, path: &str, hosts: &[String]) -> Vec<String> {
    let path = format!("/{}/", path.trim_matches('/'));
    if hosts.is_empty() {
        return vec!["unavailable: no address of this server is known".to_string()];
    }
    hosts
        .iter()
        .map(|h| format!("{scheme}://{h}:{port}{path}mcp"))
        .collect()
}
