// The simulated Scrypted runtime of the dev host: systemManager, deviceManager,
// endpointManager, the logger, devices and @scrypted/core's users provider over the demo
// data (demo.json), with the return shapes and quirks of docs/reference/scrypted-host.md §3. The
// components of getComponent(name) are in components.mjs. Every object the plugin gets is an
// RPC proxy (rpc.mjs): every call returns a Promise, errors carry only their message (plus
// the peer route). tests/host-cases.json pins this behaviour; the Rust fake bridge
// (tests/common/fake) is checked against the same cases.
//
// Process-ending actions (service-control.restart/update, backup.restore, plugins.reload/kill
// of any plugin) are recorded and logged; the dev host keeps running. Device events are in
// events.mjs, cameras and the media manager in media.mjs.
import { randomBytes } from 'node:crypto';
import { components, typeError } from './components.mjs';
import { ADMIN, DEMO, PLUGIN_ID, VIEWER, demoData } from './demo.mjs';
import { EventHub, PROPERTY_INTERFACES } from './events.mjs';
import { CAMERA_MODES, mediaManager, takePicture } from './media.mjs';
import { rpcProxy, withRoute } from './rpc.mjs';

export class Runtime {
  /** `demo`: the demo data to start from (default demo.json). */
  constructor({ port, log = (...a) => console.error('[devhost]', ...a), clock, demo = DEMO } = {}) {
    this.listen = port === undefined ? undefined : { address: '127.0.0.1', port };
    this.log = log;
    this.clock = clock || { now: () => Date.now() };
    this.demo = demo;
    this.reset();
  }

  reset() {
    this.data = demoData(this.clock.now(), this.demo);
    // Every logger the tree has: the ones holding demo entries, and those getLogger creates.
    this.data.loggers = Object.fromEntries(this.data.logs.map((l) => [l.path, l.title]));
    // Scrypted's login shortcuts (§6.3) come from the server's environment.
    for (const k of ['SCRYPTED_ADMIN_ADDRESS', 'SCRYPTED_ADMIN_USERNAME', 'SCRYPTED_DEFAULT_AUTHENTICATION']) {
      if (process.env[k]) this.data.env[k] = process.env[k];
    }
    if (this.listen) this.listenAt(this.listen.address, this.listen.port);
    this.calls = [];
    this.seq = 0;
    this.storageWrites = 0;
    this.settingsEvents = 0;
    this.events = new EventHub((id) => this.deviceProxy(id));
  }

  // ------------------------------------------------------------------ state changes and events
  /**
   * state.ts setPluginDeviceState: the new value, then an event when it differs (JSON
   * equality) from the old one. Returns whether it changed.
   */
  setDeviceState(d, property, value) {
    if (JSON.stringify(d.state[property]) === JSON.stringify(value)) return false;
    d.state[property] = value;
    this.events.notify(d.id, { eventInterface: PROPERTY_INTERFACES[property], property, eventTime: this.clock.now() }, value);
    return true;
  }

  /** state.ts updateDescriptor: a device was added or its name, mixins, ... changed. */
  descriptorChanged(d) {
    this.events.notify(d.id, { eventInterface: 'ScryptedDevice' }, this.deviceStateEntry(d));
  }

  /** An alert was logged (the entry), or alerts were removed (undefined). */
  alertsChanged(entry) {
    this.events.notify(undefined, { eventInterface: 'Logger' }, entry);
  }

  /** Makes a camera misbehave (POST /__devhost/camera). */
  setCameraMode(id, mode) {
    const d = this.device(id);
    if (!d?.interfaces.includes('Camera')) throw new Error(`device ${id} is not a camera`);
    if (!CAMERA_MODES.includes(mode)) throw new Error(`mode must be one of ${CAMERA_MODES.join(', ')}`);
    this.data.cameraModes[id] = mode;
  }

