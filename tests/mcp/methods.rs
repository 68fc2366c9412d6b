//! The methods: logging, tools/list paging and the catalogue, tools/call results and
//! their audit entries, restore_backup's elicitation, resources, prompts and completions,
//! ping.

use super::*;

#[test]
fn logging_set_level_validates_the_level() {
    let s = server();
    let c = s.session(V11, json!({}));
    assert_eq!(
        c.call(1, "logging/setLevel", json!({"level": "debug"}))
            .result(),
        json!({})
    );
    assert_eq!(
        c.call(2, "logging/setLevel", json!({"level": "loud"}))
            .error_code(),
        -32602
    );
    assert_eq!(
        c.call(3, "logging/setLevel", json!({})).error_code(),
        -32602
    );
}

#[test]
fn tools_list_fits_one_page_and_refuses_foreign_cursors() {
    let s = server();
    let c = s.session(V11, json!({}));
    let result = c.call(1, "tools/list", json!({})).result();
    assert!(result.get("resultType").is_none());
    // Clients that ignore nextCursor must still see every tool.
    assert!(result.get("nextCursor").is_none(), "{result}");
    let tools = result["tools"].as_array().unwrap();
    let mut names = Vec::new();
    for tool in tools {
        assert!(
            tool["name"].is_string() && tool["description"].is_string(),
            "{tool}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        names.push(tool["name"].as_str().unwrap().to_string());
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicate tool names");
    for name in common::CATALOGUE_TOOLS {
        assert!(
            names.iter().any(|n| n == name),
            "{name} not on the first page"
        );
    }
    #[cfg(not(feature = "conformance-fixtures"))]
    assert_eq!(
        names.len(),
        common::CATALOGUE_TOOLS.len(),
        "exactly the catalogue: {names:?}"
    );
    for cursor in ["not-a-cursor", "cGFnZTE6MA", ""] {
        let reply = c.call(2, "tools/list", json!({ "cursor": cursor }));
        assert_eq!(reply.error_code(), -32602, "{cursor}");
    }
}

#[test]
fn catalogue_tools_are_listed_as_defined() {
    let s = server();
    let c = s.session(V11, json!({}));
    let listed = all_tools(&c);
    for def in scrypted_mcp::tools::catalogue() {
        let tool = listed
            .iter()
            .find(|t| t["name"] == def.name)
            .unwrap_or_else(|| panic!("{} not listed", def.name));
        assert_eq!(tool["title"], def.title);
        assert_eq!(
            tool["description"],
            format!(
                "{} Needs OAuth scope {}.",
                def.description,
                def.scope.name()
            )
        );
        // What schemars generates from the tool's types (served from schemas.jsonl).
        assert_eq!(tool["inputSchema"], Value::Object((def.input)()));
        assert_eq!(tool["outputSchema"], Value::Object((def.output)()));
        let a = &tool["annotations"];
        assert_eq!(a["title"], def.title);
        assert_eq!(a["readOnlyHint"], def.hints.read_only, "{}", def.name);
        assert_eq!(a["destructiveHint"], def.hints.destructive, "{}", def.name);
        assert_eq!(a["idempotentHint"], def.hints.idempotent, "{}", def.name);
        assert_eq!(a["openWorldHint"], def.hints.open_world, "{}", def.name);
    }
}

#[test]
fn a_catalogue_tool_answers_structured_content_mirrored_as_text() {
    let s = server();
    let c = s.session(V11, json!({}));
    let result = c
        .call(
            1,
            "tools/call",
            json!({"name": "get_server_info", "arguments": {}}),
        )
        .result();
    assert_ne!(result["isError"], true, "{result}");
    let structured = &result["structuredContent"];
    assert!(structured.is_object(), "{result}");
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&text, structured);
    assert!(result.get("resultType").is_none());
    let entry = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
    assert_eq!(
        (entry.tool.as_str(), entry.outcome.as_str()),
        ("get_server_info", "ok")
    );
    assert_eq!(entry.elicitation, None);
    let hash_with_empty_arguments = entry.args_hash.clone();

    // 2025-03-26 has no structuredContent: the text block carries the same JSON.
    let old = s.session(V03, json!({}));
    let result = old
        .call(1, "tools/call", json!({"name": "get_server_info"}))
        .result();
    assert!(result.get("structuredContent").is_none());
    let old_text: Value =
        serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(&old_text, structured);
    // Omitted arguments are audited as the empty object they mean.
    assert_eq!(
        scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0].args_hash,
        hash_with_empty_arguments
    );
}

/// restore_backup in one chunk: the real tool that asks the user through elicitation.
fn restore_call(id: i64) -> Value {
    let zip = common::fake::backups::backup_of(&[7u8; 500]);
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "restore_backup", "arguments": {
        "confirm": "RESTORE FROM BACKUP",
        "chunk_base64": scrypted_mcp::crypto::b64(&zip),
        "chunk_index": 0,
        "total_chunks": 1,
        "sha256": scrypted_mcp::crypto::sha256_hex(&zip),
    }}})
}

