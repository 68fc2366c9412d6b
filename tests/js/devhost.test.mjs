// The dev host behaves like Scrypted where a plugin can tell (docs/reference/scrypted-host.md §3,
// §6.2, §6.6), and js-shim/host.js calls Scrypted's API as §10 says. A tiny echo plugin zip
// (built here, loaded by the dev host the way Scrypted loads plugins) reports what it was
// given; host.js runs against the dev host's simulated components.
import AdmZip from 'adm-zip';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_ZIP, startDevHost } from '../../js-shim/dev/devhost.mjs';
import { PLUGIN_ID, VIEWER } from '../../js-shim/dev/demo.mjs';
import { Runtime } from '../../js-shim/dev/runtime.mjs';
import { createHost } from '../../js-shim/host.js';
import { startDevHost as startRealPlugin, waitFor } from './helpers/devhost.mjs';
import { initialize, mcpRequest, parseSse } from './helpers/mcp.mjs';
import { login, obtainTokens } from './helpers/oauth.mjs';
import { createHash } from 'node:crypto';

/** A demo device id (js-shim/dev/demo.json): the Kitchen Light. */
const LIGHT = '10';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-devhost-test-'));
const ECHO = `
class Echo {
  async onRequest(req, res) {
    const local = req.url.slice(req.rootPath.length);
    if (local === '/nosend') return;
    if (local === '/throw') throw new Error('boom');
    res.send(JSON.stringify({ req, now: Date.now(), cwd: process.cwd(), globals: {
      systemManager: typeof systemManager, deviceManager: typeof deviceManager,
      endpointManager: typeof endpointManager, localStorage: typeof localStorage } }),
      { code: 200, headers: { 'content-type': 'application/json' } });
  }
}
exports.default = Echo;
`;

let host;
let calls = 0;
before(async () => {
  const zip = new AdmZip();
  zip.addFile('main.nodejs.js', Buffer.from(ECHO));
  const zipPath = path.join(tmp, 'echo.zip');
  zip.writeZip(zipPath);
  host = await startDevHost({ port: 0, zip: zipPath, quiet: true });
  const inner = host.plugin.instance.onRequest.bind(host.plugin.instance);
  host.plugin.instance.onRequest = (req, res) => { calls++; return inner(req, res); };
});
after(async () => {
  await host?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const pub = (p = '/echo') => `${host.baseUrl}/endpoint/scrypted-mcp/public${p}`;
async function echo(url, init = {}) {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
}
async function loginCookie(username, password, headers = {}) {
  const r = await fetch(`${host.baseUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ username, password }) });
  const set = r.headers.getSetCookie()[0] ?? '';
  return { cookie: set.split(';')[0], body: await r.json() };
}

describe('loading', () => {
  test('the echo plugin got the injected managers (§7); in-process the dev host leaves the cwd alone', async () => {
    const { json } = await echo(pub());
    assert.deepEqual(json.globals, { systemManager: 'object', deviceManager: 'object', endpointManager: 'object', localStorage: 'object' });
    assert.equal(json.cwd, process.cwd()); // chdir into fs/ is server.mjs's (and packaging.test.mjs checks it)
  });
});

describe('§6.6 username / aclId', () => {
  test('public without credentials: none', async () => {
    const { json } = await echo(pub());
    assert.equal(json.req.username, undefined);
    assert.equal(json.req.aclId, undefined);
    assert.equal(json.req.rootPath, '/endpoint/scrypted-mcp/public');
    assert.equal(json.req.isPublicEndpoint, true);
  });
  test('login: wrong password → 200 {"error":"Incorrect password."}; GET /login not logged in', async () => {
    const r = await fetch(`${host.baseUrl}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"admin","password":"nope"}' });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { error: 'Incorrect password.' });
    const g = await (await fetch(`${host.baseUrl}/login`)).json();
    assert.equal(g.error, 'Not logged in.');
  });
  test('http cookie → admin; the https cookie alone over http → none; forged → none', async () => {
    const { cookie } = await loginCookie('admin', 'admin-password');
    assert.match(cookie, /^login_user_token_insecure=s%3A/);
    assert.equal((await echo(pub(), { headers: { cookie } })).json.req.username, 'admin');
    const httpsOnly = cookie.replace('login_user_token_insecure=', 'login_user_token=');
    assert.equal((await echo(pub(), { headers: { cookie: httpsOnly } })).json.req.username, undefined);
    const forged = cookie.replace(/\.[^.]+$/, '.AAAA');
    assert.equal((await echo(pub(), { headers: { cookie: forged } })).json.req.username, undefined);
  });
  test('X-Forwarded-Proto https (trusted from loopback) → the https cookie counts', async () => {
    const { cookie } = await loginCookie('admin', 'admin-password', { 'x-forwarded-proto': 'https' });
    assert.match(cookie, /^login_user_token=/);
    assert.equal((await echo(pub(), { headers: { cookie, 'x-forwarded-proto': 'https' } })).json.req.username, 'admin');
    assert.equal((await echo(pub(), { headers: { cookie } })).json.req.username, undefined);
  });
  test('Scrypted bearer (/login authorization) and ?scryptedToken= → admin', async () => {
    const { body } = await loginCookie('admin', 'admin-password');
    assert.match(body.authorization, /^Bearer /);
    assert.equal((await echo(pub(), { headers: { authorization: body.authorization } })).json.req.username, 'admin');
    assert.equal((await echo(pub(`/echo?scryptedToken=${body.queryToken.scryptedToken}`))).json.req.username, 'admin');
  });
  test('non-admin cookie → viewer with its aclId', async () => {
    const { cookie } = await loginCookie('viewer', 'viewer-password');
    const { json } = await echo(pub(), { headers: { cookie } });
    assert.equal(json.req.username, 'viewer');
    assert.equal(json.req.aclId, VIEWER.aclId);
  });
  test('private route: 401 without login and the plugin is not called; with a cookie it is', async () => {
    const before = calls;
    const r = await echo(`${host.baseUrl}/endpoint/scrypted-mcp/echo`);
    assert.equal(r.status, 401);
    assert.equal(r.text, 'Not Authorized');
    assert.equal(calls, before);
    const { cookie } = await loginCookie('admin', 'admin-password');
    const ok = await echo(`${host.baseUrl}/endpoint/scrypted-mcp/echo`, { headers: { cookie } });
    assert.equal(ok.json.req.username, 'admin');
    assert.equal(ok.json.req.rootPath, '/endpoint/scrypted-mcp');
  });
});

