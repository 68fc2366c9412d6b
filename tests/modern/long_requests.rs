//! A 2026-07-28 request that runs long (a camera that never answers): its answer becomes an
//! event stream after one to two seconds, with a keep-alive comment every two, so that a
//! client's disconnect reaches the plugin, which counts it as cancellation
//! (transports/streamable-http "Cancellation": "Closing the SSE response stream MUST be
//! treated by the server as cancellation of that request"). On a real Scrypted a closed
//! connection is seen only when a chunk is written (docs/reference/scrypted-host.md §6.5).

use super::*;
use common::CAMERA_ID;
use futures::future::LocalBoxFuture;
use futures::stream::LocalBoxStream;
use futures::FutureExt;
use listen::{message, ready};
use scrypted_mcp::http::{Body, Disconnect};

fn snapshot_of_a_hung_camera(s: &Server) -> LocalBoxFuture<'static, Response> {
    s.host.set_camera_mode(CAMERA_ID, "hang");
    let call = rpc(
        "tools/call",
        json!({"name": "get_camera_snapshot", "arguments": {"id": CAMERA_ID}}),
    );
    let plugin = s.plugin.clone();
    let req = call.request(&s.token);
    async move { plugin.handle(req).await }.boxed_local()
}

/// The answer once it has started: an event stream whose closing cancels the request.
fn started(answer: &mut LocalBoxFuture<'static, Response>) -> LocalBoxStream<'static, String> {
    let resp = answer.now_or_never().expect("the answer has started");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.get_header("content-type"), Some("text/event-stream"));
    assert_eq!(resp.on_disconnect, Disconnect::Cancel);
    match resp.body {
        Body::Stream(stream) => stream,
        Body::Text(text) => panic!("not a stream: {text}"),
    }
}

/// A keep-alive comment, ready now.
fn comment() -> Option<Option<String>> {
    Some(Some(":\n\n".to_string()))
}

#[test]
fn a_long_request_streams_keep_alives_then_its_answer() {
    let s = server();
    let mut answer = snapshot_of_a_hung_camera(&s);
    assert!(
        (&mut answer).now_or_never().is_none(),
        "the camera has not answered"
    );
    s.clock.advance_ms(1_000);
    assert!(
        (&mut answer).now_or_never().is_none(),
        "one tick is not yet long"
    );
    s.clock.advance_ms(1_000);
    let mut stream = started(&mut answer);
    assert_eq!(ready(&mut stream), comment(), "a comment opens the stream");
    assert_eq!(ready(&mut stream), None);
    // Time passes a second at a time, the stream polled each second as the tick wakes it.
    for at in [4_000, 6_000, 8_000, 10_000] {
        s.clock.advance_ms(1_000);
        assert_eq!(ready(&mut stream), None, "before {at} ms");
        s.clock.advance_ms(1_000);
        assert_eq!(ready(&mut stream), comment(), "at {at} ms");
        assert_eq!(ready(&mut stream), None);
    }
    // The tool gives up on the camera at 12 s; its answer is the stream's one message.
    s.clock.advance_ms(1_000);
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1_000);
    let answer = message(ready(&mut stream));
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert_eq!(
        ready(&mut stream),
        Some(None),
        "the stream ends after the answer"
    );
}

#[test]
fn closing_the_stream_cancels_the_request() {
    let s = server();
    let mut answer = snapshot_of_a_hung_camera(&s);
    assert!((&mut answer).now_or_never().is_none());
    s.clock.advance_ms(1_000);
    assert!((&mut answer).now_or_never().is_none());
    s.clock.advance_ms(1_000);
    let mut stream = started(&mut answer);
    assert_eq!(ready(&mut stream), comment());
    let before = scrypted_mcp::audit::recent(&s.plugin.ctx, 10).len();
    drop(stream);
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 10);
    assert_eq!(trail.len(), before + 1, "the stopped call is audited");
    assert_eq!(trail[0].tool, "get_camera_snapshot");
    assert_eq!(trail[0].outcome, "cancelled");
    // Nothing of it runs on: its deadline passes without another host call or audit row.
    let calls = s.host.calls.borrow().len();
    s.clock.advance_ms(20_000);
    assert_eq!(s.host.calls.borrow().len(), calls);
    assert_eq!(
        scrypted_mcp::audit::recent(&s.plugin.ctx, 10).len(),
        before + 1
    );
}

#[test]
fn a_client_that_takes_only_json_gets_json_however_long() {
    let s = server();
    s.host.set_camera_mode(CAMERA_ID, "hang");
    let call = rpc(
        "tools/call",
        json!({"name": "get_camera_snapshot", "arguments": {"id": CAMERA_ID}}),
    )
    .header("accept", Some("application/json"));
    let plugin = s.plugin.clone();
    let req = call.request(&s.token);
    let mut answer = async move { plugin.handle(req).await }.boxed_local();
    for _ in 0..12 {
        assert!((&mut answer).now_or_never().is_none());
        s.clock.advance_ms(1_000);
    }
    let reply = read(answer.now_or_never().expect("answered at the deadline"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.response()["result"]["isError"], true);
}

#[test]
fn a_message_before_the_first_pull_stands_for_the_opening_comment() {
    use futures::channel::{mpsc, oneshot};
    use scrypted_mcp::mcp::stream::{Exchange, Start, MODERN};
    let s = server();
    let (tx, rx) = mpsc::unbounded();
    let (finish, finished) = oneshot::channel::<()>();
    let work = async move {
        let _ = finished.await;
        vec![json!({"jsonrpc": "2.0", "id": 1, "result": {}})]
    }
    .boxed_local();
    let ctx = s.plugin.ctx.clone();
    let mut start =
        async move { Exchange::new(work, rx).start(Some((&ctx, MODERN))).await }.boxed_local();
    assert!((&mut start).now_or_never().is_none());
    s.clock.advance_ms(1_000);
    assert!((&mut start).now_or_never().is_none());
    s.clock.advance_ms(1_000);
    let (Start::Streaming(exchange), keep_alive) = start.now_or_never().unwrap() else {
        panic!("the work ran long: a stream");
    };
    let mut stream = futures::StreamExt::boxed_local(exchange.into_modern_sse(keep_alive));
    // The work says something before the shim first pulls: that goes first, alone.
    let progress = json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {}});
    tx.unbounded_send(progress.clone()).unwrap();
    assert_eq!(message(ready(&mut stream)), progress);
    assert_eq!(ready(&mut stream), None, "no comment right after a message");
    s.clock.advance_ms(1_000);
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1_000);
    assert_eq!(ready(&mut stream), comment(), "two ticks after the message");
    finish.send(()).unwrap();
    assert_eq!(message(ready(&mut stream))["id"], 1);
    assert_eq!(ready(&mut stream), Some(None));
}
