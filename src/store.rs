//! The Store trait: Scrypted plugin storage (docs/reference/scrypted-host.md §5).
//!
//! Synchronous string key-value storage whose whole map is shipped to the server on every
//! write, readable by any plugin and present in every backup: keep it small and bounded,
//! and keep secrets as hashes where possible.

use crate::fields::Args;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

pub trait Store {
    fn get(&self, key: &str) -> Option<String>;
    fn set(&self, key: &str, value: &str);
    fn remove(&self, key: &str);
    fn keys(&self) -> Vec<String>;
}

/// Typed helpers over any Store.
pub trait StoreExt: Store {
    fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|s| serde_json::from_str(&s).ok())
    }

    /// A record stored by `set_json`, read by [`record`].
    fn get_record<T: Args>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|s| record(&s))
    }

    fn set_json<T: Serialize>(&self, key: &str, value: &T) {
        let text = serde_json::to_string(value).expect("serializable value");
        self.set(key, &text);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.keys()
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect()
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

/// Records parsed from storage, each kept with the text it was parsed from and parsed again
/// only when the stored text differs: every read still asks the store, so a record changed or
/// removed behind our back (`plugins.setStorage`, a restore) counts at once; what is saved is
/// the JSON parse of a record that is the same on every request (the bearer check's grant and
/// client, issue 12). Bounded: past [`Parsed::MAX`] keys it starts over.
pub struct Parsed<T>(RefCell<HashMap<String, Seen<T>>>);

/// A stored text and what it parsed to.
type Seen<T> = (String, Option<Rc<T>>);

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Parsed(RefCell::default())
    }
}

impl<T: Args> Parsed<T> {
    pub const MAX: usize = 256;

    /// What `store.get_record(key)` would answer.
    pub fn get(&self, store: &dyn Store, key: &str) -> Option<Rc<T>> {
        let text = store.get(key)?;
        if let Some((seen, parsed)) = self.0.borrow().get(key) {
            if same_text(seen, &text) {
                return parsed.clone();
            }
        }
        let parsed = record(&text).map(Rc::new);
        let mut memo = self.0.borrow_mut();
        if memo.len() >= Self::MAX && !memo.contains_key(key) {
            memo.clear();
        }
        memo.insert(key.to_string(), (text, parsed.clone()));
        parsed
    }
}

/// Whether two texts are the same, compared eight bytes at a time: `==` is the wasm's
/// `memcmp` (compiler-builtins'), which goes a byte at a time, and a record's text (a grant's
/// is ~1 KB) is compared whole on every request (issue 12).
fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let ((words_a, rest_a), (words_b, rest_b)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    rest_a == rest_b
        && words_a
            .iter()
            .zip(words_b)
            .all(|(x, y)| u64::from_ne_bytes(*x) == u64::from_ne_bytes(*y))
}

/// A record's JSON text read back as its type (issue 12, wasm size): the text parsed as a
/// `Value` (that parser is in the wasm anyway) and its fields read by the tool arguments'
/// reader (`fields`), so no record type has a deserialiser of its own. `None` where
/// serde's derive, which host builds keep on the record types, fails: not an object, a
/// required field missing, a value of the wrong type. Fields the type does not name are
/// ignored, as the derive did. Two differences, neither in a text `set_json` writes: a key
/// written twice is read as its last value, where the derive refused the record; and a
/// record written as a JSON array of its fields' values, which the derive also read, is
/// refused.
pub fn record<T: Args>(text: &str) -> Option<T> {
    let Ok(Value::Object(object)) = serde_json::from_str(text) else {
        return None;
    };
    crate::fields::read(object).ok()
}

/// In-memory store: the Rust tests' store, and a stand-in wherever no host storage exists.
#[derive(Default)]
pub struct MemStore {
    map: RefCell<BTreeMap<String, String>>,
    /// Counts writes, so tests can assert that a refused request wrote nothing.
    pub writes: std::cell::Cell<u64>,
}

impl MemStore {
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.map.borrow().clone()
    }
}

