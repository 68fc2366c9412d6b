//! The client as one in-flight request sees it: notifications travel on that request's
//! event stream; in a legacy session, so do server-to-client requests, whose answers
//! come back by a later POST. 2026-07-28 has no such requests: a modern request asks
//! through the answers it carries (`mrtr`), and ends with an `InputRequiredResult` when
//! one is missing; a call that became a task asks through the task (`task_input`).

#![allow(deprecated)] // rmcp marks logging and sampling deprecated for 2026-07-28.

use super::era::Era;
use super::jsonrpc;
use super::mrtr::{Inputs, Question};
use super::session::{log_rank, SessionRef};
use super::task_input::Inbox;
use crate::clock::{Clock, Ticker};
use crate::tools::{Caller, Elicited, Peer};
use crate::Ctx;
use async_trait::async_trait;
use futures::channel::mpsc::UnboundedSender;
use futures::future::Either;
use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam,
    ProgressToken, ProtocolVersion, RequestId,
};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// How long a legacy session waits for the client to answer a request of ours (lifecycle
/// "Timeouts": a sender SHOULD time out its requests and then cancel them). The one we
/// send is an elicitation, a person reading a form: ten minutes lets them read a restore
/// warning, and a call whose client vanished meanwhile ends then, not when its session
/// is reaped an hour later.
pub const ANSWER_TIMEOUT_MS: u64 = 10 * 60_000;

/// One client request being served: the plugin's state, who asked, and the client as
/// this request sees it.
pub struct Call {
    pub ctx: Rc<Ctx>,
    pub caller: Caller,
    /// The grant behind the caller's token: a task it starts runs while the grant lives.
    pub grant_id: String,
    pub peer: Rc<RequestPeer>,
}

impl Call {
    pub fn era(&self) -> &Era {
        self.peer.era()
    }
}

pub struct RequestPeer {
    era: Era,
    /// `None` when the client cannot take an event stream: nothing can be sent then.
    out: Option<UnboundedSender<Value>>,
    progress_token: Option<ProgressToken>,
    last_progress: Cell<Option<f64>>,
    /// What the last elicitation came to, for the audit trail.
    elicitation: RefCell<Option<&'static str>>,
    /// A modern request's answers (`None` in a legacy session, and on the methods that
    /// cannot ask).
    inputs: Option<Inputs>,
    /// Elicitations asked so far in this run: each gets its own input key.
    asked: Cell<u32>,
    /// This tools/call may continue as a task (`tasks::start` polls it).
    task_offered: Cell<bool>,
    /// Once it is a task: where its questions wait for `tasks/update`.
    task: RefCell<Option<Rc<Inbox>>>,
    /// What a legacy request's wait for an answer is timed by.
    clock: Rc<dyn Clock>,
    ticker: Rc<Ticker>,
}

/// Forgets a parked request when its waiter goes away. A waiter dropped while it still
/// waits is a call that was cancelled: the client is told to withdraw the question too, so
/// that nobody is left answering a dialog that no longer leads anywhere.
struct Parked<'a> {
    session: &'a SessionRef,
    id: RequestId,
    peer: &'a RequestPeer,
    waiting: bool,
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.session.borrow_mut().unpark(&self.id);
        if self.waiting {
            self.peer
                .withdraw(&self.id, "the call that asked it was cancelled");
        }
    }
}

impl RequestPeer {
    /// `params` are the request's params: `_meta.progressToken` enables progress.
    pub fn new(ctx: &Ctx, era: Era, out: Option<UnboundedSender<Value>>, params: &Value) -> Self {
        // Looked up member by member: `pointer` allocates each step's unescaped name.
        let progress_token = params
            .get("_meta")
            .and_then(|meta| meta.get("progressToken"))
            .and_then(jsonrpc::parse_id)
            .map(ProgressToken);
        RequestPeer {
            era,
            out,
            progress_token,
            last_progress: Cell::new(None),
            elicitation: RefCell::new(None),
            inputs: None,
            asked: Cell::new(0),
            task_offered: Cell::new(false),
            task: RefCell::default(),
            clock: ctx.clock.clone(),
            ticker: ctx.mcp.ticker.clone(),
        }
    }

    /// Marks this call as one that may continue as a task (`escalate`).
    pub fn offer_task(&self) {
        self.task_offered.set(true);
    }

    /// The call is a task now: later questions wait in `inbox`.
    pub fn became_task(&self, inbox: Rc<Inbox>) {
        *self.task.borrow_mut() = Some(inbox);
    }

