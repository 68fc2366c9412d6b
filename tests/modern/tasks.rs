//! The tasks extension (`io.modelcontextprotocol/tasks`): the long tools answer a client
//! that declares it with a task handle, `tasks/get` inlines the result, the handle
//! belongs to its client and user, and clients without the extension get plain calls
//! and -32021 on the `tasks/*` methods.

use super::*;
use scrypted_mcp::{audit, crypto};

const TASKS: &str = "io.modelcontextprotocol/tasks";

fn with_tasks() -> Value {
    json!({"elicitation": {}, "extensions": {TASKS: {}}})
}

fn create_backup(caps: Value) -> Rpc {
    rpc(
        "tools/call",
        json!({"name": "create_backup", "arguments": {}}),
    )
    .caps(caps)
}

fn task_call(method: &str, task_id: &str) -> Rpc {
    rpc(method, json!({"taskId": task_id}))
        .caps(with_tasks())
        .id(json!(5))
}

/// A CreateTaskResult: flat, with the fields the extension names, no requestState.
fn created(reply: &reply::Reply) -> String {
    assert_eq!(reply.status, 200);
    let r = reply.result();
    assert_eq!(r["resultType"], "task", "{r}");
    for field in ["taskId", "status", "createdAt", "lastUpdatedAt"] {
        assert!(r.get(field).is_some(), "{field}: {r}");
    }
    assert_eq!(r["ttlMs"], 3_600_000);
    assert!(r["pollIntervalMs"].is_u64(), "{r}");
    assert!(
        r.get("task").is_none() && r.get("requestState").is_none(),
        "{r}"
    );
    r["taskId"].as_str().unwrap().to_string()
}

#[test]
fn discover_advertises_the_extension() {
    let s = server();
    let r = s.post(&rpc("server/discover", json!({}))).result();
    assert_eq!(r["capabilities"]["extensions"][TASKS], json!({}));
    assert!(r["capabilities"].get("tasks").is_none());
}

#[test]
fn create_backup_is_a_task_whose_result_tasks_get_inlines() {
    let s = server();
    let id = created(&s.post(&create_backup(with_tasks())));
    let got = s.post(&task_call("tasks/get", &id));
    assert_eq!(got.status, 200);
    let r = got.result();
    assert_eq!(r["resultType"], "complete", "{r}");
    assert_eq!(r["taskId"], id.as_str());
    assert_eq!(r["status"], "completed", "{r}");
    let data = crypto::b64_decode(
        r["result"]["content"][1]["resource"]["blob"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        r["result"]["structuredContent"]["sha256"],
        crypto::sha256_hex(&data)
    );
    assert!(r.get("requestState").is_none());
    // Cancelling a finished task acknowledges and changes nothing.
    let ack = s.post(&task_call("tasks/cancel", &id)).result();
    assert_eq!(
        ack,
        json!({"resultType": "complete", "_meta": ack["_meta"]})
    );
    assert_eq!(
        s.post(&task_call("tasks/get", &id)).result()["status"],
        "completed"
    );
}

#[test]
fn without_the_extension_the_call_is_plain_and_tasks_methods_are_refused() {
    let s = server();
    let r = s.post(&create_backup(json!({}))).result();
    assert_eq!(r["resultType"], "complete");
    assert!(r.get("taskId").is_none());
    assert_eq!(r["structuredContent"]["mime_type"], "application/zip");
    let id = created(&s.post(&create_backup(with_tasks())));
    for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
        let call = task_call(method, &id).caps(json!({}));
        let reply = s.post(&call);
        assert_rejected(&reply, 400, -32021, json!(5));
        assert_eq!(
            reply.response()["error"]["data"]["requiredCapabilities"]["extensions"][TASKS],
            json!({})
        );
    }
}

#[test]
fn a_task_belongs_to_its_client_and_unknown_ids_are_invalid_params() {
    let s = server();
    let id = created(&s.post(&create_backup(with_tasks())));
    let other = flow::obtain_tokens(&s.plugin, HOST).access_token;
    for method in ["tasks/get", "tasks/cancel"] {
        let reply = read(s.send(task_call(method, &id).request(&other)));
        assert_rejected(&reply, 200, -32602, json!(5));
    }
    assert_rejected(
        &s.post(&task_call("tasks/get", "no-such-task")),
        200,
        -32602,
        json!(5),
    );
    // The owner still sees it.
    assert_eq!(
        s.post(&task_call("tasks/get", &id)).result()["status"],
        "completed"
    );
}

#[test]
fn tasks_methods_need_the_task_id_in_mcp_name() {
    let s = server();
    let id = created(&s.post(&create_backup(with_tasks())));
    let wrong = task_call("tasks/get", &id).header("Mcp-Name", Some("another-task"));
    assert_rejected(&s.post(&wrong), 400, -32020, json!(5));
    let missing = task_call("tasks/get", &id).header("Mcp-Name", None);
    assert_rejected(&s.post(&missing), 400, -32020, json!(5));
}

