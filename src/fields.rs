//! Structs read from a JSON object field by field: tool arguments and stored records
//! (`store::record`), by one reader.
//!
//! Tool arguments read field by field, by one reader for every argument type (issue 12, wasm
//! size). serde's derive gave each of the 29 argument types its own visitor, field matcher and
//! `Value::deserialize_struct` copy, inlined into each tool's runner: about 50 KB of the wasm.
//! Here each type only names its fields (`args!` writes its [`Args::read`]); looking them up,
//! the unknown-field check and the errors are this file's, once, and each field's value is
//! read by serde's `from_value` for its type, an instance every type with such a field shares.
//!
//! Stored records (OAuth clients, grants, codes, spent consent tokens, session-id and
//! request states) are read by the same reader ([`crate::store::record`]), with unknown
//! fields ignored as their derive did; so are the host's answers, through a `Deserialize`
//! impl ([`deserialize`]).
//!
//! The answers are serde's (host builds keep the derive, and `tests/tools/args.rs`
//! compares the two on every tool's fields with good, wrong and unknown values): the same
//! messages (serde's own `Error::missing_field`, `duplicate_field`, and its `unknown_field`
//! text) and the same one of several errors, the first serde's visitor would meet: it reads the
//! object's entries in order and stops at an unknown or duplicate name or a value that does not
//! fit its field, and only then reports a missing field, the first one declared. One
//! difference: a whole value that is a JSON array of the fields' values, which the derive
//! also read and no client, record or host answer sends, is refused (store and host tests).

use serde::de::{DeserializeOwned, Error as _};
#[cfg(test)]
use serde_json::json;
use serde_json::{Map, Value};

/// A struct with named fields: a tool's arguments (read as `#[serde(deny_unknown_fields)]`
/// reads them, [`Fields::finish`]) or a stored record (unknown fields ignored, [`Fields::known`]).
pub trait Args: Sized {
    /// Builds the value from `fields`, one [`Fields`] call per field in declaration order.
    /// A field that fails reads as its default; [`Fields::finish`] then reports the error.
    fn read(fields: &mut Fields) -> Self;
}

/// The arguments object being read, and the first error met so far.
pub struct Fields {
    /// Entries in the object's order, `None` once a field has taken its value.
    entries: Vec<(String, Option<Value>)>,
    /// Every field's names in declaration order, as serde's `FIELDS` lists them (the
    /// unknown-field message shows them).
    names: Vec<&'static str>,
    /// Fields declared so far, to order missing-field errors after all entry errors.
    declared: usize,
    /// The error serde meets first: (entry position, or past the entries for a missing
    /// field; the error).
    error: Option<(usize, serde_json::Error)>,
}

impl Fields {
    pub fn new(object: Map<String, Value>) -> Fields {
        Fields {
            entries: object.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            names: Vec::new(),
            declared: 0,
            error: None,
        }
    }

    /// A field that must be present.
    pub fn required<T: DeserializeOwned + Default>(&mut self, name: &'static str) -> T {
        self.field(name, &[name], true)
    }

    /// A `#[serde(default)]` field: its type's default when absent.
    pub fn optional<T: DeserializeOwned + Default>(&mut self, name: &'static str) -> T {
        self.field(name, &[name], false)
    }

    /// A field with `#[serde(alias = ...)]`: `names` is its name and its aliases in serde's
    /// order (sorted, as serde_derive keeps them in a set).
    pub fn aliased<T: DeserializeOwned + Default>(
        &mut self,
        name: &'static str,
        names: &'static [&'static str],
        required: bool,
    ) -> T {
        self.field(name, names, required)
    }

    fn field<T: DeserializeOwned + Default>(
        &mut self,
        name: &'static str,
        names: &[&'static str],
        required: bool,
    ) -> T {
        match self.take(name, names, required) {
            Some((position, value)) => match serde_json::from_value(value) {
                Ok(parsed) => parsed,
                Err(e) => {
                    self.fail(position, e);
                    T::default()
                }
            },
            None => T::default(),
        }
    }

    /// The value of the field called `names` (its first entry), recording a duplicate or a
    /// missing required field as an error.
    #[inline(never)]
    fn take(
        &mut self,
        name: &'static str,
        names: &[&'static str],
        required: bool,
    ) -> Option<(usize, Value)> {
        self.names.extend_from_slice(names);
        let declared = self.declared;
        self.declared += 1;
        let mut found = None;
        for (position, (key, value)) in self.entries.iter_mut().enumerate() {
            if !names.contains(&key.as_str()) {
                continue;
            }
            if found.is_some() {
                value.take();
                self.fail(position, serde_json::Error::duplicate_field(name));
                break;
            }
            found = value.take().map(|v| (position, v));
        }
        if found.is_none() && required {
            let past_entries = self.entries.len() + declared;
            self.fail(past_entries, serde_json::Error::missing_field(name));
        }
        found
    }

    /// Keeps the error serde would meet first.
    #[inline(never)]
    fn fail(&mut self, position: usize, e: serde_json::Error) {
        if self
            .error
            .as_ref()
            .is_none_or(|(first, _)| position < *first)
        {
            self.error = Some((position, e));
        }
    }

    /// The first error serde would have met, counting entries no field took as unknown.
    #[inline(never)]
    pub fn finish(mut self) -> Result<(), serde_json::Error> {
        if let Some(position) = self.entries.iter().position(|(_, value)| value.is_some()) {
            let e = unknown_field(&self.entries[position].0, &self.names);
            self.fail(position, e);
        }
        self.known()
    }

    /// The first error serde would have met with entries no field took ignored, as its
    /// derive reads a struct without `deny_unknown_fields` (stored records: a field an older
    /// version wrote and this one dropped is no reason to lose the record).
    #[inline(never)]
    pub fn known(self) -> Result<(), serde_json::Error> {
        match self.error {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// Reads `object` as `T`, entries no field names ignored ([`Fields::known`]).
pub fn read<T: Args>(object: Map<String, Value>) -> Result<T, serde_json::Error> {
    let mut fields = Fields::new(object);
    let value = T::read(&mut fields);
    fields.known().map(|()| value)
}

/// serde's `Deserialize` for a struct whose fields [`Args`] names and whose unknown fields
/// are ignored: the host's answers (`host`), which Scrypted may grow. serde's derive gave
/// each its visitor, field matcher and one `deserialize_struct` copy per deserializer
/// (issue 12, wasm size); here only `T::read` is per type. The answers are the derive's,
/// which host builds keep (`host::tests` compares the two), but for one: an array of the
/// fields' values, which the derive also read and no host answer is, is refused.
pub fn deserialize<'de, D, T>(deserializer: D, name: &'static str) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Args,
{
    let object = deserializer.deserialize_struct(name, &[], Struct(name))?;
    read(object).map_err(D::Error::custom)
}

/// Takes a struct's entries as they are; `name` is what the derive's "expected struct …"
/// message names.
struct Struct(&'static str);

impl<'de> serde::de::Visitor<'de> for Struct {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "struct {}", self.0)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        while let Some((key, value)) = map.next_entry()? {
            object.insert(key, value);
        }
        Ok(object)
    }
}

/// Implements serde's `Deserialize` by [`deserialize`] in the wasm; host builds derive it
/// instead, and tests compare the two.
macro_rules! deserialize_by_fields {
    ($($ty:ident),* $(,)?) => {$(
        #[cfg(target_arch = "wasm32")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::fields::deserialize(deserializer, stringify!($ty))
            }
        }
    )*};
}
pub(crate) use deserialize_by_fields;

