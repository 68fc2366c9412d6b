//! get_camera_snapshot: a real JPEG of the requested width as image content, and each way
//! a picture can fail, with nothing changed on the server.

use super::*;
use rmcp::model::ContentBlock;

/// A snapshot that succeeds.
fn snapshot(h: &H, args: Value) -> ToolOutput {
    h.call("get_camera_snapshot", args).unwrap()
}

/// The answer's caption line and the picture's bytes.
fn picture(out: &ToolOutput) -> (String, Vec<u8>) {
    match &out.extra_content[..] {
        [ContentBlock::Text(line), ContentBlock::Image(image)] => {
            assert_eq!(image.mime_type, "image/jpeg");
            (line.text.clone(), crypto::b64_decode(&image.data).unwrap())
        }
        other => panic!("expected a caption and an image, got {other:?}"),
    }
}

#[test]
fn a_snapshot_is_a_jpeg_of_the_requested_width_as_image_content() {
    let h = H::new();
    let out = snapshot(&h, json!({"id": CAMERA_ID, "width": 640}));
    let (line, bytes) = picture(&out);
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    let size = imagesize::blob_size(&bytes).unwrap();
    assert_eq!((size.width, size.height), (640, 360));
    let s = &out.structured;
    assert_eq!(
        (s["width"].as_u64(), s["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert_eq!(s["bytes"].as_u64(), Some(bytes.len() as u64));
    assert_eq!(s["captured_ms"].as_u64(), Some(NOW_MS));
    assert_eq!(s["name"], "Front Door Camera");
    assert!(
        line.contains("Front Door Camera") && line.contains("640×360"),
        "{line}"
    );
    assert!(line.contains("2026-11-21 10:00:00 UTC"), "{line}");
    // What reached Scrypted: a fresh event picture of that width, within the camera's time.
    assert_eq!(
        h.host.calls_of("takePicture"),
        [json!({"id": CAMERA_ID, "width": 640, "timeoutMs": 10000})]
    );
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
}

#[test]
fn without_a_width_the_camera_is_asked_for_1280() {
    let h = H::new();
    let out = h.ok("get_camera_snapshot", json!({"id": CAMERA_ID}));
    assert_eq!(
        (out["requested_width"].as_u64(), out["width"].as_u64()),
        (Some(1280), Some(1280))
    );
    assert_eq!(h.host.calls_of("takePicture")[0]["width"], 1280);
    // The camera's own state is all it reads: not every device's on a large server.
    assert!(!h.host.called("systemState"));
    assert_eq!(
        h.host.calls_of("deviceStates"),
        [json!({"ids": [CAMERA_ID], "props": ["name", "interfaces"]})]
    );
}

#[test]
fn a_camera_that_cannot_resize_reports_its_real_size() {
    let h = H::new();
    h.host.set_camera_mode(CAMERA_ID, "native");
    let out = snapshot(&h, json!({"id": CAMERA_ID, "width": 640}));
    let (line, bytes) = picture(&out);
    assert_eq!(
        imagesize::blob_size(&bytes).unwrap().width,
        fake::NATIVE_WIDTH as usize
    );
    assert_eq!(
        out.structured["width"].as_u64(),
        Some(fake::NATIVE_WIDTH.into())
    );
    assert_eq!(out.structured["requested_width"], 640);
    assert!(line.contains("asked for 640 wide"), "{line}");
}

#[test]
fn a_device_without_camera_is_refused_naming_its_interfaces() {
    let h = H::new();
    let msg = h.failed("get_camera_snapshot", json!({"id": LIGHT_ID}));
    assert_eq!(
        msg,
        "Device 10 (Kitchen Light) is not a camera: it lacks the Camera interface. Its interfaces are: OnOff, Brightness, Refresh, Online. list_devices with interface \"Camera\" lists the cameras."
    );
    h.fails_saying(
        "get_camera_snapshot",
        json!({"id": "999"}),
        "No device with id '999'",
    );
    assert!(
        !h.host.called("takePicture"),
        "checked before asking the host"
    );
}

#[test]
fn a_picture_over_2_mib_is_refused_with_the_cap() {
    let h = H::new();
    h.host.set_camera_mode(CAMERA_ID, "noise");
    let msg = h.failed(
        "get_camera_snapshot",
        json!({"id": CAMERA_ID, "width": 1920}),
    );
    let size = fake::jpeg_picture(1920, true).len();
    assert!(size > 2 * 1024 * 1024, "the noise picture is big ({size})");
    assert_eq!(
        msg,
        format!("Device 12 (Front Door Camera) took a picture of {size} bytes, over the cap of 2097152 bytes (2 MiB); ask for a smaller width (this one asked for 1920).")
    );
    // The same camera at a smaller width fits.
    h.ok(
        "get_camera_snapshot",
        json!({"id": CAMERA_ID, "width": 640}),
    );
}

#[test]
fn a_picture_that_is_not_a_jpeg_is_refused_naming_its_type() {
    let h = H::new();
    h.host.set_camera_mode(CAMERA_ID, "png");
    h.fails_saying(
        "get_camera_snapshot",
        json!({"id": CAMERA_ID}),
        "Device 12 (Front Door Camera) answered image/png data that is not a JPEG (",
    );
}

#[test]
fn a_camera_failure_is_reported_with_the_hosts_message() {
    let h = H::new();
    h.host.set_camera_mode(CAMERA_ID, "fail");
    assert_eq!(
        h.failed("get_camera_snapshot", json!({"id": CAMERA_ID})),
        "Device 12 (Front Door Camera) could not take a picture: Scrypted reported: Camera offline"
    );
    assert!(h.mutations().is_empty());
}

#[test]
fn widths_outside_64_to_3840_are_invalid() {
    let h = H::new();
    for width in [0, 63, 3841, 100_000] {
        let msg = h.invalid(
            "get_camera_snapshot",
            json!({"id": CAMERA_ID, "width": width}),
        );
        assert_eq!(
            msg,
            format!("width must be 64 to 3840 pixels, not {width}.")
        );
    }
    h.invalid("get_camera_snapshot", json!({"id": CAMERA_ID, "width": -5}));
    h.invalid("get_camera_snapshot", json!({"camera": CAMERA_ID}));
    assert!(!h.host.called("takePicture"));
}

#[test]
fn a_camera_that_never_answers_is_given_up_after_12_seconds() {
    use std::task::Context;
    let h = H::new();
    h.host.set_camera_mode(CAMERA_ID, "hang");
    let def = catalogue()
        .iter()
        .find(|t| t.name == "get_camera_snapshot")
        .unwrap();
    let tc = Rc::new(ToolContext {
        ctx: h.plugin.ctx.clone(),
        caller: h.caller.clone(),
        peer: h.peer.clone(),
    });
    let mut run = (def.run)(tc, json!({"id": CAMERA_ID}));
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    assert!(run.as_mut().poll(&mut cx).is_pending());
    h.clock.advance_ms(11_999);
    assert!(
        run.as_mut().poll(&mut cx).is_pending(),
        "still within the deadline"
    );
    h.clock.advance_ms(1);
    match run.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Err(ToolError::Failed(m))) => assert_eq!(
            m,
            "Device 12 (Front Door Camera) gave no picture within 12 s; the camera or its plugin may be offline or busy. Try again, or look at its logs (get_logs with device_id 12)."
        ),
        other => panic!("expected the deadline, got {other:?}"),
    }
}
