//! `subscriptions/listen`: the acknowledgement first, only the changes asked for, each
//! tagged with the subscription id, keep-alives while idle, the listener freed when the
//! client goes away, and a graceful end when its token stops being valid.

use super::*;
use futures::stream::LocalBoxStream;
use futures::{FutureExt, StreamExt};
use reply::parse_event;
use scrypted_mcp::http::{Body, Disconnect};

const AUDIT: &str = "scrypted-mcp://audit/recent";
const KEEP_ALIVE_MS: u64 = 15_000;

pub(super) fn listen(notifications: Value) -> Rpc {
    rpc(
        "subscriptions/listen",
        json!({"notifications": notifications}),
    )
}

/// Opens a listen stream; checks the response is an uncached, unbuffered event stream
/// whose closing cancels it.
pub(super) fn open(s: &Server, rpc: &Rpc) -> LocalBoxStream<'static, String> {
    let resp = s.send(rpc.request(&s.token));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.get_header("content-type"), Some("text/event-stream"));
    assert_eq!(resp.get_header("x-accel-buffering"), Some("no"));
    assert_eq!(resp.get_header("cache-control"), Some("no-cache"));
    assert_eq!(resp.on_disconnect, Disconnect::Cancel);
    match resp.body {
        Body::Stream(stream) => stream,
        Body::Text(text) => panic!("not a stream: {text}"),
    }
}

/// The next chunk if one is ready now, without waiting.
pub(super) fn ready(stream: &mut LocalBoxStream<'static, String>) -> Option<Option<String>> {
    stream.next().now_or_never()
}

pub(super) fn message(chunk: Option<Option<String>>) -> Value {
    let chunk = chunk
        .expect("a chunk is ready")
        .expect("the stream goes on");
    parse_event(&chunk).1
}

/// A stream subscribed to the audit resource with subscription id `id`, acknowledged and
/// waiting (the shim asks for the next chunk as soon as one is written).
fn audit_stream(s: &Server, id: Value) -> LocalBoxStream<'static, String> {
    let mut stream = open(s, &listen(json!({"resourceSubscriptions": [AUDIT]})).id(id));
    message(ready(&mut stream));
    assert_eq!(ready(&mut stream), None);
    stream
}

fn call_a_tool(s: &Server) {
    let call = rpc(
        "tools/call",
        json!({"name": "list_plugins", "arguments": {}}),
    );
    assert_eq!(s.post(&call).result()["isError"], false);
}

#[test]
fn the_acknowledgement_comes_first_with_what_is_honoured() {
    let s = server();
    let asked = json!({
        "toolsListChanged": true,
        "resourceSubscriptions": [AUDIT, "scrypted-mcp://nowhere", AUDIT]
    });
    let mut stream = open(&s, &listen(asked).id(json!("listen-1")));
    let ack = message(ready(&mut stream));
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "listen-1"
    );
    // Only resources we have; tool-list changes only where a list can change while we run
    // (the conformance fixtures).
    let mut honoured = json!({"resourceSubscriptions": [AUDIT]});
    if cfg!(feature = "conformance-fixtures") {
        honoured["toolsListChanged"] = json!(true);
    }
    assert_eq!(ack["params"]["notifications"], honoured);
    assert!(ack.get("id").is_none());
    // Nothing more until something changes.
    assert_eq!(ready(&mut stream), None);
}

#[test]
fn resource_updates_reach_only_the_streams_that_subscribed() {
    let s = server();
    let mut audit = audit_stream(&s, json!(7));
    let mut other = open(
        &s,
        &listen(json!({"promptsListChanged": true})).id(json!(8)),
    );
    message(ready(&mut other));
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), 2);

    // Every tool call changes the audit trail, in either era.
    call_a_tool(&s);
    let update = message(ready(&mut audit));
    assert_eq!(update["method"], "notifications/resources/updated");
    assert_eq!(update["params"]["uri"], AUDIT);
    assert_eq!(
        update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    assert_eq!(ready(&mut other), None, "not asked for");
    let session = flow::open_session(&s.plugin, HOST, &s.token, "legacy");
    let body = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "get_server_info", "arguments": {}}});
    read(flow::rpc(&s.plugin, HOST, &s.token, Some(&session), body));
    // At most one update per resource per second: this one waits out the second.
    assert_eq!(ready(&mut audit), None);
    s.clock.advance_ms(999);
    assert_eq!(ready(&mut audit), None);
    s.clock.advance_ms(1);
    assert_eq!(message(ready(&mut audit))["params"]["uri"], AUDIT);
    assert_eq!(ready(&mut audit), None);
}

