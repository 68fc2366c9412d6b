// The bridge the wasm talks to (src/wasm/mod.rs `HostBridge`): `callJson(method, argsJson)` for
// the entries below (`call` is the same with plain data, for deferred entries and tests), `notify(method, args)` for the fire-and-forget notices, plugin storage and
// the clock (`now`, `sleep`). Each entry is a few lines over Scrypted's API as
// docs/reference/scrypted-host.md §10 names it; the typed API over these names, with every
// argument encoding and answer decoding, is src/host/api.rs (which names the entry each method uses).
// No policy here: quirks (TypeErrors for unknown ids, void returns, ...) reach Rust as they
// are. Results are plain JSON-safe data; errors are Errors carrying the host's message.

import dns from 'node:dns';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

/**
 * `value` as JSON text of plain data: undefined → null, Buffers → Buffer-JSON, proxies → their
 * data, and a string with a lone surrogate made well-formed (U+FFFD): JSON would keep the
 * surrogate as an escape that no UTF-8 parser takes.
 */
export function plainJson(value) {
  if (value === undefined) return 'null';
  return JSON.stringify(value, (_k, v) => {
    if (v === undefined) return null;
    if (typeof v === 'string' && !v.isWellFormed()) return v.toWellFormed();
    return v;
  }) ?? 'null';
}

/** Plain JSON-safe data (see plainJson). */
export function toPlain(value) {
  return JSON.parse(plainJson(value));
}

/**
 * The names in a backup zip, read as backup.restore will read it (server/src/services/backup.ts:
 * `new AdmZip(b)`, then `zip.test()`, with the adm-zip Scrypted ships, 0.5.16), so a zip it
 * would refuse is refused before the restore is scheduled; throws its error. The library is
 * loaded on first use: nothing of it runs at the plugin's start (issue 12, cold start).
 */
async function backupEntries(data) {
  const { default: AdmZip } = await import('adm-zip');
  const zip = new AdmZip(Buffer.from(data, 'base64'));
  if (!zip.test()) throw new Error('backup zip test failed.');
  return zip.getEntries().map((e) => e.entryName);
}

function bufferToBase64(value, what) {
  if (value === undefined || value === null) throw new Error(`${what} returned no data`);
  if (typeof value === 'string') return Buffer.from(value, 'binary').toString('base64');
  return Buffer.from(value).toString('base64'); // a Buffer, bytes, or Buffer-JSON {type: 'Buffer', data}
}

/** The message of whatever was thrown (Scrypted's RPC carries only that across, §2). */
export function message(e) {
  return String((e && e.message) || e);
}

/**
 * Scrypted's one system-wide event stream, `systemManager.listen` (docs/reference/scrypted-host.md
 * §14: property changes, device added/changed/removed, alerts), each event flattened to plain
 * data and handed to `deliver` (the wasm's `deviceEvent`, which only queues it). The event
 * source is a device proxy: only its id is taken. Returns the registration
 * (`removeListener()`), or undefined without a systemManager.
 */
export function listenToDevices(systemManager, deliver, log = console) {
  if (typeof systemManager?.listen !== 'function') {
    log.warn('[scrypted-mcp] systemManager.listen is not available: no device events');
    return undefined;
  }
  return systemManager.listen((source, details, data) => {
    try {
      deliver({
        id: source?.id ?? null,
        eventId: details?.eventId ?? null,
        eventInterface: details?.eventInterface ?? null,
        property: details?.property ?? null,
        eventTime: details?.eventTime ?? null,
        mixinId: details?.mixinId ?? null,
        value: toPlain(data),
      });
    } catch (e) {
      log.error(`[scrypted-mcp] device event dropped: ${message(e)}`);
    }
  });
}

/** Rejects with `what` when `promise` takes longer than `ms`. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * One https GET as src/host/api.rs `https_get` asks it: the socket goes to `address` only (the
 * `lookup` option answers every lookup with it, so DNS is not asked again and cannot be
 * rebound), the certificate is checked against the URL's host as usual, redirects are not
 * followed (Node's client never does), and the request is destroyed past `maxBytes` of body or
 * `timeoutMs` in all. Which address, how many bytes and how long are Rust's decisions.
 */
