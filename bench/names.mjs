// A copy of dist/plugin.zip whose wasm keeps its function names, for CPU profiles that name
// Rust's functions (`scrypted_mcp::oauth::bearer::check`, not `wasm-function[2299]`). The
// same code as the shipped wasm: the release build's raw wasm through the same two steps as
// js-shim/build.mjs, wasm-bindgen with `--keep-debug` and wasm-opt with its WASM_OPT_FLAGS
// and `--debuginfo` (binaryen keeps the names section; the code is optimised the same
// way). The zip's other files are the shipped ones: the glue is checked to be the same as
// the shipped build's.
// Used by bench/alloc.mjs --names.
import fs from 'node:fs';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { WASM_OPT_FLAGS, ensureBuilt, step } from '../js-shim/build.mjs';
import { ROOT, wasmBuildArgs, wasmEnv } from '../scripts/lib.mjs';

/** Writes `<dir>/plugin-names.zip` from this checkout's release build; returns its path. */
export async function namesZip(dir) {
  await ensureBuilt({ quiet: true });
  const env = wasmEnv({ ownStd: true });
  // Again, so the raw wasm is the release one (the fixture build writes the same file); a
  // no-op when it already is.
  step('cargo', [...wasmBuildArgs(), '--quiet'], env, 'cargo build (names)');
  const raw = path.join(env.CARGO_TARGET_DIR || path.join(ROOT, 'target'), 'wasm32-unknown-unknown/release/scrypted_mcp.wasm');
  const pkg = path.join(dir, 'pkg');
  step('wasm-bindgen', ['--target', 'web', '--keep-debug', '--out-dir', pkg, '--out-name', 'scrypted_mcp', raw], env, 'wasm-bindgen (names)');
  const wasm = path.join(pkg, 'scrypted_mcp_bg.wasm');
  step('wasm-opt', [...WASM_OPT_FLAGS, '--debuginfo', wasm, '-o', wasm], env, 'wasm-opt (names)');
  const glue = fs.readFileSync(path.join(pkg, 'scrypted_mcp.js'), 'utf8');
  if (glue !== fs.readFileSync(path.join(ROOT, 'pkg/scrypted_mcp.js'), 'utf8')) {
    throw new Error('the names build has other glue than pkg/ (run npm run build, then again)');
  }
  const zip = new AdmZip(path.join(ROOT, 'dist/plugin.zip'));
  zip.updateFile('scrypted_mcp_bg.wasm', fs.readFileSync(wasm));
  const out = path.join(dir, 'plugin-names.zip');
  zip.writeZip(out);
  return out;
}
