// The simulated Scrypted runtime of the dev host: systemManager, deviceManager,
// endpointManager, the components of getComponent(name) and @scrypted/core's users
// provider, over the demo data, with the return shapes and quirks of
// reference/scrypted-host.md §3 (unknown ids → TypeError, getStorage {} for unknown ids,
// kill silent, installNpm void, logger.clear deletes alerts, ...). Every object the plugin
// gets is an RPC proxy (js-shim/dev/rpc.mjs): every call returns a Promise, errors carry
// only their message.
//
// Process-ending actions (service-control.restart/update, backup.restore, plugins.reload/kill
// of any plugin) are recorded and logged; the dev host keeps running.
import AdmZip from 'adm-zip';
import { createHash, randomBytes } from 'node:crypto';
import { ADMIN, PLUGIN_ID, SERVER_VERSION, VIEWER, demoData } from './demo.mjs';
import { rpcProxy } from './rpc.mjs';

const typeError = (msg) => new TypeError(msg);

export class Runtime {
  constructor({ port = 11080, log = (...a) => console.error('[devhost]', ...a), clock } = {}) {
    this.port = port;
    this.log = log;
    this.clock = clock || { now: () => Date.now() };
    this.reset();
  }

  reset() {
    this.data = demoData(Date.now(), { port: this.port });
    // Scrypted's login shortcuts (§6.3) come from the server's environment.
    for (const k of ['SCRYPTED_ADMIN_ADDRESS', 'SCRYPTED_ADMIN_USERNAME', 'SCRYPTED_DEFAULT_AUTHENTICATION']) {
      if (process.env[k]) this.data.env[k] = process.env[k];
    }
    this.calls = [];
    this.seq = 0;
    this.storageWrites = 0;
    this.settingsEvents = 0;
  }

  setPort(port) {
    this.port = port;
    this.data.env.SCRYPTED_INSECURE_PORT = String(port);
  }

  record(method, args, extra = {}) {
    const entry = { seq: ++this.seq, method, args, at: this.clock.now(), realAt: Date.now(), ...extra };
    this.calls.push(entry);
    if (this.calls.length > 5000) this.calls.splice(0, this.calls.length - 5000);
    return entry;
  }

  /**
   * What a real server restart loses: CORS origins and external addresses live only in
   * server memory (§3.5, cors.ts / addresses.ts); everything else is in the database.
   */
  forgetMemoryOnly() {
    this.data.cors = {};
    this.data.externalAddresses = {};
  }

  // ------------------------------------------------------------------ users and login
  findUser(username) {
    return this.data.users.find((u) => u.username === username);
  }

  addUser(username, password, aclId) {
    const existing = this.findUser(username);
    const token = 'user-token-' + randomBytes(8).toString('hex');
    if (existing) Object.assign(existing, { password, aclId: aclId || undefined });
    else this.data.users.push({ username, password, aclId: aclId || undefined, token, created: Date.now() });
  }

  removeUser(username) {
    this.data.users = this.data.users.filter((u) => u.username !== username);
  }

  // ------------------------------------------------------------------ devices and state
  device(id) {
    return this.data.devices[id];
  }

  findDevice(pluginId, nativeId) {
    if (nativeId === null) nativeId = undefined;
    return Object.values(this.data.devices).find((d) => d.pluginId === pluginId && d.nativeId == nativeId);
  }

  deviceStateEntry(d) {
    const t = Date.now() - 60_000;
    const entry = (value) => ({ value, lastEventTime: t, stateTime: t });
    const s = {
      id: entry(d.id),
      nativeId: entry(d.nativeId),
      pluginId: entry(d.pluginId),
      providerId: entry(d.providerId),
      name: entry(d.name),
      type: entry(d.type),
      room: entry(d.room),
      interfaces: entry([...d.interfaces, ...(d.interfaces.includes('ScryptedDevice') ? [] : ['ScryptedDevice'])]),
      providedInterfaces: entry(d.interfaces),
      providedName: entry(d.name),
      providedType: entry(d.type),
      mixins: entry(d.mixins),
      info: entry(d.info),
    };
    for (const [k, v] of Object.entries(d.state)) s[k] = { value: v, lastEventTime: d.stateTimes?.[k] ?? t, stateTime: d.stateTimes?.[k] ?? t };
    for (const k of Object.keys(s)) if (s[k].value === undefined) delete s[k];
    return s;
  }

