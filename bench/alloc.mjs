#!/usr/bin/env node
// JS heap allocated per request by one plugin build, and the young-generation collections
// (scavenges) it causes: on the real host the worker's scavenges are part of the tail that
// the p99 at c=1 lands in (issue 12, docs/reference/scrypted-host.md §13). Not a test;
// deterministic enough to compare two builds from one run each (alternate them anyway).
//
//   node bench/alloc.mjs [--zip dist/plugin.zip] [--point legacy|modern|nohost|floor]
//                        [--warmup 1000] [--requests 4000] [--semi 1] [--profile [--top 25]]
//                        [--time [--thrash MB] [--idle MS]] [--cpu [--thrash MB] [--names] [--top 25]]
//
// The zip is loaded in-process as bench/harness.mjs loads it (bench/fake-host.mjs's managers);
// a token from its own OAuth flow over node:http; then the point's requests are handed to
// `onRequest` directly, one at a time, as Scrypted's HttpRequest objects (a fresh request,
// headers object and body string each: what Scrypted's RPC deserialises), the answer
// checked. No sockets or HTTP parsing in the count. `floor` is the floor plugin's handler
// (a fixed `response.send`), driven the same way: the driver's own share.
// Runs in a child `node --min-semi-space-size=S --max-semi-space-size=S` (S = --semi, MB).
// Printed (one JSON line): bytes/request = JS heap bytes allocated over --requests after
// --warmup (used heap at the end − at the start + what every GC in between freed, from
// v8.GCProfiler), scavenges and mark-compacts per 1,000 requests.
// --profile: a sampling heap profile (inspector HeapProfiler, every 128 B, collected objects
// included) over the same requests instead, the --top sites by bytes/request.
// --time: µs per `onRequest` call instead (wall clock around each call alone, answer
// included), five rounds of --requests. --thrash MB: before each call, not timed, one write
// to every 64-byte line of an MB-sized buffer, so each call starts with its code and data out
// of the CPU caches, as a worker's calls do on the real host at c=1, where the server and
// the load driver run between two of them (docs/reference/scrypted-host.md §13: 16 MB adds
// ~40 µs to a nohost call of ours, ~6 to the floor's; it still did not rank two builds as the
// real host did, docs/reference/wasm-toolchain.md "Size"). --idle MS: before each call, not
// timed, the thread sleeps MS (Atomics.wait), as a worker sleeps between two requests at c=1;
// on a VM whose vCPU then idles, a call costs more by the code and data it touches, not by
// its instructions (docs/reference/scrypted-host.md §13, session z). With --idle, each round
// also reports the median call (the mean is swung by a few very slow calls).
// --cpu: where a request's time goes instead: V8's sampling CPU profiler (asked for every 25 µs) over
// --requests calls (after --warmup), and of the samples inside `onRequest`, the share of a few
// parts of the request path (the audit row's append, the bearer check, the head, the
// arguments' hash, the tool itself; the allocator, serde_json and B-tree code as self time)
// and the --top functions by self time. With --thrash the calls run cold, the thrashing
// itself outside `onRequest`. --names profiles this checkout's build with the wasm's function
// names kept (bench/names.mjs; without it Rust's functions are `wasm-function[N]`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import inspector from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { commandLine } from '../scripts/lib.mjs';
import { obtainTokens } from '../tests/js/helpers/oauth.mjs';
import { PLUGIN_ROOT, loadWithFakeHost } from './fake-host.mjs';
import { nodeHandler } from './ts-reference/scrypted-response.mjs';
import { namesZip } from './names.mjs';
import { POINTS } from './points.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const string = { type: 'string' };
const args = commandLine(import.meta.url, {
  zip: string, point: string, warmup: string, requests: string, semi: string, profile: { type: 'boolean' }, top: string,
  time: { type: 'boolean' }, thrash: string, idle: string, cpu: { type: 'boolean' }, names: { type: 'boolean' },
}, ['warmup', 'requests', 'semi', 'top', 'thrash', 'idle']);
const ZIP = path.resolve(args.zip ?? path.join(BENCH, '../dist/plugin.zip'));
const POINT = args.point ?? 'legacy';
const WARMUP = Number(args.warmup ?? 1000);
const REQUESTS = Number(args.requests ?? 4000);
const SEMI = Number(args.semi ?? 1);
if (POINT !== 'floor' && !POINTS[POINT]) throw new Error(`--point: one of floor, ${Object.keys(POINTS).join(', ')}`);
if (args.thrash !== undefined && !args.time && !args.cpu) throw new Error('--thrash: only with --time or --cpu (it evicts the caches before each call)');
if (args.idle !== undefined && !args.time) throw new Error('--idle: only with --time (the thread sleeps before each timed call)');
if (args.names && (!args.cpu || args.zip !== undefined)) throw new Error('--names: only with --cpu, and it profiles this checkout\'s build (no --zip)');

