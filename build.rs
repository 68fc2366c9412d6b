//! Writes `scrypted-manifest.json`'s identity and number settings as Rust constants
//! (`$OUT_DIR/manifest.rs`, included by `src/manifest.rs`), so the wasm carries no parser for
//! it: its serde derives and map were about 12 KB of the module (wasm-toolchain.md, "Size").
//! Also compresses `src/tools/schemas.jsonl` with LZ4 into `$OUT_DIR/schemas.lz4`, which
//! `tools::schema` carries instead of the text (37 KB less wasm).

use serde_json::Value;
use std::fmt::Write;

fn text(object: &Value, key: &str) -> String {
    let value = object[key].as_str();
    let value = value.unwrap_or_else(|| panic!("scrypted-manifest.json: {key} is a string"));
    // Debug of a str is a valid Rust string literal (quotes, escapes).
    format!("{value:?}")
}

fn integer(object: &Value, key: &str) -> i64 {
    let value = object[key].as_i64();
    value.unwrap_or_else(|| panic!("scrypted-manifest.json: {key} is an integer"))
}

fn main() {
    manifest();
    schemas();
}

fn schemas() {
    println!("cargo::rerun-if-changed=src/tools/schemas.jsonl");
    let text = std::fs::read("src/tools/schemas.jsonl").expect("src/tools/schemas.jsonl");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("schemas.lz4");
    std::fs::write(out, lz4_flex::compress_prepend_size(&text)).expect("OUT_DIR is writable");
}

fn manifest() {
    println!("cargo::rerun-if-changed=scrypted-manifest.json");
    let source = std::fs::read_to_string("scrypted-manifest.json").expect("scrypted-manifest.json");
    let manifest: Value = serde_json::from_str(&source).expect("scrypted-manifest.json is JSON");
    let mut settings = String::new();
    let declared = manifest["settings"].as_object();
    for (key, setting) in declared.expect("scrypted-manifest.json: settings is an object") {
        writeln!(
            settings,
            "        ({key:?}, NumberSetting {{ title: {}, description: {}, default: {}, min: {}, max: {} }}),",
            text(setting, "title"),
            text(setting, "description"),
            integer(setting, "default"),
            integer(setting, "min"),
            integer(setting, "max"),
        )
        .unwrap();
    }
    let code = format!(
        "pub static MANIFEST: Manifest = Manifest {{\n    name: {},\n    version: {},\n    display_name: {},\n    description: {},\n    settings: &[\n{settings}    ],\n}};\n",
        text(&manifest, "name"),
        text(&manifest, "version"),
        text(&manifest, "displayName"),
        text(&manifest, "description"),
    );
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("manifest.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
