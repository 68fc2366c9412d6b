#!/usr/bin/env node
// Instructions per request of one plugin build, counted by callgrind: a figure that a busy
// machine does not move much (CPU ms per request from `bench/run.mjs` swings ±30 % on two
// shared cores). Not a test; needs valgrind (Debian's `valgrind` package).
//
//   node bench/callgrind.mjs [--zip dist/plugin.zip] [--point legacy|modern|nohost] [--warmup 300] [--calls 400]
//                            [--footprint [--names] [--top 15]] [--callers <regex> [--names]]
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
// --footprint: also how much of V8's code (JIT code and builtins) the --calls calls ran, in
// KB of distinct 64-byte lines by kind (wasm TurboFan and Liftoff code, JS, builtins; read
// by bench/footprint.mjs) and the --top wasm functions by it: what a worker fetches again
// after each sleep at c=1 (scrypted-host.md §13, session z). Use few calls after a long
// warm-up (--warmup 8000 --calls 5), so that no function is optimised inside the window (its
// old and new code would both count). --names measures this checkout's build with the
// wasm's function names kept (bench/names.mjs).
// --callers <regex>: who calls the code whose name matches (a JavaScript regular expression
// over node's perf map names, e.g. `memcmp` or `BTreeMap<K,V,A>::get`), with calls and
// inclusive instructions per call by the caller's code: where the cuts of
// docs/reference/wasm-toolchain.md's 2026-12-07 row were found. Rust's names need --names.
// An inclusive figure through JS or V8's own code can hold far more than the named code (a
// callgrind function entered by a jump counts whole): check one that surprises against a
// direct measure (`volumeAppend`'s write read ~107K a call here, 4.8K alone).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandLine } from '../scripts/lib.mjs';
import { obtainTokens } from '../tests/js/helpers/oauth.mjs';
import { callers, footprint } from './footprint.mjs';
import { namesZip } from './names.mjs';
import { POINTS } from './points.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const string = { type: 'string' };
const flag = { type: 'boolean' };
const args = commandLine(import.meta.url, { zip: string, point: string, warmup: string, calls: string, footprint: flag, names: flag, top: string, callers: string }, ['warmup', 'calls', 'top']);
const opt = (name, fallback) => args[name.slice(2)] ?? fallback;
if (args.names && (!(args.footprint || args.callers) || args.zip !== undefined)) throw new Error('--names: only with --footprint or --callers, and it measures this checkout\'s build (no --zip)');
if (args.top !== undefined && !args.footprint && !args.callers) throw new Error('--top: only with --footprint or --callers');
const POINT = opt('--point', 'legacy');
const WARMUP = Number(opt('--warmup', 300));
const CALLS = Number(opt('--calls', 400));
const PORT = String(18290 + (process.pid % 100));
if (!POINTS[POINT]) throw new Error(`--point: one of ${Object.keys(POINTS).join(', ')}`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-callgrind-'));
const ZIP = args.names ? await namesZip(work) : path.resolve(opt('--zip', path.join(BENCH, '../dist/plugin.zip')));
const out = path.join(work, 'callgrind.out');
fs.mkdirSync(path.join(work, 'volume'));
// Each instruction's cost, and node's map of its JIT code's addresses to names.
const CALLERS = args.callers === undefined ? undefined : new RegExp(args.callers);
const footprintArgs = args.footprint || CALLERS ? { valgrind: ['--dump-instr=yes'], node: ['--perf-basic-prof'] } : { valgrind: [], node: [] };
const child = spawn(
  'valgrind',
  ['-q', '--tool=callgrind', ...footprintArgs.valgrind, `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', ...footprintArgs.node, path.join(BENCH, 'harness.mjs')],
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
  const dump = fs.readFileSync(`${out}.1`, 'utf8');
  const instructions = Number(dump.match(/^summary: (\d+)/m)[1]);
  const result = { zip: ZIP, point: POINT, calls: CALLS, instructions, perCall: Math.round(instructions / CALLS) };
  if (args.footprint) {
    // Valgrind runs node in its own process, so the map is named after the child's pid.
    const { byKind, functions } = footprint(dump, fs.readFileSync(`/tmp/perf-${child.pid}.map`, 'utf8'), CALLS);
    const kb = (bytes) => Math.round(bytes / 102.4) / 10;
    const wasm = functions.filter((f) => f.kind.startsWith('wasm'));
    Object.assign(result, {
      codeKB: Object.fromEntries(Object.entries(byKind).map(([kind, k]) => [kind, { kb: kb(k.bytes), irPerCall: k.irPerCall }])),
      wasmFunctions: wasm.length,
      top: wasm.slice(0, Number(args.top ?? 15)).map((f) => [kb(f.bytes), f.irPerCall, f.name]),
    });
  }
  if (CALLERS) {
    const map = fs.readFileSync(`/tmp/perf-${child.pid}.map`, 'utf8');
    result.callers = callers(dump, map, CALLS, CALLERS).slice(0, Number(args.top ?? 15));
  }
  console.log(JSON.stringify(result));
} finally {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
}