describe('§6.2 bodies', () => {
  const post = (body, ct) => echo(pub(), { method: 'POST', headers: ct ? { 'content-type': ct } : {}, body });
  test('JSON arrives re-serialized as a string', async () => {
    const { json } = await post('{"a":1.50,"b":"\\u00e9","c":[1, 2]}', 'application/json; charset=utf-8');
    assert.equal(json.req.body, '{"a":1.5,"b":"é","c":[1,2]}');
  });
  test('JSON over 100 KB → 413 HTML, invalid JSON → 400 HTML; the plugin is not called', async () => {
    const before = calls;
    const big = await post(JSON.stringify({ a: 'x'.repeat(110 * 1024) }), 'application/json');
    assert.equal(big.status, 413);
    assert.match(big.headers.get('content-type'), /text\/html/);
    const bad = await post('{nope', 'application/json');
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type'), /text\/html/);
    assert.equal(calls, before);
  });
  test('form → JSON string of the decoded fields; text/plain as is; octet-stream → Buffer-JSON', async () => {
    assert.equal((await post('grant_type=authorization_code&code=abc%2Bdef', 'application/x-www-form-urlencoded')).json.req.body,
      '{"grant_type":"authorization_code","code":"abc+def"}');
    assert.equal((await post('hello', 'text/plain')).json.req.body, 'hello');
    assert.equal((await post(Buffer.from([201, 123]), 'application/octet-stream')).json.req.body, '{"type":"Buffer","data":[201,123]}');
  });
  test('no content-type, and GET/DELETE → undefined', async () => {
    assert.equal((await post(Buffer.from('x=1'))).json.req.body, undefined); // fetch adds no content-type for bytes
    assert.equal((await echo(pub())).json.req.body, undefined);
    assert.equal((await echo(pub(), { method: 'DELETE' })).json.req.body, undefined);
  });
});

