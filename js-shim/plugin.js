// scrypted-mcp — the Scrypted plugin class. "Rust decides, JavaScript carries":
// this file only converts Scrypted's HTTP objects to plain data and back, and hands the
// wasm the bridge of js-shim/host.js (host calls and notices, plugin storage, the clock).
//
// Bundled by js-shim/build.mjs into one CommonJS `main.nodejs.js` together with the
// wasm-bindgen glue; the wasm ships beside it in the zip (see ensureWasm). Scrypted
// evaluates that file with injected parameters (systemManager, deviceManager,
// endpointManager, localStorage, console, ...: docs/reference/scrypted-host.md §7) and
// constructs `exports.default`.

import os from 'node:os';
import { initSync, WasmPlugin } from 'scrypted-mcp:wasm-glue';
import { createHost, listenToDevices, message, toPlain } from './host.js';

// Left as a run-time require by js-shim/build.mjs, which writes this module into the zip.
const WASM_MODULE = './scrypted-mcp-wasm.cjs';

/**
 * The managers Scrypted injects as parameters of the evaluated bundle. A free name resolves to
 * that parameter, else to a global of that name; `typeof` keeps a missing one from throwing.
 */
function hostGlobals() {
  return {
    systemManager: typeof systemManager !== 'undefined' ? systemManager : undefined,
    deviceManager: typeof deviceManager !== 'undefined' ? deviceManager : undefined,
    endpointManager: typeof endpointManager !== 'undefined' ? endpointManager : undefined,
    mediaManager: typeof mediaManager !== 'undefined' ? mediaManager : undefined,
    localStorage: typeof localStorage !== 'undefined' ? localStorage : undefined,
  };
}

/**
 * A trap (a Rust panic: the wasm aborts at once, docs/reference/wasm-toolchain.md) leaves the
 * instance unusable: whatever it held stays held (a `RefCell` borrowed at the trap fails every
 * later borrow), and an answer it was working on never comes. A trap inside a call into the
 * wasm throws there; one in a future polled from wasm-bindgen's microtask queue reaches only
 * the process's uncaught exceptions, which Scrypted's plugin worker logs and survives
 * (plugin-remote-worker.ts). So, from the first trap, nothing calls into the wasm again: the
 * answers awaited end with the fallback, open streams end, later requests get the
 * restarting answer, the host bridge goes inert (host.js `disarm`: no host answer or timer
 * wakes the dead instance, nothing it still runs is written), and Scrypted is asked to
 * restart the plugin, which loads a fresh instance from storage. The monitor event only
 * watches: it neither handles the error nor, as a handler would, keeps a process alive that
 * would otherwise exit.
 */
let trapped = null;
/** What the first trap ends: each awaited answer's rejection, each open stream's finish. */
const atTrap = new Set();

/**
 * A trap. Not a stack overflow (`RangeError`): one in the shim's own JavaScript (a request
 * body nested deep enough to overflow `JSON.stringify`) would restart the plugin for
 * anyone who sends one, and the wasm's own parsers limit nesting.
 */
const isTrap = (e) => e instanceof WebAssembly.RuntimeError;

function onTrap(error) {
  if (trapped) return;
  trapped = error;
  console.error('[scrypted-mcp] the plugin\'s wasm stopped (a bug: please report it with this log); asking Scrypted to restart the plugin', error);
  for (const end of atTrap) end(error);
  atTrap.clear();
  Promise.resolve().then(() => hostGlobals().deviceManager.requestRestart())
    .catch((e) => console.error('[scrypted-mcp] the restart request failed; restart the plugin by hand', e));
}

process.on('uncaughtExceptionMonitor', (e) => { if (isTrap(e)) onTrap(e); });

/**
 * The wasm's answer, or a rejection with the trap when the wasm traps first. Registered per
 * answer and dropped once it settles: a race against one promise that lives as long as the
 * process would keep every answer it ever raced in memory.
 */
function unlessTrapped(promise) {
  if (trapped) return Promise.reject(trapped);
  return new Promise((resolve, reject) => {
    atTrap.add(reject);
    promise.then(
      (value) => { atTrap.delete(reject); resolve(value); },
      (e) => { atTrap.delete(reject); reject(e); },
    );
  });
}

/** The wasm's call `fn` made; a trap it throws is seen as one. */
function entering(fn) {
  try {
    return fn();
  } catch (e) {
    if (isTrap(e)) onTrap(e);
    throw e;
  }
}

