//! `FakePeer`: a scriptable MCP client for tools that elicit, report progress or log.

use async_trait::async_trait;
use rmcp::model::ElicitationSchema;
use scrypted_mcp::tools::{Elicited, Peer};
use serde_json::Value;
use std::cell::RefCell;

/// One `notifications/progress`: (progress, total, message).
pub type ProgressNote = (f64, Option<f64>, Option<String>);

/// A scriptable MCP client: whether it declared elicitation, and the answers it gives.
pub struct FakePeer {
    pub elicitation: bool,
    /// Answers popped in order; when empty, `elicit` returns `Err`.
    pub answers: RefCell<Vec<Result<Elicited, String>>>,
    /// Every `(message, requestedSchema)` elicited.
    pub asked: RefCell<Vec<(String, Value)>>,
    pub progress: RefCell<Vec<ProgressNote>>,
    pub logs: RefCell<Vec<(String, Value)>>,
}

impl FakePeer {
    pub fn new(elicitation: bool) -> Self {
        FakePeer {
            elicitation,
            answers: RefCell::default(),
            asked: RefCell::default(),
            progress: RefCell::default(),
            logs: RefCell::default(),
        }
    }

    /// A peer that supports elicitation and will give `answer`.
    pub fn answering(answer: Elicited) -> Self {
        let peer = Self::new(true);
        peer.answers.borrow_mut().push(Ok(answer));
        peer
    }
}

#[async_trait(?Send)]
impl Peer for FakePeer {
    fn supports_elicitation(&self) -> bool {
        self.elicitation
    }
    async fn elicit(
        &self,
        message: &str,
        requested_schema: ElicitationSchema,
    ) -> Result<Elicited, String> {
        let requested_schema = serde_json::to_value(requested_schema).unwrap();
        self.asked
            .borrow_mut()
            .push((message.to_string(), requested_schema));
        let mut answers = self.answers.borrow_mut();
        if answers.is_empty() {
            return Err("no answer scripted".into());
        }
        answers.remove(0)
    }
    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        self.progress
            .borrow_mut()
            .push((progress, total, message.map(String::from)));
    }
    fn log(&self, level: &str, data: Value) {
        self.logs.borrow_mut().push((level.to_string(), data));
    }
}
