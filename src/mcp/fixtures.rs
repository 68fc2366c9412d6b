//! The conformance suite's fixtures (docs/reference/mcp-protocol.md §2.5): the exact names and
//! payloads its server scenarios call. Built only with `conformance-fixtures`, which the
//! plugin never enables.

#![allow(deprecated)] // rmcp marks sampling deprecated for 2026-07-28; we speak 2025.

use super::server::Call;
use super::session::SessionRef;
use crate::tools::{Elicited, Peer};
use rmcp::model::{
    CallToolResult, ContentBlock, CreateMessageRequestParams, ErrorData, GetPromptResult, Prompt,
    PromptArgument, PromptMessage, ReadResourceResult, Resource, ResourceContents,
    ResourceTemplate, Role, SamplingMessage, ServerResult, Tool,
};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// A 1x1 red PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A minimal WAV file.
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

fn schema(value: Value) -> Arc<Map<String, Value>> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => unreachable!("fixture schemas are objects"),
    }
}

fn no_args() -> Arc<Map<String, Value>> {
    schema(json!({ "type": "object", "properties": {}, "additionalProperties": false }))
}

fn string_arg(name: &str, description: &str) -> Arc<Map<String, Value>> {
    schema(json!({
        "type": "object",
        "properties": { name: { "type": "string", "description": description } },
        "required": [name],
    }))
}

pub fn tools() -> Vec<Tool> {
    let plain =
        |name: &'static str, description: &'static str| Tool::new(name, description, no_args());
    vec![
        plain("test_simple_text", "Tests simple text content response"),
        plain("test_image_content", "Tests image content response"),
        plain("test_audio_content", "Tests audio content response"),
        plain(
            "test_embedded_resource",
            "Tests embedded resource content response",
        ),
        plain(
            "test_multiple_content_types",
            "Tests response with multiple content types (text, image, resource)",
        ),
        plain(
            "test_tool_with_logging",
            "Tests tool that emits log messages during execution",
        ),
        plain("test_error_handling", "Tests error response handling"),
        plain(
            "test_tool_with_progress",
            "Tests tool that reports progress notifications",
        ),
        Tool::new(
            "test_sampling",
            "Tests server-initiated sampling (LLM completion request)",
            string_arg("prompt", "The prompt to send to the LLM"),
        ),
        Tool::new(
            "test_elicitation",
            "Tests server-initiated elicitation (user input request)",
            string_arg("message", "The message to show the user"),
        ),
        plain(
            "test_elicitation_sep1034_defaults",
            "Tests elicitation with default values per SEP-1034",
        ),
        plain(
            "test_elicitation_sep1330_enums",
            "Tests elicitation with enum schema improvements per SEP-1330",
        ),
        Tool::new(
            "json_schema_2020_12_tool",
            "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
            schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {
                    "address": {
                        "type": "object",
                        "properties": { "street": { "type": "string" }, "city": { "type": "string" } }
                    }
                },
                "properties": { "name": { "type": "string" }, "address": { "$ref": "#/$defs/address" } },
                "additionalProperties": false
            })),
        ),
    ]
}

fn text(text: impl Into<String>) -> Result<CallToolResult, ErrorData> {
    Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
}

