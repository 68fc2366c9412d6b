//! Schemas generated from Rust types (schemars, at test time: the plugin serves them pinned in
//! `schemas.jsonl`), argument parsing, and result helpers shared by every tool.

use super::{Hints, ToolError, ToolOutput, ToolResult};
use crate::fields::{Args, Fields};
use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::JsonSchema;
#[cfg(not(target_arch = "wasm32"))]
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Reads state only.
pub const READ: Hints = Hints {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};
/// Reads state only, from the npm registry (outside this server).
pub const READ_OPEN: Hints = Hints {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: true,
};
/// Changes, deletes, replaces or ends something; repeating it changes nothing more.
pub const DESTRUCTIVE_IDEMPOTENT: Hints = Hints {
    read_only: false,
    destructive: true,
    idempotent: true,
    open_world: false,
};
/// Changes, deletes, replaces or ends something; each call acts again.
pub const DESTRUCTIVE: Hints = Hints {
    read_only: false,
    destructive: true,
    idempotent: false,
    open_world: false,
};
/// Adds or changes without destroying anything; repeating it changes nothing more.
pub const ADDITIVE_IDEMPOTENT: Hints = Hints {
    read_only: false,
    destructive: false,
    idempotent: true,
    open_world: false,
};
/// Changes or replaces something, from the npm registry; repeating it changes nothing more.
pub const DESTRUCTIVE_IDEMPOTENT_OPEN: Hints = Hints {
    open_world: true,
    ..DESTRUCTIVE_IDEMPOTENT
};
/// Changes or removes things, from the npm registry; each call acts again.
pub const DESTRUCTIVE_OPEN: Hints = Hints {
    open_world: true,
    ..DESTRUCTIVE
};
/// Adds something; a second call does not add it twice but fails instead.
pub const ADDITIVE: Hints = Hints {
    read_only: false,
    destructive: false,
    idempotent: false,
    open_world: false,
};

/// Makes a generated schema portable:
/// - schemars marks Rust integer and float widths with `format` values (`uint`, `uint32`,
///   `double`, ...) that JSON Schema does not define; clients warn about each one and
///   strict validators may refuse them. `minimum: 0` already says what matters.
/// - A `serde_json::Value` becomes the boolean schema `true` (e.g. `items: true`), which
///   OpenAPI-style validators some clients use do not accept; `{}` means the same.
fn portable(schema: &mut schemars::Schema) {
    if schema.as_bool() == Some(true) {
        *schema = schemars::Schema::default();
        return;
    }
    let numeric = |t: &Value| t == "integer" || t == "number";
    let is_numeric = match schema.get("type") {
        Some(Value::Array(types)) => types.iter().any(numeric),
        Some(t) => numeric(t),
        None => false,
    };
    if is_numeric {
        schema.remove("format");
    }
}

/// Schema generation shared by input and output schemas: draft 2020-12, subschemas inlined
/// (a self-contained object), no numeric formats.
fn settings() -> SchemaSettings {
    SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .with_transform(RecursiveTransform(portable))
}

fn clean(mut schema: Map<String, Value>) -> Map<String, Value> {
    schema.remove("$schema");
    schema.remove("title");
    schema.remove("$defs");
    schema.insert("type".into(), Value::String("object".into()));
    schema
}

/// The `inputSchema` of a tool taking `T`: a self-contained object schema (subschemas
/// inlined). A struct without fields gives `{type: object, additionalProperties: false}`.
pub fn input<T: JsonSchema>() -> Map<String, Value> {
    let schema = settings()
        .for_deserialize()
        .into_generator()
        .into_root_schema_for::<T>();
    let mut map = clean(schema.as_object().cloned().unwrap_or_default());
    map.remove("description");
    let empty = map
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(|p| p.is_empty());
    if empty {
        let mut m = Map::new();
        m.insert("type".into(), Value::String("object".into()));
        m.insert("additionalProperties".into(), Value::Bool(false));
        return m;
    }
    map
}

/// The `outputSchema` of a tool returning `T` (serialized form).
pub fn output<T: JsonSchema>() -> Map<String, Value> {
    let schema = settings()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>();
    clean(schema.as_object().cloned().unwrap_or_default())
}

/// The catalogue's titles and descriptions, and its schemas as schemars generates them, one
/// JSON line per tool (`{"name","title","description","input","output"}`): the text of
/// `schemas.jsonl`, which a host test keeps equal
/// to this (`tests/tools/pinned.rs`; `UPDATE_SCHEMAS=1` rewrites the file).
#[cfg(not(target_arch = "wasm32"))]
pub fn generated_jsonl() -> String {
    let line = |def: &super::ToolDef| {
        let json = |m: Map<String, Value>| Value::Object(m).to_string();
        format!(
            "{{\"name\":{},\"title\":{},\"description\":{},\"input\":{},\"output\":{}}}\n",
            Value::from(def.name),
            Value::from(def.title),
            Value::from(def.description),
            json((def.input)()),
            json((def.output)())
        )
    };
    super::catalogue().iter().map(line).collect()
}

