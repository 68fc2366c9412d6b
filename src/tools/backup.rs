//! Backup and restore: the `backup` component (docs/reference/scrypted-host.md §3.6).
//!
//! A real backup is many MB, but Scrypted rejects JSON bodies over 100 KB, so
//! restore_backup stages the zip in memory over several calls of at most 64 KiB decoded
//! each, then restores once every gate passes: the exact confirm phrase, a client that can
//! show a confirmation dialog and a user who picks RESTORE in it, the size bound
//! (`max_restore_mb`), the SHA-256 of the assembled bytes, the zip signature, and, once the
//! user has confirmed, the zip opened and tested as Scrypted's restore will, holding a
//! database. The restore itself kills every plugin host (ours too), so it runs from a timer
//! after the answer has left.

use super::schema::{ok, tool, NoArgs, DESTRUCTIVE, READ};
use super::{Caller, Elicited, ToolContext, ToolDef, ToolError, ToolResult, SELF_ACTION_DELAY_MS};
use crate::config;
use crate::crypto;
use crate::host::Deferred;
use crate::utc::Utc;
use rmcp::model::{
    ContentBlock, ElicitationSchema, EnumSchema, PrimitiveSchemaDefinition, ResourceContents,
};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The phrase restore_backup's `confirm` must equal.
pub const CONFIRM_PHRASE: &str = "RESTORE FROM BACKUP";
/// Largest chunk, decoded: its base64 plus the JSON-RPC envelope stays under Scrypted's
/// 100 KB body limit.
pub const CHUNK_MAX_BYTES: usize = 64 * 1024;
/// A staged upload is dropped this long after its last chunk.
pub const UPLOAD_TTL_MS: u64 = 30 * 60 * 1000;
/// Uploads staged at once (one per caller; a new one replaces the caller's previous).
pub const MAX_UPLOADS: usize = 4;

/// Zip signatures: a local file header, or the end record of an empty archive.
const ZIP_MAGIC: &[&[u8]] = &[b"PK\x03\x04", b"PK\x05\x06"];

/// Tool state kept in memory between calls (never in plugin storage).
#[derive(Default)]
pub struct ToolsState {
    /// `(upload id, upload)`, at most `MAX_UPLOADS`: a list looked up by a scan, as a map
    /// would be one more copy of the B-tree code in the wasm.
    uploads: RefCell<Vec<(String, Upload)>>,
    /// get_server_info's host reads, briefly reused (src/tools/server.rs `ServerInfoCache`).
    pub(crate) server_info: super::server::ServerInfoCache,
    /// Set while a remove_user runs (src/tools/users.rs `OneRemoval`).
    pub(crate) removing_user: std::cell::Cell<bool>,
}

impl ToolsState {
    /// Uploads currently staged (for health figures and tests).
    pub fn staged_uploads(&self) -> usize {
        self.uploads.borrow().len()
    }

    /// Bytes currently staged.
    pub fn staged_bytes(&self) -> usize {
        self.uploads.borrow().iter().map(|(_, u)| u.bytes).sum()
    }
}

struct Upload {
    owner: (String, String),
    total_chunks: u32,
    /// `(index, bytes)` sorted by index (a binary search finds one).
    chunks: Vec<(u32, Vec<u8>)>,
    bytes: usize,
    touched_ms: u64,
}

impl Upload {
    /// Where chunk `index` is, or where it goes.
    fn chunk(&self, index: u32) -> Result<usize, usize> {
        self.chunks.binary_search_by_key(&index, |(i, _)| *i)
    }
    fn complete(&self) -> bool {
        self.chunks.len() as u32 == self.total_chunks
    }
    fn missing(&self, max: usize) -> Vec<u32> {
        (0..self.total_chunks)
            .filter(|i| self.chunk(*i).is_err())
            .take(max)
            .collect()
    }
}

fn owner(c: &Caller) -> (String, String) {
    (c.sub.clone(), c.client_id.clone())
}

// ---------- create_backup

