#!/usr/bin/env node
// npm run bench — benchmarks (not tests): figures and ratios against bench/baseline.json
// (the first run writes it; `--write-baseline` rewrites it).
//
//   size        wasm after wasm-opt -Oz, gzipped, main.nodejs.js and plugin.zip
//   cold start  fresh process: unzip + evaluate the bundle (wasm compile + instantiate) +
//               construct + first answer (median of N runs)
//   latency     authenticated tools/call through the dev host, one at a time (p50/p95/p99),
//               in a legacy session and as stateless MCP 2026-07-28 requests, side by side
//   throughput  the same with C concurrent clients for a fixed time (calls/s), both eras
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
import { modernInit } from '../tests/js/helpers/mcp.mjs';

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
    const legacyCall = async () => {
      const { r, text } = await post({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'get_server_info', arguments: {} } }, sid, pv);
      if (r.status !== 200) throw new Error(`tools/call → ${r.status}: ${text.slice(0, 300)}`);
      return text;
    };
    // The same call in MCP 2026-07-28: no session; version, client and capabilities in
    // every request's _meta, mirrored by the standard headers.
    const modernCall = async () => {
      const r = await fetch(host.mcpUrl, modernInit(tokens.access_token, 'tools/call', { name: 'get_server_info', arguments: {} }, { id: id++ }));
      const text = await r.text();
      if (r.status !== 200) throw new Error(`modern tools/call → ${r.status}: ${text.slice(0, 300)}`);
      return text;
    };
    const sample = await legacyCall();
    const toolOk = /"result"/.test(sample) && !/"isError":\s*true/.test(sample);
    figures.tool = 'get_server_info';
    figures.toolAnswered = toolOk ? 'result' : 'error';
    if (!toolOk) log(`note: get_server_info did not return a result (${sample.slice(0, 160)}); timing the authenticated round trip anyway`);
    const modernSample = await modernCall();
    if (!/"resultType":"complete"/.test(modernSample)) throw new Error(`modern tools/call gave no complete result: ${modernSample.slice(0, 300)}`);

    // Both eras in one run on the same host, interleaved so that warm-up, the audit trail
    // filling up to its cap and the machine's other load weigh on both alike: the ratio is
    // what counts.
    const eras = { legacy: legacyCall, modern: modernCall };
    for (let i = 0; i < 250; i++) for (const call of Object.values(eras)) await call(); // warm-up
    const lat = { legacy: [], modern: [] };
    for (let i = 0; i < CALLS; i++) {
      const order = i % 2 ? ['modern', 'legacy'] : ['legacy', 'modern'];
      for (const era of order) {
        const s = performance.now();
        await eras[era]();
        lat[era].push(performance.now() - s);
      }
    }
    // Throughput: CONCURRENCY clients, in alternating one-second slices per era.
    const done = { legacy: 0, modern: 0 };
    const spent = { legacy: 0, modern: 0 };
    for (let slice = 0; slice < 2 * SECONDS; slice++) {
      const era = slice % 2 ? 'modern' : 'legacy';
      const ts = performance.now();
      const end = ts + 1000;
      const worker = async () => { while (performance.now() < end) { await eras[era](); done[era]++; } };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      spent[era] += performance.now() - ts;
    }
    const summary = (era) => {
      const sorted = lat[era].sort((a, b) => a - b);
      return { p50: pct(sorted, 50), p95: pct(sorted, 95), p99: pct(sorted, 99), perSec: done[era] / (spent[era] / 1000) };
    };
    const legacy = summary('legacy');
    const modern = summary('modern');
    // The legacy figures keep their names, so the baseline still compares them.
    for (const [prefix, m] of [['', legacy], ['modern', modern]]) {
      const name = (figure) => (prefix ? prefix + figure[0].toUpperCase() + figure.slice(1) : figure);
      Object.assign(figures, {
        [name('latencyP50Ms')]: m.p50,
        [name('latencyP95Ms')]: m.p95,
        [name('latencyP99Ms')]: m.p99,
        [name('throughputPerSec')]: m.perSec,
      });
    }
    log(`tools/call get_server_info, ${CALLS} sequential calls per era, then ${CONCURRENCY} concurrent clients for ${SECONDS} s per era:`);
    log('                         p50 ms    p95 ms    p99 ms   calls/s');
    for (const [name, m] of [['legacy (session)', legacy], ['modern (stateless)', modern]]) {
      log(`  ${name.padEnd(20)} ${m.p50.toFixed(2).padStart(8)}  ${m.p95.toFixed(2).padStart(8)}  ${m.p99.toFixed(2).padStart(8)}  ${m.perSec.toFixed(0).padStart(8)}`);
    }
    log(`  modern / legacy      ${(modern.p50 / legacy.p50).toFixed(2).padStart(7)}x  ${(modern.p95 / legacy.p95).toFixed(2).padStart(7)}x  ${(modern.p99 / legacy.p99).toFixed(2).padStart(7)}x  ${(modern.perSec / legacy.perSec).toFixed(2).padStart(7)}x`);

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