/// `None` when `name` is not a fixture tool.
pub async fn call_tool(
    call: &Call,
    name: &str,
    args: &Map<String, Value>,
) -> Option<Result<CallToolResult, ErrorData>> {
    let arg = |key: &str| {
        args.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let peer = &*call.peer;
    Some(match name {
        "test_simple_text" => text("This is a simple text response for testing."),
        "test_image_content" => Ok(CallToolResult::success(vec![ContentBlock::image(
            PNG,
            "image/png",
        )])),
        "test_audio_content" => Ok(CallToolResult::success(vec![ContentBlock::audio(
            WAV,
            "audio/wav",
        )])),
        "test_embedded_resource" => Ok(CallToolResult::success(vec![ContentBlock::embedded_text(
            "test://embedded-resource",
            "This is an embedded resource content.",
        )])),
        "test_multiple_content_types" => Ok(CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(PNG, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(
                    json!({"test": "data", "value": 123}).to_string(),
                    "test://mixed-content-resource",
                )
                .with_mime_type("application/json"),
            ),
        ])),
        "test_tool_with_logging" => {
            // No timer in wasm: the three messages go out without the reference's 50 ms gaps.
            for message in [
                "Tool execution started",
                "Tool processing data",
                "Tool execution completed",
            ] {
                peer.log("info", json!(message));
            }
            text("Tool with logging executed successfully")
        }
        "test_error_handling" => Ok(CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )])),
        "test_tool_with_progress" => {
            for step in [0.0, 50.0, 100.0] {
                peer.progress(
                    step,
                    Some(100.0),
                    Some(&format!("Completed step {step} of 100")),
                );
            }
            text(peer.progress_token_text().unwrap_or_else(|| "0".into()))
        }
        "test_sampling" => sampling(call, &arg("prompt")).await,
        "test_elicitation" => {
            let schema = json!({
                "type": "object",
                "properties": {
                    "username": { "type": "string", "description": "User's response" },
                    "email": { "type": "string", "description": "User's email address" }
                },
                "required": ["username", "email"]
            });
            elicit(peer, &arg("message"), schema, "User response").await
        }
        "test_elicitation_sep1034_defaults" => {
            let schema = json!({
                "type": "object",
                "properties": {
                    "name": { "type": "string", "description": "User name", "default": "John Doe" },
                    "age": { "type": "integer", "description": "User age", "default": 30 },
                    "score": { "type": "number", "description": "User score", "default": 95.5 },
                    "status": {
                        "type": "string",
                        "description": "User status",
                        "enum": ["active", "inactive", "pending"],
                        "default": "active"
                    },
                    "verified": { "type": "boolean", "description": "Verification status", "default": true }
                },
                "required": []
            });
            elicit(
                peer,
                "Please review and update the form fields with defaults",
                schema,
                "Elicitation completed",
            )
            .await
        }
        "test_elicitation_sep1330_enums" => {
            let schema = json!({
                "type": "object",
                "properties": {
                    "untitledSingle": {
                        "type": "string",
                        "description": "Select one option",
                        "enum": ["option1", "option2", "option3"]
                    },
                    "titledSingle": {
                        "type": "string",
                        "description": "Select one option with titles",
                        "oneOf": [
                            { "const": "value1", "title": "First Option" },
                            { "const": "value2", "title": "Second Option" },
                            { "const": "value3", "title": "Third Option" }
                        ]
                    },
                    "legacyEnum": {
                        "type": "string",
                        "description": "Select one option (legacy)",
                        "enum": ["opt1", "opt2", "opt3"],
                        "enumNames": ["Option One", "Option Two", "Option Three"]
                    },
                    "untitledMulti": {
                        "type": "array",
                        "description": "Select multiple options",
                        "minItems": 1,
                        "maxItems": 3,
                        "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
                    },
                    "titledMulti": {
                        "type": "array",
                        "description": "Select multiple options with titles",
                        "minItems": 1,
                        "maxItems": 3,
                        "items": {
                            "anyOf": [
                                { "const": "value1", "title": "First Choice" },
                                { "const": "value2", "title": "Second Choice" },
                                { "const": "value3", "title": "Third Choice" }
                            ]
                        }
                    }
                },
                "required": []
            });
            elicit(
                peer,
                "Please select options from the enum fields",
                schema,
                "Elicitation completed",
            )
            .await
        }
        "json_schema_2020_12_tool" => text(format!(
            "JSON Schema 2020-12 tool called with: {}",
            Value::Object(args.clone())
        )),
        _ => return None,
    })
}

async fn elicit(
    peer: &super::peer::RequestPeer,
    message: &str,
    schema: Value,
    label: &str,
) -> Result<CallToolResult, ErrorData> {
    let (action, content) = match peer.elicit(message, schema).await {
        Ok(Elicited::Accept(content)) => ("accept", Value::Object(content)),
        Ok(Elicited::Decline) => ("decline", json!({})),
        Ok(Elicited::Cancel) => ("cancel", json!({})),
        Err(e) => {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Elicitation not supported or error: {e}"
            ))]))
        }
    };
    text(format!("{label}: action={action}, content={content}"))
}

