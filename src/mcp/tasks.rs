//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) for 2026-07-28
//! clients that declare it on a request: the long tools (`TASK_TOOLS`) answer with a task
//! handle at once (`CreateTaskResult`), and `tasks/get` reports its status, then inlines
//! the tool's result; `tasks/cancel` stops it; clients that do not declare the extension
//! get the plain call, and the `tasks/*` methods refuse them with -32021.
//!
//! No task is spawned: a task is the tool's own future, kept here and polled once when
//! it is created and once on every `tasks/get` (the architecture runs a request's work
//! inside an answer, `mcp/stream.rs`; a task is that work with the answer split in two).
//! Host calls are JS promises that settle on their own, so each poll finds the step
//! before done and starts the next; a client polling at `pollIntervalMs` drives the tool
//! through at that pace. A task belongs to the OAuth client and user that made it:
//! anyone else's `tasks/get` finds no such task.
//!
//! A tool that asks for input does so before it becomes a task (MRTR composition): the
//! first poll ends in an `InputRequiredResult`, and the retry with the answer creates the
//! task. Tasks therefore never wait in `input_required`, and `tasks/update` has nothing to
//! deliver: it acknowledges and ignores the answers, as the extension asks for unknown keys.

use super::jsonrpc;
use super::server::Call;
use crate::tools::Caller;
use crate::Ctx;
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use rmcp::model::{
    CallToolResult, ClientCapabilities, CreateTaskResult, DetailedTask, ErrorData, GetTaskResult,
    ServerResult, Task, TaskAckResult, TaskPayload, TaskStatus,
};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::task::{Context, Poll};

pub const EXTENSION: &str = "io.modelcontextprotocol/tasks";
/// The tools that run as tasks for clients that declare the extension.
pub const TASK_TOOLS: [&str; 4] = [
    "install_plugin",
    "update_plugins",
    "create_backup",
    "restore_backup",
];
/// How long a task (and its result) can be fetched after it was created.
pub const TASK_TTL_MS: u64 = 60 * 60 * 1000;
/// How often clients should poll: each poll also drives the task (module comment).
pub const POLL_INTERVAL_MS: u64 = 500;
/// Tasks kept at once; the oldest finished one makes room, else a new one runs plainly.
const MAX_TASKS: usize = 64;

type Work = LocalBoxFuture<'static, Result<CallToolResult, ErrorData>>;

enum Progress {
    Running(Work),
    Done(TaskPayload),
}

struct Entry {
    owner: Caller,
    created_ms: u64,
    updated_ms: u64,
    progress: Progress,
}

#[derive(Default)]
pub struct Tasks(RefCell<BTreeMap<String, Entry>>);

/// Whether this `tools/call` becomes a task for the request's client: one of the long
/// tools, and of restore_backup only the final step (the one with `sha256`; staging a
/// chunk is quick).
pub fn wanted(params: &Value, declared: &ClientCapabilities) -> bool {
    let name = params.get("name").and_then(Value::as_str).unwrap_or("");
    let final_step = name != "restore_backup" || params.pointer("/arguments/sha256").is_some();
    TASK_TOOLS.contains(&name) && final_step && declared.supports_tasks()
}

fn polled(work: &mut Work) -> Option<TaskPayload> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
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

fn iso(ms: u64) -> String {
    crate::settings::utc(ms, "%Y-%m-%dT%H:%M:%S%.3fZ")
}

impl Entry {
    fn task(&self, id: &str) -> Task {
        let status = match &self.progress {
            Progress::Running(_) => TaskStatus::Working,
            Progress::Done(payload) => payload.status(),
        };
        let mut task = Task::new(id, status, iso(self.created_ms), iso(self.updated_ms))
            .with_ttl_ms(TASK_TTL_MS)
            .with_poll_interval_ms(POLL_INTERVAL_MS);
        if status == TaskStatus::Working {
            task = task.with_status_message("running");
        }
        task
    }

    fn drive(&mut self, now: u64) {
        if let Progress::Running(work) = &mut self.progress {
            if let Some(done) = polled(work) {
                self.progress = Progress::Done(done);
                self.updated_ms = now;
            }
        }
    }
}

impl Tasks {
    fn prune(&self, now: u64) {
        self.0
            .borrow_mut()
            .retain(|_, e| now.saturating_sub(e.created_ms) < TASK_TTL_MS);
    }
}

/// Starts `call`'s tools/call as a task, and polls it once: a tool that asked for input
/// is answered plainly instead (the transport turns that into an `InputRequiredResult`).
pub async fn start(call: Rc<Call>, params: Value) -> Result<ServerResult, ErrorData> {
    let ctx = call.ctx.clone();
    let now = ctx.clock.now_ms();
    let owner = call.caller.clone();
    let worker = call.clone();
    let mut work: Work = async move { super::calls::call(&worker, &params).await }.boxed_local();
    let first = polled(&mut work);
    if call.peer.awaiting_input() {
        // MRTR first: the confirmation happens before the task exists.
        return Ok(ServerResult::CallToolResult(CallToolResult::success(
            vec![],
        )));
    }
    let tasks = &ctx.mcp.tasks;
    tasks.prune(now);
    let id = crate::crypto::random_token();
    let entry = Entry {
        owner,
        created_ms: now,
        updated_ms: now,
        progress: match first {
            Some(done) => Progress::Done(done),
            None => Progress::Running(work),
        },
    };
    let task = entry.task(&id);
    {
        let mut map = tasks.0.borrow_mut();
        if map.len() >= MAX_TASKS {
            let finished = map
                .iter()
                .filter(|(_, e)| matches!(e.progress, Progress::Done(_)))
                .min_by_key(|(_, e)| e.created_ms)
                .map(|(k, _)| k.clone());
            match finished {
                Some(oldest) => {
                    map.remove(&oldest);
                }
                None => {
                    return Err(ErrorData::internal_error(
                        format!("{MAX_TASKS} tasks are running; try again when one finishes"),
                        None,
                    ))
                }
            }
        }
        map.insert(id, entry);
    }
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
        let required: ClientCapabilities =
            serde_json::from_value(serde_json::json!({ "extensions": { EXTENSION: {} } }))
                .unwrap_or_default();
        return Err(ErrorData::missing_required_client_capability(required));
    }
    let id = task_id(params)?;
    let now = ctx.clock.now_ms();
    let tasks = &ctx.mcp.tasks;
    tasks.prune(now);
    let mut map = tasks.0.borrow_mut();
    let entry = map
        .get_mut(&id)
        .filter(|e| e.owner == *caller)
        .ok_or_else(|| unknown(&id))?;
    match method {
        "tasks/get" => {
            entry.drive(now);
            let payload = match &entry.progress {
                Progress::Running(_) => TaskPayload::Working,
                Progress::Done(payload) => payload.clone(),
            };
            let task = entry.task(&id);
            Ok(ServerResult::GetTaskResult(GetTaskResult::new(
                DetailedTask::new(task, payload),
            )))
        }
        "tasks/cancel" => {
            // Dropping the future stops the tool between two steps; a finished task stays as it is.
            if matches!(entry.progress, Progress::Running(_)) {
                entry.progress = Progress::Done(TaskPayload::Cancelled);
                entry.updated_ms = now;
            }
            Ok(ServerResult::TaskAckResult(TaskAckResult::new()))
        }
        // "tasks/update": our tasks never wait for input (module comment).
        _ => {
            let _ = jsonrpc::params::<serde_json::Map<String, Value>>(params)?;
            Ok(ServerResult::TaskAckResult(TaskAckResult::new()))
        }
    }
}