    /// The point from which a tool's work continues as a task (SEP-2663: input needed
    /// to decide whether to proceed is asked before it through MRTR, input needed
    /// while working is asked after it through `tasks/update`). For a call that may
    /// become a task and is not one yet, this yields once, so the first poll ends and
    /// `tasks::start` answers with the task handle; for any other call it is a no-op.
    pub async fn escalate(&self) {
        let mut yielded = !self.task_offered.get() || self.task.borrow().is_some();
        futures::future::poll_fn(|cx| {
            if yielded {
                return std::task::Poll::Ready(());
            }
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        })
        .await
    }

    /// A modern request that may ask for input (one of `mrtr::METHODS`).
    pub fn with_inputs(mut self, inputs: Inputs) -> Self {
        self.inputs = Some(inputs);
        self
    }

    /// The input this run asked for and has no answer to, if any.
    pub fn inputs(&self) -> Option<&Inputs> {
        self.inputs.as_ref()
    }

    pub fn awaiting_input(&self) -> bool {
        self.inputs.as_ref().is_some_and(Inputs::awaiting)
    }

    pub fn can_send(&self) -> bool {
        self.out.is_some()
    }

    pub fn version(&self) -> ProtocolVersion {
        self.era.version()
    }

    pub fn era(&self) -> &Era {
        &self.era
    }

    /// The request's progress token as text, if it carried one.
    pub fn progress_token_text(&self) -> Option<String> {
        self.progress_token.as_ref().map(|t| match &t.0 {
            RequestId::Number(n) => n.to_string(),
            RequestId::String(s) => s.to_string(),
        })
    }

    pub fn elicitation_outcome(&self) -> Option<&'static str> {
        *self.elicitation.borrow()
    }

    fn note(&self, outcome: &'static str) {
        *self.elicitation.borrow_mut() = Some(outcome);
    }

    fn send(&self, message: Value) {
        if let Some(out) = &self.out {
            let _ = out.unbounded_send(message);
        }
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send(jsonrpc::notification(method, params));
    }

    /// Asks the client `method` with `params`: a legacy session gets a request on this
    /// stream and we wait for the answer; a modern request answers from its
    /// `inputResponses` under `key`, or `Ok(None)` when it has none yet (the request then
    /// ends with an `InputRequiredResult`, and the handler must have changed nothing);
    /// once the call is a task, the question waits for `tasks/update` (`task_input`).
    /// `unbound`: see `Inputs::answer`.
    pub async fn ask(
        &self,
        key: &str,
        question: Question,
        unbound: bool,
    ) -> Result<Option<Value>, String> {
        let method = question.method();
        if self.era.session().is_some() {
            return self.request(method, question.params()).await.map(Some);
        }
        let Some(inputs) = &self.inputs else {
            return Err(format!("{method} cannot be asked during this request"));
        };
        if !inputs.can_ask(method) {
            return Err(format!(
                "the client did not declare the capability {method} needs"
            ));
        }
        let task = self.task.borrow().clone();
        if let Some(inbox) = task {
            return Ok(Some(inbox.ask(key, question.typed).await));
        }
        Ok(inputs.answer(key, &question, unbound))
    }

    /// Sends a request to the client on this stream and waits for the answering POST
    /// (legacy sessions only: 2026-07-28 forbids requests on a response stream). `Err` says
    /// why there is no answer: the client answered with an error, the session ended, or no
    /// answer came within [`ANSWER_TIMEOUT_MS`] (the client is then told the request is
    /// cancelled, and a late answer is dropped). A call cancelled while it waits withdraws
    /// its question the same way (`Parked`).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, String> {
        let Some(session) = self.era.session() else {
            return Err("protocol 2026-07-28 has no server-to-client requests".into());
        };
        if self.out.is_none() {
            return Err("the client did not accept an event stream for this request".into());
        }
        let (id, answer) = {
            let mut session = session.borrow_mut();
            let id = session.next_outgoing_id();
            let answer = session.park(id.clone());
            (id, answer)
        };
        let mut parked = Parked {
            session,
            id: id.clone(),
            peer: self,
            waiting: true,
        };
        self.send(jsonrpc::request(&id, method, params));
        let deadline = self.clock.now_ms() + ANSWER_TIMEOUT_MS;
        // The answer first: one that came before the deadline counts even when the deadline
        // has also passed by the time this is polled.
        let timeout = self.ticker.until(&self.clock, deadline);
        let outcome = futures::future::select(answer, timeout).await;
        parked.waiting = false;
        match outcome {
            Either::Left((Ok(Ok(result)), _)) => Ok(result),
            Either::Left((Ok(Err(error)), _)) => Err(format!(
                "the client answered with an error: {}",
                error.message
            )),
            Either::Left((Err(_), _)) => Err("the session ended".into()),
            Either::Right(_) => {
                let minutes = ANSWER_TIMEOUT_MS / 60_000;
                self.withdraw(&id, &format!("no answer within {minutes} minutes"));
                Err(format!(
                    "the client did not answer within {minutes} minutes, so the question was withdrawn"
                ))
            }
        }
    }

    /// Tells the client that our request `id` is cancelled (basic/utilities/cancellation).
    fn withdraw(&self, id: &RequestId, reason: &str) {
        let params = serde_json::json!({ "requestId": id, "reason": reason });
        self.notify("notifications/cancelled", params);
    }

    /// The `elicitation/create` question for a form of `requested_schema`.
    pub fn form(&self, message: &str, requested_schema: ElicitationSchema) -> Question {
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: message.to_string(),
            requested_schema,
        };
        let mut question = Question::new(InputRequest::Elicitation(ElicitRequest::new(params)));
        if self.version() < ProtocolVersion::V_2025_11_25 {
            // `mode` arrived with 2025-11-25.
            if let Some(Value::Object(p)) = question.wire.get_mut("params") {
                p.remove("mode");
            }
        }
        question
    }

    /// The client's answer to a form of `schema`, checked against it.
    pub fn elicited(&self, schema: &Value, answer: Value) -> Result<Elicited, String> {
        let result: ElicitResult = serde_json::from_value(answer).map_err(|e| {
            self.note("cancel");
            format!("malformed elicitation result: {e}")
        })?;
        Ok(match result.action {
            ElicitationAction::Accept => {
                self.note("accept");
                let content = match result.content {
                    Some(Value::Object(content)) => content,
                    _ => Map::new(),
                };
                Elicited::Accept(super::elicited::conform(schema, content)?)
            }
            ElicitationAction::Decline => {
                self.note("decline");
                Elicited::Decline
            }
            _ => {
                self.note("cancel");
                Elicited::Cancel
            }
        })
    }
}

