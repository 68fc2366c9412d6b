#!/usr/bin/env node
// npm test — every suite, from a fresh machine or warm:
//   0. setup (if needed) and build: dist/plugin.zip and the conformance fixture
//      dist/fixture/plugin.zip (each only when its sources changed)
//   1. cargo test            (all Rust tests, host toolchain)
//   2. the Rust standard: `cargo fmt --check`, `cargo clippy --all-targets --all-features -- -D warnings`
//      (host), and clippy on the wasm build (src/wasm/ compiles only there); one test each
//   3. node --test tests/js/*.test.mjs   (shim + real wasm + dev host, e2e, packaging,
//      conformance)
// and ends with ONE line `N passed, M failed` summed over all suites; exits non-zero on any
// failure (a suite that crashes without reporting counts as one failure).
//
// Options: --no-cargo, --no-js, --only <substring> (JS files whose name contains it).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBuilt } from '../js-shim/build.mjs';
import { CACHE, ROOT, commandLine, wasmEnv } from './lib.mjs';

const args = commandLine(import.meta.url, { 'no-cargo': { type: 'boolean' }, 'no-js': { type: 'boolean' }, only: { type: 'string' } });
const has = (f) => args[f.slice(2)] === true;
const { only } = args;

/** Runs a command, streaming its output to ours; resolves {code, out}. */
function runStreaming(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    const onData = (stream) => (d) => {
      stream.write(d);
      out += d;
      if (out.length > 4_000_000) out = out.slice(-2_000_000);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('error', (e) => resolve({ code: 127, out: out + String(e) }));
    child.on('exit', (code, sig) => resolve({ code: code ?? (sig ? 1 : 0), out }));
  });
}

const suites = [];
const t0 = Date.now();

// ---------------------------------------------------------------- 0. build
try {
  const t = Date.now();
  await ensureBuilt({ variants: ['release', 'fixture'] });
  console.error(`[test] build ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`[test] build failed: ${e.message}`);
  suites.push({ name: 'build', passed: 0, failed: 1 });
}

// ---------------------------------------------------------------- 1. cargo test
if (!has('--no-cargo')) {
  const env = { ...process.env };
  for (const k of ['RUSTUP_TOOLCHAIN', 'CARGO_BUILD_TARGET']) delete env[k];
  // The second run adds the conformance fixture tools, which the MCP tests of streams,
  // elicitation, progress, cancellation and the 2026-07-28 diagnostics need (`mod fixtures`
  // of tests/mcp and tests/modern).
  const runs = [
    ['cargo test', []],
    ['cargo test (conformance fixtures)', ['--features', 'conformance-fixtures', '--test', 'mcp', '--test', 'modern']],
  ];
  for (const [name, extra] of runs) {
    const t = Date.now();
    const r = await runStreaming('cargo', ['test', '--no-fail-fast', '--color', 'never', ...extra], { env });
    let passed = 0;
    let failed = 0;
    let results = 0;
    for (const m of r.out.matchAll(/test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed/g)) {
      passed += Number(m[1]);
      failed += Number(m[2]);
      results++;
    }
    if (r.code !== 0 && failed === 0) failed = 1; // compile error or crash
    if (results === 0 && r.code === 0) console.error(`[test] ${name} reported no test results`);
    suites.push({ name, passed, failed, ms: Date.now() - t });
  }
}

// ---------------------------------------------------------------- 2. fmt and clippy
if (!has('--no-cargo')) {
  const host = { ...process.env };
  for (const k of ['RUSTUP_TOOLCHAIN', 'CARGO_BUILD_TARGET']) delete host[k];
  const clippy = ['clippy', '--all-features', '--color', 'never'];
  const deny = ['--', '-D', 'warnings'];
  const checks = [
    ['cargo fmt --check', ['fmt', '--check'], host, '`cargo fmt` rewrites the files'],
    ['cargo clippy (host, all targets)', [...clippy, '--all-targets', ...deny], host, 'run `cargo clippy --all-targets --all-features -- -D warnings`'],
    // With the toolchain the wasm is built with (wasmEnv picks it, as the build does) and its
    // own clippy (Debian's rust-web-clippy, which npm run setup installs): one version newer
    // than the host's, so a lint may fail here alone.
    ['cargo clippy (wasm32)', [...clippy, '--lib', '--target', 'wasm32-unknown-unknown', ...deny], wasmEnv(),
      'run `RUSTUP_TOOLCHAIN=debian-web cargo clippy --all-features --lib --target wasm32-unknown-unknown -- -D warnings`'],
  ];
  for (const [name, cargoArgs, env, hint] of checks) {
    const t = Date.now();
    const r = await runStreaming('cargo', cargoArgs, { env });
    const ok = r.code === 0;
    if (!ok) console.error(`[test] ${name} failed (what it found is above): ${hint}`);
    suites.push({ name, passed: ok ? 1 : 0, failed: ok ? 0 : 1, ms: Date.now() - t });
  }
}

// ---------------------------------------------------------------- 3. node --test
if (!has('--no-js')) {
  const dir = path.join(ROOT, 'tests/js');
  const files = fs.readdirSync(dir)
    .filter((f) => f.endsWith('.test.mjs') && (!only || f.includes(only)))
    .sort()
    .map((f) => path.join('tests/js', f));
  if (files.length) {
    fs.mkdirSync(CACHE, { recursive: true });
    const tap = path.join(CACHE, 'node-test.tap');
    const t = Date.now();
    const r = await runStreaming(process.execPath, [
      '--test',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`,
      ...files,
    ], { env: { ...process.env, FORCE_COLOR: '0' } });
    let passed = 0;
    let failed = 0;
    let tapText = '';
    try { tapText = fs.readFileSync(tap, 'utf8'); } catch { /* no report */ }
    const p = /^# pass (\d+)$/m.exec(tapText);
    const f = /^# fail (\d+)$/m.exec(tapText);
    if (p) passed = Number(p[1]);
    if (f) failed = Number(f[1]);
    if (r.code !== 0 && failed === 0) failed = 1;
    suites.push({ name: `node --test (${files.length} files)`, passed, failed, ms: Date.now() - t });
  } else {
    console.error('[test] no tests/js/*.test.mjs files');
  }
}

// ---------------------------------------------------------------- summary
const passed = suites.reduce((n, s) => n + s.passed, 0);
const failed = suites.reduce((n, s) => n + s.failed, 0);
console.log('');
for (const s of suites) {
  console.log(`[test] ${s.name}: ${s.passed} passed, ${s.failed} failed${s.ms ? ` (${(s.ms / 1000).toFixed(1)} s)` : ''}`);
}
console.log(`[test] total time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
