//! The Store trait: Scrypted plugin storage (docs/reference/scrypted-host.md §5).
//!
//! Synchronous string key-value storage whose whole map is shipped to the server on every
//! write, readable by any plugin and present in every backup: keep it small and bounded,
//! and keep secrets as hashes where possible.

use serde::{de::DeserializeOwned, Serialize};
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

impl<T: DeserializeOwned> Parsed<T> {
    pub const MAX: usize = 256;

    /// What `store.get_json(key)` would answer.
    pub fn get(&self, store: &dyn Store, key: &str) -> Option<Rc<T>> {
        let text = store.get(key)?;
        if let Some((seen, parsed)) = self.0.borrow().get(key) {
            if *seen == text {
                return parsed.clone();
            }
        }
        let parsed = serde_json::from_str(&text).ok().map(Rc::new);
        let mut memo = self.0.borrow_mut();
        if memo.len() >= Self::MAX && !memo.contains_key(key) {
            memo.clear();
        }
        memo.insert(key.to_string(), (text, parsed.clone()));
        parsed
    }
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
