//! The tool schemas, titles and descriptions are served from `src/tools/schemas.jsonl`
//! (schemars at run time cost the wasm 183 KB after `-Oz`; the file is carried compressed);
//! this keeps that file exactly what schemars generates from the types and the `tool!`
//! definitions say.

use std::path::Path;

#[test]
fn pinned_schemas_are_what_schemars_generates() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tools/schemas.jsonl");
    let generated = scrypted_mcp::tools::schema::generated_jsonl();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&file, &generated).unwrap();
    }
    let pinned = std::fs::read_to_string(&file).unwrap_or_default();
    for (i, (p, g)) in pinned.lines().zip(generated.lines()).enumerate() {
        assert_eq!(p, g, "line {} of {} differs from what schemars generates: after changing a tool's types run `UPDATE_SCHEMAS=1 cargo test --test tools pinned` and review the diff", i + 1, file.display());
    }
    assert_eq!(
        pinned.lines().count(),
        generated.lines().count(),
        "one line per catalogue tool: run `UPDATE_SCHEMAS=1 cargo test --test tools pinned`"
    );
    assert_eq!(pinned, generated);
}
