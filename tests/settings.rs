//! The Settings tab as getSettings shows it: groups in order, the MCP URLs to copy (with
//! their fallbacks when Scrypted knows no LAN address), status counts, and the Setting
//! objects Scrypted receives. Changes through putSetting: tests/settings_changes.rs.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tab.rs"]
mod tab;

use common::{plugin, NOW_MS};
use flow::{obtain_tokens, request, send};
use scrypted_mcp::audit::{self, AuditEntry};
use scrypted_mcp::settings::Setting;
use serde_json::{json, Value};
use tab::*;

/// Both MCP URLs point at `host`, on Scrypted's https and http ports.
fn assert_endpoint_urls(settings: &[Setting], host: &str) {
    for (key, scheme, port) in [
        ("endpoint_https", "https", 10443),
        ("endpoint_http", "http", 11080),
    ] {
        assert_eq!(
            value_str(settings, key),
            format!("{scheme}://{host}:{port}/endpoint/scrypted-mcp/public/mcp")
        );
    }
}

// ---- getSettings

#[test]
fn tab_shows_groups_in_order_with_endpoint_urls_and_defaults() {
    let (plugin, _host, _store, _clock) = plugin();
    let settings = get(&plugin);
    println!("{}", serde_json::to_string_pretty(&settings).unwrap());
    let manifest: Value = serde_json::from_str(include_str!("../scrypted-manifest.json")).unwrap();

    let mut groups: Vec<&str> = Vec::new();
    for s in &settings {
        let g = s.group.as_deref().expect("every setting has a group");
        if groups.last() != Some(&g) {
            groups.push(g);
        }
    }
    assert_eq!(
        groups,
        [
            "Endpoint",
            "Configuration",
            "Status",
            "Connected apps",
            "Audit trail"
        ],
        "groups appear once each, in order"
    );

    assert_endpoint_urls(&settings, "192.168.1.10");
    for key in ["endpoint_https", "endpoint_http"] {
        let s = find(&settings, key);
        assert_eq!(s.readonly, Some(true));
        assert!(
            s.description.as_deref().unwrap_or("").len() > 20,
            "{key} has a hint"
        );
    }

    for (key, default, range) in [
        ("dcr_max_clients", 100, [1, 10000]),
        ("access_token_ttl_sec", 3600, [60, 86400]),
        ("refresh_token_ttl_sec", 2592000, [3600, 31536000]),
        ("max_restore_mb", 500, [1, 10240]),
    ] {
        let s = find(&settings, key);
        assert_eq!(s.kind.as_deref(), Some("integer"), "{key}");
        assert_eq!(s.range, Some(range), "{key}");
        assert_eq!(s.value, Some(json!(default)), "{key}");
        assert_eq!(s.readonly, None, "{key} is editable");
        let spec = &manifest["settings"][key];
        assert_eq!(s.title, spec["title"], "{key}: title from the manifest");
        assert_eq!(
            s.description.clone().unwrap(),
            format!(
                "{} Default {default}, allowed {}–{}.",
                spec["description"].as_str().unwrap(),
                range[0],
                range[1]
            ),
            "{key}: the manifest's description, with its default and range"
        );
        assert_eq!(
            (json!(default), json!(range[0]), json!(range[1])),
            (
                spec["default"].clone(),
                spec["min"].clone(),
                spec["max"].clone()
            ),
            "{key}: the manifest says the same"
        );
    }

    for key in ["status_sessions", "status_clients", "status_refresh_tokens"] {
        let s = find(&settings, key);
        assert_eq!(s.value, Some(json!(0)), "{key}");
        assert_eq!(s.readonly, Some(true), "{key}");
    }

    let revoke = find(&settings, "revoke_all");
    assert_eq!(revoke.kind.as_deref(), Some("button"));
    assert_eq!(revoke.title, "Revoke all tokens & disconnect clients");
    assert!(value_str(&settings, "clients_none").contains("None yet"));
    let audit = find(&settings, "audit_recent");
    assert_eq!(audit.kind.as_deref(), Some("textarea"));
    assert_eq!(audit.readonly, Some(true));
    assert_eq!(value_str(&settings, "audit_recent"), "No tool calls yet.");
}

