// The least of a Scrypted host that get_server_info and the OAuth flow need, shared by the
// thin harness (bench/harness.mjs, behind node:http) and bench/alloc.mjs (in-process): the
// injected managers and a plugin storage that behaves as Scrypted's, and the plugin zip
// loaded with them.
//
// `info` answers what the reference's getServerInfo answers, `users` the one admin the bearer
// check asks about; plugin storage is Scrypted's StorageImpl (scryptedStorage below).
import { loadPluginZip } from '../js-shim/dev/loader.mjs';

export const PLUGIN_ROOT = '/endpoint/scrypted-mcp/public';

/**
 * Plugin storage as Scrypted's StorageImpl has it (server/src/plugin/device.ts,
 * docs/reference/scrypted-host.md §5): a plain object; setItem skips an unchanged value;
 * every write ships the whole map (`api.setStorage(nativeId, map)`, an RPC message: its
 * serialisation is the plugin process's share of the cost, modelled here); `length` and
 * `key(i)` each build Object.keys.
 */
export function scryptedStorage(initial) {
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

/**
 * `zip` loaded as Scrypted's worker loads it, with the fake managers; `port` is what the
 * server-port components answer. The plugin volume must already be in
 * SCRYPTED_PLUGIN_VOLUME (Scrypted starts each plugin process with it, plugin-host.ts).
 * Returns loadPluginZip's answer and the storage.
 */
export async function loadWithFakeHost(zip, { initial = {}, port }) {
  const localStorage = scryptedStorage(initial);
  const info = { getVersion: async () => '0.144.2', getScryptedEnv: async () => ({ SCRYPTED_INSECURE_PORT: '11080' }) };
  // The bearer check asks whether the token's user is still an admin (every few seconds).
  const users = { getAllUsers: async () => [{ username: 'admin', admin: true }] };
  const components = { info, users, SCRYPTED_IP_ADDRESS: '127.0.0.1', SCRYPTED_INSECURE_PORT: port, SCRYPTED_SECURE_PORT: port + 1 };
  const systemManager = {
    getComponent: async (name) => components[name],
    getSystemState: () => ({}),
    listen: () => ({ removeListener() {} }),
  };
  const quiet = { log() {}, info() {}, warn: console.warn, error: console.error, debug() {} };
  const loaded = await loadPluginZip(zip, {
    params: {
      systemManager,
      deviceManager: { onDeviceEvent: async () => {} },
      endpointManager: { getPath: async () => `${PLUGIN_ROOT}/` },
      localStorage,
      console: quiet,
    },
  });
  return { loaded, localStorage };
}

