//! Streams, elicitation, progress, cancellation: these need the conformance fixture tools
//! (`cargo test --features conformance-fixtures --test mcp`).

use super::*;
use futures::stream::LocalBoxStream;

fn elicit_caps() -> Value {
    json!({"elicitation": {"form": {}}, "sampling": {}})
}

fn open(c: &Client<'_>, message: Value) -> LocalBoxStream<'static, String> {
    open_stream(c, &message)
}

fn next(stream: &mut LocalBoxStream<'static, String>) -> Option<(String, Value)> {
    next_message(stream)
}

fn call_tool(id: i64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name, "arguments": arguments}})
}

/// A call that waits for the client: test_elicitation asks first.
fn waiting_call(id: i64) -> Value {
    call_tool(id, "test_elicitation", json!({"message": "m"}))
}

/// A waiting call's stream, and the question it asked the client.
fn asked(c: &Client<'_>, id: i64) -> (LocalBoxStream<'static, String>, Value) {
    let mut stream = open(c, waiting_call(id));
    let (_, request) = next(&mut stream).unwrap();
    assert_eq!(request["method"], "elicitation/create");
    (stream, request)
}

#[test]
fn fixture_catalogue_is_listed() {
    let s = server();
    let c = s.session(V11, json!({}));
    let all = all_tools(&c);
    let json_schema = all
        .iter()
        .find(|t| t["name"] == "json_schema_2020_12_tool")
        .unwrap();
    assert_eq!(
        json_schema["inputSchema"]["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        json_schema["inputSchema"]["$defs"]["address"]["type"],
        "object"
    );
    assert_eq!(json_schema["inputSchema"]["additionalProperties"], false);
    for name in [
        "test_simple_text",
        "test_elicitation",
        "test_tool_with_progress",
        "test_sampling",
    ] {
        assert!(all.iter().any(|t| t["name"] == name), "{name}");
    }
}

#[test]
fn content_fixtures_have_exact_payloads() {
    let s = server();
    let c = s.session(V11, json!({}));
    let r = c.post(call_tool(1, "test_simple_text", json!({}))).result();
    assert_eq!(
        r["content"],
        json!([{"type": "text", "text": "This is a simple text response for testing."}])
    );
    assert!(r.get("structuredContent").is_none() && r.get("resultType").is_none());
    let r = c
        .post(call_tool(2, "test_image_content", json!({})))
        .result();
    assert_eq!(r["content"][0]["type"], "image");
    assert_eq!(r["content"][0]["mimeType"], "image/png");
    let r = c
        .post(call_tool(3, "test_audio_content", json!({})))
        .result();
    assert_eq!(r["content"][0]["mimeType"], "audio/wav");
    let r = c
        .post(call_tool(4, "test_embedded_resource", json!({})))
        .result();
    assert_eq!(
        r["content"][0],
        json!({"type": "resource", "resource": {"uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}})
    );
    let r = c
        .post(call_tool(5, "test_multiple_content_types", json!({})))
        .result();
    let types: Vec<&str> = r["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["text", "image", "resource"]);
    assert_eq!(
        r["content"][2]["resource"]["text"],
        r#"{"test":"data","value":123}"#
    );
    let r = c
        .post(call_tool(6, "test_error_handling", json!({})))
        .result();
    assert_eq!(r["isError"], true);
    assert_eq!(
        r["content"][0]["text"],
        "This tool intentionally returns an error for testing"
    );
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(
        (trail[0].tool.as_str(), trail[0].outcome.as_str()),
        ("test_error_handling", "error")
    );

    let r = c
        .call(
            7,
            "resources/read",
            json!({"uri": "test://template/123/data"}),
        )
        .result();
    let body: Value = serde_json::from_str(r["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(body["id"], "123");
    assert_eq!(r["contents"][0]["mimeType"], "application/json");
    let r = c
        .call(8, "resources/read", json!({"uri": "test://static-binary"}))
        .result();
    assert_eq!(r["contents"][0]["mimeType"], "image/png");
    assert!(r["contents"][0]["blob"].is_string());
    assert_eq!(
        c.call(
            9,
            "resources/subscribe",
            json!({"uri": "test://watched-resource"})
        )
        .result(),
        json!({})
    );
    assert_eq!(
        c.call(
            10,
            "resources/unsubscribe",
            json!({"uri": "test://watched-resource"})
        )
        .result(),
        json!({})
    );
    let r = c
        .call(
            11,
            "prompts/get",
            json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}}),
        )
        .result();
    assert_eq!(
        r["messages"][0]["content"]["text"],
        "Prompt with arguments: arg1='a', arg2='b'"
    );
    assert_eq!(
        c.call(
            12,
            "prompts/get",
            json!({"name": "test_prompt_with_arguments"})
        )
        .error_code(),
        -32602
    );
    let r = c
        .call(13, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "argument": {"name": "arg1", "value": ""}}))
        .result();
    // Free-text arguments have nothing to enumerate.
    assert_eq!(r["completion"]["values"], json!([]));
}

#[test]
fn notifications_stream_before_the_response_with_unique_ids() {
    let s = server();
    let c = s.session(V11, json!({}));
    c.call(1, "logging/setLevel", json!({"level": "debug"}));
    let reply = c.post(call_tool(2, "test_tool_with_logging", json!({})));
    assert_eq!(reply.header("content-type"), Some("text/event-stream"));
    let logs = reply.notifications("notifications/message");
    let data: Vec<&str> = logs
        .iter()
        .map(|l| l["params"]["data"].as_str().unwrap())
        .collect();
    assert_eq!(
        data,
        [
            "Tool execution started",
            "Tool processing data",
            "Tool execution completed"
        ]
    );
    assert!(logs.iter().all(|l| l["params"]["level"] == "info"));
    let last = reply.events.last().unwrap();
    assert_eq!(last.1["id"], 2, "the response comes last");
    let again = c.post(call_tool(3, "test_tool_with_logging", json!({})));
    let mut ids: Vec<u64> = reply
        .events
        .iter()
        .chain(&again.events)
        .map(|(id, _)| id.strip_prefix("post-").unwrap().parse().unwrap())
        .collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // Above the session's level nothing is sent: the answer is plain JSON.
    c.call(4, "logging/setLevel", json!({"level": "error"}));
    let quiet = c.post(call_tool(5, "test_tool_with_logging", json!({})));
    assert_eq!(quiet.header("content-type"), Some("application/json"));
    // A client that takes only JSON gets JSON, without the notifications.
    let mut json_only = s.session(V11, json!({}));
    json_only.accept = "application/json";
    let reply = json_only.post(call_tool(1, "test_tool_with_logging", json!({})));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.result()["content"][0]["text"],
        "Tool with logging executed successfully"
    );
}

#[test]
fn progress_follows_the_request_token() {
    let s = server();
    let c = s.session(V11, json!({}));
    let reply = c.post(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "progress-test-1"}}}));
    let progress = reply.notifications("notifications/progress");
    let values: Vec<f64> = progress
        .iter()
        .map(|p| p["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(values, [0.0, 50.0, 100.0]);
    assert!(progress.iter().all(
        |p| p["params"]["progressToken"] == "progress-test-1" && p["params"]["total"] == 100.0
    ));
    assert_eq!(reply.result()["content"][0]["text"], "progress-test-1");
    // Without a token: no progress, so a plain JSON answer.
    let reply = c.post(call_tool(2, "test_tool_with_progress", json!({})));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    // An integer token is echoed as an integer.
    let reply = c.post(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "test_tool_with_progress", "_meta": {"progressToken": 7}}}));
    assert_eq!(
        reply.notifications("notifications/progress")[0]["params"]["progressToken"],
        7
    );
}