let wasmReady = false;
/**
 * The wasm is a file in the zip, not base64 inside this script: Scrypted reads, decodes and
 * compiles the whole script at every start, and 2.7 MB of base64 cost ~40 ms of that plus the
 * decode (docs/reference/scrypted-host.md §7). A relative `require` resolves in the unzipped
 * plugin folder (the injected `require`, §7), and that module's `__dirname` is that folder
 * whatever the cwd or thread, so no path is guessed here.
 */
function ensureWasm() {
  if (!wasmReady) {
    initSync({ module: require(WASM_MODULE) });
    wasmReady = true;
  }
}

/**
 * Text for the wasm as its UTF-8 bytes: node's encoder copies it in one go, where a string
 * argument is copied by the wasm-bindgen glue a character at a time (src/wasm/mod.rs `text`).
 */
function utf8(text) {
  return Buffer.from(text, 'utf8');
}

/** Scrypted's `request.body` (§6.2) as the text the wasm expects (as bytes), or null. Bytes go as Buffer-JSON. */
function bodyBytes(body) {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return utf8(body);
  return utf8(JSON.stringify(body instanceof Uint8Array ? Buffer.from(body) : body));
}

/**
 * The body's size as Scrypted delivered it, read without copying or scanning it: a string's
 * length (UTF-16 units, at most its UTF-8 bytes), a Buffer's bytes.
 */
function bodySize(body) {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string' || body instanceof Uint8Array) return body.length;
  return JSON.stringify(body).length;
}

/**
 * A string made well-formed (a lone surrogate becomes U+FFFD): `JSON.stringify` would keep a
 * lone surrogate as an escape that serde_json refuses.
 */
function wellFormed(value) {
  const s = String(value);
  return s.isWellFormed() ? s : s.toWellFormed();
}

/**
 * The request head's JSON, written as UTF-8 into one buffer reused by every request: a JSON
 * text built by `JSON.stringify` over an object of the wanted headers was ~3.4 KB of JS heap
 * a request (the entries' arrays, the object, the text's parts and their flattening, then a
 * copy as bytes), a third of what a request allocated (issue 12, bench/alloc.mjs). Writing
 * the parts straight into bytes allocates nothing; Node's UTF-8 writer makes a lone surrogate
 * U+FFFD, so the bytes are well-formed without a check of each string. The wasm glue copies the
 * bytes into the wasm when it is called, so the buffer is free again once `handle` or `admit`
 * has returned its promise.
 */
const head = { bytes: Buffer.allocUnsafe(4096), at: 0 };

/** Room for `n` more bytes (a larger buffer, the written bytes kept). */
function room(n) {
  if (head.at + n <= head.bytes.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(2 * head.bytes.length, head.at + n));
  head.bytes.copy(bigger, 0, 0, head.at);
  head.bytes = bigger;
}

/** `text` as written, unquoted (a string already escaped as JSON). */
function raw(text) {
  room(3 * text.length);
  head.at += head.bytes.write(text, head.at);
}

// The head's own keys and punctuation as bytes, copied by `part` (TypedArray `set`), as are
// the header names Rust lists (`read.keys`): a `write` of a string is a call into C++, and a
// head made ~25 of them where only its values need one (docs/reference/scrypted-host.md §13).
const PART = Object.fromEntries(Object.entries({
  method: '{"method":', url: ',"url":', rootPath: ',"rootPath":', headers: ',"headers":{',
  comma: ',', colon: ':', username: '},"username":', aclId: ',"aclId":', null: 'null', end: '}',
}).map(([name, text]) => [name, Buffer.from(text, 'latin1')]));

/** One of [PART]'s bytes, written. */
function part(bytes) {
  room(bytes.length);
  head.bytes.set(bytes, head.at);
  head.at += bytes.length;
}