fn next_event(stream: &mut futures::stream::LocalBoxStream<'static, String>) -> Option<Value> {
    next_message(stream).map(|(_, message)| message)
}

#[test]
fn restore_backup_asks_the_user_through_elicitation() {
    let s = server();
    let c = s.session(V11, json!({"elicitation": {}}));
    let mut stream = open_stream(&c, &restore_call(1));
    let ask = next_event(&mut stream).unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    assert_eq!(ask["params"]["mode"], "form");
    let decision = &ask["params"]["requestedSchema"]["properties"]["decision"];
    assert_eq!(decision["enum"][0], "RESTORE", "{ask}");
    let answer = json!({"jsonrpc": "2.0", "id": ask["id"], "result": {"action": "accept", "content": {"decision": "RESTORE"}}});
    assert_eq!(c.post(answer).status, 202);
    let done = next_event(&mut stream).unwrap();
    assert_eq!(done["id"], 1);
    assert_eq!(
        done["result"]["structuredContent"]["status"], "scheduled",
        "{done}"
    );
    assert!(next_event(&mut stream).is_none());
    let entry = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
    assert_eq!(
        (entry.tool.as_str(), entry.outcome.as_str()),
        ("restore_backup", "ok")
    );
    assert_eq!(entry.elicitation.as_deref(), Some("accept"));

    for (answer, audited) in [
        (json!({"action": "decline"}), "decline"),
        (json!({"action": "cancel"}), "cancel"),
    ] {
        let mut stream = open_stream(&c, &restore_call(2));
        let ask = next_event(&mut stream).unwrap();
        c.post(json!({"jsonrpc": "2.0", "id": ask["id"], "result": answer}));
        let done = next_event(&mut stream).unwrap();
        assert_eq!(done["result"]["isError"], true, "{done}");
        let entry = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
        assert_eq!(
            (entry.outcome.as_str(), entry.elicitation.as_deref()),
            ("refused", Some(audited))
        );
    }

    // A client without the capability is refused at once, as plain JSON.
    let plain = s.session(V11, json!({}));
    let reply = plain.post(restore_call(3));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.result()["isError"], true);
    let entry = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
    assert_eq!(
        (entry.outcome.as_str(), entry.elicitation.as_deref()),
        ("refused", Some("unsupported"))
    );
}

/// 2025-11-25 transports: "the server SHOULD immediately send an SSE event consisting of
/// an event ID and an empty data field"; earlier revisions do not define it.
#[test]
fn sse_streams_are_primed_from_2025_11_25_only() {
    let s = server();
    let c = s.session(V11, json!({"elicitation": {}}));
    let mut stream = open_stream(&c, &restore_call(1));
    let first = block_on(stream.next()).unwrap();
    let (prime_id, message) = parse_event(&first);
    assert!(message.is_null(), "{first:?}");
    assert_eq!(first, format!("id: {prime_id}\ndata: \n\n"));
    let (ask_id, ask) = next_message(&mut stream).unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    // A POST's stream marks its ids as its own (a GET resuming it is refused, `transport`).
    let number = |id: &str| id.strip_prefix("post-").unwrap().parse::<u64>().unwrap();
    assert!(
        number(&ask_id) > number(&prime_id),
        "ids stay unique across the priming event"
    );

    let old = s.session(V06, json!({"elicitation": {}}));
    let mut stream = open_stream(&old, &restore_call(1));
    let (_, first) = parse_event(&block_on(stream.next()).unwrap());
    assert_eq!(
        first["method"], "elicitation/create",
        "no priming before 2025-11-25"
    );
}

/// Clients are untrusted: one malformed capability entry must not hide the well-formed
/// ones (elicitation decides whether restore_backup can ask the user at all).
#[test]
fn a_malformed_capability_does_not_hide_elicitation() {
    let s = server();
    let c = s.session(
        V11,
        json!({"elicitation": {}, "experimental": 5, "roots": "yes"}),
    );
    let mut stream = open_stream(&c, &restore_call(1));
    assert_eq!(
        next_event(&mut stream).unwrap()["method"],
        "elicitation/create"
    );
}