describe('responses', () => {
  test("Scrypted's own CORS headers are added", async () => {
    const r = await echo(pub());
    assert.equal(r.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
  });
  test('onRequest resolving without send, or throwing → 500 Internal Plugin Error', async () => {
    for (const p of ['/nosend', '/throw']) {
      const r = await echo(pub(p));
      assert.equal(r.status, 500);
      assert.equal(r.text, 'Internal Plugin Error');
    }
  });
  test("/__devhost/storage puts a new map in place, as Scrypted does when storage changes behind the plugin's back (§5); the plugin's own setItem and removeItem edit the map in place", async () => {
    const own = host.runtime.device(host.runtime.rootId(PLUGIN_ID));
    const set = (key, value) => fetch(`${host.baseUrl}/__devhost/storage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key, value }) });
    const first = own.storage;
    assert.equal((await set('behind', 'v')).status, 200);
    assert.notEqual(own.storage, first, 'a new map');
    assert.equal(own.storage.behind, 'v');
    assert.equal(first.behind, undefined, 'the old map is left as it was');
    const second = own.storage;
    assert.equal((await set('behind', null)).status, 200);
    assert.notEqual(own.storage, second);
    assert.equal('behind' in own.storage, false);
    const { localStorage } = host.runtime.pluginParams();
    const third = own.storage;
    localStorage.setItem('mine', 'v');
    assert.equal(own.storage, third, "the plugin's own write keeps the map");
    assert.equal(third.mine, 'v');
    localStorage.removeItem('mine');
    assert.equal(own.storage, third);
  });
  test('/__devhost/clock moves the Date.now() the plugin sees', async () => {
    const t0 = (await echo(pub())).json.now;
    const r = await (await fetch(`${host.baseUrl}/__devhost/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"advanceMs":7200000}' })).json();
    assert.equal(r.offsetMs, 7_200_000);
    const t1 = (await echo(pub())).json.now;
    assert.ok(t1 - t0 >= 7_200_000, `${t1 - t0}`);
  });
});

// What each host.js entry answers over the simulated components is pinned by the shared
// host-behaviour cases (tests/host-cases.json, run here by host-cases.test.mjs and against the
// Rust fake by tests/host_cases.rs). These tests cover what those cannot: the notices, the
// storage, volume and clock members, and the RPC proxy itself.
describe('host.js notices, storage, volume and clock over the simulated globals', () => {
  const rt = new Runtime({ log: () => {} });
  const lines = [];
  const quiet = { log: (m) => lines.push(['log', m]), warn: (m) => lines.push(['warn', m]), error: (m) => lines.push(['error', m]) };
  const h = createHost(rt.pluginParams(), { console: quiet, os: rt.osModule(), nativeId: undefined });
  test("a logger that does not exist yet is made with the titles Rust gives (the server's own later entries carry them)", async () => {
    // logger.ts getLogger keeps a child with the title it was first given.
    assert.equal('/device/14' in rt.data.loggers, false, 'the sensor has no logger yet');
    await h.call('logs', { path: ['device', '14'], titles: ['Devices', 'Hallway Sensor'] });
    assert.equal(rt.data.loggers['/device/14'], 'Hallway Sensor');
    await h.call('clearLogs', { path: ['device', '15'], titles: ['Devices', 'Back Door Contact'] });
    assert.equal(rt.data.loggers['/device/15'], 'Back Door Contact');
  });
  test('defer runs the named entry from a timer, after the call returned; a failing one is logged', async () => {
    const b64 = await h.call('createBackup', {});
    assert.ok(new AdmZip(Buffer.from(b64, 'base64')).getEntries().length > 0, 'createBackup is a real zip');
    h.notify('defer', { delayMs: 10, method: 'restoreBackup', args: { data: b64 } });
    h.notify('defer', { delayMs: 10, method: 'restartServer', args: {} });
    h.notify('defer', { delayMs: 10, method: 'reloadPlugin', args: { pluginId: '@scrypted/nope' } });
    assert.equal(rt.data.restoredBackups.length, 0, 'nothing ran yet');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(rt.data.restoredBackups.length, 1);
    assert.ok(rt.calls.some((c) => c.method === 'service-control.restart'));
    assert.ok(lines.some(([l, m]) => l === 'error' && /deferred reloadPlugin failed: Cannot read properties of undefined/.test(m)));
  });
  test('log writes the line at its level; settingsChanged fires the Settings event of this plugin device', async () => {
    h.notify('log', { level: 'warn', message: '[scrypted-mcp] careful' });
    assert.deepEqual(lines.at(-1), ['warn', '[scrypted-mcp] careful']);
    h.notify('settingsChanged', {});
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(rt.settingsEvents, 1);
    assert.ok(rt.calls.some((c) => c.method === 'deviceManager.onDeviceEvent' && c.args[0] === null && c.args[1] === 'Settings'));
    h.notify('noSuchNotice', {});
    assert.match(lines.at(-1)[1], /unknown host notice: noSuchNotice/, 'logged, never thrown into Rust');
  });
  test('storage members are the plugin device storage (DOM Storage shape); now is the clock', () => {
    assert.equal(h.storageGet('k'), undefined);
    h.storageSet('k', 'v é');
    assert.deepEqual(h.storageGet('k'), Buffer.from('v é', 'utf8'), "a value is read as its UTF-8 bytes (the wasm's text)");
    assert.deepEqual(h.storageKeys(), ['k']);
    assert.deepEqual(rt.device('3').storage, { k: 'v é' });
    h.storageRemove('k');
    assert.deepEqual(h.storageKeys(), []);
    assert.ok(Math.abs(h.now() - Date.now()) < 1000);
  });
  test('a component is looked up once (each getComponent is an RPC round trip); a missing one is asked for again', async () => {
    const params = rt.pluginParams();
    const asked = [];
    const systemManager = { ...params.systemManager, getComponent: (name) => { asked.push(name); return params.systemManager.getComponent(name); } };
    const counted = createHost({ ...params, systemManager }, { console: quiet, os: rt.osModule() });
    assert.equal(await counted.call('serverVersion', {}), await counted.call('serverVersion', {}));
    await counted.call('scryptedEnv', {});
    assert.deepEqual(asked, ['info']);
    const missing = { ...params.systemManager, getComponent: async (name) => { asked.push(name); return undefined; } };
    const none = createHost({ ...params, systemManager: missing }, { console: quiet, os: rt.osModule() });
    await assert.rejects(none.call('serverVersion', {}), /Scrypted component 'info' is not available/);
    await assert.rejects(none.call('serverVersion', {}), /Scrypted component 'info' is not available/);
    assert.deepEqual(asked.filter((n) => n === 'info'), ['info', 'info', 'info']);
  });
  test('the two ports are asked at once: a first request after a start waits for them (issue 12)', async () => {
    const params = rt.pluginParams();
    const asked = [];
    const answers = [];
    const systemManager = { ...params.systemManager, getComponent: (name) => { asked.push(name); return new Promise((r) => answers.push(() => r(params.systemManager.getComponent(name)))); } };
    const h2 = createHost({ ...params, systemManager }, { console: quiet, os: rt.osModule() });
    const ports = h2.call('serverPorts', {});
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked, ['SCRYPTED_INSECURE_PORT', 'SCRYPTED_SECURE_PORT'], 'both asked before either answered');
    for (const answer of answers) answer();
    assert.deepEqual(await ports, { insecure: 11080, secure: 10443 });
  });
  test('callJson answers JSON text a UTF-8 parser takes: a lone surrogate becomes U+FFFD, undefined null', async () => {
    const params = rt.pluginParams();
    const systemManager = { ...params.systemManager, getSystemState: () => ({ 1: { name: { value: 'a\uD800b' }, room: undefined } }) };
    const odd = createHost({ ...params, systemManager }, { console: quiet, os: rt.osModule() });
    assert.equal(await odd.callJson('systemState', '{}'), '{"1":{"name":{"value":"a\uFFFDb"},"room":null}}');
    await assert.rejects(odd.callJson('noSuchEntry', '{}'), /unknown host capability: noSuchEntry/);
  });
  test('storageKeys lists through key(i) once, then follows our writes; keys added or removed behind our back are seen', () => {
    let map = {};
    let keyCalls = 0;
    // Scrypted's StorageImpl: key(i) and length each build Object.keys of the map it looks up
    // on every call (§5).
    const localStorage = {
      getItem: (k) => map[k],
      setItem: (k, v) => { map[k] = String(v); },
      removeItem: (k) => { delete map[k]; },
      key: (i) => { keyCalls++; return Object.keys(map)[i]; },
      get length() { return Object.keys(map).length; },
    };
    const s = createHost({ ...rt.pluginParams(), localStorage }, { console: quiet });
    for (let i = 0; i < 300; i++) map[`k${i}`] = 'v';
    assert.equal(s.storageKeys().length, 300);
    assert.equal(keyCalls, 300);
    s.storageSet('new', 'v');
    s.storageRemove('k0');
    s.storageSet('k1', 'changed');
    const keys = s.storageKeys();
    assert.deepEqual(new Set(keys), new Set(Object.keys(map)));
    assert.equal(keyCalls, 300, 'no second walk over key(i)');
    map = { ...map, behind: 'v' }; // plugins.setStorage put a new map in place (§5)
    assert.ok(s.storageKeys().includes('behind'));
    map = { ...map };
    delete map.k5;
    delete map.k6;
    assert.deepEqual(new Set(s.storageKeys()), new Set(Object.keys(map)));
  });
  test('volume members are files of the plugin volume: absent → undefined, append, replace whole; none without a volume', async () => {
    const volume = fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-volume-test-'));
    try {
      const v = createHost(rt.pluginParams(), { console: quiet, volume });
      assert.equal(v.volumeRead('t.jsonl'), undefined);
      v.volumeAppend('t.jsonl', 'a\n');
      v.volumeAppend('t.jsonl', 'b\n');
      assert.equal(fs.readFileSync(path.join(volume, 't.jsonl'), 'utf8'), 'a\nb\n', 'on disk when the call returns');
      v.volumeReplace('t.jsonl', 'c\n');
      assert.equal(v.volumeRead('t.jsonl'), 'c\n');
      if (fs.existsSync('/proc/self/fd')) {
        // The replaced file's descriptor is closed off the calling thread, but closed.
        const replacedOpen = () => fs.readdirSync('/proc/self/fd').some((fd) => {
          try { return fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith('t.jsonl (deleted)'); } catch { return false; }
        });
        for (let i = 0; i < 100 && replacedOpen(); i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(replacedOpen(), false, 'the replaced file is not held open');
      }
      v.volumeAppend('t.jsonl', 'd\n');
      assert.equal(v.volumeRead('t.jsonl'), 'c\nd\n', 'appends after a replace go to the new file');
      assert.deepEqual(fs.readdirSync(volume), ['t.jsonl'], 'no temporary file left behind');
      fs.chmodSync(volume, 0o500);
      if (process.getuid?.() !== 0) assert.throws(() => v.volumeAppend('u', 'x'), /EACCES/, 'a failing write throws');
    } finally {
      fs.chmodSync(volume, 0o700);
      fs.rmSync(volume, { recursive: true, force: true });
    }
    assert.throws(() => h.volumeAppend('t.jsonl', 'x'), /no volume \(SCRYPTED_PLUGIN_VOLUME is not set\)/);
  });
  test('without localStorage there is no plugin: createHost says so', () => {
    assert.throws(() => createHost({ ...rt.pluginParams(), localStorage: undefined }), /no localStorage/);
  });
});

describe('§2 RPC proxy, seen through systemManager.getComponent', () => {
  const rt = new Runtime({ log: () => {} });
  const { systemManager } = rt.pluginParams();
  const plugins = () => systemManager.getComponent('plugins');
  test('every member reads as callable; a missing method rejects remotely; server-synchronous calls still return Promises', async () => {
    const p = await plugins();
    assert.equal(typeof p.noSuchMethod, 'function');
    await assert.rejects(p.noSuchMethod(), /^Error: target plugins does not have method noSuchMethod\nscrypted-mcp:host$/);
    const pending = p.getStorage(LIGHT);
    assert.ok(pending instanceof Promise);
    assert.equal(typeof (await pending), 'object');
    assert.equal(await systemManager.getComponent('no-such-component'), undefined);
    const root = await systemManager.getComponent('logger');
    assert.equal(typeof root.clearLogs, 'function', 'a proxy answers any name…');
    await assert.rejects(root.clearLogs(), /does not have method clearLogs/, '…but logger.clearLogs does not exist');
  });
  test('errors arrive as plain Errors: the message and the peer route, no code', async () => {
    rt.data.dotenv = undefined;
    const env = await systemManager.getComponent('env-control');
    await assert.rejects(env.getDotEnv(), (e) => e.constructor === Error && e.code === undefined && e.errno === undefined
      && e.message === "ENOENT: no such file or directory, open '/server/volume/.env'\nscrypted-mcp:host");
  });
});

describe('§6.3 / §6.6 more credentials', () => {
  test("Scrypted bearer tokens: a user's permanent token (with its aclId) and SCRYPTED_ADMIN_TOKEN; a foreign bearer is nobody", async () => {
    const state = host.runtime.data;
    const viewer = state.users.find((u) => u.username === 'viewer');
    const v = (await echo(pub(), { headers: { authorization: `Bearer ${viewer.token}` } })).json.req;
    assert.deepEqual([v.username, v.aclId], ['viewer', VIEWER.aclId]);
    const a = (await echo(pub(), { headers: { authorization: `Bearer ${state.env.SCRYPTED_ADMIN_TOKEN}` } })).json.req;
    assert.deepEqual([a.username, a.aclId], ['admin', undefined]);
    // What the MCP plugin's own access token looks like to Scrypted: no user.
    const jwtLike = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2ln';
    assert.equal((await echo(pub(), { headers: { authorization: `Bearer ${jwtLike}` } })).json.req.username, undefined);
  });
  test('a removed user\'s cookie stops working at once', async () => {
    host.runtime.addUser('temp', 'temp-password', undefined);
    const { cookie } = await loginCookie('temp', 'temp-password');
    assert.equal((await echo(pub(), { headers: { cookie } })).json.req.username, 'temp');
    host.runtime.removeUser('temp');
    assert.equal((await echo(pub(), { headers: { cookie } })).json.req.username, undefined);
  });
  test('another plugin\'s endpoint → 404, plugin not called', async () => {
    const before = calls;
    const r = await echo(`${host.baseUrl}/endpoint/@scrypted/other/public/x`);
    assert.equal(r.status, 404);
    assert.equal(calls, before);
  });
});

describe('§6.3 login shortcuts from the server environment', () => {
  const withEnv = async (vars, fn) => {
    const env = host.runtime.data.env;
    Object.assign(env, vars);
    try { await fn(); } finally { for (const k of Object.keys(vars)) delete env[k]; }
  };
  test('SCRYPTED_DEFAULT_AUTHENTICATION makes anonymous requests that user, even on private routes, unless disableDefaultAuthentication is in the query or referer', async () => {
    await withEnv({ SCRYPTED_DEFAULT_AUTHENTICATION: 'viewer' }, async () => {
      const r = (await echo(pub())).json.req;
      assert.deepEqual([r.username, r.aclId], ['viewer', VIEWER.aclId]);
      const priv = await echo(`${host.baseUrl}/endpoint/scrypted-mcp/echo`);
      assert.equal(priv.status, 200);
      assert.equal((await echo(pub('/echo?disableDefaultAuthentication'))).json.req.username, undefined);
      assert.equal((await echo(pub(), { headers: { referer: 'http://x/?disableDefaultAuthentication=1' } })).json.req.username, undefined);
    });
    assert.equal((await echo(pub())).json.req.username, undefined);
  });
  test('SCRYPTED_ADMIN_ADDRESS + SCRYPTED_ADMIN_USERNAME: a request from that address is that admin', async () => {
    await withEnv({ SCRYPTED_ADMIN_ADDRESS: '127.0.0.1', SCRYPTED_ADMIN_USERNAME: 'admin' }, async () => {
      const r = (await echo(pub())).json.req;
      assert.deepEqual([r.username, r.aclId], ['admin', undefined]);
    });
  });
  test('the real plugin ignores such a username: the MCP endpoint still wants its own token', async () => {
    const real = await startDevHost({ port: 0, zip: DEFAULT_ZIP, quiet: true });
    try {
      real.runtime.data.env.SCRYPTED_DEFAULT_AUTHENTICATION = 'admin';
      const r = await fetch(real.mcpUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
      });
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate'), /^Bearer .*resource_metadata="/);
    } finally {
      await real.close();
    }
  });
});

