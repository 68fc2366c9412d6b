//! restore_backup's confirmation through multi round-trip requests (2026-07-28
//! basic/patterns/mrtr.mdx): the `InputRequiredResult`, the retry that completes it, and
//! every `requestState` the server must refuse — modified, another client's, expired,
//! for other arguments — each refused with nothing run.

use super::*;
// A backup of that many bytes, laid out as Scrypted's createBackup writes one.
use common::fake::backups::backup_of_len as zip_bytes;
use scrypted_mcp::audit;
use scrypted_mcp::crypto;

const CONFIRM: &str = "RESTORE FROM BACKUP";
const ELICITATION: &str = r#"{"elicitation": {}}"#;

fn restore_args(data: &[u8]) -> Value {
    json!({
        "confirm": CONFIRM,
        "chunk_base64": crypto::b64(data),
        "chunk_index": 0,
        "total_chunks": 1,
        "sha256": crypto::sha256_hex(data),
    })
}

fn restore(arguments: &Value) -> Rpc {
    rpc(
        "tools/call",
        json!({"name": "restore_backup", "arguments": arguments}),
    )
    .caps(serde_json::from_str(ELICITATION).unwrap())
}

/// The same call again, answering `key` with `answer` under `state`.
fn retry(arguments: &Value, key: &str, answer: Value, state: &str) -> Rpc {
    let mut call = restore(arguments).id(json!(2));
    call.params
        .insert("inputResponses".into(), json!({ key: answer }));
    call.params.insert("requestState".into(), json!(state));
    call
}

fn pick(decision: &str) -> Value {
    json!({"action": "accept", "content": {"decision": decision}})
}

/// The first round: the question's key and the state to echo.
fn asked(s: &Server, arguments: &Value) -> (String, String) {
    let reply = s.post(&restore(arguments));
    assert_eq!(reply.status, 200);
    let r = reply.result();
    assert_eq!(r["resultType"], "input_required", "{r}");
    let requests = r["inputRequests"].as_object().expect("inputRequests");
    assert_eq!(requests.len(), 1, "{r}");
    let (key, request) = requests.iter().next().unwrap();
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["mode"], "form");
    let form = &request["params"]["requestedSchema"]["properties"]["decision"];
    assert_eq!(form["enum"], json!(["RESTORE", "KEEP CURRENT SERVER"]));
    (
        key.clone(),
        r["requestState"]
            .as_str()
            .expect("requestState")
            .to_string(),
    )
}

fn outcomes(s: &Server) -> Vec<String> {
    let mut all: Vec<String> = audit::recent(&s.plugin.ctx, 50)
        .into_iter()
        .map(|e| format!("{} {}", e.tool, e.outcome))
        .collect();
    all.reverse();
    all
}

/// The form is a restricted JSON Schema (2026-07-28 client/elicitation.mdx, "Requested
/// Schema"): a flat object of primitives, here one required single-select string enum.
#[test]
fn the_confirmation_form_is_one_required_choice() {
    let s = server();
    let first = s.post(&restore(&restore_args(&zip_bytes(5000))));
    let schema = &first.result()["inputRequests"]["elicitation_1"]["params"]["requestedSchema"];
    assert_eq!(
        *schema,
        json!({
            "type": "object",
            "properties": {
                "decision": {
                    "type": "string",
                    "title": "Restore this backup?",
                    "description": "RESTORE replaces every plugin, device, user and setting on this Scrypted server and restarts it.",
                    "enum": ["RESTORE", "KEEP CURRENT SERVER"],
                }
            },
            "required": ["decision"],
        })
    );
}