  systemState() {
    const out = {};
    for (const d of Object.values(this.data.devices)) out[d.id] = this.deviceStateEntry(d);
    return out;
  }

  setDeviceState(d, prop, value) {
    d.state[prop] = value;
    (d.stateTimes ||= {})[prop] = Date.now();
  }

  /** The methods a demo device answers, by interface. */
  deviceMethods(d) {
    const has = (i) => d.interfaces.includes(i);
    const m = {};
    if (has('OnOff')) {
      m.turnOn = () => { this.setDeviceState(d, 'on', true); if (has('Brightness') && !d.state.brightness) this.setDeviceState(d, 'brightness', 100); };
      m.turnOff = () => { this.setDeviceState(d, 'on', false); };
    }
    if (has('Brightness')) {
      m.setBrightness = (b) => {
        if (typeof b !== 'number' || b < 0 || b > 100) throw new Error(`brightness must be a number 0-100, got ${JSON.stringify(b)}`);
        this.setDeviceState(d, 'brightness', b);
        this.setDeviceState(d, 'on', b > 0);
      };
    }
    if (has('Lock')) {
      m.lock = () => this.setDeviceState(d, 'lockState', 'Locked');
      m.unlock = () => this.setDeviceState(d, 'lockState', 'Unlocked');
    }
    if (has('Refresh')) {
      m.refresh = () => undefined;
      m.getRefreshFrequency = () => 30;
    }
    if (has('Camera')) {
      m.takePicture = () => ({ mimeType: 'image/jpeg', sourceId: d.id, __mediaObject: true });
      m.getPictureOptions = () => d.state.pictureOptions;
    }
    if (has('VideoCamera')) m.getVideoStreamOptions = () => d.state.videoStreamOptions;
    if (has('Settings')) {
      m.getSettings = () => Object.entries(d.storage).map(([key, value]) => ({
        key, title: key, value: /password|secret|token/i.test(key) ? '********' : value,
        type: /password/i.test(key) ? 'password' : 'string',
      }));
      m.putSetting = (key, value) => { d.storage[key] = String(value); };
    }
    if (has('DeviceCreator') && d.pluginId === '@scrypted/core' && d.nativeId === 'users') {
      m.getCreateDeviceSettings = () => [
        { key: 'username', title: 'Username' },
        { key: 'password', title: 'Password', type: 'password' },
        { key: 'admin', title: 'Admin', type: 'boolean' },
      ];
      m.createDevice = (settings) => this.coreCreateUser(settings || {});
    }
    if (has('ScryptedPlugin')) m.getPluginJson = () => this.data.plugins[d.pluginId]?.packageJson;
    return m;
  }

  /** @scrypted/core UsersCore.createDevice: a `user:<name>` device whose id is a non-admin's aclId. */
  coreCreateUser({ username, password, admin }) {
    if (!username) throw new Error('username is required');
    if (!password) throw new Error('password is required');
    const nativeId = `user:${username}`;
    let d = this.findDevice('@scrypted/core', nativeId);
    if (!d) {
      const id = String(this.data.nextId++);
      d = { id, nativeId, pluginId: '@scrypted/core', providerId: '2', name: username, type: 'Person', interfaces: ['ScryptedUser', 'Settings'], mixins: [], storage: {}, state: {}, info: {} };
      this.data.devices[id] = d;
    }
    this.addUser(username, password, admin ? undefined : d.id);
    return d.id;
  }

  removeDevice(id) {
    const d = this.device(id);
    if (!d) return;
    for (const other of Object.values(this.data.devices)) {
      if (other.providerId === id && other.id !== id) this.removeDevice(other.id);
    }
    delete this.data.devices[id];
    if (!d.nativeId) {
      delete this.data.plugins[d.pluginId];
      this.log(`plugin ${d.pluginId} uninstalled (device ${id} removed)`);
    } else if (d.pluginId === '@scrypted/core' && d.nativeId.startsWith('user:')) {
      // core's releaseDevice → users.removeUser
      this.removeUser(d.nativeId.slice('user:'.length));
    }
  }

