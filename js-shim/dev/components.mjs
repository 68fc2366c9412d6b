// The components of the dev host's getComponent(name), over the Runtime's state: what each
// method answers and throws on the real server (koush/scrypted server/src/services/*.ts at
// 0.144.2; the file:line of each quirk is in tests/host-cases.json, which runs against these
// and against the Rust fake bridge).
import AdmZip from 'adm-zip';
import { createHash, randomBytes } from 'node:crypto';

export const typeError = (msg) => new TypeError(msg);

const MISSING_DOTENV = "ENOENT: no such file or directory, open '/server/volume/.env'";
/** httpFetch's error for a registry 404 (server/src/fetch/http-fetch.ts:130). */
const NPM_404 = 'http response statusCode 404';
/** runtime.ts setupPluginHostAutoRestart: how long after its worker's exit a plugin runs again. */
const AUTO_RESTART_MS = 60_000;

/** `a > b` for dotted numeric versions (semver.gt for the demo's plain versions). */
export function versionGt(a, b) {
  const pa = String(a).split('.').map(Number);
  const pb = String(b).split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] || 0) !== (pb[i] || 0)) return (pa[i] || 0) > (pb[i] || 0);
  }
  return false;
}

export function components(rt) {
  const d = () => rt.data;
  const latest = (entry) => entry.versions[entry.versions.length - 1];
  const manifest = (entry, version) => ({
    name: entry.name,
    version,
    description: entry.description ?? `${entry.displayName} plugin for Scrypted`,
    keywords: ['scrypted'],
    scrypted: { name: entry.displayName },
    // npm marks deprecation per version: versions[v].deprecated holds the message.
    ...(entry.deprecated && version === latest(entry) ? { deprecated: entry.deprecated } : {}),
  });

  /** runtime.ts installNpm: the registry document, the version's tarball, then runPlugin. */
  const install = (pkg, version) => {
    const entry = d().npm[pkg];
    if (!entry) throw new Error(NPM_404);
    const v = version || latest(entry);
    if (!entry.versions.includes(v)) throw typeError("Cannot read properties of undefined (reading 'dist')");
    const existing = d().plugins[pkg];
    if (existing) {
      existing.packageJson = { ...existing.packageJson, version: v };
      existing.pid = rt.newPid();
      return;
    }
    const id = String(d().nextId++);
    d().plugins[pkg] = {
      pid: rt.newPid(), clientsCount: 0, rpcObjects: 0,
      packageJson: { ...manifest(entry, v), scrypted: { name: entry.displayName, type: 'API', interfaces: ['ScryptedPlugin', 'Settings'] } },
    };
    delete d().plugins[pkg].packageJson.deprecated;
    d().devices[id] = {
      id, pluginId: pkg, name: entry.displayName, type: 'API', interfaces: ['ScryptedPlugin', 'Settings'],
      mixins: [], storage: {}, state: {}, info: {}, console: [],
    };
  };

  const packageJson = (pluginId) => {
    const p = d().plugins[pluginId];
    if (!p) throw typeError("Cannot read properties of undefined (reading 'packageJson')");
    return p.packageJson;
  };

  /** plugin.ts reload → runtime.ts runPlugin(plugin._id) on the stored plugin doc. */
  const reload = (pluginId) => {
    const p = d().plugins[pluginId];
    if (!p) throw typeError("Cannot read properties of undefined (reading '_id')");
    p.pid = rt.newPid();
    p.clientsCount = 0;
    delete p.restartAt;
    rt.log(`plugins.reload(${pluginId}) — recorded`);
  };

  /**
   * plugin-host.ts kill: the worker goes (pid undefined), its clients are closed. Its exit
   * counts as unexpected (runtime.ts setupPluginHostAutoRestart), so the plugin runs again
   * 60 s later unless reloaded first (measured on a real 0.144.2).
   */
  const kill = (pluginId) => {
    const p = d().plugins[pluginId];
    if (!p) return;
    delete p.pid;
    p.clientsCount = 0;
    p.restartAt = rt.clock.now() + AUTO_RESTART_MS;
    rt.log(`plugins.kill(${pluginId}) — recorded`);
  };
  /** A killed plugin whose 60 s are up runs again, with a new pid. */
  const restartIfDue = (pluginId) => {
    const p = d().plugins[pluginId];
    if (p?.restartAt !== undefined && rt.clock.now() >= p.restartAt) reload(pluginId);
  };

  const plugins = {
    getStorage: (id) => ({ ...(rt.device(id)?.storage || {}) }),
    setStorage: (id, map) => {
      const dev = rt.device(id);
      if (!dev) throw typeError("Cannot set properties of undefined (setting 'storage')");
      dev.storage = { ...(map || {}) };
    },
    setMixins: (id, mixins) => {
      const list = mixins || [];
      if (list.includes(id)) throw new Error(`setMixins: ${id} has a mixin cycle. Cancelling change.`);
      const dev = rt.device(id);
      if (!dev) throw typeError("Cannot read properties of undefined (reading 'state')");
      // plugin-device.ts rebuildEntry: a MixinProvider whose canMixin declines the device
      // is removed from its mixins; other ids pass through.
      const declines = (m) => {
        const p = rt.device(m);
        return !!p?.interfaces.includes('MixinProvider') && !!p.mixinTypes && !p.mixinTypes.includes(dev.type);
      };
      dev.mixins = [...new Set(list)].filter((m) => !declines(m));
      rt.descriptorChanged(dev);
    },
    getIdForPluginId: (pluginId) => rt.rootId(pluginId),
    getIdForNativeId: (pluginId, nativeId) => rt.findDevice(pluginId, nativeId)?.id,
    reload,
    kill,
    getPackageJson: packageJson,
    getDeviceInfo: (id) => {
      const dev = rt.device(id);
      if (!dev) throw new Error(`device ${id} does not exist`);
      return { mixins: dev.mixins, pluginId: dev.pluginId, storage: { ...dev.storage }, nativeId: dev.nativeId };
    },
    getPluginInfo: (pluginId) => {
      restartIfDue(pluginId);
      const json = packageJson(pluginId);
      const p = d().plugins[pluginId];
      return {
        pid: p.pid, clientsCount: p.clientsCount, rpcObjects: p.rpcObjects, packageJson: json,
        pendingResults: 0, pendingResultCounts: {}, id: rt.rootId(pluginId),
      };
    },
    disconnectClients: (pluginId) => { if (d().plugins[pluginId]) d().plugins[pluginId].clientsCount = 0; },
    installNpm: async (pkg, version) => {
      await new Promise((r) => setTimeout(r, d().npmInstallMs));
      install(pkg, version);
    },
    npmInfo: (endpoint) => {
      const ep = String(endpoint).replace(/^\//, '');
      if (ep.startsWith('-/v1/search')) {
        const objects = Object.values(d().npm).map((e) => {
          const { name, version, description, keywords } = manifest(e, latest(e));
          return { package: { name, version, description, keywords } };
        });
        return { objects, total: objects.length };
      }
      const parts = ep.split('/');
      const scoped = parts[0].startsWith('@') && parts.length > 1;
      const name = scoped ? `${parts[0]}/${parts[1]}` : parts[0];
      const version = scoped ? parts[2] : parts[1];
      const entry = d().npm[name];
      if (!entry) throw new Error(NPM_404);
      if (version !== undefined) {
        const v = version === 'latest' ? latest(entry) : version;
        if (!entry.versions.includes(v)) throw new Error(NPM_404);
        return manifest(entry, v);
      }
      return {
        name: entry.name,
        'dist-tags': { latest: latest(entry) },
        versions: Object.fromEntries(entry.versions.map((v) => [v, manifest(entry, v)])),
        time: { modified: '2026-10-01T00:00:00.000Z' },
        readme: `# ${entry.displayName}\n\nA Scrypted plugin.\n`,
      };
    },
    /** plugin.ts updatePlugins: per running plugin; a failed check is logged and skipped. */
    updatePlugins: async () => {
      await new Promise((r) => setTimeout(r, 20));
      for (const [pluginId, p] of Object.entries(d().plugins)) {
        const entry = d().npm[pluginId];
        if (!entry) continue; // the registry's 404, caught per plugin
        if (entry.deprecated) {
          rt.removeDevice(rt.rootId(pluginId)); // plugins whose latest is deprecated are uninstalled
          continue;
        }
        if (versionGt(latest(entry), p.packageJson.version)) install(pluginId);
      }
    },
    clearConsole: (id) => {
      const dev = rt.device(id);
      if (!dev) throw typeError("Cannot read properties of undefined (reading 'pluginId')");
      dev.console = [];
    },
    /** plugin.ts renameDeviceId: kill, wait, remove (children too), re-insert, reload. */
    renameDeviceId: async (id, newId) => {
      const dev = rt.device(id);
      if (!dev) throw typeError("Cannot read properties of undefined (reading 'pluginId')");
      kill(dev.pluginId);
      await new Promise((r) => setTimeout(r, 20)); // the real one sleeps 2 s
      rt.removeDevice(id);
      d().devices[newId] = { ...dev, id: String(newId) }; // no collision check, like the real one
      reload(dev.pluginId);
    },
  };

  const info = {
    getVersion: () => d().server.version,
    getScryptedEnv: () => ({ ...d().env }),
  };
  const serviceControl = {
    restart: () => {
      rt.forgetMemoryOnly();
      rt.log('service-control.restart() — recorded; a real server would exit now');
    },
    update: () => {
      rt.forgetMemoryOnly();
      rt.log('service-control.update() — recorded; a real server would update and restart');
    },
    exit: () => { rt.log('service-control.exit() — recorded'); },
    getUpdateAvailable: () => { throw new Error('update check not available'); },
  };
  const envControl = {
    getDotEnv: () => {
      if (d().dotenv === undefined || d().dotenv === null) {
        // fs's own error shape; the RPC proxy passes on only the message (§2).
        throw Object.assign(new Error(MISSING_DOTENV), { code: 'ENOENT', errno: -2 });
      }
      return d().dotenv;
    },
    setDotEnv: (text) => { d().dotenv = String(text); },
  };
  const alerts = {
    getAlerts: () => d().alerts.map((a) => ({ ...a })),
    // services/alerts.ts 17, 21: a Logger event without data on removal and clearing.
    removeAlert: (alert) => {
      d().alerts = d().alerts.filter((a) => a._id !== alert?._id);
      rt.alertsChanged(undefined);
    },
    clearAlerts: () => {
      d().alerts = [];
      rt.alertsChanged(undefined);
    },
  };
  const users = {
    getAllUsers: () => d().users.map((u) => ({ username: u.username, admin: !u.aclId })),
    addUser: (username, password, aclId) => rt.addUser(username, password, aclId),
    addUserInternal: (username, password, aclId) => {
      rt.addUser(username, password, aclId);
      const u = rt.findUser(username);
      const salt = randomBytes(8).toString('hex');
      return { _id: username, username, aclId, salt, passwordHash: createHash('sha256').update(salt + password).digest('hex'), token: u.token, passwordDate: Date.now() };
    },
    removeUser: (username) => rt.removeUser(username),
    removeAllUsers: () => { d().users = []; },
  };
  const addresses = {
    /** addresses.ts getLocalAddresses: interface names resolve to their addresses (not
     *  link-local); addresses this machine does not have are dropped. */
    getLocalAddresses: (raw) => {
      const list = d().localAddresses;
      if (!list?.[0]) return undefined;
      if (raw) return [...list];
      const nis = d().networkInterfaces;
      const all = new Set(Object.values(nis).flat().map((ni) => ni.address));
      const out = [];
      for (const entry of list) {
        if (nis[entry]) {
          for (const ni of nis[entry]) {
            if (ni.address && !ni.address.startsWith('169.254.') && !ni.address.toLowerCase().startsWith('fe80:')) out.push(ni.address);
          }
        } else if (all.has(entry)) out.push(entry);
      }
      return out;
    },
    setLocalAddresses: (list) => { d().localAddresses = list; },
    getExternalAddresses: (id) => d().externalAddresses[id] || [],
    setExternalAddresses: (id, list) => { d().externalAddresses[id] = list; },
  };
  const cors = {
    getCORS: (id) => d().cors[id] || [],
    setCORS: (id, origins) => { d().cors[id] = origins; },
  };
  const backup = {
    createBackup: () => {
      const zip = new AdmZip();
      const db = {
        users: d().users.map((u) => ({ _id: u.username, aclId: u.aclId, token: u.token, salt: 'salt', passwordHash: createHash('sha256').update('salt' + u.password).digest('hex') })),
        plugins: Object.values(d().plugins).map((p) => ({ _id: p.packageJson.name, packageJson: p.packageJson })),
        devices: Object.values(d().devices).map((x) => ({ _id: x.id, pluginId: x.pluginId, nativeId: x.nativeId, storage: x.storage })),
        alerts: d().alerts,
      };
      // The database directory's files at the top level, as a real 0.144.2's backup has them
      // (adm-zip's addLocalFolder); the demo's records stand in the log.
      zip.addFile('000003.log', Buffer.from(JSON.stringify(db)));
      zip.addFile('CURRENT', Buffer.from('MANIFEST-000002\n'));
      zip.addFile('LOCK', Buffer.alloc(0));
      zip.addFile('LOG', Buffer.from('2026/12/07-00:00:00.000000 7f00 Delete type=3 #1\n'));
      zip.addFile('MANIFEST-000002', Buffer.from('V\x0b+\xa0\x1c\x00\x01\x01\x1aleveldb.BytewiseComparator', 'latin1'));
      return zip.toBuffer();
    },
    restore: (buffer) => {
      const buf = Buffer.from(buffer || []);
      let ok = false;
      try { ok = new AdmZip(buf).test(); } catch { ok = false; }
      if (!ok) throw new Error('Invalid or unsupported zip format. No END header found');
      const entry = { bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex'), at: rt.clock.now(), realAt: Date.now() };
      d().restoredBackups.push(entry);
      rt.forgetMemoryOnly(); // restore ends with a server restart
      rt.log(`backup.restore(${buf.length} bytes) — recorded; a real server would kill every plugin, replace its database and restart`);
    },
  };
  const clusterFork = {
    getClusterWorkers: () => ({ ...d().clusterWorkers }),
  };
  return {
    plugins, info, 'service-control': serviceControl, 'env-control': envControl, alerts, users, addresses, cors, backup,
    'cluster-fork': clusterFork,
  };
}
