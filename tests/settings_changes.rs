//! Changes through the Settings tab: putSetting validation (each setting stored and
//! effective on the next request; bad values refused, changing nothing), revoke-all and
//! per-client revoke over real OAuth flows, the connected apps and the audit trail.

mod common;
#[path = "common/flow.rs"]
mod flow;
#[path = "common/tab.rs"]
mod tab;

use common::{plugin, NOW_MS};
use flow::{obtain_tokens, request, send, Tokens};
use scrypted_mcp::audit::{self, AuditEntry};
use scrypted_mcp::store::Store;
use scrypted_mcp::{oauth, settings, Plugin};
use serde_json::{json, Value};
use tab::*;

// ---- putSetting: valid values

#[test]
fn each_setting_accepts_integers_and_numeric_strings_and_applies_at_once() {
    let (plugin, host, store, _clock) = plugin();
    let cases = [
        ("dcr_max_clients", json!(7), 7),
        ("dcr_max_clients", json!("10000"), 10000),
        ("access_token_ttl_sec", json!(60), 60),
        ("access_token_ttl_sec", json!(" 7200 "), 7200),
        ("refresh_token_ttl_sec", json!(86400.0), 86400),
        ("refresh_token_ttl_sec", json!("31536000"), 31536000),
        ("max_restore_mb", json!(1), 1),
        ("max_restore_mb", json!("2048"), 2048),
    ];
    for (i, (key, value, expected)) in cases.into_iter().enumerate() {
        put(&plugin, key, value.clone()).unwrap_or_else(|e| panic!("{key} = {value}: {e}"));
        assert_eq!(
            store.get(&format!("settings.{key}")).as_deref(),
            Some(expected.to_string().as_str()),
            "{key} stored"
        );
        let config = scrypted_mcp::config::read(store.as_ref());
        let effective = match key {
            "dcr_max_clients" => config.dcr_max_clients,
            "access_token_ttl_sec" => config.access_token_ttl_sec,
            "refresh_token_ttl_sec" => config.refresh_token_ttl_sec,
            _ => config.max_restore_mb,
        };
        assert_eq!(effective, expected as u64, "{key} effective");
        assert_eq!(
            find(&get(&plugin), key).value,
            Some(json!(expected)),
            "{key} shown"
        );
        assert_eq!(
            host.settings_changed_count(),
            i + 1,
            "the UI is told to re-fetch"
        );
    }
}

#[test]
fn access_token_ttl_applies_to_the_next_token() {
    let (plugin, _host, _store, clock) = plugin();
    put(&plugin, "access_token_ttl_sec", json!("120")).unwrap();

    let client_id = flow::register(&plugin, HOST);
    let (verifier, challenge) = flow::pkce();
    let code = flow::authorize(&plugin, HOST, &client_id, &challenge);
    let resp = flow::exchange_code(&plugin, HOST, &client_id, &code, &verifier);
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    let body = resp.body_json().unwrap();
    assert_eq!(body["expires_in"], json!(120));
    let access = body["access_token"].as_str().unwrap();

    token_works(&plugin, access).expect("fresh token works");
    clock.advance_sec(121);
    let err = token_works(&plugin, access).expect_err("expired after 120 s");
    assert_eq!(err.status, 401);

    // And back to a longer lifetime for the refreshed token.
    put(&plugin, "access_token_ttl_sec", json!(600)).unwrap();
    let tokens = Tokens {
        access_token: access.to_string(),
        refresh_token: body["refresh_token"].as_str().unwrap().to_string(),
        client_id,
    };
    let resp = refresh(&plugin, &tokens, true);
    assert_eq!(resp.status, 200, "{:?}", resp.body_text());
    assert_eq!(resp.body_json().unwrap()["expires_in"], json!(600));
}