#[test]
fn restore_confirms_through_mrtr_then_runs_as_a_task() {
    let s = server();
    let data = common::fake::backups::backup_of(b"a small backup");
    let args = json!({
        "confirm": "RESTORE FROM BACKUP",
        "chunk_base64": crypto::b64(&data),
        "chunk_index": 0,
        "total_chunks": 1,
        "sha256": crypto::sha256_hex(&data),
    });
    let call = || {
        rpc(
            "tools/call",
            json!({"name": "restore_backup", "arguments": args}),
        )
        .caps(with_tasks())
    };
    let first = s.post(&call()).result();
    assert_eq!(first["resultType"], "input_required", "{first}");
    assert!(first.get("taskId").is_none());
    let retry = call().answering(
        &first,
        json!({"elicitation_1": {"action": "accept", "content": {"decision": "RESTORE"}}}),
    );
    let id = created(&s.post(&retry));
    let r = s.post(&task_call("tasks/get", &id)).result();
    assert_eq!(r["status"], "completed", "{r}");
    assert_eq!(r["result"]["structuredContent"]["status"], "scheduled");
    assert_eq!(s.host.deferred().len(), 1);
    // Staging a chunk stays a plain call.
    let mut stage = args.clone();
    stage.as_object_mut().unwrap().remove("sha256");
    let staged = s
        .post(
            &rpc(
                "tools/call",
                json!({"name": "restore_backup", "arguments": stage}),
            )
            .caps(with_tasks()),
        )
        .result();
    assert_eq!(staged["resultType"], "complete");
    assert_eq!(staged["structuredContent"]["status"], "staged");
}

#[test]
fn listening_for_task_notifications_needs_the_extension_and_names_only_own_tasks() {
    let s = server();
    let ask = |caps: Value| {
        super::listen::listen(json!({"taskIds": ["some-task"], "toolsListChanged": true}))
            .caps(caps)
            .id(json!(9))
    };
    let refused = s.post(&ask(json!({})));
    assert_rejected(&refused, 400, -32021, json!(9));
    assert_eq!(
        refused.response()["error"]["data"]["requiredCapabilities"]["extensions"][TASKS],
        json!({})
    );
    // taskIds must be a list of ids.
    let malformed = super::listen::listen(json!({"taskIds": "some-task"}))
        .caps(with_tasks())
        .id(json!(8));
    assert_rejected(&s.post(&malformed), 200, -32602, json!(8));
    // With the extension the stream opens; an id that is no task of the caller's is left
    // out of the acknowledgement.
    let mut stream = super::listen::open(&s, &ask(with_tasks()));
    let ack = super::listen::message(super::listen::ready(&mut stream));
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert!(
        ack["params"]["notifications"].get("taskIds").is_none(),
        "{ack}"
    );
}

/// What takes access away in Settings cancels at once, before the held host call returns,
/// the running tasks that no longer have it: Revoke all and read-only mode every app's, an
/// app's revoke and its lowered scope only that app's. The held backup never finishes and
/// the call is audited as cancelled; the other app's task runs on where it keeps access.
#[test]
fn settings_that_take_access_away_cancel_the_tasks_that_need_it() {
    for (setting, every_app) in [
        ("revoke_all", true),
        ("revoke_client", false),
        ("read_only", true),
        ("scope", false),
    ] {
        let s = server();
        s.host.hold("createBackup");
        let apps: Vec<flow::Tokens> = (0..2)
            .map(|_| flow::obtain_tokens(&s.plugin, HOST))
            .collect();
        let post = |app: &flow::Tokens, rpc: &Rpc| read(s.send(rpc.request(&app.access_token)));
        let ids: Vec<String> = apps
            .iter()
            .map(|app| created(&post(app, &create_backup(with_tasks()))))
            .collect();
        for (app, id) in apps.iter().zip(&ids) {
            assert_eq!(
                post(app, &task_call("tasks/get", id)).result()["status"],
                "working"
            );
        }
        let first = &apps[0].client_id;
        let (key, value) = match setting {
            "revoke_all" => (setting.to_string(), Value::Null),
            "revoke_client" => (format!("revoke_client:{first}"), Value::Null),
            "read_only" => (setting.to_string(), json!(true)),
            _ => (format!("scope:{first}"), json!("scrypted:control")),
        };
        let outcome = |app: &flow::Tokens| -> Vec<String> {
            audit::recent(&s.plugin.ctx, 50)
                .into_iter()
                .filter(|e| e.client_id == app.client_id && e.tool == "create_backup")
                .map(|e| e.outcome)
                .collect()
        };
        block_on(s.plugin.put_setting(&key, value)).unwrap();
        assert_eq!(outcome(&apps[0]), ["cancelled"], "{setting}");
        s.host.release("createBackup");
        assert_eq!(outcome(&apps[0]), ["cancelled"], "{setting}");
        if every_app {
            assert_eq!(outcome(&apps[1]), ["cancelled"], "{setting}");
        } else {
            let r = post(&apps[1], &task_call("tasks/get", &ids[1])).result();
            assert_eq!(r["status"], "completed", "{setting}: {r}");
            assert_eq!(outcome(&apps[1]), ["ok"], "{setting}");
        }
    }
}

/// However the grant behind a task ends (here its user removed or no longer an admin, which
/// ends all their grants), the task stops before its next step: the task pump (which the
/// wasm glue spawns) finds the grant gone when the held host call returns.
#[test]
fn a_task_stops_once_the_grant_behind_it_has_ended() {
    let s = server();
    s.host.hold("createBackup");
    let id = created(&s.post(&create_backup(with_tasks())));
    assert_eq!(
        s.post(&task_call("tasks/get", &id)).result()["status"],
        "working"
    );
    let plugin = s.plugin.clone();
    let mut pump = Box::pin(async move { plugin.pump_tasks().await });
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    assert!(std::future::Future::poll(pump.as_mut(), &mut cx).is_pending());
    assert_eq!(
        scrypted_mcp::oauth::revoke_subject(&s.plugin.ctx, "admin"),
        1
    );
    s.host.release("createBackup");
    assert!(std::future::Future::poll(pump.as_mut(), &mut cx).is_pending());
    let outcomes: Vec<String> = audit::recent(&s.plugin.ctx, 50)
        .into_iter()
        .filter(|e| e.tool == "create_backup")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes, ["cancelled"]);
}