// What a JSON string must escape: `"`, `\` and the control characters.
const ESCAPED = /["\\\u0000-\u001f]/;

/** `value` as a JSON string. */
function str(value) {
  const s = String(value);
  if (ESCAPED.test(s)) return raw(JSON.stringify(wellFormed(s)));
  room(3 * s.length + 2);
  const bytes = head.bytes;
  bytes[head.at++] = 0x22;
  head.at += bytes.write(s, head.at);
  bytes[head.at++] = 0x22;
}

// A listed header's last value per name, as its JSON string's bytes: a client sends the same
// Accept, content type, host and protocol version with every request, and checking and
// encoding each anew (a regular expression and a call into C++) was most of the head's work
// (issue 12). At most one entry per listed name. Not the Authorization header: `===` stops
// at the first character that differs, so comparing a sent token with the last one would
// time how much of a guess matches (Rust compares it in constant time, src/oauth/bearer.rs).
const lastValue = new Map();
const UNKEPT = 'authorization';

/** `value` (a listed header's) as JSON string bytes, made again only when it changed. */
function valueBytes(name, value) {
  const text = String(value);
  const last = lastValue.get(name);
  if (last?.text === text) return last.bytes;
  const mark = head.at;
  str(text);
  const bytes = Buffer.from(head.bytes.subarray(mark, head.at));
  head.at = mark;
  lastValue.set(name, { text, bytes });
  return bytes;
}

/**
 * HttpRequest (§6.4) → the JSON text `{method, url, rootPath, headers, username, aclId}` as
 * UTF-8 bytes (a view of the reused buffer, valid until the next request's head), no body:
 * one crossing into the wasm, which parses it in one go (a JS object would be walked with a
 * crossing per field and header). `read` is Rust's `{names, prefix}` of the headers it reads
 * (WasmPlugin.headersRead, asked once), its names as their keys' bytes: only those are copied.
 */
function headBytes(req, read) {
  head.at = 0;
  part(PART.method);
  str(String(req.method || 'GET').toUpperCase());
  part(PART.url);
  str(req.url || '');
  part(PART.rootPath);
  str(req.rootPath || '');
  part(PART.headers);
  const headers = req.headers || {};
  let first = true;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined || v === null || !Object.hasOwn(headers, k)) continue;
    const name = k.toLowerCase();
    const key = read.keys.get(name);
    if (key === undefined && !name.startsWith(read.prefix)) continue;
    if (!first) part(PART.comma);
    first = false;
    const value = Array.isArray(v) ? v.join(', ') : v;
    if (key !== undefined) {
      part(key);
      if (name === UNKEPT) str(value);
      else part(valueBytes(name, value));
    } else {
      str(name);
      part(PART.colon);
      str(value);
    }
  }
  // As Scrypted filled them; Rust decides what an empty one means (src/oauth/authorize.rs).
  part(PART.username);
  if (req.username == null) part(PART.null);
  else str(req.username);
  part(PART.aclId);
  if (req.aclId == null) part(PART.null);
  else str(req.aclId);
  part(PART.end);
  return head.bytes.subarray(0, head.at);
}

/**
 * The wasm's answer sent: a text answer is one string `"<status> <headers JSON>\n<body>"`
 * (one crossing out of the wasm; JSON text holds no raw newline), a stream `{status, headers,
 * stream}`. The headers JSON is already the object `res.send` takes. The options of the last
 * text answer are kept and sent again while the status and headers text repeat (a session's
 * calls: the same every time), not parsed anew: Scrypted copies them across its RPC and
 * only reads them (server/src/http-interfaces.ts), so they are frozen and shared.
 */
const lastText = { head: undefined, options: undefined };
function respond(out, response) {
  if (typeof out !== 'string') {
    const options = { code: out.status, headers: JSON.parse(out.headers) };
    response.sendStream(pullEvents(out.stream), options);
    return;
  }
  const newline = out.indexOf('\n');
  if (lastText.head === undefined || newline !== lastText.head.length || !out.startsWith(lastText.head)) {
    const space = out.indexOf(' ');
    const headers = Object.freeze(JSON.parse(out.slice(space + 1, newline)));
    lastText.head = out.slice(0, newline);
    lastText.options = Object.freeze({ code: Number(out.slice(0, space)), headers });
  }
  response.send(out.slice(newline + 1), lastText.options);
}

/**
 * EventStream (wasm) → the async generator of Buffers that `res.sendStream` consumes.
 * When the client goes away the host calls `return()` — possibly while the generator waits
 * for the next event, where a plain async generator would queue the request until an event
 * comes. So `return()` closes the stream at once and the pending wait ends; Rust decides
 * what the disconnect means for the work behind the stream (`close()` in src/wasm/mod.rs).
 */
