#!/usr/bin/env node
// npm run bench — benchmarks (not tests): figures and ratios against bench/baseline.json
// (the first run writes it; `--write-baseline` rewrites it).
//
//   size        wasm after wasm-opt -Oz, gzipped, main.nodejs.js and plugin.zip
//   cold start  fresh process: unzip + evaluate the bundle (wasm compile + instantiate) +
//               construct + first answer (median of N runs)
//   latency     authenticated tools/call through the dev host, one at a time (p50/p95/p99)
//   throughput  the same with C concurrent clients for a fixed time (calls/s)
//   memory      dev host RSS after the run
// The token comes from the real OAuth flow (tests/js/helpers/oauth.mjs: POST /login cookie →
// /register → /authorize → /token), the dev host from tests/js/helpers/devhost.mjs.
//
// Options: --calls N (sequential, default 300), --concurrency C (8), --seconds S (5),
//          --cold N (5), --write-baseline, --json
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ensureBuilt } from '../js-shim/build.mjs';
import { ROOT } from '../scripts/lib.mjs';
import { startDevHost } from '../tests/js/helpers/devhost.mjs';
import { login, obtainTokens } from '../tests/js/helpers/oauth.mjs';

const BASELINE = path.join(ROOT, 'bench/baseline.json');
const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : def);
const CALLS = opt('--calls', 300);
const CONCURRENCY = opt('--concurrency', 8);
const SECONDS = opt('--seconds', 5);
const COLD = opt('--cold', 5);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);

function log(...a) { console.error('[bench]', ...a); }

