//! Who listens for which changes. Each open `subscriptions/listen` stream registers the
//! filter the server acknowledged (the list-changed kinds and the resource URIs it
//! subscribed to); code that changes something calls `publish`, and every listener
//! whose filter asks for that change gets it. Dropping the registration (the stream was
//! closed) removes the listener.

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use rmcp::model::SubscriptionFilter;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Something a client may be notified of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ToolsListChanged,
    PromptsListChanged,
    ResourcesListChanged,
    /// The contents of the resource with this URI changed.
    ResourceUpdated(String),
}

impl Change {
    pub fn wanted_by(&self, filter: &SubscriptionFilter) -> bool {
        let on = |flag: Option<bool>| flag == Some(true);
        match self {
            Change::ToolsListChanged => on(filter.tools_list_changed),
            Change::PromptsListChanged => on(filter.prompts_list_changed),
            Change::ResourcesListChanged => on(filter.resources_list_changed),
            Change::ResourceUpdated(uri) => filter
                .resource_subscriptions
                .as_ref()
                .is_some_and(|uris| uris.contains(uri)),
        }
    }

    /// The notification's method name.
    pub fn method(&self) -> &'static str {
        match self {
            Change::ToolsListChanged => "notifications/tools/list_changed",
            Change::PromptsListChanged => "notifications/prompts/list_changed",
            Change::ResourcesListChanged => "notifications/resources/list_changed",
            Change::ResourceUpdated(_) => "notifications/resources/updated",
        }
    }
}

/// Past this many open listeners, opening one ends the oldest: each holds a connection,
/// a timer and its filter, and clients that never close them must not grow the map
/// without bound (the same rule as `session::MAX_SESSIONS`).
pub const MAX_LISTENERS: usize = 256;

struct Listener {
    sub: String,
    client_id: String,
    filter: SubscriptionFilter,
    tx: UnboundedSender<Change>,
}

/// The open listeners. Shared by `Rc` so a registration can remove itself.
#[derive(Default)]
pub struct Listeners {
    inner: Rc<Registry>,
}

#[derive(Default)]
struct Registry {
    next: Cell<u64>,
    map: RefCell<BTreeMap<u64, Listener>>,
}

/// A listener's place in the registry; dropping it unregisters the listener.
pub struct Registration {
    registry: Rc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.map.borrow_mut().remove(&self.id);
    }
}

impl Listeners {
    /// Registers a listener for `filter` on behalf of a token's subject and client; the
    /// changes arrive on the receiver, which ends when the server closes the listener.
    pub fn register(
        &self,
        sub: &str,
        client_id: &str,
        filter: SubscriptionFilter,
    ) -> (Registration, UnboundedReceiver<Change>) {
        let (tx, rx) = mpsc::unbounded();
        let id = self.inner.next.get() + 1;
        self.inner.next.set(id);
        let mut map = self.inner.map.borrow_mut();
        while map.len() >= MAX_LISTENERS {
            // Dropping its sender ends that stream gracefully.
            map.pop_first();
        }
        map.insert(
            id,
            Listener {
                sub: sub.to_string(),
                client_id: client_id.to_string(),
                filter,
                tx,
            },
        );
        drop(map);
        let registration = Registration {
            registry: self.inner.clone(),
            id,
        };
        (registration, rx)
    }

    /// Hands `change` to every listener that asked for it.
    pub fn publish(&self, change: &Change) {
        for listener in self.inner.map.borrow().values() {
            if change.wanted_by(&listener.filter) {
                let _ = listener.tx.unbounded_send(change.clone());
            }
        }
    }

    /// Ends the listeners of tokens whose subject and client match (revocation); each
    /// stream then sends its closing result and ends.
    pub fn close_where(&self, doomed: impl Fn(&str, &str) -> bool) {
        self.inner
            .map
            .borrow_mut()
            .retain(|_, l| !doomed(&l.sub, &l.client_id));
    }

    pub fn len(&self) -> usize {
        self.inner.map.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
