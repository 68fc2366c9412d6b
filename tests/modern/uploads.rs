//! restore_backup's upload handles over HTTP: minted by the server on the first chunk,
//! passed as an argument afterwards, so they belong to no MCP session — one handle
//! carries across requests of both eras — but to the OAuth client and user that made
//! them; another client's or an expired handle is refused and changes nothing.

use super::*;
// A backup of that many bytes, laid out as Scrypted's createBackup writes one.
use common::fake::backups::backup_of_len as zip_bytes;
use scrypted_mcp::crypto;

const CONFIRM: &str = "RESTORE FROM BACKUP";

/// A 2026 restore_backup call from a client that declared elicitation.
fn modern_call(arguments: Value) -> Rpc {
    rpc(
        "tools/call",
        json!({"name": "restore_backup", "arguments": arguments}),
    )
    .caps(json!({"elicitation": {}}))
}

fn chunk(upload_id: Option<&str>, data: &[u8], index: u32, total: u32) -> Value {
    let mut args = json!({
        "confirm": CONFIRM,
        "chunk_base64": crypto::b64(data),
        "chunk_index": index,
        "total_chunks": total,
    });
    if let Some(id) = upload_id {
        args["upload_id"] = json!(id);
    }
    args
}

/// A 2025-06-18 session that declared elicitation.
fn legacy_session(s: &Server) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {"elicitation": {}},
        "clientInfo": {"name": "legacy-uploader", "version": "1"}}});
    let resp = flow::rpc(&s.plugin, HOST, &s.token, None, init);
    let id = resp.get_header("mcp-session-id").unwrap().to_string();
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(
        flow::rpc(&s.plugin, HOST, &s.token, Some(&id), note).status,
        202
    );
    id
}

fn legacy_call(s: &Server, session: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "restore_backup", "arguments": arguments}});
    let mut req = flow::mcp_post(HOST, &s.token, &body);
    flow::in_session(&mut req, session);
    req.headers.insert(
        "accept".into(),
        "application/json, text/event-stream".into(),
    );
    read(s.send(req)).result()
}

#[test]
fn a_handle_carries_across_requests_and_eras_to_a_confirmed_restore() {
    let s = server();
    let data = zip_bytes(3000);
    let first = s
        .post(&modern_call(chunk(None, &data[..1000], 0, 3)))
        .result();
    let handle = first["structuredContent"]["upload_id"]
        .as_str()
        .expect("a server-minted handle")
        .to_string();
    assert_eq!(first["structuredContent"]["status"], "staged");
    // The second chunk through a legacy session, the third through another 2026 request.
    let session = legacy_session(&s);
    let second = legacy_call(&s, &session, chunk(Some(&handle), &data[1000..2000], 1, 3));
    assert_eq!(
        second["structuredContent"]["received_chunks"], 2,
        "{second}"
    );
    let third = s
        .post(&modern_call(chunk(Some(&handle), &data[2000..], 2, 3)))
        .result();
    assert_eq!(third["structuredContent"]["complete"], true, "{third}");
    let restore =
        json!({"confirm": CONFIRM, "upload_id": handle, "sha256": crypto::sha256_hex(&data)});
    let asked = s.post(&modern_call(restore.clone())).result();
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    let mut retry = modern_call(restore).id(json!(2));
    retry.params.insert(
        "inputResponses".into(),
        json!({"elicitation_1": {"action": "accept", "content": {"decision": "RESTORE"}}}),
    );
    retry
        .params
        .insert("requestState".into(), asked["requestState"].clone());
    let done = s.post(&retry).result();
    assert_eq!(done["structuredContent"]["status"], "scheduled", "{done}");
    let deferred = s.host.deferred();
    assert_eq!(deferred.len(), 1);
    assert_eq!(deferred[0]["args"]["data"], crypto::b64(&data));
    assert_eq!(s.plugin.ctx.tools.staged_uploads(), 0);
}

/// A 2,000-byte backup whose first half is staged by the server's own token: the backup
/// and the upload handle.
fn first_half_staged(s: &Server) -> (Vec<u8>, String) {
    let data = zip_bytes(2000);
    let first = s
        .post(&modern_call(chunk(None, &data[..1000], 0, 2)))
        .result();
    let handle = first["structuredContent"]["upload_id"].as_str().unwrap();
    (data, handle.to_string())
}

/// A refused chunk: an `isError` result (HTTP 200) naming the handle, the staged upload
/// as it was, nothing restored.
fn assert_handle_refused(s: &Server, reply: &reply::Reply, staged_bytes: usize) {
    assert_eq!(reply.status, 200);
    let r = reply.result();
    assert_eq!(r["isError"], true, "{r}");
    let text = r["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("No staged upload"), "{text}");
    assert_eq!(s.plugin.ctx.tools.staged_bytes(), staged_bytes);
    assert!(s.host.deferred().is_empty());
}

#[test]
fn another_clients_handle_is_refused() {
    let s = server();
    let (data, handle) = first_half_staged(&s);
    let handle = handle.as_str();
    let other = flow::obtain_tokens(&s.plugin, HOST).access_token;
    let rest = modern_call(chunk(Some(handle), &data[1000..], 1, 2));
    let reply = read(s.send(rest.request(&other)));
    assert_handle_refused(&s, &reply, 1000);
    // The owner still can.
    let mine = s.post(&rest).result();
    assert_eq!(mine["structuredContent"]["complete"], true, "{mine}");
}

#[test]
fn an_expired_handle_is_refused() {
    let s = server();
    let (data, handle) = first_half_staged(&s);
    let handle = handle.as_str();
    s.clock.advance_ms(30 * 60 * 1000);
    let reply = s.post(&modern_call(chunk(Some(handle), &data[1000..], 1, 2)));
    assert_handle_refused(&s, &reply, 0);
    assert_eq!(s.plugin.ctx.tools.staged_uploads(), 0);
}

#[test]
fn the_same_app_authorized_by_another_user_cannot_use_the_handle() {
    let s = server();
    let client = flow::register(&s.plugin, HOST);
    let admin = flow::tokens_as(&s.plugin, HOST, &client, "scrypted:admin", "admin");
    s.host.add_admin("second-admin");
    let second = flow::tokens_as(&s.plugin, HOST, &client, "scrypted:admin", "second-admin");
    let data = zip_bytes(2000);
    let first =
        read(s.send(modern_call(chunk(None, &data[..1000], 0, 2)).request(&admin.access_token)));
    let handle = first.result()["structuredContent"]["upload_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rest = modern_call(chunk(Some(&handle), &data[1000..], 1, 2));
    let reply = read(s.send(rest.request(&second.access_token)));
    assert_handle_refused(&s, &reply, 1000);
}
