//! Server: info, restart, update, .env.

use super::*;

const SECRETS: &[&str] = &[
    "adm-TOKEN-5f1e9c",
    "cluster-SECRET-77aa",
    "webhook-AUTH-0042",
    "mqtt PASSWORD 9",
];

fn assert_no_secrets(v: &Value) {
    let text = v.to_string();
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} leaked: {text}");
    }
}

#[test]
fn get_server_info_redacts_secret_environment() {
    let h = H::new();
    let out = h.ok("get_server_info", json!({}));
    assert_eq!(out["version"], "0.144.2");
    assert_eq!(out["env"]["SCRYPTED_ADMIN_TOKEN"], "[REDACTED]");
    assert_eq!(out["env"]["SCRYPTED_CLUSTER_SECRET"], "[REDACTED]");
    assert_eq!(
        out["env"]["SCRYPTED_WEBHOOK_UPDATE_AUTHORIZATION"],
        "[REDACTED]"
    );
    assert_eq!(out["env"]["SCRYPTED_VOLUME"], "/server/volume");
    assert_eq!(out["redacted_keys"].as_array().unwrap().len(), 3);
    assert_no_secrets(&out);
}

#[test]
fn get_server_info_reuses_the_host_reads_briefly() {
    use scrypted_mcp::tools::server::SERVER_INFO_TTL_MS;
    let h = H::new();
    let reads = || {
        (
            h.host.calls_of("serverVersion").len(),
            h.host.calls_of("scryptedEnv").len(),
        )
    };
    h.ok("get_server_info", json!({}));
    h.ok("get_server_info", json!({}));
    assert_eq!(
        reads(),
        (1, 1),
        "the second call within the TTL reads nothing"
    );

    // Past the bound the host is asked again, and what it says now is what is shown.
    h.host.server.borrow_mut().version = "0.145.0".into();
    h.clock.advance_ms(SERVER_INFO_TTL_MS);
    assert_eq!(h.ok("get_server_info", json!({}))["version"], "0.145.0");
    assert_eq!(reads(), (2, 2));
}

#[test]
fn get_server_info_keeps_no_failure() {
    let h = H::new();
    h.host.fail_with("scryptedEnv", "boom");
    h.failed("get_server_info", json!({}));
    h.host.fail.borrow_mut().clear();
    assert_eq!(h.ok("get_server_info", json!({}))["version"], "0.144.2");
    assert_eq!(h.host.calls_of("scryptedEnv").len(), 2);
}

#[test]
fn get_server_info_reports_host_failure() {
    let h = H::new();
    // A missing method fails remotely with this text (docs/reference/scrypted-host.md §2, RPC proxy quirks).
    h.reports_host_message(
        "scryptedEnv",
        "target info does not have method getScryptedEnv",
        "get_server_info",
        json!({}),
    );
}

#[test]
fn restart_server_answers_first_and_defers() {
    let h = H::new();
    let out = h.ok("restart_server", json!({}));
    assert_eq!(out["status"], "scheduled");
    assert_eq!(
        h.host.deferred(),
        [deferred_call(1500, "restartServer", json!({}))]
    );
    assert_eq!(h.mutations(), ["defer restartServer"]);
    let h = H::new();
    h.invalid("restart_server", json!({"now": true}));
    assert!(h.host.deferred().is_empty());
}

#[test]
fn update_server_answers_first_and_defers() {
    let h = H::new();
    let out = h.ok("update_server", json!({}));
    assert!(out["message"].as_str().unwrap().contains("webhook"));
    assert_eq!(
        h.host.deferred(),
        [deferred_call(1500, "updateServer", json!({}))]
    );
    let h = H::new();
    h.reports_host_error("scryptedEnv", "update_server", json!({}));
    assert!(h.host.deferred().is_empty());
}

