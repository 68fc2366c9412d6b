//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) for 2026-07-28
//! clients that declare it on a request: the long tools (`support`) answer with a task
//! handle at once (`CreateTaskResult`), and `tasks/get` reports its status, then inlines
//! the tool's result; `tasks/update` answers what a running task asks; `tasks/cancel`
//! stops it; clients that do not declare the extension get the plain call (or -32021
//! for a tool that can only run as a task), and the `tasks/*` methods refuse them with
//! -32021.
//!
//! A task is the tool's own future, kept here. It is polled when it is created, on
//! every `tasks/get` and `tasks/update`, and by the task pump (`pump`, spawned once by
//! the wasm glue like the event pump): every poll uses the pump's waker, so when a host
//! call of the tool settles (a JS promise) the pump polls the task again, and the work
//! goes on to its end whether or not its client polls meanwhile (a client that stopped
//! polling finds the result later). Without a running pump (the Rust tests, unless they
//! drive it) a task advances only when polled. A task belongs to the OAuth client and
//! user (and scope) that made it: anyone else's `tasks/get` finds no such task.
//!
//! Input comes two ways, as the extension separates them. What decides whether to
//! proceed (restore_backup's confirmation) is asked before the task exists: the first
//! poll ends in an `InputRequiredResult` (MRTR), and the retry with the answer creates
//! the task. What a tool needs while working is asked after `RequestPeer::escalate`
//! made it a task: the question waits in the task's inbox (`task_input`), the task is
//! `input_required` and lists it on `tasks/get`, and `tasks/update` delivers the answer.
//!
//! Whenever what `tasks/get` shows changes (status, outstanding questions), listeners that
//! named the task on `subscriptions/listen` (`listened`) get it as `notifications/tasks`.

use super::peer::Call;
use super::subscriptions::Change;
use super::task_input::Inbox;
use crate::oauth::{self, Scope};
use crate::tools::Caller;
use crate::Ctx;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use rmcp::model::{
    CallToolResult, ClientCapabilities, CreateTaskResult, DetailedTask, ErrorData, GetTaskResult,
    ServerResult, Task, TaskAckResult, TaskPayload,
};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The extension's id, as rmcp names it (`supports_tasks` looks for the same key).
pub use rmcp::model::TASKS_EXTENSION_ID as EXTENSION;
/// How long a task (and its result) can be fetched after it was created.
pub const TASK_TTL_MS: u64 = 60 * 60 * 1000;
/// How often clients should poll: each poll also drives the task (module comment).
pub const POLL_INTERVAL_MS: u64 = 500;
/// Tasks kept at once; the oldest finished one makes room, else a new call runs plainly
/// (or, for a tool that runs only as a task, is refused before it runs).
const MAX_TASKS: usize = 64;

/// How a tool takes to running as a task.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Support {
    /// A task for clients that declare the extension, a plain call for the others.
    Optional,
    /// Only as a task: clients without the extension get -32021.
    Required,
}

/// The product's long tools: each runs as a task for clients that declare the extension.
const PRODUCT: [&str; 4] = [
    "install_plugin",
    "update_plugins",
    "create_backup",
    "restore_backup",
];

/// How `name` runs as a task; `None` for a tool that always answers plainly.
pub fn support(name: &str) -> Option<Support> {
    if PRODUCT.contains(&name) {
        return Some(Support::Optional);
    }
    #[cfg(feature = "conformance-fixtures")]
    if let Some(support) = super::fixtures::task_support(name) {
        return Some(support);
    }
    None
}

/// What a client that did not declare `declared`'s extension lacks to call `name`: the
/// extension, for a tool that runs only as a task (SEP-2663 "Capability Negotiation").
pub fn missing_capabilities(
    name: &str,
    declared: &ClientCapabilities,
) -> Option<ClientCapabilities> {
    (support(name) == Some(Support::Required) && !declared.supports_tasks())
        .then(required_capabilities)
}

