//! The audit trail: every tool call, bounded, in plugin storage. Never the arguments
//! themselves, only their hash.
//!
//! The hash is there to correlate: the same call made twice (or by two clients) shows the
//! same hash, without the trail storing what was sent. It is keyed with `audit.hash_key`,
//! which sits in the same plugin storage and so in every backup: whoever holds a backup
//! can test guesses against it. So its input is the arguments with every secret replaced
//! by the redaction placeholder (`tools::redact::for_audit`): a password, a secret `.env`
//! value or storage value never enters it, and a guess at one can never be confirmed.
//!
//! Plugin storage ships its whole map to the server on every write, so the trail lives
//! under one key ([`KEY`]) as a compact JSON array (one row per entry, oldest first) and
//! never holds more than [`MAX_ENTRIES`] rows. When it is full, the client holding the
//! most rows loses its oldest: one client's volume pushes out only its own history, so
//! a flood of calls cannot erase what another client did (issue 8 item 9).

use crate::crypto;
use crate::store::{Store, StoreExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// The storage key holding the whole trail.
pub const KEY: &str = "audit.log";

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
#[derive(Serialize, Deserialize)]
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

/// The stored rows, oldest first; an unreadable value counts as an empty trail.
fn load(store: &dyn Store) -> Vec<Row> {
    store.get_json::<Vec<Row>>(KEY).unwrap_or_default()
}

/// Appends an entry; past the bound, drops the oldest row of the client holding the most.
pub fn record(store: &dyn Store, entry: AuditEntry) {
    let mut rows = load(store);
    rows.push(to_row(entry));
    while rows.len() > MAX_ENTRIES {
        let doomed = eviction_index(&rows);
        rows.remove(doomed);
    }
    store.set_json(KEY, &rows);
}

/// The oldest row among those of the clients holding the most rows.
fn eviction_index(rows: &[Row]) -> usize {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for row in rows {
        *counts.entry(row.2.as_str()).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    rows.iter()
        .position(|row| counts[row.2.as_str()] == most)
        .unwrap_or(0)
}

/// The latest `limit` entries, newest first.
pub fn recent(store: &dyn Store, limit: usize) -> Vec<AuditEntry> {
    load(store)
        .into_iter()
        .rev()
        .take(limit)
        .map(from_row)
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

fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        canonical_json(&map[k.as_str()])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}
