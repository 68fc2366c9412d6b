//! Tasks through the fixture tools of the `tasks-*` scenarios: a task that asks while it
//! runs (`input_required`, `tasks/update`, partial answers), tool and protocol errors,
//! tools that run only as tasks (-32021), MRTR before the task, the task bound, and every
//! refused `tasks/update` with its exact code and nothing delivered.

use super::*;

const TASKS: &str = "io.modelcontextprotocol/tasks";

fn with_tasks() -> Value {
    json!({"elicitation": {}, "extensions": {TASKS: {}}})
}

fn tool(name: &str, arguments: Value, caps: Value) -> Rpc {
    rpc("tools/call", json!({"name": name, "arguments": arguments})).caps(caps)
}

/// Starts `name` as a task; its id.
fn start(s: &Server, name: &str, arguments: Value) -> String {
    let r = s.post(&tool(name, arguments, with_tasks())).result();
    assert_eq!(r["resultType"], "task", "{r}");
    r["taskId"].as_str().unwrap().to_string()
}

fn on_task(method: &str, id: &str, extra: Value) -> Rpc {
    let mut call = rpc(method, json!({"taskId": id}))
        .caps(with_tasks())
        .id(json!(7));
    if let Value::Object(extra) = extra {
        call.params.extend(extra);
    }
    call
}

fn get(s: &Server, id: &str) -> Value {
    let reply = s.post(&on_task("tasks/get", id, json!({})));
    assert_eq!(reply.status, 200);
    reply.result()
}

fn keys(task: &Value) -> Vec<String> {
    task["inputRequests"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// The keys the task waits for; fails unless it is `input_required`.
fn waiting_for(s: &Server, id: &str) -> Vec<String> {
    let task = get(s, id);
    assert_eq!(task["status"], "input_required", "{task}");
    keys(&task)
}

/// `tasks/update` with `responses`: the empty acknowledgement.
fn update(s: &Server, id: &str, responses: Value) {
    let reply = s.post(&on_task(
        "tasks/update",
        id,
        json!({"inputResponses": responses}),
    ));
    assert_eq!(reply.status, 200);
    let ack = reply.result();
    assert_eq!(
        ack,
        json!({"resultType": "complete", "_meta": ack["_meta"]})
    );
}

fn accept(content: Value) -> Value {
    json!({"action": "accept", "content": content})
}

#[test]
fn a_running_task_asks_through_tasks_get_and_tasks_update_answers() {
    let s = server();
    let id = start(&s, "confirm_delete", json!({"filename": "a.txt"}));
    let waiting = get(&s, &id);
    assert_eq!(waiting["status"], "input_required", "{waiting}");
    assert_eq!(keys(&waiting), ["confirm"]);
    let asked = &waiting["inputRequests"]["confirm"];
    assert_eq!(asked["method"], "elicitation/create");
    assert_eq!(
        asked["params"]["requestedSchema"]["properties"]["confirm"]["type"],
        "boolean"
    );
    // Polling again shows the same question; an answer to a key never asked is ignored.
    assert_eq!(get(&s, &id)["inputRequests"], waiting["inputRequests"]);
    update(
        &s,
        &id,
        json!({"unknown-key": accept(json!({"confirm": true}))}),
    );
    assert_eq!(get(&s, &id)["status"], "input_required");
    update(
        &s,
        &id,
        json!({"confirm": accept(json!({"confirm": true}))}),
    );
    let done = get(&s, &id);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "Deleted a.txt");
    assert!(done.get("inputRequests").is_none());
    // A late answer to the answered key changes nothing.
    update(
        &s,
        &id,
        json!({"confirm": accept(json!({"confirm": false}))}),
    );
    assert_eq!(get(&s, &id)["result"], done["result"]);
}

#[test]
fn partial_answers_keep_the_task_waiting_for_the_rest() {
    let s = server();
    let id = start(&s, "multi_input", json!({}));
    assert_eq!(waiting_for(&s, &id), ["first", "second"]);
    update(&s, &id, json!({"first": accept(json!({"name": "Ann"}))}));
    assert_eq!(waiting_for(&s, &id), ["second"]);
    update(&s, &id, json!({"second": accept(json!({"name": "Bo"}))}));
    let done = get(&s, &id);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["result"]["content"][0]["text"],
        "Received \"Ann\" and \"Bo\""
    );
}

