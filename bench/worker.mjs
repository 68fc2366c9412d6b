#!/usr/bin/env node
// node bench/worker.mjs — where one process's CPU goes per request: a plugin's worker on a
// real Scrypted (docs/reference/scrypted-host.md §13), or bench/harness.mjs. It drives the
// process with bench/load.mjs and reports, per answered request:
//
//   threads  each live thread's CPU (/proc/<pid>/task/*/schedstat), the main thread first:
//            which thread the time is on (the JS thread, or V8's GC and compiler helpers)
//   profile  (--profile) a second run under V8's sampling profiler, attached through the
//            inspector that SIGUSR1 opens in the process (closed again afterwards): the main
//            thread's busy time by kind (the wasm, the plugin's JS, Scrypted's RPC, node's
//            modules, native functions such as the IPC channel's writeBuffer, GC) and the
//            top functions by self time. The profiler samples on a wall clock, so time the
//            thread spends descheduled inside a call (a write that wakes the server, on a
//            busy machine) is charged to that call; the threads' figures are CPU time only
//
//   node bench/worker.mjs --pid P --url <MCP URL> --token T [--point nohost]
//   node bench/worker.mjs --pid P --raw <floor URL> [--token T] [--point nohost]
//
// --point legacy|modern|nohost is bench/points.mjs's call (the floor is sent the same request
// and any 200 counts, as in npm run bench). Options: --concurrency N (1), --duration S (6),
// --profile, --interval µs (50: the sampling interval), --port N (9229: the inspector port
// SIGUSR1 opens, node's default), --top N (15), --json. Run it on one process at a time: a
// second inspector cannot open on the same port while the first is open.
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { commandLine } from '../scripts/lib.mjs';
import { loadPoint, threadTimes } from './drive.mjs';
import { POINTS } from './points.mjs';

const string = { type: 'string' };
const args = commandLine(import.meta.url, {
  pid: string, url: string, raw: string, token: string, point: string, concurrency: string,
  duration: string, profile: { type: 'boolean' }, interval: string, port: string, top: string,
  json: { type: 'boolean' },
}, ['pid', 'concurrency', 'duration', 'interval', 'port', 'top']);

function refuse(message) {
  console.error(`bench/worker.mjs: ${message}\n(node bench/worker.mjs --help lists the options)`);
  process.exit(2);
}

const PID = Number(args.pid);
const POINT = args.point ?? 'nohost';
const PORT = Number(args.port ?? 9229);
const TOP = Number(args.top ?? 15);
if (!args.pid) refuse('--pid is required: the process to measure (a plugin worker: ps -eo pid,args | grep child)');
if (!fs.existsSync(`/proc/${PID}/task`)) refuse(`no process ${PID} (/proc/${PID}/task is missing)`);
if (!args.url === !args.raw) refuse('give exactly one of --url (an MCP endpoint) and --raw (a floor endpoint)');
if (args.url && !args.token) refuse('--url needs --token: an access token for that endpoint');
if (!POINTS[POINT]) refuse(`--point must be one of ${Object.keys(POINTS).join(', ')}, not "${POINT}"`);

/** bench/load.mjs over the process's endpoint; resolves with its JSON figures. */
function load() {
  return loadPoint({
    url: args.url, raw: args.raw, token: args.token, point: POINT,
    concurrency: args.concurrency ?? 1, duration: args.duration ?? 6, warmup: 0,
  });
}

/** µs per request of each thread that ran in the window, the main thread first. */
function threadCost(before, after, requests) {
  const rows = [];
  for (const [tid, { name, ns }] of after) {
    const us = (ns - (before.get(tid)?.ns ?? 0)) / 1000 / requests;
    if (us >= 0.05 || Number(tid) === PID) rows.push({ tid: Number(tid), name, main: Number(tid) === PID, us });
  }
  return rows.sort((a, b) => b.main - a.main || b.us - a.us);
}