/// Calls test_elicitation, answers the elicitation with `answer`, returns the tool's
/// text and the elicitation request the client saw.
fn elicit_round(c: &Client<'_>, answer: Value) -> (String, Value) {
    let mut stream = open(
        c,
        call_tool(10, "test_elicitation", json!({"message": "Who are you?"})),
    );
    let (_, request) = next(&mut stream).unwrap();
    assert_eq!(request["method"], "elicitation/create");
    let id = request["id"].clone();
    let reply = c.post(json!({"jsonrpc": "2.0", "id": id, "result": answer}));
    assert_eq!(reply.status, 202);
    let (_, response) = next(&mut stream).unwrap();
    assert!(
        next(&mut stream).is_none(),
        "the stream ends after the response"
    );
    (
        response["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_string(),
        request,
    )
}

#[test]
fn elicitation_accept_decline_cancel() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let (text, request) = elicit_round(
        &c,
        json!({"action": "accept", "content": {"username": "u", "email": "e@x"}}),
    );
    assert_eq!(
        text,
        r#"User response: action=accept, content={"email":"e@x","username":"u"}"#
    );
    let params = &request["params"];
    assert_eq!(params["message"], "Who are you?");
    assert_eq!(params["mode"], "form");
    assert_eq!(
        params["requestedSchema"]["required"],
        json!(["username", "email"])
    );
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(trail[0].elicitation.as_deref(), Some("accept"));
    assert_eq!(trail[0].outcome, "ok");

    let (text, _) = elicit_round(&c, json!({"action": "decline"}));
    assert!(text.contains("action=decline"), "{text}");
    assert_eq!(
        scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0]
            .elicitation
            .as_deref(),
        Some("decline")
    );
    let (text, _) = elicit_round(&c, json!({"action": "cancel"}));
    assert!(text.contains("action=cancel"), "{text}");

    // 2025-06-18 predates `mode`.
    let old = s.session(V06, json!({"elicitation": {}}));
    let (_, request) = elicit_round(&old, json!({"action": "decline"}));
    assert!(request["params"].get("mode").is_none(), "{request}");
}