#[test]
fn a_malformed_tasks_update_is_invalid_params_and_delivers_nothing() {
    let s = server();
    let id = start(&s, "confirm_delete", json!({"filename": "b.txt"}));
    assert_eq!(get(&s, &id)["status"], "input_required");
    let good = accept(json!({"confirm": true}));
    for extra in [
        json!({}),
        json!({"inputResponses": [good]}),
        json!({"inputResponses": {"confirm": "yes"}}),
        // One bad entry refuses the well-formed one beside it too.
        json!({"inputResponses": {"confirm": good, "other": 5}}),
    ] {
        let reply = s.post(&on_task("tasks/update", &id, extra.clone()));
        assert_rejected(&reply, 200, -32602, json!(7));
        let message = reply.response()["error"]["message"].to_string();
        assert!(
            message.contains("nothing was delivered"),
            "{extra}: {message}"
        );
    }
    assert_eq!(waiting_for(&s, &id), ["confirm"]);
}

#[test]
fn another_client_can_neither_answer_nor_see_a_running_task() {
    let s = server();
    let id = start(&s, "confirm_delete", json!({"filename": "c.txt"}));
    let other = flow::obtain_tokens(&s.plugin, HOST).access_token;
    let answer = json!({"inputResponses": {"confirm": accept(json!({"confirm": true}))}});
    for (method, extra) in [("tasks/update", answer), ("tasks/get", json!({}))] {
        let reply = read(s.send(on_task(method, &id, extra).request(&other)));
        assert_rejected(&reply, 200, -32602, json!(7));
    }
    assert_eq!(waiting_for(&s, &id), ["confirm"]);
}

#[test]
fn cancelling_a_waiting_task_ends_it_and_later_answers_are_ignored() {
    let s = server();
    let id = start(&s, "confirm_delete", json!({"filename": "d.txt"}));
    assert_eq!(get(&s, &id)["status"], "input_required");
    let ack = s.post(&on_task("tasks/cancel", &id, json!({}))).result();
    assert!(ack.get("status").is_none() && ack.get("taskId").is_none());
    update(
        &s,
        &id,
        json!({"confirm": accept(json!({"confirm": true}))}),
    );
    let cancelled = get(&s, &id);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(cancelled.get("inputRequests").is_none() && cancelled.get("result").is_none());
    // The stopped run is in the audit trail, as cancelled.
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(
        (trail[0].tool.as_str(), trail[0].outcome.as_str()),
        ("confirm_delete", "cancelled")
    );
}

#[test]
fn a_tool_error_completes_the_task_and_a_protocol_error_fails_it() {
    let s = server();
    let id = start(&s, "failing_job", json!({}));
    assert_eq!(get(&s, &id)["status"], "working");
    s.clock.advance_ms(1000);
    let done = get(&s, &id);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["isError"], true);
    let id = start(&s, "protocol_error_job", json!({}));
    let failed = get(&s, &id);
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["error"]["code"], -32603);
    assert_eq!(failed["statusMessage"], failed["error"]["message"]);
    assert!(failed.get("result").is_none());
}

#[test]
fn a_tool_that_runs_only_as_a_task_is_refused_without_the_extension() {
    let s = server();
    let before = s.stored();
    let reply = s.post(&tool("failing_job", json!({}), json!({})).id(json!(3)));
    assert_rejected(&reply, 400, -32021, json!(3));
    assert_eq!(
        reply.response()["error"]["data"]["requiredCapabilities"],
        json!({"extensions": {TASKS: {}}})
    );
    // Refused at the door: not even an audit entry.
    assert_eq!(s.stored(), before);
    // A tool that may run either way answers a client without the extension plainly,
    // asking through MRTR.
    let plain = s
        .post(&tool(
            "confirm_delete",
            json!({"filename": "e.txt"}),
            json!({"elicitation": {}}),
        ))
        .result();
    assert_eq!(plain["resultType"], "input_required", "{plain}");
    assert!(plain.get("taskId").is_none());
    assert!(plain["inputRequests"]["confirm"].is_object());
}

