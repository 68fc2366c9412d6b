//! `json!`, serde_json's macro with one difference: a value it holds is converted by
//! [`value`], not by `to_value(..).unwrap()`. serde_json's `unwrap` formats the error with
//! its `Debug` on failure, which carried `serde_json::Error`'s `Debug` (and a panic site of
//! its own for each of about a hundred interpolated values) into the wasm (issue 12). The
//! macros below are serde_json 1.0.154's `json_internal!` and its two helpers (MIT or
//! Apache-2.0, as this crate), with only the paths and that one rule changed; the values they
//! build are the same.

use serde::Serialize;
use serde_json::Value;

/// A value `json!` holds, as a `Value`. Conversion fails only for a map with non-string
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

/// Builds a `serde_json::Value` from JSON-like syntax, as `serde_json::json!` does.
macro_rules! json {
    ($($json:tt)+) => {
        $crate::json::json_internal!($($json)+)
    };
}
pub(crate) use json;

#[doc(hidden)]
macro_rules! json_internal {
    //////////////////////////////////////////////////////////////////////////
    // TT muncher for parsing the inside of an array [...]. Produces a vec![...]
    // of the elements.
    //
    // Must be invoked as: json_internal!(@array [] $($tt)*)
    //////////////////////////////////////////////////////////////////////////

    // Done with trailing comma.
    (@array [$($elems:expr,)*]) => {
        ::std::vec![$($elems,)*]
    };

    // Done without trailing comma.
    (@array [$($elems:expr),*]) => {
        ::std::vec![$($elems),*]
    };

    // Next element is `null`.
    (@array [$($elems:expr,)*] null $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!(null)] $($rest)*)
    };

    // Next element is `true`.
    (@array [$($elems:expr,)*] true $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!(true)] $($rest)*)
    };

    // Next element is `false`.
    (@array [$($elems:expr,)*] false $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!(false)] $($rest)*)
    };

    // Next element is an array.
    (@array [$($elems:expr,)*] [$($array:tt)*] $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!([$($array)*])] $($rest)*)
    };

    // Next element is a map.
    (@array [$($elems:expr,)*] {$($map:tt)*} $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!({$($map)*})] $($rest)*)
    };

    // Next element is an expression followed by comma.
    (@array [$($elems:expr,)*] $next:expr, $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!($next),] $($rest)*)
    };

    // Last element is an expression with no trailing comma.
    (@array [$($elems:expr,)*] $last:expr) => {
        $crate::json::json_internal!(@array [$($elems,)* $crate::json::json_internal!($last)])
    };

    // Comma after the most recent element.
    (@array [$($elems:expr),*] , $($rest:tt)*) => {
        $crate::json::json_internal!(@array [$($elems,)*] $($rest)*)
    };

    // Unexpected token after most recent element.
    (@array [$($elems:expr),*] $unexpected:tt $($rest:tt)*) => {
        $crate::json::json_unexpected!($unexpected)
    };

    //////////////////////////////////////////////////////////////////////////
    // TT muncher for parsing the inside of an object {...}. Each entry is
    // inserted into the given map variable.
    //
    // Must be invoked as: json_internal!(@object $map () ($($tt)*) ($($tt)*))
    //
    // We require two copies of the input tokens so that we can match on one
    // copy and trigger errors on the other copy.
    //////////////////////////////////////////////////////////////////////////

    // Done.
    (@object $object:ident () () ()) => {};

    // Insert the current entry followed by trailing comma.
    (@object $object:ident [$($key:tt)+] ($value:expr) , $($rest:tt)*) => {
        let _ = $object.insert(($($key)+).into(), $value);
        $crate::json::json_internal!(@object $object () ($($rest)*) ($($rest)*));
    };

    // Current entry followed by unexpected token.
    (@object $object:ident [$($key:tt)+] ($value:expr) $unexpected:tt $($rest:tt)*) => {
        $crate::json::json_unexpected!($unexpected);
    };

    // Insert the last entry without trailing comma.
    (@object $object:ident [$($key:tt)+] ($value:expr)) => {
        let _ = $object.insert(($($key)+).into(), $value);
    };

    // Next value is `null`.
    (@object $object:ident ($($key:tt)+) (: null $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!(null)) $($rest)*);
    };

    // Next value is `true`.
    (@object $object:ident ($($key:tt)+) (: true $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!(true)) $($rest)*);
    };

    // Next value is `false`.
    (@object $object:ident ($($key:tt)+) (: false $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!(false)) $($rest)*);
    };

    // Next value is an array.
    (@object $object:ident ($($key:tt)+) (: [$($array:tt)*] $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!([$($array)*])) $($rest)*);
    };

    // Next value is a map.
    (@object $object:ident ($($key:tt)+) (: {$($map:tt)*} $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!({$($map)*})) $($rest)*);
    };

    // Next value is an expression followed by comma.
    (@object $object:ident ($($key:tt)+) (: $value:expr , $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!($value)) , $($rest)*);
    };

    // Last value is an expression with no trailing comma.
    (@object $object:ident ($($key:tt)+) (: $value:expr) $copy:tt) => {
        $crate::json::json_internal!(@object $object [$($key)+] ($crate::json::json_internal!($value)));
    };

    // Missing value for last entry. Trigger a reasonable error message.
    (@object $object:ident ($($key:tt)+) (:) $copy:tt) => {
        // "unexpected end of macro invocation"
        $crate::json::json_internal!();
    };

    // Missing colon and value for last entry. Trigger a reasonable error
    // message.
    (@object $object:ident ($($key:tt)+) () $copy:tt) => {
        // "unexpected end of macro invocation"
        $crate::json::json_internal!();
    };

    // Misplaced colon. Trigger a reasonable error message.
    (@object $object:ident () (: $($rest:tt)*) ($colon:tt $($copy:tt)*)) => {
        // Takes no arguments so "no rules expected the token `:`".
        $crate::json::json_unexpected!($colon);
    };

    // Found a comma inside a key. Trigger a reasonable error message.
    (@object $object:ident ($($key:tt)*) (, $($rest:tt)*) ($comma:tt $($copy:tt)*)) => {
        // Takes no arguments so "no rules expected the token `,`".
        $crate::json::json_unexpected!($comma);
    };

    // Key is fully parenthesized. This avoids clippy double_parens false
    // positives because the parenthesization may be necessary here.
    (@object $object:ident () (($key:expr) : $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object ($key) (: $($rest)*) (: $($rest)*));
    };

    // Refuse to absorb colon token into key expression.
    (@object $object:ident ($($key:tt)*) (: $($unexpected:tt)+) $copy:tt) => {
        $crate::json::json_expect_expr_comma!($($unexpected)+);
    };

    // Munch a token into the current key.
    (@object $object:ident ($($key:tt)*) ($tt:tt $($rest:tt)*) $copy:tt) => {
        $crate::json::json_internal!(@object $object ($($key)* $tt) ($($rest)*) ($($rest)*));
    };

    //////////////////////////////////////////////////////////////////////////
    // The main implementation.
    //
    // Must be invoked as: json_internal!($($json)+)
    //////////////////////////////////////////////////////////////////////////

    (null) => {
        ::serde_json::Value::Null
    };

    (true) => {
        ::serde_json::Value::Bool(true)
    };

    (false) => {
        ::serde_json::Value::Bool(false)
    };

    ([]) => {
        ::serde_json::Value::Array(::std::vec![])
    };

    ([ $($tt:tt)+ ]) => {
        ::serde_json::Value::Array($crate::json::json_internal!(@array [] $($tt)+))
    };

    ({}) => {
        ::serde_json::Value::Object(::serde_json::Map::new())
    };

    ({ $($tt:tt)+ }) => {
        ::serde_json::Value::Object({
            let mut object = ::serde_json::Map::new();
            $crate::json::json_internal!(@object object () ($($tt)+) ($($tt)+));
            object
        })
    };

    // Any Serialize type: numbers, strings, struct literals, variables etc.
    // Must be below every other rule.
    ($other:expr) => {
        $crate::json::value(&$other)
    };
}