pub const CREATE_BACKUP: ToolDef = tool! {
    name: "create_backup",
    title: "Create a full backup",
    description: "Creates a full backup of the Scrypted server (its whole database as a zip) and returns it as an embedded resource (base64 zip, application/zip) plus its size and SHA-256. WARNING: the backup holds EVERY SECRET of the server — user password hashes and login tokens that work as Bearer credentials, all plugin storage (camera passwords, API keys), and this plugin's signing secrets (its OAuth token-signing key and HMAC keys, and the audit trail's hash key): whoever holds it can sign access tokens for this plugin's live grants until the key is replaced (Revoke all in the plugin's settings does; so does restoring a backup, on the plugin's next start). Store it like a password vault and never paste it anywhere public. Scrypted also leaves a copy (backup.db) in its volume. Backups larger than max_restore_mb are refused.",
    input: NoArgs,
    output: BackupOut,
    hints: READ,
    scope: Admin,
    run: create_backup,
};

#[derive(Debug, Serialize, JsonSchema)]
pub struct BackupOut {
    /// Size of the zip in bytes.
    pub bytes: usize,
    /// SHA-256 of the zip, hex; pass it to restore_backup.
    pub sha256: String,
    /// URI of the embedded resource that carries the zip.
    pub uri: String,
    pub mime_type: ZipMime,
    pub warning: String,
}

const ZIP_MIME: &str = "application/zip";