#[test]
fn get_dotenv_redacts_and_handles_a_missing_file() {
    let h = H::new();
    let out = h.ok("get_dotenv", json!({}));
    assert_eq!(out["exists"], true);
    let text = out["text"].as_str().unwrap();
    assert!(text.contains("SCRYPTED_ADMIN_TOKEN=[REDACTED]"));
    assert!(text.contains("MQTT_PASSWORD=[REDACTED]"));
    assert!(text.contains("TZ=Europe/Berlin"));
    assert_no_secrets(&out);
    *h.host.dotenv.borrow_mut() = None;
    let out = h.ok("get_dotenv", json!({}));
    assert_eq!(
        (out["exists"].clone(), out["text"].clone()),
        (json!(false), json!(""))
    );
}

#[test]
fn get_dotenv_reports_other_errors() {
    let h = H::new();
    h.reports_host_message(
        "dotEnv",
        "EACCES: permission denied, open '/server/volume/.env'",
        "get_dotenv",
        json!({}),
    );
}

#[test]
fn dotenv_redaction_round_trip_keeps_every_secret() {
    let h = H::new();
    let original = h.host.dotenv.borrow().clone().unwrap();
    let text = h.ok("get_dotenv", json!({}))["text"]
        .as_str()
        .unwrap()
        .to_string();
    let edited = text.replace("TZ=Europe/Berlin", "TZ=UTC") + "NEW_FLAG=1\n";
    let out = h.ok("set_dotenv", json!({"text": edited}));
    assert_eq!(out["restart_required"], true);
    assert_eq!(
        out["kept_secret_keys"],
        json!([
            "SCRYPTED_ADMIN_TOKEN",
            "SCRYPTED_CLUSTER_SECRET",
            "MQTT_PASSWORD"
        ])
    );
    let written = h.host.dotenv.borrow().clone().unwrap();
    assert_eq!(
        written,
        original.replace("TZ=Europe/Berlin", "TZ=UTC") + "NEW_FLAG=1\n"
    );
    assert_no_secrets(&out);
}

/// `dotenv`, which Scrypted loads the file with, reads a quoted value over several lines (a
/// PEM key) and any value as text (JSON with a password in it): neither is shown, and the
/// round trip of what was shown writes the file back as it was.
#[test]
fn multi_line_and_json_dotenv_values_are_hidden_and_round_trip() {
    let h = H::new();
    let original = "TZ=UTC\nMQTT_TLS_KEY=\"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\"\nCERT='-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yBy\n-----END EC PRIVATE KEY-----'\nBROKER_CONFIG={\"user\":\"u\",\"password\":\"hunter2\"}\nAFTER=1\n";
    *h.host.dotenv.borrow_mut() = Some(original.into());
    let out = h.ok("get_dotenv", json!({}));
    let text = out["text"].as_str().unwrap().to_string();
    for secret in [
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "MHcCAQEEIBkg4LVWM9nuwNSk3yBy",
        "hunter2",
    ] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    assert_eq!(
        text,
        "TZ=UTC\nMQTT_TLS_KEY=[REDACTED]\nCERT=[REDACTED]\nBROKER_CONFIG={\"password\":\"[REDACTED]\",\"user\":\"u\"}\nAFTER=1\n"
    );
    h.ok(
        "set_dotenv",
        json!({"text": text.replace("AFTER=1", "AFTER=2")}),
    );
    assert_eq!(
        h.host.dotenv.borrow().as_deref(),
        Some(original.replace("AFTER=1", "AFTER=2").as_str())
    );
}

#[test]
fn set_dotenv_refuses_a_placeholder_without_a_value() {
    let h = H::new();
    let msg = h.failed(
        "set_dotenv",
        json!({"text": "OTHER_TOKEN=[REDACTED]\nTZ=UTC\n"}),
    );
    assert!(
        msg.contains("OTHER_TOKEN") && msg.contains("Nothing was written"),
        "{msg}"
    );
    assert!(!h.host.called("setDotEnv"));
    h.invalid(
        "set_dotenv",
        json!({"text": "A=".to_string() + &"x".repeat(70_000)}),
    );
    assert!(!h.host.called("setDotEnv"));
}

#[test]
fn set_dotenv_creates_a_missing_file() {
    let h = H::new();
    *h.host.dotenv.borrow_mut() = None;
    h.ok("set_dotenv", json!({"text": "TZ=UTC\n"}));
    assert_eq!(h.host.dotenv.borrow().as_deref(), Some("TZ=UTC\n"));
}