function pinnedGet({ url, address, maxBytes, timeoutMs }) {
  return new Promise((resolve, reject) => {
    let req;
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
      req.destroy();
    };
    const fail = (e) => settle(reject, e);
    const family = net.isIP(address);
    const lookup = (_host, opts, cb) => (opts?.all ? cb(null, [{ address, family }]) : cb(null, address, family));
    req = https.get(url, { lookup, agent: false, headers: { accept: 'application/json' } }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (chunk) => {
        size += chunk.length;
        if (size > maxBytes) fail(new Error(`the answer is larger than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () =>
        settle(resolve, {
          status: res.statusCode,
          cacheControl: res.headers['cache-control'] ?? null,
          contentType: res.headers['content-type'] ?? null,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    const timer = setTimeout(() => fail(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', fail);
  });
}

const own = (table, name) => (Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined);

/**
 * @param globals  Scrypted's injected managers: {systemManager, deviceManager, endpointManager,
 *                 mediaManager, localStorage}
 * @param options  {console, nativeId (of the plugin device; undefined = its root), os (Node's
 *                 `os` module, for the machine's network interfaces), volume (the plugin's own
 *                 directory, Scrypted's SCRYPTED_PLUGIN_VOLUME)}
 */
export function createHost(globals, { console: log = console, nativeId, os, volume } = {}) {
  const storage = globals.localStorage;
  if (!storage) throw new Error('[scrypted-mcp] Scrypted injected no localStorage (plugin storage)');
  // Scrypted's localStorage is a Proxy whose trap binds a new function on every method
  // lookup (server/src/plugin/device.ts StorageImpl.indexedHandler, §5): ~4.6 µs of the five
  // reads a request makes on the real host (issue 12). Bound once; it reads the live map.
  const getItem = storage.getItem.bind(storage);
  // The bytes last handed to the wasm per key, handed again while the stored text is the
  // same: every request reads the same few records (settings, its client and grant), and
  // encoding them anew was a Buffer each (issue 12). The wasm copies them in, never writes.
  const lastBytes = new Map();
  const LAST_BYTES_MAX = 16;
  const sm = () => {
    const m = globals.systemManager;
    if (!m) throw new Error('systemManager is not available');
    return m;
  };
  const manager = (name) => {
    if (!globals[name]) throw new Error(`${name} is not available`);
    return globals[name];
  };
  // A component is a proxy of one object of the server's, the same for the server's life
  // (and ours), but each getComponent is an RPC round trip (§2): looked up once. A missing
  // one is asked for again next time.
  const components = new Map();
  const component = async (name) => {
    if (components.has(name)) return components.get(name);
    const c = await sm().getComponent(name);
    if (c === undefined || c === null) throw new Error(`Scrypted component '${name}' is not available`);
    components.set(name, c);
    return c;
  };
  const plugins = () => component('plugins');
  const appending = new Map(); // volume file name → descriptor open for appends
  let listed; // the storage keys, once listed (storageKeys)
  const volumeFile = (name) => {
    if (!volume) throw new Error('Scrypted gave this plugin no volume (SCRYPTED_PLUGIN_VOLUME is not set)');
    return path.join(volume, name);
  };
  /**
   * The logger at `path` (logger ids from the root), each step's title from `titles`, as Rust
   * chose them: getLogger creates a missing child with the title it is given.
   */
  const logger = async (path, titles) => {
    let at = await component('logger');
    for (const [i, id] of (path || []).entries()) at = await at.getLogger(id, titles?.[i]);
    return at;
  };

  const entries = {
    // ---- endpoint and addresses
    ipAddress: async () => sm().getComponent('SCRYPTED_IP_ADDRESS'),
    // Both at once: the first request after a start waits for this answer (§13).
    serverPorts: async () => {
      const [insecure, secure] = await Promise.all([
        sm().getComponent('SCRYPTED_INSECURE_PORT'),
        sm().getComponent('SCRYPTED_SECURE_PORT'),
      ]);
      return { insecure, secure };
    },
    endpointPath: async () => manager('endpointManager').getPath(undefined, { public: true }),
    networkAddresses: async () => {
      if (!os) throw new Error('the os module is not available');
      return Object.values(os.networkInterfaces()).flat().filter(Boolean)
        .map(({ address, family, internal }) => ({ address, family: String(family), internal: !!internal }));
    },

    // ---- devices
    systemState: async () => sm().getSystemState(),
    // The state of the devices asked for only: on a server of a few hundred devices the whole
    // state is hundreds of KB to copy for a tool that names a few (get_recent_events' page).
    // And of each only the properties asked for: a device's state is every property with its
    // metadata, a few KB for a camera, where get_recent_events reads the name.
    deviceStates: async ({ ids, props }) => {
      const state = sm().getSystemState();
      const pick = (device) => Object.fromEntries(props.filter((p) => Object.hasOwn(device, p)).map((p) => [p, device[p]]));
      return Object.fromEntries(ids.filter((id) => Object.hasOwn(state, id)).map((id) => [id, pick(state[id])]));
    },
    deviceInfo: async ({ id }) => (await plugins()).getDeviceInfo(id),
    callDeviceMethod: async ({ id, method, args }) => {
      const device = await sm().getDeviceById(id);
      return device[method](...(args || []));
    },
    removeDevice: async ({ id }) => sm().removeDevice(id),
    // The options and the conversion are Rust's choice (src/host/api.rs take_picture); the
    // MediaObject's own mimeType comes along because the conversion may pass other images
    // through unchanged (docs/reference/scrypted-host.md §14).
    takePicture: async ({ id, width, timeoutMs }) => {
      const device = await sm().getDeviceById(id);
      const picture = await device.takePicture({ reason: 'event', picture: { width }, timeout: timeoutMs });
      const bytes = await manager('mediaManager').convertMediaObjectToBuffer(picture, 'image/jpeg');
      return { mimeType: picture?.mimeType ?? null, data: bufferToBase64(bytes, 'the picture') };
    },

    // ---- plugins
    packageJson: async ({ pluginId }) => (await plugins()).getPackageJson(pluginId),
    pluginInfo: async ({ pluginId }) => (await plugins()).getPluginInfo(pluginId),
    reloadPlugin: async ({ pluginId }) => (await plugins()).reload(pluginId),
    killPlugin: async ({ pluginId }) => (await plugins()).kill(pluginId),
    installNpm: async ({ package: pkg, version }) => (await plugins()).installNpm(pkg, version ?? undefined),
    updatePlugins: async () => (await plugins()).updatePlugins(),
    npmInfo: async ({ endpoint }) => (await plugins()).npmInfo(endpoint),
    renameDeviceId: async ({ id, newId }) => (await plugins()).renameDeviceId(id, newId),
    setMixins: async ({ id, mixins }) => (await plugins()).setMixins(id, mixins),
    getStorage: async ({ id }) => (await plugins()).getStorage(id),
    setStorage: async ({ id, storage: map }) => (await plugins()).setStorage(id, map),
    idForPluginId: async ({ pluginId }) => (await plugins()).getIdForPluginId(pluginId),
    idForNativeId: async ({ pluginId, nativeId: native }) => (await plugins()).getIdForNativeId(pluginId, native),
    disconnectClients: async ({ pluginId }) => (await plugins()).disconnectClients(pluginId),
    clearConsole: async ({ id }) => (await plugins()).clearConsole(id),

    // ---- logs and alerts
    logs: async ({ path, titles }) => (await logger(path, titles)).getLogs(),
    clearLogs: async ({ path, titles }) => (await logger(path, titles)).clear(),
    alerts: async () => (await component('alerts')).getAlerts(),
    removeAlert: async ({ id }) => (await component('alerts')).removeAlert({ _id: id }),
    clearAlerts: async () => (await component('alerts')).clearAlerts(),

    // ---- server (the process-ending ones only ever run from `defer`)
    serverVersion: async () => (await component('info')).getVersion(),
    scryptedEnv: async () => (await component('info')).getScryptedEnv(),
    dotEnv: async () => (await component('env-control')).getDotEnv(),
    setDotEnv: async ({ text }) => (await component('env-control')).setDotEnv(text),
    restartServer: async () => (await component('service-control')).restart(),
    updateServer: async () => (await component('service-control')).update(),

    // ---- users: the raw component (Rust decides when core's user devices are used instead)
    users: async () => (await component('users')).getAllUsers(),
    addUser: async ({ username, password, aclId }) => (await component('users')).addUser(username, password, aclId ?? undefined),
    removeUser: async ({ username }) => (await component('users')).removeUser(username),

    // ---- network
    localAddresses: async () => (await component('addresses')).getLocalAddresses(),
    savedLocalAddresses: async () => (await component('addresses')).getLocalAddresses(true),
    setLocalAddresses: async ({ addresses }) => (await component('addresses')).setLocalAddresses(addresses),
    externalAddresses: async ({ id }) => (await component('addresses')).getExternalAddresses(id),
    setExternalAddresses: async ({ id, addresses }) => (await component('addresses')).setExternalAddresses(id, addresses),
    cors: async ({ id }) => (await component('cors')).getCORS(id),
    setCors: async ({ id, origins }) => (await component('cors')).setCORS(id, origins),

    // ---- cluster and backup
    clusterWorkers: async () => (await component('cluster-fork')).getClusterWorkers(),
    createBackup: async () => bufferToBase64(await (await component('backup')).createBackup(), 'backup'),
    backupEntries: async ({ data }) => backupEntries(data),
    restoreBackup: async ({ data }) => (await component('backup')).restore(Buffer.from(data, 'base64')),

    // ---- the outside network: Node's own clients (Rust decides which address and limits)
    resolveHost: async ({ host, timeoutMs }) =>
      (await within(dns.promises.lookup(host, { all: true, verbatim: true }), timeoutMs, `resolving ${host}`))
        .map(({ address, family }) => ({ address, family })),
    httpsGet: (args) => pinnedGet(args),
  };

  /** The entry's answer as it came; rejections are Errors with the host's message. */
  async function run(method, args) {
    const fn = own(entries, method);
    if (!fn) throw new Error(`unknown host capability: ${method}`);
    try {
      return await fn(args || {});
    } catch (e) {
      throw new Error(message(e));
    }
  }
  /** A Promise of plain data (the deferred entries, and tests). */
  async function call(method, args) {
    return toPlain(await run(method, args));
  }

  const notices = {
    /** Runs the entry `method` from a timer, after the MCP answer has left. */
    defer: ({ delayMs, method, args }) => {
      setTimeout(async () => {
        try {
          log.log(`[scrypted-mcp] running deferred ${method}`);
          await call(method, args);
        } catch (e) {
          log.error(`[scrypted-mcp] deferred ${method} failed: ${message(e)}`);
        }
      }, delayMs);
    },
    log: ({ level, message: text }) => {
      const fn = level === 'error' ? log.error : level === 'warn' ? log.warn : log.log;
      fn.call(log, text);
    },
    /** The Settings tab re-fetches on this event. */
    settingsChanged: () => {
      Promise.resolve(manager('deviceManager').onDeviceEvent(nativeId, 'Settings', undefined)).catch(() => {});
    },
  };

  // Set once the wasm has trapped (`disarm`).
  let inert = false;
  const never = () => new Promise(() => {});

  return {
    call,
    /**
     * `bridge.callJson`, the wasm's road: arguments and answer cross as one JSON text each,
     * which Rust parses in one go, instead of a walk over a JS object with a crossing per
     * field and value (a system state has hundreds).
     */
    callJson: async (method, argsJson) => {
      if (inert) return never();
      try {
        const answer = plainJson(await run(method, JSON.parse(argsJson)));
        return inert ? never() : answer;
      } catch (e) {
        if (inert) return never();
        throw e;
      }
    },
    /**
     * After a trap (js-shim/plugin.js): a host answer or timer that settled later would wake
     * the dead instance's futures and carry on with its broken state (a device command's next
     * step, an audit row), so from now on none settles and nothing is written.
     */
    disarm() {
      inert = true;
    },
    /** `bridge.notify`: nothing to wait for; a failing notice is logged, never thrown into Rust. */
    notify(method, args) {
      if (inert) return;
      try {
        const fn = own(notices, method);
        if (!fn) throw new Error(`unknown host notice: ${method}`);
        fn(args || {});
      } catch (e) {
        log.error(`[scrypted-mcp] ${method} failed: ${message(e)}`);
      }
    },
    // Plugin storage: the root device's Storage (DOM Storage shape, §5). Scrypted injects it
    // as `localStorage` when the zip has no sdk.json (§7), which is how we ship.
    // The value as UTF-8 bytes: copied into the wasm in one go (src/wasm/mod.rs `text`).
    storageGet: (key) => {
      const v = getItem(key);
      if (v === undefined || v === null) return undefined;
      const text = String(v);
      const last = lastBytes.get(key);
      if (last?.text === text) return last.bytes;
      const bytes = Buffer.from(text, 'utf8');
      if (lastBytes.size >= LAST_BYTES_MAX) lastBytes.delete(lastBytes.keys().next().value);
      lastBytes.set(key, { text, bytes });
      return bytes;
    },
    storageSet: (key, value) => {
      if (inert) return;
      storage.setItem(key, value);
      listed?.add(String(key));
    },
    storageRemove: (key) => {
      if (inert) return;
      storage.removeItem(key);
      listed?.delete(String(key));
    },
    // Scrypted's `key(i)` builds Object.keys of the whole map each time (§5), so listing
    // every key through it is O(n²): 0.13 s at 1,150 keys. The list is made once and then
    // follows our own writes; when `length` (one Object.keys) disagrees, keys came or went
    // behind our back (plugins.setStorage on this device replaces the map) and it is made
    // again. A replacement with exactly as many keys goes unseen until the count moves: a
    // listing only drives sweeps and counts, and every read of a key asks the map itself.
    storageKeys: () => {
      const n = Number(storage.length) || 0;
      if (!listed || listed.size !== n) {
        listed = new Set();
        for (let i = 0; i < n; i++) {
          const k = storage.key(i);
          if (k !== undefined && k !== null) listed.add(String(k));
        }
      }
      return [...listed];
    },
    // The plugin volume (docs/reference/scrypted-host.md §5): files only this process
    // writes, kept across reloads and updates. Synchronous, so a write is in the file before
    // the answer that depends on it leaves.
    volumeRead: (name) => {
      try {
        return fs.readFileSync(volumeFile(name), 'utf8');
      } catch (e) {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      }
    },
    volumeAppend: (name, text) => {
      if (inert) return;
      // The file stays open for appends (an open per call costs more than the write).
      let fd = appending.get(name);
      if (fd === undefined) {
        fd = fs.openSync(volumeFile(name), 'a');
        appending.set(name, fd);
      }
      // The string is encoded by the write itself (no Buffer made per call); a short write,
      // rare on a regular file, is finished from the bytes.
      const written = fs.writeSync(fd, text);
      if (written < Buffer.byteLength(text)) {
        const bytes = Buffer.from(text, 'utf8');
        for (let at = written; at < bytes.length;) at += fs.writeSync(fd, bytes, at);
      }
    },
    volumeReplace: (name, text) => {
      if (inert) return;
      const file = volumeFile(name);
      fs.writeFileSync(`${file}.tmp`, text);
      fs.renameSync(`${file}.tmp`, file);
      // An open descriptor still points at the replaced file, and closing it, its last
      // reference, frees that file: 0.1–11 ms (median 2.2) for a full trail here, which a
      // closeSync spent on the thread that answers requests once every 600 calls (issue
      // 12). Closed off that thread: nothing writes to it any more.
      const fd = appending.get(name);
      appending.delete(name);
      if (fd !== undefined) fs.close(fd, () => {});
    },
    now: () => Date.now(),
    /** A promise resolved after `ms` milliseconds (keep-alives of long-lived streams). */
    sleep: (ms) => (inert ? never() : new Promise((resolve) => setTimeout(() => { if (!inert) resolve(); }, ms))),
  };
}