/// The backup's media type: always a zip.
#[derive(Debug, Serialize, JsonSchema)]
pub enum ZipMime {
    #[serde(rename = "application/zip")]
    Zip,
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time in ms.
pub fn timestamp(ms: u64) -> String {
    Utc::at(ms).written("", "T", "") + "Z"
}

fn max_restore_bytes(tc: &ToolContext) -> usize {
    config::read(tc.ctx.store.as_ref()).max_restore_mb as usize * 1024 * 1024
}

/// The `warning` of every backup answer.
pub const WARNING: &str = "This backup contains every secret of the Scrypted server (user password hashes and Bearer-usable tokens, all plugin storage) and this plugin's signing secrets (its OAuth token-signing key and HMAC keys, and the audit trail's hash key). Whoever holds it can sign access tokens for this plugin's live grants until the key is replaced (Revoke all in the plugin's settings; restoring a backup does it on the plugin's next start). Keep it private.";

async fn create_backup(tc: Rc<ToolContext>, _a: NoArgs) -> ToolResult {
    // The mark tells a plugin started on this backup's storage to replace the key
    // (oauth/keys.rs); the live storage keeps it only while the host copies it.
    let (store, key_cache) = (tc.ctx.store.as_ref(), &tc.ctx.oauth);
    key_cache.mark_key_backed_up(store);
    let data = tc.ctx.host.create_backup().await;
    crate::oauth::keys::clear_backed_up(store);
    let data = data?;
    let max = max_restore_bytes(&tc);
    if data.len() > max {
        return Err(ToolError::failed(format!(
            "The backup is {} bytes, over max_restore_mb ({} MB): too large to send through this connection or restore with restore_backup. Download it from the Scrypted web UI instead.",
            data.len(),
            max / (1024 * 1024)
        )));
    }
    let sha256 = crypto::sha256_hex(&data);
    let uri = format!(
        "scrypted-mcp://backup/{}.zip",
        timestamp(tc.ctx.clock.now_ms())
    );
    let resource = ContentBlock::resource(
        ResourceContents::blob(crypto::b64(&data), uri.clone()).with_mime_type(ZIP_MIME),
    );
    let out = BackupOut {
        bytes: data.len(),
        sha256,
        uri,
        mime_type: ZipMime::Zip,
        warning: WARNING.into(),
    };
    let mut output = ok(out)?;
    output.extra_content.push(resource);
    Ok(output)
}

// ---------- restore_backup

pub const RESTORE_BACKUP: ToolDef = tool! {
    name: "restore_backup",
    title: "Restore the server from a backup",
    description: "Replaces the ENTIRE Scrypted server (all plugins, devices, users, settings) with a backup zip from create_backup, then restarts it; the plugins come back from the backup (their packages are stored in its database), with no download. Irreversible. Every call needs confirm = \"RESTORE FROM BACKUP\" exactly and a client that supports elicitation: the user must pick RESTORE in a confirmation dialog (decline or cancel restores nothing). Because requests are limited to 100 KB, send the zip in chunks of at most 65536 bytes (decoded): call with chunk_base64, chunk_index (0-based) and total_chunks; the first call (no upload_id) returns an upload_id to pass on every later call. Pass sha256 (hex of the whole zip) with the last chunk, or afterwards with upload_id alone, to restore: the size (max_restore_mb) and checksum are verified first, and once the user confirms, the zip is opened and tested as Scrypted's restore will (a zip it would refuse, or one that holds no Scrypted database, is refused and discarded, nothing restored). Staged chunks are kept in memory for 30 minutes after the last one. The answer arrives before the restart; this MCP session then ends.",
    input: RestoreArgs,
    output: RestoreOut,
    hints: DESTRUCTIVE,
    scope: Admin,
    run: restore_backup,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct RestoreArgs {
    /// Must be exactly "RESTORE FROM BACKUP" on every call.
    pub confirm: String,
    /// The upload returned by the first chunk call; omit to start a new upload.
    #[serde(default)]
    pub upload_id: Option<String>,
    /// One chunk of the backup zip, standard base64, at most 65536 bytes decoded.
    #[serde(default)]
    pub chunk_base64: Option<String>,
    /// 0-based position of this chunk (required with chunk_base64).
    #[serde(default)]
    pub chunk_index: Option<u32>,
    /// Number of chunks in the whole upload (required with chunk_base64).
    #[serde(default)]
    pub total_chunks: Option<u32>,
    /// SHA-256 (hex) of the whole zip; giving it once every chunk is staged starts the restore.
    #[serde(default)]
    pub sha256: Option<String>,
}

crate::fields::args!(RestoreArgs {
    confirm: required,
    upload_id: optional,
    chunk_base64: optional,
    chunk_index: optional,
    total_chunks: optional,
    sha256: optional
});

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestoreStatus {
    Staged,
    Scheduled,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RestoreOut {
    /// "staged" (chunk kept, send more or the checksum) or "scheduled" (restore runs after
    /// this answer).
    pub status: RestoreStatus,
    pub upload_id: Option<String>,
    /// Chunks staged so far.
    pub received_chunks: u32,
    pub total_chunks: u32,
    /// Bytes staged so far (decoded).
    pub received_bytes: usize,
    /// Whether every chunk is staged.
    pub complete: bool,
    /// The first missing chunk indexes (up to 20).
    pub missing_chunks: Vec<u32>,
    /// When the staged upload is dropped if no chunk arrives (Unix ms).
    pub expires_at_ms: Option<u64>,
    /// Delay before the restore starts, when scheduled.
    pub delay_ms: Option<u32>,
    pub message: String,
}

fn refuse(msg: impl Into<String>) -> ToolError {
    ToolError::failed(format!("{} Nothing was restored.", msg.into()))
}

/// The elicitation form: one required choice.
pub fn confirmation_schema() -> ElicitationSchema {
    let decision = EnumSchema::builder(vec!["RESTORE".into(), "KEEP CURRENT SERVER".into()])
        .title("Restore this backup?")
        .description("RESTORE replaces every plugin, device, user and setting on this Scrypted server and restarts it.")
        .build();
    ElicitationSchema::new(BTreeMap::from([(
        "decision".to_string(),
        PrimitiveSchemaDefinition::Enum(decision),
    )]))
    .with_required(vec!["decision".into()])
}

async fn restore_backup(tc: Rc<ToolContext>, a: RestoreArgs) -> ToolResult {
    // Gate 1: the exact phrase, before anything is staged.
    if a.confirm != CONFIRM_PHRASE {
        return Err(refuse(format!(
            "confirm must be exactly \"{CONFIRM_PHRASE}\"."
        )));
    }
    // Gate 2 (first half): the user must be able to confirm in a dialog, so refuse
    // before a long upload rather than after it.
    if !tc.peer.supports_elicitation() {
        return Err(refuse(
            "This MCP client cannot show a confirmation dialog (it did not declare the elicitation capability), and a restore needs the user's own confirmation. Use a client with elicitation support, or restore from the Scrypted web UI.",
        ));
    }
    let state = &tc.ctx.tools;
    let now = tc.ctx.clock.now_ms();
    let max = max_restore_bytes(&tc);
    let me = owner(&tc.caller);
    state
        .uploads
        .borrow_mut()
        .retain(|(_, u)| now.saturating_sub(u.touched_ms) < UPLOAD_TTL_MS);

    let upload_id = match a.chunk_base64.as_deref() {
        Some(chunk) => stage(&tc, &a, chunk, now, max, &me)?,
        None => a.upload_id.clone().ok_or_else(|| {
            ToolError::InvalidParams(
                "Give chunk_base64 (with chunk_index and total_chunks) to stage part of the backup, or upload_id and sha256 to restore a staged one.".into(),
            )
        })?,
    };

    let (complete, status) = {
        let uploads = state.uploads.borrow();
        let u = mine(&uploads, &upload_id, &me).ok_or_else(|| unknown_upload(&upload_id))?;
        (u.complete(), staged_status(&upload_id, u))
    };
    if a.sha256.is_none() || !complete {
        if a.chunk_base64.is_none() {
            // A restore attempt that cannot proceed.
            if !complete {
                return Err(refuse(format!(
                    "Upload {upload_id} is incomplete: missing chunks [{}].",
                    index_list(&status.missing_chunks)
                )));
            }
            return Err(ToolError::InvalidParams(
                "sha256 (hex of the whole zip) is required to restore.".into(),
            ));
        }
        return ok(status);
    }

    // Every chunk is here and a checksum was given: verify. A failed check discards the
    // upload; the upload stays staged while the user is asked, because a 2026-07-28
    // client answers by retrying this very call (MRTR), which must find it again.
    let (data, total_chunks) = {
        let uploads = state.uploads.borrow();
        let upload = mine(&uploads, &upload_id, &me).ok_or_else(|| unknown_upload(&upload_id))?;
        (
            upload
                .chunks
                .iter()
                .flat_map(|(_, bytes)| bytes)
                .copied()
                .collect::<Vec<u8>>(),
            upload.total_chunks,
        )
    };
    let discard = || {
        take(&mut state.uploads.borrow_mut(), &upload_id);
    };
    if data.len() > max {
        discard();
        return Err(refuse(format!(
            "The backup is {} bytes, over max_restore_mb ({} MB).",
            data.len(),
            max / (1024 * 1024)
        )));
    }
    let expected = a
        .sha256
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let actual = crypto::sha256_hex(&data);
    if !crypto::constant_time_eq(expected.as_bytes(), actual.as_bytes()) {
        discard();
        return Err(refuse(format!(
            "Checksum mismatch: the staged bytes have SHA-256 {actual}, not {expected}. The upload was discarded; stage the backup again."
        )));
    }
    if !ZIP_MAGIC.iter().any(|m| data.starts_with(m)) {
        discard();
        return Err(refuse(
            "The staged data is not a zip file (no PK signature); send the file create_backup produced. The upload was discarded.",
        ));
    }
    // Gate 2 (second half): the user picks RESTORE.
    let message = format!(
        "Restore the Scrypted server from a backup of {} bytes (SHA-256 {}…)? This DELETES every plugin, device, user and setting and replaces them with the backup, then restarts the server with the plugins stored in the backup. This cannot be undone.",
        data.len(),
        &actual[..16]
    );
    let answer = tc
        .peer
        .elicit(&message, confirmation_schema())
        .await
        .map_err(|e| refuse(format!("The confirmation dialog failed: {e}.")))?;
    let refusal = match answer {
        Elicited::Accept(content)
            if content.get("decision").and_then(Value::as_str) == Some("RESTORE") =>
        {
            None
        }
        Elicited::Accept(_) => Some("The user chose not to restore."),
        Elicited::Decline => Some("The user declined the restore."),
        Elicited::Cancel => Some("The user cancelled the restore."),
    };
    // Taken out now: a second confirmation of the same upload (a replayed retry, or a
    // concurrent call) finds nothing to restore.
    let taken = take(&mut state.uploads.borrow_mut(), &upload_id);
    if let Some(refusal) = refusal {
        return Err(refuse(refusal));
    }
    if taken.is_none() {
        return Err(unknown_upload(&upload_id));
    }
    // What backup.restore does first, done before it is scheduled: open and test the zip with
    // the library it uses. A zip it refuses would otherwise be "confirmed" and then fail where
    // only the plugin's console sees it; a zip that holds no database would be extracted in
    // place of the one restore deletes. After the user's answer, not before: the first call
    // of a 2026-07-28 client then asks at once (a host call would make it a task).
    let data_b64 = crypto::b64(&data);
    let entries = tc.ctx.host.backup_entries(&data_b64).await.map_err(|e| {
        refuse(format!(
            "Scrypted would refuse this zip ({}). Send the file create_backup produced. The upload was discarded.",
            e.message
        ))
    })?;
    if !holds_database(&entries) {
        return Err(refuse(format!(
            "This zip holds no Scrypted database: a backup has the database's files at its top level (CURRENT, MANIFEST-…, *.log), and it has {}. Restoring it would leave the server empty. Send the file create_backup produced. The upload was discarded.",
            entry_list(&entries)
        )));
    }

    tc.ctx.host.defer(
        SELF_ACTION_DELAY_MS,
        Deferred::RestoreBackup { data: data_b64 },
    );
    ok(RestoreOut {
        status: RestoreStatus::Scheduled,
        upload_id: Some(upload_id),
        received_chunks: total_chunks,
        total_chunks,
        received_bytes: data.len(),
        complete: true,
        missing_chunks: Vec::new(),
        expires_at_ms: None,
        delay_ms: Some(SELF_ACTION_DELAY_MS),
        message: format!(
            "Confirmed. The restore of {} bytes (SHA-256 {actual}) starts in about 1.5 s: every plugin stops, the database is replaced and the server restarts; this MCP session ends. Scrypted exits about 5 s later and, under Docker or a service manager, is back a few seconds after that; the plugins come back from the backup (their packages are stored in its database), with no download. Reconnect then.",
            data.len()
        ),
    })
}

/// Whether a zip's names are a LevelDB database at its top level, as `createBackup` writes
/// one (adm-zip's `addLocalFolder` of the database directory: `CURRENT`, `LOCK`, `LOG`,
/// `MANIFEST-000002`, `000003.log` in a real Scrypted's backup) and `restore` extracts it.
fn holds_database(entries: &[String]) -> bool {
    entries.iter().any(|e| e == "CURRENT") && entries.iter().any(|e| e.starts_with("MANIFEST-"))
}

/// A zip's first names, for a refusal.
fn entry_list(entries: &[String]) -> String {
    const SHOWN: usize = 8;
    match entries.len() {
        0 => "no files".to_string(),
        n if n <= SHOWN => entries.join(", "),
        n => format!("{}, … ({n} in all)", entries[..SHOWN].join(", ")),
    }
}

/// Chunk indexes as `0, 2, 5`: the list `{:?}` wrote, without `Debug` in the wasm (issue 12).
fn index_list(indexes: &[u32]) -> String {
    let texts: Vec<String> = indexes.iter().map(u32::to_string).collect();
    texts.join(", ")
}

fn unknown_upload(id: &str) -> ToolError {
    refuse(format!(
        "No staged upload '{id}' for this app and user (uploads expire 30 minutes after their last chunk, and a new upload replaces the previous one). Start again with chunk_index 0 and no upload_id."
    ))
}

fn staged_status(id: &str, u: &Upload) -> RestoreOut {
    let complete = u.complete();
    RestoreOut {
        status: RestoreStatus::Staged,
        upload_id: Some(id.to_string()),
        received_chunks: u.chunks.len() as u32,
        total_chunks: u.total_chunks,
        received_bytes: u.bytes,
        complete,
        missing_chunks: u.missing(20),
        expires_at_ms: Some(u.touched_ms + UPLOAD_TTL_MS),
        delay_ms: None,
        message: if complete {
            format!("All {} chunks staged. Call restore_backup with confirm, upload_id \"{id}\" and sha256 (hex of the whole zip) to restore.", u.total_chunks)
        } else {
            format!(
                "Chunk staged ({} of {}). Send the missing chunks with upload_id \"{id}\"; pass sha256 with the last one to restore.",
                u.chunks.len(),
                u.total_chunks
            )
        },
    }
}

/// Stages one chunk; returns the upload id. Nothing is kept when it fails.
fn stage(
    tc: &ToolContext,
    a: &RestoreArgs,
    chunk: &str,
    now: u64,
    max: usize,
    me: &(String, String),
) -> Result<String, ToolError> {
    let (Some(index), Some(total)) = (a.chunk_index, a.total_chunks) else {
        return Err(ToolError::InvalidParams(
            "chunk_index and total_chunks are required with chunk_base64.".into(),
        ));
    };
    let max_chunks = max.div_ceil(CHUNK_MAX_BYTES) as u32;
    if total == 0 || total > max_chunks {
        return Err(refuse(format!(
            "total_chunks must be between 1 and {max_chunks}: backups over max_restore_mb ({} MB) are refused.",
            max / (1024 * 1024)
        )));
    }
    if index >= total {
        return Err(ToolError::InvalidParams(format!(
            "chunk_index {index} is out of range for total_chunks {total} (indexes start at 0)."
        )));
    }
    let bytes = crypto::b64_decode(chunk).ok_or_else(|| {
        ToolError::InvalidParams("chunk_base64 is not valid standard base64.".into())
    })?;
    if bytes.is_empty() || bytes.len() > CHUNK_MAX_BYTES {
        return Err(ToolError::InvalidParams(format!(
            "A chunk must hold 1 to {CHUNK_MAX_BYTES} bytes decoded; this one holds {}.",
            bytes.len()
        )));
    }
    let state = &tc.ctx.tools;
    let mut uploads = state.uploads.borrow_mut();
    let id = match &a.upload_id {
        Some(id) => {
            let u = mine(&uploads, id, me).ok_or_else(|| unknown_upload(id))?;
            if u.total_chunks != total {
                return Err(ToolError::InvalidParams(format!(
                    "total_chunks {total} differs from the {} this upload started with.",
                    u.total_chunks
                )));
            }
            id.clone()
        }
        None => {
            uploads.retain(|(_, u)| &u.owner != me);
            if uploads.len() >= MAX_UPLOADS {
                return Err(refuse(
                    "Too many restore uploads are staged by other connections; try again in 30 minutes.",
                ));
            }
            let id = crypto::random_token();
            uploads.push((
                id.clone(),
                Upload {
                    owner: me.clone(),
                    total_chunks: total,
                    chunks: Vec::new(),
                    bytes: 0,
                    touched_ms: now,
                },
            ));
            id
        }
    };
    // Everything staged, across connections, stays within one max_restore_mb.
    let others: usize = uploads
        .iter()
        .filter(|(k, _)| *k != id)
        .map(|(_, u)| u.bytes)
        .sum();
    let at = uploads.iter().position(|(k, _)| *k == id);
    let u = &mut uploads[at.expect("upload present")].1;
    let slot = u.chunk(index);
    let replaced = slot.map_or(0, |at| u.chunks[at].1.len());
    let new_total = u.bytes - replaced + bytes.len();
    if new_total > max {
        take(&mut uploads, &id);
        return Err(refuse(format!(
            "The staged backup would exceed max_restore_mb ({} MB); the upload was discarded.",
            max / (1024 * 1024)
        )));
    }
    if others + new_total > max {
        if u.chunks.is_empty() {
            take(&mut uploads, &id);
        }
        return Err(refuse(
            "Restore uploads of other connections fill the staging space (max_restore_mb in all); try again when they finish or expire (30 minutes).",
        ));
    }
    u.bytes = new_total;
    match slot {
        Ok(at) => u.chunks[at].1 = bytes,
        Err(at) => u.chunks.insert(at, (index, bytes)),
    }
    u.touched_ms = now;
    let (received, total) = (u.chunks.len(), u.total_chunks);
    drop(uploads);
    tc.peer.progress(
        received as f64,
        Some(total as f64),
        Some("backup chunks staged"),
    );
    Ok(id)
}

/// The caller's staged upload `id`.
fn mine<'a>(
    uploads: &'a [(String, Upload)],
    id: &str,
    me: &(String, String),
) -> Option<&'a Upload> {
    let found = uploads.iter().find(|(k, u)| k == id && &u.owner == me);
    found.map(|(_, u)| u)
}

/// Takes upload `id` out of the staged ones.
fn take(uploads: &mut Vec<(String, Upload)>, id: &str) -> Option<Upload> {
    let at = uploads.iter().position(|(k, _)| k == id)?;
    Some(uploads.remove(at).1)
}
