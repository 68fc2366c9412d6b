//! Backup and restore.

use super::*;
// A backup of that many bytes, laid out as Scrypted's createBackup writes one.
use fake::backups::backup_of_len as zip_bytes;

#[test]
fn create_backup_returns_an_embedded_zip_resource_and_summary() {
    let h = H::new();
    let out = h.call("create_backup", json!({})).unwrap();
    let bytes = h.host.backup.borrow().clone();
    assert_eq!(out.structured["bytes"], bytes.len());
    assert_eq!(out.structured["sha256"], crypto::sha256_hex(&bytes));
    assert!(out.structured["warning"]
        .as_str()
        .unwrap()
        .contains("every secret"));
    assert_eq!(out.extra_content.len(), 1);
    // As it goes on the wire: the MCP `EmbeddedResource` with `BlobResourceContents`.
    let block = serde_json::to_value(&out.extra_content[0]).unwrap();
    assert_eq!(block["type"], "resource");
    assert_eq!(block["resource"]["mimeType"], "application/zip");
    assert_eq!(
        block["resource"]["uri"],
        "scrypted-mcp://backup/20261121T100000Z.zip"
    );
    assert_eq!(
        crypto::b64_decode(block["resource"]["blob"].as_str().unwrap()).unwrap(),
        bytes
    );
    assert_eq!(h.mutations(), Vec::<String>::new());
}

#[test]
fn create_backup_refuses_one_over_max_restore_mb() {
    let h = H::new();
    h.store.set("settings.max_restore_mb", "1");
    *h.host.backup.borrow_mut() = vec![b'P'; 2 * 1024 * 1024];
    h.fails_saying("create_backup", json!({}), "max_restore_mb");
}

const CONFIRM: &str = "RESTORE FROM BACKUP";

fn accept() -> Elicited {
    let mut m = Map::new();
    m.insert("decision".into(), json!("RESTORE"));
    Elicited::Accept(m)
}

fn one_shot(bytes: &[u8]) -> Value {
    json!({
        "confirm": CONFIRM,
        "chunk_base64": crypto::b64(bytes),
        "chunk_index": 0,
        "total_chunks": 1,
        "sha256": crypto::sha256_hex(bytes),
    })
}

/// Stages the first `count` chunks of a `total`-chunk upload, each `chunk`; the upload id.
fn stage(h: &H, chunk: &str, count: usize, total: usize) -> String {
    let first = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "chunk_base64": chunk, "chunk_index": 0, "total_chunks": total}),
    );
    let id = first["upload_id"].as_str().unwrap().to_string();
    for i in 1..count {
        h.ok(
            "restore_backup",
            json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": chunk, "chunk_index": i, "total_chunks": total}),
        );
    }
    id
}

fn nothing_restored(h: &H) {
    assert!(h.host.deferred().is_empty(), "a restore was scheduled");
}

/// The one deferred call: host.js's restoreBackup with the whole zip, 1.5 s after the answer.
fn assert_restore_deferred(h: &H, data: &[u8]) {
    assert_eq!(
        h.host.deferred(),
        [deferred_call(
            1500,
            "restoreBackup",
            json!({"data": crypto::b64(data)})
        )]
    );
}

#[test]
fn restore_accepted_schedules_the_restore_after_the_answer() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(5000);
    let out = h.ok("restore_backup", one_shot(&data));
    assert_eq!(out["status"], "scheduled");
    assert_eq!(out["delay_ms"], 1500);
    assert_restore_deferred(&h, &data);
    let asked = h.peer.asked.borrow();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].0.contains("5000 bytes"));
    assert_eq!(asked[0].1["properties"]["decision"]["enum"][0], "RESTORE");
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
}

/// On a real 0.144.2 the plugins came back from the packages stored in the restored
/// database within about 2 s, with no network (docs/reference/scrypted-host.md §13): no npm, no internet.
#[test]
fn restore_says_plugins_come_back_from_the_backup_not_npm() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let out = h.ok("restore_backup", one_shot(&zip_bytes(5000)));
    let description = catalogue()
        .iter()
        .find(|t| t.name == "restore_backup")
        .unwrap()
        .description;
    let asked = h.peer.asked.borrow()[0].0.clone();
    for text in [out["message"].as_str().unwrap(), description, &asked] {
        assert!(!text.contains("npm"), "{text}");
        assert!(!text.contains("internet"), "{text}");
        assert!(!text.contains("several minutes"), "{text}");
    }
    for text in [out["message"].as_str().unwrap(), description] {
        assert!(text.contains("from the backup"), "{text}");
    }
}

