//! Input a running task asks for (SEP-2663 "Task Update Requests"): a tool that needs an
//! answer after its call became a task cannot end the request with an
//! `InputRequiredResult` (that request was answered with the task handle), so the
//! question waits here. While one is outstanding the task is `input_required` and
//! `tasks/get` lists it under `inputRequests`; `tasks/update` delivers the answers, and
//! the next poll of the task hands each to the tool that asked, which then goes on.
//!
//! Keys are unique over the task's life (the extension requires it): a key asked again
//! after its answer came gets a numbered suffix. Answers to keys that are not
//! outstanding (never issued, already answered) are ignored, as the extension asks.

use rmcp::model::{InputRequest, InputRequests};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;

#[derive(Default)]
pub struct Inbox {
    /// Questions without an answer yet: key → request.
    outstanding: RefCell<BTreeMap<String, InputRequest>>,
    /// Answers delivered and not yet taken by the tool: key → the client's result.
    delivered: RefCell<BTreeMap<String, Value>>,
    /// Every key issued in this task (a few): a list, as a `BTreeSet<String>` was one more
    /// copy of the B-tree code in the wasm (issue 12).
    issued: RefCell<Vec<String>>,
}

impl Inbox {
    /// Asks `typed` under a key derived from `key`; the future resolves to the client's
    /// answer once a `tasks/update` delivered it.
    pub fn ask(self: &Rc<Self>, key: &str, typed: InputRequest) -> impl Future<Output = Value> {
        let key = self.fresh(key);
        self.outstanding.borrow_mut().insert(key.clone(), typed);
        let inbox = self.clone();
        futures::future::poll_fn(move |_| match inbox.delivered.borrow_mut().remove(&key) {
            Some(answer) => Poll::Ready(answer),
            None => Poll::Pending,
        })
    }

    fn fresh(&self, key: &str) -> String {
        let mut issued = self.issued.borrow_mut();
        let mut candidate = key.to_string();
        let mut n = 1;
        while issued.contains(&candidate) {
            n += 1;
            candidate = format!("{key}-{n}");
        }
        issued.push(candidate.clone());
        candidate
    }

    /// Takes the answers to outstanding questions; the rest are ignored.
    pub fn deliver(&self, responses: Map<String, Value>) {
        let mut outstanding = self.outstanding.borrow_mut();
        let mut delivered = self.delivered.borrow_mut();
        for (key, answer) in responses {
            if outstanding.remove(&key).is_some() {
                delivered.insert(key, answer);
            }
        }
    }

    /// The questions still waiting for an answer (empty when none).
    pub fn outstanding(&self) -> InputRequests {
        self.outstanding.borrow().clone()
    }

    /// Forgets every question (the task ended).
    pub fn close(&self) {
        self.outstanding.borrow_mut().clear();
        self.delivered.borrow_mut().clear();
    }
}
