//! The audit trail: every tool call, bounded, in a file of the plugin's own volume. Never
//! the arguments themselves, only their hash.
//!
//! The hash is there to correlate: the same call made twice (or by two clients) shows the
//! same hash, without the trail storing what was sent. It is keyed with `audit.hash_key`,
//! which sits in plugin storage and so in every backup: whoever holds a backup can test
//! guesses against it. So its input is the arguments with every secret replaced by the
//! redaction placeholder (`tools::redact::for_audit`): a password, a secret `.env` value or
//! storage value never enters it, and a guess at one can never be confirmed.
//!
//! Not in plugin storage: Scrypted ships the whole storage map to the server on every write
//! (docs/reference/scrypted-host.md §5), so a row per call there cost every call in
//! proportion to all the clients and grants stored beside it. The trail is the file
//! [`FILE`] in the plugin volume instead (§5): one JSON row per line, oldest first, one
//! line appended per call. This process keeps the rows in memory (read once), so a call
//! never reads the file. When it is full ([`MAX_ENTRIES`] rows) the client holding the most
//! rows loses its oldest: one client's volume pushes out only its own history, so a flood
//! of calls cannot erase what another client did (issue 8 item 9). When the file reaches
//! [`REWRITE_AT_LINES`], and once at start when it holds more than the rows kept, it is
//! rewritten with only those, so it stays bounded as well.
//!
//! Durable: the row is appended (a synchronous `write` to the file, not queued) before
//! the call's answer leaves, so a crash of the plugin or of Scrypted after an answer cannot
//! take its row back (only the machine losing power before the kernel writes its cache
//! could, as for Scrypted's own database). A rewrite goes to a temporary file renamed over
//! the trail: a crash leaves the old rows or the new, never a mix. A line torn by a crash
//! mid-append is skipped when read, and the file rewritten without it before anything is
//! appended. A failed write is logged and its rows kept in memory; the
//! next row rewrites the whole file.
//!
//! Earlier versions kept the trail in plugin storage under [`LEGACY_KEY`]: on first use it
//! is written to the file, and the key removed once the file holds it.

use crate::crypto;
use crate::host::LogLevel;
use crate::store::Store;
use crate::Ctx;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::{RefCell, RefMut};
use std::collections::{HashMap, VecDeque};

/// The trail's file in the plugin volume.
pub const FILE: &str = "audit.jsonl";

/// Lines the file may reach (kept rows and evicted ones) before it is rewritten with the
/// kept rows only: a full trail is rewritten once every 600 calls, and the file stays
/// under ~150 KB.
pub const REWRITE_AT_LINES: usize = 4 * MAX_ENTRIES;

/// The storage key earlier versions kept the whole trail under (a JSON array of rows).
pub const LEGACY_KEY: &str = "audit.log";

/// At most this many entries are kept; the oldest are dropped first.
pub const MAX_ENTRIES: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time_ms: u64,
    /// The Scrypted user behind the token (`sub`).
    pub user: String,
    pub client_id: String,
    pub tool: String,
    /// HMAC-SHA256 (hex) of the canonical JSON of the arguments, secrets redacted.
    pub args_hash: String,
    /// `ok`, `error`, `refused`, `invalid_params`, `input_required` or `cancelled`.
    pub outcome: String,
    /// `accept`, `decline`, `cancel`, `unsupported` or absent when none was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<String>,
    /// The call asked for a dry run (`dry_run: true`): a preview, not a write. Absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// How one entry is stored: a positional row, about a third smaller than the named form.
/// The dry-run mark is an eighth element present only on dry runs, so the rows of every
/// other call, and the trail written before it existed, keep their seven.
#[derive(Clone, Serialize, Deserialize)]
struct Row(
    u64,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    #[serde(default, skip_serializing_if = "is_false")] bool,
);

fn to_row(e: AuditEntry) -> Row {
    Row(
        e.time_ms,
        e.user,
        e.client_id,
        e.tool,
        e.args_hash,
        e.outcome,
        e.elicitation,
        e.dry_run,
    )
}

