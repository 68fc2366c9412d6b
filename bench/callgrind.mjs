#!/usr/bin/env node
// Instructions per request of one plugin build, counted by callgrind: a figure that a busy
// machine does not move much (CPU ms per request from `bench/run.mjs` swings ±30 % on two
// shared cores). Not a test; needs valgrind (Debian's `valgrind` package).
//
//   node bench/callgrind.mjs [--zip dist/plugin.zip] [--point legacy|modern|nohost] [--warmup 300] [--calls 400]
//
// bench/harness.mjs loading the zip runs under `valgrind --tool=callgrind node --single-threaded`
// (one thread: no compiler or GC helper threads in the count); a token from its own OAuth flow;
// --warmup calls of the point at c=1 (bench/load.mjs), the counters zeroed, --calls calls,
// a dump. Prints one JSON line: {zip, point, calls, instructions, perCall}. Compare two builds
// by running each (alternately, twice or more): the ratio of perCall is the figure.
// perCall is not the steady state: V8's optimizing compiler (`compiler::` in
// `callgrind_annotate` of a kept dump) is still ~40 % of the counted window after 300 calls
// (nohost, 1.36M per call), 28 % after 1,500 (0.99M), 18 % after 6,000 (0.84M) and 17 %
// after 12,000 (0.82M), while outside valgrind `--trace-opt` sees no new optimization after
// ~8,000 calls. So a change's ratio is only as good as the two runs' compiling alike; a
// larger --warmup takes the count closer to the request's own work (2 min at 12,000).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine } from '../scripts/lib.mjs';
import { obtainTokens } from '../tests/js/helpers/oauth.mjs';
import { POINTS } from './points.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const args = commandLine(import.meta.url, { zip: { type: 'string' }, point: { type: 'string' }, warmup: { type: 'string' }, calls: { type: 'string' } }, ['warmup', 'calls']);
const opt = (name, fallback) => args[name.slice(2)] ?? fallback;
const ZIP = path.resolve(opt('--zip', path.join(BENCH, '../dist/plugin.zip')));
const POINT = opt('--point', 'legacy');
const WARMUP = Number(opt('--warmup', 300));
const CALLS = Number(opt('--calls', 400));
const PORT = String(18290 + (process.pid % 100));
if (!POINTS[POINT]) throw new Error(`--point: one of ${Object.keys(POINTS).join(', ')}`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-callgrind-'));
const out = path.join(work, 'callgrind.out');
fs.mkdirSync(path.join(work, 'volume'));
const child = spawn(
  'valgrind',
  ['-q', '--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', path.join(BENCH, 'harness.mjs')],
  { env: { ...process.env, PORT, ZIP, VOLUME: path.join(work, 'volume') }, stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  await new Promise((resolve, reject) => {
    let printed = '';
    child.stdout.on('data', (d) => {
      printed += d;
      if (printed.includes('listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`harness exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${PORT}/endpoint/scrypted-mcp/public`;
  const host = { url: (p) => base + p, mcpUrl: `${base}/mcp` };
  const { tokens } = await obtainTokens(host, 'login_user_token_insecure=bench', { scope: 'scrypted:admin' });
  const calls = (n) =>
    execFileSync(process.execPath, [
      path.join(BENCH, 'load.mjs'), host.mcpUrl, '--token', tokens.access_token, ...POINTS[POINT].args,
      '--concurrency', '1', '--duration', '3600', '--warmup', '0', '--max-requests', String(n), '--json',
    ]);
  // load.mjs reads --max-requests 0 as no limit: with --warmup 0 the first call is counted.
  if (WARMUP > 0) calls(WARMUP);
  execFileSync('callgrind_control', ['--zero', String(child.pid)], { stdio: 'ignore' });
  calls(CALLS);
  execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
  // The first dump after the start is `<out>.1`; its summary line counts the --calls calls.
  const instructions = Number(fs.readFileSync(`${out}.1`, 'utf8').match(/^summary: (\d+)/m)[1]);
  console.log(JSON.stringify({ zip: ZIP, point: POINT, calls: CALLS, instructions, perCall: Math.round(instructions / CALLS) }));
} finally {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
}
