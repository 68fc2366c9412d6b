//! The legacy era (2025-03-26 … 2025-11-25): `initialize` opens a session, every later
//! POST names it, DELETE ends it (docs/reference/mcp-protocol.md §1.1).

use super::era::Era;
use super::jsonrpc::{self, rpc_error, Message};
use super::peer::{Call, RequestPeer};
use super::scopes::caller;
use super::server;
use super::session::{self, Owner, SessionRef, ANSWER_EVENT_PREFIX};
use super::session_id;
use super::stream::{self, Exchange, Start, Work};
use crate::http::{Disconnect, Request, Response};
use crate::oauth::AccessClaims;
use crate::Ctx;
use futures::channel::mpsc;
use futures::future::{join_all, AbortHandle, Abortable, LocalBoxFuture};
use futures::FutureExt;
use rmcp::model::{ErrorData, ProtocolVersion, RequestId};
use serde_json::Value;
use std::rc::Rc;

/// Messages one 2025-03-26 batch may hold. Every request in it leaves an audit entry and
/// runs at once; a client with more to say sends more POSTs.
pub const MAX_BATCH: usize = 50;

fn owner(claims: &AccessClaims) -> Owner<'_> {
    Owner {
        sub: &claims.sub,
        client_id: &claims.client_id,
    }
}

/// The session a non-initialize request names, or the answer to send instead.
fn find_session(
    ctx: &Ctx,
    req: &Request,
    claims: &AccessClaims,
    now: u64,
) -> Result<SessionRef, Response> {
    let Some(id) = req.header("mcp-session-id") else {
        return Err(rpc_error(
            400,
            -32000,
            "Bad Request: Mcp-Session-Id header is required",
        ));
    };
    let id = id.trim();
    // Another subject's or client's session answers exactly like an unknown one; one we
    // no longer hold (idle, reload, restart) is revived from its signed id.
    ctx.mcp
        .sessions
        .lookup(id, owner(claims), now)
        .or_else(|| session_id::revive(ctx, id, claims, now))
        .ok_or_else(|| rpc_error(404, -32001, "Session not found"))
}

pub fn delete(ctx: &Ctx, req: &Request, claims: &AccessClaims, now: u64) -> Response {
    match find_session(ctx, req, claims, now) {
        Ok(session) => {
            let (id, get_stream) = {
                let s = session.borrow();
                (s.id.clone(), s.get_stream)
            };
            ctx.mcp.sessions.remove(&id);
            session_id::end(ctx, &id);
            // Its GET stream ends with it.
            if let Some(listener) = get_stream {
                ctx.mcp.listeners.close(listener);
            }
            Response::new(204)
        }
        Err(response) => response,
    }
}

/// GET: the session's stream of resource updates (`updates`); 406 unless the client
/// takes an event stream.
/// The methods a legacy session's endpoint serves (the `Allow` of its 405s).
pub const ALLOW: &str = "GET, POST, DELETE";

pub fn get(ctx: &Rc<Ctx>, req: &Request, claims: &AccessClaims, now: u64) -> Response {
    let session = match find_session(ctx, req, claims, now) {
        Ok(session) => session,
        Err(response) => return response,
    };
    if !req.accepts_event_stream() {
        return rpc_error(
            406,
            -32000,
            "Not Acceptable: the GET stream is text/event-stream; send Accept: text/event-stream",
        );
    }
    // A client resuming a POST's stream that ended without its answer (one it cancelled,
    // or one cut). Nothing is kept to replay, and opening the GET stream here would end the
    // session's live one, which the client then reopens, ending this one, and so on; 405 is
    // the answer that makes clients stop.
    let resumes_answer = req
        .header("last-event-id")
        .is_some_and(|id| id.trim().starts_with(ANSWER_EVENT_PREFIX));
    if resumes_answer {
        return rpc_error(
            405,
            -32000,
            "Method Not Allowed: a request's event stream cannot be resumed here (nothing is replayed); send the request again if its answer is still wanted",
        )
        .header("allow", ALLOW);
    }
    super::updates::open(ctx, req, claims, &session)
}