fn from_row(r: Row) -> AuditEntry {
    AuditEntry {
        time_ms: r.0,
        user: r.1,
        client_id: r.2,
        tool: r.3,
        args_hash: r.4,
        outcome: r.5,
        elicitation: r.6,
        dry_run: r.7,
    }
}

/// The trail as this process knows it: read from the file on first use, then kept.
#[derive(Default)]
pub struct Trail(RefCell<Option<Loaded>>);

struct Loaded {
    rows: Kept,
    /// Lines in the file: the kept rows and those evicted since the last rewrite.
    lines: usize,
    /// A write failed, so the file does not hold `rows` line for line: the next record
    /// rewrites it.
    rewrite: bool,
    /// The file could not be read at start, so it may hold rows we do not: it is only ever
    /// appended to (a rewrite from memory would drop them) until the next start reads it.
    unread: bool,
}

impl Trail {
    fn loaded<'a>(&'a self, ctx: &Ctx) -> RefMut<'a, Loaded> {
        let mut slot = self.0.borrow_mut();
        if slot.is_none() {
            *slot = Some(load(ctx));
        }
        RefMut::map(slot, |s| s.as_mut().expect("loaded above"))
    }
}

/// The rows kept, oldest first, at most [`MAX_ENTRIES`], each with its line as the file
/// holds it, and how many each client holds (kept up to date, so that a full trail's
/// eviction does not count them all per call). The lines are kept so that a rewrite joins
/// them: serialising all the rows again took one call in 600 ~1.4M instructions (issue 12).
#[derive(Default)]
struct Kept {
    rows: VecDeque<(Row, String)>,
    per_client: HashMap<String, usize>,
}

impl Kept {
    fn len(&self) -> usize {
        self.rows.len()
    }

    /// Appends `row` and its `line`; past the bound, drops the oldest row of the client
    /// holding the most.
    fn push(&mut self, row: Row, line: String) {
        match self.per_client.get_mut(&row.2) {
            Some(n) => *n += 1,
            None => {
                self.per_client.insert(row.2.clone(), 1);
            }
        }
        self.rows.push_back((row, line));
        while self.rows.len() > MAX_ENTRIES {
            let doomed = self.eviction_index();
            if let Some((row, _)) = self.rows.remove(doomed) {
                match self.per_client.get_mut(&row.2) {
                    Some(n) if *n > 1 => *n -= 1,
                    _ => {
                        self.per_client.remove(&row.2);
                    }
                }
            }
        }
    }

    /// The oldest row among those of the clients holding the most rows.
    fn eviction_index(&self) -> usize {
        let most = self.per_client.values().copied().max().unwrap_or(0);
        // The holders' ids are compared, not each scanned row's looked up: with two clients
        // in a full trail the scan passes the other's rows on every call, and a hash per row
        // was 3.6 % of a tool call's CPU (issue 12).
        let holders: Vec<&str> = self
            .per_client
            .iter()
            .filter(|(_, n)| **n == most)
            .map(|(client, _)| client.as_str())
            .collect();
        self.rows
            .iter()
            .position(|(row, _)| holders.contains(&row.2.as_str()))
            .unwrap_or(0)
    }
}

fn line_of(row: &Row) -> String {
    let mut line = serde_json::to_string(row).expect("serializable row");
    line.push('\n');
    line
}

/// The file, then an earlier version's trail from storage (moved into the file).
fn load(ctx: &Ctx) -> Loaded {
    let mut t = Loaded {
        rows: Kept::default(),
        lines: 0,
        rewrite: false,
        unread: false,
    };
    let file = match ctx.host.volume_read(FILE) {
        Ok(file) => file,
        Err(e) => {
            // Whatever the file holds stays; new rows are appended after it.
            log_failure(ctx, &format!("could not read {FILE}: {}", e.message));
            t.unread = true;
            return t;
        }
    };
    let store = ctx.store.as_ref();
    match (&file, store.get(LEGACY_KEY)) {
        (None, Some(stored)) => {
            // Unreadable rows count as none, as the storage trail always did.
            for row in serde_json::from_str::<Vec<Row>>(&stored).unwrap_or_default() {
                let line = line_of(&row);
                t.rows.push(row, line);
            }
            if write_all(ctx, &mut t) {
                store.remove(LEGACY_KEY);
            }
        }
        // The file was written from the key before a crash kept the key from going.
        (Some(_), Some(_)) => store.remove(LEGACY_KEY),
        _ => {}
    }
    if let Some(text) = file {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            t.lines += 1;
            if let Ok(row) = serde_json::from_str::<Row>(line) {
                let line = line_of(&row);
                t.rows.push(row, line);
            }
        }
        // Rows evicted since the last rewrite, an unreadable or torn line: once per start,
        // the file is brought down to exactly the rows kept.
        let torn = !text.is_empty() && !text.ends_with('\n');
        if torn || t.lines != t.rows.len() {
            write_all(ctx, &mut t);
        }
    }
    t
}