async fn sampling(call: &Call, prompt: &str) -> Result<CallToolResult, ErrorData> {
    if !call.session().borrow().supports_sampling() {
        return Ok(CallToolResult::error(vec![ContentBlock::text(
            "Sampling not supported: the client did not declare the sampling capability",
        )]));
    }
    let params = CreateMessageRequestParams::new(vec![SamplingMessage::user_text(prompt)], 100);
    let params =
        serde_json::to_value(params).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
    match call.peer.request("sampling/createMessage", params).await {
        Ok(result) => {
            let reply = result
                .pointer("/content/text")
                .and_then(Value::as_str)
                .unwrap_or("No response");
            text(format!("LLM response: {reply}"))
        }
        Err(e) => Ok(CallToolResult::error(vec![ContentBlock::text(format!(
            "Sampling not supported or error: {}",
            e.message
        ))])),
    }
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new("test://static-text", "static-text")
            .with_title("Static Text Resource")
            .with_description("A static text resource for testing")
            .with_mime_type("text/plain"),
        Resource::new("test://static-binary", "static-binary")
            .with_title("Static Binary Resource")
            .with_description("A static binary resource (image) for testing")
            .with_mime_type("image/png"),
        Resource::new("test://watched-resource", "watched-resource")
            .with_title("Watched Resource")
            .with_description("A resource that can be subscribed to")
            .with_mime_type("text/plain"),
    ]
}

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("test://template/{id}/data", "template")
            .with_title("Resource Template")
            .with_description("A resource template with parameter substitution")
            .with_mime_type("application/json"),
    ]
}

pub fn read(uri: &str) -> Option<ReadResourceResult> {
    let contents = match uri {
        "test://static-text" => {
            ResourceContents::text("This is the content of the static text resource.", uri)
        }
        "test://static-binary" => ResourceContents::blob(PNG, uri).with_mime_type("image/png"),
        "test://watched-resource" => ResourceContents::text("Watched resource content", uri),
        _ => {
            let id = uri
                .strip_prefix("test://template/")?
                .strip_suffix("/data")?;
            if id.is_empty() || id.contains('/') {
                return None;
            }
            let body =
                json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
            ResourceContents::text(body.to_string(), uri).with_mime_type("application/json")
        }
    };
    Some(ReadResourceResult::new(vec![contents]))
}

pub fn subscription(
    session: &SessionRef,
    method: &str,
    params: &Value,
) -> Result<ServerResult, ErrorData> {
    let uri = params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| ErrorData::invalid_params("uri is required", None))?;
    let mut session = session.borrow_mut();
    if method == "resources/subscribe" {
        session.subscriptions.insert(uri.to_string());
    } else {
        session.subscriptions.remove(uri);
    }
    Ok(ServerResult::empty(()))
}

pub fn prompts() -> Vec<Prompt> {
    let arg = |name: &str, description: &str| {
        PromptArgument::new(name)
            .with_description(description)
            .with_required(true)
    };
    vec![
        Prompt::new(
            "test_simple_prompt",
            Some("A simple prompt without arguments"),
            None,
        )
        .with_title("Simple Test Prompt"),
        Prompt::new(
            "test_prompt_with_arguments",
            Some("A prompt with required arguments"),
            Some(vec![
                arg("arg1", "First test argument"),
                arg("arg2", "Second test argument"),
            ]),
        )
        .with_title("Prompt With Arguments"),
        Prompt::new(
            "test_prompt_with_embedded_resource",
            Some("A prompt that includes an embedded resource"),
            Some(vec![arg("resourceUri", "URI of the resource to embed")]),
        )
        .with_title("Prompt With Embedded Resource"),
        Prompt::new(
            "test_prompt_with_image",
            Some("A prompt that includes image content"),
            None,
        )
        .with_title("Prompt With Image"),
    ]
}

pub fn has_prompt(name: &str) -> bool {
    prompts().iter().any(|p| p.name == name)
}

pub fn get_prompt(name: &str, args: &Map<String, Value>) -> Result<GetPromptResult, ErrorData> {
    let required = |key: &str| {
        args.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                ErrorData::invalid_params(format!("Missing required argument: {key}"), None)
            })
    };
    let messages = match name {
        "test_simple_prompt" => vec![PromptMessage::new_text(
            Role::User,
            "This is a simple prompt for testing.",
        )],
        "test_prompt_with_arguments" => {
            let (arg1, arg2) = (required("arg1")?, required("arg2")?);
            vec![PromptMessage::new_text(
                Role::User,
                format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"),
            )]
        }
        "test_prompt_with_embedded_resource" => vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::embedded_text(
                    required("resourceUri")?,
                    "Embedded resource content for testing.",
                ),
            ),
            PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
        ],
        "test_prompt_with_image" => vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG, "image/png")),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ],
        _ => {
            return Err(ErrorData::invalid_params(
                format!("Unknown prompt: {name}"),
                None,
            ))
        }
    };
    Ok(GetPromptResult::new(messages))
}
