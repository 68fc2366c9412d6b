//! Request / Response as plain data, the shape the JS shim hands over and takes back.

use futures::stream::LocalBoxStream;
use serde::Deserialize;

/// One HTTP request as Scrypted delivers it (docs/reference/scrypted-host.md §6.4), already turned
/// into plain data by the shim. Header names are lower-case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub method: String,
    /// Full path plus query, e.g. `/endpoint/scrypted-mcp/public/mcp?x=1`.
    pub url: String,
    /// `/endpoint/<pkg>` or `/endpoint/<pkg>/public`, no trailing slash.
    pub root_path: String,
    #[serde(default)]
    pub headers: Headers,
    /// Whatever Scrypted's body parser left (§6.2): a string, or absent.
    #[serde(default)]
    pub body: Option<String>,
    /// Scrypted's login name. Trusted only by `/authorize` and the Settings tab's address
    /// hint (`Plugin::handle`), never by the MCP endpoint.
    #[serde(default)]
    pub username: Option<String>,
    /// Empty for admins.
    #[serde(default)]
    pub acl_id: Option<String>,
}

/// The request headers the plugin reads, by name (lower case), and the `Mcp-Param-{Name}`
/// family by this prefix: the shim hands over only these (`WasmPlugin::headers_read`), so a
/// client's other headers are neither copied into the wasm nor parsed on every request (issue
/// 12). A header read anywhere must be listed: [`Request::header`] checks so in every debug
/// build, which is every test run.
pub const HEADERS_READ: [&str; 14] = [
    "accept",
    "access-control-request-headers",
    "authorization",
    "content-type",
    "host",
    "last-event-id",
    "mcp-method",
    "mcp-name",
    "mcp-protocol-version",
    "mcp-session-id",
    "origin",
    "sec-fetch-site",
    "x-forwarded-host",
    "x-forwarded-proto",
];
pub const HEADER_PREFIX_READ: &str = "mcp-param-";

/// A request's headers by lower-case name, in the order they came. A list, not a map: a
/// request carries the few that [`HEADERS_READ`] lets through, and a lookup compares by
/// length first, where a `BTreeMap`'s compared every key on its way as bytes (~800
/// instructions a lookup in the wasm, 13 lookups a request; issue 12). A name given twice
/// stays twice and reads as its last value, as the map kept it: reading a head stays linear
/// in its headers, where a check for the name on each one was quadratic in the
/// `mcp-param-*` headers the shim passes through, before the bearer check.
#[derive(Debug, Clone, Default)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets `name`'s value, as a map's `insert` does: the value it replaced, if any.
    pub fn insert(&mut self, name: String, value: String) -> Option<String> {
        let replaced = self.remove(&name);
        self.0.push((name, value));
        replaced
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let value = self.get(name).cloned();
        self.0.retain(|(n, _)| n != name);
        value
    }
}

impl FromIterator<(String, String)> for Headers {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Headers(pairs.into_iter().collect())
    }
}

/// A JSON object of strings; a name given twice keeps its last value, as a map did.
impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = Headers;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of header names to strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Headers, A::Error> {
                let mut headers = Headers::default();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    headers.0.push(pair);
                }
                Ok(headers)
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// Whether `name` (lower case) is a header the plugin reads ([`HEADERS_READ`]).
pub fn header_read(name: &str) -> bool {
    HEADERS_READ.contains(&name) || name.starts_with(HEADER_PREFIX_READ)
}

impl Request {
    /// Whether the client takes an SSE answer (`Accept` lists `text/event-stream`).
    pub fn accepts_event_stream(&self) -> bool {
        self.header("accept").is_some_and(|accept| {
            accept
                .split(',')
                .any(|t| t.split(';').next().unwrap_or("").trim() == "text/event-stream")
        })
    }

    /// The header `name`, matched case-insensitively (the map's names are lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let value = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            let lower = name.to_ascii_lowercase();
            debug_assert!(header_read(&lower), "{lower} is not in HEADERS_READ");
            self.headers.get(&lower)
        } else {
            // Our names are written in lower case: no copy per lookup.
            debug_assert!(header_read(name), "{name} is not in HEADERS_READ");
            self.headers.get(name)
        };
        value.map(String::as_str)
    }

    /// Whether Scrypted logged this request in as an admin: a user name and no ACL.
    pub fn from_scrypted_admin(&self) -> bool {
        self.username.as_deref().is_some_and(|u| !u.is_empty())
            && self.acl_id.as_deref().is_none_or(str::is_empty)
    }

    /// Path relative to `root_path`, without the query; always starts with `/`.
    pub fn local_path(&self) -> &str {
        // Found as bytes: a pattern of two chars decodes every char of the URL first
        // (issue 12), and an ASCII byte is never part of another character in UTF-8.
        let end = self.url.bytes().position(|b| b == b'?' || b == b'#');
        let path = &self.url[..end.unwrap_or(self.url.len())];
        let rest = path.strip_prefix(&self.root_path).unwrap_or(path);
        if rest.is_empty() {
            "/"
        } else {
            rest
        }
    }

    /// The query string without `?`, if any.
    pub fn query(&self) -> &str {
        match self.url.split_once('?') {
            Some((_, q)) => q.split('#').next().unwrap_or(""),
            None => "",
        }
    }
}