  /** A served dev host is reached on its own address and port, whatever the demo says. */
  listenAt(address, port) {
    this.listen = { address, port };
    this.data.server.ipAddress = address;
    this.data.server.insecurePort = port;
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

  // ------------------------------------------------------------------ users
  findUser(username) {
    return this.data.users.find((u) => u.username === username);
  }

  /** users.ts addUser: an existing name is replaced in place, with a new token. */
  addUser(username, password, aclId) {
    const user = { username, password, aclId: aclId || undefined, token: 'user-token-' + randomBytes(8).toString('hex'), created: Date.now() };
    const i = this.data.users.findIndex((u) => u.username === username);
    if (i >= 0) this.data.users[i] = user;
    else this.data.users.push(user);
  }

  removeUser(username) {
    this.data.users = this.data.users.filter((u) => u.username !== username);
  }

  // ------------------------------------------------------------------ devices and plugins
  device(id) {
    return this.data.devices[id];
  }

  findDevice(pluginId, nativeId) {
    if (nativeId === null) nativeId = undefined;
    return Object.values(this.data.devices).find((d) => d.pluginId === pluginId && d.nativeId == nativeId);
  }

  /** The root device id of an installed plugin. */
  rootId(pluginId) {
    return this.data.plugins[pluginId] ? this.findDevice(pluginId, undefined)?.id : undefined;
  }

  newPid() {
    return this.data.nextPid++;
  }

  /** state.ts setState: every entry is just {value} on 0.144.2 (§14). */
  deviceStateEntry(d) {
    const entry = (value) => ({ value });
    const s = {
      id: entry(d.id),
      nativeId: entry(d.nativeId),
      pluginId: entry(d.pluginId),
      providerId: entry(d.providerId),
      name: entry(d.name),
      type: entry(d.type),
      room: entry(d.room),
      interfaces: entry(d.interfaces),
      providedInterfaces: entry(d.interfaces),
      mixins: entry(d.mixins),
      info: entry(d.info),
    };
    for (const [k, v] of Object.entries(d.state)) s[k] = entry(v);
    for (const k of Object.keys(s)) if (s[k].value === undefined) delete s[k];
    return s;
  }

  systemState() {
    const out = {};
    for (const d of Object.values(this.data.devices)) out[d.id] = this.deviceStateEntry(d);
    return out;
  }

  /** The methods a demo device answers, by interface. */
  deviceMethods(d) {
    const has = (i) => d.interfaces.includes(i);
    const set = (prop, value) => { this.setDeviceState(d, prop, value); };
    const m = {};
    if (has('OnOff')) {
      m.turnOn = () => set('on', true);
      m.turnOff = () => set('on', false);
    }
    if (has('Brightness')) {
      m.setBrightness = (b) => {
        if (typeof b !== 'number' || b < 0 || b > 100) throw new Error(`brightness must be a number 0-100, got ${JSON.stringify(b)}`);
        set('brightness', b);
      };
    }
    if (has('Lock')) {
      m.lock = () => set('lockState', 'Locked');
      m.unlock = () => set('lockState', 'Unlocked');
    }
    if (has('PasswordStore')) {
      // zwave PasswordStoreToUserCode.ts: the lock's user codes.
      m.getPasswords = () => [...(d.passwords || [])];
      m.addPassword = (code) => { d.passwords = [...(d.passwords || []), String(code)]; };
      m.removePassword = (code) => { d.passwords = (d.passwords || []).filter((p) => p !== code); };
    }
    if (has('Refresh')) {
      m.refresh = () => undefined;
      m.getRefreshFrequency = () => 30;
    }
    if (has('Camera')) {
      m.takePicture = (options) => takePicture(d, this.data.cameraModes[d.id] || 'jpeg', options);
      m.getPictureOptions = () => d.state.pictureOptions;
    }
    if (has('VideoCamera')) m.getVideoStreamOptions = () => d.state.videoStreamOptions;
    if (has('Settings')) {
      // What a typical plugin answers: its settings with their values, secrets included.
      m.getSettings = () => Object.entries(d.storage).map(([key, value]) => ({
        key, title: key, value, ...(/password/i.test(key) ? { type: 'password' } : {}),
      }));
      m.putSetting = (key, value) => { d.storage[key] = String(value); };
    }
    if (has('DeviceCreator') && d.pluginId === '@scrypted/core' && d.nativeId === 'users') {
      m.getCreateDeviceSettings = () => [
        { key: 'username', title: 'Username' },
        { key: 'password', title: 'Password', type: 'password' },
        { key: 'admin', title: 'Admin', type: 'boolean' },
      ];
      m.createDevice = (settings) => this.coreCreateUser(d.id, settings || {});
    }
    if (has('ScryptedPlugin')) m.getPluginJson = () => this.data.plugins[d.pluginId]?.packageJson;
    return m;
  }

  /** @scrypted/core UsersCore.createDevice: a `user:<name>` device whose id is a non-admin's aclId. */
  coreCreateUser(providerId, { username, password, admin }) {
    if (!username || !password) throw new Error('username and password are required');
    const nativeId = `user:${username}`;
    let d = this.findDevice('@scrypted/core', nativeId);
    if (!d) {
      const id = String(this.data.nextId++);
      d = { id, nativeId, pluginId: '@scrypted/core', providerId, name: username, type: 'Person', interfaces: ['ScryptedUser', 'Settings'], mixins: [], storage: {}, state: {}, info: {}, console: [] };
      this.data.devices[id] = d;
      this.descriptorChanged(d);
    }
    this.addUser(username, password, admin ? undefined : d.id);
    return d.id;
  }

  /** runtime.ts removeDevice: provided devices first; a plugin root takes its plugin along. */
  removeDevice(id) {
    const d = this.device(id);
    if (!d) throw typeError("Cannot read properties of undefined (reading '_id')");
    for (const other of Object.values(this.data.devices)) {
      if (other.providerId === id && other.id !== id) this.removeDevice(other.id);
    }
    delete this.data.devices[id];
    // state.ts removeDevice: no event source, property 'id', the removed id as the data.
    this.events.notify(undefined, { eventInterface: 'ScryptedDevice', property: 'id' }, id);
    if (!d.nativeId) {
      delete this.data.plugins[d.pluginId];
      this.log(`plugin ${d.pluginId} uninstalled (device ${id} removed)`);
    } else if (d.pluginId === '@scrypted/core' && d.nativeId.startsWith('user:')) {
      // core's releaseDevice → users.removeUser
      this.removeUser(d.nativeId.slice('user:'.length));
    }
  }

  // ------------------------------------------------------------------ logger (logger.ts)
  /** Entries of the logger at `path` and its children, oldest first. */
  logsUnder(path) {
    return this.data.logs
      .filter((l) => path === '' || l.path === path || l.path.startsWith(path + '/'))
      .sort((a, b) => a.timestamp - b.timestamp);
  }

  makeLogger(path, title) {
    const rt = this;
    return {
      path,
      title,
      getLogs: () => rt.logsUnder(path),
      getLogger: (id, t) => {
        const child = `${path}/${id}`;
        if (!(child in rt.data.loggers)) rt.data.loggers[child] = t; // getLogger creates missing children
        return rt.loggerProxy(child, rt.data.loggers[child]);
      },
      log: (level, message) => {
        const entry = { title, timestamp: rt.clock.now(), level, message, path };
        rt.data.logs.push(entry);
        if (level === 'a') {
          rt.data.alerts.push({ _id: 'alert-' + randomBytes(6).toString('hex'), ...entry });
          rt.alertsChanged(entry);
        }
      },
      clear: () => {
        // logger.ts:55-75: alerts whose path starts with this logger's (no separator), then
        // its logs and its children's.
        rt.data.alerts = rt.data.alerts.filter((a) => !String(a.path).startsWith(path));
        rt.data.logs = rt.data.logs.filter((l) => !(path === '' || l.path === path || l.path.startsWith(path + '/')));
      },
      clearAlerts: () => { rt.data.alerts = rt.data.alerts.filter((a) => !String(a.path).startsWith(path)); },
    };
  }

  loggerProxy(path, title) {
    return rpcProxy(this.makeLogger(path, title), `logger(${path})`, (m, a) => {
      if (m !== 'getLogger') this.record(`logger.${m}`, a, { target: path });
    }, { returnsProxies: new Set(['getLogger']) });
  }

  // ------------------------------------------------------------------ what the plugin is given
  /** `systemManager.getDeviceById(id)`: undefined for an unknown id. */
  deviceProxy(id) {
    const dev = this.device(id);
    if (!dev) return undefined;
    const target = {
      id: dev.id, nativeId: dev.nativeId, pluginId: dev.pluginId, providerId: dev.providerId,
      interfaces: dev.interfaces, mixins: dev.mixins, name: dev.name, type: dev.type, room: dev.room, info: dev.info,
      ...dev.state,
      ...this.deviceMethods(dev),
    };
    // plugin-device.ts:382: a method no interface of the device has. A picture is a
    // MediaObject: an RPC proxy itself, not a copy.
    return rpcProxy(target, `device ${id}`, (m, a) => this.record(`device.${m}`, a, { target: id }), {
      missing: (m) => `${m} not implemented`,
      returnsProxies: new Set(['takePicture']),
    });
  }

  /** The `os` module the plugin sees: the demo machine's network interfaces. */
  osModule() {
    return { networkInterfaces: () => JSON.parse(JSON.stringify(this.data.networkInterfaces)) };
  }

  /** The injected parameters of the evaluated plugin (§7), plus the storage it uses. */
  pluginParams() {
    const rt = this;
    const proxies = {};
    for (const [name, target] of Object.entries(components(this))) {
      proxies[name] = rpcProxy(target, name, (m, a) => rt.record(`${name}.${m}`, a));
    }
    const server = () => rt.data.server;
    const deviceProxy = (id) => rt.deviceProxy(id);

    // systemManager is a local object in a real plugin (getSystemState is a local mirror, and
    // getDeviceById answers from it), but its calls to the server return Promises and its
    // errors cross the RPC.
    const systemManager = {
      getComponent: async (name) => {
        if (name === 'logger') return rt.loggerProxy('', 'Scrypted');
        if (name === 'SCRYPTED_INSECURE_PORT') return server().insecurePort;
        if (name === 'SCRYPTED_SECURE_PORT') return server().securePort;
        if (name === 'SCRYPTED_IP_ADDRESS') return server().ipAddress;
        return proxies[name];
      },
      getSystemState: () => {
        rt.record('systemManager.getSystemState', []);
        return JSON.parse(JSON.stringify(rt.systemState()));
      },
      getDeviceById: (a, b) => {
        rt.record('systemManager.getDeviceById', b === undefined ? [a] : [a, b]);
        if (b !== undefined) return deviceProxy(rt.findDevice(a, b)?.id);
        return deviceProxy(a);
      },
      getDeviceByName: (name) => deviceProxy(Object.values(rt.data.devices).find((x) => x.name === name)?.id),
      removeDevice: async (id) => {
        rt.record('systemManager.removeDevice', [id]);
        await new Promise((r) => setImmediate(r));
        try {
          rt.removeDevice(id);
        } catch (e) {
          throw withRoute(e);
        }
      },
      listen: (cb) => rt.events.listen(cb),
      listenDevice: (id, options, cb) => rt.events.listenDevice(id, options, cb),
    };

    const own = () => rt.device(rt.rootId(PLUGIN_ID) || '3');
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
      // plugin-host-api.ts: restarts the plugin 15 s after the last request (debounced).
      requestRestart: async () => {
        rt.record('deviceManager.requestRestart', []);
        rt.onRestartRequested?.();
      },
    };

    // endpoint.ts: the local endpoint is a template literal over the IP component, so an
    // undefined address reads "undefined" (docs/reference/scrypted-host.md §13).
    const path = (options) => `/endpoint/${PLUGIN_ID}/${options?.public ? 'public/' : ''}`;
    const endpointManager = {
      getPath: async (_nativeId, options) => path(options),
      getLocalEndpoint: async (_nativeId, options) => {
        const ip = server().ipAddress;
        const host = ip?.includes(':') ? `[${ip}]` : ip;
        const port = options?.insecure ? server().insecurePort : server().securePort;
        return `${options?.insecure ? 'http' : 'https'}://${host}:${port}${path(options)}`;
      },
      getLocalAddresses: async () => proxies.addresses.getLocalAddresses(),
      setLocalAddresses: async (list) => proxies.addresses.setLocalAddresses(list),
      getCloudEndpoint: async () => { throw new Error('Scrypted Cloud is not installed.'); },
      setAccessControlAllowOrigin: async ({ origins }) => {
        rt.record('endpointManager.setAccessControlAllowOrigin', [{ origins }]);
        rt.data.cors[PLUGIN_ID] = origins || [];
      },
    };

    const media = mediaManager((m, a) => rt.record(m, a));

    return { systemManager, deviceManager, endpointManager, mediaManager: media, localStorage };
  }