function pullEvents(stream) {
  let closed = false;
  // Ends the wait for the next event, if one is waited for: a fresh promise per event, so
  // nothing of an event is kept once it has been sent.
  let interrupt;
  const finish = () => {
    if (closed) return;
    closed = true;
    atTrap.delete(finish);
    if (trapped) {
      stream.__destroy_into_raw(); // JS only: no finalizer will enter the wasm for it
    } else {
      try { stream.close(); } catch (e) { if (isTrap(e)) onTrap(e); }
      try { stream.free(); } catch (e) { if (isTrap(e)) onTrap(e); }
    }
    interrupt?.(undefined);
  };
  atTrap.add(finish);
  async function* events() {
    try {
      while (!closed) {
        const chunk = await new Promise((resolve, reject) => {
          interrupt = resolve;
          entering(() => stream.next()).then(resolve, reject);
        });
        interrupt = undefined;
        if (chunk === undefined || chunk === null) return;
        yield Buffer.from(chunk, 'utf8');
      }
    } finally {
      finish();
    }
  }
  const generator = events();
  const queuedReturn = generator.return.bind(generator);
  generator.return = (value) => {
    finish();
    return queuedReturn(value);
  };
  return generator;
}

export default class ScryptedMcpPlugin {
  constructor(nativeId) {
    this.nativeId = nativeId;
    ensureWasm();
    const globals = hostGlobals();
    // The plugin's own directory: Scrypted sets it in every plugin process's environment.
    const volume = process.env.SCRYPTED_PLUGIN_VOLUME;
    const bridge = createHost(globals, { nativeId, os, volume });
    this.wasm = new WasmPlugin(bridge);
    atTrap.add(() => {
      bridge.disarm();
      this.wasm.__destroy_into_raw(); // JS only: no finalizer will enter the wasm for it
    });
    // One listener for the plugin's life: Scrypted drops it with our process.
    this.events = listenToDevices(globals.systemManager, (event) => {
      if (!trapped) entering(() => this.wasm.deviceEvent(event));
    });
    // Rust's answer for a request it fails to answer: asked for now, because a wasm trap
    // leaves the instance unable to answer anything afterwards.
    this.fallback = this.wasm.fallbackResponse();
    this.restarting = this.wasm.restartingResponse();
    this.restartingMessage = this.wasm.restartingMessage();
    this.sentWithHead = this.wasm.sentWithHead();
    const read = this.wasm.headersRead();
    // Each listed name with its `"name":` bytes, written as one of headBytes' parts.
    const keys = new Map(read.names.map((name) => [name, Buffer.from(`${JSON.stringify(name)}:`)]));
    this.headersRead = { keys, prefix: read.prefix };
  }

  /**
   * HttpRequestHandler: exactly one `send` or `sendStream` per request. For a body larger
   * than Rust takes unasked, Rust sees the head and the body's size first and may answer
   * at once; only then does the body cross.
   */
  async onRequest(request, response) {
    if (trapped) return respond(this.restarting, response);
    let out;
    try {
      const size = bodySize(request.body);
      // The wasm answers at once when it waited on no host promise, else with a Promise.
      if (size <= this.sentWithHead) {
        out = this.wasm.handle(headBytes(request, this.headersRead), bodyBytes(request.body), size);
        if (out instanceof Promise) out = await unlessTrapped(out);
      } else {
        let head = headBytes(request, this.headersRead);
        out = this.wasm.admit(head, size);
        if (out instanceof Promise) {
          // Kept across the wait: a copy, since the next request's head reuses the buffer.
          head = Buffer.from(head);
          out = await unlessTrapped(out);
        }
        if (!out) {
          if (trapped) throw trapped;
          out = this.wasm.handle(head, bodyBytes(request.body), undefined);
          if (out instanceof Promise) out = await unlessTrapped(out);
        }
      }
    } catch (e) {
      if (isTrap(e)) onTrap(e);
      else console.error('[scrypted-mcp] request failed', e);
      out = this.fallback;
    }
    respond(out, response);
  }

  /** Settings: Rust builds the list. */
  async getSettings() {
    if (trapped) throw new Error(this.restartingMessage);
    try {
      return toPlain(await unlessTrapped(entering(() => this.wasm.getSettings())));
    } catch (e) {
      throw trapped ? new Error(this.restartingMessage) : e;
    }
  }

  /** Settings: Rust validates; a rejection carries its message to the UI. */
  async putSetting(key, value) {
    if (trapped) throw new Error(this.restartingMessage);
    try {
      await unlessTrapped(entering(() => this.wasm.putSetting(String(key), toPlain(value))));
    } catch (e) {
      throw new Error(trapped ? this.restartingMessage : message(e));
    }
  }
}