#[test]
fn refresh_token_ttl_applies_to_the_next_grant() {
    let (plugin, _host, _store, clock) = plugin();
    put(&plugin, "refresh_token_ttl_sec", json!(3600)).unwrap();
    let tokens = obtain_tokens(&plugin, HOST);
    clock.advance_sec(3601);
    let resp = refresh(&plugin, &tokens, true);
    assert_eq!(resp.status, 400, "{:?}", resp.body_text());
    assert_eq!(error_code(&resp), "invalid_grant");

    // With the default (30 days) the same wait is fine.
    let (plugin, _host, _store, clock) = common::plugin();
    let tokens = obtain_tokens(&plugin, HOST);
    clock.advance_sec(3601);
    assert_eq!(refresh(&plugin, &tokens, true).status, 200);
}

#[test]
fn dcr_max_clients_applies_to_the_next_registration() {
    let (plugin, _host, _store, clock) = plugin();
    put(&plugin, "dcr_max_clients", json!(2)).unwrap();
    for _ in 0..4 {
        flow::register(&plugin, HOST);
        // Past the 10 minutes in which a new registration cannot be evicted.
        clock.advance_sec(11 * 60);
    }
    assert_eq!(oauth::client_count(&plugin.ctx), 2);
    assert_eq!(find(&get(&plugin), "status_clients").value, Some(json!(2)));
}

#[test]
fn max_restore_mb_applies_to_the_next_tool_call() {
    let (plugin, host, _store, _clock) = plugin();
    *host.backup.borrow_mut() = vec![0x50; 1536 * 1024]; // 1.5 MB
    let tokens = obtain_tokens(&plugin, HOST);
    let session = open_session(&plugin, &tokens.access_token);
    let create_backup = || {
        session_post(
            &plugin,
            &tokens.access_token,
            &session,
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "create_backup", "arguments": {}}}),
        )
        .body_json()
        .unwrap()
    };
    put(&plugin, "max_restore_mb", json!(1)).unwrap();
    let answer = create_backup();
    assert_eq!(answer["result"]["isError"], json!(true), "{answer}");
    assert!(answer.to_string().contains("max_restore_mb"), "{answer}");
    put(&plugin, "max_restore_mb", json!("2")).unwrap();
    let answer = create_backup();
    assert_ne!(answer["result"]["isError"], json!(true), "{answer}");
}

// ---- putSetting: refusals

#[test]
fn out_of_range_non_integer_and_non_numeric_values_are_refused_changing_nothing() {
    let (plugin, host, store, _clock) = plugin();
    put(&plugin, "access_token_ttl_sec", json!(900)).unwrap();
    let cases = [
        (
            "access_token_ttl_sec",
            json!(5),
            "access_token_ttl_sec must be an integer between 60 and 86400 (got 5)",
        ),
        (
            "access_token_ttl_sec",
            json!("86401"),
            "access_token_ttl_sec must be an integer between 60 and 86400 (got 86401)",
        ),
        ("access_token_ttl_sec", json!(3600.5), "(got 3600.5)"),
        (
            "access_token_ttl_sec",
            json!("3600.5"),
            "between 60 and 86400",
        ),
        ("access_token_ttl_sec", json!("an hour"), "(got an hour)"),
        ("access_token_ttl_sec", json!(""), "(got nothing)"),
        ("access_token_ttl_sec", Value::Null, "(got nothing)"),
        ("access_token_ttl_sec", json!(true), "between 60 and 86400"),
        (
            "access_token_ttl_sec",
            json!([3600]),
            "between 60 and 86400",
        ),
        ("access_token_ttl_sec", json!("NaN"), "between 60 and 86400"),
        ("access_token_ttl_sec", json!(-3600), "between 60 and 86400"),
        (
            "dcr_max_clients",
            json!(0),
            "dcr_max_clients must be an integer between 1 and 10000 (got 0)",
        ),
        ("dcr_max_clients", json!(10001), "between 1 and 10000"),
        (
            "refresh_token_ttl_sec",
            json!(60),
            "refresh_token_ttl_sec must be an integer between 3600 and 31536000 (got 60)",
        ),
        (
            "refresh_token_ttl_sec",
            json!(1e12),
            "between 3600 and 31536000",
        ),
        (
            "max_restore_mb",
            json!("10241"),
            "max_restore_mb must be an integer between 1 and 10240",
        ),
        ("max_restore_mb", json!(0.5), "between 1 and 10240"),
    ];
    for (key, value, message) in cases {
        assert_refused(&plugin, &host, &store, key, value, message);
    }
    assert_eq!(
        scrypted_mcp::config::read(store.as_ref()).access_token_ttl_sec,
        900
    );
}