  devicePluginIdOrThrow(id, reading) {
    const d = this.device(id);
    if (!d) throw typeError(`Cannot read properties of undefined (reading '${reading}')`);
    return d;
  }

  // ------------------------------------------------------------------ logger
  logsUnder(path) {
    const out = [];
    for (const [p, entries] of Object.entries(this.data.logs)) {
      if (path === '/' || p === path || p.startsWith(path + '/')) out.push(...entries);
    }
    return out.sort((a, b) => a.timestamp - b.timestamp);
  }

  makeLogger(path, title) {
    const rt = this;
    const childPath = (id) => (path === '/' ? `/${id}` : `${path}/${id}`);
    const target = {
      path,
      title,
      getLogs: () => rt.logsUnder(path),
      getLogger: (id, t) => {
        const p = childPath(id);
        if (!rt.data.logs[p]) rt.data.logs[p] = []; // getLogger creates missing children
        return rt.loggerProxy(p, t);
      },
      log: (level, message) => {
        (rt.data.logs[path] ||= []).push({ title, timestamp: Date.now(), level, message, path });
        if (level === 'a') rt.data.alerts.push({ _id: 'alert-' + randomBytes(6).toString('hex'), timestamp: Date.now(), title, path, message });
      },
      clear: () => {
        // Deletes alerts under its path first, then its logs and its children's.
        rt.data.alerts = rt.data.alerts.filter((a) => !(path === '/' || a.path === path || String(a.path).startsWith(path + '/')));
        for (const p of Object.keys(rt.data.logs)) {
          if (path === '/' || p === path || p.startsWith(path + '/')) rt.data.logs[p] = [];
        }
      },
      clearAlert: (message) => { rt.data.alerts = rt.data.alerts.filter((a) => !(a.message === message && String(a.path).startsWith(path))); },
      clearAlerts: () => { rt.data.alerts = rt.data.alerts.filter((a) => !(path === '/' || String(a.path).startsWith(path))); },
    };
    return target;
  }

  loggerProxy(path, title) {
    return rpcProxy(this.makeLogger(path, title), `logger(${path})`, (m, a) => {
      if (m !== 'getLogger') this.record(`logger.${m}`, a, { target: path });
    }, { returnsProxies: new Set(['getLogger']) });
  }

