//! Behaviour only the conformance fixtures' diagnostic tools can show: custom headers
//! from tool parameters, a tool that needs a client capability, per-request logging and
//! progress on a 2026-07-28 response stream, and list-changed triggers.

use super::*;
use scrypted_mcp::http::Disconnect;

fn custom_header(region: Option<&str>, header: Option<&str>) -> Rpc {
    let arguments = match region {
        Some(r) => json!({"region": r}),
        None => json!({}),
    };
    rpc(
        "tools/call",
        json!({"name": "test_custom_header", "arguments": arguments}),
    )
    .header("Mcp-Param-Region", header)
}

#[test]
fn custom_headers_must_mirror_annotated_parameters() {
    let s = server();
    for (region, header) in [
        ("us-west1", "us-west1"),
        ("Hello", "=?base64?SGVsbG8=?="),
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        // Without both markers a value is literal.
        ("SGVsbG8=", "SGVsbG8="),
        ("=?base64?SGVsbG8=", "=?base64?SGVsbG8="),
    ] {
        let reply = s.post(&custom_header(Some(region), Some(header)));
        assert_eq!(reply.status, 200);
        let echoed = format!("Region: {region}");
        assert_eq!(reply.result()["content"][0]["text"], echoed);
    }
    for rpc in [
        custom_header(Some("Hello"), Some("=?base64?SGVsbG8?=")),
        custom_header(Some("Hello"), Some("=?base64?SGVs!!!bG8=?=")),
        custom_header(Some("test-value"), None),
        custom_header(Some("eu-north1"), Some("us-west1")),
        custom_header(None, Some("us-west1")),
    ] {
        let before = s.stored();
        assert_rejected(&s.post(&rpc), 400, -32020, json!(1));
        assert_eq!(
            s.stored(),
            before,
            "refused before the call ran: nothing audited"
        );
    }
    // Legacy requests carry no such headers: nothing is checked.
    let session = flow::open_session(&s.plugin, HOST, &s.token, "legacy");
    let body = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "test_custom_header", "arguments": {"region": "x"}}});
    let reply = read(flow::rpc(&s.plugin, HOST, &s.token, Some(&session), body));
    assert_eq!(reply.result()["content"][0]["text"], "Region: x");
}

#[test]
fn a_tool_needing_an_undeclared_capability_is_refused_before_it_runs() {
    let s = server();
    let call = rpc(
        "tools/call",
        json!({"name": "test_missing_capability", "arguments": {}}),
    );
    let before = s.stored();
    let reply = s.post(&call.clone().id(json!(401)));
    assert_rejected(&reply, 400, -32021, json!(401));
    assert_eq!(
        reply.response()["error"]["data"]["requiredCapabilities"],
        json!({"sampling": {}})
    );
    assert_eq!(s.stored(), before);
    let reply = s.post(&call.caps(json!({"sampling": {}})));
    assert_eq!(reply.result()["content"][0]["text"], "Success");
}

fn frames(s: &Server, rpc: &Rpc) -> Reply {
    let resp = s.send(rpc.request(&s.token));
    if resp.get_header("content-type") == Some("text/event-stream") {
        assert_eq!(resp.get_header("x-accel-buffering"), Some("no"));
        assert_eq!(
            resp.on_disconnect,
            Disconnect::Cancel,
            "closing cancels in 2026-07-28"
        );
    }
    read(resp)
}

#[test]
fn log_messages_only_when_the_request_asks_for_them() {
    let s = server();
    let call = rpc(
        "tools/call",
        json!({"name": "test_logging_tool", "arguments": {}}),
    );
    let reply = frames(&s, &call);
    assert_eq!(reply.result()["content"][0]["text"], "Logging evaluated");
    assert!(reply.notifications("notifications/message").is_empty());
    let reply = frames(&s, &call.clone().meta("logLevel", Some(json!("debug"))));
    let logs = reply.notifications("notifications/message");
    assert_eq!(logs.len(), 1, "{reply:?}");
    assert_eq!(logs[0]["params"]["level"], "info");
    // Below the requested level: nothing.
    let reply = frames(&s, &call.meta("logLevel", Some(json!("error"))));
    assert!(reply.notifications("notifications/message").is_empty());
}

#[test]
fn progress_goes_on_the_request_stream_without_event_ids() {
    let s = server();
    let mut call = rpc(
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {}}),
    );
    call.meta
        .insert("progressToken".into(), json!("progress-test-1"));
    let reply = frames(&s, &call);
    let progress = reply.notifications("notifications/progress");
    assert_eq!(progress.len(), 3, "{reply:?}");
    assert!(progress
        .iter()
        .all(|p| p["params"]["progressToken"] == "progress-test-1"));
    // 2026-07-28 streams are not resumable: no event ids, no priming event.
    assert!(
        reply.events.iter().all(|(id, _)| id.is_empty()),
        "{reply:?}"
    );
    assert_eq!(reply.result()["resultType"], "complete");
}

#[test]
fn no_server_requests_on_a_modern_stream() {
    let s = server();
    for name in [
        "test_streaming_elicitation",
        "test_elicitation",
        "test_sampling",
    ] {
        let call = rpc(
            "tools/call",
            json!({"name": name, "arguments": {"message": "m", "prompt": "p"}}),
        )
        .caps(json!({"elicitation": {}, "sampling": {}}));
        let reply = frames(&s, &call);
        assert!(
            reply
                .events
                .iter()
                .all(|(_, m)| m.get("id").is_none() || m.get("method").is_none()),
            "{name}: {reply:?}"
        );
        assert_eq!(reply.status, 200, "{name}");
        reply.result();
    }
}

#[test]
fn list_changes_reach_the_listen_streams_that_asked() {
    use futures::{FutureExt, StreamExt};
    let s = server();
    let open = |filter: Value, id: i64| {
        let rpc = rpc("subscriptions/listen", json!({"notifications": filter})).id(json!(id));
        match s.send(rpc.request(&s.token)).body {
            scrypted_mcp::http::Body::Stream(stream) => stream,
            _ => panic!("not a stream"),
        }
    };
    let mut tools = open(json!({"toolsListChanged": true}), 1);
    let mut prompts = open(json!({"promptsListChanged": true}), 2);
    let next = |stream: &mut futures::stream::LocalBoxStream<'static, String>| {
        stream
            .next()
            .now_or_never()
            .flatten()
            .map(|c| reply::parse_event(&c).1)
    };
    assert!(
        next(&mut tools).is_some() && next(&mut prompts).is_some(),
        "acknowledged"
    );
    let trigger = |name: &str| {
        let call = rpc("tools/call", json!({"name": name, "arguments": {}}));
        assert_eq!(
            s.post(&call).result()["content"][0]["text"],
            "Mutation triggered"
        );
    };
    trigger("test_trigger_tool_change");
    let changed = next(&mut tools).expect("tools changed");
    assert_eq!(changed["method"], "notifications/tools/list_changed");
    assert_eq!(
        changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        1
    );
    assert_eq!(
        next(&mut prompts),
        None,
        "a prompts-only stream hears nothing of tools"
    );
    trigger("test_trigger_prompt_change");
    assert_eq!(
        next(&mut prompts).unwrap()["method"],
        "notifications/prompts/list_changed"
    );
    assert_eq!(next(&mut tools), None);
}
