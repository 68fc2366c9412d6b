//! Multi round-trip requests (2026-07-28 basic/patterns/mrtr.mdx): how a modern client
//! is asked for input. A tool (or prompt, or resource) that needs an answer asks for it
//! under a key; without one the request ends with an `InputRequiredResult` listing what
//! was asked, and the client retries the same request with `inputResponses` and the
//! `requestState` we gave it. The retry runs the handler again from the start, and this
//! time the answer is there.
//!
//! `requestState` is attacker-controlled input that decides whether a restore runs, so
//! it is signed (HMAC-SHA256 under a key in plugin storage, `crypto`) and binds what the
//! spec's server requirement 5 lists: the OAuth client and user, the method and its
//! target (tool, prompt or URI), a keyed hash of the exact arguments, and an expiry. It
//! also binds each answer to the exact question it answers (a digest of the request we
//! sent): an answer counts only for the question it was given to, so a dialog cannot be
//! skipped by answering a key the server never asked, and the confirmation shown (size
//! and checksum of a backup) is the one confirmed. The payload is signed, not encrypted:
//! it holds nothing the client does not already know. Each state is also single-use
//! (the spec's warning under requirement 5): a restore confirmed once cannot be replayed
//! by sending the same retry again, which a one-shot restore (its chunk in the
//! arguments) would otherwise allow for ten minutes.

use crate::audit;
use crate::crypto;
use crate::tools::Caller;
use crate::Ctx;
use rmcp::model::{ClientCapabilities, ErrorData, InputRequest, InputRequiredResult};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// How long a client has to answer (then retry) before the state is refused.
pub const STATE_TTL_MS: u64 = 10 * 60 * 1000;
/// Storage key of the HMAC key that signs `requestState`.
pub const STATE_SECRET_KEY: &str = "mcp.state_secret";
/// The methods that may answer with an `InputRequiredResult` ("Supported Requests").
pub const METHODS: [&str; 3] = ["tools/call", "prompts/get", "resources/read"];

/// What a signed `requestState` says (field names kept short: it travels on every retry).
/// Read back by `store::record` (one reader for every record type, issue 12); host builds
/// keep serde's derive to compare.
#[derive(Serialize, Clone, PartialEq, Debug)]
#[cfg_attr(not(target_arch = "wasm32"), derive(serde::Deserialize))]
struct State {
    /// OAuth client and user (`sub`) it was issued to.
    c: String,
    u: String,
    /// Method and its target: the tool or prompt name, or the resource URI.
    m: String,
    t: String,
    /// Keyed hash of the arguments (`audit::args_hash`).
    a: String,
    /// Expiry, Unix ms.
    e: u64,
    /// Questions of the last round awaiting an answer: key → digest of the request.
    q: BTreeMap<String, String>,
    /// Answers accepted in earlier rounds: key → [digest of the question, answer].
    r: BTreeMap<String, (String, Value)>,
    /// Random id, remembered once the state is used.
    n: String,
    /// The id of the process that issued it ([`Spent`]'s `boot`).
    b: String,
}

crate::fields::args!(State {
    c: required,
    u: required,
    m: required,
    t: required,
    a: required,
    e: required,
    q: required,
    r: required,
    n: required,
    b: required,
});

/// The states already used, until they expire: (id, expiry in Unix ms). A list, not a
/// map: every spend already walks it to drop the expired, the cap bounds it, and a
/// `BTreeMap<String, u64>` was its own copy of the B-tree code in the wasm (issue 12).
/// It lives in memory, so each state names the process that issued it (`boot`, random per
/// process): one used before a restart is not taken again after it, when the list is gone.
pub struct Spent {
    used: RefCell<Vec<(String, u64)>>,
    boot: String,
}

impl Default for Spent {
    fn default() -> Self {
        Spent {
            used: RefCell::default(),
            boot: crypto::random_token(),
        }
    }
}

/// States used within one expiry window that we remember; more are refused until some
/// expire (each took an authenticated request, so only a misbehaving client gets here).
const MAX_SPENT: usize = 4096;

impl Spent {
    fn spend(&self, id: &str, expiry: u64, now: u64) -> Result<(), ErrorData> {
        let mut spent = self.used.borrow_mut();
        spent.retain(|(_, until)| *until > now);
        if spent.iter().any(|(used, _)| used == id) {
            return Err(refused(
                "it was already used; each requestState answers once",
            ));
        }
        if spent.len() >= MAX_SPENT {
            return Err(ErrorData::invalid_params(
                "Too many input rounds are in progress; try again in a few minutes.",
                None,
            ));
        }
        spent.push((id.to_string(), expiry));
        Ok(())
    }
}

/// The request an MRTR round belongs to, as the binding sees it.
struct Origin {
    client: String,
    user: String,
    method: String,
    target: String,
    /// Hashed (`args_hash`) only when a round needs it, which most requests never do.
    arguments: Value,
}

