//! The one demo data set (`js-shim/dev/demo.json`, which the dev host loads too), and the
//! JSON merge patch a host-behaviour case's `given` applies to it.

use serde_json::Value;

/// The demo server, as the dev host loads it.
pub const DEMO_JSON: &str = include_str!("../../js-shim/dev/demo.json");

pub fn demo() -> Value {
    serde_json::from_str(DEMO_JSON).expect("js-shim/dev/demo.json is JSON")
}

/// RFC 7396 JSON merge patch (`null` removes a member; arrays are replaced whole), as
/// `mergePatch` in js-shim/dev/demo.mjs.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let map = target.as_object_mut().expect("an object");
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}