if (!process.env.SCRYPTED_MCP_ALLOC_CHILD) {
  const names = args.names ? fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-names-')) : undefined;
  const zip = names ? ['--zip', await namesZip(names)] : [];
  const r = spawnSync(
    process.execPath,
    [`--min-semi-space-size=${SEMI}`, `--max-semi-space-size=${SEMI}`, fileURLToPath(import.meta.url), ...process.argv.slice(2).filter((a) => a !== '--names'), ...zip],
    { env: { ...process.env, SCRYPTED_MCP_ALLOC_CHILD: '1' }, stdio: 'inherit' },
  );
  if (names) fs.rmSync(names, { recursive: true, force: true });
  process.exit(r.status ?? 1);
}

// ---- the child: the plugin in this process
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-alloc-'));
process.env.SCRYPTED_PLUGIN_VOLUME = work;
const PORT = 18390 + (process.pid % 100);
const MODERN = '2026-07-28';
const LEGACY = '2025-06-18';
// The options a point passes to bench/load.mjs, read the same way.
const pointArgs = POINT === 'floor' ? [] : POINTS[POINT].args;
const pointOpt = (name, fallback) => (pointArgs.includes(name) ? pointArgs[pointArgs.indexOf(name) + 1] : fallback);
const modern = pointArgs.includes('--modern');
const tool = pointOpt('--tool', 'get_server_info');
const toolArgs = pointOpt('--args', '{}');
const expect = pointOpt('--expect', '0.144.2');

// The floor plugin's whole handler (@floor/trivial-plugin on the real host, §13).
const FLOOR_BODY = JSON.stringify({
  result: { content: [{ type: 'text', text: '{"version":"0.144.2"}' }], structuredContent: { version: '0.144.2' } },
  jsonrpc: '2.0',
  id: 0,
});
const floor = { async onRequest(_request, response) { response.send(FLOOR_BODY, { headers: { 'Content-Type': 'application/json' } }); } };