impl Origin {
    fn args_hash(&self, ctx: &Ctx) -> String {
        audit::args_hash(&*ctx.store, &self.arguments)
    }

    fn of(caller: &Caller, method: &str, params: &Value) -> Origin {
        let field = if method == "resources/read" {
            "uri"
        } else {
            "name"
        };
        Origin {
            client: caller.client_id.clone(),
            user: caller.sub.clone(),
            method: method.to_string(),
            target: params
                .get(field)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            arguments: params
                .get("arguments")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        }
    }
}

/// The answers one modern request carries, and the questions its handler asked that
/// have none yet.
pub struct Inputs {
    origin: Origin,
    capabilities: ClientCapabilities,
    /// Bound answers: key → (question digest, answer).
    answered: BTreeMap<String, (String, Value)>,
    /// This request's `inputResponses` as sent, for unbound questions (fixtures only).
    sent: BTreeMap<String, Value>,
    /// Questions asked during this run that have no answer: (key, question), each key
    /// once. A list (a run asks a few): a `BTreeMap<String, Question>` was its own copy of
    /// the B-tree code in the wasm (issue 12); `input_required` builds the maps it sends.
    pending: RefCell<Vec<(String, Question)>>,
}

/// One question for the client: rmcp's typed request (what `inputRequests` lists) and
/// the JSON that is sent and digested. It is built from the typed request and never
/// parsed back: deserialising `InputRequest` (an untagged enum of three internally
/// tagged requests, all through serde's buffering `Content`) was 159 KB of the wasm.
#[derive(Clone)]
pub struct Question {
    pub typed: InputRequest,
    /// `{method, params}` as sent; a legacy session may get an older shape of it
    /// (`RequestPeer::form`), the typed request is only listed to modern clients.
    pub wire: Value,
}

impl Question {
    pub fn new(typed: InputRequest) -> Question {
        let wire = serde_json::to_value(&typed).unwrap_or(Value::Null);
        Question { typed, wire }
    }

    pub fn method(&self) -> &str {
        self.wire["method"].as_str().unwrap_or("")
    }

    /// The params as sent (`{}` for a request without params, such as `roots/list`).
    pub fn params(&self) -> Value {
        self.wire
            .get("params")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()))
    }

    fn digest(&self) -> String {
        crypto::sha256_hex(crate::http::json_text(&self.wire).as_bytes())
    }
}

fn refused(why: impl std::fmt::Display) -> ErrorData {
    ErrorData::invalid_params(
        format!("Invalid requestState: {why}. Nothing was run; send the request again without requestState and inputResponses to start over."),
        None,
    )
}

impl Inputs {
    /// Reads a modern request's `inputResponses` and verifies its `requestState`. `Err`
    /// (-32602) when either is malformed, or the state fails verification or belongs to
    /// another client, user, request or arguments, or has expired: nothing runs then.
    pub fn read(
        ctx: &Ctx,
        caller: &Caller,
        capabilities: &ClientCapabilities,
        method: &str,
        params: &Value,
    ) -> Result<Inputs, ErrorData> {
        let sent = match params.get("inputResponses") {
            None => BTreeMap::new(),
            Some(Value::Object(map)) => {
                for (key, answer) in map {
                    if !answer.is_object() {
                        return Err(ErrorData::invalid_params(
                            format!("Invalid params: inputResponses[\"{key}\"] must be the client's result object for that input request"),
                            None,
                        ));
                    }
                }
                crate::order::map(map.clone())
            }
            Some(_) => {
                return Err(ErrorData::invalid_params(
                    "Invalid params: inputResponses must be an object keyed like the inputRequests it answers",
                    None,
                ))
            }
        };
        let origin = Origin::of(caller, method, params);
        let mut answered = BTreeMap::new();
        match params.get("requestState") {
            None => {}
            Some(Value::String(token)) => {
                let state = open(ctx, token)?;
                let now = ctx.clock.now_ms();
                check(ctx, &state, &origin, now)?;
                ctx.mcp.spent.spend(&state.n, state.e, now)?;
                answered = state.r;
                for (key, digest) in state.q {
                    if let Some(answer) = sent.get(&key) {
                        answered.insert(key, (digest, answer.clone()));
                    }
                }
            }
            Some(_) => return Err(refused("it must be the string the server sent")),
        }
        Ok(Inputs {
            origin,
            capabilities: capabilities.clone(),
            answered,
            sent,
            pending: RefCell::default(),
        })
    }

    /// The answer to `question` under `key`, if the client gave one to this very
    /// question; otherwise records the question and returns `None`.
    /// `unbound` also takes an answer sent without a state that asked for it (only the
    /// conformance fixtures, whose scenarios send such answers, use it).
    pub fn answer(&self, key: &str, question: &Question, unbound: bool) -> Option<Value> {
        let digest = question.digest();
        match self.answered.get(key) {
            Some((asked, answer)) if *asked == digest => return Some(answer.clone()),
            _ if unbound => {
                if let Some(answer) = self.sent.get(key) {
                    return Some(answer.clone());
                }
            }
            _ => {}
        }
        let mut pending = self.pending.borrow_mut();
        match pending.iter_mut().find(|(asked, _)| asked == key) {
            Some((_, earlier)) => *earlier = question.clone(),
            None => pending.push((key.to_string(), question.clone())),
        }
        None
    }