#[test]
fn unknown_tool_is_invalid_params_and_audited() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.call(
        1,
        "tools/call",
        json!({"name": "no_such_tool", "arguments": {"b": 1, "a": 2}}),
    );
    assert_eq!(reply.error_code(), -32602);
    assert!(reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no_such_tool"));
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 10);
    let entry = &trail[0];
    assert_eq!(entry.tool, "no_such_tool");
    assert_eq!(entry.outcome, "invalid_params");
    assert_eq!(entry.user, "admin");
    assert_eq!(entry.client_id, c.client_id);
    assert_eq!(entry.elicitation, None);
    // The hash is of the arguments, whatever order the client wrote them in.
    let hash_of = |id: i64, arguments: &str| {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"no_such_tool","arguments":{arguments}}}}}"#
        );
        assert_eq!(read(c.post_raw(&body)).error_code(), -32602);
        scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0]
            .args_hash
            .clone()
    };
    let sent_b_first = hash_of(3, r#"{"b":1,"a":2}"#);
    assert_eq!(hash_of(4, r#"{"a":2,"b":1}"#), sent_b_first);
    assert_eq!(entry.args_hash, sent_b_first);
    assert_ne!(hash_of(5, r#"{"a":2,"b":2}"#), sent_b_first);
    // Arguments that are not an object are invalid params too.
    let reply = c.call(
        2,
        "tools/call",
        json!({"name": "no_such_tool", "arguments": "x"}),
    );
    assert_eq!(reply.error_code(), -32602);
}

#[test]
fn audit_resource_lists_recent_calls() {
    let s = server();
    let c = s.session(V11, json!({}));
    c.call(1, "tools/call", json!({"name": "missing_tool"}));
    let list = c.call(2, "resources/list", json!({})).result();
    let audit = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["uri"] == "scrypted-mcp://audit/recent")
        .unwrap()
        .clone();
    assert_eq!(audit["mimeType"], "application/json");
    assert!(audit["name"].is_string());
    let read = c
        .call(
            3,
            "resources/read",
            json!({"uri": "scrypted-mcp://audit/recent"}),
        )
        .result();
    let contents = &read["contents"][0];
    assert_eq!(contents["mimeType"], "application/json");
    let entries: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(entries[0]["tool"], "missing_tool");
    let reply = c.call(
        4,
        "resources/read",
        json!({"uri": "scrypted-mcp://nothing"}),
    );
    assert_eq!(reply.error_code(), -32002);
    #[cfg(not(feature = "conformance-fixtures"))]
    assert_eq!(
        c.call(5, "resources/templates/list", json!({})).result()["resourceTemplates"][0]
            ["uriTemplate"],
        "scrypted://devices/{id}",
    );
    assert_eq!(
        c.call(6, "resources/list", json!({"cursor": "zz"}))
            .error_code(),
        -32602
    );
}

#[test]
fn the_audit_prompt_embeds_the_trail_and_template_completion_is_empty() {
    let s = server();
    let c = s.session(V11, json!({}));
    let review = c
        .call(
            5,
            "prompts/get",
            json!({"name": "review_recent_tool_calls"}),
        )
        .result();
    assert_eq!(review["messages"][0]["content"]["type"], "resource");
    assert_eq!(
        review["messages"][0]["content"]["resource"]["uri"],
        "scrypted-mcp://audit/recent"
    );
    assert_eq!(
        c.call(4, "prompts/get", json!({"name": "nope"}))
            .error_code(),
        -32602
    );
    let reply = c.call(8, "completion/complete", json!({"ref": {"type": "ref/resource", "uri": "scrypted-mcp://x/{id}"}, "argument": {"name": "id", "value": ""}}));
    assert_eq!(reply.result()["completion"]["values"], json!([]));
}

#[test]
fn ping_answers_empty_object_as_json() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.call(7, "ping", json!({}));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json.unwrap(),
        json!({"jsonrpc": "2.0", "id": 7, "result": {}})
    );
    let reply = c.post(json!({"jsonrpc": "2.0", "id": "str-id", "method": "ping"}));
    assert_eq!(reply.response()["id"], "str-id");
}

/// server/tools "Error Handling": from 2025-11-25 on, input validation errors are tool
/// execution errors (`isError`, the message for the model to correct its call); 2025-06-18
/// lists "Invalid arguments" among protocol errors (-32602). An unknown tool is a protocol
/// error in both.
#[test]
fn refused_arguments_are_a_tool_error_from_2025_11_25_and_a_protocol_error_before() {
    let s = server();
    let missing = json!({"name": "npm_info", "arguments": {}});
    let unknown = json!({"name": "no_such_tool", "arguments": {}});

    let old = s.session(V06, json!({}));
    let reply = old.call(1, "tools/call", missing.clone());
    assert_eq!(reply.error_code(), -32602, "{:?}", reply.response());
    assert!(reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("endpoint"));

    let new = s.session(V11, json!({}));
    let result = new.call(2, "tools/call", missing).result();
    assert_eq!(result["isError"], true, "{result}");
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("endpoint"),
        "{result}"
    );
    assert_eq!(new.call(3, "tools/call", unknown).error_code(), -32602);

    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 5);
    let refused: Vec<_> = trail.iter().filter(|e| e.tool == "npm_info").collect();
    assert_eq!(refused.len(), 2);
    assert!(
        refused.iter().all(|e| e.outcome == "invalid_params"),
        "{trail:?}"
    );
    assert!(!s.host.called("npmInfo"));
}
