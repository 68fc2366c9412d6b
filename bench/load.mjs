#!/usr/bin/env node
// Vendored from ../shared/perf/load.mjs (the team's shared perf folder, not in this repo) so
// that a fresh checkout can run `npm run bench`; changes here: --modern (stateless MCP
// 2026-07-28 requests, no session), --tool / --expect (time another tool than
// get_server_info), --args JSON (that tool's arguments, default {}), --max-requests (stop
// after that many), requests_total in the JSON (the warm-up's answered requests included:
// what a process's CPU time covers).
//
// Closed-loop HTTP load driver for an MCP streamable-HTTP endpoint (Node built-ins only).
//
//   node load.mjs <mcp-url> --token T [--concurrency 16] [--duration 10] [--warmup 1] [--json] [--label NAME]
//   node load.mjs --raw <url> [--token T] [same options]
//   node load.mjs <mcp-url> --token T --modern [--tool NAME --args JSON --expect TEXT] [same options]
//
// MCP mode: initialize + notifications/initialized (bearer token), then for --duration
// seconds N workers (one keep-alive socket each) send `tools/call get_server_info` with
// Accept: application/json, text/event-stream, mcp-session-id, mcp-protocol-version:
// 2025-06-18 and the bearer. Every answer is parsed (JSON or SSE) and must carry the
// result for that request id (structuredContent.version or the text block). The session is
// DELETEd at the end (its answer is ignored).
// Raw mode: same requests and headers, no session, answer must be JSON carrying the result
// (with --any200, any HTTP 200 counts: for a floor endpoint that answers its own small JSON).
//
// The first --warmup seconds are run but not recorded. Reported: requests/s over the
// recorded window, latency p50/p90/p99/max in ms, errors (by kind).
// Exit status: 0 if at least one request succeeded and none failed, 1 otherwise.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';

const PROTOCOL_VERSION = '2025-06-18';
const MODERN_VERSION = '2026-07-28';

function usage(msg) {
  if (msg) console.error(`load.mjs: ${msg}`);
  console.error(
    'usage: node load.mjs <mcp-url> --token T [--concurrency N] [--duration S] [--warmup S] [--json] [--label NAME]\n' +
      '       node load.mjs --raw <url> [--token T] [--concurrency N] [--duration S] [--warmup S] [--json] [--label NAME]',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const o = { tool: 'get_server_info', args: '{}', expect: '0.144.2', url: undefined, raw: false, token: process.env.TOKEN, concurrency: 16, duration: 10, warmup: 1, json: false, label: undefined, timeout: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--raw': o.raw = true; o.url = next(); break;
      case '--modern': o.modern = true; break;
      case '--tool': o.tool = next(); break;
      case '--expect': o.expect = next(); break;
      case '--args': o.args = JSON.stringify(JSON.parse(next())); break;
      case '--any200': o.any200 = true; break;
      case '--token': o.token = next(); break;
      case '--concurrency': case '-c': o.concurrency = Number(next()); break;
      case '--duration': case '-d': o.duration = Number(next()); break;
      case '--warmup': o.warmup = Number(next()); break;
      case '--timeout': o.timeout = Number(next()); break;
      case '--label': o.label = next(); break;
      case '--json': o.json = true; break;
      case '--max-requests': o.maxRequests = Number(next()); break;
      case '-h': case '--help': usage(); break;
      default:
        if (a.startsWith('-')) usage(`unknown option ${a}`);
        if (o.url) usage(`unexpected argument ${a}`);
        o.url = a;
    }
  }
  if (!o.url) usage('no URL');
  if (!o.raw && !o.token) usage('--token is required for an MCP target');
  if (!(o.concurrency >= 1) || !(o.duration > 0) || !(o.warmup >= 0)) usage('bad --concurrency/--duration/--warmup');
  return o;
}

const opt = parseArgs(process.argv.slice(2));
const target = new URL(opt.url);
const lib = target.protocol === 'https:' ? https : http;
const agent = new lib.Agent({ keepAlive: true, maxSockets: opt.concurrency, maxFreeSockets: opt.concurrency });

