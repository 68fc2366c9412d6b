//! The catalogue as tools/list shows it: names, annotations, and schemas that are valid, portable JSON Schema 2020-12.

use super::*;

#[test]
fn catalogue_is_exactly_the_listed_tools() {
    let names: Vec<&str> = catalogue().iter().map(|t| t.name).collect();
    assert_eq!(names, CATALOGUE_TOOLS);
}

/// (name, readOnly, destructive, idempotent, openWorld)
const HINTS: &[(&str, bool, bool, bool, bool)] = &[
    ("list_plugins", true, false, true, false),
    ("get_plugin_info", true, false, true, false),
    ("reload_plugin", false, true, true, false),
    ("kill_plugin", false, true, true, false),
    ("install_plugin", false, true, true, true),
    ("update_plugins", false, true, false, true),
    ("npm_info", true, false, true, true),
    ("rename_device_id", false, true, false, false),
    ("set_mixins", false, true, true, false),
    ("get_storage", true, false, true, false),
    ("set_storage", false, true, true, false),
    ("get_id_for_native_id", true, false, true, false),
    ("disconnect_clients", false, true, true, false),
    ("clear_console", false, true, true, false),
    ("list_devices", true, false, true, false),
    ("get_device", true, false, true, false),
    ("call_device_method", false, true, false, false),
    ("get_camera_snapshot", true, false, true, false),
    ("get_recent_events", true, false, true, false),
    ("get_logs", true, false, true, false),
    ("clear_logs", false, true, true, false),
    ("list_alerts", true, false, true, false),
    ("remove_alert", false, true, true, false),
    ("clear_alerts", false, true, true, false),
    ("get_server_info", true, false, true, false),
    ("restart_server", false, true, false, false),
    ("update_server", false, true, false, false),
    ("get_dotenv", true, false, true, false),
    ("set_dotenv", false, true, true, false),
    ("list_users", true, false, true, false),
    ("add_user", false, false, false, false),
    ("remove_user", false, true, true, false),
    ("get_local_addresses", true, false, true, false),
    ("set_local_addresses", false, true, true, false),
    ("get_external_addresses", true, false, true, false),
    ("set_external_addresses", false, true, true, false),
    ("get_cors", true, false, true, false),
    ("set_cors", false, true, true, false),
    ("list_cluster_workers", true, false, true, false),
    ("create_backup", true, false, true, false),
    ("restore_backup", false, true, false, false),
];

#[test]
fn annotations_are_true_to_each_tool() {
    let cat = catalogue();
    assert_eq!(cat.len(), HINTS.len());
    for (name, ro, de, id, ow) in HINTS {
        let t = cat.iter().find(|t| t.name == *name).unwrap();
        let h = t.hints;
        assert_eq!(
            (h.read_only, h.destructive, h.idempotent, h.open_world),
            (*ro, *de, *id, *ow),
            "{name}"
        );
        // A read-only tool is never destructive.
        assert!(!(h.read_only && h.destructive), "{name}");
    }
}

fn no_refs(v: &Value, tool: &str) {
    match v {
        Value::Object(o) => {
            assert!(!o.contains_key("$ref"), "{tool}: $ref left in schema");
            o.values().for_each(|x| no_refs(x, tool));
        }
        Value::Array(a) => a.iter().for_each(|x| no_refs(x, tool)),
        _ => {}
    }
}

/// JSON Schema 2020-12 defines `format` only for strings; schemars' `uint32` / `double`
/// markers make clients print warnings and strict validators refuse the schema.
#[test]
fn schemas_use_no_format_that_json_schema_does_not_define() {
    fn formats(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(f)) = m.get("format") {
                    out.push(f.clone());
                }
                m.values().for_each(|v| formats(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| formats(v, out)),
            _ => {}
        }
    }
    let defined = [
        "date-time",
        "date",
        "time",
        "duration",
        "email",
        "idn-email",
        "hostname",
        "idn-hostname",
        "ipv4",
        "ipv6",
        "uri",
        "uri-reference",
        "iri",
        "iri-reference",
        "uuid",
        "uri-template",
        "json-pointer",
        "relative-json-pointer",
        "regex",
    ];
    for t in catalogue() {
        let mut found = Vec::new();
        formats(&Value::Object(t.input_schema()), &mut found);
        formats(&Value::Object(t.output_schema()), &mut found);
        for f in found {
            assert!(defined.contains(&f.as_str()), "{}: format {f:?}", t.name);
        }
    }
}

/// MCP schemas default to JSON Schema 2020-12: every tool's input and output schema must
/// be a valid 2020-12 schema, and portable: no boolean subschema such as `items: true`
/// (OpenAPI-style validators that some clients use reject them; `{}` says the same).
#[test]
fn schemas_are_valid_2020_12_and_use_no_boolean_subschemas() {
    fn booleans(v: &Value, at: &str, out: &mut Vec<String>) {
        let Value::Object(m) = v else { return };
        for (k, x) in m {
            let here = format!("{at}/{k}");
            match (k.as_str(), x) {
                // Boolean-valued keywords that are not schemas.
                ("additionalProperties", Value::Bool(false)) | ("default" | "const", _) => {}
                ("enum" | "required" | "type" | "examples", _) => {}
                (_, Value::Bool(_)) => out.push(here),
                ("properties" | "$defs" | "patternProperties", Value::Object(props)) => {
                    for (name, p) in props {
                        if p.is_boolean() {
                            out.push(format!("{here}/{name}"));
                        }
                        booleans(p, &format!("{here}/{name}"), out);
                    }
                }
                (_, Value::Array(list)) => {
                    for (i, p) in list.iter().enumerate() {
                        if p.is_boolean() {
                            out.push(format!("{here}/{i}"));
                        }
                        booleans(p, &format!("{here}/{i}"), out);
                    }
                }
                (_, x) => booleans(x, &here, out),
            }
        }
    }
    for t in catalogue() {
        for (which, schema) in [("input", t.input_schema()), ("output", t.output_schema())] {
            let schema = Value::Object(schema);
            if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
                panic!("{} {which} schema is not valid 2020-12: {e}", t.name);
            }
            let mut found = Vec::new();
            booleans(&schema, "", &mut found);
            assert!(
                found.is_empty(),
                "{} {which}: boolean subschemas at {found:?}",
                t.name
            );
        }
    }
}

