#!/usr/bin/env node
// npm run bench — benchmarks, not tests (not in npm test). One interleaved run of three
// servers behind the same thin node:http harness (bench/ts-reference/scrypted-response.mjs):
//
//   ours   dist/plugin.zip in bench/harness.mjs, token from its own OAuth flow
//   ref    the earlier TypeScript plugin's request path (bench/ts-reference/server.mjs,
//          MCP TS SDK 1.32.2, the project's own devDependency)
//   raw    the machine's floor: node:http answering fixed JSON (bench/ts-reference/raw.mjs)
//
// Points (each at c=1 and c=16, --reps repetitions, the targets' order rotated every time:
// A B C, B C A, C A B ...; the driver is bench/load.mjs):
//   legacy  tools/call get_server_info in a 2025-06-18 session   ours, ref, raw
//   modern  the same as stateless 2026-07-28 requests             ours, raw (the SDK has no 2026 era)
//   nohost  tools/call get_recent_events, modern, for events after the last possible time:
//           no host call, the same work on any host whatever the plugin's event ring holds
//           (bench/points.mjs says why)
// The floor (raw) is sent the same requests as ours, bearer and MCP headers included.
// With --state, a fourth target joins every point: "grown", the same plugin.zip in its own
// harness over grown OAuth state — 100 registered clients (the default cap), 1,000 grants
// and a full audit trail, made beforehand through the real OAuth endpoints and tool calls —
// and the report compares its req/s and its process's CPU ms per request with "ours" (the
// same plugin over an empty state): per-call cost should not grow with what is stored.
// With --base ZIP, target "base" is another build of this plugin (say, main before a change)
// in its own harness, interleaved the same way: before and after from one run (and with
// --state, "base-grown" too).
// Each local target's line also says its process's CPU ms per request and busy cores (CPU ms
// per request × req/s), and a line per point says how each target scales from c=1 to c=16:
// a target near 1 busy core at c=1 cannot scale much (one JS thread, CPU-bound; above 1 is
// Node's helper threads: GC, the reference's WebCrypto), one well below 1 that does not scale
// waits on something.
// Then: cold start (spawn → first authenticated initialize answered), RSS after --sessions idle
// sessions (bench/sessions-rss.mjs), wasm size. Figures are medians over the repetitions;
// ratios are to the floor (raw) and to the reference. Absolute figures from different runs
// do not compare on a shared machine; the ratios from one run do. A "paired" block also gives,
// per point, the median of each repetition's own ratio to the floor: where the machine's
// speed drifts between repetitions (a real Scrypted's floor swung 2x), that is the figure.
//
// Options: --reps N (3), --duration S (5), --warmup S (1), --cold N (5), --sessions N (1000),
//          --only legacy,modern,nohost, --state, --base ZIP, --json
//          (real host: --real, --token, --ref, --ref-token, --floor, --pids; --cold-deploy N,
//          --cookie FILE, --zip t=ZIP,..., --server-pid P)
// A real Scrypted instead (docs/reference/scrypted-host.md §9): --real <our MCP URL> --token T
// --floor <the floor plugin's URL> runs the same points against the deployed plugins only;
// --ref <URL> --ref-token T adds a second MCP plugin deployed beside it (say, the build
// before a change, under another package name) as the "ref" column. With --pids
// server=P,ours=P,ref=P,raw=P (the Scrypted server and each plugin's worker process) it also
// reports CPU ms per request of the server and of that plugin, from /proc/<pid>/stat: on a
// machine shared with other load, the figure that stays comparable between runs.
// Real-host cold start instead of the load points: --cold-deploy N --cookie FILE (an admin's
// "NAME=VALUE" login cookie) --zip ours=ZIP,ref=ZIP,raw=ZIP deploys each target's zip
// (POST /web/component/script/deploy, which restarts that plugin) and times deploy → first
// answer: for ours and ref an authenticated stateless tools/call get_server_info (the token
// from before the deploy stays valid: the signing key is in plugin storage), for the floor
// its first 200. N rounds, the targets' order rotated every round; medians, and each
// target's ratio to the floor's. With --server-pid P (the Scrypted server) also the CPU the
// new worker used up to its answer (its live threads' schedstat) and the server's over the
// same window: on a busy machine wall times swing ±50 %, these much less.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ensureBuilt } from '../js-shim/build.mjs';
import { ROOT, commandLine } from '../scripts/lib.mjs';
import { obtainTokens } from '../tests/js/helpers/oauth.mjs';
import { loadPoint, runNode, threadTimes } from './drive.mjs';