/// Test support: reads answers built from `good` (each field left out, each field given a
/// value of every JSON kind beside an unknown field, and values that are no object) by
/// [`deserialize`] and by serde's derive, which host builds keep on `T`, and requires the same
/// value or message from both, and from text the same value or a refusal by both. Returns
/// how many answers it read.
#[cfg(test)]
pub fn same_as_derive<T>(name: &'static str, good: Value) -> usize
where
    T: DeserializeOwned + Args + std::fmt::Debug + PartialEq,
{
    let kinds = [
        Value::Null,
        json!(true),
        json!(0),
        json!(7),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(70000),
        json!(""),
        json!("x"),
        json!([]),
        json!({}),
    ];
    let object = good.as_object().unwrap().clone();
    let mut inputs = vec![good.clone(), json!({}), json!({"other": 1})];
    inputs.extend(
        kinds
            .iter()
            .filter(|v| !v.is_object() && !v.is_array())
            .cloned(),
    );
    for key in object.keys() {
        let mut without = object.clone();
        without.remove(key);
        inputs.push(Value::Object(without));
        for kind in &kinds {
            let mut with = object.clone();
            with.insert(key.clone(), kind.clone());
            with.insert("unknownField".into(), kind.clone());
            inputs.push(Value::Object(with));
        }
    }
    for input in &inputs {
        let derive = serde_json::from_value::<T>(input.clone()).map_err(|e| e.to_string());
        let fields = deserialize::<_, T>(input.clone(), name).map_err(|e| e.to_string());
        assert_eq!(fields, derive, "{name} from {input}");
        let text = input.to_string();
        let derive = serde_json::from_str::<T>(&text).ok();
        let mut de = serde_json::Deserializer::from_str(&text);
        let fields = deserialize::<_, T>(&mut de, name).ok();
        assert_eq!(fields, derive, "{name} from text {text}");
    }
    inputs.len()
}

/// serde's `Error::unknown_field` text, which takes its names as a `'static` list (serde's
/// derive has one per type; here they are gathered as the fields are read).
fn unknown_field(key: &str, names: &[&str]) -> serde_json::Error {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    let expected = match quoted.as_slice() {
        [] => {
            return serde_json::Error::custom(format!("unknown field `{key}`, there are no fields"))
        }
        [one] => one.clone(),
        [one, two] => format!("{one} or {two}"),
        _ => format!("one of {}", quoted.join(", ")),
    };
    serde_json::Error::custom(format!("unknown field `{key}`, expected {expected}"))
}

/// Implements [`Args`] for a struct from its fields' reads, in declaration order. A field's
/// name in the arguments is its Rust name unless the read names it (a serde `rename`):
/// `args!(ListDevicesArgs { id: required, device_type: optional("type") })`.
macro_rules! args {
    ($ty:ident { $($field:ident: $read:ident $(($($arg:expr),*))?),* $(,)? }) => {
        impl $crate::fields::Args for $ty {
            fn read(_fields: &mut $crate::fields::Fields) -> Self {
                $ty { $($field: $crate::fields::args!(@read _fields, $field, $read $(($($arg),*))?)),* }
            }
        }
    };
    (@read $fields:ident, $field:ident, $read:ident) => {
        $fields.$read(stringify!($field))
    };
    (@read $fields:ident, $field:ident, $read:ident ($($arg:expr),*)) => {
        $fields.$read($($arg),*)
    };
}
pub(crate) use args;