/// One tool's line of `schemas.jsonl` (what tools/list says of it), read by `store::record` (`fields`' reader, no
/// deserialiser of its own: issue 12, wasm size).
pub struct Pinned {
    name: String,
    pub title: String,
    pub description: String,
    pub input: Map<String, Value>,
    pub output: Map<String, Value>,
}

crate::fields::args!(Pinned {
    name: required,
    title: required,
    description: required,
    input: required,
    output: required,
});

/// The schemas of the tool `name`, read from `schemas.jsonl` when first asked for. The plugin
/// serves these instead of running schemars: generating them at run time took 183 KB of the
/// wasm after `-Oz`. Each line is parsed on its own when its tool is first needed, so a
/// tools/call after a (re)start parses one line, not all of them (issue 12, cold start).
/// `tests/tools/pinned.rs` keeps the file equal to what [`generated_jsonl`] writes, so every catalogue
/// tool has its line, beginning with its name.
pub fn pinned(name: &str) -> &'static Pinned {
    // (name, line, parsed line)
    type Line = (&'static str, &'static str, OnceLock<Pinned>);
    static ALL: OnceLock<Vec<Line>> = OnceLock::new();
    static TEXT: OnceLock<String> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        TEXT.get_or_init(pinned_text)
            .lines()
            .map(|line| (line_name(line), line, OnceLock::new()))
            .collect()
    });
    // Compared by name, not by a prefix made with `format!` for every call (issue 12).
    let (_, line, parsed) = all
        .iter()
        .find(|(line_name, _, _)| *line_name == name)
        .unwrap_or_else(|| panic!("{name} has no line in schemas.jsonl (tests/tools/pinned.rs)"));
    parsed.get_or_init(|| {
        let pinned: Pinned =
            crate::store::record(line).expect("schemas.jsonl is written by a test");
        assert_eq!(pinned.name, name, "schemas.jsonl line of {name}");
        pinned
    })
}

/// The text of `schemas.jsonl`, carried LZ4-compressed (`build.rs`): 64 KB of JSON is 22 KB
/// compressed, and the decoder adds a few KB (issue 12, wasm size). Inflated once, when the
/// first tool is described or called.
fn pinned_text() -> String {
    let packed = include_bytes!(concat!(env!("OUT_DIR"), "/schemas.lz4"));
    let text = lz4_flex::decompress_size_prepended(packed).expect("build.rs compressed it");
    String::from_utf8(text).expect("schemas.jsonl is UTF-8")
}

/// The tool name a line begins with, as `generated_jsonl` writes it: `{"name":"<name>",...`
/// (tool names are plain identifiers, never escaped); "" for any other line.
fn line_name(line: &str) -> &str {
    line.strip_prefix("{\"name\":\"")
        .and_then(|rest| rest.split_once('"'))
        .map_or("", |(name, _)| name)
}

/// Parses tool arguments (absent = `{}`) field by field ([`crate::fields`]); a mismatch is
/// `InvalidParams` with serde's message, which names the field. Only `T::read` is per
/// argument type: the lookups, checks and messages are one copy for every tool (issue 12).
pub fn parse<T: Args>(args: Value) -> Result<T, ToolError> {
    let mut fields = Fields::new(arguments(args)?);
    let parsed = T::read(&mut fields);
    fields.finish().map_err(invalid_arguments)?;
    Ok(parsed)
}

/// What serde's derive, which host builds keep on the argument types, makes of the same
/// arguments: `parse` must answer the same (`tests/tools/args.rs`).
#[cfg(not(target_arch = "wasm32"))]
pub fn parse_with_serde<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    serde_json::from_value(Value::Object(arguments(args)?)).map_err(invalid_arguments)
}

/// The arguments as an object: absent is `{}`, anything else but an object is refused.
#[inline(never)]
fn arguments(args: Value) -> Result<Map<String, Value>, ToolError> {
    match args {
        Value::Null => Ok(Map::new()),
        Value::Object(object) => Ok(object),
        _ => Err(ToolError::InvalidParams(
            "Tool arguments must be a JSON object.".into(),
        )),
    }
}

#[inline(never)]
fn invalid_arguments(e: serde_json::Error) -> ToolError {
    ToolError::InvalidParams(format!("Invalid arguments: {e}"))
}

/// A successful result with `value` as `structuredContent`.
pub fn ok<T: Serialize>(value: T) -> ToolResult {
    encoded(serde_json::to_value(value))
}

#[inline(never)]
fn encoded(structured: Result<Value, serde_json::Error>) -> ToolResult {
    let structured =
        structured.map_err(|e| ToolError::failed(format!("could not encode the result: {e}")))?;
    Ok(ToolOutput::new(structured))
}

