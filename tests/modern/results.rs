//! What 2026-07-28 results look like: `server/discover`, `resultType` and our identity
//! on every result, caching hints with values that are true, the catalogue's order, the
//! renumbered "resource not found" — and that legacy sessions see none of it.

use super::*;

const AUDIT: &str = "scrypted-mcp://audit/recent";
const HOUR_MS: u64 = 3_600_000;

fn legacy_session(s: &Server) -> String {
    flow::open_session(&s.plugin, HOST, &s.token, "legacy-client")
}

fn legacy_rpc(s: &Server, session: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params});
    let reply = read(flow::rpc(&s.plugin, HOST, &s.token, Some(session), body));
    reply.response()
}

#[test]
fn discover_answers_versions_capabilities_and_identity() {
    let s = server();
    let reply = s.post(&rpc("server/discover", json!({})).id(json!("discover-1")));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.response()["id"], "discover-1");
    let r = reply.result();
    assert_eq!(r["resultType"], "complete");
    assert_eq!(
        r["supportedVersions"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    let caps = &r["capabilities"];
    for capability in ["tools", "resources", "prompts", "completions"] {
        assert!(caps[capability].is_object(), "{capability}: {caps}");
    }
    // The audit resource changes with every call: subscribable on a listen stream.
    assert_eq!(caps["resources"]["subscribe"], true);
    assert!(
        caps.get("tasks").is_none(),
        "tasks is an extension, never top-level"
    );
    let info = &r["_meta"]["io.modelcontextprotocol/serverInfo"];
    assert_eq!(info["name"], "scrypted-mcp");
    assert!(info["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(r["instructions"]
        .as_str()
        .is_some_and(|i| i.contains("Scrypted")));
    // Versions and capabilities change only with a plugin update, the same for everyone.
    assert_eq!(
        (r["ttlMs"].as_u64(), &r["cacheScope"]),
        (Some(HOUR_MS), &json!("public"))
    );
}

#[test]
fn every_result_is_complete_and_names_the_server() {
    let s = server();
    for (method, params) in [
        ("tools/list", json!({})),
        (
            "tools/call",
            json!({"name": "get_server_info", "arguments": {}}),
        ),
        ("resources/list", json!({})),
        ("resources/templates/list", json!({})),
        ("resources/read", json!({"uri": AUDIT})),
        ("prompts/list", json!({})),
        ("prompts/get", json!({"name": "health_report"})),
        (
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "health_report"},
                   "argument": {"name": "focus", "value": "p"}}),
        ),
    ] {
        let r = s.post(&rpc(method, params)).result();
        assert_eq!(r["resultType"], "complete", "{method}: {r}");
        assert_eq!(
            r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "scrypted-mcp",
            "{method}"
        );
    }
}

#[test]
fn cache_hints_say_what_is_true() {
    let s = server();
    // The lists change only with a plugin update and are the same for every user.
    for method in [
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
    ] {
        let r = s.post(&rpc(method, json!({}))).result();
        assert_eq!(r["ttlMs"].as_u64(), Some(HOUR_MS), "{method}");
        assert_eq!(r["cacheScope"], "public", "{method}");
    }
    // The audit trail changes with every call and names users and clients.
    let r = s
        .post(&rpc("resources/read", json!({"uri": AUDIT})))
        .result();
    assert_eq!(
        (r["ttlMs"].as_u64(), &r["cacheScope"]),
        (Some(0), &json!("private"))
    );
    // No hints where none belong.
    let r = s.post(&rpc(
        "tools/call",
        json!({"name": "get_server_info", "arguments": {}}),
    ));
    assert!(r.result().get("ttlMs").is_none());
}

#[test]
fn legacy_sessions_get_the_shapes_they_know() {
    let s = server();
    let session = legacy_session(&s);
    for (method, params) in [
        ("tools/list", json!({})),
        ("resources/list", json!({})),
        ("resources/read", json!({"uri": AUDIT})),
        ("prompts/list", json!({})),
        (
            "tools/call",
            json!({"name": "get_server_info", "arguments": {}}),
        ),
    ] {
        let r = &legacy_rpc(&s, &session, method, params)["result"];
        for field in ["resultType", "ttlMs", "cacheScope", "_meta"] {
            assert!(r.get(field).is_none(), "{method} has {field}: {r}");
        }
    }
    // server/discover and subscriptions/listen are not methods of the legacy revisions.
    for method in ["server/discover", "subscriptions/listen"] {
        let r = legacy_rpc(&s, &session, method, json!({}));
        assert_eq!(r["error"]["code"], -32601, "{method}");
    }
}

#[test]
fn tools_are_listed_in_the_catalogue_order_every_time() {
    let s = server();
    let names = |r: Value| -> Vec<String> {
        r["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    };
    let first = names(s.post(&rpc("tools/list", json!({}))).result());
    let second = names(s.post(&rpc("tools/list", json!({}))).result());
    assert_eq!(first, second);
    // The catalogue order, not alphabetical: a client trying "the first tool"
    // gets the read-only list_plugins, never add_user.
    assert_eq!(
        &first[..common::CATALOGUE_TOOLS.len()],
        &common::CATALOGUE_TOOLS[..]
    );
}

#[test]
fn a_missing_resource_is_invalid_params_in_2026_only() {
    let s = server();
    let uri = "scrypted-mcp://nowhere";
    let reply = s.post(&rpc("resources/read", json!({"uri": uri})).id(json!(16)));
    assert_rejected(&reply, 200, -32602, json!(16));
    assert_eq!(reply.response()["error"]["data"]["uri"], uri);
    let session = legacy_session(&s);
    let legacy = legacy_rpc(&s, &session, "resources/read", json!({"uri": uri}));
    assert_eq!(legacy["error"]["code"], -32002);
}

#[test]
fn every_listed_tool_has_valid_header_annotations() {
    let s = server();
    let tools = s.post(&rpc("tools/list", json!({}))).result()["tools"].clone();
    for tool in tools.as_array().unwrap() {
        let schema = tool["inputSchema"].as_object().unwrap();
        let found = scrypted_mcp::mcp::headers::annotations(schema)
            .unwrap_or_else(|e| panic!("{}: {e}", tool["name"]));
        // Every annotation sits on a `properties` chain from the root, none elsewhere.
        let written = tool["inputSchema"]
            .to_string()
            .matches("\"x-mcp-header\"")
            .count();
        assert_eq!(found.len(), written, "{}", tool["name"]);
    }
}