fn required_capabilities() -> ClientCapabilities {
    serde_json::from_value(json!({ "extensions": { EXTENSION: {} } })).unwrap_or_default()
}

/// The task ids a `subscriptions/listen` request names (`notifications.taskIds`) that it
/// is served: the caller's own live tasks (an unknown or another client's id is left out of
/// the acknowledgement, as if it did not exist). Asking without the extension is -32021,
/// as SEP-2663 requires; a `taskIds` that is not a list of strings is -32602.
pub fn listened(
    ctx: &Ctx,
    caller: &Caller,
    params: &Value,
    declared: &ClientCapabilities,
) -> Result<Vec<String>, ErrorData> {
    let Some(asked) = params.pointer("/notifications/taskIds") else {
        return Ok(Vec::new());
    };
    if !declared.supports_tasks() {
        return Err(ErrorData::missing_required_client_capability(
            required_capabilities(),
        ));
    }
    let asked: Vec<String> = serde_json::from_value(asked.clone()).map_err(|_| {
        ErrorData::invalid_params(
            "Invalid params: notifications.taskIds must be a list of task ids (strings)",
            None,
        )
    })?;
    let tasks = &ctx.mcp.tasks;
    tasks.prune(ctx.clock.now_ms());
    let map = tasks.entries.borrow();
    let mut own: Vec<String> = Vec::new();
    for id in asked {
        let theirs = map.iter().any(|(k, e)| *k == id && e.owner == *caller);
        if theirs && !own.contains(&id) {
            own.push(id);
        }
    }
    Ok(own)
}

/// Whether this `tools/call` becomes a task for the request's client: a tool that runs as
/// a task, and of restore_backup only the final step (the one with `sha256`; staging a
/// chunk is quick).
pub fn wanted(params: &Value, declared: &ClientCapabilities) -> bool {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let final_step = name != "restore_backup" || params.pointer("/arguments/sha256").is_some();
    support(name).is_some() && final_step && declared.supports_tasks()
}

type Work = LocalBoxFuture<'static, Result<CallToolResult, ErrorData>>;

enum Progress {
    Running(Work),
    Done(TaskPayload),
}

struct Entry {
    owner: Caller,
    /// The grant of the token that started it ([`Call::grant_id`]).
    grant_id: String,
    /// The scope its tool needs ([`super::calls::scope_of`]).
    needed: Scope,
    created_ms: u64,
    updated_ms: u64,
    progress: Progress,
    inbox: Rc<Inbox>,
}

#[derive(Default)]
pub struct Tasks {
    /// `(task id, entry)`: at most `MAX_TASKS`, so a list looked up by a scan; a map would
    /// be one more copy of the B-tree code in the wasm.
    entries: RefCell<Vec<(String, Entry)>>,
    /// The task pump's waker, once the pump runs (`pump`).
    pump: RefCell<Option<Waker>>,
}

fn polled(work: &mut Work, waker: &Waker) -> Option<TaskPayload> {
    let mut cx = Context::from_waker(waker);
    match work.as_mut().poll(&mut cx) {
        Poll::Pending => None,
        Poll::Ready(outcome) => Some(payload(outcome)),
    }
}

/// A tool error (`isError`) is still a completed task; `failed` is for protocol errors.
fn payload(outcome: Result<CallToolResult, ErrorData>) -> TaskPayload {
    let object = |v: Value| match v {
        Value::Object(map) => map,
        _ => Default::default(),
    };
    match outcome {
        Ok(result) => TaskPayload::Completed {
            result: object(super::wire::modern(ServerResult::CallToolResult(result))),
        },
        Err(error) => TaskPayload::Failed {
            error: object(serde_json::to_value(&error).unwrap_or_default()),
        },
    }
}

/// RFC 3339 in UTC with milliseconds: `2026-11-21T11:29:41.250Z`.
pub fn iso(ms: u64) -> String {
    let t = crate::utc::Utc::at(ms);
    format!("{}.{:03}Z", t.written("-", "T", ":"), t.milli)
}