#[test]
fn elicitation_error_answer_and_unsupported_client() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let mut stream = open(&c, waiting_call(1));
    let (_, request) = next(&mut stream).unwrap();
    let reply = c.post(
        json!({"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32601, "message": "no"}}),
    );
    assert_eq!(reply.status, 202);
    let (_, response) = next(&mut stream).unwrap();
    assert_eq!(response["result"]["isError"], true);
    // An "accept" whose content does not fit the schema is not passed on.
    let (text, _) = elicit_round(
        &c,
        json!({"action": "accept", "content": {"username": 5, "email": "e"}}),
    );
    assert!(
        text.starts_with("Elicitation not supported or error"),
        "{text}"
    );
    let (text, _) = elicit_round(
        &c,
        json!({"action": "accept", "content": {"username": "u"}}),
    );
    assert!(text.contains("required field email"), "{text}");

    for (version, caps) in [
        (V11, json!({})),
        (V03, json!({"elicitation": {}})),
        (V11, json!({"elicitation": {"url": {}}})),
    ] {
        let c = s.session(version, caps.clone());
        let reply = c.post(waiting_call(1));
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{caps}"
        );
        assert_eq!(reply.result()["isError"], true);
        let entry = &scrypted_mcp::audit::recent(&s.plugin.ctx, 1)[0];
        assert_eq!(
            (entry.outcome.as_str(), entry.elicitation.as_deref()),
            ("refused", Some("unsupported"))
        );
    }
    // Without an event stream there is no way to ask.
    let mut json_only = s.session(V11, elicit_caps());
    json_only.accept = "application/json";
    assert_eq!(json_only.post(waiting_call(1)).result()["isError"], true);
}