#[test]
fn input_that_decides_comes_through_mrtr_before_the_task_exists() {
    let s = server();
    let call = || tool("test_tool_with_task", json!({}), with_tasks());
    let first = s.post(&call()).result();
    assert_eq!(first["resultType"], "input_required", "{first}");
    assert!(first.get("taskId").is_none());
    let retry = call().answering(
        &first,
        json!({"user_name": accept(json!({"name": "Alice"}))}),
    );
    let created = s.post(&retry).result();
    assert_eq!(created["resultType"], "task", "{created}");
    assert!(created.get("requestState").is_none() && created.get("inputRequests").is_none());
    let done = get(&s, created["taskId"].as_str().unwrap());
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Alice"));
}

#[test]
fn with_64_tasks_running_a_call_runs_plainly_or_is_refused_before_it_runs() {
    let s = server();
    for n in 0..64 {
        start(
            &s,
            "slow_compute",
            json!({"seconds": 60, "label": n.to_string()}),
        );
    }
    // A tool that may run either way runs plainly, as for a client without the extension.
    let plain = s
        .post(&tool("create_backup", json!({}), with_tasks()))
        .result();
    assert_eq!(plain["resultType"], "complete", "{plain}");
    assert_eq!(plain["structuredContent"]["mime_type"], "application/zip");
    // One that runs only as a task is refused, and nothing ran: no audit entry for it.
    let reply = s.post(&tool("failing_job", json!({}), with_tasks()).id(json!(4)));
    assert_rejected(&reply, 200, -32603, json!(4));
    let message = reply.response()["error"]["message"].to_string();
    assert!(message.contains("nothing was run"), "{message}");
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(trail[0].tool, "create_backup");
    // Once they are done (nobody polled them), the oldest finished one makes room.
    s.clock.advance_ms(60_000);
    start(&s, "failing_job", json!({}));
}

/// A waker that notes it was woken (the executor that would poll the pump again).
struct Flag(std::sync::atomic::AtomicBool);