    /// Whether the client declared what `method` needs (requirement 7: never ask for
    /// an input the client cannot give).
    pub fn can_ask(&self, method: &str) -> bool {
        let caps = &self.capabilities;
        match method {
            "elicitation/create" => caps.elicitation.is_some(),
            "sampling/createMessage" => caps.sampling.is_some(),
            "roots/list" => caps.roots.is_some(),
            _ => false,
        }
    }

    pub fn awaiting(&self) -> bool {
        !self.pending.borrow().is_empty()
    }

    /// The `InputRequiredResult` asking for every pending question, with a new state
    /// that carries the answers so far; `None` when nothing is pending.
    pub fn input_required(&self, ctx: &Ctx) -> Option<InputRequiredResult> {
        let pending = self.pending.borrow();
        if pending.is_empty() {
            return None;
        }
        let mut requests = BTreeMap::new();
        let mut asked = BTreeMap::new();
        for (key, question) in pending.iter() {
            requests.insert(key.clone(), question.typed.clone());
            asked.insert(key.clone(), question.digest());
        }
        let state = State {
            c: self.origin.client.clone(),
            u: self.origin.user.clone(),
            m: self.origin.method.clone(),
            t: self.origin.target.clone(),
            a: self.origin.args_hash(ctx),
            e: ctx.clock.now_ms() + STATE_TTL_MS,
            q: asked,
            r: self.answered.clone(),
            n: crypto::b64url(&crypto::random_bytes(16)),
            b: ctx.mcp.spent.boot.clone(),
        };
        Some(InputRequiredResult::new(
            Some(requests),
            Some(seal(ctx, &state)),
        ))
    }
}

fn mac(ctx: &Ctx, payload: &str) -> String {
    let key = crypto::stored_secret(&*ctx.store, STATE_SECRET_KEY);
    crypto::b64url(&crypto::hmac_sha256(&key, &["mcp-request-state", payload]))
}

fn seal(ctx: &Ctx, state: &State) -> String {
    let payload = crypto::b64url(serde_json::to_string(state).unwrap_or_default().as_bytes());
    let tag = mac(ctx, &payload);
    format!("{payload}.{tag}")
}

fn open(ctx: &Ctx, token: &str) -> Result<State, ErrorData> {
    let forged = || refused("it was modified or was not issued by this server");
    let (payload, tag) = token.split_once('.').ok_or_else(forged)?;
    if !crypto::constant_time_eq(mac(ctx, payload).as_bytes(), tag.as_bytes()) {
        return Err(forged());
    }
    crypto::b64url_record(payload).ok_or_else(forged)
}

fn check(ctx: &Ctx, state: &State, origin: &Origin, now: u64) -> Result<(), ErrorData> {
    if state.c != origin.client || state.u != origin.user {
        return Err(refused("it was issued to another client or user"));
    }
    if state.m != origin.method || state.t != origin.target {
        return Err(refused(format!(
            "it was issued for {} {}, not this request",
            state.m, state.t
        )));
    }
    if !crypto::constant_time_eq(state.a.as_bytes(), origin.args_hash(ctx).as_bytes()) {
        return Err(refused(
            "it was issued for other arguments; a retry must repeat the arguments exactly",
        ));
    }
    if state.b != ctx.mcp.spent.boot {
        return Err(refused("it was issued before this server restarted"));
    }
    if now >= state.e {
        return Err(refused(format!(
            "it expired ({} minutes after it was issued)",
            STATE_TTL_MS / 60_000
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request state reads back as serde's derive read it, with answers of every kind.
    #[test]
    fn state_reads_as_its_derive_did() {
        let state = |questions: &[&str], answers: &[(&str, Value)]| State {
            c: "c1".into(),
            u: "admin".into(),
            m: "tools/call".into(),
            t: "restore_backup".into(),
            a: "YXJncw".into(),
            e: 1_764_000_600_000,
            q: questions
                .iter()
                .map(|k| (k.to_string(), format!("d-{k}")))
                .collect(),
            r: answers
                .iter()
                .map(|(k, v)| (k.to_string(), (format!("d-{k}"), v.clone())))
                .collect(),
            n: "bm9uY2U".into(),
            b: "Ym9vdA".into(),
        };
        crate::store::tests::reads_as_derive(&state(&[], &[]));
        crate::store::tests::reads_as_derive(&state(
            &["confirm"],
            &[
                (
                    "a",
                    serde_json::json!({"action": "accept", "content": {"ok": true}}),
                ),
                ("b", Value::Null),
            ],
        ));
    }
}