impl Entry {
    /// Stops a running task: dropping its future stops the tool between two steps (and
    /// audits the call as cancelled). A finished task stays as it is. Whether it ran.
    fn cancel(&mut self, now: u64) -> bool {
        if !matches!(self.progress, Progress::Running(_)) {
            return false;
        }
        self.progress = Progress::Done(TaskPayload::Cancelled);
        self.inbox.close();
        self.updated_ms = now;
        true
    }

    /// The task's status and what goes with it, as `tasks/get` shows them.
    fn detailed(&self) -> TaskPayload {
        match &self.progress {
            Progress::Done(payload) => payload.clone(),
            Progress::Running(_) => {
                let input_requests = self.inbox.outstanding();
                if input_requests.is_empty() {
                    TaskPayload::Working
                } else {
                    TaskPayload::InputRequired { input_requests }
                }
            }
        }
    }

    fn task(&self, id: &str) -> Task {
        let payload = self.detailed();
        let mut task = Task::new(
            id,
            payload.status(),
            iso(self.created_ms),
            iso(self.updated_ms),
        )
        .with_ttl_ms(TASK_TTL_MS)
        .with_poll_interval_ms(POLL_INTERVAL_MS);
        let message = match &payload {
            TaskPayload::Working => Some("running".to_string()),
            TaskPayload::InputRequired { .. } => {
                Some("waiting for input: answer inputRequests with tasks/update".to_string())
            }
            // The extension asks failed tasks to say why in statusMessage too.
            TaskPayload::Failed { error } => error
                .get("message")
                .and_then(Value::as_str)
                .map(String::from),
            _ => None,
        };
        if let Some(message) = message {
            task = task.with_status_message(message);
        }
        task
    }

    /// Whether the authority the task started with still stands ([`oauth::grant_allows`]).
    fn allowed(&self, ctx: &Ctx) -> bool {
        oauth::grant_allows(ctx, &self.grant_id, self.needed)
    }

    /// Polls a running task; whether what `tasks/get` shows changed (status or questions).
    /// One whose authority no longer stands stops before its next step.
    fn drive(&mut self, ctx: &Ctx, now: u64, waker: &Waker) -> bool {
        let before = self.detailed();
        if !self.allowed(ctx) {
            self.cancel(now);
        } else if let Progress::Running(work) = &mut self.progress {
            if let Some(done) = polled(work, waker) {
                self.progress = Progress::Done(done);
                self.inbox.close();
            }
        }
        let changed = self.detailed() != before;
        if changed {
            self.updated_ms = now;
        }
        changed
    }

    /// `notifications/tasks` for the listeners that named this task: the `DetailedTask`
    /// `tasks/get` would answer now.
    fn announce(&self, ctx: &Ctx, id: &str) {
        let detailed = DetailedTask::new(self.task(id), self.detailed());
        if let Ok(task) = serde_json::to_value(detailed) {
            let id = id.to_string();
            super::publish(ctx, Change::TaskStatus { id, task });
        }
    }
}

impl Tasks {
    /// What every poll of a task wakes: the pump, or nothing while none runs.
    fn waker(&self) -> Waker {
        self.pump
            .borrow()
            .clone()
            .unwrap_or_else(|| futures::task::noop_waker_ref().clone())
    }

    /// Polls every running task, announcing those whose state changed.
    fn drive_all(&self, ctx: &Ctx, now: u64, waker: &Waker) {
        for (id, entry) in self.entries.borrow_mut().iter_mut() {
            if entry.drive(ctx, now, waker) {
                entry.announce(ctx, id);
            }
        }
    }

    /// Cancels the running tasks of the owners `doomed` names, as `tasks/cancel` does:
    /// their access was revoked (Revoke all, or their app's), so what they started stops
    /// at once, as their sessions' calls do, even a task waiting on a host call that never
    /// returns. A task whose grant ends otherwise stops at its next step (`Entry::drive`).
    pub(crate) fn cancel_where(&self, ctx: &Ctx, doomed: impl Fn(&Caller) -> bool) {
        self.cancel_entries(ctx, |entry| doomed(&entry.owner));
    }

