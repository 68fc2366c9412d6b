// The Python MCP clients of tests/clients/python, installed by the test path itself: a venv
// under .cache/clients/ with the pinned PyPI packages (idempotent; the PyPI registry only), so a
// fresh machine needs nothing by hand. Cold: about 30 s (measured); warm: a stamp check.
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

/**
 * Runs tests/clients/python/run.py with `args`; resolves with its JSON line. Rejects with
 * the script's stderr when it fails.
 */
export async function runPythonClient(python, args, { timeoutMs = 120_000 } = {}) {
  // -B: no __pycache__ in the tree; -u: unbuffered.
  const r = await runCli(python, ['-B', '-u', path.join(SCRIPTS, 'run.py'), ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`run.py ${args[0]} exited ${r.code ?? r.signal}:\n${r.err.slice(-4000)}`);
  try {
    return JSON.parse(r.out.trim().split('\n').at(-1));
  } catch {
    throw new Error(`run.py ${args[0]} printed no JSON line:\n${r.out.slice(-2000)}\n${r.err.slice(-2000)}`);
  }
}
