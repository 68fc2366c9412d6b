// The host capabilities the wasm calls through `bridge.call(method, args)`: one entry per
// method of the Rust `Host` trait (src/host.rs; argument names in src/wasm/mod.rs JsHost),
// each a few lines over Scrypted's API as reference/scrypted-host.md §10 names it.
// No policy here: quirks (TypeErrors for unknown ids, void returns, ...) reach Rust as they
// are. Results are plain JSON-safe data; errors are Errors carrying the host's message.

/** Plain JSON-safe data: undefined → null, Buffers → Buffer-JSON, proxies → their data. */
export function toPlain(value) {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value, (_k, v) => (v === undefined ? null : v)) ?? 'null');
}

function bufferToBase64(value) {
  if (value === undefined || value === null) throw new Error('backup returned no data');
  if (typeof value === 'string') return Buffer.from(value, 'binary').toString('base64');
  return Buffer.from(value).toString('base64'); // a Buffer, bytes, or Buffer-JSON {type: 'Buffer', data}
}

/** The message of whatever was thrown (Scrypted's RPC carries only that across, §2). */
export function message(e) {
  return String((e && e.message) || e);
}

export function createHost(globals, { console: log = console } = {}) {
  const sm = () => {
    const m = globals.systemManager;
    if (!m) throw new Error('systemManager is not available');
    return m;
  };
  const component = async (name) => {
    const c = await sm().getComponent(name);
    if (c === undefined || c === null) throw new Error(`Scrypted component '${name}' is not available`);
    return c;
  };
  const plugins = () => component('plugins');

  const entries = {
    // ---- endpoint and ports
    localEndpoint: async ({ insecure }) => {
      const em = globals.endpointManager;
      if (!em) throw new Error('endpointManager is not available');
      return em.getLocalEndpoint(undefined, { public: true, insecure: !!insecure });
    },
    serverPorts: async () => ({
      insecure: await sm().getComponent('SCRYPTED_INSECURE_PORT'),
      secure: await sm().getComponent('SCRYPTED_SECURE_PORT'),
    }),

    // ---- devices
    systemState: async () => sm().getSystemState(),
    deviceInfo: async ({ id }) => (await plugins()).getDeviceInfo(id),
    callDeviceMethod: async ({ id, method, args }) => {
      const device = await sm().getDeviceById(id);
      return device[method](...(args || []));
    },
    removeDevice: async ({ id }) => sm().removeDevice(id),

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
    setStorage: async ({ id, storage }) => (await plugins()).setStorage(id, storage),
    idForPluginId: async ({ pluginId }) => (await plugins()).getIdForPluginId(pluginId),
    idForNativeId: async ({ pluginId, nativeId }) => (await plugins()).getIdForNativeId(pluginId, nativeId),
    disconnectClients: async ({ pluginId }) => (await plugins()).disconnectClients(pluginId),
    clearConsole: async ({ id }) => (await plugins()).clearConsole(id),

    // ---- logs and alerts
    logs: async ({ deviceId }) => {
      const logger = await component('logger');
      if (!deviceId) return logger.getLogs();
      const device = await (await logger.getLogger('device')).getLogger(deviceId);
      return device.getLogs();
    },
    clearLogs: async ({ deviceId }) => {
      const logger = await component('logger');
      if (!deviceId) return logger.clear();
      const device = await (await logger.getLogger('device')).getLogger(deviceId);
      return device.clear();
    },
    alerts: async () => (await component('alerts')).getAlerts(),
    removeAlert: async ({ id }) => (await component('alerts')).removeAlert({ _id: id }),
    clearAlerts: async () => (await component('alerts')).clearAlerts(),

    // ---- server
    serverVersion: async () => (await component('info')).getVersion(),
    scryptedEnv: async () => (await component('info')).getScryptedEnv(),
    dotEnv: async () => (await component('env-control')).getDotEnv(),
    setDotEnv: async ({ text }) => (await component('env-control')).setDotEnv(text),

    // ---- users: the raw component (Rust decides when core's user devices are used instead)
    users: async () => (await component('users')).getAllUsers(),
    addUser: async ({ username, password, aclId }) => (await component('users')).addUser(username, password, aclId ?? undefined),
    removeUser: async ({ username }) => (await component('users')).removeUser(username),

    // ---- network
    localAddresses: async () => (await component('addresses')).getLocalAddresses(),
    setLocalAddresses: async ({ addresses }) => (await component('addresses')).setLocalAddresses(addresses),
    externalAddresses: async ({ id }) => (await component('addresses')).getExternalAddresses(id),
    setExternalAddresses: async ({ id, addresses }) => (await component('addresses')).setExternalAddresses(id, addresses),
    cors: async ({ id }) => (await component('cors')).getCORS(id),
    setCors: async ({ id, origins }) => (await component('cors')).setCORS(id, origins),

    // ---- cluster and backup
    clusterWorkers: async () => (await component('cluster-fork')).getClusterWorkers(),
    createBackup: async () => bufferToBase64(await (await component('backup')).createBackup()),
  };

  /** Deferred, process-ending actions (run from a timer after the MCP answer left). */
  const actions = {
    restartServer: async () => (await component('service-control')).restart(),
    updateServer: async () => (await component('service-control')).update(),
    reloadPlugin: entries.reloadPlugin,
    restoreBackup: async ({ data }) => (await component('backup')).restore(Buffer.from(data, 'base64')),
    updatePlugins: entries.updatePlugins,
  };

  return {
    /** `bridge.call`: always a Promise of plain data; rejections are Errors with the host's message. */
    async call(method, args) {
      const fn = Object.prototype.hasOwnProperty.call(entries, method) ? entries[method] : undefined;
      if (!fn) throw new Error(`unknown host capability: ${method}`);
      try {
        return toPlain(await fn(args || {}));
      } catch (e) {
        throw new Error(message(e));
      }
    },
    /** `bridge.defer`: setTimeout, then the action from `actions` above. */
    defer(delayMs, action) {
      const name = action && action.action;
      setTimeout(async () => {
        const fn = Object.prototype.hasOwnProperty.call(actions, name) ? actions[name] : undefined;
        try {
          if (!fn) throw new Error(`unknown deferred action: ${name}`);
          log.log(`[scrypted-mcp] running deferred ${name}`);
          await fn(action);
        } catch (e) {
          log.error(`[scrypted-mcp] deferred ${name} failed: ${message(e)}`);
        }
      }, delayMs);
    },
  };
}