#[test]
fn restore_in_chunks_stages_then_restores() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(150_000);
    let chunks: Vec<&[u8]> = data.chunks(65_536).collect();
    assert_eq!(chunks.len(), 3);
    let first = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "chunk_base64": crypto::b64(chunks[0]), "chunk_index": 0, "total_chunks": 3}),
    );
    assert_eq!(first["status"], "staged");
    assert_eq!(first["missing_chunks"], json!([1, 2]));
    let id = first["upload_id"].as_str().unwrap().to_string();
    // Out of order is fine.
    let out = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": crypto::b64(chunks[2]), "chunk_index": 2, "total_chunks": 3}),
    );
    assert_eq!(out["received_chunks"], 2);
    let out = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": crypto::b64(chunks[1]), "chunk_index": 1, "total_chunks": 3}),
    );
    assert_eq!(out["complete"], true);
    assert_eq!(out["received_bytes"], 150_000);
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
    assert_eq!(h.peer.progress.borrow().len(), 3);
    let out = h.ok(
        "restore_backup",
        json!({"confirm": CONFIRM, "upload_id": id, "sha256": crypto::sha256_hex(&data)}),
    );
    assert_eq!(out["status"], "scheduled");
    assert_restore_deferred(&h, &data);
}

#[test]
fn restore_wrong_confirm_is_refused_before_anything() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let mut args = one_shot(&zip_bytes(1000));
    for wrong in ["restore from backup", "RESTORE FROM BACKUP ", "yes"] {
        args["confirm"] = json!(wrong);
        h.fails_saying("restore_backup", args.clone(), "Nothing was restored");
    }
    h.invalid("restore_backup", json!({"chunk_base64": "UEsDBA=="}));
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
}

#[test]
fn restore_without_elicitation_support_is_refused() {
    let h = H::with_peer(FakePeer::new(false));
    let msg = h.failed("restore_backup", one_shot(&zip_bytes(1000)));
    assert!(
        msg.contains("elicitation") && msg.contains("Nothing was restored"),
        "{msg}"
    );
    nothing_restored(&h);
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
}

#[test]
fn restore_declined_cancelled_or_not_chosen_restores_nothing() {
    let mut other = Map::new();
    other.insert("decision".into(), json!("KEEP CURRENT SERVER"));
    for (answer, says) in [
        (Ok(Elicited::Decline), "declined"),
        (Ok(Elicited::Cancel), "cancelled"),
        (Ok(Elicited::Accept(other)), "chose not to restore"),
        (Ok(Elicited::Accept(Map::new())), "chose not to restore"),
        (Err("session closed".to_string()), "dialog failed"),
    ] {
        let peer = FakePeer::new(true);
        peer.answers.borrow_mut().push(answer);
        let h = H::with_peer(peer);
        let msg = h.failed("restore_backup", one_shot(&zip_bytes(1000)));
        assert!(
            msg.contains(says) && msg.contains("Nothing was restored"),
            "{msg}"
        );
        assert_eq!(h.peer.asked.borrow().len(), 1);
        nothing_restored(&h);
    }
}

#[test]
fn restore_oversized_is_refused() {
    let h = H::with_peer(FakePeer::answering(accept()));
    h.store.set("settings.max_restore_mb", "1");
    // 17 chunks of 64 KiB exceed 1 MB.
    let mut args = one_shot(&zip_bytes(1000));
    args["total_chunks"] = json!(17);
    h.fails_saying("restore_backup", args, "max_restore_mb");
    // Chunks that add up past the bound.
    stage(&h, &crypto::b64(&zip_bytes(65_536)), 16, 16);
    assert_eq!(h.plugin.ctx.tools.staged_bytes(), 1024 * 1024);
    // A single chunk over 64 KiB.
    h.invalid("restore_backup", json!({"confirm": CONFIRM, "chunk_base64": crypto::b64(&zip_bytes(65_537)), "chunk_index": 0, "total_chunks": 1}));
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
}

#[test]
fn restore_bad_checksum_or_not_a_zip_is_refused_without_asking() {
    let h = H::with_peer(FakePeer::answering(accept()));
    let mut args = one_shot(&zip_bytes(1000));
    args["sha256"] = json!(crypto::sha256_hex(b"something else"));
    let msg = h.failed("restore_backup", args);
    assert!(
        msg.contains("Checksum mismatch") && msg.contains("Nothing was restored"),
        "{msg}"
    );
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
    let not_zip = vec![7u8; 1000];
    h.fails_saying("restore_backup", one_shot(&not_zip), "not a zip");
    nothing_restored(&h);
    assert!(h.peer.asked.borrow().is_empty());
}