impl futures::task::ArcWake for Flag {
    fn wake_by_ref(flag: &std::sync::Arc<Self>) {
        flag.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn the_task_pump_runs_a_task_to_its_end_while_its_client_does_not_poll() {
    use std::future::Future;
    use std::sync::atomic::Ordering;
    let s = server();
    let flag = std::sync::Arc::new(Flag(Default::default()));
    let waker = futures::task::waker(flag.clone());
    let plugin = s.plugin.clone();
    let mut pump = Box::pin(async move { plugin.pump_tasks().await });
    let mut run_pump = || {
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(pump.as_mut().poll(&mut cx).is_pending(), "the pump runs on");
    };
    run_pump();
    let id = start(
        &s,
        "slow_compute",
        json!({"seconds": 5, "label": "unpolled"}),
    );
    flag.0.store(false, Ordering::SeqCst);
    // The tool's sleep ends: its waker is the pump's, so the pump is due again.
    s.clock.advance_ms(5000);
    assert!(
        flag.0.load(Ordering::SeqCst),
        "the settled step woke the pump"
    );
    run_pump();
    // The tool finished without a tasks/get: its audit entry is there already.
    let trail = scrypted_mcp::audit::recent(&s.plugin.ctx, 1);
    assert_eq!(
        (trail[0].tool.as_str(), trail[0].outcome.as_str()),
        ("slow_compute", "ok")
    );
    let done = get(&s, &id);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["result"]["content"][0]["text"],
        "Computed unpolled after 5 s"
    );
}

#[test]
fn a_listen_stream_hears_of_its_callers_own_tasks_as_tasks_get_shows_them() {
    use super::listen::{listen, message, open, ready};
    let s = server();
    let id = start(&s, "confirm_delete", json!({"filename": "f.txt"}));
    assert_eq!(waiting_for(&s, &id), ["confirm"]);
    let other = flow::obtain_tokens(&s.plugin, HOST).access_token;
    let call = tool("confirm_delete", json!({"filename": "g.txt"}), with_tasks());
    let foreign = read(s.send(call.request(&other))).result()["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let asked = listen(json!({"taskIds": [id, foreign, "no-such-task", id]}))
        .caps(with_tasks())
        .id(json!("l-1"));
    let mut stream = open(&s, &asked);
    let ack = message(ready(&mut stream));
    assert_eq!(ack["params"]["notifications"], json!({"taskIds": [id]}));
    // Another client's task changes: this stream hears nothing.
    let cancel = on_task("tasks/cancel", &foreign, json!({}));
    assert_eq!(read(s.send(cancel.request(&other))).status, 200);
    assert_eq!(ready(&mut stream), None);
    // Its own task is answered and finishes: notified with what tasks/get shows.
    update(
        &s,
        &id,
        json!({"confirm": accept(json!({"confirm": true}))}),
    );
    let note = message(ready(&mut stream));
    assert_eq!(note["method"], "notifications/tasks");
    assert_eq!(
        note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        "l-1"
    );
    let got = get(&s, &id);
    for field in ["taskId", "status", "result", "lastUpdatedAt", "ttlMs"] {
        assert_eq!(note["params"][field], got[field], "{field}: {note}");
    }
    assert_eq!(note["params"]["status"], "completed");
    assert!(note["params"].get("resultType").is_none(), "{note}");
}

#[test]
fn task_notifications_within_a_second_become_one_saying_the_latest() {
    use super::listen::{listen, message, open, ready};
    let s = server();
    let id = start(&s, "multi_input", json!({}));
    let asked = listen(json!({"taskIds": [id]})).caps(with_tasks());
    let mut stream = open(&s, &asked);
    message(ready(&mut stream));
    // The first change goes out at once.
    assert_eq!(waiting_for(&s, &id), ["first", "second"]);
    let first = message(ready(&mut stream));
    assert_eq!(first["params"]["status"], "input_required");
    // Two more within the second: held, the later replacing the earlier.
    update(&s, &id, json!({"first": accept(json!({"name": "Ann"}))}));
    update(&s, &id, json!({"second": accept(json!({"name": "Bo"}))}));
    assert_eq!(ready(&mut stream), None);
    s.clock.advance_ms(1000);
    let last = message(ready(&mut stream));
    assert_eq!(last["params"]["status"], "completed", "{last}");
    assert_eq!(ready(&mut stream), None, "one notification, not two");
}

/// SEP-2663: an input request's key is unique over the task's life, so a key asked
/// again after its answer came is a new key, and the late answer to the old one is
/// not taken for the new question.
#[test]
fn a_key_asked_again_after_its_answer_is_a_new_key() {
    use futures::FutureExt;
    use scrypted_mcp::mcp::task_input::Inbox;
    let inbox = std::rc::Rc::new(Inbox::default());
    let roots = || rmcp::model::InputRequest::ListRoots(Default::default());
    let first = inbox.ask("roots", roots());
    inbox.deliver(json!({"roots": {"roots": []}}).as_object().unwrap().clone());
    assert_eq!(first.now_or_never(), Some(json!({"roots": []})));
    let again = inbox.ask("roots", roots());
    let keys: Vec<String> = inbox.outstanding().keys().cloned().collect();
    assert_eq!(keys, ["roots-2"]);
    inbox.deliver(
        json!({"roots": {"roots": [{"uri": "file:///late"}]}})
            .as_object()
            .unwrap()
            .clone(),
    );
    let mut again = Box::pin(again);
    assert_eq!(
        (&mut again).now_or_never(),
        None,
        "the old key's answer is ignored"
    );
    inbox.deliver(
        json!({"roots-2": {"roots": []}})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(again.now_or_never(), Some(json!({"roots": []})));
}