pub async fn post(
    ctx: &Rc<Ctx>,
    req: &Request,
    claims: &AccessClaims,
    now: u64,
    parsed: Value,
) -> Response {
    let (batch, raw) = match parsed {
        Value::Array(items) => (true, items),
        single => (false, vec![single]),
    };
    if !batch {
        if let Ok(Message::Request { id, method, params }) = jsonrpc::parse_message(raw[0].clone())
        {
            if method == "initialize" {
                return initialize(ctx, claims, now, &id, &params);
            }
        }
    } else if req.header("mcp-session-id").is_none() && raw.iter().any(is_initialize) {
        // Without a session this would otherwise read as "session id missing", which
        // sends the client looking for the wrong mistake.
        let error = ErrorData::invalid_request(
            "Invalid request: initialize must not be part of a JSON-RPC batch",
            None,
        );
        return Response::json(400, &jsonrpc::error(None, &error));
    }
    if let Err(response) = check_version_header(req) {
        return response;
    }
    let session = match find_session(ctx, req, claims, now) {
        Ok(session) => session,
        Err(response) => return response,
    };
    if batch {
        let version = session.borrow().version.clone();
        if version != ProtocolVersion::V_2025_03_26 || raw.is_empty() {
            let why = if raw.is_empty() {
                "Invalid request: empty batch".to_string()
            } else {
                format!("Invalid request: batches are not part of protocol {version}")
            };
            let error = ErrorData::invalid_request(why, None);
            return Response::json(400, &jsonrpc::error(None, &error));
        }
        if raw.len() > MAX_BATCH {
            let error = ErrorData::invalid_request(
                format!(
                    "Invalid request: a batch holds at most {MAX_BATCH} messages and this one has {}; nothing in it was run. Send the rest in further POSTs.",
                    raw.len()
                ),
                None,
            );
            return Response::json(400, &jsonrpc::error(None, &error));
        }
    }

    // Before anything of the POST takes effect: a batch with one call beyond the token's
    // scope is refused whole.
    if let Err(response) = super::scopes::check(ctx, req, claims, &raw).await {
        return response;
    }
    let (requests, answered) = match sort(&session, raw, batch) {
        Ok(sorted) => sorted,
        Err(response) => return response,
    };
    if requests.is_empty() && answered.is_empty() {
        return Response::new(202);
    }
    serve(ctx, req, claims, session, requests, answered, batch).await
}

fn is_initialize(message: &Value) -> bool {
    message.get("method").and_then(Value::as_str) == Some("initialize")
}

type Pending = Vec<(RequestId, String, Value)>;

/// Applies notifications and the client's answers at once; returns the requests to serve
/// and the error responses already decided (malformed batch entries).
fn sort(
    session: &SessionRef,
    raw: Vec<Value>,
    batch: bool,
) -> Result<(Pending, Vec<Value>), Response> {
    let mut answered = Vec::new();
    let mut requests = Vec::new();
    for message in raw {
        match jsonrpc::parse_message(message) {
            Err(invalid) if !batch => {
                return Err(Response::json(
                    400,
                    &jsonrpc::error(invalid.id.as_ref(), &invalid.error),
                ))
            }
            Err(invalid) => answered.push(jsonrpc::error(invalid.id.as_ref(), &invalid.error)),
            Ok(Message::Notification { method, params }) => {
                server::notify(session, &method, &params)
            }
            Ok(Message::Response { id, outcome }) => {
                // A late answer (its waiter gone) is accepted and dropped.
                session.borrow_mut().answer(&id, outcome);
            }
            Ok(Message::Request { id, method, params }) => requests.push((id, method, params)),
        }
    }
    Ok((requests, answered))
}