function request(method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = lib.request(
      { agent, method, protocol: target.protocol, hostname: target.hostname, port: target.port, path: target.pathname + target.search, headers },
      (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(opt.timeout * 1000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

// JSON-RPC messages out of a JSON or SSE body.
function messages(res) {
  const ct = String(res.headers['content-type'] ?? '').toLowerCase();
  if (ct.includes('text/event-stream')) {
    const out = [];
    let data = [];
    for (const line of res.body.split(/\r?\n/)) {
      if (line === '') {
        if (data.length) out.push(JSON.parse(data.join('\n')));
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
    }
    if (data.length) out.push(JSON.parse(data.join('\n')));
    return out;
  }
  const v = JSON.parse(res.body);
  return Array.isArray(v) ? v : [v];
}

function carriesResult(msg, id) {
  if (!msg || msg.jsonrpc !== '2.0' || !msg.result) return false;
  if (id !== undefined && msg.id !== id) return false;
  const r = msg.result;
  if (r.isError) return false;
  if (r.structuredContent?.version === opt.expect) return true;
  return Array.isArray(r.content) && r.content.some((c) => c?.type === 'text' && typeof c.text === 'string' && c.text.includes(opt.expect));
}

const baseHeaders = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
if (opt.token) baseHeaders.authorization = `Bearer ${opt.token}`;

async function initSession() {
  const init = await request('POST', baseHeaders, JSON.stringify({
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'perf-load', version: '1.0.0' } },
  }));
  if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status} ${init.body.slice(0, 200)}`);
  const sid = init.headers['mcp-session-id'];
  const ok = messages(init).some((m) => m.id === 0 && m.result?.protocolVersion);
  if (!ok) throw new Error(`initialize: no result in ${init.body.slice(0, 200)}`);
  const headers = { ...baseHeaders, 'mcp-protocol-version': PROTOCOL_VERSION };
  if (sid) headers['mcp-session-id'] = sid;
  const note = await request('POST', headers, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  if (note.status !== 202 && note.status !== 200) throw new Error(`notifications/initialized: HTTP ${note.status} ${note.body.slice(0, 200)}`);
  return { sid, headers };
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// Whole-machine CPU time (jiffies) from /proc/stat, to spot runs disturbed by other load.
function machineCpu() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0);
    return { busy: f.reduce((a, b) => a + b, 0) - idle };
  } catch {
    return undefined;
  }
}
const HZ = 100; // USER_HZ on Linux

const round = (x, d = 3) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

async function main() {
  let headers = { ...baseHeaders, 'mcp-protocol-version': PROTOCOL_VERSION };
  let sid;
  if (opt.modern) headers = { ...baseHeaders, 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': opt.tool };
  else if (!opt.raw) ({ sid, headers } = await initSession());
  // A 2026-07-28 request carries version, client and capabilities in every request's _meta.
  const meta = opt.modern
    ? `,"_meta":{"io.modelcontextprotocol/protocolVersion":"${MODERN_VERSION}","io.modelcontextprotocol/clientInfo":{"name":"perf-load","version":"1.0.0"},"io.modelcontextprotocol/clientCapabilities":{}}`
    : '';

  const lat = [];
  const errors = {};
  let ok = 0;
  let total = 0;
  let nextId = 1;
  const t0 = performance.now();
  const measureStart = t0 + opt.warmup * 1000;
  const end = measureStart + opt.duration * 1000;
  let lastDone = measureStart;

  const bump = (k) => { errors[k] = (errors[k] ?? 0) + 1; };

  let cpuAtStart;
  let driverAtStart;
  setTimeout(() => {
    cpuAtStart = machineCpu();
    driverAtStart = process.cpuUsage();
  }, Math.max(0, measureStart - performance.now())).unref();

  async function worker() {
    for (;;) {
      const start = performance.now();
      if (start >= end || (opt.maxRequests && nextId > opt.maxRequests)) return;
      const id = nextId++;
      const body = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${opt.tool}","arguments":${opt.args}${meta}}}`;
      let kind;
      try {
        const res = await request('POST', headers, body);
        if (res.status !== 200) kind = `http_${res.status}`;
        else {
          let good = !!opt.any200;
          if (!good) try {
            good = messages(res).some((m) => carriesResult(m, opt.raw ? undefined : id));
          } catch {
            kind = 'unparsable_body';
          }
          if (!good && !kind) kind = 'no_result';
        }
      } catch (e) {
        kind = `net_${e.code ?? e.message}`;
      }
      const done = performance.now();
      if (!kind) total++;
      if (start >= measureStart) {
        if (kind) bump(kind);
        else {
          ok++;
          lat.push(done - start);
        }
        if (done > lastDone) lastDone = done;
      }
      if (kind && kind.startsWith('net_')) await new Promise((r) => setTimeout(r, 20)); // don't spin on a dead server
    }
  }

  await Promise.all(Array.from({ length: opt.concurrency }, worker));
  const cpuAtEnd = machineCpu();
  const driverCpu = driverAtStart ? process.cpuUsage(driverAtStart) : undefined;

  if (sid) {
    try { await request('DELETE', headers); } catch { /* ignored */ }
  }
  agent.destroy();

  lat.sort((a, b) => a - b);
  const nErr = Object.values(errors).reduce((a, b) => a + b, 0);
  const window = (lastDone - measureStart) / 1000;
  const mean = lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : NaN;
  const out = {
    label: opt.label ?? (opt.raw ? 'raw' : 'mcp'),
    mode: opt.raw ? 'raw' : opt.modern ? 'modern' : 'mcp',
    tool: opt.raw ? undefined : opt.tool,
    url: opt.url,
    concurrency: opt.concurrency,
    duration_s: opt.duration,
    warmup_s: opt.warmup,
    window_s: round(window, 3),
    requests: ok,
    requests_total: total,
    errors: nErr,
    error_kinds: errors,
    rps: round(ok / window, 1),
    p50_ms: round(pct(lat, 50)),
    p90_ms: round(pct(lat, 90)),
    p99_ms: round(pct(lat, 99)),
    max_ms: round(lat[lat.length - 1]),
    mean_ms: round(mean),
    // CPU cores in use over the recorded window: the whole machine, and this driver process.
    machine_busy_cores: cpuAtStart && cpuAtEnd ? round((cpuAtEnd.busy - cpuAtStart.busy) / HZ / window, 2) : null,
    driver_cores: driverCpu ? round((driverCpu.user + driverCpu.system) / 1e6 / window, 2) : null,
    node: process.version,
    at: new Date().toISOString(),
  };
  if (opt.json) console.log(JSON.stringify(out));
  else {
    console.log(`${out.label} ${out.url}  concurrency=${out.concurrency} duration=${out.duration_s}s (+${out.warmup_s}s warm-up)`);
    console.log(`  requests/s ${out.rps}   ok ${out.requests}   errors ${out.errors}${nErr ? ' ' + JSON.stringify(errors) : ''}`);
    console.log(`  latency ms  p50 ${out.p50_ms}   p90 ${out.p90_ms}   p99 ${out.p99_ms}   max ${out.max_ms}   mean ${out.mean_ms}`);
    console.log(`  cpu cores busy: machine ${out.machine_busy_cores}, this driver ${out.driver_cores}`);
  }
  process.exitCode = ok > 0 && nErr === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(`load.mjs: ${e.message}`);
  agent.destroy();
  process.exit(1);
});