#[test]
fn unknown_and_read_only_keys_are_refused_changing_nothing() {
    let (plugin, host, store, _clock) = plugin();
    let tokens = obtain_tokens(&plugin, HOST);
    assert_refused(
        &plugin,
        &host,
        &store,
        "no_such_setting",
        json!(1),
        "Unknown setting no_such_setting",
    );
    assert_refused(
        &plugin,
        &host,
        &store,
        "settings.access_token_ttl_sec",
        json!(120),
        "Unknown setting",
    );
    for key in [
        "endpoint_https".to_string(),
        "endpoint_http".to_string(),
        "status_sessions".to_string(),
        "status_clients".to_string(),
        "status_refresh_tokens".to_string(),
        "audit_recent".to_string(),
        format!("client:{}", tokens.client_id),
    ] {
        assert_refused(&plugin, &host, &store, &key, json!("x"), "is read-only");
    }
    assert_refused(
        &plugin,
        &host,
        &store,
        "revoke_client:no-such-client",
        Value::Null,
        "No registered client no-such-client",
    );
    token_works(&plugin, &tokens.access_token).expect("nothing was revoked");
}

#[test]
fn iss_parameter_switch_is_a_boolean_that_applies_to_the_next_request() {
    // docs/reference/client-compat.md §1/§3.2: `authorization_response_iss_parameter_supported`
    // and the RFC 9207 `iss` on the redirect, behind a switch for Codex CLI. Default on.
    let (plugin, host, store, _clock) = plugin();
    let iss_state = |plugin: &Plugin| {
        let meta = send(
            plugin,
            request("GET", "/.well-known/oauth-authorization-server", HOST),
        )
        .body_json()
        .unwrap();
        let client_id = flow::register(plugin, HOST);
        let (_, challenge) = flow::pkce();
        let redirect = flow::authorize_redirect(plugin, HOST, &client_id, &challenge);
        let iss = redirect
            .query_pairs()
            .find(|(k, _)| k == "iss")
            .map(|(_, v)| v.into_owned());
        (
            meta["authorization_response_iss_parameter_supported"].clone(),
            iss,
        )
    };
    let issuer = "http://192.168.1.10:11080/endpoint/scrypted-mcp/public";

    let s = find(&get(&plugin), "iss_parameter").clone();
    assert_eq!(s.group.as_deref(), Some("Configuration"));
    assert_eq!(s.kind.as_deref(), Some("boolean"));
    assert_eq!(s.value, Some(json!(true)), "on by default");
    assert_eq!(s.readonly, None);
    assert!(s.description.unwrap().contains("Codex"));
    assert_eq!(iss_state(&plugin), (json!(true), Some(issuer.to_string())));

    put(&plugin, "iss_parameter", json!(false)).unwrap();
    assert_eq!(
        find(&get(&plugin), "iss_parameter").value,
        Some(json!(false))
    );
    assert_eq!(iss_state(&plugin), (json!(false), None));

    // Scrypted may hand the value over as a string.
    put(&plugin, "iss_parameter", json!("true")).unwrap();
    assert_eq!(iss_state(&plugin), (json!(true), Some(issuer.to_string())));
    put(&plugin, "iss_parameter", json!(" FALSE ")).unwrap();
    assert_eq!(iss_state(&plugin), (json!(false), None));

    for bad in [
        json!("yes"),
        json!(1),
        Value::Null,
        json!(""),
        json!([true]),
    ] {
        assert_refused(
            &plugin,
            &host,
            &store,
            "iss_parameter",
            bad,
            "iss_parameter must be true or false",
        );
    }
    assert_eq!(
        iss_state(&plugin),
        (json!(false), None),
        "refusals changed nothing"
    );
}

