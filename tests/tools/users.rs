//! Users, through core's Users device or the raw component.

use super::*;

#[test]
fn list_users_returns_only_names_and_roles() {
    let h = H::new();
    let out = h.ok("list_users", json!({}));
    assert_eq!(
        out["users"],
        json!([{"username": "admin", "admin": true}, {"username": "viewer", "admin": false}])
    );
    assert_eq!(out["admins"], 1);
    assert!(!out.to_string().contains("pass"));
    let h = H::new();
    h.reports_host_error("users", "list_users", json!({}));
}

/// The fake's user entry for `name`: (admin, aclId).
fn user_entry(h: &H, name: &str) -> Option<(bool, Option<String>)> {
    h.host
        .users
        .borrow()
        .iter()
        .find(|u| u.username == name)
        .map(|u| (u.acl_id.is_none(), u.acl_id.clone()))
}

/// A second admin, "ops", so that "admin" is neither the caller nor the last admin.
fn add_ops_admin(h: &H) {
    h.host.add_user("ops", "ops-password", None);
}

/// `name` went through the raw users component, not a device removal.
fn assert_removed_by_the_component(h: &H, name: &str) {
    assert_eq!(h.host.calls_of("removeUser"), [json!({ "username": name })]);
    assert!(!h.host.called("removeDevice"));
    assert!(user_entry(h, name).is_none());
}

/// add_user that must succeed, and its answer.
fn assert_adds_user(h: &H, username: &str, password: &str, admin: bool) {
    let out = h.ok(
        "add_user",
        json!({"username": username, "password": password, "admin": admin}),
    );
    assert_eq!(
        out,
        json!({"username": username, "admin": admin, "created": true})
    );
}

/// The id of core's `user:<name>` device in the fake, if any.
fn core_user_device(h: &H, name: &str) -> Option<String> {
    h.host
        .find_device("@scrypted/core", &format!("user:{name}"))
}

#[test]
fn add_user_with_core_goes_through_cores_users_device_creator() {
    // docs/reference/scrypted-host.md §3.4: the UI creates users with core's UsersCore.createDevice
    let h = H::new();
    assert_adds_user(&h, "ops", "s3cret-pass", true);
    assert_eq!(
        h.host.calls_of("callDeviceMethod"),
        [json!({"id": "2", "method": "createDevice",
                "args": [{"username": "ops", "password": "s3cret-pass", "admin": true}]})]
    );
    assert!(!h.host.called("addUser"), "no raw users.addUser");
    assert_eq!(h.mutations(), ["callDeviceMethod"]);
    assert!(core_user_device(&h, "ops").is_some());
    assert_eq!(user_entry(&h, "ops"), Some((true, None)));

    // A restricted user: its aclId is the id of the user:<name> device core created.
    let h = H::new();
    assert_adds_user(&h, "guest", "guest-pass", false);
    assert!(!h.host.called("addUser"));
    let device = core_user_device(&h, "guest").expect("core's user:guest device");
    assert_eq!(user_entry(&h, "guest"), Some((false, Some(device))));
}

#[test]
fn add_user_without_core_adds_admins_raw_and_refuses_restricted_users() {
    let h = H::new();
    h.host.remove_core_users_provider();
    assert_adds_user(&h, "ops", "s3cret-pass", true);
    assert_eq!(
        h.host.calls_of("addUser"),
        [json!({"username": "ops", "password": "s3cret-pass", "aclId": null})]
    );
    assert!(!h.host.called("callDeviceMethod"));
    assert_eq!(h.mutations(), ["addUser"]);

    let h = H::new();
    h.host.remove_core_users_provider();
    let msg = h.failed(
        "add_user",
        json!({"username": "guest", "password": "guest-pass", "admin": false}),
    );
    assert!(msg.contains("@scrypted/core"), "{msg}");
    assert!(msg.contains("nothing was changed"), "{msg}");
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    assert_eq!(h.host.users.borrow().len(), 2);
    assert!(core_user_device(&h, "guest").is_none());

    // core installed, but its users device is not a DeviceCreator: the same as no core
    let h = H::new();
    let provider = h.host.find_device("@scrypted/core", "users").unwrap();
    h.host
        .devices
        .borrow_mut()
        .get_mut(&provider)
        .unwrap()
        .interfaces = vec!["ScryptedUser".into()];
    h.fails_saying(
        "add_user",
        json!({"username": "guest", "password": "guest-pass", "admin": false}),
        "@scrypted/core",
    );
    assert!(h.mutations().is_empty());
}