const string = { type: 'string' };
const args = commandLine(import.meta.url, {
  reps: string, duration: string, warmup: string, cold: string, sessions: string, only: string,
  state: { type: 'boolean' }, base: string, json: { type: 'boolean' },
  real: string, token: string, ref: string, 'ref-token': string, floor: string, pids: string,
  'cold-deploy': string, cookie: string, zip: string, 'server-pid': string,
}, ['reps', 'duration', 'warmup', 'cold', 'sessions', 'cold-deploy']);
const opt = (name, def) => args[name.slice(2)] ?? def;
const REPS = Number(opt('--reps', 3));
const DURATION = Number(opt('--duration', 5));
const WARMUP = Number(opt('--warmup', 1));
const COLD = Number(opt('--cold', 5));
const SESSIONS = Number(opt('--sessions', 1000));
const ONLY = opt('--only', 'legacy,modern,nohost').split(',');
const STATE = args.state === true;
const BASE_ZIP = opt('--base');
const ROOTPATH = '/endpoint/scrypted-mcp/public';
const BENCH = path.join(ROOT, 'bench');
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-bench-'));

const log = (...a) => console.error('[bench]', ...a);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts one server script; resolves once it prints its "listening" line. */
function startServer(script, env) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(BENCH, script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; if (out.includes('listening')) resolve(); });
    child.once('exit', (c) => reject(new Error(`${script} exited with ${c}`)));
  });
  return { child, t0, ready, stop: () => stopServer(child) };
}

async function stopServer(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  await exited;
}

const PORTS = { ours: 18182, ref: 18180, raw: 18181, grown: 18183, base: 18184, 'base-grown': 18185 };
/** The targets that are this plugin in bench/harness.mjs, each with the zip it loads. */
const HARNESSES = {
  ours: undefined,
  ...(STATE ? { grown: undefined } : {}),
  ...(BASE_ZIP ? { base: path.resolve(BASE_ZIP) } : {}),
  ...(BASE_ZIP && STATE ? { 'base-grown': path.resolve(BASE_ZIP) } : {}),
};
const mcpUrl = (port) => `http://127.0.0.1:${port}${ROOTPATH}/mcp`;
const REAL = opt('--real');
const COLD_DEPLOY = Number(opt('--cold-deploy', 0));
const URLS = REAL
  ? { ours: REAL, ref: opt('--ref'), raw: opt('--floor') }
  : { ref: mcpUrl(PORTS.ref), raw: `http://127.0.0.1:${PORTS.raw}/`, ...Object.fromEntries(Object.keys(HARNESSES).map((t) => [t, mcpUrl(PORTS[t])])) };
/** The harness of this plugin as target `name`: its own storage file and volume. */
function harness(name) {
  const volume = path.join(WORK, `${name}-volume`);
  fs.mkdirSync(volume, { recursive: true });
  const zip = HARNESSES[name] ? { ZIP: HARNESSES[name] } : {};
  return startServer('harness.mjs', { PORT: PORTS[name], STORAGE_FILE: path.join(WORK, `${name}-storage.json`), VOLUME: volume, ...zip });
}
const keyFile = path.join(WORK, 'ref-key.json');
const serverOf = {
  ...Object.fromEntries(Object.keys(HARNESSES).map((t) => [t, () => harness(t)])),
  ref: () => startServer('ts-reference/server.mjs', { PORT: PORTS.ref, KEY_FILE: keyFile }),
  raw: () => startServer('ts-reference/raw.mjs', { PORT: PORTS.raw }),
};

// bench/harness.mjs treats Scrypted's login cookie as the logged-in admin.
const ADMIN_COOKIE = 'login_user_token_insecure=bench';
const harnessHost = (name) => {
  const base = `http://127.0.0.1:${PORTS[name]}${ROOTPATH}`;
  return { url: (p) => base + p, mcpUrl: `${base}/mcp` };
};

