#!/usr/bin/env node
// npm run build — dist/plugin.zip, ready for a Scrypted server.
//
//   1. package.json's identity (name, version, description, keywords, license, `scrypted`
//      section) is regenerated from scrypted-manifest.json, the one place it is written.
//   2. the wasm: cargo build --release --target wasm32-unknown-unknown, wasm-bindgen --target web
//      (its JS glue), wasm-opt with WASM_OPT_FLAGS (npm binaryen 132, which must be on PATH:
//      the build fails loudly otherwise). These are the three steps wasm-pack would run;
//      calling them directly spares a fresh machine installing wasm-pack (1.5–4 min of cargo
//      install).
//   3. esbuild bundles js-shim/plugin.js + host.js + the wasm-bindgen glue into one CommonJS
//      main.nodejs.js; the wasm stays a file (instantiated with initSync from a Buffer).
//   4. dist/plugin.zip = main.nodejs.js, README.md, the wasm and the small module that reads
//      it (WASM_MODULE) at the root, no sdk.json (so Scrypted evaluates main.nodejs.js with
//      injected globals: docs/reference/scrypted-host.md §7, §8).
//
// Each step is skipped when its inputs have not changed (content-hash stamps), so a warm
// `npm start` / `npm test` costs a few milliseconds here.
//
// Usage: node js-shim/build.mjs [--fixture | --all] [--force] [--quiet]
//   --fixture  the conformance fixture build (--features conformance-fixtures, no wasm-opt)
//              into dist/fixture/plugin.zip
//   --all      both
//   --no-wasm  bundle the existing pkg*/ output without rebuilding the wasm (or env
//              SCRYPTED_MCP_NO_WASM_BUILD=1): for shim work while the Rust tree does not compile
// In-process: import { ensureBuilt } from './js-shim/build.mjs'; await ensureBuilt({variant}).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, ensureSetup, sha256, wasmBuildArgs, wasmEnv } from '../scripts/lib.mjs';

const MANIFEST = path.join(ROOT, 'scrypted-manifest.json');

const VARIANTS = {
  release: {
    pkgDir: path.join(ROOT, 'pkg'),
    distDir: path.join(ROOT, 'dist'),
    features: [],
    optimize: true,
  },
  fixture: {
    pkgDir: path.join(ROOT, 'pkg-fixture'),
    distDir: path.join(ROOT, 'dist/fixture'),
    features: ['conformance-fixtures'],
    optimize: false,
  },
};

function say(quiet, ...a) {
  if (!quiet) console.error('[build]', ...a);
}

// ------------------------------------------------------------------ 1. package.json from the manifest

const readManifest = () => JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));

/** The package.json fields derived from scrypted-manifest.json. */
export function manifestFields(manifest = readManifest()) {
  return {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    keywords: manifest.keywords,
    license: manifest.license,
    scrypted: {
      name: manifest.displayName,
      type: manifest.type,
      interfaces: manifest.interfaces,
    },
  };
}

/** Writes the derived fields into package.json (only when they differ). Returns true if written. */
function syncPackageJson({ quiet = false } = {}) {
  const file = path.join(ROOT, 'package.json');
  const text = fs.readFileSync(file, 'utf8');
  const pkg = JSON.parse(text);
  const fields = manifestFields();
  // Keep a stable key order: identity first, then everything else as it was.
  const out = {};
  for (const k of ['name', 'version', 'description', 'keywords', 'license']) out[k] = fields[k];
  for (const [k, v] of Object.entries(pkg)) if (!(k in out) && k !== 'scrypted') out[k] = v;
  out.scrypted = fields.scrypted;
  const next = JSON.stringify(out, null, 2) + '\n';
  if (next === text) return false;
  fs.writeFileSync(file, next);
  say(quiet, 'package.json: identity regenerated from scrypted-manifest.json');
  return true;
}

// ------------------------------------------------------------------ hashing inputs