#[test]
fn add_user_host_failures_are_reported() {
    let h = H::new();
    let ops = json!({"username": "ops", "password": "s3cret-pass", "admin": true});
    h.reports_host_error("callDeviceMethod", "add_user", ops.clone());
    assert!(user_entry(&h, "ops").is_none());
    let h = H::new();
    h.host.remove_core_users_provider();
    h.reports_host_error("addUser", "add_user", ops);
    assert!(user_entry(&h, "ops").is_none());
}

#[test]
fn add_user_refusals() {
    let h = H::new();
    h.fails_saying(
        "add_user",
        json!({"username": "viewer", "password": "long-enough", "admin": false}),
        "already exists",
    );
    h.invalid(
        "add_user",
        json!({"username": "x", "password": "short", "admin": false}),
    );
    h.invalid(
        "add_user",
        json!({"username": "bad name", "password": "long-enough", "admin": false}),
    );
    h.invalid(
        "add_user",
        json!({"username": "x", "password": "long-enough"}),
    );
    assert!(!h.host.called("addUser"));
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
}

#[test]
fn remove_user_with_core_removes_the_users_device() {
    // docs/reference/scrypted-host.md §3.4: removing core's user:<name> device; core's releaseDevice removes the user
    let h = H::new();
    let out = h.ok("remove_user", json!({"username": "viewer"}));
    assert_eq!(
        out,
        json!({"username": "viewer", "admin": false, "removed": true, "dry_run": false,
               "device_id": "20", "mcp_grants_ended": 0, "remaining": 1})
    );
    assert_eq!(h.host.calls_of("removeDevice"), [json!({"id": "20"})]);
    assert!(!h.host.called("removeUser"), "no raw users.removeUser");
    assert!(!h.host.devices.borrow().contains_key("20"));
    assert!(user_entry(&h, "viewer").is_none());
}

#[test]
fn remove_user_finishes_the_removal_when_cores_release_hook_is_late() {
    let h = H::new();
    h.host.core_release_is_late.set(true);
    let out = h.ok("remove_user", json!({"username": "viewer"}));
    assert_eq!(out["removed"], true);
    assert_eq!(h.host.calls_of("removeDevice"), [json!({"id": "20"})]);
    assert_eq!(
        h.host.calls_of("removeUser"),
        [json!({"username": "viewer"})],
        "the account is removed the way core would"
    );
    assert!(user_entry(&h, "viewer").is_none());
}

#[test]
fn remove_user_with_core_but_no_device_for_the_user_falls_back_to_the_component() {
    // e.g. an admin created before core, or by the raw component
    let mut h = H::new();
    add_ops_admin(&h);
    h.caller = caller("ops", "c");
    h.ok("remove_user", json!({"username": "admin"}));
    assert_removed_by_the_component(&h, "admin");
}

#[test]
fn remove_user_without_core_uses_the_component() {
    let h = H::new();
    h.host.remove_core_users_provider();
    let out = h.ok("remove_user", json!({"username": "viewer"}));
    assert_eq!(out["remaining"], 1);
    assert_removed_by_the_component(&h, "viewer");
}

#[test]
fn remove_user_host_failures_are_reported_and_change_nothing() {
    let h = H::new();
    h.reports_host_error("removeDevice", "remove_user", json!({"username": "viewer"}));
    assert!(user_entry(&h, "viewer").is_some());
    assert!(h.host.devices.borrow().contains_key("20"));
    let h = H::new();
    h.host.remove_core_users_provider();
    h.reports_host_error("removeUser", "remove_user", json!({"username": "viewer"}));
    assert!(user_entry(&h, "viewer").is_some());
}