#[test]
fn restore_uploads_expire_and_belong_to_their_caller() {
    let mut h = H::with_peer(FakePeer::answering(accept()));
    let data = zip_bytes(1000);
    let id = stage(&h, &crypto::b64(&data[..500]), 1, 2);
    let second = json!({"confirm": CONFIRM, "upload_id": id, "chunk_base64": crypto::b64(&data[500..]), "chunk_index": 1, "total_chunks": 2, "sha256": crypto::sha256_hex(&data)});
    let me = h.caller.clone();
    h.caller = caller("admin", "another-client");
    h.fails_saying("restore_backup", second.clone(), "No staged upload");
    h.caller = me;
    h.clock.advance_ms(31 * 60 * 1000);
    h.fails_saying("restore_backup", second, "No staged upload");
    assert_eq!(h.plugin.ctx.tools.staged_uploads(), 0);
    nothing_restored(&h);
}

/// Restoring before every chunk arrived is refused, naming each missing chunk.
#[test]
fn restore_of_an_incomplete_upload_is_refused() {
    for (staged, total, missing) in [(1, 2, "[1]"), (2, 5, "[2, 3, 4]")] {
        let h = H::with_peer(FakePeer::answering(accept()));
        let data = zip_bytes(1000);
        let id = stage(&h, &crypto::b64(&data[..250]), staged, total);
        let msg = h.failed(
            "restore_backup",
            json!({"confirm": CONFIRM, "upload_id": id, "sha256": crypto::sha256_hex(&data)}),
        );
        let expected =
            format!("Upload {id} is incomplete: missing chunks {missing}. Nothing was restored.");
        assert!(msg.contains(&expected), "{msg}");
        nothing_restored(&h);
    }
}

#[test]
fn restore_staging_space_is_shared_across_connections() {
    let mut h = H::with_peer(FakePeer::answering(accept()));
    h.store.set("settings.max_restore_mb", "1");
    let chunk = crypto::b64(&zip_bytes(65_536));
    stage(&h, &chunk, 15, 16);
    // 15 of 16 MiB-sixteenths staged by one connection; another one gets one chunk in, not two.
    h.caller = caller("admin", "second");
    let other_id = stage(&h, &chunk, 1, 2);
    let msg = h.failed("restore_backup", json!({"confirm": CONFIRM, "upload_id": other_id, "chunk_base64": chunk, "chunk_index": 1, "total_chunks": 2}));
    assert!(msg.contains("other connections"), "{msg}");
    assert_eq!(h.plugin.ctx.tools.staged_bytes(), 1024 * 1024);
    nothing_restored(&h);
}

/// backup.ts restore opens and tests the zip (adm-zip) before it changes anything, and then
/// extracts it in place of the database it deletes: a zip it would refuse, or one that holds
/// no database, is refused once the user has answered, nothing is scheduled, and the upload
/// is gone.
#[test]
fn restore_refuses_a_zip_scrypted_would_refuse_or_one_without_a_database() {
    let mut not_zip = b"PK\x03\x04".to_vec();
    not_zip.extend(std::iter::repeat_n(7u8, 5000));
    let mut damaged = zip_bytes(5000);
    damaged[200] ^= 0xff; // inside the log's stored bytes: its CRC no longer matches
    let package = fake::backups::zip_of(&[
        ("main.nodejs.js", b"module.exports = {};"),
        ("scrypted_mcp_bg.wasm", b"\0asm"),
    ]);
    for (zip, says) in [
        (not_zip, "Scrypted would refuse this zip (Invalid or unsupported zip format. No END header found)"),
        (damaged, "Scrypted would refuse this zip (backup zip test failed.)"),
        (package, "holds no Scrypted database: a backup has the database's files at its top level (CURRENT, MANIFEST-…, *.log), and it has main.nodejs.js, scrypted_mcp_bg.wasm"),
    ] {
        let h = H::with_peer(FakePeer::answering(accept()));
        let msg = h.failed("restore_backup", one_shot(&zip));
        assert!(
            msg.contains(says)
                && msg.contains("The upload was discarded")
                && msg.ends_with("Nothing was restored."),
            "{msg}"
        );
        nothing_restored(&h);
        assert_eq!(h.plugin.ctx.tools.staged_bytes(), 0, "the upload is gone");
    }
}
