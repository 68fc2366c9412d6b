//! JSON of values that always serialize, without `expect`/`unwrap`: their panic formats
//! `serde_json::Error` with its `Debug`, which a panic site of its own carried into the wasm
//! (issue 12). A failure here is a bug (a map with non-string keys, a failing `Serialize`
//! impl), so it still panics, with the error's message.

use serde::Serialize;
use serde_json::Value;

/// A value as a `Value`. Conversion fails only for a map with non-string
/// keys or a `Serialize` impl that fails, which no value of ours has: a bug, so a panic,
/// with the error's message (its `Display`).
#[inline]
pub fn value<T: Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| unserializable(&e))
}

/// JSON text of a value that always serializes (`serde_json::to_string` without the
/// `Debug` of `expect`); see [`value`].
#[inline]
pub fn text<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| unserializable(&e))
}

#[cold]
#[inline(never)]
fn unserializable(e: &serde_json::Error) -> ! {
    panic!("a value did not serialize to JSON: {e}")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// A value that does not serialize (a map with non-string keys) panics with serde_json's
    /// message, not its `Debug`.
    #[test]
    #[should_panic(expected = "a value did not serialize to JSON: key must be a string")]
    fn a_value_that_does_not_serialize_says_why() {
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let _ = super::value(&map);
    }

    #[test]
    #[should_panic(expected = "a value did not serialize to JSON: key must be a string")]
    fn a_text_that_does_not_serialize_says_why() {
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let _ = super::text(&map);
    }

    #[test]
    fn values_and_texts_are_serde_jsons() {
        let map: BTreeMap<String, Vec<u8>> = [("k".to_string(), vec![1, 2])].into();
        assert_eq!(super::value(&map), serde_json::to_value(&map).unwrap());
        assert_eq!(super::text(&map), serde_json::to_string(&map).unwrap());
    }
}