async function oursToken(name = 'ours') {
  const { tokens } = await obtainTokens(harnessHost(name), ADMIN_COOKIE, { scope: 'scrypted:admin' });
  return tokens.access_token;
}

/**
 * Grows the state of the harness `name` through its real endpoints: `clients` registered
 * clients with `grantsPerClient` grants each (sign-ins; the first is consented, the rest
 * remembered), then a full audit trail of tool calls. Returns a token of the last grant.
 */
async function growState(name, { clients = 100, grantsPerClient = 10, calls = 200 } = {}) {
  const host = harnessHost(name);
  const t0 = performance.now();
  let last;
  for (let c = 0; c < clients; c++) {
    let client;
    for (let g = 0; g < grantsPerClient; g++) {
      ({ client, tokens: last } = await obtainTokens(host, ADMIN_COOKIE, { client, scope: 'scrypted:admin' }));
    }
    if ((c + 1) % 20 === 0) log(`state: ${c + 1} clients, ${(c + 1) * grantsPerClient} grants (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  await runNode([path.join(BENCH, 'load.mjs'), host.mcpUrl, '--token', last.access_token, '--modern', '--concurrency', '1', '--duration', '60', '--warmup', '0', '--max-requests', String(calls), '--json']);
  log(`state grown in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return last.access_token;
}

/** Every target a point can be measured on; those without a URL in this run are left out. */
const TARGETS = ['ours', 'ref', 'raw', 'grown', 'base', 'base-grown'];

const PIDS = Object.fromEntries((opt('--pids', '') || '').split(',').filter(Boolean).map((kv) => kv.split('=')));
/** CPU time (ms) a process has used so far: utime + stime, in clock ticks of 10 ms. */
function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** The local harness processes, by target (their CPU per request is reported too). */
const LOCAL_PIDS = {};

async function load(target, token, point, c) {
  if (!REAL && LOCAL_PIDS[target]) {
    const before = cpuMs(LOCAL_PIDS[target]);
    const r = await loadOnce(target, token, point, c, WARMUP);
    // The process's CPU covers the warm-up's requests too.
    r.pluginCpuMs = (cpuMs(LOCAL_PIDS[target]) - before) / r.requests_total;
    // How busy the process kept the machine: near 1 (its one JS thread) it is CPU-bound;
    // well below 1 while the driver waits, its requests wait on something (a timer, a queue).
    r.busyCores = (r.pluginCpuMs * r.rps) / 1000;
    return r;
  }
  if (PIDS.server && PIDS[target]) {
    const before = [cpuMs(PIDS.server), cpuMs(PIDS[target])];
    // No unrecorded warm-up here, so the CPU used and the requests counted cover the same
    // window (the deployed plugins are warm already).
    const r = await loadOnce(target, token, point, c, 0);
    r.serverCpuMs = (cpuMs(PIDS.server) - before[0]) / r.requests;
    r.pluginCpuMs = (cpuMs(PIDS[target]) - before[1]) / r.requests;
    return r;
  }
  return loadOnce(target, token, point, c, WARMUP);
}

function loadOnce(target, token, point, c, warmup) {
  const where = target === 'raw' ? { raw: URLS.raw } : { url: URLS[target] };
  return loadPoint({ ...where, token, point, concurrency: c, duration: DURATION, warmup });
}

async function throughput(tokens) {
  const runs = {}; // `${point} c=${c}` → target → [results]
  for (let rep = 0; rep < REPS; rep++) {
    for (const point of ONLY) {
      for (const c of [1, 16]) {
        const key = `${point} c=${c}`;
        runs[key] ??= {};
        // The TypeScript reference (SDK 1.32.2) has no 2026 era; a real-host "ref" is ours.
        const ts = TARGETS.filter((t) => URLS[t] && (REAL || t !== 'ref' || point === 'legacy'));
        const order = ts.map((_, i) => ts[(i + rep) % ts.length]);
        for (const target of order) {
          const r = await load(target, target === 'raw' ? tokens.ours : tokens[target], point, c);
          (runs[key][target] ??= []).push(r);
          log(`rep ${rep + 1}/${REPS} ${key.padEnd(12)} ${target.padEnd(4)} ${String(r.rps).padStart(8)} req/s  p50 ${r.p50_ms} ms  p99 ${r.p99_ms} ms  (machine busy ${r.machine_busy_cores} cores)`);
        }
      }
    }
  }
  const table = {};
  for (const [key, byTarget] of Object.entries(runs)) {
    table[key] = {};
    for (const [target, rs] of Object.entries(byTarget)) {
      table[key][target] = {
        rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50_ms)), p99: median(rs.map((r) => r.p99_ms)),
        serverCpuMs: median(rs.map((r) => r.serverCpuMs)), pluginCpuMs: median(rs.map((r) => r.pluginCpuMs)),
        busyCores: median(rs.map((r) => r.busyCores)),
        perRep: rs.map((r) => ({ rps: r.rps, p99: r.p99_ms })),
      };
    }
  }
  return table;
}

