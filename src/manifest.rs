//! `scrypted-manifest.json`: the one place the plugin's identity and setting defaults and
//! ranges are written. Compiled in, so Rust never types them twice.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// npm package name: the endpoint is `/endpoint/<name>/public/mcp`.
    pub name: String,
    pub version: String,
    pub display_name: String,
    pub description: String,
    pub settings: BTreeMap<String, NumberSetting>,
}

#[derive(Debug, Deserialize)]
pub struct NumberSetting {
    pub title: String,
    pub description: String,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

pub static MANIFEST: LazyLock<Manifest> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../scrypted-manifest.json"))
        .expect("scrypted-manifest.json is valid")
});

/// The numeric setting `key` as declared in the manifest.
pub fn number_setting(key: &str) -> &'static NumberSetting {
    MANIFEST
        .settings
        .get(key)
        .unwrap_or_else(|| panic!("setting {key} is declared in scrypted-manifest.json"))
}