/// A response body: complete text, or an event stream the shim pulls chunk by chunk
/// and hands to `res.sendStream`.
pub enum Body {
    Text(String),
    Stream(LocalBoxStream<'static, String>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Text(t) => write!(f, "Text({t:?})"),
            Body::Stream(_) => write!(f, "Stream(..)"),
        }
    }
}

/// What a client going away means for the work behind an event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Disconnect {
    /// The work runs on to its end and what it would have sent is dropped (MCP up to
    /// 2025-11-25: disconnection is not cancellation).
    #[default]
    Finish,
    /// Closing the stream cancels the work: the stream is dropped with everything it
    /// holds (MCP 2026-07-28 requests and `subscriptions/listen` streams).
    Cancel,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Only meaningful for `Body::Stream`.
    pub on_disconnect: Disconnect,
}

/// The Content-Security-Policy of every page, without its `form-action`.
pub const PAGE_CSP_BASE: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Text(String::new()),
            on_disconnect: Disconnect::Finish,
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status)
            .header("content-type", "application/json")
            .text(json_text(value))
    }

    /// An HTML page, locked down (issue 8 item 16): no script, no framing, no referrer,
    /// no sniffing; its only style is the inline one `origin::page` writes. A page with a
    /// form widens `form-action` itself.
    pub fn html(status: u16, html: impl Into<String>) -> Self {
        Response::new(status)
            .header("content-type", "text/html; charset=utf-8")
            .header(
                "content-security-policy",
                format!("{PAGE_CSP_BASE}; form-action 'none'"),
            )
            .header("x-content-type-options", "nosniff")
            .header("referrer-policy", "no-referrer")
            .header("x-frame-options", "DENY")
            .text(html)
    }

    /// A JSON error body `{error, error_description}`, the OAuth shape, also used for
    /// plain 4xx answers so clients never get HTML where they expect JSON.
    pub fn error(status: u16, error: &str, description: &str) -> Self {
        Response::json(
            status,
            &serde_json::json!({ "error": error, "error_description": description }),
        )
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.body = Body::Text(text.into());
        self
    }

    /// An SSE answer. `X-Accel-Buffering: no` keeps reverse proxies such as nginx from
    /// holding events back (MCP transports spec, 2026-07-28 "Receiving Messages").
    pub fn event_stream(
        stream: LocalBoxStream<'static, String>,
        on_disconnect: Disconnect,
    ) -> Self {
        let mut response = Response::new(200)
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache")
            .header("x-accel-buffering", "no");
        response.body = Body::Stream(stream);
        response.on_disconnect = on_disconnect;
        response
    }

    pub fn get_header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text body; `None` for streams.
    pub fn body_text(&self) -> Option<&str> {
        match &self.body {
            Body::Text(t) => Some(t),
            Body::Stream(_) => None,
        }
    }

    pub fn body_json(&self) -> Option<serde_json::Value> {
        self.body_text().and_then(|t| serde_json::from_str(t).ok())
    }
}