/** Spawn → first authenticated initialize answered (raw: first POST answered), in ms. */
async function coldStart(target, token) {
  const s = serverOf[target]();
  const url = target === 'raw' ? `http://127.0.0.1:${PORTS.raw}/` : mcpUrl(PORTS[target]);
  const body = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cold', version: '1' } } });
  try {
    for (;;) {
      try {
        const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` } });
        await r.text();
        if (r.status === 200) return performance.now() - s.t0;
        throw new Error(`${target}: initialize answered ${r.status}`);
      } catch (e) {
        if (e.cause?.code !== 'ECONNREFUSED') throw e;
        await sleep(2);
      }
    }
  } finally {
    await s.stop();
  }
}

/** The npm package of a plugin endpoint URL (…/endpoint/<package>/public/…). */
function packageOf(url) {
  const m = new URL(url).pathname.match(/^\/endpoint\/((?:@[^/]+\/)?[^/]+)\//);
  if (!m) throw new Error(`not a plugin endpoint URL: ${url}`);
  return m[1];
}

const coldBody = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'tools/call',
  params: { name: 'get_server_info', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'cold', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} } },
});

/** One answer to the cold-start request, or why it is not the answer wanted yet. */
async function coldAsk(target, token) {
  const headers = target === 'raw' ? {} : {
    'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`,
    'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'get_server_info',
  };
  const r = await fetch(URLS[target], { method: target === 'raw' ? 'GET' : 'POST', headers, body: target === 'raw' ? undefined : coldBody, signal: AbortSignal.timeout(10_000) });
  const text = await r.text();
  if (r.status !== 200) return `HTTP ${r.status}`;
  if (target === 'raw') return true;
  const data = r.headers.get('content-type')?.includes('text/event-stream')
    ? text.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('\n') : text;
  const answer = JSON.parse(data);
  return answer.id === 1 && answer.result && !answer.result.isError ? true : `no result: ${text.slice(0, 200)}`;
}

/** CPU time (ms, ns-precise) a process's live threads have used. */
function threadsCpuMs(pid) {
  let ns = 0;
  for (const t of threadTimes(pid).values()) ns += t.ns;
  return ns / 1e6;
}

/** The plugin worker of `pkg` under the Scrypted server `serverPid` (its process group). */
function workerPid(serverPid, pkg) {
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || p === String(serverPid)) continue;
    try {
      const args = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const pgid = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')[2];
      if (pgid === String(serverPid) && args.at(-2) === 'child' && args.at(-1) === pkg) return Number(p);
    } catch { /* gone */ }
  }
  return undefined;
}