    /// Cancels the running tasks whose authority Settings just took away (read-only mode,
    /// an app's lowered scope: [`Entry::allowed`]), at once, as a revoke does.
    pub(crate) fn cancel_unallowed(&self, ctx: &Ctx) {
        self.cancel_entries(ctx, |entry| !entry.allowed(ctx));
    }

    /// Cancels the running tasks `doomed` picks; listeners that named one hear of it.
    fn cancel_entries(&self, ctx: &Ctx, doomed: impl Fn(&Entry) -> bool) {
        let now = ctx.clock.now_ms();
        for (id, entry) in self.entries.borrow_mut().iter_mut() {
            if doomed(entry) && entry.cancel(now) {
                entry.announce(ctx, id);
            }
        }
    }

    fn prune(&self, now: u64) {
        self.entries
            .borrow_mut()
            .retain(|(_, e)| now.saturating_sub(e.created_ms) < TASK_TTL_MS);
    }

    /// Room for one more task: the oldest finished one goes if need be. `Err` when all
    /// are still running (before the new call runs anything).
    fn make_room(&self, ctx: &Ctx, now: u64) -> Result<(), ErrorData> {
        self.prune(now);
        if self.entries.borrow().len() < MAX_TASKS {
            return Ok(());
        }
        // Without a pump, tasks advance when polled: one nobody polled may be done.
        self.drive_all(ctx, now, &self.waker());
        let mut map = self.entries.borrow_mut();
        let finished = map
            .iter()
            .enumerate()
            .filter(|(_, (_, e))| matches!(e.progress, Progress::Done(_)))
            .min_by_key(|(_, (_, e))| e.created_ms)
            .map(|(at, _)| at);
        match finished {
            Some(oldest) => {
                map.remove(oldest);
                Ok(())
            }
            None => Err(ErrorData::internal_error(
                format!("{MAX_TASKS} tasks are running; nothing was run. Try again when one finishes (tasks/get shows them), or cancel one with tasks/cancel."),
                None,
            )),
        }
    }
}

/// Starts `call`'s tools/call as a task, and polls it once: a tool that asked for input
/// before it escalated is answered plainly instead (the transport turns that into an
/// `InputRequiredResult`), as is every call while `MAX_TASKS` are running.
pub async fn start(call: Rc<Call>, params: Value) -> Result<ServerResult, ErrorData> {
    let ctx = call.ctx.clone();
    let now = ctx.clock.now_ms();
    let tasks = &ctx.mcp.tasks;
    if let Err(full) = tasks.make_room(&ctx, now) {
        let name = params.get("name").and_then(Value::as_str).unwrap_or("");
        if support(name) != Some(Support::Optional) {
            return Err(full);
        }
        // No room for a task: the call runs plainly, as for a client without the extension.
        let result = super::calls::call(&call, params).await?;
        return Ok(ServerResult::CallToolResult(result));
    }
    let owner = call.caller.clone();
    let needed = params
        .get("name")
        .and_then(Value::as_str)
        .and_then(super::calls::scope_of)
        .unwrap_or(Scope::Admin);
    let worker = call.clone();
    call.peer.offer_task();
    let mut work: Work = async move { super::calls::call(&worker, params).await }.boxed_local();
    let first = polled(&mut work, &tasks.waker());
    if call.peer.awaiting_input() {
        // MRTR first: the confirmation happens before the task exists.
        return Ok(ServerResult::CallToolResult(CallToolResult::success(
            vec![],
        )));
    }
    let inbox = Rc::new(Inbox::default());
    call.peer.became_task(inbox.clone());
    let id = crate::crypto::random_token();
    let entry = Entry {
        owner,
        grant_id: call.grant_id.clone(),
        needed,
        created_ms: now,
        updated_ms: now,
        progress: match first {
            Some(done) => Progress::Done(done),
            None => Progress::Running(work),
        },
        inbox,
    };
    let task = entry.task(&id);
    tasks.entries.borrow_mut().push((id, entry));
    Ok(ServerResult::CreateTaskResult(CreateTaskResult::new(task)))
}

