//! The outside network as `host.js` reaches it with Node's own clients (`resolveHost`,
//! `httpsGet`): names resolve to what a test put in `dns` (IP literals to themselves), and
//! `https://` URLs answer what a test put in `web`. What crosses is what host.js returns:
//! the addresses, or `{status, cacheControl, contentType, body}`; Node's errors are local
//! (they do not cross Scrypted's RPC, so they carry no peer route).

use super::*;

/// One page of the fake web.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub cache_control: Option<String>,
    pub body: String,
}

impl Page {
    /// A 200 JSON answer.
    pub fn json(body: &Value) -> Page {
        Page {
            status: 200,
            cache_control: None,
            body: body.to_string(),
        }
    }
}

impl FakeBridge {
    pub(super) fn net_call(&self, method: &str, a: &Value) -> Answer {
        match method {
            "resolveHost" => {
                let host = text(a, "host")?;
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                let addresses = match bare.parse::<std::net::IpAddr>() {
                    Ok(ip) => vec![ip.to_string()],
                    Err(_) => self
                        .dns
                        .borrow()
                        .get(&host)
                        .cloned()
                        .ok_or_else(|| Fail::Local(format!("getaddrinfo ENOTFOUND {host}")))?,
                };
                Ok(json!(addresses
                    .iter()
                    .map(|address| {
                        let family = if address.contains(':') { 6 } else { 4 };
                        json!({"address": address, "family": family})
                    })
                    .collect::<Vec<_>>()))
            }
            "httpsGet" => {
                let url = text(a, "url")?;
                let address = text(a, "address")?;
                let max = a["maxBytes"].as_u64().unwrap_or(0) as usize;
                let Some(page) = self.web.borrow().get(&url).cloned() else {
                    let port = url::Url::parse(&url)
                        .ok()
                        .and_then(|u| u.port_or_known_default())
                        .unwrap_or(443);
                    return Err(Fail::Local(format!(
                        "connect ECONNREFUSED {address}:{port}"
                    )));
                };
                if page.body.len() > max {
                    return Err(Fail::Local(format!(
                        "the answer is larger than {max} bytes"
                    )));
                }
                Ok(json!({
                    "status": page.status,
                    "cacheControl": page.cache_control,
                    "contentType": "application/json",
                    "body": page.body,
                }))
            }
            _ => Err(Fail::Local(format!("unknown host capability: {method}"))),
        }
    }
}