// ---- revoke

#[test]
fn revoke_all_ends_every_token_and_a_new_flow_works() {
    let (plugin, host, _store, _clock) = plugin();
    let a = obtain_tokens(&plugin, HOST);
    let b = obtain_tokens(&plugin, HOST);
    token_works(&plugin, &a.access_token).unwrap();
    token_works(&plugin, &b.access_token).unwrap();
    open_session(&plugin, &a.access_token);
    open_session(&plugin, &b.access_token);
    let settings = get(&plugin);
    assert_eq!(find(&settings, "status_sessions").value, Some(json!(2)));
    assert_eq!(find(&settings, "status_clients").value, Some(json!(2)));
    assert_eq!(
        find(&settings, "status_refresh_tokens").value,
        Some(json!(2))
    );

    put(&plugin, "revoke_all", Value::Null).unwrap();
    assert_eq!(host.settings_changed_count(), 1);

    for t in [&a, &b] {
        let err = token_works(&plugin, &t.access_token).expect_err("access token revoked");
        assert_eq!(err.status, 401);
        assert!(err
            .get_header("www-authenticate")
            .unwrap_or("")
            .contains("resource_metadata="));
        assert_eq!(
            mcp_post(&plugin, &t.access_token).status,
            401,
            "/mcp refuses it"
        );
        // Clients send their client_id: the registration is gone.
        let resp = refresh(&plugin, t, true);
        assert_eq!(resp.status, 401, "{:?}", resp.body_text());
        assert_eq!(error_code(&resp), "invalid_client");
        // Without one, the refresh token itself is unknown.
        let resp = refresh(&plugin, t, false);
        assert_eq!(resp.status, 400, "{:?}", resp.body_text());
        assert_eq!(error_code(&resp), "invalid_grant");
    }
    let settings = get(&plugin);
    for key in ["status_clients", "status_refresh_tokens", "status_sessions"] {
        assert_eq!(find(&settings, key).value, Some(json!(0)), "{key}");
    }
    assert!(settings.iter().all(|s| !s.key.starts_with("client:")));

    let fresh = obtain_tokens(&plugin, HOST);
    token_works(&plugin, &fresh.access_token).expect("a new flow works");
    let session = open_session(&plugin, &fresh.access_token);
    assert_eq!(ping(&plugin, &fresh.access_token, &session), 200);
    assert_eq!(refresh(&plugin, &fresh, true).status, 200);
}

#[test]
fn revoke_client_ends_only_that_clients_tokens() {
    let (plugin, host, _store, _clock) = plugin();
    let gone = obtain_tokens(&plugin, HOST);
    let kept = obtain_tokens(&plugin, HOST);
    let key = format!("revoke_client:{}", gone.client_id);
    assert_eq!(find(&get(&plugin), &key).kind.as_deref(), Some("button"));
    open_session(&plugin, &gone.access_token);
    let kept_session = open_session(&plugin, &kept.access_token);
    assert_eq!(sessions_shown(&plugin), json!(2));

    put(&plugin, &key, Value::Bool(true)).unwrap();
    assert_eq!(host.settings_changed_count(), 1);

    let err = token_works(&plugin, &gone.access_token).expect_err("revoked");
    assert_eq!(err.status, 401);
    assert_eq!(mcp_post(&plugin, &gone.access_token).status, 401);
    let resp = refresh(&plugin, &gone, true);
    assert_eq!(resp.status, 401, "{:?}", resp.body_text());
    assert_eq!(error_code(&resp), "invalid_client");

    token_works(&plugin, &kept.access_token).expect("the other client keeps working");
    assert_eq!(sessions_shown(&plugin), json!(1), "only its session closed");
    assert_eq!(ping(&plugin, &kept.access_token, &kept_session), 200);
    assert_eq!(refresh(&plugin, &kept, true).status, 200);

    let settings = get(&plugin);
    assert!(settings
        .iter()
        .all(|s| !s.key.ends_with(gone.client_id.as_str())));
    find(&settings, &format!("client:{}", kept.client_id));
    assert_eq!(find(&settings, "status_clients").value, Some(json!(1)));

    // Revoking it again is refused, and says why.
    let err = put(&plugin, &key, Value::Null).unwrap_err();
    assert!(err.contains("already revoked"), "{err}");

    // The revoked app registers again and signs in.
    let again = obtain_tokens(&plugin, HOST);
    token_works(&plugin, &again.access_token).expect("a new flow works");
}