  // ------------------------------------------------------------------ components
  components() {
    const rt = this;
    const d = () => rt.data;
    const plugins = {
      getStorage: (id) => ({ ...(rt.device(id)?.storage || {}) }),
      setStorage: (id, map) => {
        const dev = rt.device(id);
        if (!dev) throw typeError("Cannot set properties of undefined (setting 'storage')");
        dev.storage = Object.fromEntries(Object.entries(map || {}).map(([k, v]) => [k, String(v)]));
      },
      setMixins: (id, mixins) => {
        const dev = rt.devicePluginIdOrThrow(id, 'state');
        const list = [...new Set(mixins || [])];
        if (list.includes(id)) throw new Error('mixin cycle detected');
        dev.mixins = list;
      },
      getIdForPluginId: (pluginId) => d().plugins[pluginId]?.rootId,
      getIdForNativeId: (pluginId, nativeId) => rt.findDevice(pluginId, nativeId)?.id,
      reload: (pluginId) => {
        const p = d().plugins[pluginId];
        if (p) p.pid = 5000 + Math.floor(Math.random() * 1000);
        rt.log(`plugins.reload(${pluginId}) — recorded${pluginId === PLUGIN_ID ? ' (would restart this plugin on a real server)' : ''}`);
      },
      kill: (pluginId) => {
        rt.log(`plugins.kill(${pluginId}) — recorded`);
      },
      getPackageJson: (pluginId) => d().plugins[pluginId]?.packageJson,
      getDeviceInfo: (id) => {
        const dev = rt.devicePluginIdOrThrow(id, 'state');
        return { mixins: dev.mixins, pluginId: dev.pluginId, storage: { ...dev.storage }, nativeId: dev.nativeId };
      },
      getPluginInfo: (pluginId) => {
        const p = d().plugins[pluginId];
        if (!p) throw typeError("Cannot read properties of undefined (reading 'worker')");
        return {
          pid: p.pid, clientsCount: p.clientsCount, rpcObjects: p.rpcObjects, packageJson: p.packageJson,
          pendingResults: p.pendingResults, pendingResultCounts: p.pendingResultCounts, id: p.rootId,
        };
      },
      disconnectClients: (pluginId) => { if (d().plugins[pluginId]) d().plugins[pluginId].clientsCount = 0; },
      installNpm: async (pkg, version) => {
        // No registry access: simulate the install (a plugin root device appears).
        await new Promise((r) => setTimeout(r, 20));
        if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(String(pkg))) {
          throw new Error(`Request failed with status code 404`);
        }
        const v = version || '1.0.0';
        const existing = d().plugins[pkg];
        if (existing) {
          existing.packageJson.version = v;
          rt.device(existing.rootId).info.version = v;
          return;
        }
        const rootId = String(d().nextId++);
        const name = pkg.replace(/^@[^/]+\//, '');
        d().plugins[pkg] = {
          pluginId: pkg, rootId, pid: 6000 + Number(rootId), clientsCount: 0, rpcObjects: 3, pendingResults: 0, pendingResultCounts: {},
          packageJson: { name: pkg, version: v, scrypted: { name, type: 'API', interfaces: ['Settings'] }, keywords: ['scrypted'] },
          latest: v, deprecated: false,
        };
        d().devices[rootId] = { id: rootId, pluginId: pkg, name, type: 'API', interfaces: ['Settings', 'ScryptedPlugin'], mixins: [], storage: {}, state: {}, info: { manufacturer: pkg, version: v } };
      },
      npmInfo: (endpoint) => {
        const ep = String(endpoint).replace(/^\//, '');
        if (ep.startsWith('-/v1/search')) {
          return {
            objects: Object.values(d().plugins).map((p) => ({ package: { name: p.pluginId, version: p.latest, description: p.packageJson.description, keywords: ['scrypted'] } })),
            total: Object.keys(d().plugins).length,
          };
        }
        const p = d().plugins[ep];
        if (!p) throw new Error('Request failed with status code 404');
        // npm marks deprecation per version: versions[v].deprecated holds the message.
        const latest = { name: p.pluginId, version: p.latest, ...(p.deprecated ? { deprecated: 'This plugin is deprecated.' } : {}) };
        return { name: p.pluginId, 'dist-tags': { latest: p.latest }, versions: { [p.packageJson.version]: { name: p.pluginId, version: p.packageJson.version }, [p.latest]: latest } };
      },
      updatePlugins: async () => {
        await new Promise((r) => setTimeout(r, 20));
        for (const p of Object.values(d().plugins)) {
          if (p.deprecated) {
            rt.removeDevice(p.rootId); // updatePlugins uninstalls plugins whose latest is deprecated
            continue;
          }
          if (p.latest !== p.packageJson.version) {
            p.packageJson.version = p.latest;
            rt.device(p.rootId).info.version = p.latest;
          }
        }
      },
      clearConsole: (id) => {
        rt.devicePluginIdOrThrow(id, 'nativeId');
      },
      renameDeviceId: async (id, newId) => {
        const dev = rt.devicePluginIdOrThrow(id, 'pluginId');
        await new Promise((r) => setTimeout(r, 50)); // the real one kills the plugin and sleeps 2 s
        delete d().devices[id];
        dev.id = String(newId);
        d().devices[dev.id] = dev; // no collision check, like the real one
        for (const p of Object.values(d().plugins)) if (p.rootId === id) p.rootId = dev.id;
      },
    };

    const info = {
      getVersion: () => SERVER_VERSION,
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
          throw Object.assign(new Error("ENOENT: no such file or directory, open '/server/volume/.env'"), { code: 'ENOENT', errno: -2 });
        }
        return d().dotenv;
      },
      setDotEnv: (text) => { d().dotenv = String(text); },
    };
    const alerts = {
      getAlerts: () => d().alerts.map((a) => ({ ...a })),
      removeAlert: (alert) => { d().alerts = d().alerts.filter((a) => a._id !== alert?._id); },
      clearAlerts: () => { d().alerts = []; },
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
      getLocalAddresses: (_raw) => (d().localAddresses ? [...d().localAddresses] : undefined),
      setLocalAddresses: (list) => { d().localAddresses = list ? [...list] : undefined; },
      getExternalAddresses: (id) => d().externalAddresses[id],
      setExternalAddresses: (id, list) => { d().externalAddresses[id] = list ? [...list] : []; },
    };
    const cors = {
      getCORS: (id) => d().cors[id] || [],
      setCORS: (id, origins) => { d().cors[id] = origins ? [...origins] : []; },
    };
    const backup = {
      createBackup: () => {
        const zip = new AdmZip();
        const db = {
          users: d().users.map((u) => ({ _id: u.username, aclId: u.aclId, token: u.token, salt: 'salt', passwordHash: createHash('sha256').update('salt' + u.password).digest('hex') })),
          plugins: Object.values(d().plugins).map((p) => ({ _id: p.pluginId, packageJson: p.packageJson })),
          devices: Object.values(d().devices).map((x) => ({ _id: x.id, pluginId: x.pluginId, nativeId: x.nativeId, storage: x.storage })),
          alerts: d().alerts,
        };
        zip.addFile('scrypted.db/backup.json', Buffer.from(JSON.stringify(db)));
        zip.addFile('scrypted.db/CURRENT', Buffer.from('MANIFEST-000001\n'));
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

  // ------------------------------------------------------------------ what the plugin is given
  /** The injected parameters of the evaluated plugin (§7), plus the storage it uses. */
  pluginParams() {
    const rt = this;
    const comps = this.components();
    const proxies = {};
    for (const [name, target] of Object.entries(comps)) {
      proxies[name] = rpcProxy(target, name, (m, a) => rt.record(`${name}.${m}`, a));
    }
    const loggerRoot = () => rt.loggerProxy('/', 'Scrypted Server');

    const devicesProxy = (id) => {
      const dev = rt.device(id);
      if (!dev) return undefined;
      const methods = rt.deviceMethods(dev);
      const target = {
        id: dev.id, nativeId: dev.nativeId, pluginId: dev.pluginId, providerId: dev.providerId,
        interfaces: rt.deviceStateEntry(dev).interfaces.value, mixins: dev.mixins, name: dev.name, type: dev.type, room: dev.room, info: dev.info,
        ...Object.fromEntries(Object.entries(dev.state)),
        ...methods,
      };
      return rpcProxy(target, `device ${id}`, (m, a) => rt.record(`device.${m}`, a, { target: id }));
    };

    const systemManagerTarget = {
      getComponent: (name) => {
        if (name === 'logger') return loggerRoot();
        if (name === 'SCRYPTED_INSECURE_PORT') return rt.port;
        if (name === 'SCRYPTED_SECURE_PORT') return 10443;
        if (name === 'SCRYPTED_IP_ADDRESS') return '127.0.0.1';
        return proxies[name];
      },
      getSystemState: () => rt.systemState(),
      getDeviceById: (idOrPluginId, nativeId) => {
        if (nativeId !== undefined) return devicesProxy(rt.findDevice(idOrPluginId, nativeId)?.id);
        return devicesProxy(idOrPluginId);
      },
      getDeviceByName: (name) => devicesProxy(Object.values(rt.data.devices).find((x) => x.name === name)?.id),
      removeDevice: (id) => rt.removeDevice(id),
      listen: () => ({ removeListener() {} }),
      listenDevice: () => ({ removeListener() {} }),
    };
    // systemManager is a local object in a real plugin (getSystemState is a local mirror),
    // but its methods still return Promises where the real ones do.
    const systemManager = {
      getComponent: async (name) => systemManagerTarget.getComponent(name),
      getSystemState: () => {
        rt.record('systemManager.getSystemState', []);
        return JSON.parse(JSON.stringify(systemManagerTarget.getSystemState()));
      },
      getDeviceById: (a, b) => {
        rt.record('systemManager.getDeviceById', b === undefined ? [a] : [a, b]);
        return systemManagerTarget.getDeviceById(a, b);
      },
      getDeviceByName: (n) => systemManagerTarget.getDeviceByName(n),
      removeDevice: async (id) => {
        rt.record('systemManager.removeDevice', [id]);
        await new Promise((r) => setImmediate(r));
        return systemManagerTarget.removeDevice(id);
      },
      listen: systemManagerTarget.listen,
      listenDevice: systemManagerTarget.listenDevice,
    };

    const own = () => rt.device(rt.data.plugins[PLUGIN_ID]?.rootId || '3') || rt.device('3');
    const localStorage = {
      getItem: (k) => {
        const s = own()?.storage || {};
        return Object.prototype.hasOwnProperty.call(s, k) ? s[k] : undefined;
      },
      setItem: (k, v) => { own().storage[k] = String(v); rt.storageWrites++; },
      removeItem: (k) => { delete own().storage[k]; rt.storageWrites++; },
      clear: () => { own().storage = {}; rt.storageWrites++; },
      key: (i) => Object.keys(own()?.storage || {})[i],
      get length() { return Object.keys(own()?.storage || {}).length; },
    };

    const deviceManager = {
      getDeviceStorage: (_nativeId) => localStorage,
      onDeviceEvent: async (nativeId, iface, data) => {
        rt.record('deviceManager.onDeviceEvent', [nativeId ?? null, iface, data ?? null]);
        if (iface === 'Settings') rt.settingsEvents++;
      },
      onDevicesChanged: async () => {},
      onDeviceDiscovered: async () => '',
      getNativeIds: () => [undefined],
      getDeviceState: () => ({}),
      getDeviceConsole: () => console,
      getDeviceLogger: () => ({ log() {}, a() {}, clearAlert() {}, clearAlerts() {} }),
      requestRestart: async () => { rt.record('deviceManager.requestRestart', []); },
    };

    const endpointManager = {
      getPath: async (_nativeId, options) => `/endpoint/${PLUGIN_ID}/${options?.public ? 'public/' : ''}`,
      getLocalEndpoint: async (_nativeId, options) => {
        const scheme = options?.insecure ? 'http' : 'https';
        const port = options?.insecure ? rt.port : 10443;
        return `${scheme}://127.0.0.1:${port}/endpoint/${PLUGIN_ID}/${options?.public ? 'public/' : ''}`;
      },
      getLocalAddresses: async () => (rt.data.localAddresses ? [...rt.data.localAddresses] : undefined),
      setLocalAddresses: async (list) => { rt.data.localAddresses = list; },
      getCloudEndpoint: async () => { throw new Error('Scrypted Cloud is not installed.'); },
      setAccessControlAllowOrigin: async ({ origins }) => {
        rt.record('endpointManager.setAccessControlAllowOrigin', [{ origins }]);
        rt.data.cors[PLUGIN_ID] = origins || [];
      },
    };

    const mediaManager = {
      convertMediaObjectToJSON: async () => ({}),
      createMediaObject: async (data, mimeType) => ({ data, mimeType }),
    };

    return { systemManager, deviceManager, endpointManager, mediaManager, localStorage };
  }

  /** /__devhost/state */
  snapshot({ clockOffsetMs = 0 } = {}) {
    const d = this.data;
    const own = this.device(d.plugins[PLUGIN_ID]?.rootId || '3');
    return {
      pluginId: PLUGIN_ID,
      pluginStorage: { ...(own?.storage || {}) },
      storageWrites: this.storageWrites,
      settingsEvents: this.settingsEvents,
      users: d.users.map((u) => ({ username: u.username, password: u.password, admin: !u.aclId, aclId: u.aclId ?? null, token: u.token })),
      devices: Object.values(d.devices).map((x) => ({
        id: x.id, name: x.name, type: x.type, pluginId: x.pluginId, nativeId: x.nativeId ?? null, providerId: x.providerId ?? null,
        interfaces: x.interfaces, mixins: x.mixins, state: x.state, storage: x.storage,
      })),
      plugins: Object.values(d.plugins).map((p) => ({ pluginId: p.pluginId, id: p.rootId, version: p.packageJson.version, latest: p.latest, deprecated: p.deprecated, pid: p.pid })),
      alerts: d.alerts,
      logsCount: Object.values(d.logs).reduce((n, l) => n + l.length, 0),
      logs: Object.fromEntries(Object.entries(d.logs).map(([p, l]) => [p, l.length])),
      env: d.env,
      dotenv: d.dotenv ?? null,
      cors: d.cors,
      externalAddresses: d.externalAddresses,
      localAddresses: d.localAddresses ?? null,
      clusterWorkers: d.clusterWorkers,
      restoredBackups: d.restoredBackups,
      clockOffsetMs,
      demo: { admin: ADMIN, viewer: { ...VIEWER, aclId: '13' } },
    };
  }
}