/** Real host: deploy (restarts the plugin) → first answer, in ms; throws after 30 s. */
async function deployColdStart(target, token, zip, cookie) {
  const url = URLS[target];
  const deployUrl = `${new URL(url).origin}/web/component/script/deploy?npmPackage=${encodeURIComponent(packageOf(url))}`;
  const serverPid = opt('--server-pid');
  const serverCpu0 = serverPid && threadsCpuMs(serverPid);
  const t0 = performance.now();
  const d = await fetch(deployUrl, { method: 'POST', headers: { cookie, 'content-type': 'application/zip' }, body: zip });
  const said = await d.text();
  if (d.status !== 200 || said !== 'ok') throw new Error(`${target}: deploy answered ${d.status} ${said.slice(0, 200)}`);
  const deployedMs = performance.now() - t0;
  let last;
  let asked = 0;
  const seen = {};
  while (performance.now() - t0 < 30_000) {
    try {
      asked++;
      last = await coldAsk(target, token);
      if (last === true) {
        const ms = performance.now() - t0;
        // The new worker's CPU up to its first answer, and the server's over the same window
        // (the deploy itself included): figures that hold when other load stretches wall time.
        const worker = serverPid && workerPid(serverPid, packageOf(url));
        return { ms, deployedMs, asked, seen, workerCpuMs: worker && threadsCpuMs(worker), serverCpuMs: serverPid && threadsCpuMs(serverPid) - serverCpu0 };
      }
      seen[last.slice(0, 20)] = (seen[last.slice(0, 20)] ?? 0) + 1;
    } catch (e) {
      last = e.message;
    }
    await sleep(2);
  }
  throw new Error(`${target}: no answer within 30 s of the deploy (last: ${last})`);
}

async function realColdStarts() {
  // A file, so that the admin's cookie is in no command line; not echoed when it is missing,
  // in case the cookie itself was given.
  if (!fs.existsSync(opt('--cookie', ''))) throw new Error('--cookie: give the path of a file holding the admin\'s "NAME=VALUE" login cookie (shared/real-scrypted/scrypted-login.sh prints it)');
  const cookie = fs.readFileSync(opt('--cookie'), 'utf8').trim();
  const zips = Object.fromEntries(opt('--zip', '').split(',').filter(Boolean).map((kv) => kv.split('=')).map(([t, f]) => [t, fs.readFileSync(f)]));
  const tokens = { ours: opt('--token'), ref: opt('--ref-token') };
  const ts = ['ours', 'ref', 'raw'].filter((t) => URLS[t]);
  for (const t of ts) if (!zips[t]) throw new Error(`--zip has no zip for ${t}`);
  const runs = Object.fromEntries(ts.map((t) => [t, []]));
  for (let i = 0; i < COLD_DEPLOY; i++) {
    for (const t of ts.map((_, j) => ts[(j + i) % ts.length])) {
      const r = await deployColdStart(t, tokens[t], zips[t], cookie);
      runs[t].push(r);
      log(`round ${i + 1}/${COLD_DEPLOY} ${t.padEnd(4)} deploy → answer ${r.ms.toFixed(1)} ms (deploy call ${r.deployedMs.toFixed(1)} ms, ${r.asked} asks: ${JSON.stringify(r.seen)})${r.workerCpuMs ? `; cpu ms worker ${r.workerCpuMs.toFixed(1)}, server ${r.serverCpuMs.toFixed(1)}` : ''}`);
      await sleep(1000); // the restarted plugin's own start-up work settles before the next deploy
    }
  }
  const med = Object.fromEntries(ts.map((t) => [t, median(runs[t].map((r) => r.ms))]));
  console.log(`\nreal-host cold start, deploy → first answer (ours/ref: authenticated tools/call get_server_info; raw: first 200), medians of ${COLD_DEPLOY}, interleaved:`);
  const cpu = (t, k) => median(runs[t].map((r) => r[k]));
  for (const t of ts) {
    console.log(`${t.padEnd(5)} ${fmt(med[t], 1).padStart(7)} ms  ×floor ${fmt(med[t] / med.raw, 2)}${med.ref && t !== 'ref' ? `  ×ref ${fmt(med[t] / med.ref, 2)}` : ''}  deploy call ${fmt(median(runs[t].map((r) => r.deployedMs)), 1)} ms  all: ${runs[t].map((r) => r.ms.toFixed(0)).join(' ')}`
      + (opt('--server-pid') ? `\n      cpu ms to the answer: worker ${fmt(cpu(t, 'workerCpuMs'), 1)} (×floor ${fmt(cpu(t, 'workerCpuMs') / cpu('raw', 'workerCpuMs'), 2)}), server ${fmt(cpu(t, 'serverCpuMs'), 1)}, both ×floor ${fmt((cpu(t, 'workerCpuMs') + cpu(t, 'serverCpuMs')) / (cpu('raw', 'workerCpuMs') + cpu('raw', 'serverCpuMs')), 2)}` : ''));
  }
  if (args.json) console.log(JSON.stringify({ coldDeployMs: med, runs }));
}