#[test]
fn remove_user_refuses_the_caller_the_last_admin_and_unknown_users() {
    let h = H::new();
    h.fails_saying(
        "remove_user",
        json!({"username": "admin"}),
        "authorized this MCP connection",
    );
    let mut h = H::new();
    h.caller = caller("ops", "c");
    h.fails_saying("remove_user", json!({"username": "admin"}), "last admin");
    h.fails_saying("remove_user", json!({"username": "ghost"}), "No user");
    assert!(!h.host.called("removeUser"));
    assert!(h.mutations().is_empty(), "{:?}", h.mutations());
    assert_eq!(h.host.users.borrow().len(), 2);
}

#[test]
fn remove_user_ends_the_removed_users_mcp_tokens_at_once() {
    // Scrypted kills a removed user's cookies at once (docs/reference/scrypted-host.md §3.4); an MCP access token
    // of that user must not live on until it expires.
    let mut h = H::new();
    add_ops_admin(&h);
    let host = "192.168.1.10:11080";
    let admins_token = flow::obtain_tokens(&h.plugin, host).access_token;
    let mcp = |token: &str| {
        let req = flow::mcp_post(host, token, &flow::initialize_body("t"));
        flow::send(&h.plugin, req).status
    };
    assert_eq!(mcp(&admins_token), 200, "the token works before");
    h.caller = caller("ops", "c");
    let dry = h.ok("remove_user", json!({"username": "admin", "dry_run": true}));
    assert_eq!(
        dry["mcp_grants_ended"], 1,
        "the dry run counts the grant: {dry}"
    );
    assert_eq!(mcp(&admins_token), 200, "and ends nothing");
    let out = h.ok("remove_user", json!({"username": "admin"}));
    assert_eq!(out["mcp_grants_ended"], 1, "{out}");
    assert_eq!(
        mcp(&admins_token),
        401,
        "the removed user's token stops at once"
    );
}

/// Two remove_user calls at once (two admins removing each other from two connections)
/// would both pass the last-admin check before either writes: the second is refused while
/// the first runs, and goes through once it has answered.
#[test]
fn remove_user_runs_one_at_a_time() {
    use futures::FutureExt;
    let mut h = H::new();
    add_ops_admin(&h);
    h.caller = caller("ops", "c");
    h.host.hold("removeDevice");
    let mut first = h.start("remove_user", json!({"username": "viewer"}));
    assert!((&mut first).now_or_never().is_none(), "held at the removal");
    h.caller = caller("admin", "d");
    let msg = h.failed("remove_user", json!({"username": "ops"}));
    assert!(msg.starts_with("Another remove_user is running"), "{msg}");
    assert_eq!(h.host.calls_of("removeDevice").len(), 1, "only the first's");
    h.host.release("removeDevice");
    assert!(block_on(first).is_ok());
    h.ok("remove_user", json!({"username": "ops"}));
}

/// Once the account's device is removed, an error of a later step says what was done.
#[test]
fn remove_user_says_what_it_did_when_a_later_step_fails() {
    use futures::FutureExt;
    let h = H::new();
    h.host.fail_with("users", "connection lost");
    // The first users() read fails too: nothing was removed, and the message says no more.
    let msg = h.failed("remove_user", json!({"username": "viewer"}));
    assert!(!msg.contains("was removed"), "{msg}");
    let h = H::new();
    h.host.hold("removeDevice");
    let mut run = h.start("remove_user", json!({"username": "viewer"}));
    assert!((&mut run).now_or_never().is_none(), "held at the removal");
    h.host.fail_with("users", "connection lost");
    h.host.release("removeDevice");
    let Err(ToolError::Failed(msg)) = block_on(run) else {
        panic!("a failure")
    };
    assert!(
        msg.starts_with("'viewer' was removed (its device 20)") && msg.contains("connection lost"),
        "{msg}"
    );
    assert!(!h.host.devices.borrow().contains_key("20"));
}