#[test]
fn the_confirmation_is_an_input_required_result_and_the_retry_restores() {
    let s = server();
    let data = zip_bytes(5000);
    let args = restore_args(&data);
    let first = s.post(&restore(&args));
    let message = first.result()["inputRequests"]["elicitation_1"]["params"]["message"].clone();
    assert!(
        message.as_str().unwrap().contains("5000 bytes"),
        "the dialog names what it restores: {message}"
    );
    assert!(
        s.host.deferred().is_empty(),
        "nothing runs before the answer"
    );
    let (key, state) = asked(&s, &args);
    let reply = s.post(&retry(&args, &key, pick("RESTORE"), &state));
    let r = reply.result();
    assert_eq!(r["resultType"], "complete", "{r}");
    assert_eq!(r["isError"], false, "{r}");
    assert_eq!(r["structuredContent"]["status"], "scheduled");
    let deferred = s.host.deferred();
    assert_eq!(deferred.len(), 1);
    assert_eq!(deferred[0]["method"], "restoreBackup");
    assert_eq!(deferred[0]["args"]["data"], crypto::b64(&data));
    assert_eq!(
        outcomes(&s),
        [
            "restore_backup input_required",
            "restore_backup input_required",
            "restore_backup ok"
        ]
    );
    // A state answers once: replaying the retry (its chunk would stage the backup
    // again) restores nothing a second time.
    let again = s.post(&retry(&args, &key, pick("RESTORE"), &state));
    assert_rejected(&again, 200, -32602, json!(2));
    assert!(again.response()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(s.host.deferred().len(), 1);
}

#[test]
fn a_user_who_does_not_pick_restore_restores_nothing() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    for answer in [
        pick("KEEP CURRENT SERVER"),
        json!({"action": "decline"}),
        json!({"action": "cancel"}),
    ] {
        let (key, state) = asked(&s, &args);
        let r = s.post(&retry(&args, &key, answer.clone(), &state)).result();
        assert_eq!(r["isError"], true, "{answer}: {r}");
        let text = r["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("Nothing was restored"), "{text}");
    }
    assert!(s.host.deferred().is_empty());
}

#[test]
fn an_answer_without_the_state_that_asked_for_it_is_asked_again() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    let mut forged = restore(&args);
    forged.params.insert(
        "inputResponses".into(),
        json!({"elicitation_1": pick("RESTORE")}),
    );
    let r = s.post(&forged).result();
    assert_eq!(r["resultType"], "input_required", "{r}");
    assert!(s.host.deferred().is_empty());
}

/// Each refused retry: HTTP 200 (an error of the method), -32602 echoing the id, a
/// message saying why, and nothing stored, audited or scheduled.
fn assert_state_refused(s: &Server, call: &Rpc, why: &str) {
    let before = s.stored();
    let reply = s.post(call);
    assert_rejected(&reply, 200, -32602, json!(2));
    let message = reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains(why), "{message}");
    assert_eq!(s.stored(), before, "nothing changed");
    assert!(s.host.deferred().is_empty(), "nothing restored");
}

#[test]
fn a_modified_state_is_refused() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    let (key, state) = asked(&s, &args);
    let (payload, tag) = state.split_once('.').unwrap();
    // The payload names its client, user, arguments and expiry: change one letter of it.
    let mut bytes = crypto::b64url_decode(payload).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    let edited = format!("{}.{tag}", crypto::b64url(&bytes));
    for bad in [
        format!("{state}-TAMPERED"),
        edited,
        format!("{payload}.{}", crypto::b64url(&[0u8; 32])),
        "not-a-state".to_string(),
    ] {
        assert_state_refused(&s, &retry(&args, &key, pick("RESTORE"), &bad), "modified");
    }
    let mut number = retry(&args, &key, pick("RESTORE"), &state);
    number.params.insert("requestState".into(), json!(42));
    assert_state_refused(&s, &number, "must be the string");
}

#[test]
fn another_clients_state_is_refused() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    let (key, state) = asked(&s, &args);
    let other = flow::obtain_tokens(&s.plugin, HOST).access_token;
    let call = retry(&args, &key, pick("RESTORE"), &state);
    let before = s.stored();
    let reply = read(s.send(call.request(&other)));
    assert_rejected(&reply, 200, -32602, json!(2));
    let message = reply.response()["error"]["message"].to_string();
    assert!(message.contains("another client"), "{message}");
    assert_eq!(s.stored(), before);
    assert!(s.host.deferred().is_empty());
}

#[test]
fn an_expired_state_is_refused() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    let (key, state) = asked(&s, &args);
    s.clock.advance_ms(10 * 60 * 1000);
    // The access token outlives the state (1 h by default).
    assert_state_refused(&s, &retry(&args, &key, pick("RESTORE"), &state), "expired");
}

#[test]
fn a_state_is_bound_to_its_tool_and_exact_arguments() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    let (key, state) = asked(&s, &args);
    let other_backup = restore_args(&zip_bytes(1001));
    assert_state_refused(
        &s,
        &retry(&other_backup, &key, pick("RESTORE"), &state),
        "other arguments",
    );
    let mut other_tool = retry(&args, &key, pick("RESTORE"), &state);
    other_tool
        .params
        .insert("name".into(), json!("create_backup"));
    let mut other_tool = other_tool.header("Mcp-Name", Some("create_backup"));
    other_tool.params.insert("arguments".into(), json!({}));
    assert_state_refused(&s, &other_tool, "issued for tools/call restore_backup");
}

#[test]
fn malformed_input_responses_are_invalid_params() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    for responses in [json!(null), json!([1]), json!({"elicitation_1": 12345})] {
        let mut call = restore(&args).id(json!(2));
        call.params
            .insert("inputResponses".into(), responses.clone());
        let before = s.stored();
        let reply = s.post(&call);
        assert_rejected(&reply, 200, -32602, json!(2));
        assert_eq!(s.stored(), before, "{responses}");
    }
}