function listFiles(dir, filter = () => true) {
  const out = [];
  const walk = (d) => {
    let entries;
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (filter(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function hashFiles(files, extra = '') {
  const parts = [Buffer.from(extra)];
  for (const f of files) {
    parts.push(Buffer.from(`\0${path.relative(ROOT, f)}\0`));
    try { parts.push(fs.readFileSync(f)); } catch { parts.push(Buffer.from('<missing>')); }
  }
  return sha256(Buffer.concat(parts));
}

function wasmInputs() {
  return [
    ...listFiles(path.join(ROOT, 'src'), (p) => p.endsWith('.rs')),
    path.join(ROOT, 'Cargo.toml'),
    path.join(ROOT, 'Cargo.lock'),
    path.join(ROOT, 'build.rs'),
    MANIFEST,
  ];
}

function readStamp(file) {
  try { return fs.readFileSync(file, 'utf8').trim(); } catch { return ''; }
}

// ------------------------------------------------------------------ 2. the wasm

/**
 * wasm-opt's flags for the shipped wasm (and bench/names.mjs' copy of it). `-Oz` alone
 * inlines every function that has one caller, whatever its size, and so made the request
 * path a few functions of 36-63 KB; V8 compiles a wasm function whole on its first call
 * (Liftoff, lazily), so the first request after a start compiled every method's and every
 * branch's code in them. Above 200 of binaryen's size units (its count of a function's
 * expressions) a function with one caller stays a function: 1.3 KB more wasm, a third fewer
 * instructions in the first request (docs/reference/wasm-toolchain.md, "Size").
 */
export const WASM_OPT_FLAGS = ['-Oz', '--one-caller-inline-max-function-size', '200'];

function checkWasmOpt(env) {
  const r = spawnSync('wasm-opt', ['--version'], { env, encoding: 'utf8' });
  if (r.status !== 0 || !/version[ _]132\b/.test(r.stdout || '')) {
    throw new Error(
      'wasm-opt (npm binaryen 132) is not on PATH — the wasm would ship unoptimised. ' +
        'Run `npm run setup`. Got: ' + ((r.stdout || '') + (r.stderr || '') || String(r.error)).trim(),
    );
  }
}

/** Runs one build step with the wasm toolchain's environment; throws naming the step. */
export function step(cmd, args, env, what) {
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}. Run \`npm run setup\`.`);
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} exit ${r.status})`);
}

function buildWasm(variant = 'release', { force = false, quiet = false, skipWasm = false } = {}) {
  const v = VARIANTS[variant];
  const stampFile = path.join(v.pkgDir, '.build-stamp');
  const env = wasmEnv({ ownStd: true });
  const cargo = wasmBuildArgs(v.features);
  // The rustc flags and cargo's arguments are an input too: a change to them rebuilds.
  const want = hashFiles(
    wasmInputs(),
    JSON.stringify({ variant, features: v.features, optimize: v.optimize && WASM_OPT_FLAGS, rustflags: env.CARGO_ENCODED_RUSTFLAGS, cargo }),
  );
  const wasmFile = path.join(v.pkgDir, 'scrypted_mcp_bg.wasm');
  if (skipWasm && fs.existsSync(wasmFile)) {
    say(quiet, `wasm (${variant}): --no-wasm: using ${path.relative(ROOT, wasmFile)} as it is`);
    return { built: false, wasmFile, ms: 0 };
  }
  if (!force && readStamp(stampFile) === want && fs.existsSync(wasmFile)) {
    say(quiet, `wasm (${variant}): up to date`);
    return { built: false, wasmFile, ms: 0 };
  }
  if (v.optimize) checkWasmOpt(env);
  const t0 = Date.now();
  say(quiet, `wasm (${variant}): cargo ${cargo.join(' ')}  [RUSTUP_TOOLCHAIN=${env.RUSTUP_TOOLCHAIN || '(default)'}]`);
  step('cargo', cargo, env, `cargo build (${variant})`);
  fs.rmSync(v.pkgDir, { recursive: true, force: true });
  const raw = path.join(env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'wasm32-unknown-unknown/release/scrypted_mcp.wasm');
  step('wasm-bindgen', ['--target', 'web', '--out-dir', v.pkgDir, '--out-name', 'scrypted_mcp', raw], env, `wasm-bindgen (${variant})`);
  if (v.optimize) {
    say(quiet, `wasm (${variant}): wasm-opt ${WASM_OPT_FLAGS.join(' ')}`);
    step('wasm-opt', [...WASM_OPT_FLAGS, wasmFile, '-o', wasmFile], env, `wasm-opt (${variant})`);
  }
  if (!fs.existsSync(wasmFile)) throw new Error(`the build produced no ${wasmFile}`);
  fs.writeFileSync(stampFile, want + '\n');
  const ms = Date.now() - t0;
  say(quiet, `wasm (${variant}): ${fs.statSync(wasmFile).size} bytes in ${(ms / 1000).toFixed(1)} s`);
  return { built: true, wasmFile, ms };
}

// ------------------------------------------------------------------ 3 + 4. bundle and zip

/** Required by js-shim/plugin.js at run time (its WASM_MODULE); reads the wasm beside it. */
const WASM_MODULE = 'scrypted-mcp-wasm.cjs';
const WASM_FILE = 'scrypted_mcp_bg.wasm';
const WASM_MODULE_TEXT = `// scrypted-mcp: the wasm bytes, read from this module's own folder (the unzipped plugin).
module.exports = require('fs').readFileSync(require('path').join(__dirname, ${JSON.stringify(WASM_FILE)}));
`;

/** The README Scrypted shows on the plugin page: README.plugin.md, else README.md. */
function readmeText() {
  for (const name of ['README.plugin.md', 'README.md']) {
    const f = path.join(ROOT, name);
    if (fs.existsSync(f)) return fs.readFileSync(f);
  }
  const m = readManifest();
  return Buffer.from(`# ${m.displayName}\n\n${m.description}\n`);
}

