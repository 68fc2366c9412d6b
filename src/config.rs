//! The configuration read at request time: the number settings of `scrypted-manifest.json`
//! as stored by the Settings tab (`crate::settings`), with the manifest's defaults for
//! anything unset or out of range.

use crate::manifest::number_setting;
use crate::store::Store;

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

/// One number setting as configured (or its default): one storage read, where [`read`]
/// makes four (the bearer check needs one of them on every request).
pub fn number(store: &dyn Store, key: &str) -> u64 {
    let spec = number_setting(key);
    store
        .get(&[KEY_PREFIX, key].concat())
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| (spec.min..=spec.max).contains(v))
        .unwrap_or(spec.default) as u64
}

/// All four numbers as configured (or their defaults).
pub fn read(store: &dyn Store) -> Config {
    Config {
        dcr_max_clients: number(store, "dcr_max_clients"),
        access_token_ttl_sec: number(store, "access_token_ttl_sec"),
        refresh_token_ttl_sec: number(store, "refresh_token_ttl_sec"),
        max_restore_mb: number(store, "max_restore_mb"),
    }
}

/// The configuration keys, in the order the tab shows them.
pub const CONFIG_KEYS: [&str; 4] = [
    "dcr_max_clients",
    "access_token_ttl_sec",
    "refresh_token_ttl_sec",
    "max_restore_mb",
];