#[test]
fn an_idle_stream_sends_keep_alive_comments() {
    let s = server();
    let mut stream = audit_stream(&s, json!(1));
    s.clock.advance_ms(KEEP_ALIVE_MS - 1);
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1);
    assert_eq!(ready(&mut stream), Some(Some(":\n\n".to_string())));
    // The interval starts again after anything is sent (the shim asks for the next chunk
    // as soon as one is written).
    call_a_tool(&s);
    message(ready(&mut stream));
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(KEEP_ALIVE_MS - 1);
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1);
    assert_eq!(ready(&mut stream), Some(Some(":\n\n".to_string())));
}

/// The Settings tab's count of open listen streams.
fn listeners_shown(s: &Server) -> Value {
    let settings = block_on(s.plugin.get_settings());
    let row = settings
        .iter()
        .find(|s| s.key == "status_listeners")
        .unwrap();
    row.value.clone().unwrap()
}

#[test]
fn closing_the_stream_frees_the_listener() {
    let s = server();
    let stream = audit_stream(&s, json!(1));
    assert_eq!(listeners_shown(&s), json!(1));
    drop(stream);
    assert_eq!(listeners_shown(&s), json!(0));
    // Publishing to nobody is fine.
    call_a_tool(&s);
}

/// The graceful end: the listen request's result, tagged, then the end of the stream.
fn assert_closed(stream: &mut LocalBoxStream<'static, String>, id: Value) {
    let end = message(ready(stream));
    assert_eq!(end["id"], id);
    assert_eq!(end["result"]["resultType"], "complete");
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        id
    );
    assert_eq!(ready(stream), Some(None));
}

#[test]
fn revoking_the_grants_ends_the_stream_gracefully() {
    let s = server();
    let mut stream = audit_stream(&s, json!(4));
    scrypted_mcp::mcp::close_all_sessions(&s.plugin.ctx);
    assert_closed(&mut stream, json!(4));
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), 0);
}

#[test]
fn an_expired_token_ends_the_stream_and_gets_nothing_more() {
    let s = server();
    let mut stream = audit_stream(&s, json!(5));
    // Past the access token's lifetime (an hour at most), the next keep-alive finds it
    // expired: the stream ends instead.
    s.clock.advance_ms(2 * 3_600_000);
    assert_closed(&mut stream, json!(5));
}

#[test]
fn a_malformed_filter_is_invalid_params() {
    let s = server();
    let reply = s.post(&listen(json!({"toolsListChanged": "yes"})).id(json!(6)));
    assert_rejected(&reply, 200, -32602, json!(6));
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), 0);
}

#[test]
fn a_revoked_token_gets_no_notification() {
    let s = server();
    let mut stream = audit_stream(&s, json!(3));
    // The user was removed: their grants end, and so does what their token opened.
    scrypted_mcp::oauth::revoke_subject(&s.plugin.ctx, "admin");
    let change = scrypted_mcp::mcp::subscriptions::Change::ResourceUpdated(AUDIT.into());
    scrypted_mcp::mcp::publish(&s.plugin.ctx, change);
    assert_closed(&mut stream, json!(3));
}

#[test]
fn the_oldest_stream_ends_when_too_many_are_open() {
    let s = server();
    let max = scrypted_mcp::mcp::subscriptions::MAX_LISTENERS;
    let mut first = audit_stream(&s, json!(0));
    let mut rest: Vec<_> = (1..max)
        .map(|i| open(&s, &listen(json!({})).id(json!(i))))
        .collect();
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), max);
    assert_eq!(ready(&mut first), None, "still open at the limit");
    rest.push(open(&s, &listen(json!({})).id(json!(max))));
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), max);
    assert_closed(&mut first, json!(0));
}

#[test]
fn one_client_opening_too_many_streams_ends_only_its_own() {
    let mut s = server();
    let max = scrypted_mcp::mcp::subscriptions::MAX_LISTENERS;
    let mut first = audit_stream(&s, json!(0));
    let client_id = flow::register(&s.plugin, HOST);
    s.token = flow::tokens_for(&s.plugin, HOST, &client_id, "scrypted:read").access_token;
    let mut flood: Vec<_> = (1..max)
        .map(|i| open(&s, &listen(json!({})).id(json!(i))))
        .collect();
    flood.push(open(&s, &listen(json!({})).id(json!(max))));
    assert_eq!(scrypted_mcp::mcp::active_listeners(&s.plugin.ctx), max);
    assert_eq!(
        ready(&mut first),
        None,
        "another client's stream stays open"
    );
    for stream in &mut flood[..2] {
        message(ready(stream)); // the acknowledgement
    }
    assert_closed(&mut flood[0], json!(1));
    assert_eq!(ready(&mut flood[1]), None, "its next stream stays open");
}