async function bundle(variant = 'release', { force = false, quiet = false } = {}) {
  const v = VARIANTS[variant];
  const glue = path.join(v.pkgDir, 'scrypted_mcp.js');
  const wasmFile = path.join(v.pkgDir, 'scrypted_mcp_bg.wasm');
  const zipFile = path.join(v.distDir, 'plugin.zip');
  const stampFile = path.join(v.distDir, '.build-stamp');
  const inputs = [
    glue, wasmFile,
    path.join(ROOT, 'js-shim/plugin.js'), path.join(ROOT, 'js-shim/host.js'),
    path.join(ROOT, 'js-shim/build.mjs'), path.join(ROOT, 'README.md'), path.join(ROOT, 'README.plugin.md'), MANIFEST,
  ];
  const want = hashFiles(inputs, variant);
  if (!force && readStamp(stampFile) === want && fs.existsSync(zipFile)) {
    say(quiet, `zip (${variant}): up to date`);
    return { built: false, zipFile };
  }
  const esbuild = await import('esbuild');
  const { default: AdmZip } = await import('adm-zip');
  const t0 = Date.now();
  const virtual = {
    name: 'scrypted-mcp-wasm',
    setup(b) {
      b.onResolve({ filter: /^scrypted-mcp:wasm-glue$/ }, () => ({ path: glue }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [path.join(ROOT, 'js-shim/plugin.js')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    // The glue's default init path uses import.meta.url; we only call initSync.
    define: { 'import.meta.url': '"file:///scrypted-mcp/main.nodejs.js"' },
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [virtual],
    banner: { js: `// scrypted-mcp ${readManifest().version} (${variant}) — built by js-shim/build.mjs` },
  });
  const main = Buffer.from(result.outputFiles[0].contents);
  fs.mkdirSync(v.distDir, { recursive: true });
  const zip = new AdmZip();
  zip.addFile('main.nodejs.js', main);
  zip.addFile('README.md', readmeText());
  zip.addFile(WASM_MODULE, Buffer.from(WASM_MODULE_TEXT));
  // Deflated like the rest, not stored: Scrypted keeps the zip base64 in its database and
  // in every backup, and stored made deploy → first answer 1.42× the floor's, not 1.26×
  // (docs/reference/scrypted-host.md §13, session w).
  zip.addFile(WASM_FILE, fs.readFileSync(wasmFile));
  const tmp = zipFile + '.tmp';
  zip.writeZip(tmp);
  fs.renameSync(tmp, zipFile);
  fs.writeFileSync(path.join(v.distDir, 'main.nodejs.js'), main);
  fs.writeFileSync(stampFile, want + '\n');
  say(quiet, `zip (${variant}): ${zipFile} (${fs.statSync(zipFile).size} bytes; main.nodejs.js ${main.length} bytes) in ${Date.now() - t0} ms`);
  return { built: true, zipFile };
}

// ------------------------------------------------------------------ entry points

/** A cross-process lock so two commands never build at once. */
async function withLock(fn) {
  const lock = path.join(ROOT, '.cache/build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      let holder = 0;
      try { holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')); } catch { /* being written */ }
      let alive = false;
      if (holder) { try { process.kill(holder, 0); alive = true; } catch { alive = false; } }
      let stale = holder && !alive;
      if (!holder) {
        try { stale = Date.now() - fs.statSync(lock).mtimeMs > 10_000; } catch { stale = false; }
      }
      if (stale) { fs.rmSync(lock, { recursive: true, force: true }); continue; }
      if (Date.now() - t0 > 30 * 60_000) throw new Error(`build lock ${lock} held too long`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try { return await fn(); } finally { fs.rmSync(lock, { recursive: true, force: true }); }
}

/** Setup (if needed), package.json sync, wasm and zip for the given variants. Idempotent. */
export async function ensureBuilt({ variants = ['release'], force = false, quiet = false, skipWasm = false } = {}) {
  ensureSetup({ quiet: true });
  skipWasm ||= !!process.env.SCRYPTED_MCP_NO_WASM_BUILD;
  return withLock(async () => {
    syncPackageJson({ quiet });
    const out = {};
    for (const variant of variants) {
      const w = buildWasm(variant, { force, quiet, skipWasm });
      const z = await bundle(variant, { force: force || w.built, quiet });
      out[variant] = { zip: z.zipFile, wasm: w.wasmFile, wasmBuildMs: w.ms };
    }
    return out;
  });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const argv = process.argv.slice(2);
  const variants = argv.includes('--all') ? ['release', 'fixture'] : argv.includes('--fixture') ? ['fixture'] : ['release'];
  try {
    const t0 = Date.now();
    const out = await ensureBuilt({ variants, force: argv.includes('--force'), quiet: argv.includes('--quiet'), skipWasm: argv.includes('--no-wasm') });
    for (const [variant, o] of Object.entries(out)) {
      console.log(`${variant}: ${path.relative(ROOT, o.zip)} (wasm ${fs.statSync(o.wasm).size} bytes)`);
    }
    console.error(`[build] done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(`[build] FAILED: ${e.message}`);
    process.exit(1);
  }
}