impl Store for MemStore {
    fn get(&self, key: &str) -> Option<String> {
        self.map.borrow().get(key).cloned()
    }
    fn set(&self, key: &str, value: &str) {
        self.writes.set(self.writes.get() + 1);
        self.map
            .borrow_mut()
            .insert(key.to_string(), value.to_string());
    }
    fn remove(&self, key: &str) {
        self.writes.set(self.writes.get() + 1);
        self.map.borrow_mut().remove(key);
    }
    fn keys(&self) -> Vec<String> {
        self.map.borrow().keys().cloned().collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::oauth::clients::ClientRecord;
    use crate::oauth::grants::{CodeRecord, GrantRecord, Previous};
    use serde_json::{json, Map};
    use std::fmt::Debug;

    #[test]
    fn same_text_is_equality() {
        let texts: Vec<String> = (0..40)
            .map(|n| (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect())
            .collect();
        for a in &texts {
            for b in &texts {
                assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
            }
            // One byte changed anywhere: in a word, or in the bytes after the last one.
            for at in 0..a.len() {
                let mut other = a.clone().into_bytes();
                other[at] = b'#';
                assert!(
                    !same_text(a, std::str::from_utf8(&other).unwrap()),
                    "{a:?} at {at}"
                );
            }
        }
        assert!(same_text("é漢字🙂", "é漢字🙂"));
        assert!(!same_text("é漢字🙂", "é漢字🙃"));
    }

    /// Requires `record` to read every variation of `written`'s JSON as serde's derive (kept
    /// on the record types in host builds) does: the text `set_json` writes, each field
    /// left out, each field given a value of every JSON kind, a field no version wrote, and
    /// texts that are no object at all.
    pub(crate) fn reads_as_derive<T>(written: &T)
    where
        T: Args + Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let agree = |text: &str| {
            let derive = serde_json::from_str::<T>(text).ok();
            assert_eq!(record::<T>(text), derive, "{text}");
        };
        let text = serde_json::to_string(written).unwrap();
        assert_eq!(record::<T>(&text).as_ref(), Some(written), "{text}");
        agree(&text);
        let Value::Object(object) = serde_json::to_value(written).unwrap() else {
            panic!("a record is an object: {text}");
        };
        let kinds = [
            json!(null),
            json!(true),
            json!(0),
            json!(-1),
            json!(1.5),
            json!(""),
            json!("x"),
            json!([]),
            json!(["a"]),
            json!([[1, "a"]]),
            json!({}),
            json!({"k": "v"}),
            json!({"k": ["d", 1]}),
        ];
        for name in object.keys() {
            let mut without = object.clone();
            without.remove(name);
            agree(&Value::Object(without).to_string());
            for kind in &kinds {
                let mut changed = object.clone();
                changed.insert(name.clone(), kind.clone());
                agree(&Value::Object(changed).to_string());
            }
        }
        let mut extra = object.clone();
        extra.insert("written_by_another_version".into(), json!({"a": 1}));
        agree(&Value::Object(extra).to_string());
        for text in ["", "{", "null", "[]", "1", "\"x\"", "{}"] {
            agree(text);
        }
        agree(&Value::Object(Map::new()).to_string());
    }

    fn client(name: Option<&str>, consent: &[(&str, &str)]) -> ClientRecord {
        ClientRecord {
            client_id: "c1".into(),
            client_name: name.map(String::from),
            redirect_uris: vec!["https://a.example/cb".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: vec!["code".into()],
            issued_at: 1_764_000_000,
            created_ms: 1_764_000_000_123,
            last_used_ms: 1_764_000_060_000,
            consent: consent
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn grant(previous: usize) -> GrantRecord {
        GrantRecord {
            grant_id: "g1".into(),
            client_id: "c1".into(),
            issuer: "https://h.example/endpoint/@scrypted/mcp".into(),
            sub: "admin".into(),
            scope: "mcp:read mcp:write".into(),
            resource: "https://h.example/endpoint/@scrypted/mcp/public/mcp".into(),
            created_ms: 5,
            refresh_hash: "h0".into(),
            exp_ms: u64::MAX,
            previous: (0..previous)
                .map(|i| Previous {
                    hash: format!("h{}", i + 1),
                    replaced_ms: i as u64,
                })
                .collect(),
        }
    }

    fn code(used: Option<&str>) -> CodeRecord {
        CodeRecord {
            client_id: "c1".into(),
            issuer: "https://h.example/endpoint/@scrypted/mcp".into(),
            redirect_uri: "http://127.0.0.1:3000/cb".into(),
            redirect_uri_sent: true,
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            resource: "https://h.example/endpoint/@scrypted/mcp/public/mcp".into(),
            sub: "admin".into(),
            scope: "mcp:read".into(),
            exp_ms: 1_764_000_600_000,
            used_grant: used.map(String::from),
        }
    }

    #[test]
    fn oauth_records_read_as_their_derive_did() {
        reads_as_derive(&client(None, &[]));
        reads_as_derive(&client(
            Some("Claude"),
            &[("admin http://x/cb", "mcp:read")],
        ));
        reads_as_derive(&grant(0));
        reads_as_derive(&grant(2));
        reads_as_derive(&code(None));
        reads_as_derive(&code(Some("g1")));
    }

    /// A grant's earlier refresh tokens, read inside it by `from_value`, have the same reader
    /// in the wasm (a `Deserialize` impl by `fields`): it answers as the derive does.
    #[test]
    fn previous_refresh_tokens_read_as_the_derive_reads_them() {
        let read = crate::fields::same_as_derive::<Previous>(
            "Previous",
            json!({"hash": "h1", "replaced_ms": 5}),
        );
        assert!(read > 20, "{read}");
    }

    /// Records as stored before this reader (the text the serializer wrote then, which it
    /// still writes) read back whole.
    #[test]
    fn records_stored_earlier_read_back() {
        let stored = r#"{"client_id":"c1","client_name":"Claude","redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"issued_at":1764000000,"created_ms":1764000000123,"last_used_ms":1764000060000,"consent":{"admin http://x/cb":"mcp:read"}}"#;
        let want = client(Some("Claude"), &[("admin http://x/cb", "mcp:read")]);
        assert_eq!(serde_json::to_string(&want).unwrap(), stored);
        assert_eq!(record::<ClientRecord>(stored), Some(want));
        let stored = r#"{"grant_id":"g1","client_id":"c1","issuer":"https://h.example/endpoint/@scrypted/mcp","sub":"admin","scope":"mcp:read mcp:write","resource":"https://h.example/endpoint/@scrypted/mcp/public/mcp","created_ms":5,"refresh_hash":"h0","exp_ms":18446744073709551615,"previous":[{"hash":"h1","replaced_ms":0}]}"#;
        assert_eq!(serde_json::to_string(&grant(1)).unwrap(), stored);
        assert_eq!(record::<GrantRecord>(stored), Some(grant(1)));
        let stored = r#"{"client_id":"c1","issuer":"https://h.example/endpoint/@scrypted/mcp","redirect_uri":"http://127.0.0.1:3000/cb","redirect_uri_sent":true,"code_challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","resource":"https://h.example/endpoint/@scrypted/mcp/public/mcp","sub":"admin","scope":"mcp:read","exp_ms":1764000600000,"used_grant":"g1"}"#;
        assert_eq!(serde_json::to_string(&code(Some("g1"))).unwrap(), stored);
        assert_eq!(record::<CodeRecord>(stored), Some(code(Some("g1"))));
    }

    /// The one place the reader differs from the derive, which refused the record: a key
    /// written twice (never by `set_json`) is read as its last value.
    #[test]
    fn a_key_written_twice_reads_as_its_last_value() {
        let text = serde_json::to_string(&code(None)).unwrap();
        let twice = text.replacen('{', r#"{"sub":"someone","#, 1);
        assert!(serde_json::from_str::<CodeRecord>(&twice).is_err());
        assert_eq!(record::<CodeRecord>(&twice), Some(code(None)));
    }

    #[test]
    fn a_record_written_as_an_array_is_refused() {
        let c = code(Some("g1"));
        // CodeRecord's fields in declaration order: serde's derive reads such an array.
        let array = json!([
            c.client_id,
            c.issuer,
            c.redirect_uri,
            c.redirect_uri_sent,
            c.code_challenge,
            c.resource,
            c.sub,
            c.scope,
            c.exp_ms,
            c.used_grant
        ])
        .to_string();
        assert_eq!(serde_json::from_str::<CodeRecord>(&array).unwrap(), c);
        assert_eq!(record::<CodeRecord>(&array), None);
    }
}