/// A tool's definition, written directly above its function:
///
/// ```ignore
/// pub const LIST_PLUGINS: ToolDef = tool! {
///     name: "list_plugins",
///     title: "List plugins",
///     description: "...",
///     input: ListPluginsArgs,   // args::Args + JsonSchema: the inputSchema
///     output: ListPluginsOut,   // Serialize + JsonSchema: the outputSchema
///     hints: READ,
///     scope: Read,              // the one OAuth scope it needs: Read, Control or Admin
///     run: list_plugins,        // async fn(Rc<ToolContext>, ListPluginsArgs) -> ToolResult
/// };
/// ```
///
/// The runner parses the arguments into `input` (a mismatch is `InvalidParams`) and calls
/// `run`.
macro_rules! tool {
    (
        name: $name:literal,
        title: $title:literal,
        description: $desc:expr,
        input: $input:ty,
        output: $output:ty,
        hints: $hints:expr,
        scope: $scope:ident,
        run: $f:path $(,)?
    ) => {
        $crate::tools::ToolDef {
            name: $name,
            #[cfg(not(target_arch = "wasm32"))]
            title: $title,
            #[cfg(not(target_arch = "wasm32"))]
            description: $desc,
            #[cfg(not(target_arch = "wasm32"))]
            input: $crate::tools::schema::input::<$input>,
            #[cfg(not(target_arch = "wasm32"))]
            output: $crate::tools::schema::output::<$output>,
            #[cfg(not(target_arch = "wasm32"))]
            args_both: |args| {
                [
                    format!("{:?}", $crate::tools::schema::parse::<$input>(args.clone())),
                    format!(
                        "{:?}",
                        $crate::tools::schema::parse_with_serde::<$input>(args)
                    ),
                ]
            },
            hints: $hints,
            scope: $crate::oauth::Scope::$scope,
            // No async block around the tool's own future: the arguments are parsed when
            // the call is made, and a failure is one shared ready future (issue 12, size).
            run: |tc, args| match $crate::tools::schema::parse::<$input>(args) {
                Ok(parsed) => Box::pin($f(tc, parsed)),
                Err(e) => $crate::tools::schema::refused(e),
            },
        }
    };
}
pub(crate) use tool;

/// What a tool's `run` returns when its arguments do not parse.
#[inline(never)]
pub fn refused(e: ToolError) -> futures::future::LocalBoxFuture<'static, ToolResult> {
    Box::pin(futures::future::ready(Err(e)))
}

// ---------- argument types several tools share

/// No arguments.
#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

crate::fields::args!(NoArgs {});

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct PluginIdArgs {
    /// Plugin id: its npm package name, e.g. "@scrypted/hue" (see list_plugins).
    pub plugin_id: String,
}

crate::fields::args!(PluginIdArgs {
    plugin_id: required
});

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct DeviceIdArgs {
    /// Scrypted device id (a numeric string such as "12"; see list_devices).
    pub id: String,
}

crate::fields::args!(DeviceIdArgs { id: required });

/// Default and ceiling for `limit` arguments.
pub fn page_bounds(limit: Option<u32>, default: u32, max: u32) -> usize {
    limit.unwrap_or(default).clamp(1, max) as usize
}

/// Where a capped list stands; flattened into every paged tool's output, so they all
/// answer "how do I get the rest" the same way.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Page {
    /// Items in all (after any filters).
    pub total: usize,
    /// Items skipped before this page.
    pub offset: usize,
    /// True when more items follow; see `next`.
    pub truncated: bool,
    /// How to get the rest, when truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Page {
    pub fn new(tool: &str, offset: usize, returned: usize, total: usize) -> Page {
        let after = offset + returned;
        let next = (after < total).then(|| {
            format!(
                "Showing {returned} of {total} from offset {offset}. Call {tool} again with offset {after} for more."
            )
        });
        Page {
            total,
            offset,
            truncated: next.is_some(),
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    /// What the plugin inflates is the file byte for byte, and every catalogue tool is served
    /// its line's schemas and the title and description written beside it (the file is kept
    /// equal to what `generated_jsonl` writes by `tests/tools/pinned.rs`).
    #[test]
    fn the_compressed_schemas_are_the_file() {
        let file = include_str!("schemas.jsonl");
        assert_eq!(super::pinned_text(), file);
        for def in super::super::catalogue() {
            let line = file.lines().find(|l| super::line_name(l) == def.name);
            let line: serde_json::Value = serde_json::from_str(line.unwrap()).unwrap();
            assert_eq!(line["input"], serde_json::Value::Object(def.input_schema()));
            assert_eq!(
                line["output"],
                serde_json::Value::Object(def.output_schema())
            );
            assert_eq!(
                (def.title(), def.description()),
                (def.title, def.description)
            );
        }
    }
}