let plugin = floor;
let loaded;
let token = 'none';
if (POINT !== 'floor') {
  ({ loaded } = await loadWithFakeHost(ZIP, { port: PORT }));
  plugin = loaded.instance;
  const server = http.createServer(nodeHandler(plugin, PLUGIN_ROOT));
  await new Promise((resolve) => server.listen(PORT, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${PORT}${PLUGIN_ROOT}`;
  ({ tokens: { access_token: token } } = await obtainTokens({ url: (p) => base + p, mcpUrl: `${base}/mcp` }, 'login_user_token_insecure=bench', { scope: 'scrypted:admin' }));
  server.close();
  server.closeAllConnections();
}

// The headers node:http hands Scrypted for bench/load.mjs's requests, in its order.
let headerTemplate = {
  host: `127.0.0.1:${PORT}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: `Bearer ${token}`,
  'mcp-protocol-version': modern ? MODERN : LEGACY,
  ...(modern ? { 'mcp-method': 'tools/call', 'mcp-name': tool } : {}),
  connection: 'keep-alive',
};

/** One request through `onRequest`: resolves to {status, headers, body} as `send` got them. */
function call(body) {
  return new Promise((resolve, reject) => {
    const request = {
      url: `${PLUGIN_ROOT}/mcp`,
      method: 'POST',
      headers: { ...headerTemplate, 'content-length': String(Buffer.byteLength(body)) },
      body,
      rootPath: PLUGIN_ROOT,
      isPublicEndpoint: true,
    };
    const response = {
      send: (text, options = {}) => resolve({ status: options.code ?? 200, headers: options.headers ?? {}, body: String(text) }),
      sendStream: () => reject(new Error('a stream answer: this bench expects JSON')),
    };
    plugin.onRequest(request, response).catch(reject);
  });
}

const meta = modern
  ? `,"_meta":{"io.modelcontextprotocol/protocolVersion":"${MODERN}","io.modelcontextprotocol/clientInfo":{"name":"perf-load","version":"1.0.0"},"io.modelcontextprotocol/clientCapabilities":{}}`
  : '';
if (POINT !== 'floor' && !modern) {
  const init = await call(JSON.stringify({
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'perf-load', version: '1.0.0' } },
  }));
  const sid = init.headers['mcp-session-id'] ?? init.headers['Mcp-Session-Id'];
  if (init.status !== 200 || !sid) throw new Error(`initialize: ${init.status} ${init.body.slice(0, 200)}`);
  headerTemplate = { ...headerTemplate, 'mcp-session-id': sid };
  const note = await call('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  if (note.status !== 202 && note.status !== 200) throw new Error(`notifications/initialized: ${note.status}`);
}

function inspectorSession() {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  return { post, session };
}

const CPU_SAMPLE_US = 25;

// --cpu's parts of the request path, each a test of a sample's stack (innermost frame first):
// what runs inside one of these frames, or (the `self` ones) the innermost frame itself.
// Names from a --names build; a part whose functions were renamed shows 0.
const PARTS = {
  'audit row append (the write)': (stack) => stack.includes('volumeAppend'),
  'bearer check': (stack) => stack.some((f) => f.includes('oauth::bearer::authenticate_at')),
  'head (headBytes in JS, parse_head in Rust)': (stack) => stack.some((f) => f === 'headBytes' || f.includes('wasm::parse_head')),
  'arguments hash': (stack) => stack.some((f) => f.includes('audit::args_hash')),
  'the tool itself': (stack) => stack.some((f) => f.startsWith(`scrypted_mcp::tools::`) && f.includes(`::${tool}::`)),
  'allocator (self)': (stack) => stack[0].startsWith('talc::'),
  'serde_json (self)': (stack) => stack[0].includes('serde_json::'),
  'B-tree maps (self)': (stack) => stack[0].startsWith('alloc::collections::btree'),
};

/**
 * Of a CPU profile's samples inside `onRequest`: how many (V8 takes fewer than one per
 * interval, so they give shares, not times: --time gives those), each PART's share, the top
 * self times.
 */
function cpuShares(profile, top) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  let inside = 0;
  const parts = Object.fromEntries(Object.keys(PARTS).map((k) => [k, 0]));
  const self = new Map();
  for (const [id, n] of counts) {
    const stack = [];
    for (let x = id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x).callFrame.functionName || '(anonymous)');
    if (!stack.includes('onRequest')) continue;
    inside += n;
    for (const [k, test] of Object.entries(PARTS)) if (test(stack)) parts[k] += n;
    self.set(stack[0], (self.get(stack[0]) ?? 0) + n);
  }
  const share = (n) => (inside ? Math.round((1000 * n) / inside) / 10 : 0);
  return {
    onRequestSamples: inside,
    sharePercent: Object.fromEntries(Object.entries(parts).map(([k, n]) => [k, share(n)])),
    topSelfPercent: [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, n]) => [share(n), f.replace(/::h[0-9a-f]{16}$/, '')]),
  };
}

