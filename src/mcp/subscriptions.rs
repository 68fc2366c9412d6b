//! Who listens for which changes, and how changes reach them. Each open stream
//! registers what it wants: a `subscriptions/listen` stream the filter the server
//! acknowledged (the list-changed kinds and the resource URIs it subscribed to), a legacy
//! session's GET stream the resources the session subscribed to at the moment of each
//! change. Code that changes something calls `publish`, and every listener that wants the
//! change gets it. Dropping the registration (the stream was closed) removes the
//! listener, so interest in a resource ends with its last subscriber.
//!
//! [`Delivery`] is the receiving end both streams share: it coalesces, so a chatty sensor
//! cannot flood a client — at most one notification per resource (or task) per
//! [`COALESCE_MS`]: the first change goes out at once, later ones within that time become
//! one, the latest, that goes out when it is over — and it says when a keep-alive is due.

use crate::clock::Clock;
use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either};
use futures::StreamExt;
use rmcp::model::SubscriptionFilter;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

/// At most one notification per resource (or list) per this many ms, per stream.
pub const COALESCE_MS: u64 = 1000;

/// Something a client may be notified of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    ToolsListChanged,
    PromptsListChanged,
    ResourcesListChanged,
    /// The contents of the resource with this URI changed.
    ResourceUpdated(String),
    /// A task's status (or what it waits for) changed: `task` is the `DetailedTask`
    /// `tasks/get` would answer now. Only listeners that named the task want it.
    TaskStatus {
        id: String,
        task: serde_json::Value,
    },
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
            Change::TaskStatus { .. } => false,
        }
    }

    /// The notification's method name.
    pub fn method(&self) -> &'static str {
        match self {
            Change::ToolsListChanged => "notifications/tools/list_changed",
            Change::PromptsListChanged => "notifications/prompts/list_changed",
            Change::ResourcesListChanged => "notifications/resources/list_changed",
            Change::ResourceUpdated(_) => "notifications/resources/updated",
            Change::TaskStatus { .. } => "notifications/tasks",
        }
    }
}

/// Past this many open listeners, opening one ends the oldest of the client holding the
/// most: each holds a connection, a timer and its filter, and clients that never close them
/// must not grow the map without bound; one client opening many ends only its own.
pub const MAX_LISTENERS: usize = 256;

/// What a listener wants to hear about, asked at each change.
pub type Interest = Box<dyn Fn(&Change) -> bool>;

struct Listener {
    sub: String,
    client_id: String,
    wants: Interest,
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
    /// `(id, listener)` in id order (ids only grow, so a push keeps it sorted): a list of
    /// at most `MAX_LISTENERS`, as a map keyed by `u64` would be one more copy of the
    /// B-tree code in the wasm.
    map: RefCell<Vec<(u64, Listener)>>,
}

impl Registry {
    fn remove(&self, id: u64) {
        let mut map = self.map.borrow_mut();
        if let Ok(at) = map.binary_search_by_key(&id, |(k, _)| *k) {
            map.remove(at);
        }
    }
}

/// The oldest listener of the client with the most open (`opening` counts one more, so a
/// client at the top ends its own); ties go to the client whose oldest is older.
fn oldest_of_the_busiest(map: &[(u64, Listener)], opening: &str) -> u64 {
    // (client, open, oldest id): a list, as the few clients are counted once, at the cap;
    // a map keyed by `&str` would be one more copy of the B-tree code in the wasm.
    let mut per_client: Vec<(&str, usize, u64)> = Vec::new();
    for (id, l) in map {
        match per_client.iter_mut().find(|(c, ..)| *c == l.client_id) {
            Some(entry) => entry.1 += 1,
            None => per_client.push((&l.client_id, 1, *id)),
        }
    }
    if let Some(own) = per_client.iter_mut().find(|(c, ..)| *c == opening) {
        own.1 += 1;
    }
    let busiest = per_client
        .iter()
        .max_by_key(|(_, count, oldest)| (*count, std::cmp::Reverse(*oldest)));
    busiest.map_or(0, |(_, _, oldest)| *oldest)
}

/// A listener's place in the registry; dropping it unregisters the listener.
pub struct Registration {
    registry: Rc<Registry>,
    id: u64,
}

