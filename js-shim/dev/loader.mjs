// Loads a plugin zip the way Scrypted's plugin worker does (docs/reference/scrypted-host.md §7,
// server/src/plugin/plugin-remote-worker.ts onLoadZip): unzip into a folder, make `fs/` the
// working directory, and — with no sdk.json in the zip — evaluate main.nodejs.js as a
// function body whose parameters are the injected globals (deviceManager, systemManager,
// mediaManager, endpointManager, localStorage, pluginHostAPI, pluginRuntimeAPI, console,
// require, module, exports, ...). The instance is `module.exports.default || module.exports`:
// a class (its source starts with "class ") is constructed with `new`; a function is called.
import AdmZip from 'adm-zip';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

const nodeRequire = createRequire(import.meta.url);

/**
 * @param {string} zipPath
 * @param {object} opts
 *   params   extra injected parameters (systemManager, deviceManager, endpointManager,
 *            mediaManager, localStorage, console, Date, ...)
 *   modules  {name: module} answered by the plugin's `require` instead of Node's (the
 *            dev host's simulated `os`)
 *   chdir    process.chdir into the zip's fs/ like Scrypted's main thread (default false:
 *            an in-process caller may not want its cwd changed)
 *   dir      where to unzip (default: a fresh temp dir)
 * @returns {{instance, exports, dir, fsDir, load: {unzipMs, evalMs, constructMs}}}
 */
export async function loadPluginZip(zipPath, opts = {}) {
  const t0 = performance.now();
  const zip = new AdmZip(zipPath);
  const dir = opts.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-plugin-'));
  zip.extractAllTo(dir, true);
  const fsDir = path.join(dir, 'fs');
  fs.mkdirSync(fsDir, { recursive: true });
  if (opts.chdir) process.chdir(fsDir);
  const t1 = performance.now();

  if (fs.existsSync(path.join(dir, 'sdk.json'))) {
    throw new Error('this loader evaluates zips without sdk.json (injected globals); the zip has one');
  }
  const mainFile = path.join(dir, 'main.nodejs.js');
  const script = fs.readFileSync(mainFile, 'utf8');

  const modules = opts.modules || {};
  const pluginRequire = (name) => {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    if (name === 'realfs') return nodeRequire('fs');
    if (name.startsWith('.')) {
      try { return nodeRequire(path.join(dir, name)); } catch { /* fall through */ }
    }
    return nodeRequire(name);
  };
  const module = { exports: {} };
  const params = {
    __filename: undefined,
    exports: module.exports,
    module,
    require: pluginRequire,
    console,
    pluginHostAPI: undefined,
    pluginRuntimeAPI: undefined,
    ...opts.params,
  };
  // Scrypted passes module and exports from the same object; keep that true when overridden.
  params.exports = params.module.exports;

  const fn = vm.compileFunction(script, Object.keys(params), { filename: '/scrypted-mcp/main.nodejs.js' });
  fn(...Object.values(params));
  const t2 = performance.now();

  const exports = params.module.exports;
  let instance = exports.default || exports;
  if (instance.toString().startsWith('class ')) instance = new instance();
  if (typeof instance === 'function') instance = await instance();
  const t3 = performance.now();
  return {
    instance,
    exports,
    dir,
    fsDir,
    load: { unzipMs: t1 - t0, evalMs: t2 - t1, constructMs: t3 - t2 },
  };
}
