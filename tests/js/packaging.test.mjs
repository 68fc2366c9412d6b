// Packaging: dist/plugin.zip loads the way Scrypted's plugin worker loads it
// (docs/reference/scrypted-host.md §7: unzip, cwd = the zip's fs/ folder, no sdk.json → evaluate
// main.nodejs.js with injected parameters, instance = exports.default || exports, a class is
// constructed with new) and answers; `npm pack` yields what Scrypted's installNpm needs
// (package/dist/plugin.zip + package/package.json with the scrypted section and keyword);
// package.json's identity matches scrypted-manifest.json.
import AdmZip from 'adm-zip';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';
import { ensureBuilt, manifestFields } from '../../js-shim/build.mjs';
import { loadPluginZip } from '../../js-shim/dev/loader.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ZIP = path.join(ROOT, 'dist/plugin.zip');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'scrypted-manifest.json'), 'utf8'));
/**
 * Bytes of the shipped wasm after wasm-opt: the last measured size plus about 0.5 %. Raised
 * by the review fixes of 2026-12-07 (1,326,032 → 1,341,473: least privilege per argument
 * and device, rename and restore checks; docs/reference/wasm-toolchain.md, "Size"); lowered by
 * the wasm's own std (1,344,098 → 1,253,553: panics trap at once, std's smaller sorts); raised
 * by the fixes of 2026-12-08 (1,258,163 → 1,277,729: trap recovery, calls and tasks stopped
 * once their sign-in no longer allows them, secrets inside JSON, free text and multi-line
 * .env values, safe device ids, mixins kept for admins).
 */
const WASM_CEILING = 1_283_000;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-packaging-'));
const originalCwd = process.cwd();

