// The thin harness: this plugin's dist/plugin.zip behind the same node:http → Scrypted-shaped
// HttpRequest → onRequest → send/sendStream path as bench/ts-reference/server.mjs, so the two
// compare like for like (no dev-host emulation, no Scrypted express layer, no RPC hop).
//
// The injected managers are the least get_server_info and the OAuth flow need: `info`
// answers what the reference's getServerInfo answers, `users` the one admin the bearer check
// asks about; plugin storage behaves as Scrypted's (scryptedStorage below), read from /
// written to STORAGE_FILE at start and exit so that the signing key (and so a token)
// outlives a restart for the cold-start figure; the plugin volume is VOLUME.
// A request whose cookie carries `login_user_token_insecure` is the logged-in admin, as
// Scrypted fills `username` for a logged-in browser (only /authorize looks at it).
//
// Env: PORT (18082), ZIP (dist/plugin.zip), STORAGE_FILE (none: storage starts empty),
// VOLUME (the plugin volume directory; none: a temporary one, removed at exit).
// Binds 127.0.0.1 only. Prints "listening ... pid=N" once ready.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPluginZip } from '../js-shim/dev/loader.mjs';
import { scryptedResponse } from './ts-reference/scrypted-response.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const PORT = Number(process.env.PORT ?? 18082);
const ZIP = process.env.ZIP || path.join(HERE, '../dist/plugin.zip');
const STORAGE_FILE = process.env.STORAGE_FILE;
const VOLUME = process.env.VOLUME || fs.mkdtempSync(path.join(os.tmpdir(), 'scrypted-mcp-bench-volume-'));
const PLUGIN_ROOT = '/endpoint/scrypted-mcp/public';

/**
 * Plugin storage as Scrypted's StorageImpl has it (server/src/plugin/device.ts,
 * docs/reference/scrypted-host.md §5): a plain object; setItem skips an unchanged value;
 * every write ships the whole map (`api.setStorage(nativeId, map)`, an RPC message: its
 * serialisation is the plugin process's share of the cost, modelled here); `length` and
 * `key(i)` each build Object.keys.
 */
function scryptedStorage(initial) {
  const map = { ...initial };
  const ship = () => { shipped += JSON.stringify(map).length; };
  let shipped = 0;
  return {
    map,
    getItem: (k) => map[k],
    setItem: (k, v) => {
      if (map[k] === String(v)) return;
      map[k] = String(v);
      ship();
    },
    removeItem: (k) => { delete map[k]; ship(); },
    key: (i) => Object.keys(map)[i],
    get length() { return Object.keys(map).length; },
  };
}

const initial = STORAGE_FILE && fs.existsSync(STORAGE_FILE) ? JSON.parse(fs.readFileSync(STORAGE_FILE, 'utf8')) : {};
const localStorage = scryptedStorage(initial);
const info = { getVersion: async () => '0.144.2', getScryptedEnv: async () => ({ SCRYPTED_INSECURE_PORT: '11080' }) };
// The bearer check asks whether the token's user is still an admin (every few seconds).
const users = { getAllUsers: async () => [{ username: 'admin', admin: true }] };
const components = { info, users, SCRYPTED_IP_ADDRESS: '127.0.0.1', SCRYPTED_INSECURE_PORT: PORT, SCRYPTED_SECURE_PORT: PORT + 1 };
const systemManager = {
  getComponent: async (name) => components[name],
  getSystemState: () => ({}),
  listen: () => ({ removeListener() {} }),
};
const quiet = { log() {}, info() {}, warn: console.warn, error: console.error, debug() {} };
// Scrypted starts each plugin process with its volume in the environment (plugin-host.ts).
process.env.SCRYPTED_PLUGIN_VOLUME = VOLUME;
const loaded = await loadPluginZip(ZIP, {
  params: {
    systemManager,
    deviceManager: { onDeviceEvent: async () => {} },
    endpointManager: { getPath: async () => `${PLUGIN_ROOT}/` },
    localStorage,
    console: quiet,
  },
});
const plugin = loaded.instance;

const httpServer = http.createServer((nodeReq, nodeRes) => {
  const parts = [];
  nodeReq.on('data', (c) => parts.push(c));
  nodeReq.on('end', () => {
    const body = parts.length ? Buffer.concat(parts).toString('utf8') : undefined;
    const loggedIn = /(^|;\s*)login_user_token_insecure=/.test(nodeReq.headers.cookie ?? '');
    const req = {
      url: nodeReq.url,
      method: nodeReq.method,
      headers: nodeReq.headers,
      body,
      rootPath: PLUGIN_ROOT,
      isPublicEndpoint: true,
      username: loggedIn ? 'admin' : undefined,
    };
    plugin.onRequest(req, scryptedResponse(nodeRes)).catch((e) => {
      if (!nodeRes.headersSent) nodeRes.writeHead(500);
      nodeRes.end(String(e?.message ?? e));
    });
  });
});

httpServer.listen(PORT, HOST, () => {
  console.log(`harness listening on http://${HOST}:${httpServer.address().port}${PLUGIN_ROOT}/mcp pid=${process.pid}`);
});

function shutdown() {
  if (STORAGE_FILE) fs.writeFileSync(STORAGE_FILE, JSON.stringify(localStorage.map));
  fs.rmSync(loaded.dir, { recursive: true, force: true });
  if (!process.env.VOLUME) fs.rmSync(VOLUME, { recursive: true, force: true });
  httpServer.close();
  httpServer.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