/// Runs the requests; JSON when they finish without emitting anything, else SSE.
async fn serve(
    ctx: &Rc<Ctx>,
    req: &Request,
    claims: &AccessClaims,
    session: SessionRef,
    requests: Pending,
    mut answered: Vec<Value>,
    batch: bool,
) -> Response {
    let streaming = req.accepts_event_stream();
    let (tx, rx) = mpsc::unbounded();
    let caller = caller(claims);
    let handlers: Vec<LocalBoxFuture<'static, Option<Value>>> = requests
        .into_iter()
        .map(|(id, method, params)| {
            let out = streaming.then(|| tx.clone());
            let peer = Rc::new(RequestPeer::new(
                ctx,
                Era::Legacy(session.clone()),
                out,
                &params,
            ));
            let call = Rc::new(Call {
                ctx: ctx.clone(),
                caller: caller.clone(),
                grant_id: claims.grant_id.clone(),
                peer,
            });
            run_request(call, session.clone(), id, method, params).boxed_local()
        })
        .collect();
    drop(tx);
    let work: Work = async move {
        answered.extend(join_all(handlers).await.into_iter().flatten());
        answered
    }
    .boxed_local();

    let pace = streaming.then_some((ctx, stream::LEGACY));
    match Exchange::new(work, rx).start(pace).await {
        (Start::Done(responses), _) => json_answer(responses, batch),
        (Start::Streaming(exchange), keep_alive) => Response::event_stream(
            Box::pin(exchange.into_legacy_sse(session, keep_alive)),
            Disconnect::Finish,
        ),
    }
}

fn json_answer(mut responses: Vec<Value>, batch: bool) -> Response {
    match responses.len() {
        // Every request was cancelled: there is nothing to answer.
        0 => Response::new(202),
        1 if !batch => Response::json(200, &responses.remove(0)),
        _ => Response::json(200, &Value::Array(responses)),
    }
}

fn initialize(
    ctx: &Ctx,
    claims: &AccessClaims,
    now: u64,
    id: &RequestId,
    params: &Value,
) -> Response {
    match server::initialize(params) {
        Ok((version, capabilities, result)) => {
            let minted = session_id::mint(ctx, claims, &version, &capabilities);
            ctx.mcp
                .sessions
                .create(minted.clone(), owner(claims), version, capabilities, now);
            Response::json(200, &jsonrpc::result(id, result)).header("mcp-session-id", minted)
        }
        Err(error) => Response::json(200, &jsonrpc::error(Some(id), &error)),
    }
}

/// Serves one request; `None` when it was cancelled (a cancelled request gets no answer).
async fn run_request(
    call: Rc<Call>,
    session: SessionRef,
    id: RequestId,
    method: String,
    params: Value,
) -> Option<Value> {
    let (handle, registration) = AbortHandle::new_pair();
    let started = session.borrow_mut().start(id.clone(), handle);
    let Some(run) = started else {
        let error = ErrorData::invalid_request("Invalid request: this id is already in use", None);
        return Some(jsonrpc::error(Some(&id), &error));
    };
    let _in_flight = InFlight {
        session: &session,
        id: &id,
        run,
    };
    match Abortable::new(
        server::dispatch(call.clone(), &method, params),
        registration,
    )
    .await
    {
        Ok(Ok(result)) => Some(jsonrpc::result(&id, result)),
        Ok(Err(error)) => Some(jsonrpc::error(Some(&id), &error)),
        Err(_aborted) => None,
    }
}

/// Unregisters a request however it ends, dropped streams included.
struct InFlight<'a> {
    session: &'a SessionRef,
    id: &'a RequestId,
    run: u64,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.session.borrow_mut().finish(self.id, self.run);
    }
}

/// An unsupported `MCP-Protocol-Version` is 400 on every legacy request after
/// `initialize`; an absent one is accepted (2025-03-26 clients do not send it).
pub(super) fn check_version_header(req: &Request) -> Result<(), Response> {
    match req.header("mcp-protocol-version") {
        Some(version) if session::supported(version.trim()).is_none() => Err(rpc_error(
            400,
            -32000,
            &format!("Bad Request: unsupported MCP-Protocol-Version: {version}"),
        )),
        _ => Ok(()),
    }
}