fn task_id(params: &Value) -> Result<String, ErrorData> {
    params
        .get("taskId")
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| {
            ErrorData::invalid_params("Invalid params: taskId (a string) is required", None)
        })
}

/// `tasks/update`'s answers: an object of result objects, as MRTR's `inputResponses`.
fn input_responses(params: &Value) -> Result<Map<String, Value>, ErrorData> {
    let invalid = |why: String| {
        ErrorData::invalid_params(
            format!("Invalid params: {why}; nothing was delivered"),
            None,
        )
    };
    let Some(Value::Object(responses)) = params.get("inputResponses") else {
        return Err(invalid(
            "inputResponses (an object keyed like the task's inputRequests) is required".into(),
        ));
    };
    if let Some((key, _)) = responses.iter().find(|(_, answer)| !answer.is_object()) {
        return Err(invalid(format!(
            "inputResponses[\"{key}\"] must be the client's result object for that input request"
        )));
    }
    Ok(responses.clone())
}

fn unknown(id: &str) -> ErrorData {
    ErrorData::invalid_params(
        format!("Unknown task: {id} (it expired, or belongs to another client or user)"),
        None,
    )
}

/// `tasks/get`, `tasks/update` and `tasks/cancel` for the caller's own tasks.
pub fn method(
    ctx: &Ctx,
    caller: &Caller,
    declared: &ClientCapabilities,
    method: &str,
    params: &Value,
) -> Result<ServerResult, ErrorData> {
    if !declared.supports_tasks() {
        return Err(ErrorData::missing_required_client_capability(
            required_capabilities(),
        ));
    }
    let id = task_id(params)?;
    let now = ctx.clock.now_ms();
    let tasks = &ctx.mcp.tasks;
    tasks.prune(now);
    let waker = tasks.waker();
    let mut map = tasks.entries.borrow_mut();
    let entry = map
        .iter_mut()
        .find(|(k, e)| *k == id && e.owner == *caller)
        .map(|(_, e)| e)
        .ok_or_else(|| unknown(&id))?;
    match method {
        "tasks/get" => {
            if entry.drive(ctx, now, &waker) {
                entry.announce(ctx, &id);
            }
            let task = entry.task(&id);
            Ok(ServerResult::GetTaskResult(GetTaskResult::new(
                DetailedTask::new(task, entry.detailed()),
            )))
        }
        "tasks/update" => {
            let responses = input_responses(params)?;
            if matches!(entry.progress, Progress::Running(_)) {
                // Answering changes what tasks/get shows even before the tool goes on.
                let before = entry.detailed();
                entry.inbox.deliver(responses);
                entry.drive(ctx, now, &waker);
                if entry.detailed() != before {
                    entry.updated_ms = now;
                    entry.announce(ctx, &id);
                }
            }
            Ok(ServerResult::TaskAckResult(TaskAckResult::new()))
        }
        // "tasks/cancel".
        _ => {
            if entry.cancel(now) {
                entry.announce(ctx, &id);
            }
            Ok(ServerResult::TaskAckResult(TaskAckResult::new()))
        }
    }
}

/// The task pump: polls every running task each time one of them can go on (its waker
/// is the one every task poll registers, `Tasks::waker`). Runs for the plugin's life
/// (`Plugin::pump_tasks`, which the wasm glue spawns).
pub async fn pump(ctx: Rc<Ctx>) {
    futures::future::poll_fn(|cx| {
        let tasks = &ctx.mcp.tasks;
        *tasks.pump.borrow_mut() = Some(cx.waker().clone());
        tasks.drive_all(&ctx, ctx.clock.now_ms(), cx.waker());
        Poll::<()>::Pending
    })
    .await
}