before(async () => {
  await ensureBuilt({ variants: ['release'], quiet: true });
});
after(() => {
  process.chdir(originalCwd);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Minimal Scrypted-like managers: enough for the plugin to start and answer. */
function fakeManagers() {
  const storage = new Map();
  const calls = [];
  const listeners = [];
  const localStorage = {
    getItem: (k) => storage.get(k), // undefined for missing keys, like Scrypted's StorageImpl
    setItem: (k, v) => void storage.set(k, String(v)),
    removeItem: (k) => void storage.delete(k),
    clear: () => storage.clear(),
    key: (i) => [...storage.keys()][i],
    get length() { return storage.size; },
  };
  const components = {
    info: { getVersion: async () => '0.144.2', getScryptedEnv: async () => ({ SCRYPTED_INSECURE_PORT: '11080' }) },
  };
  const systemManager = {
    getComponent: async (name) => {
      calls.push(name);
      if (name === 'SCRYPTED_INSECURE_PORT') return 11080;
      if (name === 'SCRYPTED_SECURE_PORT') return 10443;
      return components[name];
    },
    getSystemState: () => ({}),
    getDeviceById: () => undefined,
    listen: (cb) => {
      listeners.push(cb);
      return { removeListener() {} };
    },
  };
  const endpointManager = {
    getLocalEndpoint: async (_n, o) => `${o?.insecure ? 'http' : 'https'}://127.0.0.1:${o?.insecure ? 11080 : 10443}/endpoint/scrypted-mcp/${o?.public ? 'public/' : ''}`,
    getPath: async (_n, o) => `/endpoint/scrypted-mcp/${o?.public ? 'public/' : ''}`,
  };
  const deviceManager = { getDeviceStorage: () => localStorage, onDeviceEvent: async () => {} };
  return { storage, calls, listeners, params: { systemManager, deviceManager, endpointManager, mediaManager: {}, localStorage } };
}

/**
 * Loads the zip with the dev host's loader (js-shim/dev/loader.mjs: plugin-remote-worker.ts
 * onLoadZip), cwd moved into its fs/ folder as Scrypted's worker does.
 */
async function loadLikeScrypted(zipFile, injected) {
  const dir = fs.mkdtempSync(path.join(tmp, 'unzipped-'));
  const loaded = await loadPluginZip(zipFile, { dir, chdir: true, params: injected });
  assert.ok(String(loaded.exports.default).startsWith('class '), 'the default export is a class Scrypted constructs with new');
  return loaded.instance;
}

/** Calls onRequest and collects what it sent; fails unless exactly one send* happened. */
async function request(plugin, req) {
  const sent = [];
  const res = {
    send: (body, options) => sent.push({ kind: 'send', body, ...options }),
    sendStream: (gen, options) => sent.push({ kind: 'sendStream', gen, ...options }),
    sendFile: (p) => sent.push({ kind: 'sendFile', p }),
  };
  await plugin.onRequest(req, res);
  assert.equal(sent.length, 1, `exactly one send per request, got ${sent.length}`);
  const r = sent[0];
  const headers = Object.fromEntries(Object.entries(r.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { ...r, headers, json: () => JSON.parse(String(r.body)) };
}

const base = (url, extra = {}) => ({
  method: 'GET',
  url: `/endpoint/scrypted-mcp/public${url}`,
  rootPath: '/endpoint/scrypted-mcp/public',
  isPublicEndpoint: true,
  headers: { host: '127.0.0.1:11080', accept: '*/*' },
  ...extra,
});

/**
 * The byte size of each function body in a wasm module's code section. Read by hand: the
 * section and body headers are a few LEB128 numbers, less than a wasm parser dependency
 * for one test.
 */
function functionBodySizes(wasm) {
  let at = 8; // past the magic number and the version
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < wasm.length) {
    const id = wasm[at++];
    const size = leb();
    const end = at + size;
    if (id === 10) {
      const sizes = [];
      for (let count = leb(); count > 0; count--) {
        const body = leb();
        sizes.push(body);
        at += body;
      }
      return sizes;
    }
    at = end;
  }
  throw new Error('the wasm has no code section');
}

describe('dist/plugin.zip', () => {
  test('layout: main.nodejs.js, README.md and the wasm beside it at the root, no sdk.json', () => {
    const zip = new AdmZip(ZIP);
    const names = zip.getEntries().map((e) => e.entryName).sort();
    assert.deepEqual(names, ['README.md', 'main.nodejs.js', 'scrypted-mcp-wasm.cjs', 'scrypted_mcp_bg.wasm']);
    const wasm = zip.readFile('scrypted_mcp_bg.wasm');
    assert.ok(wasm.subarray(0, 4).equals(Buffer.from('\0asm')), 'a wasm module, not text');
    // Scrypted compiles the whole script at every start (§7): the wasm must not ride in it as base64.
    const main = zip.readAsText('main.nodejs.js');
    assert.ok(!main.includes(Buffer.from('\0asm\x01\0\0\0').toString('base64').slice(0, 6)), 'no inlined wasm');
    assert.ok(main.length < 200_000, `main.nodejs.js is ${main.length} bytes`);
  });

  // Issue 12 asks for <= 1.0 MB; this ceiling follows each cut made towards it
  // (docs/reference/wasm-toolchain.md, "Size"), so a change that brings bytes back fails here.
  test('the wasm stays under its size ceiling', () => {
    const wasm = new AdmZip(ZIP).readFile('scrypted_mcp_bg.wasm');
    assert.ok(wasm.length <= WASM_CEILING, `the wasm is ${wasm.length} bytes, over its ${WASM_CEILING} ceiling`);
  });

  // A giant function is compiled whole by the first request that calls it: why
  // js-shim/build.mjs WASM_OPT_FLAGS keeps one-caller functions apart (-Oz alone made 63 KB ones).
  test('no function in the wasm is a giant that the first request compiles whole', () => {
    const sizes = functionBodySizes(new AdmZip(ZIP).readFile('scrypted_mcp_bg.wasm'));
    assert.ok(sizes.length > 1000, `read only ${sizes.length} function bodies`);
    const largest = Math.max(...sizes);
    assert.ok(largest <= 40_000, `the largest function body is ${largest} bytes`);
  });

  // Panics carry no location (scripts/lib.mjs OWN_STD_RUSTFLAGS: they trap at once, and
  // nothing ever read their text), so the wasm names no Rust source file at all: no path of
  // the build machine (its cargo home, std's source). The build before that named 195.
  test('the wasm names no Rust source file, so no path of the build machine', () => {
    const text = new AdmZip(ZIP).readFile('scrypted_mcp_bg.wasm').toString('latin1');
    assert.deepEqual([...text.matchAll(/[\w.-]+\/[\w/.-]*?\.rs\b/g)].map((m) => m[0]).slice(0, 5), []);
  });

  test('finds its wasm through the unzipped folder, whatever the cwd (a worker thread is not moved into fs/)', async () => {
    const elsewhere = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    const dir = fs.mkdtempSync(path.join(tmp, 'unzipped-'));
    process.chdir(elsewhere);
    try {
      const { instance } = await loadPluginZip(ZIP, { dir, chdir: false, params: fakeManagers().params });
      const r = await request(instance, base('/.well-known/oauth-protected-resource'));
      assert.equal(r.code, 200);
    } finally {
      process.chdir(originalCwd);
    }
  });

  test("the wasm answers a request at once when it waits on no host call, else with a Promise", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'unzipped-'));
    const { instance } = await loadPluginZip(ZIP, { dir, chdir: false, params: fakeManagers().params });
    const head = Buffer.from(JSON.stringify({ method: 'GET', url: '/endpoint/scrypted-mcp/public/.well-known/oauth-protected-resource', rootPath: '/endpoint/scrypted-mcp/public', headers: { host: '127.0.0.1:11080' }, username: null, aclId: null }));
    // The first request after a start waits for the server's ports (a host call).
    const first = instance.wasm.handle(head, null, 0);
    assert.ok(first instanceof Promise);
    assert.match(await first, /^200 /);
    // Known from then on: no Promise, no microtask (issue 12: a Promise a request was ~1 KB of JS heap).
    const second = instance.wasm.handle(head, null, 0);
    assert.equal(typeof second, 'string');
    assert.match(second, /^200 /);
  });

  let plugin;
  let fake;
  test('loads like Scrypted: cwd in fs/, injected globals, exports.default constructed', async () => {
    fake = fakeManagers();
    plugin = await loadLikeScrypted(ZIP, fake.params);
    assert.equal(typeof plugin.onRequest, 'function');
    assert.equal(typeof plugin.getSettings, 'function');
    assert.equal(typeof plugin.putSetting, 'function');
    assert.equal(path.basename(process.cwd()), 'fs');
    assert.equal(fake.listeners.length, 1, 'one systemManager.listen for the plugin\'s life');
  });

  test('answers GET .../public/.well-known/oauth-protected-resource with 200 JSON', async () => {
    const r = await request(plugin, base('/.well-known/oauth-protected-resource'));
    assert.equal(r.kind, 'send');
    assert.equal(r.code, 200);
    assert.match(String(r.headers['content-type']), /application\/json/);
    const j = r.json();
    assert.equal(j.resource, 'http://127.0.0.1:11080/endpoint/scrypted-mcp/public/mcp');
  });

  test('answers POST .../public/mcp without a token with 401 and WWW-Authenticate', async () => {
    const r = await request(plugin, base('/mcp', {
      method: 'POST',
      headers: { host: '127.0.0.1:11080', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      username: 'admin', // Scrypted fills username from its own credentials; the MCP endpoint must ignore it
    }));
    assert.equal(r.code, 401);
    assert.match(String(r.headers['www-authenticate']), /^Bearer .*resource_metadata="http:\/\/127\.0\.0\.1:11080\/endpoint\/scrypted-mcp\/public\/\.well-known\/oauth-protected-resource"/);
  });

  test('every body form Scrypted delivers reaches Rust intact and gets exactly one answer', async () => {
    const token = (body, ct) => request(plugin, base('/token', { method: 'POST', headers: { host: '127.0.0.1:11080', 'content-type': ct }, body }));
    // An unknown grant_type is answered `unsupported_grant_type` only when the body's fields
    // were read; a lost body would be `invalid_request` (no grant_type).
    const fields = { grant_type: 'nope', code: 'abc+def' };
    for (const [body, ct] of [
      [JSON.stringify(fields), 'application/x-www-form-urlencoded'], // Scrypted: form fields as a JSON string
      ['grant_type=nope&code=abc%2Bdef', 'application/x-www-form-urlencoded'], // other hosts: the raw form
      [JSON.stringify(fields), 'application/json'], // Scrypted: JSON re-serialized
      [fields, 'application/json'], // an object (not what Scrypted sends, but carried all the same)
    ]) {
      const r = await token(body, ct);
      assert.equal(r.kind, 'send');
      assert.equal(r.code, 400, String(r.body));
      assert.equal(r.json().error, 'unsupported_grant_type', `${ct} ${typeof body}: ${r.body}`);
    }
    // Buffer-JSON (other application/* types), a Buffer, and no body at all: no fields.
    for (const [body, ct] of [
      [JSON.stringify(Buffer.from('grant_type=nope')), 'application/octet-stream'],
      [Buffer.from('grant_type=nope'), 'application/octet-stream'],
      [undefined, undefined],
    ]) {
      const r = await token(body, ct);
      assert.equal(r.kind, 'send');
      assert.equal(r.json().error, 'invalid_request', String(r.body));
    }
  });

  // The head crosses as JSON text written into one buffer reused by every request (js-shim/plugin.js
  // headBytes). A metadata answer echoes the Origin header as access-control-allow-origin
  // (src/origin.rs cors), which shows what Rust read. The writer's cases: a quote, a backslash
  // and a control character (unescaped, the head is not JSON: 500), non-ASCII and a lone
  // surrogate (U+FFFD), a name in capitals, a repeated header, a head past the buffer's first
  // 4 KB, a value sent again (written from the bytes kept from the last request) and changed;
  // and the answer options the shim keeps from the last answer are not sent for another.
  test('the request head reaches Rust as Scrypted gave it, whatever its characters and size', async () => {
    const echo = async (headers) => {
      const r = await request(plugin, base('/.well-known/oauth-protected-resource', { headers: { host: '127.0.0.1:11080', ...headers } }));
      assert.equal(r.code, 200, String(r.body));
      return r.headers['access-control-allow-origin'];
    };
    const odd = 'https://a"b\\c\u0001d.example/é☃😀';
    assert.equal(await echo({ origin: odd }), odd);
    assert.equal(await echo({ origin: 'https://x.example/\ud800' }), 'https://x.example/\ufffd');
    assert.equal(await echo({ Origin: 'https://capital.example' }), 'https://capital.example');
    assert.equal(await echo({ origin: ['https://one.example', 'https://two.example'] }), 'https://one.example, https://two.example');
    const long = `https://${'é'.repeat(5000)}.example`;
    assert.equal(await echo({ origin: long }), long);
    assert.equal(await echo({ origin: 'https://after.example' }), 'https://after.example');
    assert.equal(await echo({ origin: 'https://after.example' }), 'https://after.example');
    assert.equal(await echo({}), undefined);
  });

  test('a head kept across admit is its own: a request arriving in the wait does not change it', async (t) => {
    // A body above sentWithHead goes to admit first and to handle after admit's answer; when
    // that answer is a Promise (admit waited on a host call: made so here), the next
    // request's head is written into the shim's reused buffer meanwhile.
    const admit = plugin.wasm.admit;
    plugin.wasm.admit = (...args) => Promise.resolve(admit.apply(plugin.wasm, args));
    t.after(() => { plugin.wasm.admit = admit; });
    const host = '127.0.0.1:11080';
    const body = 'x'.repeat(70_000);
    const first = request(plugin, base('/token', { method: 'POST', headers: { host, origin: 'https://first.example', 'content-type': 'application/json' }, body }));
    const second = request(plugin, base('/.well-known/oauth-protected-resource', { headers: { host, origin: 'https://second.example' } }));
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.code, 400, String(a.body));
    assert.equal(a.json().error_description, 'request body too large', 'handled by /token after admit');
    assert.equal(a.headers['access-control-allow-origin'], 'https://first.example');
    assert.equal(b.code, 200);
    assert.equal(b.headers['access-control-allow-origin'], 'https://second.example');
  });

  test('Settings: getSettings gives an array, a bad putSetting rejects with the Rust message', async () => {
    const settings = await plugin.getSettings();
    assert.ok(Array.isArray(settings));
    // The rejection is an Error carrying Rust's message (src/settings/), which the Settings tab shows.
    await assert.rejects(plugin.putSetting('no_such_setting_xyz', 1), (e) => e instanceof Error && /^Unknown setting no_such_setting_xyz\b/.test(e.message));
  });

  // A trap leaves the wasm unusable (js-shim/plugin.js): the request it hit gets Rust's
  // fallback 500, every later one the 503 Rust wrote at start-up without entering the wasm,
  // and Scrypted is asked once to restart the plugin. Each case on a plugin loaded afresh,
  // as Scrypted's restart loads it. The real trap, through the dev host: tests/js/trap.test.mjs.
  test('a trap gets the fallback 500, then 503s without entering the wasm, and one restart request', async () => {
    // A trap in the part of a request the wasm runs at once throws from handle; one after a
    // wait rejects its Promise.
    const traps = [
      () => { throw new WebAssembly.RuntimeError('unreachable'); },
      () => Promise.reject(new WebAssembly.RuntimeError('unreachable')),
    ];
    for (const trap of traps) {
      const fresh = fakeManagers();
      let restarts = 0;
      fresh.params.deviceManager.requestRestart = async () => { restarts++; };
      const trapping = await loadLikeScrypted(ZIP, fresh.params);
      let entered = 0;
      trapping.wasm.handle = (...args) => { entered++; return trap(...args); };
      const r = await request(trapping, base('/.well-known/oauth-protected-resource'));
      assert.equal(r.kind, 'send');
      assert.equal(r.code, 500);
      assert.match(String(r.headers['content-type']), /application\/json/);
      assert.equal(r.json().error, 'internal_error');
      assert.match(r.json().error_description, /console/);
      for (let i = 0; i < 2; i++) {
        const later = await request(trapping, base('/.well-known/oauth-protected-resource'));
        assert.equal(later.code, 503);
        assert.equal(later.headers['retry-after'], '20');
        assert.equal(later.json().error, 'temporarily_unavailable');
      }
      await assert.rejects(trapping.getSettings(), /restarting it/);
      assert.equal(entered, 1, 'the wasm is not entered after the trap');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(restarts, 1);
    }
    // Another error out of a call (a rejection Rust chose) fails that request only.
    const handle = plugin.wasm.handle;
    plugin.wasm.handle = () => Promise.reject(new Error('not a trap'));
    try {
      assert.equal((await request(plugin, base('/.well-known/oauth-protected-resource'))).code, 500);
    } finally {
      plugin.wasm.handle = handle;
    }
    assert.equal((await request(plugin, base('/.well-known/oauth-protected-resource'))).code, 200);
  });

  // Each awaited answer is raced against a trap (js-shim/plugin.js unlessTrapped); the race
  // must not outlive the request, or every answer ever awaited stays in memory.
  test('answers awaited from the wasm are not kept once sent', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    const handle = plugin.wasm.handle;
    plugin.wasm.handle = () => Promise.resolve(`200 {}\n${'x'.repeat(50_000)}${Math.random()}`);
    try {
      const heap = () => { gc(); return process.memoryUsage().heapUsed; };
      const before = heap();
      for (let i = 0; i < 400; i++) {
        assert.equal((await request(plugin, base('/.well-known/oauth-protected-resource'))).code, 200);
      }
      const grown = heap() - before;
      assert.ok(grown < 5_000_000, `the heap grew by ${grown} bytes over 400 answers of 50 KB`);
    } finally {
      plugin.wasm.handle = handle;
    }
  });

  test('plugin storage goes through the injected localStorage', async () => {
    // The first OAuth request creates the signing key in storage.
    await request(plugin, base('/.well-known/jwks.json'));
    assert.ok(fake.storage.size > 0, 'the plugin stored something through localStorage');
  });
});