/// A legacy stream whose tool waits for a person sends a comment after each quarter
/// minute of silence: Node's fetch cuts a response body silent for 300 s, many proxies
/// one silent for 60 s. A message resets the count; the answer ends the stream.
#[test]
fn a_waiting_legacy_stream_keeps_alive() {
    use futures::FutureExt;
    let s = server();
    let c = s.session(V11, elicit_caps());
    let (mut stream, request) = asked(&c, 1);
    // Seconds from a pull (the shim asks for the next chunk as soon as one is written)
    // to the chunk it gets.
    let silence = |stream: &mut LocalBoxStream<'static, String>| {
        assert!(stream.next().now_or_never().is_none(), "nothing yet");
        for second in 1..=60 {
            s.clock.advance_ms(1_000);
            if let Some(chunk) = stream.next().now_or_never() {
                return (second, chunk.expect("the stream goes on"));
            }
        }
        panic!("a minute without a chunk");
    };
    for _ in 0..3 {
        let (after, chunk) = silence(&mut stream);
        assert_eq!(chunk, ":\n\n");
        assert!((14..=15).contains(&after), "a comment after {after} s");
    }
    let reply =
        c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "decline"}}));
    assert_eq!(reply.status, 202);
    let (_, response) = next(&mut stream).unwrap();
    assert!(response["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("action=decline"));
    assert!(next(&mut stream).is_none(), "no comment after the end");
}

/// Lifecycle "Timeouts": a request of ours that gets no answer is cancelled (the client is
/// told) and the waiting tool goes on without it; a late answer changes nothing.
#[test]
fn an_unanswered_elicitation_is_withdrawn_after_the_timeout() {
    use futures::FutureExt;
    use scrypted_mcp::mcp::peer::ANSWER_TIMEOUT_MS;
    let s = server();
    let c = s.session(V11, elicit_caps());
    let (mut stream, request) = asked(&c, 7);
    s.clock.advance_ms(ANSWER_TIMEOUT_MS - 1_000);
    assert!(
        stream.next().now_or_never().is_none(),
        "still waiting a second before the timeout"
    );
    s.clock.advance_ms(1_000);
    // Ready now, not later (a broken timeout fails here rather than hanging).
    let mut ready = || {
        let chunk = stream.next().now_or_never().expect("ready at the timeout");
        parse_event(&chunk.expect("the stream goes on")).1
    };
    let cancelled = ready();
    assert_eq!(cancelled["method"], "notifications/cancelled");
    assert_eq!(cancelled["params"]["requestId"], request["id"]);
    assert_eq!(cancelled["params"]["reason"], "no answer within 10 minutes");
    let response = ready();
    assert_eq!(response["id"], 7);
    assert_eq!(response["result"]["isError"], true);
    let text = response["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("did not answer within 10 minutes"), "{text}");
    assert!(
        next(&mut stream).is_none(),
        "the stream ends after the response"
    );
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1_000);
    assert_eq!(
        (trail[0].outcome.as_str(), trail[0].elicitation.as_deref()),
        ("refused", Some("cancel"))
    );
    // The answer that comes too late is taken and dropped; the session goes on.
    let late = c.post(
        json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"username": "u", "email": "e@x"}}}),
    );
    assert_eq!(late.status, 202);
    assert_eq!(
        scrypted_mcp::audit::recent(&s.plugin.ctx, 1_000).len(),
        trail.len(),
        "nothing ran on the late answer"
    );
    let (text, _) = elicit_round(&c, json!({"action": "decline"}));
    assert!(text.contains("action=decline"), "{text}");
}

/// An answer that came before the deadline counts, even when the deadline has passed too
/// by the time the waiting tool is polled again.
#[test]
fn an_answer_just_before_the_timeout_wins() {
    use scrypted_mcp::mcp::peer::ANSWER_TIMEOUT_MS;
    let s = server();
    let c = s.session(V11, elicit_caps());
    let (mut stream, request) = asked(&c, 8);
    s.clock.advance_ms(ANSWER_TIMEOUT_MS - 1_000);
    let reply =
        c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "decline"}}));
    assert_eq!(reply.status, 202);
    s.clock.advance_ms(2_000);
    let (_, response) = next(&mut stream).unwrap();
    assert_eq!(response["id"], 8, "{response}");
    let text = response["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("action=decline"), "{text}");
    assert!(
        next(&mut stream).is_none(),
        "no cancellation after the answer"
    );
}

#[test]
fn elicitation_schema_fixtures_pass_through() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    for tool in [
        "test_elicitation_sep1034_defaults",
        "test_elicitation_sep1330_enums",
    ] {
        let mut stream = open(&c, call_tool(1, tool, json!({})));
        let (_, request) = next(&mut stream).unwrap();
        let props = &request["params"]["requestedSchema"]["properties"];
        if tool.ends_with("defaults") {
            assert_eq!(props["name"]["default"], "John Doe");
            assert_eq!(props["age"]["default"], 30);
            assert_eq!(props["score"]["default"], 95.5);
            assert_eq!(props["status"]["default"], "active");
            assert_eq!(props["verified"]["default"], true);
        } else {
            assert_eq!(props["legacyEnum"]["enumNames"][0], "Option One");
            assert_eq!(props["titledSingle"]["oneOf"][1]["const"], "value2");
            assert_eq!(
                props["titledMulti"]["items"]["anyOf"][2]["title"],
                "Third Choice"
            );
            assert_eq!(props["untitledMulti"]["items"]["enum"][0], "option1");
        }
        // What the conformance client answers.
        let content = if tool.ends_with("defaults") {
            json!({"name": "Jane", "age": 31, "score": 90.5, "status": "pending", "verified": false})
        } else {
            json!({"untitledSingle": "option1", "titledSingle": "value1", "legacyEnum": "opt1",
                   "untitledMulti": ["option1", "option2"], "titledMulti": ["value1", "value2"]})
        };
        c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": content}}));
        let (_, response) = next(&mut stream).unwrap();
        let text = response["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(
            text,
            format!("Elicitation completed: action=accept, content={content}")
        );
    }
}

