// The registry clients of tests/clients, installed and built by the test path itself, so a
// fresh machine needs nothing by hand (everything under the gitignored .cache/clients/):
// - Python: a venv with the pinned PyPI packages (idempotent; PyPI only). Cold: about 30 s;
//   warm: a stamp check.
// - rmcp: tests/clients/rmcp built with its Cargo.lock (crates.io only) into its own target
//   dir. Cold: about 4 min of compiling on 2 shared cores; warm: cargo's up-to-date check.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCli } from './conformance.mjs';
import { ROOT } from './devhost.mjs';

const run = promisify(execFile);
export const PY_PINS = ['mcp==2.3.0', 'fastmcp==4.2.3'];
const VENV = path.join(ROOT, '.cache', 'clients', 'python');
const SCRIPTS = path.join(ROOT, 'tests', 'clients', 'python');
const RMCP = path.join(ROOT, 'tests', 'clients', 'rmcp');
const RMCP_TARGET = path.join(ROOT, '.cache', 'clients', 'rmcp-target');

/** The venv's python, with PY_PINS installed. */
export async function ensurePythonClients() {
  const python = path.join(VENV, 'bin', 'python');
  const stamp = path.join(VENV, 'pins.txt');
  const want = PY_PINS.join('\n');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return python;
  mkdirSync(path.dirname(VENV), { recursive: true });
  await run('python3', ['-m', 'venv', '--clear', VENV], { timeout: 120_000 });
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...PY_PINS], {
    timeout: 600_000,
    maxBuffer: 16 << 20,
  });
  writeFileSync(stamp, want);
  return python;
}

/** The rmcp client's binary, built (or found up to date) from its Cargo.lock. */
export async function ensureRmcpClient() {
  const env = { ...process.env, CARGO_TARGET_DIR: RMCP_TARGET };
  // The wasm build's toolchain settings must not leak into a host build.
  for (const k of ['RUSTUP_TOOLCHAIN', 'CARGO_BUILD_TARGET']) delete env[k];
  await run('cargo', ['build', '--locked', '--quiet', '--manifest-path', path.join(RMCP, 'Cargo.toml')], {
    env,
    timeout: 900_000,
    maxBuffer: 16 << 20,
  });
  return path.join(RMCP_TARGET, 'debug', 'rmcp-client');
}

/** Runs one client (`cmd args`) and resolves with the JSON line it printed last. */
async function runClient(what, cmd, args, timeoutMs) {
  const r = await runCli(cmd, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}:\n${r.err.slice(-4000)}`);
  try {
    return JSON.parse(r.out.trim().split('\n').at(-1));
  } catch {
    throw new Error(`${what} printed no JSON line:\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
  }
}

/** tests/clients/python/run.py `args` (-B: no __pycache__ in the tree; -u: unbuffered). */
export function runPythonClient(python, args, { timeoutMs = 120_000 } = {}) {
  return runClient(`run.py ${args[0]}`, python, ['-B', '-u', path.join(SCRIPTS, 'run.py'), ...args], timeoutMs);
}

/** The rmcp client with `args`. */
export function runRmcpClient(binary, args, { timeoutMs = 120_000 } = {}) {
  return runClient(`rmcp-client ${args[0]}`, binary, args, timeoutMs);
}
