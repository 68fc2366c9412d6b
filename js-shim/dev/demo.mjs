// The demo server of the dev host, from the one demo data set (demo.json, which the Rust fake
// bridge loads too): `demoData(now)` turns it into the runtime's working state, a fresh copy.
import fs from 'node:fs';

export const DEMO = JSON.parse(fs.readFileSync(new URL('./demo.json', import.meta.url), 'utf8'));

export const PLUGIN_ID = 'scrypted-mcp';
export const SERVER_VERSION = DEMO.server.version;
const user = (name) => {
  const u = DEMO.users.find((x) => x.username === name);
  return { username: u.username, password: u.password, aclId: u.aclId };
};
export const ADMIN = user('admin');
export const VIEWER = user('viewer');

const MIN = 60_000;
const copy = (v) => JSON.parse(JSON.stringify(v));

/**
 * The working state of `demo` (default: demo.json) at time `now`: devices and plugins keyed by
 * id, users, a flat log list, alerts, the npm registry, ... Also used for the host-behaviour
 * cases, whose `given` patches the demo data first.
 */
export function demoData(now = Date.now(), demo = DEMO) {
  const d = copy(demo);
  const devices = {};
  for (const x of d.devices || []) {
    devices[x.id] = { mixins: [], storage: {}, state: {}, info: {}, console: [], ...x };
  }
  const plugins = {};
  for (const p of d.plugins || []) {
    plugins[p.packageJson.name] = { pid: p.pid, clientsCount: p.clientsCount ?? 0, rpcObjects: p.rpcObjects ?? 0, packageJson: p.packageJson };
  }
  return {
    server: { ...d.server },
    networkInterfaces: d.networkInterfaces || {},
    devices,
    plugins,
    npm: Object.fromEntries((d.npm || []).map((p) => [p.name, p])),
    users: (d.users || []).map((u) => ({
      username: u.username, password: u.password, aclId: u.aclId, token: u.token, created: now - (u.daysAgo ?? 0) * 1440 * MIN,
    })),
    logs: (d.logs || []).map((l) => ({ title: l.title, timestamp: now - l.minutesAgo * MIN, level: l.level, message: l.message, path: l.path })),
    alerts: (d.alerts || []).map((a) => ({ _id: a._id, timestamp: now - a.minutesAgo * MIN, title: a.title, path: a.path, message: a.message })),
    env: { ...d.env },
    dotenv: d.dotenv,
    localAddresses: d.localAddresses ?? undefined,
    externalAddresses: d.externalAddresses || {},
    cors: d.cors || {},
    clusterWorkers: d.clusterWorkers || {},
    restoredBackups: [],
    // Device id → how that camera answers takePicture (media.mjs CAMERA_MODES; default jpeg).
    cameraModes: d.cameraModes || {},
    // How long installNpm takes (the registry download and the plugin's start); a big
    // plugin over a slow link takes minutes.
    npmInstallMs: d.npmInstallMs ?? 20,
    nextId: d.nextId ?? 100,
    nextPid: d.nextPid ?? 4100,
  };
}

/** RFC 7396 JSON merge patch: how a host-behaviour case's `given` changes the demo data. */
export function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return copy(patch);
  const out = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