/// Output fields with a fixed set of values say so in the schema, so a client can rely on
/// them (tool, field of the output object, its values).
const ENUM_FIELDS: &[(&str, &str, &[&str])] = &[
    ("reload_plugin", "status", &["reloaded", "scheduled"]),
    ("kill_plugin", "status", &["killed"]),
    (
        "install_plugin",
        "change",
        &["installed", "updated", "reinstalled"],
    ),
    ("update_plugins", "status", &["updated", "scheduled"]),
    ("restart_server", "status", &["scheduled"]),
    ("restart_server", "action", &["restart", "update"]),
    ("update_server", "status", &["scheduled"]),
    ("update_server", "action", &["restart", "update"]),
    ("create_backup", "mime_type", &["application/zip"]),
    ("restore_backup", "status", &["staged", "scheduled"]),
];

#[test]
fn fixed_value_output_fields_carry_an_enum() {
    for (tool, field, values) in ENUM_FIELDS {
        let def = catalogue().iter().find(|t| t.name == *tool).unwrap();
        let schema = Value::Object(def.output_schema());
        let property = &schema["properties"][*field];
        assert_eq!(property["type"], "string", "{tool}.{field}: {property}");
        assert_eq!(
            property["enum"],
            json!(values),
            "{tool}.{field}: {property}"
        );
    }
    // And the answers keep to them (the harness validates every result against its schema,
    // so a value outside the enum fails there): one of each.
    let h = H::new();
    assert_eq!(
        h.ok("kill_plugin", json!({"plugin_id": "@scrypted/hue"}))["status"],
        "killed"
    );
    assert_eq!(h.ok("restart_server", json!({}))["action"], "restart");
}

#[test]
fn every_schema_is_a_self_contained_object_with_described_fields() {
    for t in catalogue() {
        let input = Value::Object(t.input_schema());
        assert_eq!(input["type"], "object", "{}", t.name);
        no_refs(&input, t.name);
        match input.get("properties").and_then(Value::as_object) {
            None => assert_eq!(
                input,
                json!({"type": "object", "additionalProperties": false}),
                "{}: no-arg schema",
                t.name
            ),
            Some(props) => {
                assert_eq!(input["additionalProperties"], false, "{}", t.name);
                for (k, p) in props {
                    let d = p["description"].as_str().unwrap_or("");
                    assert!(d.len() > 5, "{}.{k} has no description", t.name);
                }
            }
        }
        let output = Value::Object(t.output_schema());
        assert_eq!(output["type"], "object", "{}", t.name);
        no_refs(&output, t.name);
        assert!(t.description.len() > 40, "{}", t.name);
        assert!(!t.title.is_empty());
    }
}

#[test]
fn descriptions_state_the_quirks() {
    let cat = catalogue();
    let d = |n: &str| cat.iter().find(|t| t.name == n).unwrap().description;
    for (tool, says) in [
        ("clear_logs", "ALSO DELETES THE ALERTS"),
        ("set_cors", "MEMORY ONLY"),
        ("set_external_addresses", "MEMORY ONLY"),
        ("create_backup", "EVERY SECRET"),
        ("update_plugins", "UNINSTALLS"),
        ("restore_backup", "RESTORE FROM BACKUP"),
        // docs/reference/scrypted-host.md §10/§11: the rest of the reference's quirks a model must know.
        ("restore_backup", "elicitation"),
        // the 100 KB body limit → chunks
        ("restore_backup", "65536"),
        ("get_server_info", "[REDACTED]"),
        ("get_server_info", "getUpdateAvailable"),
        ("get_dotenv", "[REDACTED]"),
        ("set_dotenv", "[REDACTED]"),
        ("set_dotenv", "after restart"),
        ("get_storage", "refused"),
        ("set_storage", "refused"),
        ("set_storage", "REPLACES"),
        ("set_mixins", "not additive"),
        ("kill_plugin", "Refused for this MCP plugin"),
        ("reload_plugin", "answer is sent first"),
        ("restart_server", "answer is sent first"),
        ("update_server", "answer is sent first"),
        ("rename_device_id", "already taken"),
        ("install_plugin", "reads the plugin back"),
        ("call_device_method", "[REDACTED]"),
        ("list_plugins", "ScryptedPlugin"),
    ] {
        assert!(
            d(tool).contains(says),
            "{tool}'s description lacks {says:?}"
        );
    }
}

#[test]
fn arguments_that_do_not_fit_the_schema_are_invalid_params_and_change_nothing() {
    let h = H::new();
    assert!(h
        .invalid("list_devices", json!({"bogus": 1}))
        .contains("bogus"));
    assert!(h
        .invalid("get_plugin_info", json!({}))
        .contains("plugin_id"));
    assert!(h
        .invalid("set_mixins", json!({"id": "12", "mixins": "7"}))
        .contains("sequence"));
    assert!(h.invalid("clear_alerts", json!({"x": true})).contains("x"));
    h.invalid("list_plugins", json!([1, 2]));
    assert!(h.host.calls.borrow().is_empty());
    // Absent arguments are `{}`.
    h.ok("list_users", Value::Null);
}