#[test]
fn endpoint_failure_is_shown_not_fatal() {
    let (plugin, host, _store, _clock) = plugin();
    host.fail_with("endpointPath", "endpointManager is not available");
    let settings = get(&plugin);
    assert_eq!(
        value_str(&settings, "endpoint_https"),
        "unavailable: endpointManager is not available"
    );
    assert_eq!(find(&settings, "dcr_max_clients").value, Some(json!(100)));
}

/// Real host (issue 7): with no usable LAN address `getComponent('SCRYPTED_IP_ADDRESS')`
/// is undefined, and Scrypted's own local endpoint reads `http://undefined:<port>/...`
/// (this test failed so before the URL was built in Rust). The tab falls back to the host
/// name the admin's own browser reached us by, and says why; nobody else's Host header
/// gets there.
#[test]
fn without_a_lan_address_the_urls_use_the_admins_browser_host_never_undefined() {
    let (plugin, host, _store, _clock) = plugin();
    host.server.borrow_mut().ip_address = None;
    let from = |host_header: &str, user: Option<&str>, acl_id: Option<&str>| {
        let mut req = request("GET", "/", host_header);
        req.username = user.map(String::from);
        req.acl_id = acl_id.map(String::from);
        assert_eq!(send(&plugin, req).status, 200);
    };
    from("10.20.30.40:11080", Some("admin"), None);
    from("evil.example", None, None);
    from(
        "viewer.example:11080",
        Some("viewer"),
        Some(common::VIEWER_ID),
    );
    let settings = get(&plugin);
    for key in ["endpoint_https", "endpoint_http"] {
        let value = value_str(&settings, key);
        assert!(!value.contains("undefined"), "{key}: {value}");
        let note = find(&settings, key).description.clone().unwrap();
        assert!(
            note.contains("SCRYPTED_IP_ADDRESS"),
            "{key} says why: {note}"
        );
        assert!(
            !note.contains("evil") && !note.contains("viewer.example"),
            "{key}: only an admin's browser counts: {note}"
        );
        assert!(
            note.contains("10.20.30.40"),
            "{key} names the address used: {note}"
        );
        assert!(
            note.contains("192.168.1.10:") && !note.contains("fe80"),
            "{key} names this machine's other usable addresses: {note}"
        );
    }
    assert_endpoint_urls(&settings, "10.20.30.40");
}

#[test]
fn without_a_lan_address_or_a_request_the_urls_use_this_machines_addresses() {
    let (plugin, host, _store, _clock) = plugin();
    host.server.borrow_mut().ip_address = None;
    host.network_interfaces.borrow_mut().insert(
        "tailscale0".into(),
        vec![scrypted_mcp::host::NetworkAddress {
            address: "fd7a:115c:a1e0::1".into(),
            family: "IPv6".into(),
            internal: false,
        }],
    );
    let settings = get(&plugin);
    // IPv4 first, as Scrypted orders them; loopback and link-local left out.
    assert_eq!(
        value_str(&settings, "endpoint_http"),
        "http://192.168.1.10:11080/endpoint/scrypted-mcp/public/mcp"
    );
    let note = find(&settings, "endpoint_http")
        .description
        .clone()
        .unwrap();
    assert!(note.contains("SCRYPTED_IP_ADDRESS"), "{note}");
    assert!(
        note.contains("http://[fd7a:115c:a1e0::1]:11080/endpoint/scrypted-mcp/public/mcp"),
        "{note}"
    );
    assert!(
        !note.contains("127.0.0.1") && !note.contains("fe80"),
        "{note}"
    );

    host.network_interfaces.borrow_mut().clear();
    let settings = get(&plugin);
    for key in ["endpoint_https", "endpoint_http"] {
        let value = value_str(&settings, key);
        assert!(
            value.starts_with("unavailable: ") && !value.contains("undefined"),
            "{key}: {value}"
        );
    }
}

#[test]
fn an_ipv6_lan_address_is_bracketed() {
    let (plugin, host, _store, _clock) = plugin();
    host.server.borrow_mut().ip_address = Some("2001:db8::10".into());
    assert_endpoint_urls(&get(&plugin), "[2001:db8::10]");
}

