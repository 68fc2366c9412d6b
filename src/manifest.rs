//! `scrypted-manifest.json`: the one place the plugin's identity and setting defaults and
//! ranges are written. `build.rs` writes them here as constants, so Rust never types them
//! twice and the wasm parses nothing for them.

#[derive(Debug)]
pub struct Manifest {
    /// npm package name: the endpoint is `/endpoint/<name>/public/mcp`.
    pub name: &'static str,
    pub version: &'static str,
    pub display_name: &'static str,
    pub description: &'static str,
    /// `(key, setting)` pairs; few, so looked up by a scan.
    pub settings: &'static [(&'static str, NumberSetting)],
}

#[derive(Debug)]
pub struct NumberSetting {
    pub title: &'static str,
    pub description: &'static str,
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

include!(concat!(env!("OUT_DIR"), "/manifest.rs"));

/// The numeric setting `key` as declared in the manifest.
pub fn number_setting(key: &str) -> &'static NumberSetting {
    MANIFEST
        .settings
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, setting)| setting)
        .unwrap_or_else(|| panic!("setting {key} is declared in scrypted-manifest.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The constants are the JSON file's values, every one of them.
    #[test]
    fn constants_are_the_manifest() {
        let json: Value = serde_json::from_str(include_str!("../scrypted-manifest.json")).unwrap();
        assert_eq!(json["name"], MANIFEST.name);
        assert_eq!(json["version"], MANIFEST.version);
        assert_eq!(json["displayName"], MANIFEST.display_name);
        assert_eq!(json["description"], MANIFEST.description);
        let settings = json["settings"].as_object().unwrap();
        assert_eq!(settings.len(), MANIFEST.settings.len());
        for (key, spec) in settings {
            let ours = number_setting(key);
            assert_eq!(spec["title"], ours.title);
            assert_eq!(spec["description"], ours.description);
            assert_eq!(spec["default"], ours.default);
            assert_eq!(spec["min"], ours.min);
            assert_eq!(spec["max"], ours.max);
        }
    }
}