/// Rewrites the file with the kept rows; false if that failed (logged; retried next time).
fn write_all(ctx: &Ctx, t: &mut Loaded) -> bool {
    let text: String = t.rows.rows.iter().map(|(_, line)| line.as_str()).collect();
    match ctx.host.volume_replace(FILE, &text) {
        Ok(()) => {
            t.lines = t.rows.len();
            t.rewrite = false;
            true
        }
        Err(e) => {
            log_failure(ctx, &format!("could not write {FILE}: {}", e.message));
            t.rewrite = true;
            false
        }
    }
}

fn log_failure(ctx: &Ctx, what: &str) {
    ctx.host.log(
        LogLevel::Error,
        &format!("audit trail: {what}; the rows stay in memory and are written with the next call"),
    );
}

/// Records one call: in memory, and in the file before returning.
pub fn record(ctx: &Ctx, entry: AuditEntry) {
    let mut t = ctx.audit.loaded(ctx);
    let row = to_row(entry);
    let line = line_of(&row);
    t.rows.push(row, line.clone());
    if !t.unread && (t.rewrite || t.lines >= REWRITE_AT_LINES) {
        write_all(ctx, &mut t);
        return;
    }
    match ctx.host.volume_append(FILE, &line) {
        Ok(()) => t.lines += 1,
        Err(e) => {
            log_failure(ctx, &format!("could not append to {FILE}: {}", e.message));
            t.rewrite = true;
        }
    }
}

/// The latest `limit` entries, newest first.
pub fn recent(ctx: &Ctx, limit: usize) -> Vec<AuditEntry> {
    let t = ctx.audit.loaded(ctx);
    t.rows
        .rows
        .iter()
        .rev()
        .take(limit)
        .map(|(row, _)| from_row(row.clone()))
        .collect()
}

/// What the trail keeps of one call's arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedArgs {
    /// [`args_hash`] of them.
    pub hash: String,
    /// They ask for a dry run (`dry_run: true`): the call is audited as one whatever its
    /// outcome, since even a refused or invalid dry run wrote nothing.
    pub dry_run: bool,
}

pub fn audited_args(store: &dyn Store, arguments: &Value) -> AuditedArgs {
    AuditedArgs {
        hash: args_hash(store, arguments),
        dry_run: arguments.get("dry_run") == Some(&Value::Bool(true)),
    }
}

/// Storage key of the audit hash key.
pub const HASH_KEY: &str = "audit.hash_key";

/// HMAC-SHA256 (hex) of the canonical JSON of a tool's arguments (object keys sorted at
/// every level, no whitespace), so equal arguments hash equally whatever order the client
/// sent them in. Keyed with a secret kept in storage, because a plain hash of a short
/// argument (an `add_user` password) could be guessed by anyone who reads plugin storage
/// or a backup; the arguments themselves are never stored.
pub fn args_hash(store: &dyn Store, arguments: &Value) -> String {
    let key = crypto::stored_secret(store, HASH_KEY);
    crypto::hex(&crypto::hmac_sha256(
        &key,
        &["audit-args", &canonical_json(arguments)],
    ))
}

/// serde_json's `Map` is a `BTreeMap` here (no `preserve_order` feature), so its compact
/// text already sorts the keys at every level: the canonical form, without a copy per
/// level (issue 12). Were a dependency to turn `preserve_order` on,
/// `args_hash_is_a_keyed_hash_of_canonical_json` would fail.
fn canonical_json(value: &Value) -> String {
    crate::http::json_text(value)
}