/// 2026-07-28 basic/index: "If processing a request requires a capability the client did
/// not include in `io.modelcontextprotocol/clientCapabilities`, the server MUST return a
/// `MissingRequiredClientCapabilityError` (`-32021`) whose `data.requiredCapabilities` lists
/// the missing capabilities. On HTTP, the response status MUST be `400 Bad Request`."
/// restore_backup asks the user in a form on every call; URL mode alone is no form.
#[test]
fn a_modern_client_without_form_elicitation_is_told_what_to_declare() {
    let s = server();
    let args = restore_args(&zip_bytes(1000));
    for caps in [json!({}), json!({"elicitation": {"url": {}}})] {
        let reply = s.post(&restore(&args).caps(caps.clone()));
        assert_rejected(&reply, 400, -32021, json!(1));
        assert_eq!(
            reply.response()["error"]["data"]["requiredCapabilities"],
            json!({"elicitation": {"form": {}}}),
            "{caps}"
        );
    }
    assert_eq!(s.plugin.ctx.tools.staged_uploads(), 0);
    assert!(s.host.deferred().is_empty());
    let asked = s
        .post(&restore(&args).caps(json!({"elicitation": {"form": {}}})))
        .result();
    assert_eq!(asked["resultType"], "input_required", "{asked}");
}

#[test]
fn methods_that_cannot_ask_ignore_input_fields() {
    let s = server();
    let mut list = rpc("tools/list", json!({}));
    list.params
        .insert("requestState".into(), json!("anything at all"));
    let r = s.post(&list).result();
    assert_eq!(r["resultType"], "complete");
}

#[test]
fn the_same_app_authorized_by_another_user_cannot_use_the_state() {
    let s = server();
    let client = flow::register(&s.plugin, HOST);
    let admin = flow::tokens_as(&s.plugin, HOST, &client, "scrypted:admin", "admin");
    s.host.add_admin("second-admin");
    let second = flow::tokens_as(&s.plugin, HOST, &client, "scrypted:admin", "second-admin");
    let args = restore_args(&zip_bytes(1000));
    let first = read(s.send(restore(&args).request(&admin.access_token))).result();
    let state = first["requestState"].as_str().unwrap();
    let call = retry(&args, "elicitation_1", pick("RESTORE"), state);
    let before = s.stored();
    let reply = read(s.send(call.request(&second.access_token)));
    assert_rejected(&reply, 200, -32602, json!(2));
    assert!(reply.response()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("another client or user"));
    assert_eq!(s.stored(), before);
    assert!(s.host.deferred().is_empty());
}

#[test]
fn a_call_that_asks_nothing_hashes_its_arguments_once_for_the_audit_trail() {
    let (plugin, host, store, clock) = common::plugin();
    let token = flow::obtain_tokens(&plugin, HOST).access_token;
    let counting = common::CountingReads::over(store, audit::HASH_KEY);
    let plugin = Plugin::new(host, counting.clone(), clock);
    let call = rpc(
        "tools/call",
        json!({"name": "get_server_info", "arguments": {}}),
    );
    let reply = read(block_on(plugin.handle(call.request(&token))));
    assert_eq!(reply.status, 200);
    assert_eq!(audit::recent(&plugin.ctx, 1)[0].tool, "get_server_info");
    // Each hash reads its key: one for the audit entry, none for an MRTR round never asked.
    assert_eq!(counting.reads.get(), 1);
}

/// The states already used are remembered in memory only: one used before the plugin
/// restarted (a restore restarts it) is refused after, not answered a second time.
#[test]
fn a_state_from_before_a_restart_is_refused() {
    let s = server();
    let args = restore_args(&zip_bytes(3000));
    let (key, state) = asked(&s, &args);
    let r = s
        .post(&retry(&args, &key, pick("RESTORE"), &state))
        .result();
    assert_eq!(r["structuredContent"]["status"], "scheduled", "{r}");
    let restarted = Server {
        plugin: scrypted_mcp::Plugin::new(s.host.clone(), s.store.clone(), s.clock.clone()),
        host: s.host.clone(),
        store: s.store.clone(),
        clock: s.clock.clone(),
        token: s.token.clone(),
    };
    for answer in [pick("RESTORE"), pick("KEEP CURRENT SERVER")] {
        let again = restarted.post(&retry(&args, &key, answer, &state));
        assert_rejected(&again, 200, -32602, json!(2));
        let message = again.response()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("before this server restarted"),
            "{message}"
        );
    }
    assert_eq!(s.host.deferred().len(), 1, "restored once");
    // A new round on the restarted plugin asks again and restores.
    let (key, state) = asked(&restarted, &args);
    let r = restarted
        .post(&retry(&args, &key, pick("RESTORE"), &state))
        .result();
    assert_eq!(r["structuredContent"]["status"], "scheduled", "{r}");
}