pub(crate) use json_internal;

// Invoked only by malformed `json!` input, to point its compile error at the bad token.
#[doc(hidden)]
#[allow(unused_macros)]
macro_rules! json_unexpected {
    () => {};
}
#[allow(unused_imports)]
pub(crate) use json_unexpected;

#[doc(hidden)]
#[allow(unused_macros)]
macro_rules! json_expect_expr_comma {
    ($e:expr , $($tt:tt)*) => {};
}
#[allow(unused_imports)]
pub(crate) use json_expect_expr_comma;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// The same values as serde_json's `json!`, for every rule of the macro: literals, nested
    /// arrays and objects, trailing commas, interpolated keys and values of several types.
    #[test]
    fn json_builds_what_serde_json_builds() {
        let name = "x";
        let n = 7u64;
        let list = vec!["a", "b"];
        let map: BTreeMap<String, i32> = [("k".to_string(), 1)].into();
        let none: Option<&str> = None;
        assert_eq!(super::json!(null), serde_json::json!(null));
        assert_eq!(super::json!([]), serde_json::json!([]));
        assert_eq!(super::json!({}), serde_json::json!({}));
        assert_eq!(
            super::json!({
                "a": [1, -2.5, true, false, null, "s", [], {}],
                "b": {"c": {"d": [n, name, list, map, none]}},
                name: n,
                (format!("{name}y")): [n + 1,],
                "e": -1,
            }),
            serde_json::json!({
                "a": [1, -2.5, true, false, null, "s", [], {}],
                "b": {"c": {"d": [n, name, list, map, none]}},
                name: n,
                (format!("{name}y")): [n + 1,],
                "e": -1,
            })
        );
    }

    /// A value that does not serialize (a map with non-string keys) panics with serde_json's
    /// message, not its `Debug`.
    #[test]
    #[should_panic(expected = "a value did not serialize to JSON: key must be a string")]
    fn a_value_that_does_not_serialize_says_why() {
        let map: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        let _ = super::json!({ "m": map });
    }
}
