//! MCP sessions: negotiated version, client capabilities, log level, and the requests in
//! flight in both directions. A session belongs to the token's subject and client; for
//! anyone else it does not exist.

use futures::channel::oneshot;
use futures::future::AbortHandle;
use rmcp::model::{ClientCapabilities, ErrorData, ProtocolVersion, RequestId};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Sessions idle for longer are forgotten.
pub const IDLE_LIMIT_MS: u64 = 60 * 60 * 1000;

/// The mark of a POST's answer stream's event ids (`post-7`; the GET stream's are bare
/// numbers), so that a `Last-Event-ID` names the stream a client asks to resume
/// (transports: "Event IDs SHOULD encode sufficient information to identify the originating
/// stream").
pub const ANSWER_EVENT_PREFIX: &str = "post-";

/// Past this many live sessions, opening one forgets a session: each holds state, and
/// clients that never DELETE would otherwise grow the map until the next reap.
pub const MAX_SESSIONS: usize = 256;

/// Sessions one client (`client_id`) may hold; its next one forgets its own longest idle.
/// Generous for a client that opens a session per conversation, small enough that one
/// client alone cannot fill [`MAX_SESSIONS`].
pub const MAX_SESSIONS_PER_CLIENT: usize = 32;

/// The revisions we speak, oldest first.
pub const SUPPORTED_VERSIONS: [ProtocolVersion; 3] = [
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
];

/// The client's version when we speak it, else our latest (the spec's SHOULD).
pub fn negotiate(requested: &str) -> ProtocolVersion {
    supported(requested).unwrap_or(ProtocolVersion::V_2025_11_25)
}

pub fn supported(version: &str) -> Option<ProtocolVersion> {
    SUPPORTED_VERSIONS
        .iter()
        .find(|v| v.as_str() == version)
        .cloned()
}

pub type SessionRef = Rc<RefCell<Session>>;

/// RFC 5424 severities in rising order, as MCP names them.
pub const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

pub fn log_rank(level: &str) -> Option<usize> {
    LOG_LEVELS.iter().position(|l| *l == level)
}

pub struct Session {
    pub id: String,
    pub sub: String,
    pub client_id: String,
    pub version: ProtocolVersion,
    pub client_capabilities: ClientCapabilities,
    /// Rank in `LOG_LEVELS` of the lowest level sent as `notifications/message`.
    pub log_level: usize,
    pub last_seen_ms: u64,
    /// The resources this session subscribed to (`resources/subscribe`), each once;
    /// updates travel on its GET stream. A list: a client subscribes to a few, and a
    /// `BTreeSet<String>` was one more copy of the B-tree code in the wasm (issue 12).
    pub subscriptions: Vec<String>,
    /// The listener of its open GET stream (`subscriptions::Listeners`), if any.
    pub get_stream: Option<u64>,
    next_event: u64,
    next_outgoing: i64,
    next_run: u64,
    /// Our requests to the client, waiting for the POST that carries the answer.
    waiting: HashMap<RequestId, oneshot::Sender<Result<Value, ErrorData>>>,
    /// The client's requests being served, so `notifications/cancelled` can stop them;
    /// each with the run number `start` gave it.
    in_flight: HashMap<RequestId, (u64, AbortHandle)>,
}

impl Session {
    /// SSE event ids, unique across all of the session's streams: the GET stream's.
    pub fn next_event_id(&mut self) -> String {
        self.next_event += 1;
        self.next_event.to_string()
    }

    /// An event id of a POST's answer stream, marked as one ([`ANSWER_EVENT_PREFIX`]).
    pub fn next_answer_event_id(&mut self) -> String {
        format!("{ANSWER_EVENT_PREFIX}{}", self.next_event_id())
    }

    pub fn next_outgoing_id(&mut self) -> RequestId {
        self.next_outgoing += 1;
        RequestId::Number(self.next_outgoing)
    }

    pub fn park(&mut self, id: RequestId) -> oneshot::Receiver<Result<Value, ErrorData>> {
        let (tx, rx) = oneshot::channel();
        self.waiting.insert(id, tx);
        rx
    }

    pub fn unpark(&mut self, id: &RequestId) {
        self.waiting.remove(id);
    }

    /// Hands the client's answer to whoever waits for it; false when nobody does.
    pub fn answer(&mut self, id: &RequestId, outcome: Result<Value, ErrorData>) -> bool {
        match self.waiting.remove(id) {
            Some(tx) => tx.send(outcome).is_ok(),
            None => false,
        }
    }

    /// A run number for `finish`; `None` when the id is already in flight (ids must not
    /// be reused while running).
    pub fn start(&mut self, id: RequestId, handle: AbortHandle) -> Option<u64> {
        if self.in_flight.contains_key(&id) {
            return None;
        }
        self.next_run += 1;
        self.in_flight.insert(id, (self.next_run, handle));
        Some(self.next_run)
    }

    /// Only the run that started it: a cancelled request's id may already be reused.
    pub fn finish(&mut self, id: &RequestId, run: u64) {
        if self.in_flight.get(id).is_some_and(|(r, _)| *r == run) {
            self.in_flight.remove(id);
        }
    }

