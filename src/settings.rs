//! Settings: the configuration read at request time, and the Scrypted Settings tab.

use crate::manifest::number_setting;
use crate::store::Store;
use crate::Ctx;
use serde::{Deserialize, Serialize};

/// Configuration read from storage on every request (no reload needed), with the
/// manifest's defaults for anything unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    pub dcr_max_clients: u64,
    pub access_token_ttl_sec: u64,
    pub refresh_token_ttl_sec: u64,
    pub max_restore_mb: u64,
}

pub const KEY_PREFIX: &str = "settings.";

fn number(store: &dyn Store, key: &str) -> u64 {
    let spec = number_setting(key);
    store
        .get(&format!("{KEY_PREFIX}{key}"))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| (spec.min..=spec.max).contains(v))
        .unwrap_or(spec.default) as u64
}

pub fn config(store: &dyn Store) -> Config {
    Config {
        dcr_max_clients: number(store, "dcr_max_clients"),
        access_token_ttl_sec: number(store, "access_token_ttl_sec"),
        refresh_token_ttl_sec: number(store, "refresh_token_ttl_sec"),
        max_restore_mb: number(store, "max_restore_mb"),
    }
}

/// One entry of Scrypted's `Setting` type (reference/scrypted-host.md §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setting {
    pub key: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<[i64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

pub async fn get_settings(ctx: &Ctx) -> Vec<Setting> {
    let _ = ctx;
    Vec::new()
}

pub async fn put_setting(ctx: &Ctx, key: &str, value: serde_json::Value) -> Result<(), String> {
    let _ = (ctx, value);
    Err(format!("Unknown setting {key}."))
}