// ---- connected apps and audit trail

#[test]
fn connected_apps_list_each_client_with_its_details() {
    let (plugin, _host, _store, clock) = plugin();
    let tokens = obtain_tokens(&plugin, HOST);
    clock.advance_sec(90);
    let settings = get(&plugin);
    let app = find(&settings, &format!("client:{}", tokens.client_id));
    assert_eq!(app.title, "flow test client");
    assert_eq!(app.group.as_deref(), Some("Connected apps"));
    assert_eq!(app.readonly, Some(true));
    let detail = value_str(&settings, &format!("client:{}", tokens.client_id));
    assert!(detail.contains("127.0.0.1"), "{detail}");
    assert!(
        detail.contains("registered 2026-11-21 10:00:00 UTC"),
        "{detail}"
    );
    assert!(
        detail.contains("last used 2026-11-21 10:00:00 UTC"),
        "{detail}"
    );
    assert!(detail.contains("holds live tokens"), "{detail}");
    let button = find(&settings, &format!("revoke_client:{}", tokens.client_id));
    assert_eq!(button.title, "Revoke flow test client");
    assert!(settings.iter().all(|s| s.key != "clients_none"));

    // A registered client that never got tokens.
    flow::register(&plugin, HOST);
    let settings = get(&plugin);
    let idle: Vec<String> = settings
        .iter()
        .filter(|s| s.key.starts_with("client:") && !s.key.ends_with(&tokens.client_id))
        .map(|s| s.value.as_ref().unwrap().as_str().unwrap().to_string())
        .collect();
    assert_eq!(idle.len(), 1);
    assert!(idle[0].contains("no live tokens"), "{}", idle[0]);
}

#[test]
fn audit_trail_shows_the_latest_twenty_newest_first_without_arguments() {
    let (plugin, _host, store, _clock) = plugin();
    let tokens = obtain_tokens(&plugin, HOST);
    for i in 0..25u64 {
        audit::record(
            &plugin.ctx,
            AuditEntry {
                time_ms: NOW_MS + i * 1000,
                user: "admin".into(),
                client_id: tokens.client_id.clone(),
                tool: format!("tool_{i}"),
                args_hash: audit::args_hash(
                    store.as_ref(),
                    &json!({"password": "hunter2", "i": i}),
                ),
                outcome: "ok".into(),
                elicitation: (i == 24).then(|| "accept".to_string()),
                dry_run: i == 23,
            },
        );
    }
    let text = value_str(&get(&plugin), "audit_recent");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), settings::AUDIT_SHOWN);
    assert!(lines[0].contains("tool_24"), "{}", lines[0]);
    assert!(lines[0].contains("2026-11-21 10:00:24 UTC"), "{}", lines[0]);
    assert!(
        lines[0].contains("flow test client"),
        "client named: {}",
        lines[0]
    );
    assert!(lines[0].contains("confirmation: accept"), "{}", lines[0]);
    assert!(!lines[0].contains("dry run"), "{}", lines[0]);
    assert!(lines[1].contains("tool_23 (dry run)  ok"), "{}", lines[1]);
    assert!(lines[19].contains("tool_5 "), "{}", lines[19]);
    assert!(!text.contains("hunter2"));
}