describe('npm pack', () => {
  test('package.json identity is generated from scrypted-manifest.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const want = manifestFields(manifest);
    for (const k of ['name', 'version', 'description', 'keywords', 'license', 'scrypted']) {
      assert.deepEqual(pkg[k], want[k], `package.json ${k} must equal the manifest's`);
    }
    assert.deepEqual(pkg.files, ['dist/plugin.zip']);
    assert.notEqual(pkg.type, 'module', 'type: module would make Scrypted import() the CommonJS bundle');
    assert.ok(pkg.keywords.includes('scrypted') && pkg.keywords.includes('mcp'));
    assert.deepEqual(pkg.scrypted, { name: manifest.displayName, type: manifest.type, interfaces: manifest.interfaces });
  });

  test('the tarball has package/dist/plugin.zip and package/package.json with the scrypted section', async () => {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const info = JSON.parse(out)[0];
    const unpacked = path.join(tmp, 'npm-package');
    fs.mkdirSync(unpacked, { recursive: true });
    const names = [];
    await tar.x({ file: path.join(tmp, info.filename), cwd: unpacked, onReadEntry: (e) => names.push(e.path) });
    names.sort();
    const files = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(unpacked, n))]));
    assert.ok(names.includes('package/dist/plugin.zip'), names.join(', '));
    assert.ok(names.includes('package/package.json'), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith('package/src/') || n.startsWith('package/js-shim/') || n.startsWith('package/target/')),
      `only the zip and npm's defaults are packed: ${names.join(', ')}`);
    const pkg = JSON.parse(files['package/package.json'].toString('utf8'));
    assert.equal(pkg.name, manifest.name);
    assert.ok(pkg.keywords.includes('scrypted'));
    assert.deepEqual(pkg.scrypted.interfaces, manifest.interfaces);
    assert.equal(pkg.scrypted.name, manifest.displayName);
    assert.ok(files['package/dist/plugin.zip'].equals(fs.readFileSync(ZIP)), 'the packed zip is dist/plugin.zip');
    // What Scrypted does with it after installNpm: load that zip and send it requests.
    const plugin = await loadLikeScrypted(path.join(unpacked, 'package/dist/plugin.zip'), fakeManagers().params);
    const r = await request(plugin, base('/.well-known/oauth-protected-resource'));
    assert.equal(r.code, 200);
    assert.equal(r.json().resource, 'http://127.0.0.1:11080/endpoint/scrypted-mcp/public/mcp');
  });
});
