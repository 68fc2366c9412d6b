// Shared helpers of the project's commands (setup check, paths, the wasm build's environment).
// Only node: builtins here: this runs before `npm ci` on a fresh machine.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = path.join(ROOT, '.cache');

export function sha256(...buffers) {
  const h = createHash('sha256');
  for (const b of buffers) h.update(b);
  return h.digest('hex');
}

function setupHash() {
  const parts = ['scripts/setup.sh', 'package-lock.json'].map((f) => {
    try { return fs.readFileSync(path.join(ROOT, f)); } catch { return Buffer.alloc(0); }
  });
  return sha256(Buffer.concat(parts)).slice(0, 16);
}

/** True when `npm run setup` has run against the current setup.sh and lockfile. */
export function setupIsCurrent() {
  try {
    const stamp = fs.readFileSync(path.join(CACHE, 'setup.stamp'), 'utf8').trim();
    return stamp === setupHash()
      && fs.existsSync(path.join(ROOT, 'node_modules/.bin/esbuild'))
      && fs.existsSync(path.join(CACHE, 'toolchain.env'));
  } catch {
    return false;
  }
}

/** Runs scripts/setup.sh unless it already ran for this tree (it is idempotent either way). */
export function ensureSetup({ quiet = true } = {}) {
  if (setupIsCurrent()) return;
  const r = spawnSync('bash', [path.join(ROOT, 'scripts/setup.sh'), ...(quiet ? ['--quiet'] : [])], {
    stdio: 'inherit',
    cwd: ROOT,
  });
  if (r.status !== 0) throw new Error(`scripts/setup.sh failed (exit ${r.status})`);
}

// The shipped wasm's own std. A panic in wasm32-unknown-unknown ends in a trap
// (`unreachable`), and std's panic hook has no output on this target (its `panic_output()` is
// `None`; the plugin sets no hook of its own), so a panic's message and location were never
// read by anyone. The panic strategy `immediate-abort` traps at once: no message formatting,
// no hook machinery, no panic locations (`-Zlocation-detail=none`: no source path in the
// wasm). It needs a std compiled with it, so cargo builds std from the toolchain's source
// (`-Zbuild-std`: Debian's rust-web-src, which setup installs and checks), and these are
// unstable flags: RUSTC_BOOTSTRAP=1, as setup's std build already uses. std's
// `optimize_for_size` feature picks its smaller sorts and number formatting (the same
// results). alloc is compiled at opt-level 3, as the prebuilt std was: at the crate's "s",
// every request ran 2.2 % more instructions (its B-tree and vector code). Legacy symbol
// names: with the bootstrap flag rustc names symbols v0-style, and wasm-bindgen copies the
// names into the glue's export names. −91 KB of wasm, the same instructions per request:
// docs/reference/wasm-toolchain.md "Size".
const OWN_STD_CARGO = ['-Zbuild-std=std,panic_abort', '-Zbuild-std-features=optimize_for_size', '--config', 'profile.release.package.alloc.opt-level=3'];
const OWN_STD_RUSTFLAGS = ['-Zunstable-options', '-Cpanic=immediate-abort', '-Zlocation-detail=none', '-Csymbol-mangling-version=legacy'];

/**
 * The environment for the wasm build: the toolchain setup chose, our wasm-opt first on PATH.
 * `ownStd`: for `wasmBuildArgs`' build, which compiles its own std with `OWN_STD_RUSTFLAGS`;
 * without it, for a cargo command on the toolchain's prebuilt std (clippy).
 */
export function wasmEnv({ ownStd = false } = {}) {
  const env = { ...process.env };
  const home = process.env.HOME || '/root';
  const cargoHome = process.env.CARGO_HOME || path.join(home, '.cargo');
  const cargoBin = path.join(cargoHome, 'bin');
  env.PATH = [path.join(ROOT, 'node_modules/.bin'), cargoBin, env.PATH].join(path.delimiter);
  for (const k of ['RUSTC', 'RUSTFLAGS', 'CARGO_BUILD_TARGET', 'CARGO_ENCODED_RUSTFLAGS']) delete env[k];
  // Set even when empty: it overrides any `rustflags` of a developer's cargo config, so the
  // wasm is built the same way on every machine.
  env.CARGO_ENCODED_RUSTFLAGS = ownStd ? OWN_STD_RUSTFLAGS.join('\x1f') : '';
  if (ownStd) env.RUSTC_BOOTSTRAP = '1';
  try {
    const txt = fs.readFileSync(path.join(CACHE, 'toolchain.env'), 'utf8');
    const m = /^WASM_RUSTUP_TOOLCHAIN=(.*)$/m.exec(txt);
    if (m && m[1].trim()) env.RUSTUP_TOOLCHAIN = m[1].trim();
  } catch { /* setup not run */ }
  return env;
}

/** cargo's arguments for the shipped wasm's build (and the fixture's, with its features). */
export function wasmBuildArgs(features = []) {
  return ['build', '--lib', '--release', '--target', 'wasm32-unknown-unknown', ...OWN_STD_CARGO, ...(features.length ? ['--features', features.join(',')] : [])];
}

/**
 * The options of one of the project's commands, read by node's `parseArgs` in strict mode: a
 * misspelt option or one missing its value stops the command with a message instead of being
 * ignored (a bench run with a typo would otherwise run for many minutes with defaults).
 * `--help` / `-h` prints the command's header comment, which is its documentation, and exits.
 * `options` is parseArgs' option table; `numbers` names options whose value must be a
 * number >= 0.
 */
export function commandLine(scriptUrl, options, numbers = []) {
  const file = fileURLToPath(scriptUrl);
  const name = path.relative(ROOT, file);
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (e) {
    console.error(`${name}: ${e.message}\n(node ${name} --help lists the options)`);
    process.exit(2);
  }
  if (values.help) {
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    if (lines[0].startsWith('#!')) lines.shift();
    const doc = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
    console.log(doc.map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  }
  for (const n of numbers) {
    if (values[n] !== undefined && !(Number(values[n]) >= 0)) {
      console.error(`${name}: --${n} must be a number >= 0, not ${JSON.stringify(values[n])}`);
      process.exit(2);
    }
  }
  return values;
}