async function sessionsRss(target, token) {
  const s = serverOf[target]();
  await s.ready;
  try {
    const out = await runNode([path.join(BENCH, 'sessions-rss.mjs'), '--url', mcpUrl(PORTS[target]), '--token', token, '--pid', String(s.child.pid), '--sessions', String(SESSIONS), '--json']);
    return JSON.parse(out.trim().split('\n').pop());
  } finally {
    await s.stop();
  }
}

const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  if (REAL && COLD_DEPLOY) return realColdStarts();
  if (REAL) { // the plugins are already deployed: nothing to build
    report({ throughput: await throughput({ ours: opt('--token'), ref: opt('--ref-token') }) });
    return;
  }
  const built = await ensureBuilt({ variants: ['release'], quiet: true });
  const wasm = fs.readFileSync(built.release.wasm);
  const figures = { wasmBytes: wasm.length, wasmGzipBytes: zlib.gzipSync(wasm, { level: 9 }).length, zipBytes: fs.statSync(built.release.zip).size };
  log(`size: wasm ${figures.wasmBytes} B (gzip ${figures.wasmGzipBytes} B), plugin.zip ${figures.zipBytes} B`);

  const servers = Object.fromEntries(['ref', 'raw', ...Object.keys(HARNESSES)].map((t) => [t, serverOf[t]()]));
  try {
    await Promise.all(Object.values(servers).map((s) => s.ready));
    for (const [t, s] of Object.entries(servers)) LOCAL_PIDS[t] = s.child.pid;
    const tokens = {
      ref: (await runNode([path.join(BENCH, 'ts-reference/mint-token.mjs'), mcpUrl(PORTS.ref), '--key', keyFile])).trim(),
    };
    for (const t of Object.keys(HARNESSES)) tokens[t] = t.endsWith('grown') ? await growState(t) : await oursToken(t);
    figures.throughput = await throughput(tokens);
    await Promise.all(Object.values(servers).map((s) => s.stop())); // ours writes its storage: the token stays valid
    for (const t of Object.keys(HARNESSES)) if (t !== 'ours') delete tokens[t];

    const colds = { ours: [], ref: [], raw: [] };
    for (let i = 0; i < COLD; i++) {
      const ts = Object.keys(colds);
      for (const target of ts.map((_, j) => ts[(j + i) % ts.length])) colds[target].push(await coldStart(target, tokens[target]));
    }
    figures.coldStartMs = Object.fromEntries(Object.entries(colds).map(([t, xs]) => [t, median(xs)]));
    figures.sessionsRss = { ours: await sessionsRss('ours', tokens.ours), ref: await sessionsRss('ref', tokens.ref) };
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    fs.rmSync(WORK, { recursive: true, force: true });
  }
  report(figures);
  if (args.json) console.log(JSON.stringify(figures));
}