  /** /__devhost/state */
  snapshot({ clockOffsetMs = 0 } = {}) {
    const d = this.data;
    const own = this.device(this.rootId(PLUGIN_ID) || '3');
    const latest = (p) => d.npm[p]?.versions?.at(-1);
    const logs = {};
    for (const l of d.logs) logs[l.path] = (logs[l.path] || 0) + 1;
    return {
      pluginId: PLUGIN_ID,
      pluginStorage: { ...(own?.storage || {}) },
      storageWrites: this.storageWrites,
      settingsEvents: this.settingsEvents,
      server: d.server,
      users: d.users.map((u) => ({ username: u.username, password: u.password, admin: !u.aclId, aclId: u.aclId ?? null, token: u.token })),
      devices: Object.values(d.devices).map((x) => ({
        id: x.id, name: x.name, type: x.type, pluginId: x.pluginId, nativeId: x.nativeId ?? null, providerId: x.providerId ?? null,
        interfaces: x.interfaces, mixins: x.mixins, state: x.state, storage: x.storage,
      })),
      plugins: Object.entries(d.plugins).map(([pluginId, p]) => ({
        pluginId, id: this.rootId(pluginId), version: p.packageJson.version, latest: latest(pluginId) ?? null,
        deprecated: !!d.npm[pluginId]?.deprecated, pid: p.pid ?? null,
      })),
      alerts: d.alerts,
      logsCount: d.logs.length,
      logs,
      loggers: Object.keys(d.loggers),
      env: d.env,
      dotenv: d.dotenv ?? null,
      cors: d.cors,
      externalAddresses: d.externalAddresses,
      localAddresses: d.localAddresses ?? null,
      clusterWorkers: d.clusterWorkers,
      restoredBackups: d.restoredBackups,
      listeners: this.events.counts(),
      cameraModes: d.cameraModes,
      npmInstallMs: d.npmInstallMs,
      clockOffsetMs,
      demo: { admin: ADMIN, viewer: VIEWER },
    };
  }
}