/// A `Value` as JSON text, written straight into a byte buffer: `Value`'s `Display` (its
/// `to_string()`) writes the same text through `fmt`'s adapter, a dynamic call per piece,
/// which an answer of a few KB pays on every request (issue 12). It is also the only way
/// the wasm turns a `Value` into text: nothing formats one with `{}` or `to_string()`, so
/// `Display`'s own copy of the serializer (compact and pretty, through `fmt`) is not in the
/// wasm (−5 KB, docs/reference/wasm-toolchain.md "Size").
pub fn json_text(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages, digests and signatures that used `Value`'s `Display` write `json_text`
    /// now: the text must be the same, byte for byte (a pretty or key-sorted-differently
    /// `json_text` would change a request state's question digest, a signed token's parts
    /// and the error messages, and fails here).
    #[test]
    fn json_text_writes_what_display_wrote() {
        let values = [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(-7),
            serde_json::json!(u64::MAX),
            serde_json::json!(0.1),
            serde_json::json!(1e300),
            serde_json::json!(-0.0),
            serde_json::json!("quote \" slash \\ newline \n tab \t nul \u{0} bell \u{7} é 🦀"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!({"b": [1, {"c": null}], "a": "x", "": {"k": [true, 2.5]}}),
        ];
        for value in values {
            assert_eq!(json_text(&value), value.to_string(), "{value:?}");
        }
    }

    fn with_headers(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "POST".into(),
            url: "/mcp".into(),
            root_path: String::new(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: None,
            username: None,
            acl_id: None,
        }
    }

    #[test]
    fn a_header_is_found_by_its_name_in_any_case() {
        let req = with_headers(&[("mcp-protocol-version", "v"), ("mcp-param-region", "r")]);
        assert_eq!(req.header("mcp-protocol-version"), Some("v"));
        assert_eq!(req.header("MCP-Protocol-Version"), Some("v"));
        assert_eq!(req.header("Mcp-Param-Region"), Some("r"));
        assert_eq!(req.header("origin"), None);
        // The shim's list is in the map's case.
        assert!(HEADERS_READ.iter().all(|n| *n == n.to_ascii_lowercase()));
        assert_eq!(HEADER_PREFIX_READ, HEADER_PREFIX_READ.to_ascii_lowercase());
    }

    /// A header read without a place in the list the shim is given would never arrive
    /// from Scrypted: every test run stops at it.
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "user-agent is not in HEADERS_READ")]
    fn reading_an_unlisted_header_is_caught() {
        with_headers(&[("user-agent", "x")]).header("User-Agent");
    }

    /// The head's `headers` read as the `BTreeMap<String, String>` they were read as
    /// before: each name's last value, the same names, the same refusals.
    #[test]
    fn headers_read_from_a_head_as_a_map_of_strings() {
        let head = |headers: &str| {
            serde_json::from_str::<Request>(&format!(
                r#"{{"method":"POST","url":"/mcp","rootPath":"","headers":{headers}}}"#
            ))
        };
        for text in [
            r#"{}"#,
            r#"{"accept":"a","host":"h"}"#,
            r#"{"host":"h","accept":"a","host":"h2"}"#,
            r#"{"mcp-param-x":"","origin":"o\u0000"}"#,
        ] {
            let map: std::collections::BTreeMap<String, String> =
                serde_json::from_str(text).unwrap();
            let req = head(text).unwrap();
            for name in ["accept", "host", "mcp-param-x", "origin", "mcp-name"] {
                assert_eq!(req.headers.get(name), map.get(name), "{text}: {name}");
            }
            let mut names = req
                .headers
                .0
                .iter()
                .map(|(n, _)| n.clone())
                .collect::<Vec<_>>();
            names.sort();
            names.dedup();
            assert_eq!(names, map.keys().cloned().collect::<Vec<_>>(), "{text}");
        }
        for refused in [
            r#"{"host":1}"#,
            r#"["host"]"#,
            r#""host""#,
            r#"{"host":null}"#,
        ] {
            assert!(head(refused).is_err(), "{refused}");
        }
        assert!(
            head("null").is_err(),
            "no headers is an absent member, not null"
        );
    }

    #[test]
    fn local_path_is_the_path_under_the_root_without_query_or_fragment() {
        let at = |url: &str| {
            let mut req = with_headers(&[]);
            req.url = url.into();
            req.root_path = "/endpoint/p/public".into();
            req.local_path().to_string()
        };
        assert_eq!(at("/endpoint/p/public/mcp"), "/mcp");
        assert_eq!(at("/endpoint/p/public/mcp?a=1#f"), "/mcp");
        assert_eq!(at("/endpoint/p/public/mcp#f?a=1"), "/mcp");
        assert_eq!(at("/endpoint/p/public/é/漢?x"), "/é/漢");
        assert_eq!(at("/endpoint/p/public"), "/");
        assert_eq!(at("/endpoint/p/public?x"), "/");
        assert_eq!(at("/elsewhere/mcp?x"), "/elsewhere/mcp");
        assert_eq!(at(""), "/");
    }

    #[test]
    fn headers_insert_and_remove_as_a_map_does() {
        let mut h = Headers::default();
        assert_eq!(h.insert("a".into(), "1".into()), None);
        assert_eq!(h.insert("b".into(), "2".into()), None);
        assert_eq!(h.insert("a".into(), "3".into()), Some("1".into()));
        assert_eq!(h.get("a").map(String::as_str), Some("3"));
        assert_eq!(h.remove("a"), Some("3".into()));
        assert_eq!(h.remove("a"), None);
        assert_eq!(h.get("a"), None);
        assert_eq!(h.get("b").map(String::as_str), Some("2"));
        let collected: Headers = [("x", "1"), ("y", "2"), ("x", "3")]
            .into_iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(collected.get("x").map(String::as_str), Some("3"));
        assert_eq!(collected.get("y").map(String::as_str), Some("2"));
        let mut h = collected;
        assert_eq!(h.insert("x".into(), "4".into()), Some("3".into()));
        assert_eq!(h.get("x").map(String::as_str), Some("4"));
        assert_eq!(h.remove("x"), Some("4".into()));
        assert_eq!(h.get("x"), None, "a name given twice is removed whole");
    }
}