async function main() {
  const built = await ensureBuilt({ variants: ['release'], quiet: true });
  const zip = built.release.zip;
  const wasmFile = built.release.wasm;
  const wasm = fs.readFileSync(wasmFile);
  const figures = {
    wasmBytes: wasm.length,
    wasmGzipBytes: zlib.gzipSync(wasm, { level: 9 }).length,
    mainJsBytes: fs.statSync(path.join(ROOT, 'dist/main.nodejs.js')).size,
    zipBytes: fs.statSync(zip).size,
  };
  log(`size: wasm ${figures.wasmBytes} B (gzip ${figures.wasmGzipBytes} B), main.nodejs.js ${figures.mainJsBytes} B, plugin.zip ${figures.zipBytes} B`);

  // ---- cold start
  const colds = [];
  for (let i = 0; i < COLD; i++) {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bench/cold.mjs'), zip], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cold start run failed: ${r.stderr}`);
    colds.push(JSON.parse(r.stdout.trim().split('\n').pop()));
  }
  figures.coldStartMs = median(colds.map((c) => c.coldStartMs));
  figures.coldLoadMs = median(colds.map((c) => c.loadMs));
  figures.coldFirstAnswerMs = median(colds.map((c) => c.firstAnswerMs));
  figures.firstJwksMs = median(colds.map((c) => c.firstJwksMs));
  log(`cold start: ${figures.coldStartMs.toFixed(1)} ms (load+instantiate ${figures.coldLoadMs.toFixed(1)} ms, first answer ${figures.coldFirstAnswerMs.toFixed(1)} ms; first JWKS incl. key creation ${figures.firstJwksMs.toFixed(1)} ms), median of ${COLD}`);

  // ---- through the dev host
  const host = await startDevHost({ zip, args: ['--quiet'] });
  try {
    const cookie = await login(host.baseUrl, host.username, host.password);
    const { tokens } = await obtainTokens(host, cookie, { scope: 'scrypted:admin' });
    const headers = {
      'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${tokens.access_token}`,
    };
    const post = async (body, sid, pv) => {
      const h = { ...headers };
      if (sid) h['mcp-session-id'] = sid;
      if (pv) h['mcp-protocol-version'] = pv;
      const r = await fetch(host.mcpUrl, { method: 'POST', headers: h, body: JSON.stringify(body) });
      return { r, text: await r.text() };
    };
    const init = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } });
    if (init.r.status !== 200) throw new Error(`initialize → ${init.r.status}: ${init.text}`);
    const sid = init.r.headers.get('mcp-session-id');
    const pv = JSON.parse(init.text.startsWith('{') ? init.text : init.text.split('data: ')[1]).result.protocolVersion;
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sid, pv);
    let id = 1;
    const call = async () => {
      const { r, text } = await post({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'get_server_info', arguments: {} } }, sid, pv);
      if (r.status !== 200) throw new Error(`tools/call → ${r.status}: ${text.slice(0, 300)}`);
      return text;
    };
    const sample = await call();
    const toolOk = /"result"/.test(sample) && !/"isError":\s*true/.test(sample);
    figures.tool = 'get_server_info';
    figures.toolAnswered = toolOk ? 'result' : 'error';
    if (!toolOk) log(`note: get_server_info did not return a result (${sample.slice(0, 160)}); timing the authenticated round trip anyway`);
    for (let i = 0; i < 30; i++) await call(); // warm-up

    const lat = [];
    for (let i = 0; i < CALLS; i++) {
      const s = performance.now();
      await call();
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    figures.latencyP50Ms = pct(lat, 50);
    figures.latencyP95Ms = pct(lat, 95);
    figures.latencyP99Ms = pct(lat, 99);
    log(`latency (sequential, ${CALLS} calls): p50 ${figures.latencyP50Ms.toFixed(2)} ms, p95 ${figures.latencyP95Ms.toFixed(2)} ms, p99 ${figures.latencyP99Ms.toFixed(2)} ms`);

    let done = 0;
    const end = performance.now() + SECONDS * 1000;
    const worker = async () => { while (performance.now() < end) { await call(); done++; } };
    const ts = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    figures.throughputPerSec = done / ((performance.now() - ts) / 1000);
    log(`throughput (${CONCURRENCY} concurrent, ${SECONDS} s): ${figures.throughputPerSec.toFixed(0)} calls/s`);

    const state = await host.state();
    figures.devHostRssMb = state.memory.rss / 1048576;
    log(`dev host RSS after the run: ${figures.devHostRssMb.toFixed(1)} MB`);
  } finally {
    await host.stop();
  }

  // ---- baseline
  const lowerIsBetter = (k) => !/throughput/i.test(k);
  let baseline = null;
  try { baseline = JSON.parse(fs.readFileSync(BASELINE, 'utf8')); } catch { /* first run */ }
  if ((!baseline && figures.toolAnswered === 'result') || argv.includes('--write-baseline')) {
    fs.writeFileSync(BASELINE, JSON.stringify({ writtenAt: new Date().toISOString(), node: process.version, figures }, null, 2) + '\n');
    log(`baseline written to ${path.relative(ROOT, BASELINE)}`);
  }
  if (!baseline && figures.toolAnswered !== 'result') log('no baseline written: the timed tool did not answer with a result yet');
  const base = baseline?.figures || figures;
  console.log('');
  console.log('figure                       current       baseline      ratio');
  for (const [k, v] of Object.entries(figures)) {
    if (typeof v !== 'number') { console.log(`${k.padEnd(28)} ${String(v).padStart(12)}`); continue; }
    const b = base[k];
    const ratio = typeof b === 'number' && b !== 0 ? v / b : NaN;
    const flag = Number.isFinite(ratio) && (lowerIsBetter(k) ? ratio > 1.25 : ratio < 0.8) ? '  ← worse' : '';
    console.log(`${k.padEnd(28)} ${v.toFixed(v < 100 ? 2 : 0).padStart(12)}  ${typeof b === 'number' ? b.toFixed(b < 100 ? 2 : 0).padStart(12) : '           -'}  ${Number.isFinite(ratio) ? ratio.toFixed(2) + 'x' : '-'}${flag}`);
  }
  if (argv.includes('--json')) console.log(JSON.stringify(figures));
}

main().catch((e) => {
  console.error(`[bench] FAILED: ${e.stack || e}`);
  process.exit(1);
});