describe('§6.2 limits', () => {
  test('JSON up to exactly 100 KB passes; one byte more is 413', async () => {
    const sized = (n) => { const head = '{"a":"'; return head + 'x'.repeat(n - head.length - 2) + '"}'; };
    const ok = await echo(pub(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: sized(100 * 1024) });
    assert.equal(ok.status, 200);
    const over = await echo(pub(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: sized(100 * 1024 + 1) });
    assert.equal(over.status, 413);
  });
  test('a JSON scalar (strict parser) → 400 before the plugin', async () => {
    const before = calls;
    const r = await echo(pub(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"ping"' });
    assert.equal(r.status, 400);
    assert.equal(calls, before);
  });
  test('CORS: an origin listed in SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS is echoed, another is not', async () => {
    host.runtime.data.env.SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS = 'https://ok.example';
    const ok = await echo(pub(), { headers: { origin: 'https://ok.example' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://ok.example');
    const no = await echo(pub(), { headers: { origin: 'https://no.example' } });
    assert.equal(no.headers.get('access-control-allow-origin'), null);
    assert.doesNotMatch(ok.headers.get('access-control-allow-headers'), /mcp-session-id/i);
  });
  test("CORS: an origin kept under another id is echoed here too, with credentials; entries are not trimmed, '*' is no wildcard", async () => {
    // runtime.ts getAccessControlAllowOrigin: Object.values(corsControl.origins).flat(); seen
    // on a real 0.144.2 for an endpoint of another plugin, /web/component and /login alike.
    host.runtime.data.env.SCRYPTED_ACCESS_CONTROL_ALLOW_ORIGINS = 'https://a.example, https://b.example';
    host.runtime.data.cors['@scrypted/hue'] = ['https://hue-app.example', '*'];
    try {
      const other = await echo(pub(), { headers: { origin: 'https://hue-app.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), 'https://hue-app.example');
      assert.equal(other.headers.get('access-control-allow-credentials'), 'true');
      for (const origin of ['https://b.example', 'https://anything.example']) {
        const r = await echo(pub(), { headers: { origin } });
        assert.equal(r.headers.get('access-control-allow-origin'), null, origin);
      }
      const a = await echo(pub(), { headers: { origin: 'https://a.example' } });
      assert.equal(a.headers.get('access-control-allow-origin'), 'https://a.example');
    } finally {
      delete host.runtime.data.cors['@scrypted/hue'];
    }
  });
});

describe('js-shim/plugin.js streams over the real wasm (dist/plugin.zip)', () => {
  let real;
  let token;
  before(async () => {
    real = await startRealPlugin();
    const cookie = await login(real.baseUrl, real.username, real.password);
    token = (await obtainTokens(real, cookie)).tokens.access_token;
  });
  after(async () => { await real?.stop(); });

  /** Reads SSE from a fetch body until `until(messages)` holds; returns the raw text and messages. */
  async function readUntil(body, until) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const messages = parseSse(text);
      if (until(messages)) return { reader, text, messages };
    }
    return { reader, text, messages: parseSse(text) };
  }

  test('a dropped SSE connection does not cancel the request: a later answer still completes it (MCP: disconnection is not cancellation)', async () => {
    const { sessionId } = await initialize(real.mcpUrl, token, { capabilities: { elicitation: {} } });
    const zip = new AdmZip();
    zip.addFile('CURRENT', Buffer.from('MANIFEST-000002\n'));
    zip.addFile('MANIFEST-000002', Buffer.from('leveldb'));
    const bytes = zip.toBuffer();
    const abort = new AbortController();
    const r = await fetch(real.mcpUrl, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25',
        'content-type': 'application/json', accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'restore_backup', arguments: {
        confirm: 'RESTORE FROM BACKUP', chunk_base64: bytes.toString('base64'), chunk_index: 0, total_chunks: 1,
        sha256: createHash('sha256').update(bytes).digest('hex') } } }),
    });
    assert.equal(r.headers.get('content-type'), 'text/event-stream');
    const { text, messages } = await readUntil(r.body, (m) => m.some((x) => x.method === 'elicitation/create'));
    assert.match(text, /^id: \S+\ndata: \n\n/, 'a 2025-11-25 stream starts with the priming event');
    const ask = messages.find((x) => x.method === 'elicitation/create');
    abort.abort(); // the client goes away while the tool waits for the user
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answer = await mcpRequest(real.mcpUrl, { token, sessionId, body: { jsonrpc: '2.0', id: ask.id, result: { action: 'accept', content: { decision: 'RESTORE' } } } });
    assert.equal(answer.status, 202);
    await waitFor(async () => (await real.state()).restoredBackups.length === 1, { what: 'the restore the tool scheduled', timeoutMs: 10_000 });
    // The plugin still answers: nothing hung on the abandoned stream.
    const ping = await mcpRequest(real.mcpUrl, { token, sessionId, body: { jsonrpc: '2.0', id: 2, method: 'ping' } });
    assert.deepEqual(ping.messages[0].result, {});
  });
});