#[test]
fn sampling_round_trip() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let mut stream = open(&c, call_tool(1, "test_sampling", json!({"prompt": "Hi"})));
    let (_, request) = next(&mut stream).unwrap();
    assert_eq!(request["method"], "sampling/createMessage");
    assert_eq!(request["params"]["maxTokens"], 100);
    assert_eq!(request["params"]["messages"][0]["content"]["text"], "Hi");
    c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"role": "assistant", "content": {"type": "text", "text": "Hello"}, "model": "m"}}));
    let (_, response) = next(&mut stream).unwrap();
    assert_eq!(
        response["result"]["content"][0]["text"],
        "LLM response: Hello"
    );
}

#[test]
fn cancellation_stops_the_request_without_answer() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let mut stream = open(&c, waiting_call(41));
    let (_, request) = next(&mut stream).unwrap();
    let reply = c.notify(
        "notifications/cancelled",
        json!({"requestId": 41, "reason": "user"}),
    );
    assert_eq!(reply.status, 202);
    // The question it asked is withdrawn, so the client can close its dialog.
    let (_, withdrawn) = next(&mut stream).unwrap();
    assert_eq!(withdrawn["method"], "notifications/cancelled");
    assert_eq!(withdrawn["params"]["requestId"], request["id"]);
    assert_eq!(
        withdrawn["params"]["reason"],
        "the call that asked it was cancelled"
    );
    assert!(
        next(&mut stream).is_none(),
        "no response after cancellation"
    );
    // The stopped run is audited as cancelled.
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(trail[0].outcome, "cancelled");
    // The parked elicitation is gone: a late answer is simply accepted.
    let reply =
        c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept"}}));
    assert_eq!(reply.status, 202);
    // The id may be used again once finished.
    assert_eq!(c.call(41, "ping", json!({})).result(), json!({}));
}

#[test]
fn a_reused_id_survives_the_cancelled_run_ending() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let mut old = open(&c, waiting_call(7));
    next(&mut old).unwrap();
    c.notify("notifications/cancelled", json!({"requestId": 7}));
    // Reused before the cancelled run has even been dropped.
    let mut new = open(&c, waiting_call(7));
    next(&mut new).unwrap();
    drop(old);
    c.notify("notifications/cancelled", json!({"requestId": 7}));
    let (_, withdrawn) = next(&mut new).expect("the new run was still cancellable");
    assert_eq!(withdrawn["method"], "notifications/cancelled");
    assert!(next(&mut new).is_none(), "no answer after cancellation");
}

#[test]
fn concurrent_posts_each_get_their_answer() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let mut first = open(&c, waiting_call(1));
    let (_, request) = next(&mut first).unwrap();
    // While the first waits, others are served.
    assert_eq!(c.call(2, "ping", json!({})).result(), json!({}));
    let mut second = open(
        &c,
        call_tool(3, "test_elicitation", json!({"message": "n"})),
    );
    let (_, request2) = next(&mut second).unwrap();
    assert_ne!(request["id"], request2["id"]);
    // A second request with an id still in flight is refused.
    assert_eq!(c.call(1, "ping", json!({})).error_code(), -32600);
    c.post(json!({"jsonrpc": "2.0", "id": request2["id"], "result": {"action": "decline"}}));
    c.post(json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "cancel"}}));
    let (_, r2) = next(&mut second).unwrap();
    let (_, r1) = next(&mut first).unwrap();
    assert_eq!((r1["id"].clone(), r2["id"].clone()), (json!(1), json!(3)));
    assert!(r1["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("cancel"));
    assert!(r2["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("decline"));
}

#[test]
fn deleting_the_session_ends_a_waiting_tool() {
    let s = server();
    let c = s.session(V11, elicit_caps());
    let mut stream = open(&c, waiting_call(1));
    next(&mut stream).unwrap();
    assert_eq!(s.send(c.request("DELETE", None)).status, 204);
    // Its question is withdrawn, and it answers nothing.
    let (_, withdrawn) = next(&mut stream).unwrap();
    assert_eq!(withdrawn["method"], "notifications/cancelled");
    assert!(next(&mut stream).is_none());
}
