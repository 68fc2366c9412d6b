//! The client as one in-flight request sees it: notifications travel on that request's
//! event stream; in a legacy session, so do server-to-client requests, whose answers
//! come back by a later POST (2026-07-28 has no such requests: `request` refuses).

#![allow(deprecated)] // rmcp marks logging and sampling deprecated for 2026-07-28.

use super::era::Era;
use super::jsonrpc;
use super::session::{log_rank, SessionRef};
use crate::tools::{Elicited, Peer};
use async_trait::async_trait;
use futures::channel::mpsc::UnboundedSender;
use rmcp::model::{
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema, ErrorData,
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, RequestId,
};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};

pub struct RequestPeer {
    era: Era,
    /// `None` when the client cannot take an event stream: nothing can be sent then.
    out: Option<UnboundedSender<Value>>,
    progress_token: Option<ProgressToken>,
    last_progress: Cell<Option<f64>>,
    /// What the last elicitation came to, for the audit trail.
    elicitation: RefCell<Option<&'static str>>,
}

/// Forgets a parked request when its waiter goes away (cancelled, stream dropped).
struct Parked<'a> {
    session: &'a SessionRef,
    id: RequestId,
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.session.borrow_mut().unpark(&self.id);
    }
}

impl RequestPeer {
    /// `params` are the request's params: `_meta.progressToken` enables progress.
    pub fn new(era: Era, out: Option<UnboundedSender<Value>>, params: &Value) -> Self {
        let progress_token = params
            .pointer("/_meta/progressToken")
            .and_then(jsonrpc::parse_id)
            .map(ProgressToken);
        RequestPeer {
            era,
            out,
            progress_token,
            last_progress: Cell::new(None),
            elicitation: RefCell::new(None),
        }
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

    /// Sends a request to the client on this stream and waits for the answering POST
    /// (legacy sessions only: 2026-07-28 forbids requests on a response stream).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, ErrorData> {
        let Some(session) = self.era.session() else {
            return Err(ErrorData::internal_error(
                "protocol 2026-07-28 has no server-to-client requests",
                None,
            ));
        };
        if self.out.is_none() {
            return Err(ErrorData::internal_error(
                "the client did not accept an event stream for this request",
                None,
            ));
        }
        let (id, answer) = {
            let mut session = session.borrow_mut();
            let id = session.next_outgoing_id();
            let answer = session.park(id.clone());
            (id, answer)
        };
        let _parked = Parked {
            session,
            id: id.clone(),
        };
        self.send(jsonrpc::request(&id, method, params));
        match answer.await {
            Ok(outcome) => outcome,
            Err(_) => Err(ErrorData::internal_error("the session ended", None)),
        }
    }
}

#[async_trait(?Send)]
impl Peer for RequestPeer {
    fn supports_elicitation(&self) -> bool {
        let supported = self.can_send() && self.era.supports_elicitation();
        if !supported {
            self.note("unsupported");
        }
        supported
    }

    async fn elicit(&self, message: &str, requested_schema: Value) -> Result<Elicited, String> {
        if !self.supports_elicitation() {
            return Err("This MCP client does not support elicitation (form mode).".into());
        }
        let asked = requested_schema.clone();
        let requested_schema: ElicitationSchema = serde_json::from_value(requested_schema)
            .map_err(|e| format!("invalid elicitation schema: {e}"))?;
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: message.to_string(),
            requested_schema,
        };
        let mut params = serde_json::to_value(params).map_err(|e| e.to_string())?;
        if self.version() < ProtocolVersion::V_2025_11_25 {
            // `mode` arrived with 2025-11-25.
            if let Value::Object(p) = &mut params {
                p.remove("mode");
            }
        }
        let answer = self
            .request("elicitation/create", params)
            .await
            .map_err(|e| {
                self.note("cancel");
                format!(
                    "The client answered the elicitation with an error: {}",
                    e.message
                )
            })?;
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
                Elicited::Accept(super::elicited::conform(&asked, content)?)
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
            .with_logger(crate::manifest::MANIFEST.name.clone());
        if let Ok(params) = serde_json::to_value(param) {
            self.notify("notifications/message", params);
        }
    }
}