// --thrash: the buffer whose lines evict the caches before each call.
const thrash = new Uint8Array(Number(args.thrash ?? 0) * 2 ** 20);
function evictCaches() {
  for (let at = 0; at < thrash.length; at += 64) thrash[at]++;
}

// --idle: how long the thread sleeps before each call.
const IDLE_MS = Number(args.idle ?? 0);
const sleeper = new Int32Array(new SharedArrayBuffer(4));

let nextId = 1;
let callMs = 0; // wall time inside the calls of `run`, for --time
let callTimes; // each call's µs, for --idle's median
async function run(n) {
  for (let i = 0; i < n; i++) {
    const id = nextId++;
    if (thrash.length) evictCaches();
    if (IDLE_MS) Atomics.wait(sleeper, 0, 0, IDLE_MS);
    const start = performance.now();
    const answer = await call(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${tool}","arguments":${toolArgs}${meta}}}`);
    if (answer.status !== 200 || (POINT !== 'floor' && !answer.body.includes(expect))) {
      throw new Error(`request ${id}: ${answer.status} ${answer.body.slice(0, 300)}`);
    }
    const ms = performance.now() - start;
    callMs += ms;
    callTimes?.push(ms * 1000);
  }
}

await run(WARMUP);
const result = { zip: POINT === 'floor' ? null : ZIP, point: POINT, requests: REQUESTS, semiSpaceMB: SEMI };
if (args.time) {
  result.thrashMB = thrash.length / 2 ** 20;
  result.usPerCall = [];
  if (IDLE_MS) Object.assign(result, { idleMs: IDLE_MS, medianUsPerCall: [] });
  for (let round = 0; round < 5; round++) {
    callMs = 0;
    callTimes = IDLE_MS ? [] : undefined;
    await run(REQUESTS);
    result.usPerCall.push(Math.round((callMs * 10_000) / REQUESTS) / 10);
    if (callTimes) result.medianUsPerCall.push(Math.round(10 * callTimes.sort((a, b) => a - b)[callTimes.length >> 1]) / 10);
  }
} else if (args.cpu) {
  const { post, session } = inspectorSession();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: CPU_SAMPLE_US });
  await post('Profiler.start');
  await run(REQUESTS);
  const { profile } = await post('Profiler.stop');
  session.disconnect();
  result.thrashMB = thrash.length / 2 ** 20;
  Object.assign(result, cpuShares(profile, Number(args.top ?? 25)));
} else if (args.profile) {
  const { post, session } = inspectorSession();
  await post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await run(REQUESTS);
  const { profile } = await post('HeapProfiler.stopSampling');
  session.disconnect();
  // Self bytes by site: function (file:line:column), summed over the call tree.
  const sites = new Map();
  const walk = (node) => {
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url || '') || '(native)'}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
    if (node.selfSize) sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  result.sampledBytesPerRequest = Math.round(total / REQUESTS);
  result.sites = [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top ?? 25))
    .map(([site, bytes]) => ({ site, bytesPerRequest: Math.round(bytes / REQUESTS) }));
} else {
  const profiler = new v8.GCProfiler();
  const start = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  await run(REQUESTS);
  const end = v8.getHeapStatistics().used_heap_size;
  const { statistics } = profiler.stop();
  const freed = statistics.reduce((sum, s) => sum + s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize, 0);
  const count = (type) => statistics.filter((s) => s.gcType === type).length;
  result.bytesPerRequest = Math.round((end - start + freed) / REQUESTS);
  result.scavengesPer1000 = Math.round((count('Scavenge') * 1000 * 10) / REQUESTS) / 10;
  result.markCompactsPer1000 = Math.round((count('MarkSweepCompact') * 1000 * 10) / REQUESTS) / 10;
}
console.log(JSON.stringify(result));
if (loaded) fs.rmSync(loaded.dir, { recursive: true, force: true });
fs.rmSync(work, { recursive: true, force: true });
process.exit(0);
