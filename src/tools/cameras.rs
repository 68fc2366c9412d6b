//! Cameras: a fresh picture as MCP image content (docs/reference/scrypted-host.md §14).

use super::resolve::{interfaces_of, prop_of, Snapshot};
use super::schema::{tool, READ};
use super::{ToolContext, ToolDef, ToolError, ToolOutput, ToolResult};
use crate::utc::format_time;
use futures::future::{select, Either};
use rmcp::model::ContentBlock;
use schemars::JsonSchema;
use serde::Serialize;
use std::rc::Rc;

/// Width asked for when the caller names none: enough to read a scene, small enough to
/// keep a conversation light (a 1280-wide JPEG is typically 100–500 KB).
pub const DEFAULT_WIDTH: u32 = 1280;
pub const MIN_WIDTH: u32 = 64;
pub const MAX_WIDTH: u32 = 3840;
/// Largest picture returned: an image is sent base64 in the answer (a third larger), and
/// clients hold it in the conversation.
pub const MAX_PICTURE_BYTES: usize = 2 * 1024 * 1024;
/// How long the camera is given (`takePicture`'s `timeout`); the plugin stops waiting a
/// little later (`DEADLINE_MS`), as a camera plugin may ignore the timeout.
pub const CAMERA_TIMEOUT_MS: u32 = 10_000;
pub const DEADLINE_MS: u64 = 12_000;

pub const GET_CAMERA_SNAPSHOT: ToolDef = tool! {
    name: "get_camera_snapshot",
    title: "Camera snapshot",
    description: "Takes a fresh picture with a camera (Scrypted's Camera.takePicture; never a cached one) and returns it as an image (image/jpeg) with a line naming the camera, the capture time and the size. `width` asks for a picture that many pixels wide (default 1280, 64 to 3840); a camera that cannot resize answers its own size, and `width`/`height` in the answer are what came. Pictures over 2 MiB (2,097,152 bytes) are refused; ask again with a smaller width. Only devices with the Camera interface: list_devices with interface \"Camera\" finds them.",
    input: SnapshotArgs,
    output: SnapshotOut,
    hints: READ,
    scope: Read,
    run: get_camera_snapshot,
};

#[derive(Debug, JsonSchema)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
#[serde(deny_unknown_fields)]
pub struct SnapshotArgs {
    /// Scrypted device id of a camera (see list_devices with interface "Camera").
    pub id: String,
    /// Width in pixels to ask the camera for (default 1280, 64 to 3840).
    #[serde(default)]
    #[schemars(range(min = 64, max = 3840))]
    pub width: Option<u32>,
}

crate::fields::args!(SnapshotArgs {
    id: required,
    width: optional
});

#[derive(Debug, Serialize, JsonSchema)]
pub struct SnapshotOut {
    pub id: String,
    pub name: Option<String>,
    /// Always image/jpeg: anything else is refused.
    pub mime_type: String,
    /// The width asked for.
    pub requested_width: u32,
    /// The picture's real size, from its JPEG header.
    pub width: u32,
    pub height: u32,
    /// Size of the JPEG.
    pub bytes: usize,
    /// When the picture arrived (Unix ms).
    pub captured_ms: u64,
}

async fn get_camera_snapshot(tc: Rc<ToolContext>, a: SnapshotArgs) -> ToolResult {
    let requested_width = a.width.unwrap_or(DEFAULT_WIDTH);
    if !(MIN_WIDTH..=MAX_WIDTH).contains(&requested_width) {
        return Err(ToolError::InvalidParams(format!(
            "width must be {MIN_WIDTH} to {MAX_WIDTH} pixels, not {requested_width}."
        )));
    }
    let snap = Snapshot::load_of(&tc, &[&a.id], &["name", "interfaces"]).await?;
    let device = snap.require_device(&a.id)?;
    let name = prop_of(device, "name")
        .and_then(|v| v.as_str())
        .map(String::from);
    let camera = match &name {
        Some(n) => format!("Device {} ({n})", a.id),
        None => format!("Device {}", a.id),
    };
    let interfaces = interfaces_of(device);
    if !interfaces.iter().any(|i| i == "Camera") {
        return Err(ToolError::failed(format!(
            "{camera} is not a camera: it lacks the Camera interface. Its interfaces are: {}. list_devices with interface \"Camera\" lists the cameras.",
            interfaces.join(", ")
        )));
    }
    let taking = tc
        .ctx
        .host
        .take_picture(&a.id, requested_width, CAMERA_TIMEOUT_MS);
    let deadline = tc.ctx.clock.clone().sleep(DEADLINE_MS);
    let picture = match select(Box::pin(taking), deadline).await {
        Either::Left((answer, _)) => answer.map_err(|e| {
            ToolError::failed(format!(
                "{camera} could not take a picture: Scrypted reported: {}",
                e.message
            ))
        })?,
        Either::Right(((), _)) => {
            return Err(ToolError::failed(format!(
                "{camera} gave no picture within {} s; the camera or its plugin may be offline or busy. Try again, or look at its logs (get_logs with device_id {}).",
                DEADLINE_MS / 1000,
                a.id
            )))
        }
    };
    let bytes = picture.bytes;
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        let what = picture.mime_type.as_deref().unwrap_or("unlabelled");
        return Err(ToolError::failed(format!(
            "{camera} answered {what} data that is not a JPEG ({} bytes), and Scrypted's image converter passed it through unchanged; only JPEG pictures are returned.",
            bytes.len()
        )));
    }
    if bytes.len() > MAX_PICTURE_BYTES {
        return Err(ToolError::failed(format!(
            "{camera} took a picture of {} bytes, over the cap of {MAX_PICTURE_BYTES} bytes (2 MiB); ask for a smaller width (this one asked for {requested_width}).",
            bytes.len()
        )));
    }
    let size = imagesize::blob_size(&bytes).map_err(|e| {
        ToolError::failed(format!(
            "{camera} answered a JPEG whose header gives no size ({e})."
        ))
    })?;
    let captured_ms = tc.ctx.clock.now_ms();
    let out = SnapshotOut {
        id: a.id,
        name,
        mime_type: "image/jpeg".into(),
        requested_width,
        width: size.width as u32,
        height: size.height as u32,
        bytes: bytes.len(),
        captured_ms,
    };
    let line = format!(
        "{camera}, captured {}: {}×{} JPEG, {} KB{}.",
        format_time(captured_ms),
        out.width,
        out.height,
        out.bytes.div_ceil(1024),
        if out.width == requested_width {
            String::new()
        } else {
            format!(" (asked for {requested_width} wide; the camera answered its own size)")
        }
    );
    let structured = serde_json::to_value(&out)
        .map_err(|e| ToolError::failed(format!("could not encode the result: {e}")))?;
    Ok(ToolOutput {
        structured,
        extra_content: vec![
            ContentBlock::text(line),
            ContentBlock::image(crate::crypto::b64(&bytes), "image/jpeg"),
        ],
    })
}