function report(f) {
  console.log(`\ninterleaved, ${REPS} × ${DURATION} s per target and point (medians); ratios of req/s, and of p99 for "p99 vs"`);
  console.log('point          target      req/s    p50 ms    p99 ms   ×floor   ×ref   p99 vs floor  p99 vs ref');
  for (const [key, byTarget] of Object.entries(f.throughput)) {
    const floor = byTarget.raw;
    const ref = byTarget.ref;
    for (const [t, m] of Object.entries(byTarget)) {
      console.log(`${key.padEnd(14)} ${t.padEnd(6)} ${fmt(m.rps).padStart(10)} ${fmt(m.p50, 2).padStart(9)} ${fmt(m.p99, 2).padStart(9)}`
        + `  ${fmt(m.rps / floor.rps, 2).padStart(7)} ${ref ? fmt(m.rps / ref.rps, 2).padStart(6) : '     -'}`
        + `  ${fmt(m.p99 / floor.p99, 2).padStart(12)} ${ref ? fmt(m.p99 / ref.p99, 2).padStart(11) : '          -'}`
        + (Number.isFinite(m.serverCpuMs) ? `   cpu ms/req: server ${fmt(m.serverCpuMs, 3)}, plugin ${fmt(m.pluginCpuMs, 3)}`
          : Number.isFinite(m.pluginCpuMs) ? `   cpu ms/req ${fmt(m.pluginCpuMs, 3)}, busy cores ${fmt(m.busyCores, 2)}` : ''));
    }
  }
  // The same ratios paired: each repetition's figure over the floor's from the same repetition
  // (measured minutes apart at most), then the median. On a machine whose speed drifts between
  // repetitions (a real Scrypted's swung 2x) this is the steadier figure; the ratio of medians
  // above can divide one repetition's median by another's.
  console.log('\npaired: median over the repetitions of each one\'s ratio to the floor in the same repetition');
  for (const [key, byTarget] of Object.entries(f.throughput)) {
    const floor = byTarget.raw;
    if (!floor) continue;
    const parts = Object.entries(byTarget).filter(([t]) => t !== 'raw').map(([t, m]) => {
      const ratio = (k) => median(m.perRep.map((r, i) => r[k] / floor.perRep[i][k]));
      return `${t} req/s ${fmt(ratio('rps'), 2)}×, p99 ${fmt(ratio('p99'), 2)}×`;
    });
    console.log(`${key.padEnd(14)} ${parts.join('   ')}`);
  }
  // Whether a target scales with concurrency, and whether it could: c=16 no faster than c=1
  // with its process near 1 busy core at c=1 is CPU-bound, not waiting.
  for (const point of ONLY) {
    const one = f.throughput[`${point} c=1`];
    const many = f.throughput[`${point} c=16`];
    if (!one || !many) continue;
    const parts = Object.keys(many).filter((t) => one[t])
      .map((t) => `${t} ${fmt(many[t].rps / one[t].rps, 2)}×${Number.isFinite(one[t].busyCores) ? ` (busy cores ${fmt(one[t].busyCores, 2)} → ${fmt(many[t].busyCores, 2)})` : ''}`);
    console.log(`c=16/c=1 ${point.padEnd(7)} ${parts.join(', ')}`);
  }
  const compare = (what, a, b) => {
    for (const [key, byTarget] of Object.entries(f.throughput)) {
      const x = byTarget[a];
      const y = byTarget[b];
      if (!x || !y) continue;
      console.log(`${what.padEnd(22)} ${key.padEnd(12)} req/s ${fmt(x.rps / y.rps, 2)}×, p99 ${fmt(x.p99 / y.p99, 2)}×, CPU ms/req ${fmt(x.pluginCpuMs, 3)} vs ${fmt(y.pluginCpuMs, 3)} (${fmt(x.pluginCpuMs / y.pluginCpuMs, 2)}×)`);
    }
  };
  compare('grown/empty (ours)', 'grown', 'ours');
  compare('grown/empty (base)', 'base-grown', 'base');
  compare('ours/base', 'ours', 'base');
  if (!f.coldStartMs) return;
  console.log(`wasm ${f.wasmBytes} B (gzip ${f.wasmGzipBytes} B), plugin.zip ${f.zipBytes} B`);
  const c = f.coldStartMs;
  console.log(`\ncold start (spawn → first authenticated initialize answered, median of ${COLD}): ours ${fmt(c.ours, 1)} ms, ref ${fmt(c.ref, 1)} ms, raw ${fmt(c.raw, 1)} ms; ours/ref ${fmt(c.ours / c.ref, 2)}×`);
  for (const [t, r] of Object.entries(f.sessionsRss)) {
    console.log(`RSS ${t}: warm ${r.rss_warm_mb} MB, after ${r.sessions} idle sessions ${r.rss_after_10s_mb} MB (+10 s), peak ${r.hwm_mb} MB, ~${r.per_session_kb} kB/session, last session alive: ${r.last_session_alive}`);
  }
}

main().catch((e) => {
  console.error(`[bench] FAILED: ${e.stack || e}`);
  process.exit(1);
});