/** A Chrome DevTools protocol session with the process, over the inspector SIGUSR1 opens. */
async function inspect() {
  process.kill(PID, 'SIGUSR1');
  let targets;
  for (let tries = 0; !targets; tries++) {
    try {
      targets = await (await fetch(`http://127.0.0.1:${PORT}/json/list`)).json();
    } catch (e) {
      if (tries === 50) throw new Error(`no inspector on 127.0.0.1:${PORT} 5 s after SIGUSR1 to ${PID} (${e.cause?.code ?? e.message}); another process's may hold the port (--port)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let id = 0;
  const pending = new Map();
  ws.on('message', (m) => {
    const d = JSON.parse(m);
    if (!pending.has(d.id)) return;
    pending.get(d.id)(d);
    pending.delete(d.id);
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    pending.set(++id, (d) => (d.error ? reject(new Error(`${method}: ${d.error.message}`)) : resolve(d.result)));
    ws.send(JSON.stringify({ id, method, params }));
  });
  // The inspector is closed from inside, so the process runs on without it and the port is
  // free for the next one measured (node has no protocol method for that). On a later turn of
  // its event loop, once this session has gone: closed while it dispatched this session's
  // message, node 20 crashed (SIGSEGV) about one time in three on a busy machine.
  const close = async () => {
    await send('Runtime.evaluate', { expression: 'setTimeout(() => process._debugEnd(), 200), undefined' });
    ws.close();
    // Closed once the port refuses.
    for (let tries = 0; tries < 100; tries++) {
      try {
        await fetch(`http://127.0.0.1:${PORT}/json/list`);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    console.error(`bench/worker.mjs: the inspector of ${PID} is still open on 127.0.0.1:${PORT} after 5 s`);
  };
  return { send, close };
}

/**
 * What kind of code a profile node is, by its call frame: the wasm, the plugin's JS (the
 * bundle Scrypted loads, main.nodejs.js, or the harness's unzipped copy), Scrypted's own JS,
 * node's modules, or a native function (script 0: writeBuffer, the fs bindings, ...). `url` is
 * the frame's script's: V8 leaves it empty on some frames of a script it names on others.
 */
function kindOf({ functionName: f, scriptId }, url) {
  if (f === '(idle)') return 'idle';
  if (f === '(garbage collector)') return 'GC';
  if (f === '(program)') return 'V8 and native, unattributed (program)';
  if (url.startsWith('wasm://') || /^(js-to-wasm|wasm-to-js)/.test(f)) return 'wasm';
  if (scriptId === '0') return `native: ${f || '(anonymous)'}`;
  if (url.endsWith('main.nodejs.js') || url.includes('scrypted-mcp-wasm')) return "plugin's JS";
  if (url.includes('@scrypted/') || url.includes('/server/dist/')) return `Scrypted: ${path.basename(url)}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return path.basename(url) || `script ${scriptId}`;
}

/** The profile's samples as µs per request: by kind, and the top functions by self time. */
function summarise(profile, requests) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const urls = new Map(profile.nodes.filter((n) => n.callFrame.url).map((n) => [n.callFrame.scriptId, n.callFrame.url]));
  const self = new Map();
  profile.samples.forEach((nodeId, i) => self.set(nodeId, (self.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const kinds = new Map();
  const functions = new Map();
  let busy = 0;
  for (const [nodeId, us] of self) {
    const frame = nodes.get(nodeId).callFrame;
    const url = frame.url || urls.get(frame.scriptId) || '';
    const kind = kindOf(frame, url);
    if (kind === 'idle') continue;
    busy += us;
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
    // A wasm function's URL is the module's hash, the same for all of them.
    const where = url && kind !== 'wasm' ? ` ${path.basename(url)}:${frame.lineNumber + 1}` : '';
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const perRequest = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, us]) => ({ name, us: us / requests }));
  return { busyUs: busy / requests, kinds: perRequest(kinds, Infinity), top: perRequest(functions, TOP) };
}

async function profiled() {
  const inspector = await inspect();
  try {
    await inspector.send('Profiler.enable');
    await inspector.send('Profiler.setSamplingInterval', { interval: Number(args.interval ?? 50) });
    await inspector.send('Profiler.start');
    const figures = await load();
    const { profile } = await inspector.send('Profiler.stop');
    return { ...summarise(profile, figures.requests_total), rps: figures.rps, requests: figures.requests_total };
  } finally {
    await inspector.close();
  }
}

const before = threadTimes(PID);
const run = await load();
const result = {
  pid: PID, point: POINT, rps: run.rps, p50_ms: run.p50_ms, p99_ms: run.p99_ms, requests: run.requests_total,
  threads: threadCost(before, threadTimes(PID), run.requests_total),
};
if (args.profile) result.profile = await profiled();

if (args.json) {
  console.log(JSON.stringify(result));
} else {
  const us = (x) => x.toFixed(1).padStart(8);
  console.log(`pid ${PID}, ${POINT}: ${result.requests} requests, ${run.rps} req/s, p50 ${run.p50_ms} ms, p99 ${run.p99_ms} ms`);
  console.log(`threads, µs of CPU per request (all: ${result.threads.reduce((s, t) => s + t.us, 0).toFixed(1)}):`);
  for (const t of result.threads) console.log(`${us(t.us)}  ${t.main ? 'main thread' : `${t.name} (${t.tid})`}`);
  if (result.profile) {
    const p = result.profile;
    console.log(`main thread under the profiler (a second run, ${p.requests} requests, ${p.rps} req/s): busy ${p.busyUs.toFixed(1)} µs per request`);
    // Kinds under 1 % of the busy time are summed into one line (--json lists them all).
    const shown = p.kinds.filter((k) => k.us >= p.busyUs / 100);
    for (const k of shown) console.log(`${us(k.us)}  ${k.name}`);
    const rest = p.kinds.slice(shown.length);
    if (rest.length) console.log(`${us(rest.reduce((sum, k) => sum + k.us, 0))}  ${rest.length} other kinds, each under 1 %`);
    console.log(`top ${TOP} functions by self time, µs per request:`);
    for (const f of p.top) console.log(`${us(f.us)}  ${f.name}`);
  }
}