    /// The handle to abort, if that request is still running.
    pub fn cancel(&mut self, id: &RequestId) -> Option<AbortHandle> {
        self.in_flight.remove(id).map(|(_, handle)| handle)
    }

    pub fn supports_elicitation(&self) -> bool {
        // Form mode is what we send: `{}` means form; `{url: {}}` alone does not offer it.
        self.version >= ProtocolVersion::V_2025_06_18
            && self
                .client_capabilities
                .elicitation
                .as_ref()
                .is_some_and(|e| e.form.is_some() || e.url.is_none())
    }

    pub fn supports_sampling(&self) -> bool {
        #[allow(deprecated)]
        self.client_capabilities.sampling.is_some()
    }

    /// Stops everything the session still runs; waiting tools see the session end.
    fn close(&mut self) -> Vec<AbortHandle> {
        self.waiting.clear();
        self.in_flight.drain().map(|(_, (_, h))| h).collect()
    }
}

#[derive(Default)]
pub struct Sessions {
    map: RefCell<HashMap<String, SessionRef>>,
}

/// Whose token presents the session id.
pub struct Owner<'a> {
    pub sub: &'a str,
    pub client_id: &'a str,
}

impl Sessions {
    /// Opens (or revives) the session `id` (minted by `session_id`).
    pub fn create(
        &self,
        id: String,
        owner: Owner<'_>,
        version: ProtocolVersion,
        client_capabilities: ClientCapabilities,
        now_ms: u64,
    ) -> SessionRef {
        // One client's volume costs only its own sessions: past its cap it loses its own
        // longest idle; when the map is full, the client holding the most loses one.
        let doomed = if self.held_by(owner.client_id) >= MAX_SESSIONS_PER_CLIENT {
            self.longest_idle_of(owner.client_id)
        } else if self.len() >= MAX_SESSIONS {
            self.heaviest_client()
                .and_then(|client| self.longest_idle_of(&client))
        } else {
            None
        };
        if let Some(id) = doomed {
            self.remove(&id);
        }
        let session = Rc::new(RefCell::new(Session {
            id: id.clone(),
            sub: owner.sub.to_string(),
            client_id: owner.client_id.to_string(),
            version,
            client_capabilities,
            log_level: 1,
            last_seen_ms: now_ms,
            subscriptions: Vec::new(),
            get_stream: None,
            next_event: 0,
            next_outgoing: 0,
            next_run: 0,
            waiting: HashMap::new(),
            in_flight: HashMap::new(),
        }));
        self.map.borrow_mut().insert(id, session.clone());
        session
    }

    /// The session, if it exists and belongs to `owner`; touching it keeps it alive.
    pub fn lookup(&self, id: &str, owner: Owner<'_>, now_ms: u64) -> Option<SessionRef> {
        let session = self.map.borrow().get(id).cloned()?;
        {
            let mut s = session.borrow_mut();
            let same = crate::crypto::constant_time_eq(s.sub.as_bytes(), owner.sub.as_bytes())
                && crate::crypto::constant_time_eq(
                    s.client_id.as_bytes(),
                    owner.client_id.as_bytes(),
                );
            if !same {
                return None;
            }
            s.last_seen_ms = now_ms;
        }
        Some(session)
    }

    fn held_by(&self, client_id: &str) -> usize {
        let map = self.map.borrow();
        map.values()
            .filter(|s| s.borrow().client_id == client_id)
            .count()
    }

    fn longest_idle_of(&self, client_id: &str) -> Option<String> {
        let map = self.map.borrow();
        map.iter()
            .filter(|(_, s)| s.borrow().client_id == client_id)
            .min_by_key(|(_, s)| s.borrow().last_seen_ms)
            .map(|(id, _)| id.clone())
    }

    /// The client holding the most sessions (ties: the one whose id sorts first, so the
    /// choice does not depend on the map's order).
    fn heaviest_client(&self) -> Option<String> {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for s in self.map.borrow().values() {
            *counts.entry(s.borrow().client_id.clone()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by(|(a, n), (b, m)| n.cmp(m).then_with(|| b.cmp(a)))
            .map(|(client, _)| client)
    }

    pub fn remove(&self, id: &str) {
        let removed = self.map.borrow_mut().remove(id);
        if let Some(session) = removed {
            close(&session);
        }
    }

    pub fn reap(&self, now_ms: u64) {
        self.close_where(|s| now_ms.saturating_sub(s.last_seen_ms) > IDLE_LIMIT_MS);
    }

    pub fn close_where(&self, doomed: impl Fn(&Session) -> bool) {
        let removed: Vec<SessionRef> = {
            let mut map = self.map.borrow_mut();
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, s)| doomed(&s.borrow()))
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for session in removed {
            close(&session);
        }
    }

    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn close(session: &SessionRef) {
    // Abort outside the borrow: an aborted request's guards touch the session again.
    let handles = session.borrow_mut().close();
    for handle in handles {
        handle.abort();
    }
}