#[async_trait(?Send)]
impl Peer for RequestPeer {
    fn supports_elicitation(&self) -> bool {
        // A modern client is asked through the result, so it needs no stream.
        let reachable = self.era.is_modern() || self.can_send();
        let supported = reachable && self.era.supports_elicitation();
        if !supported {
            self.note("unsupported");
        }
        supported
    }

    async fn elicit(
        &self,
        message: &str,
        requested_schema: ElicitationSchema,
    ) -> Result<Elicited, String> {
        if !self.supports_elicitation() {
            return Err("This MCP client does not support elicitation (form mode).".into());
        }
        let question = self.form(message, requested_schema);
        // The answer is checked against the schema as sent.
        let requested_schema = question.params()["requestedSchema"].clone();
        self.asked.set(self.asked.get() + 1);
        let key = format!("elicitation_{}", self.asked.get());
        match self.ask(&key, question, false).await {
            Ok(Some(answer)) => self.elicited(&requested_schema, answer),
            Ok(None) => {
                self.note("asked");
                Err("waiting for the client's answer (input required)".into())
            }
            Err(e) => {
                self.note("cancel");
                Err(e)
            }
        }
    }

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        // Progress must strictly increase; a repeat or a step back is dropped.
        if self
            .last_progress
            .get()
            .is_some_and(|last| progress <= last)
        {
            return;
        }
        self.last_progress.set(Some(progress));
        let mut param = ProgressNotificationParam::new(token.clone(), progress);
        param.total = total;
        param.message = message.map(String::from);
        if let Ok(params) = serde_json::to_value(param) {
            self.notify("notifications/progress", params);
        }
    }

    fn log(&self, level: &str, data: Value) {
        let (Some(rank), Some(threshold)) = (log_rank(level), self.era.log_threshold()) else {
            return;
        };
        if rank < threshold {
            return;
        }
        let Ok(level) = serde_json::from_value::<LoggingLevel>(Value::String(level.into())) else {
            return;
        };
        let param = LoggingMessageNotificationParam::new(level, data)
            .with_logger(crate::manifest::MANIFEST.name);
        if let Ok(params) = serde_json::to_value(param) {
            self.notify("notifications/message", params);
        }
    }
}