#[test]
fn status_counts_sessions_and_reaps_idle_ones() {
    let (plugin, _host, _store, clock) = plugin();
    let tokens = obtain_tokens(&plugin, HOST);
    let first = open_session(&plugin, &tokens.access_token);
    open_session(&plugin, &tokens.access_token);
    assert_eq!(sessions_shown(&plugin), json!(2));
    clock.advance_sec(1800);
    assert_eq!(ping(&plugin, &tokens.access_token, &first), 200);
    clock.advance_sec(1801);
    assert_eq!(
        sessions_shown(&plugin),
        json!(1),
        "idle over an hour: reaped"
    );
}

#[test]
fn opening_the_tab_writes_nothing() {
    let (plugin, host, store, _clock) = plugin();
    obtain_tokens(&plugin, HOST);
    let writes = store.writes.get();
    get(&plugin);
    get(&plugin);
    assert_eq!(store.writes.get(), writes);
    assert_eq!(host.settings_changed_count(), 0);
}

#[test]
fn format_time_is_utc() {
    assert_eq!(scrypted_mcp::utc::format_time(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(
        scrypted_mcp::utc::format_time(NOW_MS),
        "2026-11-21 10:00:00 UTC"
    );
    assert_eq!(
        scrypted_mcp::utc::format_time(951_782_400_000 + 86_399_000),
        "2000-02-29 23:59:59 UTC"
    );
}

/// The three time formats are written with `format!` over chrono's calendar fields, not by
/// chrono's run-time strftime engine (issue 12, wasm size): the same text as the patterns
/// they replaced, over leap days, month and year ends, milliseconds and five-digit years.
#[test]
fn time_formats_match_chrono_strftime() {
    let strftime = |ms: u64, pattern: &str| {
        chrono::DateTime::from_timestamp_millis(ms.min(i64::MAX as u64) as i64)
            .unwrap_or_default()
            .format(pattern)
            .to_string()
    };
    let mut times = vec![
        0,
        1,
        999,
        NOW_MS,
        951_782_400_000 + 86_399_999,
        4_107_542_399_999,
        253_402_300_799_999,
        253_402_300_800_000,
        8_210_266_876_799_999,
        u64::MAX,
    ];
    // Every 997th hour plus a few ms across 1970..2170, so every month, day and hour shows.
    times.extend((0..1_760).map(|i| i * 997 * 3_600_000 + i * 7));
    for ms in times {
        assert_eq!(
            scrypted_mcp::utc::format_time(ms),
            strftime(ms, "%Y-%m-%d %H:%M:%S UTC"),
            "{ms}"
        );
        assert_eq!(
            scrypted_mcp::tools::backup::timestamp(ms),
            strftime(ms, "%Y%m%dT%H%M%SZ"),
            "{ms}"
        );
        assert_eq!(
            scrypted_mcp::mcp::tasks::iso(ms),
            strftime(ms, "%Y-%m-%dT%H:%M:%S%.3fZ"),
            "{ms}"
        );
    }
}

#[test]
fn settings_serialize_as_scrypted_setting_objects() {
    let (plugin, _host, store, _clock) = plugin();
    let tokens = obtain_tokens(&plugin, HOST);
    for (i, (tool, outcome)) in [("get_server_info", "ok"), ("restore_backup", "refused")]
        .into_iter()
        .enumerate()
    {
        audit::record(
            &plugin.ctx,
            AuditEntry {
                time_ms: NOW_MS + 60_000 * (i as u64 + 1),
                user: "admin".into(),
                client_id: tokens.client_id.clone(),
                tool: tool.into(),
                args_hash: audit::args_hash(store.as_ref(), &json!({})),
                outcome: outcome.into(),
                elicitation: (outcome == "refused").then(|| "unsupported".to_string()),
                dry_run: false,
            },
        );
    }
    let json = serde_json::to_value(get(&plugin)).unwrap();
    println!("{}", serde_json::to_string_pretty(&json).unwrap());
    for s in json.as_array().unwrap() {
        let s = s.as_object().unwrap();
        assert!(s["key"].is_string() && s["title"].is_string());
        assert!(s.values().all(|v| !v.is_null()), "no nulls: {s:?}");
        assert!(
            s.keys().all(|k| [
                "key",
                "title",
                "group",
                "subgroup",
                "description",
                "type",
                "range",
                "readonly",
                "choices",
                "value"
            ]
            .contains(&k.as_str())),
            "only Scrypted Setting fields: {s:?}"
        );
    }
}