impl Registration {
    /// Its place in the registry, for [`Listeners::close`].
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.remove(self.id);
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
        self.register_interest(sub, client_id, Box::new(move |c| c.wanted_by(&filter)))
    }

    /// [`Listeners::register`] for an interest that may change while the stream lives.
    pub fn register_interest(
        &self,
        sub: &str,
        client_id: &str,
        wants: Interest,
    ) -> (Registration, UnboundedReceiver<Change>) {
        let (tx, rx) = mpsc::unbounded();
        let id = self.inner.next.get() + 1;
        self.inner.next.set(id);
        let mut map = self.inner.map.borrow_mut();
        while map.len() >= MAX_LISTENERS {
            // Dropping its sender ends that stream gracefully.
            let oldest = oldest_of_the_busiest(&map, client_id);
            map.retain(|(k, _)| *k != oldest);
        }
        map.push((
            id,
            Listener {
                sub: sub.to_string(),
                client_id: client_id.to_string(),
                wants,
                tx,
            },
        ));
        drop(map);
        let registration = Registration {
            registry: self.inner.clone(),
            id,
        };
        (registration, rx)
    }

    /// Hands `change` to every listener that asked for it.
    pub fn publish(&self, change: &Change) {
        for (_, listener) in self.inner.map.borrow().iter() {
            if (listener.wants)(change) {
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
            .retain(|(_, l)| !doomed(&l.sub, &l.client_id));
    }

    /// Ends one listener (a legacy session opened a newer GET stream).
    pub fn close(&self, registration_id: u64) {
        self.inner.remove(registration_id);
    }

    pub fn len(&self) -> usize {
        self.inner.map.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a stream sends next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Change(Change),
    /// Nothing was sent for [`Delivery`]'s keep-alive time.
    KeepAlive,
    /// The server closed the listener.
    Closed,
}

/// The receiving end of one listener: changes as they may go out, coalesced.
pub struct Delivery {
    changes: UnboundedReceiver<Change>,
    clock: Rc<dyn Clock>,
    keep_alive_ms: u64,
    /// When something last went out (a change or a keep-alive).
    last_out_ms: u64,
    /// Per resource or list: when its last notification went out, kept while that still
    /// holds the next one back (`COALESCE_MS`). A short list, not a map: a
    /// `BTreeMap<String, u64>` was its own copy of the B-tree code in the wasm (issue 12).
    sent_ms: Vec<(String, u64)>,
    /// Held changes, each going out `COALESCE_MS` after its predecessor.
    held: Vec<Change>,
    ready: VecDeque<Change>,
}

fn key(change: &Change) -> String {
    match change {
        Change::ResourceUpdated(uri) => uri.clone(),
        Change::TaskStatus { id, .. } => format!("task:{id}"),
        other => other.method().to_string(),
    }
}

impl Delivery {
    pub fn new(
        changes: UnboundedReceiver<Change>,
        clock: Rc<dyn Clock>,
        keep_alive_ms: u64,
    ) -> Self {
        Delivery {
            last_out_ms: clock.now_ms(),
            changes,
            clock,
            keep_alive_ms,
            sent_ms: Vec::new(),
            held: Vec::new(),
            ready: VecDeque::new(),
        }
    }

    /// The next thing to send: a change once it may go out, a keep-alive, or the end.
    pub async fn next(&mut self) -> Next {
        loop {
            let now = self.clock.now_ms();
            self.release_due(now);
            if let Some(change) = self.ready.pop_front() {
                let sent = key(&change);
                // An entry older than COALESCE_MS holds nothing back (its due time has
                // passed), so dropping it changes no decision and bounds the list.
                self.sent_ms
                    .retain(|(k, at)| *k != sent && at + COALESCE_MS > now);
                self.sent_ms.push((sent, now));
                self.last_out_ms = now;
                return Next::Change(change);
            }
            let keep_alive_at = self.last_out_ms + self.keep_alive_ms;
            if now >= keep_alive_at {
                self.last_out_ms = now;
                return Next::KeepAlive;
            }
            let wake_at = self
                .held
                .iter()
                .map(|c| self.due_ms(c))
                .fold(keep_alive_at, u64::min);
            let timer = self.clock.clone().sleep(wake_at.saturating_sub(now));
            match select(self.changes.next(), timer).await {
                Either::Left((Some(change), _)) => self.offer(change),
                // What was still held goes with it: the stream is over.
                Either::Left((None, _)) => return Next::Closed,
                Either::Right(((), _)) => {}
            }
        }
    }

    /// When a notification about `change` may next go out.
    fn due_ms(&self, change: &Change) -> u64 {
        let k = key(change);
        self.sent_ms
            .iter()
            .find(|(sent, _)| *sent == k)
            .map_or(0, |(_, at)| at + COALESCE_MS)
    }

    fn offer(&mut self, change: Change) {
        let k = key(&change);
        let pending = self.ready.iter_mut().chain(&mut self.held);
        if let Some(waiting) = pending.into_iter().find(|c| key(c) == k) {
            // One notification already waits: it says the latest (a task's new status).
            *waiting = change;
            return;
        }
        if self.due_ms(&change) <= self.clock.now_ms() {
            self.ready.push_back(change);
        } else {
            self.held.push(change);
        }
    }

    fn release_due(&mut self, now: u64) {
        let (due, held): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|c| self.due_ms(c) <= now);
        self.held = held;
        self.ready.extend(due);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use futures::FutureExt;

    const KEEP_ALIVE: u64 = 60_000;

    fn delivery() -> (UnboundedSender<Change>, Delivery, Rc<FixedClock>) {
        let clock = Rc::new(FixedClock::at_ms(1_000_000));
        let (tx, rx) = mpsc::unbounded();
        (tx, Delivery::new(rx, clock.clone(), KEEP_ALIVE), clock)
    }

    fn updated(uri: &str) -> Change {
        Change::ResourceUpdated(uri.to_string())
    }

    /// What `next` gives without waiting; `None` while it would wait.
    fn now(d: &mut Delivery) -> Option<Next> {
        d.next().now_or_never()
    }

    #[test]
    fn a_resource_changed_again_within_the_coalescing_time_waits_for_it() {
        let (tx, mut d, clock) = delivery();
        tx.unbounded_send(updated("a")).unwrap();
        assert_eq!(now(&mut d), Some(Next::Change(updated("a"))));
        clock.advance_ms(400);
        tx.unbounded_send(updated("a")).unwrap();
        assert_eq!(now(&mut d), None, "held: a went out 400 ms ago");
        clock.advance_ms(COALESCE_MS - 400 - 1);
        assert_eq!(now(&mut d), None);
        clock.advance_ms(1);
        assert_eq!(now(&mut d), Some(Next::Change(updated("a"))));
    }

    #[test]
    fn sending_other_resources_keeps_a_recent_send_holding_back_its_next_change() {
        let (tx, mut d, clock) = delivery();
        tx.unbounded_send(updated("a")).unwrap();
        assert_eq!(now(&mut d), Some(Next::Change(updated("a"))));
        // b goes out while a's entry is still live: pruning on b's send must keep it.
        clock.advance_ms(600);
        tx.unbounded_send(updated("b")).unwrap();
        assert_eq!(now(&mut d), Some(Next::Change(updated("b"))));
        clock.advance_ms(100);
        tx.unbounded_send(updated("a")).unwrap();
        assert_eq!(now(&mut d), None, "a went out 700 ms ago");
        clock.advance_ms(COALESCE_MS - 700);
        assert_eq!(now(&mut d), Some(Next::Change(updated("a"))));
    }

    #[test]
    fn what_went_out_longer_ago_than_the_coalescing_time_is_forgotten() {
        let (tx, mut d, clock) = delivery();
        for i in 0..50 {
            let uri = format!("scrypted://device/{i}");
            tx.unbounded_send(updated(&uri)).unwrap();
            assert_eq!(now(&mut d), Some(Next::Change(updated(&uri))));
            clock.advance_ms(COALESCE_MS);
        }
        // Each send dropped the entries that no longer hold anything back: the list does
        // not grow with the number of resources a long-lived stream has seen.
        assert_eq!(d.sent_ms.len(), 1);
        tx.unbounded_send(updated("scrypted://device/0")).unwrap();
        assert_eq!(
            now(&mut d),
            Some(Next::Change(updated("scrypted://device/0")))
        );
    }
}
